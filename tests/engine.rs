//! Named engine tests: the semantics of LANGUAGE.md §4 case by case, and
//! the example policies' own assertions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use zanzi::engine::{
    Decision, Engine, EngineError, EngineOptions, ExpandTree, Outcome, RequestContext, Step,
};
use zanzi::ir::Schema;
use zanzi::source::SourceMap;
use zanzi::store::{MemoryStore, PageRequest, Revision, SqliteStore, TupleStore};
use zanzi::tuple::{parse_object_relation, Expiry, Object, Subject, Tuple};
use zanzi::validation::{Assertion, ValidationFile};

fn schema(src: &str) -> Schema {
    let (_, compiled) = zanzi::compile_source("test.zanzi", src);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.schema.unwrap()
}

fn tuples(text: &str) -> Vec<Tuple> {
    zanzi::tuple::parse_tuple_file(text)
        .unwrap()
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// Both stores holding `data`, validated against the schema.
fn stores(schema: &Schema, data: &str) -> Vec<Box<dyn TupleStore>> {
    let data = tuples(data);
    let stores: Vec<Box<dyn TupleStore>> = vec![
        Box::new(MemoryStore::new()),
        Box::new(SqliteStore::open_in_memory().unwrap()),
    ];
    for store in &stores {
        zanzi::store::write_validated(store.as_ref(), schema, &data, &[]).unwrap();
    }
    stores
}

fn ask(engine: &Engine<'_>, store: &dyn TupleStore, question: &str) -> Result<bool, EngineError> {
    let tuple: Tuple = question.parse().unwrap();
    engine.check_tuple(&tuple, store.head_revision().unwrap())
}

fn check(schema: &Schema, data: &str, question: &str) -> bool {
    let mut answers = Vec::new();
    for store in stores(schema, data) {
        let engine = Engine::new(schema, store.as_ref());
        answers.push(ask(&engine, store.as_ref(), question).unwrap());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "stores disagree on {question}"
    );
    answers[0]
}

const GROUPS: &str = "
namespace user {}
namespace group { relation member: user | group#member }
namespace doc {
  relation a: group#member
  relation b: group#member
  permission both = a & b
  permission a_not_b = a - b
}";

#[test]
fn cyclic_groups_terminate_and_add_nothing() {
    let s = schema(GROUPS);
    let data = "group:a#member@group:b#member
                group:b#member@group:a#member
                group:a#member@user:x
                group:c#member@user:y";
    assert!(check(&s, data, "group:b#member@user:x"));
    assert!(check(&s, data, "group:a#member@user:x"));
    assert!(!check(&s, data, "group:a#member@user:y"));
    assert!(!check(&s, data, "group:b#member@user:z"));
    // Each set of the cycle reaches the other, and itself through it.
    assert!(check(&s, data, "group:a#member@group:b#member"));
    assert!(check(&s, data, "group:a#member@group:a#member"));
    // Without a derivation a set is not a member of itself.
    assert!(!check(&s, data, "group:c#member@group:c#member"));
    for store in stores(&s, data) {
        let engine = Engine::new(&s, store.as_ref());
        let head = store.head_revision().unwrap();
        let found = engine
            .lookup_subjects(&Object::new("group", "b"), "member", "user", head)
            .unwrap();
        assert_eq!(found.subject_ids, vec!["x"]);
        assert!(!found.wildcard);
        let groups = engine
            .lookup_resources(
                "group",
                "member",
                &Subject::object("user", "x"),
                &PageRequest::first(10),
                head,
            )
            .unwrap();
        assert_eq!(groups.items, vec!["a", "b"]);
    }
}

#[test]
fn self_referential_subject_sets() {
    let s = schema(GROUPS);
    let data = "group:a#member@group:a#member";
    assert!(!check(&s, data, "group:a#member@user:x"));
    assert!(check(&s, data, "group:a#member@group:a#member"));
    let data = "group:a#member@group:a#member\ngroup:a#member@user:x";
    assert!(check(&s, data, "group:a#member@user:x"));
}

/// A provisional "no" found inside a cycle must not be cached as final: here
/// `b` is first reached while `a` is in progress (so `b` looks empty), and
/// asked again after `a` turned out to hold the subject.
#[test]
fn a_false_found_inside_a_cycle_is_not_cached_as_final() {
    let s = schema(GROUPS);
    let data = "doc:d#a@group:a#member
                doc:d#b@group:b#member
                group:a#member@group:b#member
                group:b#member@group:a#member
                group:a#member@group:c#member
                group:c#member@user:x";
    assert!(check(&s, data, "doc:d#both@user:x"));
    assert!(!check(&s, data, "doc:d#a_not_b@user:x"));
    // Dense cycles stay fast: every group contains every other.
    let mut dense = String::new();
    for i in 0..12 {
        for j in 0..12 {
            if i != j {
                dense.push_str(&format!("group:g{i}#member@group:g{j}#member\n"));
            }
        }
    }
    dense.push_str("doc:d#a@group:g0#member\ndoc:d#b@group:g5#member\n");
    assert!(!check(&s, &dense, "doc:d#both@user:x"));
    dense.push_str("group:g11#member@user:x\n");
    assert!(check(&s, &dense, "doc:d#both@user:x"));
}

const FOLDERS: &str = "
namespace user {}
namespace folder {
  relation parent: folder
  relation owner: user
  permission view = owner | parent->view
}";

fn chain(len: usize) -> String {
    let mut data = String::new();
    for i in 0..len {
        data.push_str(&format!("folder:f{i}#parent@folder:f{}\n", i + 1));
    }
    data.push_str(&format!("folder:f{len}#owner@user:alice\n"));
    data
}

#[test]
fn a_folder_chain_of_depth_30_is_within_the_limit() {
    let s = schema(FOLDERS);
    let data = chain(30);
    assert!(check(&s, &data, "folder:f0#view@user:alice"));
    assert!(!check(&s, &data, "folder:f0#view@user:bob"));
    assert!(check(&s, &chain(32), "folder:f0#view@user:alice"));
}

#[test]
fn breaching_the_depth_limit_is_an_error() {
    let s = schema(FOLDERS);
    let data = chain(40);
    for store in stores(&s, &data) {
        let engine = Engine::new(&s, store.as_ref());
        for who in ["alice", "bob"] {
            let err = ask(
                &engine,
                store.as_ref(),
                &format!("folder:f0#view@user:{who}"),
            )
            .unwrap_err();
            let EngineError::DepthExceeded { max_depth, path } = &err else {
                panic!("expected a depth error, got {err}");
            };
            assert_eq!(*max_depth, 32);
            assert_eq!(path.first().map(String::as_str), Some("folder:f0#view"));
            assert_eq!(path.last().map(String::as_str), Some("folder:f33#view"));
            assert!(err
                .to_string()
                .starts_with("maximum depth 32 exceeded: folder:f0#view -> "));
        }
        // A deeper limit answers.
        let deeper = engine.with_options(EngineOptions { max_depth: 64 });
        assert!(ask(&deeper, store.as_ref(), "folder:f0#view@user:alice").unwrap());
        assert!(!ask(&deeper, store.as_ref(), "folder:f0#view@user:bob").unwrap());
        // Near the top the answer is found before the limit.
        assert!(ask(&engine, store.as_ref(), "folder:f39#view@user:alice").unwrap());
        // explain reports the breach instead of an answer.
        let head = store.head_revision().unwrap();
        let explained = engine
            .explain(
                &Object::new("folder", "f0"),
                "view",
                &Subject::object("user", "bob"),
                head,
            )
            .unwrap();
        assert_eq!(explained.outcome, Outcome::Unknown);
        assert!(explained.error.unwrap().contains("maximum depth 32"));
    }
}

const PUBLIC: &str = "
namespace user {}
namespace group { relation member: user | group#member }
namespace doc {
  relation viewer: user | user:* | group#member
  relation banned: user
  permission view = viewer - banned
}";

#[test]
fn wildcards_with_exclusion() {
    let s = schema(PUBLIC);
    let data = "doc:d#viewer@user:*
                doc:d#banned@user:mallory
                doc:e#viewer@group:eng#member
                group:eng#member@user:bob";
    assert!(check(&s, data, "doc:d#view@user:anyone"));
    assert!(!check(&s, data, "doc:d#view@user:mallory"));
    // A wildcard stands for object subjects only, never a subject set.
    assert!(!check(&s, data, "doc:d#viewer@group:eng#member"));
    assert!(check(&s, data, "doc:e#viewer@group:eng#member"));
    for store in stores(&s, data) {
        let engine = Engine::new(&s, store.as_ref());
        let head = store.head_revision().unwrap();
        let found = engine
            .lookup_subjects(&Object::new("doc", "d"), "view", "user", head)
            .unwrap();
        assert!(found.wildcard);
        assert_eq!(found.excluded, vec!["mallory"]);
        assert!(found.subject_ids.is_empty());
        let found = engine
            .lookup_subjects(&Object::new("doc", "e"), "view", "user", head)
            .unwrap();
        assert_eq!(
            (found.subject_ids, found.wildcard),
            (vec!["bob".to_owned()], false)
        );
        let page = PageRequest::first(10);
        let docs = |who: &str| {
            engine
                .lookup_resources("doc", "view", &Subject::object("user", who), &page, head)
                .unwrap()
                .items
        };
        assert_eq!(docs("stranger"), vec!["d"]);
        assert_eq!(docs("bob"), vec!["d", "e"]);
        assert!(docs("mallory").is_empty());
        assert!(matches!(
            engine.check(
                &Object::new("doc", "d"),
                "view",
                &Subject::wildcard("user"),
                head
            ),
            Err(EngineError::WildcardSubject(_))
        ));
    }
}

const ALL: &str = "
namespace user {}
namespace team { relation member: user }
namespace org { relation member: user }
namespace doc {
  relation owner: team | org
  permission unanimous = owner.all(member)
  permission some = owner->member
}
";

#[test]
fn all_arrows() {
    let s = schema(ALL);
    // An empty tupleset is the empty set.
    assert!(!check(&s, "team:t#member@user:x", "doc:d#unanimous@user:x"));
    let data = "doc:d#owner@team:t1
                doc:d#owner@team:t2
                team:t1#member@user:x
                team:t1#member@user:y
                team:t2#member@user:x";
    assert!(check(&s, data, "doc:d#unanimous@user:x"));
    assert!(!check(&s, data, "doc:d#unanimous@user:y"));
    assert!(check(&s, data, "doc:d#some@user:y"));
    for store in stores(&s, data) {
        let engine = Engine::new(&s, store.as_ref());
        let head = store.head_revision().unwrap();
        let found = engine
            .lookup_subjects(&Object::new("doc", "d"), "unanimous", "user", head)
            .unwrap();
        assert_eq!(found.subject_ids, vec!["x"]);
    }
}

#[test]
fn all_arrows_over_an_object_lacking_the_target_are_empty() {
    // `bare#owner` only accepts teams; a relation accepting a namespace
    // without the target is a schema warning, and that object contributes
    // the empty set.
    let src = "
namespace user {}
namespace team { relation member: user }
namespace robot {}
namespace doc {
  relation owner: team | robot
  permission unanimous = owner.all(member)
  permission some = owner->member
}";
    let s = schema(src);
    let data = "doc:d#owner@team:t\nteam:t#member@user:x";
    assert!(check(&s, data, "doc:d#unanimous@user:x"));
    let data = "doc:d#owner@team:t\ndoc:d#owner@robot:r\nteam:t#member@user:x";
    assert!(!check(&s, data, "doc:d#unanimous@user:x"));
    assert!(check(&s, data, "doc:d#some@user:x"));
}

#[test]
fn deletion_then_reinsertion_and_snapshot_reads() {
    let s = schema(PUBLIC);
    let grant: Tuple = "doc:d#viewer@user:bob".parse().unwrap();
    let stores: Vec<Box<dyn TupleStore>> = vec![
        Box::new(MemoryStore::new()),
        Box::new(SqliteStore::open_in_memory().unwrap()),
    ];
    for store in stores {
        let r1 = store.write(std::slice::from_ref(&grant), &[]).unwrap();
        let r2 = store.write(&[], std::slice::from_ref(&grant)).unwrap();
        let r3 = store.write(std::slice::from_ref(&grant), &[]).unwrap();
        let engine = Engine::new(&s, store.as_ref());
        let at = |rev: Revision| {
            engine
                .check_tuple(&"doc:d#view@user:bob".parse().unwrap(), rev)
                .unwrap()
        };
        assert!(!at(Revision(0)));
        assert!(at(r1));
        assert!(!at(r2));
        assert!(at(r3));
        let page = PageRequest::first(5);
        let bob = Subject::object("user", "bob");
        assert_eq!(
            engine
                .lookup_resources("doc", "view", &bob, &page, r1)
                .unwrap()
                .items,
            vec!["d"]
        );
        assert!(engine
            .lookup_resources("doc", "view", &bob, &page, r2)
            .unwrap()
            .items
            .is_empty());
    }
}

#[test]
fn lookup_resources_pages_through_sorted_ids() {
    let s = schema(PUBLIC);
    let mut data = String::new();
    for i in 0..23 {
        data.push_str(&format!("doc:d{i:02}#viewer@user:bob\n"));
    }
    data.push_str("doc:d05#banned@user:bob\n");
    for store in stores(&s, &data) {
        let engine = Engine::new(&s, store.as_ref());
        let head = store.head_revision().unwrap();
        let bob = Subject::object("user", "bob");
        let mut page = PageRequest::first(5);
        let mut all = Vec::new();
        loop {
            let got = engine
                .lookup_resources("doc", "view", &bob, &page, head)
                .unwrap();
            assert!(got.items.len() <= 5);
            all.extend(got.items);
            match got.next_cursor {
                Some(cursor) => page.cursor = Some(cursor),
                None => break,
            }
        }
        let expected: Vec<String> = (0..23)
            .filter(|&i| i != 5)
            .map(|i| format!("d{i:02}"))
            .collect();
        assert_eq!(all, expected);
    }
}

#[test]
fn unknown_names_are_errors() {
    let s = schema(PUBLIC);
    let store = MemoryStore::new();
    let engine = Engine::new(&s, &store);
    let bob = Subject::object("user", "bob");
    let at = Revision(0);
    let err = engine
        .check(&Object::new("dog", "d"), "view", &bob, at)
        .unwrap_err();
    // Like the server, the engine says what was meant.
    assert_eq!(
        err.to_string(),
        "unknown namespace `dog`; did you mean `doc`?"
    );
    let err = engine
        .check(&Object::new("doc", "d"), "veiw", &bob, at)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`doc` has no relation or permission `veiw`; did you mean `view`?"
    );
    let err = engine
        .check(
            &Object::new("doc", "d"),
            "view",
            &Subject::object("usr", "bob"),
            at,
        )
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::UnknownNamespace(name, Some(s)) if name == "usr" && s == "user"),
        "{err}"
    );
    assert!(matches!(
        engine.check(&Object::new("doc", "d"), "view", &bob, Revision(9)),
        Err(EngineError::Store(_))
    ));
}

