//! [`CachedStore`]: a durable store with an in-memory mirror of every
//! tuple version, so that reads (checks, expands, lookups) run at memory
//! speed while every write is durable first. A decorator: it wraps any
//! store that can hand over its versions ([`Mirrorable`]) and has no other
//! writer: SQLite.
//!
//! Writes go to the durable store, then — under one lock, in commit order —
//! to the mirror at the revision the durable store gave them, so both hold
//! the same versions at the same revisions and snapshot tokens mean the same
//! in both. The forward and reverse reads come from the mirror; listings
//! come from the durable store, so page cursors stay its own and survive
//! restarts. Garbage collection runs on both. The mirror assumes this
//! process is the only writer of the database; another writer's changes are
//! not seen until a restart: over a shared database, [`super::MirrorStore`]
//! follows the change feed instead.

use std::sync::Mutex;

use super::memory::{MemoryReader, MirrorBuilder};
use super::{
    ChangeBatch, ChangeSet, Maintenance, MemoryStore, Page, PageRequest, Probe, ProbeHit, Reader,
    Revision, SchemaStore, SqliteStore, StoreError, SubjectKind, TupleFilter, TupleStore,
};
use crate::ir;
use crate::tuple::{Expiry, Subject, SubjectRef, Tuple};

/// A durable store whose every version can be read out, to build a mirror.
pub trait Mirrorable: TupleStore + Maintenance {
    /// Every stored version, in creation order, passed to `visit` as
    /// `(tuple, created, deleted)`, all read in one snapshot; returns that
    /// snapshot's head and horizon, where a mirror of them starts.
    fn each_version(
        &self,
        visit: &mut dyn FnMut(Tuple, Revision, Option<Revision>),
    ) -> Result<(Revision, Revision), StoreError>;
}

/// A mirror of every version of `durable`, at the head and horizon of the
/// snapshot it was read in.
pub(crate) fn load_mirror<D: Mirrorable + ?Sized>(durable: &D) -> Result<MemoryStore, StoreError> {
    let mut builder = MirrorBuilder::new(durable.store_id()?);
    let (head, horizon) = durable.each_version(&mut |tuple, created, deleted| {
        builder.push(&tuple, created, deleted);
    })?;
    builder.finish(head, horizon)
}

/// One process writes a SQLite database: nothing commits between reading
/// the head, the horizon and the versions.
impl Mirrorable for SqliteStore {
    fn each_version(
        &self,
        visit: &mut dyn FnMut(Tuple, Revision, Option<Revision>),
    ) -> Result<(Revision, Revision), StoreError> {
        let (head, horizon) = (self.head_revision()?, self.gc_horizon()?);
        for (tuple, created, deleted) in self.versions()? {
            visit(tuple, created, deleted);
        }
        Ok((head, horizon))
    }
}

/// A mirror of a memory store: for tests of the mirrors themselves.
impl Mirrorable for MemoryStore {
    fn each_version(
        &self,
        visit: &mut dyn FnMut(Tuple, Revision, Option<Revision>),
    ) -> Result<(Revision, Revision), StoreError> {
        self.visit_versions(visit)
    }
}

/// A durable store (SQLite by default) read through an in-memory mirror.
pub struct CachedStore<D = SqliteStore> {
    durable: D,
    memory: MemoryStore,
    /// Serializes writes so the mirror applies them in commit order.
    writes: Mutex<()>,
}

impl<D> std::fmt::Debug for CachedStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore").finish_non_exhaustive()
    }
}

impl<D: Mirrorable> CachedStore<D> {
    /// Loads every version of `durable` into memory.
    pub fn new(durable: D) -> Result<CachedStore<D>, StoreError> {
        let memory = load_mirror(&durable)?;
        Ok(CachedStore {
            durable,
            memory,
            writes: Mutex::new(()),
        })
    }

    /// The durable store underneath.
    pub fn durable(&self) -> &D {
        &self.durable
    }
}

impl<D: Mirrorable> TupleStore for CachedStore<D> {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        // The mirror holds the same revisions, so its check is the durable
        // store's; listings take a durable snapshot when they come.
        Ok(Box::new(MirrorReader {
            memory: self.memory.reader(at)?,
            durable: &self.durable,
        }))
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        let _order = self.writes.lock().map_err(|_| StoreError::Poisoned)?;
        let rev = self.durable.apply(changes)?;
        self.memory.apply_at(Some(rev), changes)
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        self.memory.head_revision()
    }

    fn changes_since(&self, after: Revision, limit: usize) -> Result<ChangeBatch, StoreError> {
        self.memory.changes_since(after, limit)
    }

    fn store_id(&self) -> Result<String, StoreError> {
        self.durable.store_id()
    }

    fn history_chain(&self, at: Revision) -> Result<Option<super::history::Chain>, StoreError> {
        self.durable.history_chain(at)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.durable.secret_fingerprint()
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.durable.set_secret_fingerprint(fingerprint)
    }

    fn reads_from_memory(&self) -> bool {
        true
    }
}

/// Reads from the mirror; listings from the durable store at the same
/// revision (also [`super::MirrorStore`]'s reader).
pub(super) struct MirrorReader<'a> {
    pub(super) memory: MemoryReader<'a>,
    pub(super) durable: &'a dyn TupleStore,
}

impl Reader for MirrorReader<'_> {
    fn revision(&self) -> Revision {
        self.memory.revision()
    }

    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
    ) -> Result<Vec<Subject>, StoreError> {
        self.memory.subjects(namespace, object_id, relation, kind)
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        self.memory.contains(tuple)
    }

    fn with_memory_view(
        &self,
        view: &mut dyn FnMut(&super::memory::MemoryView<'_>),
    ) -> Result<bool, StoreError> {
        self.memory.with_memory_view(view)
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        self.memory
            .for_each_subject(namespace, object_id, relation, kind, visit)
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        self.memory
            .probe(namespace, object_id, relation, probe, sets)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        self.memory
            .for_each_object_with_subject(namespace, relation, subject, visit)
    }

    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
    ) -> Result<Vec<String>, StoreError> {
        self.memory
            .objects_with_subject(namespace, relation, subject)
    }

    fn for_each_attributed(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.memory
            .for_each_attributed(namespace, object_id, relation, visit)
    }

    fn for_each_attributed_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.memory
            .for_each_attributed_with_subject(namespace, relation, subject, visit)
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        self.durable.snapshot(self.revision())?.list(filter, page)
    }
}

impl<D: Mirrorable + SchemaStore> SchemaStore for CachedStore<D> {
    fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
        self.durable.save_schema(schema)
    }

    fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
        self.durable.load_schema()
    }

    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        self.durable.schema_hash()
    }
}

impl<D: Mirrorable> Maintenance for CachedStore<D> {
    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        let removed = self.durable.gc(before)?;
        self.memory.gc(before)?;
        Ok(removed)
    }

    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        self.durable.gc_horizon()
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        self.durable.revision_as_of(unix_millis)
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.durable.live_count()
    }

    /// The mirror, which holds what the durable store holds, says which
    /// tuples expired; they are deleted as any write is, under the write
    /// lock, so that no write replaces one of them in between.
    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError> {
        let _order = self.writes.lock().map_err(|_| StoreError::Poisoned)?;
        let expired = self.memory.expired(now, limit)?;
        if expired.is_empty() {
            return Ok(0);
        }
        let changes = ChangeSet {
            deletes: &expired,
            ..ChangeSet::default()
        };
        let rev = self.durable.apply(&changes)?;
        self.memory.apply_at(Some(rev), &changes)?;
        Ok(expired.len() as u64)
    }
}
