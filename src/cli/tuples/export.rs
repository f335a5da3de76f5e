//! `zanzi tuples export`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use miette::{miette, IntoDiagnostic, WrapErr};
use serde::Serialize;

use super::filter::FilterArgs;
use super::list::Snapshot;
use super::reader::TupleFormat;
use super::remote::remote_err;
use super::writer::{TupleWriter, WriteFailure};
use crate::cli::local::{self, AtArgs, DbArgs, ReportFormat, JSON_VERSION};
use crate::cli::output::plural;
use crate::cli::remote::RemoteArgs;
use crate::client::{ClientError, ReadOptions};
use crate::load;
use crate::store::{PageRequest, Revision, StoreError, TupleFilter};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Write the tuples to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format of the tuples: zanzi's notation (the default), SpiceDB
    /// relationship lines, OpenFGA tuples (a JSON list; YAML, JSON lines or
    /// CSV when the output file ends in `.yaml`, `.jsonl` or `.csv`) or
    /// Keto's relation-tuple JSON.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "zanzi")]
    pub tuple_format: TupleFormat,
    #[command(flatten)]
    pub at: AtArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// How to print the summary.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The `--format json` summary of `zanzi tuples export`.
#[derive(Serialize)]
pub(super) struct ExportReport {
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

pub(super) fn run_export(args: &ExportArgs) -> miette::Result<ExitCode> {
    let filter = args.filter.to_filter()?;
    let db = &args.db.db;
    let source = if args.remote.is_remote()? {
        if args.at.at.is_some() {
            return Err(super::super::remote::at_with_remote());
        }
        ExportSource::Remote(Box::new(args.remote.reader()?), args.remote.options(None))
    } else {
        let store = local::open_existing(db)?;
        let at = local::read_revision(&*store, db, args.at.at, None)?;
        ExportSource::Local(store, at)
    };
    let writer = TupleWriter::new(args.tuple_format, args.output.as_deref());
    let written = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot write `{}`", load::display_name(path)))?;
            source.export(&filter, BufWriter::new(file), writer)
        }
        None => source.export(&filter, BufWriter::new(std::io::stdout().lock()), writer),
    };
    let count = match written {
        Ok(count) => Some(count),
        Err(ExportError::Store(error)) => return Err(local::store_err(db)(error)),
        Err(ExportError::Remote(error)) => return Err(remote_err(error)),
        Err(ExportError::Unrepresentable(reason)) => {
            return Err(miette!(
                help = "export in zanzi's or SpiceDB's notation, which percent-encodes such IDs",
                "{reason}"
            ))
        }
        // The reader of standard output closed the pipe: it has seen enough.
        Err(ExportError::Io(error))
            if args.output.is_none() && error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            None
        }
        Err(ExportError::Io(error)) => {
            let target = args.output.as_deref().map_or_else(
                || "standard output".to_owned(),
                |p| format!("`{}`", load::display_name(p)),
            );
            return Err(miette!("cannot write {target}: {error}"));
        }
    };
    let Some((count, snapshot)) = count else {
        return Ok(ExitCode::SUCCESS);
    };
    let output = args.output.as_deref().map(load::display_name);
    let (revision, snaptoken) = snapshot.parts();
    let summary = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&ExportReport {
            version: JSON_VERSION,
            revision,
            snaptoken: snaptoken.clone(),
            tuples: count,
            output: output.clone(),
        })
        .into_diagnostic()?,
        ReportFormat::Human => format!(
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
pub(super) enum ExportError {
    Store(StoreError),
    Remote(ClientError),
    Io(std::io::Error),
    /// The format cannot hold a tuple.
    Unrepresentable(String),
}

impl From<WriteFailure> for ExportError {
    fn from(failure: WriteFailure) -> ExportError {
        match failure {
            WriteFailure::Io(error) => ExportError::Io(error),
            WriteFailure::Unrepresentable(reason) => ExportError::Unrepresentable(reason),
        }
    }
}

impl From<ClientError> for ExportError {
    fn from(error: ClientError) -> ExportError {
        ExportError::Remote(error)
    }
}

/// Where an export reads: a local store at a revision, or a server.
pub(super) enum ExportSource {
    Local(Box<dyn crate::store::Store>, Revision),
    Remote(Box<crate::client::Client>, ReadOptions),
}

impl ExportSource {
    /// Writes every matching tuple to `out`, a page at a time; a remote
    /// export reads every page at the first page's snapshot.
    fn export(
        &self,
        filter: &TupleFilter,
        mut out: impl Write,
        mut writer: TupleWriter,
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
                        writer.write(&mut out, tuple)?;
                    }
                    count += page.items.len() as u64;
                    match page.next_cursor {
                        Some(cursor) => request.cursor = Some(cursor),
                        None => break,
                    }
                }
                writer.finish(&mut out).map_err(ExportError::Io)?;
                out.flush().map_err(ExportError::Io)?;
                Ok((count, Snapshot::Revision(*at)))
            }
            ExportSource::Remote(client, options) => {
                let snaptoken = client.for_each_page(filter, options, REMOTE_PAGE, |page| {
                    for tuple in page {
                        writer.write(&mut out, tuple)?;
                    }
                    count += page.len() as u64;
                    Ok::<(), ExportError>(())
                })?;
                writer.finish(&mut out).map_err(ExportError::Io)?;
                out.flush().map_err(ExportError::Io)?;
                Ok((count, Snapshot::Token(snaptoken)))
            }
        }
    }
}
