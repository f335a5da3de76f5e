//! The memory store's indexes: rows of version positions found by a key of
//! IDs, and the table of live versions.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use super::interned::{Hasher, Key};

/// A version's position in the store's vector of versions.
pub(super) type Position = u32;

/// What marks a row's value as an index into [`Rows::lists`]; a value
/// without it is the row's one position.
const LIST: u32 = 1 << 31;

/// The largest number of versions, so that a position never has [`LIST`]
/// set.
pub(super) const MAX_VERSIONS: usize = LIST as usize;

/// Positions by key, each row in the order they were added: a row of one
/// (most of them) is held in the table itself, a longer one in a list.
pub(super) struct Rows<K> {
    table: HashTable<(K, u32)>,
    lists: Vec<Vec<Position>>,
    hasher: Hasher,
}

impl<K> Default for Rows<K> {
    fn default() -> Rows<K> {
        Rows {
            table: HashTable::new(),
            lists: Vec::new(),
            hasher: Hasher::default(),
        }
    }
}

impl<K> std::fmt::Debug for Rows<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("rows", &self.table.len())
            .field("lists", &self.lists.len())
            .finish()
    }
}

impl<K: Copy + Eq + Hash> Rows<K> {
    /// The positions of `key`, oldest first.
    pub fn get(&self, key: K) -> &[Position] {
        let Some((_, value)) = self
            .table
            .find(self.hasher.hash_one(key), |(k, _)| *k == key)
        else {
            return &[];
        };
        if value & LIST == 0 {
            return std::slice::from_ref(value);
        }
        self.lists
            .get((value & !LIST) as usize)
            .map_or(&[], Vec::as_slice)
    }

    /// Adds `position` (greater than every position already added) to the
    /// row of `key`.
    pub fn push(&mut self, key: K, position: Position) {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(key);
        match self.table.find_mut(hash, |(k, _)| *k == key) {
            Some((_, value)) if *value & LIST != 0 => {
                if let Some(list) = self.lists.get_mut((*value & !LIST) as usize) {
                    list.push(position);
                }
            }
            Some((_, value)) => {
                let list = self.lists.len() as u32;
                self.lists.push(vec![*value, position]);
                *value = list | LIST;
            }
            None => {
                self.table
                    .insert_unique(hash, (key, position), |(k, _)| hasher.hash_one(k));
            }
        }
    }
}

/// The live versions, found by their key: positions into the versions in
/// a table hashed by the key, so that no key is stored twice.
#[derive(Default)]
pub(super) struct Live {
    table: HashTable<Position>,
    hasher: Hasher,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("len", &self.table.len())
            .finish()
    }
}

impl Live {
    pub fn with_capacity(capacity: usize) -> Live {
        Live {
            table: HashTable::with_capacity(capacity),
            hasher: Hasher::default(),
        }
    }

    /// The position of the live version of `key`; `key_at` gives the key
    /// of a position.
    pub fn get(&self, key: Key, key_at: impl Fn(Position) -> Option<Key>) -> Option<Position> {
        self.table
            .find(self.hasher.hash_one(key), |&p| key_at(p) == Some(key))
            .copied()
    }

    /// Records `position`, of key `key`, as live.
    pub fn insert(
        &mut self,
        key: Key,
        position: Position,
        key_at: impl Fn(Position) -> Option<Key>,
    ) {
        let hasher = &self.hasher;
        self.table
            .insert_unique(hasher.hash_one(key), position, |&p| {
                key_at(p).map_or(0, |k| hasher.hash_one(k))
            });
    }

    /// Forgets the live version of `key`; returns its position.
    pub fn remove(
        &mut self,
        key: Key,
        key_at: impl Fn(Position) -> Option<Key>,
    ) -> Option<Position> {
        let entry = self
            .table
            .find_entry(self.hasher.hash_one(key), |&p| key_at(p) == Some(key))
            .ok()?;
        Some(entry.remove().0)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The positions of the live versions, in no order.
    pub fn positions(&self) -> impl Iterator<Item = Position> + '_ {
        self.table.iter().copied()
    }
}

/// The positions of two rows in the order they were added (each row is).
pub(super) fn merged<'a>(
    a: &'a [Position],
    b: &'a [Position],
) -> impl Iterator<Item = Position> + 'a {
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(&&x), Some(&&y)) if y < x => b.next().copied(),
        (Some(_), _) => a.next().copied(),
        (None, _) => b.next().copied(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_grows_from_one_position_to_a_list() {
        let mut rows: Rows<(u32, u32)> = Rows::default();
        assert_eq!(rows.get((1, 2)), &[] as &[Position]);
        rows.push((1, 2), 5);
        assert_eq!(rows.get((1, 2)), &[5]);
        rows.push((1, 2), 9);
        rows.push((1, 3), 10);
        rows.push((1, 2), 11);
        assert_eq!(rows.get((1, 2)), &[5, 9, 11]);
        assert_eq!(rows.get((1, 3)), &[10]);
    }

    #[test]
    fn two_rows_merge_in_order() {
        let merged: Vec<_> = merged(&[1, 4, 6], &[2, 3, 7, 8]).collect();
        assert_eq!(merged, [1, 2, 3, 4, 6, 7, 8]);
        assert_eq!(merged_of(&[], &[3]), [3]);
    }

    fn merged_of(a: &[Position], b: &[Position]) -> Vec<Position> {
        merged(a, b).collect()
    }
}
