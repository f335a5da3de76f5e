//! What the commands on a local database share: their flags and report
//! format (here), opening the database ([`db`]), finding the schema
//! ([`schema`]: `--schema`, or the one stored with the data), page tokens
//! ([`paging`]), and reports of tuples the user got wrong ([`problems`]).
//!
//! The schema travels with the data: a command that writes stores the schema
//! it validated against, so that later questions need no `--schema` and are
//! answered by the schema the data was written for. A `--schema` given to a
//! read is used for that command only.
//!
//! Exit codes follow the rest of the CLI: a tuple spelled wrong on the
//! command line is a usage error (2), like a bad option; tuples in files or
//! on standard input that do not parse, and tuples the schema rejects, are
//! wrong input (1). `zanzi check` keeps 1 for "denied", so every failure to
//! answer is 2 there.

mod db;
pub(super) mod paging;
mod problems;
mod schema;

use std::io::IsTerminal;
use std::path::PathBuf;

use miette::IntoDiagnostic;
use serde::Serialize;

use super::output;

pub use db::*;
pub use paging::*;
pub use problems::*;
pub use schema::*;

/// How the data commands print their results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document on standard output (see docs/cli.md).
    Json,
}

/// `--db`.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database holding the tuples and their schema: a SQLite file, or a
    /// PostgreSQL URL (`postgres://user@host:port/db`).
    #[arg(
        long,
        value_name = "PATH|URL",
        default_value = "zanzi.db",
        env = "ZANZI_DB"
    )]
    pub db: PathBuf,
}

/// `--schema`.
#[derive(Debug, Clone, clap::Args)]
pub struct SchemaArgs {
    /// The schema: `.zanzi` source (a file or a directory), compiled IR
    /// (`.json`), or a Keto (`.ts`), SpiceDB (`.zed`) or OpenFGA (`.fga`,
    /// `.json`) schema. Default: the schema stored in the database.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
}

/// `--at`.
#[derive(Debug, Clone, clap::Args)]
pub struct AtArgs {
    /// Answer at this revision instead of the latest.
    #[arg(long, value_name = "REVISION")]
    pub at: Option<u64>,
}

/// The JSON documents' format version (see docs/cli.md, "Stability").
pub const JSON_VERSION: u32 = 1;

/// Prints a JSON document on standard output.
pub fn print_json(value: &impl Serialize) -> miette::Result<()> {
    let json = serde_json::to_string_pretty(value).into_diagnostic()?;
    output::print(&format!("{json}\n")).into_diagnostic()
}

/// Prints text on standard output.
pub fn print(text: &str) -> miette::Result<()> {
    output::print(text).into_diagnostic()
}

/// Whether progress should be drawn (standard error is a terminal).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
