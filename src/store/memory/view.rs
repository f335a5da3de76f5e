//! A check's view of the memory store: its plain tuples at one revision,
//! in the store's own numbers, under one read lock for the whole check.
//!
//! Through [`Reader`](crate::store::Reader) every read names its object by
//! strings, which the store hashes and looks up again on every probe, and
//! takes the lock again. A check that holds the view resolves its subject
//! and each name once, then reads rows by integers: a set's subjects come
//! back as numbers it can read next without a lookup.
//!
//! Only plain tuples are visible here, as in every plain read: a tuple with
//! a condition or an expiry never grants through the view.

use super::by_object::ByObject;
use super::interned::{Generation, Key, Name, ObjectId, SubjectKey};
use super::rows::Position;
use super::versions::{Inner, Kind, Version};
use crate::tuple::SubjectRef;

/// A probe scans a row of at most this many versions; a longer one is
/// asked for the probed subject by key.
const SCAN_LIMIT: usize = 8;

/// The memory store at one revision, read-locked (see the module doc).
pub struct MemoryView<'a> {
    inner: &'a Inner,
    at: u64,
}

/// An object in the store's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoredObject(ObjectId);

/// A namespace or relation name in the store's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoredName(Name);

/// A subject in the store's numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StoredSubject(SubjectKey);

impl StoredObject {
    /// The number, for keys of the caller's tables.
    pub fn number(self) -> u32 {
        self.0
    }
}

impl<'a> MemoryView<'a> {
    pub(super) fn new(inner: &'a Inner, at: u64) -> MemoryView<'a> {
        MemoryView { inner, at }
    }

    /// Which dictionary the numbers come from: numbers kept past this view
    /// hold for another view only of the same generation.
    pub fn generation(&self) -> Generation {
        self.inner.dictionary.generation
    }

    /// A namespace or relation name, if the store has ever held it.
    pub fn name(&self, name: &str) -> Option<StoredName> {
        self.inner.dictionary.name(name).map(StoredName)
    }

    pub fn name_of(&self, name: StoredName) -> &'a str {
        self.inner.dictionary.name_of(name.0)
    }

    /// The object `namespace:id`, if the store has ever held it.
    pub fn object(&self, namespace: &str, id: &str) -> Option<StoredObject> {
        self.inner
            .dictionary
            .object(namespace, id)
            .map(StoredObject)
    }

    pub fn namespace_of(&self, object: StoredObject) -> StoredName {
        StoredName(self.inner.dictionary.namespace_of(object.0))
    }

