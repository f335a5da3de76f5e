//! Reads of the SQLite store: the read scope, the per-request memo, and
//! the [`Reader`] over them.
//!
//! A [`SqliteReader`] is the read scope: while any reader is alive, the
//! reads share one read transaction (renewed every
//! [`MAX_READS_PER_TRANSACTION`] reads, so that overlapping scopes never hold
//! back WAL checkpoints for long), and each small object's tuples are read
//! whole, once, when a permission of it is evaluated (the memo, cleared when
//! the last reader drops). A read at the head of the transaction's snapshot
//! needs neither revision condition nor `history`: it is a plain key read.

use rusqlite::params;
use rusqlite::params_from_iter;
use rustc_hash::FxHashMap as HashMap;

use super::filter::filter_sql;
use super::interning::StoredAttributes;
use super::sql::{
    for_kind, form, ATTRIBUTED_FORWARD, ATTRIBUTED_RELATIONS, ATTRIBUTED_REVERSE, CONTAINS,
    HEAD_ATTRIBUTED_FORWARD, HEAD_ATTRIBUTED_REVERSE, HEAD_CONTAINS, HEAD_OBJECT_ROWS,
    HEAD_PREFETCH, HEAD_PROBES, HEAD_SUBJECTS, OBJECTS_WITH_SUBJECT, OBJECT_READ_LIMIT,
    OBJECT_ROWS, PREFETCH, PREFETCH_CHUNK, PROBE, SUBJECTS,
};
use super::{head_of, rev_param, Inner, SqliteStore};
use crate::store::paging::PageBuilder;
use crate::store::revision::{ensure_not_collected, ensure_readable};
use crate::store::{
    Page, PageRequest, Probe, ProbeHit, Reader, Revision, StoreError, SubjectKind, TupleFilter,
};
use crate::tuple::{Subject, SubjectRef, Tuple};

/// The tuples of one object, read whole.
#[derive(Default)]
pub(super) struct ObjectRows {
    /// Every tuple as (rel, s_ns, s_obj, s_rel), sorted by relation, then
    /// as [`Reader::subjects`] orders subjects; a tuple with a condition or
    /// an expiry has its relation negated, so that no plain read takes it.
    rows: Vec<[i64; 4]>,
    /// The tuples with traits as (seq, row, attributes), in `seq` order:
    /// what [`Reader::for_each_attributed`] answers for the object.
    attributed: Vec<(i64, [i64; 4], StoredAttributes)>,
}

impl ObjectRows {
    /// Adds a row read by a whole-object statement: (rel, s_ns, s_obj,
    /// s_rel) from column `first`, and after them, in the filtered form,
    /// (cond, context, expires_at, seq).
    fn push(
        &mut self,
        row: &rusqlite::Row<'_>,
        first: usize,
        filtered: bool,
    ) -> rusqlite::Result<()> {
        let key: [i64; 4] = [
            row.get(first)?,
            row.get(first + 1)?,
            row.get(first + 2)?,
            row.get(first + 3)?,
        ];
        self.rows.push(key);
        if filtered && key[0] < 0 {
            let attributes = (
                row.get(first + 4)?,
                row.get(first + 5)?,
                row.get(first + 6)?,
            );
            self.attributed.push((row.get(first + 7)?, key, attributes));
        }
        Ok(())
    }

    /// Sorts what [`ObjectRows::push`] gathered; `None` when the object is
    /// too large to keep.
    fn finish(mut self) -> Option<ObjectRows> {
        if self.rows.len() as i64 > OBJECT_READ_LIMIT {
            return None;
        }
        self.rows
            .sort_unstable_by_key(|&[rel, s_ns, s_obj, s_rel]| (rel, s_rel, s_ns, s_obj));
        self.attributed.sort_unstable_by_key(|(seq, _, _)| *seq);
        Some(self)
    }

    pub(super) fn rows(&self) -> &[[i64; 4]] {
        &self.rows
    }
}

/// Objects kept by open scopes before the memo starts over.
const MAX_MEMO_OBJECTS: usize = 200_000;

/// Reads in one read transaction before it is renewed, so that scopes
/// that keep overlapping never hold back WAL checkpoints for long.
const MAX_READS_PER_TRANSACTION: u32 = 10_000;

