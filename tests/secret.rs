//! The token secret: required on PostgreSQL, shared by the servers of a
//! database (a fingerprint in the database says so), rotated without
//! downtime with `secret_previous`, read from `secret_file`, and never
//! shown in `Debug` output or logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use zanzi::server::config::Settings;
use zanzi::server::AppState;

const DRIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/drive/drive.zanzi");

fn settings(db: &str, secret: Option<&str>, previous: Option<&str>) -> Settings {
    Settings {
        db: db.to_owned(),
        schema: Some(DRIVE.into()),
        secret: secret.map(Into::into),
        secret_previous: previous.map(Into::into),
        ..Settings::default()
    }
}

fn open(db: &str, secret: Option<&str>, previous: Option<&str>) -> Result<AppState, String> {
    AppState::open(settings(db, secret, previous)).map_err(|e| e.to_string())
}

#[test]
fn a_server_on_postgres_needs_a_secret_and_sqlite_does_not() {
    let url = support::postgres::database();
    let error = open(&url, None, None).unwrap_err();
    for named in [
        "`secret`",
        "`secret_file`",
        "`ZANZI_SECRET`",
        "would refuse",
    ] {
        assert!(error.contains(named), "{error}");
    }
    open(":memory:", None, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    open(dir.path().join("z.db").to_str().unwrap(), None, None).unwrap();
}

#[test]
fn servers_of_one_database_share_the_secret_and_rotate_it_while_serving() {
    let url = support::postgres::database();
    let (old, new) = (Some("s3cr3t-old"), Some("s3cr3t-new"));
    let a = open(&url, old, None).unwrap();
    let error = open(&url, new, None).unwrap_err();
    assert!(
        error.contains("would not verify") && error.contains("`secret_previous`"),
        "{error}"
    );
    assert!(!error.contains("s3cr3t"), "{error}");
    let parses = |state: &AppState, token: &str| state.tokens.parse_snapshot(token).is_ok();

    // Step 1, one server after the other: each accepts the new secret's
    // tokens before any server issues them.
    let a1 = open(&url, old, new).unwrap();
    // Step 2: each signs with the new secret, accepting the old one's.
    let b2 = open(&url, new, old).unwrap();
    let (from_a, from_b2) = (a.snaptoken(a.known_head()), b2.snaptoken(b2.known_head()));
    assert!(parses(&b2, &from_a) && parses(&a1, &from_b2) && parses(&a1, &from_a));
    let a2 = open(&url, new, old).unwrap();
    assert!(parses(&a2, &from_a) && parses(&a2, &from_b2));
    // Step 3: the old secret goes; a server still on it alone cannot start.
    let b3 = open(&url, new, None).unwrap();
    assert!(parses(&b3, &from_b2) && !parses(&b3, &from_a));
    assert!(open(&url, old, None).is_err());
}

#[test]
fn the_secret_comes_from_a_file_and_never_shows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "correct horse battery staple\n").unwrap();
    let mut s = Settings::default();
    s.apply("--secret-file", "secret_file", file.to_str().unwrap())
        .unwrap();
    assert_eq!(
        s.secret.as_ref().unwrap().expose(),
        b"correct horse battery staple"
    );
    s.apply("ZANZI_SECRET_PREVIOUS", "secret_previous", "tr0ub4dor")
        .unwrap();
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("correct horse") && !shown.contains("tr0ub4dor"),
        "{shown}"
    );
    assert!(shown.contains("<redacted>"), "{shown}");
    std::fs::write(&file, "").unwrap();
    let error = s
        .apply("--secret-file", "secret_file", file.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`secret_file`") && error.contains(file.to_str().unwrap()),
        "{error}"
    );
    std::fs::write(&file, "correct horse battery staple\n").unwrap();

    // A server logging at debug level, over HTTP requests, says nothing of it.
    let mut server = Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .env_remove("ZANZI_DB")
        .env("ZANZI_SECRET_PREVIOUS", "tr0ub4dor")
        .args(["serve", "--log-level", "debug", "--log-format", "json"])
        .args(["--schema", DRIVE, "--db", ":memory:"])
        .arg("--secret-file")
        .arg(&file)
        .args(["--read-port", "0", "--write-port", "0"])
        .args(["--metrics-port", "0", "--syntax-port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut logged = String::new();
    let mut read = None;
    for line in log.by_ref() {
        let line = line.unwrap();
        logged.push_str(&line);
        logged.push('\n');
        let record: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if record["fields"]["message"] == "zanzi serving" {
            read = record["fields"]["read"].as_str().map(str::to_owned);
            break;
        }
    }
    let read = read.unwrap_or_else(|| panic!("the server did not start:\n{logged}"));
    let get = |query: &str| {
        let mut stream = std::net::TcpStream::connect(&read).unwrap();
        write!(
            stream,
            "GET /relation-tuples/check/openapi?namespace=document&object=x&relation=view\
             &subject_id=alice{query} HTTP/1.1\r\nHost: zanzi\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let answer = get("&snaptoken=zk2_AAAA");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let answer = get("");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = server.kill();
    let _ = server.wait();
    for line in log {
        logged.push_str(&line.unwrap());
        logged.push('\n');
    }
    assert!(logged.contains("\"level\":\"DEBUG\""), "{logged}");
    assert!(logged.contains("request refused"), "{logged}");
    assert!(
        !logged.contains("correct horse") && !logged.contains("tr0ub4dor"),
        "{logged}"
    );
}
