//! `zanzi tuples watch`: prints the database's changes as they are
//! committed, by any process, from the store's change feed
//! ([`crate::store::feed`]); with `--remote URL`, a server's change stream
//! ([`crate::client::watch`]).

use std::io::Write as _;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::Duration;

use miette::{miette, IntoDiagnostic};
use serde::Serialize;

use super::filter::FilterArgs;
use super::remote::remote_err;
use crate::cli::local::{self, DbArgs, ReportFormat};
use crate::client::watch::{watch, WatchStop};
use crate::server::zookie::TokenKeys;
use crate::store::{ChangeKind, Follower, Revision, Store, TupleFilter};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Print the changes after this point: a snapshot token (`zk2_…`) of
    /// this database, or a revision number (local only). Default: from now
    /// on.
    #[arg(long, value_name = "TOKEN|REVISION")]
    pub since: Option<String>,
    /// Follow the change stream of a running `zanzi serve` at this read-API
    /// URL (e.g. http://127.0.0.1:4466) instead of a local database.
    #[arg(long, value_name = "URL", env = "ZANZI_READ_REMOTE")]
    pub remote: Option<String>,
    /// Follow the server of this named context (see `zanzi context`);
    /// without --remote or --context, the current context's, if any.
    #[arg(long, value_name = "NAME", env = "ZANZI_CONTEXT")]
    pub context: Option<String>,
    #[command(flatten)]
    pub credentials: crate::cli::remote::CredentialArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Stop after printing this many changes.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub db: DbArgs,
    /// How to print each change: `+ tuple @ revision` lines, or one JSON
    /// object per line.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// One change as a JSON line.
#[derive(Serialize)]
struct ChangeJson<'a> {
    revision: Revision,
    operation: ChangeKind,
    tuple: String,
    #[serde(flatten)]
    parts: &'a crate::tuple::Tuple,
}

/// How long one wait for the feed lasts before it is renewed.
const WAIT: Duration = Duration::from_secs(5);

pub fn run_watch(args: &WatchArgs) -> miette::Result<ExitCode> {
    let filter = args.filter.to_filter()?;
    let explicit = args.credentials.connection(args.remote.as_deref(), None);
    let connection = crate::cli::context::resolve(&explicit, args.context.as_deref())
        .map_err(|e| miette!("{e}"))?;
    if connection.read.is_some() {
        return remote_watch(args, &connection, &filter);
    }
    let db = &args.db.db;
    let store = local::open_existing(db)?;
    let after = match &args.since {
        None => store.head_revision().map_err(local::store_err(db))?,
        Some(since) => since_revision(store.as_ref(), since)?,
    };
    let mut follower = Follower::new(store.as_ref(), after);
    let mut printed = 0u64;
    let mut out = std::io::stdout().lock();
    loop {
        let batch = follower.next(WAIT).map_err(local::store_err(db))?;
        for change in batch.changes.iter().filter(|c| filter.matches(&c.tuple)) {
            if args.limit.is_some_and(|limit| printed >= limit) {
                return Ok(ExitCode::SUCCESS);
            }
            let line = match args.format {
                ReportFormat::Human => {
                    let sign = match change.kind {
                        ChangeKind::Insert => '+',
                        ChangeKind::Delete => '-',
                    };
                    format!("{sign} {} @ {}", change.tuple, change.revision)
                }
                ReportFormat::Json => serde_json::to_string(&ChangeJson {
                    revision: change.revision,
                    operation: change.kind,
                    tuple: change.tuple.to_string(),
                    parts: &change.tuple,
                })
                .into_diagnostic()?,
            };
            // A closed pipe (`| head`) ends the watch quietly.
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(ExitCode::SUCCESS);
            }
            printed += 1;
        }
        if args.limit.is_some_and(|limit| printed >= limit) {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// `zanzi tuples watch --remote URL`: one line per change, `+ tuple  token`
/// (or its JSON), until --limit, Ctrl-C (exit 0), or the server ends the
/// stream (an error naming the token to resume from).
fn remote_watch(
    args: &WatchArgs,
    connection: &crate::client::Connection,
    filter: &TupleFilter,
) -> miette::Result<ExitCode> {
    let mut printed = 0u64;
    let mut out = std::io::stdout().lock();
    let mut failed: Option<miette::Report> = None;
    let url = connection.read.as_deref().unwrap_or_default();
    let token = connection.token.as_deref();
    let ca_cert = connection.ca_cert.as_deref();
    let stop = watch(
        url,
        token,
        ca_cert,
        args.since.as_deref(),
        filter,
        |batch| {
            for change in batch.changes {
                if args.limit.is_some_and(|limit| printed >= limit) {
                    return ControlFlow::Break(());
                }
                let line = match args.format {
                    ReportFormat::Human => {
                        let sign = match change.operation {
                            ChangeKind::Insert => '+',
                            ChangeKind::Delete => '-',
                        };
                        format!("{sign} {}  {}", change.tuple, change.revision)
                    }
                    ReportFormat::Json => match serde_json::to_string(&change) {
                        Ok(line) => line,
                        Err(e) => {
                            failed = Some(miette!("{e}"));
                            return ControlFlow::Break(());
                        }
                    },
                };
                // A closed pipe (`| head`) ends the watch quietly.
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return ControlFlow::Break(());
                }
                printed += 1;
            }
            if args.limit.is_some_and(|limit| printed >= limit) {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    )
    .map_err(remote_err)?;
    if let Some(error) = failed {
        return Err(error);
    }
    match stop {
        WatchStop::Done | WatchStop::Interrupted => Ok(ExitCode::SUCCESS),
    }
}

/// `--since`: a revision number, or a snapshot token of this store (its
/// signature is not checked: it only says where to start).
fn since_revision(store: &dyn Store, since: &str) -> miette::Result<Revision> {
    if let Ok(number) = since.parse::<u64>() {
        return Ok(Revision(number));
    }
    let id = store.store_id().map_err(|e| miette!("{e}"))?;
    TokenKeys::new(b"", &id)
        .peek_snapshot(since)
        .map_err(|e| miette!("--since: {}", e.message))
}
