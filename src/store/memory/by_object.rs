//! The live plain tuples of each object, side by side: what a check reads
//! at the head revision.
//!
//! The forward index finds a row by hashing its object and relation, and a
//! row holds positions of versions stored elsewhere; a check that visits a
//! folder reads its owners, editors, viewers and parents, each one hash
//! probe and one version away. On data larger than the processor's caches
//! every one of those is a miss. Here an object's live plain tuples are
//! one short run of entries, found by the object's number alone: one or
//! two misses for every relation of the object.
//!
//! An object with more than [`NARROW`] live plain tuples (a large group) is
//! *wide*: its run is dropped and reads of it take the forward index,
//! which finds a subject in a long row by hash. It stays wide until the
//! store is collected ([`Maintenance::gc`](crate::store::Maintenance::gc)
//! rebuilds it).
//!
//! Entries are kept in the order of creation, as the forward rows are, so
//! that a check visits subject sets in the same order either way.

use super::interned::{Name, ObjectId, SubjectKey};

/// The most live plain tuples an object keeps here.
const NARROW: usize = 48;

/// The bit of [`Entry::relation`] that marks a subject set.
const SET: u32 = 1 << 31;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// The relation, with [`SET`] for a subject set.
    relation: u32,
    subject: SubjectKey,
}

impl Entry {
    fn new(relation: Name, subject: SubjectKey) -> Entry {
        let set = if subject.is_set() { SET } else { 0 };
        Entry {
            relation: relation | set,
            subject,
        }
    }
}

/// Where an object's tuples are in [`ByObject::arena`]: `len` of them from
/// `start`, with room for `room`.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    start: u32,
    len: u16,
    room: u16,
}

/// [`Slot::room`] of a wide object.
const WIDE: u16 = u16::MAX;

/// The live plain tuples by object (see the module doc).
///
/// Every object's tuples are a run of one arena, so that the index is 8
/// bytes per object and the tuples of objects numbered together lie
/// together. A run that outgrows its room moves to the end of the arena
/// with twice the room; the room it leaves is reclaimed when the arena is
/// compacted, once a quarter of it is left behind.
#[derive(Debug, Default)]
pub(super) struct ByObject {
    slots: Vec<Slot>,
    arena: Vec<Entry>,
    /// Entries of the arena that belong to no run.
    left: usize,
}

impl ByObject {
    /// A live plain tuple, added.
    pub fn add(&mut self, object: ObjectId, relation: Name, subject: SubjectKey) {
        let index = object as usize;
        if self.slots.len() <= index {
            self.slots.resize(index + 1, Slot::default());
        }
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        let entry = Entry::new(relation, subject);
        let (start, len) = (slot.start as usize, usize::from(slot.len));
        if slot.room == WIDE {
            return;
        }
        if len >= NARROW {
            self.left += usize::from(slot.room);
            slot.room = WIDE;
            return;
        }
        if slot.len < slot.room {
            if let Some(free) = self.arena.get_mut(start + len) {
                *free = entry;
                slot.len += 1;
            }
            return;
        }
        let room = (usize::from(slot.room) * 3 / 2).clamp(2, NARROW);
        let moved = self.arena.len();
        if u32::try_from(moved + room).is_err() {
            // An arena of four billion entries: read this object from the
            // forward index instead.
            self.left += usize::from(slot.room);
            slot.room = WIDE;
            return;
        }
        self.arena.extend_from_within(start..start + len);
        self.arena.resize(moved + room, entry);
        self.left += usize::from(slot.room);
        *slot = Slot {
            start: moved as u32,
            len: slot.len + 1,
            room: room as u16,
        };
        if self.left > self.arena.len() / 4 && self.arena.len() > 4096 {
            self.rebuild();
        }
    }

