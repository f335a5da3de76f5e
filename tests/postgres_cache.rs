//! The bounded cache ([`zanzi::store::ObjectCache`]) and the full mirror
//! ([`zanzi::store::MirrorStore`]) over PostgreSQL under concurrent writers
//! on other stores: every snapshot they serve is exactly the database's
//! snapshot at that revision, while the change feed evicts (or applies)
//! what the writes touch, and also when the cache is too small to hold
//! everything. Garbage collection by another store is followed by the
//! mirror.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zanzi::store::{
    Maintenance, MirrorStore, ObjectCache, PostgresStore, Revision, StoreError, SubjectKind,
    TupleStore,
};
use zanzi::tuple::Tuple;

const OBJECTS: usize = 6;

fn t(text: &str) -> Tuple {
    text.parse().unwrap()
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// The viewers of each object.
type Viewers = BTreeMap<usize, BTreeSet<String>>;

/// The viewers of every object at `at`, through `store`'s reader.
fn state(store: &dyn TupleStore, at: Revision) -> Viewers {
    let reader = store.snapshot(at).unwrap();
    (0..OBJECTS)
        .map(|o| {
            let subjects = reader
                .subjects("doc", &o.to_string(), "viewer", SubjectKind::All)
                .unwrap();
            (o, subjects.iter().map(ToString::to_string).collect())
        })
        .collect()
}

/// `cache` reads the database at `url`, which other stores write.
fn cache_serves_exact_snapshots_under_writers(url: &str, cache: &dyn TupleStore) {
    const WRITERS: u64 = 3;
    const WRITES: u64 = 60;
    let writers_store = PostgresStore::connect(url).unwrap();
    // Every write: (revision, inserted or deleted, tuple).
    let log: Mutex<Vec<(Revision, bool, Tuple)>> = Mutex::new(Vec::new());
    let observed: Mutex<Vec<(Revision, Viewers)>> = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, log) = (&writers_store, &log);
                scope.spawn(move || {
                    let mut rng = Rng(w + 7);
                    let mut mine: Vec<Tuple> = Vec::new();
                    for i in 0..WRITES {
                        // Mostly inserts, some deletes of this writer's own.
                        if !mine.is_empty() && rng.below(3) == 0 {
                            let victim = mine.swap_remove(rng.below(mine.len() as u64) as usize);
                            let rev = store.write(&[], std::slice::from_ref(&victim)).unwrap();
                            log.lock().unwrap().push((rev, false, victim));
                        } else {
                            let object = rng.below(OBJECTS as u64);
                            let tuple = t(&format!("doc:{object}#viewer@user:w{w}_{i}"));
                            let rev = store.write(std::slice::from_ref(&tuple), &[]).unwrap();
                            log.lock().unwrap().push((rev, true, tuple.clone()));
                            mine.push(tuple);
                        }
                    }
                })
            })
            .collect();
        for reader in 0..2u64 {
            let (observed, done) = (&observed, &done);
            scope.spawn(move || {
                let mut rng = Rng(reader + 1);
                while !done.load(Ordering::Acquire) {
                    // What the cache holds (up to what its feed has seen),
                    // now and then older snapshots, and now and then the
                    // database's head, newer than the feed.
                    let seen = cache.local_head().unwrap();
                    let at = match rng.below(4) {
                        0 => Revision(rng.below(seen.0 + 1)),
                        1 => cache.head_revision().unwrap(),
                        _ => seen,
                    };
                    observed.lock().unwrap().push((at, state(cache, at)));
                }
            });
        }
        for writer in writers {
            writer.join().unwrap();
        }
        // Let the readers see the feed reach the end.
        let head = writers_store.head_revision().unwrap();
        let started = Instant::now();
        while cache.local_head().unwrap() < head && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        done.store(true, Ordering::Release);
    });
    let mut log = log.into_inner().unwrap();
    log.sort_by_key(|(rev, ..)| *rev);
    let head = writers_store.head_revision().unwrap();
    assert_eq!(
        cache.local_head().unwrap(),
        head,
        "the feed reached the head"
    );
    let expected_at = |at: Revision| -> Viewers {
        let mut out: Viewers = (0..OBJECTS).map(|o| (o, BTreeSet::new())).collect();
        for (_, inserted, tuple) in log.iter().take_while(|(rev, ..)| *rev <= at) {
            let object: usize = tuple.object.id.parse().unwrap();
            let set = out.get_mut(&object).unwrap();
            if *inserted {
                set.insert(tuple.subject.to_string());
            } else {
                set.remove(&tuple.subject.to_string());
            }
        }
        out
    };
    let observed = observed.into_inner().unwrap();
    assert!(observed.len() > 50, "only {} snapshots", observed.len());
    for (at, held) in &observed {
        assert_eq!(held, &expected_at(*at), "the cache's snapshot at {at}");
    }
    // The database agrees with the log too.
    assert_eq!(state(&writers_store, head), expected_at(head));
    eprintln!("{} snapshots checked", observed.len());
}

