//! The same conformance tests for every tuple store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use zanzi::store::{
    write_validated, MemoryStore, PageRequest, Revision, SqliteStore, StoreError, SubjectKind,
    TupleFilter, TupleStore,
};
use zanzi::tuple::{Subject, Tuple};

fn t(text: &str) -> Tuple {
    text.parse().unwrap()
}

fn subjects(store: &dyn TupleStore, object: &str, at: Revision) -> Vec<String> {
    let (object, relation) = zanzi::tuple::parse_object_relation(object).unwrap();
    store
        .subjects(
            &object.namespace,
            &object.id,
            &relation,
            SubjectKind::All,
            at,
        )
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn idempotent_writes(store: &dyn TupleStore) {
    let a = t("doc:1#viewer@user:alice");
    let r1 = store.write(&[a.clone(), a.clone()], &[]).unwrap();
    let r2 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    assert!(r2 > r1);
    let all = store
        .list(&TupleFilter::default(), &PageRequest::first(100), r2)
        .unwrap();
    assert_eq!(all.items, vec![a.clone()]);
    // Deleting a missing tuple is a no-op too.
    let r3 = store.write(&[], &[t("doc:1#viewer@user:bob")]).unwrap();
    assert_eq!(subjects(store, "doc:1#viewer", r3), vec!["user:alice"]);
}

fn snapshot_reads(store: &dyn TupleStore) {
    let a = t("doc:1#viewer@user:alice");
    let b = t("doc:1#viewer@group:eng#member");
    let r1 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    let r2 = store.write(std::slice::from_ref(&b), &[]).unwrap();
    let r3 = store.write(&[], std::slice::from_ref(&a)).unwrap();
    assert_eq!(
        subjects(store, "doc:1#viewer", Revision(0)),
        Vec::<String>::new()
    );
    assert_eq!(subjects(store, "doc:1#viewer", r1), vec!["user:alice"]);
    assert_eq!(
        subjects(store, "doc:1#viewer", r2),
        vec!["user:alice", "group:eng#member"]
    );
    assert_eq!(
        subjects(store, "doc:1#viewer", r3),
        vec!["group:eng#member"]
    );
    assert!(store.contains(&a, r2).unwrap());
    assert!(!store.contains(&a, r3).unwrap());
    assert_eq!(
        store
            .objects_with_subject("doc", "viewer", &a.subject, r1)
            .unwrap(),
        vec!["1"]
    );
    assert!(store
        .objects_with_subject("doc", "viewer", &a.subject, r3)
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.subjects("doc", "1", "viewer", SubjectKind::All, Revision(r3.0 + 1)),
        Err(StoreError::FutureRevision { .. })
    ));
    assert_eq!(store.head_revision().unwrap(), r3);
}

fn delete_then_reinsert(store: &dyn TupleStore) {
    let a = t("doc:1#viewer@user:alice");
    let r1 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    let r2 = store.write(&[], std::slice::from_ref(&a)).unwrap();
    let r3 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    assert!(store.contains(&a, r1).unwrap());
    assert!(!store.contains(&a, r2).unwrap());
    assert!(store.contains(&a, r3).unwrap());
    // Exactly one live version at every revision.
    for at in [r1, r2, r3] {
        let n = store
            .list(&TupleFilter::default(), &PageRequest::first(10), at)
            .unwrap()
            .items
            .len();
        assert_eq!(n, usize::from(at != r2));
    }
}

