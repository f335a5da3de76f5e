//! An in-memory [`TupleStore`], for tests and for embedding.
//!
//! Every string (namespace, ID, relation) is interned once as a number, and
//! every version of every tuple is a row of numbers in one append-only
//! vector. Indexes hold positions into it, history included, so reads at an
//! old revision use the same indexes as reads at the head:
//!
//! - `tuples`: each tuple → its latest version; older versions of the same
//!   tuple are chained through [`Version::previous`] (a tuple deleted and
//!   written again). Point reads (`contains`, probes) are one hash lookup.
//! - `forward`: `(namespace, object, relation)` → versions, split by the kind
//!   of subject, so that the subject sets of a group of 100k users are found
//!   without scanning the users.
//! - `reverse`: `(subject, namespace, relation)` → versions.
//! - `objects`: namespace → object ID (the string itself) → the object's
//!   tuples, every version with its subject and revisions inline, in write
//!   order. A check's read of an object with few tuples is one lookup and a
//!   scan of one short array, instead of chasing the indexes above (at a
//!   million tuples each lookup is a cache miss); larger objects are read
//!   through `tuples` and `forward`.
//!
//! A read resolves its strings to numbers first (a string never interned
//! cannot match anything) and allocates only for what it returns. One
//! `RwLock` guards everything: reads run in parallel, writes are atomic.

use std::sync::{RwLock, RwLockReadGuard};

use rustc_hash::{FxHashMap, FxHashSet};

use super::{
    check_all, Page, PageRequest, Probe, ProbeHit, Revision, StoreError, SubjectKind, TupleFilter,
    TupleStore,
};
use crate::tuple::{Object, Subject, SubjectRef, Tuple};

/// An interned string; 0 stands for "none" (a wildcard's object, an object
/// subject's relation).
type Sym = u32;

/// No version (the end of a [`Version::previous`] chain).
const NO_VERSION: u32 = u32::MAX;

/// `deleted` of a live version.
const LIVE: u64 = u64::MAX;

/// An in-memory tuple store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

/// `namespace:object#relation`, interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    ns: Sym,
    obj: Sym,
    rel: Sym,
}

/// A subject, interned: `obj` is 0 for a wildcard, `rel` 0 for an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SubjectKey {
    ns: Sym,
    obj: Sym,
    rel: Sym,
}

impl SubjectKey {
    /// 0: object, 1: subject set, 2: wildcard (the slots of `forward`).
    fn kind(self) -> usize {
        if self.obj == 0 {
            2
        } else if self.rel == 0 {
            0
        } else {
            1
        }
    }
}

#[derive(Debug)]
struct Version {
    key: Key,
    subject: SubjectKey,
    created: u64,
    /// [`LIVE`] while live.
    deleted: u64,
    /// The previous version of the same tuple, or [`NO_VERSION`].
    previous: u32,
    /// This version's place in its object's [`Row`]s.
    row: u32,
}

/// A version as an object's rows keep it.
#[derive(Clone, Copy, Debug)]
struct Row {
    rel: Sym,
    subject: SubjectKey,
    created: u64,
    deleted: u64,
}

impl Row {
    fn visible_at(&self, at: u64) -> bool {
        self.created <= at && self.deleted > at
    }
}

/// Objects with at most this many versions are read by scanning their rows.
const SCAN_LIMIT: usize = 48;

impl Version {
    fn visible_at(&self, at: u64) -> bool {
        self.created <= at && self.deleted > at
    }
}

#[derive(Debug, Default)]
struct Symbols {
    numbers: FxHashMap<Box<str>, Sym>,
    /// `names[0]` is the unused "none".
    names: Vec<Box<str>>,
}

impl Symbols {
    fn get(&self, name: &str) -> Option<Sym> {
        self.numbers.get(name).copied()
    }

