//! A check's working memory: the object IDs it met, interned, and the
//! tables kept per thread between requests.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::{Goal, Id, Objects};
use crate::ir::RelationId;

/// The object IDs a request has met, each stored once: goals and caches
/// key on the number, so a goal lookup hashes a short string once and
/// allocates nothing after the first sight of an ID. The names are kept
/// end to end in one buffer, kept between requests: no allocation per ID.
#[derive(Default)]
pub(super) struct Ids {
    /// The numbers, found by their names' hashes.
    pub(super) numbers: HashTable<Id>,
    /// Every name, end to end.
    text: String,
    /// Where each name ends in `text`; it starts where the one before ends.
    ends: Vec<usize>,
}

pub(super) fn hash_id(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// The name of `id` in `text`, whose names end at `ends`.
fn name_in<'t>(text: &'t str, ends: &[usize], id: Id) -> &'t str {
    let id = id as usize;
    let end = ends.get(id).copied().unwrap_or(0);
    let start = match id.checked_sub(1) {
        Some(before) => ends.get(before).copied().unwrap_or(0),
        None => 0,
    };
    text.get(start..end).unwrap_or("")
}

impl Ids {
    fn with_capacity(ids: usize, bytes: usize) -> Ids {
        Ids {
            numbers: HashTable::with_capacity(ids),
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(ids),
        }
    }

    pub(super) fn intern(&mut self, id: &str) -> Id {
        let (text, ends) = (&self.text, &self.ends);
        let entry = self.numbers.entry(
            hash_id(id),
            |&n| name_in(text, ends, n) == id,
            |&n| hash_id(name_in(text, ends, n)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(entry) => *entry.get(),
            hashbrown::hash_table::Entry::Vacant(entry) => {
                let n = self.ends.len() as Id;
                entry.insert(n);
                self.text.push_str(id);
                self.ends.push(self.text.len());
                n
            }
        }
    }

    #[inline]
    pub(super) fn name(&self, id: Id) -> &str {
        name_in(&self.text, &self.ends, id)
    }

    /// The name of `id`, copied into `buffer`: for a read whose callback
    /// interns the IDs it meets.
    pub(super) fn name_into<'b>(&self, id: Id, buffer: &'b mut String) -> &'b str {
        buffer.clear();
        buffer.push_str(self.name(id));
        buffer
    }

    fn clear(&mut self) {
        self.numbers.clear();
        self.text.clear();
        self.ends.clear();
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
            || self.ids.ends.capacity() > Self::KEEP_UP_TO
            || self.ids.text.capacity() > Self::KEEP_UP_TO * 64
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
