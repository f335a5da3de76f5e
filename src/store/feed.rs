//! The change feed: every committed write as a list of [`Change`]s, in
//! commit order, read with [`TupleStore::changes_since`].
//!
//! No separate log is kept: a store already holds every version of every
//! tuple with the revision that created it and the one that deleted it, so
//! the changes of revision `r` are the versions created at `r` (inserts)
//! and those deleted at `r` (deletes). The feed therefore reaches back
//! exactly as far as history does — to the garbage-collection horizon, the
//! retention window — and a follower that falls behind it is told so
//! ([`StoreError::RevisionCollected`]) rather than given a feed with holes.
//!
//! [`Follower`] is how a server, a cache or `zanzi tuples watch` keeps up:
//! it waits for a wake-up ([`TupleStore::wakeup`]; PostgreSQL's
//! `LISTEN`/`NOTIFY`, a short poll elsewhere), then reads the table —
//! notifications only wake, the versions are the truth, so a lost
//! notification delays a change by one poll and never loses it.

use std::borrow::Borrow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Revision, StoreError, TupleStore};
use crate::tuple::Tuple;

/// Whether a change made a tuple live or removed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Insert,
    Delete,
}

/// One tuple written or deleted by the transaction of `revision`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Change {
    pub revision: Revision,
    pub kind: ChangeKind,
    pub tuple: Tuple,
}

/// What [`TupleStore::changes_since`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeBatch {
    /// The changes, ordered by revision, deletes before inserts within one.
    pub changes: Vec<Change>,
    /// The changes are complete through this revision: every change up to
    /// it is in this batch or an earlier one. Never above the head.
    pub through: Revision,
}

/// How many changes one read of the feed returns at most, unless one
/// revision alone has more (a revision is never split).
pub const BATCH: usize = 10_000;

/// How long a follower sleeps between reads when its store cannot wake it.
pub const POLL: Duration = Duration::from_millis(200);

/// Cuts `changes` (sorted by revision) to about `limit` without splitting a
/// revision. `head` is the revision the read was complete through. When one
/// revision alone has more than `limit` changes, all of its changes must be
/// in `changes` (the caller reads that revision whole) and the batch is that
/// revision.
pub(crate) fn cut(mut changes: Vec<Change>, limit: usize, head: Revision) -> ChangeBatch {
    let Some(beyond) = changes.get(limit).map(|c| c.revision) else {
        return ChangeBatch {
            changes,
            through: head,
        };
    };
    let first = changes.first().map_or(beyond, |c| c.revision);
    if first == beyond {
        changes.retain(|c| c.revision == beyond);
        return ChangeBatch {
            changes,
            through: beyond,
        };
    }
    changes.retain(|c| c.revision < beyond);
    ChangeBatch {
        changes,
        through: Revision(beyond.0 - 1),
    }
}

/// Wakes a follower when a change may have been committed.
pub trait Wakeup: Send {
    /// Returns after a change was signalled or `timeout` passed, whichever
    /// comes first. An error means the wake-up channel broke; the follower
    /// then polls and asks for a new one.
    fn wait(&mut self, timeout: Duration) -> Result<(), StoreError>;
}

/// A wake-up that only sleeps: polling, for stores that cannot signal.
#[derive(Debug)]
pub struct Sleep(pub Duration);

impl Wakeup for Sleep {
    fn wait(&mut self, timeout: Duration) -> Result<(), StoreError> {
        std::thread::sleep(self.0.min(timeout));
        Ok(())
    }
}

/// Follows a store's feed from a revision on.
pub struct Follower<'a, S: ?Sized> {
    store: &'a S,
    wakeup: Option<Box<dyn Wakeup>>,
    seen: Revision,
}

