#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::source::SourceMap;
use crate::validation::{run, AssertionKind, FileReport};

/// zanzi's source for the model these tests point at (the OpenFGA front
/// end is tested on its own, the runner here).
const SCHEMA: &str = "namespace user {}
namespace group {
  relation member: user | group#member
}
namespace document {
  relation viewer: user | user:* | group#member
  relation banned: user
  permission view = viewer - banned
}
";

fn run_yaml(yaml: &str, files: &[(&str, &str)]) -> (SourceMap, FileReport) {
    run_with_schema(SCHEMA, yaml, files)
}

fn run_with_schema(schema: &str, yaml: &str, files: &[(&str, &str)]) -> (SourceMap, FileReport) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.zanzi"), schema).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut sources = SourceMap::new();
    let file = sources.add("store.fga.yaml", yaml);
    let report = run(&mut sources, file, dir.path());
    (sources, report)
}

fn codes_and_lines(sources: &SourceMap, report: &FileReport) -> Vec<(String, usize)> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.line_col(d.primary.span.file, d.primary.span.start);
            (d.code.to_string(), at.line)
        })
        .collect()
}

const STORE: &str = r#"name: docs
model_file: model.zanzi
tuples:
  - user: user:tom
    relation: member
    object: group:eng
  - user: group:eng#member
    relation: viewer
    object: document:d
tuple_file: more.csv
tests:
  - name: members see
    tuples:
      - user: user:*
        relation: viewer
        object: document:public
    check:
      - user: user:tom
        object: document:d
        assertions:
          view: true
          banned: false
      - users: [user:anne, user:bob]
        objects: [document:public]
        assertions:
          view: true
    list_objects:
      - user: user:tom
        type: document
        assertions:
          view: [document:d, document:public]
    list_users:
      - object: document:d
        user_filter:
          - type: user
        assertions:
          view:
            users: [user:tom]
      - object: document:d
        user_filter:
          - type: group
            relation: member
        assertions:
          viewer:
            users: [group:eng#member]
  - name: no public document here
    check:
      - user: user:anne
        object: document:public
        assertions:
          view: false
"#;

const CSV: &str = "user_type,user_id,user_relation,relation,object_type,object_id\nuser,eve,,banned,document,public\n";

#[test]
fn a_passing_store_passes() {
    let (sources, report) = run_yaml(STORE, &[("more.csv", CSV)]);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let _ = sources;
    assert_eq!(report.results.len(), 8);
    assert!(report.results.iter().all(|r| r.passed));
    assert_eq!(
        report.results[0].assertion,
        "members see: Check(user=user:tom,relation=view,object=document:d)"
    );
    assert_eq!(report.results[0].line, 21);
    assert_eq!(report.results[4].kind, AssertionKind::ListObjects);
}

#[test]
fn failures_are_in_fgas_words_on_their_lines() {
    let yaml = STORE
        .replace("          banned: false", "          banned: true")
        .replace("view: [document:d, document:public]", "view: [document:d]")
        .replace("users: [user:tom]", "users: [user:tom, user:ann]");
    let (sources, report) = run_yaml(&yaml, &[("more.csv", CSV)]);
    assert_eq!(
        codes_and_lines(&sources, &report),
        vec![
            ("E0674".to_owned(), 22),
            ("E0675".to_owned(), 31),
            ("E0676".to_owned(), 37)
        ],
        "{:#?}",
        report.diagnostics
    );
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages[0],
        "Check(user=user:tom,relation=banned,object=document:d): expected=true, got=false"
    );
    assert_eq!(messages[1], "ListObjects(user=user:tom,relation=view,type=document): expected=[document:d], got=[document:d document:public]");
    assert_eq!(messages[2], "ListUsers(object=document:d,relation=view,user_filter={type:user}): expected={Users:[user:ann user:tom]}, got={Users:[user:tom]}");
}