fn atomic_failing_write(store: &dyn TupleStore) {
    let before = store.head_revision().unwrap();
    let good = t("doc:1#viewer@user:alice");
    let mut bad = good.clone();
    bad.object.id = String::new();
    assert!(matches!(
        store.write(&[good.clone(), bad], &[]),
        Err(StoreError::InvalidTuple { .. })
    ));
    assert_eq!(store.head_revision().unwrap(), before);
    assert!(!store.contains(&good, before).unwrap());

    // A schema violation anywhere in the batch stores nothing either.
    let (_, compiled) = zanzi::compile_source(
        "s.zanzi",
        "namespace user {}\nnamespace doc { relation viewer: user }",
    );
    let schema = compiled.schema.unwrap();
    let err = write_validated(
        store,
        &schema,
        &[good.clone(), t("doc:1#viewer@group:eng#member")],
        &[],
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("`doc#viewer` accepts `user`"),
        "{err}"
    );
    assert_eq!(store.head_revision().unwrap(), before);
    let r = write_validated(store, &schema, std::slice::from_ref(&good), &[]).unwrap();
    assert!(store.contains(&good, r).unwrap());
}

fn kinds_and_wildcards(store: &dyn TupleStore) {
    let r = store
        .write(
            &[
                t("doc:1#viewer@user:alice"),
                t("doc:1#viewer@user:*"),
                t("doc:1#viewer@user:%2A"),
                t("doc:1#viewer@group:eng#member"),
            ],
            &[],
        )
        .unwrap();
    let get = |kind| {
        store
            .subjects("doc", "1", "viewer", kind, r)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(get(SubjectKind::Objects), vec!["user:alice", "user:%2A"]);
    assert_eq!(get(SubjectKind::Sets), vec!["group:eng#member"]);
    assert_eq!(get(SubjectKind::All).len(), 4);
    assert!(store.contains(&t("doc:1#viewer@user:*"), r).unwrap());
    assert_eq!(
        store
            .objects_with_subject("doc", "viewer", &Subject::wildcard("user"), r)
            .unwrap(),
        vec!["1"]
    );
}

fn listing_and_delete_matching(store: &dyn TupleStore) {
    let tuples: Vec<Tuple> = (0..25)
        .map(|i| t(&format!("doc:{}#viewer@user:u{i}", i % 3)))
        .collect();
    store.write(&tuples, &[]).unwrap();
    let head = store.head_revision().unwrap();
    let mut seen = Vec::new();
    let mut page = PageRequest::first(7);
    loop {
        let got = store.list(&TupleFilter::default(), &page, head).unwrap();
        assert!(got.items.len() <= 7);
        seen.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    // Every tuple once, in the store's own stable order.
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    let mut sorted_tuples = tuples.clone();
    sorted_tuples.sort();
    assert_eq!(sorted_seen, sorted_tuples);
    let filter = TupleFilter {
        object_id: Some("1".into()),
        ..TupleFilter::default()
    };
    let ones = store.list(&filter, &PageRequest::first(100), head).unwrap();
    assert_eq!(ones.items.len(), 8);
    assert!(ones.next_cursor.is_none());
    let r = store.delete_matching(&filter).unwrap();
    assert!(store
        .list(&filter, &PageRequest::first(100), r)
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        store
            .list(&TupleFilter::default(), &PageRequest::first(100), r)
            .unwrap()
            .items
            .len(),
        17
    );
    // The old snapshot still sees them.
    assert_eq!(
        store
            .list(&filter, &PageRequest::first(100), head)
            .unwrap()
            .items
            .len(),
        8
    );
    let unknown = TupleFilter {
        relation: Some("nope".into()),
        ..TupleFilter::default()
    };
    assert!(store
        .list(&unknown, &PageRequest::first(10), r)
        .unwrap()
        .items
        .is_empty());
    assert!(store.delete_matching(&unknown).unwrap() > r);
}

fn a_write_and_a_delete_of_the_same_tuple_keep_it(store: &dyn TupleStore) {
    let a = t("doc:1#viewer@user:alice");
    let r = store
        .write(std::slice::from_ref(&a), std::slice::from_ref(&a))
        .unwrap();
    assert!(store.contains(&a, r).unwrap());
    let r = store
        .write(std::slice::from_ref(&a), std::slice::from_ref(&a))
        .unwrap();
    assert!(store.contains(&a, r).unwrap());
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&zanzi::store::MemoryStore::new()); })*
        }
        mod sqlite {
            $(#[test] fn $name() { super::$name(&zanzi::store::SqliteStore::open_in_memory().unwrap()); })*
        }
    };
}

