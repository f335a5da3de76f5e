//! The same conformance tests for every tuple store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use zanzi::store::{
    write_validated, ChangeSet, Maintenance, MemoryStore, ObjectIn, Page, PageRequest,
    Precondition, Probe, ProbeHit, Revision, SchemaStore, SqliteStore, Store, StoreError,
    SubjectKind, TupleFilter, TupleStore,
};
use zanzi::tuple::{Context, Expiry, Subject, SubjectRef, Tuple};

/// One read at one revision: a snapshot, then the read. Most of the suite
/// asks one question per revision, so it reads through these; the
/// snapshot's own behaviour is tested by `readers_keep_their_revision`.
trait ReadAt {
    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
    ) -> Result<Vec<Subject>, StoreError>;
    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError>;
    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Vec<String>, StoreError>;
    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError>;
    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        at: Revision,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError>;
    fn list(
        &self,
        filter: &TupleFilter,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<Tuple>, StoreError>;
}

impl<S: TupleStore + ?Sized> ReadAt for S {
    fn subjects(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        at: Revision,
    ) -> Result<Vec<Subject>, StoreError> {
        self.snapshot(at)?
            .subjects(namespace, object_id, relation, kind)
    }

    fn contains(&self, tuple: &Tuple, at: Revision) -> Result<bool, StoreError> {
        self.snapshot(at)?.contains(tuple)
    }

    fn objects_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Vec<String>, StoreError> {
        self.snapshot(at)?
            .objects_with_subject(namespace, relation, subject)
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        at: Revision,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        self.snapshot(at)?
            .for_each_object_with_subject(namespace, relation, subject, visit)
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        at: Revision,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        self.snapshot(at)?
            .probe(namespace, object_id, relation, probe, sets)
    }