const DRIVE: &str = include_str!("../examples/drive/drive.zanzi");

#[test]
fn explain_shows_the_granting_chain() {
    let s = schema(DRIVE);
    let data = "group:eng#member@user:bob
                folder:root#editor@group:eng#member
                document:readme#parent@folder:root";
    let store = MemoryStore::new();
    store.write(&tuples(data), &[]).unwrap();
    let engine = Engine::new(&s, &store);
    let head = store.head_revision().unwrap();
    let explained = engine
        .explain(
            &Object::new("document", "readme"),
            "edit",
            &Subject::object("user", "bob"),
            head,
        )
        .unwrap();
    assert_eq!(explained.outcome, Outcome::Granted);
    let text = explained.render();
    assert!(
        text.starts_with("document:readme#edit@user:bob: allowed\n"),
        "{text}"
    );
    assert!(
        text.contains("✓ via document:readme#parent@folder:root"),
        "{text}"
    );
    assert!(
        text.contains("✓ via folder:root#editor@group:eng#member"),
        "{text}"
    );
    assert!(text.contains("✓ tuple group:eng#member@user:bob"), "{text}");
    assert!(
        text.contains("✗ no tuple document:readme#owner@user:bob"),
        "{text}"
    );
    let json = serde_json::to_value(&explained).unwrap();
    assert_eq!(json["outcome"], "granted");
    assert_eq!(json["tree"]["step"], "permission");

    // A denial lists every branch tried; a ban shows as the excluding side.
    store
        .write(&tuples("document:readme#banned@user:bob"), &[])
        .unwrap();
    let head = store.head_revision().unwrap();
    let explained = engine
        .explain(
            &Object::new("document", "readme"),
            "edit",
            &Subject::object("user", "bob"),
            head,
        )
        .unwrap();
    assert_eq!(explained.outcome, Outcome::Denied);
    let text = explained.render();
    assert!(text.contains("✓ excluded by"), "{text}");
    assert!(
        text.contains("✓ tuple document:readme#banned@user:bob"),
        "{text}"
    );
    fn has_cycle_or_memo(node: &zanzi::engine::ExplainNode) -> bool {
        matches!(node.step, Step::Cycle { .. } | Step::Memo { .. })
            || node.children.iter().any(has_cycle_or_memo)
    }
    let tree = explained.tree.unwrap();
    assert_eq!(tree.outcome, Outcome::Denied);
    let _ = has_cycle_or_memo(&tree);
}