#[test]
fn tuple_files_problems_and_bad_conditions() {
    let yaml = "model_file: model.zanzi
tuple_files: [bad.json, missing.yaml]
tests:
  - name: t
    tuples:
      - user: user:anne
        relation: viewer
        object: document:x
        condition:
          name: in_range
      - user: user:anne
        relation: viewer
        object: document:y
        condition:
          name: in_range
          context: [1]
    check:
      - user: user:anne
        object: document:x
        context: [x]
        assertions:
          view: true
";
    let bad = "[{\"user\": \"user:anne\", \"relation\": \"viewer\"}]";
    let (sources, report) = run_yaml(yaml, &[("bad.json", bad)]);
    let found: Vec<(String, String, usize)> = report
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.line_col(d.primary.span.file, d.primary.span.start);
            (
                d.code.to_string(),
                sources
                    .name(d.primary.span.file)
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                at.line,
            )
        })
        .collect();
    let has = |code: &str, file: &str, line: usize| {
        found.contains(&(code.to_owned(), file.to_owned(), line))
    };
    assert!(has("E0677", "bad.json", 1), "{found:?}");
    assert!(has("E0670", "store.fga.yaml", 2), "{found:?}");
    // A condition the model does not have: refused as a write would be.
    let unknown = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("in_range") && !d.message.contains("context"))
        .unwrap_or_else(|| panic!("{:#?}", report.diagnostics));
    assert_eq!(
        sources
            .line_col(unknown.primary.span.file, unknown.primary.span.start)
            .line,
        6
    );
    // A context that is not a mapping, at its place (the tuple's, the check's).
    assert!(has("E0677", "store.fga.yaml", 16), "{found:?}");
    assert!(has("E0670", "store.fga.yaml", 20), "{found:?}");
    assert!(!found.iter().any(|(code, ..)| code == "E0602"), "{found:?}");
    // The check with the bad context is not run.
    assert!(report.results.is_empty(), "{:#?}", report.results);
}

/// zanzi's source for a model with a condition, as OpenFGA's
/// `[user with before]` converts.
const TIMED: &str = "condition before(deadline: timestamp, current_time: timestamp) {
  current_time < deadline
}
namespace user {}
namespace group {
  relation member: user | user with before
}
namespace document {
  relation viewer: user | user with before | group#member
  relation banned: user | user with before
  permission view = viewer - banned
}
";

const TIMED_STORE: &str = r#"model_file: model.zanzi
tuples:
  - user: user:anne
    relation: viewer
    object: document:d
    condition:
      name: before
      context:
        deadline: "2024-01-01T00:00:00Z"
  - user: user:tom
    relation: member
    object: group:eng
    condition: {name: before, context: {deadline: "2024-01-01T00:00:00Z"}}
  - user: group:eng#member
    relation: viewer
    object: document:e
  - user: user:bob
    relation: viewer
    object: document:b
tests:
  - name: in time
    check:
      - user: user:anne
        object: document:d
        context: {current_time: "2023-06-01T00:00:00Z"}
        assertions:
          view: true
      - user: user:anne
        object: document:d
        context:
          current_time: "2024-06-01T00:00:00Z"
          deadline: "2030-01-01T00:00:00Z"
        assertions:
          view: false
      - users: [user:tom]
        objects: [document:e]
        context: {current_time: "2023-06-01T00:00:00Z"}
        assertions:
          view: true
    list_objects:
      - user: user:anne
        type: document
        context: {current_time: "2023-06-01T00:00:00Z"}
        assertions:
          view: [document:d]
    list_users:
      - object: document:d
        user_filter: [{type: user}]
        context: {current_time: "2023-06-01T00:00:00Z"}
        assertions:
          view:
            users: [user:anne]
  - name: no time given
    tuples:
      - user: user:bob
        relation: banned
        object: document:b
        condition: {name: before, context: {deadline: "2024-01-01T00:00:00Z"}}
    check:
      - user: user:anne
        object: document:d
        assertions:
          view: false
      - user: user:bob
        object: document:d
        assertions:
          view: false
      - user: user:bob
        object: document:b
        assertions:
          viewer: true
          view: true
    list_objects:
      - user: user:tom
        type: document
        assertions:
          view: []
    list_users:
      - object: document:d
        user_filter: [{type: user}]
        assertions:
          view:
            users: []
"#;

