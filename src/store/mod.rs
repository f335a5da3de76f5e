//! Tuple storage: the traits every backend implements, and their
//! implementations: [`MemoryStore`] (tests and embedding), [`SqliteStore`]
//! (durable, one machine), [`PostgresStore`] (durable, shared by many
//! servers), [`CachedStore`] (a durable store read through an in-memory
//! mirror), [`MirrorStore`] (the same over a database shared with other
//! writers, kept current by the change feed) and [`ObjectCache`] (a bounded
//! cache over such a database). [`Location`] says which one a `--db` value names;
//! `docs/store.md` says what a new backend implements.
//!
//! Stores are revisioned from the start so that the engine can evaluate a
//! whole request, or page through a lookup, against one consistent snapshot
//! while writes go on. Every write transaction gets the next [`Revision`];
//! every stored version of a tuple carries the revision that created it and
//! the one that deleted it (`None` while live), so a read at revision `R`
//! sees exactly the tuples with `created <= R` and (`deleted` unset or
//! `> R`). Deleting a tuple and writing it again creates a new version;
//! history is kept until [`Maintenance::gc`] removes the versions deleted
//! before a revision; snapshots below that revision (the *horizon*) then
//! fail with [`StoreError::RevisionCollected`] instead of answering wrongly.
//!
//! The traits, in the shape of SpiceDB's datastore layer:
//! - [`TupleStore`]: [`TupleStore::snapshot`] gives a [`Reader`] at one
//!   revision, checked once when it is taken; the reader's lifetime is the
//!   request's read scope. [`TupleStore::apply`] writes a [`ChangeSet`] in
//!   one transaction.
//! - [`SchemaStore`]: the compiled schema kept beside the tuples.
//! - [`Maintenance`]: garbage collection and commit times.
//! - [`Store`]: all three, what a server holds.
//!
//! Tuple storage knows nothing of schemas: it checks only that tuples are
//! well formed ([`Tuple::check_well_formed`]); [`validated`] checks a write
//! against a schema first.
//!
//! **Conditions and expiry.** A store keeps a tuple's condition (its name
//! and canonical context) and its expiry with it, and gives them back
//! exactly, without judging them. A store holds one live tuple per
//! [`Tuple::key`]: writing a live key again with the same condition and
//! expiry changes nothing, with others it replaces the tuple (a delete and
//! an insert at the write's revision); a delete deletes by key. The plain
//! reads ([`Reader::for_each_subject`], [`Reader::probe`],
//! [`Reader::contains`], [`Reader::for_each_object_with_subject`]) see
//! plain tuples only; [`Reader::for_each_attributed`] and
//! [`Reader::for_each_attributed_with_subject`] the others, expired ones
//! included (the engine judges expiry by its clock), until
//! [`Maintenance::gc_expired`] deletes them.

pub mod cached;
pub mod feed;
pub mod history;
mod identity;
pub mod location;
pub mod memory;
pub mod mirror;
pub mod object_cache;
pub mod overlay;
pub mod paging;
pub mod postgres;
pub mod revision;
pub mod sqlite;
pub mod validated;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::tuple::{Expiry, Object, Subject, SubjectRef, Tuple};

pub use self::postgres::PostgresStore;
pub use cached::CachedStore;
pub use feed::{Change, ChangeBatch, ChangeKind, Follower};
pub use location::Location;
pub use memory::MemoryStore;
pub use mirror::MirrorStore;
pub use object_cache::ObjectCache;
pub use paging::{Page, PageRequest};
pub use revision::Revision;
pub use sqlite::{MigrationStatus, SqliteStore};
pub use validated::{write_validated, ValidatedWriteError};

pub(crate) use identity::{check_inserts, is_live, stored_context, KeyRef};

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

/// What [`Reader::probe`] looks for in one stored relation.
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
    /// Whether to say ([`ProbeHit::attributed`]) that a tuple with a
    /// condition or an expiry names the subject or the wildcard, so that
    /// the caller reads those before it walks the subject sets.
    pub attributed: bool,
}