#[test]
fn explain_marks_cycles() {
    let s = schema(GROUPS);
    let store = MemoryStore::new();
    store
        .write(
            &tuples("group:a#member@group:b#member\ngroup:b#member@group:a#member"),
            &[],
        )
        .unwrap();
    let engine = Engine::new(&s, &store);
    let explained = engine
        .explain(
            &Object::new("group", "a"),
            "member",
            &Subject::object("user", "x"),
            Revision(1),
        )
        .unwrap();
    assert_eq!(explained.outcome, Outcome::Denied);
    assert!(
        explained.render().contains("group:a#member: cycle"),
        "{}",
        explained.render()
    );
}

#[test]
fn expand_builds_the_rewrite_tree() {
    let s = schema(DRIVE);
    let data = "group:eng#member@user:bob
                group:eng#member@group:eng#member
                folder:root#viewer@user:*
                folder:root#editor@group:eng#member
                document:readme#parent@folder:root
                document:readme#banned@user:mallory";
    let store = MemoryStore::new();
    store.write(&tuples(data), &[]).unwrap();
    let engine = Engine::new(&s, &store);
    let head = store.head_revision().unwrap();
    let tree = engine
        .expand(&Object::new("document", "readme"), "view", 8, head)
        .unwrap();
    let ExpandTree::Computed { userset, child } = &tree else {
        panic!("{tree:?}");
    };
    assert_eq!(userset, "document:readme#view");
    assert!(matches!(**child, ExpandTree::Union { .. }));
    let text = tree.render();
    assert!(text.contains("folder:root#viewer: user:*"), "{text}");
    assert!(
        text.contains("document:readme#banned: user:mallory"),
        "{text}"
    );
    assert!(text.contains("group:eng#member: (cycle)"), "{text}");
    assert!(text.contains("document:readme#parent->view"), "{text}");
    let json = serde_json::to_value(&tree).unwrap();
    assert_eq!(json["kind"], "computed");
    // Depth 0 stops at the first hop.
    let shallow = engine
        .expand(&Object::new("document", "readme"), "view", 0, head)
        .unwrap();
    assert!(
        shallow
            .render()
            .contains("folder:root#view: … (depth limit)"),
        "{}",
        shallow.render()
    );
}

