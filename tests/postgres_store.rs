//! PostgreSQL-only behaviour, against a real server (a throwaway cluster,
//! see `support/postgres.rs`): migrations, lost connections, and revisions
//! that stay exact commit-ordered snapshots with writers on two replicas.
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

use zanzi::store::postgres::{migrate_up, migration_status, LATEST_VERSION};
use zanzi::store::{
    Maintenance, PageRequest, PostgresStore, Reader, Revision, StoreError, SubjectKind,
    TupleFilter, TupleStore,
};
use zanzi::tuple::Tuple;

fn t(text: &str) -> Tuple {
    text.parse().unwrap()
}

fn admin(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

#[test]
fn migrations_report_apply_and_refuse_a_newer_database() {
    let url = support::postgres::database();
    let fresh = migration_status(&url).unwrap();
    assert_eq!(fresh.current, 0);
    assert_eq!(fresh.pending.len(), LATEST_VERSION as usize);
    let status = migrate_up(&url).unwrap();
    assert_eq!(status.current, LATEST_VERSION);
    assert!(status.pending.is_empty());
    assert_eq!(
        migrate_up(&url).unwrap(),
        status,
        "migrating twice changes nothing"
    );
    let store = PostgresStore::connect(&url).unwrap();
    assert_eq!(store.migration_status().unwrap(), status);
    drop(store);

    admin(&url)
        .execute(
            "INSERT INTO zanzi_migrations (version, name) VALUES ($1, 'from_the_future')",
            &[&(LATEST_VERSION as i32 + 1)],
        )
        .unwrap();
    assert!(matches!(
        PostgresStore::connect(&url),
        Err(StoreError::NewerDatabase { found, supported })
            if found == LATEST_VERSION + 1 && supported == LATEST_VERSION
    ));
    assert!(matches!(
        migration_status(&url),
        Err(StoreError::NewerDatabase { .. })
    ));
}

#[test]
fn two_replicas_share_one_store() {
    let url = support::postgres::database();
    let a = PostgresStore::connect(&url).unwrap();
    let b = PostgresStore::connect(&url).unwrap();
    assert_eq!(a.store_id().unwrap(), b.store_id().unwrap());
    let r = a.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    assert_eq!(b.head_revision().unwrap(), r);
    assert!(b
        .snapshot(r)
        .unwrap()
        .contains(&t("doc:1#viewer@user:alice"))
        .unwrap());
}

/// A reader whose connection is cut between two reads retries the read
/// once on a fresh connection, at the same revision, and answers rightly;
/// the pool replaces the other cut connections on checkout.
#[test]
fn a_read_whose_connection_dropped_is_retried_on_a_fresh_one() {
    let url = support::postgres::database();
    let store = PostgresStore::connect(&url).unwrap();
    let r = store.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    let reader = store.snapshot(r).unwrap();
    assert!(reader.contains(&t("doc:1#viewer@user:alice")).unwrap());
    // A later write, which the reader at `r` must not see after the retry.
    store.write(&[t("doc:1#viewer@user:bob")], &[]).unwrap();
    let cut = admin(&url)
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert!(cut >= 1);
    let subjects = reader
        .subjects("doc", "1", "viewer", SubjectKind::All)
        .unwrap();
    assert_eq!(subjects, [t("doc:1#viewer@user:alice").subject]);
    drop(reader);
    assert_eq!(store.head_revision().unwrap(), Revision(r.0 + 1));
    assert!(store
        .snapshot(r)
        .unwrap()
        .contains(&t("doc:1#viewer@user:alice"))
        .unwrap());
}

/// A small deterministic generator (the test needs variety, not quality).
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

/// Every tuple live in `reader`, through the listing.
fn all_tuples(reader: &dyn Reader) -> BTreeSet<Tuple> {
    let mut seen = BTreeSet::new();
    let mut page = PageRequest::first(50);
    loop {
        let got = reader.list(&TupleFilter::default(), &page).unwrap();
        seen.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return seen,
        }
    }
}

