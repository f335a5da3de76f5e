//! The commands on a local database, end to end through the binary, on the
//! Drive example: tuples written with a schema, questions asked without one
//! (the database keeps it), exit codes, every JSON document, paging, and
//! writes that must leave nothing behind when they are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const SCHEMA: &str = "examples/drive/drive.zanzi";
const VALIDATION: &str = "examples/drive/drive.test.yaml";

fn zanzi() -> Command {
    let mut cmd = Command::cargo_bin("zanzi").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("ZANZI_DB")
        .env("NO_COLOR", "1");
    cmd
}

/// `zanzi ARGS` on the database `db` (named by `ZANZI_DB`, so that
/// callers can append arguments).
fn on(db: &Path, args: &[&str]) -> Command {
    let mut cmd = zanzi();
    cmd.args(args).env("ZANZI_DB", db);
    cmd
}

fn json(db: &Path, args: &[&str]) -> Value {
    let out = on(db, args).args(["--format", "json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stdout(db: &Path, args: &[&str]) -> String {
    let out = on(db, args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The tuples block of the Drive validation file, as a tuple file.
fn drive_tuples() -> String {
    let yaml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(VALIDATION)).unwrap();
    let block = yaml
        .split("tuples: |\n")
        .nth(1)
        .unwrap()
        .split("\nassertions:")
        .next()
        .unwrap();
    block.lines().map(|l| format!("{}\n", l.trim())).collect()
}

/// The allowed and denied assertions of the Drive validation file.
fn drive_assertions() -> (Vec<String>, Vec<String>) {
    let yaml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(VALIDATION)).unwrap();
    let (mut allowed, mut denied) = (Vec::new(), Vec::new());
    let mut into = None;
    for line in yaml.lines() {
        match line.trim() {
            "allowed:" => into = Some(true),
            "denied:" => into = Some(false),
            "expected_subjects:" => into = None,
            item if item.starts_with("- ") => match into {
                Some(true) => allowed.push(item[2..].to_owned()),
                Some(false) => denied.push(item[2..].to_owned()),
                None => {}
            },
            _ => {}
        }
    }
    (allowed, denied)
}

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Fixture {
    fn empty() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("drive.db");
        Fixture { dir, db }
    }

    /// A database with the Drive tuples, imported with the schema.
    fn drive() -> Fixture {
        let f = Fixture::empty();
        let file = f.file("drive.tuples", &drive_tuples());
        on(&f.db, &["tuples", "import", "--schema", SCHEMA])
            .arg(&file)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("imported 31 tuples"));
        f
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn list(&self) -> Vec<String> {
        let doc = json(&self.db, &["tuples", "list", "--page-size", "100000"]);
        doc["tuples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tuple"].as_str().unwrap().to_owned())
            .collect()
    }

    fn head(&self) -> u64 {
        json(&self.db, &["migrate", "status"])["revision"]
            .as_u64()
            .unwrap()
    }
}

#[test]
fn checks_use_the_stored_schema_and_answer_in_the_exit_status() {
    let f = Fixture::drive();
    let (allowed, denied) = drive_assertions();
    assert!(allowed.len() > 10 && denied.len() > 10);
    for check in &allowed {
        on(&f.db, &["check", check])
            .assert()
            .code(0)
            .stdout("allowed\n");
    }
    for check in &denied {
        on(&f.db, &["check", check])
            .assert()
            .code(1)
            .stdout("denied\n");
    }
    let doc = json(&f.db, &["check", "document:roadmap#view@user:frank"]);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["result"], "allowed");
    assert_eq!(doc["allowed"], true);
    assert_eq!(doc["revision"], 1);
    assert_eq!(doc["max_depth"], 32);
    assert!(doc["schema"].as_str().unwrap().starts_with("sha256:"));
    let doc = json(&f.db, &["check", "document:api_spec#view@user:carol"]);
    assert_eq!(
        (&doc["result"], &doc["allowed"]),
        (&"denied".into(), &false.into())
    );
}

