//! [`CachedStore`]: a [`SqliteStore`] with an in-memory mirror of every
//! tuple version, so that reads (checks, expands, lookups) run at memory
//! speed while every write is durable first.
//!
//! Writes go to SQLite, then — under one lock, in commit order — to the
//! mirror at the revision SQLite gave them, so both hold the same versions
//! at the same revisions and snapshot tokens mean the same in both. The
//! forward and reverse reads come from the mirror; listings come from
//! SQLite, so page cursors stay SQLite's and survive restarts. Garbage
//! collection runs on both. The mirror assumes this process is the only
//! writer of the database; another writer's changes are not seen until a
//! restart.

use std::sync::Mutex;

use super::{
    MemoryStore, Page, PageRequest, Probe, ProbeHit, Revision, SqliteStore, StoreError,
    SubjectKind, TupleFilter, TupleStore,
};
use crate::tuple::{Subject, SubjectRef, Tuple};

/// A SQLite store read through an in-memory mirror.
pub struct CachedStore {
    durable: SqliteStore,
    memory: MemoryStore,
    /// Serializes writes so the mirror applies them in commit order.
    writes: Mutex<()>,
}

impl std::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore").finish_non_exhaustive()
    }
}

impl CachedStore {
    /// Loads every version of `durable` into memory.
    pub fn new(durable: SqliteStore) -> Result<CachedStore, StoreError> {
        let memory = MemoryStore::from_versions(
            durable.store_id()?,
            durable.head_revision()?,
            durable.gc_horizon()?,
            durable.versions()?,
        );
        Ok(CachedStore {
            durable,
            memory,
            writes: Mutex::new(()),
        })
    }

    /// The durable store underneath.
    pub fn durable(&self) -> &SqliteStore {
        &self.durable
    }
}

impl TupleStore for CachedStore {
    fn write(&self, inserts: &[Tuple], deletes: &[Tuple]) -> Result<Revision, StoreError> {
        let _order = self.writes.lock().map_err(|_| StoreError::Poisoned)?;
        let rev = self.durable.write(inserts, deletes)?;
        self.memory.apply_write(rev, inserts, deletes)
    }

    fn delete_matching(&self, filter: &TupleFilter) -> Result<Revision, StoreError> {
        let _order = self.writes.lock().map_err(|_| StoreError::Poisoned)?;
        let rev = self.durable.delete_matching(filter)?;
        self.memory.apply_delete_matching(rev, filter)
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        self.memory.head_revision()
    }

    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
    ) -> Result<Vec<Subject>, StoreError> {
        self.memory
            .subjects(namespace, object_id, relation, kind, at)
    }

    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError> {
        self.memory.contains(tuple, at)
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
        self.memory
            .for_each_subject(namespace, object_id, relation, kind, at, visit)
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
        self.memory
            .probe(namespace, object_id, relation, probe, at, sets)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        self.memory
            .for_each_object_with_subject(namespace, relation, subject, at, visit)
    }

    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Vec<String>, StoreError> {
        self.memory
            .objects_with_subject(namespace, relation, subject, at)
    }

    fn list(
        &self,
        filter: &TupleFilter,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<Tuple>, StoreError> {
        self.durable.list(filter, page, at)
    }

    fn store_id(&self) -> Result<String, StoreError> {
        self.durable.store_id()
    }

    fn reads_from_memory(&self) -> bool {
        true
    }

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
}
