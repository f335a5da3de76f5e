//! Reads: [`PostgresReader`], one request's read scope, and the SQL of a
//! [`TupleFilter`] (shared with `delete_matching`).
//!
//! A reader holds one pooled connection in a read-only `REPEATABLE READ`
//! transaction, begun with the query that reads the head and the horizon
//! (one round trip): every read then sees one database snapshot, so garbage
//! collection that raises the horizon afterwards removes nothing it reads.
//! Each read is one statement sent with its parameter types
//! (`query_typed`), which spares the round trip of preparing it.
//!
//! When the connection drops mid-way (the server restarted), the read is
//! retried once on a fresh connection in a new snapshot, checked again
//! against the horizon: a read at revision `r` answers the same in any
//! snapshot whose horizon is still at most `r`.

use std::cell::RefCell;
use std::sync::Arc;

use postgres::types::{ToSql, Type};
use postgres::{Row, SimpleQueryMessage};

use super::pool::{Connection, Pool};
use super::{rev_param, subject_columns, with_attributes, PostgresStore, StoreError, WILDCARD_REL};
use crate::store::paging::{Page, PageBuilder, PageRequest};
use crate::store::revision::ensure_readable;
use crate::store::{Probe, ProbeHit, Reader, Revision, SubjectKind, TupleFilter};
use crate::tuple::{Object, Subject, SubjectRef, Tuple};

/// Whether a version is visible at revision `$4` (the fourth parameter of
/// every read but a listing).
const VISIBLE: &str = "created_rev <= $4 AND (deleted_rev IS NULL OR deleted_rev > $4)";

/// The versions the plain reads see: without a condition or an expiry.
const PLAIN: &str = "condition IS NULL AND expires_at IS NULL";

/// The versions the attributed reads see.
const ATTRIBUTED: &str = "(condition IS NOT NULL OR expires_at IS NOT NULL)";

/// Subject sets: neither an object subject ('') nor a wildcard ('*').
const IS_SET: &str = "subject_rel NOT IN ('', '*')";
const IS_SET_CONDITION: &str = " AND subject_rel NOT IN ('', '*')";

/// A snapshot of a [`PostgresStore`] at one revision.
pub struct PostgresReader {
    pool: Arc<Pool>,
    conn: RefCell<Connection>,
    at: Revision,
}

impl std::fmt::Debug for PostgresReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresReader")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// Begins the read-only snapshot on `conn` and checks that `at` is
/// readable in it.
fn begin(conn: &mut Connection, at: Revision) -> Result<(), StoreError> {
    let messages = conn.simple_query(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
         SELECT head, gc_horizon FROM zanzi_meta WHERE id = 1",
    )?;
    let number = |row: &postgres::SimpleQueryRow, i: usize| -> Result<Revision, StoreError> {
        row.get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .map(Revision)
            .ok_or_else(|| StoreError::Backend("zanzi_meta holds no head revision".into()))
    };
    let row = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .ok_or_else(|| StoreError::Backend("zanzi_meta has no row".into()))?;
    ensure_readable(at, number(row, 0)?, number(row, 1)?)
}

/// Whether `error` came from a connection that is gone, so that the same
/// read on a fresh one may succeed; such a connection is closed rather
/// than returned to the pool.
fn forget_if_gone(error: &StoreError, conn: &mut Connection) -> bool {
    let dropped = matches!(error, StoreError::Unavailable(_));
    if dropped {
        conn.forget();
    }
    dropped
}

impl PostgresReader {
    pub(super) fn new(pool: Arc<Pool>, at: Revision) -> Result<PostgresReader, StoreError> {
        let mut conn = pool.get()?;
        if let Err(error) = begin(&mut conn, at) {
            if !forget_if_gone(&error, &mut conn) {
                return Err(error);
            }
            drop(conn);
            // Tested: the idle ones most likely went with it.
            conn = pool.get_tested()?;
            begin(&mut conn, at)?;
        }
        Ok(PostgresReader {
            pool,
            conn: RefCell::new(conn),
            at,
        })
    }

