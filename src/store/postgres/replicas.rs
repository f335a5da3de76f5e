//! Reads from PostgreSQL hot standbys ([`ReplicatedStore`]): one primary
//! [`PostgresStore`] for writes, the schema and upkeep, and any number of
//! read replicas that serve snapshots they have replayed.
//!
//! PostgreSQL-only on purpose: the routing rests on what a streaming
//! standby is. It replays `zanzi_meta.head` in the same WAL records as the
//! tuples of that revision, so a standby's own head is exactly the newest
//! revision it has replayed, consistent with its tuples. A reader on a
//! standby begins `REPEATABLE READ` with the query that reads that head
//! (as every [`PostgresReader`] does) and serves revision `r` only when
//! `r <= head`; otherwise the read goes to the primary. Revisions keep
//! their meaning: a read at `r` sees the same tuples on every copy.
//!
//! Which revision a request reads at is the server's choice
//! (`server::consistency`); this store only routes a snapshot at `r` to a
//! replica known to have replayed `r`, else to the primary. What it knows
//! of each replica's head is read by [`ReplicatedStore::refresh`]: when a
//! revision is asked for that no replica is known to have
//! ([`ReplicatedStore::has_replayed`]), and when what is known has grown
//! old ([`ReplicatedStore::newest_replayed`]). A snapshot itself costs no
//! more round trips on a replica than on the primary.
//!
//! Failures never become wrong answers or outages while the primary is up:
//! a replica that cannot be reached is skipped for a while (and tried again
//! later); a read that fails on a replica, including one cancelled by a
//! conflict with recovery (SQLSTATE 40001, "canceling statement due to
//! conflict with recovery", after `max_standby_streaming_delay`), is
//! repeated on the primary at the same revision.

use std::cell::{Cell, OnceCell};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use thiserror::Error;

use super::pool::Pool;
use super::{pool_for, to_revision, PostgresReader, PostgresStore};
use crate::store::location::without_password;
use crate::store::object_cache::{LoadedObject, ObjectSource};
use crate::store::paging::{Page, PageRequest};
use crate::store::{
    ChangeSet, ImportReport, Maintenance, Probe, ProbeHit, Reader, Revision, SchemaStore,
    StoreError, SubjectKind, TupleFilter, TupleStore,
};
use crate::tuple::{Subject, SubjectRef, Tuple};

/// How long taking a pooled replica connection may take (connecting
/// included): a replica that is slow to answer is skipped rather than
/// waited for.
const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(500);

/// How long an unreachable replica is skipped before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Why a replicated store could not be opened.
#[derive(Debug, Error)]
pub enum ReplicaError {
    /// The primary failed.
    #[error(transparent)]
    Primary(#[from] StoreError),
    /// A replica cannot be used; `url` is shown without its password.
    #[error("read replica `{url}`: {reason}")]
    Replica { url: String, reason: String },
}

/// How many readers each side opened (a test hook and the source of the
/// `zanzi_store_reads_total{target}` metric).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadCounts {
    pub primary: u64,
    pub replica: u64,
    /// Reads that failed on a replica and were repeated on the primary.
    pub retried_on_primary: u64,
}

#[derive(Debug, Default)]
struct Counters {
    primary: AtomicU64,
    replica: AtomicU64,
    retried: AtomicU64,
}

impl Counters {
    fn primary(&self) {
        self.primary.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("zanzi_store_reads_total", "target" => "primary").increment(1);
    }

    fn replica(&self) {
        self.replica.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("zanzi_store_reads_total", "target" => "replica").increment(1);
    }
}

/// What is known of one replica.
#[derive(Debug, Default)]
struct Health {
    /// The newest head read there.
    head: Option<Revision>,
    /// When it was read.
    seen: Option<Instant>,
    /// Skipped until then after a failure.
    down_until: Option<Instant>,
    /// Its store id matched the primary's.
    verified: bool,
    /// It holds another database: never used.
    refused: bool,
}

/// One read replica: a pool of connections and what is known of it.
struct Replica {
    /// The URL without its password, for messages and logs.
    shown: String,
    pool: Arc<Pool>,
    health: Mutex<Health>,
}

