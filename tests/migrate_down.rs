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

/// Tuples with a condition or an expiry on `store`, at the head and in
/// its history, beside a plain one: three versions only the newest layout
/// can hold.
fn write_attributed(store: &dyn zanzi::store::TupleStore) {
    use zanzi::tuple::{Context, Expiry};
    let tuple = |text: &str| -> zanzi::Tuple { text.parse().unwrap() };
    let office = tuple("document:readme#viewer@user:bob").with_condition(
        "office_network",
        Context::parse(r#"{"cidr":"10.0.0.0/8"}"#).unwrap(),
    );
    let expiring = tuple("document:readme#viewer@user:carol")
        .with_expiry(Expiry::parse("2100-01-01T00:00:00Z").unwrap());
    let gone = tuple("document:faq#viewer@user:dan").with_expiry(Expiry::from_micros(5));
    store
        .write(
            &[
                tuple("document:readme#viewer@user:alice"),
                office,
                expiring,
                gone.clone(),
            ],
            &[],
        )
        .unwrap();
    store.write(&[], &[gone]).unwrap();
}

/// Below the layout that holds conditions and expiries, the database
/// refuses to go without `--yes`; with it, those tuples go (never kept as
/// plain grants), the others stay, and `up` brings the layout back.
fn conditions_go_down_only_when_allowed(
    db: &str,
    below: u32,
    down: impl Fn(u32, bool) -> Result<zanzi::store::MigrationStatus, zanzi::store::StoreError>,
) {
    match down(below, false) {
        Err(zanzi::store::StoreError::WouldLoseData { to, what }) => {
            assert_eq!(to, below);
            assert_eq!(
                what,
                "3 stored tuple version(s) with a condition or an expiry"
            );
        }
        other => panic!("{other:?}"),
    }
    let to = below.to_string();
    zanzi(&["migrate", "down", "--db", db, "--to", &to])
        .code(2)
        .stderr(predicate::str::contains("with a condition or an expiry"))
        .stderr(predicate::str::contains("--yes"));
    assert_eq!(down(below, true).unwrap().current, below);
    zanzi(&["migrate", "up", "--db", db]).success();
    zanzi(&["tuples", "list", "--db", db])
        .success()
        .stdout(predicate::str::contains(
            "document:readme#viewer@user:alice",
        ))
        .stdout(predicate::str::contains("user:bob").not())
        .stdout(predicate::str::contains("user:carol").not());
    zanzi(&["check", "--db", db, "document:readme#view@user:bob"])
        .code(1)
        .stdout(predicate::str::starts_with("denied"));
}

#[test]
fn sqlite_conditions_go_down_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zanzi.db");
    let db = path.to_str().unwrap();
    zanzi(&["schema", "push", "--db", db, DRIVE]).success();
    write_attributed(&zanzi::store::SqliteStore::open(&path).unwrap());
    conditions_go_down_only_when_allowed(db, 5, |to, allow| {
        zanzi::store::sqlite::migrate_down(&path, to, allow)
    });
}

#[test]
fn postgres_conditions_go_down_only_when_allowed() {
    let url = support::postgres::database();
    zanzi(&["schema", "push", "--db", &url, DRIVE]).success();
    write_attributed(&zanzi::store::PostgresStore::connect(&url).unwrap());
    conditions_go_down_only_when_allowed(&url, 3, |to, allow| {
        zanzi::store::postgres::migrate_down(&url, to, allow)
    });
}
