//! `zanzi check --remote` and the lookups' `--remote` with `--context` and
//! `--contextual-tuple`, over http and grpc: the same answers and exit
//! codes as the local CLI, conditional results marked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::serve::Options;

const SCHEMA: &str = "
condition office_network(client_ip: ipaddress, cidr: string) {
  client_ip.in_cidr(cidr)
}
namespace user {}
namespace group {
  relation member: user
}
namespace document {
  relation viewer: user | user with office_network | group#member with office_network
  permission view = viewer
}
";

const TUPLES: &str = r#"document:d1#viewer@user:alice[office_network:{"cidr":"10.0.0.0/8"}]
document:d3#viewer@user:alice
"#;

fn zanzi(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zanzi"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ZANZI_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir)
        .env("ZANZI_CONFIG_DIR", dir.join("config"))
        .env("NO_COLOR", "1");
    command
}

fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let out = command.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn office_db(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("office.zanzi"), SCHEMA).unwrap();
    std::fs::write(dir.join("office.tuples"), TUPLES).unwrap();
    let db = dir.join("office.db");
    let (code, _, stderr) = run(zanzi(dir)
        .args(["tuples", "import", "--schema", "office.zanzi", "--db"])
        .arg(&db)
        .arg("office.tuples"));
    assert_eq!(code, Some(0), "{stderr}");
    db
}

#[test]
fn remote_checks_send_the_context_and_contextual_tuples_over_http_and_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let db = office_db(dir.path());
    let server = Options::new(db.to_str().unwrap()).start();
    let grpc = server.read.replace("http://", "grpc://");
    for url in [server.read.as_str(), grpc.as_str()] {
        let check = |args: &[&str]| {
            run(zanzi(dir.path())
                .arg("check")
                .args(args)
                .args(["--remote", url]))
        };
        let (code, out, err) = check(&["document:d1#view@user:alice"]);
        assert_eq!(code, Some(3), "{url}: {out}{err}");
        assert_eq!(out, "conditional (missing client_ip)\n", "{url}");
        let (code, out, err) = check(&[
            "document:d1#view@user:alice",
            "--condition-context",
            r#"{"client_ip": "10.1.2.3"}"#,
        ]);
        assert_eq!((code, out.as_str()), (Some(0), "allowed\n"), "{url}: {err}");
        let (code, out, _) = check(&[
            "document:d1#view@user:alice",
            "--condition-context",
            r#"{"client_ip": "192.168.0.1"}"#,
        ]);
        assert_eq!((code, out.as_str()), (Some(1), "denied\n"), "{url}");
        let (code, out, err) = check(&[
            "document:d2#view@user:bob",
            "--contextual-tuple",
            "document:d2#viewer@user:bob",
        ]);
        assert_eq!((code, out.as_str()), (Some(0), "allowed\n"), "{url}: {err}");
        // JSON: the local document's fields.
        let (code, out, _) = check(&["document:d1#view@user:alice", "--format", "json"]);
        assert_eq!(code, Some(3));
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["result"], "conditional");
        assert_eq!(doc["missing"], serde_json::json!(["client_ip"]));
        // A context the server refuses: its error, exit 2.
        let (code, _, err) = check(&[
            "document:d1#view@user:alice",
            "--condition-context",
            r#"{"client_ip": "not an address"}"#,
        ]);
        assert_eq!(code, Some(2), "{url}");
        assert!(err.contains("office_network"), "{url}: {err}");
        // The server's clock decides expiry.
        let (code, _, err) = check(&[
            "document:d1#view@user:alice",
            "--now",
            "2030-01-01T00:00:00Z",
        ]);
        assert_eq!(code, Some(2));
        assert!(err.contains("--now"), "{err}");
    }
    // The local CLI answers the same.
    let (code, out, _) = run(zanzi(dir.path())
        .args(["check", "document:d1#view@user:alice", "--db"])
        .arg(&db));
    assert_eq!(
        (code, out.as_str()),
        (Some(3), "conditional (missing client_ip)\n")
    );
}

#[test]
fn lookups_mark_conditional_results_locally_and_remotely() {
    let dir = tempfile::tempdir().unwrap();
    let db = office_db(dir.path());
    let server = Options::new(db.to_str().unwrap()).start();
    let grpc = server.read.replace("http://", "grpc://");
    let resources = ["lookup-resources", "document", "view", "user:alice"];
    let subjects = ["lookup-subjects", "document:d1#view", "user"];
    let local = |args: &[&str]| run(zanzi(dir.path()).args(args).arg("--db").arg(&db));
    let (code, out, err) = local(&resources);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out,
        "document:d3\ndocument:d1 (conditional: missing client_ip)\n"
    );
    let (_, out, _) = local(&subjects);
    assert_eq!(out, "user:alice (conditional: missing client_ip)\n");
    let with_context = ["--condition-context", r#"{"client_ip": "10.0.0.9"}"#];
    let (_, out, _) = local(&[&resources[..], &with_context[..]].concat());
    assert_eq!(out, "document:d1\ndocument:d3\n");
    for url in [server.read.as_str(), grpc.as_str()] {
        let remote = |args: &[&str]| run(zanzi(dir.path()).args(args).args(["--remote", url]));
        let (code, out, err) = remote(&resources);
        assert_eq!(code, Some(0), "{url}: {err}");
        assert_eq!(
            out, "document:d3\ndocument:d1 (conditional: missing client_ip)\n",
            "{url}"
        );
        let (_, out, _) = remote(&subjects);
        assert_eq!(
            out, "user:alice (conditional: missing client_ip)\n",
            "{url}"
        );
        let (_, out, _) = remote(&[&resources[..], &with_context[..]].concat());
        assert_eq!(out, "document:d1\ndocument:d3\n", "{url}");
        let (_, out, _) = remote(&[&resources[..], &["--format", "json"][..]].concat());
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["resource_ids"], serde_json::json!(["d3"]));
        assert_eq!(
            doc["conditional"],
            serde_json::json!([{"id": "d1", "missing": ["client_ip"]}])
        );
        let (_, out, err) = remote(
            &[
                &subjects[..],
                &["--contextual-tuple", "document:d1#viewer@user:bob"][..],
            ]
            .concat(),
        );
        assert_eq!(
            out, "user:bob\nuser:alice (conditional: missing client_ip)\n",
            "{url}: {err}"
        );
    }
}
