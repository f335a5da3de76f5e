//! The consistency a read asks for, and the snapshot it gets.
//!
//! Reads take `consistency` (query parameter, or body field on zanzi's own
//! endpoints) and `snaptoken`:
//!
//! - `minimize_latency` (the default): the newest revision this server has
//!   seen, without asking the store;
//! - `at_least_as_fresh` (the default when only `snaptoken` is given): that
//!   revision or a newer one, so a client reads its own writes;
//! - `at_exact_snapshot`: exactly the token's revision, as long as it is
//!   within the retention window;
//! - `fully_consistent`: the store's head, asked fresh.
//!
//! With read replicas (`--db-read-replica`), the store serves a snapshot
//! from a replica that has replayed its revision, else from the primary;
//! the choice of revision decides where a read goes:
//!
//! - `minimize_latency` reads at the newest revision a replica is known to
//!   have (known at most [`REPLICA_MAX_AGE`] ago), which may lag the
//!   primary: any committed revision is a correct snapshot;
//! - `at_least_as_fresh` reads at a replica's revision when one has
//!   replayed the token's, else as without replicas (the primary);
//! - `at_exact_snapshot` reads at the token's revision, on a replica that
//!   has replayed it or on the primary;
//! - `fully_consistent` reads at the primary's head, which a replica
//!   serves only if it has already replayed it (the same snapshot).
//!
//! A token always names the revision read, wherever it was read.

use std::time::Duration;

use super::errors::ApiError;
use super::zookie::SnapshotToken;
use super::AppState;
use crate::api::keto::subjects::{at_field, FIELD};
use crate::store::Revision;

/// How old the replicas' known heads may be for `minimize_latency` before
/// they are read again.
pub const REPLICA_MAX_AGE: Duration = Duration::from_secs(1);

/// A parsed consistency choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Consistency {
    MinimizeLatency,
    AtLeastAsFresh(SnapshotToken),
    AtExactSnapshot(SnapshotToken),
    FullyConsistent,
}

pub use crate::api::CONSISTENCY_NAMES as NAMES;

impl Consistency {
    /// From the `consistency` and `snaptoken` parameters.
    pub fn parse(
        state: &AppState,
        consistency: Option<&str>,
        snaptoken: Option<&str>,
    ) -> Result<Consistency, ApiError> {
        let token = |name: &str| -> Result<SnapshotToken, ApiError> {
            let token = snaptoken.filter(|t| !t.is_empty()).ok_or_else(|| {
                ApiError::bad_request(
                    "missing_snaptoken",
                    format!("`consistency={name}` needs a `snaptoken`"),
                )
            })?;
            state.tokens.parse_snapshot(token)
        };
        let token = |name: &str| token(name).map_err(at_field("snaptoken"));
        match consistency.filter(|c| !c.is_empty()) {
            None if snaptoken.is_some_and(|t| !t.is_empty()) => {
                Ok(Consistency::AtLeastAsFresh(token("at_least_as_fresh")?))
            }
            None | Some("minimize_latency") => Ok(Consistency::MinimizeLatency),
            Some("fully_consistent") => Ok(Consistency::FullyConsistent),
            Some(name @ "at_least_as_fresh") => Ok(Consistency::AtLeastAsFresh(token(name)?)),
            Some(name @ "at_exact_snapshot") => Ok(Consistency::AtExactSnapshot(token(name)?)),
            Some(other) => Err(ApiError::bad_request(
                "invalid_consistency",
                format!(
                    "unknown consistency `{other}`; use one of {}",
                    NAMES.join(", ")
                ),
            )
            .with_detail(FIELD, "consistency")),
        }
    }

    /// The revision to read at. Blocking: may ask the store for its head,
    /// and for the history chain of a token's revision (a token of another
    /// history of this store is refused: see `history.rs`).
    pub fn resolve(&self, state: &AppState) -> Result<Revision, ApiError> {
        if let Consistency::AtLeastAsFresh(token) | Consistency::AtExactSnapshot(token) = self {
            state.check_history(token).map_err(at_field("snaptoken"))?;
        }
        let known = state.known_head();
        if let Some(revision) = self.on_replica(state) {
            return Ok(revision);
        }
        let revision = match *self {
            Consistency::MinimizeLatency => known,
            Consistency::FullyConsistent => state.refresh_head()?,
            Consistency::AtLeastAsFresh(SnapshotToken {
                revision: token, ..
            }) => {
                if token > known {
                    state.refresh_head()?.max(token)
                } else {
                    known
                }
            }
            Consistency::AtExactSnapshot(token) => token.revision,
        };
        let horizon = state.horizon();
        if revision < horizon {
            return Err(ApiError::bad_request(
                "snapshot_expired",
                format!(
                    "the snapshot token's revision {revision} is older than the retention window \
                     (history before revision {horizon} was garbage-collected); \
                     retry with a newer token or `consistency=fully_consistent`"
                ),
            ));
        }
        Ok(revision)
    }

    /// The revision to read at when a read replica can serve it (see the
    /// module's documentation); `None` to choose as without replicas.
    fn on_replica(&self, state: &AppState) -> Option<Revision> {
        let replicas = state.read_replicas()?;
        let horizon = state.horizon();
        match *self {
            Consistency::MinimizeLatency => replicas
                .newest_replayed(REPLICA_MAX_AGE)
                .filter(|revision| *revision >= horizon),
            Consistency::AtLeastAsFresh(SnapshotToken {
                revision: token, ..
            }) if token >= horizon => {
                if !replicas.has_replayed(token) {
                    return None;
                }
                let newest = replicas.newest_replayed(Duration::MAX);
                Some(newest.map_or(token, |newest| newest.max(token)))
            }
            Consistency::AtExactSnapshot(token) => {
                // Only so that the store knows whether a replica has it.
                replicas.has_replayed(token.revision);
                None
            }
            Consistency::AtLeastAsFresh(_) | Consistency::FullyConsistent => None,
        }
    }
}
