//! What the commands on a local database share: opening the database
//! (`--db`), finding the schema (`--schema`, or the one stored with the
//! data), paging tokens, JSON output, and reports of tuples the user got
//! wrong.
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

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use miette::{miette, IntoDiagnostic};
use serde::Serialize;

use super::{output, ColorMode};
use crate::diagnostics::ToDiagnostic;
use crate::diagnostics::{self, OutputFormat};
use crate::ir;
use crate::load::{self, Limits};
use crate::source::{SourceMap, Span};
use crate::store::{Revision, SchemaStore, SqliteStore, StoreError, TupleStore};
use crate::tuple::{Notation, NotationSite, TupleError};

/// How the data commands print their results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// One JSON document on standard output (see docs/cli.md).
    Json,
}

/// `--db`.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The SQLite database holding the tuples and their schema.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "zanzi.db",
        env = "ZANZI_DB"
    )]
    pub db: PathBuf,
}

/// `--schema`.
#[derive(Debug, Clone, clap::Args)]
pub struct SchemaArgs {
    /// The schema: `.zanzi` source (a file or a directory) or compiled IR
    /// (`.json`). Default: the schema stored in the database.
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

// ---------------------------------------------------------------------------
// The database.

fn display(path: &Path) -> String {
    load::display_name(path)
}

fn store_error(db: &Path, error: StoreError) -> miette::Report {
    let help = match &error {
        StoreError::NeedsMigration { .. } => Some(format!(
            "run `zanzi migrate up --db {}` to bring it up to date",
            display(db)
        )),
        _ => None,
    };
    let message = format!("database `{}`: {error}", display(db));
    match help {
        Some(help) => miette!(help = help, "{message}"),
        None => miette!("{message}"),
    }
}

/// Wraps a store error with the database it came from.
pub fn store_err(db: &Path) -> impl Fn(StoreError) -> miette::Report + '_ {
    move |error| store_error(db, error)
}

/// Opens an existing database for reading. A missing database is an error
/// (never silently an empty one).
pub fn open_existing(db: &Path) -> miette::Result<SqliteStore> {
    require_db(db)?;
    SqliteStore::open_existing(db).map_err(store_err(db))
}

/// Fails with a clear message when the database does not exist.
pub fn require_db(db: &Path) -> miette::Result<()> {
    if !db.exists() {
        return Err(miette!(
            help = "write tuples first (`zanzi tuples write` or `zanzi tuples import`, with \
                    --schema), or name another database with --db",
            "database `{}` does not exist",
            display(db)
        ));
    }
    Ok(())
}

/// Opens the database for writing, creating and migrating it if needed.
pub fn open_or_create(db: &Path) -> miette::Result<SqliteStore> {
    SqliteStore::open(db).map_err(store_err(db))
}

/// The revision to read at: the one pinned by a paging token, else `--at`,
/// else the latest.
pub fn read_revision(
    store: &SqliteStore,
    db: &Path,
    at: Option<u64>,
    token: Option<&LocalPageToken>,
) -> miette::Result<Revision> {
    match (token, at) {
        (Some(token), Some(at)) if token.revision != Revision(at) => Err(miette!(
            "the page token is for revision {}, but --at asks for revision {at}",
            token.revision
        )),
        (Some(token), _) => Ok(token.revision),
        (None, Some(at)) => Ok(Revision(at)),
        (None, None) => store.head_revision().map_err(store_err(db)),
    }
}

// ---------------------------------------------------------------------------
// The schema.

/// `sha256:0123456789ab`: enough of a hash to tell schemas apart in a message.
pub fn short_hash(hash: &str) -> String {
    hash.chars().take("sha256:".len() + 12).collect()
}

/// Reads a schema: compiled IR when the file ends in `.json`, otherwise
/// `.zanzi` source (a file or a directory) compiled here, with its
/// diagnostics rendered on standard error when it has errors.
pub fn load_schema_file(path: &Path, color: ColorMode) -> miette::Result<ir::Schema> {
    let (sources, compilation) = load::load_schema(path, &Limits::default()).into_diagnostic()?;
    let mut diags = compilation.diagnostics;
    match compilation.schema {
        Some(schema) if !diags.iter().any(|d| d.is_error()) => Ok(schema),
        _ => {
            diags.retain(|d| d.is_error());
            output::print_diagnostics(
                &sources,
                &diags,
                OutputFormat::Human,
                color,
                output::Stream::Stderr,
            )
            .into_diagnostic()?;
            Err(miette!(
                help = "`zanzi validate` reports every problem of a schema",
                "the schema `{}` has {} error{}; nothing was done",
                display(path),
                diags.len(),
                if diags.len() == 1 { "" } else { "s" }
            ))
        }
    }
}