#[test]
fn explain_shows_the_derivation_or_the_failed_branches() {
    let f = Fixture::drive();
    on(
        &f.db,
        &["check", "--explain", "document:api_spec#edit@user:dave"],
    )
    .assert()
    .code(0)
    .stdout(
        predicate::str::starts_with("document:api_spec#edit@user:dave: allowed\n")
            .and(predicate::str::contains(
                "✓ via document:api_spec#parent@folder:backend_specs",
            ))
            .and(predicate::str::contains(
                "✓ tuple folder:backend_specs#owner@user:dave",
            )),
    );
    on(
        &f.db,
        &["check", "--explain", "document:api_spec#view@user:carol"],
    )
    .assert()
    .code(1)
    .stdout(
        predicate::str::starts_with("document:api_spec#view@user:carol: denied\n").and(
            predicate::str::contains("✓ tuple document:api_spec#banned@user:carol"),
        ),
    );
    let doc = json(
        &f.db,
        &["check", "--explain", "document:faq#view@user:stranger"],
    );
    assert_eq!(doc["result"], "allowed");
    assert_eq!(doc["explanation"]["outcome"], "granted");
    assert_eq!(doc["explanation"]["tree"]["step"], "permission");
}

#[test]
fn expand_prints_the_tree() {
    let f = Fixture::drive();
    let text = stdout(&f.db, &["expand", "group:staff#member"]);
    assert!(text.starts_with("group:staff#member: "), "{text}");
    assert!(text.contains("user:frank"), "{text}");
    assert!(text.contains("group:eng#member: "), "{text}");
    let doc = json(
        &f.db,
        &["expand", "document:roadmap#view", "--max-depth", "1"],
    );
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["userset"], "document:roadmap#view");
    assert_eq!(doc["max_depth"], 1);
    assert_eq!(doc["tree"]["kind"], "computed");
    assert!(doc.to_string().contains("\"truncated\""));
}

/// Follows `next_cursor` from page to page.
fn all_pages(db: &Path, args: &[&str], field: &str, limit: &str) -> (Vec<String>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--limit", limit]);
        if let Some(c) = &cursor {
            full.extend(["--cursor", c.as_str()]);
        }
        let doc = json(db, &full);
        pages += 1;
        let page: Vec<String> = doc[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert!(page.len() <= limit.parse().unwrap());
        items.extend(page);
        match doc["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (items, pages),
        }
    }
}

#[test]
fn lookups_page_through_one_snapshot() {
    let f = Fixture::drive();
    let all = stdout(
        &f.db,
        &["lookup-resources", "document", "view", "user:frank"],
    );
    assert_eq!(
        all,
        "document:api_spec\ndocument:faq\ndocument:launch_plan\ndocument:press_kit\ndocument:roadmap\n"
    );
    let args = ["lookup-resources", "document", "view", "user:frank"];
    let (ids, pages) = all_pages(&f.db, &args, "resource_ids", "2");
    assert_eq!(
        ids,
        ["api_spec", "faq", "launch_plan", "press_kit", "roadmap"]
    );
    assert_eq!(pages, 3);
    on(
        &f.db,
        &[
            "lookup-resources",
            "document",
            "view",
            "user:frank",
            "--limit",
            "2",
        ],
    )
    .assert()
    .code(0)
    .stdout("document:api_spec\ndocument:faq\n")
    .stderr(predicate::str::contains("more results: --cursor "));

    let args = ["lookup-subjects", "document:roadmap#view", "user"];
    let (ids, pages) = all_pages(&f.db, &args, "subject_ids", "4");
    assert_eq!(ids, ["alice", "bob", "carol", "dave", "erin", "frank"]);
    assert_eq!(pages, 2);
    let doc = json(&f.db, &["lookup-subjects", "document:faq#view", "user"]);
    assert_eq!(doc["wildcard"], true);
    assert_eq!(doc["excluded"], serde_json::json!(["mallory"]));
    assert_eq!(doc["next_cursor"], Value::Null);
    assert_eq!(
        stdout(&f.db, &["lookup-subjects", "document:faq#view", "user"])
            .lines()
            .next(),
        Some("user:* (except user:mallory)")
    );

    // A cursor pins the revision of its first page: later writes do not
    // shift the pages of a listing already under way.
    let first = json(&f.db, &[&args[..], &["--limit", "4"]].concat());
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    on(
        &f.db,
        &["tuples", "write", "document:roadmap#viewer@user:zoe"],
    )
    .assert()
    .code(0);
    let second = json(
        &f.db,
        &[&args[..], &["--limit", "4", "--cursor", &cursor]].concat(),
    );
    assert_eq!(second["revision"], first["revision"]);
    assert_eq!(second["subject_ids"], serde_json::json!(["erin", "frank"]));
    on(
        &f.db,
        &[
            "lookup-resources",
            "document",
            "view",
            "user:frank",
            "--cursor",
            "nonsense",
        ],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("invalid page token `nonsense`"));
}

