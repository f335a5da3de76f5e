//! Revisions, and the one check of whether a revision can be read, shared
//! by every backend: a snapshot is refused above the head (the future) and
//! below the garbage-collection horizon (history that is gone), so that no
//! read ever answers from incomplete data.

use serde::{Deserialize, Serialize};

use super::StoreError;

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

/// Whether a snapshot at `at` may be taken of a store at `head` whose
/// history before `horizon` was collected. Backends call it once per
/// snapshot, with the freshest head they know.
pub fn ensure_readable(at: Revision, head: Revision, horizon: Revision) -> Result<(), StoreError> {
    if at > head {
        return Err(StoreError::FutureRevision {
            requested: at,
            head,
        });
    }
    ensure_not_collected(at, horizon)
}

/// The part of [`ensure_readable`] a reader repeats while it lives: garbage
/// collection may run while a long request reads, and a read below the new
/// horizon must fail rather than miss history. Backends call it where they
/// already hold the horizon (a comparison, no I/O).
pub fn ensure_not_collected(at: Revision, horizon: Revision) -> Result<(), StoreError> {
    if at < horizon {
        return Err(StoreError::RevisionCollected {
            requested: at,
            horizon,
        });
    }
    Ok(())
}
