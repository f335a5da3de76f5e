//! Interning: every string of the SQLite store (namespace, ID, relation)
//! is stored once in `strings`, and a tuple is a row of integers. Committed
//! strings are cached both ways in memory (they are immutable once
//! committed, so the cache stays valid while other processes write); new
//! ones reach the cache only when their transaction commits.

use rusqlite::OptionalExtension;
use rustc_hash::FxHashMap as HashMap;

use super::Inner;
use crate::store::StoreError;
use crate::tuple::{Context, Expiry, Object, Subject, SubjectRef, Tuple, TupleCondition};

/// Interned ids of one tuple: (ns, obj, rel, s_ns, s_obj, s_rel).
pub(super) type Row = [i64; 6];

/// A tuple's condition and expiry as the columns (`cond`, `context`,
/// `expires_at`) hold them: the interned condition name, the context's
/// canonical JSON (NULL when empty) and the expiry in microseconds.
pub(super) type Attributes<'t> = (Option<i64>, Option<&'t str>, Option<i64>);

/// The attribute columns of a row as read.
pub(super) type StoredAttributes = (Option<i64>, Option<String>, Option<i64>);

impl Inner {
    /// A tuple's condition and expiry from its columns.
    pub(super) fn attributes_from(
        &mut self,
        (cond, context, expires_at): StoredAttributes,
    ) -> Result<(Option<Box<TupleCondition>>, Option<Expiry>), StoreError> {
        let condition = match cond {
            Some(cond) => {
                let context = match context {
                    Some(text) => crate::store::stored_context(&text)?,
                    None => Context::default(),
                };
                Some(Box::new(TupleCondition {
                    name: self.string(cond)?,
                    context,
                }))
            }
            None => None,
        };
        Ok((condition, expires_at.map(Expiry::from_micros)))
    }

    /// The id of a committed string, if it was ever interned.
    pub(super) fn lookup(&mut self, value: &str) -> Result<Option<i64>, StoreError> {
        if let Some(&id) = self.ids.get(value) {
            return Ok(Some(id));
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM strings WHERE value = ?1")?
            .query_row([value], |row| row.get(0))
            .optional()?;
        if let Some(id) = id {
            self.remember(value.to_owned(), id);
        }
        Ok(id)
    }

    pub(super) fn remember(&mut self, value: String, id: i64) {
        self.strings.insert(id, value.clone());
        self.ids.insert(value, id);
    }

    pub(super) fn string(&mut self, id: i64) -> Result<String, StoreError> {
        self.fetch(id)?;
        Ok(self.cached(id).to_owned())
    }

    /// Brings the string `id` into the cache.
    pub(super) fn fetch(&mut self, id: i64) -> Result<(), StoreError> {
        if id == 0 || self.strings.contains_key(&id) {
            return Ok(());
        }
        let value: String = self
            .conn
            .prepare_cached("SELECT value FROM strings WHERE id = ?1")?
            .query_row([id], |row| row.get(0))?;
        self.remember(value, id);
        Ok(())
    }

    /// A string brought into the cache by [`Inner::fetch`].
    pub(super) fn cached(&self, id: i64) -> &str {
        self.strings.get(&id).map_or("", String::as_str)
    }

    /// A subject whose strings are in the cache.
    pub(super) fn cached_subject(&self, [ns, obj, rel]: [i64; 3]) -> SubjectRef<'_> {
        let namespace = self.cached(ns);
        if obj == 0 {
            return SubjectRef::Wildcard { namespace };
        }
        let id = self.cached(obj);
        if rel == 0 {
            SubjectRef::Object { namespace, id }
        } else {
            SubjectRef::Set {
                namespace,
                id,
                relation: self.cached(rel),
            }
        }
    }

