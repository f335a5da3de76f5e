//! `zanzi tuples import`, `list` and `export` with tuples that carry a
//! condition or an expiry: accepted where the schema's types take them,
//! refused with the place of the offending suffix, and round-tripped
//! through SQLite in every output format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Command, Output};

mod support;

/// Tuples with every kind of suffix, as zanzi prints them, and a context
/// whose strings hold what a comment or a suffix is made of.
const TUPLES: &str = r#"document:d#editor@user:ann
document:d#editor@user:bob[expiration:2027-01-01T00:00:00Z]
document:d#editor@user:cy[office_network:{"cidr":"10.0.0.0/8"}][expiration:2027-06-30T12:00:00.500Z]
document:d#viewer@group:eng#member[office_network]
document:d#viewer@user:dee[office_network:{"cidr":"10.0.0.0/8 // ] #"}]
"#;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(f.path("office.json"), support::conditions::office_ir()).unwrap();
        f
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn zanzi(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .args(args)
            .env("ZANZI_DB", self.path("db"))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.zanzi(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn tuples_with_conditions_round_trip_through_sqlite() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), format!("// with comments\n{TUPLES}\n")).unwrap();
    f.ok(&["tuples", "import", "--schema", "office.json", "in.tuples"]);
    let expected = sorted(TUPLES);
    assert_eq!(sorted(&f.ok(&["tuples", "list"])), expected);
    let exported = f.ok(&["tuples", "export"]);
    assert_eq!(sorted(&exported), expected);
    // JSON: the text, and the parts as fields.
    let listed: serde_json::Value =
        serde_json::from_str(&f.ok(&["tuples", "list", "--format", "json"])).unwrap();
    let tuples = listed["tuples"].as_array().unwrap();
    let texts: Vec<String> = tuples
        .iter()
        .map(|t| t["tuple"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sorted(&texts.join("\n")), expected);
    let cy = tuples
        .iter()
        .find(|t| t["tuple"].as_str().unwrap().contains("user:cy"))
        .unwrap();
    assert_eq!(cy["condition"]["name"], "office_network");
    assert_eq!(cy["condition"]["context"]["cidr"], "10.0.0.0/8");
    assert_eq!(cy["expires_at"], "2027-06-30T12:00:00.500Z");
    // Exported, imported into another database, exported again: the same.
    f.ok(&["tuples", "export", "-o", "out.tuples"]);
    f.ok(&[
        "tuples",
        "import",
        "--db",
        "db2",
        "--schema",
        "office.json",
        "out.tuples",
    ]);
    assert_eq!(
        sorted(&f.ok(&["tuples", "export", "--db", "db2"])),
        expected
    );
    // Keto's JSON carries them as fields and reads them back.
    f.ok(&[
        "tuples",
        "export",
        "--tuple-format",
        "keto-json",
        "-o",
        "keto.json",
    ]);
    f.ok(&[
        "tuples",
        "import",
        "--db",
        "db3",
        "--schema",
        "office.json",
        "keto.json",
    ]);
    assert_eq!(
        sorted(&f.ok(&["tuples", "export", "--db", "db3"])),
        expected
    );
}

#[test]
fn tuples_with_conditions_pass_validation_before_anything_is_written() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), TUPLES).unwrap();
    // `--format json` of an import reports what was read, whatever the store keeps.
    let out = f.ok(&[
        "tuples",
        "import",
        "--schema",
        "office.json",
        "--format",
        "json",
        "in.tuples",
    ]);
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["tuples"], 5, "{out}");
}