// ---------------------------------------------------------------------------
// The example policies' assertions, read by the library's validation-file
// loader (the one `zanzi validate` uses), answered here against both stores.

/// An example's validation file, loaded: its schema compiled, its file read.
fn load_example(dir: &std::path::Path, name: &str) -> (Schema, ValidationFile) {
    let path = dir.join(format!("{name}.test.yaml"));
    let mut sources = SourceMap::new();
    let file = sources.add(
        path.to_string_lossy().into_owned(),
        std::fs::read_to_string(&path).unwrap(),
    );
    let loaded = match zanzi::validation::load(&mut sources, file, dir) {
        Ok(loaded) => loaded,
        Err((diagnostics, _)) => panic!("{name}: {diagnostics:#?}"),
    };
    assert!(loaded.problems.is_empty(), "{name}: {:#?}", loaded.problems);
    (loaded.schema, loaded.file)
}

/// The tuples of a validation file: inline and from its tuple files.
fn file_tuples(v: &ValidationFile) -> Vec<Tuple> {
    let mut all: Vec<Tuple> = v.tuples.iter().map(|t| t.text.parse().unwrap()).collect();
    for (path, _) in &v.tuple_files {
        all.extend(tuples(&std::fs::read_to_string(path).unwrap()));
    }
    all
}

