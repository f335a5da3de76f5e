//! The live plain tuples of each object, side by side: what a check reads
//! at the head revision.
//!
//! The forward index finds a row by hashing its object and relation, and a
//! row holds positions of versions stored elsewhere; a check that visits a
//! folder reads its owners, editors, viewers and parents, each one hash
//! probe and one version away. On data larger than the processor's caches
//! every one of those is a miss. Here an object's live plain tuples are
//! one short array, found by the object's number alone: one or two misses
//! for every relation of the object.
//!
//! An object with more than [`NARROW`] live plain tuples (a large group) is
//! *wide*: its array is dropped and reads of it take the forward index,
//! which finds a subject in a long row by hash. It stays wide until the
//! store is compacted.
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

/// An object's live plain tuples: `None` once it is wide.
type Row = Option<Vec<Entry>>;

/// The live plain tuples by object (see the module doc).
#[derive(Debug, Default)]
pub(super) struct ByObject {
    rows: Vec<Row>,
}

impl ByObject {
    /// A live plain tuple, added.
    pub fn add(&mut self, object: ObjectId, relation: Name, subject: SubjectKey) {
        let index = object as usize;
        if self.rows.len() <= index {
            self.rows.resize_with(index + 1, || Some(Vec::new()));
        }
        let Some(row) = self.rows.get_mut(index) else {
            return;
        };
        match row {
            Some(entries) if entries.len() >= NARROW => *row = None,
            Some(entries) => entries.push(Entry::new(relation, subject)),
            None => {}
        }
    }

    /// A live plain tuple, deleted.
    pub fn remove(&mut self, object: ObjectId, relation: Name, subject: SubjectKey) {
        if let Some(Some(entries)) = self.rows.get_mut(object as usize) {
            let entry = Entry::new(relation, subject);
            if let Some(at) = entries.iter().position(|e| *e == entry) {
                entries.remove(at);
            }
        }
    }

    /// The live plain tuples of `object`; `None` for a wide one.
    fn row(&self, object: ObjectId) -> Option<&[Entry]> {
        match self.rows.get(object as usize) {
            Some(row) => row.as_deref(),
            None => Some(&[]),
        }
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