/// Writers on two replicas commit concurrently; every snapshot a reader
/// takes at a committed revision `r` holds exactly the writes with a
/// revision `<= r`: no gap from a later revision committing first.
#[test]
fn concurrent_writers_on_two_replicas_give_commit_ordered_snapshots() {
    const WRITERS: usize = 4;
    const WRITES: usize = 30;
    let url = support::postgres::database();
    let replicas = [
        PostgresStore::connect(&url).unwrap(),
        PostgresStore::connect(&url).unwrap(),
    ];
    // (revision, tuple) of every write, as the writers saw them commit.
    let written: Mutex<Vec<(Revision, Tuple)>> = Mutex::new(Vec::new());
    // (revision, what a snapshot at it held), as the readers saw them.
    let observed: Mutex<Vec<(Revision, BTreeSet<Tuple>)>> = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, written) = (&replicas[w % 2], &written);
                scope.spawn(move || {
                    let mut last = Revision(0);
                    for i in 0..WRITES {
                        let tuple = t(&format!("doc:w{w}_{i}#viewer@user:x"));
                        let rev = store.write(std::slice::from_ref(&tuple), &[]).unwrap();
                        assert!(rev > last, "one writer's revisions grow");
                        last = rev;
                        written.lock().unwrap().push((rev, tuple));
                    }
                })
            })
            .collect();
        for reader in 0..2u64 {
            let (store, observed, done) = (&replicas[reader as usize], &observed, &done);
            scope.spawn(move || {
                let mut rng = Rng(reader + 1);
                while !done.load(Ordering::Acquire) {
                    let head = store.head_revision().unwrap();
                    let at = Revision(rng.below(head.0 + 1));
                    let snapshot = store.snapshot(at).unwrap();
                    let held = all_tuples(&*snapshot);
                    // Each writer's writes are a prefix of its sequence.
                    for w in 0..WRITERS {
                        let count = (0..WRITES)
                            .take_while(|i| {
                                held.contains(&t(&format!("doc:w{w}_{i}#viewer@user:x")))
                            })
                            .count();
                        let mine = held
                            .iter()
                            .filter(|t| t.object.id.starts_with(&format!("w{w}_")))
                            .count();
                        assert_eq!(count, mine, "writer {w}'s writes at {at} are not a prefix");
                    }
                    observed.lock().unwrap().push((at, held));
                }
            });
        }
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::Release);
    });

    let written = written.into_inner().unwrap();
    let by_revision: BTreeMap<Revision, Tuple> = written.iter().cloned().collect();
    assert_eq!(
        by_revision.len(),
        WRITERS * WRITES,
        "every write has its own revision"
    );
    let head = replicas[0].head_revision().unwrap();
    assert_eq!(head, Revision((WRITERS * WRITES) as u64));
    let observed = observed.into_inner().unwrap();
    assert!(!observed.is_empty());
    for (at, held) in &observed {
        let expected: BTreeSet<Tuple> = by_revision.range(..=*at).map(|(_, t)| t.clone()).collect();
        assert_eq!(held, &expected, "the snapshot at {at}");
    }
    // And after the fact, from either replica.
    for r in [1, head.0 / 2, head.0] {
        let at = Revision(r);
        let expected: BTreeSet<Tuple> = by_revision.range(..=at).map(|(_, t)| t.clone()).collect();
        assert_eq!(
            all_tuples(&*replicas[(r % 2) as usize].snapshot(at).unwrap()),
            expected
        );
    }
    eprintln!(
        "{} snapshots checked against {} writes",
        observed.len(),
        written.len()
    );
}

/// The database stopped and started again under a live store: while it is
/// down every call fails as unavailable (no answer, nothing half written),
/// and afterwards the same store works again, with every acknowledged write
/// and none of the failed ones. The test has a cluster of its own, since it
/// stops it.
#[test]
fn a_restarted_database_is_unavailable_then_served_again() {
    let cluster = support::postgres::Cluster::start();
    let url = cluster.database();
    let store = PostgresStore::connect(&url).unwrap();
    let kept = t("doc:1#viewer@user:alice");
    let lost = t("doc:1#viewer@user:bob");
    let acknowledged = store.write(std::slice::from_ref(&kept), &[]).unwrap();

    cluster.stop();
    // Each call retries for the checkout budget (2 s), then says
    // unavailable: a 503 within seconds, not a wrong answer.
    let started = Instant::now();
    let write = store.write(std::slice::from_ref(&lost), &[]);
    assert!(
        matches!(write, Err(StoreError::Unavailable(_))),
        "{write:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    let read = store
        .snapshot(acknowledged)
        .and_then(|reader| reader.contains(&kept));
    assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");

    cluster.start_server();
    assert_eq!(store.head_revision().unwrap(), acknowledged);
    let reader = store.snapshot(acknowledged).unwrap();
    assert!(reader.contains(&kept).unwrap());
    assert!(!reader.contains(&lost).unwrap());
    drop(reader);
    let next = store.write(std::slice::from_ref(&lost), &[]).unwrap();
    assert_eq!(next, Revision(acknowledged.0 + 1));
    drop(store);

    // A database back within the budget (here widened by the URL's
    // `connect_timeout`) is waited for: the call answers.
    let patient = PostgresStore::connect(&format!("{url}?connect_timeout=20")).unwrap();
    cluster.stop();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            cluster.start_server();
        });
        let started = Instant::now();
        assert_eq!(patient.head_revision().unwrap(), next);
        assert!(started.elapsed() >= Duration::from_millis(300));
    });
}

