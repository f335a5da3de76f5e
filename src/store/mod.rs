//! Tuple storage: a small synchronous trait and two implementations,
//! [`MemoryStore`] (tests and embedding) and [`SqliteStore`] (durable).
//!
//! Stores are revisioned from the start so that the engine can evaluate a
//! whole request, or page through a lookup, against one consistent snapshot
//! while writes go on. Every write transaction gets the next [`Revision`];
//! every stored version of a tuple carries the revision that created it and
//! the one that deleted it (`None` while live), so a read at revision `R`
//! sees exactly the tuples with `created <= R` and (`deleted` unset or
//! `> R`). Deleting a tuple and writing it again creates a new version;
//! history is kept until [`TupleStore::gc`] removes the versions deleted
//! before a revision; reads below that revision (the *horizon*) then fail
//! with [`StoreError::RevisionCollected`] instead of answering wrongly.
//!
//! Stores know nothing of schemas: they check only that tuples are well
//! formed ([`Tuple::check_well_formed`]). Validate against the schema first
//! ([`write_validated`] does both, all or nothing).

pub mod cached;
pub mod memory;
pub mod sqlite;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ir::Schema;
use crate::tuple::{validate_tuple, Object, Subject, SubjectRef, Tuple, WriteError};

pub use cached::CachedStore;
pub use memory::MemoryStore;
pub use sqlite::{MigrationStatus, SqliteStore};

/// A store revision: 0 is the empty store before any write; each write
/// transaction increments it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Revision(pub u64);

impl std::fmt::Display for Revision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Which subjects of a relation a forward read returns. The engine asks for
/// the kind it needs, so a store can answer from an index instead of
/// filtering a large relation (a group of 100k users has few subject sets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubjectKind {
    /// Every subject.
    All,
    /// Object subjects `ns:id` only.
    Objects,
    /// Subject sets `ns:id#rel` only.
    Sets,
}

impl SubjectKind {
    pub fn matches(self, subject: &Subject) -> bool {
        match self {
            SubjectKind::All => true,
            SubjectKind::Objects => matches!(subject, Subject::Object(_)),
            SubjectKind::Sets => matches!(subject, Subject::Set { .. }),
        }
    }
}

/// What [`TupleStore::probe`] looks for in one stored relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe<'a> {
    /// This exact subject.
    pub subject: Option<SubjectRef<'a>>,
    /// The wildcard `namespace:*` of this namespace.
    pub wildcard: Option<&'a str>,
    /// Whether to visit the relation's subject sets.
    pub sets: bool,
    /// A hint: the caller is evaluating a permission of this object and will
    /// likely read its other relations too, so a store may read the object
    /// whole now and answer those reads from what it read.
    pub whole_object: bool,
}

/// What [`TupleStore::probe`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeHit {
    /// The probed subject is stored.
    pub subject: bool,
    /// The probed wildcard is stored.
    pub wildcard: bool,
}

/// One request's reads, from [`TupleStore::begin_reads`] until dropped.
#[must_use = "the scope ends when the guard is dropped"]
pub struct ReadScope<'a> {
    store: Option<&'a dyn TupleStore>,
}

impl<'a> ReadScope<'a> {
    /// A scope that needs no ending (the store keeps nothing between reads).
    pub fn none() -> ReadScope<'a> {
        ReadScope { store: None }
    }

    /// A scope that calls [`TupleStore::end_reads`] on `store` when dropped.
    pub fn of(store: &'a dyn TupleStore) -> ReadScope<'a> {
        ReadScope { store: Some(store) }
    }
}

impl Drop for ReadScope<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store {
            store.end_reads();
        }
    }
}

impl std::fmt::Debug for ReadScope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadScope").finish_non_exhaustive()
    }
}

/// Selects tuples; an unset field matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TupleFilter {
    pub namespace: Option<String>,
    pub object_id: Option<String>,
    pub relation: Option<String>,
    /// The exact subject.
    pub subject: Option<Subject>,
    /// An object subject with this ID in any of these namespaces (how the
    /// server reads Keto's untyped `subject_id` in a query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_object_in: Option<ObjectIn>,
}

/// Object subjects with one ID in any of several namespaces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectIn {
    pub namespaces: Vec<String>,
    pub id: String,
}

impl ObjectIn {
    pub fn matches(&self, subject: &Subject) -> bool {
        matches!(subject, Subject::Object(o) if o.id == self.id && self.namespaces.contains(&o.namespace))
    }
}