impl Replica {
    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        // Health is a few plain fields, consistent at every point: a panic
        // elsewhere cannot leave it half-updated.
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Usable now (not refused, not waiting after a failure).
    fn usable(&self, now: Instant) -> bool {
        let health = self.health();
        !health.refused && health.down_until.is_none_or(|until| now >= until)
    }

    /// Whether it is known to have replayed `at`.
    fn has(&self, at: Revision, now: Instant) -> bool {
        let health = self.health();
        !health.refused
            && health.verified
            && health.down_until.is_none_or(|until| now >= until)
            && health.head.is_some_and(|head| head >= at)
    }

    fn saw(&self, head: Revision) {
        let mut health = self.health();
        health.head = health.head.max(Some(head));
        health.seen = Some(Instant::now());
        health.down_until = None;
    }

    fn failed(&self, error: &StoreError) {
        let refused = {
            let mut health = self.health();
            health.down_until = Some(Instant::now() + RETRY_AFTER);
            health.refused
        };
        if refused {
            tracing::error!(replica = %self.shown, error = %error,
                "read replica refused: it is not a copy of the primary; reading from the primary");
        } else {
            tracing::warn!(replica = %self.shown, error = %error,
                "read replica unavailable; reading from the primary until it is back");
        }
    }

    /// Reads its head (and, the first time, checks that it holds the
    /// primary's database): one round trip.
    fn probe(&self, store_id: &str) -> Result<Revision, StoreError> {
        let mut conn = self.pool.get_tested()?;
        let row = conn.query_one("SELECT head, store_id FROM zanzi_meta WHERE id = 1", &[])?;
        let head = to_revision(row.try_get(0)?);
        let found: String = row.try_get(1)?;
        if found != store_id {
            self.health().refused = true;
            return Err(StoreError::Backend(
                format!(
                    "it is a replica of another database (store id {found}, the primary's is {store_id})"
                )
                .into(),
            ));
        }
        self.health().verified = true;
        self.saw(head);
        Ok(head)
    }
}

/// A [`PostgresStore`] whose reads may be served by hot standbys.
pub struct ReplicatedStore {
    primary: PostgresStore,
    replicas: Vec<Replica>,
    /// Round-robin start among replicas.
    next: AtomicUsize,
    counters: Counters,
}

