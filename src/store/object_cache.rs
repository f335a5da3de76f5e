//! [`ObjectCache`]: a bounded read cache over a store shared by several
//! servers (PostgreSQL), kept current by the store's change feed.
//!
//! **What is cached.** One entry per object (`namespace:id`): every version
//! of every relation of that object (created and deleted revisions
//! included), as one snapshot of the database at its head `H` read it. An
//! object is read whole because a check reads several relations of the
//! objects it visits (`owner`, `viewer`, `parent` of a document), and one
//! indexed range read costs the same round trip as one relation's. Entries
//! are weighed in bytes and evicted by `moka`'s TinyLFU policy once the
//! configured size is reached. An object with more versions than
//! [`MAX_OBJECT_VERSIONS`] (a group of a hundred thousand members) is not
//! cached: its reads go to the database, each an indexed probe.
//!
//! **Why a read at a snapshot sees exactly that snapshot.** An entry holds
//! every version as of `H`, so it answers any read at `r <= H` exactly
//! (versions carry their revisions; the entry's horizon refuses `r` below
//! it). For `r > H` it is exact only if no change to the object was
//! committed in `(H, r]`. A feed thread follows the store's change feed
//! and, for each batch, evicts every object a change touched and then
//! raises `seen` to the batch's end, under a write lock (the *gate*). An
//! entry inserted (under the gate's read lock) while `H >= seen` is
//! *tracked*: every later change to
//! its object will evict it, so while it is present it is exact for every
//! `r <= seen`. An entry loaded from an older snapshot (`H < seen` when it
//! is inserted) may lack changes the feed already passed, so it serves only
//! `r <= H`. Readers take `seen` and the entry under the gate's read lock,
//! so an eviction and the `seen` it goes with are never half seen.
//!
//! **Fresher than the feed.** A read at a revision above `seen` (a
//! snapshot token from a write on another server, or `fully_consistent`)
//! is not waited for: entries with `H >= r` serve it, and other objects
//! are read from the database, whose snapshot is at least as new.
//!
//! Versions keep their condition and expiry: the plain reads pass over the
//! versions that have one, [`Reader::for_each_attributed`] reads only them.
//!
//! Reverse reads (lookups) and listings are not cached: they go to a
//! reader of the database at the same revision.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::feed::{self, FeedFollower, Wakeup, BATCH};
use super::revision::ensure_readable;
use super::{
    ChangeBatch, ChangeSet, Maintenance, Page, PageRequest, Probe, ProbeHit, Reader, Revision,
    SchemaStore, StoreError, SubjectKind, TupleFilter, TupleStore,
};
use crate::ir;
use crate::tuple::{Expiry, Object, Subject, SubjectRef, Tuple, TupleCondition};

/// Objects with more versions than this are read from the database, not
/// cached.
pub const MAX_OBJECT_VERSIONS: usize = 4096;

/// How many steps [`ObjectSource::load_reach`] follows from an object.
pub const REACH_DEPTH: u32 = 8;

/// How many objects [`ObjectSource::load_reach`] reads at most.
pub const REACH_OBJECTS: usize = 32;

