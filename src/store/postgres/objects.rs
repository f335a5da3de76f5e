//! Whole objects for the bounded cache ([`crate::store::object_cache`]):
//! every version of every relation of some objects, read in one snapshot
//! with that snapshot's head and horizon.

use postgres::types::Type;
use postgres::Row;

use super::{to_revision, PostgresStore, StoreError, WILDCARD_REL};
use crate::store::object_cache::{LoadedObject, ObjectSource, StoredVersion};
use crate::tuple::{Object, Subject};

/// One statement, so one snapshot and one round trip however many objects
/// are asked for: the head and horizon, and beside them each object's
/// versions in the order of writing, at most `$3` (one row of NULLs for an
/// object without any).
const LOAD: &str = "SELECT m.head, m.gc_horizon, o.i,
        t.relation, t.subject_ns, t.subject_id, t.subject_rel,
        t.created_rev, t.deleted_rev
    FROM zanzi_meta m
    CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS o(id, i)
    LEFT JOIN LATERAL (
        SELECT relation, subject_ns, subject_id, subject_rel,
               created_rev, deleted_rev, seq
        FROM zanzi_tuples WHERE namespace = $1 AND object_id = o.id
        ORDER BY seq LIMIT $3) t ON true
    WHERE m.id = 1
    ORDER BY o.i, t.seq";

impl ObjectSource for PostgresStore {
    fn load_object(
        &self,
        namespace: &str,
        object_id: &str,
        max_versions: usize,
    ) -> Result<LoadedObject, StoreError> {
        self.load_objects(namespace, &[object_id], max_versions)?
            .pop()
            .ok_or_else(|| StoreError::Backend("zanzi_meta has no row".into()))
    }

    fn load_objects(
        &self,
        namespace: &str,
        object_ids: &[&str],
        max_versions: usize,
    ) -> Result<Vec<LoadedObject>, StoreError> {
        let limit = i64::try_from(max_versions.saturating_add(1)).unwrap_or(i64::MAX);
        let rows = self.read(|conn| {
            let load = conn.prepared(LOAD, &[Type::TEXT, Type::TEXT_ARRAY, Type::INT8])?;
            Ok(conn.query(&load, &[&namespace, &object_ids, &limit])?)
        })?;
        let mut objects: Vec<LoadedObject> = Vec::with_capacity(object_ids.len());
        let mut current: Option<i64> = None;
        for row in &rows {
            let index: i64 = row.try_get(2)?;
            if current != Some(index) {
                current = Some(index);
                objects.push(LoadedObject {
                    head: to_revision(row.try_get(0)?),
                    horizon: to_revision(row.try_get(1)?),
                    versions: Some(Vec::new()),
                });
            }
            let Some(object) = objects.last_mut() else {
                continue;
            };
            let Some(versions) = &mut object.versions else {
                continue;
            };
            if row.try_get::<_, Option<&str>>(3)?.is_none() {
                continue;
            }
            if versions.len() >= max_versions {
                // More than asked for: too large to cache.
                object.versions = None;
                continue;
            }
            versions.push(version(row)?);
        }
        if objects.len() != object_ids.len() {
            return Err(StoreError::Backend(
                format!(
                    "asked for {} objects, read {}",
                    object_ids.len(),
                    objects.len()
                )
                .into(),
            ));
        }
        Ok(objects)
    }
}

/// A row's version (columns 3 to 8 of [`LOAD`]).
fn version(row: &Row) -> Result<StoredVersion, StoreError> {
    let s_ns: &str = row.try_get(4)?;
    let s_id: &str = row.try_get(5)?;
    let s_rel: &str = row.try_get(6)?;
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
    Ok(StoredVersion {
        relation: row.try_get(3)?,
        subject,
        created: to_revision(row.try_get(7)?),
        deleted: row.try_get::<_, Option<i64>>(8)?.map(to_revision),
    })
}
