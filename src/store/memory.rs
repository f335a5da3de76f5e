//! An in-memory [`TupleStore`], for tests and for embedding.
//!
//! Every version of every tuple lives in one append-only vector; a forward
//! index (namespace → object → relation) and a reverse index (subject →
//! namespace → relation) hold positions into it, history included, so reads
//! at an old revision use the same indexes as reads at the head. One
//! `RwLock` guards everything: reads run in parallel, writes are atomic.

use std::collections::{HashMap, HashSet};
use std::sync::{RwLock, RwLockReadGuard};

use super::{
    check_all, Page, PageRequest, Revision, StoreError, SubjectKind, TupleFilter, TupleStore,
};
use crate::tuple::{Subject, Tuple};

/// An in-memory tuple store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Debug)]
struct Version {
    tuple: Tuple,
    created: u64,
    deleted: Option<u64>,
}

impl Version {
    fn visible_at(&self, at: u64) -> bool {
        self.created <= at && self.deleted.is_none_or(|d| d > at)
    }
}

type ByRelation = HashMap<String, Vec<usize>>;

#[derive(Debug, Default)]
struct Inner {
    head: u64,
    versions: Vec<Version>,
    /// Live tuple → its version.
    live: HashMap<Tuple, usize>,
    /// namespace → object id → relation → versions.
    forward: HashMap<String, HashMap<String, ByRelation>>,
    /// subject → namespace → relation → versions.
    reverse: HashMap<Subject, HashMap<String, ByRelation>>,
}

impl Inner {
    fn insert(&mut self, tuple: &Tuple, rev: u64) {
        if self.live.contains_key(tuple) {
            return;
        }
        let index = self.versions.len();
        self.forward
            .entry(tuple.object.namespace.clone())
            .or_default()
            .entry(tuple.object.id.clone())
            .or_default()
            .entry(tuple.relation.clone())
            .or_default()
            .push(index);
        self.reverse
            .entry(tuple.subject.clone())
            .or_default()
            .entry(tuple.object.namespace.clone())
            .or_default()
            .entry(tuple.relation.clone())
            .or_default()
            .push(index);
        self.live.insert(tuple.clone(), index);
        self.versions.push(Version {
            tuple: tuple.clone(),
            created: rev,
            deleted: None,
        });
    }

    fn delete(&mut self, tuple: &Tuple, rev: u64) {
        if let Some(index) = self.live.remove(tuple) {
            if let Some(version) = self.versions.get_mut(index) {
                version.deleted = Some(rev);
            }
        }
    }

    fn check_revision(&self, at: Revision) -> Result<u64, StoreError> {
        if at.0 > self.head {
            return Err(StoreError::FutureRevision {
                requested: at,
                head: Revision(self.head),
            });
        }
        Ok(at.0)
    }

    fn visible<'a>(
        &'a self,
        indices: &'a [usize],
        at: u64,
    ) -> impl Iterator<Item = &'a Tuple> + 'a {
        indices
            .iter()
            .filter_map(|&i| self.versions.get(i))
            .filter(move |v| v.visible_at(at))
            .map(|v| &v.tuple)
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner.read().map_err(|_| StoreError::Poisoned)
    }

    fn write_with(&self, change: impl FnOnce(&mut Inner, u64)) -> Result<Revision, StoreError> {
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        let rev = inner.head + 1;
        change(&mut inner, rev);
        inner.head = rev;
        Ok(Revision(rev))
    }
}

impl TupleStore for MemoryStore {
    fn write(&self, inserts: &[Tuple], deletes: &[Tuple]) -> Result<Revision, StoreError> {
        check_all(inserts)?;
        check_all(deletes)?;
        let kept: HashSet<&Tuple> = inserts.iter().collect();
        self.write_with(|inner, rev| {
            for tuple in deletes.iter().filter(|t| !kept.contains(t)) {
                inner.delete(tuple, rev);
            }
            for tuple in inserts {
                inner.insert(tuple, rev);
            }
        })
    }

    fn delete_matching(&self, filter: &TupleFilter) -> Result<Revision, StoreError> {
        self.write_with(|inner, rev| {
            let doomed: Vec<Tuple> = inner
                .live
                .keys()
                .filter(|t| filter.matches(t))
                .cloned()
                .collect();
            for tuple in &doomed {
                inner.delete(tuple, rev);
            }
        })
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        Ok(Revision(self.read()?.head))
    }

    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
    ) -> Result<Vec<Subject>, StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        let indices = inner
            .forward
            .get(namespace)
            .and_then(|m| m.get(object_id))
            .and_then(|m| m.get(relation));
        Ok(indices.map_or_else(Vec::new, |indices| {
            inner
                .visible(indices, at)
                .map(|t| &t.subject)
                .filter(|s| kind.matches(s))
                .cloned()
                .collect()
        }))
    }

    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        if at == inner.head {
            return Ok(inner.live.contains_key(tuple));
        }
        let indices = inner
            .reverse
            .get(&tuple.subject)
            .and_then(|m| m.get(&tuple.object.namespace))
            .and_then(|m| m.get(&tuple.relation));
        Ok(indices.is_some_and(|indices| inner.visible(indices, at).any(|t| t == tuple)))
    }

    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Vec<String>, StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        let indices = inner
            .reverse
            .get(subject)
            .and_then(|m| m.get(namespace))
            .and_then(|m| m.get(relation));
        let mut ids: Vec<String> = indices.map_or_else(Vec::new, |indices| {
            inner
                .visible(indices, at)
                .map(|t| t.object.id.clone())
                .collect()
        });
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    fn list(
        &self,
        filter: &TupleFilter,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<Tuple>, StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        let start = match &page.cursor {
            None => 0,
            Some(cursor) => cursor
                .parse::<usize>()
                .map_err(|_| StoreError::InvalidCursor(cursor.clone()))?,
        };
        let mut items = Vec::new();
        let mut next_cursor = None;
        for (index, version) in inner.versions.iter().enumerate().skip(start) {
            if !version.visible_at(at) || !filter.matches(&version.tuple) {
                continue;
            }
            if items.len() == page.limit {
                // There is at least one more: the next page starts at it.
                next_cursor = Some(index.to_string());
                break;
            }
            items.push(version.tuple.clone());
        }
        Ok(Page { items, next_cursor })
    }
}
