//! Opening the local database (`--db`) and reading at a revision.

use std::path::Path;

use miette::miette;

use super::paging::LocalPageToken;
use crate::store::{Location, Revision, Store, StoreError};

/// The database as messages show it (a URL without its password).
pub fn display(path: &Path) -> String {
    Location::of_path(path).to_string()
}

pub fn store_error(db: &Path, error: StoreError) -> miette::Report {
    // A PostgreSQL URL fails in more ways than a file (malformed, refused,
    // credentials, a missing or foreign database): one line that names the
    // setting and the cause, the password masked.
    if let Location::Postgres(_) = Location::of_path(db) {
        return miette!("--db `{}`: {error}", display(db));
    }
    let help = match &error {
        StoreError::NeedsMigration { .. } => Some(format!(
            "run `zanzi migrate up --db {}` to bring it up to date",
            display(db)
        )),
        StoreError::NotZanzi { .. } => {
            Some("name another database with --db (or ZANZI_DB); zanzi keeps its own".to_owned())
        }
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
pub fn open_existing(db: &Path) -> miette::Result<Box<dyn Store>> {
    require_db(db)?;
    Location::of_path(db).open_existing().map_err(store_err(db))
}

/// Fails with a clear message when the database does not exist.
pub fn require_db(db: &Path) -> miette::Result<()> {
    if !Location::of_path(db).exists() {
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
pub fn open_or_create(db: &Path) -> miette::Result<Box<dyn Store>> {
    Location::of_path(db).open().map_err(store_err(db))
}

/// The revision to read at: the one pinned by a paging token, else `--at`,
/// else the latest.
pub fn read_revision(
    store: &dyn Store,
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
