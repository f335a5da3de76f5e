//! `zanzi tuples list`.

use std::process::ExitCode;

use serde::Serialize;

use super::filter::FilterArgs;
use super::remote::remote_err;
use crate::cli::local::{self, AtArgs, DbArgs, LocalPageToken, ReportFormat, JSON_VERSION};
use crate::cli::remote::RemoteArgs;
use crate::store::TupleFilter;
use crate::store::{PageRequest, Revision};
use crate::tuple::Tuple;

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
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// A tuple in JSON: its text, and its parts with raw IDs.
#[derive(Serialize)]
pub(super) struct TupleJson<'a> {
    tuple: String,
    #[serde(flatten)]
    parts: &'a Tuple,
}

/// The `--format json` document of `zanzi tuples list`.
#[derive(Serialize)]
pub(super) struct ListReport<'a> {
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
pub(super) fn print_page(
    format: ReportFormat,
    snapshot: Snapshot,
    tuples: &[Tuple],
    next_page_token: Option<&str>,
) -> miette::Result<ExitCode> {
    match format {
        ReportFormat::Json => {
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
        ReportFormat::Human => {
            let text: String = tuples.iter().map(|t| format!("{t}\n")).collect();
            local::print(&text)?;
            if let Some(token) = next_page_token {
                eprintln!("more tuples: --page-token {token}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_list(args: &ListArgs) -> miette::Result<ExitCode> {
    let filter = args.filter.to_filter()?;
    if args.remote.is_remote()? {
        return remote_list(args, &filter);
    }
    let token = args
        .page_token
        .as_deref()
        .map(LocalPageToken::decode)
        .transpose()?;
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let at = local::read_revision(&*store, db, args.at.at, token.as_ref())?;
    let request = PageRequest {
        cursor: token.map(|t| t.position),
        limit: usize::try_from(args.page_size).unwrap_or(usize::MAX),
    };
    let page = store
        .snapshot(at)
        .and_then(|reader| reader.list(&filter, &request))
        .map_err(local::store_err(db))?;
    let next_page_token = page.next_cursor.map(|position| {
        LocalPageToken {
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

/// `zanzi tuples list --remote URL`: one page, as locally; the page token
/// is the server's.
pub(super) fn remote_list(args: &ListArgs, filter: &TupleFilter) -> miette::Result<ExitCode> {
    if args.at.at.is_some() {
        return Err(super::super::remote::at_with_remote());
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

/// The snapshot a listing or an export read.
pub(super) enum Snapshot {
    Revision(Revision),
    Token(String),
}

impl Snapshot {
    /// The revision, or the token.
    pub(super) fn parts(self) -> (Option<Revision>, Option<String>) {
        match self {
            Snapshot::Revision(revision) => (Some(revision), None),
            Snapshot::Token(token) => (None, Some(token)),
        }
    }
}
