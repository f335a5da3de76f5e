//! The memory store's state: every version of every tuple, in IDs, and the
//! indexes over them.
//!
//! A version is a [`Key`] of IDs, its revisions and its creation sequence
//! number: a plain tuple costs no string of its own. A tuple with a
//! condition or an expiry keeps its whole [`Tuple`] beside (`traited`), as
//! the reads that hand it out give it whole.

use std::collections::HashSet;

use super::by_object::ByObject;
use super::interned::{Dictionary, Key, Name, ObjectId, SubjectKey};
use super::rows::{merged, Live, Position, Rows, MAX_VERSIONS};
use crate::store::history::{self, Chain};
use crate::store::revision::ensure_not_collected;
use crate::store::{ChangeSet, KeyRef, Revision, StoreError, TupleFilter};
use crate::tuple::{Expiry, SubjectRef, Tuple};

/// [`Version::deleted`] of a live version.
const LIVE: u64 = u64::MAX;

/// [`Version::traits`] of a plain tuple.
const PLAIN: u32 = u32::MAX;

/// Marks the forward row of a relation's subject sets, apart from its
/// other subjects (names stay below it: [`Dictionary`]).
const SETS: u32 = 1 << 31;

#[derive(Debug)]
pub(super) struct Version {
    /// Position in the order of creation; survives compaction.
    pub seq: u64,
    pub created: u64,
    /// The revision that deleted it, [`LIVE`] while live.
    pub deleted: u64,
    pub key: Key,
    /// The tuple's place in [`Inner::traited`], [`PLAIN`] for a plain one.
    traits: u32,
}

impl Version {
    pub fn visible_at(&self, at: u64) -> bool {
        self.created <= at && self.deleted > at
    }

    pub fn is_live(&self) -> bool {
        self.deleted == LIVE
    }

    pub fn deleted(&self) -> Option<u64> {
        (!self.is_live()).then_some(self.deleted)
    }

    pub fn is_plain(&self) -> bool {
        self.traits == PLAIN
    }
}

/// The forward and reverse indexes of one kind of version.
#[derive(Debug, Default)]
struct Indexes {
    /// (object, relation, with [`SETS`] for its subject sets) → versions.
    forward: Rows<(ObjectId, u32)>,
    /// (subject, the object's namespace, relation) → versions.
    reverse: Rows<(SubjectKey, Name, Name)>,
}

impl Indexes {
    fn add(&mut self, key: Key, namespace: Name, position: Position) {
        let sets = if key.subject.is_set() { SETS } else { 0 };
        self.forward
            .push((key.object, key.relation | sets), position);
        self.reverse
            .push((key.subject, namespace, key.relation), position);
    }

    /// The versions of `object#relation` whose subject is a set (`sets`)
    /// or not.
    fn forward(&self, object: ObjectId, relation: Name, sets: bool) -> &[Position] {
        let sets = if sets { SETS } else { 0 };
        self.forward.get((object, relation | sets))
    }

    /// The versions of `object#relation`, both rows, in creation order.
    fn all_forward(&self, object: ObjectId, relation: Name) -> impl Iterator<Item = Position> + '_ {
        merged(
            self.forward(object, relation, false),
            self.forward(object, relation, true),
        )
    }
}

/// Which versions a read reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Plain tuples: what checks read.
    Plain,
    /// Tuples with a condition or an expiry.
    Traited,
}

#[derive(Debug)]
pub(super) struct Inner {
    pub head: u64,
    /// The oldest revision whose history is complete (see
    /// [`Maintenance::gc`](crate::store::Maintenance::gc)).
    pub horizon: u64,
    pub next_seq: u64,
    /// A random id, bound into snapshot tokens.
    pub id: String,
    /// The history chain of each revision from 0, for the revisions this
    /// store committed itself (a mirror keeps none: its durable store has
    /// them).
    pub chains: Vec<Chain>,
    /// The token secret's fingerprint.
    pub fingerprint: Option<String>,
    pub dictionary: Dictionary,
    pub versions: Vec<Version>,
    /// The tuples of the versions with a condition or an expiry.
    traited: Vec<Tuple>,
    /// The live version of each key.
    live: Live,
    /// The versions of plain tuples, which are what checks read.
    plain: Indexes,
    /// The versions with a condition or an expiry, apart so that a plain
    /// read never passes over them.
    traited_index: Indexes,
    /// The live plain tuples by object, for reads at the head.
    pub by_object: ByObject,
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            head: 0,
            horizon: 0,
            next_seq: 0,
            id: crate::store::random_id(),
            chains: vec![history::genesis()],
            fingerprint: None,
            dictionary: Dictionary::default(),
            versions: Vec::new(),
            traited: Vec::new(),
            live: Live::default(),
            plain: Indexes::default(),
            traited_index: Indexes::default(),
            by_object: ByObject::default(),
        }
    }
}

