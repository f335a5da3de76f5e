//! An in-memory [`TupleStore`] (and [`SchemaStore`]), for tests and for
//! embedding, and the mirror inside [`super::CachedStore`].
//!
//! Every version of every tuple lives in one append-only vector; a forward
//! index (namespace → object → relation) and a reverse index (subject →
//! namespace → relation) hold positions into it, history included, so reads
//! at an old revision use the same indexes as reads at the head. One
//! `RwLock` guards everything: reads run in parallel, writes are atomic.
//!
//! A [`Reader`] is the store and a revision: each read takes the read lock
//! for itself, so a long request never holds up writers. Reads hand out
//! borrowed subjects and IDs ([`Reader::for_each_subject`],
//! [`Reader::probe`], [`Reader::for_each_object_with_subject`]), so a check
//! copies no strings; a probe of a relation with few versions scans them, a
//! larger one looks the subject up.
//!
//! Versions hold whole tuples, conditions and expiries included; `live` is
//! keyed by [`Tuple::key`], so a key has one live version. The plain reads
//! pass over the versions with a condition or an expiry, the attributed
//! reads over the others.
//!
//! [`Maintenance::gc`] drops the versions deleted at or before a revision by
//! building a compacted copy under the read lock and swapping it in under a
//! short write lock, so readers are not held up while it works. Listing
//! cursors are version sequence numbers, which compaction keeps.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use hashbrown::HashTable;

use super::history::{self, Chain};
use super::paging::PageBuilder;
use super::revision::{ensure_not_collected, ensure_readable};
use super::{
    check_all, check_inserts, check_preconditions, ChangeBatch, ChangeKind, ChangeSet, KeyRef,
    Maintenance, Page, PageRequest, Probe, ProbeHit, Reader, Revision, SchemaStore, StoreError,
    SubjectKind, TupleFilter, TupleStore,
};
use crate::ir;
use crate::tuple::{Expiry, Object, Subject, SubjectRef, Tuple};

/// An in-memory tuple store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
    /// The stored schema (see [`SchemaStore`]).
    schema: Mutex<Option<ir::Schema>>,
}

#[derive(Debug)]
struct Version {
    /// Position in the order of creation; survives compaction.
    seq: u64,
    tuple: Tuple,
    created: u64,
    deleted: Option<u64>,
}

impl Version {
    fn visible_at(&self, at: u64) -> bool {
        self.created <= at && self.deleted.is_none_or(|d| d > at)
    }
}

/// The store's hash maps: keyed by IDs that clients choose, so seeded per
/// process (unlike FxHash), yet several times faster than SipHash.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A few values by name (an object's relations, a subject's namespaces):
/// a list, searched in order, since a map costs its table for each of
/// hundreds of thousands of objects and subjects. Names are shared
/// ([`Indexes::name`]): a schema has a few dozen.
#[derive(Debug)]
struct Named<V>(Vec<(Arc<str>, V)>);

impl<V> Default for Named<V> {
    fn default() -> Named<V> {
        Named(Vec::new())
    }
}

impl<V: Default> Named<V> {
    fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(n, _)| **n == *name).map(|(_, v)| v)
    }

    /// The value of `name`, added empty if missing (always `Some`).
    fn entry(&mut self, name: &Arc<str>) -> Option<&mut V> {
        if !self.0.iter().any(|(n, _)| n == name) {
            self.0.push((Arc::clone(name), V::default()));
        }
        self.0
            .iter_mut()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

/// The versions of one object, or of one subject in one namespace, by
/// relation.
type ByRelation = Named<Vec<usize>>;

/// A probe scans a relation with at most this many versions; a larger one
/// is asked for the probed subjects by key.
const SCAN_LIMIT: usize = 48;

#[derive(Debug)]
struct Inner {
    head: u64,
    /// The oldest revision whose history is complete (see [`Maintenance::gc`]).
    horizon: u64,
    next_seq: u64,
    /// A random id, bound into snapshot tokens.
    id: String,
    /// The history chain of each revision from 0, for the revisions this
    /// store committed itself (a mirror keeps none: its durable store has
    /// them).
    chains: Vec<Chain>,
    /// The token secret's fingerprint (see [`TupleStore::secret_fingerprint`]).
    fingerprint: Option<String>,
    versions: Vec<Version>,
    /// The live version of each key ([`Tuple::key`]).
    live: Live,
    /// The versions of plain tuples, which are what checks read.
    plain: Indexes,
    /// The versions of tuples with a condition or an expiry, apart so that
    /// a plain read never passes over them.
    attributed: Indexes,
}

/// The live versions, found by their tuple's key: positions into
/// `versions` in a table hashed by the key, so that a live tuple is not
/// stored a second time as the key of a map.
#[derive(Default)]
struct Live {
    table: HashTable<usize>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("len", &self.table.len())
            .finish()
    }
}

