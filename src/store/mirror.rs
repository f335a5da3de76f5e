//! [`MirrorStore`]: every tuple version of a store shared by several
//! servers (PostgreSQL) in memory, kept current by the store's change feed.
//!
//! [`super::CachedStore`] mirrors a database it alone writes, applying its
//! own writes as it commits them. Here other servers write too, so the
//! mirror learns every write — its own included — from the feed
//! ([`super::feed`]): a thread reads each batch of changes and applies it
//! at the feed's revisions (deletes before inserts within a revision; a
//! revision without changes only moves the head). The mirror's head, the
//! *applied* revision, is therefore always a committed revision, and a
//! read at `r <= applied` answers from memory exactly as the database does
//! at `r`.
//!
//! **Fresher than the feed.** A read at `r > applied` (a snapshot token
//! from a write on another server, or this server's own write not yet
//! back from the feed) waits up to [`FRESH_WAIT`] for the thread to apply
//! `r`, woken as soon as it does, and otherwise reads the database at `r`.
//! Memory never answers for a revision it has not applied.
//!
//! **History.** Garbage collection by another process raises the
//! database's horizon; the thread reads it once per wake-up and collects
//! the same history from memory, so reads below it are refused as the
//! database refuses them. A feed that fell behind the horizon (the changes
//! it missed are gone) is not patched: the mirror is loaded afresh and
//! swapped in whole.
//!
//! Listings, the schema and upkeep go to the database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::cached::{load_mirror, MirrorReader, Mirrorable};
use super::feed::{self, FeedFollower, Wakeup, BATCH};
use super::{
    ChangeBatch, ChangeSet, ImportReport, Maintenance, MemoryStore, Reader, Revision, SchemaRecord,
    SchemaStore, StoreError, TupleStore,
};
use crate::ir;
use crate::tuple::{Expiry, Tuple};

/// How long a read above the applied revision waits for the feed before
/// it reads the database.
pub const FRESH_WAIT: Duration = Duration::from_millis(100);

/// How long [`Maintenance::gc`] waits for the feed to reach the revision
/// it collects up to, so that the feed does not fall behind the horizon
/// and force a reload.
const GC_WAIT: Duration = Duration::from_secs(5);

/// What the feed thread and the readers share.
struct Shared<D> {
    durable: D,
    /// At the applied revision.
    memory: MemoryStore,
    /// Held to check the applied revision before waiting on `applied`.
    progress: Mutex<()>,
    /// Signalled after each batch is applied.
    applied: Condvar,
    /// How many times the mirror was reloaded.
    reloads: AtomicU64,
}

/// A store read through a full in-memory mirror that follows its change
/// feed.
pub struct MirrorStore<D: Mirrorable + 'static> {
    shared: Arc<Shared<D>>,
}

impl<D: Mirrorable + 'static> std::fmt::Debug for MirrorStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorStore")
            .field("applied", &self.applied().ok())
            .finish_non_exhaustive()
    }
}

impl<D: Mirrorable + 'static> MirrorStore<D> {
    /// Loads every version of `durable` and starts the thread that
    /// follows its feed from there (it ends when the store is dropped).
    pub fn new(durable: D) -> Result<MirrorStore<D>, StoreError> {
        let memory = load_mirror(&durable)?;
        let shared = Arc::new(Shared {
            durable,
            memory,
            progress: Mutex::new(()),
            applied: Condvar::new(),
            reloads: AtomicU64::new(0),
        });
        feed::spawn_thread(&shared, "zanzi-mirror-feed", "mirror")?;
        Ok(MirrorStore { shared })
    }

    /// The store underneath.
    pub fn durable(&self) -> &D {
        &self.shared.durable
    }

    /// The revision through which the feed has been applied.
    pub fn applied(&self) -> Result<Revision, StoreError> {
        self.shared.memory.head_revision()
    }

    /// How many times the mirror was loaded afresh because its feed fell
    /// behind the database's garbage collection.
    pub fn reloads(&self) -> u64 {
        self.shared.reloads.load(Ordering::Relaxed)
    }
}

impl<D: Mirrorable> Shared<D> {
    fn applied(&self) -> Result<Revision, StoreError> {
        self.memory.head_revision()
    }