/// The key of the version at each position: how the live table finds a
/// position's key.
fn key_at(versions: &[Version]) -> impl Fn(Position) -> Option<Key> + '_ {
    |p| versions.get(p as usize).map(|v| v.key)
}

/// The error of a write that would not fit.
fn full() -> StoreError {
    StoreError::Backend(
        format!("the in-memory store is full: it holds at most {MAX_VERSIONS} tuple versions and as many objects")
            .into(),
    )
}

impl Inner {
    /// An empty mirror of the durable store `id`: its history chains are
    /// the durable store's.
    pub fn mirror(id: String) -> Inner {
        Inner {
            id,
            chains: Vec::new(),
            ..Inner::default()
        }
    }

    fn index(&self, kind: Kind) -> &Indexes {
        match kind {
            Kind::Plain => &self.plain,
            Kind::Traited => &self.traited_index,
        }
    }

    /// Whether `inserts` more versions fit, with the names and objects they
    /// may add (positions and IDs are `u32`; a delete adds no version).
    pub fn has_room_for(&self, inserts: usize) -> Result<(), StoreError> {
        // An insert names at most five names and objects.
        let fits = self.versions.len().saturating_add(inserts) < MAX_VERSIONS
            && self.dictionary.has_room(inserts.saturating_mul(5));
        if fits {
            Ok(())
        } else {
            Err(full())
        }
    }

    /// Inserts `tuple` at `rev` unless it is live as it is, replacing the
    /// live tuple of its key if another one is; returns whether it was
    /// inserted, and the tuple it replaced.
    pub fn insert(&mut self, tuple: &Tuple, rev: u64) -> (bool, Option<Tuple>) {
        let key = self.dictionary.intern_key(tuple);
        let live = self
            .live
            .get(key, key_at(&self.versions))
            .and_then(|p| self.versions.get(p as usize));
        if live.is_some_and(|v| self.holds(v, tuple)) {
            return (false, None);
        }
        let replaced = self.delete_key(key, rev);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.push_version(seq, key, tuple, rev, LIVE);
        (true, replaced)
    }

    /// Whether `version` (of `tuple`'s key) is `tuple`, traits included.
    fn holds(&self, version: &Version, tuple: &Tuple) -> bool {
        match self.traited_tuple(version) {
            None => tuple.is_plain(),
            Some(stored) => stored == tuple,
        }
    }

    /// Appends a version of `tuple` (whose key is `key`) and indexes it.
    fn push_version(&mut self, seq: u64, key: Key, tuple: &Tuple, created: u64, deleted: u64) {
        let traits = self.keep_traits((!tuple.is_plain()).then_some(tuple));
        self.add_version(Version {
            seq,
            created,
            deleted,
            key,
            traits,
        });
    }

    /// [`Version::traits`] of a version of `traited` (`None` for a plain
    /// tuple), its tuple kept.
    fn keep_traits(&mut self, traited: Option<&Tuple>) -> u32 {
        match traited {
            None => PLAIN,
            Some(tuple) => {
                self.traited.push(tuple.clone());
                (self.traited.len() - 1) as u32
            }
        }
    }

    fn add_version(&mut self, version: Version) {
        let position = self.versions.len() as Position;
        let namespace = self.dictionary.namespace_of(version.key.object);
        let index = if version.is_plain() {
            &mut self.plain
        } else {
            &mut self.traited_index
        };
        index.add(version.key, namespace, position);
        let (key, live, plain) = (version.key, version.is_live(), version.is_plain());
        self.versions.push(version);
        if live {
            self.live.insert(key, position, key_at(&self.versions));
            if plain {
                self.by_object.add(key.object, key.relation, key.subject);
            }
        }
    }