    fn intern(&mut self, name: &str) -> Sym {
        if let Some(&sym) = self.numbers.get(name) {
            return sym;
        }
        if self.names.is_empty() {
            self.names.push(Box::from(""));
        }
        let sym = self.names.len() as Sym;
        self.names.push(Box::from(name));
        self.numbers.insert(Box::from(name), sym);
        sym
    }

    fn name(&self, sym: Sym) -> &str {
        self.names.get(sym as usize).map_or("", |n| n)
    }
}

#[derive(Debug, Default)]
struct Inner {
    head: u64,
    symbols: Symbols,
    versions: Vec<Version>,
    /// Each tuple's latest version.
    tuples: FxHashMap<(Key, SubjectKey), u32>,
    /// Versions by object and relation, split by [`SubjectKey::kind`].
    forward: FxHashMap<Key, [Vec<u32>; 3]>,
    /// Versions by subject, namespace and relation.
    reverse: FxHashMap<(SubjectKey, Sym, Sym), Vec<u32>>,
    /// Every version of each object's tuples, in write order.
    objects: FxHashMap<Sym, FxHashMap<Box<str>, Vec<Row>>>,
}

impl Inner {
    fn key(&self, namespace: &str, object_id: &str, relation: &str) -> Option<Key> {
        Some(Key {
            ns: self.symbols.get(namespace)?,
            obj: self.symbols.get(object_id)?,
            rel: self.symbols.get(relation)?,
        })
    }

    fn subject_key(&self, subject: SubjectRef<'_>) -> Option<SubjectKey> {
        Some(match subject {
            SubjectRef::Object { namespace, id } => SubjectKey {
                ns: self.symbols.get(namespace)?,
                obj: self.symbols.get(id)?,
                rel: 0,
            },
            SubjectRef::Set {
                namespace,
                id,
                relation,
            } => SubjectKey {
                ns: self.symbols.get(namespace)?,
                obj: self.symbols.get(id)?,
                rel: self.symbols.get(relation)?,
            },
            SubjectRef::Wildcard { namespace } => SubjectKey {
                ns: self.symbols.get(namespace)?,
                obj: 0,
                rel: 0,
            },
        })
    }

    fn tuple_keys(&self, tuple: &Tuple) -> Option<(Key, SubjectKey)> {
        let key = self.key(&tuple.object.namespace, &tuple.object.id, &tuple.relation)?;
        Some((key, self.subject_key(tuple.subject.borrowed())?))
    }

    fn intern_tuple(&mut self, tuple: &Tuple) -> (Key, SubjectKey) {
        let symbols = &mut self.symbols;
        let key = Key {
            ns: symbols.intern(&tuple.object.namespace),
            obj: symbols.intern(&tuple.object.id),
            rel: symbols.intern(&tuple.relation),
        };
        let subject = match &tuple.subject {
            Subject::Object(object) => SubjectKey {
                ns: symbols.intern(&object.namespace),
                obj: symbols.intern(&object.id),
                rel: 0,
            },
            Subject::Set { object, relation } => SubjectKey {
                ns: symbols.intern(&object.namespace),
                obj: symbols.intern(&object.id),
                rel: symbols.intern(relation),
            },
            Subject::Wildcard { namespace } => SubjectKey {
                ns: symbols.intern(namespace),
                obj: 0,
                rel: 0,
            },
        };
        (key, subject)
    }

