//! The object IDs a lookup of subjects meets, each stored once.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// An ID interned by [`Names`].
pub(super) type Name = u32;

/// Object IDs numbered in the order they are met, their text kept in one
/// buffer: a lookup over 100k subjects makes no allocation per subject.
#[derive(Default)]
pub(super) struct Names {
    numbers: HashTable<Name>,
    text: String,
    /// Where each name ends in `text` (it starts where the previous ends).
    ends: Vec<usize>,
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl Names {
    pub(super) fn intern(&mut self, id: &str) -> Name {
        let Names {
            numbers,
            text,
            ends,
        } = self;
        let text_of = |n: Name| span(text, ends, n);
        let entry = numbers.entry(hash(id), |&n| text_of(n) == id, |&n| hash(text_of(n)));
        match entry {
            hashbrown::hash_table::Entry::Occupied(entry) => *entry.get(),
            hashbrown::hash_table::Entry::Vacant(entry) => {
                let n = ends.len() as Name;
                entry.insert(n);
                text.push_str(id);
                ends.push(text.len());
                n
            }
        }
    }

    /// The number of `id`, if it has one.
    pub(super) fn find(&self, id: &str) -> Option<Name> {
        let Names {
            numbers,
            text,
            ends,
        } = self;
        numbers
            .find(hash(id), |&n| span(text, ends, n) == id)
            .copied()
    }

    /// The ID of a number from [`Names::intern`].
    pub(super) fn get(&self, n: Name) -> &str {
        span(&self.text, &self.ends, n)
    }
}

/// IDs copied out of a store read, to be numbered after it: the read then
/// only copies bytes in order, and numbering them, which hashes each and
/// looks it up, finds them in the cache rather than across the store.
#[derive(Default)]
pub(super) struct Batch {
    text: String,
    ends: Vec<usize>,
}

impl Batch {
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    pub(super) fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|n| span(&self.text, &self.ends, n as Name))
    }

    /// The `n`th ID pushed.
    pub(super) fn get(&self, n: usize) -> &str {
        span(&self.text, &self.ends, n as Name)
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }
}

fn span<'t>(text: &'t str, ends: &[usize], n: Name) -> &'t str {
    let n = n as usize;
    let start = match n.checked_sub(1) {
        Some(previous) => ends.get(previous).copied().unwrap_or_default(),
        None => 0,
    };
    let end = ends.get(n).copied().unwrap_or(start);
    text.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{Batch, Names};

    #[test]
    fn a_batch_gives_back_what_it_was_given() {
        let mut batch = Batch::default();
        for id in ["x", "", "yz"] {
            batch.push(id);
        }
        assert_eq!(batch.iter().collect::<Vec<_>>(), ["x", "", "yz"]);
        assert_eq!((batch.len(), batch.get(2), batch.get(3)), (3, "yz", ""));
        batch.clear();
        assert_eq!(batch.iter().count(), 0);
    }

    #[test]
    fn names_are_numbered_once_and_read_back() {
        let mut names = Names::default();
        let a = names.intern("alice");
        let b = names.intern("");
        let c = names.intern("bob");
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(names.intern("alice"), a);
        assert_eq!((names.find("bob"), names.find("carol")), (Some(c), None));
        assert_eq!(names.intern(""), b);
        assert_eq!(
            (names.get(a), names.get(b), names.get(c)),
            ("alice", "", "bob")
        );
        assert_eq!(names.get(7), "");
    }
}