/// The relations an arrow reads its objects from (its tupleset), as
/// (namespace, relation) names: the edges a check follows object to object.
pub fn arrow_tuplesets(schema: &ir::Schema) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for relation in &schema.relations {
        let Some(rewrite) = relation.rewrite() else {
            continue;
        };
        let mut stack = vec![rewrite];
        while let Some(node) = stack.pop() {
            for (read, kind) in node.reads() {
                if kind != ir::graph::EdgeKind::Tupleset {
                    continue;
                }
                let Some(tupleset) = schema.relation(read) else {
                    continue;
                };
                let Some(namespace) = schema.namespace(tupleset.namespace) else {
                    continue;
                };
                found.push((namespace.name.clone(), tupleset.name.clone()));
            }
            stack.extend(node.children().map(|child| child.rewrite));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// One stored version of a tuple of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredVersion {
    pub relation: String,
    pub subject: Subject,
    pub condition: Option<Box<TupleCondition>>,
    pub expires_at: Option<Expiry>,
    pub created: Revision,
    pub deleted: Option<Revision>,
}

/// An object read whole, with the snapshot's head and horizon.
#[derive(Clone, Debug)]
pub struct LoadedObject {
    pub head: Revision,
    pub horizon: Revision,
    /// In the order of writing; `None` when there were more than asked for.
    pub versions: Option<Vec<StoredVersion>>,
}

/// A store that can read an object whole, to fill an [`ObjectCache`].
pub trait ObjectSource: TupleStore + SchemaStore + Maintenance {
    /// Every version of `namespace:object_id` in one snapshot, or `None`
    /// as its versions when it has more than `max_versions`.
    fn load_object(
        &self,
        namespace: &str,
        object_id: &str,
        max_versions: usize,
    ) -> Result<LoadedObject, StoreError>;

    /// `namespace:object_id` as [`ObjectSource::load_object`] reads it,
    /// first (alone when `follow` has nothing for its namespace), then in
    /// the same snapshot the objects reached from it through
    /// `follow`'s relations (namespace, relation) — an arrow's tupleset,
    /// `parent` of `parent->view` — up to [`REACH_DEPTH`] steps and
    /// [`REACH_OBJECTS`] objects: the ancestors a check will visit next.
    /// The default reads only the object.
    fn load_reach(
        &self,
        namespace: &str,
        object_id: &str,
        follow: &[(String, String)],
        max_versions: usize,
    ) -> Result<Vec<(String, String, LoadedObject)>, StoreError> {
        let _ = follow;
        let loaded = self.load_object(namespace, object_id, max_versions)?;
        Ok(vec![(namespace.to_owned(), object_id.to_owned(), loaded)])
    }

    /// [`ObjectSource::load_object`] for several objects of `namespace`,
    /// in the order asked, all in one snapshot.
    fn load_objects(
        &self,
        namespace: &str,
        object_ids: &[&str],
        max_versions: usize,
    ) -> Result<Vec<LoadedObject>, StoreError> {
        object_ids
            .iter()
            .map(|id| self.load_object(namespace, id, max_versions))
            .collect()
    }
}

/// A cached object.
#[derive(Debug)]
struct Entry {
    /// The head of the snapshot it was read in.
    loaded_at: u64,
    /// The horizon of that snapshot: reads below it are refused.
    horizon: u64,
    /// Whether the feed evicts it on every later change (see the module doc).
    tracked: bool,
    /// `None`: too large to cache, read from the database.
    relations: Option<Vec<(String, Vec<CachedVersion>)>>,
}

#[derive(Debug)]
struct CachedVersion {
    subject: Subject,
    condition: Option<Box<TupleCondition>>,
    expires_at: Option<Expiry>,
    created: u64,
    deleted: Option<u64>,
}

impl CachedVersion {
    fn visible_at(&self, at: u64) -> bool {
        self.created <= at && self.deleted.is_none_or(|d| d > at)
    }

    fn is_plain(&self) -> bool {
        self.condition.is_none() && self.expires_at.is_none()
    }

    /// Visible at `at` to the plain reads.
    fn plain_at(&self, at: u64) -> bool {
        self.is_plain() && self.visible_at(at)
    }
}

impl Entry {
    fn new(loaded: LoadedObject, tracked: bool) -> Entry {
        let relations = loaded.versions.map(|versions| {
            let mut relations: Vec<(String, Vec<CachedVersion>)> = Vec::new();
            for version in versions {
                let cached = CachedVersion {
                    subject: version.subject,
                    condition: version.condition,
                    expires_at: version.expires_at,
                    created: version.created.0,
                    deleted: version.deleted.map(|d| d.0),
                };
                match relations.iter_mut().find(|(r, _)| *r == version.relation) {
                    Some((_, list)) => list.push(cached),
                    None => relations.push((version.relation, vec![cached])),
                }
            }
            relations
        });
        Entry {
            loaded_at: loaded.head.0,
            horizon: loaded.horizon.0,
            tracked,
            relations,
        }
    }

    /// Whether it answers reads at `at`, given the feed has seen `seen`.
    fn serves(&self, at: u64, seen: u64) -> bool {
        at <= self.loaded_at || (self.tracked && at <= seen)
    }

    fn versions(&self, relation: &str) -> &[CachedVersion] {
        self.relations
            .as_deref()
            .and_then(|relations| relations.iter().find(|(r, _)| r == relation))
            .map_or(&[], |(_, versions)| versions.as_slice())
    }

    /// An estimate of the bytes it holds, for the size bound.
    fn weight(&self, key: &str) -> u32 {
        let subject = |s: &Subject| match s {
            Subject::Object(o) => o.namespace.len() + o.id.len(),
            Subject::Set { object, relation } => {
                object.namespace.len() + object.id.len() + relation.len()
            }
            Subject::Wildcard { namespace } => namespace.len(),
        };
        let mut bytes = 96 + key.len();
        for (relation, versions) in self.relations.iter().flatten() {
            bytes += 48 + relation.len();
            for version in versions {
                bytes += 88 + subject(&version.subject);
                if let Some(condition) = &version.condition {
                    bytes += 40 + condition.name.len() + condition.context.as_json().len();
                }
            }
        }
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// The cache key of an object.
fn key(namespace: &str, object_id: &str) -> String {
    let mut key = String::with_capacity(namespace.len() + object_id.len() + 1);
    key.push_str(namespace);
    key.push('\0');
    key.push_str(object_id);
    key
}

/// What the feed thread and the readers share.
struct Shared<D> {
    durable: D,
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Every change through this revision has evicted what it touched.
    seen: AtomicU64,
    /// Orders evictions and `seen` against lookups and inserts.
    gate: RwLock<()>,
    /// The schema's arrow tuplesets ([`arrow_tuplesets`]), followed when an
    /// object is loaded; only what is read ahead depends on it.
    follow: RwLock<Arc<Vec<(String, String)>>>,
}

/// A store read through a bounded, feed-maintained cache of whole objects.
pub struct ObjectCache<D: ObjectSource + 'static> {
    shared: Arc<Shared<D>>,
}

impl<D: ObjectSource + 'static> std::fmt::Debug for ObjectCache<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectCache")
            .field("seen", &self.shared.seen.load(Ordering::Acquire))
            .finish_non_exhaustive()
    }
}