    fn query(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, StoreError> {
        let mut conn = self
            .conn
            .try_borrow_mut()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        // A connection found closed (or given up by a failed read) is
        // replaced by a fresh one at the same revision.
        if !conn.is_closed() {
            match conn.query_typed(sql, params) {
                Ok(rows) => return Ok(rows),
                Err(error) => {
                    let error = StoreError::from(error);
                    if !forget_if_gone(&error, &mut conn) {
                        return Err(error);
                    }
                }
            }
        }
        let mut fresh = self.pool.get_tested()?;
        begin(&mut fresh, self.at)?;
        *conn = fresh;
        Ok(conn.query_typed(sql, params)?)
    }
}

impl Drop for PostgresReader {
    fn drop(&mut self) {
        // A connection whose rollback fails is broken: the pool drops it.
        let conn = self.conn.get_mut();
        if !conn.is_closed() {
            let _ = conn.batch_execute("ROLLBACK");
        }
    }
}

/// A subject from its three columns.
fn subject_ref(row: &Row, first: usize) -> Result<SubjectRef<'_>, StoreError> {
    let namespace: &str = row.try_get(first)?;
    let id: &str = row.try_get(first + 1)?;
    let relation: &str = row.try_get(first + 2)?;
    Ok(match relation {
        "" => SubjectRef::Object { namespace, id },
        WILDCARD_REL => SubjectRef::Wildcard { namespace },
        _ => SubjectRef::Set {
            namespace,
            id,
            relation,
        },
    })
}

impl Reader for PostgresReader {
    fn revision(&self) -> Revision {
        self.at
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        let kind = match kind {
            SubjectKind::All => "",
            SubjectKind::Objects => " AND subject_rel = ''",
            SubjectKind::Sets => IS_SET_CONDITION,
        };
        let sql = format!(
            "SELECT subject_ns, subject_id, subject_rel FROM zanzi_tuples
             WHERE namespace = $1 AND object_id = $2 AND relation = $3 AND {VISIBLE}{kind}
               AND {PLAIN}
             ORDER BY seq"
        );
        let at = rev_param(self.at);
        let rows = self.query(
            &sql,
            &[
                (&namespace, Type::TEXT),
                (&object_id, Type::TEXT),
                (&relation, Type::TEXT),
                (&at, Type::INT8),
            ],
        )?;
        for row in &rows {
            visit(subject_ref(row, 0)?);
        }
        Ok(())
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        if !tuple.is_plain() {
            return Ok(false);
        }
        let (s_ns, s_id, s_rel) = subject_columns(tuple.subject.borrowed());
        let at = rev_param(self.at);
        let rows = self.query(
            &format!(
                "SELECT 1 FROM zanzi_tuples
                 WHERE namespace = $1 AND object_id = $2 AND relation = $3 AND {VISIBLE}
                   AND subject_ns = $5 AND subject_id = $6 AND subject_rel = $7 AND {PLAIN}
                 LIMIT 1"
            ),
            &[
                (&tuple.object.namespace, Type::TEXT),
                (&tuple.object.id, Type::TEXT),
                (&tuple.relation, Type::TEXT),
                (&at, Type::INT8),
                (&s_ns, Type::TEXT),
                (&s_id, Type::TEXT),
                (&s_rel, Type::TEXT),
            ],
        )?;
        Ok(!rows.is_empty())
    }