    fn list(
        &self,
        filter: &TupleFilter,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<Tuple>, StoreError> {
        self.snapshot(at)?.list(filter, page)
    }
}

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

fn idempotent_writes(store: &dyn Store) {
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

fn snapshot_reads(store: &dyn Store) {
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

fn delete_then_reinsert(store: &dyn Store) {
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

fn atomic_failing_write(store: &dyn Store) {
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

fn kinds_and_wildcards(store: &dyn Store) {
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

fn listing_and_delete_matching(store: &dyn Store) {
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

fn a_write_and_a_delete_of_the_same_tuple_keep_it(store: &dyn Store) {
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

fn gc_keeps_reads_from_the_horizon_on(store: &dyn Store) {
    let a = t("doc:1#viewer@user:alice");
    let b = t("doc:1#viewer@user:bob");
    let r1 = store.write(&[a.clone(), b.clone()], &[]).unwrap();
    let r2 = store.write(&[], std::slice::from_ref(&a)).unwrap();
    let r3 = store.write(&[t("doc:2#viewer@user:carol")], &[]).unwrap();
    let id = store.store_id().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(store.gc_horizon().unwrap(), Revision(0));
    // A page cursor taken before the collection stays valid after it.
    let first = store
        .list(&TupleFilter::default(), &PageRequest::first(1), r3)
        .unwrap();
    assert_eq!(store.gc(r2).unwrap(), 1);
    assert_eq!(store.gc_horizon().unwrap(), r2);
    assert_eq!(store.store_id().unwrap(), id);
    assert!(matches!(
        store.contains(&a, r1),
        Err(StoreError::RevisionCollected { .. })
    ));
    assert_eq!(subjects(store, "doc:1#viewer", r2), vec!["user:bob"]);
    assert_eq!(subjects(store, "doc:1#viewer", r3), vec!["user:bob"]);
    let rest = store
        .list(
            &TupleFilter::default(),
            &PageRequest {
                cursor: first.next_cursor,
                limit: 10,
            },
            r3,
        )
        .unwrap();
    let mut all: Vec<Tuple> = first.items;
    all.extend(rest.items);
    assert_eq!(all, vec![b, t("doc:2#viewer@user:carol")]);
    // Collecting again below the horizon does nothing.
    assert_eq!(store.gc(r1).unwrap(), 0);
    assert_eq!(store.gc_horizon().unwrap(), r2);
}

fn filters_by_an_id_in_several_namespaces(store: &dyn Store) {
    let r = store
        .write(
            &[
                t("doc:1#viewer@user:x"),
                t("doc:1#viewer@bot:x"),
                t("doc:1#viewer@team:x#member"),
                t("doc:1#viewer@user:y"),
            ],
            &[],
        )
        .unwrap();
    let filter = TupleFilter {
        subject_object_in: Some(zanzi::store::ObjectIn {
            namespaces: vec!["user".into(), "bot".into(), "never".into()],
            id: "x".into(),
        }),
        ..TupleFilter::default()
    };
    let mut found = store
        .list(&filter, &PageRequest::first(10), r)
        .unwrap()
        .items;
    found.sort();
    assert_eq!(
        found,
        vec![t("doc:1#viewer@bot:x"), t("doc:1#viewer@user:x")]
    );
    let r = store.delete_matching(&filter).unwrap();
    let mut left = subjects(store, "doc:1#viewer", r);
    left.sort();
    assert_eq!(left, vec!["team:x#member", "user:y"]);
}

/// The check path's reads: probes of a relation with few versions and of
/// one with many, at the head and at an older revision, and the reverse
/// visitor.
fn probes_small_and_large_relations(store: &dyn Store) {
    let mut tuples = vec![
        t("group:small#member@user:a"),
        t("group:small#member@group:x#member"),
        t("group:small#member@user:*"),
    ];
    tuples.extend((0..100).map(|i| t(&format!("group:big#member@user:u{i}"))));
    tuples.push(t("group:big#member@group:y#member"));
    tuples.push(t("group:big#member@group:z#member"));
    let r1 = store.write(&tuples, &[]).unwrap();
    let r2 = store
        .write(
            &[t("group:big#member@user:*")],
            &[
                t("group:small#member@user:a"),
                t("group:big#member@user:u5"),
            ],
        )
        .unwrap();
    let probe = |object: &str, subject: &str, wildcard: bool, at: Revision| {
        let subject: Subject = subject.parse().unwrap();
        let mut sets = Vec::new();
        let hit = store
            .probe(
                "group",
                object,
                "member",
                zanzi::store::Probe {
                    subject: Some(subject.borrowed()),
                    wildcard: wildcard.then_some("user"),
                    sets: true,
                    whole_object: false,
                    attributed: false,
                },
                at,
                &mut |s| sets.push(s.to_subject().to_string()),
            )
            .unwrap();
        (hit.subject, hit.wildcard, sets)
    };
    assert_eq!(probe("small", "user:a", false, r1), (true, false, vec![]));
    assert_eq!(
        probe("small", "user:a", false, r2),
        (false, false, vec!["group:x#member".to_owned()])
    );
    assert_eq!(probe("small", "user:b", true, r1), (false, true, vec![]));
    // The wildcard itself, probed as the subject and as the wildcard.
    assert_eq!(probe("small", "user:*", true, r1), (true, true, vec![]));
    assert_eq!(probe("big", "user:*", true, r2), (true, true, vec![]));
    assert_eq!(probe("big", "user:u5", false, r1), (true, false, vec![]));
    assert_eq!(probe("big", "user:u6", true, r2), (true, true, vec![]));
    assert_eq!(
        probe("big", "user:u5", false, r2),
        (
            false,
            false,
            vec!["group:y#member".to_owned(), "group:z#member".to_owned()]
        )
    );
    assert!(!probe("big", "user:nobody", true, r1).1);
    assert!(probe("big", "user:nobody", true, r2).1);
    assert_eq!(probe("none", "user:a", true, r2), (false, false, vec![]));
    let mut objects = Vec::new();
    store
        .for_each_object_with_subject(
            "group",
            "member",
            &Subject::object("user", "u5"),
            r1,
            &mut |id| objects.push(id.to_owned()),
        )
        .unwrap();
    assert_eq!(objects, ["big"]);
    objects.clear();
    store
        .for_each_object_with_subject(
            "group",
            "member",
            &Subject::object("user", "u5"),
            r2,
            &mut |id| objects.push(id.to_owned()),
        )
        .unwrap();
    assert!(objects.is_empty());
}

/// A reader answers at its revision for as long as it lives, while writes
/// go on; a snapshot is refused when taken above the head.
fn readers_keep_their_revision(store: &dyn Store) {
    let a = t("doc:1#viewer@user:alice");
    let r1 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    let reader = store.snapshot(r1).unwrap();
    assert_eq!(reader.revision(), r1);
    let names = |reader: &dyn zanzi::store::Reader| {
        reader
            .subjects("doc", "1", "viewer", SubjectKind::All)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&*reader), ["user:alice"]);
    let r2 = store
        .write(&[t("doc:1#viewer@user:bob")], std::slice::from_ref(&a))
        .unwrap();
    assert!(reader.contains(&a).unwrap());
    assert_eq!(names(&*reader), ["user:alice"]);
    drop(reader);
    assert!(matches!(
        store.snapshot(Revision(r2.0 + 1)),
        Err(StoreError::FutureRevision { .. })
    ));
    assert_eq!(names(&*store.snapshot(r2).unwrap()), ["user:bob"]);
}

/// One schema is kept beside the tuples, replaced by a new one.
fn keeps_one_schema(store: &dyn Store) {
    let compile = |src: &str| zanzi::compile_source("s.zanzi", src).1.schema.unwrap();
    let first = compile("namespace user {} namespace doc { relation viewer: user }");
    let second =
        compile("namespace user {} namespace doc { relation viewer: user relation owner: user }");
    assert_eq!(store.load_schema().unwrap(), None);
    assert_eq!(store.schema_hash().unwrap(), None);
    assert!(store.save_schema(&first).unwrap());
    assert!(!store.save_schema(&first).unwrap(), "the same schema again");
    assert!(store.save_schema(&second).unwrap(), "a new one replaces it");
    assert_eq!(store.schema_hash().unwrap(), Some(second.hash.clone()));
    assert_eq!(store.load_schema().unwrap(), Some(second));
}

/// `import` writes batches, one revision each, and counts what was already
/// live (every store: SQLite's own fast path and the trait's default).
fn imports_in_batches_and_skips_live_tuples(store: &dyn Store) {
    let (a, b, c) = (
        t("doc:1#viewer@user:alice"),
        t("doc:1#viewer@user:bob"),
        t("doc:2#viewer@user:carol"),
    );
    store.write(std::slice::from_ref(&a), &[]).unwrap();
    let report = store
        .import(&[a.clone(), b.clone(), c.clone(), b.clone()], 2)
        .unwrap();
    assert_eq!((report.inserted, report.unchanged), (2, 2));
    assert_eq!(report.revisions.len(), 2);
    let head = store.head_revision().unwrap();
    assert_eq!(report.revisions.last(), Some(&head));
    let reader = store.snapshot(head).unwrap();
    for tuple in [&a, &b, &c] {
        assert!(reader.contains(tuple).unwrap(), "{tuple}");
    }
    // The first batch is visible at its own revision, the second is not.
    let first = store.snapshot(report.revisions[0]).unwrap();
    assert!(first.contains(&b).unwrap());
    assert!(!first.contains(&c).unwrap());
    // A malformed tuple (a relation name no tuple can hold) refuses the whole import.
    let bad = Tuple::new(
        zanzi::Object::new("doc", "3"),
        "view er",
        zanzi::Subject::object("user", "x"),
    );
    assert!(store.import(&[t("doc:3#viewer@user:dan"), bad], 1).is_err());
    assert_eq!(store.head_revision().unwrap(), head);
}

/// The changes of a feed batch as `+tuple@rev` / `-tuple@rev`.
fn changes(batch: &zanzi::store::ChangeBatch) -> Vec<String> {
    batch
        .changes
        .iter()
        .map(|c| {
            let sign = match c.kind {
                zanzi::store::ChangeKind::Insert => '+',
                zanzi::store::ChangeKind::Delete => '-',
            };
            format!("{sign}{}@{}", c.tuple, c.revision)
        })
        .collect()
}

fn the_feed_lists_every_change_in_commit_order(store: &dyn Store) {
    let a = t("doc:1#viewer@user:alice");
    let b = t("doc:1#viewer@group:eng#member");
    let c = t("doc:2#viewer@user:*");
    let start = store.head_revision().unwrap();
    let r1 = store.write(&[a.clone(), b.clone()], &[]).unwrap();
    // Writing a live tuple again changes nothing, and is no change.
    let r2 = store.write(&[a.clone(), c.clone()], &[]).unwrap();
    let r3 = store
        .write(&[], &[a.clone(), t("doc:9#viewer@user:nobody")])
        .unwrap();
    let r4 = store
        .delete_matching(&TupleFilter {
            namespace: Some("doc".into()),
            object_id: Some("2".into()),
            ..TupleFilter::default()
        })
        .unwrap();
    let r5 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    let all = store.changes_since(start, 100).unwrap();
    assert_eq!(all.through, r5);
    assert_eq!(
        changes(&all),
        vec![
            format!("+{a}@{r1}"),
            format!("+{b}@{r1}"),
            format!("+{c}@{r2}"),
            format!("-{a}@{r3}"),
            format!("-{c}@{r4}"),
            format!("+{a}@{r5}"),
        ]
    );
    // From a later point, only what came after it.
    let rest = store.changes_since(r3, 100).unwrap();
    assert_eq!(
        changes(&rest),
        vec![format!("-{c}@{r4}"), format!("+{a}@{r5}")]
    );
    // Nothing new: an empty batch through the head.
    let none = store.changes_since(r5, 100).unwrap();
    assert!(none.changes.is_empty());
    assert_eq!(none.through, r5);
    // A small limit never splits a revision: r1's two changes come together.
    let first = store.changes_since(start, 1).unwrap();
    assert_eq!(first.through, r1);
    assert_eq!(first.changes.len(), 2);
    let second = store.changes_since(first.through, 1).unwrap();
    assert_eq!(second.through, r2);
    assert_eq!(changes(&second), vec![format!("+{c}@{r2}")]);
    // Beyond the head is refused.
    assert!(matches!(
        store.changes_since(Revision(r5.0 + 1), 10),
        Err(StoreError::FutureRevision { .. })
    ));
}

fn the_feed_ends_at_the_horizon(store: &dyn Store) {
    let a = t("doc:1#viewer@user:alice");
    let r1 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    let r2 = store.write(&[], std::slice::from_ref(&a)).unwrap();
    let r3 = store.write(&[t("doc:2#viewer@user:bob")], &[]).unwrap();
    store.gc(r2).unwrap();
    // Before the horizon, the deletion at r2 is gone: refused, not a hole.
    assert!(matches!(
        store.changes_since(r1, 10),
        Err(StoreError::RevisionCollected { .. })
    ));
    let after = store.changes_since(r2, 10).unwrap();
    assert_eq!(after.through, r3);
    assert_eq!(
        changes(&after),
        vec![format!("+doc:2#viewer@user:bob@{r3}")]
    );
}

fn a_follower_sees_writes_as_they_come(store: &dyn Store) {
    let start = store.head_revision().unwrap();
    let mut follower = zanzi::store::Follower::new(store, start);
    // Nothing yet: the wait times out with an empty batch.
    let idle = follower.next(std::time::Duration::from_millis(50)).unwrap();
    assert!(idle.changes.is_empty());
    assert_eq!(follower.seen(), start);
    let r = store.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen.extend(changes(
            &follower
                .next(std::time::Duration::from_millis(200))
                .unwrap(),
        ));
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(seen, vec![format!("+doc:1#viewer@user:alice@{r}")]);
    assert_eq!(follower.seen(), r);
}

// ---------------------------------------------------------------------------
// Preconditions.

fn exists(filter: TupleFilter) -> Precondition {
    Precondition::must_exist(filter)
}

fn absent(filter: TupleFilter) -> Precondition {
    Precondition::must_not_exist(filter)
}

/// The filter matching exactly `tuple`.
fn exactly(tuple: &str) -> TupleFilter {
    let tuple = t(tuple);
    TupleFilter {
        namespace: Some(tuple.object.namespace),
        object_id: Some(tuple.object.id),
        relation: Some(tuple.relation),
        subject: Some(tuple.subject),
        subject_object_in: None,
    }
}

/// Applies `inserts` under `preconditions`: the revision, or the index of
/// the precondition that failed.
fn insert_if(
    store: &dyn Store,
    preconditions: &[Precondition],
    inserts: &[Tuple],
) -> Result<Revision, usize> {
    match store.apply(&ChangeSet {
        inserts,
        preconditions,
        ..ChangeSet::default()
    }) {
        Ok(rev) => Ok(rev),
        Err(StoreError::PreconditionFailed {
            index,
            precondition,
        }) => {
            assert!(
                precondition.contains("must"),
                "the error says what was asked: {precondition}"
            );
            Err(index)
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}

fn preconditions_must_exist_and_must_not_exist(store: &dyn Store) {
    let alice = "doc:1#viewer@user:alice";
    store.write(&[t(alice)], &[]).unwrap();
    let two = t("doc:2#viewer@user:alice");
    let r = insert_if(store, &[exists(exactly(alice))], std::slice::from_ref(&two)).unwrap();
    assert!(store.contains(&two, r).unwrap(), "must-exist held: written");

    let three = t("doc:3#viewer@user:alice");
    assert_eq!(
        insert_if(
            store,
            &[absent(exactly(alice))],
            std::slice::from_ref(&three)
        ),
        Err(0),
        "must-not-exist of a live tuple fails"
    );
    let bob = "doc:1#viewer@user:bob";
    assert_eq!(
        insert_if(store, &[exists(exactly(bob))], std::slice::from_ref(&three)),
        Err(0),
        "must-exist of a missing tuple fails"
    );
    // The first that fails is named: here the second.
    assert_eq!(
        insert_if(
            store,
            &[absent(exactly(bob)), exists(exactly(bob))],
            std::slice::from_ref(&three)
        ),
        Err(1)
    );
    assert_eq!(
        store.head_revision().unwrap(),
        r,
        "no failed write took a revision"
    );
    let r = insert_if(
        store,
        &[absent(exactly(bob)), exists(exactly(alice))],
        std::slice::from_ref(&three),
    )
    .unwrap();
    assert!(store.contains(&three, r).unwrap());

    // The message names the precondition and its filter.
    let err = store
        .apply(&ChangeSet {
            inserts: std::slice::from_ref(&three),
            preconditions: &[exists(exactly(bob))],
            ..ChangeSet::default()
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "precondition 0 failed: a live tuple matching {namespace: doc, object_id: 1, \
         relation: viewer, subject: user:bob} must exist"
    );
}

fn a_failed_precondition_writes_nothing(store: &dyn Store) {
    let kept = [t("doc:1#viewer@user:alice"), t("doc:2#viewer@user:bob")];
    let before = store.write(&kept, &[]).unwrap();
    let doc1 = TupleFilter {
        namespace: Some("doc".into()),
        object_id: Some("1".into()),
        ..TupleFilter::default()
    };
    let err = store
        .apply(&ChangeSet {
            inserts: &[t("doc:3#viewer@user:carol")],
            deletes: &[t("doc:2#viewer@user:bob")],
            delete_matching: Some(&doc1),
            preconditions: &[exists(exactly("doc:9#viewer@user:nobody"))],
        })
        .unwrap_err();
    assert!(
        matches!(err, StoreError::PreconditionFailed { index: 0, .. }),
        "{err}"
    );
    assert_eq!(store.head_revision().unwrap(), before);
    let all = store
        .list(&TupleFilter::default(), &PageRequest::first(10), before)
        .unwrap();
    assert_eq!(all.items, kept.to_vec());
    assert!(
        changes(&store.changes_since(before, 100).unwrap()).is_empty(),
        "the feed has nothing after the failed write"
    );
    // The same change set without the failing precondition goes through.
    let r = store
        .apply(&ChangeSet {
            inserts: &[t("doc:3#viewer@user:carol")],
            deletes: &[t("doc:2#viewer@user:bob")],
            delete_matching: Some(&doc1),
            preconditions: &[exists(exactly("doc:1#viewer@user:alice"))],
        })
        .unwrap();
    let all = store
        .list(&TupleFilter::default(), &PageRequest::first(10), r)
        .unwrap();
    assert_eq!(all.items, vec![t("doc:3#viewer@user:carol")]);
}

fn preconditions_match_by_partial_fields(store: &dyn Store) {
    store
        .write(
            &[
                t("doc:1#viewer@user:alice"),
                t("doc:2#editor@group:eng#member"),
                t("folder:f#viewer@user:*"),
            ],
            &[],
        )
        .unwrap();
    let f = |namespace: Option<&str>,
             object_id: Option<&str>,
             relation: Option<&str>,
             subject: Option<&str>| TupleFilter {
        namespace: namespace.map(Into::into),
        object_id: object_id.map(Into::into),
        relation: relation.map(Into::into),
        subject: subject.map(|s| s.parse().unwrap()),
        subject_object_in: None,
    };
    let some = [
        TupleFilter::default(),
        f(Some("doc"), None, None, None),
        f(Some("doc"), Some("2"), None, None),
        f(None, Some("2"), None, None),
        f(None, None, Some("editor"), None),
        f(Some("doc"), Some("1"), Some("viewer"), None),
        f(None, None, None, Some("user:alice")),
        f(Some("doc"), None, None, Some("group:eng#member")),
        f(None, None, Some("viewer"), Some("user:*")),
        TupleFilter {
            subject_object_in: Some(ObjectIn {
                namespaces: vec!["group".into(), "user".into()],
                id: "alice".into(),
            }),
            ..TupleFilter::default()
        },
    ];
    let none = [
        f(Some("team"), None, None, None),
        f(Some("doc"), Some("3"), None, None),
        f(Some("folder"), Some("1"), None, None),
        f(Some("doc"), Some("1"), Some("editor"), None),
        f(None, None, None, Some("user:bob")),
        f(None, None, None, Some("group:eng")),
        f(Some("doc"), None, None, Some("user:*")),
        f(Some("folder"), None, None, Some("user:alice")),
        TupleFilter {
            subject_object_in: Some(ObjectIn {
                namespaces: vec!["group".into()],
                id: "alice".into(),
            }),
            ..TupleFilter::default()
        },
        TupleFilter {
            subject_object_in: Some(ObjectIn {
                namespaces: vec![],
                id: "alice".into(),
            }),
            ..TupleFilter::default()
        },
    ];
    for filter in some {
        assert_eq!(
            insert_if(store, &[exists(filter.clone())], &[]).err(),
            None,
            "{filter}"
        );
        assert_eq!(
            insert_if(store, &[absent(filter.clone())], &[]),
            Err(0),
            "{filter}"
        );
    }
    for filter in none {
        assert_eq!(
            insert_if(store, &[exists(filter.clone())], &[]),
            Err(0),
            "{filter}"
        );
        assert_eq!(
            insert_if(store, &[absent(filter.clone())], &[]).err(),
            None,
            "{filter}"
        );
    }
}

fn preconditions_see_only_live_tuples(store: &dyn Store) {
    let a = "doc:1#viewer@user:alice";
    store.write(&[t(a)], &[]).unwrap();
    let deleted = store.write(&[], &[t(a)]).unwrap();
    store.write(&[t("doc:2#viewer@user:bob")], &[]).unwrap();
    assert_eq!(insert_if(store, &[exists(exactly(a))], &[]), Err(0));
    let doc1 = TupleFilter {
        namespace: Some("doc".into()),
        object_id: Some("1".into()),
        ..TupleFilter::default()
    };
    assert_eq!(insert_if(store, &[exists(doc1.clone())], &[]), Err(0));
    insert_if(store, &[absent(exactly(a)), absent(doc1.clone())], &[t(a)]).unwrap();
    let r = insert_if(store, &[exists(exactly(a))], &[]).unwrap();
    assert!(r > deleted);
    // Deleted by a filter, at a revision of its own.
    store.delete_matching(&doc1).unwrap();
    assert_eq!(insert_if(store, &[exists(doc1)], &[]), Err(0));
}

/// Compare-and-set: many writers each insert "the holder of the lock" only
/// if there is none; exactly one wins, whatever the interleaving.
fn compare_and_set_has_one_winner(store: &dyn Store) {
    const WRITERS: usize = 8;
    let holder = TupleFilter {
        namespace: Some("lock".into()),
        object_id: Some("x".into()),
        relation: Some("holder".into()),
        ..TupleFilter::default()
    };
    let start = std::sync::Barrier::new(WRITERS);
    let outcomes: Vec<Result<Revision, usize>> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..WRITERS)
            .map(|i| {
                let (holder, start) = (&holder, &start);
                scope.spawn(move || {
                    start.wait();
                    insert_if(
                        store,
                        &[absent(holder.clone())],
                        &[t(&format!("lock:x#holder@user:u{i}"))],
                    )
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let won: Vec<Revision> = outcomes.iter().filter_map(|o| o.ok()).collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    let head = store.head_revision().unwrap();
    assert_eq!(head, won[0]);
    let holders = store.list(&holder, &PageRequest::first(10), head).unwrap();
    assert_eq!(holders.items.len(), 1, "{:?}", holders.items);
}

/// The history chain of every revision follows from the writes alone
/// (what each really changed), the same on every store; a revision not
/// yet committed has none.
fn history_chains_follow_the_writes(store: &dyn Store) {
    use zanzi::store::history::{genesis, next};
    let (alice, bob, carol) = (
        t("doc:a#viewer@user:alice"),
        t("doc:a#viewer@user:bob"),
        t("doc:b#viewer@group:g#member"),
    );
    let chain = |at: Revision| store.history_chain(at).unwrap();
    assert_eq!(chain(Revision(0)), Some(genesis()));
    let r1 = store.write(&[alice.clone(), bob.clone()], &[]).unwrap();
    let c1 = next(&genesis(), r1, &[], &[bob.clone(), alice.clone()]);
    assert_eq!(chain(r1), Some(c1));
    // Alice is live already and nobody was never stored: only Bob counts.
    let r2 = store
        .write(
            std::slice::from_ref(&alice),
            &[bob.clone(), t("doc:a#viewer@user:nobody")],
        )
        .unwrap();
    let c2 = next(&c1, r2, std::slice::from_ref(&bob), &[]);
    assert_eq!(chain(r2), Some(c2));
    let r3 = store
        .delete_matching(&TupleFilter {
            namespace: Some("doc".into()),
            ..TupleFilter::default()
        })
        .unwrap();
    let c3 = next(&c2, r3, std::slice::from_ref(&alice), &[]);
    assert_eq!(chain(r3), Some(c3));
    let report = store.import(&[carol.clone(), bob.clone()], 1).unwrap();
    let mut previous = c3;
    for (revision, tuple) in report.revisions.iter().zip([&carol, &bob]) {
        previous = next(&previous, *revision, &[], std::slice::from_ref(tuple));
        assert_eq!(chain(*revision), Some(previous));
    }
    let head = store.head_revision().unwrap();
    assert_eq!(chain(Revision(head.0 + 1)), None);
    // Another history at the same revision has another chain.
    assert_ne!(
        chain(r2),
        Some(next(&c1, r2, &[], std::slice::from_ref(&bob)))
    );
}

/// The secret's fingerprint is kept with the data.
fn keeps_the_secret_fingerprint(store: &dyn Store) {
    assert_eq!(store.secret_fingerprint().unwrap(), None);
    store.set_secret_fingerprint("00ff").unwrap();
    store.set_secret_fingerprint("0123").unwrap();
    assert_eq!(store.secret_fingerprint().unwrap().as_deref(), Some("0123"));
}

// ---------------------------------------------------------------------------
// Conditions and expiry.

fn ctx(json: &str) -> Context {
    Context::parse(json).unwrap()
}

/// Every tuple `list` gives at `at`, a few at a time, sorted.
fn everything(store: &dyn TupleStore, at: Revision) -> Vec<Tuple> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let got = store.list(&TupleFilter::default(), &page, at).unwrap();
        out.extend(got.items);
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    out.sort();
    out
}

fn sorted(mut tuples: Vec<Tuple>) -> Vec<Tuple> {
    tuples.sort();
    tuples
}

/// What `for_each_attributed` gives for `ns:id#relation` at `at`, in its
/// order.
fn attributed(store: &dyn TupleStore, object: &str, at: Revision) -> Vec<Tuple> {
    let (object, relation) = zanzi::tuple::parse_object_relation(object).unwrap();
    let mut out = Vec::new();
    store
        .snapshot(at)
        .unwrap()
        .for_each_attributed(&object.namespace, &object.id, &relation, &mut |t| {
            out.push(t.clone())
        })
        .unwrap();
    out
}

/// What `for_each_attributed_with_subject` gives at `at`, sorted.
fn attributed_with_subject(
    store: &dyn TupleStore,
    namespace: &str,
    relation: &str,
    subject: &Subject,
    at: Revision,
) -> Vec<Tuple> {
    let mut out = Vec::new();
    store
        .snapshot(at)
        .unwrap()
        .for_each_attributed_with_subject(namespace, relation, subject, &mut |t| {
            out.push(t.clone())
        })
        .unwrap();
    sorted(out)
}

/// The feed after `after` as (revision, `+`/`-`, tuple), whole tuples.
fn feed(store: &dyn TupleStore, after: Revision) -> Vec<(Revision, char, Tuple)> {
    store
        .changes_since(after, 1000)
        .unwrap()
        .changes
        .into_iter()
        .map(|c| {
            let sign = match c.kind {
                zanzi::store::ChangeKind::Insert => '+',
                zanzi::store::ChangeKind::Delete => '-',
            };
            (c.revision, sign, c.tuple)
        })
        .collect()
}

/// A condition with its context, an empty context, an expiry, both, and
/// none come back exactly from listings and the feed, the context in its
/// canonical form; writing them again changes nothing.
fn conditions_and_expiries_round_trip(store: &dyn Store) {
    let office = t("doc:1#viewer@user:bob").with_condition(
        "office_network",
        ctx(r#"{"ports": [443, 80], "nested": {"b": 1, "a": true}, "cidr": "10.0.0.0/8"}"#),
    );
    let bare = t("doc:1#viewer@user:carol").with_condition("office_network", Context::default());
    let until = t("doc:1#editor@user:bob")
        .with_expiry(Expiry::parse("2027-01-01T00:00:00.123456Z").unwrap());
    let both = t("doc:2#viewer@group:eng#member")
        .with_condition("before", ctx(r#"{"deadline": "2027-01-01T00:00:00Z"}"#))
        .with_expiry(Expiry::from_micros(-5));
    let plain = t("doc:1#viewer@user:alice");
    let start = store.head_revision().unwrap();
    let written = vec![office, bare, until, both, plain];
    let r = store.write(&written, &[]).unwrap();
    let expected = sorted(written.clone());
    assert_eq!(everything(store, r), expected);
    let context = everything(store, r)
        .into_iter()
        .find(|t| t.subject == Subject::object("user", "bob") && t.relation == "viewer")
        .and_then(|t| t.condition)
        .unwrap()
        .context;
    assert_eq!(
        context.as_json(),
        r#"{"cidr":"10.0.0.0/8","nested":{"a":true,"b":1},"ports":[443,80]}"#
    );
    let fed = feed(store, start);
    assert!(
        fed.iter().all(|(rev, sign, _)| (*rev, *sign) == (r, '+')),
        "{fed:?}"
    );
    assert_eq!(
        sorted(fed.into_iter().map(|(_, _, t)| t).collect()),
        expected
    );
    // Written again as they are: a revision without changes.
    let again = store.write(&written, &[]).unwrap();
    assert!(feed(store, r).is_empty());
    assert_eq!(everything(store, again), expected);
    assert_eq!(store.live_count().unwrap(), 5);
}

/// A tuple's key holds one live tuple: another condition, context or
/// expiry replaces it (a delete and an insert at one revision, in the feed
/// and the history chain), the same one changes nothing.
fn a_different_condition_replaces_the_tuple(store: &dyn Store) {
    use zanzi::store::history::next;
    let plain = t("doc:1#viewer@user:bob");
    let office = plain
        .clone()
        .with_condition("office_network", ctx(r#"{"cidr":"10.0.0.0/8"}"#));
    let elsewhere = plain
        .clone()
        .with_condition("office_network", ctx(r#"{"cidr":"192.168.0.0/16"}"#));
    let expiring = plain.clone().with_expiry(Expiry::from_micros(1_000));
    let r1 = store.write(std::slice::from_ref(&plain), &[]).unwrap();
    let c1 = store.history_chain(r1).unwrap().unwrap();
    let r2 = store.write(std::slice::from_ref(&office), &[]).unwrap();
    assert_eq!(everything(store, r2), std::slice::from_ref(&office));
    assert_eq!(
        feed(store, r1),
        [(r2, '-', plain.clone()), (r2, '+', office.clone())]
    );
    assert_eq!(
        store.history_chain(r2).unwrap(),
        Some(next(
            &c1,
            r2,
            std::slice::from_ref(&plain),
            std::slice::from_ref(&office)
        ))
    );
    let r3 = store.write(std::slice::from_ref(&office), &[]).unwrap();
    assert!(feed(store, r2).is_empty());
    let r4 = store.write(std::slice::from_ref(&elsewhere), &[]).unwrap();
    let r5 = store.write(std::slice::from_ref(&expiring), &[]).unwrap();
    let r6 = store.write(std::slice::from_ref(&plain), &[]).unwrap();
    assert_eq!(
        feed(store, r3),
        [
            (r4, '-', office.clone()),
            (r4, '+', elsewhere.clone()),
            (r5, '-', elsewhere.clone()),
            (r5, '+', expiring.clone()),
            (r6, '-', expiring),
            (r6, '+', plain.clone()),
        ]
    );
    assert_eq!(store.live_count().unwrap(), 1);

    // An import counts a replacement as inserted, the same tuple as unchanged.
    let other = t("doc:2#viewer@user:bob");
    let report = store.import(&[office.clone(), other.clone()], 10).unwrap();
    assert_eq!((report.inserted, report.unchanged), (2, 0));
    let report = store.import(&[office.clone(), other.clone()], 1).unwrap();
    assert_eq!((report.inserted, report.unchanged), (0, 2));
    let head = store.head_revision().unwrap();
    assert_eq!(everything(store, head), sorted(vec![office.clone(), other]));

    // One key twice with different conditions in one write is refused
    // whole, by a write and by an import.
    for result in [
        store
            .write(&[office.clone(), elsewhere.clone()], &[])
            .map(drop),
        store
            .import(&[office.clone(), t("doc:3#viewer@user:x"), elsewhere], 1)
            .map(drop),
    ] {
        match result {
            Err(StoreError::InvalidTuple { tuple, reason }) => {
                // The tuple as written, with its condition.
                assert!(tuple.starts_with("doc:1#viewer@user:bob["), "{tuple}");
                assert!(reason.contains("twice"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(store.head_revision().unwrap(), head);
    // The same tuple twice is no conflict.
    store.write(&[office.clone(), office], &[]).unwrap();
}

/// The plain reads see plain tuples only, at the head and before it, in
/// small and large relations; the attributed reads see the others,
/// expired ones included.
fn plain_reads_exclude_attributed_tuples(store: &dyn Store) {
    let alice = t("doc:1#viewer@user:alice");
    let office = t("doc:1#viewer@user:bob").with_condition("office", Context::default());
    let expired = t("doc:1#viewer@user:*").with_expiry(Expiry::from_micros(1));
    let set = t("doc:1#viewer@group:eng#member").with_condition("office", ctx(r#"{"n":1}"#));
    let later = t("doc:2#viewer@user:bob").with_expiry(Expiry::from_micros(4_102_444_800_000_000));
    // A relation large enough for the stores' other probe paths.
    let mut big: Vec<Tuple> = (0..70)
        .map(|i| t(&format!("doc:big#viewer@user:u{i}")))
        .collect();
    big.push(t("doc:big#viewer@user:bob").with_condition("office", Context::default()));
    big.push(t("doc:big#viewer@user:*").with_expiry(Expiry::from_micros(1)));
    let mut written = vec![
        alice.clone(),
        office.clone(),
        expired.clone(),
        set.clone(),
        later.clone(),
    ];
    written.extend(big);
    let r1 = store.write(&written, &[]).unwrap();
    // r1 is read at the head, then (after r2) as history.
    let r2 = store.write(&[t("doc:9#viewer@user:zed")], &[]).unwrap();
    let bob = Subject::object("user", "bob");
    let eng = Subject::set("group", "eng", "member");
    for at in [r1, r2] {
        assert_eq!(
            subjects(store, "doc:1#viewer", at),
            ["user:alice"],
            "at {at}"
        );
        assert!(store
            .subjects("doc", "1", "viewer", SubjectKind::Sets, at)
            .unwrap()
            .is_empty());
        assert!(subjects(store, "doc:2#viewer", at).is_empty());
        assert_eq!(subjects(store, "doc:big#viewer", at).len(), 70);
        assert!(store.contains(&alice, at).unwrap());
        for tuple in [&office, &expired, &set, &later] {
            assert!(!store.contains(tuple, at).unwrap(), "{tuple} at {at}");
            assert!(
                !store.contains(&tuple.key(), at).unwrap(),
                "{tuple} at {at}"
            );
        }
        let carol = Subject::object("user", "carol");
        for object in ["1", "big"] {
            for whole_object in [false, true] {
                for attributed in [false, true] {
                    let mut sets = Vec::new();
                    let hit = store
                        .probe(
                            "doc",
                            object,
                            "viewer",
                            Probe {
                                subject: Some(bob.borrowed()),
                                wildcard: Some("user"),
                                sets: true,
                                whole_object,
                                attributed,
                            },
                            at,
                            &mut |s| sets.push(s.to_subject()),
                        )
                        .unwrap();
                    // Bob's tuple and the wildcard have traits: asked, the
                    // probe says so (a hint, never a grant).
                    let expected = ProbeHit {
                        attributed,
                        ..ProbeHit::default()
                    };
                    assert_eq!(hit, expected, "doc:{object} at {at}");
                    assert!(sets.is_empty(), "doc:{object} at {at}: {sets:?}");
                    // Carol has no tuple, and without the wildcard nothing
                    // with traits names her.
                    let hit = store
                        .probe(
                            "doc",
                            object,
                            "viewer",
                            Probe {
                                subject: Some(carol.borrowed()),
                                wildcard: None,
                                sets: false,
                                whole_object,
                                attributed,
                            },
                            at,
                            &mut |_| {},
                        )
                        .unwrap();
                    assert_eq!(hit, ProbeHit::default(), "carol, doc:{object} at {at}");
                }
            }
        }
        for subject in [&bob, &eng, &Subject::wildcard("user")] {
            assert!(store
                .objects_with_subject("doc", "viewer", subject, at)
                .unwrap()
                .is_empty());
        }
        assert_eq!(
            store
                .objects_with_subject("doc", "viewer", &Subject::object("user", "u7"), at)
                .unwrap(),
            ["big"]
        );

        // The attributed reads, forward and reverse.
        assert_eq!(
            sorted(attributed(store, "doc:1#viewer", at)),
            sorted(vec![office.clone(), expired.clone(), set.clone()])
        );
        // The same, in the same order, from a reader that has just read
        // the object whole (a store may answer from what it read).
        for object in ["1", "big", "2"] {
            let reader = store.snapshot(at).unwrap();
            let probe = Probe {
                subject: Some(bob.borrowed()),
                wildcard: None,
                sets: true,
                whole_object: true,
                attributed: true,
            };
            reader
                .probe("doc", object, "viewer", probe, &mut |_| {})
                .unwrap();
            let mut seen = Vec::new();
            reader
                .for_each_attributed("doc", object, "viewer", &mut |t| seen.push(t.clone()))
                .unwrap();
            assert_eq!(
                seen,
                attributed(store, &format!("doc:{object}#viewer"), at),
                "doc:{object} at {at}"
            );
            assert!(!seen.is_empty(), "doc:{object} at {at}");
        }
        assert_eq!(attributed(store, "doc:big#viewer", at).len(), 2);
        assert!(attributed(store, "doc:9#viewer", at).is_empty());
        assert!(attributed(store, "doc:1#nothing", at).is_empty());
        let mut bobs = vec![office.clone(), later.clone()];
        bobs.push(t("doc:big#viewer@user:bob").with_condition("office", Context::default()));
        assert_eq!(
            attributed_with_subject(store, "doc", "viewer", &bob, at),
            sorted(bobs)
        );
        assert_eq!(
            attributed_with_subject(store, "doc", "viewer", &eng, at),
            std::slice::from_ref(&set)
        );
        assert!(attributed_with_subject(
            store,
            "doc",
            "viewer",
            &Subject::object("user", "alice"),
            at
        )
        .is_empty());
        assert!(attributed_with_subject(store, "doc", "owner", &bob, at).is_empty());
    }
    assert_eq!(everything(store, r1).len(), written.len());
}

/// A reader at a revision keeps the condition it saw when the tuple is
/// replaced after it, and the reads at each revision see that revision's.
fn snapshots_keep_the_replaced_condition(store: &dyn Store) {
    let plain = t("doc:1#viewer@user:bob");
    let office = plain
        .clone()
        .with_condition("office", ctx(r#"{"cidr":"10.0.0.0/8"}"#));
    let elsewhere = plain
        .clone()
        .with_condition("office", ctx(r#"{"cidr":"172.16.0.0/12"}"#));
    let r1 = store.write(std::slice::from_ref(&office), &[]).unwrap();
    let reader = store.snapshot(r1).unwrap();
    let r2 = store.write(std::slice::from_ref(&elsewhere), &[]).unwrap();
    let mut seen = Vec::new();
    reader
        .for_each_attributed("doc", "1", "viewer", &mut |t| seen.push(t.clone()))
        .unwrap();
    reader
        .for_each_attributed_with_subject("doc", "viewer", &plain.subject, &mut |t| {
            seen.push(t.clone())
        })
        .unwrap();
    assert_eq!(seen, [office.clone(), office.clone()]);
    drop(reader);
    let r3 = store.write(std::slice::from_ref(&plain), &[]).unwrap();
    assert_eq!(
        attributed(store, "doc:1#viewer", r1),
        std::slice::from_ref(&office)
    );
    assert_eq!(
        attributed(store, "doc:1#viewer", r2),
        std::slice::from_ref(&elsewhere)
    );
    assert!(attributed(store, "doc:1#viewer", r3).is_empty());
    assert_eq!(everything(store, r1), [office]);
    assert_eq!(everything(store, r2), [elsewhere]);
    assert_eq!(everything(store, r3), std::slice::from_ref(&plain));
    assert!(subjects(store, "doc:1#viewer", r2).is_empty());
    assert_eq!(subjects(store, "doc:1#viewer", r3), ["user:bob"]);
}

/// Deletes, filters and preconditions go by key, whatever the condition.
fn deletes_go_by_key(store: &dyn Store) {
    let plain = t("doc:1#viewer@user:bob");
    let office = plain
        .clone()
        .with_condition("office", ctx(r#"{"cidr":"10.0.0.0/8"}"#));
    let expiring = t("doc:2#viewer@user:bob").with_expiry(Expiry::from_micros(10));
    let r1 = store
        .write(&[office.clone(), expiring.clone()], &[])
        .unwrap();
    let r2 = store.write(&[], std::slice::from_ref(&plain)).unwrap();
    // A delete naming another condition deletes it too.
    let other = t("doc:2#viewer@user:bob").with_condition("x", Context::default());
    let r3 = store.write(&[], &[other]).unwrap();
    assert_eq!(
        feed(store, r1),
        [(r2, '-', office.clone()), (r3, '-', expiring.clone())]
    );
    // Inserted and deleted by the same write: the insert stays.
    let r4 = store
        .write(std::slice::from_ref(&office), std::slice::from_ref(&plain))
        .unwrap();
    assert_eq!(everything(store, r4), std::slice::from_ref(&office));
    // Preconditions and filters match the key's fields.
    let r5 = store
        .apply(&ChangeSet {
            inserts: std::slice::from_ref(&expiring),
            preconditions: &[exists(exactly("doc:1#viewer@user:bob"))],
            ..ChangeSet::default()
        })
        .unwrap();
    let filter = TupleFilter {
        namespace: Some("doc".into()),
        subject: Some(Subject::object("user", "bob")),
        ..TupleFilter::default()
    };
    assert_eq!(
        store
            .list(&filter, &PageRequest::first(10), r5)
            .unwrap()
            .items
            .len(),
        2
    );
    let r6 = store.delete_matching(&filter).unwrap();
    assert!(everything(store, r6).is_empty());
    assert_eq!(
        sorted(feed(store, r5).into_iter().map(|(_, _, t)| t).collect()),
        sorted(vec![office, expiring])
    );
}

/// `gc_expired` deletes the live tuples whose expiry has passed, at most a
/// limit at a time, each round a write at a new revision in the feed;
/// without any it writes nothing.
fn gc_expired_deletes_what_has_expired(store: &dyn Store) {
    let now = Expiry::from_micros(1_000_000_000);
    let bob = |id: &str| t(&format!("doc:{id}#viewer@user:bob"));
    let long_ago = bob("a").with_expiry(Expiry::from_micros(5));
    let before = bob("b").with_expiry(Expiry::from_micros(999_999_999));
    let exactly_now = bob("c").with_expiry(now);
    let conditioned = bob("d")
        .with_condition("office", Context::default())
        .with_expiry(Expiry::from_micros(7));
    let after = bob("e").with_expiry(Expiry::from_micros(1_000_000_001));
    let plain = bob("f");
    let only_condition = bob("g").with_condition("office", Context::default());
    let start = store.head_revision().unwrap();
    assert_eq!(store.gc_expired(now, 10).unwrap(), 0);
    assert_eq!(store.head_revision().unwrap(), start);
    let written = vec![
        long_ago.clone(),
        before.clone(),
        exactly_now.clone(),
        conditioned.clone(),
        after.clone(),
        plain.clone(),
        only_condition.clone(),
    ];
    let r1 = store.write(&written, &[]).unwrap();
    // Every read still returns expired tuples: the engine judges them.
    assert_eq!(
        attributed_with_subject(store, "doc", "viewer", &Subject::object("user", "bob"), r1).len(),
        6
    );
    assert_eq!(store.gc_expired(now, 3).unwrap(), 3);
    let r2 = store.head_revision().unwrap();
    assert_eq!(r2, Revision(r1.0 + 1));
    assert_eq!(store.gc_expired(now, 3).unwrap(), 1);
    let r3 = store.head_revision().unwrap();
    assert_eq!(r3, Revision(r2.0 + 1));
    assert_eq!(store.gc_expired(now, 3).unwrap(), 0);
    assert_eq!(store.head_revision().unwrap(), r3);
    assert_eq!(
        everything(store, r3),
        sorted(vec![after.clone(), plain.clone(), only_condition.clone()])
    );
    let fed = feed(store, r1);
    assert!(fed.iter().all(|(_, sign, _)| *sign == '-'), "{fed:?}");
    assert_eq!(
        fed.iter().filter(|(rev, _, _)| *rev == r2).count(),
        3,
        "{fed:?}"
    );
    assert_eq!(
        sorted(fed.into_iter().map(|(_, _, t)| t).collect()),
        sorted(vec![long_ago, before, exactly_now, conditioned])
    );
    assert!(attributed(store, "doc:a#viewer", r3).is_empty());
    // The older snapshot still has them.
    assert_eq!(everything(store, r1), sorted(written));
    // Later, the last expiring one goes too.
    assert_eq!(
        store
            .gc_expired(Expiry::from_micros(2_000_000_000), 100)
            .unwrap(),
        1
    );
    let head = store.head_revision().unwrap();
    assert_eq!(everything(store, head), sorted(vec![plain, only_condition]));
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&zanzi::store::MemoryStore::new()); })*
        }
        mod sqlite {
            $(#[test] fn $name() { super::$name(&zanzi::store::SqliteStore::open_in_memory().unwrap()); })*
        }
        mod cached {
            $(#[test] fn $name() {
                let durable = zanzi::store::SqliteStore::open_in_memory().unwrap();
                super::$name(&zanzi::store::CachedStore::new(durable).unwrap());
            })*
        }
        /// A real server: a fresh database of the test cluster per test.
        mod postgres {
            $(#[test] fn $name() { super::$name(&super::support::postgres::store()); })*
        }
        /// PostgreSQL read through the bounded, feed-maintained cache.
        mod postgres_cached {
            $(#[test] fn $name() {
                let durable = super::support::postgres::store();
                super::$name(&zanzi::store::ObjectCache::new(durable, 64 << 20).unwrap());
            })*
        }
        /// PostgreSQL read through the full mirror that follows the feed.
        mod postgres_mirror {
            $(#[test] fn $name() {
                let durable = super::support::postgres::store();
                super::$name(&zanzi::store::MirrorStore::new(durable).unwrap());
            })*
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
    gc_keeps_reads_from_the_horizon_on,
    filters_by_an_id_in_several_namespaces,
    probes_small_and_large_relations,
    readers_keep_their_revision,
    keeps_one_schema,
    imports_in_batches_and_skips_live_tuples,
    the_feed_lists_every_change_in_commit_order,
    the_feed_ends_at_the_horizon,
    a_follower_sees_writes_as_they_come,
    preconditions_must_exist_and_must_not_exist,
    a_failed_precondition_writes_nothing,
    preconditions_match_by_partial_fields,
    preconditions_see_only_live_tuples,
    compare_and_set_has_one_winner,
    history_chains_follow_the_writes,
    keeps_the_secret_fingerprint,
    conditions_and_expiries_round_trip,
    a_different_condition_replaces_the_tuple,
    plain_reads_exclude_attributed_tuples,
    snapshots_keep_the_replaced_condition,
    deletes_go_by_key,
    gc_expired_deletes_what_has_expired,
);

/// A database written before revisions kept their chain: its head at the
/// upgrade is seeded from the store id and the head, the revisions before
/// it have none, and writes chain on from the seed.
#[test]
fn sqlite_seeds_the_chain_of_an_older_database_at_its_head() {
    use zanzi::store::history::{next, seed};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let id = {
        let store = SqliteStore::open(&path).unwrap();
        store.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
        store.write(&[t("doc:1#viewer@user:bob")], &[]).unwrap();
        store.store_id().unwrap()
    };
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE revisions SET chain = NULL", [])
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let seeded = seed(&id, Revision(2));
    assert_eq!(store.history_chain(Revision(2)).unwrap(), Some(seeded));
    assert_eq!(store.history_chain(Revision(1)).unwrap(), None);
    let r3 = store.write(&[], &[t("doc:1#viewer@user:bob")]).unwrap();
    let c3 = next(&seeded, r3, &[t("doc:1#viewer@user:bob")], &[]);
    assert_eq!(store.history_chain(r3).unwrap(), Some(c3));
    // The seed is kept now that the head moved on.
    assert_eq!(store.history_chain(Revision(2)).unwrap(), Some(seeded));
}

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

/// What the plain reads of `doc:1#viewer` see for bob, whose only tuple
/// there has a condition: never bob.
fn assert_bob_unseen(store: &dyn TupleStore, at: Revision) {
    assert_eq!(
        subjects(store, "doc:1#viewer", at),
        ["user:alice"],
        "at {at}"
    );
    let bob = t("doc:1#viewer@user:bob");
    assert!(!store.contains(&bob, at).unwrap(), "at {at}");
    for whole_object in [false, true] {
        let hit = store
            .probe(
                "doc",
                "1",
                "viewer",
                Probe {
                    subject: Some(bob.subject.borrowed()),
                    wildcard: None,
                    sets: true,
                    whole_object,
                    attributed: false,
                },
                at,
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(hit, ProbeHit::default(), "at {at}");
    }
    assert!(store
        .objects_with_subject("doc", "viewer", &bob.subject, at)
        .unwrap()
        .is_empty());
}

/// SQLite reads a relation without the test for traits only while it has
/// never held a tuple with one: a relation another connection gives one
/// is read with the test from the next snapshot on, at every revision.
#[test]
fn sqlite_filters_a_relation_once_another_connection_gives_it_a_condition() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuples.db");
    let reader = SqliteStore::open(&path).unwrap();
    let r1 = reader.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    // Read once, so that the reader knows the relation as plain.
    assert_eq!(subjects(&reader, "doc:1#viewer", r1), ["user:alice"]);
    let writer = SqliteStore::open(&path).unwrap();
    let office = t("doc:1#viewer@user:bob").with_condition("office", ctx(r#"{"n":1}"#));
    let r2 = writer.write(&[office], &[]).unwrap();
    let r3 = writer.write(&[t("doc:2#viewer@user:carol")], &[]).unwrap();
    for at in [r2, r3] {
        assert_bob_unseen(&reader, at);
    }
}

/// Migration 0007 lists the relations that already hold tuples with traits.
#[test]
fn sqlite_migration_lists_the_relations_with_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuples.db");
    let head = {
        let store = SqliteStore::open(&path).unwrap();
        let office = t("doc:1#viewer@user:bob").with_condition("office", ctx(r#"{"n":1}"#));
        store
            .write(&[t("doc:1#viewer@user:alice"), office], &[])
            .unwrap()
    };
    let status = zanzi::store::sqlite::migrate_down(&path, 6, false).unwrap();
    assert_eq!(status.current, 6);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.migration_status().unwrap().pending.len(), 0);
    assert_bob_unseen(&store, head);
}

#[test]
fn the_cached_store_reloads_every_version_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuples.db");
    let a = t("doc:1#viewer@user:alice");
    let b = t("doc:1#viewer@user:bob");
    let (r1, r2) = {
        let store = zanzi::store::CachedStore::new(SqliteStore::open(&path).unwrap()).unwrap();
        let r1 = store.write(&[a.clone(), b.clone()], &[]).unwrap();
        let r2 = store.write(&[], std::slice::from_ref(&a)).unwrap();
        (r1, r2)
    };
    let store = zanzi::store::CachedStore::new(SqliteStore::open(&path).unwrap()).unwrap();
    assert_eq!(store.head_revision().unwrap(), r2);
    assert_eq!(
        subjects(&store, "doc:1#viewer", r1),
        vec!["user:alice", "user:bob"]
    );
    assert_eq!(subjects(&store, "doc:1#viewer", r2), vec!["user:bob"]);
    let r3 = store.write(std::slice::from_ref(&a), &[]).unwrap();
    assert!(r3 > r2);
    assert!(store.contains(&a, r3).unwrap());
    assert!(store.durable().contains(&a, r3).unwrap());
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

#[test]
fn sqlite_stores_one_schema_with_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.db");
    let compile = |src: &str| zanzi::compile_source("s.zanzi", src).1.schema.unwrap();
    let first = compile("namespace user {} namespace doc { relation viewer: user }");
    let second =
        compile("namespace user {} namespace doc { relation viewer: user relation owner: user }");
    {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.load_schema().unwrap(), None);
        assert_eq!(store.schema_hash().unwrap(), None);
        assert!(store.save_schema(&first).unwrap());
        assert!(!store.save_schema(&first).unwrap(), "the same schema again");
        assert!(
            store.save_schema(&second).unwrap(),
            "a new schema replaces it"
        );
        store.write(&[t("doc:1#owner@user:alice")], &[]).unwrap();
    }
    let store = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(store.schema_hash().unwrap(), Some(second.hash.clone()));
    let loaded = store.load_schema().unwrap().unwrap();
    assert_eq!(loaded.hash, second.hash);
    assert!(loaded
        .relation_id(loaded.namespace_id("doc").unwrap(), "owner")
        .is_some());
    assert_eq!(store.live_count().unwrap(), 1);
    let rev = store.write(&[], &[t("doc:1#owner@user:alice")]).unwrap();
    assert_eq!(store.deleted_at(rev).unwrap(), 1);
    assert_eq!(store.live_count().unwrap(), 0);
}

#[test]
fn sqlite_knows_which_revision_was_the_head_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.db");
    let store = SqliteStore::open(&path).unwrap();
    let now = || {
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap()
    };
    assert_eq!(store.revision_as_of(now() + 60_000).unwrap(), None);
    let r1 = store.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    let r2 = store.write(&[t("doc:1#viewer@user:bob")], &[]).unwrap();
    assert_eq!(store.revision_as_of(now() + 60_000).unwrap(), Some(r2));
    assert_eq!(store.revision_as_of(now() - 3_600_000).unwrap(), None);
    drop(store);
    // Age the first commit by two hours: it was the head an hour ago.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE revisions SET committed_at = committed_at - 7200000 WHERE rev = ?1",
        [i64::try_from(r1.0).unwrap()],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.revision_as_of(now() - 3_600_000).unwrap(), Some(r1));
    assert_eq!(store.revision_as_of(now()).unwrap(), Some(r2));
    // A store in memory keeps no commit times.
    let memory = MemoryStore::new();
    memory.write(&[t("doc:1#viewer@user:alice")], &[]).unwrap();
    assert_eq!(memory.revision_as_of(now() + 60_000).unwrap(), None);
}

/// The layout of a database written by zanzi before the live/history split:
/// migrations 0001_tuples, 0002_schema and 0003_meta exactly as they shipped.
const LAYOUT_V3: &str = "
    CREATE TABLE strings (
        id    INTEGER PRIMARY KEY,
        value TEXT NOT NULL UNIQUE
    );
    CREATE TABLE revisions (
        rev          INTEGER PRIMARY KEY,
        committed_at INTEGER NOT NULL
    );
    CREATE TABLE tuples (
        id          INTEGER PRIMARY KEY,
        ns          INTEGER NOT NULL,
        obj         INTEGER NOT NULL,
        rel         INTEGER NOT NULL,
        s_ns        INTEGER NOT NULL,
        s_obj       INTEGER NOT NULL,
        s_rel       INTEGER NOT NULL,
        created_rev INTEGER NOT NULL,
        deleted_rev INTEGER
    );
    CREATE UNIQUE INDEX tuples_live
        ON tuples (ns, obj, rel, s_rel, s_ns, s_obj) WHERE deleted_rev IS NULL;
    CREATE INDEX tuples_history
        ON tuples (ns, obj, rel, s_rel, s_ns, s_obj, created_rev, deleted_rev)
        WHERE deleted_rev IS NOT NULL;
    CREATE INDEX tuples_reverse
        ON tuples (s_ns, s_obj, s_rel, ns, rel, obj, created_rev, deleted_rev);
    CREATE TABLE schema (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        hash     TEXT NOT NULL,
        ir       TEXT NOT NULL,
        saved_at INTEGER NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    PRAGMA user_version = 3;";

/// A database at layout version 3 (one `tuples` table, the schema, the
/// meta table) migrates to the live/history layout on opening, keeping
/// every tuple version at its revisions, the store id, the collection
/// horizon, the commit times and the schema.
#[test]
fn a_version_3_database_migrates_to_live_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    let (_, compiled) = zanzi::compile_source(
        "s.zanzi",
        "namespace user {}
         namespace group { relation member: user }
         namespace doc { relation viewer: user | user:* | group#member }",
    );
    let schema = compiled.schema.unwrap();
    let store_id = "0123456789abcdef0123456789abcdef";
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(LAYOUT_V3).unwrap();
        conn.execute_batch(
            "INSERT INTO strings (id, value) VALUES
                (1, 'doc'), (2, 'readme'), (3, 'viewer'), (4, 'user'), (5, 'alice'),
                (6, 'bob'), (7, 'carol'), (8, 'group'), (9, 'eng'), (10, 'member'),
                (11, 'faq');
             INSERT INTO revisions (rev, committed_at) VALUES
                (1, 1000), (2, 2000), (3, 3000), (4, 4000), (5, 5000);
             INSERT INTO tuples (ns, obj, rel, s_ns, s_obj, s_rel, created_rev, deleted_rev)
             VALUES
                -- doc:readme#viewer@user:alice, live since 1
                (1, 2, 3, 4, 5, 0, 1, NULL),
                -- doc:readme#viewer@user:bob, from 1 until deleted at 3
                (1, 2, 3, 4, 6, 0, 1, 3),
                -- doc:readme#viewer@group:eng#member, live since 2
                (1, 2, 3, 8, 9, 10, 2, NULL),
                -- group:eng#member@user:carol: from 2 until 4, again from 5
                (8, 9, 10, 4, 7, 0, 2, 4),
                (8, 9, 10, 4, 7, 0, 5, NULL),
                -- doc:faq#viewer@user:* (a wildcard), from 3 until 5
                (1, 11, 3, 4, 0, 0, 3, 5);
             INSERT INTO meta (key, value) VALUES
                ('store_id', '0123456789abcdef0123456789abcdef'), ('gc_horizon', '1');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO schema (id, hash, ir, saved_at) VALUES (1, ?1, ?2, 0)",
            [schema.hash.clone(), schema.to_json()],
        )
        .unwrap();
    }
    let before = zanzi::store::sqlite::migration_status(&path).unwrap();
    assert_eq!((before.current, before.pending.len()), (3, 4));
    assert!(matches!(
        SqliteStore::open_existing(&path),
        Err(StoreError::NeedsMigration { found: 3, .. })
    ));

    let store = SqliteStore::open(&path).unwrap();
    let status = store.migration_status().unwrap();
    assert_eq!(status.current, 7);
    assert_eq!(status.current, status.latest);
    assert_eq!(
        status.applied,
        [
            "0001_tuples",
            "0002_schema",
            "0003_meta",
            "0004_live_history",
            "0005_history_chain",
            "0006_conditions",
            "0007_attributed_relations"
        ]
    );
    assert!(status.pending.is_empty());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            tables,
            [
                "attributed_relations",
                "history",
                "live",
                "meta",
                "revisions",
                "schema",
                "strings"
            ]
        );
    }

    // Store-wide settings and the schema are kept.
    assert_eq!(store.store_id().unwrap(), store_id);
    assert_eq!(store.gc_horizon().unwrap(), Revision(1));
    assert_eq!(store.head_revision().unwrap(), Revision(5));
    assert_eq!(store.revision_as_of(3_500).unwrap(), Some(Revision(3)));
    assert_eq!(store.revision_as_of(500).unwrap(), None);
    assert_eq!(store.schema_hash().unwrap(), Some(schema.hash.clone()));
    assert_eq!(store.load_schema().unwrap().unwrap().hash, schema.hash);
    assert_eq!(store.live_count().unwrap(), 3);
    for rev in 3..=5 {
        assert_eq!(store.deleted_at(Revision(rev)).unwrap(), 1, "at {rev}");
    }

    // Every version at the right revisions, through every read.
    let check_reads = |store: &dyn TupleStore| {
        let readme = |rev| subjects(store, "doc:readme#viewer", Revision(rev));
        assert_eq!(readme(1), ["user:alice", "user:bob"]);
        assert_eq!(readme(2), ["user:alice", "user:bob", "group:eng#member"]);
        for rev in 3..=5 {
            assert_eq!(readme(rev), ["user:alice", "group:eng#member"]);
        }
        let members: Vec<Vec<String>> = (1..=5)
            .map(|rev| subjects(store, "group:eng#member", Revision(rev)))
            .collect();
        assert_eq!(
            members,
            [
                vec![],
                vec!["user:carol"],
                vec!["user:carol"],
                vec![],
                vec!["user:carol"]
            ]
        );
        let faq: Vec<Vec<String>> = (1..=5)
            .map(|rev| subjects(store, "doc:faq#viewer", Revision(rev)))
            .collect();
        assert_eq!(
            faq,
            [vec![], vec![], vec!["user:*"], vec!["user:*"], vec![]]
        );
        let carol = t("group:eng#member@user:carol");
        let carol_at: Vec<bool> = (1..=5)
            .map(|rev| store.contains(&carol, Revision(rev)).unwrap())
            .collect();
        assert_eq!(carol_at, [false, true, true, false, true]);
        let bob = Subject::object("user", "bob");
        assert_eq!(
            store
                .objects_with_subject("doc", "viewer", &bob, Revision(2))
                .unwrap(),
            ["readme"]
        );
        assert!(store
            .objects_with_subject("doc", "viewer", &bob, Revision(3))
            .unwrap()
            .is_empty());
        assert!(matches!(
            store.contains(&carol, Revision(0)),
            Err(StoreError::RevisionCollected { .. })
        ));
    };
    check_reads(&store);

    // Listings, a tuple a page, in the order of writing.
    let listed = |rev| {
        let mut out = Vec::new();
        let mut page = PageRequest::first(1);
        loop {
            let got = store
                .list(&TupleFilter::default(), &page, Revision(rev))
                .unwrap();
            out.extend(got.items.iter().map(ToString::to_string));
            match got.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => return out,
            }
        }
    };
    assert_eq!(
        listed(3),
        [
            "doc:readme#viewer@user:alice",
            "doc:readme#viewer@group:eng#member",
            "group:eng#member@user:carol",
            "doc:faq#viewer@user:*",
        ]
    );
    assert_eq!(
        listed(5),
        [
            "doc:readme#viewer@user:alice",
            "doc:readme#viewer@group:eng#member",
            "group:eng#member@user:carol",
        ]
    );

    // Every version goes into the in-memory mirror, which answers the same.
    assert_eq!(store.versions().unwrap().len(), 6);
    drop(store);
    let cached = zanzi::store::CachedStore::new(SqliteStore::open(&path).unwrap()).unwrap();
    check_reads(&cached);
    assert_eq!(cached.store_id().unwrap(), store_id);
    drop(cached);

    // Writes carry on from the head; collection works on the new layout.
    let store = SqliteStore::open_existing(&path).unwrap();
    let r6 = store.write(&[t("doc:faq#viewer@user:bob")], &[]).unwrap();
    assert_eq!(r6, Revision(6));
    assert_eq!(store.gc(Revision(4)).unwrap(), 2);
    assert_eq!(store.gc_horizon().unwrap(), Revision(4));
    assert_eq!(subjects(&store, "doc:faq#viewer", Revision(4)), ["user:*"]);
    assert_eq!(subjects(&store, "doc:faq#viewer", r6), ["user:bob"]);
    assert!(matches!(
        store.subjects("doc", "readme", "viewer", SubjectKind::All, Revision(3)),
        Err(StoreError::RevisionCollected { .. })
    ));
    drop(store);
    let store = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(store.gc_horizon().unwrap(), Revision(4));
    assert_eq!(store.store_id().unwrap(), store_id);
}

#[test]
fn sqlite_gc_collects_a_long_history_in_windows_and_keeps_what_is_newer() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("z.db")).unwrap();
    // 10,000 versions (several collection windows), deleted in two waves
    // around the collection point, with live tuples among them.
    let tuples: Vec<Tuple> = (0..10_000)
        .map(|i| t(&format!("doc:{i}#viewer@user:u{i}")))
        .collect();
    store.write(&tuples, &[]).unwrap();
    let early: Vec<Tuple> = tuples.iter().step_by(2).cloned().collect();
    let before = store.write(&[], &early).unwrap();
    let late: Vec<Tuple> = tuples.iter().skip(1).step_by(4).cloned().collect();
    let after = store.write(&[], &late).unwrap();
    assert_eq!(store.gc(before).unwrap(), 5_000);
    // The later deletes are history still readable from the horizon on.
    assert_eq!(store.gc_horizon().unwrap(), before);
    assert!(store.contains(&tuples[1], before).unwrap());
    assert!(!store.contains(&tuples[1], after).unwrap());
    assert!(store.contains(&tuples[3], after).unwrap());
    let live = store
        .list(&TupleFilter::default(), &PageRequest::first(100_000), after)
        .unwrap();
    assert_eq!(live.items.len(), 2_500);
    assert_eq!(store.gc(after).unwrap(), 2_500);
    assert_eq!(
        store
            .list(&TupleFilter::default(), &PageRequest::first(100_000), after)
            .unwrap()
            .items,
        live.items
    );
}

/// Another application's SQLite file is refused, not extended with zanzi's
/// tables: nothing is written to it.
#[test]
fn sqlite_refuses_another_applications_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE users (id INTEGER)")
        .unwrap();
    drop(conn);
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&error, StoreError::NotZanzi { tables } if tables == "users"),
        "{error}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
    // An empty file is a new database, as before.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(SqliteStore::open(&empty).is_ok());
}

// ---------------------------------------------------------------------------
// Random change sets with random preconditions, on every store and on a
// naive model: the same outcome (written, or which precondition failed) and
// the same live tuples after every step.

mod random_change_sets {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use zanzi::store::{
        ChangeSet, MemoryStore, PageRequest, Precondition, StoreError, TupleFilter, TupleStore,
    };
    use zanzi::tuple::{Context, Expiry, Object, Subject, Tuple};

    const NAMESPACES: [&str; 2] = ["doc", "folder"];
    const IDS: [&str; 2] = ["1", "2"];
    const RELATIONS: [&str; 2] = ["viewer", "editor"];

    fn subject_of(n: u8) -> Subject {
        match n % 4 {
            0 => Subject::object("user", "a"),
            1 => Subject::object("user", "b"),
            2 => Subject::wildcard("user"),
            _ => Subject::set("group", "g", "member"),
        }
    }

    /// Half plain; the others with one of two contexts of a condition,
    /// one of two expiries, or both.
    fn with_attributes(tuple: Tuple, n: u8) -> Tuple {
        let condition = |tuple: Tuple| {
            let context = Context::parse(&format!(r#"{{"n":{}}}"#, n / 8 % 2)).unwrap();
            tuple.with_condition("c", context)
        };
        let expiry = |tuple: Tuple| tuple.with_expiry(Expiry::from_micros(i64::from(n / 16 % 2)));
        match n % 6 {
            3 => condition(tuple),
            4 => expiry(tuple),
            5 => expiry(condition(tuple)),
            _ => tuple,
        }
    }

    fn tuple() -> impl Strategy<Value = Tuple> {
        (0..2usize, 0..2usize, 0..2usize, any::<u8>(), any::<u8>()).prop_map(|(n, i, r, s, a)| {
            let tuple = Tuple::new(
                Object::new(NAMESPACES[n], IDS[i]),
                RELATIONS[r],
                subject_of(s),
            );
            with_attributes(tuple, a)
        })
    }

    fn filter() -> impl Strategy<Value = TupleFilter> {
        (
            proptest::option::of(0..2usize),
            proptest::option::of(0..2usize),
            proptest::option::of(0..2usize),
            proptest::option::weighted(0.4, any::<u8>()),
        )
            .prop_map(|(n, i, r, s)| TupleFilter {
                namespace: n.map(|n| NAMESPACES[n].to_owned()),
                object_id: i.map(|i| IDS[i].to_owned()),
                relation: r.map(|r| RELATIONS[r].to_owned()),
                subject: s.map(subject_of),
                subject_object_in: None,
            })
    }

    fn precondition() -> impl Strategy<Value = Precondition> {
        (any::<bool>(), filter()).prop_map(|(must, filter)| {
            if must {
                Precondition::must_exist(filter)
            } else {
                Precondition::must_not_exist(filter)
            }
        })
    }

    #[derive(Clone, Debug)]
    struct Step {
        inserts: Vec<Tuple>,
        deletes: Vec<Tuple>,
        delete_matching: Option<TupleFilter>,
        preconditions: Vec<Precondition>,
    }

    fn step() -> impl Strategy<Value = Step> {
        (
            proptest::collection::vec(tuple(), 0..4),
            proptest::collection::vec(tuple(), 0..3),
            proptest::option::weighted(0.2, filter()),
            proptest::collection::vec(precondition(), 0..3),
        )
            .prop_map(|(inserts, deletes, delete_matching, preconditions)| Step {
                inserts,
                deletes,
                delete_matching,
                preconditions,
            })
    }

    /// Why the model refuses a step.
    #[derive(Debug, PartialEq)]
    enum Refused {
        /// Precondition `i` failed.
        Precondition(usize),
        /// The inserts hold a key twice with different attributes.
        Conflict,
    }

    /// The model: the live tuples by key (one each).
    fn model_apply(live: &mut BTreeMap<Tuple, Tuple>, step: &Step) -> Result<(), Refused> {
        let mut inserted: BTreeMap<Tuple, &Tuple> = BTreeMap::new();
        for t in &step.inserts {
            if inserted
                .insert(t.key(), t)
                .is_some_and(|earlier| earlier != t)
            {
                return Err(Refused::Conflict);
            }
        }
        for (i, p) in step.preconditions.iter().enumerate() {
            if !p.holds(live.values().any(|t| p.filter.matches(t))) {
                return Err(Refused::Precondition(i));
            }
        }
        if let Some(filter) = &step.delete_matching {
            live.retain(|_, t| !filter.matches(t));
        }
        for t in &step.deletes {
            if !inserted.contains_key(&t.key()) {
                live.remove(&t.key());
            }
        }
        for t in &step.inserts {
            live.insert(t.key(), t.clone());
        }
        Ok(())
    }

    fn listed(store: &dyn TupleStore) -> BTreeSet<Tuple> {
        let head = store.head_revision().unwrap();
        store
            .snapshot(head)
            .unwrap()
            .list(&TupleFilter::default(), &PageRequest::first(1000))
            .unwrap()
            .items
            .into_iter()
            .collect()
    }

    /// Runs `steps` on `store` and on the model; after each, the store
    /// lists what the model holds, its plain and attributed reads tell the
    /// tuples apart, and a memory store that follows its change feed holds
    /// the same.
    fn run(store: &dyn TupleStore, steps: &[Step]) -> Result<(), TestCaseError> {
        let mut live = BTreeMap::new();
        let follower = MemoryStore::new();
        for (n, step) in steps.iter().enumerate() {
            let expected = model_apply(&mut live, step);
            let got = store.apply(&ChangeSet {
                inserts: &step.inserts,
                deletes: &step.deletes,
                delete_matching: step.delete_matching.as_ref(),
                preconditions: &step.preconditions,
            });
            let got = match got {
                Ok(_) => Ok(()),
                Err(StoreError::PreconditionFailed { index, .. }) => {
                    Err(Refused::Precondition(index))
                }
                Err(StoreError::InvalidTuple { .. }) => Err(Refused::Conflict),
                Err(other) => return Err(TestCaseError::fail(format!("step {n}: {other}"))),
            };
            prop_assert_eq!(got, expected, "step {}: {:?}", n, step);
            let model: BTreeSet<Tuple> = live.values().cloned().collect();
            prop_assert_eq!(&listed(store), &model, "step {}: {:?}", n, step);
            let head = store.head_revision().unwrap();
            let reader = store.snapshot(head).unwrap();
            for tuple in &model {
                prop_assert_eq!(reader.contains(&tuple.key()).unwrap(), tuple.is_plain());
                let mut attributed = Vec::new();
                reader
                    .for_each_attributed(
                        &tuple.object.namespace,
                        &tuple.object.id,
                        &tuple.relation,
                        &mut |t| attributed.push(t.clone()),
                    )
                    .unwrap();
                prop_assert_eq!(attributed.contains(tuple), !tuple.is_plain());
            }
            drop(reader);
            let changes = store
                .changes_since(follower.head_revision().unwrap(), 10_000)
                .unwrap();
            follower.apply_changes(&changes).unwrap();
            prop_assert_eq!(&listed(&follower), &model, "the feed, step {}", n);
        }
        Ok(())
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(step(), 1..10)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn every_embedded_store_agrees_with_the_model(steps in steps()) {
            run(&zanzi::store::MemoryStore::new(), &steps)?;
            run(&zanzi::store::SqliteStore::open_in_memory().unwrap(), &steps)?;
            let durable = zanzi::store::SqliteStore::open_in_memory().unwrap();
            run(&zanzi::store::CachedStore::new(durable).unwrap(), &steps)?;
        }
    }

    proptest! {
        // Fewer on PostgreSQL: every case is a new database.
        #![proptest_config(ProptestConfig {
            cases: 24,
            max_shrink_iters: 100,
            ..ProptestConfig::default()
        })]

        #[test]
        fn postgres_agrees_with_the_model(steps in steps()) {
            run(&super::support::postgres::store(), &steps)?;
        }
    }
}