#[test]
fn list_and_export_round_trip() {
    let f = Fixture::drive();
    let listed = f.list();
    assert_eq!(listed.len(), 31);
    assert_eq!(listed[0], "group:backend#member@user:dave");

    // Pages of the human listing carry on where the previous one stopped.
    let out = on(&f.db, &["tuples", "list", "--page-size", "20"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let token = stderr
        .trim()
        .strip_prefix("more tuples: --page-token ")
        .unwrap();
    let rest = stdout(
        &f.db,
        &["tuples", "list", "--page-size", "20", "--page-token", token],
    );
    let first = String::from_utf8(out.stdout).unwrap();
    assert_eq!(format!("{first}{rest}").lines().collect::<Vec<_>>(), listed);

    let doc = json(&f.db, &["tuples", "list", "--relation", "banned"]);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["next_page_token"], Value::Null);
    let banned = doc["tuples"].as_array().unwrap();
    assert_eq!(banned.len(), 3);
    assert_eq!(banned[0]["object"]["id"], "api_spec");
    assert_eq!(banned[0]["subject"]["type"], "object");
    let filtered = stdout(&f.db, &["tuples", "list", "--object", "document:faq"]);
    assert_eq!(filtered.lines().count(), 3);

    let export = f.dir.path().join("export.tuples");
    on(&f.db, &["tuples", "export", "-o"])
        .arg(&export)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "exported 31 tuples at revision 1",
        ));
    let exported = std::fs::read_to_string(&export).unwrap();
    assert_eq!(exported.lines().collect::<Vec<_>>(), listed);
    let piped = on(&f.db, &["tuples", "export", "--subject", "user:*"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(piped.stdout).unwrap(),
        "folder:public#viewer@user:*\ndocument:faq#viewer@user:*\n"
    );
    assert!(String::from_utf8(piped.stderr)
        .unwrap()
        .contains("exported 2 tuples"));

    let copy = f.dir.path().join("copy.db");
    let doc: Value = serde_json::from_slice(
        &on(
            &copy,
            &["tuples", "import", "--schema", SCHEMA, "--format", "json"],
        )
        .arg(&export)
        .output()
        .unwrap()
        .stdout,
    )
    .unwrap();
    assert_eq!(doc["tuples"], 31);
    assert_eq!(doc["inserted"], 31);
    let copied = Fixture {
        dir: tempfile::tempdir().unwrap(),
        db: copy,
    };
    assert_eq!(copied.list(), listed);
}

