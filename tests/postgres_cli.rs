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

    let parsed = second.tokens.parse_snapshot(&token).unwrap();
    second.check_history(&parsed).unwrap();
    let at = parsed.revision;
    assert_eq!(at, revision);
    let question: Tuple = "document:readme#view@user:carol".parse().unwrap();
    let schema = second.schema();
    let engine = Engine::new(&schema, second.store.as_ref());
    assert!(engine.check_tuple(&question, at).unwrap());

    let elsewhere = AppState::open(settings(&support::postgres::database())).unwrap();
    assert!(elsewhere.tokens.parse_snapshot(&token).is_err());
}

/// Runs `zanzi` with `args` (`{db}` replaced by `db`) and returns its
/// error: exit code 2, nothing on stdout, exactly one line on stderr that
/// names `--db`.
fn one_line_error(args: &[&str], db: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| a.replace("{db}", db)).collect();
    let output = Command::cargo_bin("zanzi")
        .unwrap()
        .env_remove("ZANZI_DB")
        .env("NO_COLOR", "1")
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?} printed on stdout");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line: {stderr}");
    assert!(lines[0].contains("--db `"), "{args:?}: {stderr}");
    lines[0].to_owned()
}

/// Every command that takes `--db`, with `{db}` for its value.
fn commands_with_db(tuples_file: &str) -> Vec<Vec<String>> {
    let all: [&[&str]; 10] = [
        &["check", "--db", "{db}", "document:readme#view@user:alice"],
        &[
            "tuples",
            "write",
            "--db",
            "{db}",
            "--schema",
            DRIVE,
            "folder:f#viewer@user:a",
        ],
        &[
            "tuples",
            "import",
            "--db",
            "{db}",
            "--schema",
            DRIVE,
            tuples_file,
        ],
        &["tuples", "list", "--db", "{db}"],
        &["tuples", "export", "--db", "{db}"],
        &["tuples", "delete", "--db", "{db}", "folder:f#viewer@user:a"],
        &["migrate", "up", "--db", "{db}"],
        &["migrate", "status", "--db", "{db}"],
        &[
            "lookup-resources",
            "--db",
            "{db}",
            "document",
            "view",
            "user:alice",
        ],
        &[
            "serve",
            "--db",
            "{db}",
            "--schema",
            DRIVE,
            "--read-port",
            "0",
            "--write-port",
            "0",
            "--metrics-port",
            "0",
            "--syntax-port",
            "0",
        ],
    ];
    all.iter()
        .map(|args| args.iter().map(|a| (*a).to_owned()).collect())
        .collect()
}

fn each_command_fails_with(db: &str, cause: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tuples.txt");
    std::fs::write(&file, "folder:f#viewer@user:a\n").unwrap();
    for args in commands_with_db(file.to_str().unwrap()) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = one_line_error(&args, db);
        assert!(line.contains(cause), "{args:?}: `{line}` lacks `{cause}`");
        assert!(
            !line.contains("s3cret"),
            "{args:?} shows the password: {line}"
        );
    }
}