impl<S: ?Sized> std::fmt::Debug for Follower<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl<'a, S: TupleStore + ?Sized> Follower<'a, S> {
    /// A follower that will report the changes after `after`.
    pub fn new(store: &'a S, after: Revision) -> Follower<'a, S> {
        Follower {
            store,
            wakeup: None,
            seen: after,
        }
    }

    /// The revision through which every change has been reported.
    pub fn seen(&self) -> Revision {
        self.seen
    }

    /// The next batch: the changes committed since the last one, waiting up
    /// to `timeout` for one when there are none yet. An empty batch with
    /// `through` unchanged means nothing happened in time.
    pub fn next(&mut self, timeout: Duration) -> Result<ChangeBatch, StoreError> {
        let batch = self.store.changes_since(self.seen, BATCH)?;
        if batch.through > self.seen {
            self.seen = batch.through;
            return Ok(batch);
        }
        let wakeup = match &mut self.wakeup {
            Some(wakeup) => wakeup,
            None => self.wakeup.insert(self.store.wakeup()?),
        };
        if wakeup.wait(timeout).is_err() {
            // Asked for again on the next call; poll meanwhile.
            self.wakeup = None;
            std::thread::sleep(POLL.min(timeout));
        }
        let batch = self.store.changes_since(self.seen, BATCH)?;
        self.seen = self.seen.max(batch.through);
        Ok(batch)
    }
}

/// The changes of a list of versions `(tuple, created, deleted)` after
/// `after` and through `head`, in feed order: the feed of a store that
/// reads its versions whole (memory, SQLite).
pub(crate) fn from_versions<T: Borrow<Tuple>>(
    versions: impl IntoIterator<Item = (T, Revision, Option<Revision>)>,
    after: Revision,
    head: Revision,
    limit: usize,
) -> ChangeBatch {
    let in_range = |r: Revision| r > after && r <= head;
    let mut changes = Vec::new();
    for (tuple, created, deleted) in versions {
        let tuple: &Tuple = tuple.borrow();
        if in_range(created) {
            changes.push(Change {
                revision: created,
                kind: ChangeKind::Insert,
                tuple: tuple.clone(),
            });
        }
        if let Some(deleted) = deleted.filter(|d| in_range(*d)) {
            changes.push(Change {
                revision: deleted,
                kind: ChangeKind::Delete,
                tuple: tuple.clone(),
            });
        }
    }
    // Stable: within a revision and kind, the order of the versions.
    changes.sort_by_key(|c| (c.revision, c.kind == ChangeKind::Insert));
    cut(changes, limit, head)
}

/// How long a feed thread waits for a wake-up before reading anyway.
const THREAD_WAIT: Duration = Duration::from_secs(1);

/// A store's state kept current by a feed thread ([`spawn_thread`]): the
/// bounded cache and the full mirror.
pub(crate) trait FeedFollower: Send + Sync + 'static {
    /// Reads and applies the next batch of the feed; whether more may be
    /// waiting.
    fn step(&self) -> Result<bool, StoreError>;

    /// Called once caught up, before waiting for the next change.
    fn caught_up(&self) {}

    /// The wake-up of the store followed ([`TupleStore::wakeup`]).
    fn wakeup(&self) -> Result<Box<dyn Wakeup>, StoreError>;
}

/// Starts the thread `name` that runs `follower`'s steps as changes come,
/// and ends when the follower is dropped (it holds only a weak reference).
/// While the feed cannot be read (the database is away) it backs off and
/// resumes where it stopped; `what` names the follower in the warning.
pub(crate) fn spawn_thread<F: FeedFollower>(
    follower: &std::sync::Arc<F>,
    name: &str,
    what: &'static str,
) -> Result<(), StoreError> {
    let weak = std::sync::Arc::downgrade(follower);
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || follow(&weak, what))
        .map(drop)
        .map_err(|e| StoreError::Backend(Box::new(e)))
}

fn follow<F: FeedFollower>(follower: &std::sync::Weak<F>, what: &str) {
    let mut wakeup: Option<Box<dyn Wakeup>> = None;
    let mut failures = 0u32;
    loop {
        let Some(state) = follower.upgrade() else {
            return;
        };
        match state.step() {
            Ok(true) => {
                failures = 0;
                continue;
            }
            Ok(false) => {
                failures = 0;
                state.caught_up();
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                if failures == 1 {
                    tracing::warn!(error = %error, "the {what} cannot read the change feed; retrying");
                }
                wakeup = None;
                drop(state);
                std::thread::sleep(Duration::from_millis(100 * u64::from(failures.min(20))));
                continue;
            }
        }
        if wakeup.is_none() {
            wakeup = state.wakeup().ok();
            if wakeup.is_some() {
                // A commit between the last read and `LISTEN` woke no one:
                // read once more before waiting.
                continue;
            }
        }
        drop(state);
        match &mut wakeup {
            Some(w) => {
                if w.wait(THREAD_WAIT).is_err() {
                    wakeup = None;
                }
            }
            None => std::thread::sleep(POLL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Tuple {
        text.parse().unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn versions_become_changes_in_revision_order_without_splitting_one() {
        let a = t("doc:a#viewer@user:x");
        let b = t("doc:b#viewer@user:x");
        let c = t("doc:c#viewer@user:x");
        let versions = [
            (&a, Revision(1), Some(Revision(3))),
            (&b, Revision(2), None),
            (&c, Revision(3), None),
        ];
        let all = from_versions(versions, Revision(0), Revision(3), 100);
        let seen: Vec<_> = all
            .changes
            .iter()
            .map(|c| (c.revision.0, c.kind, c.tuple.object.id.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, ChangeKind::Insert, "a"),
                (2, ChangeKind::Insert, "b"),
                (3, ChangeKind::Delete, "a"),
                (3, ChangeKind::Insert, "c"),
            ]
        );
        assert_eq!(all.through, Revision(3));

        // A limit of 3 falls inside revision 3: the batch stops before it.
        let cut_short = from_versions(versions, Revision(0), Revision(3), 2);
        assert_eq!(cut_short.through, Revision(2));
        assert_eq!(cut_short.changes.len(), 2);
        // After revision 2, revision 3 comes whole even with limit 1.
        let rest = from_versions(versions, Revision(2), Revision(3), 1);
        assert_eq!(rest.through, Revision(3));
        assert_eq!(rest.changes.len(), 2);
    }
}
