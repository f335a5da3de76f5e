//! The schema a command works with: `--schema`, or the one stored with the data.

use std::path::Path;

use miette::{miette, IntoDiagnostic};

use super::db::{display, open_or_create, store_err};
use crate::cli::{output, ColorMode};
use crate::ir;
use crate::load::{self, Limits};
use crate::store::{Location, Store};

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
            output::report_to_stderr(&sources, &diags, color)?;
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
    store: &dyn Store,
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
pub struct WriteTarget<'a> {
    db: &'a Path,
    store: Option<Box<dyn Store>>,
    pub resolved: ResolvedSchema,
}

impl std::fmt::Debug for WriteTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTarget")
            .field("db", &self.db)
            .field("open", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> WriteTarget<'a> {
    pub fn open(db: &'a Path, given: Option<&Path>, color: ColorMode) -> miette::Result<Self> {
        if Location::of_path(db).exists() {
            let store = open_or_create(db)?;
            let resolved = resolve_schema(&*store, db, given, true, color)?;
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
    pub fn commit(self) -> miette::Result<(Box<dyn Store>, ir::Schema)> {
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
