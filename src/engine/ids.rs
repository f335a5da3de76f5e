//! Object IDs numbered for one request (a check, a lookup): goals, caches
//! and candidates key on the number, so an ID is hashed once and stored
//! once. The text of every ID is kept end to end in one buffer: numbering
//! 100k IDs makes no allocation per ID.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// An object ID numbered by [`Ids`].
pub(crate) type Id = u32;

/// IDs numbered in the order they are met.
#[derive(Default)]
pub(crate) struct Ids {
    /// The numbers, found by their IDs' hashes.
    numbers: HashTable<Id>,
    text: Strings,
}

fn hash_id(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl Ids {
    pub(crate) fn with_capacity(ids: usize, bytes: usize) -> Ids {
        Ids {
            numbers: HashTable::with_capacity(ids),
            text: Strings {
                text: String::with_capacity(bytes),
                ends: Vec::with_capacity(ids),
            },
        }
    }

    pub(crate) fn intern(&mut self, id: &str) -> Id {
        let Ids { numbers, text } = self;
        let entry = numbers.entry(
            hash_id(id),
            |&n| text.get(n as usize) == id,
            |&n| hash_id(text.get(n as usize)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(entry) => *entry.get(),
            hashbrown::hash_table::Entry::Vacant(entry) => {
                let n = text.len() as Id;
                entry.insert(n);
                text.push(id);
                n
            }
        }
    }

    /// The number of `id`, if it has one.
    pub(crate) fn find(&self, id: &str) -> Option<Id> {
        let Ids { numbers, text } = self;
        numbers
            .find(hash_id(id), |&n| text.get(n as usize) == id)
            .copied()
    }

    /// The ID of a number from [`Ids::intern`] (empty for any other).
    #[inline]
    pub(crate) fn name(&self, id: Id) -> &str {
        self.text.get(id as usize)
    }

    /// The ID of `id`, copied into `buffer`: for a read whose callback
    /// numbers the IDs it meets.
    pub(crate) fn name_into<'b>(&self, id: Id, buffer: &'b mut String) -> &'b str {
        buffer.clear();
        buffer.push_str(self.name(id));
        buffer
    }

    /// Whether the tables outgrew `ids` IDs or `bytes` bytes of text (not
    /// worth keeping for the next request).
    pub(crate) fn outgrew(&self, ids: usize, bytes: usize) -> bool {
        self.text.ends.capacity() > ids || self.text.text.capacity() > bytes
    }

    pub(crate) fn clear(&mut self) {
        self.numbers.clear();
        self.text.clear();
    }
}

/// Strings kept end to end in one buffer, in the order they were pushed.
#[derive(Default)]
pub(crate) struct Strings {
    text: String,
    /// Where each string ends in `text`; it starts where the one before ends.
    ends: Vec<usize>,
}

impl Strings {
    pub(crate) fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// The `n`th string pushed (empty past the last).
    pub(crate) fn get(&self, n: usize) -> &str {
        let start = match n.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or_default(),
            None => 0,
        };
        let end = self.ends.get(n).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len()).map(|n| self.get(n))
    }
}

#[cfg(test)]
mod tests {
    use super::{Ids, Strings};

    #[test]
    fn strings_give_back_what_they_were_given() {
        let mut strings = Strings::default();
        for s in ["x", "", "yz"] {
            strings.push(s);
        }
        assert_eq!(strings.iter().collect::<Vec<_>>(), ["x", "", "yz"]);
        assert_eq!(
            (strings.len(), strings.get(2), strings.get(3)),
            (3, "yz", "")
        );
        strings.clear();
        assert_eq!(strings.iter().count(), 0);
    }

    #[test]
    fn ids_are_numbered_once_and_read_back() {
        let mut ids = Ids::default();
        let a = ids.intern("alice");
        let b = ids.intern("");
        let c = ids.intern("bob");
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(ids.intern("alice"), a);
        assert_eq!((ids.find("bob"), ids.find("carol")), (Some(c), None));
        assert_eq!(ids.intern(""), b);
        assert_eq!(
            (ids.name(a), ids.name(b), ids.name(c)),
            ("alice", "", "bob")
        );
        assert_eq!(ids.name(7), "");
        let mut buffer = String::from("old");
        assert_eq!(ids.name_into(c, &mut buffer), "bob");
    }
}