/// The relations whose plain reads must leave out rows with a condition
/// or an expiry (`attributed_relations`), as of a head revision: a write
/// that adds one makes a new head, so the list is read again only when
/// the head has moved.
#[derive(Default)]
pub(super) struct Attributed {
    /// The head the list was read at.
    head: Option<u64>,
    /// (ns, rel) pairs; few, so a list.
    relations: Vec<(i64, i64)>,
}

impl Attributed {
    fn read(conn: &rusqlite::Connection, head: u64) -> Result<Attributed, StoreError> {
        let relations = conn
            .prepare_cached(ATTRIBUTED_RELATIONS)?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(Attributed {
            head: Some(head),
            relations,
        })
    }
}

impl Inner {
    /// Called before every read: within a scope, the reads share one read
    /// transaction (begun here when none is open), which spares SQLite
    /// taking and releasing its file locks around every statement.
    pub(super) fn before_read(&mut self) -> Result<(), StoreError> {
        if self.scopes == 0 {
            return Ok(());
        }
        if self.reads_in_transaction >= MAX_READS_PER_TRANSACTION {
            self.end_read_transaction()?;
        }
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN")?;
            self.reads_in_transaction = 0;
            // The first read fixes the snapshot; this one tells its head.
            let head = head_of(&self.conn)?;
            self.snapshot = Some(head);
            self.known_head = self.known_head.max(head);
            if self.attributed.head != Some(head) {
                self.attributed = Attributed::read(&self.conn, head)?;
            }
        }
        self.reads_in_transaction += 1;
        Ok(())
    }

    /// Whether a plain read of relation `(ns, rel)` must leave out rows
    /// with a condition or an expiry: whether it ever held one.
    pub(super) fn filtered(&self, ns: i64, rel: i64) -> bool {
        self.attributed.relations.contains(&(ns, rel))
    }

    /// [`Inner::filtered`] for a read of whole objects of namespace `ns`.
    pub(super) fn namespace_filtered(&self, ns: i64) -> bool {
        self.attributed.relations.iter().any(|&(n, _)| n == ns)
    }

    /// Whether a read at `at` is a read at the head of the open read
    /// transaction's snapshot: then the live rows are exactly the visible
    /// ones (every row was created by then, and nothing was deleted after).
    pub(super) fn at_head(&self, at: i64) -> bool {
        self.snapshot.is_some_and(|head| rev_param(head) == at)
    }

    /// Ends the read transaction, if one is open: before a write, and
    /// before looking for revisions newer than its snapshot.
    pub(super) fn end_read_transaction(&mut self) -> Result<(), StoreError> {
        self.snapshot = None;
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT")?;
        }
        Ok(())
    }

    /// The tuples of object `(ns, obj)` at revision `at` (see
    /// [`Inner::objects`]), read once per scope; `None` outside scopes and
    /// for large objects.
    pub(super) fn object_rows(
        &mut self,
        ns: i64,
        obj: i64,
        at: i64,
    ) -> Result<Option<&[[i64; 4]]>, StoreError> {
        if self.scopes == 0 {
            return Ok(None);
        }
        let key = (ns, obj, at);
        if !self.objects.contains_key(&key) {
            let filtered = self.namespace_filtered(ns);
            let mut object = ObjectRows::default();
            if self.at_head(at) {
                let mut statement = self
                    .conn
                    .prepare_cached(form(&HEAD_OBJECT_ROWS, filtered).as_str())?;
                let mut rows = statement.query(params![ns, obj])?;
                while let Some(row) = rows.next()? {
                    object.push(row, 0, filtered)?;
                }
            } else {
                let mut statement = self
                    .conn
                    .prepare_cached(form(&OBJECT_ROWS, filtered).as_str())?;
                let mut rows = statement.query(params![ns, obj, at])?;
                while let Some(row) = rows.next()? {
                    object.push(row, 0, filtered)?;
                }
            }
            if self.objects.len() >= MAX_MEMO_OBJECTS {
                self.objects.clear();
            }
            self.objects.insert(key, object.finish());
        }
        Ok(self
            .objects
            .get(&key)
            .and_then(|rows| rows.as_ref())
            .map(ObjectRows::rows))
    }

    /// Reads the objects `objs` (at most [`PREFETCH_CHUNK`]) of namespace
    /// `ns` whole, in one statement, into the scope's memo.
    pub(super) fn read_objects(
        &mut self,
        ns: i64,
        objs: &[i64],
        at: i64,
    ) -> Result<(), StoreError> {
        let mut args: Vec<i64> = Vec::with_capacity(PREFETCH_CHUNK + 2);
        args.push(ns);
        args.extend_from_slice(objs);
        // Unused slots hold -1, which no string has.
        args.resize(PREFETCH_CHUNK + 1, -1);
        let head = self.at_head(at);
        if !head {
            args.push(at);
        }
        let filtered = self.namespace_filtered(ns);
        let sql = form(if head { &HEAD_PREFETCH } else { &PREFETCH }, filtered);
        let mut rows: HashMap<i64, ObjectRows> = HashMap::default();
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut result = statement.query(params_from_iter(args))?;
        while let Some(row) = result.next()? {
            rows.entry(row.get(0)?)
                .or_default()
                .push(row, 1, filtered)?;
        }
        drop(result);
        drop(statement);
        if self.objects.len() + objs.len() > MAX_MEMO_OBJECTS {
            self.objects.clear();
        }
        for &obj in objs {
            let entry = rows.remove(&obj).unwrap_or_default().finish();
            self.objects.insert((ns, obj, at), entry);
        }
        Ok(())
    }

    /// Whether a snapshot at `at` may be taken ([`ensure_readable`]): the
    /// known head answers unless `at` is above it; then another process may
    /// have written since, so a fresh read transaction tells the head.
    pub(super) fn check_snapshot(&mut self, at: Revision) -> Result<(), StoreError> {
        if at.0 > self.known_head {
            self.end_read_transaction()?;
            self.before_read()?;
            let head = match self.snapshot {
                Some(head) => head,
                None => head_of(&self.conn)?,
            };
            self.known_head = self.known_head.max(head);
        }
        ensure_readable(at, Revision(self.known_head), Revision(self.horizon))
    }
}

