//! Whether a token comes from this history of the store: the history tag a
//! token carries ([`super::zookie`]) against the store's own chain at the
//! token's revision ([`crate::store::history`]).
//!
//! A copy of a database keeps its store id, so without this a token of the
//! original would be accepted by a diverged copy at the same revision
//! number, which answers from other data. The rule:
//!
//! - the chains agree: accepted;
//! - they differ: refused (400), the client reads again without the token;
//! - this store does not know the chain at that revision (a revision from
//!   before the database kept chains, or beyond its head), or the token
//!   carries none (a version 1 token, or one whose issuer did not know it):
//!   accepted as before; a revision beyond the head is then refused, or
//!   waited for, as any read there is.
//!
//! Cost: the tags of recent revisions are kept in memory; a token check
//! asks the store once per revision this server has not seen, never per
//! request.

use std::collections::BTreeMap;
use std::sync::RwLock;

use super::errors::ApiError;
use super::zookie::{history_tag, HistoryTag, SnapshotToken, UNKNOWN_HISTORY};
use super::AppState;
use crate::store::{Revision, StoreError};

/// How many revisions' tags are kept; the oldest go first.
const KEPT: usize = 4096;

/// The history tags of recent revisions: read by every answer's token,
/// written once per revision.
#[derive(Debug, Default)]
pub struct HistoryCache {
    tags: RwLock<BTreeMap<u64, HistoryTag>>,
}

impl HistoryCache {
    fn get(&self, revision: Revision) -> Option<HistoryTag> {
        let tags = self.tags.read().unwrap_or_else(|p| p.into_inner());
        tags.get(&revision.0).copied()
    }

    fn put(&self, revision: Revision, tag: HistoryTag) {
        let mut tags = self.tags.write().unwrap_or_else(|p| p.into_inner());
        tags.insert(revision.0, tag);
        while tags.len() > KEPT {
            tags.pop_first();
        }
    }
}

impl AppState {
    /// The history tag of `revision` in this store: from memory, else from
    /// the store (blocking; remembered when known). `None` when the store
    /// does not know it.
    fn store_history(&self, revision: Revision) -> Result<Option<HistoryTag>, StoreError> {
        if let Some(tag) = self.histories.get(revision) {
            return Ok(Some(tag));
        }
        let chain = self.store.history_chain(revision)?;
        let tag = chain.as_ref().map(|chain| history_tag(Some(chain)));
        if let Some(tag) = tag {
            self.histories.put(revision, tag);
        }
        Ok(tag)
    }

    /// The tag a token issued at `revision` carries (blocking on a
    /// revision not seen yet); [`UNKNOWN_HISTORY`] when the store does not
    /// know it or cannot say now.
    pub fn history_of(&self, revision: Revision) -> HistoryTag {
        match self.store_history(revision) {
            Ok(tag) => tag.unwrap_or(UNKNOWN_HISTORY),
            Err(error) => {
                tracing::warn!(%revision, error = %error, "cannot read the history chain; the token will not name it");
                UNKNOWN_HISTORY
            }
        }
    }

    /// Reads the tag of `revision` into memory ahead of the tokens that
    /// will name it (the change feed's revisions, other servers' heads).
    pub fn remember_history(&self, revision: Revision) {
        let _ = self.history_of(revision);
    }

    /// Refuses a token from another history of this store (see the
    /// module's documentation). Blocking: may ask the store once.
    pub fn check_history(&self, token: &SnapshotToken) -> Result<(), ApiError> {
        let Some(claimed) = token.history.filter(|tag| *tag != UNKNOWN_HISTORY) else {
            return Ok(());
        };
        match self.store_history(token.revision)? {
            Some(mine) if mine != claimed => Err(ApiError::bad_request(
                "snapshot_from_another_history",
                format!(
                    "the token's revision {} comes from a different history of this store (a \
                     restored or copied database that has since diverged): this server's data \
                     at that revision is not what the token was issued for; read again without \
                     the token (or with `consistency=fully_consistent`) and use the new one",
                    token.revision
                ),
            )),
            _ => Ok(()),
        }
    }
}
