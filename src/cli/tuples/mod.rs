//! `zanzi tuples`: write, delete, list, export and import relation tuples
//! in the local database.
//!
//! Every write is one transaction, validated against the schema before
//! anything is stored, and reports the revision it committed; `import` is
//! the exception that proves the rule: one transaction per batch (see
//! [`import`]).

mod delete;
mod export;
mod filter;
pub mod import;
mod list;
mod reader;
mod remote;
mod watch;
mod write;
mod writer;

use std::process::ExitCode;

use clap::Subcommand;

use super::ColorMode;
use delete::*;
use export::*;
use import::ImportArgs;
use list::*;
use watch::*;
use write::*;

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
    /// Print changes to the tuples as they are committed, by any process.
    ///
    /// Each change is a line `+ tuple @ revision` (written) or `- tuple @
    /// revision` (deleted), in commit order. Starts after --since (a
    /// snapshot token or a revision; the changes since then are printed
    /// first) or from now on; runs until interrupted or --limit changes.
    /// The feed reaches back to the garbage-collection horizon: an older
    /// --since is refused. With --remote URL, follows a running server's
    /// change stream instead: lines `+ tuple  token`, where each token is
    /// the change's snapshot token (resume with --since TOKEN); Ctrl-C
    /// ends it (exit 0).
    Watch(WatchArgs),
}

pub fn run(command: &TuplesCommand, color: ColorMode) -> miette::Result<ExitCode> {
    match command {
        TuplesCommand::Write(args) => run_write(args, color),
        TuplesCommand::Delete(args) => run_delete(args),
        TuplesCommand::List(args) => run_list(args),
        TuplesCommand::Export(args) => run_export(args),
        TuplesCommand::Import(args) => import::run(args, color),
        TuplesCommand::Watch(args) => run_watch(args),
    }
}