impl Live {
    fn with_capacity(capacity: usize) -> Live {
        Live {
            table: HashTable::with_capacity(capacity),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    fn hash(&self, key: KeyRef<'_>) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The position of the live version of `key`.
    fn get(&self, versions: &[Version], key: KeyRef<'_>) -> Option<usize> {
        self.table
            .find(self.hash(key), |&i| {
                versions.get(i).is_some_and(|v| KeyRef::of(&v.tuple) == key)
            })
            .copied()
    }

    /// Records `index` (about to be pushed, holding `tuple`) as live.
    fn insert(&mut self, versions: &[Version], tuple: &Tuple, index: usize) {
        let hasher = &self.hasher;
        self.table
            .insert_unique(hasher.hash_one(KeyRef::of(tuple)), index, |&i| {
                versions
                    .get(i)
                    .map_or(0, |v| hasher.hash_one(KeyRef::of(&v.tuple)))
            });
    }

    /// Forgets the live version of `key`; returns its position.
    fn remove(&mut self, versions: &[Version], key: KeyRef<'_>) -> Option<usize> {
        let hash = self.hash(key);
        let entry = self
            .table
            .find_entry(hash, |&i| {
                versions.get(i).is_some_and(|v| KeyRef::of(&v.tuple) == key)
            })
            .ok()?;
        Some(entry.remove().0)
    }

    fn len(&self) -> usize {
        self.table.len()
    }

    /// The positions of the live versions, in no order.
    fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.table.iter().copied()
    }
}

/// The forward and reverse indexes of one kind of version.
#[derive(Debug, Default)]
struct Indexes {
    /// namespace → object id → relation → versions.
    forward: Map<String, Map<String, ByRelation>>,
    /// subject → namespace → relation → versions.
    reverse: Map<Subject, Named<ByRelation>>,
    /// The namespace and relation names of the lists, shared.
    names: HashSet<Arc<str>, foldhash::fast::RandomState>,
}

impl Indexes {
    /// `name`, shared with the lists that already hold it.
    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = name.into();
        self.names.insert(Arc::clone(&shared));
        shared
    }

    fn add(&mut self, tuple: &Tuple, index: usize) {
        let namespace = self.name(&tuple.object.namespace);
        let relation = self.name(&tuple.relation);
        if let Some(versions) = self
            .forward
            .entry(tuple.object.namespace.clone())
            .or_default()
            .entry(tuple.object.id.clone())
            .or_default()
            .entry(&relation)
        {
            versions.push(index);
        }
        if let Some(versions) = self
            .reverse
            .entry(tuple.subject.clone())
            .or_default()
            .entry(&namespace)
            .and_then(|relations| relations.entry(&relation))
        {
            versions.push(index);
        }
    }

    /// The versions of `namespace:object_id#relation`, history included.
    fn relation_versions(&self, namespace: &str, object_id: &str, relation: &str) -> &[usize] {
        self.forward
            .get(namespace)
            .and_then(|m| m.get(object_id))
            .and_then(|m| m.get(relation))
            .map_or(&[], Vec::as_slice)
    }

    /// The versions whose subject is `subject` in `namespace`'s `relation`.
    fn reverse_versions(&self, subject: &Subject, namespace: &str, relation: &str) -> &[usize] {
        self.reverse
            .get(subject)
            .and_then(|m| m.get(namespace))
            .and_then(|m| m.get(relation))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether some version of the relations `filter` names passes `live`,
    /// through the forward index when the filter names the object, the
    /// reverse index when it names the subject; `None` when it names
    /// neither.
    fn any(&self, filter: &TupleFilter, live: impl Fn(&Vec<usize>) -> bool) -> Option<bool> {
        let in_relations = |relations: &ByRelation| match &filter.relation {
            Some(relation) => relations.get(relation).is_some_and(&live),
            None => relations.values().any(&live),
        };
        match (&filter.namespace, &filter.object_id, &filter.subject) {
            (Some(namespace), Some(object_id), _) => Some(
                self.forward
                    .get(namespace)
                    .and_then(|objects| objects.get(object_id))
                    .is_some_and(in_relations),
            ),
            (namespace, _, Some(subject)) => {
                Some(
                    self.reverse
                        .get(subject)
                        .is_some_and(|by_ns| match namespace {
                            Some(namespace) => by_ns.get(namespace).is_some_and(in_relations),
                            None => by_ns.values().any(in_relations),
                        }),
                )
            }
            _ => None,
        }
    }
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            head: 0,
            horizon: 0,
            next_seq: 0,
            id: super::random_id(),
            chains: vec![history::genesis()],
            fingerprint: None,
            versions: Vec::new(),
            live: Live::default(),
            plain: Indexes::default(),
            attributed: Indexes::default(),
        }
    }
}

