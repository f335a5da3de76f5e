//! `zanzi migrate`: the layout of the local database.
//!
//! Writes migrate a database by themselves; reads never change it, and ask
//! for `zanzi migrate up` when it is behind. `status` reports without
//! changing anything, including for a database that does not exist yet.
//! `down` reverts migrations (to go back to an older zanzi), and asks for
//! `--yes` before it deletes tuples or the stored schema.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

use super::local::{self, DbArgs, ReportFormat, JSON_VERSION};
use crate::store::{Location, MigrationStatus, Revision, StoreError};

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Create the database if needed and apply every pending migration.
    Up(MigrateArgs),
    /// Show which migrations are applied and pending, the latest revision,
    /// the number of tuples and the stored schema.
    Status(MigrateArgs),
    /// Revert the newest applied migration (or, with --to, every one above
    /// that version; --to 0 removes zanzi's tables).
    Down(DownArgs),
}

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub common: MigrateArgs,
    /// The version to go back to (default: one below the current).
    #[arg(long, value_name = "N")]
    pub to: Option<u32>,
    /// Go ahead even when reverting deletes tuples or the stored schema.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// How to print the status.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

/// The `--format json` document of both commands.
#[derive(Serialize)]
struct StatusReport<'a> {
    version: u32,
    database: String,
    exists: bool,
    /// The number of migrations applied (the database's layout version).
    current: u32,
    /// The number of migrations this zanzi knows.
    latest: u32,
    up_to_date: bool,
    applied: &'a [&'static str],
    pending: &'a [&'static str],
    /// `migrate up` only: the migrations this run applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    newly_applied: Option<&'a [&'static str]>,
    /// `migrate down` only: the migrations this run reverted, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    reverted: Option<&'a [&'static str]>,
    /// The latest revision; `null` unless the database is up to date.
    revision: Option<Revision>,
    /// Live tuples at `revision`.
    tuples: Option<u64>,
    /// The hash of the stored schema, if any.
    schema: Option<String>,
}

pub fn run(command: &MigrateCommand) -> miette::Result<ExitCode> {
    match command {
        MigrateCommand::Up(args) => up(args),
        MigrateCommand::Status(args) => status(args),
        MigrateCommand::Down(args) => down(args),
    }
}

/// Head revision, live tuples and stored schema of an up-to-date database.
type Contents = (Option<Revision>, Option<u64>, Option<String>);

fn contents(db: &Path, status: &MigrationStatus) -> miette::Result<Contents> {
    if status.current != status.latest {
        return Ok((None, None, None));
    }
    let store = Location::of_path(db)
        .open_existing()
        .map_err(local::store_err(db))?;
    let err = local::store_err(db);
    Ok((
        Some(store.head_revision().map_err(&err)?),
        Some(store.live_count().map_err(&err)?),
        store.schema_hash().map_err(&err)?,
    ))
}

fn up(args: &MigrateArgs) -> miette::Result<ExitCode> {
    let db = &args.db.db;
    let location = Location::of_path(db);
    let existed = location.exists();
    let before = location.migration_status().map_err(local::store_err(db))?;
    let after = location.migrate_up().map_err(local::store_err(db))?;
    let newly: Vec<&'static str> = after
        .applied
        .iter()
        .skip(before.applied.len())
        .copied()
        .collect();
    let (revision, tuples, schema) = contents(db, &after)?;
    match args.format {
        ReportFormat::Json => local::print_json(&StatusReport {
            version: JSON_VERSION,
            database: location.to_string(),
            exists: true,
            current: after.current,
            latest: after.latest,
            up_to_date: after.current == after.latest,
            applied: &after.applied,
            pending: &after.pending,
            newly_applied: Some(&newly),
            reverted: None,
            revision,
            tuples,
            schema,
        })?,
        ReportFormat::Human => {
            let name = location.to_string();
            let mut text = String::new();
            if !existed {
                text.push_str(&format!("created `{name}`\n"));
            }
            for migration in &newly {
                text.push_str(&format!("applied {migration}\n"));
            }
            if newly.is_empty() {
                text.push_str(&format!(
                    "`{name}` is up to date (version {})\n",
                    after.current
                ));
            } else {
                text.push_str(&format!("`{name}` is at version {}\n", after.current));
            }
            local::print(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status(args: &MigrateArgs) -> miette::Result<ExitCode> {
    let db = &args.db.db;
    let location = Location::of_path(db);
    let exists = location.exists();
    let status = location.migration_status().map_err(local::store_err(db))?;
    let (revision, tuples, schema) = if exists {
        contents(db, &status)?
    } else {
        (None, None, None)
    };
    let up_to_date = exists && status.current == status.latest;
    match args.format {
        ReportFormat::Json => local::print_json(&StatusReport {
            version: JSON_VERSION,
            database: location.to_string(),
            exists,
            current: status.current,
            latest: status.latest,
            up_to_date,
            applied: &status.applied,
            pending: &status.pending,
            newly_applied: None,
            reverted: None,
            revision,
            tuples,
            schema,
        })?,
        ReportFormat::Human => {
            let name = location.to_string();
            let mut text = if exists {
                format!(
                    "database `{name}`: version {} of {}\n",
                    status.current, status.latest
                )
            } else {
                format!("database `{name}` does not exist; `zanzi migrate up` creates it\n")
            };
            for migration in &status.applied {
                text.push_str(&format!("  applied  {migration}\n"));
            }
            for migration in &status.pending {
                text.push_str(&format!("  pending  {migration}\n"));
            }
            if let (Some(revision), Some(tuples)) = (revision, tuples) {
                text.push_str(&format!("revision {revision}, {tuples} live tuples\n"));
            }
            if exists && up_to_date {
                match schema {
                    Some(hash) => text.push_str(&format!("schema {hash}\n")),
                    None => text.push_str("no stored schema\n"),
                }
            }
            local::print(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn down(args: &DownArgs) -> miette::Result<ExitCode> {
    let db = &args.common.db.db;
    let location = Location::of_path(db);
    local::require_db(db)?;
    let before = location.migration_status().map_err(local::store_err(db))?;
    let to = args.to.unwrap_or(before.current.saturating_sub(1));
    let after = match location.migrate_down(to, args.yes) {
        Err(error @ StoreError::WouldLoseData { .. }) => {
            return Err(miette::miette!(
                help = "pass --yes to revert anyway (export the tuples first: \
                        `zanzi tuples export`)",
                "database `{location}`: {error}"
            ))
        }
        result => result.map_err(local::store_err(db))?,
    };
    let reverted: Vec<&'static str> = before
        .applied
        .iter()
        .skip(after.applied.len())
        .rev()
        .copied()
        .collect();
    let (revision, tuples, schema) = contents(db, &after)?;
    match args.common.format {
        ReportFormat::Json => local::print_json(&StatusReport {
            version: JSON_VERSION,
            database: location.to_string(),
            exists: true,
            current: after.current,
            latest: after.latest,
            up_to_date: after.current == after.latest,
            applied: &after.applied,
            pending: &after.pending,
            newly_applied: None,
            reverted: Some(&reverted),
            revision,
            tuples,
            schema,
        })?,
        ReportFormat::Human => {
            let name = location.to_string();
            let mut text = String::new();
            for migration in &reverted {
                text.push_str(&format!("reverted {migration}\n"));
            }
            if reverted.is_empty() {
                text.push_str(&format!(
                    "`{name}` is at version {}; nothing to revert\n",
                    after.current
                ));
            } else {
                text.push_str(&format!("`{name}` is at version {}\n", after.current));
            }
            local::print(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
