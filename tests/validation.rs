//! Validation files: every assertion is reported, a failing one says which,
//! where and why, and bad files are diagnosed with their positions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use zanzi::source::SourceMap;
use zanzi::validation::{self, AssertionKind};

fn run_text(text: &str) -> (SourceMap, validation::FileReport) {
    let mut sources = SourceMap::new();
    let file = sources.add("case.yaml", text);
    let outcome = validation::run(&mut sources, file, Path::new("."));
    (sources, outcome)
}

fn codes(outcome: &validation::FileReport) -> Vec<&'static str> {
    outcome
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

fn zanzi() -> Command {
    let mut cmd = Command::cargo_bin("zanzi").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

const SCHEMA: &str = "schema: |\n  namespace user {}\n  namespace group {\n    relation member: user | group#member\n  }\n  namespace doc {\n    relation viewer: user | user:* | group#member\n    relation banned: user\n    permission view = viewer - banned\n  }\n";

#[test]
fn every_example_validates() {
    zanzi()
        .args(["validate", "examples/"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("8 validation files"));
    let out = zanzi()
        .args(["validate", "--format", "json", "examples/"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let assertions = report["assertions"].as_array().unwrap();
    assert!(assertions.len() > 100);
    assert!(assertions.iter().all(|a| a["passed"] == true));
    assert!(assertions.iter().all(|a| a["line"].as_u64().unwrap() > 1));
    assert_eq!(report["validation_files"].as_array().unwrap().len(), 8);
}

#[test]
fn a_broken_assertion_says_which_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["drive.zanzi", "drive.test.yaml"] {
        std::fs::copy(
            Path::new("examples/drive").join(name),
            dir.path().join(name),
        )
        .unwrap();
    }
    let yaml = dir.path().join("drive.test.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    // Claim that a banned user may view: the ban must win.
    let broken = text.replacen(
        "  allowed:\n",
        "  allowed:\n    - document:api_spec#view@user:carol\n",
        1,
    );
    std::fs::write(&yaml, &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("- document:api_spec#view@user:carol"))
        .unwrap()
        + 1;

    let path = yaml.to_str().unwrap();
    zanzi().args(["validate", path]).assert().code(1).stdout(
        predicate::str::contains(
            "error[E0502]: assertion failed: `document:api_spec#view@user:carol` is denied",
        )
        .and(predicate::str::contains(format!(
            "drive.test.yaml:{line}:7"
        )))
        .and(predicate::str::contains("excluded by")),
    );
    let out = zanzi()
        .args(["validate", "--format", "json", path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<_> = report["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["line"], line);
    assert_eq!(failed[0]["kind"], "allowed");
    assert!(failed[0]["explanation"]
        .as_str()
        .unwrap()
        .contains("banned"));
    zanzi()
        .args(["validate", "--format", "github", path])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains(format!("line={line},col=7"))
                .and(predicate::str::contains("title=E0502")),
        );
}

#[test]
fn every_assertion_gets_a_result() {
    let text = format!(
        "{SCHEMA}tuples: |\n  doc:a#viewer@user:*\n  doc:a#banned@user:mallory\n  group:eng#member@user:bob\n  doc:b#viewer@group:eng#member\nassertions:\n  allowed:\n    - doc:a#view@user:alice\n    - doc:b#view@user:bob\n    - doc:b#view@group:eng#member\n  denied:\n    - doc:a#view@user:mallory\n    - doc:b#view@user:alice\nexpected_subjects:\n  doc:b#view: [user:bob]\n  doc:a#view: [user:*]\n"
    );
    let (_, outcome) = run_text(&text);
    assert!(outcome.diagnostics.is_empty(), "{:?}", codes(&outcome));
    let kinds: Vec<_> = outcome.results.iter().map(|r| (r.kind, r.passed)).collect();
    assert_eq!(
        kinds,
        vec![
            (AssertionKind::Allowed, true),
            (AssertionKind::Allowed, true),
            (AssertionKind::Allowed, true),
            (AssertionKind::Denied, true),
            (AssertionKind::Denied, true),
            (AssertionKind::ExpectedSubjects, true),
            (AssertionKind::ExpectedSubjects, true),
        ]
    );
    assert_eq!(outcome.results[0].line, 18);
}

#[test]
fn wrong_expected_subjects_list_the_difference() {
    let text = format!("{SCHEMA}tuples: |\n  doc:a#viewer@user:ann\n  doc:a#viewer@user:ben\nexpected_subjects:\n  doc:a#view: [user:ann, user:cid]\n");
    let (sources, outcome) = run_text(&text);
    assert_eq!(codes(&outcome), vec!["E0504"]);
    let rendered = zanzi::diagnostics::render_plain(&sources, &outcome.diagnostics);
    assert!(
        rendered.contains("expected but not in the set: `user:cid`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("in the set but not expected: `user:ben`"),
        "{rendered}"
    );
}

#[test]
fn bad_tuples_are_reported_at_their_column_and_nothing_is_checked() {
    let text = format!("{SCHEMA}tuples: |\n  doc:a#viewer@user:ann\n  doc:a#viewer user:ben\n  doc:a#view@user:cid\nassertions:\n  allowed:\n    - doc:a#view@user:ann\n");
    let (sources, outcome) = run_text(&text);
    assert_eq!(codes(&outcome), vec!["E0401", "E0402"]);
    let at = |i: usize| {
        let d = &outcome.diagnostics[i];
        sources.line_col(d.primary.span.file, d.primary.span.start)
    };
    assert_eq!((at(0).line, at(0).column), (13, 15));
    assert!(
        outcome.diagnostics[0]
            .message
            .contains("expected `@` after the relation name"),
        "{}",
        outcome.diagnostics[0].message
    );
    assert_eq!(at(1).line, 14);
    assert!(outcome.diagnostics[1].message.contains("permission"));
    assert!(outcome.results.is_empty());
}

#[test]
fn inline_schema_errors_point_into_the_yaml() {
    let text = "schema: |\n  namespace user {}\n  namespace doc {\n    relation viewer: usr\n  }\ntuples: |\nassertions:\n  allowed: []\n";
    let (sources, outcome) = run_text(text);
    assert_eq!(codes(&outcome), vec!["E0106"]);
    let d = &outcome.diagnostics[0];
    let at = sources.line_col(d.primary.span.file, d.primary.span.start);
    assert_eq!(
        (sources.name(d.primary.span.file), at.line, at.column),
        ("case.yaml", 4, 22)
    );
}

#[test]
fn malformed_files_are_diagnosed() {
    let (_, outcome) = run_text("schema: |\n  namespace user {}\nasertions:\n  allowed: []\n");
    assert_eq!(codes(&outcome), vec!["E0501"]);
    assert_eq!(
        outcome.diagnostics[0]
            .help
            .as_ref()
            .map(|h| h.text.as_str()),
        Some("did you mean `assertions`?")
    );
    let (_, outcome) = run_text("schema: [unclosed\n");
    assert_eq!(codes(&outcome), vec!["E0501"]);
    assert!(outcome.diagnostics[0].message.starts_with("invalid YAML"));
    let (_, outcome) = run_text("tuples: |\n  doc:a#viewer@user:ann\n");
    assert_eq!(codes(&outcome), vec!["E0501"]);
    assert!(outcome.diagnostics[0].message.contains("schema_file"));
    let (_, outcome) = run_text("schema_file: does-not-exist.zanzi\n");
    assert_eq!(codes(&outcome), vec!["E0501"]);
    let (_, outcome) = run_text("- just\n- a list\n");
    assert_eq!(codes(&outcome), vec!["E0501"]);
}

#[test]
fn tuple_files_are_read_relative_to_the_yaml_and_errors_name_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.zanzi"),
        "namespace user {}\nnamespace doc {\n  relation viewer: user\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("good.tuples"),
        "// comment\ndoc:a#viewer@user:ann\n\ndoc:b#viewer@user:ben // trailing\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.tuples"),
        "doc:a#viewer@user:ann\ndoc:a#viewer@user\n",
    )
    .unwrap();
    let yaml = dir.path().join("v.yaml");
    std::fs::write(&yaml, "schema_file: s.zanzi\ntuple_files: [good.tuples]\nassertions:\n  allowed: [doc:b#viewer@user:ben]\n").unwrap();
    zanzi()
        .args(["validate", yaml.to_str().unwrap()])
        .assert()
        .code(0);
    std::fs::write(&yaml, "schema_file: s.zanzi\ntuple_files: [good.tuples, bad.tuples]\nassertions:\n  allowed: [doc:b#viewer@user:ben]\n").unwrap();
    zanzi()
        .args(["validate", yaml.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("bad.tuples:2:").and(predicate::str::contains("E0401")));
}

#[test]
fn depth_limit_breaches_are_errors_not_answers() {
    // A chain of 40 groups: deeper than the default limit of 32.
    let mut tuples = String::from("tuples: |\n");
    for i in 0..40 {
        tuples.push_str(&format!("  group:g{i}#member@group:g{}#member\n", i + 1));
    }
    tuples.push_str("  group:g40#member@user:ann\n  doc:a#viewer@group:g0#member\n");
    let text = format!("{SCHEMA}{tuples}assertions:\n  denied:\n    - doc:a#view@user:ann\n");
    let (_, outcome) = run_text(&text);
    assert_eq!(codes(&outcome), vec!["E0505"]);
    assert!(
        outcome.diagnostics[0].message.contains("depth"),
        "{}",
        outcome.diagnostics[0].message
    );
    assert!(!outcome.results[0].passed);
}

/// The rendered diagnostics, their data and the assertion results of `text`.
fn full_report(text: &str) -> String {
    let mut sources = SourceMap::new();
    let file = sources.add("case.yaml", text);
    let report = zanzi::validation::run(&mut sources, file, Path::new("."));
    let mut out = zanzi::diagnostics::render_plain(&sources, &report.diagnostics);
    writeln!(out, "{:#?}", report.diagnostics).unwrap();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&report.results).unwrap()
    )
    .unwrap();
    // The system's words for a missing file differ between systems.
    let not_found = std::fs::read("does-not-exist").unwrap_err().to_string();
    out.replace(&not_found, "<not found>")
}

/// The exact words of every validation diagnostic and assertion result.
#[test]
fn every_validation_message_is_pinned() {
    let mut deep = String::from("tuples: |\n");
    for i in 0..40 {
        deep.push_str(&format!("  group:g{i}#member@group:g{}#member\n", i + 1));
    }
    deep.push_str("  group:g40#member@user:ann\n  doc:a#viewer@group:g0#member\n");
    let cases = [
        ("schema file missing", "schema_file: does-not-exist.zanzi\n".to_owned()),
        (
            "tuple file missing",
            format!("{SCHEMA}tuple_files: [does-not-exist.tuples]\n"),
        ),
        (
            "failed, unanswerable and undecided assertions",
            format!("{SCHEMA}{deep}  doc:b#viewer@user:ann\n  doc:b#banned@user:bob\n  doc:b#viewer@user:bob\nassertions:\n  allowed:\n    - doc:b#view@user:bob\n    - doc:b#view@user:ann\n    - doc:b#nope@user:ann\n  denied:\n    - doc:b#view@user:ann\n    - doc:a#view@user:ann\n    - nope:b#view@user:ann\n"),
        ),
        (
            "expected subjects",
            format!("{SCHEMA}tuples: |\n  doc:a#viewer@user:ann\n  doc:a#viewer@user:ben\nexpected_subjects:\n  doc:a#view: [user:ann, user:cid, user:dan]\n  doc:a#viewer: [user:ann]\n  doc:a#nope: [user:ann]\n  doc:a#banned: [group:g#member]\n  doc:b#view: [user:*]\n"),
        ),
    ];
    let mut out = String::new();
    for (name, text) in &cases {
        writeln!(out, "=== {name}\n{}", full_report(text)).unwrap();
    }
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    zanzi::load::add_source_bytes(
        &mut sources,
        "bad.zanzi".to_owned(),
        b"namespace \xff\xfe {}\n".to_vec(),
        &mut diags,
    );
    writeln!(
        out,
        "=== not UTF-8\n{}{diags:#?}",
        zanzi::diagnostics::render_plain(&sources, &diags)
    )
    .unwrap();
    insta::assert_snapshot!(out);
}

/// A directory with a schema and the validation file that uses it reports
/// each schema error once: in the text, the count and the JSON report.
#[test]
fn a_schema_and_its_validation_file_report_each_error_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.zanzi"),
        "namespace user {}\nnamespace doc {\n  relation viewer: usr\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("v.yaml"),
        "schema_file: s.zanzi\ntuples: \"\"\nassertions:\n  allowed: []\n",
    )
    .unwrap();
    let out = zanzi()
        .args(["validate", dir.path().to_str().unwrap()])
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.matches("error[E0106]").count(), 1, "{text}");
    assert!(text.contains(": 1 error, 0 warnings"), "{text}");
    let out = zanzi()
        .args(["validate", "--format", "json", dir.path().to_str().unwrap()])
        .assert()
        .code(1);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(report["summary"]["errors"], 1);
}