impl Inner {
    /// Inserts `tuple` at `rev` unless it is live as it is, replacing the
    /// live tuple of its key if another one is; returns whether it was
    /// inserted, and the tuple it replaced.
    fn insert(&mut self, tuple: &Tuple, rev: u64) -> (bool, Option<Tuple>) {
        let live = self
            .live
            .get(&self.versions, KeyRef::of(tuple))
            .and_then(|i| self.versions.get(i));
        if live.is_some_and(|v| v.tuple == *tuple) {
            return (false, None);
        }
        let replaced = self.delete(tuple, rev);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.push_version(Version {
            seq,
            tuple: tuple.clone(),
            created: rev,
            deleted: None,
        });
        (true, replaced)
    }

    /// Appends a version and indexes it.
    fn push_version(&mut self, version: Version) {
        let tuple = &version.tuple;
        let index = self.versions.len();
        if tuple.is_plain() {
            self.plain.add(tuple, index);
        } else {
            self.attributed.add(tuple, index);
        }
        if version.deleted.is_none() {
            self.live.insert(&self.versions, tuple, index);
        }
        self.versions.push(version);
    }

    /// A copy without the versions deleted at or before `before`.
    fn compacted(&self, before: u64) -> Inner {
        let mut fresh = Inner {
            head: self.head,
            horizon: self.horizon.max(before),
            next_seq: self.next_seq,
            id: self.id.clone(),
            chains: self.chains.clone(),
            fingerprint: self.fingerprint.clone(),
            versions: Vec::with_capacity(self.versions.len()),
            live: Live::with_capacity(self.live.len()),
            plain: Indexes::default(),
            attributed: Indexes::default(),
        };
        for version in &self.versions {
            if version.deleted.is_none_or(|d| d > before) {
                fresh.push_version(Version {
                    seq: version.seq,
                    tuple: version.tuple.clone(),
                    created: version.created,
                    deleted: version.deleted,
                });
            }
        }
        fresh
    }

    /// Deletes the live tuple of `tuple`'s key at `rev`, whatever its
    /// condition; returns it, `None` when there was none.
    fn delete(&mut self, tuple: &Tuple, rev: u64) -> Option<Tuple> {
        let index = self.live.remove(&self.versions, KeyRef::of(tuple))?;
        let version = self.versions.get_mut(index)?;
        version.deleted = Some(rev);
        Some(version.tuple.clone())
    }