impl std::fmt::Debug for ReplicatedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicatedStore")
            .field("primary", &self.primary)
            .field(
                "replicas",
                &self.replicas.iter().map(|r| &r.shown).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Whether a read that failed on a replica may be repeated on the primary:
/// the replica went away, or cancelled the read for a conflict with
/// recovery (40001 for snapshots, 40P01 for a standby deadlock). A replica
/// is read-only, so it raises these for no other reason.
fn retry_on_primary(error: &StoreError) -> bool {
    match error {
        StoreError::Unavailable(_) => true,
        StoreError::Backend(source) => {
            // The server's errors are kept as its own `DbError`.
            let code = match source.downcast_ref::<postgres::error::DbError>() {
                Some(db) => Some(db.code()),
                None => source
                    .downcast_ref::<postgres::Error>()
                    .and_then(postgres::Error::code),
            };
            code.is_some_and(|code| {
                *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
            })
        }
        _ => false,
    }
}

impl ReplicatedStore {
    /// Connects to the primary at `primary` (migrating it, as
    /// [`PostgresStore::connect`]) and to each replica URL. A replica that
    /// is reachable must hold the primary's database (the same store id);
    /// one that is not reachable yet is checked when it first answers.
    pub fn connect(primary: &str, replicas: &[String]) -> Result<ReplicatedStore, ReplicaError> {
        let primary = PostgresStore::connect(primary)?;
        let mut opened = Vec::new();
        for url in replicas {
            let shown = without_password(url);
            let refuse = |reason: String| ReplicaError::Replica {
                url: shown.clone(),
                reason,
            };
            // Nothing is connected yet: a replica that is down at start is
            // tried later.
            let pool = pool_for(url)
                .map_err(|e| refuse(crate::diagnostics::with_causes(&e).to_string()))?
                .with_budget(CHECKOUT_TIMEOUT);
            let replica = Replica {
                shown: shown.clone(),
                pool: Arc::new(pool),
                health: Mutex::new(Health::default()),
            };
            match replica.probe(&primary.id) {
                Ok(_) => {}
                Err(StoreError::Unavailable(e)) => {
                    replica.failed(&StoreError::Unavailable(e));
                }
                Err(e) => return Err(refuse(e.to_string())),
            }
            opened.push(replica);
        }
        Ok(ReplicatedStore {
            primary,
            replicas: opened,
            next: AtomicUsize::new(0),
            counters: Counters::default(),
        })
    }

    /// The primary.
    pub fn primary(&self) -> &PostgresStore {
        &self.primary
    }

    /// How many readers were opened on each side so far.
    pub fn read_counts(&self) -> ReadCounts {
        ReadCounts {
            primary: self.counters.primary.load(Ordering::Relaxed),
            replica: self.counters.replica.load(Ordering::Relaxed),
            retried_on_primary: self.counters.retried.load(Ordering::Relaxed),
        }
    }

    /// Reads the head of every usable replica now (one round trip each);
    /// a replica that fails is skipped for a while.
    pub fn refresh(&self) {
        let now = Instant::now();
        for replica in self.replicas.iter().filter(|r| r.usable(now)) {
            if let Err(e) = replica.probe(&self.primary.id) {
                replica.failed(&e);
            }
        }
    }

    /// The newest revision some usable replica is known to have replayed;
    /// reads there are served by a replica. Refreshes first when nothing
    /// was read from the replicas for `max_age`.
    pub fn newest_replayed(&self, max_age: Duration) -> Option<Revision> {
        let stale = self
            .replicas
            .iter()
            .all(|r| r.health().seen.is_none_or(|seen| seen.elapsed() >= max_age));
        if stale {
            self.refresh();
        }
        let now = Instant::now();
        self.replicas
            .iter()
            .filter(|r| r.usable(now))
            .filter_map(|r| {
                let health = r.health();
                health.verified.then_some(health.head).flatten()
            })
            .max()
    }

    /// Whether some replica has replayed `at`, asking the replicas when
    /// none is known to have.
    pub fn has_replayed(&self, at: Revision) -> bool {
        let now = Instant::now();
        if self.replicas.iter().any(|r| r.has(at, now)) {
            return true;
        }
        self.refresh();
        let now = Instant::now();
        self.replicas.iter().any(|r| r.has(at, now))
    }

    fn primary_reader(&self, at: Revision) -> Result<PostgresReader, StoreError> {
        self.counters.primary();
        PostgresReader::new(Arc::clone(self.primary.pool()?), at)
    }

    /// A reader at `at` on a replica known to have replayed it, if one
    /// opens.
    fn replica_reader(&self, at: Revision) -> Option<(&Replica, PostgresReader)> {
        let count = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        for i in 0..count {
            let Some(replica) = self.replicas.get((start + i) % count) else {
                continue;
            };
            if !replica.has(at, now) {
                continue;
            }
            let opened = PostgresReader::new(Arc::clone(&replica.pool), at);
            match opened {
                Ok(reader) => {
                    self.counters.replica();
                    return Some((replica, reader));
                }
                // Behind after all (a standby rebuilt from an older
                // backup): note its head and go on.
                Err(StoreError::FutureRevision { head, .. }) => {
                    replica.health().head = Some(head);
                }
                Err(e) => replica.failed(&e),
            }
        }
        None
    }
}

impl TupleStore for ReplicatedStore {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        match self.replica_reader(at) {
            Some((replica, reader)) => Ok(Box::new(ReplicaReader {
                store: self,
                replica,
                on_replica: reader,
                failed: Cell::new(false),
                on_primary: OnceCell::new(),
                at,
            })),
            None => Ok(Box::new(self.primary_reader(at)?)),
        }
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        self.primary.head_revision()
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        self.primary.apply(changes)
    }

    fn import(&self, tuples: &[Tuple], batch_size: usize) -> Result<ImportReport, StoreError> {
        self.primary.import(tuples, batch_size)
    }

    fn store_id(&self) -> Result<String, StoreError> {
        self.primary.store_id()
    }

    fn history_chain(
        &self,
        at: Revision,
    ) -> Result<Option<crate::store::history::Chain>, StoreError> {
        self.primary.history_chain(at)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.primary.secret_fingerprint()
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.primary.set_secret_fingerprint(fingerprint)
    }

    fn changes_since(
        &self,
        after: Revision,
        limit: usize,
    ) -> Result<crate::store::ChangeBatch, StoreError> {
        self.primary.changes_since(after, limit)
    }

    fn wakeup(&self) -> Result<Box<dyn crate::store::feed::Wakeup>, StoreError> {
        self.primary.wakeup()
    }
}