    /// Adds the next version of a mirror, in creation order.
    pub fn push_mirrored(
        &mut self,
        tuple: &Tuple,
        created: u64,
        deleted: Option<u64>,
    ) -> Result<(), StoreError> {
        self.has_room_for(1)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = self.dictionary.intern_key(tuple);
        self.push_version(seq, key, tuple, created, deleted.unwrap_or(LIVE));
        Ok(())
    }

    /// A copy without the versions deleted at or before `before`, its
    /// dictionary holding only what they name.
    pub fn compacted(&self, before: u64) -> Inner {
        let mut fresh = Inner {
            head: self.head,
            horizon: self.horizon.max(before),
            next_seq: self.next_seq,
            id: self.id.clone(),
            chains: self.chains.clone(),
            fingerprint: self.fingerprint.clone(),
            dictionary: Dictionary::default(),
            versions: Vec::with_capacity(self.versions.len()),
            traited: Vec::new(),
            live: Live::with_capacity(self.live.len()),
            plain: Indexes::default(),
            traited_index: Indexes::default(),
            by_object: ByObject::default(),
        };
        for version in &self.versions {
            if version.deleted > before {
                let key = fresh.dictionary.intern_from(&self.dictionary, version.key);
                let traits = fresh.keep_traits(self.traited_tuple(version));
                fresh.add_version(Version {
                    seq: version.seq,
                    created: version.created,
                    deleted: version.deleted,
                    key,
                    traits,
                });
            }
        }
        fresh
    }

    /// Deletes the live tuple of `tuple`'s key at `rev`, whatever its
    /// condition; returns it, `None` when there was none.
    pub fn delete(&mut self, tuple: &Tuple, rev: u64) -> Option<Tuple> {
        let key = self.dictionary.key(tuple)?;
        self.delete_key(key, rev)
    }

    fn delete_key(&mut self, key: Key, rev: u64) -> Option<Tuple> {
        let position = self.live.remove(key, key_at(&self.versions))?;
        let version = self.versions.get_mut(position as usize)?;
        version.deleted = rev;
        let version = self.versions.get(position as usize)?;
        if version.is_plain() {
            self.by_object.remove(key.object, key.relation, key.subject);
        }
        Some(self.tuple(version))
    }

    /// A reader's guard on every read: the revision was readable when the
    /// snapshot was taken, but collection may have run since.
    pub fn readable(&self, at: u64) -> Result<u64, StoreError> {
        ensure_not_collected(Revision(at), Revision(self.horizon))?;
        Ok(at)
    }

    /// The tuple of `version`, built from its IDs when plain.
    pub fn tuple(&self, version: &Version) -> Tuple {
        match self.traited_tuple(version) {
            Some(tuple) => tuple.clone(),
            None => self.dictionary.tuple(version.key),
        }
    }

    /// The tuple of a version with a condition or an expiry.
    pub fn traited_tuple(&self, version: &Version) -> Option<&Tuple> {
        if version.is_plain() {
            return None;
        }
        self.traited.get(version.traits as usize)
    }