    /// A reader's guard on every read: the revision was readable when the
    /// snapshot was taken, but collection may have run since.
    fn readable(&self, at: u64) -> Result<u64, StoreError> {
        ensure_not_collected(Revision(at), Revision(self.horizon))?;
        Ok(at)
    }

    /// Whether the plain `tuple` is live at `at` (a revision already
    /// checked).
    fn contains(&self, tuple: &Tuple, at: u64) -> bool {
        if !tuple.is_plain() {
            return false;
        }
        if at == self.head {
            return self
                .live
                .get(&self.versions, KeyRef::of(tuple))
                .and_then(|i| self.versions.get(i))
                // The key matched: the live tuple is `tuple` unless it
                // has traits.
                .is_some_and(|v| v.tuple.is_plain());
        }
        let indices =
            self.plain
                .reverse_versions(&tuple.subject, &tuple.object.namespace, &tuple.relation);
        self.visible(indices, at).any(|t| t == tuple)
    }

    /// The live tuples whose expiry has passed at `now`, the earliest
    /// expiry first (as the databases pick them), at most `limit`.
    fn expired(&self, now: Expiry, limit: usize) -> Vec<Tuple> {
        let mut expired: Vec<&Version> = self
            .live
            .indices()
            .filter_map(|i| self.versions.get(i))
            .filter(|v| v.tuple.expires_at.is_some_and(|e| e.has_passed(now)))
            .collect();
        expired.sort_unstable_by_key(|v| (v.tuple.expires_at, v.seq));
        expired
            .into_iter()
            .take(limit)
            .map(|v| v.tuple.clone())
            .collect()
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

    /// A store holding exactly the given versions — `(tuple, created,
    /// deleted)` in creation order — at `head`, with the given id and
    /// horizon: an in-memory mirror of a durable store (see
    /// [`super::CachedStore`]).
    pub fn from_versions(
        id: String,
        head: Revision,
        horizon: Revision,
        versions: impl IntoIterator<Item = (Tuple, Revision, Option<Revision>)>,
    ) -> MemoryStore {
        let mut builder = MirrorBuilder::new(id);
        for (tuple, created, deleted) in versions {
            builder.push(tuple, created, deleted);
        }
        builder.finish(head, horizon)
    }

    /// Applies a batch of a durable store's change feed, each change at
    /// its own revision, and moves the head to the batch's end (empty
    /// revisions included). Changes at or below the head are already here
    /// and skipped. One write lock: readers see the batch whole or not.
    pub fn apply_changes(&self, batch: &ChangeBatch) -> Result<Revision, StoreError> {
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        let head = inner.head;
        for change in batch.changes.iter().filter(|c| c.revision.0 > head) {
            match change.kind {
                ChangeKind::Delete => {
                    inner.delete(&change.tuple, change.revision.0);
                }
                ChangeKind::Insert => {
                    inner.insert(&change.tuple, change.revision.0);
                }
            }
        }
        inner.head = head.max(batch.through.0);
        Ok(Revision(inner.head))
    }

    /// Replaces every version, the head and the horizon with `fresh`'s (a
    /// mirror reloaded from its durable store). Readers keep their
    /// revision: `fresh` is at least as new, and a revision below its
    /// horizon is refused from then on.
    pub fn replace(&self, fresh: MemoryStore) -> Result<(), StoreError> {
        let fresh = fresh.inner.into_inner().map_err(|_| StoreError::Poisoned)?;
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        *inner = fresh;
        Ok(())
    }

    /// Applies `changes` at `rev`, or at the next revision if `rev` is
    /// `None` or not above the head: a mirror applies what a durable store
    /// committed at `rev`. Its preconditions are not checked again: the
    /// durable store checked them when it committed.
    pub fn apply_at(
        &self,
        rev: Option<Revision>,
        changes: &ChangeSet<'_>,
    ) -> Result<Revision, StoreError> {
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        Ok(inner.apply(rev, changes, false))
    }
}

impl Inner {
    /// The writes of `changes` (not its preconditions), at `rev` as
    /// [`MemoryStore::apply_at`] takes it; with `chain`, also the new
    /// revision's history chain (a store's own writes, not a mirror's).
    fn apply(&mut self, rev: Option<Revision>, changes: &ChangeSet<'_>, chain: bool) -> Revision {
        let kept: HashSet<KeyRef<'_>> = changes.inserts.iter().map(KeyRef::of).collect();
        let rev = rev.map_or(self.head + 1, |r| r.0.max(self.head + 1));
        let mut deleted = Vec::new();
        if let Some(filter) = changes.delete_matching {
            let doomed: Vec<Tuple> = self
                .live
                .indices()
                .filter_map(|i| self.versions.get(i))
                .map(|v| &v.tuple)
                .filter(|t| filter.matches(t))
                .cloned()
                .collect();
            for tuple in doomed {
                deleted.extend(self.delete(&tuple, rev));
            }
        }
        for tuple in changes.deletes {
            if !kept.contains(&KeyRef::of(tuple)) {
                deleted.extend(self.delete(tuple, rev));
            }
        }
        let mut inserted = Vec::new();
        for tuple in changes.inserts {
            let (new, replaced) = self.insert(tuple, rev);
            deleted.extend(replaced);
            if new {
                inserted.push(tuple.clone());
            }
        }
        if chain && self.chains.len() as u64 == rev {
            if let Some(previous) = self.chains.last() {
                let next = history::next(previous, Revision(rev), &deleted, &inserted);
                self.chains.push(next);
            }
        }
        self.head = rev;
        Revision(rev)
    }

