//! `zanzi tuples watch`: prints the database's changes as they are
//! committed, by any process, from the store's change feed
//! ([`crate::store::feed`]).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use miette::{miette, IntoDiagnostic};
use serde::Serialize;

use crate::cli::local::{self, DbArgs, ReportFormat};
use crate::server::zookie::TokenKeys;
use crate::store::{ChangeKind, Follower, Revision, Store};

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Print the changes after this point: a snapshot token (`zk1_…`) of
    /// this database, or a revision number. Default: from now on.
    #[arg(long, value_name = "TOKEN|REVISION")]
    pub since: Option<String>,
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
        for change in &batch.changes {
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