/// A [`Reader`] of a [`SqliteStore`] at one revision; its lifetime is a read
/// scope.
pub struct SqliteReader<'a> {
    store: &'a SqliteStore,
    at: Revision,
}

impl<'a> SqliteReader<'a> {
    /// Opens a scope and checks `at` once.
    pub(super) fn new(
        store: &'a SqliteStore,
        at: Revision,
    ) -> Result<SqliteReader<'a>, StoreError> {
        let mut inner = store.lock()?;
        inner.scopes += 1;
        let checked = inner.check_snapshot(at);
        drop(inner);
        // From here the guard ends the scope, also when the check failed.
        let reader = SqliteReader { store, at };
        checked.map(|()| reader)
    }

    /// Before a read: the connection, within the scope's read transaction,
    /// and the revision as a parameter. Collection may have run since the
    /// snapshot was taken: reads below the horizon fail.
    fn begin(&self) -> Result<(std::sync::MutexGuard<'a, Inner>, i64), StoreError> {
        let mut inner = self.store.lock()?;
        ensure_not_collected(self.at, Revision(inner.horizon))?;
        inner.before_read()?;
        Ok((inner, rev_param(self.at.0)))
    }
}

impl Drop for SqliteReader<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.store.lock() {
            inner.scopes = inner.scopes.saturating_sub(1);
            if inner.scopes == 0 {
                // A read transaction has nothing to commit; should ending it
                // fail, the next write or head query tries again.
                let _ = inner.end_read_transaction();
                inner.objects.clear();
            }
        }
    }
}

