//! Whole objects for the bounded cache ([`crate::store::object_cache`]):
//! every version of every relation of some objects, read in one snapshot
//! with that snapshot's head and horizon.

use postgres::types::Type;
use postgres::Row;

use super::{to_revision, PostgresStore, StoreError, WILDCARD_REL};
use crate::store::object_cache::{
    LoadedObject, ObjectSource, StoredVersion, REACH_DEPTH, REACH_OBJECTS,
};
use crate::tuple::{Object, Subject};

/// One statement, so one snapshot and one round trip however many objects
/// are asked for: the head and horizon, and beside them each object's
/// versions in the order of writing, at most `$3` (one row of NULLs for an
/// object without any).
const LOAD: &str = "SELECT m.head, m.gc_horizon, o.i,
        t.relation, t.subject_ns, t.subject_id, t.subject_rel,
        t.created_rev, t.deleted_rev, t.condition, t.context, t.expires_at
    FROM zanzi_meta m
    CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS o(id, i)
    LEFT JOIN LATERAL (
        SELECT relation, subject_ns, subject_id, subject_rel,
               created_rev, deleted_rev, condition, context, expires_at, seq
        FROM zanzi_tuples WHERE namespace = $1 AND object_id = o.id
        ORDER BY seq LIMIT $3) t ON true
    WHERE m.id = 1
    ORDER BY o.i, t.seq";

/// [`ObjectSource::load_reach`] in one statement: the objects reached from
/// `$1:$2` through the (namespace, relation) pairs `$3`/`$4`, at most two
/// live object subjects per object and relation, up to `$5` steps; the
/// nearest `$7` of them with their versions (at most `$6` each), the asked
/// one first.
const LOAD_REACH: &str = "WITH RECURSIVE reach(ns, id, depth) AS (
        SELECT $1::text COLLATE \"C\", $2::text COLLATE \"C\", 0
      UNION
        SELECT s.subject_ns, s.subject_id, r.depth + 1
        FROM reach r
        JOIN unnest($3::text[], $4::text[]) AS f(ns, rel) ON f.ns = r.ns
        CROSS JOIN LATERAL (
            SELECT subject_ns, subject_id FROM zanzi_tuples
            WHERE namespace = r.ns AND object_id = r.id AND relation = f.rel
              AND deleted_rev IS NULL AND subject_rel = ''
            LIMIT 2) s
        WHERE r.depth < $5),
    objects AS (
        SELECT ns, id, min(depth) AS depth FROM reach
        GROUP BY ns, id ORDER BY min(depth), ns, id LIMIT $7)
    SELECT m.head, m.gc_horizon, o.ns, o.id,
        t.relation, t.subject_ns, t.subject_id, t.subject_rel,
        t.created_rev, t.deleted_rev, t.condition, t.context, t.expires_at
    FROM zanzi_meta m
    CROSS JOIN objects o
    LEFT JOIN LATERAL (
        SELECT relation, subject_ns, subject_id, subject_rel,
               created_rev, deleted_rev, condition, context, expires_at, seq
        FROM zanzi_tuples WHERE namespace = o.ns AND object_id = o.id
        ORDER BY seq LIMIT $6) t ON true
    WHERE m.id = 1
    ORDER BY o.depth, o.ns, o.id, t.seq";

impl ObjectSource for PostgresStore {
    fn load_reach(
        &self,
        namespace: &str,
        object_id: &str,
        follow: &[(String, String)],
        max_versions: usize,
    ) -> Result<Vec<(String, String, LoadedObject)>, StoreError> {
        if !follow.iter().any(|(ns, _)| ns == namespace) {
            let loaded = self.load_object(namespace, object_id, max_versions)?;
            return Ok(vec![(namespace.to_owned(), object_id.to_owned(), loaded)]);
        }
        let limit = i64::try_from(max_versions.saturating_add(1)).unwrap_or(i64::MAX);
        let depth = i32::try_from(REACH_DEPTH).unwrap_or(i32::MAX);
        let objects = i64::try_from(REACH_OBJECTS).unwrap_or(i64::MAX);
        let (namespaces, relations): (Vec<&str>, Vec<&str>) = follow
            .iter()
            .map(|(ns, rel)| (ns.as_str(), rel.as_str()))
            .unzip();
        let rows = self.read(|conn| {
            let load = conn.prepared(
                LOAD_REACH,
                &[
                    Type::TEXT,
                    Type::TEXT,
                    Type::TEXT_ARRAY,
                    Type::TEXT_ARRAY,
                    Type::INT4,
                    Type::INT8,
                    Type::INT8,
                ],
            )?;
            Ok(conn.query(
                &load,
                &[
                    &namespace,
                    &object_id,
                    &namespaces,
                    &relations,
                    &depth,
                    &limit,
                    &objects,
                ],
            )?)
        })?;
        let mut loaded: Vec<(String, String, LoadedObject)> = Vec::new();
        for row in &rows {
            let ns: &str = row.try_get(2)?;
            let id: &str = row.try_get(3)?;
            let same = loaded
                .last()
                .is_some_and(|(n, i, _)| n.as_str() == ns && i.as_str() == id);
            if !same {
                loaded.push((
                    ns.to_owned(),
                    id.to_owned(),
                    LoadedObject {
                        head: to_revision(row.try_get(0)?),
                        horizon: to_revision(row.try_get(1)?),
                        versions: Some(Vec::new()),
                    },
                ));
            }
            let Some((_, _, object)) = loaded.last_mut() else {
                continue;
            };
            push_version(object, row, 2, max_versions)?;
        }
        Ok(loaded)
    }

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
            push_version(object, row, 1, max_versions)?;
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

/// Adds the version in `row` (if any) to `object`, whose columns start
/// after `skip` more columns than [`LOAD`]'s; marks it too large past
/// `max_versions`.
fn push_version(
    object: &mut LoadedObject,
    row: &Row,
    skip: usize,
    max_versions: usize,
) -> Result<(), StoreError> {
    let Some(versions) = &mut object.versions else {
        return Ok(());
    };
    let first = 3 + skip - 1;
    if row.try_get::<_, Option<&str>>(first)?.is_none() {
        return Ok(());
    }
    if versions.len() >= max_versions {
        // More than asked for: too large to cache.
        object.versions = None;
        return Ok(());
    }
    versions.push(version(row, first)?);
    Ok(())
}

/// The version in `row`'s nine columns from `first` (relation, subject,
/// created and deleted revisions, condition, context and expiry).
fn version(row: &Row, first: usize) -> Result<StoredVersion, StoreError> {
    let s_ns: &str = row.try_get(first + 1)?;
    let s_id: &str = row.try_get(first + 2)?;
    let s_rel: &str = row.try_get(first + 3)?;
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
    let (condition, expires_at) = super::attributes(row, first + 6)?;
    Ok(StoredVersion {
        relation: row.try_get(first)?,
        subject,
        condition,
        expires_at,
        created: to_revision(row.try_get(first + 4)?),
        deleted: row.try_get::<_, Option<i64>>(first + 5)?.map(to_revision),
    })
}
