//! `zanzi tuples write`.

use std::process::ExitCode;

use serde::Serialize;

use super::reader::gather;
use super::remote::{remote_write_outcome, Change};
use crate::cli::local::{
    self, DbArgs, Problems, ReportFormat, SchemaArgs, WriteTarget, JSON_VERSION,
};
use crate::cli::output::plural;
use crate::cli::remote::RemoteArgs;
use crate::cli::ColorMode;
use crate::store::Revision;
use miette::miette;

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
    pub format: ReportFormat,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// The `--format json` document of a write or a delete.
#[derive(Serialize)]
pub(super) struct WriteReport {
    pub(super) version: u32,
    pub(super) ok: bool,
    pub(super) revision: Revision,
    /// Writes: the tuples given. Deletes: the tuples that were live and
    /// are now deleted.
    pub(super) tuples: u64,
}

pub(super) fn run_write(args: &WriteArgs, color: ColorMode) -> miette::Result<ExitCode> {
    if args.remote.is_remote()? {
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
        ReportFormat::Json => local::print_json(&WriteReport {
            version: JSON_VERSION,
            ok: true,
            revision,
            tuples: count,
        })?,
        ReportFormat::Human => local::print(&format!(
            "wrote {count} tuple{} at revision {revision}\n",
            plural(count)
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `zanzi tuples write --write-remote URL`: one PATCH, validated by the
/// server against its schema.
pub(super) fn remote_write(args: &WriteArgs) -> miette::Result<ExitCode> {
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