    /// Whether `at` was applied, waiting up to `wait` for it.
    fn wait_for(&self, at: Revision, wait: Duration) -> Result<bool, StoreError> {
        let deadline = Instant::now() + wait;
        let mut guard = self.progress.lock().map_err(|_| StoreError::Poisoned)?;
        loop {
            if self.applied()? >= at {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            guard = self
                .applied
                .wait_timeout(guard, left)
                .map_err(|_| StoreError::Poisoned)?
                .0;
        }
    }

    /// Wakes the readers waiting for a revision.
    fn announce(&self) -> Result<(), StoreError> {
        let _guard = self.progress.lock().map_err(|_| StoreError::Poisoned)?;
        self.applied.notify_all();
        Ok(())
    }

    /// Collects from memory the history the database collected.
    fn follow_horizon(&self) -> Result<(), StoreError> {
        let horizon = self.durable.gc_horizon()?;
        if horizon > self.memory.gc_horizon()? {
            // Never above the applied head: when the database's horizon is
            // beyond it, the feed refuses and the mirror is reloaded.
            self.memory.gc(horizon.min(self.applied()?))?;
        }
        Ok(())
    }

    /// One step of the feed thread: applies the next batch, or reloads
    /// when the feed fell behind the horizon. Returns whether more may
    /// be waiting.
    fn apply_next(&self) -> Result<bool, StoreError> {
        let after = self.applied()?;
        match self.durable.changes_since(after, BATCH) {
            Ok(batch) => {
                let moved = batch.through > after;
                if moved {
                    self.memory.apply_changes(&batch)?;
                    self.announce()?;
                }
                Ok(moved)
            }
            Err(StoreError::RevisionCollected { .. }) => {
                tracing::warn!(
                    applied = %after,
                    "the mirror fell behind the database's garbage collection; reloading it"
                );
                self.memory.replace(load_mirror(&self.durable)?)?;
                self.reloads.fetch_add(1, Ordering::Relaxed);
                self.announce()?;
                Ok(true)
            }
            Err(error) => Err(error),
        }
    }
}

/// The feed thread applies every committed change to the mirror. While
/// the database is away the mirror stays exact for what it applied, and
/// reads above that go to the database (and fail there).
impl<D: Mirrorable + 'static> FeedFollower for Shared<D> {
    fn step(&self) -> Result<bool, StoreError> {
        self.apply_next()
    }

    fn caught_up(&self) {
        if let Err(error) = self.follow_horizon() {
            tracing::warn!(error = %error, "the mirror cannot read the database's horizon");
        }
    }

    fn wakeup(&self) -> Result<Box<dyn Wakeup>, StoreError> {
        self.durable.wakeup()
    }
}

impl<D: Mirrorable + 'static> TupleStore for MirrorStore<D> {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        let shared = &self.shared;
        if at > shared.applied()? {
            // Refuse a revision the database has not reached without
            // waiting; wait a little for one it has.
            let head = shared.durable.head_revision()?;
            if at > head {
                return Err(StoreError::FutureRevision {
                    requested: at,
                    head,
                });
            }
            if !shared.wait_for(at, FRESH_WAIT)? {
                return shared.durable.snapshot(at);
            }
        }
        Ok(Box::new(MirrorReader {
            memory: shared.memory.reader(at)?,
            durable: &shared.durable,
        }))
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        self.shared.durable.head_revision()
    }

    fn local_head(&self) -> Result<Revision, StoreError> {
        self.applied()
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        // The mirror learns this write from the feed, in commit order with
        // every other server's; a read at its revision waits for that.
        self.shared.durable.apply(changes)
    }

    fn import(&self, tuples: &[Tuple], batch_size: usize) -> Result<ImportReport, StoreError> {
        self.shared.durable.import(tuples, batch_size)
    }

    fn store_id(&self) -> Result<String, StoreError> {
        self.shared.durable.store_id()
    }

    fn history_chain(&self, at: Revision) -> Result<Option<super::history::Chain>, StoreError> {
        self.shared.durable.history_chain(at)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.shared.durable.secret_fingerprint()
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.shared.durable.set_secret_fingerprint(fingerprint)
    }

    fn changes_since(&self, after: Revision, limit: usize) -> Result<ChangeBatch, StoreError> {
        self.shared.durable.changes_since(after, limit)
    }

    fn wakeup(&self) -> Result<Box<dyn Wakeup>, StoreError> {
        self.shared.durable.wakeup()
    }
}

impl<D: Mirrorable + SchemaStore + 'static> SchemaStore for MirrorStore<D> {
    fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
        self.shared.durable.save_schema(schema)
    }

    fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
        self.shared.durable.load_schema()
    }

    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        self.shared.durable.schema_hash()
    }

    fn schema_history(&self) -> Result<Vec<SchemaRecord>, StoreError> {
        self.shared.durable.schema_history()
    }
}