/// Tuple conditions and assertion contexts decide as OpenFGA's do; the
/// tuple's stored value wins over the request's.
#[test]
fn conditions_run_with_the_assertions_context() {
    let (sources, report) = run_with_schema(TIMED, TIMED_STORE, &[]);
    let passed: Vec<(&str, bool)> = report
        .results
        .iter()
        .map(|r| (r.assertion.as_str(), r.passed))
        .collect();
    assert_eq!(
        passed,
        vec![
            ("in time: Check(user=user:anne,relation=view,object=document:d, context:map[current_time:2023-06-01T00:00:00Z])", true),
            ("in time: Check(user=user:anne,relation=view,object=document:d, context:map[current_time:2024-06-01T00:00:00Z deadline:2030-01-01T00:00:00Z])", true),
            ("in time: Check(user=user:tom,relation=view,object=document:e, context:map[current_time:2023-06-01T00:00:00Z])", true),
            ("in time: ListObjects(user=user:anne,relation=view,type=document, context:map[current_time:2023-06-01T00:00:00Z])", true),
            ("in time: ListUsers(object=document:d,relation=view,user_filter={type:user}, context:map[current_time:2023-06-01T00:00:00Z])", true),
            ("no time given: Check(user=user:anne,relation=view,object=document:d)", false),
            ("no time given: Check(user=user:bob,relation=view,object=document:d)", true),
            ("no time given: Check(user=user:bob,relation=viewer,object=document:b)", true),
            ("no time given: Check(user=user:bob,relation=view,object=document:b)", false),
            ("no time given: ListObjects(user=user:tom,relation=view,type=document)", false),
            ("no time given: ListUsers(object=document:d,relation=view,user_filter={type:user})", false),
        ],
        "{:#?}",
        report.diagnostics
    );
    // What OpenFGA answers with an error fails, whatever was expected.
    let failures: Vec<(&str, usize)> = report
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.line_col(d.primary.span.file, d.primary.span.start);
            (d.message.as_str(), at.line)
        })
        .collect();
    assert_eq!(
        failures,
        vec![
            ("Check(user=user:anne,relation=view,object=document:d): expected=false, got=N/A, error=missing context parameters [current_time]", 63),
            ("Check(user=user:bob,relation=view,object=document:b): expected=true, got=N/A, error=missing context parameters [current_time]", 72),
            ("ListObjects(user=user:tom,relation=view,type=document): expected=[], got=N/A, error=missing context parameters [current_time]", 77),
            ("ListUsers(object=document:d,relation=view,user_filter={type:user}): expected={Users:[]}, got=N/A, error=missing context parameters [current_time]", 82),
        ]
    );
    assert!(report
        .diagnostics
        .iter()
        .all(|d| d.code.to_string() != "E0505"));
}

/// Store tests have no contextual tuples per assertion: `fga` ignores the
/// key, and so does zanzi, saying so.
#[test]
fn contextual_tuples_on_an_assertion_are_reported_ignored() {
    let yaml = "model_file: model.zanzi
tests:
  - name: t
    check:
      - user: user:anne
        object: document:x
        contextual_tuples:
          - {user: user:anne, relation: viewer, object: document:x}
        assertions:
          view: false
";
    let (sources, report) = run_yaml(yaml, &[]);
    assert_eq!(
        codes_and_lines(&sources, &report),
        vec![("W0670".to_owned(), 7)]
    );
    assert!(report.diagnostics[0].help.is_some());
    assert!(report.results.iter().all(|r| r.passed));
}

#[test]
fn flavors_are_told_apart() {
    use crate::validation::{flavor, Flavor};
    let mut sources = SourceMap::new();
    let zanzi = sources.add(
        "a.yaml",
        "schema_file: x.zanzi\nassertions:\n  allowed: []\n",
    );
    let zed = sources.add("b.yaml", "schema: x\nassertions:\n  assertTrue: []\n");
    let fga = sources.add("c.yaml", "model: x\ntests: []\n");
    assert_eq!(flavor(&sources, zanzi), Flavor::Zanzi);
    assert_eq!(flavor(&sources, zed), Flavor::Zed);
    assert_eq!(flavor(&sources, fga), Flavor::Fga);
    let only_schema = sources.add("d.yaml", "schema: |\n  definition user {}\n");
    assert_eq!(flavor(&sources, only_schema), Flavor::Zed);
    let zanzi_schema = sources.add("e.yaml", "schema: |\n  namespace user {}\n");
    assert_eq!(flavor(&sources, zanzi_schema), Flavor::Zanzi);
}