    /// Whether a live tuple matches `filter`: through the forward index
    /// when the filter names the object, the reverse index when it names
    /// the subject, else by scanning the live tuples.
    fn any_live(&self, filter: &TupleFilter) -> bool {
        let live = |indices: &Vec<usize>| {
            indices.iter().any(|&i| {
                self.versions
                    .get(i)
                    .is_some_and(|v| v.deleted.is_none() && filter.matches(&v.tuple))
            })
        };
        match self.plain.any(filter, live) {
            Some(true) => true,
            Some(false) => self.attributed.any(filter, live).unwrap_or(false),
            None => self
                .live
                .indices()
                .filter_map(|i| self.versions.get(i))
                .any(|v| filter.matches(&v.tuple)),
        }
    }
}

/// Builds a [`MemoryStore`] one version at a time, so that a mirror is
/// filled from a stream without a second copy of every version.
#[derive(Debug)]
pub struct MirrorBuilder {
    inner: Inner,
}

impl MirrorBuilder {
    /// An empty store with the durable store's id.
    pub fn new(id: String) -> MirrorBuilder {
        MirrorBuilder {
            inner: Inner {
                id,
                chains: Vec::new(),
                ..Inner::default()
            },
        }
    }

    /// Adds the next version, in creation order.
    pub fn push(&mut self, tuple: Tuple, created: Revision, deleted: Option<Revision>) {
        let seq = self.inner.next_seq;
        self.inner.next_seq += 1;
        self.inner.push_version(Version {
            seq,
            tuple,
            created: created.0,
            deleted: deleted.map(|d| d.0),
        });
    }

    /// The store, at `head` with history from `horizon` on.
    pub fn finish(mut self, head: Revision, horizon: Revision) -> MemoryStore {
        self.inner.head = head.0;
        self.inner.horizon = horizon.0;
        MemoryStore {
            inner: RwLock::new(self.inner),
            schema: Mutex::default(),
        }
    }
}

impl MemoryStore {
    /// Every version, in creation order, passed to `visit`; returns the
    /// head and horizon of the same state (one read lock).
    pub fn visit_versions(
        &self,
        visit: &mut dyn FnMut(Tuple, Revision, Option<Revision>),
    ) -> Result<(Revision, Revision), StoreError> {
        let inner = self.read()?;
        for v in &inner.versions {
            visit(
                v.tuple.clone(),
                Revision(v.created),
                v.deleted.map(Revision),
            );
        }
        Ok((Revision(inner.head), Revision(inner.horizon)))
    }

