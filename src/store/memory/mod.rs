//! An in-memory [`TupleStore`] (and [`SchemaStore`]), for tests and for
//! embedding, and the mirror inside [`super::CachedStore`].
//!
//! Every version of every tuple lives in one append-only vector; a forward
//! index (by object and relation) and a reverse index (by subject, the
//! object's namespace and relation) hold positions into it, history
//! included, so reads at an old revision use the same indexes as reads at
//! the head. One
//! `RwLock` guards everything: reads run in parallel, writes are atomic.
//!
//! A [`Reader`] is the store and a revision: each read takes the read lock
//! for itself, so a long request never holds up writers. Reads hand out
//! borrowed subjects and IDs ([`Reader::for_each_subject`],
//! [`Reader::probe`], [`Reader::for_each_object_with_subject`]), so a check
//! copies no strings. A probe at the head reads the object's live tuples
//! side by side (`by_object.rs`, through the same test as [`MemoryView`]);
//! at another revision, a relation with few versions is scanned and a
//! larger one asked for the subject by key.
//!
//! Versions are IDs ([`interned`]): every namespace, relation and object is
//! stored once, a plain tuple costs a version of a few integers, and a read
//! resolves the names it is given once, then compares integers. A tuple with
//! a condition or an expiry also keeps its whole [`Tuple`]. The plain reads
//! pass over those versions, the attributed reads over the others; a
//! relation's subject sets have their own row, so a check walking them
//! passes over no object subject.
//!
//! [`Maintenance::gc`] drops the versions deleted at or before a revision by
//! building a compacted copy under the read lock and swapping it in under a
//! short write lock, so readers are not held up while it works. Listing
//! cursors are version sequence numbers, which compaction keeps.

mod by_object;
mod interned;
mod recent;
mod rows;
mod versions;
mod view;

use std::sync::{Mutex, RwLock, RwLockReadGuard};

pub use self::interned::Generation;
use self::interned::{Key, SubjectKey};
use self::recent::Recent;
use self::versions::{Inner, Kind, Matcher};
pub use self::view::{MemoryView, StoredName, StoredObject, StoredSubject};
use super::history::Chain;
use super::paging::PageBuilder;
use super::revision::ensure_readable;
use super::{
    check_all, check_inserts, check_preconditions, ChangeBatch, ChangeKind, ChangeSet, Maintenance,
    Page, PageRequest, Probe, ProbeHit, Reader, Revision, SchemaStore, StoreError, SubjectKind,
    TupleFilter, TupleStore,
};
use crate::ir;
use crate::tuple::{Expiry, Subject, SubjectRef, Tuple};

/// An in-memory tuple store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
    /// The stored schema (see [`SchemaStore`]).
    schema: Mutex<Option<ir::Schema>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner.read().map_err(|_| StoreError::Poisoned)
    }

    /// Applies a batch of a durable store's change feed, each change at
    /// its own revision, and moves the head to the batch's end (empty
    /// revisions included). Changes at or below the head are already here
    /// and skipped. One write lock: readers see the batch whole or not.
    pub fn apply_changes(&self, batch: &ChangeBatch) -> Result<Revision, StoreError> {
        let mut inner = self.inner.write().map_err(|_| StoreError::Poisoned)?;
        inner.has_room_for(batch.changes.len())?;
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
        inner.apply(rev, changes, false)
    }
}

/// Builds a [`MemoryStore`] one version at a time, so that a mirror is
/// filled from a stream without a second copy of every version.
#[derive(Debug)]
pub struct MirrorBuilder {
    inner: Inner,
    /// Why a version could not be added, if one could not.
    error: Option<StoreError>,
}

impl MirrorBuilder {
    /// An empty store with the durable store's id.
    pub fn new(id: String) -> MirrorBuilder {
        MirrorBuilder {
            inner: Inner::mirror(id),
            error: None,
        }
    }

    /// Adds the next version, in creation order.
    pub fn push(&mut self, tuple: &Tuple, created: Revision, deleted: Option<Revision>) {
        if self.error.is_none() {
            let pushed = self
                .inner
                .push_mirrored(tuple, created.0, deleted.map(|d| d.0));
            self.error = pushed.err();
        }
    }