impl<D: ObjectSource + 'static> ObjectCache<D> {
    /// A cache of at most `max_bytes` over `durable`, and the thread that
    /// follows `durable`'s change feed (it ends when the cache is dropped).
    pub fn new(durable: D, max_bytes: u64) -> Result<ObjectCache<D>, StoreError> {
        let head = durable.head_revision()?;
        let entries = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, entry: &Arc<Entry>| entry.weight(key))
            .build();
        let shared = Arc::new(Shared {
            durable,
            entries,
            seen: AtomicU64::new(head.0),
            gate: RwLock::new(()),
            follow: RwLock::new(Arc::new(Vec::new())),
        });
        if let Ok(Some(schema)) = shared.durable.load_schema() {
            shared.set_follow(&schema);
        }
        feed::spawn_thread(&shared, "zanzi-cache-feed", "cache")?;
        Ok(ObjectCache { shared })
    }

    /// The store underneath.
    pub fn durable(&self) -> &D {
        &self.shared.durable
    }

    /// The revision through which the feed has been applied.
    pub fn seen(&self) -> Revision {
        Revision(self.shared.seen.load(Ordering::Acquire))
    }

    /// How many objects are cached, and their weight in bytes (after
    /// pending maintenance).
    pub fn usage(&self) -> (u64, u64) {
        self.shared.entries.run_pending_tasks();
        (
            self.shared.entries.entry_count(),
            self.shared.entries.weighted_size(),
        )
    }
}

impl<D: ObjectSource> Shared<D> {
    /// Applies one batch of the feed: evicts, then moves `seen`.
    fn apply(&self, batch: &ChangeBatch) -> Result<(), StoreError> {
        let _gate = self.gate.write().map_err(|_| StoreError::Poisoned)?;
        for change in &batch.changes {
            let object = &change.tuple.object;
            self.entries.invalidate(&key(&object.namespace, &object.id));
        }
        self.seen.fetch_max(batch.through.0, Ordering::AcqRel);
        Ok(())
    }