    /// [`TupleStore::snapshot`] as its concrete type, for decorators.
    pub fn reader(&self, at: Revision) -> Result<MemoryReader<'_>, StoreError> {
        let inner = self.read()?;
        ensure_readable(at, Revision(inner.head), Revision(inner.horizon))?;
        Ok(MemoryReader {
            store: self,
            at: at.0,
        })
    }
}

impl TupleStore for MemoryStore {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        Ok(Box::new(self.reader(at)?))
    }

    /// Preconditions are checked under the write lock that the write then
    /// takes place under: no other write can come between.
    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        check_inserts(changes.inserts)?;
        check_all(changes.deletes)?;
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        check_preconditions(changes.preconditions, |filter| Ok(inner.any_live(filter)))?;
        Ok(inner.apply(None, changes, true))
    }

    fn history_chain(&self, at: Revision) -> Result<Option<Chain>, StoreError> {
        let inner = self.read()?;
        let index = usize::try_from(at.0).ok();
        Ok(index.and_then(|i| inner.chains.get(i)).copied())
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.read()?.fingerprint.clone())
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        inner.fingerprint = Some(fingerprint.to_owned());
        Ok(())
    }

    fn changes_since(&self, after: Revision, limit: usize) -> Result<ChangeBatch, StoreError> {
        let inner = self.read()?;
        let (head, horizon) = (Revision(inner.head), Revision(inner.horizon));
        ensure_readable(after, head, horizon)?;
        let versions = inner
            .versions
            .iter()
            .map(|v| (&v.tuple, Revision(v.created), v.deleted.map(Revision)));
        Ok(super::feed::from_versions(versions, after, head, limit))
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        Ok(Revision(self.read()?.head))
    }

    fn store_id(&self) -> Result<String, StoreError> {
        Ok(self.read()?.id.clone())
    }

    fn reads_from_memory(&self) -> bool {
        true
    }
}

/// A [`Reader`] of a [`MemoryStore`]: the store and a checked revision.
pub struct MemoryReader<'a> {
    store: &'a MemoryStore,
    at: u64,
}

impl MemoryReader<'_> {
    /// The store's state, once more checked for collection under the lock.
    fn read(&self) -> Result<(RwLockReadGuard<'_, Inner>, u64), StoreError> {
        let inner = self.store.read()?;
        let at = inner.readable(self.at)?;
        Ok((inner, at))
    }
}