/// What an assertion brings besides its question: its context, its
/// contextual tuples and the file's `now`.
fn assertion_request(assertion: &Assertion, now: Option<Expiry>) -> RequestContext {
    RequestContext {
        context: assertion.context.clone(),
        now,
        tuples: assertion
            .tuples
            .iter()
            .map(|t| t.text.parse().unwrap())
            .collect(),
    }
}

#[test]
fn the_example_policies_hold() {
    let mut ran = 0;
    let mut conditional = 0;
    for entry in std::fs::read_dir("examples").unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let (s, v) = load_example(&dir, &name);
        let data = file_tuples(&v);
        assert!(!data.is_empty() && !v.allowed.is_empty(), "{name}");
        let stores: Vec<Box<dyn TupleStore>> = vec![
            Box::new(MemoryStore::new()),
            Box::new(SqliteStore::open_in_memory().unwrap()),
        ];
        for store in &stores {
            zanzi::store::write_validated(store.as_ref(), &s, &data, &[]).unwrap();
            let head = store.head_revision().unwrap();
            for a in &v.allowed {
                let request = assertion_request(a, v.now);
                let engine = Engine::new(&s, store.as_ref()).with_request(&request);
                let t: Tuple = a.check.text.parse().unwrap();
                assert_eq!(
                    engine
                        .decide(&t.object, &t.relation, &t.subject, head)
                        .unwrap(),
                    Decision::Allowed,
                    "{name}: expected allowed: {t}"
                );
                assert!(
                    engine.check_tuple(&t, head).unwrap(),
                    "{name}: expected allowed: {t}"
                );
                ran += 1;
            }
            for a in &v.denied {
                let request = assertion_request(a, v.now);
                let engine = Engine::new(&s, store.as_ref()).with_request(&request);
                let t: Tuple = a.check.text.parse().unwrap();
                assert_eq!(
                    engine
                        .decide(&t.object, &t.relation, &t.subject, head)
                        .unwrap(),
                    Decision::Denied,
                    "{name}: expected denied: {t}"
                );
                assert!(
                    !engine.check_tuple(&t, head).unwrap(),
                    "{name}: expected denied: {t}"
                );
                ran += 1;
            }
            for a in &v.conditional {
                let request = assertion_request(a, v.now);
                let engine = Engine::new(&s, store.as_ref()).with_request(&request);
                let t: Tuple = a.check.text.parse().unwrap();
                let decision = engine
                    .decide(&t.object, &t.relation, &t.subject, head)
                    .unwrap();
                let Decision::Conditional { missing } = decision else {
                    panic!("{name}: expected conditional: {t}, got {decision:?}");
                };
                if let Some(want) = &a.missing {
                    let want: std::collections::BTreeSet<&str> =
                        want.iter().map(|m| m.text.as_str()).collect();
                    let want: Vec<&str> = want.into_iter().collect();
                    assert_eq!(missing, want, "{name}: missing parameters of {t}");
                }
                // A conditional answer is no grant.
                assert!(!engine.check_tuple(&t, head).unwrap(), "{name}: {t}");
                ran += 1;
                conditional += 1;
            }
            let request = RequestContext {
                now: v.now,
                ..RequestContext::default()
            };
            let engine = Engine::new(&s, store.as_ref()).with_request(&request);
            for (key, subjects) in &v.expected_subjects {
                let key = &key.text;
                let subjects: Vec<String> = subjects.iter().map(|s| s.text.clone()).collect();
                let (object, relation) = parse_object_relation(key).unwrap();
                let mut by_ns: Vec<String> = Vec::new();
                let namespaces: std::collections::BTreeSet<&str> = subjects
                    .iter()
                    .map(|s| s.split(':').next().unwrap())
                    .collect();
                for ns in namespaces {
                    let found = engine
                        .lookup_subjects(&object, &relation, ns, head)
                        .unwrap();
                    assert!(!found.wildcard, "{name}: {key}");
                    by_ns.extend(found.subject_ids.iter().map(|id| format!("{ns}:{id}")));
                }
                by_ns.sort();
                let mut expected = subjects.clone();
                expected.sort();
                assert_eq!(by_ns, expected, "{name}: {key}");
                // And lookup_resources agrees with every listed subject.
                for subject in &subjects {
                    let subject: Subject = subject.parse().unwrap();
                    let objects = engine
                        .lookup_resources(
                            &object.namespace,
                            &relation,
                            &subject,
                            &PageRequest::first(1000),
                            head,
                        )
                        .unwrap();
                    assert!(
                        objects.items.contains(&object.id),
                        "{name}: {key} {subject}"
                    );
                }
            }
        }
    }
    assert!(ran > 100, "only {ran} assertions");
    // examples/network and examples/sharing assert conditional answers.
    assert!(
        conditional >= 4,
        "only {conditional} conditional assertions"
    );
}