/// The tables of `database`'s public schema.
fn tables(database: &str) -> Vec<String> {
    let url = support::postgres::cluster().url(database);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn database_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

#[test]
fn a_malformed_url_is_one_line_exit_2() {
    let db = "postgres://zanzi:s3cret@127.0.0.1:notaport/x";
    each_command_fails_with(db, "malformed URL");
    let line = one_line_error(&["tuples", "list", "--db", "{db}"], db);
    assert!(
        line.contains("postgres://zanzi:***@127.0.0.1:notaport/x"),
        "{line}"
    );
    let unknown = "postgres://zanzi@127.0.0.1/x?nosuchoption=1";
    let line = one_line_error(&["tuples", "list", "--db", "{db}"], unknown);
    assert!(
        line.contains("malformed URL") && line.contains("nosuchoption"),
        "{line}"
    );
}

#[test]
fn an_unreachable_server_is_one_line_exit_2() {
    each_command_fails_with(
        "postgres://zanzi:s3cret@127.0.0.1:1/none",
        "the database is unavailable",
    );
    let line = one_line_error(
        &["tuples", "list", "--db", "{db}"],
        "postgres://zanzi@no-such-host.invalid/none",
    );
    assert!(line.contains("the database is unavailable"), "{line}");
}

#[test]
fn wrong_credentials_are_one_line_exit_2() {
    let cluster = support::postgres::cluster();
    let url = support::postgres::database();
    let name = database_name(&url);
    cluster.execute(
        "postgres",
        &format!(
            "CREATE ROLE zanzi_pw LOGIN PASSWORD 'right';
             GRANT ALL ON DATABASE {name} TO zanzi_pw;"
        ),
    );
    cluster.execute(name, "GRANT ALL ON SCHEMA public TO zanzi_pw");
    let at = |password: &str| {
        format!(
            "postgres://zanzi_pw:{password}@127.0.0.1:{}/{name}",
            cluster.port()
        )
    };
    each_command_fails_with(&at("s3cret"), "password authentication failed");
    assert!(tables(name).is_empty(), "something was written");
    // The right password works: the role is usable.
    zanzi(&["migrate", "up", "--db", &at("right")]).success();
    assert!(tables(name).contains(&"zanzi_tuples".to_owned()));
}

#[test]
fn a_missing_database_is_one_line_exit_2() {
    let url = support::postgres::cluster().url("no_such_database");
    each_command_fails_with(&url, "database \"no_such_database\" does not exist");
}

#[test]
fn a_database_of_another_application_is_refused_and_left_alone() {
    let url = support::postgres::database();
    let name = database_name(&url);
    support::postgres::cluster().execute(
        name,
        "CREATE TABLE accounts (id INT PRIMARY KEY); CREATE TABLE orders (id INT)",
    );
    each_command_fails_with(&url, "not zanzi's");
    let line = one_line_error(&["migrate", "up", "--db", "{db}"], &url);
    assert!(line.contains("accounts, orders"), "{line}");
    assert_eq!(tables(name), ["accounts", "orders"]);
}

#[test]
fn a_database_at_a_newer_migration_is_refused_and_left_alone() {
    let url = support::postgres::database();
    let name = database_name(&url);
    zanzi(&[
        "tuples",
        "write",
        "--db",
        &url,
        "--schema",
        DRIVE,
        "folder:f#viewer@user:a",
    ])
    .success();
    support::postgres::cluster().execute(
        name,
        "INSERT INTO zanzi_migrations (version, name) VALUES (99, '0099_future')",
    );
    let head = || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let row = client
            .query_one(
                "SELECT head, (SELECT count(*) FROM zanzi_tuples) FROM zanzi_meta",
                &[],
            )
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    };
    let before = head();
    each_command_fails_with(&url, "newer than this program's");
    assert_eq!(head(), before);
}

/// `zanzi tuples import` into PostgreSQL killed with SIGKILL mid-way leaves
/// whole batches, in file order, one revision each; importing the file
/// again completes it.
#[test]
fn an_import_killed_midway_leaves_whole_batches_in_postgres() {
    const TUPLES: usize = 200_000;
    const BATCH: usize = 5_000;
    let url = support::postgres::database();
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("docs.zanzi");
    std::fs::write(
        &schema,
        "namespace user {}\nnamespace doc { relation viewer: user }\n",
    )
    .unwrap();
    let file = dir.path().join("big.tuples");
    let lines: Vec<String> = (0..TUPLES)
        .map(|i| format!("doc:d{}#viewer@user:u{}", i / 3, i % 50_000))
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let import = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"));
        command
            .args([
                "tuples",
                "import",
                "--batch-size",
                &BATCH.to_string(),
                "--db",
                &url,
            ])
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .env_remove("ZANZI_DB");
        command
    };
    let head = || -> i64 {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let exists: bool = client
            .query_one("SELECT to_regclass('zanzi_meta') IS NOT NULL", &[])
            .unwrap()
            .get(0);
        if !exists {
            return 0;
        }
        client
            .query_one("SELECT head FROM zanzi_meta", &[])
            .unwrap()
            .get(0)
    };
    let mut child = import()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let finished = loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the import failed: {status}");
            break true;
        }
        if head() >= 1 {
            break false;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no batch committed in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    child.kill().unwrap();
    child.wait().unwrap();

    let store = zanzi::store::PostgresStore::connect(&url).unwrap();
    use zanzi::store::{PageRequest, TupleFilter, TupleStore};
    let at = store.head_revision().unwrap();
    let mut stored = Vec::new();
    let mut request = PageRequest::first(50_000);
    loop {
        let page = store
            .snapshot(at)
            .unwrap()
            .list(&TupleFilter::default(), &request)
            .unwrap();
        stored.extend(page.items.iter().map(ToString::to_string));
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => break,
        }
    }
    let n = stored.len();
    assert!(n >= BATCH, "the first batch had committed");
    assert_eq!(n % BATCH, 0, "{n} tuples: a partial batch");
    assert_eq!(at.0 as usize, n / BATCH, "one revision per batch");
    assert!(
        stored.iter().eq(lines[..n].iter()),
        "batches as in the file"
    );
    if finished {
        assert_eq!(n, TUPLES);
    }
    drop(store);

    let out = import().output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "imported {TUPLES} tuples from 1 file: {} new, {n} already present",
        TUPLES - n
    );
    assert!(summary.starts_with(&expected), "{summary}");
}