/// What [`Reader::probe`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeHit {
    /// The probed subject is stored.
    pub subject: bool,
    /// The probed wildcard is stored.
    pub wildcard: bool,
    /// With [`Probe::attributed`]: a live tuple with a condition or an
    /// expiry (expired or not) names the probed subject or wildcard. A hint
    /// for the order of reads, never an answer: a store may leave it false
    /// (then the caller reads them after the subject sets).
    pub attributed: bool,
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

/// `{namespace: doc, object_id: 1, relation: viewer, subject: user:alice}`,
/// the fields that are set (`{}` matches every tuple).
impl std::fmt::Display for TupleFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut fields: Vec<String> = Vec::new();
        let mut field = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                fields.push(format!("{name}: {value}"));
            }
        };
        field("namespace", self.namespace.clone());
        field("object_id", self.object_id.clone());
        field("relation", self.relation.clone());
        field("subject", self.subject.as_ref().map(ToString::to_string));
        field(
            "subject_id",
            self.subject_object_in
                .as_ref()
                .map(|o| format!("{} in {}", o.id, o.namespaces.join("|"))),
        );
        write!(f, "{{{}}}", fields.join(", "))
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

/// How a [`TupleStore::import`] went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Tuples written (new live tuples).
    pub inserted: u64,
    /// Tuples that were already live.
    pub unchanged: u64,
    /// One revision per batch; the last is the store's head after the import.
    pub revisions: Vec<Revision>,
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
    /// The database's layout was written by a newer zanzi.
    #[error(
        "the database schema is at version {found}, newer than this program's {supported}; upgrade zanzi"
    )]
    NewerDatabase { found: u32, supported: u32 },
    /// The database's layout is older than this zanzi's and was opened
    /// without migrating.
    #[error("the database needs migrating (at version {found}, expected {expected}); run the migrations first")]
    NeedsMigration { found: u32, expected: u32 },
    /// Migrating down would delete data (tuples, the stored schema) and
    /// was not allowed to; nothing was changed.
    #[error("migrating down to version {to} would delete {what}")]
    WouldLoseData { to: u32, what: String },
    /// The database holds another application's tables and no zanzi
    /// layout; nothing was written to it.
    #[error("the database is not zanzi's: it holds other tables ({tables}) and no zanzi data")]
    NotZanzi { tables: String },
    /// The stored schema does not load (modified by hand, or written by a
    /// zanzi with another IR format version).
    #[error("the schema stored in the database cannot be loaded: {0}")]
    StoredSchema(#[source] crate::ir::IrError),
    #[error("the tuple store lock was poisoned by a panic in another thread")]
    Poisoned,
    /// A precondition of a [`ChangeSet`] did not hold when the write was
    /// about to be made; nothing was written. `index` is its position in
    /// [`ChangeSet::preconditions`], `precondition` says what it asked.
    #[error("precondition {index} failed: {precondition}")]
    PreconditionFailed { index: usize, precondition: String },
    /// The backend failed (I/O, a constraint, a lost connection); its own
    /// error is the source.
    #[error("database error: {}", crate::diagnostics::with_causes(.0.as_ref()))]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database cannot be reached (refused, timed out, the connection
    /// dropped): nothing was answered, and a retry may succeed.
    #[error("the database is unavailable: {}", crate::diagnostics::with_causes(.0.as_ref()))]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The writes of one transaction: `preconditions` checked first, then
/// `delete_matching`, then `deletes`, then `inserts`, all at the next
/// revision. Deletes go by key ([`Tuple::key`]), whatever the condition;
/// an insert whose key is live with another condition or expiry replaces
/// that tuple. A key both deleted and inserted stays (or becomes) live as
/// inserted. `inserts` may not hold one key twice with different
/// conditions or expiries ([`StoreError::InvalidTuple`]).
///
/// A change set rather than a closure over a transaction: a decorator
/// ([`CachedStore`]) mirrors exactly what was committed, and a backend can
/// apply it inside its own transaction.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChangeSet<'a> {
    pub inserts: &'a [Tuple],
    pub deletes: &'a [Tuple],
    /// Deletes every live tuple matching this filter.
    pub delete_matching: Option<&'a TupleFilter>,
    /// Checked in order, inside the write's transaction, against the live
    /// tuples as they are just before this write (every earlier write
    /// committed, no later one begun); the first that does not hold fails
    /// the write with [`StoreError::PreconditionFailed`] and nothing is
    /// written.
    pub preconditions: &'a [Precondition],
}