// ---------------------------------------------------------------------------
// Cases found by the differential test (tests/engine_diff.rs), kept by name.

/// Found against a memo that kept a "no" computed inside a cycle after the
/// cycle's head turned out "yes": `n0:c d#p0` needs `r0` twice and `r1`, and
/// the second visit must not reuse the provisional answer.
#[test]
fn regression_provisional_false_reused_after_the_cycle_head_succeeded() {
    let s = schema(
        "namespace n0 {
           relation r0: n0#p1
           relation r1: n0#r0
           permission p0 = (r0 & r1) & r0
           permission p1 = p0 | r1
         }",
    );
    let data = "n0:c%20d#r0@n0:a#p1
                n0:c%20d#r1@n0:c%20d#r0
                n0:a#r0@n0:b%231#p1
                n0:a#r1@n0:a#r0
                n0:c%20d#r0@n0:c%20d#p1";
    assert!(check(&s, data, "n0:c%20d#p0@n0:b%231#p1"));
    assert!(check(&s, data, "n0:a#p1@n0:b%231#p1"));
}

/// Found against an `.all` that skipped an object whose namespace lacks the
/// target instead of treating it as the empty set.
#[test]
fn regression_all_arrow_over_an_object_without_the_target() {
    let s = schema(
        "namespace n0 {
           relation r0: n0 | n1
           relation r1: n1
           relation r2: n0:*
           permission p0 = (r0.all(p0) | r0) - r0
         }
         namespace n1 {}",
    );
    let data = "n0:a#r0@n1:a";
    assert!(!check(&s, data, "n0:a#p0@n0:a"));
}

