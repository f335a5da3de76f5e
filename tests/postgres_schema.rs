//! The schema kept in a shared PostgreSQL database: `zanzi schema push`
//! refuses a schema the stored tuples do not fit, keeps every schema in the
//! history, and a running server answers with a pushed schema within
//! seconds, without a restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use zanzi::server::config::Settings;
use zanzi::server::{self, AppState};

const DRIVE: &str = "examples/drive/drive.zanzi";

fn zanzi(db: &str) -> Command {
    let mut cmd = Command::cargo_bin("zanzi").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ZANZI_DB", db)
        .env("NO_COLOR", "1");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_schema_reaches_a_running_server_and_the_history() {
    let url = tokio::task::block_in_place(support::postgres::database);
    let state = Arc::new(
        tokio::task::block_in_place(|| {
            AppState::open(Settings {
                db: url.clone(),
                schema: Some(DRIVE.into()),
                secret: Some("shared secret".into()),
                read_port: 0,
                write_port: 0,
                metrics_port: 0,
                syntax_port: 0,
                ..Settings::default()
            })
        })
        .unwrap(),
    );
    let drive_hash = state.schema().hash.clone();
    let running = server::start(state.clone(), std::future::pending())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tuple_file = dir.path().join("t.txt");
    std::fs::write(&tuple_file, "document:readme#viewer@user:ann\n").unwrap();
    let db = url.clone();
    let file = tuple_file.clone();
    tokio::task::spawn_blocking(move || {
        zanzi(&db)
            .args(["tuples", "import"])
            .arg(&file)
            .assert()
            .code(0);
    })
    .await
    .unwrap();

    // A schema without `document` does not fit the stored tuple: refused,
    // and nothing changes.
    let narrow = dir.path().join("narrow.zanzi");
    std::fs::write(&narrow, "namespace user {}\n").unwrap();
    let db = url.clone();
    let narrow_path = narrow.clone();
    tokio::task::spawn_blocking(move || {
        zanzi(&db)
            .args(["schema", "push"])
            .arg(&narrow_path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("1 stored tuple(s) do not fit"))
            .stderr(predicate::str::contains("document:readme#viewer@user:ann"));
        zanzi(&db)
            .args(["schema", "show"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("sha256:"));
    })
    .await
    .unwrap();
    assert_eq!(state.schema().hash, drive_hash);

    // A schema that fits (the drive schema with one more namespace) is
    // stored, and the running server answers with it within seconds.
    let wider = dir.path().join("wider.zanzi");
    let drive = std::fs::read_to_string(DRIVE).unwrap();
    std::fs::write(&wider, format!("{drive}\nnamespace team {{}}\n")).unwrap();
    let db = url.clone();
    tokio::task::spawn_blocking(move || {
        zanzi(&db)
            .args(["schema", "push"])
            .arg(&wider)
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with("stored schema sha256:"));
    })
    .await
    .unwrap();
    let started = Instant::now();
    let namespaces_url = format!("http://{}/namespaces", running.read);
    loop {
        let body = reqwest::get(&namespaces_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if body.contains("\"team\"") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the server still answers with the old schema: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("picked up in {:?}", started.elapsed());
    assert_ne!(state.schema().hash, drive_hash);

    // Both schemas are in the history, oldest first.
    let db = url.clone();
    let history = tokio::task::spawn_blocking(move || {
        let out = zanzi(&db)
            .args(["schema", "history", "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success());
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    })
    .await
    .unwrap();
    let hashes: Vec<&str> = history["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 2, "{history}");
    assert_eq!(hashes[0], drive_hash);
    assert_eq!(hashes[1], state.schema().hash);
    running.shutdown().await;
}
