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

use super::interned::{Generation, Name, ObjectId, SubjectKey};
use super::rows::Position;
use super::versions::{Inner, Kind, Version};
use crate::tuple::SubjectRef;

/// A probe scans a row of at most this many versions; a longer one is
/// asked for the probed subject by key.
pub(super) const SCAN_LIMIT: usize = 8;

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

impl StoredName {
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
        let inner = self.inner;
        let subject = subject.0;
        let row = inner.forward(Kind::Plain, object.0, relation.0, subject.is_set());
        if row.len() <= SCAN_LIMIT {
            self.visible(row).any(|v| v.key.subject == subject)
        } else {
            inner.contains_key(
                super::interned::Key {
                    object: object.0,
                    relation: relation.0,
                    subject,
                },
                self.at,
            )
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
        let row = self.inner.forward(Kind::Plain, object.0, relation.0, false);
        // The row of a relation's other subjects holds its wildcards too.
        for version in self.visible(row) {
            if !version.key.subject.is_wildcard() {
                visit(StoredObject(version.key.subject.object));
            }
        }
    }

    fn visible(&self, row: &'a [Position]) -> impl Iterator<Item = &'a Version> + 'a {
        self.inner.visible(row.iter().copied(), self.at)
    }
}