#[test]
fn the_largest_depth_limit_fits_on_a_test_thread_stack() {
    // Evaluation, rendering and serialization all recurse once per level of
    // the data; a 2 MiB test thread must survive the deepest allowed.
    let s = schema(FOLDERS);
    let max = zanzi::engine::MAX_MAX_DEPTH as usize;
    let store = MemoryStore::new();
    store.write(&tuples(&chain(max)), &[]).unwrap();
    let engine = Engine::new(&s, &store).with_options(EngineOptions {
        max_depth: u32::MAX,
    });
    assert_eq!(engine.options().max_depth, zanzi::engine::MAX_MAX_DEPTH);
    let head = store.head_revision().unwrap();
    assert!(ask(&engine, &store, "folder:f0#view@user:alice").unwrap());
    let tree = engine
        .expand(&Object::new("folder", "f0"), "view", u32::MAX, head)
        .unwrap();
    assert!(tree.render().contains("folder:f512#owner: user:alice"));
    assert!(serde_json::to_string(&tree).unwrap().len() > 100_000);
    let explained = engine
        .explain(
            &Object::new("folder", "f0"),
            "view",
            &Subject::object("user", "alice"),
            head,
        )
        .unwrap();
    assert_eq!(explained.outcome, Outcome::Granted);
    assert!(explained
        .render()
        .contains("✓ tuple folder:f512#owner@user:alice"));
    assert!(serde_json::to_string(&explained).unwrap().len() > 100_000);
}