impl TupleFilter {
    pub fn matches(&self, tuple: &Tuple) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|n| *n == tuple.object.namespace)
            && self
                .object_id
                .as_ref()
                .is_none_or(|i| *i == tuple.object.id)
            && self.relation.as_ref().is_none_or(|r| *r == tuple.relation)
            && self.subject.as_ref().is_none_or(|s| *s == tuple.subject)
            && self
                .subject_object_in
                .as_ref()
                .is_none_or(|o| o.matches(&tuple.subject))
    }
}

/// One page of a listing: at most `limit` items after `cursor` (an opaque
/// token from the previous page; `None` for the first page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: usize,
}

impl PageRequest {
    pub fn first(limit: usize) -> PageRequest {
        PageRequest {
            cursor: None,
            limit,
        }
    }
}

/// A page of results; `next_cursor` is `None` on the last page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Why a store operation failed. Nothing was written when a write fails.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("invalid tuple `{tuple}`: {reason}")]
    InvalidTuple { tuple: String, reason: String },
    #[error("revision {requested} is in the future; the store is at revision {head}")]
    FutureRevision { requested: Revision, head: Revision },
    #[error("revision {requested} is no longer readable: history before revision {horizon} was garbage-collected")]
    RevisionCollected {
        requested: Revision,
        horizon: Revision,
    },
    #[error("invalid page cursor `{0}`")]
    InvalidCursor(String),
    #[error(
        "the database schema is at version {found}, newer than this program's {supported}; upgrade zanzi"
    )]
    NewerDatabase { found: u32, supported: u32 },
    #[error("the database needs migrating (at version {found}, expected {expected}); run the migrations first")]
    NeedsMigration { found: u32, expected: u32 },
    /// The stored schema does not load (modified by hand, or written by a
    /// zanzi with another IR format version).
    #[error("the schema stored in the database cannot be loaded: {0}")]
    StoredSchema(#[source] crate::ir::IrError),
    #[error("the tuple store lock was poisoned by a panic in another thread")]
    Poisoned,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Storage of relation tuples, with snapshot reads at a revision.
///
/// Writes are atomic (all or nothing) and idempotent: inserting a live
/// tuple or deleting a missing one changes nothing (never a duplicate row).
/// Reads at a revision above [`TupleStore::head_revision`] fail.
///
/// A request that makes many reads (a check, a lookup) brackets them with
/// [`TupleStore::begin_reads`]: a store may then keep state between those
/// reads (SQLite keeps one read transaction and the rows it has read).
/// Scopes change no answer; reads are still at their revision, and writes
/// may happen while a scope is open.
pub trait TupleStore: Send + Sync {
    /// Deletes `deletes`, then inserts `inserts`, in one transaction that
    /// gets the next revision. A tuple in both stays (or becomes) live.
    fn write(&self, inserts: &[Tuple], deletes: &[Tuple]) -> Result<Revision, StoreError>;

    /// Starts one request's reads; the scope ends when the guard drops.
    /// Scopes may nest and overlap (several threads).
    fn begin_reads(&self) -> ReadScope<'_> {
        ReadScope::none()
    }

    /// Ends a scope of [`TupleStore::begin_reads`]; called by its guard.
    fn end_reads(&self) {}

    /// Deletes every live tuple matching `filter`, in one transaction.
    fn delete_matching(&self, filter: &TupleFilter) -> Result<Revision, StoreError>;

    /// The latest revision; reads at it see every committed write.
    fn head_revision(&self) -> Result<Revision, StoreError>;

    /// Forward lookup: the subjects of `namespace:object_id#relation` at `at`,
    /// of the given kind, in a deterministic order.
    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
    ) -> Result<Vec<Subject>, StoreError>;

    /// Whether exactly this tuple is live at `at`.
    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError> {
        Ok(self
            .subjects(
                &tuple.object.namespace,
                &tuple.object.id,
                &tuple.relation,
                SubjectKind::All,
                at,
            )?
            .contains(&tuple.subject))
    }

    /// [`TupleStore::subjects`] without copies: calls `visit` with each
    /// subject, in the same order. `visit` must not call the store.
    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        for subject in self.subjects(namespace, object_id, relation, kind, at)? {
            visit(subject.borrowed());
        }
        Ok(())
    }

    /// The one read a check makes of a stored relation
    /// `namespace:object_id#relation` at `at`: whether the probed subject
    /// and the probed wildcard are stored, and (with `probe.sets`) its
    /// subject sets, passed to `sets` in the order of [`TupleStore::subjects`].
    /// When the subject or the wildcard is found, the sets may be skipped.
    /// `sets` must not call the store.
    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        at: Revision,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let object = Object::new(namespace, object_id);
        let has =
            |subject: Subject| self.contains(&Tuple::new(object.clone(), relation, subject), at);
        let hit = ProbeHit {
            subject: match probe.subject {
                Some(subject) => has(subject.to_subject())?,
                None => false,
            },
            wildcard: match probe.wildcard {
                Some(namespace) => has(Subject::wildcard(namespace))?,
                None => false,
            },
        };
        if probe.sets && !hit.subject && !hit.wildcard {
            self.for_each_subject(namespace, object_id, relation, SubjectKind::Sets, at, sets)?;
        }
        Ok(hit)
    }

    /// A hint: the caller is about to read these objects of `namespace` at
    /// `at`, within the current read scope, so a store may read them now,
    /// together. Changes no answer; the default does nothing.
    fn prefetch(
        &self,
        namespace: &str,
        object_ids: &[&str],
        at: Revision,
    ) -> Result<(), StoreError> {
        let _ = (namespace, object_ids, at);
        Ok(())
    }

    /// Reverse lookup: the IDs of the objects of `namespace` whose `relation`
    /// holds exactly `subject` at `at`, sorted.
    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Vec<String>, StoreError>;

    /// [`TupleStore::objects_with_subject`] without copies: calls `visit`
    /// with each ID, in no particular order (an ID may come more than once).
    /// `visit` must not call the store.
    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        for id in self.objects_with_subject(namespace, relation, subject, at)? {
            visit(&id);
        }
        Ok(())
    }

    /// The live tuples matching `filter` at `at`, a page at a time, in a
    /// stable order.
    fn list(
        &self,
        filter: &TupleFilter,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<Tuple>, StoreError>;

    /// A random identifier fixed when the store was created, so that
    /// snapshot tokens of one store are refused by another.
    fn store_id(&self) -> Result<String, StoreError>;

    /// Removes every tuple version deleted at or before `before` (clamped to
    /// the head) and returns how many were removed. Reads at any revision
    /// from `before` on are unchanged; reads below it fail from then on
    /// with [`StoreError::RevisionCollected`]. Live tuples are never removed.
    fn gc(&self, before: Revision) -> Result<u64, StoreError>;

    /// The oldest readable revision: the highest `before` given to
    /// [`TupleStore::gc`] so far (0 when nothing was collected).
    fn gc_horizon(&self) -> Result<Revision, StoreError>;

    /// The newest revision committed at or before `unix_millis`
    /// (milliseconds since the Unix epoch), or `None` when none was or the
    /// store keeps no commit times. Garbage collection uses it, so that a
    /// restarted server collects on the same schedule as before.
    fn revision_as_of(&self, _unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        Ok(None)
    }

    /// Whether forward and reverse reads are answered from memory, without
    /// I/O (callers may then run evaluations without a blocking thread).
    fn reads_from_memory(&self) -> bool {
        false
    }
}

