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

use super::{attribute_columns, columns, PostgresStore};
use crate::store::{check_inserts, ImportReport, StoreError};
use crate::tuple::Tuple;

/// The staging table: temporary (this session only, never logged) and
/// emptied by every commit or rollback.
const STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS zanzi_import (
        n text, o text, r text, sn text, si text, sr text, c text, x text, e bigint, i bigint
    ) ON COMMIT DELETE ROWS";

const COPY: &str = "COPY zanzi_import (n, o, r, sn, si, sr, c, x, e, i) FROM STDIN BINARY";

const COPY_TYPES: [Type; 10] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
];

/// Before [`INSERT_STAGED`]: the live tuples that staged ones replace
/// (their key with another condition or expiry) are deleted at `$1`.
const REPLACE_STAGED: &str = "UPDATE zanzi_tuples t SET deleted_rev = $1
    FROM zanzi_import d
    WHERE t.deleted_rev IS NULL
      AND t.namespace = d.n AND t.object_id = d.o AND t.relation = d.r
      AND t.subject_ns = d.sn AND t.subject_id = d.si AND t.subject_rel = d.sr
      AND (t.condition IS DISTINCT FROM d.c OR t.context IS DISTINCT FROM d.x
           OR t.expires_at IS DISTINCT FROM d.e)";

/// The staged tuples, in their order, at revision `$1`; a tuple already
/// live (or twice in the batch) is skipped.
const INSERT_STAGED: &str = "INSERT INTO zanzi_tuples
        (namespace, object_id, relation, subject_ns, subject_id, subject_rel,
         condition, context, expires_at, created_rev)
    SELECT n, o, r, sn, si, sr, c, x, e, $1 FROM zanzi_import ORDER BY i
    ON CONFLICT (namespace, object_id, relation, subject_ns, subject_id, subject_rel)
        WHERE deleted_rev IS NULL DO NOTHING";

impl PostgresStore {
    /// [`crate::store::TupleStore::import`] for PostgreSQL.
    pub(super) fn copy_import(
        &self,
        tuples: &[Tuple],
        batch_size: usize,
    ) -> Result<ImportReport, StoreError> {
        check_inserts(tuples)?;
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
                let (c, x, e) = attribute_columns(tuple);
                writer.write(&[&n, &o, &r, &sn, &si, &sr, &c, &x, &e, &i])?;
            }
            writer.finish()?;
            // From here to the commit this transaction holds the head row:
            // revisions commit in order (see `mod.rs`).
            let rev = super::next_revision(&mut tx)?;
            tx.execute(REPLACE_STAGED, &[&rev])?;
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