impl Reader for MemoryReader<'_> {
    fn revision(&self) -> Revision {
        Revision(self.at)
    }

    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
    ) -> Result<Vec<Subject>, StoreError> {
        let (inner, at) = self.read()?;
        let indices = inner
            .plain
            .relation_versions(namespace, object_id, relation);
        Ok(inner
            .visible(indices, at)
            .map(|t| &t.subject)
            .filter(|s| kind.matches(s))
            .cloned()
            .collect())
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        let (inner, at) = self.read()?;
        Ok(inner.contains(tuple, at))
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        let (inner, at) = self.read()?;
        let indices = inner
            .plain
            .relation_versions(namespace, object_id, relation);
        for tuple in inner.visible(indices, at) {
            if kind.matches(&tuple.subject) {
                visit(tuple.subject.borrowed());
            }
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
        let (inner, at) = self.read()?;
        let indices = inner
            .plain
            .relation_versions(namespace, object_id, relation);
        let mut hit = ProbeHit::default();
        let wildcard = probe
            .wildcard
            .map(|namespace| SubjectRef::Wildcard { namespace });
        // Whether a tuple with traits names the subject or the wildcard.
        let attributed = || {
            inner
                .visible(
                    inner
                        .attributed
                        .relation_versions(namespace, object_id, relation),
                    at,
                )
                .any(|tuple| {
                    let subject = Some(tuple.subject.borrowed());
                    subject == probe.subject || subject == wildcard
                })
        };
        if indices.is_empty() {
            hit.attributed = probe.attributed && attributed();
            return Ok(hit);
        }
        if indices.len() <= SCAN_LIMIT {
            for tuple in inner.visible(indices, at) {
                let subject = Some(tuple.subject.borrowed());
                hit.subject |= subject == probe.subject;
                hit.wildcard |= subject == wildcard;
            }
        } else {
            let object = Object::new(namespace, object_id);
            let has = |subject: Option<SubjectRef<'_>>| {
                subject.is_some_and(|subject| {
                    inner.contains(
                        &Tuple::new(object.clone(), relation, subject.to_subject()),
                        at,
                    )
                })
            };
            hit.subject = has(probe.subject);
            hit.wildcard = has(wildcard);
        }
        if probe.attributed && !hit.subject && !hit.wildcard {
            hit.attributed = attributed();
        }
        if probe.sets && !hit.subject && !hit.wildcard {
            for tuple in inner.visible(indices, at) {
                if matches!(tuple.subject, Subject::Set { .. }) {
                    sets(tuple.subject.borrowed());
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
        let (inner, at) = self.read()?;
        let indices = inner.plain.reverse_versions(subject, namespace, relation);
        for tuple in inner.visible(indices, at) {
            visit(&tuple.object.id);
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
        let (inner, at) = self.read()?;
        let indices = inner
            .attributed
            .relation_versions(namespace, object_id, relation);
        for tuple in inner.visible(indices, at) {
            visit(tuple);
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
        let (inner, at) = self.read()?;
        let indices = inner
            .attributed
            .reverse_versions(subject, namespace, relation);
        for tuple in inner.visible(indices, at) {
            visit(tuple);
        }
        Ok(())
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        let start = page.start()?;
        let (inner, at) = self.read()?;
        let mut builder = PageBuilder::new(page.limit);
        let first = inner.versions.partition_point(|v| v.seq < start);
        for version in inner.versions.iter().skip(first) {
            if !version.visible_at(at) || !filter.matches(&version.tuple) {
                continue;
            }
            if !builder.offer(version.seq, || Ok(version.tuple.clone()))? {
                break;
            }
        }
        Ok(builder.finish())
    }
}

impl SchemaStore for MemoryStore {
    fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
        let mut stored = self.schema.lock().map_err(|_| StoreError::Poisoned)?;
        if stored.as_ref().is_some_and(|s| s.hash == schema.hash) {
            return Ok(false);
        }
        *stored = Some(schema.clone());
        Ok(true)
    }

    fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
        Ok(self
            .schema
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .clone())
    }

    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .schema
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .as_ref()
            .map(|s| s.hash.clone()))
    }
}

impl Maintenance for MemoryStore {
    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        Ok(Revision(self.read()?.horizon))
    }

    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        // Compact a copy while readers go on; swap it in if no write came
        // in between, else try again (and finally compact in place).
        for _ in 0..3 {
            let (fresh, head, count) = {
                let inner = self.read()?;
                let before = before.0.min(inner.head);
                let fresh = inner.compacted(before);
                (fresh, inner.head, inner.versions.len())
            };
            let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
            if inner.head == head {
                let removed = (count - fresh.versions.len()) as u64;
                *inner = fresh;
                return Ok(removed);
            }
        }
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        let count = inner.versions.len();
        let fresh = inner.compacted(before.0.min(inner.head));
        let removed = (count - fresh.versions.len()) as u64;
        *inner = fresh;
        Ok(removed)
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        Ok(self.read()?.live.len() as u64)
    }

    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError> {
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        let expired = inner.expired(now, limit);
        if expired.is_empty() {
            return Ok(0);
        }
        inner.apply(
            None,
            &ChangeSet {
                deletes: &expired,
                ..ChangeSet::default()
            },
            true,
        );
        Ok(expired.len() as u64)
    }
}

impl MemoryStore {
    /// The live tuples whose expiry has passed at `now`, at most `limit`:
    /// what [`Maintenance::gc_expired`] would delete.
    pub fn expired(&self, now: Expiry, limit: usize) -> Result<Vec<Tuple>, StoreError> {
        Ok(self.read()?.expired(now, limit))
    }
}