/// Under every depth limit, lookup_resources answers what checking each
/// object answers: the objects whose check is `true`, or a depth error when
/// some candidate's check is one. (The lookup skips the checks its own walk
/// makes unnecessary; this pins that it never answers differently.)
#[test]
fn lookups_agree_with_checks_under_every_depth_limit() {
    let s = schema(
        "namespace user {}
         namespace group { relation member: user | group#member }
         namespace folder {
           relation parent: folder
           relation owner: user | group#member
           permission view = owner | parent->view
         }
         namespace doc {
           relation parent: folder
           relation banned: user
           permission view = parent->view - banned
           permission both = parent->view & banned
           permission either = parent->view | banned
         }",
    );
    let mut data = String::new();
    for i in 0..6 {
        data.push_str(&format!("folder:f{i}#parent@folder:f{}\n", i + 1));
    }
    for i in 0..3 {
        data.push_str(&format!("group:g{i}#member@group:g{}#member\n", i + 1));
    }
    data.push_str("group:g3#member@user:alice\nfolder:f6#owner@group:g0#member\n");
    for i in 0..7 {
        data.push_str(&format!("doc:d{i}#parent@folder:f{i}\n"));
    }
    data.push_str("doc:d2#banned@user:alice\ndoc:d5#banned@user:alice\n");
    let alice = Subject::object("user", "alice");
    for store in stores(&s, &data) {
        let head = store.head_revision().unwrap();
        for max_depth in 0..=14 {
            let engine = Engine::new(&s, store.as_ref()).with_options(EngineOptions { max_depth });
            for permission in ["view", "both", "either"] {
                assert_resources_as_checks(&engine, permission, &alice, 7, head, max_depth);
            }
        }
    }
}

/// A lookup decides a candidate without a check only where a check could
/// not fail: a derivation its walk found counts only within the depth
/// limit, and a set it never reached counts as not holding the subject only
/// when evaluating that set cannot hop past the limit. Under every limit,
/// both lookups answer as checking each object (or subject) does, errors
/// included (the data has no cycle, so each check's answer is the same
/// alone or after others).
#[test]
fn lookups_decide_without_checks_only_within_the_depth_limit() {
    let s = schema(
        "namespace user {}
         namespace group { relation member: user | group#member }
         namespace team { relation member: user }
         namespace doc {
           relation viewer: user | group#member
           relation reader: user
           relation banned: user
           relation blocked: team#member
           permission can_view = viewer
           permission view = can_view - banned
           permission read = reader - blocked
           permission both = can_view & reader
         }",
    );
    let mut data = String::from("group:g0#member@user:alice\n");
    for i in 1..6 {
        data.push_str(&format!("group:g{i}#member@group:g{}#member\n", i - 1));
    }
    for i in 0..6 {
        data.push_str(&format!("doc:d{i}#viewer@group:g{i}#member\n"));
        data.push_str(&format!("doc:d{i}#reader@user:alice\n"));
    }
    data.push_str(
        "doc:d1#banned@user:alice\n\
         team:t#member@user:alice\n\
         team:u#member@user:bob\n\
         doc:d2#blocked@team:t#member\n\
         doc:d3#blocked@team:u#member\n",
    );
    let alice = Subject::object("user", "alice");
    for store in stores(&s, &data) {
        let head = store.head_revision().unwrap();
        for max_depth in 0..=8 {
            let engine = Engine::new(&s, store.as_ref()).with_options(EngineOptions { max_depth });
            for permission in ["view", "read", "both"] {
                assert_resources_as_checks(&engine, permission, &alice, 6, head, max_depth);
                for i in 0..6 {
                    let doc = Object::new("doc", format!("d{i}"));
                    let checks: Vec<(&str, Result<bool, EngineError>)> = ["alice", "bob"]
                        .into_iter()
                        .map(|user| {
                            let answer = engine.check(
                                &doc,
                                permission,
                                &Subject::object("user", user),
                                head,
                            );
                            (user, answer)
                        })
                        .collect();
                    let lookup = engine.lookup_subjects(&doc, permission, "user", head);
                    let what =
                        format!("{doc}#{permission} at depth {max_depth}: {lookup:?} {checks:?}");
                    if checks.iter().any(|(_, r)| r.is_err()) {
                        assert!(lookup.is_err(), "{what}");
                    } else {
                        let expected: Vec<&str> = checks
                            .into_iter()
                            .filter(|(_, r)| matches!(r, Ok(true)))
                            .map(|(user, _)| user)
                            .collect();
                        assert_eq!(lookup.unwrap().subject_ids, expected, "{what}");
                    }
                }
            }
        }
    }
}

/// lookup_resources of `permission` for `subject` over `doc:d0` to
/// `doc:d{docs - 1}` answers as checking each document does: an error when
/// a check errs, else the documents allowed.
fn assert_resources_as_checks(
    engine: &Engine<'_>,
    permission: &str,
    subject: &Subject,
    docs: usize,
    head: Revision,
    max_depth: u32,
) {
    let checks: Vec<(String, Result<bool, EngineError>)> = (0..docs)
        .map(|i| {
            let doc = Object::new("doc", format!("d{i}"));
            let answer = engine.check(&doc, permission, subject, head);
            (format!("d{i}"), answer)
        })
        .collect();
    let lookup =
        engine.lookup_resources("doc", permission, subject, &PageRequest::first(100), head);
    let what = format!("{permission} at depth {max_depth}: {lookup:?} {checks:?}");
    if checks.iter().any(|(_, r)| r.is_err()) {
        assert!(lookup.is_err(), "{what}");
    } else {
        let expected: Vec<String> = checks
            .into_iter()
            .filter(|(_, r)| matches!(r, Ok(true)))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(lookup.unwrap().items, expected, "{what}");
    }
}
