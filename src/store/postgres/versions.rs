//! Every version of the store, for a full mirror
//! ([`crate::store::MirrorStore`]): read in one `REPEATABLE READ` snapshot
//! with its head and horizon, so the mirror starts exactly there and
//! follows the change feed from that head. Rows come through a portal a
//! page at a time, so a large store is never held twice in memory.

use postgres::IsolationLevel;

use super::{to_revision, PostgresStore, ReplicatedStore, StoreError, WILDCARD_REL};
use crate::store::cached::Mirrorable;
use crate::store::Revision;
use crate::tuple::{Object, Subject, Tuple};

/// Rows fetched from the portal per round trip.
const PAGE: i32 = 10_000;

impl Mirrorable for PostgresStore {
    fn each_version(
        &self,
        visit: &mut dyn FnMut(Tuple, Revision, Option<Revision>),
    ) -> Result<(Revision, Revision), StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let meta = tx.query_one("SELECT head, gc_horizon FROM zanzi_meta WHERE id = 1", &[])?;
        let (head, horizon) = (to_revision(meta.try_get(0)?), to_revision(meta.try_get(1)?));
        let portal = tx.bind(
            "SELECT namespace, object_id, relation, subject_ns, subject_id, subject_rel,
                    created_rev, deleted_rev, condition, context, expires_at
             FROM zanzi_tuples ORDER BY seq",
            &[],
        )?;
        loop {
            let rows = tx.query_portal(&portal, PAGE)?;
            for row in &rows {
                let text = |i: usize| -> Result<&str, StoreError> { Ok(row.try_get(i)?) };
                let (s_ns, s_id, s_rel) = (text(3)?, text(4)?, text(5)?);
                let subject = if s_rel == WILDCARD_REL {
                    Subject::wildcard(s_ns)
                } else if s_rel.is_empty() {
                    Subject::Object(Object::new(s_ns, s_id))
                } else {
                    Subject::Set {
                        object: Object::new(s_ns, s_id),
                        relation: s_rel.to_owned(),
                    }
                };
                let tuple = super::with_attributes(
                    Tuple::new(Object::new(text(0)?, text(1)?), text(2)?, subject),
                    row,
                    8,
                )?;
                let deleted = row.try_get::<_, Option<i64>>(7)?.map(to_revision);
                visit(tuple, to_revision(row.try_get(6)?), deleted);
            }
            if rows.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                break;
            }
        }
        tx.commit()?;
        Ok((head, horizon))
    }
}

/// The versions are the primary's: a standby may lag behind the feed.
impl Mirrorable for ReplicatedStore {
    fn each_version(
        &self,
        visit: &mut dyn FnMut(Tuple, Revision, Option<Revision>),
    ) -> Result<(Revision, Revision), StoreError> {
        self.primary().each_version(visit)
    }
}
