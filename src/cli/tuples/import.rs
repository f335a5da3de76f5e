//! `zanzi tuples import`: tuple files of millions of lines, streamed.
//!
//! Two passes over the files, neither holding more than a batch in memory:
//!
//! 1. validation: every line is parsed and checked against the schema; any
//!    problem is reported with its `file:line:column` and nothing is
//!    written, so a file is imported whole or not at all *as far as its
//!    content goes*;
//! 2. writing: the files are read again (on a second thread, so parsing
//!    overlaps with SQLite's work) and written in transactions of
//!    `--batch-size` tuples, each its own revision.
//!
//! A crash or kill during the second pass leaves the batches that
//! committed, each whole and in file order, and nothing of the others
//! (SQLite's write-ahead log makes each batch atomic); importing the same
//! files again completes the job, since tuples already present are skipped.
//!
//! With `--write-remote URL` (and `--remote URL`, whose schema pass 1
//! validates against) the batches go to a server, one PATCH each, of at
//! most [`REMOTE_BATCH`] tuples so that a request stays under the server's
//! body limit.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use miette::{miette, IntoDiagnostic, WrapErr};
use serde::Serialize;

use super::reader::{read_tuples, TupleFormat};
use crate::cli::local::{
    self, DbArgs, Problems, ReportFormat, SchemaArgs, WriteTarget, JSON_VERSION,
};
use crate::cli::remote::RemoteArgs;
use crate::cli::ColorMode;
use crate::ir;
use crate::load;
use crate::store::Revision;
use crate::tuple::foreign::FileFormat;
use crate::tuple::Tuple;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Tuple files: one tuple per line; blank lines and `//` comments are
    /// skipped. Or the peers' files, see --tuple-format.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The files' format: zanzi's notation, SpiceDB relationship lines,
    /// OpenFGA tuple files (JSON or YAML list, `.jsonl`, `.csv`) or Keto's
    /// relation-tuple JSON. Without it, each file's extension and content
    /// tell (`.csv`, `.jsonl`, `.yaml` are OpenFGA's; `.json` Keto's or
    /// OpenFGA's; other files lines of zanzi's or SpiceDB's notation).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub tuple_format: Option<TupleFormat>,
    /// Tuples per transaction; each batch is one revision.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(1..=10_000_000),
    )]
    pub batch_size: u64,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the summary.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Tuples per PATCH when importing through a server: about 150 KB of JSON,
/// well under the default 1 MiB body limit.
pub const REMOTE_BATCH: usize = 1000;

/// The `--format json` summary of an import.
#[derive(Serialize)]
struct ImportSummary {
    version: u32,
    ok: bool,
    files: usize,
    /// Tuples read from the files.
    tuples: u64,
    /// Tuples that were new to the database (absent through a server,
    /// which does not report it).
    #[serde(skip_serializing_if = "Option::is_none")]
    inserted: Option<u64>,
    /// Tuples that were already present (absent through a server).
    #[serde(skip_serializing_if = "Option::is_none")]
    unchanged: Option<u64>,
    batches: u64,
    first_revision: Option<Revision>,
    last_revision: Option<Revision>,
    /// Through a server: the snapshot token of the last batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    snaptoken: Option<String>,
    schema: String,
    seconds: f64,
    validate_seconds: f64,
    write_seconds: f64,
    tuples_per_second: f64,
}

/// Progress is reported every this many bytes (not every line).
const PROGRESS_STEP: u64 = 1 << 16;

fn bar(total: u64, template: &str) -> ProgressBar {
    if !local::stderr_is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        // `{rate}`: whole tuples a second (indicatif's `{per_sec}` shows four decimals).
        let style = style.with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.0}/s", state.per_sec());
            },
        );
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn open(path: &Path) -> miette::Result<BufReader<File>> {
    File::open(path)
        .map(|file| BufReader::with_capacity(1 << 20, file))
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read `{}`", load::display_name(path)))
}

/// The format to read `path` as (see [`TupleFormat::file_format`]): the
/// start of the file helps tell.
fn file_format(format: Option<TupleFormat>, path: &Path) -> miette::Result<FileFormat> {
    use std::io::Read;
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(1 << 16).read_to_end(&mut head))
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read `{}`", load::display_name(path)))?;
    let name = load::display_name(path);
    Ok(TupleFormat::file_format(
        format,
        &name,
        &String::from_utf8_lossy(&head),
    ))
}

/// Where an import writes.
enum Destination<'a> {
    Local(WriteTarget<'a>),
    Remote(crate::client::Client),
}

impl Destination<'_> {
    fn schema(&self) -> miette::Result<&ir::Schema> {
        match self {
            Destination::Local(target) => Ok(target.schema()),
            Destination::Remote(client) => client.schema().map_err(|e| miette!("{e}")),
        }
    }
}