#[test]
fn deletes_by_tuple_and_by_filter() {
    let f = Fixture::drive();
    on(&f.db, &["check", "document:roadmap#comment@user:bob"])
        .assert()
        .code(0);
    on(
        &f.db,
        &["tuples", "delete", "document:roadmap#commenter@user:bob"],
    )
    .assert()
    .code(0)
    .stdout("deleted 1 tuple at revision 2\n");
    on(&f.db, &["check", "document:roadmap#comment@user:bob"])
        .assert()
        .code(1);
    // The question at the older revision still sees the tuple.
    on(
        &f.db,
        &["check", "document:roadmap#comment@user:bob", "--at", "1"],
    )
    .assert()
    .code(0);
    let doc = json(&f.db, &["tuples", "delete", "--namespace", "group"]);
    assert_eq!(doc["version"], 1);
    assert_eq!(
        (doc["revision"].as_u64(), doc["tuples"].as_u64()),
        (Some(3), Some(7))
    );
    assert!(f.list().iter().all(|t| !t.starts_with("group:")));
    let doc = json(
        &f.db,
        &[
            "tuples",
            "delete",
            "--relation",
            "banned",
            "--subject",
            "user:mallory",
        ],
    );
    assert_eq!(doc["tuples"], 2);
    assert_eq!(f.list().len(), 31 - 1 - 7 - 2);
    // Neither tuples nor a filter, or both: usage errors.
    on(&f.db, &["tuples", "delete"]).assert().code(2);
    on(
        &f.db,
        &[
            "tuples",
            "delete",
            "--namespace",
            "folder",
            "folder:x#owner@user:a",
        ],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("not both"));
    assert_eq!(f.list().len(), 21);
}

#[test]
fn a_bad_line_in_an_import_is_located_and_nothing_is_written() {
    let f = Fixture::empty();
    let file = f.file(
        "bad.tuples",
        "group:eng#member@user:carol\n// comment\ndocument:readme#viewer@user:alice#\ndocument:readme#viewr@user:alice\n",
    );
    let name = file.display().to_string();
    on(&f.db, &["tuples", "import", "--schema", SCHEMA])
        .arg(&file)
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicate::str::contains(format!("{name}:3:35: empty subject relation name"))
                .and(predicate::str::contains(format!(
                    "{name}:4:17: `document` has no relation `viewr`"
                )))
                .and(predicate::str::contains(
                    "2 bad tuples; nothing was written",
                )),
        );
    assert!(!f.db.exists(), "a refused import creates no database");

    // Into an existing database: still nothing written.
    let good = f.file("good.tuples", "group:eng#member@user:carol\n");
    on(&f.db, &["tuples", "import", "--schema", SCHEMA])
        .arg(&good)
        .assert()
        .code(0);
    let doc: Value = serde_json::from_slice(
        &on(&f.db, &["tuples", "import", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["written"], false);
    assert_eq!(doc["error_count"], 2);
    assert_eq!(doc["errors"][0]["line"], 3);
    assert_eq!(doc["errors"][0]["column"], 35);
    assert_eq!(doc["errors"][1]["file"], name.as_str());
    assert_eq!(f.head(), 1);
    assert_eq!(f.list(), ["group:eng#member@user:carol"]);
}

#[test]
fn many_bad_lines_are_capped() {
    let f = Fixture::empty();
    let text: String = (0..25)
        .map(|i| format!("group:g{i}#member@usr:x\n"))
        .collect();
    let file = f.file("many.tuples", &text);
    let out = on(&f.db, &["tuples", "import", "--schema", SCHEMA])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr
            .matches("accepts `user`, `group#member`; got `usr:x`")
            .count(),
        20
    );
    assert!(stderr.contains("and 5 more\n"), "{stderr}");
    assert!(
        stderr.contains("25 bad tuples; nothing was written"),
        "{stderr}"
    );
}