    /// Forgets everything and starts over at `head` (the feed fell behind
    /// the horizon, so the changes in between are unknown).
    fn restart_at(&self, head: Revision) -> Result<(), StoreError> {
        let _gate = self.gate.write().map_err(|_| StoreError::Poisoned)?;
        self.entries.invalidate_all();
        self.seen.fetch_max(head.0, Ordering::AcqRel);
        Ok(())
    }

    /// The cached object, loaded when missing or too old for `at`.
    fn object(&self, namespace: &str, object_id: &str, at: u64) -> Result<Arc<Entry>, StoreError> {
        let key = key(namespace, object_id);
        {
            let _gate = self.gate.read().map_err(|_| StoreError::Poisoned)?;
            let seen = self.seen.load(Ordering::Acquire);
            if let Some(entry) = self.entries.get(&key) {
                if entry.relations.is_none() || entry.serves(at, seen) {
                    return Ok(entry);
                }
            }
        }
        let mut asked = None;
        let reach =
            self.durable
                .load_reach(namespace, object_id, &self.follow(), MAX_OBJECT_VERSIONS)?;
        for (ns, id, loaded) in reach {
            // The database's head only grows: a snapshot taken now is at
            // least as new as the revision the reader was admitted at.
            ensure_readable(Revision(at), loaded.head, loaded.horizon)?;
            let entry = self.insert(self::key(&ns, &id), loaded);
            // The asked object comes first.
            asked.get_or_insert(entry);
        }
        asked.ok_or_else(|| {
            StoreError::Backend(format!("{namespace}:{object_id} was not read").into())
        })
    }

    fn follow(&self) -> Arc<Vec<(String, String)>> {
        self.follow
            .read()
            .map(|f| Arc::clone(&f))
            .unwrap_or_default()
    }

    fn set_follow(&self, schema: &ir::Schema) {
        if let Ok(mut follow) = self.follow.write() {
            *follow = Arc::new(arrow_tuplesets(schema));
        }
    }

    /// Caches an object just read (tracked if read at or after `seen`).
    fn insert(&self, key: String, loaded: LoadedObject) -> Arc<Entry> {
        // The gate orders this against the feed: the entry is in the cache
        // before the feed can apply a batch past `seen`, so that batch's
        // evictions find it. (Inserted after the gate was let go, a tracked
        // entry could miss the eviction of a change it lacks, and then
        // serve that revision without it.) A poisoned gate means a panic
        // elsewhere; an untracked entry is always safe.
        let gate = self.gate.read();
        let tracked = gate.is_ok() && loaded.head.0 >= self.seen.load(Ordering::Acquire);
        let entry = Arc::new(Entry::new(loaded, tracked));
        self.entries.insert(key, Arc::clone(&entry));
        drop(gate);
        entry
    }

    /// Loads, in one round trip, those of `object_ids` that are not cached
    /// for a read at `at`: a check about to visit several objects waits
    /// once instead of once each.
    fn prefetch(&self, namespace: &str, object_ids: &[&str], at: u64) -> Result<(), StoreError> {
        let missing: Vec<&str> = {
            let _gate = self.gate.read().map_err(|_| StoreError::Poisoned)?;
            let seen = self.seen.load(Ordering::Acquire);
            object_ids
                .iter()
                .copied()
                .filter(|id| {
                    self.entries
                        .get(&key(namespace, id))
                        .is_none_or(|e| e.relations.is_some() && !e.serves(at, seen))
                })
                .collect()
        };
        if missing.len() < 2 {
            return Ok(());
        }
        let loaded = self
            .durable
            .load_objects(namespace, &missing, MAX_OBJECT_VERSIONS)?;
        for (id, object) in missing.iter().zip(loaded) {
            if ensure_readable(Revision(at), object.head, object.horizon).is_err() {
                // Each read will say why when it comes.
                return Ok(());
            }
            self.insert(key(namespace, id), object);
        }
        Ok(())
    }
}