/// The `COPY` import: 20k tuples in batches, one revision each, the
/// report exactly as the default import's, the batches in their order; a
/// second import of overlapping tuples skips those already live (a tuple
/// twice in one batch counts once).
#[test]
fn a_copy_import_writes_batches_at_one_revision_each() {
    let store = support::postgres::store();
    store.write(&[t("doc:d0#viewer@user:u0")], &[]).unwrap();
    let tuples: Vec<Tuple> = (0..20_000)
        .map(|i| t(&format!("doc:d{}#viewer@user:u{}", i / 4, i % 1000)))
        .collect();
    let report = store.import(&tuples, 3_000).unwrap();
    assert_eq!(report.inserted, 19_999);
    assert_eq!(report.unchanged, 1);
    assert_eq!(report.revisions, (2..=8).map(Revision).collect::<Vec<_>>());
    assert_eq!(store.head_revision().unwrap(), Revision(8));
    // Each revision holds exactly its batch: at revision 2 the first 3,000.
    let at_2 = store.snapshot(Revision(2)).unwrap();
    let first = all_tuples(at_2.as_ref());
    assert_eq!(first.len(), 3_000);
    assert!(tuples[..3_000].iter().all(|tuple| first.contains(tuple)));
    drop(at_2);
    // Listings follow the order of writing.
    let page = store
        .snapshot(Revision(8))
        .unwrap()
        .list(&TupleFilter::default(), &PageRequest::first(3))
        .unwrap();
    assert_eq!(
        page.items,
        [
            t("doc:d0#viewer@user:u0"),
            t("doc:d0#viewer@user:u1"),
            t("doc:d0#viewer@user:u2")
        ]
    );

    let mut again: Vec<Tuple> = tuples[15_000..].to_vec();
    again.push(t("doc:new#viewer@user:x"));
    again.push(t("doc:new#viewer@user:x"));
    let report = store.import(&again, 10_000).unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(report.unchanged, 5_001);
    assert_eq!(report.revisions, [Revision(9)]);
    assert_eq!(store.live_count().unwrap(), 20_001);
    let invalid = store.import(
        &[
            t("doc:ok#viewer@user:y"),
            Tuple::new(
                zanzi::tuple::Object::new("doc", ""),
                "viewer",
                t("doc:x#viewer@user:z").subject,
            ),
        ],
        10,
    );
    assert!(
        matches!(invalid, Err(StoreError::InvalidTuple { .. })),
        "{invalid:?}"
    );
    assert_eq!(store.head_revision().unwrap(), Revision(9));
}

/// An export reads every page at its one revision: writes and deletes
/// between two pages are not seen.
#[test]
fn listing_pages_through_one_revision_ignores_later_writes() {
    let store = support::postgres::store();
    let tuples: Vec<Tuple> = (0..25)
        .map(|i| t(&format!("doc:d{i}#viewer@user:u{i}")))
        .collect();
    let at = store.write(&tuples, &[]).unwrap();
    let mut request = PageRequest::first(10);
    let mut seen = Vec::new();
    let mut round = 0;
    loop {
        let page = store
            .snapshot(at)
            .unwrap()
            .list(&TupleFilter::default(), &request)
            .unwrap();
        seen.extend(page.items);
        // Between pages: delete a tuple not yet listed, and add new ones.
        round += 1;
        store
            .write(
                &[t(&format!("doc:late{round}#viewer@user:x"))],
                &[tuples[24 - round].clone()],
            )
            .unwrap();
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, tuples);
}