#[test]
fn schema_violations_write_nothing() {
    let f = Fixture::drive();
    on(
        &f.db,
        &[
            "tuples",
            "write",
            "document:new#viewer@user:zoe",
            "document:new#view@user:zoe",
            "document:new#banned@user:*",
        ],
    )
    .assert()
    .code(1)
    .stderr(
        predicate::str::contains(
            "argument 2, column 14: `document#view` is a permission and cannot be written",
        )
        .and(predicate::str::contains(
            "argument 3, column 21: `document#banned` accepts `user`; got `user:*`",
        )),
    );
    assert_eq!(f.head(), 1);
    on(&f.db, &["check", "document:new#view@user:zoe"])
        .assert()
        .code(1);

    // From standard input, lines are located like a file's.
    on(&f.db, &["tuples", "write", "-"])
        .write_stdin("document:new#viewer@user:zoe\n\ndocument:new#owner@group:eng#member\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "<stdin>:3:20: `document#owner` accepts `user`; got `group:eng#member`",
        ));
    assert_eq!(f.head(), 1);
    let doc = json(&f.db, &["tuples", "write", "document:new#viewer@user:zoe"]);
    assert_eq!(
        (doc["ok"].as_bool(), doc["revision"].as_u64()),
        (Some(true), Some(2))
    );
    on(&f.db, &["tuples", "write", "-"])
        .write_stdin("// more\ndocument:new#owner@user:zoe\n")
        .assert()
        .code(0)
        .stdout("wrote 1 tuple at revision 3\n");
}

#[test]
fn notation_errors_on_the_command_line_are_usage_errors() {
    let f = Fixture::drive();
    on(&f.db, &["check", "document:roadmap@user:bob"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "invalid check `document:roadmap@user:bob` at column 17: expected `#` after the object",
        ));
    on(
        &f.db,
        &[
            "tuples",
            "write",
            "document:x#viewer@user:a",
            "document:x#viewer@",
        ],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "at column 19: empty subject namespace name",
    ));
    on(&f.db, &["expand", "document:x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected `#` after the object"));
    on(&f.db, &["check", "document:x#view@user:*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot be the subject of a question",
        ));
    on(&f.db, &["check", "document:x#nope@user:a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`document` has no relation or permission `nope`",
        ));
    assert_eq!(f.head(), 1);
}

#[test]
fn the_depth_limit_is_an_error_not_a_deny() {
    let f = Fixture::empty();
    let chain: Vec<String> = (0..6)
        .map(|i| format!("group:g{i}#member@group:g{}#member", i + 1))
        .chain(["group:g6#member@user:zed".to_owned()])
        .collect();
    let mut args = vec!["tuples", "write", "--schema", SCHEMA];
    args.extend(chain.iter().map(String::as_str));
    on(&f.db, &args).assert().code(0);
    on(&f.db, &["check", "group:g0#member@user:zed"])
        .assert()
        .code(0);
    on(
        &f.db,
        &["check", "group:g0#member@user:zed", "--max-depth", "3"],
    )
    .assert()
    .code(2)
    .stdout("")
    .stderr(
        predicate::str::contains("maximum depth 3 exceeded: group:g0#member -> ")
            .and(predicate::str::contains("--max-depth")),
    );
    let doc = json(
        &f.db,
        &["check", "group:g0#member@user:zed", "--max-depth", "3"],
    );
    assert_eq!(doc["result"], "error");
    assert_eq!(doc["allowed"], Value::Null);
    assert!(doc["error"]
        .as_str()
        .unwrap()
        .starts_with("maximum depth 3 exceeded"));
    on(
        &f.db,
        &[
            "check",
            "--explain",
            "group:g0#member@user:zed",
            "--max-depth",
            "3",
        ],
    )
    .assert()
    .code(2)
    .stdout(predicate::str::contains("depth limit reached"))
    .stderr(predicate::str::contains("maximum depth 3 exceeded"));
    on(
        &f.db,
        &[
            "lookup-subjects",
            "group:g0#member",
            "user",
            "--max-depth",
            "3",
        ],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("maximum depth 3 exceeded"));
    on(
        &f.db,
        &["check", "group:g0#member@user:zed", "--max-depth", "513"],
    )
    .assert()
    .code(2);
}