/// The feed thread evicts what each committed change touched. While the
/// database is away entries stay exact for what they serve.
impl<D: ObjectSource + 'static> FeedFollower for Shared<D> {
    fn step(&self) -> Result<bool, StoreError> {
        let after = Revision(self.seen.load(Ordering::Acquire));
        match self.durable.changes_since(after, BATCH) {
            Ok(batch) => self.apply(&batch).map(|()| batch.through > after),
            Err(StoreError::RevisionCollected { .. }) => self
                .durable
                .head_revision()
                .and_then(|head| self.restart_at(head))
                .map(|()| true),
            Err(error) => Err(error),
        }
    }

    fn wakeup(&self) -> Result<Box<dyn Wakeup>, StoreError> {
        self.durable.wakeup()
    }
}

impl<D: ObjectSource + 'static> TupleStore for ObjectCache<D> {
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + '_>, StoreError> {
        let seen = self.seen();
        if at > seen {
            // Newer than the feed: the database says whether it exists.
            ensure_readable(at, self.shared.durable.head_revision()?, Revision(0))?;
        }
        Ok(Box::new(CacheReader {
            shared: &self.shared,
            at,
            durable: OnceCell::new(),
        }))
    }

    fn head_revision(&self) -> Result<Revision, StoreError> {
        self.shared.durable.head_revision()
    }

    fn local_head(&self) -> Result<Revision, StoreError> {
        Ok(self.seen())
    }

    fn apply(&self, changes: &ChangeSet<'_>) -> Result<Revision, StoreError> {
        // The feed evicts what this changed, as it does for other servers'
        // writes; until then, reads at the new revision go to the database.
        self.shared.durable.apply(changes)
    }

    fn import(
        &self,
        tuples: &[Tuple],
        batch_size: usize,
    ) -> Result<super::ImportReport, StoreError> {
        self.shared.durable.import(tuples, batch_size)
    }

    fn store_id(&self) -> Result<String, StoreError> {
        self.shared.durable.store_id()
    }

    fn history_chain(&self, at: Revision) -> Result<Option<super::history::Chain>, StoreError> {
        self.shared.durable.history_chain(at)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>, StoreError> {
        self.shared.durable.secret_fingerprint()
    }

    fn set_secret_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.shared.durable.set_secret_fingerprint(fingerprint)
    }

    fn changes_since(&self, after: Revision, limit: usize) -> Result<ChangeBatch, StoreError> {
        self.shared.durable.changes_since(after, limit)
    }

    fn wakeup(&self) -> Result<Box<dyn Wakeup>, StoreError> {
        self.shared.durable.wakeup()
    }
}

impl<D: ObjectSource + 'static> SchemaStore for ObjectCache<D> {
    fn save_schema(&self, schema: &ir::Schema) -> Result<bool, StoreError> {
        let saved = self.shared.durable.save_schema(schema)?;
        self.shared.set_follow(schema);
        Ok(saved)
    }

    fn load_schema(&self) -> Result<Option<ir::Schema>, StoreError> {
        self.shared.durable.load_schema()
    }

    fn schema_hash(&self) -> Result<Option<String>, StoreError> {
        self.shared.durable.schema_hash()
    }
}

impl<D: ObjectSource + 'static> Maintenance for ObjectCache<D> {
    fn gc(&self, before: Revision) -> Result<u64, StoreError> {
        self.shared.durable.gc(before)
    }

    fn gc_horizon(&self) -> Result<Revision, StoreError> {
        self.shared.durable.gc_horizon()
    }

    fn revision_as_of(&self, unix_millis: i64) -> Result<Option<Revision>, StoreError> {
        self.shared.durable.revision_as_of(unix_millis)
    }

    fn live_count(&self) -> Result<u64, StoreError> {
        self.shared.durable.live_count()
    }

    /// In the database; the feed evicts what it deleted.
    fn gc_expired(&self, now: Expiry, limit: usize) -> Result<u64, StoreError> {
        self.shared.durable.gc_expired(now, limit)
    }
}

/// A read scope over the cache: forward reads from cached objects, the
/// rest from a database reader at the same revision, opened when first
/// needed.
struct CacheReader<'a, D: ObjectSource> {
    shared: &'a Shared<D>,
    at: Revision,
    durable: OnceCell<Box<dyn Reader + 'a>>,
}