    pub fn subject(&self, version: &Version) -> SubjectRef<'_> {
        self.dictionary.subject_ref(version.key.subject)
    }

    /// Whether the plain `tuple` is live at `at` (a revision already
    /// checked).
    pub fn contains(&self, tuple: &Tuple, at: u64) -> bool {
        tuple.is_plain()
            && self
                .dictionary
                .key(tuple)
                .is_some_and(|key| self.contains_key(key, at))
    }

    /// Whether a plain tuple of `key` is live at `at`.
    pub fn contains_key(&self, key: Key, at: u64) -> bool {
        if at == self.head {
            return self
                .live
                .get(key, key_at(&self.versions))
                .and_then(|p| self.versions.get(p as usize))
                .is_some_and(Version::is_plain);
        }
        let namespace = self.dictionary.namespace_of(key.object);
        let row = self
            .plain
            .reverse
            .get((key.subject, namespace, key.relation));
        self.visible(row.iter().copied(), at).any(|v| v.key == key)
    }

    /// The versions of `positions` visible at `at`.
    pub fn visible(
        &self,
        positions: impl Iterator<Item = Position>,
        at: u64,
    ) -> impl Iterator<Item = &Version> {
        positions
            .filter_map(|p| self.versions.get(p as usize))
            .filter(move |v| v.visible_at(at))
    }

    /// The tuples with traits of `positions` visible at `at`.
    pub fn traited_visible(
        &self,
        positions: impl Iterator<Item = Position>,
        at: u64,
    ) -> impl Iterator<Item = &Tuple> {
        self.visible(positions, at)
            .filter_map(|v| self.traited_tuple(v))
    }

    /// The versions of `object#relation` of `kind`, whose subject is a set
    /// (`sets`) or not.
    pub fn forward(&self, kind: Kind, object: ObjectId, relation: Name, sets: bool) -> &[Position] {
        self.index(kind).forward(object, relation, sets)
    }

    /// The versions of `object#relation` of `kind`, in creation order.
    pub fn all_forward(
        &self,
        kind: Kind,
        object: ObjectId,
        relation: Name,
    ) -> impl Iterator<Item = Position> + '_ {
        self.index(kind).all_forward(object, relation)
    }

    /// The versions of `kind` whose subject is `subject` in `namespace`'s
    /// `relation`.
    pub fn reverse(
        &self,
        kind: Kind,
        subject: SubjectKey,
        namespace: Name,
        relation: Name,
    ) -> &[Position] {
        self.index(kind).reverse.get((subject, namespace, relation))
    }

    /// The live tuples whose expiry has passed at `now`, the earliest
    /// expiry first (as the databases pick them), at most `limit`.
    pub fn expired(&self, now: Expiry, limit: usize) -> Vec<Tuple> {
        let mut expired: Vec<(Expiry, u64, &Tuple)> = self
            .live
            .positions()
            .filter_map(|p| self.versions.get(p as usize))
            .filter_map(|v| Some((v.seq, self.traited_tuple(v)?)))
            .filter_map(|(seq, t)| Some((t.expires_at?, seq, t)))
            .filter(|(expiry, _, _)| expiry.has_passed(now))
            .collect();
        expired.sort_unstable_by_key(|&(expiry, seq, _)| (expiry, seq));
        expired
            .into_iter()
            .take(limit)
            .map(|(_, _, t)| t.clone())
            .collect()
    }

    /// The writes of `changes` (not its preconditions), at `rev`, or at
    /// the next revision if `rev` is `None` or not above the head; with
    /// `chain`, also the new revision's history chain (a store's own
    /// writes, not a mirror's).
    pub fn apply(
        &mut self,
        rev: Option<Revision>,
        changes: &ChangeSet<'_>,
        chain: bool,
    ) -> Result<Revision, StoreError> {
        self.has_room_for(changes.inserts.len())?;
        let kept: HashSet<KeyRef<'_>> = changes.inserts.iter().map(KeyRef::of).collect();
        let rev = rev.map_or(self.head + 1, |r| r.0.max(self.head + 1));
        let mut deleted = Vec::new();
        if let Some(filter) = changes.delete_matching {
            let doomed: Vec<Key> = self
                .live_matching(filter)
                .into_iter()
                .filter_map(|p| self.versions.get(p as usize))
                .map(|v| v.key)
                .collect();
            for key in doomed {
                deleted.extend(self.delete_key(key, rev));
            }
        }
        for tuple in changes.deletes {
            if !kept.contains(&KeyRef::of(tuple)) {
                deleted.extend(self.delete(tuple, rev));
            }
        }
        let mut inserted = Vec::new();
        for tuple in changes.inserts {
            let (new, replaced) = self.insert(tuple, rev);
            deleted.extend(replaced);
            if new {
                inserted.push(tuple.clone());
            }
        }
        if chain && self.chains.len() as u64 == rev {
            if let Some(previous) = self.chains.last() {
                let next = history::next(previous, Revision(rev), &deleted, &inserted);
                self.chains.push(next);
            }
        }
        self.head = rev;
        Ok(Revision(rev))
    }

    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Whether a live tuple matches `filter`.
    pub fn any_live(&self, filter: &TupleFilter) -> bool {
        !self.live_matching(filter).is_empty()
    }

    /// The live versions matching `filter`: read through the forward index
    /// when the filter names the object, the reverse index when it names
    /// the subject, else by scanning the live versions.
    fn live_matching(&self, filter: &TupleFilter) -> Vec<Position> {
        let Some(matcher) = Matcher::new(&self.dictionary, filter) else {
            return Vec::new();
        };
        let relations: Vec<Name> = match matcher.relation {
            Some(relation) => vec![relation],
            None => self.dictionary.names().collect(),
        };
        let mut rows: Vec<&[Position]> = Vec::new();
        match (matcher.object, matcher.subject) {
            (Some(object), _) => {
                for index in [&self.plain, &self.traited_index] {
                    for &relation in &relations {
                        rows.push(index.forward(object, relation, false));
                        rows.push(index.forward(object, relation, true));
                    }
                }
            }
            (None, Some(subject)) => {
                let namespaces: Vec<Name> = match matcher.namespace {
                    Some(namespace) => vec![namespace],
                    None => self.dictionary.names().collect(),
                };
                for index in [&self.plain, &self.traited_index] {
                    for &namespace in &namespaces {
                        for &relation in &relations {
                            rows.push(index.reverse.get((subject, namespace, relation)));
                        }
                    }
                }
            }
            (None, None) => {
                return self
                    .live
                    .positions()
                    .filter(|&p| {
                        self.versions
                            .get(p as usize)
                            .is_some_and(|v| matcher.matches(&self.dictionary, v))
                    })
                    .collect();
            }
        }
        rows.into_iter()
            .flatten()
            .copied()
            .filter(|&p| {
                self.versions
                    .get(p as usize)
                    .is_some_and(|v| v.is_live() && matcher.matches(&self.dictionary, v))
            })
            .collect()
    }
}

