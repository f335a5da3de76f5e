//! Bulk import into the SQLite store.

use rusqlite::Connection;

use super::sql::{INSERT, LIVE_REVERSE};
use super::{write_tuple, SqliteStore};
use crate::store::{check_inserts, ImportReport, StoreError};
use crate::tuple::Tuple;

impl SqliteStore {
    /// Bulk insert: writes `tuples` in transactions of `batch_size` (one
    /// revision each), skipping tuples that are already live. Every tuple is
    /// checked to be well formed before anything is written; validate against
    /// the schema first.
    ///
    /// Into an empty store, a large import builds the reverse index once at
    /// the end (sorting beats a million random b-tree inserts) instead of
    /// maintaining it row by row. Until then, reverse reads from other
    /// connections still answer, by scanning; should the import fail, the
    /// index is built all the same, and [`SqliteStore::open`] builds it if it
    /// is missing.
    /// [`crate::store::TupleStore::import`] for SQLite.
    pub(super) fn bulk_import(
        &self,
        tuples: &[Tuple],
        batch_size: usize,
    ) -> Result<ImportReport, StoreError> {
        check_inserts(tuples)?;
        let mut inner = self.lock()?;
        inner.end_read_transaction()?;
        let deferred = tuples.len() >= DEFERRED_INDEX_MIN && is_empty(&inner.conn)?;
        if deferred {
            inner
                .conn
                .execute_batch("DROP INDEX IF EXISTS live_reverse")?;
        }
        let mut report = ImportReport::default();
        let mut load = || -> Result<(), StoreError> {
            for batch in tuples.chunks(batch_size.max(1)) {
                let (rev, inserted) = inner.transaction(|tx, rev, interner| {
                    let mut insert = tx.prepare_cached(INSERT)?;
                    let mut inserted = 0u64;
                    for tuple in batch {
                        inserted += u64::from(write_tuple(tx, &mut insert, interner, tuple, rev)?);
                    }
                    Ok(inserted)
                })?;
                report.inserted += inserted;
                report.unchanged += batch.len() as u64 - inserted;
                report.revisions.push(rev);
            }
            Ok(())
        };
        let loaded = load();
        if deferred {
            inner.conn.execute_batch(LIVE_REVERSE)?;
        }
        loaded?;
        Ok(report)
    }
}

/// Imports of at least this many tuples into an empty store build the
/// reverse index after loading.
const DEFERRED_INDEX_MIN: usize = 10_000;

/// Whether the store has no tuple at all, live or deleted.
fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM live) AND NOT EXISTS (SELECT 1 FROM history)",
        [],
        |row| row.get(0),
    )?)
}