/// What a [`Precondition`] asks of the live tuples matching its filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreconditionKind {
    /// At least one live tuple matches.
    MustExist,
    /// No live tuple matches.
    MustNotExist,
}

/// "A live tuple matching `filter` must (not) exist", checked in the
/// write's transaction (SpiceDB's preconditions, keto#328): with it, "grant
/// only if still a member" and compare-and-set need no lock of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precondition {
    pub kind: PreconditionKind,
    pub filter: TupleFilter,
}

impl Precondition {
    pub fn must_exist(filter: TupleFilter) -> Precondition {
        Precondition {
            kind: PreconditionKind::MustExist,
            filter,
        }
    }

    pub fn must_not_exist(filter: TupleFilter) -> Precondition {
        Precondition {
            kind: PreconditionKind::MustNotExist,
            filter,
        }
    }

    /// Whether it holds, given whether some live tuple matches its filter.
    pub fn holds(&self, some_match: bool) -> bool {
        match self.kind {
            PreconditionKind::MustExist => some_match,
            PreconditionKind::MustNotExist => !some_match,
        }
    }
}

/// `a live tuple matching {…} must exist`.
impl std::fmt::Display for Precondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let must = match self.kind {
            PreconditionKind::MustExist => "must exist",
            PreconditionKind::MustNotExist => "must not exist",
        };
        write!(f, "a live tuple matching {} {must}", self.filter)
    }
}

/// Checks `preconditions` in order, `some_match` telling whether a live
/// tuple matches a filter: what every store runs inside its write
/// transaction before writing.
pub(crate) fn check_preconditions(
    preconditions: &[Precondition],
    mut some_match: impl FnMut(&TupleFilter) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    for (index, precondition) in preconditions.iter().enumerate() {
        if !precondition.holds(some_match(&precondition.filter)?) {
            return Err(StoreError::PreconditionFailed {
                index,
                precondition: precondition.to_string(),
            });
        }
    }
    Ok(())
}

/// One request's view of a store at one revision, from
/// [`TupleStore::snapshot`] until dropped (the read scope: SQLite keeps one
/// read transaction and the rows it read for that long). Writes may happen
/// while a reader is alive; they are not seen.
pub trait Reader {
    /// The revision every read answers at.
    fn revision(&self) -> Revision;

