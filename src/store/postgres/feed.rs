//! The change feed of the PostgreSQL store ([`crate::store::feed`]): the
//! versions created or deleted after a revision, read in one `REPEATABLE
//! READ` snapshot with the head they are complete through, and a
//! `LISTEN zanzi_changes` connection that wakes followers. Every write
//! transaction sends `NOTIFY zanzi_changes` (delivered at its commit, so a
//! woken follower finds the change committed); notifications only wake,
//! and the versions are the truth.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;
use postgres::{Client, IsolationLevel, Row};

use super::{rev_param, to_revision, PostgresStore, StoreError, WILDCARD_REL};
use crate::store::feed::{cut, Change, ChangeBatch, ChangeKind, Wakeup};
use crate::store::revision::ensure_readable;
use crate::store::Revision;
use crate::tuple::{Object, Subject, Tuple};

/// The channel every write notifies.
pub(super) const CHANNEL: &str = "zanzi_changes";

/// The changes in `($1, $2]` in feed order (deletes before inserts within a
/// revision, then the order of writing), at most `$3` rows.
const CHANGES: &str = "SELECT rev, ins, namespace, object_id, relation,
        subject_ns, subject_id, subject_rel, condition, context, expires_at
    FROM (
        SELECT created_rev AS rev, true AS ins, seq, namespace, object_id, relation,
               subject_ns, subject_id, subject_rel, condition, context, expires_at
        FROM zanzi_tuples WHERE created_rev > $1 AND created_rev <= $2
        UNION ALL
        SELECT deleted_rev, false, seq, namespace, object_id, relation,
               subject_ns, subject_id, subject_rel, condition, context, expires_at
        FROM zanzi_tuples WHERE deleted_rev > $1 AND deleted_rev <= $2
    ) AS c
    ORDER BY rev, ins, seq
    LIMIT $3";

pub(super) fn change(row: &Row) -> Result<Change, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { Ok(row.try_get::<_, String>(i)?) };
    let (s_ns, s_id, s_rel) = (text(5)?, text(6)?, text(7)?);
    let subject = if s_rel == WILDCARD_REL {
        Subject::wildcard(s_ns)
    } else if s_rel.is_empty() {
        Subject::Object(Object::new(s_ns, s_id))
    } else {
        Subject::Set {
            object: Object::new(s_ns, s_id),
            relation: s_rel,
        }
    };
    Ok(Change {
        revision: to_revision(row.try_get(0)?),
        kind: if row.try_get(1)? {
            ChangeKind::Insert
        } else {
            ChangeKind::Delete
        },
        tuple: super::with_attributes(
            Tuple::new(Object::new(text(2)?, text(3)?), text(4)?, subject),
            row,
            8,
        )?,
    })
}

impl PostgresStore {
    pub(super) fn read_changes(
        &self,
        after: Revision,
        limit: usize,
    ) -> Result<ChangeBatch, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let meta =
            tx.query_typed_one("SELECT head, gc_horizon FROM zanzi_meta WHERE id = 1", &[])?;
        let (head, horizon) = (to_revision(meta.try_get(0)?), to_revision(meta.try_get(1)?));
        ensure_readable(after, head, horizon)?;
        let rows_wanted = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let mut rows = tx.query_typed(
            CHANGES,
            &[
                (&rev_param(after), Type::INT8),
                (&rev_param(head), Type::INT8),
                (&rows_wanted, Type::INT8),
            ],
        )?;
        // One revision with more changes than the limit is read whole.
        let first = rows.first().map(|r| r.try_get::<_, i64>(0)).transpose()?;
        let last = rows.last().map(|r| r.try_get::<_, i64>(0)).transpose()?;
        if rows.len() > limit && first.is_some() && first == last {
            let rev = first.unwrap_or_default();
            rows = tx.query_typed(
                CHANGES,
                &[
                    (&(rev - 1), Type::INT8),
                    (&rev, Type::INT8),
                    (&i64::MAX, Type::INT8),
                ],
            )?;
        }
        tx.commit()?;
        let changes = rows.iter().map(change).collect::<Result<Vec<_>, _>>()?;
        Ok(cut(changes, limit, head))
    }

    /// A connection listening on [`CHANNEL`].
    pub(super) fn listener(&self) -> Result<Box<dyn Wakeup>, StoreError> {
        let mut client = self.connect_unpooled()?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        Ok(Box::new(Listener { client }))
    }
}

/// Wakes on `NOTIFY zanzi_changes`.
struct Listener {
    client: Client,
}

impl Wakeup for Listener {
    fn wait(&mut self, timeout: Duration) -> Result<(), StoreError> {
        let mut notifications = self.client.notifications();
        if notifications.timeout_iter(timeout).next()?.is_some() {
            // Many writes, one wake-up: drop the ones already queued.
            let mut pending = notifications.iter();
            while pending.next()?.is_some() {}
        }
        Ok(())
    }
}