impl<D: Mirrorable + 'static> Maintenance for MirrorStore<D> {
    /// Collects up to `before` clamped to the head as it is now, once the
    /// feed has reached that revision (or [`GC_WAIT`] passed): the feed
    /// then never falls behind a horizon this server raised.
    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        let shared = &self.shared;
        let before = before.min(shared.durable.head_revision()?);
        shared.wait_for(before, GC_WAIT)?;
        let removed = shared.durable.gc(before)?;
        shared.follow_horizon()?;
        Ok(removed)
    }

    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        self.shared.durable.gc_horizon()
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        self.shared.durable.revision_as_of(unix_millis)
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.shared.durable.live_count()
    }

    /// In the database; the mirror learns the deletes from the feed.
    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError> {
        self.shared.durable.gc_expired(now, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SubjectKind;
    use crate::tuple::Subject;

    fn t(text: &str) -> Tuple {
        text.parse().unwrap()
    }

    fn viewers(store: &dyn TupleStore, at: Revision) -> Vec<Subject> {
        store
            .snapshot(at)
            .unwrap()
            .subjects("doc", "1", "viewer", SubjectKind::All)
            .unwrap()
    }

    fn wait_for_head(mirror: &MirrorStore<MemoryStore>) -> Revision {
        let head = mirror.durable().head_revision().unwrap();
        let started = Instant::now();
        while mirror.local_head().unwrap() < head {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the feed stalled"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        head
    }

    /// Writes made beside the mirror (on the store underneath, as another
    /// server would) are applied from the feed; a read above what was
    /// applied is answered by the store underneath meanwhile.
    #[test]
    fn follows_writes_made_beside_it() {
        let mirror = MirrorStore::new(MemoryStore::new()).unwrap();
        let durable = mirror.durable();
        let r1 = durable.write(&[t("doc:1#viewer@user:a")], &[]).unwrap();
        // At once: the feed (polling here) has likely not brought it yet.
        assert_eq!(viewers(&mirror, r1), [t("doc:1#viewer@user:a").subject]);
        let r2 = durable.write(&[t("doc:1#viewer@user:b")], &[t("doc:1#viewer@user:a")]);
        let r2 = r2.unwrap();
        assert_eq!(wait_for_head(&mirror), r2);
        assert_eq!(viewers(&mirror, r1), [t("doc:1#viewer@user:a").subject]);
        assert_eq!(viewers(&mirror, r2), [t("doc:1#viewer@user:b").subject]);
        assert!(matches!(
            mirror.snapshot(Revision(r2.0 + 1)),
            Err(StoreError::FutureRevision { .. })
        ));
    }

    /// Garbage collection beside the mirror, also past what the feed has
    /// applied (the feed is then refused and the mirror reloaded): reads
    /// below the new horizon are refused, the rest stay exact.
    #[test]
    fn follows_garbage_collection_beside_it() {
        let mirror = MirrorStore::new(MemoryStore::new()).unwrap();
        let durable = mirror.durable();
        let mut live = Vec::new();
        for round in 0..5 {
            let tuple = t(&format!("doc:1#viewer@user:{round}"));
            durable.write(std::slice::from_ref(&tuple), &[]).unwrap();
            durable.write(&[], std::slice::from_ref(&tuple)).unwrap();
            let kept = t(&format!("doc:1#viewer@user:kept{round}"));
            let rev = durable.write(std::slice::from_ref(&kept), &[]).unwrap();
            live.push(kept.subject);
            // Collected before the feed (polling every 200 ms) saw it.
            durable.gc(rev).unwrap();
            let head = wait_for_head(&mirror);
            let mut seen = viewers(&mirror, head);
            seen.sort_by_key(ToString::to_string);
            let mut expected = live.clone();
            expected.sort_by_key(ToString::to_string);
            assert_eq!(seen, expected, "round {round}");
            let started = Instant::now();
            while mirror.snapshot(Revision(head.0 - 1)).is_ok() {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "horizon not followed"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(matches!(
                mirror.snapshot(Revision(head.0 - 1)),
                Err(StoreError::RevisionCollected { .. })
            ));
        }
        // Collected within microseconds of the writes, while the feed
        // polls every 200 ms: the feed was refused and reloaded.
        assert!(mirror.reloads() > 0);
    }
}