    /// The store, at `head` with history from `horizon` on; fails if a
    /// version did not fit.
    pub fn finish(mut self, head: Revision, horizon: Revision) -> Result<MemoryStore, StoreError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.inner.head = head.0;
        self.inner.horizon = horizon.0;
        Ok(MemoryStore {
            inner: RwLock::new(self.inner),
            schema: Mutex::default(),
        })
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
                inner.tuple(v),
                Revision(v.created),
                v.deleted().map(Revision),
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
            recent: Recent::default(),
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
        inner.apply(None, changes, true)
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
        // Only the versions in range become tuples.
        let in_range = |r: u64| r > after.0 && r <= head.0;
        let versions = inner
            .versions
            .iter()
            .filter(|v| in_range(v.created) || v.deleted().is_some_and(in_range))
            .map(|v| {
                (
                    inner.tuple(v),
                    Revision(v.created),
                    v.deleted().map(Revision),
                )
            });
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
    /// What it resolved lately.
    recent: Recent,
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

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        let (inner, at) = self.read()?;
        Ok(inner.contains(tuple, at))
    }

    fn with_memory_view(&self, view: &mut dyn FnMut(&MemoryView<'_>)) -> Result<bool, StoreError> {
        let (inner, at) = self.read()?;
        view(&MemoryView::new(&inner, at));
        Ok(true)
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
        let Some((object, relation)) = inner.dictionary.row(namespace, object_id, relation) else {
            return Ok(());
        };
        let row = |sets| {
            inner
                .forward(Kind::Plain, object, relation, sets)
                .iter()
                .copied()
        };
        let positions: &mut dyn Iterator<Item = u32> = match kind {
            SubjectKind::All => &mut inner.all_forward(Kind::Plain, object, relation),
            SubjectKind::Objects => &mut row(false),
            SubjectKind::Sets => &mut row(true),
        };
        // The row of a relation's other subjects holds its wildcards too.
        let wildcards = kind != SubjectKind::Objects;
        for version in inner.visible(positions, at) {
            if wildcards || !version.key.subject.is_wildcard() {
                visit(inner.subject(version));
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
        let mut hit = ProbeHit::default();
        let dictionary = &inner.dictionary;
        let Some((object, relation)) = dictionary.row(namespace, object_id, relation) else {
            return Ok(hit);
        };
        // A subject or wildcard the store has never held is in no row.
        let subject = probe
            .subject
            .and_then(|s| self.recent.subject(dictionary, s));
        let wildcard = probe
            .wildcard
            .and_then(|namespace| self.recent.wildcard(dictionary, namespace));
        // The view's test, which reads the tuples by object at the head.
        let view = MemoryView::new(&inner, at);
        let has = |subject: Option<SubjectKey>| {
            subject.is_some_and(|subject| {
                view.holds_key(Key {
                    object,
                    relation,
                    subject,
                })
            })
        };
        hit.subject = has(subject);
        hit.wildcard = if wildcard == subject {
            hit.subject
        } else {
            has(wildcard)
        };
        if hit.subject || hit.wildcard {
            return Ok(hit);
        }
        if probe.attributed && (subject.is_some() || wildcard.is_some()) {
            // Whether a tuple with traits names the subject or the wildcard.
            hit.attributed = inner
                .visible(inner.all_forward(Kind::Traited, object, relation), at)
                .any(|v| Some(v.key.subject) == subject || Some(v.key.subject) == wildcard);
        }
        if probe.sets {
            let row = inner.forward(Kind::Plain, object, relation, true);
            for version in inner.visible(row.iter().copied(), at) {
                sets(inner.subject(version));
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
        let dictionary = &inner.dictionary;
        let Some((subject, namespace, relation)) =
            dictionary.reverse_row(subject, namespace, relation)
        else {
            return Ok(());
        };
        let row = inner.reverse(Kind::Plain, subject, namespace, relation);
        for version in inner.visible(row.iter().copied(), at) {
            visit(dictionary.id_of(version.key.object));
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
        let Some((object, relation)) = inner.dictionary.row(namespace, object_id, relation) else {
            return Ok(());
        };
        let row = inner.all_forward(Kind::Traited, object, relation);
        inner.traited_visible(row, at).for_each(visit);
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
        let Some((subject, namespace, relation)) =
            inner.dictionary.reverse_row(subject, namespace, relation)
        else {
            return Ok(());
        };
        let row = inner.reverse(Kind::Traited, subject, namespace, relation);
        inner
            .traited_visible(row.iter().copied(), at)
            .for_each(visit);
        Ok(())
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        let start = page.start()?;
        let (inner, at) = self.read()?;
        let mut builder = PageBuilder::new(page.limit);
        let Some(matcher) = Matcher::new(&inner.dictionary, filter) else {
            return Ok(builder.finish());
        };
        let first = inner.versions.partition_point(|v| v.seq < start);
        for version in inner.versions.iter().skip(first) {
            if !version.visible_at(at) || !matcher.matches(&inner.dictionary, version) {
                continue;
            }
            if !builder.offer(version.seq, || Ok(inner.tuple(version)))? {
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
        Ok(self.read()?.live_count() as u64)
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
        )?;
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