    /// One statement: the probed subject, the probed wildcard and (when
    /// asked) the subject sets of the relation.
    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let subject = probe.subject.map(subject_columns);
        let (s_ns, s_id, s_rel) = match subject {
            Some((a, b, c)) => (Some(a), Some(b), Some(c)),
            None => (None, None, None),
        };
        let at = rev_param(self.at);
        let rows = self.query(
            &format!(
                "SELECT subject_ns, subject_id, subject_rel, {PLAIN} FROM zanzi_tuples
                 WHERE namespace = $1 AND object_id = $2 AND relation = $3 AND {VISIBLE}
                   AND (($8 AND {IS_SET} AND {PLAIN})
                        OR (subject_ns = $5 AND subject_id = $6 AND subject_rel = $7
                            AND ($10 OR {PLAIN}))
                        OR (subject_ns = $9 AND subject_rel = '*' AND ($10 OR {PLAIN})))
                 ORDER BY seq"
            ),
            &[
                (&namespace, Type::TEXT),
                (&object_id, Type::TEXT),
                (&relation, Type::TEXT),
                (&at, Type::INT8),
                (&s_ns, Type::TEXT),
                (&s_id, Type::TEXT),
                (&s_rel, Type::TEXT),
                (&probe.sets, Type::BOOL),
                (&probe.wildcard, Type::TEXT),
                (&probe.attributed, Type::BOOL),
            ],
        )?;
        let wildcard = probe
            .wildcard
            .map(|namespace| SubjectRef::Wildcard { namespace });
        let mut hit = ProbeHit::default();
        // Rows with traits come only for the subject and the wildcard.
        let plain = |row: &Row| row.try_get::<_, bool>(3);
        for row in &rows {
            let found = Some(subject_ref(row, 0)?);
            let names = found == probe.subject || found == wildcard;
            if plain(row)? {
                hit.subject |= found == probe.subject;
                hit.wildcard |= found == wildcard;
            } else {
                hit.attributed |= names;
            }
        }
        if probe.sets && !hit.subject && !hit.wildcard {
            for row in &rows {
                if let found @ SubjectRef::Set { .. } = subject_ref(row, 0)? {
                    if plain(row)? {
                        sets(found);
                    }
                }
            }
        }
        Ok(hit)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let (s_ns, s_id, s_rel) = subject_columns(subject.borrowed());
        let at = rev_param(self.at);
        let rows = self.query(
            &format!(
                "SELECT object_id FROM zanzi_tuples
                 WHERE subject_ns = $1 AND subject_id = $2 AND subject_rel = $3 AND {VISIBLE}
                   AND namespace = $5 AND relation = $6 AND {PLAIN}"
            ),
            &[
                (&s_ns, Type::TEXT),
                (&s_id, Type::TEXT),
                (&s_rel, Type::TEXT),
                (&at, Type::INT8),
                (&namespace, Type::TEXT),
                (&relation, Type::TEXT),
            ],
        )?;
        for row in &rows {
            visit(row.try_get(0)?);
        }
        Ok(())
    }

    fn for_each_attributed(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        let at = rev_param(self.at);
        let rows = self.query(
            &format!(
                "SELECT subject_ns, subject_id, subject_rel, condition, context, expires_at
                 FROM zanzi_tuples
                 WHERE namespace = $1 AND object_id = $2 AND relation = $3 AND {VISIBLE}
                   AND {ATTRIBUTED}
                 ORDER BY seq"
            ),
            &[
                (&namespace, Type::TEXT),
                (&object_id, Type::TEXT),
                (&relation, Type::TEXT),
                (&at, Type::INT8),
            ],
        )?;
        for row in &rows {
            let tuple = Tuple::new(
                Object::new(namespace, object_id),
                relation,
                subject_ref(row, 0)?.to_subject(),
            );
            visit(&with_attributes(tuple, row, 3)?);
        }
        Ok(())
    }

    fn for_each_attributed_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        let (s_ns, s_id, s_rel) = subject_columns(subject.borrowed());
        let at = rev_param(self.at);
        let rows = self.query(
            &format!(
                "SELECT object_id, condition, context, expires_at FROM zanzi_tuples
                 WHERE subject_ns = $1 AND subject_id = $2 AND subject_rel = $3 AND {VISIBLE}
                   AND namespace = $5 AND relation = $6 AND {ATTRIBUTED}"
            ),
            &[
                (&s_ns, Type::TEXT),
                (&s_id, Type::TEXT),
                (&s_rel, Type::TEXT),
                (&at, Type::INT8),
                (&namespace, Type::TEXT),
                (&relation, Type::TEXT),
            ],
        )?;
        for row in &rows {
            let tuple = Tuple::new(
                Object::new(namespace, row.try_get::<_, &str>(0)?),
                relation,
                subject.clone(),
            );
            visit(&with_attributes(tuple, row, 1)?);
        }
        Ok(())
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        let start = i64::try_from(page.start()?).unwrap_or(i64::MAX);
        let limit = i64::try_from(page.limit.saturating_add(1)).unwrap_or(i64::MAX);
        let at = rev_param(self.at);
        let (conditions, values) = filter_sql(filter, 4);
        let sql = format!(
            "SELECT namespace, object_id, relation, subject_ns, subject_id, subject_rel, seq,
                    condition, context, expires_at
             FROM zanzi_tuples
             WHERE seq >= $1
               AND created_rev <= $3 AND (deleted_rev IS NULL OR deleted_rev > $3){conditions}
             ORDER BY seq LIMIT $2"
        );
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&start, Type::INT8),
            (&limit, Type::INT8),
            (&at, Type::INT8),
        ];
        params.extend(values.iter().map(FilterValue::param));
        let rows = self.query(&sql, &params)?;
        let mut builder = PageBuilder::new(page.limit);
        for row in &rows {
            let seq: i64 = row.try_get(6)?;
            let more = builder.offer(u64::try_from(seq).unwrap_or_default(), || {
                let tuple = Tuple::new(
                    Object::new(row.try_get::<_, &str>(0)?, row.try_get::<_, &str>(1)?),
                    row.try_get::<_, &str>(2)?,
                    subject_ref(row, 3)?.to_subject(),
                );
                with_attributes(tuple, row, 7)
            })?;
            if !more {
                break;
            }
        }
        Ok(builder.finish())
    }
}