    pub fn id_of(&self, object: StoredObject) -> &'a str {
        self.inner.dictionary.id_of(object.0)
    }

    /// A subject (an object, a set or a wildcard), if the store has ever
    /// held it.
    pub fn subject(&self, subject: SubjectRef<'_>) -> Option<StoredSubject> {
        self.inner.dictionary.subject(subject).map(StoredSubject)
    }

    /// Whether the plain tuple `object#relation@subject` is visible.
    pub fn holds(
        &self,
        object: StoredObject,
        relation: StoredName,
        subject: StoredSubject,
    ) -> bool {
        self.holds_key(Key {
            object: object.0,
            relation: relation.0,
            subject: subject.0,
        })
    }

    /// [`MemoryView::holds`] in the store's own types, for its reader's
    /// probe.
    pub(super) fn holds_key(&self, key: Key) -> bool {
        if let Some(holds) = self
            .at_head()
            .and_then(|by_object| by_object.holds(key.object, key.relation, key.subject))
        {
            return holds;
        }
        let row = self
            .inner
            .forward(Kind::Plain, key.object, key.relation, key.subject.is_set());
        if row.len() <= SCAN_LIMIT {
            self.visible(row).any(|v| v.key.subject == key.subject)
        } else {
            self.inner.contains_key(key, self.at)
        }
    }

    /// Calls `visit` with the object and relation of each subject set of
    /// `object#relation`, in the order of creation.
    pub fn for_each_set(
        &self,
        object: StoredObject,
        relation: StoredName,
        mut visit: impl FnMut(StoredObject, StoredName),
    ) {
        if let Some(subjects) = self
            .at_head()
            .and_then(|by_object| by_object.subjects(object.0, relation.0, true))
        {
            for subject in subjects {
                if let Some(relation) = subject.set_relation() {
                    visit(StoredObject(subject.object), StoredName(relation));
                }
            }
            return;
        }
        let row = self.inner.forward(Kind::Plain, object.0, relation.0, true);
        for version in self.visible(row) {
            let subject = version.key.subject;
            if let Some(relation) = subject.set_relation() {
                visit(StoredObject(subject.object), StoredName(relation));
            }
        }
    }

    /// Calls `visit` with each object subject of `object#relation`
    /// (wildcards left out), in the order of creation.
    pub fn for_each_object(
        &self,
        object: StoredObject,
        relation: StoredName,
        mut visit: impl FnMut(StoredObject),
    ) {
        if let Some(subjects) = self
            .at_head()
            .and_then(|by_object| by_object.subjects(object.0, relation.0, false))
        {
            for subject in subjects.filter(|s| !s.is_wildcard()) {
                visit(StoredObject(subject.object));
            }
            return;
        }
        let row = self.inner.forward(Kind::Plain, object.0, relation.0, false);
        // The row of a relation's other subjects holds its wildcards too.
        for version in self.visible(row) {
            if !version.key.subject.is_wildcard() {
                visit(StoredObject(version.key.subject.object));
            }
        }
    }

    /// The live tuples by object, when reading at the head.
    fn at_head(&self) -> Option<&'a ByObject> {
        (self.at == self.inner.head).then_some(&self.inner.by_object)
    }

    fn visible(&self, row: &'a [Position]) -> impl Iterator<Item = &'a Version> + 'a {
        self.inner.visible(row.iter().copied(), self.at)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::super::MemoryStore;
    use crate::store::{Maintenance, Reader, SubjectKind, TupleStore};
    use crate::tuple::{Expiry, Object, Subject, Tuple};

    /// Writes of tuples over a small universe: an object with up to 60
    /// users is wide, sets and wildcards come and go, some tuples expire.
    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, u8, u8, bool),
        Delete(u8, u8, u8),
        Collect,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>())
                .prop_map(|(o, r, s, t)| Op::Insert(o, r, s, t)),
            3 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(o, r, s)| Op::Delete(o, r, s)),
            1 => Just(Op::Collect),
        ]
    }

    fn object(o: u8) -> Object {
        Object::new("doc", format!("d{}", o % 3))
    }

    fn relation(r: u8) -> &'static str {
        ["viewer", "parent"][usize::from(r % 2)]
    }

    fn subject(s: u8) -> Subject {
        match s % 8 {
            0 => Subject::set("group", format!("g{}", s % 3), "member"),
            1 => Subject::wildcard("user"),
            2 => Subject::object("doc", format!("d{}", s % 3)),
            _ => Subject::object("user", format!("u{}", s % 64)),
        }
    }

    fn tuple(o: u8, r: u8, s: u8) -> Tuple {
        Tuple::new(object(o), relation(r), subject(s))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// At the head the view reads the tuples by object; at any other
        /// revision, and through the reader, the versions. Both must give
        /// the same subjects, in the same order.
        #[test]
        fn the_view_reads_as_the_reader_reads(ops in prop::collection::vec(op(), 1..200)) {
            let store = MemoryStore::new();
            let mut revisions = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(o, r, s, expiring) => {
                        let mut t = tuple(o, r, s);
                        if expiring && s % 5 == 0 {
                            t.expires_at = Some(Expiry::from_micros(i64::MAX / 4));
                        }
                        revisions.push(store.write(&[t], &[]).unwrap());
                    }
                    Op::Delete(o, r, s) => {
                        revisions.push(store.write(&[], &[tuple(o, r, s)]).unwrap());
                    }
                    Op::Collect => {
                        let head = store.head_revision().unwrap();
                        store.gc(head).unwrap();
                        revisions.retain(|&r| r >= head);
                    }
                }
            }
            for &at in revisions.iter().rev().take(3) {
                let reader = store.reader(at).unwrap();
                for o in 0..3 {
                    for r in 0..2 {
                        let object = object(o);
                        let relation = relation(r);
                        let mut sets = Vec::new();
                        let mut objects = Vec::new();
                        let mut held = Vec::new();
                        assert!(reader.with_memory_view(&mut |view| {
                            let (Some(stored), Some(name)) =
                                (view.object(&object.namespace, &object.id), view.name(relation))
                            else {
                                return;
                            };
                            view.for_each_set(stored, name, |set, rel| {
                                sets.push(Subject::set("group", view.id_of(set), view.name_of(rel)));
                            });
                            view.for_each_object(stored, name, |next| {
                                let ns = view.name_of(view.namespace_of(next));
                                objects.push(Subject::object(ns, view.id_of(next)));
                            });
                            for s in 0..=255u8 {
                                let subject = subject(s);
                                let stored_subject = view.subject(subject.borrowed());
                                if stored_subject.is_some_and(|k| view.holds(stored, name, k)) {
                                    held.push(subject);
                                }
                            }
                        }).unwrap());
                        let read = |kind| {
                            reader.subjects(&object.namespace, &object.id, relation, kind).unwrap()
                        };
                        prop_assert_eq!(&sets, &read(SubjectKind::Sets), "sets at {:?}", at);
                        let others: Vec<Subject> = read(SubjectKind::Objects);
                        prop_assert_eq!(&objects, &others, "objects at {:?}", at);
                        let all = read(SubjectKind::All);
                        held.sort();
                        held.dedup();
                        let mut expected = all;
                        expected.sort();
                        prop_assert_eq!(&held, &expected, "holds at {:?}", at);
                    }
                }
            }
        }
    }
}
