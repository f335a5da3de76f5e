//! What a reader resolved lately: a check reads one subject in many rows,
//! the rows of one object one after another, and a few relation names over
//! and over. Comparing a name with the dictionary's copy is cheaper than
//! hashing it and looking it up, and touches memory already in cache.
//!
//! Every entry is checked against the dictionary by content before it is
//! used, so an entry that a compaction renumbered is simply missed.

use std::cell::Cell;

use super::interned::{Dictionary, Name, ObjectId, SubjectKey};
use crate::tuple::SubjectRef;

/// Relation names remembered, one slot per hash of the name.
const NAMES: usize = 8;

#[derive(Default)]
pub(super) struct Recent {
    subject: Cell<Option<SubjectKey>>,
    wildcard: Cell<Option<SubjectKey>>,
    /// The object of the last row read: a permission reads several
    /// relations of its object in turn.
    object: Cell<Option<ObjectId>>,
    names: [Cell<Option<Name>>; NAMES],
}

/// A slot for `name`: its length and last byte mixed (names are short and
/// few, and differ in one or the other).
fn name_slot(name: &str) -> usize {
    let last = name.as_bytes().last().copied().unwrap_or(0) as usize;
    (name.len().wrapping_mul(5) ^ last) % NAMES
}

impl Recent {
    /// The probed subject in `dictionary`'s IDs.
    pub fn subject(&self, dictionary: &Dictionary, subject: SubjectRef<'_>) -> Option<SubjectKey> {
        resolve(dictionary, subject, &self.subject)
    }

    /// The probed wildcard `namespace:*` in `dictionary`'s IDs.
    pub fn wildcard(&self, dictionary: &Dictionary, namespace: &str) -> Option<SubjectKey> {
        resolve(
            dictionary,
            SubjectRef::Wildcard { namespace },
            &self.wildcard,
        )
    }

    /// The object and relation of the row `namespace:object_id#relation`,
    /// if stored.
    pub fn row(
        &self,
        dictionary: &Dictionary,
        namespace: &str,
        object_id: &str,
        relation: &str,
    ) -> Option<(ObjectId, Name)> {
        Some((
            self.object(dictionary, namespace, object_id)?,
            self.name(dictionary, relation)?,
        ))
    }

    fn object(&self, dictionary: &Dictionary, namespace: &str, id: &str) -> Option<ObjectId> {
        let is = |o: ObjectId| {
            dictionary.id_of(o) == id && dictionary.name_of(dictionary.namespace_of(o)) == namespace
        };
        if let Some(found) = self.object.get().filter(|&o| is(o)) {
            return Some(found);
        }
        let found = dictionary.object(namespace, id)?;
        self.object.set(Some(found));
        Some(found)
    }

    fn name(&self, dictionary: &Dictionary, name: &str) -> Option<Name> {
        let cell = self.names.get(name_slot(name))?;
        if let Some(found) = cell.get().filter(|&n| dictionary.name_of(n) == name) {
            return Some(found);
        }
        let found = dictionary.name(name)?;
        cell.set(Some(found));
        Some(found)
    }
}

/// `subject` in `dictionary`'s IDs: `last` if it is that subject, else
/// looked up (and kept in `last`).
fn resolve(
    dictionary: &Dictionary,
    subject: SubjectRef<'_>,
    last: &Cell<Option<SubjectKey>>,
) -> Option<SubjectKey> {
    if let Some(key) = last.get().filter(|&k| dictionary.subject_ref(k) == subject) {
        return Some(key);
    }
    let key = dictionary.subject(subject)?;
    last.set(Some(key));
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuple::{Object, Subject};

    #[test]
    fn a_remembered_entry_is_used_only_for_what_it_names() {
        let mut dictionary = Dictionary::default();
        let doc = dictionary.intern_object(&Object::new("doc", "1"));
        let other = dictionary.intern_object(&Object::new("folder", "1"));
        let viewer = dictionary.intern_name("viewer");
        let owner = dictionary.intern_name("owner");
        let alice = dictionary.intern_subject(&Subject::object("user", "alice"));
        let bob = dictionary.intern_subject(&Subject::object("user", "bob"));
        let recent = Recent::default();
        for _ in 0..2 {
            assert_eq!(
                recent.row(&dictionary, "doc", "1", "viewer"),
                Some((doc, viewer))
            );
            assert_eq!(
                recent.row(&dictionary, "folder", "1", "owner"),
                Some((other, owner))
            );
            assert_eq!(recent.row(&dictionary, "doc", "2", "viewer"), None);
            assert_eq!(recent.row(&dictionary, "doc", "1", "editor"), None);
            let alice_ref = SubjectRef::Object {
                namespace: "user",
                id: "alice",
            };
            let bob_ref = SubjectRef::Object {
                namespace: "user",
                id: "bob",
            };
            assert_eq!(recent.subject(&dictionary, alice_ref), Some(alice));
            assert_eq!(recent.subject(&dictionary, bob_ref), Some(bob));
            assert_eq!(recent.wildcard(&dictionary, "user"), None);
        }
        // A dictionary renumbered (as by a compaction) is not misread.
        let mut fresh = Dictionary::default();
        let bob_now = fresh.intern_subject(&Subject::object("user", "bob"));
        let alice_now = fresh.intern_subject(&Subject::object("user", "alice"));
        let alice_ref = SubjectRef::Object {
            namespace: "user",
            id: "alice",
        };
        assert_eq!(recent.subject(&fresh, alice_ref), Some(alice_now));
        assert_ne!(alice_now, bob_now);
        assert_eq!(recent.row(&fresh, "doc", "1", "viewer"), None);
    }
}
