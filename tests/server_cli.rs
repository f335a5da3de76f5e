//! `zanzi serve` and `zanzi status` as a user runs them: settings from a
//! config file, the environment and flags, JSON logs, SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn zanzi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zanzi"))
}

#[test]
fn serve_reads_its_settings_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.zanzi");
    std::fs::write(
        &schema,
        "namespace user {}\nnamespace doc { relation viewer: user  permission view = viewer }\n",
    )
    .unwrap();
    let config = dir.path().join("zanzi.yaml");
    // The file asks for depth 3, the environment for 5, the flag for 4: the flag wins.
    std::fs::write(
        &config,
        format!(
            "schema: {}\ndb: {}\nmax_depth: 3\nread_port: 0\nwrite_port: 0\nmetrics_port: 0\nsyntax_port: 0\n",
            schema.display(),
            dir.path().join("z.db").display()
        ),
    )
    .unwrap();
    let mut child = zanzi()
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--log-format", "json", "--max-depth", "4"])
        .env("ZANZI_MAX_DEPTH", "5")
        .env("ZANZI_SECRET", "s")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut read = String::new();
    let mut write = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let record: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"));
        if record["fields"]["message"] == "zanzi serving" {
            read = record["fields"]["read"].as_str().unwrap().to_owned();
            write = record["fields"]["write"].as_str().unwrap().to_owned();
            break;
        }
    }
    assert!(!read.is_empty(), "the server announced its listeners");
    let status = zanzi()
        .args(["status", "--block", "--timeout", "10", "--remote"])
        .arg(format!("http://{read}"))
        .output()
        .unwrap();
    assert!(status.status.success());
    assert_eq!(String::from_utf8_lossy(&status.stdout).trim(), "ready");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let r = http
            .put(format!("http://{write}/admin/relation-tuples"))
            .body(r#"{"namespace":"doc","object":"a","relation":"viewer","subject_id":"alice"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        // max-depth above the configured limit (4) is clamped, not refused.
        let r = http
            .get(format!("http://{read}/relation-tuples/check?namespace=doc&object=a&relation=view&subject_id=alice&max-depth=50"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });

    // The CLI asks the running server instead of a local database.
    let remote = format!("http://{read}");
    let allowed = zanzi()
        .args(["check", "--remote", &remote, "doc:a#view@user:alice"])
        .output()
        .unwrap();
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&allowed.stdout).trim(),
        "allowed doc:a#view@user:alice"
    );
    let denied = zanzi()
        .args(["check", "--remote", &remote, "doc:a#view@user:bob"])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(1));
    let expanded = zanzi()
        .args(["expand", "--remote", &remote, "doc:a#view"])
        .output()
        .unwrap();
    assert!(expanded.status.success());
    assert!(String::from_utf8_lossy(&expanded.stdout).contains("alice"));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status on SIGTERM: {exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");

    // What was written is there after a restart.
    let store = zanzi::SqliteStore::open(dir.path().join("z.db")).unwrap();
    use zanzi::TupleStore as _;
    let head = store.head_revision().unwrap();
    assert!(store
        .contains(&"doc:a#viewer@user:alice".parse().unwrap(), head)
        .unwrap());
}

#[test]
fn serve_refuses_bad_settings_and_schemas_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.zanzi");
    std::fs::write(&bad, "namespace doc { relation viewer: usr }\n").unwrap();
    let out = zanzi()
        .args(["serve", "--db", ":memory:", "--schema"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not compile") && stderr.contains("E0106"),
        "{stderr}"
    );

    let config = dir.path().join("zanzi.yaml");
    std::fs::write(&config, "max_dept: 3\n").unwrap();
    let out = zanzi()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown setting `max_dept`"));

    let out = zanzi()
        .args(["status", "--remote", "http://127.0.0.1:9", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