    /// The arena compacted in place: each run moved down to just after the
    /// one before it in the arena, with no room to spare. (A new arena
    /// beside the old would double the memory for a moment, and the
    /// allocator seldom gives that back.)
    fn rebuild(&mut self) {
        let mut order: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&o| self.slots.get(o as usize).is_some_and(|s| s.room != WIDE))
            .collect();
        order.sort_unstable_by_key(|&o| self.slots.get(o as usize).map_or(0, |s| s.start));
        let mut end = 0;
        for o in order {
            let Some(slot) = self.slots.get_mut(o as usize) else {
                continue;
            };
            let (start, len) = (slot.start as usize, usize::from(slot.len));
            // Runs do not overlap and are taken in order, so `end <= start`.
            self.arena.copy_within(start..start + len, end);
            slot.start = end as u32;
            slot.room = slot.len;
            end += len;
        }
        self.arena.truncate(end);
        self.left = 0;
    }

    /// A live plain tuple, deleted.
    pub fn remove(&mut self, object: ObjectId, relation: Name, subject: SubjectKey) {
        let Some(slot) = self.slots.get_mut(object as usize) else {
            return;
        };
        if slot.room == WIDE {
            return;
        }
        let (start, len) = (slot.start as usize, usize::from(slot.len));
        let Some(run) = self.arena.get_mut(start..start + len) else {
            return;
        };
        let entry = Entry::new(relation, subject);
        if let Some(at) = run.iter().position(|e| *e == entry) {
            run.copy_within(at + 1.., at);
            slot.len -= 1;
        }
    }

    /// The live plain tuples of `object`; `None` for a wide one.
    fn row(&self, object: ObjectId) -> Option<&[Entry]> {
        let Some(slot) = self.slots.get(object as usize) else {
            return Some(&[]);
        };
        if slot.room == WIDE {
            return None;
        }
        let start = slot.start as usize;
        self.arena.get(start..start + usize::from(slot.len))
    }

    /// Whether `object#relation@subject` is live; `None` for a wide object.
    pub fn holds(&self, object: ObjectId, relation: Name, subject: SubjectKey) -> Option<bool> {
        let entry = Entry::new(relation, subject);
        Some(self.row(object)?.contains(&entry))
    }

    /// The subjects of `object#relation` that are sets (`sets`) or not, in
    /// the order of creation; `None` for a wide object.
    pub fn subjects(
        &self,
        object: ObjectId,
        relation: Name,
        sets: bool,
    ) -> Option<impl Iterator<Item = SubjectKey> + '_> {
        let relation = if sets { relation | SET } else { relation };
        Some(
            self.row(object)?
                .iter()
                .filter(move |e| e.relation == relation)
                .map(|e| e.subject),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::super::interned::Dictionary;
    use super::*;
    use crate::tuple::Subject;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Runs that move, objects that go wide and rebuilt arenas keep
        /// every object's tuples, in the order they were added.
        #[test]
        fn every_object_keeps_its_tuples_in_order(
            ops in prop::collection::vec((0..2000u32, 0..3u32, 0..70u32, any::<bool>()), 1..12000)
        ) {
            let mut dictionary = Dictionary::default();
            let subjects: Vec<SubjectKey> = (0..70)
                .map(|s| dictionary.intern_subject(&Subject::object("user", format!("u{s}"))))
                .collect();
            let mut by_object = ByObject::default();
            let mut model: HashMap<u32, Vec<(u32, SubjectKey)>> = HashMap::new();
            let mut wide = std::collections::HashSet::new();
            for (object, relation, subject, add) in ops {
                let subject = subjects[subject as usize];
                let row = model.entry(object).or_default();
                let here = row.iter().position(|e| *e == (relation, subject));
                match (add, here) {
                    (true, None) => {
                        if row.len() >= NARROW {
                            wide.insert(object);
                        }
                        row.push((relation, subject));
                        by_object.add(object, relation, subject);
                    }
                    (false, Some(at)) => {
                        row.remove(at);
                        by_object.remove(object, relation, subject);
                    }
                    _ => {}
                }
            }
            for (object, row) in &model {
                if wide.contains(object) {
                    prop_assert!(by_object.row(*object).is_none());
                    continue;
                }
                for relation in 0..3 {
                    let got: Vec<SubjectKey> =
                        by_object.subjects(*object, relation, false).unwrap().collect();
                    let expected: Vec<SubjectKey> = row
                        .iter()
                        .filter(|(r, _)| *r == relation)
                        .map(|(_, s)| *s)
                        .collect();
                    prop_assert_eq!(got, expected);
                }
            }
        }
    }
}
