//! `zanzi tuples import` and `export` in the peers' formats: SpiceDB
//! relationship lines, OpenFGA tuple files (JSON, YAML, JSON lines, CSV)
//! and Keto's relation-tuple JSON, each round-tripped with awkward IDs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;

/// Foreign names are kept verbatim: `example/user` as SpiceDB writes it.
const SCHEMA: &str = "namespace `example/user` {}
namespace group {
  relation member: `example/user` | group#member
}
namespace document {
  relation viewer: `example/user` | `example/user`:* | group#member
}
";

/// Tuples with IDs no peer writes by hand: spaces, `:`, `#`, `@`, unicode.
const TUPLES: &str = "document:plain#viewer@example/user:alice
document:with%20space#viewer@example/user:böb
document:a%3Ab%23c%40d#viewer@group:eng#member
document:文書#viewer@example/user:*
group:eng#member@example/user:zöe%20o%3An
";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(f.path("schema.zanzi"), SCHEMA).unwrap();
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn zanzi(&self, db: &str, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .args(args)
            .env("ZANZI_DB", self.path(db))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, db: &str, args: &[&str]) -> String {
        let out = self.zanzi(db, args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn import(&self, db: &str, file: &str, extra: &[&str]) -> String {
        let mut args = vec!["tuples", "import", "--schema", "schema.zanzi", file];
        args.extend(extra);
        self.ok(db, &args)
    }

    /// Every tuple of `db`, sorted, in zanzi's notation.
    fn all(&self, db: &str) -> Vec<String> {
        let text = self.ok(db, &["tuples", "export"]);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    }
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn every_format_round_trips() {
    let f = Fixture::new();
    std::fs::write(f.path("start.tuples"), TUPLES).unwrap();
    f.import("start.db", "start.tuples", &[]);
    assert_eq!(f.all("start.db"), sorted(TUPLES));
    for (format, file) in [
        ("spicedb", "out.relationships"),
        ("openfga", "out.json"),
        ("openfga", "out.yaml"),
        ("openfga", "out.jsonl"),
        ("openfga", "out.csv"),
        ("keto-json", "out.keto.json"),
    ] {
        f.ok(
            "start.db",
            &["tuples", "export", "--tuple-format", format, "-o", file],
        );
        let db = format!("{file}.db");
        // Read back twice: by the format named, and by detection.
        f.import(&db, file, &["--tuple-format", format]);
        assert_eq!(f.all(&db), sorted(TUPLES), "{format} {file}");
        let detected = format!("{file}.detected.db");
        f.import(&detected, file, &[]);
        assert_eq!(
            f.all(&detected),
            sorted(TUPLES),
            "{format} {file} (detected)"
        );
    }
}

#[test]
fn spicedb_lines_with_ellipsis_and_comments() {
    let f = Fixture::new();
    let text = "// a comment\ndocument:d#viewer@example/user:bob#...\n\ndocument:d#viewer@group:eng#member\n";
    std::fs::write(f.path("rels.txt"), text).unwrap();
    f.import("db", "rels.txt", &[]);
    assert_eq!(
        f.all("db"),
        vec![
            "document:d#viewer@example/user:bob".to_owned(),
            "document:d#viewer@group:eng#member".to_owned()
        ]
    );
}

/// OpenFGA tuple files carry a tuple's `condition: {name, context}`: it is
/// imported as the tuple's condition; a bad one is refused at its place.
#[test]
fn openfga_tuple_conditions_are_imported() {
    let f = Fixture::new();
    let schema = "condition in_range(x: int, limit: int) {\n  x < limit\n}\nnamespace user {}\nnamespace document {\n  relation viewer: user | user with in_range\n}\n";
    std::fs::write(f.path("cond.zanzi"), schema).unwrap();
    let yaml = "- user: user:anne\n  relation: viewer\n  object: document:1\n  condition:\n    name: in_range\n    context:\n      limit: 10\n- user: user:bob\n  relation: viewer\n  object: document:1\n";
    std::fs::write(f.path("t.yaml"), yaml).unwrap();
    let jsonl = r#"{"user": "user:eve", "relation": "viewer", "object": "document:2", "condition": {"name": "in_range"}}"#;
    std::fs::write(f.path("t.jsonl"), jsonl).unwrap();
    f.ok(
        "db",
        &["tuples", "import", "--schema", "cond.zanzi", "t.yaml"],
    );
    f.ok(
        "db",
        &["tuples", "import", "--schema", "cond.zanzi", "t.jsonl"],
    );
    assert_eq!(
        f.all("db"),
        vec![
            r#"document:1#viewer@user:anne[in_range:{"limit":10}]"#.to_owned(),
            "document:1#viewer@user:bob".to_owned(),
            "document:2#viewer@user:eve[in_range]".to_owned(),
        ]
    );

    let bad = "- user: user:anne\n  relation: viewer\n  object: document:1\n  condition:\n    name: in_range\n    context: 10\n";
    std::fs::write(f.path("bad.yaml"), bad).unwrap();
    let out = f.zanzi(
        "db2",
        &["tuples", "import", "--schema", "cond.zanzi", "bad.yaml"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.yaml:6:14") && text.contains("`context` is a mapping"),
        "{text}"
    );
}

#[test]
fn caveats_and_bad_tuples_are_refused_with_their_place() {
    let f = Fixture::new();
    let text =
        "document:d#viewer@example/user:bob\ndocument:d#viewer@example/user:ann[only_tuesdays]\n";
    std::fs::write(f.path("rels.txt"), text).unwrap();
    let out = f.zanzi(
        "db",
        &[
            "tuples",
            "import",
            "--schema",
            "schema.zanzi",
            "--tuple-format",
            "spicedb",
            "rels.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("rels.txt:2:"), "{stderr}");
    // A caveat is a condition, which this schema does not declare.
    assert!(
        stderr.contains("unknown condition `only_tuesdays`"),
        "{stderr}"
    );

    let yaml = "- user: example/user:anne\n  relation: viewer\n  object: document:1\n- user: example/user:bob\n  relation: owner\n  object: document:1\n";
    std::fs::write(f.path("t.yaml"), yaml).unwrap();
    let out = f.zanzi(
        "db",
        &["tuples", "import", "--schema", "schema.zanzi", "t.yaml"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("t.yaml:4:"), "{text}");

    let csv = "user_type,user_id,relation,object_type,object_id,condition_name\nexample/user,anne,viewer,document,1,in_range\n";
    std::fs::write(f.path("t.csv"), csv).unwrap();
    let out = f.zanzi(
        "db",
        &["tuples", "import", "--schema", "schema.zanzi", "t.csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("t.csv:2:") && text.contains("condition `in_range`"),
        "{text}"
    );
}

#[test]
fn keto_bare_subject_ids_are_resolved_by_the_schema() {
    let f = Fixture::new();
    let json = r#"[
  {"namespace": "document", "object": "d", "relation": "viewer", "subject_id": "alice"},
  {"namespace": "document", "object": "d", "relation": "viewer",
   "subject_set": {"namespace": "group", "object": "eng", "relation": "member"}}
]"#;
    std::fs::write(f.path("keto.json"), json).unwrap();
    f.import("db", "keto.json", &[]);
    assert_eq!(
        f.all("db"),
        vec![
            "document:d#viewer@example/user:alice".to_owned(),
            "document:d#viewer@group:eng#member".to_owned()
        ]
    );
}

#[test]
fn openfga_export_refuses_what_it_cannot_hold() {
    let f = Fixture::new();
    std::fs::write(f.path("t.tuples"), "document:d#viewer@example/user:a%23b\n").unwrap();
    f.import("db", "t.tuples", &[]);
    let out = f.zanzi("db", &["tuples", "export", "--tuple-format", "openfga"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be written as an OpenFGA user"));
}
