#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use crate::source::SourceMap;
use crate::validation::{run, AssertionKind, FileReport};

/// zanzi's source for a schema zed files in these tests point at: the
/// SpiceDB front end is tested on its own, the runner here.
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

fn run_yaml(yaml: &str) -> (SourceMap, FileReport) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.zanzi"), SCHEMA).unwrap();
    let mut sources = SourceMap::new();
    let file = sources.add("test.yaml", yaml);
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

const PASSING: &str = r#"schemaFile: schema.zanzi
relationships: |-
  group:eng#member@user:tom
  // a comment
  document:d#viewer@group:eng#member
  document:d#viewer@user:bob#...
  document:d#banned@user:bob
  document:public#viewer@user:*
  document:public#banned@user:eve
assertions:
  assertTrue:
    - document:d#view@user:tom
    - "document:d#viewer@user:bob"
  assertFalse:
    - document:d#view@user:bob
validation:
  document:d#view:
    - "[user:tom] is <group:eng#member>"
    - "[group:eng#member] is <document:d#viewer>"
  document:public#view:
    - "[user:* - {user:eve}] is <document:public#viewer>"
"#;

#[test]
fn a_passing_file_passes() {
    let (sources, report) = run_yaml(PASSING);
    assert!(
        report.diagnostics.is_empty(),
        "{:?}",
        codes_and_lines(&sources, &report)
    );
    assert_eq!(report.results.len(), 5);
    assert!(report.results.iter().all(|r| r.passed));
    assert_eq!(report.results[0].kind, AssertionKind::Allowed);
    assert_eq!(report.results[0].line, 12);
    assert!(report.schema_hash.is_some());
}

