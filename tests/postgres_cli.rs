//! `--db postgres://…` through the command line and the server, against a
//! real PostgreSQL server (a throwaway cluster, see `support/postgres.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;

use assert_cmd::Command;
use predicates::prelude::*;
use zanzi::server::config::Settings;
use zanzi::server::AppState;
use zanzi::store::write_validated;
use zanzi::{Engine, Tuple};

const DRIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/drive/drive.zanzi");

fn zanzi(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("zanzi")
        .unwrap()
        .env_remove("ZANZI_DB")
        .args(args)
        .assert()
}

#[test]
fn the_cli_writes_checks_and_migrates_a_postgres_database() {
    let url = support::postgres::database();
    zanzi(&["migrate", "status", "--db", &url])
        .success()
        .stdout(predicate::str::contains("pending"));
    zanzi(&[
        "tuples",
        "write",
        "--db",
        &url,
        "--schema",
        DRIVE,
        "folder:root#viewer@user:alice",
        "document:readme#parent@folder:root",
    ])
    .success();
    // The schema travels with the data: no --schema from here on.
    zanzi(&["check", "--db", &url, "document:readme#view@user:alice"])
        .success()
        .stdout(predicate::str::starts_with("allowed"));
    zanzi(&["check", "--db", &url, "document:readme#view@user:bob"]).code(1);
    zanzi(&["tuples", "list", "--db", &url, "--namespace", "folder"])
        .success()
        .stdout(predicate::str::contains("folder:root#viewer@user:alice"));
    zanzi(&[
        "tuples",
        "delete",
        "--db",
        &url,
        "folder:root#viewer@user:alice",
    ])
    .success()
    .stdout(predicate::str::contains("deleted 1 tuple"));
    zanzi(&["check", "--db", &url, "document:readme#view@user:alice"]).code(1);
    zanzi(&["migrate", "status", "--db", &url])
        .success()
        .stdout(predicate::str::contains("revision 2, 1 live tuples"))
        .stdout(predicate::str::contains("pending").not());
}

#[test]
fn a_bad_postgres_url_is_one_clear_error_naming_the_database() {
    zanzi(&[
        "check",
        "--db",
        "postgres://zanzi:s3cret@127.0.0.1:1/none",
        "doc:a#view@user:b",
    ])
    .code(2)
    .stderr(predicate::str::contains(
        "postgres://zanzi:***@127.0.0.1:1/none",
    ))
    .stderr(predicate::str::contains("s3cret").not());
}

fn settings(url: &str) -> Settings {
    Settings {
        db: url.to_owned(),
        schema: Some(DRIVE.into()),
        secret: Some("shared secret".into()),
        ..Settings::default()
    }
}

/// Two servers on one database are replicas: a token from one is a
/// snapshot on the other, which sees the write; a server on another
/// database refuses it.
#[test]
fn replicas_on_one_postgres_database_share_snapshot_tokens() {
    let url = support::postgres::database();
    let first = Arc::new(AppState::open(settings(&url)).unwrap());
    let second = Arc::new(AppState::open(settings(&url)).unwrap());
    let grant: Tuple = "document:readme#viewer@user:carol".parse().unwrap();
    let revision = write_validated(first.store.as_ref(), &first.schema(), &[grant], &[]).unwrap();
    let token = first.snaptoken(revision);

    let at = second.tokens.parse_snapshot(&token).unwrap();
    assert_eq!(at, revision);
    let question: Tuple = "document:readme#view@user:carol".parse().unwrap();
    let schema = second.schema();
    let engine = Engine::new(&schema, second.store.as_ref());
    assert!(engine.check_tuple(&question, at).unwrap());

    let elsewhere = AppState::open(settings(&support::postgres::database())).unwrap();
    assert!(elsewhere.tokens.parse_snapshot(&token).is_err());
}
