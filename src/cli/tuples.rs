//! `zanzi tuples`: write, delete, list, export and import relation tuples
//! in the local database.
//!
//! Every write is one transaction, validated against the schema before
//! anything is stored, and reports the revision it committed; `import` is
//! the exception that proves the rule: one transaction per batch (see
//! [`super::import`]).

use std::io::{BufRead, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use miette::{miette, IntoDiagnostic, WrapErr};
use serde::Serialize;

use super::import::{self, ImportArgs};
use super::local::{
    self, AtArgs, DbArgs, Format, Origin, PageToken, Problem, Problems, SchemaArgs, WriteTarget,
    JSON_VERSION,
};
use super::remote::RemoteArgs;
use super::{inputs, ColorMode};
use crate::ir;
use crate::server::client::{ClientError, ReadOptions};
use crate::store::{PageRequest, Revision, StoreError, TupleFilter, TupleStore};
use crate::tuple::{parse_tuple_line, validate_tuple, Object, Subject, Tuple};

#[derive(Debug, Subcommand)]
pub enum TuplesCommand {
    /// Write tuples, validated against the schema, in one transaction.
    ///
    /// Tuples are given as arguments, or with `-` read from standard input
    /// (one per line; blank lines and `//` comments are skipped). Nothing is
    /// written unless every tuple is valid. Exit status: 0 written; 1 a tuple
    /// is rejected by the schema (or one on standard input does not parse);
    /// 2 a tuple argument does not parse, or another error.
    Write(WriteArgs),
    /// Delete tuples, given one by one or by a filter, in one transaction.
    ///
    /// Deletes are not validated against the schema, so tuples left over
    /// from an older schema can be removed.
    Delete(DeleteArgs),
    /// List the tuples that match a filter, a page at a time.
    List(ListArgs),
    /// Write the tuples that match a filter as a tuple file.
    Export(ExportArgs),
    /// Import tuple files of any size, in batches.
    ///
    /// First every line is parsed and validated against the schema; if any
    /// is wrong, each is reported as `file:line:column: message` and nothing
    /// is written (exit 1). Then the tuples are written in transactions of
    /// --batch-size tuples, one revision each: an interrupted import leaves
    /// the first batches, whole, and nothing of the others.
    Import(ImportArgs),
}

pub fn run(command: &TuplesCommand, color: ColorMode) -> miette::Result<ExitCode> {
    match command {
        TuplesCommand::Write(args) => run_write(args, color),
        TuplesCommand::Delete(args) => run_delete(args),
        TuplesCommand::List(args) => run_list(args),
        TuplesCommand::Export(args) => run_export(args),
        TuplesCommand::Import(args) => import::run(args, color),
    }
}

// ---------------------------------------------------------------------------
// Reading tuples.

/// Reads a tuple file line by line. Each tuple (or the problem with its
/// line) goes to `each`, which may stop the reading; `progress` is told
/// how many bytes were read. With a schema, tuples are validated against it.
pub fn read_tuples(
    name: &str,
    mut reader: impl BufRead,
    schema: Option<&ir::Schema>,
    mut each: impl FnMut(Result<Tuple, Problem>) -> ControlFlow<()>,
    mut progress: impl FnMut(u64),
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf)?;
        if read == 0 {
            return Ok(());
        }
        progress(read as u64);
        line += 1;
        let mut bytes = buf.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        let origin = Origin::File { name, line };
        let result = match std::str::from_utf8(bytes) {
            Ok(text) => check_line(text, origin, schema),
            Err(error) => {
                let valid = bytes.get(..error.valid_up_to()).unwrap_or_default();
                let column = String::from_utf8_lossy(valid).chars().count() + 1;
                Some(Err(
                    origin.problem(column, "the line is not valid UTF-8".to_owned())
                ))
            }
        };
        if let Some(result) = result {
            if each(result).is_break() {
                return Ok(());
            }
        }
    }
}