    fn subject_ref(&self, subject: SubjectKey) -> SubjectRef<'_> {
        let namespace = self.symbols.name(subject.ns);
        if subject.obj == 0 {
            return SubjectRef::Wildcard { namespace };
        }
        let id = self.symbols.name(subject.obj);
        if subject.rel == 0 {
            SubjectRef::Object { namespace, id }
        } else {
            SubjectRef::Set {
                namespace,
                id,
                relation: self.symbols.name(subject.rel),
            }
        }
    }

    fn tuple(&self, version: &Version) -> Tuple {
        let key = version.key;
        Tuple::new(
            Object::new(self.symbols.name(key.ns), self.symbols.name(key.obj)),
            self.symbols.name(key.rel),
            self.subject_ref(version.subject).to_subject(),
        )
    }

    fn version(&self, index: u32) -> Option<&Version> {
        self.versions.get(index as usize)
    }

    /// Whether some version of the tuple is visible at `at`.
    fn has(&self, key: Key, subject: SubjectKey, at: u64) -> bool {
        let mut index = self
            .tuples
            .get(&(key, subject))
            .copied()
            .unwrap_or(NO_VERSION);
        while let Some(version) = self.version(index) {
            if version.visible_at(at) {
                return true;
            }
            if version.created <= at {
                // Older versions were deleted before this one was created.
                return false;
            }
            index = version.previous;
        }
        false
    }

    fn insert(&mut self, tuple: &Tuple, rev: u64) {
        let (key, subject) = self.intern_tuple(tuple);
        let previous = self
            .tuples
            .get(&(key, subject))
            .copied()
            .unwrap_or(NO_VERSION);
        if self.version(previous).is_some_and(|v| v.deleted == LIVE) {
            return;
        }
        let index = self.versions.len() as u32;
        let rows = self
            .objects
            .entry(key.ns)
            .or_default()
            .entry(Box::from(tuple.object.id.as_str()))
            .or_default();
        let row = rows.len() as u32;
        rows.push(Row {
            rel: key.rel,
            subject,
            created: rev,
            deleted: LIVE,
        });
        self.versions.push(Version {
            key,
            subject,
            created: rev,
            deleted: LIVE,
            previous,
            row,
        });
        self.tuples.insert((key, subject), index);
        if let Some(slot) = self.forward.entry(key).or_default().get_mut(subject.kind()) {
            slot.push(index);
        }
        self.reverse
            .entry((subject, key.ns, key.rel))
            .or_default()
            .push(index);
    }

    fn delete(&mut self, key: Key, subject: SubjectKey, rev: u64) {
        let Some(&index) = self.tuples.get(&(key, subject)) else {
            return;
        };
        let Some(version) = self.versions.get_mut(index as usize) else {
            return;
        };
        if version.deleted != LIVE {
            return;
        }
        version.deleted = rev;
        let row = version.row as usize;
        let name = self.symbols.name(key.obj);
        if let Some(row) = self
            .objects
            .get_mut(&key.ns)
            .and_then(|objects| objects.get_mut(name))
            .and_then(|rows| rows.get_mut(row))
        {
            row.deleted = rev;
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

    /// The versions of `key` with subjects of `kind` visible at `at`, in
    /// write order.
    fn forward_visible(&self, key: Key, kind: SubjectKind, at: u64) -> Vec<&Version> {
        let Some(slots) = self.forward.get(&key) else {
            return Vec::new();
        };
        let [objects, sets, wildcards] = slots;
        let mut indices: Vec<u32> = match kind {
            SubjectKind::Objects => objects.clone(),
            SubjectKind::Sets => sets.clone(),
            SubjectKind::All => {
                let mut all = [&objects[..], &sets[..], &wildcards[..]].concat();
                all.sort_unstable();
                all
            }
        };
        indices.retain(|&i| self.version(i).is_some_and(|v| v.visible_at(at)));
        indices.iter().filter_map(|&i| self.version(i)).collect()
    }

    /// The rows of object `object_id` of namespace `ns`: `Ok` when the object
    /// is small enough to scan (empty when it has no tuples), `Err` when it
    /// is to be read through the indexes.
    fn object_rows(&self, namespace: &str, object_id: &str) -> Result<&[Row], ()> {
        let rows = self
            .symbols
            .get(namespace)
            .and_then(|ns| self.objects.get(&ns))
            .and_then(|objects| objects.get(object_id))
            .map_or(&[][..], Vec::as_slice);
        if rows.len() <= SCAN_LIMIT {
            Ok(rows)
        } else {
            Err(())
        }
    }

    /// Calls `visit` with the subjects of relation `rel` of `kind` in
    /// `rows` visible at `at`.
    fn visit_rows(
        &self,
        rows: &[Row],
        rel: Sym,
        kind: SubjectKind,
        at: u64,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) {
        for row in rows {
            if row.rel == rel && row.visible_at(at) && kind_matches(kind, row.subject.kind()) {
                visit(self.subject_ref(row.subject));
            }
        }
    }

    /// Calls `visit` with the subjects of `key` of `kind` visible at `at`.
    fn visit(&self, key: Key, kind: SubjectKind, at: u64, visit: &mut dyn FnMut(SubjectRef<'_>)) {
        let Some([objects, sets, _]) = self.forward.get(&key) else {
            return;
        };
        let slot = match kind {
            SubjectKind::Objects => objects,
            SubjectKind::Sets => sets,
            SubjectKind::All => {
                for version in self.forward_visible(key, kind, at) {
                    visit(self.subject_ref(version.subject));
                }
                return;
            }
        };
        for &index in slot {
            if let Some(version) = self.version(index).filter(|v| v.visible_at(at)) {
                visit(self.subject_ref(version.subject));
            }
        }
    }

    /// The filter in numbers, or `None` when it names a string never
    /// stored (nothing matches).
    fn filter_keys(&self, filter: &TupleFilter) -> Option<FilterKeys> {
        let sym = |name: &Option<String>| match name {
            None => Some(None),
            Some(name) => self.symbols.get(name).map(Some),
        };
        Some(FilterKeys {
            ns: sym(&filter.namespace)?,
            obj: sym(&filter.object_id)?,
            rel: sym(&filter.relation)?,
            subject: match &filter.subject {
                None => None,
                Some(subject) => Some(self.subject_key(subject.borrowed())?),
            },
        })
    }
}

/// Whether a subject of [`SubjectKey::kind`] `kind_slot` is of `kind`.
fn kind_matches(kind: SubjectKind, kind_slot: usize) -> bool {
    match kind {
        SubjectKind::All => true,
        SubjectKind::Objects => kind_slot == 0,
        SubjectKind::Sets => kind_slot == 1,
    }
}

struct FilterKeys {
    ns: Option<Sym>,
    obj: Option<Sym>,
    rel: Option<Sym>,
    subject: Option<SubjectKey>,
}

impl FilterKeys {
    fn matches(&self, version: &Version) -> bool {
        let key = version.key;
        self.ns.is_none_or(|s| s == key.ns)
            && self.obj.is_none_or(|s| s == key.obj)
            && self.rel.is_none_or(|s| s == key.rel)
            && self.subject.is_none_or(|s| s == version.subject)
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
        let kept: FxHashSet<&Tuple> = if deletes.is_empty() {
            FxHashSet::default()
        } else {
            inserts.iter().collect()
        };
        self.write_with(|inner, rev| {
            for tuple in deletes.iter().filter(|t| !kept.contains(t)) {
                if let Some((key, subject)) = inner.tuple_keys(tuple) {
                    inner.delete(key, subject, rev);
                }
            }
            inner.versions.reserve(inserts.len());
            for tuple in inserts {
                inner.insert(tuple, rev);
            }
        })
    }

    fn delete_matching(&self, filter: &TupleFilter) -> Result<Revision, StoreError> {
        self.write_with(|inner, rev| {
            let Some(keys) = inner.filter_keys(filter) else {
                return;
            };
            let doomed: Vec<(Key, SubjectKey)> = inner
                .tuples
                .values()
                .filter_map(|&i| inner.version(i))
                .filter(|v| v.deleted == LIVE && keys.matches(v))
                .map(|v| (v.key, v.subject))
                .collect();
            for (key, subject) in doomed {
                inner.delete(key, subject, rev);
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
        let mut out = Vec::new();
        self.for_each_subject(namespace, object_id, relation, kind, at, &mut |s| {
            out.push(s.to_subject());
        })?;
        Ok(out)
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        if let Ok(rows) = inner.object_rows(namespace, object_id) {
            if let Some(rel) = inner.symbols.get(relation) {
                inner.visit_rows(rows, rel, kind, at, visit);
            }
        } else if let Some(key) = inner.key(namespace, object_id, relation) {
            inner.visit(key, kind, at, visit);
        }
        Ok(())
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        at: Revision,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        if let Ok(rows) = inner.object_rows(namespace, object_id) {
            let mut hit = ProbeHit::default();
            let Some(rel) = inner.symbols.get(relation).filter(|_| !rows.is_empty()) else {
                return Ok(hit);
            };
            // `None`: a subject never stored, which no row has.
            let subject = probe.subject.and_then(|s| inner.subject_key(s));
            let wildcard = probe
                .wildcard
                .and_then(|namespace| inner.subject_key(SubjectRef::Wildcard { namespace }));
            for row in rows {
                if row.rel != rel || !row.visible_at(at) {
                    continue;
                }
                if subject == Some(row.subject) {
                    hit.subject = true;
                } else if wildcard == Some(row.subject) {
                    hit.wildcard = true;
                }
            }
            if probe.sets && !hit.subject && !hit.wildcard {
                inner.visit_rows(rows, rel, SubjectKind::Sets, at, sets);
            }
            return Ok(hit);
        }
        let Some(key) = inner.key(namespace, object_id, relation) else {
            return Ok(ProbeHit::default());
        };
        let has = |subject: Option<SubjectRef<'_>>| {
            subject
                .and_then(|s| inner.subject_key(s))
                .is_some_and(|s| inner.has(key, s, at))
        };
        let hit = ProbeHit {
            subject: has(probe.subject),
            wildcard: has(probe
                .wildcard
                .map(|namespace| SubjectRef::Wildcard { namespace })),
        };
        if probe.sets && !hit.subject && !hit.wildcard {
            inner.visit(key, SubjectKind::Sets, at, sets);
        }
        Ok(hit)
    }

    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        Ok(inner
            .tuple_keys(tuple)
            .is_some_and(|(key, subject)| inner.has(key, subject, at)))
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
        let (Some(subject), Some(ns), Some(rel)) = (
            inner.subject_key(subject.borrowed()),
            inner.symbols.get(namespace),
            inner.symbols.get(relation),
        ) else {
            return Ok(Vec::new());
        };
        let mut ids: Vec<String> = inner
            .reverse
            .get(&(subject, ns, rel))
            .into_iter()
            .flatten()
            .filter_map(|&i| inner.version(i))
            .filter(|v| v.visible_at(at))
            .map(|v| inner.symbols.name(v.key.obj).to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let inner = self.read()?;
        let at = inner.check_revision(at)?;
        let (Some(subject), Some(ns), Some(rel)) = (
            inner.subject_key(subject.borrowed()),
            inner.symbols.get(namespace),
            inner.symbols.get(relation),
        ) else {
            return Ok(());
        };
        for version in inner
            .reverse
            .get(&(subject, ns, rel))
            .into_iter()
            .flatten()
            .filter_map(|&i| inner.version(i))
        {
            if version.visible_at(at) {
                visit(inner.symbols.name(version.key.obj));
            }
        }
        Ok(())
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
        let Some(keys) = inner.filter_keys(filter) else {
            return Ok(Page { items, next_cursor });
        };
        for (index, version) in inner.versions.iter().enumerate().skip(start) {
            if !version.visible_at(at) || !keys.matches(version) {
                continue;
            }
            if items.len() == page.limit {
                // There is at least one more: the next page starts at it.
                next_cursor = Some(index.to_string());
                break;
            }
            items.push(inner.tuple(version));
        }
        Ok(Page { items, next_cursor })
    }
}
