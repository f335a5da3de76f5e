//! The memory store's dictionary: every namespace, relation and object is
//! stored once and named everywhere else by a dense `u32`, so that a version
//! is a few integers and a read compares integers, not strings.
//!
//! Entries are never removed: a name or object that no version uses any
//! more costs its bytes until [`Maintenance::gc`](crate::store::Maintenance::gc)
//! rebuilds the store from the versions it keeps.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::tuple::{Object, Subject, SubjectRef, Tuple};

/// A namespace or relation name.
pub(super) type Name = u32;

/// An object `namespace:id`.
pub(super) type ObjectId = u32;

/// Hashes keyed by IDs that clients choose, so seeded per process (unlike
/// FxHash), yet several times faster than SipHash.
pub(super) type Hasher = foldhash::fast::RandomState;

/// What [`SubjectKey::relation`] holds for an object subject `ns:id`.
const OBJECT: u32 = u32::MAX;
/// What [`SubjectKey::relation`] holds for a wildcard `ns:*` (whose object
/// is `ns:*`).
const WILDCARD: u32 = u32::MAX - 1;

/// A subject: an object and, for a subject set, its relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct SubjectKey {
    pub object: ObjectId,
    relation: u32,
}

impl SubjectKey {
    pub fn is_set(self) -> bool {
        self.relation < WILDCARD
    }

    pub fn is_wildcard(self) -> bool {
        self.relation == WILDCARD
    }

    /// The relation of a subject set.
    pub fn set_relation(self) -> Option<Name> {
        self.is_set().then_some(self.relation)
    }
}

/// A tuple's identity ([`Tuple::key`]) in IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub object: ObjectId,
    pub relation: Name,
    pub subject: SubjectKey,
}

/// Strings stored end to end in one buffer, each found by its hash.
#[derive(Default)]
struct Strings {
    text: String,
    /// Where each string ends in `text`; it starts where the one before ends.
    ends: Vec<usize>,
}

impl Strings {
    fn get(&self, index: u32) -> &str {
        let index = index as usize;
        let end = self.ends.get(index).copied().unwrap_or(0);
        let start = match index.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(0),
            None => 0,
        };
        self.text.get(start..end).unwrap_or("")
    }

    /// Appends `s`; returns its index.
    fn push(&mut self, s: &str) -> u32 {
        let index = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len());
        index
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Namespace and relation names: a schema has a few dozen.
#[derive(Default)]
struct Names {
    strings: Strings,
    table: HashTable<Name>,
}

/// Objects by namespace and ID.
#[derive(Default)]
struct Objects {
    /// The namespace of each object.
    namespaces: Vec<Name>,
    /// The ID of each object.
    ids: Strings,
    /// Each object with its namespace, so that a lookup compares the
    /// namespace without reading `namespaces` (one miss fewer on a large
    /// store).
    table: HashTable<(ObjectId, Name)>,
}

/// Which dictionary numbered a name or object: every dictionary gets a
/// number of its own, so that numbers kept from one (by a check, for the
/// length of a request or across requests) are never used with another,
/// such as the compacted copy that [`Maintenance::gc`](crate::store::Maintenance::gc) builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation(u64);

