//! The history chain of the PostgreSQL store ([`crate::store::history`]):
//! each revision's chain is computed inside its write transaction, under
//! the head row's lock that allocated the revision, so writers on several
//! servers chain in commit order; it is kept in `zanzi_revisions.chain`.
//! A database written before chains existed has none; its head at the
//! upgrade counts as seeded ([`history::seed`]), and the first write after
//! it stores that seed in the head's row.

use postgres::types::Type;
use postgres::GenericClient;

use super::{rev_param, to_revision, PostgresStore};
use crate::store::history::{self, Chain};
use crate::store::{ChangeKind, Revision, StoreError};

/// The versions revision `$1` created and deleted, as the feed reads them.
const CHANGES_AT: &str = "SELECT created_rev, true, namespace, object_id, relation,
        subject_ns, subject_id, subject_rel, condition, context, expires_at
    FROM zanzi_tuples WHERE created_rev = $1
    UNION ALL
    SELECT deleted_rev, false, namespace, object_id, relation,
        subject_ns, subject_id, subject_rel, condition, context, expires_at
    FROM zanzi_tuples WHERE deleted_rev = $1";

/// Computes and stores the chain of `rev`, in its write transaction after
/// its writes.
pub(super) fn record(
    tx: &mut impl GenericClient,
    store_id: &str,
    rev: i64,
) -> Result<(), StoreError> {
    let previous_rev = rev - 1;
    let previous = if previous_rev <= 0 {
        history::genesis()
    } else {
        let stored: Option<Vec<u8>> = tx
            .query_typed_one(
                "SELECT chain FROM zanzi_revisions WHERE rev = $1",
                &[(&previous_rev, Type::INT8)],
            )?
            .try_get(0)?;
        match stored.and_then(|bytes| Chain::try_from(bytes.as_slice()).ok()) {
            Some(chain) => chain,
            // The head when the database was upgraded: seeded now.
            None => {
                let seed = history::seed(store_id, to_revision(previous_rev));
                tx.execute_typed(
                    "UPDATE zanzi_revisions SET chain = $1 WHERE rev = $2",
                    &[(&seed.as_slice(), Type::BYTEA), (&previous_rev, Type::INT8)],
                )?;
                seed
            }
        }
    };
    let (mut inserted, mut deleted) = (Vec::new(), Vec::new());
    for row in tx.query_typed(CHANGES_AT, &[(&rev, Type::INT8)])? {
        let change = super::feed::change(&row)?;
        match change.kind {
            ChangeKind::Insert => inserted.push(change.tuple),
            ChangeKind::Delete => deleted.push(change.tuple),
        }
    }
    let chain = history::next(&previous, to_revision(rev), &deleted, &inserted);
    tx.execute_typed(
        "UPDATE zanzi_revisions SET chain = $1 WHERE rev = $2",
        &[(&chain.as_slice(), Type::BYTEA), (&rev, Type::INT8)],
    )?;
    Ok(())
}

impl PostgresStore {
    /// [`crate::store::TupleStore::history_chain`] for PostgreSQL.
    pub(super) fn chain_at(&self, at: Revision) -> Result<Option<Chain>, StoreError> {
        if at.0 == 0 {
            return Ok(Some(history::genesis()));
        }
        self.read(|conn| {
            let row = conn.query_typed_one(
                "SELECT m.head, r.chain FROM zanzi_meta m
                 LEFT JOIN zanzi_revisions r ON r.rev = $1
                 WHERE m.id = 1",
                &[(&rev_param(at), Type::INT8)],
            )?;
            let head = to_revision(row.try_get(0)?);
            let stored: Option<Vec<u8>> = row.try_get(1)?;
            let stored = stored.and_then(|bytes| Chain::try_from(bytes.as_slice()).ok());
            Ok(match stored {
                _ if at > head => None,
                Some(chain) => Some(chain),
                None if at == head => Some(history::seed(&self.id, head)),
                None => None,
            })
        })
    }

    /// [`crate::store::TupleStore::secret_fingerprint`] for PostgreSQL.
    pub(super) fn stored_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_typed_one(
                    "SELECT secret_fingerprint FROM zanzi_meta WHERE id = 1",
                    &[],
                )?
                .try_get(0)?)
        })
    }

    /// [`crate::store::TupleStore::set_secret_fingerprint`] for PostgreSQL.
    pub(super) fn store_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.conn()?.execute_typed(
            "UPDATE zanzi_meta SET secret_fingerprint = $1 WHERE id = 1",
            &[(&fingerprint, Type::TEXT)],
        )?;
        Ok(())
    }
}
