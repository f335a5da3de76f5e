//! Whole objects for the bounded cache ([`crate::store::object_cache`]):
//! every version of every relation of one object, read in one snapshot
//! with that snapshot's head and horizon.

use postgres::types::Type;
use postgres::IsolationLevel;

use super::{to_revision, PostgresStore, StoreError, WILDCARD_REL};
use crate::store::object_cache::{LoadedObject, ObjectSource, StoredVersion};
use crate::tuple::{Object, Subject};

impl ObjectSource for PostgresStore {
    fn load_object(
        &self,
        namespace: &str,
        object_id: &str,
        max_versions: usize,
    ) -> Result<LoadedObject, StoreError> {
        let mut conn = self.conn()?;
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let meta =
            tx.query_typed_one("SELECT head, gc_horizon FROM zanzi_meta WHERE id = 1", &[])?;
        let limit = i64::try_from(max_versions.saturating_add(1)).unwrap_or(i64::MAX);
        let rows = tx.query_typed(
            "SELECT relation, subject_ns, subject_id, subject_rel, created_rev, deleted_rev
             FROM zanzi_tuples WHERE namespace = $1 AND object_id = $2
             ORDER BY seq LIMIT $3",
            &[
                (&namespace, Type::TEXT),
                (&object_id, Type::TEXT),
                (&limit, Type::INT8),
            ],
        )?;
        tx.commit()?;
        let versions = if rows.len() > max_versions {
            None
        } else {
            let mut versions = Vec::with_capacity(rows.len());
            for row in &rows {
                let s_ns: &str = row.try_get(1)?;
                let s_id: &str = row.try_get(2)?;
                let s_rel: &str = row.try_get(3)?;
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
                versions.push(StoredVersion {
                    relation: row.try_get(0)?,
                    subject,
                    created: to_revision(row.try_get(4)?),
                    deleted: row.try_get::<_, Option<i64>>(5)?.map(to_revision),
                });
            }
            Some(versions)
        };
        Ok(LoadedObject {
            head: to_revision(meta.try_get(0)?),
            horizon: to_revision(meta.try_get(1)?),
            versions,
        })
    }
}
