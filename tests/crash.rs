//! Crash safety of `zanzi tuples import`: a process killed with SIGKILL in
//! the middle of a large import leaves a database that opens cleanly and
//! holds a whole number of batches, each exactly as in the file, in file
//! order, and nothing of the batch that was being written; importing the
//! file again completes the job.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zanzi::store::{Maintenance, PageRequest, Revision, SqliteStore, TupleFilter, TupleStore};

const TUPLES: usize = 300_000;
const BATCH: usize = 10_000;

fn line(i: usize) -> String {
    format!("doc:d{}#viewer@user:u{}", i / 3, i % 50_000)
}

/// The head revision, or 0 while the database is not there or not migrated
/// yet. Opens and closes its own connection each time.
fn head(db: &Path) -> u64 {
    let migrated = zanzi::store::sqlite::migration_status(db)
        .is_ok_and(|status| status.current == status.latest);
    if !migrated {
        return 0;
    }
    SqliteStore::open_existing(db)
        .and_then(|store| store.head_revision())
        .map_or(0, |rev| rev.0)
}

fn all_tuples(store: &SqliteStore, at: Revision) -> Vec<String> {
    let mut out = Vec::new();
    let mut page = PageRequest::first(100_000);
    let reader = store.snapshot(at).unwrap();
    loop {
        let got = reader.list(&TupleFilter::default(), &page).unwrap();
        out.extend(got.items.iter().map(ToString::to_string));
        match got.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return out,
        }
    }
}

fn import(db: &Path, schema: &Path, file: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zanzi"));
    cmd.args([
        "tuples",
        "import",
        "--batch-size",
        &BATCH.to_string(),
        "--schema",
    ])
    .arg(schema)
    .arg("--db")
    .arg(db)
    .arg(file)
    .env_remove("ZANZI_DB");
    cmd
}

#[test]
fn an_import_killed_midway_leaves_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("docs.zanzi");
    std::fs::write(
        &schema,
        "namespace user {}\nnamespace doc { relation viewer: user }\n",
    )
    .unwrap();
    let file = dir.path().join("big.tuples");
    let lines: Vec<String> = (0..TUPLES).map(line).collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let db = dir.path().join("crash.db");

    let mut child = import(&db, &schema, &file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    let finished = loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the import failed: {status}");
            break true;
        }
        if head(&db) >= 1 {
            break false;
        }
        assert!(Instant::now() < deadline, "no batch committed in time");
        std::thread::sleep(Duration::from_millis(5));
    };
    // SIGKILL: no chance to finish the batch under way or to clean up.
    child.kill().unwrap();
    child.wait().unwrap();

    // The database opens (SQLite replays or discards the write-ahead log)…
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
    let store = SqliteStore::open_existing(&db).unwrap();
    let at = store.head_revision().unwrap();
    let stored = all_tuples(&store, at);
    // …and holds k whole batches, exactly the first k * BATCH lines.
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
    eprintln!("killed after {} of {} batches", n / BATCH, TUPLES / BATCH);
    drop(store);

    // Importing the file again completes it: what is there is skipped.
    let out = import(&db, &schema, &file).output().unwrap();
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
    let store = SqliteStore::open_existing(&db).unwrap();
    assert_eq!(store.live_count().unwrap(), TUPLES as u64);
}
