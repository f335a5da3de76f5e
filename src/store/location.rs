//! Which store a `--db` value names (the flag, the `db` setting and
//! `ZANZI_DB` mean the same everywhere): `:memory:` is an in-memory store,
//! anything else a SQLite file. Every command and the server open stores
//! through here, so a new backend is one more arm.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{MemoryStore, SqliteStore, Store, StoreError};

/// Where the tuples live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// In this process only (`:memory:`), gone when it ends.
    Memory,
    /// A SQLite database file.
    Sqlite(PathBuf),
}

impl Location {
    /// Reads a `--db` value.
    pub fn parse(value: &str) -> Location {
        if value == ":memory:" {
            Location::Memory
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
        }
    }

    /// Opens the store, creating and migrating it if needed.
    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Location::Memory => Box::new(MemoryStore::new()),
            Location::Sqlite(path) => Box::new(SqliteStore::open(path)?),
        })
    }

    /// Opens an existing store without changing its layout: a database that
    /// needs migrating is refused ([`StoreError::NeedsMigration`]).
    pub fn open_existing(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Location::Memory => Box::new(MemoryStore::new()),
            Location::Sqlite(path) => Box::new(SqliteStore::open_existing(path)?),
        })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Memory => f.write_str(":memory:"),
            Location::Sqlite(path) => f.write_str(&path.to_string_lossy().replace('\\', "/")),
        }
    }
}
