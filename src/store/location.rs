//! Which store a `--db` value names (the flag, the `db` setting and
//! `ZANZI_DB` mean the same everywhere): `:memory:` is an in-memory store,
//! a `postgres://` (or `postgresql://`) URL a PostgreSQL database, anything
//! else a SQLite file. Every command and the server open stores through
//! here, so a new backend is one more arm.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{
    postgres, sqlite, MemoryStore, MigrationStatus, PostgresStore, SqliteStore, Store, StoreError,
};

/// Where the tuples live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// In this process only (`:memory:`), gone when it ends.
    Memory,
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its URL as libpq takes it.
    Postgres(String),
}

impl Location {
    /// Reads a `--db` value.
    pub fn parse(value: &str) -> Location {
        if value == ":memory:" {
            Location::Memory
        } else if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Location::Postgres(value.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(value))
        }
    }

    /// A `--db` value given as a path.
    pub fn of_path(value: &Path) -> Location {
        match value.to_str() {
            Some(text) => Location::parse(text),
            None => Location::Sqlite(value.to_path_buf()),
        }
    }

    /// Whether there is a database here to read (a store in memory always
    /// starts empty, so it is never there).
    pub fn exists(&self) -> bool {
        match self {
            Location::Memory => false,
            Location::Sqlite(path) => path.exists(),
            // zanzi creates tables, not databases: the server says whether
            // the database is there when it is connected to.
            Location::Postgres(_) => true,
        }
    }

    /// Opens the store, creating and migrating it if needed.
    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Location::Memory => Box::new(MemoryStore::new()),
            Location::Sqlite(path) => Box::new(SqliteStore::open(path)?),
            Location::Postgres(url) => Box::new(PostgresStore::connect(url)?),
        })
    }

    /// Opens an existing store without changing its layout: a database that
    /// needs migrating is refused ([`StoreError::NeedsMigration`]).
    pub fn open_existing(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Location::Memory => Box::new(MemoryStore::new()),
            Location::Sqlite(path) => Box::new(SqliteStore::open_existing(path)?),
            Location::Postgres(url) => {
                let status = postgres::migration_status(url)?;
                if !status.pending.is_empty() {
                    return Err(StoreError::NeedsMigration {
                        found: status.current,
                        expected: status.latest,
                    });
                }
                Box::new(PostgresStore::connect(url)?)
            }
        })
    }
}

impl Location {
    /// The layout version of the database here; a database not created
    /// yet is at version 0 of its backend.
    pub fn migration_status(&self) -> Result<MigrationStatus, StoreError> {
        match self {
            Location::Sqlite(path) if path.exists() => sqlite::migration_status(path),
            Location::Memory | Location::Sqlite(_) => Ok(sqlite::status_of(0)),
            Location::Postgres(url) => postgres::migration_status(url),
        }
    }

    /// Creates the database if needed (SQLite) and applies every pending
    /// migration.
    pub fn migrate_up(&self) -> Result<MigrationStatus, StoreError> {
        match self {
            Location::Memory => sqlite::migrate_up(Path::new(":memory:")),
            Location::Sqlite(path) => sqlite::migrate_up(path),
            Location::Postgres(url) => postgres::migrate_up(url),
        }
    }
}

impl Location {
    /// Reverts the migrations above version `to`, newest first; refuses
    /// ([`StoreError::WouldLoseData`]) to delete tuples or the stored
    /// schema unless `allow_loss`. A database that does not exist (or is
    /// in memory) has nothing to revert.
    pub fn migrate_down(&self, to: u32, allow_loss: bool) -> Result<MigrationStatus, StoreError> {
        match self {
            Location::Sqlite(path) if path.exists() => sqlite::migrate_down(path, to, allow_loss),
            Location::Memory | Location::Sqlite(_) => Ok(sqlite::status_of(0)),
            Location::Postgres(url) => postgres::migrate_down(url, to, allow_loss),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Memory => f.write_str(":memory:"),
            Location::Sqlite(path) => f.write_str(&path.to_string_lossy().replace('\\', "/")),
            Location::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// A URL as it may be shown: the password, if any, replaced by `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_db_value_names_its_store() {
        assert_eq!(Location::parse(":memory:"), Location::Memory);
        assert_eq!(
            Location::parse("data/zanzi.db"),
            Location::Sqlite(PathBuf::from("data/zanzi.db"))
        );
        for url in [
            "postgres://u@h/db",
            "postgresql://u@h:5433/db?sslmode=disable",
        ] {
            assert_eq!(Location::parse(url), Location::Postgres(url.to_owned()));
        }
    }

    #[test]
    fn passwords_are_not_shown() {
        let shown =
            Location::parse("postgres://zanzi:s3cret@db.example:5432/authz?x=1").to_string();
        assert_eq!(shown, "postgres://zanzi:***@db.example:5432/authz?x=1");
        assert_eq!(
            without_password("postgres://zanzi@db/authz"),
            "postgres://zanzi@db/authz"
        );
        assert_eq!(without_password("postgres://db/a@b"), "postgres://db/a@b");
    }
}
