//! `zanzi migrate down` on SQLite and PostgreSQL (a throwaway cluster, see
//! `support/postgres.rs`): up → down → up keeps the tuples; reverting what
//! would delete tuples or the stored schema asks for `--yes`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use assert_cmd::Command;
use predicates::prelude::*;

const DRIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/drive/drive.zanzi");

fn zanzi(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("zanzi")
        .unwrap()
        .env_remove("ZANZI_DB")
        .args(args)
        .assert()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = zanzi(args).success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// The round trip and the refusals, on the database `db`, whose layout has
/// `latest` migrations, the first of which holds the tuples.
fn down_and_up_again(db: &str, latest: u64) {
    zanzi(&[
        "tuples",
        "write",
        "--db",
        db,
        "--schema",
        DRIVE,
        "folder:root#viewer@user:alice",
        "document:readme#parent@folder:root",
    ])
    .success();
    zanzi(&[
        "tuples",
        "delete",
        "--db",
        db,
        "document:readme#parent@folder:root",
    ])
    .success();
    zanzi(&[
        "tuples",
        "write",
        "--db",
        db,
        "document:readme#parent@folder:root",
    ])
    .success();

    // Down one step, unless that is the first migration (which holds the
    // tuples and asks for --yes).
    if latest > 1 {
        let report = json(&["migrate", "down", "--db", db, "--format", "json"]);
        assert_eq!(report["current"], latest - 1);
        assert_eq!(report["reverted"].as_array().unwrap().len(), 1);
        // Reads refuse a database that is behind, and `up` brings it back.
        zanzi(&["check", "--db", db, "document:readme#view@user:alice"])
            .code(2)
            .stderr(predicate::str::contains("migrat"));
        zanzi(&["migrate", "up", "--db", db]).success();
    }
    zanzi(&["check", "--db", db, "document:readme#view@user:alice"])
        .success()
        .stdout(predicate::str::starts_with("allowed"));

    // To 0: everything would go, so it asks first and changes nothing.
    zanzi(&["migrate", "down", "--db", db, "--to", "0"])
        .code(2)
        .stderr(predicate::str::contains("would delete"))
        .stderr(predicate::str::contains("tuple version"))
        .stderr(predicate::str::contains("--yes"));
    let status = json(&["migrate", "status", "--db", db, "--format", "json"]);
    assert_eq!(status["current"], latest);
    assert_eq!(status["tuples"], 2);

    let report = json(&[
        "migrate", "down", "--db", db, "--to", "0", "--yes", "--format", "json",
    ]);
    assert_eq!(report["current"], 0);
    assert_eq!(report["reverted"].as_array().unwrap().len() as u64, latest);
    zanzi(&["migrate", "down", "--db", db])
        .success()
        .stdout(predicate::str::contains("nothing to revert"));
    let status = json(&["migrate", "status", "--db", db, "--format", "json"]);
    assert_eq!(status["current"], 0);
    zanzi(&["migrate", "up", "--db", db]).success();
    zanzi(&["tuples", "list", "--db", db])
        .success()
        .stdout(predicate::str::is_empty().or(predicate::str::contains("no tuples")));
}

#[test]
fn sqlite_goes_down_and_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zanzi.db");
    let db = db.to_str().unwrap();
    down_and_up_again(db, zanzi::store::sqlite::migrations::LATEST_VERSION.into());

    // Down step by step to the first layout and up again keeps every
    // tuple and its history (0004 moves the rows back into one table).
    zanzi(&[
        "tuples",
        "write",
        "--db",
        db,
        "--schema",
        DRIVE,
        "folder:a#viewer@user:bob",
    ])
    .success();
    zanzi(&["tuples", "delete", "--db", db, "folder:a#viewer@user:bob"]).success();
    zanzi(&["tuples", "write", "--db", db, "folder:b#viewer@user:carol"]).success();
    zanzi(&["migrate", "down", "--db", db, "--to", "2"]).success();
    // Reverting the schema's migration would delete the stored schema.
    zanzi(&["migrate", "down", "--db", db, "--to", "1"])
        .code(2)
        .stderr(predicate::str::contains("the stored schema"));
    zanzi(&["migrate", "down", "--db", db, "--to", "1", "--yes"]).success();
    zanzi(&["migrate", "up", "--db", db]).success();
    zanzi(&["tuples", "list", "--db", db])
        .success()
        .stdout(predicate::str::contains("folder:b#viewer@user:carol"))
        .stdout(predicate::str::contains("user:bob").not());
    zanzi(&["tuples", "list", "--db", db, "--at", "1"])
        .success()
        .stdout(predicate::str::contains("folder:a#viewer@user:bob"));
}

#[test]
fn postgres_goes_down_and_up_again() {
    let url = support::postgres::database();
    down_and_up_again(&url, zanzi::store::postgres::LATEST_VERSION.into());
    // At version 0 no zanzi table is left.
    zanzi(&["migrate", "down", "--db", &url, "--to", "0", "--yes"]).success();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relname LIKE 'zanzi%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