conformance!(
    idempotent_writes,
    snapshot_reads,
    delete_then_reinsert,
    atomic_failing_write,
    kinds_and_wildcards,
    listing_and_delete_matching,
    a_write_and_a_delete_of_the_same_tuple_keep_it,
);

#[test]
fn sqlite_persists_and_reports_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuples.db");
    let status = zanzi::store::sqlite::migrate_up(&path).unwrap();
    assert_eq!(status.current, status.latest);
    assert!(status.pending.is_empty());
    {
        let store = SqliteStore::open_existing(&path).unwrap();
        store.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let head = store.head_revision().unwrap();
    assert_eq!(head, Revision(1));
    assert!(store.contains(&t("doc:1#viewer@user:alice"), head).unwrap());
    let status = zanzi::store::sqlite::migration_status(&path).unwrap();
    assert_eq!(status.applied.len() as u32, status.current);
}

#[test]
fn sqlite_refuses_an_unmigrated_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    rusqlite_free_create(&path);
    let status = zanzi::store::sqlite::migration_status(&path).unwrap();
    assert_eq!(status.current, 0);
    assert_eq!(status.pending.len() as u32, status.latest);
    assert!(matches!(
        SqliteStore::open_existing(&path),
        Err(StoreError::NeedsMigration { found: 0, .. })
    ));
}

/// Creates an empty SQLite file (a database with no tables).
fn rusqlite_free_create(path: &std::path::Path) {
    // An empty file is a valid, empty SQLite database.
    std::fs::write(path, b"").unwrap();
}

#[test]
fn sqlite_import_is_idempotent_and_batched() {
    let store = SqliteStore::open_in_memory().unwrap();
    let tuples: Vec<Tuple> = (0..1000)
        .map(|i| t(&format!("doc:d{}#viewer@user:u{i}", i % 10)))
        .collect();
    let report = store.import(&tuples, 300).unwrap();
    assert_eq!(report.inserted, 1000);
    assert_eq!(report.revisions.len(), 4);
    let again = store.import(&tuples, 5000).unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 1000));
    let head = store.head_revision().unwrap();
    assert_eq!(subjects(&store, "doc:d3#viewer", head).len(), 100);
}

/// A large import into an empty store builds the reverse index at the end;
/// reverse reads answer the same, and so does a later import.
#[test]
fn sqlite_large_import_into_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.db");
    let store = SqliteStore::open(&path).unwrap();
    let tuples: Vec<Tuple> = (0..12_000)
        .map(|i| t(&format!("doc:d{i}#viewer@user:u{}", i % 7)))
        .collect();
    assert_eq!(store.import(&tuples, 5_000).unwrap().inserted, 12_000);
    let more = [t("doc:extra#viewer@user:u3")];
    store.import(&more, 10).unwrap();
    let head = store.head_revision().unwrap();
    let docs = store
        .objects_with_subject("doc", "viewer", &Subject::object("user", "u3"), head)
        .unwrap();
    assert_eq!(docs.len(), 12_000 / 7 + 1);
    assert!(docs.contains(&"extra".to_owned()));
    drop(store);
    // Reopening finds the index in place (and would build it if missing).
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store
            .objects_with_subject("doc", "viewer", &Subject::object("user", "u0"), head)
            .unwrap()
            .len(),
        12_000_usize.div_ceil(7)
    );
}

#[test]
fn the_memory_store_is_shareable_across_threads() {
    let store = std::sync::Arc::new(MemoryStore::new());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || {
                store
                    .write(&[t(&format!("doc:1#viewer@user:u{i}"))], &[])
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let head = store.head_revision().unwrap();
    assert_eq!(head, Revision(4));
    assert_eq!(subjects(&*store, "doc:1#viewer", head).len(), 4);
}
