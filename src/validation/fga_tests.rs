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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.zanzi"), SCHEMA).unwrap();
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
fn tuple_files_problems_and_unsupported_constructs() {
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
    check:
      - user: user:anne
        object: document:x
        context: {x: 1}
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
    assert!(
        found.contains(&("E0677".to_owned(), "bad.json".to_owned(), 1)),
        "{found:?}"
    );
    assert!(
        found.contains(&("E0670".to_owned(), "store.fga.yaml".to_owned(), 2)),
        "{found:?}"
    );
    assert!(
        found.contains(&("E0602".to_owned(), "store.fga.yaml".to_owned(), 10)),
        "{found:?}"
    );
    assert!(
        found.contains(&("E0602".to_owned(), "store.fga.yaml".to_owned(), 14)),
        "{found:?}"
    );
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