    /// Forward lookup: the subjects of `namespace:object_id#relation`, of
    /// the given kind, in a deterministic order.
    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
    ) -> Result<Vec<Subject>, StoreError> {
        let mut out = Vec::new();
        self.for_each_subject(namespace, object_id, relation, kind, &mut |subject| {
            out.push(subject.to_subject());
        })?;
        Ok(out)
    }

    /// [`Reader::subjects`] without copies: calls `visit` with each subject,
    /// in the same order. `visit` must not call the store.
    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError>;

    /// Whether exactly this tuple is live: a plain read, so false for a
    /// tuple with a condition or an expiry.
    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        Ok(tuple.is_plain()
            && self
                .subjects(
                    &tuple.object.namespace,
                    &tuple.object.id,
                    &tuple.relation,
                    SubjectKind::All,
                )?
                .contains(&tuple.subject))
    }

    /// Calls `view` with the store's plain tuples at this revision, read
    /// from memory in the store's own numbers under one read lock, and
    /// returns `true`; a store without such a view returns `false` and
    /// leaves `view` uncalled. A check over the view reads no string per
    /// probe and takes no lock per read, so it must be short: the lock
    /// holds writers up while `view` runs. A reader that adds tuples to
    /// its store's (contextual tuples) must not pass the view on.
    fn with_memory_view(
        &self,
        view: &mut dyn FnMut(&memory::MemoryView<'_>),
    ) -> Result<bool, StoreError> {
        let _ = view;
        Ok(false)
    }

    /// The one read a check makes of a stored relation
    /// `namespace:object_id#relation`: whether the probed subject and the
    /// probed wildcard are stored, and (with `probe.sets`) its subject sets,
    /// passed to `sets` in the order of [`Reader::subjects`]. When the
    /// subject or the wildcard is found, the sets may be skipped. `sets`
    /// must not call the store.
    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let object = Object::new(namespace, object_id);
        let has = |subject: Subject| self.contains(&Tuple::new(object.clone(), relation, subject));
        let hit = ProbeHit {
            subject: match probe.subject {
                Some(subject) => has(subject.to_subject())?,
                None => false,
            },
            wildcard: match probe.wildcard {
                Some(namespace) => has(Subject::wildcard(namespace))?,
                None => false,
            },
            attributed: false,
        };
        if probe.sets && !hit.subject && !hit.wildcard {
            self.for_each_subject(namespace, object_id, relation, SubjectKind::Sets, sets)?;
        }
        Ok(hit)
    }

    /// A hint from a check: it is about to visit these objects of
    /// `namespace` one after another, and may stop at the first that
    /// answers. A store whose every read is a round trip (a cache over a
    /// remote database) may read them now, together. Changes no answer; the
    /// default does nothing.
    fn will_visit(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        let _ = (namespace, object_ids);
        Ok(())
    }

    /// Whether [`Reader::will_visit`] does anything here: callers skip
    /// gathering the hint otherwise.
    fn wants_visit_hints(&self) -> bool {
        false
    }

    /// A hint: the caller is about to read these objects of `namespace`,
    /// so a store may read them now, together. Changes no answer; the
    /// default does nothing.
    fn prefetch(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        let _ = (namespace, object_ids);
        Ok(())
    }

    /// The live tuples of `namespace:object_id#relation` that carry a
    /// condition or an expiry, expired ones included (the engine judges
    /// expiry by its own clock), in a deterministic order. Every other
    /// read ([`Reader::for_each_subject`], [`Reader::probe`],
    /// [`Reader::contains`], [`Reader::for_each_object_with_subject`])
    /// answers from plain tuples only, so that a read which does not look
    /// for conditions can never grant through one. The default pages
    /// through [`Reader::list`]; a store may answer from an index.
    fn for_each_attributed(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        let filter = TupleFilter {
            namespace: Some(namespace.to_owned()),
            object_id: Some(object_id.to_owned()),
            relation: Some(relation.to_owned()),
            ..TupleFilter::default()
        };
        for_each_listed(self, &filter, &mut |tuple| {
            if !tuple.is_plain() {
                visit(tuple);
            }
        })
    }

    /// Reverse lookup among the tuples that carry a condition or an expiry:
    /// those of `namespace`'s `relation` whose subject is exactly
    /// `subject`, expired ones included, in no particular order.
    fn for_each_attributed_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        let filter = TupleFilter {
            namespace: Some(namespace.to_owned()),
            relation: Some(relation.to_owned()),
            subject: Some(subject.clone()),
            ..TupleFilter::default()
        };
        for_each_listed(self, &filter, &mut |tuple| {
            if !tuple.is_plain() {
                visit(tuple);
            }
        })
    }

    /// Reverse lookup: the IDs of the objects of `namespace` whose `relation`
    /// holds exactly `subject`, sorted.
    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
    ) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        self.for_each_object_with_subject(namespace, relation, subject, &mut |id| {
            ids.push(id.to_owned());
        })?;
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// [`Reader::objects_with_subject`] without copies: calls `visit` with
    /// each ID, in no particular order (an ID may come more than once).
    /// `visit` must not call the store.
    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError>;

    /// The live tuples matching `filter`, a page at a time, in a stable
    /// order (see [`paging`]).
    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError>;
}