/// 16 random bytes in hex: store ids.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // Without an entropy source, fall back to the clock: ids then only need
    // to differ between stores, not to be secret.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why [`write_validated`] wrote nothing.
#[derive(Debug, Error)]
pub enum ValidatedWriteError {
    /// Every tuple the schema rejects, with its index in the inserts.
    #[error("{} tuple(s) rejected by the schema; the first: {}", .0.len(), .0.first().map(|(_, e)| e.to_string()).unwrap_or_default())]
    Rejected(Vec<(usize, WriteError)>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates every insert against `schema` and writes only when all pass:
/// the write path for anything facing users. Deletes are not validated, so
/// tuples left over from an older schema can still be removed.
pub fn write_validated(
    store: &dyn TupleStore,
    schema: &Schema,
    inserts: &[Tuple],
    deletes: &[Tuple],
) -> Result<Revision, ValidatedWriteError> {
    let rejected: Vec<(usize, WriteError)> = inserts
        .iter()
        .enumerate()
        .filter_map(|(i, t)| validate_tuple(schema, t).err().map(|e| (i, e)))
        .collect();
    if !rejected.is_empty() {
        return Err(ValidatedWriteError::Rejected(rejected));
    }
    Ok(store.write(inserts, deletes)?)
}

/// Checks well-formedness of every tuple of a write before anything is stored.
pub(crate) fn check_all(tuples: &[Tuple]) -> Result<(), StoreError> {
    for tuple in tuples {
        tuple
            .check_well_formed()
            .map_err(|reason| StoreError::InvalidTuple {
                tuple: tuple.to_string(),
                reason,
            })?;
    }
    Ok(())
}