/// The schema a command works with, and whether a write must store it.
#[derive(Debug)]
pub struct ResolvedSchema {
    pub schema: ir::Schema,
    /// `--schema` was given and differs from the stored one (or none is
    /// stored): a write stores it once its tuples are validated.
    pub store_on_write: bool,
}

/// Finds the schema: `--schema` if given (saying so on standard error when
/// it differs from the stored one), else the one stored in the database.
pub fn resolve_schema(
    store: &SqliteStore,
    db: &Path,
    given: Option<&Path>,
    writing: bool,
    color: ColorMode,
) -> miette::Result<ResolvedSchema> {
    let stored_hash = store.schema_hash().map_err(store_err(db))?;
    let Some(path) = given else {
        let Some(schema) = store.load_schema().map_err(store_err(db))? else {
            return Err(miette!(
                help =
                    "pass --schema FILE (`.zanzi` source or compiled `.json` IR); `zanzi tuples \
                        write` and `zanzi tuples import` store it in the database for later \
                        commands",
                "no schema: the database `{}` has none stored and --schema was not given",
                display(db)
            ));
        };
        return Ok(ResolvedSchema {
            schema,
            store_on_write: false,
        });
    };
    let schema = load_schema_file(path, color)?;
    match stored_hash {
        Some(stored) if stored == schema.hash => Ok(ResolvedSchema {
            schema,
            store_on_write: false,
        }),
        Some(stored) => {
            let effect = if writing {
                "it replaces the stored one once the tuples are validated"
            } else {
                "it is used for this command only; the stored one is unchanged"
            };
            eprintln!(
                "note: the schema `{}` ({}) differs from the one stored in `{}` ({}); {effect}",
                display(path),
                short_hash(&schema.hash),
                display(db),
                short_hash(&stored),
            );
            Ok(ResolvedSchema {
                schema,
                store_on_write: true,
            })
        }
        None => Ok(ResolvedSchema {
            schema,
            store_on_write: true,
        }),
    }
}

/// Where a write goes: the database and the schema its tuples are validated
/// against. A database that does not exist yet is created only by
/// [`WriteTarget::commit`], once the tuples are validated, so a refused
/// write leaves nothing behind.
#[derive(Debug)]
pub struct WriteTarget<'a> {
    db: &'a Path,
    store: Option<SqliteStore>,
    pub resolved: ResolvedSchema,
}

impl<'a> WriteTarget<'a> {
    pub fn open(db: &'a Path, given: Option<&Path>, color: ColorMode) -> miette::Result<Self> {
        if db.exists() {
            let store = open_or_create(db)?;
            let resolved = resolve_schema(&store, db, given, true, color)?;
            return Ok(WriteTarget {
                db,
                store: Some(store),
                resolved,
            });
        }
        let Some(path) = given else {
            return Err(miette!(
                help = "pass --schema FILE (`.zanzi` source or compiled `.json` IR); it is \
                        stored in the new database for later commands",
                "no schema: the database `{}` does not exist yet and --schema was not given",
                display(db)
            ));
        };
        Ok(WriteTarget {
            db,
            store: None,
            resolved: ResolvedSchema {
                schema: load_schema_file(path, color)?,
                store_on_write: true,
            },
        })
    }

    pub fn schema(&self) -> &ir::Schema {
        &self.resolved.schema
    }

    /// Creates the database if needed and stores the schema if it is new
    /// to it: call once the tuples are validated, before writing them, so
    /// that stored tuples are always written against the stored schema.
    pub fn commit(self) -> miette::Result<(SqliteStore, ir::Schema)> {
        let store = match self.store {
            Some(store) => store,
            None => open_or_create(self.db)?,
        };
        if self.resolved.store_on_write {
            store
                .save_schema(&self.resolved.schema)
                .map_err(store_err(self.db))?;
        }
        Ok((store, self.resolved.schema))
    }
}

// ---------------------------------------------------------------------------
// Paging tokens.

/// A page token: the revision of the first page (so that every page reads
/// the same snapshot) and the position after the last item returned. Shown
/// to users as `REVISION.HEX`, opaque and safe to pass in a shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPageToken {
    pub revision: Revision,
    pub position: String,
}