#[test]
fn the_cache_serves_exact_snapshots_while_other_stores_write() {
    let url = support::postgres::database();
    let cache = ObjectCache::new(PostgresStore::connect(&url).unwrap(), 64 << 20).unwrap();
    cache_serves_exact_snapshots_under_writers(&url, &cache);
    eprintln!("{} objects cached at the end", cache.usage().0);
}

/// A cache too small for every object evicts and reads again, and stays exact.
#[test]
fn a_cache_too_small_for_the_data_stays_exact() {
    let url = support::postgres::database();
    let cache = ObjectCache::new(PostgresStore::connect(&url).unwrap(), 2 << 10).unwrap();
    cache_serves_exact_snapshots_under_writers(&url, &cache);
}

/// The full mirror applies other stores' writes from the feed, in commit
/// order: every snapshot it serves (from memory up to what it applied, or
/// after waiting for the feed, or from the database) is exact.
#[test]
fn the_mirror_serves_exact_snapshots_while_other_stores_write() {
    let url = support::postgres::database();
    let mirror = MirrorStore::new(PostgresStore::connect(&url).unwrap()).unwrap();
    cache_serves_exact_snapshots_under_writers(&url, &mirror);
}

/// The cache follows writes made elsewhere: after another store's write,
/// the cache's own head reaches it (woken by NOTIFY, well within a second)
/// and its answers at that head include the write.
#[test]
fn the_cache_sees_other_writers_through_the_feed() {
    let url = support::postgres::database();
    let writer = PostgresStore::connect(&url).unwrap();
    let cache = ObjectCache::new(PostgresStore::connect(&url).unwrap(), 1 << 20).unwrap();
    let before = cache.local_head().unwrap();
    // Cache the object first, then change it elsewhere.
    assert!(state(&cache, before)[&1].is_empty());
    let rev = writer.write(&[t("doc:1#viewer@user:ann")], &[]).unwrap();
    let started = Instant::now();
    while cache.local_head().unwrap() < rev {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the feed did not bring revision {rev} within 2 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    eprintln!("the feed brought the write in {:?}", started.elapsed());
    let at_head = state(&cache, rev);
    assert_eq!(at_head[&1], BTreeSet::from(["user:ann".to_owned()]));
    // And the old snapshot is still the old one.
    assert!(state(&cache, before)[&1].is_empty());
}

/// Several objects read together are the same as each read alone: every
/// version with its revisions, an object without tuples empty, one larger
/// than asked for marked too large, in the order asked.
#[test]
fn objects_read_together_are_those_read_one_by_one() {
    use zanzi::store::object_cache::ObjectSource;
    let url = support::postgres::database();
    let store = PostgresStore::connect(&url).unwrap();
    store
        .write(
            &[
                t("doc:a#viewer@user:alice"),
                t("doc:a#owner@user:bob"),
                t("doc:b#viewer@group:g#member"),
                t("doc:c#viewer@user:*"),
            ],
            &[],
        )
        .unwrap();
    store
        .write(
            &[t("doc:c#viewer@user:carol")],
            &[t("doc:a#viewer@user:alice")],
        )
        .unwrap();
    let big: Vec<Tuple> = (0..5)
        .map(|i| t(&format!("doc:big#viewer@user:u{i}")))
        .collect();
    store.write(&big, &[]).unwrap();

    let ids = ["c", "missing", "a", "big", "b"];
    let together = store.load_objects("doc", &ids, 4).unwrap();
    assert_eq!(together.len(), ids.len());
    for (id, object) in ids.iter().zip(&together) {
        let alone = store.load_object("doc", id, 4).unwrap();
        assert_eq!(object.versions, alone.versions, "doc:{id}");
        assert_eq!((object.head, object.horizon), (alone.head, alone.horizon));
    }
    assert_eq!(together[1].versions, Some(Vec::new()), "no tuples: empty");
    assert_eq!(together[3].versions, None, "5 versions, 4 asked for");
    let a = together[2].versions.as_ref().unwrap();
    assert_eq!(a.len(), 2);
    assert!(a
        .iter()
        .any(|v| v.relation == "viewer" && v.deleted == Some(Revision(2))));
    assert_eq!(together[0].versions.as_ref().unwrap().len(), 2);
}

/// Another store's write is answered by the mirror at its revision at once
/// (waiting for the feed, or from the database), and reaches the mirror's
/// memory within a short time.
#[test]
fn the_mirror_sees_other_writers_through_the_feed() {
    let url = support::postgres::database();
    let writer = PostgresStore::connect(&url).unwrap();
    writer.write(&[t("doc:2#viewer@user:old")], &[]).unwrap();
    let mirror = MirrorStore::new(PostgresStore::connect(&url).unwrap()).unwrap();
    let before = mirror.local_head().unwrap();
    assert_eq!(
        before,
        writer.head_revision().unwrap(),
        "loaded at the head"
    );
    assert_eq!(
        state(&mirror, before)[&2],
        BTreeSet::from(["user:old".to_owned()])
    );
    let rev = writer
        .write(&[t("doc:1#viewer@user:ann")], &[t("doc:2#viewer@user:old")])
        .unwrap();
    let started = Instant::now();
    let at_rev = state(&mirror, rev);
    assert_eq!(at_rev[&1], BTreeSet::from(["user:ann".to_owned()]));
    assert!(at_rev[&2].is_empty());
    while mirror.local_head().unwrap() < rev {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the feed did not bring revision {rev} within 2 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    eprintln!("the feed brought the write in {:?}", started.elapsed());
    assert_eq!(state(&mirror, rev), at_rev);
    // Old snapshots are still old.
    assert!(state(&mirror, before)[&1].is_empty());
    assert_eq!(
        state(&mirror, before)[&2],
        BTreeSet::from(["user:old".to_owned()])
    );
    // The mirror's own write comes back through the feed too.
    let own = mirror.write(&[t("doc:3#viewer@user:me")], &[]).unwrap();
    assert_eq!(
        state(&mirror, own)[&3],
        BTreeSet::from(["user:me".to_owned()])
    );
    assert!(matches!(
        mirror.snapshot(Revision(own.0 + 1)),
        Err(StoreError::FutureRevision { .. })
    ));
}

/// Garbage collection by another store: the mirror refuses reads below the
/// new horizon soon after (it reads the horizon at least every second), and
/// answers the rest as before.
#[test]
fn the_mirror_follows_garbage_collection_by_another_store() {
    let url = support::postgres::database();
    let other = PostgresStore::connect(&url).unwrap();
    let mirror = MirrorStore::new(PostgresStore::connect(&url).unwrap()).unwrap();
    let r1 = other.write(&[t("doc:1#viewer@user:gone")], &[]).unwrap();
    let r2 = other.write(
        &[t("doc:1#viewer@user:kept")],
        &[t("doc:1#viewer@user:gone")],
    );
    let r2 = r2.unwrap();
    let started = Instant::now();
    while mirror.local_head().unwrap() < r2 {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the feed stalled"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        state(&mirror, r1)[&1],
        BTreeSet::from(["user:gone".to_owned()])
    );
    assert_eq!(other.gc(r2).unwrap(), 1);
    let started = Instant::now();
    loop {
        match mirror.snapshot(r1) {
            Err(StoreError::RevisionCollected { horizon, .. }) => {
                assert_eq!(horizon, r2);
                break;
            }
            Ok(_) => assert!(
                started.elapsed() < Duration::from_secs(3),
                "a read below the horizon was still served after 3 s"
            ),
            Err(e) => panic!("unexpected error: {e}"),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("the horizon was followed in {:?}", started.elapsed());
    assert_eq!(
        state(&mirror, r2)[&1],
        BTreeSet::from(["user:kept".to_owned()])
    );
    // Writes after the collection are still followed.
    let r3 = other.write(&[t("doc:4#viewer@user:new")], &[]).unwrap();
    assert_eq!(
        state(&mirror, r3)[&4],
        BTreeSet::from(["user:new".to_owned()])
    );
}

/// `cache_size: full` over PostgreSQL opens the mirror: a grant and a
/// revocation written through another store are answered at their tokens
/// (the new-enemy case), and the mirror's head follows them.
#[test]
fn a_server_with_a_full_cache_mirrors_postgres() {
    use zanzi::server::config::{CacheSize, Settings};
    use zanzi::server::consistency::Consistency;
    use zanzi::server::AppState;
    use zanzi::Engine;

    let url = support::postgres::database();
    let settings = Settings {
        db: url.clone(),
        schema: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/drive/drive.zanzi").into()),
        secret: Some("shared secret".into()),
        cache_size: CacheSize::Full,
        ..Settings::default()
    };
    let state = AppState::open(settings).unwrap();
    let other = PostgresStore::connect(&url).unwrap();
    let question = t("document:readme#viewer@user:alice");
    let check = |consistency: Consistency| {
        let at = consistency.resolve(&state).unwrap();
        let schema = state.schema();
        Engine::new(&schema, state.store.as_ref())
            .check_tuple(&question, at)
            .unwrap()
    };
    let granted = other.write(std::slice::from_ref(&question), &[]).unwrap();
    assert!(check(Consistency::AtLeastAsFresh(granted.into())));
    let revoked = other.write(&[], std::slice::from_ref(&question)).unwrap();
    assert!(!check(Consistency::AtLeastAsFresh(revoked.into())));
    assert!(check(Consistency::AtExactSnapshot(granted.into())));
    let started = Instant::now();
    while state.store.local_head().unwrap() < revoked {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the feed stalled"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!state.store.reads_from_memory());
}

/// An object read with what it reaches through arrow tuplesets: the asked
/// one first, then its ancestors nearest first, each as read alone; a cycle
/// ends; only live object subjects are followed.
#[test]
fn an_object_is_read_with_the_ancestors_it_reaches() {
    use zanzi::store::object_cache::{arrow_tuplesets, ObjectSource};
    let url = support::postgres::database();
    let store = PostgresStore::connect(&url).unwrap();
    store
        .write(
            &[
                t("doc:d#parent@folder:f3"),
                t("doc:d#viewer@user:alice"),
                t("folder:f3#parent@folder:f2"),
                t("folder:f2#parent@folder:f1"),
                t("folder:f1#parent@folder:f3"),
                t("folder:f1#viewer@group:g#member"),
                t("folder:f2#parent@folder:gone"),
            ],
            &[],
        )
        .unwrap();
    store
        .write(&[], &[t("folder:f2#parent@folder:gone")])
        .unwrap();
    let follow = vec![
        ("doc".to_owned(), "parent".to_owned()),
        ("folder".to_owned(), "parent".to_owned()),
    ];
    let reach = store.load_reach("doc", "d", &follow, 100).unwrap();
    let names: Vec<String> = reach.iter().map(|(n, i, _)| format!("{n}:{i}")).collect();
    assert_eq!(names, ["doc:d", "folder:f3", "folder:f2", "folder:f1"]);
    for (ns, id, object) in &reach {
        let alone = store.load_object(ns, id, 100).unwrap();
        assert_eq!(object.versions, alone.versions, "{ns}:{id}");
    }
    // Nothing to follow: the object alone.
    let alone = store.load_reach("doc", "d", &[], 100).unwrap();
    assert_eq!(alone.len(), 1);

    let (_, compilation) = zanzi::load::compile_source(
        "drive.zanzi",
        "namespace user {}
         namespace folder {
           relation parent: folder
           relation viewer: user
           permission view = viewer | parent->view
         }
         namespace doc {
           relation parent: folder
           permission view = parent->view
         }",
    );
    let schema = compilation.schema.expect("the schema compiles");
    assert_eq!(
        arrow_tuplesets(&schema),
        [
            ("doc".to_owned(), "parent".to_owned()),
            ("folder".to_owned(), "parent".to_owned())
        ]
    );
}
