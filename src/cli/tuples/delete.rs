//! `zanzi tuples delete`.

use std::process::ExitCode;

use miette::miette;

use super::filter::FilterArgs;
use super::reader::gather;
use super::remote::{remote_write_outcome, Change};
use super::write::WriteReport;
use crate::cli::local::{self, DbArgs, Problems, ReportFormat, JSON_VERSION};
use crate::cli::output::plural;
use crate::cli::remote::RemoteArgs;
use crate::store::{PageRequest, Revision, Store, StoreError, TupleFilter};
use crate::tuple::Tuple;

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
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

pub(super) fn run_delete(args: &DeleteArgs) -> miette::Result<ExitCode> {
    if !args.tuples.is_empty() && !args.filter.is_empty() {
        return Err(miette!(
            help = "run one command per kind of delete",
            "give either tuples or filter options, not both"
        ));
    }
    if args.remote.is_remote()? {
        return remote_delete(args);
    }
    let db = &args.db.db;
    // Opening for a write would create it, to delete nothing.
    local::require_db(db)?;
    let (store, revision, deleted) = if args.tuples.is_empty() {
        let filter = args.filter.to_filter()?;
        let store = local::open_or_create(db)?;
        let revision = store
            .delete_matching(&filter)
            .map_err(local::store_err(db))?;
        (store, revision, Deleted::Matching(filter))
    } else {
        let mut problems = Problems::default();
        let tuples = gather(&args.tuples, None, &mut problems)?;
        if !problems.is_empty() {
            problems.report(args.format)?;
            return Ok(ExitCode::from(1));
        }
        let store = local::open_or_create(db)?;
        let revision = store.write(&[], &tuples).map_err(local::store_err(db))?;
        (store, revision, Deleted::Tuples(tuples))
    };
    let count = deleted
        .count(&*store, revision)
        .map_err(local::store_err(db))?;
    match args.format {
        ReportFormat::Json => local::print_json(&WriteReport {
            version: JSON_VERSION,
            ok: true,
            revision,
            tuples: count,
        })?,
        ReportFormat::Human => local::print(&format!(
            "deleted {count} tuple{} at revision {revision}\n",
            plural(count)
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `zanzi tuples delete --write-remote URL`: the tuples in one PATCH, or a
/// filter as one DELETE (which, as in Keto, needs `--namespace` or
/// `--object`).
pub(super) fn remote_delete(args: &DeleteArgs) -> miette::Result<ExitCode> {
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

/// What a delete named, to count what it removed.
enum Deleted {
    Matching(TupleFilter),
    Tuples(Vec<Tuple>),
}

impl Deleted {
    /// How many of the named tuples were live just before `revision` (the
    /// delete's own): after it none is.
    fn count(&self, store: &dyn Store, revision: Revision) -> Result<u64, StoreError> {
        let before = store.snapshot(Revision(revision.0.saturating_sub(1)))?;
        match self {
            Deleted::Tuples(tuples) => {
                let unique: std::collections::HashSet<&Tuple> = tuples.iter().collect();
                let mut count = 0;
                for tuple in unique {
                    count += u64::from(before.contains(tuple)?);
                }
                Ok(count)
            }
            Deleted::Matching(filter) => {
                let mut count = 0;
                let mut page = PageRequest::first(10_000);
                loop {
                    let found = before.list(filter, &page)?;
                    count += found.items.len() as u64;
                    match found.next_cursor {
                        Some(cursor) => page.cursor = Some(cursor),
                        None => return Ok(count),
                    }
                }
            }
        }
    }
}