impl LocalPageToken {
    pub fn encode(&self) -> String {
        let hex: String = self.position.bytes().map(|b| format!("{b:02x}")).collect();
        format!("{}.{hex}", self.revision)
    }

    pub fn decode(token: &str) -> miette::Result<LocalPageToken> {
        let invalid = || {
            miette!(
                help = "pass the token exactly as the previous page printed it",
                "invalid page token `{token}`"
            )
        };
        let (revision, hex) = token.split_once('.').ok_or_else(invalid)?;
        let revision = revision.parse().map_err(|_| invalid())?;
        if hex.len() % 2 != 0 {
            return Err(invalid());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(invalid)?;
        let position = String::from_utf8(bytes).map_err(|_| invalid())?;
        Ok(LocalPageToken {
            revision: Revision(revision),
            position,
        })
    }
}

// ---------------------------------------------------------------------------
// Tuples the user got wrong.

/// Mistakes in what was typed on the command line, as diagnostics with
/// the argument as their source: [`run`](super::run) renders them like a
/// schema's, in the colour mode of the command.
#[derive(Debug, thiserror::Error)]
#[error("invalid command-line argument")]
pub struct InputError {
    pub sources: SourceMap,
    pub diagnostics: Vec<diagnostics::Diagnostic>,
}

impl miette::Diagnostic for InputError {}

/// A usage error for text on the command line that is not in the tuple
/// notation, pointing at the mistake.
pub fn notation_error(what: Notation, text: &str, error: &TupleError) -> miette::Report {
    let mut sources = SourceMap::new();
    let file = sources.add("<argument>", text);
    let span = Span::new(file, 0, u32::try_from(text.len()).unwrap_or(u32::MAX));
    let site = NotationSite {
        what,
        text,
        span,
        offsets_from: Some(0),
    };
    let mut diagnostic = error.to_diagnostic(site);
    // The argument is all the source there is: outlining it adds nothing.
    diagnostic.secondary.clear();
    miette::Report::new(InputError {
        diagnostics: vec![diagnostic],
        sources,
    })
}

/// One bad tuple: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file (`<stdin>` for standard input), for tuples read from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The 1-based position among the command's arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<usize>,
    /// The 1-based character column.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line, self.argument) {
            (Some(file), Some(line), _) => {
                write!(f, "{file}:{line}:{}: {}", self.column, self.message)
            }
            (_, _, Some(argument)) => write!(
                f,
                "argument {argument}, column {}: {}",
                self.column, self.message
            ),
            _ => write!(f, "column {}: {}", self.column, self.message),
        }
    }
}

/// Where a tuple came from, for its [`Problem`]s.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    File { name: &'a str, line: usize },
    Argument(usize),
}

impl Origin<'_> {
    pub fn problem(self, column: usize, message: String) -> Problem {
        match self {
            Origin::File { name, line } => Problem {
                file: Some(name.to_owned()),
                line: Some(line),
                argument: None,
                column,
                message,
            },
            Origin::Argument(argument) => Problem {
                file: None,
                line: None,
                argument: Some(argument),
                column,
                message,
            },
        }
    }
}

/// At most this many problems are printed; the rest are counted.
pub const MAX_SHOWN: usize = 20;

/// The problems found in a batch of tuples: the first [`MAX_SHOWN`] and a
/// count of all.
#[derive(Debug, Default)]
pub struct Problems {
    pub shown: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.shown.len() < MAX_SHOWN {
            self.shown.push(problem);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Reports the problems (on standard error, or as one JSON document on
    /// standard output) and says that nothing was written.
    pub fn report(&self, format: Format) -> miette::Result<()> {
        match format {
            Format::Json => print_json(&ProblemReport {
                version: JSON_VERSION,
                ok: false,
                written: false,
                error_count: self.total,
                errors: &self.shown,
            }),
            Format::Human => {
                let mut text = String::new();
                for problem in &self.shown {
                    text.push_str(&format!("{problem}\n"));
                }
                if self.total > self.shown.len() {
                    text.push_str(&format!("and {} more\n", self.total - self.shown.len()));
                }
                text.push_str(&format!(
                    "error: {} bad tuple{}; nothing was written\n",
                    self.total,
                    if self.total == 1 { "" } else { "s" }
                ));
                eprint!("{text}");
                Ok(())
            }
        }
    }
}

/// The JSON document of a write that was refused.
#[derive(Serialize)]
struct ProblemReport<'a> {
    version: u32,
    ok: bool,
    written: bool,
    error_count: usize,
    errors: &'a [Problem],
}