#[test]
fn failures_are_in_zeds_words_on_their_lines() {
    let yaml = PASSING
        .replace(
            "    - document:d#view@user:tom",
            "    - document:d#view@user:eve",
        )
        .replace(
            "    - document:d#view@user:bob",
            "    - document:d#view@user:tom",
        )
        .replace(
            "    - \"[user:tom] is <group:eng#member>\"\n",
            "    - \"[user:ann] is <group:eng#member>\"\n",
        )
        .replace("{user:eve}", "{user:zed}");
    let (sources, report) = run_yaml(&yaml);
    let found = codes_and_lines(&sources, &report);
    assert_eq!(
        found,
        vec![
            ("E0671".to_owned(), 12),
            ("E0672".to_owned(), 15),
            ("E0673".to_owned(), 17),
            ("E0673".to_owned(), 18),
            ("E0673".to_owned(), 21),
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
        "Expected relation or permission document:d#view@user:eve to exist"
    );
    assert_eq!(
        messages[1],
        "Expected relation or permission document:d#view@user:tom to not exist"
    );
    assert!(messages.contains(&"For object and permission/relation `document:d#view`, missing expected subject `user:ann`"));
    assert!(messages.contains(&"For object and permission/relation `document:d#view`, subject `user:tom` found but not listed in expected subjects"));
    assert!(
        messages[4].contains("found different excluded subjects for subject `user:*`"),
        "{}",
        messages[4]
    );
    assert_eq!(report.results.iter().filter(|r| !r.passed).count(), 4);
}

#[test]
fn bad_relationships_and_bad_assertions() {
    let yaml = "schemaFile: schema.zanzi
relationships: |
  document:d#viewer@user:bob[only_tuesdays]
  document:d#viewer
  document:d#viewer@user:tom
  document:d#viewer@user:tom
extra: 1
";
    let (sources, report) = run_yaml(yaml);
    let found: Vec<String> = codes_and_lines(&sources, &report)
        .into_iter()
        .map(|(code, line)| format!("{code}:{line}"))
        .collect();
    // The schema has no caveat `only_tuesdays`: the relationship is refused on its line.
    assert_eq!(
        found,
        ["W0670:7", "E0677:4", "E0677:6", "E0402:3"],
        "{:#?}",
        report.diagnostics
    );
    assert!(
        report.diagnostics[3].message.contains("only_tuesdays"),
        "{}",
        report.diagnostics[3].message
    );
}

const CAVEATED: &str = r#"schema: |-
  use expiration

  definition user {}

  caveat on_day(day int, allowed int) {
    day == allowed
  }

  definition document {
    relation viewer: user with on_day | user with expiration
    permission view = viewer
  }
relationships: |-
  document:d#viewer@user:bob[on_day:{"allowed":2}]
  document:d#viewer@user:old[expiration:2000-01-01T00:00:00Z]
  document:d#viewer@user:new[expiration:2999-01-01T00:00:00Z]
"#;

#[test]
fn caveated_assertions_take_their_context() {
    let yaml = format!(
        "{CAVEATED}assertions:
  assertTrue:
    - 'document:d#view@user:bob with {{\"day\": 2}}'
    - document:d#view@user:new
  assertCaveated:
    - document:d#view@user:bob
  assertFalse:
    - 'document:d#view@user:bob with {{\"day\": 3}}'
    - document:d#view@user:old
    - 'document:d#view@user:bob with {{\"day\": 3, \"allowed\": 3}}'
validation:
  document:d#view:
    - \"[user:bob[...]] is <document:d#viewer>\"
    - \"[user:new] is <document:d#viewer>\"
"
    );
    let (sources, report) = run_yaml(&yaml);
    assert!(
        report.diagnostics.is_empty(),
        "{:?}",
        codes_and_lines(&sources, &report)
    );
    assert_eq!(report.results.len(), 7);
    assert!(report.results.iter().all(|r| r.passed));
}

#[test]
fn caveated_assertions_fail_in_zeds_words() {
    let yaml = format!(
        "{CAVEATED}assertions:
  assertTrue:
    - document:d#view@user:bob
  assertCaveated:
    - 'document:d#view@user:bob with {{\"day\": 2}}'
  assertFalse:
    - document:d#view@user:bob
    - 'document:d#view@user:bob with {{\"day\": }}'
    - 'document:d#view@user:bob with [1]'
    - document:d#view@user:bob[on_day]
validation:
  document:d#view:
    - \"[user:bob] is <document:d#viewer>\"
    - \"[user:new[...]] is <document:d#viewer>\"
"
    );
    let (sources, report) = run_yaml(&yaml);
    let found = codes_and_lines(&sources, &report);
    assert_eq!(
        found,
        vec![
            ("E0671".to_owned(), 20),
            ("E0678".to_owned(), 22),
            ("E0672".to_owned(), 24),
            ("E0677".to_owned(), 25),
            ("E0677".to_owned(), 26),
            ("E0677".to_owned(), 27),
            ("E0673".to_owned(), 30),
            ("E0673".to_owned(), 31),
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
        messages[1],
        "Expected relation or permission document:d#view@user:bob with {\"day\": 2} to be caveated"
    );
    assert!(report.diagnostics[0]
        .notes
        .iter()
        .any(|n| n.contains("caveated: it needs `day`")));
    assert!(
        messages[3].contains("error parsing caveat context"),
        "{}",
        messages[3]
    );
    assert!(
        messages[4].contains("must be a JSON object"),
        "{}",
        messages[4]
    );
    assert!(messages[5].starts_with("cannot specify a caveat on an assertion"));
    assert!(
        messages[6].contains("`user:bob` is listed without a caveat but found under a caveat"),
        "{}",
        messages[6]
    );
    assert!(
        messages[7].contains("`user:new` is listed with a caveat"),
        "{}",
        messages[7]
    );
}

#[test]
fn schema_problems() {
    let (sources, report) = run_yaml("schema: x\nschemaFile: schema.zanzi\n");
    assert_eq!(
        codes_and_lines(&sources, &report),
        vec![("E0670".to_owned(), 2)]
    );
    let (sources, report) = run_yaml("relationships: \"\"\n");
    assert_eq!(
        codes_and_lines(&sources, &report),
        vec![("E0670".to_owned(), 1)]
    );
    let (sources, report) = run_yaml("schemaFile: missing.zed\nrelationships: \"\"\n");
    assert_eq!(
        codes_and_lines(&sources, &report),
        vec![("E0670".to_owned(), 1)]
    );
    // A tuple the schema rejects is pointed at on its line.
    let (sources, report) =
        run_yaml("schemaFile: schema.zanzi\nrelationships: |\n  document:d#nope@user:a\n");
    let found = codes_and_lines(&sources, &report);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, 3);
}

#[test]
fn an_empty_relationships_block_is_fine() {
    let yaml = "schemaFile: schema.zanzi\nrelationships: \"\"\nassertions:\n  assertFalse:\n    - document:d#view@user:a\n";
    let (sources, report) = run_yaml(yaml);
    assert!(
        report.diagnostics.is_empty(),
        "{:?}",
        codes_and_lines(&sources, &report)
    );
    assert_eq!(report.results.len(), 1);
}

mod fuzz {
    use proptest::prelude::*;

    use crate::source::SourceMap;
    use crate::validation::run;

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("schema: |\n  definition user {}\n".to_owned()),
            Just("schemaFile: x.zed\n".to_owned()),
            Just("relationships: |\n  ".to_owned()),
            Just("assertions:\n  assertTrue:\n    - ".to_owned()),
            Just("validation:\n  document:d#view:\n    - ".to_owned()),
            Just("model: |\n  model\n    schema 1.1\n  type user\n".to_owned()),
            Just("tests:\n  - name: t\n    check:\n      - user: ".to_owned()),
            Just("list_users:\n  - object: a:b\n    user_filter: [{type: user}]\n".to_owned()),
            Just("tuples:\n  - user: user:a\n    relation: r\n    object: ".to_owned()),
            Just("document:d#viewer@user:bob".to_owned()),
            Just("[user:* - {user:a}] is <document:d#viewer>".to_owned()),
            Just("[caveat:{}]".to_owned()),
            Just("\n".to_owned()),
            Just("  ".to_owned()),
            Just("\"".to_owned()),
            Just(": ".to_owned()),
            Just("- ".to_owned()),
            Just(">-\n".to_owned()),
            "\\PC{0,4}",
        ]
    }

    /// Every diagnostic's primary span lies inside its file.
    fn check(text: &str) {
        let mut sources = SourceMap::new();
        let file = sources.add("p.yaml", text);
        let report = run(&mut sources, file, std::path::Path::new("/nonexistent"));
        for d in &report.diagnostics {
            let span = d.primary.span;
            let len = sources.text(span.file).len();
            assert!(
                span.start <= span.end && span.end as usize <= len,
                "{d:?} in {text:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = String::from_utf8_lossy(&bytes);
            check(&format!("relationships: \"\"\n{text}"));
            check(&format!("tests: []\n{text}"));
        }

        #[test]
        fn token_soups_never_panic(tokens in proptest::collection::vec(token(), 0..25)) {
            check(&tokens.concat());
        }
    }
}
