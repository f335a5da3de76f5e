//! Bulk import into the PostgreSQL store: each batch is loaded with one
//! binary `COPY` into a session-local staging table, then written by one
//! `INSERT … SELECT … ON CONFLICT DO NOTHING` under the revision lock.
//!
//! One transaction per batch, one revision each, as
//! [`TupleStore::import`] promises: a batch is whole or absent after a
//! crash, and importing the same tuples again skips those already live, so
//! an interrupted import is completed by running it again. The `COPY` runs
//! before the head row is locked, so concurrent writers wait only for the
//! insert.

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::{columns, PostgresStore};
use crate::store::{check_all, ImportReport, StoreError};
use crate::tuple::Tuple;

/// The staging table: temporary (this session only, never logged) and
/// emptied by every commit or rollback.
const STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS zanzi_import (
        n text, o text, r text, sn text, si text, sr text, i bigint
    ) ON COMMIT DELETE ROWS";

const COPY: &str = "COPY zanzi_import (n, o, r, sn, si, sr, i) FROM STDIN BINARY";

const COPY_TYPES: [Type; 7] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
];

/// The staged tuples, in their order, at revision `$1`; a tuple already
/// live (or twice in the batch) is skipped.
const INSERT_STAGED: &str = "INSERT INTO zanzi_tuples
        (namespace, object_id, relation, subject_ns, subject_id, subject_rel, created_rev)
    SELECT n, o, r, sn, si, sr, $1 FROM zanzi_import ORDER BY i
    ON CONFLICT (namespace, object_id, relation, subject_ns, subject_id, subject_rel)
        WHERE deleted_rev IS NULL DO NOTHING";

impl PostgresStore {
    /// [`crate::store::TupleStore::import`] for PostgreSQL.
    pub(super) fn copy_import(
        &self,
        tuples: &[Tuple],
        batch_size: usize,
    ) -> Result<ImportReport, StoreError> {
        check_all(tuples)?;
        let mut report = ImportReport::default();
        if tuples.is_empty() {
            return Ok(report);
        }
        let mut conn = self.conn()?;
        conn.batch_execute(STAGING)?;
        for batch in tuples.chunks(batch_size.max(1)) {
            let mut tx = conn.transaction()?;
            let mut writer = BinaryCopyInWriter::new(tx.copy_in(COPY)?, &COPY_TYPES);
            for (i, tuple) in (0i64..).zip(batch) {
                let [n, o, r, sn, si, sr] = columns(tuple);
                writer.write(&[&n, &o, &r, &sn, &si, &sr, &i])?;
            }
            writer.finish()?;
            // From here to the commit this transaction holds the head row:
            // revisions commit in order (see `mod.rs`).
            let rev = super::next_revision(&mut tx)?;
            let inserted = tx.execute(INSERT_STAGED, &[&rev])?;
            super::chain::record(&mut tx, &self.id, rev)?;
            tx.commit()?;
            report.inserted += inserted;
            report.unchanged += batch.len() as u64 - inserted;
            report.revisions.push(super::to_revision(rev));
        }
        Ok(report)
    }
}