/// A [`TupleFilter`] in IDs: built only when everything it names is
/// stored (else nothing matches).
pub(super) struct Matcher<'f> {
    namespace: Option<Name>,
    /// The object, when the filter names its namespace and ID.
    object: Option<ObjectId>,
    /// The object ID, when the filter names no namespace.
    object_id: Option<&'f str>,
    relation: Option<Name>,
    subject: Option<SubjectKey>,
    /// The subjects of [`TupleFilter::subject_object_in`] that are stored.
    subject_in: Option<Vec<SubjectKey>>,
}

impl<'f> Matcher<'f> {
    pub fn new(dictionary: &Dictionary, filter: &'f TupleFilter) -> Option<Matcher<'f>> {
        let namespace = match &filter.namespace {
            Some(namespace) => Some(dictionary.name(namespace)?),
            None => None,
        };
        let (object, object_id) = match (&filter.namespace, &filter.object_id) {
            (Some(namespace), Some(id)) => (Some(dictionary.object(namespace, id)?), None),
            (None, Some(id)) => (None, Some(id.as_str())),
            (_, None) => (None, None),
        };
        let relation = match &filter.relation {
            Some(relation) => Some(dictionary.name(relation)?),
            None => None,
        };
        let subject = match &filter.subject {
            Some(subject) => Some(dictionary.subject(subject.borrowed())?),
            None => None,
        };
        let subject_in = match &filter.subject_object_in {
            Some(within) => {
                let found: Vec<SubjectKey> = within
                    .namespaces
                    .iter()
                    .filter_map(|namespace| {
                        dictionary.subject(SubjectRef::Object {
                            namespace,
                            id: &within.id,
                        })
                    })
                    .collect();
                if found.is_empty() {
                    return None;
                }
                Some(found)
            }
            None => None,
        };
        Some(Matcher {
            namespace,
            object,
            object_id,
            relation,
            subject,
            subject_in,
        })
    }

    pub fn matches(&self, dictionary: &Dictionary, version: &Version) -> bool {
        let key = version.key;
        self.namespace
            .is_none_or(|n| dictionary.namespace_of(key.object) == n)
            && self.object.is_none_or(|o| key.object == o)
            && self
                .object_id
                .is_none_or(|id| dictionary.id_of(key.object) == id)
            && self.relation.is_none_or(|r| key.relation == r)
            && self.subject.is_none_or(|s| key.subject == s)
            && self
                .subject_in
                .as_ref()
                .is_none_or(|within| within.contains(&key.subject))
    }
}