impl Reader for SqliteReader<'_> {
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
        let (mut inner, at) = self.begin()?;
        let (Some(ns), Some(obj), Some(rel)) = (
            inner.lookup(namespace)?,
            inner.lookup(object_id)?,
            inner.lookup(relation)?,
        ) else {
            return Ok(());
        };
        let rows = match inner.objects.get(&(ns, obj, at)) {
            Some(Some(rows)) => rows
                .rows()
                .iter()
                .filter(|&&[r, _, s_obj, s_rel]| r == rel && kind_matches(kind, s_obj, s_rel))
                .map(|&[_, s_ns, s_obj, s_rel]| [s_ns, s_obj, s_rel])
                .collect(),
            _ => subject_rows(&inner, kind, [ns, obj, rel, at])?,
        };
        for &id in rows.iter().flatten() {
            inner.fetch(id)?;
        }
        for row in rows {
            visit(inner.cached_subject(row));
        }
        Ok(())
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let (mut inner, at) = self.begin()?;
        let (Some(ns), Some(obj), Some(rel)) = (
            inner.lookup(namespace)?,
            inner.lookup(object_id)?,
            inner.lookup(relation)?,
        ) else {
            return Ok(ProbeHit::default());
        };
        let subject = match probe.subject {
            Some(subject) => inner.lookup_subject(subject)?,
            None => None,
        };
        // -1 is no string: an unknown subject or wildcard matches nothing.
        let [s_ns, s_obj, s_rel] = subject.unwrap_or([-1, -1, -1]);
        let wildcard = match probe.wildcard {
            Some(namespace) => inner.lookup(namespace)?.unwrap_or(-1),
            None => -1,
        };
        let mut hit = ProbeHit::default();
        let mut found_sets: Vec<[i64; 3]> = Vec::new();
        // A row with traits (only the filtered reads give them) counts only
        // as a hint that one names the subject or the wildcard.
        let mut classify = |[a, b, c]: [i64; 3], plain: bool| {
            let exact = [a, b, c] == [s_ns, s_obj, s_rel];
            let wild = [a, b, c] == [wildcard, 0, 0];
            if !plain {
                hit.attributed |= probe.attributed && (exact || wild);
                return;
            }
            hit.subject |= exact;
            hit.wildcard |= wild;
            if probe.sets && c > 0 {
                found_sets.push([a, b, c]);
            }
        };
        let whole = if probe.whole_object {
            inner.object_rows(ns, obj, at)?
        } else {
            inner
                .objects
                .get(&(ns, obj, at))
                .and_then(|rows| rows.as_ref())
                .map(ObjectRows::rows)
        };
        if let Some(rows) = whole {
            for &[r, a, b, c] in rows {
                if r == rel || r == -rel {
                    classify([a, b, c], r == rel);
                }
            }
        } else if inner.at_head(at) {
            let exact = subject.is_some();
            let wild = wildcard >= 0;
            let mask = usize::from(exact) | usize::from(wild) << 1 | usize::from(probe.sets) << 2;
            let probes = form(&HEAD_PROBES, inner.filtered(ns, rel));
            let Some(sql) = probes.get(mask).filter(|_| mask != 0) else {
                return Ok(hit);
            };
            let mut args = vec![ns, obj, rel];
            if exact || wild {
                args.extend([s_ns, s_obj, s_rel]);
            }
            if wild {
                args.push(wildcard);
            }
            let mut statement = inner.conn.prepare_cached(sql)?;
            let mut rows = statement.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                classify([row.get(0)?, row.get(1)?, row.get(2)?], row.get(3)?);
            }
        } else {
            let sets_above = if probe.sets { 0 } else { i64::MAX };
            let mut statement = inner
                .conn
                .prepare_cached(form(&PROBE, inner.filtered(ns, rel)).as_str())?;
            let mut rows = statement.query(params![
                ns, obj, rel, s_ns, s_obj, s_rel, wildcard, sets_above, at
            ])?;
            // Every arm's rows (and `history`'s, of any subject) say what
            // they are by their subject; a probed subject set may come twice.
            while let Some(row) = rows.next()? {
                classify([row.get(0)?, row.get(1)?, row.get(2)?], row.get(3)?);
            }
        }
        // The order of `subjects`: by relation, namespace, object.
        found_sets.sort_unstable_by_key(|&[ns, obj, rel]| (rel, ns, obj));
        found_sets.dedup();
        if !probe.sets || hit.subject || hit.wildcard {
            return Ok(hit);
        }
        for &id in found_sets.iter().flatten() {
            inner.fetch(id)?;
        }
        for row in found_sets {
            sets(inner.cached_subject(row));
        }
        Ok(hit)
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        if !tuple.is_plain() {
            return Ok(false);
        }
        let (mut inner, at) = self.begin()?;
        let Some([a, b, c, d, e, f]) = inner.lookup_row(tuple)? else {
            return Ok(false);
        };
        let filtered = inner.filtered(a, c);
        let found: bool = if inner.at_head(at) {
            inner
                .conn
                .prepare_cached(form(&HEAD_CONTAINS, filtered).as_str())?
                .query_row(params![a, b, c, d, e, f], |row| row.get(0))?
        } else {
            inner
                .conn
                .prepare_cached(form(&CONTAINS, filtered).as_str())?
                .query_row(params![a, b, c, d, e, f, at], |row| row.get(0))?
        };
        Ok(found)
    }

    fn prefetch(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        if object_ids.is_empty() {
            return Ok(());
        }
        let (mut inner, at) = self.begin()?;
        let Some(ns) = inner.lookup(namespace)? else {
            return Ok(());
        };
        let mut objs = Vec::with_capacity(object_ids.len());
        for id in object_ids {
            if let Some(obj) = inner.lookup(id)? {
                if !inner.objects.contains_key(&(ns, obj, at)) {
                    objs.push(obj);
                }
            }
        }
        for chunk in objs.chunks(PREFETCH_CHUNK) {
            inner.read_objects(ns, chunk, at)?;
        }
        Ok(())
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let (mut inner, at) = self.begin()?;
        let (Some(ns), Some(rel), Some([s_ns, s_obj, s_rel])) = (
            inner.lookup(namespace)?,
            inner.lookup(relation)?,
            inner.lookup_subject(subject.borrowed())?,
        ) else {
            return Ok(());
        };
        let objs: Vec<i64> = inner
            .conn
            .prepare_cached(form(&OBJECTS_WITH_SUBJECT, inner.filtered(ns, rel)).as_str())?
            .query_map(params![s_ns, s_obj, s_rel, ns, rel, at], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for &obj in &objs {
            inner.fetch(obj)?;
        }
        for obj in objs {
            visit(inner.cached(obj));
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
        let (mut inner, at) = self.begin()?;
        let (Some(ns), Some(obj), Some(rel)) = (
            inner.lookup(namespace)?,
            inner.lookup(object_id)?,
            inner.lookup(relation)?,
        ) else {
            return Ok(());
        };
        let read = |row: &rusqlite::Row<'_>| {
            Ok((
                [row.get(0)?, row.get(1)?, row.get(2)?],
                (row.get(3)?, row.get(4)?, row.get(5)?),
            ))
        };
        let rows: Vec<([i64; 3], StoredAttributes)> =
            if let Some(Some(object)) = inner.objects.get(&(ns, obj, at)) {
                // Read with the object (in `seq` order, as the statements).
                object
                    .attributed
                    .iter()
                    .filter(|(_, [r, ..], _)| *r == -rel)
                    .map(|(_, [_, s_ns, s_obj, s_rel], attributes)| {
                        ([*s_ns, *s_obj, *s_rel], attributes.clone())
                    })
                    .collect()
            } else if inner.at_head(at) {
                inner
                    .conn
                    .prepare_cached(&HEAD_ATTRIBUTED_FORWARD)?
                    .query_map(params![ns, obj, rel], read)?
                    .collect::<Result<_, _>>()?
            } else {
                inner
                    .conn
                    .prepare_cached(&ATTRIBUTED_FORWARD)?
                    .query_map(params![ns, obj, rel, at], read)?
                    .collect::<Result<_, _>>()?
            };
        for ([s_ns, s_obj, s_rel], attributes) in rows {
            let tuple = inner.tuple_from([ns, obj, rel, s_ns, s_obj, s_rel], attributes)?;
            visit(&tuple);
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
        let (mut inner, at) = self.begin()?;
        let (Some(ns), Some(rel), Some([s_ns, s_obj, s_rel])) = (
            inner.lookup(namespace)?,
            inner.lookup(relation)?,
            inner.lookup_subject(subject.borrowed())?,
        ) else {
            return Ok(());
        };
        let read =
            |row: &rusqlite::Row<'_>| Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)));
        let rows: Vec<(i64, StoredAttributes)> = if inner.at_head(at) {
            inner
                .conn
                .prepare_cached(&HEAD_ATTRIBUTED_REVERSE)?
                .query_map(params![s_ns, s_obj, s_rel, ns, rel], read)?
                .collect::<Result<_, _>>()?
        } else {
            inner
                .conn
                .prepare_cached(&ATTRIBUTED_REVERSE)?
                .query_map(params![s_ns, s_obj, s_rel, ns, rel, at], read)?
                .collect::<Result<_, _>>()?
        };
        for (obj, attributes) in rows {
            let tuple = inner.tuple_from([ns, obj, rel, s_ns, s_obj, s_rel], attributes)?;
            visit(&tuple);
        }
        Ok(())
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        let start = rev_param(page.start()?);
        let (mut inner, at) = self.begin()?;
        let Some((conditions, values)) = filter_sql(&mut inner, filter)? else {
            return Ok(Page::empty());
        };
        // Pages follow the order of writing (`seq`, through `live_seq` and
        // `history_seq`); the cursor is the `seq` of the next page's first
        // version.
        let conditions: String = conditions.iter().map(|c| format!(" AND {c}")).collect();
        let limit = i64::try_from(page.limit)
            .unwrap_or(i64::MAX - 1)
            .min(i64::MAX - 1);
        let sql = format!(
            "SELECT seq, ns, obj, rel, s_rel, s_ns, s_obj, cond, context, expires_at FROM live
             WHERE seq >= ? AND created_rev <= ?{conditions}
             UNION ALL
             SELECT seq, ns, obj, rel, s_rel, s_ns, s_obj, cond, context, expires_at FROM history
             WHERE seq >= ? AND created_rev <= ? AND deleted_rev > ?{conditions}
             ORDER BY 1 LIMIT {}",
            limit + 1
        );
        let mut args = vec![start, at];
        args.extend(values.iter().copied());
        args.extend([start, at, at]);
        args.extend(values.iter().copied());
        let rows: Vec<([i64; 7], StoredAttributes)> = inner
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(args), |row| {
                Ok((
                    [
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                    ],
                    (row.get(7)?, row.get(8)?, row.get(9)?),
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut builder = PageBuilder::new(page.limit);
        for ([seq, ns, obj, rel, s_rel, s_ns, s_obj], attributes) in rows {
            let seq = u64::try_from(seq).unwrap_or_default();
            let more = builder.offer(seq, || {
                inner.tuple_from([ns, obj, rel, s_ns, s_obj, s_rel], attributes)
            })?;
            if !more {
                break;
            }
        }
        Ok(builder.finish())
    }
}

/// Whether a subject (`s_obj`, `s_rel`) is of `kind`.
fn kind_matches(kind: SubjectKind, s_obj: i64, s_rel: i64) -> bool {
    match kind {
        SubjectKind::All => true,
        SubjectKind::Objects => s_rel == 0 && s_obj != 0,
        SubjectKind::Sets => s_rel > 0,
    }
}

/// The subjects of `(ns, obj, rel)` at a revision, of one kind, as ids.
fn subject_rows(
    inner: &Inner,
    kind: SubjectKind,
    [ns, obj, rel, at]: [i64; 4],
) -> Result<Vec<[i64; 3]>, StoreError> {
    let row = |row: &rusqlite::Row<'_>| Ok([row.get(0)?, row.get(1)?, row.get(2)?]);
    let filtered = inner.filtered(ns, rel);
    let rows = if inner.at_head(at) {
        inner
            .conn
            .prepare_cached(for_kind(form(&HEAD_SUBJECTS, filtered), kind))?
            .query_map(params![ns, obj, rel], row)?
            .collect::<Result<_, _>>()?
    } else {
        inner
            .conn
            .prepare_cached(for_kind(form(&SUBJECTS, filtered), kind))?
            .query_map(params![ns, obj, rel, at], row)?
            .collect::<Result<_, _>>()?
    };
    Ok(rows)
}