#[test]
fn the_schema_comes_from_the_database_or_the_command_line() {
    let f = Fixture::empty();
    // No database yet: reads say so, writes need a schema to create it.
    on(&f.db, &["check", "document:x#view@user:a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    on(&f.db, &["tuples", "write", "group:g#member@user:a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--schema was not given"));
    assert!(!f.db.exists());
    // A database without a stored schema.
    on(&f.db, &["migrate", "up"]).assert().code(0);
    on(&f.db, &["check", "group:g#member@user:a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no schema"));
    // Compiled IR works as well as source.
    let ir = f.dir.path().join("drive.json");
    zanzi()
        .args(["compile", SCHEMA, "-o"])
        .arg(&ir)
        .assert()
        .code(0);
    on(&f.db, &["check", "group:g#member@user:a", "--schema"])
        .arg(&ir)
        .assert()
        .code(1);
    on(
        &f.db,
        &["tuples", "write", "group:g#member@user:a", "--schema"],
    )
    .arg(&ir)
    .assert()
    .code(0);
    let stored = json(&f.db, &["migrate", "status"])["schema"].clone();
    assert!(stored.as_str().unwrap().starts_with("sha256:"));

    // Another schema on a read: used once, with a note; the stored one stays.
    let other = f.file(
        "other.zanzi",
        "namespace user {}\nnamespace group { relation member: user relation admin: user }\n",
    );
    on(&f.db, &["check", "group:g#admin@user:a", "--schema"])
        .arg(&other)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("differs from the one stored")
                .and(predicate::str::contains("used for this command only")),
        );
    on(&f.db, &["check", "group:g#admin@user:a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no relation or permission `admin`",
        ));
    assert_eq!(json(&f.db, &["migrate", "status"])["schema"], stored);
    // On a write, it replaces the stored one.
    on(
        &f.db,
        &["tuples", "write", "group:g#admin@user:a", "--schema"],
    )
    .arg(&other)
    .assert()
    .code(0)
    .stderr(predicate::str::contains("replaces the stored one"));
    on(&f.db, &["check", "group:g#admin@user:a"])
        .assert()
        .code(0);
    assert_ne!(json(&f.db, &["migrate", "status"])["schema"], stored);

    // A schema with errors: its diagnostics, and exit 2.
    let broken = f.file(
        "broken.zanzi",
        "namespace user {}\nnamespace doc { relation viewer: usr }\n",
    );
    on(&f.db, &["check", "doc:x#viewer@user:a", "--schema"])
        .arg(&broken)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("error[E")
                .and(predicate::str::contains("has 1 error; nothing was done")),
        );
}