impl Default for Generation {
    fn default() -> Generation {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Generation(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// Every name and object a store has held.
#[derive(Default)]
pub(super) struct Dictionary {
    names: Names,
    objects: Objects,
    hasher: Hasher,
    pub generation: Generation,
    /// Whether a wildcard was ever stored: most stores hold none, and a
    /// check asks for one in most rows.
    wildcards: bool,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("names", &self.names.strings.len())
            .field("objects", &self.objects.ids.len())
            .finish()
    }
}

impl Dictionary {
    /// The largest number of names or objects: IDs above are markers, and
    /// the store's indexes mark rows with the top bit of a name.
    const CAPACITY: usize = (1 << 31) - 1;

    pub fn name_of(&self, name: Name) -> &str {
        self.names.strings.get(name)
    }

    pub fn namespace_of(&self, object: ObjectId) -> Name {
        self.objects
            .namespaces
            .get(object as usize)
            .copied()
            .unwrap_or(OBJECT)
    }

    pub fn id_of(&self, object: ObjectId) -> &str {
        self.objects.ids.get(object)
    }

    /// The name `name`, if stored.
    pub fn name(&self, name: &str) -> Option<Name> {
        let strings = &self.names.strings;
        self.names
            .table
            .find(self.hasher.hash_one(name), |&n| strings.get(n) == name)
            .copied()
    }

    /// The object `namespace:id`, if stored: found by both strings, so
    /// that a read resolves no namespace name first.
    pub fn object(&self, namespace: &str, id: &str) -> Option<ObjectId> {
        let objects = &self.objects;
        objects
            .table
            .find(self.hasher.hash_one((namespace, id)), |&(o, ns)| {
                self.name_of(ns) == namespace && objects.ids.get(o) == id
            })
            .map(|&(o, _)| o)
    }

    /// The object and relation of the row `namespace:object_id#relation`,
    /// if stored.
    pub fn row(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
    ) -> Option<(ObjectId, Name)> {
        Some((self.object(namespace, object_id)?, self.name(relation)?))
    }

    /// The subject, namespace and relation of the reverse row of `subject`
    /// in `namespace`'s `relation`, if stored.
    pub fn reverse_row(
        &self,
        subject: &Subject,
        namespace: &str,
        relation: &str,
    ) -> Option<(SubjectKey, Name, Name)> {
        Some((
            self.subject(subject.borrowed())?,
            self.name(namespace)?,
            self.name(relation)?,
        ))
    }

    /// The subject `subject`, if every part of it is stored.
    pub fn subject(&self, subject: SubjectRef<'_>) -> Option<SubjectKey> {
        Some(match subject {
            SubjectRef::Object { namespace, id } => SubjectKey {
                object: self.object(namespace, id)?,
                relation: OBJECT,
            },
            SubjectRef::Set {
                namespace,
                id,
                relation,
            } => SubjectKey {
                object: self.object(namespace, id)?,
                relation: self.name(relation)?,
            },
            SubjectRef::Wildcard { namespace } if self.wildcards => SubjectKey {
                object: self.object(namespace, "*")?,
                relation: WILDCARD,
            },
            SubjectRef::Wildcard { .. } => return None,
        })
    }

    /// The key of `tuple`, if every part of it is stored.
    pub fn key(&self, tuple: &Tuple) -> Option<Key> {
        Some(Key {
            object: self.object(&tuple.object.namespace, &tuple.object.id)?,
            relation: self.name(&tuple.relation)?,
            subject: self.subject(tuple.subject.borrowed())?,
        })
    }

    /// Whether `count` more names and objects fit (see [`Self::CAPACITY`]).
    pub fn has_room(&self, count: usize) -> bool {
        let used = self.names.strings.len().max(self.objects.ids.len());
        used.saturating_add(count) <= Self::CAPACITY
    }

    /// The name `name`, stored if new.
    pub fn intern_name(&mut self, name: &str) -> Name {
        if let Some(found) = self.name(name) {
            return found;
        }
        let Names { strings, table } = &mut self.names;
        let index = strings.push(name);
        let hasher = &self.hasher;
        table.insert_unique(hasher.hash_one(name), index, |&n| {
            hasher.hash_one(strings.get(n))
        });
        index
    }

    /// The object `namespace:id`, stored if new.
    pub fn intern_object(&mut self, object: &Object) -> ObjectId {
        let namespace = self.intern_name(&object.namespace);
        self.intern_object_in(namespace, &object.id)
    }

    fn intern_object_in(&mut self, namespace: Name, id: &str) -> ObjectId {
        let Dictionary {
            names,
            objects,
            hasher,
            ..
        } = self;
        let namespace_name = names.strings.get(namespace);
        let hash = hasher.hash_one((namespace_name, id));
        let found = objects
            .table
            .find(hash, |&(o, ns)| ns == namespace && objects.ids.get(o) == id);
        if let Some(&(found, _)) = found {
            return found;
        }
        let Objects {
            namespaces,
            ids,
            table,
        } = objects;
        let index = ids.push(id);
        namespaces.push(namespace);
        table.insert_unique(hash, (index, namespace), |&(o, ns)| {
            hasher.hash_one((names.strings.get(ns), ids.get(o)))
        });
        index
    }

    /// The subject `subject`, stored if new.
    pub fn intern_subject(&mut self, subject: &Subject) -> SubjectKey {
        match subject {
            Subject::Object(object) => SubjectKey {
                object: self.intern_object(object),
                relation: OBJECT,
            },
            Subject::Set { object, relation } => SubjectKey {
                object: self.intern_object(object),
                relation: self.intern_name(relation),
            },
            Subject::Wildcard { namespace } => {
                self.wildcards = true;
                let namespace = self.intern_name(namespace);
                SubjectKey {
                    object: self.intern_object_in(namespace, "*"),
                    relation: WILDCARD,
                }
            }
        }
    }

    /// The key of `tuple`, its parts stored if new.
    pub fn intern_key(&mut self, tuple: &Tuple) -> Key {
        Key {
            object: self.intern_object(&tuple.object),
            relation: self.intern_name(&tuple.relation),
            subject: self.intern_subject(&tuple.subject),
        }
    }

    /// `key`, from `other`'s IDs into this dictionary's (a compacted copy).
    pub fn intern_from(&mut self, other: &Dictionary, key: Key) -> Key {
        let object = |dictionary: &mut Dictionary, object: ObjectId| {
            let namespace = dictionary.intern_name(other.name_of(other.namespace_of(object)));
            dictionary.intern_object_in(namespace, other.id_of(object))
        };
        let relation = self.intern_name(other.name_of(key.relation));
        let subject_object = object(self, key.subject.object);
        self.wildcards |= key.subject.is_wildcard();
        let subject_relation = match key.subject.relation {
            OBJECT | WILDCARD => key.subject.relation,
            relation => self.intern_name(other.name_of(relation)),
        };
        Key {
            object: object(self, key.object),
            relation,
            subject: SubjectKey {
                object: subject_object,
                relation: subject_relation,
            },
        }
    }

    /// `subject`, borrowed from the dictionary.
    pub fn subject_ref(&self, subject: SubjectKey) -> SubjectRef<'_> {
        let namespace = self.name_of(self.namespace_of(subject.object));
        match subject.relation {
            OBJECT => SubjectRef::Object {
                namespace,
                id: self.id_of(subject.object),
            },
            WILDCARD => SubjectRef::Wildcard { namespace },
            relation => SubjectRef::Set {
                namespace,
                id: self.id_of(subject.object),
                relation: self.name_of(relation),
            },
        }
    }

    /// The plain tuple of `key`.
    pub fn tuple(&self, key: Key) -> Tuple {
        let object = Object::new(
            self.name_of(self.namespace_of(key.object)),
            self.id_of(key.object),
        );
        Tuple::new(
            object,
            self.name_of(key.relation),
            self.subject_ref(key.subject).to_subject(),
        )
    }

    /// Every name, for reads that name no relation.
    pub fn names(&self) -> impl Iterator<Item = Name> {
        0..self.names.strings.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_comes_back_as_it_went_in() {
        let mut dictionary = Dictionary::default();
        for subject in [
            Subject::object("user", "alice"),
            Subject::object("user", "*"),
            Subject::set("group", "eng", "member"),
            Subject::wildcard("user"),
            Subject::object("", ""),
        ] {
            let key = dictionary.intern_subject(&subject);
            assert_eq!(dictionary.subject_ref(key).to_subject(), subject);
            assert_eq!(dictionary.subject(subject.borrowed()), Some(key));
        }
        // `user:*` the object and `user:*` the wildcard are two subjects.
        assert_ne!(
            dictionary.subject(Subject::object("user", "*").borrowed()),
            dictionary.subject(Subject::wildcard("user").borrowed())
        );
        assert_eq!(
            dictionary.subject(Subject::object("user", "bob").borrowed()),
            None
        );
    }

    #[test]
    fn a_wildcard_is_found_once_one_is_stored_and_after_compaction() {
        let mut dictionary = Dictionary::default();
        let star = Subject::wildcard("user");
        // The object `user:*` is not the wildcard.
        dictionary.intern_subject(&Subject::object("user", "*"));
        assert_eq!(dictionary.subject(star.borrowed()), None);
        let key = dictionary.intern_subject(&star);
        assert_eq!(dictionary.subject(star.borrowed()), Some(key));
        let mut compacted = Dictionary::default();
        let tuple = Tuple::new(Object::new("doc", "1"), "viewer", star.clone());
        let key = dictionary.intern_key(&tuple);
        let moved = compacted.intern_from(&dictionary, key);
        assert_eq!(compacted.subject(star.borrowed()), Some(moved.subject));
        assert_eq!(compacted.tuple(moved), tuple);
    }

    #[test]
    fn the_same_id_in_two_namespaces_is_two_objects() {
        let mut dictionary = Dictionary::default();
        let user = dictionary.intern_object(&Object::new("user", "x"));
        let group = dictionary.intern_object(&Object::new("group", "x"));
        assert_ne!(user, group);
        assert_eq!(dictionary.object("group", "x"), Some(group));
        assert_eq!(dictionary.id_of(group), "x");
        assert_eq!(dictionary.name_of(dictionary.namespace_of(user)), "user");
    }
}
