//! What a reader resolved lately: a check probes one subject (and one
//! wildcard) in many rows, and comparing it with the dictionary's copy is
//! cheaper than hashing it and looking it up. (Remembering the last object
//! and the relation names too was measured, and cost more than it saved.)
//!
//! Every entry is checked against the dictionary by content before it is
//! used, so an entry that a compaction renumbered is simply missed.

use std::cell::Cell;

use super::interned::{Dictionary, SubjectKey};
use crate::tuple::SubjectRef;

#[derive(Default)]
pub(super) struct Recent {
    subject: Cell<Option<SubjectKey>>,
    wildcard: Cell<Option<SubjectKey>>,
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
    use crate::tuple::Subject;

    #[test]
    fn a_remembered_subject_is_used_only_for_what_it_names() {
        let mut dictionary = Dictionary::default();
        let alice = dictionary.intern_subject(&Subject::object("user", "alice"));
        let bob = dictionary.intern_subject(&Subject::object("user", "bob"));
        let alice_ref = SubjectRef::Object {
            namespace: "user",
            id: "alice",
        };
        let bob_ref = SubjectRef::Object {
            namespace: "user",
            id: "bob",
        };
        let recent = Recent::default();
        for _ in 0..2 {
            assert_eq!(recent.subject(&dictionary, alice_ref), Some(alice));
            assert_eq!(recent.subject(&dictionary, bob_ref), Some(bob));
            assert_eq!(recent.wildcard(&dictionary, "user"), None);
        }
        // A dictionary renumbered (as by a compaction) is not misread.
        let mut fresh = Dictionary::default();
        let bob_now = fresh.intern_subject(&Subject::object("user", "bob"));
        let alice_now = fresh.intern_subject(&Subject::object("user", "alice"));
        assert_eq!(recent.subject(&fresh, alice_ref), Some(alice_now));
        assert_ne!(alice_now, bob_now);
    }
}