    /// The ids of a tuple whose strings are all interned, or `None` when it
    /// cannot be stored.
    pub(super) fn lookup_row(&mut self, tuple: &Tuple) -> Result<Option<Row>, StoreError> {
        let mut row = [0i64; 6];
        let parts = row_parts(tuple);
        for (slot, part) in row.iter_mut().zip(parts) {
            if let Some(text) = part {
                match self.lookup(text)? {
                    Some(id) => *slot = id,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(row))
    }

    pub(super) fn lookup_subject(
        &mut self,
        subject: SubjectRef<'_>,
    ) -> Result<Option<[i64; 3]>, StoreError> {
        let (ns, obj, rel) = subject_ref_parts(subject);
        let Some(ns) = self.lookup(ns)? else {
            return Ok(None);
        };
        let obj = match obj {
            Some(obj) => match self.lookup(obj)? {
                Some(id) => id,
                None => return Ok(None),
            },
            None => 0,
        };
        let rel = match rel {
            Some(rel) => match self.lookup(rel)? {
                Some(id) => id,
                None => return Ok(None),
            },
            None => 0,
        };
        Ok(Some([ns, obj, rel]))
    }

    pub(super) fn subject_from(
        &mut self,
        ns: i64,
        obj: i64,
        rel: i64,
    ) -> Result<Subject, StoreError> {
        let namespace = self.string(ns)?;
        if obj == 0 {
            return Ok(Subject::Wildcard { namespace });
        }
        let object = Object {
            namespace,
            id: self.string(obj)?,
        };
        if rel == 0 {
            return Ok(Subject::Object(object));
        }
        Ok(Subject::Set {
            object,
            relation: self.string(rel)?,
        })
    }
}

/// Interns strings inside a write transaction, and numbers its new
/// versions.
pub(super) struct Interner<'a> {
    pub(super) committed: &'a HashMap<String, i64>,
    /// Strings interned by this transaction, cached once it commits.
    pub(super) fresh: HashMap<String, i64>,
    /// The last `seq` given out.
    pub(super) seq: i64,
    /// Relations this transaction has marked in `attributed_relations`.
    pub(super) marked: Vec<(i64, i64)>,
}

impl Interner<'_> {
    /// Marks relation `(ns, rel)` as holding a version with traits (see
    /// migration 0007), once per transaction.
    pub(super) fn mark_attributed(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        ns: i64,
        rel: i64,
    ) -> Result<(), StoreError> {
        if !self.marked.contains(&(ns, rel)) {
            tx.prepare_cached(super::sql::MARK_ATTRIBUTED)?
                .execute([ns, rel])?;
            self.marked.push((ns, rel));
        }
        Ok(())
    }

    /// The `seq` of the next version written.
    pub(super) fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    pub(super) fn id(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        value: &str,
    ) -> Result<i64, StoreError> {
        if let Some(&id) = self.committed.get(value).or_else(|| self.fresh.get(value)) {
            return Ok(id);
        }
        // Most misses are new strings (an import), so try the insert first.
        let inserted = tx
            .prepare_cached("INSERT OR IGNORE INTO strings (value) VALUES (?1)")?
            .execute([value])?;
        let id = if inserted == 1 {
            tx.last_insert_rowid()
        } else {
            tx.prepare_cached("SELECT id FROM strings WHERE value = ?1")?
                .query_row([value], |row| row.get(0))?
        };
        self.fresh.insert(value.to_owned(), id);
        Ok(id)
    }

    /// The attribute columns of `tuple`, its condition name interned.
    pub(super) fn attributes<'t>(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        tuple: &'t Tuple,
    ) -> Result<Attributes<'t>, StoreError> {
        let (cond, context) = match &tuple.condition {
            Some(condition) => (
                Some(self.id(tx, &condition.name)?),
                (!condition.context.is_empty()).then(|| condition.context.as_json()),
            ),
            None => (None, None),
        };
        Ok((cond, context, tuple.expires_at.map(|e| e.micros)))
    }

    pub(super) fn row(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        tuple: &Tuple,
    ) -> Result<Row, StoreError> {
        let mut row = [0i64; 6];
        for (slot, part) in row.iter_mut().zip(row_parts(tuple)) {
            if let Some(text) = part {
                *slot = self.id(tx, text)?;
            }
        }
        Ok(row)
    }

    /// The id of a string interned before or during this transaction.
    pub(super) fn known(
        &self,
        tx: &rusqlite::Transaction<'_>,
        value: &str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(&id) = self.committed.get(value).or_else(|| self.fresh.get(value)) {
            return Ok(Some(id));
        }
        Ok(tx
            .prepare_cached("SELECT id FROM strings WHERE value = ?1")?
            .query_row([value], |row| row.get(0))
            .optional()?)
    }

    pub(super) fn known_row(
        &self,
        tx: &rusqlite::Transaction<'_>,
        tuple: &Tuple,
    ) -> Result<Option<Row>, StoreError> {
        let mut row = [0i64; 6];
        for (slot, part) in row.iter_mut().zip(row_parts(tuple)) {
            if let Some(text) = part {
                match self.known(tx, text)? {
                    Some(id) => *slot = id,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(row))
    }
}

/// The strings of a tuple in row order; `None` stands for the 0 of a
/// wildcard's object or an object subject's relation.
pub(super) fn row_parts(tuple: &Tuple) -> [Option<&str>; 6] {
    let (s_ns, s_obj, s_rel) = subject_parts(&tuple.subject);
    [
        Some(tuple.object.namespace.as_str()),
        Some(tuple.object.id.as_str()),
        Some(tuple.relation.as_str()),
        Some(s_ns),
        s_obj,
        s_rel,
    ]
}

pub(super) fn subject_parts(subject: &Subject) -> (&str, Option<&str>, Option<&str>) {
    subject_ref_parts(subject.borrowed())
}

pub(super) fn subject_ref_parts(subject: SubjectRef<'_>) -> (&str, Option<&str>, Option<&str>) {
    match subject {
        SubjectRef::Object { namespace, id } => (namespace, Some(id), None),
        SubjectRef::Set {
            namespace,
            id,
            relation,
        } => (namespace, Some(id), Some(relation)),
        SubjectRef::Wildcard { namespace } => (namespace, None, None),
    }
}
