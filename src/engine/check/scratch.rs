//! A check's working memory: the object IDs it met, interned, and the
//! tables kept per thread between requests.

use std::hash::BuildHasher;
use std::rc::Rc;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::{Goal, Id, Objects};
use crate::ir::RelationId;

/// The object IDs a request has met, each stored once: goals and caches
/// key on the number, so a goal lookup hashes a short string once and
/// allocates nothing after the first sight of an ID.
#[derive(Default)]
pub(super) struct Ids {
    /// The numbers, found by their names' hashes: one hash per ID, and its
    /// name is kept once (in `names`).
    pub(super) numbers: HashTable<Id>,
    pub(super) names: Vec<Rc<str>>,
}

pub(super) fn hash_id(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl Ids {
    pub(super) fn intern(&mut self, id: &str) -> Id {
        let names = &self.names;
        let entry = self.numbers.entry(
            hash_id(id),
            |&n| names.get(n as usize).is_some_and(|name| **name == *id),
            |&n| names.get(n as usize).map_or(0, |name| hash_id(name)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(entry) => *entry.get(),
            hashbrown::hash_table::Entry::Vacant(entry) => {
                let n = self.names.len() as Id;
                entry.insert(n);
                self.names.push(Rc::from(id));
                n
            }
        }
    }

    #[inline]
    pub(super) fn name(&self, id: Id) -> Rc<str> {
        self.names
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| Rc::from(""))
    }
}

/// A request's working memory, kept per thread between requests (cleared)
/// so that a check does not allocate its tables afresh.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) ids: Ids,
    pub(super) goals: Vec<Goal>,
    pub(super) index: FxHashMap<(RelationId, Id), usize>,
    pub(super) tuplesets: FxHashMap<(RelationId, Id), Objects>,
    pub(super) path: Vec<usize>,
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
                ids: Ids {
                    numbers: HashTable::with_capacity(64),
                    names: Vec::with_capacity(64),
                },
                goals: Vec::with_capacity(64),
                index: FxHashMap::with_capacity_and_hasher(64, Default::default()),
                tuplesets: FxHashMap::with_capacity_and_hasher(32, Default::default()),
                path: Vec::with_capacity(32),
            })
    }

    pub(super) fn give_back(mut self) {
        if self.goals.capacity() > Self::KEEP_UP_TO || self.ids.names.capacity() > Self::KEEP_UP_TO
        {
            return;
        }
        self.ids.numbers.clear();
        self.ids.names.clear();
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