/// One line of a tuple file: `None` for a blank or comment line.
fn check_line(
    text: &str,
    origin: Origin<'_>,
    schema: Option<&ir::Schema>,
) -> Option<Result<Tuple, Problem>> {
    match parse_tuple_line(text) {
        Ok(None) => None,
        Err(error) => Some(Err(origin.problem(error.column(), error.to_string()))),
        Ok(Some(tuple)) => Some(match schema.map(|s| validate_tuple(s, &tuple)) {
            Some(Err(error)) => {
                Err(origin.problem(local::violation_column(text, &error), error.to_string()))
            }
            _ => Ok(tuple),
        }),
    }
}

/// The tuples of a write or delete: the arguments, or standard input for
/// `-`. Arguments that do not parse are usage errors (exit 2); lines of
/// standard input that do not parse, and tuples the schema rejects, are
/// collected in `problems`.
fn gather(
    texts: &[String],
    schema: Option<&ir::Schema>,
    problems: &mut Problems,
) -> miette::Result<Vec<Tuple>> {
    let mut tuples = Vec::new();
    if texts.iter().any(|t| t == "-") {
        if texts.len() > 1 {
            return Err(miette!(
                "`-` (standard input) cannot be combined with tuple arguments"
            ));
        }
        let stdin = std::io::stdin();
        read_tuples(
            "<stdin>",
            stdin.lock(),
            schema,
            |result| {
                match result {
                    Ok(tuple) => tuples.push(tuple),
                    Err(problem) => problems.push(problem),
                }
                ControlFlow::Continue(())
            },
            |_| {},
        )
        .into_diagnostic()
        .wrap_err("cannot read standard input")?;
        return Ok(tuples);
    }
    for (index, text) in texts.iter().enumerate() {
        let tuple: Tuple = text
            .parse()
            .map_err(|e| local::notation_error("tuple", text, &e))?;
        if let Some(Err(error)) = schema.map(|s| validate_tuple(s, &tuple)) {
            problems.push(
                Origin::Argument(index + 1)
                    .problem(local::violation_column(text, &error), error.to_string()),
            );
        }
        tuples.push(tuple);
    }
    Ok(tuples)
}

// ---------------------------------------------------------------------------
// write

#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    /// Tuples such as `document:readme#viewer@user:alice`, or `-` to read
    /// them from standard input.
    #[arg(required = true, value_name = "TUPLE")]
    pub tuples: Vec<String>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The `--format json` document of a write or a delete.
#[derive(Serialize)]
struct WriteReport {
    version: u32,
    ok: bool,
    revision: Revision,
    /// Writes: the tuples given. Deletes: the tuples that were live and
    /// are now deleted.
    tuples: u64,
}

