//! Every read of the embedded stores, at every revision of a random history
//! and again after garbage collection, against a naive model: the live
//! tuples of each revision as a plain set, every read answered by filtering
//! it. The stores keep their own layouts (the memory store interns names and
//! splits a relation's subject sets into a row of their own; SQLite reads
//! objects whole); this test holds them all to the same answers, old
//! revisions, wildcards and subject sets included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use zanzi::store::{
    CachedStore, ChangeSet, MemoryStore, Probe, Reader, Revision, SqliteStore, Store, SubjectKind,
};
use zanzi::tuple::{Context, Expiry, Object, Subject, Tuple};

const NAMESPACES: [&str; 2] = ["doc", "group"];
const IDS: [&str; 3] = ["1", "2", "*"];
const RELATIONS: [&str; 2] = ["viewer", "member"];

/// Object subjects, the wildcard, the object `user:*` (not the wildcard)
/// and subject sets.
fn subjects() -> Vec<Subject> {
    vec![
        Subject::object("user", "a"),
        Subject::object("user", "b"),
        Subject::object("user", "*"),
        Subject::wildcard("user"),
        Subject::object("group", "1"),
        Subject::set("group", "1", "member"),
        Subject::set("group", "2", "member"),
        Subject::set("doc", "1", "viewer"),
    ]
}