/// Compare-and-set across servers: writers on two stores of one database
/// (two replicas of a server), each inserting "the holder of the lock" only
/// if there is none, round after round; every round has exactly one winner.
#[test]
fn preconditions_are_race_free_across_replicas() {
    use zanzi::store::{ChangeSet, Precondition};
    let url = support::postgres::database();
    let stores = [
        PostgresStore::connect(&url).unwrap(),
        PostgresStore::connect(&url).unwrap(),
    ];
    for round in 0..5 {
        let holder = TupleFilter {
            namespace: Some("lock".into()),
            object_id: Some(format!("r{round}")),
            relation: Some("holder".into()),
            ..TupleFilter::default()
        };
        let start = std::sync::Barrier::new(6);
        let won = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..6)
                .map(|i| {
                    let (store, holder, start) = (&stores[i % 2], &holder, &start);
                    scope.spawn(move || {
                        let tuple = t(&format!("lock:r{round}#holder@user:u{i}"));
                        start.wait();
                        match store.apply(&ChangeSet {
                            inserts: &[tuple],
                            preconditions: &[Precondition::must_not_exist(holder.clone())],
                            ..ChangeSet::default()
                        }) {
                            Ok(_) => true,
                            Err(StoreError::PreconditionFailed { index: 0, .. }) => false,
                            Err(other) => panic!("{other}"),
                        }
                    })
                })
                .collect();
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .filter(|won| *won)
                .count()
        });
        assert_eq!(won, 1, "round {round}");
        let head = stores[1].head_revision().unwrap();
        let holders = stores[1]
            .snapshot(head)
            .unwrap()
            .list(&holder, &PageRequest::first(10))
            .unwrap();
        assert_eq!(holders.items.len(), 1, "round {round}: {:?}", holders.items);
    }
}

/// Writers on two servers (two pools) at once: each revision's chain
/// follows from the one before and the revision's own changes, as the
/// change feed lists them, whichever server wrote it; a database written
/// before chains existed is seeded at its head.
#[test]
fn concurrent_writers_chain_in_commit_order_and_older_databases_are_seeded() {
    use zanzi::store::history::{genesis, next, seed};
    use zanzi::store::ChangeKind;
    let url = support::postgres::database();
    let first = PostgresStore::connect(&url).unwrap();
    let second = PostgresStore::connect(&url).unwrap();
    std::thread::scope(|s| {
        for (name, store) in [("a", &first), ("b", &second)] {
            s.spawn(move || {
                for i in 0..20 {
                    let tuple = t(&format!("doc:{name}{i}#viewer@user:u{i}"));
                    store.write(std::slice::from_ref(&tuple), &[]).unwrap();
                    if i % 3 == 0 {
                        store.write(&[], &[tuple]).unwrap();
                    }
                }
            });
        }
    });
    let head = first.head_revision().unwrap();
    let batch = first.changes_since(Revision(0), 10_000).unwrap();
    let mut chain = genesis();
    for revision in 1..=head.0 {
        let (mut inserted, mut deleted) = (Vec::new(), Vec::new());
        for change in batch.changes.iter().filter(|c| c.revision.0 == revision) {
            match change.kind {
                ChangeKind::Insert => inserted.push(change.tuple.clone()),
                ChangeKind::Delete => deleted.push(change.tuple.clone()),
            }
        }
        chain = next(&chain, Revision(revision), &deleted, &inserted);
        assert_eq!(
            second.history_chain(Revision(revision)).unwrap(),
            Some(chain),
            "revision {revision}"
        );
    }

    // As if written before chains existed: the head is seeded.
    admin(&url)
        .execute("UPDATE zanzi_revisions SET chain = NULL", &[])
        .unwrap();
    let id = first.store_id().unwrap();
    assert_eq!(first.history_chain(head).unwrap(), Some(seed(&id, head)));
    assert_eq!(first.history_chain(Revision(head.0 - 1)).unwrap(), None);
    let tuple = t("doc:after#viewer@user:u");
    let after = first.write(std::slice::from_ref(&tuple), &[]).unwrap();
    assert_eq!(
        second.history_chain(after).unwrap(),
        Some(next(&seed(&id, head), after, &[], &[tuple]))
    );
    assert_eq!(second.history_chain(head).unwrap(), Some(seed(&id, head)));
}