/// Every tuple [`Reader::list`] gives for `filter`, page after page.
fn for_each_listed<R: Reader + ?Sized>(
    reader: &R,
    filter: &TupleFilter,
    visit: &mut dyn FnMut(&Tuple),
) -> Result<(), StoreError> {
    let mut page = PageRequest::first(1000);
    loop {
        let listed = reader.list(filter, &page)?;
        for tuple in &listed.items {
            visit(tuple);
        }
        match listed.next_cursor {
            Some(cursor) => {
                page = PageRequest {
                    cursor: Some(cursor),
                    limit: 1000,
                }
            }
            None => return Ok(()),
        }
    }
}

/// Storage of relation tuples: snapshots to read, change sets to write.
///
/// Writes are atomic (all or nothing) and idempotent: inserting a live
/// tuple or deleting a missing one changes nothing (never a duplicate row).
pub trait TupleStore: Send + Sync {
    /// A reader at `at`. Fails with [`StoreError::FutureRevision`] above the
    /// head and [`StoreError::RevisionCollected`] below the horizon (see
    /// [`revision::ensure_readable`]); the reader's reads then cannot fail
    /// for their revision. Cheap: at most one allocation.
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError>;

    /// The latest revision; a snapshot at it sees every committed write.
    fn head_revision(&self) -> Result<Revision, StoreError>;

    /// The newest revision this store answers from what it holds, without
    /// asking its database: for a cache that follows a change feed, what
    /// the feed has brought it; otherwise the head. A server reads at it
    /// when a request asks for the lowest latency.
    fn local_head(&self) -> Result<Revision, StoreError> {
        self.head_revision()
    }

    /// Writes `changes` in one transaction that gets the next revision.
    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError>;

    /// Deletes `deletes`, then inserts `inserts`, in one transaction.
    fn write(&self, inserts: &[Tuple], deletes: &[Tuple]) -> Result<Revision, StoreError> {
        self.apply(&ChangeSet {
            inserts,
            deletes,
            ..ChangeSet::default()
        })
    }

    /// Deletes every live tuple matching `filter`, in one transaction.
    fn delete_matching(&self, filter: &TupleFilter) -> Result<Revision, StoreError> {
        self.apply(&ChangeSet {
            delete_matching: Some(filter),
            ..ChangeSet::default()
        })
    }

    /// Bulk insert: writes `tuples` in transactions of `batch_size` (one
    /// revision each), skipping tuples that are already live (a tuple that
    /// replaces another of its key counts as inserted). Every tuple is
    /// checked to be well formed, and no key to come twice with different
    /// conditions or expiries, before anything is written; validate
    /// against the schema first. The default writes each batch as a change
    /// set; a backend may load faster (SQLite defers an index).
    fn import(&self, tuples: &[Tuple], batch_size: usize) -> Result<ImportReport, StoreError> {
        check_inserts(tuples)?;
        let mut report = ImportReport::default();
        for batch in tuples.chunks(batch_size.max(1)) {
            let mut new = std::collections::HashSet::new();
            {
                let reader = self.snapshot(self.head_revision()?)?;
                for tuple in batch {
                    if !is_live(reader.as_ref(), tuple)? {
                        new.insert(tuple);
                    }
                }
            }
            let revision = self.apply(&ChangeSet {
                inserts: batch,
                ..ChangeSet::default()
            })?;
            report.inserted += new.len() as u64;
            report.unchanged += (batch.len() - new.len()) as u64;
            report.revisions.push(revision);
        }
        Ok(report)
    }

    /// A random identifier fixed when the store was created, so that
    /// snapshot tokens of one store are refused by another.
    fn store_id(&self) -> Result<String, StoreError>;

    /// The history chain of revision `at` ([`history`]), kept with the
    /// revision when it was committed: `None` when the store does not know
    /// it (a revision before the store kept chains, or above its head).
    /// Decorators ask the store they decorate.
    fn history_chain(&self, at: Revision) -> Result<Option<history::Chain>, StoreError>;

    /// The fingerprint of the secret that the servers of this store sign
    /// snapshot tokens with (never the secret itself), so that a server
    /// started with another secret can refuse to start; `None` until one
    /// is stored.
    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError>;

    /// Stores `fingerprint` as [`TupleStore::secret_fingerprint`].
    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError>;

    /// Whether forward and reverse reads are answered from memory, without
    /// I/O (callers may then run evaluations without a blocking thread).
    fn reads_from_memory(&self) -> bool {
        false
    }

