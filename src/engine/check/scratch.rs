//! A check's working memory, kept per thread between requests: the object
//! IDs it met ([`Ids`]), its goals and its caches.

use rustc_hash::FxHashMap;

use super::{Goal, Id, Objects};
use crate::engine::ids::Ids;
use crate::ir::RelationId;

/// A request's working memory, kept per thread between requests (cleared)
/// so that a check does not allocate its tables afresh.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) ids: Ids,
    pub(super) goals: Vec<Goal>,
    pub(super) index: FxHashMap<(RelationId, Id), usize>,
    pub(super) tuplesets: FxHashMap<(RelationId, Id), Objects>,
    pub(super) path: Vec<usize>,
    /// An object ID copied out of `ids` for a read that interns.
    pub(super) buffer: String,
}

impl Scratch {
    /// Tables grown past this many goals are not kept (a large lookup).
    const KEEP_UP_TO: usize = 4096;

    pub(super) fn take() -> Scratch {
        SCRATCH
            .try_with(|pool| pool.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| Scratch {
                ids: Ids::with_capacity(64, 1024),
                goals: Vec::with_capacity(64),
                index: FxHashMap::with_capacity_and_hasher(64, Default::default()),
                tuplesets: FxHashMap::with_capacity_and_hasher(32, Default::default()),
                path: Vec::with_capacity(32),
                buffer: String::with_capacity(64),
            })
    }

    pub(super) fn give_back(mut self) {
        if self.goals.capacity() > Self::KEEP_UP_TO
            || self.ids.outgrew(Self::KEEP_UP_TO, Self::KEEP_UP_TO * 64)
        {
            return;
        }
        self.ids.clear();
        self.goals.clear();
        self.index.clear();
        self.tuplesets.clear();
        self.path.clear();
        let _ = SCRATCH.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < 4 {
                pool.push(self);
            }
        });
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<Scratch>> = const { std::cell::RefCell::new(Vec::new()) };
}