/// Whole objects for the bounded cache come from the primary: an entry is
/// exact from the head it was read at, which the feed (also the primary's)
/// then keeps current.
impl ObjectSource for ReplicatedStore {
    fn load_object(
        &self,
        namespace: &str,
        object_id: &str,
        max_versions: usize,
    ) -> Result<LoadedObject, StoreError> {
        self.primary.load_object(namespace, object_id, max_versions)
    }
}

impl SchemaStore for ReplicatedStore {
    fn save_schema(&self, schema: &crate::ir::Schema) -> Result<bool, StoreError> {
        self.primary.save_schema(schema)
    }

    fn load_schema(&self) -> Result<Option<crate::ir::Schema>, StoreError> {
        self.primary.load_schema()
    }

    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        self.primary.schema_hash()
    }

    fn schema_history(&self) -> Result<Vec<crate::store::SchemaRecord>, StoreError> {
        self.primary.schema_history()
    }
}

impl Maintenance for ReplicatedStore {
    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        self.primary.gc(before)
    }

    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        self.primary.gc_horizon()
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        self.primary.revision_as_of(unix_millis)
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.primary.live_count()
    }

    fn gc_expired(&self, now: crate::tuple::Expiry, limit: usize) -> Result<u64, StoreError> {
        self.primary.gc_expired(now, limit)
    }
}

/// A snapshot served by a replica, moved to the primary (at the same
/// revision, so with the same answers) when a read fails there.
struct ReplicaReader<'a> {
    store: &'a ReplicatedStore,
    replica: &'a Replica,
    on_replica: PostgresReader,
    /// A read failed on the replica: the rest go to the primary.
    failed: Cell<bool>,
    on_primary: OnceCell<PostgresReader>,
    at: Revision,
}

impl ReplicaReader<'_> {
    /// Runs `read` on the replica, or on the primary once the replica has
    /// failed. A read calls its visitor only after its query succeeded, so
    /// a failed read visited nothing and may be repeated.
    fn read<T>(
        &self,
        mut read: impl FnMut(&PostgresReader) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !self.failed.get() {
            match read(&self.on_replica) {
                Err(e) if retry_on_primary(&e) => {
                    self.failed.set(true);
                    self.store.counters.retried.fetch_add(1, Ordering::Relaxed);
                    if matches!(e, StoreError::Unavailable(_)) {
                        self.replica.failed(&e);
                    } else {
                        tracing::info!(replica = %self.replica.shown, error = %e,
                            "a read on a replica was cancelled; repeating it on the primary");
                    }
                }
                other => return other,
            }
        }
        if self.on_primary.get().is_none() {
            let reader = self.store.primary_reader(self.at)?;
            let _ = self.on_primary.set(reader);
        }
        match self.on_primary.get() {
            Some(reader) => read(reader),
            None => Err(StoreError::Backend(
                "no reader on the primary after opening one".into(),
            )),
        }
    }
}

impl Reader for ReplicaReader<'_> {
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
        self.read(|r| r.for_each_subject(namespace, object_id, relation, kind, visit))
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        self.read(|r| r.contains(tuple))
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        self.read(|r| r.probe(namespace, object_id, relation, probe, sets))
    }

    fn prefetch(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        self.read(|r| r.prefetch(namespace, object_ids))
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        self.read(|r| r.for_each_object_with_subject(namespace, relation, subject, visit))
    }

    fn for_each_attributed(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.read(|r| r.for_each_attributed(namespace, object_id, relation, visit))
    }

    fn for_each_attributed_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.read(|r| r.for_each_attributed_with_subject(namespace, relation, subject, visit))
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        self.read(|r| r.list(filter, page))
    }
}