    /// The change feed ([`feed`]): the changes committed after `after`, in
    /// commit order, at most about `limit` of them (a revision is never
    /// split), complete through the batch's `through`. Fails with
    /// [`StoreError::RevisionCollected`] when `after` is below the
    /// garbage-collection horizon (changes there are gone) and with
    /// [`StoreError::FutureRevision`] above the head.
    fn changes_since(&self, after: Revision, limit: usize) -> Result<ChangeBatch, StoreError>;

    /// Something that wakes a feed follower when a change may have been
    /// committed. The default polls ([`feed::POLL`]); a store shared by
    /// several processes signals (PostgreSQL's `LISTEN`).
    fn wakeup(&self) -> Result<Box<dyn feed::Wakeup>, StoreError> {
        Ok(Box::new(feed::Sleep(feed::POLL)))
    }
}

/// The compiled schema kept with the tuples: the schema the data was last
/// written against, so that a database carries what is needed to answer
/// questions about it. Not revisioned: a question at an old revision is
/// answered with the current schema.
pub trait SchemaStore: Send + Sync {
    /// Stores `schema`, replacing any other. Returns whether it changed
    /// (false when the same schema was stored).
    fn save_schema(&self, schema: &crate::ir::Schema) -> Result<bool, StoreError>;

    /// The stored schema, validated as any IR file is; `None` when none was
    /// stored.
    fn load_schema(&self) -> Result<Option<crate::ir::Schema>, StoreError>;

    /// The hash of the stored schema, without loading it.
    fn schema_hash(&self) -> Result<Option<String>, StoreError>;

    /// Every schema stored so far, oldest first. A store that keeps no
    /// history (memory, SQLite) gives the current one alone, without times.
    fn schema_history(&self) -> Result<Vec<SchemaRecord>, StoreError> {
        Ok(self
            .schema_hash()?
            .map(|hash| SchemaRecord {
                hash,
                saved_at_millis: None,
                revision: None,
            })
            .into_iter()
            .collect())
    }
}

/// One schema as it was stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaRecord {
    pub hash: String,
    /// When it was stored (milliseconds since the Unix epoch).
    pub saved_at_millis: Option<i64>,
    /// The head revision when it was stored.
    pub revision: Option<Revision>,
}

/// Upkeep that no request makes: garbage collection of history.
/// (Migrations of a database's layout belong to its backend, e.g.
/// [`sqlite::migrations`].)
pub trait Maintenance: Send + Sync {
    /// Removes every tuple version deleted at or before `before` (clamped to
    /// the head) and returns how many were removed. Snapshots at any
    /// revision from `before` on are unchanged; snapshots below it fail from
    /// then on with [`StoreError::RevisionCollected`]. Live tuples are never
    /// removed.
    fn gc(&self, before: Revision) -> Result<u64, StoreError>;

    /// The oldest readable revision: the highest `before` given to
    /// [`Maintenance::gc`] so far (0 when nothing was collected).
    fn gc_horizon(&self) -> Result<Revision, StoreError>;

    /// The newest revision committed at or before `unix_millis`
    /// (milliseconds since the Unix epoch), or `None` when none was or the
    /// store keeps no commit times. Garbage collection uses it, so that a
    /// restarted server collects on the same schedule as before.
    fn revision_as_of(&self, _unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        Ok(None)
    }

    /// How many tuples are live at the head revision (`zanzi migrate status`).
    fn live_count(&self) -> Result<u64, StoreError>;

    /// Deletes up to `limit` live tuples whose expiry has passed at `now`,
    /// as an ordinary write at a new revision (so that the change feed and
    /// every mirror see it), and returns how many; writes nothing when none
    /// has. Reads never needed it (the engine ignores an expired tuple):
    /// it keeps expired tuples from piling up.
    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError>;
}

/// Everything a server needs of one store object: tuples, the schema and
/// upkeep.
pub trait Store: TupleStore + SchemaStore + Maintenance {}

impl<T: TupleStore + SchemaStore + Maintenance> Store for T {}

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