fn destination(args: &ImportArgs, color: ColorMode) -> miette::Result<Destination<'_>> {
    if !args.remote.is_remote()? {
        let target = WriteTarget::open(&args.db.db, args.schema.schema.as_deref(), color)?;
        return Ok(Destination::Local(target));
    }
    if args.schema.schema.is_some() {
        return Err(miette!(
            "--schema applies to a local database; a server validates writes with its own schema"
        ));
    }
    let client = args.remote.writer()?;
    if args.remote.remote.is_none() {
        return Err(miette!(
            help = "the schema is read from the read API, port 4466 by default",
            "an import validates every tuple against the server's schema before writing any: \
             give --remote URL as well as --write-remote URL"
        ));
    }
    Ok(Destination::Remote(client))
}

pub fn run(args: &ImportArgs, color: ColorMode) -> miette::Result<ExitCode> {
    let started = Instant::now();
    let db = &args.db.db;
    let target = destination(args, color)?;
    let schema = target.schema()?;

    // Pass 1: parse and validate everything, writing nothing.
    let mut total_bytes = 0u64;
    for path in &args.files {
        if path.as_os_str() == "-" {
            return Err(miette!(
                help = "`zanzi tuples write -` writes tuples from standard input in one \
                        transaction",
                "an import reads its files twice, so it cannot read standard input"
            ));
        }
        let meta = std::fs::metadata(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read `{}`", load::display_name(path)))?;
        total_bytes += meta.len();
    }
    let progress = bar(
        total_bytes,
        "{msg} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} ({eta})",
    );
    progress.set_message("validating");
    let mut problems = Problems::default();
    let mut count = 0u64;
    for path in &args.files {
        let name = load::display_name(path);
        let format = file_format(args.tuple_format, path)?;
        let mut pending = 0u64;
        read_tuples(
            &name,
            open(path)?,
            format,
            Some(schema),
            |result| {
                match result {
                    Ok(_) => count += 1,
                    Err(problem) => problems.push(problem),
                }
                ControlFlow::Continue(())
            },
            |bytes| {
                pending += bytes;
                if pending >= PROGRESS_STEP {
                    progress.inc(pending);
                    pending = 0;
                }
            },
        )
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read `{name}`"))?;
        progress.inc(pending);
    }
    progress.finish_and_clear();
    if !problems.is_empty() {
        problems.report(args.format)?;
        return Ok(ExitCode::from(1));
    }
    let validated = started.elapsed();

    // Pass 2: write, one transaction per batch.
    let mut batch_size = usize::try_from(args.batch_size).unwrap_or(usize::MAX);
    let (sink, schema) = match target {
        Destination::Local(target) => {
            let (store, schema) = target.commit()?;
            (Sink::Local(store), schema)
        }
        Destination::Remote(client) => {
            batch_size = batch_size.min(REMOTE_BATCH);
            // Fetched once, in pass 1.
            let schema = client.schema().map_err(|e| miette!("{e}"))?.clone();
            (Sink::Remote(Box::new(client)), schema)
        }
    };
    let progress = bar(
        count,
        "{msg} [{elapsed_precise}] [{wide_bar}] {human_pos}/{human_len} tuples ({rate}, {eta})",
    );
    progress.set_message("importing");
    let mut written = Written::default();
    let outcome = std::thread::scope(|scope| -> miette::Result<()> {
        let (sender, batches) = mpsc::sync_channel(2);
        let schema = &schema;
        let format = args.tuple_format;
        scope.spawn(move || read_batches(&args.files, format, schema, batch_size, &sender));
        for batch in batches {
            let batch = batch?;
            match &sink {
                Sink::Local(store) => {
                    let report = store
                        .import(&batch, batch.len())
                        .map_err(local::store_err(db))?;
                    written.add(batch.len() as u64, &report);
                }
                Sink::Remote(client) => {
                    let token = client.write(&batch, &[]).map_err(|e| miette!("{e}"))?;
                    written.add_remote(batch.len() as u64, token);
                }
            }
            progress.inc(batch.len() as u64);
        }
        Ok(())
    });
    progress.finish_and_clear();
    if let Err(report) = outcome {
        if written.batches > 0 {
            let revisions = written
                .last
                .map(|last| format!(" (revisions {}..={last})", written.first.unwrap_or(last)))
                .unwrap_or_default();
            eprintln!(
                "note: {} tuples were imported in {} batches{revisions} before the import \
                 stopped; importing the same files again completes it",
                written.tuples, written.batches
            );
        }
        return Err(report);
    }
    // A server does not say which tuples were new.
    let local = matches!(sink, Sink::Local(_));
    let seconds = started.elapsed().as_secs_f64();
    let summary = ImportSummary {
        version: JSON_VERSION,
        ok: true,
        files: args.files.len(),
        tuples: written.tuples,
        inserted: local.then_some(written.inserted),
        unchanged: local.then_some(written.unchanged),
        batches: written.batches,
        first_revision: written.first,
        last_revision: written.last,
        snaptoken: written.snaptoken.clone(),
        schema: schema.hash.clone(),
        seconds: millis(seconds),
        validate_seconds: millis(validated.as_secs_f64()),
        write_seconds: millis(seconds - validated.as_secs_f64()),
        tuples_per_second: if seconds > 0.0 {
            (written.tuples as f64 / seconds).round()
        } else {
            0.0
        },
    };
    match args.format {
        ReportFormat::Json => local::print_json(&summary)?,
        ReportFormat::Human => local::print(&human_summary(&summary))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Seconds to the millisecond: what a timing is worth in a report.
fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// Where pass 2 writes.
enum Sink {
    Local(Box<dyn crate::store::Store>),
    Remote(Box<crate::client::Client>),
}

/// What pass 2 has committed so far.
#[derive(Debug, Default)]
struct Written {
    tuples: u64,
    inserted: u64,
    unchanged: u64,
    batches: u64,
    first: Option<Revision>,
    last: Option<Revision>,
    /// Through a server: the token of the last batch.
    snaptoken: Option<String>,
}

impl Written {
    fn add_remote(&mut self, tuples: u64, token: String) {
        self.tuples += tuples;
        self.batches += 1;
        self.snaptoken = Some(token);
    }

    fn add(&mut self, tuples: u64, report: &crate::store::ImportReport) {
        self.tuples += tuples;
        self.inserted += report.inserted;
        self.unchanged += report.unchanged;
        self.batches += report.revisions.len() as u64;
        if let Some(&first) = report.revisions.first() {
            self.first.get_or_insert(first);
        }
        if let Some(&last) = report.revisions.last() {
            self.last = Some(last);
        }
    }
}

fn human_summary(s: &ImportSummary) -> String {
    let files = if s.files == 1 { "file" } else { "files" };
    let revisions = match (s.first_revision, s.last_revision) {
        (Some(first), Some(last)) if first == last => format!(", revision {last}"),
        (Some(first), Some(last)) => format!(", revisions {first}..={last}"),
        _ => String::new(),
    };
    let counts = match (s.inserted, s.unchanged) {
        (Some(inserted), Some(unchanged)) => {
            format!("{inserted} new, {unchanged} already present")
        }
        _ => "through the server".to_owned(),
    };
    let revisions = match &s.snaptoken {
        Some(token) => format!("{revisions}; snaptoken {token}"),
        None => revisions,
    };
    format!(
        "imported {} tuples from {} {files}: {counts}\n\
         {} batch{}{revisions}; {:.2} s ({:.0} tuples/s; validation {:.2} s)\n",
        s.tuples,
        s.files,
        s.batches,
        if s.batches == 1 { "" } else { "es" },
        s.seconds,
        s.tuples_per_second,
        s.validate_seconds,
    )
}

/// Pass 2's reader: sends the files' tuples in batches, in file order. The
/// files were validated, but are validated again: one may have changed
/// since, and nothing unvalidated is ever written.
fn read_batches(
    files: &[PathBuf],
    format: Option<TupleFormat>,
    schema: &ir::Schema,
    batch_size: usize,
    sender: &mpsc::SyncSender<miette::Result<Vec<Tuple>>>,
) {
    let mut batch = Vec::with_capacity(batch_size.min(1 << 20));
    for path in files {
        let name = load::display_name(path);
        let reader = match open(path) {
            Ok(reader) => reader,
            Err(report) => {
                let _ = sender.send(Err(report));
                return;
            }
        };
        let format = match file_format(format, path) {
            Ok(format) => format,
            Err(report) => {
                let _ = sender.send(Err(report));
                return;
            }
        };
        let mut stopped = false;
        let read = read_tuples(
            &name,
            reader,
            format,
            Some(schema),
            |result| match result {
                Ok(tuple) => {
                    batch.push(tuple);
                    if batch.len() >= batch_size {
                        let full = std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(batch_size.min(1 << 20)),
                        );
                        if sender.send(Ok(full)).is_err() {
                            // The writer stopped; it reports why.
                            stopped = true;
                            return ControlFlow::Break(());
                        }
                    }
                    ControlFlow::Continue(())
                }
                Err(problem) => {
                    let _ = sender.send(Err(miette!(
                        "{problem}: the file changed after it was validated"
                    )));
                    stopped = true;
                    ControlFlow::Break(())
                }
            },
            |_| {},
        );
        if stopped {
            return;
        }
        if let Err(error) = read {
            let _ = sender.send(Err(miette!("cannot read `{name}`: {error}")));
            return;
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(Ok(batch));
    }
}