/// A parameter of a filter's SQL.
pub(super) enum FilterValue {
    Text(String),
    Texts(Vec<String>),
}

impl FilterValue {
    pub(super) fn param(&self) -> (&(dyn ToSql + Sync), Type) {
        match self {
            FilterValue::Text(text) => (text, Type::TEXT),
            FilterValue::Texts(texts) => (texts, Type::TEXT_ARRAY),
        }
    }
}

/// The conditions of `filter` (each starting with ` AND `) with their
/// parameters, numbered from `$first`.
pub(super) fn filter_sql(filter: &TupleFilter, first: usize) -> (String, Vec<FilterValue>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    let mut condition = |column: &str, value: FilterValue| {
        let n = first + values.len();
        let test = match value {
            FilterValue::Text(_) => format!(" AND {column} = ${n}"),
            FilterValue::Texts(_) => format!(" AND {column} = ANY(${n})"),
        };
        sql.push_str(&test);
        values.push(value);
    };
    let text = |s: &str| FilterValue::Text(s.to_owned());
    if let Some(namespace) = &filter.namespace {
        condition("namespace", text(namespace));
    }
    if let Some(id) = &filter.object_id {
        condition("object_id", text(id));
    }
    if let Some(relation) = &filter.relation {
        condition("relation", text(relation));
    }
    if let Some(subject) = &filter.subject {
        let (s_ns, s_id, s_rel) = subject_columns(subject.borrowed());
        condition("subject_ns", text(s_ns));
        condition("subject_id", text(s_id));
        condition("subject_rel", text(s_rel));
    }
    if let Some(object_in) = &filter.subject_object_in {
        condition("subject_rel", text(""));
        condition("subject_id", text(&object_in.id));
        condition(
            "subject_ns",
            FilterValue::Texts(object_in.namespaces.clone()),
        );
    }
    (sql, values)
}

impl PostgresStore {
    /// How many tuples are live at the head revision.
    pub(super) fn count_live(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            let count: i64 = conn
                .query_typed_one(
                    "SELECT COUNT(*) FROM zanzi_tuples WHERE deleted_rev IS NULL",
                    &[],
                )?
                .try_get(0)?;
            Ok(u64::try_from(count).unwrap_or_default())
        })
    }
}