fn run_write(args: &WriteArgs, color: ColorMode) -> miette::Result<ExitCode> {
    if args.remote.is_remote() {
        return remote_write(args);
    }
    let db = &args.db.db;
    let target = WriteTarget::open(db, args.schema.schema.as_deref(), color)?;
    let mut problems = Problems::default();
    let tuples = gather(&args.tuples, Some(target.schema()), &mut problems)?;
    if !problems.is_empty() {
        problems.report(args.format)?;
        return Ok(ExitCode::from(1));
    }
    let (store, _) = target.commit()?;
    let revision = store.write(&tuples, &[]).map_err(local::store_err(db))?;
    let count = tuples.len() as u64;
    match args.format {
        Format::Json => local::print_json(&WriteReport {
            version: JSON_VERSION,
            ok: true,
            revision,
            tuples: count,
        })?,
        Format::Human => local::print(&format!(
            "wrote {count} tuple{} at revision {revision}\n",
            plural(count)
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

// ---------------------------------------------------------------------------
// Filters.

/// Selects tuples; every given option must match.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only tuples on objects of this namespace.
    #[arg(long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Only tuples on this object: `document:readme`.
    #[arg(long, value_name = "NAMESPACE:ID", conflicts_with = "namespace")]
    pub object: Option<String>,
    /// Only tuples of this relation.
    #[arg(long, value_name = "NAME")]
    pub relation: Option<String>,
    /// Only tuples with exactly this subject: `user:alice`,
    /// `group:eng#member` or `user:*`.
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
}

impl FilterArgs {
    fn is_empty(&self) -> bool {
        self.namespace.is_none()
            && self.object.is_none()
            && self.relation.is_none()
            && self.subject.is_none()
    }

    fn to_filter(&self) -> miette::Result<TupleFilter> {
        let object = self
            .object
            .as_deref()
            .map(|text| {
                text.parse::<Object>()
                    .map_err(|e| local::notation_error("object", text, &e))
            })
            .transpose()?;
        let subject = self
            .subject
            .as_deref()
            .map(|text| {
                text.parse::<Subject>()
                    .map_err(|e| local::notation_error("subject", text, &e))
            })
            .transpose()?;
        let (namespace, object_id) = match object {
            Some(object) => (Some(object.namespace), Some(object.id)),
            None => (self.namespace.clone(), None),
        };
        Ok(TupleFilter {
            namespace,
            object_id,
            relation: self.relation.clone(),
            subject,
            subject_object_in: None,
        })
    }
}

// ---------------------------------------------------------------------------
// delete

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("what")
        .required(true)
        .multiple(true)
        .args(["tuples", "namespace", "object", "relation", "subject"])
))]
pub struct DeleteArgs {
    /// Tuples to delete, or `-` to read them from standard input. Without
    /// tuples, the filter options say what to delete (at least one).
    #[arg(value_name = "TUPLE")]
    pub tuples: Vec<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

fn run_delete(args: &DeleteArgs) -> miette::Result<ExitCode> {
    if !args.tuples.is_empty() && !args.filter.is_empty() {
        return Err(miette!(
            help = "run one command per kind of delete",
            "give either tuples or filter options, not both"
        ));
    }
    if args.remote.is_remote() {
        return remote_delete(args);
    }
    let db = &args.db.db;
    // Opening for a write would create it, to delete nothing.
    local::require_db(db)?;
    let (store, revision) = if args.tuples.is_empty() {
        let filter = args.filter.to_filter()?;
        let store = local::open_or_create(db)?;
        let revision = store
            .delete_matching(&filter)
            .map_err(local::store_err(db))?;
        (store, revision)
    } else {
        let mut problems = Problems::default();
        let tuples = gather(&args.tuples, None, &mut problems)?;
        if !problems.is_empty() {
            problems.report(args.format)?;
            return Ok(ExitCode::from(1));
        }
        let store = local::open_or_create(db)?;
        let revision = store.write(&[], &tuples).map_err(local::store_err(db))?;
        (store, revision)
    };
    let count = store.deleted_at(revision).map_err(local::store_err(db))?;
    match args.format {
        Format::Json => local::print_json(&WriteReport {
            version: JSON_VERSION,
            ok: true,
            revision,
            tuples: count,
        })?,
        Format::Human => local::print(&format!(
            "deleted {count} tuple{} at revision {revision}\n",
            plural(count)
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------
// list

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Tuples per page.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = clap::value_parser!(u64).range(1..=100_000),
    )]
    pub page_size: u64,
    /// Continue after the page that printed this token.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// How to print the tuples.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// A tuple in JSON: its text, and its parts with raw IDs.
#[derive(Serialize)]
struct TupleJson<'a> {
    tuple: String,
    #[serde(flatten)]
    parts: &'a Tuple,
}

/// The `--format json` document of `zanzi tuples list`.
#[derive(Serialize)]
struct ListReport<'a> {
    version: u32,
    /// The local revision read (absent through a server).
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<Revision>,
    /// The snapshot read through a server (absent locally).
    #[serde(skip_serializing_if = "Option::is_none")]
    snaptoken: Option<String>,
    tuples: Vec<TupleJson<'a>>,
    next_page_token: Option<&'a str>,
}

/// Prints one page of a listing: the tuples on standard output, and the
/// token of the next page (on standard error, or in the JSON document).
fn print_page(
    format: Format,
    snapshot: Snapshot,
    tuples: &[Tuple],
    next_page_token: Option<&str>,
) -> miette::Result<ExitCode> {
    match format {
        Format::Json => {
            let (revision, snaptoken) = snapshot.parts();
            local::print_json(&ListReport {
                version: JSON_VERSION,
                revision,
                snaptoken,
                tuples: tuples
                    .iter()
                    .map(|t| TupleJson {
                        tuple: t.to_string(),
                        parts: t,
                    })
                    .collect(),
                next_page_token,
            })?;
        }
        Format::Human => {
            let text: String = tuples.iter().map(|t| format!("{t}\n")).collect();
            local::print(&text)?;
            if let Some(token) = next_page_token {
                eprintln!("more tuples: --page-token {token}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_list(args: &ListArgs) -> miette::Result<ExitCode> {
    let filter = args.filter.to_filter()?;
    if args.remote.is_remote() {
        return remote_list(args, &filter);
    }
    let token = args
        .page_token
        .as_deref()
        .map(PageToken::decode)
        .transpose()?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let at = local::read_revision(&store, db, args.at.at, token.as_ref())?;
    let request = PageRequest {
        cursor: token.map(|t| t.position),
        limit: usize::try_from(args.page_size).unwrap_or(usize::MAX),
    };
    let page = store
        .snapshot(at)
        .and_then(|reader| reader.list(&filter, &request))
        .map_err(local::store_err(db))?;
    let next_page_token = page.next_cursor.map(|position| {
        PageToken {
            revision: at,
            position,
        }
        .encode()
    });
    print_page(
        args.format,
        Snapshot::Revision(at),
        &page.items,
        next_page_token.as_deref(),
    )
}

// ---------------------------------------------------------------------------
// export

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Write the tuples to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// How to print the summary.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The `--format json` summary of `zanzi tuples export`.
#[derive(Serialize)]
struct ExportReport {
    version: u32,
    /// The local revision read (absent through a server).
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<Revision>,
    /// The snapshot read through a server (absent locally).
    #[serde(skip_serializing_if = "Option::is_none")]
    snaptoken: Option<String>,
    tuples: u64,
    output: Option<String>,
}

/// Tuples read from the store per query while exporting.
const EXPORT_PAGE: usize = 10_000;

fn run_export(args: &ExportArgs) -> miette::Result<ExitCode> {
    let filter = args.filter.to_filter()?;
    let db = &args.db.db;
    let source = if args.remote.is_remote() {
        if args.at.at.is_some() {
            return Err(super::remote::at_with_remote());
        }
        ExportSource::Remote(args.remote.reader()?, args.remote.options(None))
    } else {
        let store = local::open_existing(db)?;
        let at = local::read_revision(&store, db, args.at.at, None)?;
        ExportSource::Local(store, at)
    };
    let written = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot write `{}`", inputs::display_name(path)))?;
            source.export(&filter, BufWriter::new(file))
        }
        None => source.export(&filter, BufWriter::new(std::io::stdout().lock())),
    };
    let count = match written {
        Ok(count) => Some(count),
        Err(ExportError::Store(error)) => return Err(local::store_err(db)(error)),
        Err(ExportError::Remote(error)) => return Err(remote_err(error)),
        // The reader of standard output closed the pipe: it has seen enough.
        Err(ExportError::Io(error))
            if args.output.is_none() && error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            None
        }
        Err(ExportError::Io(error)) => {
            let target = args.output.as_deref().map_or_else(
                || "standard output".to_owned(),
                |p| format!("`{}`", inputs::display_name(p)),
            );
            return Err(miette!("cannot write {target}: {error}"));
        }
    };
    let Some((count, snapshot)) = count else {
        return Ok(ExitCode::SUCCESS);
    };
    let output = args.output.as_deref().map(inputs::display_name);
    let (revision, snaptoken) = snapshot.parts();
    let summary = match args.format {
        Format::Json => serde_json::to_string_pretty(&ExportReport {
            version: JSON_VERSION,
            revision,
            snaptoken: snaptoken.clone(),
            tuples: count,
            output: output.clone(),
        })
        .into_diagnostic()?,
        Format::Human => format!(
            "exported {count} tuple{} {}{}",
            plural(count),
            match (revision, snaptoken) {
                (Some(revision), _) => format!("at revision {revision}"),
                (None, token) => format!("at snapshot {}", token.unwrap_or_default()),
            },
            output.map(|o| format!(" to `{o}`")).unwrap_or_default()
        ),
    };
    // Standard output carries the tuples unless they went to a file.
    if args.output.is_some() {
        local::print(&format!("{summary}\n"))?;
    } else {
        eprintln!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Tuples asked of a server per page while exporting: its default
/// `max_page_size`.
const REMOTE_PAGE: u64 = 1000;

/// Why an export stopped.
enum ExportError {
    Store(StoreError),
    Remote(ClientError),
    Io(std::io::Error),
}

impl From<ClientError> for ExportError {
    fn from(error: ClientError) -> ExportError {
        ExportError::Remote(error)
    }
}

/// The snapshot a listing or an export read.
enum Snapshot {
    Revision(Revision),
    Token(String),
}

impl Snapshot {
    /// The revision, or the token.
    fn parts(self) -> (Option<Revision>, Option<String>) {
        match self {
            Snapshot::Revision(revision) => (Some(revision), None),
            Snapshot::Token(token) => (None, Some(token)),
        }
    }
}

/// Where an export reads: a local store at a revision, or a server.
enum ExportSource {
    Local(crate::store::sqlite::SqliteStore, Revision),
    Remote(crate::server::client::Client, ReadOptions),
}

impl ExportSource {
    /// Writes every matching tuple to `out`, a page at a time; a remote
    /// export reads every page at the first page's snapshot.
    fn export(
        &self,
        filter: &TupleFilter,
        mut out: impl Write,
    ) -> Result<(u64, Snapshot), ExportError> {
        let mut count = 0u64;
        match self {
            ExportSource::Local(store, at) => {
                let mut request = PageRequest::first(EXPORT_PAGE);
                loop {
                    // A snapshot per page: no read transaction is held
                    // while the page is written out.
                    let page = store
                        .snapshot(*at)
                        .and_then(|reader| reader.list(filter, &request))
                        .map_err(ExportError::Store)?;
                    for tuple in &page.items {
                        writeln!(out, "{tuple}").map_err(ExportError::Io)?;
                    }
                    count += page.items.len() as u64;
                    match page.next_cursor {
                        Some(cursor) => request.cursor = Some(cursor),
                        None => break,
                    }
                }
                out.flush().map_err(ExportError::Io)?;
                Ok((count, Snapshot::Revision(*at)))
            }
            ExportSource::Remote(client, options) => {
                let snaptoken = client.for_each_page(filter, options, REMOTE_PAGE, |page| {
                    for tuple in page {
                        writeln!(out, "{tuple}").map_err(ExportError::Io)?;
                    }
                    count += page.len() as u64;
                    Ok::<(), ExportError>(())
                })?;
                out.flush().map_err(ExportError::Io)?;
                Ok((count, Snapshot::Token(snaptoken)))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Through a server (`--remote`, `--write-remote`).

/// The `--format json` document of a write or a delete through a server.
#[derive(Serialize)]
struct RemoteWriteReport {
    version: u32,
    ok: bool,
    /// The snapshot token of the write's revision.
    snaptoken: String,
    /// The tuples given (absent for a delete by filter, whose count the
    /// server does not report).
    #[serde(skip_serializing_if = "Option::is_none")]
    tuples: Option<u64>,
}

fn remote_err(error: ClientError) -> miette::Report {
    miette!("{error}")
}

/// What a remote write does, for its messages.
#[derive(Clone, Copy)]
enum Change {
    Write,
    Delete,
}

impl Change {
    fn noun(self) -> &'static str {
        match self {
            Change::Write => "write",
            Change::Delete => "delete",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Change::Write => "wrote",
            Change::Delete => "deleted",
        }
    }
}

/// A write the server refused as a bad request (a tuple the schema
/// rejects, say) exits 1 like a local one; other failures are errors.
fn remote_write_outcome(
    result: Result<String, ClientError>,
    change: Change,
    tuples: Option<u64>,
    format: Format,
) -> miette::Result<ExitCode> {
    let token = match result {
        Ok(token) => token,
        Err(ClientError::Api {
            status,
            reason,
            message,
        }) if (400..500).contains(&status) && status != 404 => {
            match format {
                Format::Json => local::print_json(&serde_json::json!({
                    "version": JSON_VERSION,
                    "ok": false,
                    "written": false,
                    "status": status,
                    "reason": reason,
                    "message": message,
                }))?,
                Format::Human => eprintln!(
                    "error: the server refused the {} ({status} {reason}): {message}\n\
                     nothing was written",
                    change.noun()
                ),
            }
            return Ok(ExitCode::from(1));
        }
        Err(error) => return Err(remote_err(error)),
    };
    match format {
        Format::Json => local::print_json(&RemoteWriteReport {
            version: JSON_VERSION,
            ok: true,
            snaptoken: token,
            tuples,
        })?,
        Format::Human => {
            let verb = change.done();
            let what = match tuples {
                Some(n) => format!("{verb} {n} tuple{}", plural(n)),
                None => format!("{verb} the matching tuples"),
            };
            local::print(&format!("{what}; snaptoken {token}\n"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `zanzi tuples write --write-remote URL`: one PATCH, validated by the
/// server against its schema.
fn remote_write(args: &WriteArgs) -> miette::Result<ExitCode> {
    if args.schema.schema.is_some() {
        return Err(miette!(
            "--schema applies to a local database; a server validates writes with its own schema"
        ));
    }
    let client = args.remote.writer()?;
    let mut problems = Problems::default();
    let tuples = gather(&args.tuples, None, &mut problems)?;
    if !problems.is_empty() {
        problems.report(args.format)?;
        return Ok(ExitCode::from(1));
    }
    let result = client.write(&tuples, &[]);
    remote_write_outcome(
        result,
        Change::Write,
        Some(tuples.len() as u64),
        args.format,
    )
}

/// `zanzi tuples delete --write-remote URL`: the tuples in one PATCH, or a
/// filter as one DELETE (which, as in Keto, needs `--namespace` or
/// `--object`).
fn remote_delete(args: &DeleteArgs) -> miette::Result<ExitCode> {
    let client = args.remote.writer()?;
    if args.tuples.is_empty() {
        let filter = args.filter.to_filter()?;
        if filter.namespace.is_none() {
            return Err(miette!(
                help = "add --namespace NAME (or --object NAMESPACE:ID)",
                "a delete by filter through a server needs a namespace"
            ));
        }
        let result = client.delete_matching(&filter);
        return remote_write_outcome(result, Change::Delete, None, args.format);
    }
    let mut problems = Problems::default();
    let tuples = gather(&args.tuples, None, &mut problems)?;
    if !problems.is_empty() {
        problems.report(args.format)?;
        return Ok(ExitCode::from(1));
    }
    let result = client.write(&[], &tuples);
    remote_write_outcome(
        result,
        Change::Delete,
        Some(tuples.len() as u64),
        args.format,
    )
}

/// `zanzi tuples list --remote URL`: one page, as locally; the page token
/// is the server's.
fn remote_list(args: &ListArgs, filter: &TupleFilter) -> miette::Result<ExitCode> {
    if args.at.at.is_some() {
        return Err(super::remote::at_with_remote());
    }
    let client = args.remote.reader()?;
    let page = client
        .list_page(
            filter,
            &args.remote.options(None),
            args.page_size,
            args.page_token.as_deref(),
        )
        .map_err(remote_err)?;
    let next_page_token = Some(page.next_page_token.as_str()).filter(|t| !t.is_empty());
    print_page(
        args.format,
        Snapshot::Token(page.snaptoken.clone()),
        &page.tuples,
        next_page_token,
    )
}