#[test]
fn migrate_status_and_up() {
    let f = Fixture::empty();
    let doc = json(&f.db, &["migrate", "status"]);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["exists"], false);
    assert_eq!(doc["current"], 0);
    assert_eq!(doc["up_to_date"], false);
    assert_eq!(
        doc["pending"],
        serde_json::json!([
            "0001_tuples",
            "0002_schema",
            "0003_meta",
            "0004_live_history",
            "0005_history_chain",
            "0006_conditions",
            "0007_attributed_relations"
        ])
    );
    assert_eq!(doc["revision"], Value::Null);
    on(&f.db, &["migrate", "status"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("does not exist"));
    assert!(!f.db.exists(), "status creates nothing");

    let doc = json(&f.db, &["migrate", "up"]);
    assert_eq!(doc["exists"], true);
    assert_eq!(doc["up_to_date"], true);
    assert_eq!(
        doc["newly_applied"],
        serde_json::json!([
            "0001_tuples",
            "0002_schema",
            "0003_meta",
            "0004_live_history",
            "0005_history_chain",
            "0006_conditions",
            "0007_attributed_relations"
        ])
    );
    assert_eq!(
        (doc["revision"].as_u64(), doc["tuples"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(doc["schema"], Value::Null);
    // `--db` names the database as well as `ZANZI_DB` does.
    zanzi()
        .args(["migrate", "up", "--db"])
        .arg(&f.db)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("is up to date (version 7)"));

    let f = Fixture::drive();
    let doc = json(&f.db, &["migrate", "status"]);
    assert_eq!(
        doc["applied"],
        serde_json::json!([
            "0001_tuples",
            "0002_schema",
            "0003_meta",
            "0004_live_history",
            "0005_history_chain",
            "0006_conditions",
            "0007_attributed_relations"
        ])
    );
    assert_eq!(doc["pending"], serde_json::json!([]));
    assert_eq!(
        (doc["revision"].as_u64(), doc["tuples"].as_u64()),
        (Some(1), Some(31))
    );
}

#[test]
fn an_import_reports_batches_and_skips_what_is_present() {
    let f = Fixture::empty();
    let file = f.file("drive.tuples", &drive_tuples());
    let import = |batch: &str| -> Value {
        let out = on(
            &f.db,
            &[
                "tuples",
                "import",
                "--schema",
                SCHEMA,
                "--batch-size",
                batch,
                "--format",
                "json",
            ],
        )
        .arg(&file)
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty(), "no progress bar when not a terminal");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let doc = import("10");
    assert_eq!(doc["version"], 1);
    assert_eq!(
        (doc["tuples"].as_u64(), doc["inserted"].as_u64()),
        (Some(31), Some(31))
    );
    assert_eq!(doc["batches"], 4);
    assert_eq!(
        (
            doc["first_revision"].as_u64(),
            doc["last_revision"].as_u64()
        ),
        (Some(1), Some(4))
    );
    assert!(doc["seconds"].as_f64().unwrap() >= 0.0);
    assert!(doc["tuples_per_second"].as_f64().unwrap() > 0.0);
    // Timings to the millisecond and rates in whole tuples, not float noise.
    for (key, decimals) in [
        ("seconds", 3),
        ("validate_seconds", 3),
        ("write_seconds", 3),
        ("tuples_per_second", 1),
    ] {
        let text = doc[key].to_string();
        let fraction = text.split_once('.').map_or("", |(_, f)| f);
        assert!(fraction.len() <= decimals, "{key}: {text}");
    }
    let again = import("100");
    assert_eq!(
        (again["inserted"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(31))
    );
    assert_eq!(f.list().len(), 31);
    on(&f.db, &["tuples", "import", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read standard input"));
}

#[test]
fn tuples_watch_prints_changes_from_a_point_and_as_they_come() {
    let f = Fixture::drive();
    // The whole import (revision 1) is in the feed.
    let out = on(&f.db, &["tuples", "watch", "--since", "0", "--limit", "31"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 31);
    assert!(lines.iter().all(|l| l.starts_with("+ ")), "{lines:?}");

    // A watcher from now on sees a later write and delete, by another
    // process, as JSON lines.
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .args([
            "tuples", "watch", "--limit", "2", "--format", "json", "--db",
        ])
        .arg(&f.db)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to read the head before the write.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let tuple = "document:memo#viewer@user:zed";
    on(&f.db, &["tuples", "write", tuple]).assert().code(0);
    on(&f.db, &["tuples", "delete", tuple]).assert().code(0);
    let started = std::time::Instant::now();
    while watch.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            watch.kill().unwrap();
            panic!("the watcher did not print the two changes within 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = watch.wait_with_output().unwrap();
    let changes: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String, u64)> = changes
        .iter()
        .map(|c| {
            (
                c["operation"].as_str().unwrap().to_owned(),
                c["tuple"].as_str().unwrap().to_owned(),
                c["revision"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("insert".to_owned(), tuple.to_owned(), 2),
            ("delete".to_owned(), tuple.to_owned(), 3),
        ]
    );

    // A token of another store, and a revision beyond the head, are refused.
    on(&f.db, &["tuples", "watch", "--since", "zk1_AAAA"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
    on(&f.db, &["tuples", "watch", "--since", "99"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in the future"));
}