fn tuple() -> impl Strategy<Value = Tuple> {
    (0..2usize, 0..3usize, 0..2usize, 0..8usize, 0..8u8).prop_map(|(n, i, r, s, a)| {
        let subject = subjects().swap_remove(s);
        let tuple = Tuple::new(Object::new(NAMESPACES[n], IDS[i]), RELATIONS[r], subject);
        match a {
            0 => tuple.with_condition("c", Context::parse(r#"{"n":1}"#).unwrap()),
            1 => tuple.with_expiry(Expiry::from_micros(5)),
            _ => tuple,
        }
    })
}

#[derive(Clone, Debug)]
struct Step {
    inserts: Vec<Tuple>,
    deletes: Vec<Tuple>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (
        proptest::collection::vec(tuple(), 0..5),
        proptest::collection::vec(tuple(), 0..3),
    )
        .prop_map(|(inserts, deletes)| {
            // One tuple per key among the inserts (a key twice with other
            // attributes is refused, which other tests cover).
            let mut seen = BTreeSet::new();
            let inserts = inserts
                .into_iter()
                .filter(|t| seen.insert(t.key()))
                .collect();
            Step { inserts, deletes }
        });
    proptest::collection::vec(step, 1..8)
}

/// The live tuples after each step, by revision; a delete goes by key and
/// an insert replaces its key's tuple.
fn model(steps: &[Step]) -> Vec<BTreeSet<Tuple>> {
    let mut states = vec![BTreeSet::new()];
    let mut live: BTreeSet<Tuple> = BTreeSet::new();
    for step in steps {
        let inserted: BTreeSet<Tuple> = step.inserts.iter().map(Tuple::key).collect();
        for t in &step.deletes {
            if !inserted.contains(&t.key()) {
                live.retain(|l| l.key() != t.key());
            }
        }
        for t in &step.inserts {
            live.retain(|l| l.key() != t.key());
            live.insert(t.clone());
        }
        states.push(live.clone());
    }
    states
}

fn sorted<T: Ord>(items: Vec<T>) -> Vec<T> {
    let mut items = items;
    items.sort();
    items
}

/// Every read of `reader` against the tuples `live` of its revision.
fn check_reads(reader: &dyn Reader, live: &BTreeSet<Tuple>) -> Result<(), TestCaseError> {
    let plain: Vec<&Tuple> = live.iter().filter(|t| t.is_plain()).collect();
    let traited: Vec<&Tuple> = live.iter().filter(|t| !t.is_plain()).collect();
    for namespace in NAMESPACES {
        for id in IDS {
            for relation in RELATIONS {
                let here = |t: &&&Tuple| {
                    t.object.namespace == namespace && t.object.id == id && t.relation == relation
                };
                let row: Vec<&Tuple> = plain.iter().filter(here).copied().collect();
                for kind in [SubjectKind::All, SubjectKind::Objects, SubjectKind::Sets] {
                    let expected: Vec<Subject> = row
                        .iter()
                        .map(|t| t.subject.clone())
                        .filter(|s| kind.matches(s))
                        .collect();
                    let got = reader.subjects(namespace, id, relation, kind).unwrap();
                    prop_assert_eq!(
                        sorted(got),
                        sorted(expected),
                        "{}:{}#{} {:?}",
                        namespace,
                        id,
                        relation,
                        kind
                    );
                }
                let sets: Vec<String> = row
                    .iter()
                    .filter(|t| matches!(t.subject, Subject::Set { .. }))
                    .map(|t| t.subject.to_string())
                    .collect();
                for subject in subjects() {
                    let stored = |s: &Subject| row.iter().any(|t| t.subject == *s);
                    let wildcard = Subject::wildcard("user");
                    let mut visited = Vec::new();
                    let hit = reader
                        .probe(
                            namespace,
                            id,
                            relation,
                            Probe {
                                subject: Some(subject.borrowed()),
                                wildcard: Some("user"),
                                sets: true,
                                whole_object: false,
                                attributed: false,
                            },
                            &mut |s| visited.push(s.to_subject().to_string()),
                        )
                        .unwrap();
                    let what = format!("probe {namespace}:{id}#{relation}@{subject}");
                    prop_assert_eq!(hit.subject, stored(&subject), "{}", what);
                    prop_assert_eq!(hit.wildcard, stored(&wildcard), "{}", what);
                    if !hit.subject && !hit.wildcard {
                        prop_assert_eq!(sorted(visited), sorted(sets.clone()), "{}", what);
                    }
                    let tuple = Tuple::new(Object::new(namespace, id), relation, subject.clone());
                    prop_assert_eq!(
                        reader.contains(&tuple).unwrap(),
                        stored(&subject),
                        "contains {}",
                        tuple
                    );
                }
                let mut got = Vec::new();
                reader
                    .for_each_attributed(namespace, id, relation, &mut |t| got.push(t.clone()))
                    .unwrap();
                let expected: Vec<Tuple> =
                    traited.iter().filter(here).map(|t| (*t).clone()).collect();
                prop_assert_eq!(
                    sorted(got),
                    sorted(expected),
                    "attributed of {}:{}#{}",
                    namespace,
                    id,
                    relation
                );
            }
        }
    }
    for namespace in NAMESPACES {
        for relation in RELATIONS {
            for subject in subjects() {
                let matches = |t: &&&Tuple| {
                    t.object.namespace == namespace
                        && t.relation == relation
                        && t.subject == subject
                };
                let mut got = Vec::new();
                reader
                    .for_each_object_with_subject(namespace, relation, &subject, &mut |id| {
                        got.push(id.to_owned());
                    })
                    .unwrap();
                let expected: Vec<String> = plain
                    .iter()
                    .filter(matches)
                    .map(|t| t.object.id.clone())
                    .collect();
                prop_assert_eq!(
                    sorted(got),
                    sorted(expected),
                    "objects of {}#{}@{}",
                    namespace,
                    relation,
                    subject
                );
                let mut got = Vec::new();
                reader
                    .for_each_attributed_with_subject(namespace, relation, &subject, &mut |t| {
                        got.push(t.clone());
                    })
                    .unwrap();
                let expected: Vec<Tuple> = traited
                    .iter()
                    .filter(matches)
                    .map(|t| (*t).clone())
                    .collect();
                prop_assert_eq!(
                    sorted(got),
                    sorted(expected),
                    "attributed with {}#{}@{}",
                    namespace,
                    relation,
                    subject
                );
            }
        }
    }
    Ok(())
}

/// Writes `steps` (a revision each), checks every revision, collects the
/// history before a revision, and checks the revisions still readable.
fn run(store: &dyn Store, steps: &[Step], collect: usize) -> Result<(), TestCaseError> {
    let states = model(steps);
    let first = store.head_revision().unwrap().0;
    for step in steps {
        store
            .apply(&ChangeSet {
                inserts: &step.inserts,
                deletes: &step.deletes,
                ..ChangeSet::default()
            })
            .unwrap();
    }
    let at = |n: usize| Revision(first + n as u64);
    for (n, live) in states.iter().enumerate() {
        check_reads(&*store.snapshot(at(n)).unwrap(), live)?;
    }
    let before = collect % states.len();
    store.gc(at(before)).unwrap();
    for (n, live) in states.iter().enumerate().skip(before) {
        check_reads(&*store.snapshot(at(n)).unwrap(), live)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_read_at_every_revision_agrees_with_the_model(steps in steps(), collect in 0..8usize) {
        run(&MemoryStore::new(), &steps, collect)?;
        run(&SqliteStore::open_in_memory().unwrap(), &steps, collect)?;
        let durable = SqliteStore::open_in_memory().unwrap();
        run(&CachedStore::new(durable).unwrap(), &steps, collect)?;
    }
}