/// One run reports every problem of a validation file: an unknown key (a
/// SpiceDB name gets zanzi's), a rejected tuple and an assertion naming an
/// unknown relation, each with what was meant; no assertion is answered on
/// the incomplete data.
#[test]
fn one_run_reports_every_problem_with_what_was_meant() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.zanzi"),
        "namespace user {}\nnamespace doc {\n  relation viewer: user\n}\n",
    )
    .unwrap();
    let yaml = dir.path().join("v.yaml");
    std::fs::write(
        &yaml,
        "schema_file: s.zanzi\n\
         relationships: |\n  doc:a#viewer@user:ann\n\
         tuples: |\n  doc:a#viewer@user:ann\n  doc:b#viewr@user:bob\n\
         assertions:\n  allowed:\n    - doc:a#viewer@user:ann\n    - doc:a#veiwer@user:ann\n",
    )
    .unwrap();
    let out = zanzi()
        .args(["validate", "--format", "json", yaml.to_str().unwrap()])
        .assert()
        .code(1);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let found: Vec<(String, u64, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d.to_string(),
            )
        })
        .collect();
    let at = |code: &str, line: u64, text: &str| {
        found
            .iter()
            .any(|(c, l, d)| c == code && *l == line && d.contains(text))
    };
    assert!(at("E0501", 2, "zanzi calls this `tuples`"), "{found:?}");
    assert!(at("E0402", 6, "did you mean `viewer`"), "{found:?}");
    assert!(at("E0505", 10, "did you mean `viewer`"), "{found:?}");
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(report["assertions"].as_array().unwrap().len(), 0);
}