#[test]
fn refused_conditions_and_expiries_are_reported_at_their_suffix() {
    let f = Fixture::new();
    let bad = concat!(
        "document:d#viewer@user:bob[expiration:2027-01-01T00:00:00Z]\n",
        "document:d#viewer@user:bob[office_netwrk]\n",
        "document:d#viewer@user:bob[office_network:{\"cidr\": 8}]\n",
        "document:d#viewer@user:bob[office_network:{\"cidr\": }]\n",
        "document:d#viewer@group:eng#member\n",
    );
    std::fs::write(f.path("bad.tuples"), bad).unwrap();
    let out = f.zanzi(&["tuples", "import", "--schema", "office.json", "bad.tuples"]);
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    for expected in [
        "bad.tuples:1:27",
        "got `user:bob` with an expiry",
        "`user with office_network`",
        "bad.tuples:2:27",
        "did you mean `office_network`?",
        "bad.tuples:3:27",
        "parameter `cidr` of condition `office_network` has type `string`",
        "bad.tuples:4:",
        "invalid JSON in the context of condition `office_network`",
        "bad.tuples:5:19",
        "got `group:eng#member` without a condition",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    // Nothing was written.
    let out = f.zanzi(&["tuples", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

/// `zanzi check` with conditions: conditional (exit 3) names what is
/// missing, `--condition-context` decides, `--now` judges expiry, and a
/// contextual tuple holds for one question.
#[test]
fn check_answers_conditional_allowed_or_denied() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), TUPLES).unwrap();
    f.ok(&["tuples", "import", "--schema", "office.json", "in.tuples"]);
    let check = |args: &[&str]| {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        let out = f.zanzi(&all);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let before = ["--now", "2027-01-01T00:00:00Z"];
    let (code, out, _) = check(&[&before[..], &["document:d#editor@user:cy"]].concat());
    assert_eq!(
        (code, out.as_str()),
        (Some(3), "conditional (missing client_ip)\n")
    );
    let inside = ["--condition-context", r#"{"client_ip": "10.1.1.1"}"#];
    let (code, out, _) = check(&[&before[..], &inside, &["document:d#editor@user:cy"]].concat());
    assert_eq!((code, out.as_str()), (Some(0), "allowed\n"));
    let outside = ["--condition-context", r#"{"client_ip": "192.0.2.1"}"#];
    let (code, _, _) = check(&[&before[..], &outside, &["document:d#editor@user:cy"]].concat());
    assert_eq!(code, Some(1));
    // After its expiry the tuple counts for nothing, whatever the context.
    let after = ["--now", "2027-07-01T00:00:00Z"];
    let (code, out, _) = check(&[&after[..], &inside, &["document:d#editor@user:cy"]].concat());
    assert_eq!((code, out.as_str()), (Some(1), "denied\n"));
    let (code, _, _) = check(&[
        "--now",
        "2026-12-31T23:59:59Z",
        "document:d#editor@user:bob",
    ]);
    assert_eq!(code, Some(0));
    let (code, _, _) = check(&[
        "--now",
        "2027-01-01T00:00:00Z",
        "document:d#editor@user:bob",
    ]);
    assert_eq!(code, Some(1));
    // A contextual tuple, validated and never stored.
    let (code, _, _) = check(&[
        "--contextual-tuple",
        "document:d#editor@user:zed",
        "document:d#editor@user:zed",
    ]);
    assert_eq!(code, Some(0));
    let (code, _, _) = check(&["document:d#editor@user:zed"]);
    assert_eq!(code, Some(1));
    let (code, _, err) = check(&[
        "--contextual-tuple",
        "document:d#editor@team:x",
        "document:d#editor@user:zed",
    ]);
    assert_eq!(code, Some(2), "{err}");
    // JSON says the same, with the missing parameters.
    let (code, out, _) = check(
        &[
            &before[..],
            &["--format", "json", "document:d#editor@user:cy"],
        ]
        .concat(),
    );
    assert_eq!(code, Some(3));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["result"], "conditional");
    assert_eq!(report["allowed"], false);
    assert_eq!(report["missing"], serde_json::json!(["client_ip"]));
    // A question carries no condition.
    let (code, _, err) = check(&["document:d#editor@user:cy[office_network]"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("carries no condition"), "{err}");
    // Bad context JSON is named.
    let (code, _, err) = check(&["--condition-context", "[1]", "document:d#editor@user:cy"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--condition-context"), "{err}");
}

/// [`TUPLES`] without the expiring ones, which OpenFGA cannot hold.
const OPENFGA_TUPLES: &str = r#"document:d#editor@user:ann
document:d#viewer@group:eng#member[office_network]
document:d#viewer@user:dee[office_network:{"cidr":"10.0.0.0/8 // ] #"}]
"#;

#[test]
fn openfga_csv_export_carries_conditions_and_reads_them_back() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), OPENFGA_TUPLES).unwrap();
    f.ok(&["tuples", "import", "--schema", "office.json", "in.tuples"]);
    f.ok(&[
        "tuples",
        "export",
        "--tuple-format",
        "openfga",
        "-o",
        "out.csv",
    ]);
    let csv = std::fs::read_to_string(f.path("out.csv")).unwrap();
    assert_eq!(
        sorted(&csv),
        sorted(concat!(
            "user_type,user_id,user_relation,relation,object_type,object_id,condition_name,condition_context\n",
            "user,ann,,editor,document,d,,\n",
            "group,eng,member,viewer,document,d,office_network,\n",
            "user,dee,,viewer,document,d,office_network,\"{\"\"cidr\"\":\"\"10.0.0.0/8 // ] #\"\"}\"\n",
        ))
    );
    f.ok(&[
        "tuples",
        "import",
        "--db",
        "db2",
        "--schema",
        "office.json",
        "out.csv",
    ]);
    assert_eq!(
        sorted(&f.ok(&["tuples", "export", "--db", "db2"])),
        sorted(OPENFGA_TUPLES)
    );
}

#[test]
fn openfga_json_exports_write_the_condition_as_fga_does() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), OPENFGA_TUPLES).unwrap();
    f.ok(&["tuples", "import", "--schema", "office.json", "in.tuples"]);
    let dee = serde_json::json!({
        "user": "user:dee", "relation": "viewer", "object": "document:d",
        "condition": {"name": "office_network", "context": {"cidr": "10.0.0.0/8 // ] #"}},
    });
    let eng = serde_json::json!({
        "user": "group:eng#member", "relation": "viewer", "object": "document:d",
        "condition": {"name": "office_network"},
    });
    f.ok(&[
        "tuples",
        "export",
        "--tuple-format",
        "openfga",
        "-o",
        "out.json",
    ]);
    let listed: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(f.path("out.json")).unwrap()).unwrap();
    assert!(listed.contains(&dee) && listed.contains(&eng), "{listed:?}");
    f.ok(&[
        "tuples",
        "export",
        "--tuple-format",
        "openfga",
        "-o",
        "out.jsonl",
    ]);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(f.path("out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.contains(&dee) && lines.contains(&eng), "{lines:?}");
    f.ok(&[
        "tuples",
        "export",
        "--tuple-format",
        "openfga",
        "-o",
        "out.yaml",
    ]);
    let yaml = std::fs::read_to_string(f.path("out.yaml")).unwrap();
    assert!(
        yaml.contains(
            "- user: \"user:dee\"\n  relation: \"viewer\"\n  object: \"document:d\"\n  condition: {\"name\":\"office_network\",\"context\":{\"cidr\":\"10.0.0.0/8 // ] #\"}}\n"
        ),
        "{yaml}"
    );
}

/// Reading the JSON lists back needs `openfga_item` to read conditions.
#[test]
fn openfga_json_exports_read_back() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), OPENFGA_TUPLES).unwrap();
    f.ok(&["tuples", "import", "--schema", "office.json", "in.tuples"]);
    for (n, file) in ["out.json", "out.jsonl", "out.yaml"].iter().enumerate() {
        f.ok(&["tuples", "export", "--tuple-format", "openfga", "-o", file]);
        let db = format!("db{n}");
        f.ok(&[
            "tuples",
            "import",
            "--db",
            &db,
            "--schema",
            "office.json",
            file,
        ]);
        assert_eq!(
            sorted(&f.ok(&["tuples", "export", "--db", &db])),
            sorted(OPENFGA_TUPLES),
            "{file}"
        );
    }
}

#[test]
fn openfga_export_refuses_an_expiring_tuple_by_name() {
    let f = Fixture::new();
    std::fs::write(f.path("in.tuples"), TUPLES).unwrap();
    f.ok(&["tuples", "import", "--schema", "office.json", "in.tuples"]);
    for file in ["out.csv", "out.json"] {
        let out = f.zanzi(&["tuples", "export", "--tuple-format", "openfga", "-o", file]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("`document:d#editor@user:bob[expiration:2027-01-01T00:00:00Z]`")
                && err.contains("OpenFGA's tuples cannot expire"),
            "{err}"
        );
    }
}