impl<'a, D: ObjectSource> CacheReader<'a, D> {
    fn durable(&self) -> Result<&(dyn Reader + 'a), StoreError> {
        if let Some(reader) = self.durable.get() {
            return Ok(reader.as_ref());
        }
        let reader = self.shared.durable.snapshot(self.at)?;
        Ok(self.durable.get_or_init(|| reader).as_ref())
    }

    /// The cached object, or `None` when it is too large to cache.
    fn object(&self, namespace: &str, object_id: &str) -> Result<Option<Arc<Entry>>, StoreError> {
        let entry = self.shared.object(namespace, object_id, self.at.0)?;
        if entry.relations.is_none() {
            return Ok(None);
        }
        if self.at.0 < entry.horizon {
            return Err(StoreError::RevisionCollected {
                requested: self.at,
                horizon: Revision(entry.horizon),
            });
        }
        Ok(Some(entry))
    }
}

impl<D: ObjectSource> Reader for CacheReader<'_, D> {
    fn revision(&self) -> Revision {
        self.at
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        let Some(entry) = self.object(namespace, object_id)? else {
            return self
                .durable()?
                .for_each_subject(namespace, object_id, relation, kind, visit);
        };
        for version in entry.versions(relation) {
            if version.plain_at(self.at.0) && kind.matches(&version.subject) {
                visit(version.subject.borrowed());
            }
        }
        Ok(())
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        if !tuple.is_plain() {
            return Ok(false);
        }
        let object = &tuple.object;
        let Some(entry) = self.object(&object.namespace, &object.id)? else {
            return self.durable()?.contains(tuple);
        };
        Ok(entry
            .versions(&tuple.relation)
            .iter()
            .any(|v| v.plain_at(self.at.0) && v.subject == tuple.subject))
    }

    fn will_visit(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        self.shared.prefetch(namespace, object_ids, self.at.0)
    }

    fn wants_visit_hints(&self) -> bool {
        true
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let Some(entry) = self.object(namespace, object_id)? else {
            return self
                .durable()?
                .probe(namespace, object_id, relation, probe, sets);
        };
        let at = self.at.0;
        let versions = entry.versions(relation);
        let mut hit = ProbeHit::default();
        for version in versions.iter().filter(|v| v.visible_at(at)) {
            let subject = version.subject.borrowed();
            let exact = probe.subject == Some(subject);
            let wildcard = matches!(
                (probe.wildcard, subject),
                (Some(wanted), SubjectRef::Wildcard { namespace }) if wanted == namespace
            );
            if version.is_plain() {
                hit.subject |= exact;
                hit.wildcard |= wildcard;
            } else {
                hit.attributed |= probe.attributed && (exact || wildcard);
            }
        }
        if probe.sets && !hit.subject && !hit.wildcard {
            for version in versions.iter().filter(|v| v.plain_at(at)) {
                if SubjectKind::Sets.matches(&version.subject) {
                    sets(version.subject.borrowed());
                }
            }
        }
        Ok(hit)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        self.durable()?
            .for_each_object_with_subject(namespace, relation, subject, visit)
    }

    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
    ) -> Result<Vec<String>, StoreError> {
        self.durable()?
            .objects_with_subject(namespace, relation, subject)
    }

    fn for_each_attributed(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        let Some(entry) = self.object(namespace, object_id)? else {
            return self
                .durable()?
                .for_each_attributed(namespace, object_id, relation, visit);
        };
        let at = self.at.0;
        for version in entry.versions(relation) {
            if !version.is_plain() && version.visible_at(at) {
                visit(&Tuple {
                    object: Object::new(namespace, object_id),
                    relation: relation.to_owned(),
                    subject: version.subject.clone(),
                    condition: version.condition.clone(),
                    expires_at: version.expires_at,
                });
            }
        }
        Ok(())
    }

    fn for_each_attributed_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.durable()?
            .for_each_attributed_with_subject(namespace, relation, subject, visit)
    }

    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        self.durable()?.list(filter, page)
    }
}
