//! The read commands through a server print what they print locally
//! (lookups included), and `zanzi status` tells zanzi, and the expected
//! zanzi, from whatever else answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::serve::{Options, Server};

const SCHEMA: &str = "examples/drive/drive.zanzi";
const VALIDATION: &str = "examples/drive/drive.test.yaml";

fn zanzi(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zanzi"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ZANZI_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
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

/// A database in `dir` with the Drive example's tuples and schema.
fn drive_db(dir: &Path) -> PathBuf {
    let yaml =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(VALIDATION)).unwrap();
    let block = yaml
        .split("tuples: |\n")
        .nth(1)
        .unwrap()
        .split("\nassertions:")
        .next()
        .unwrap();
    let tuples: String = block.lines().map(|l| format!("{}\n", l.trim())).collect();
    let file = dir.join("drive.tuples");
    std::fs::write(&file, tuples).unwrap();
    let db = dir.join("drive.db");
    let (code, _, stderr) = run(zanzi(dir)
        .args(["tuples", "import", "--schema", SCHEMA, "--db"])
        .arg(&db)
        .arg(&file));
    assert_eq!(code, Some(0), "{stderr}");
    db
}

/// `args` on the local database and through the server: the same stdout
/// and exit code; with `--format json`, the same document but for the
/// snapshot (`revision` locally, `snaptoken` remotely) and the cursor.
fn same_locally_and_remotely(dir: &Path, db: &Path, server: &Server, args: &[&str]) {
    same_locally_and_at(dir, db, &server.read, args);
}

/// [`same_locally_and_remotely`] with the server at `url` (`http://` or
/// `grpc://`).
fn same_locally_and_at(dir: &Path, db: &Path, url: &str, args: &[&str]) {
    let local = run(zanzi(dir).args(args).arg("--db").arg(db));
    let remote = run(zanzi(dir).args(args).args(["--remote", url]));
    assert_eq!(local.0, Some(0), "{args:?} locally: {}", local.2);
    assert_eq!(remote.0, Some(0), "{args:?} remotely: {}", remote.2);
    assert!(
        !local.1.trim().is_empty(),
        "{args:?}: an empty answer proves little"
    );
    if args.contains(&"json") {
        let mut local: Value = serde_json::from_str(&local.1).unwrap();
        let mut remote: Value = serde_json::from_str(&remote.1).unwrap();
        assert!(local["revision"].is_u64(), "{local}");
        assert!(
            remote["snaptoken"].as_str().unwrap().starts_with("zk2_"),
            "{remote}"
        );
        for (doc, key) in [(&mut local, "revision"), (&mut remote, "snaptoken")] {
            let map = doc.as_object_mut().unwrap();
            map.remove(key);
            map.remove("next_cursor");
        }
        assert_eq!(local, remote, "{args:?}");
    } else {
        assert_eq!(local.1, remote.1, "{args:?}");
    }
}

/// Every page of a lookup of `key` (`resource_ids` or `subject_ids`), `limit`
/// at a time, following the cursors: the IDs and the number of pages.
fn all_pages(
    dir: &Path,
    target: &[&str],
    args: &[&str],
    key: &str,
    limit: &str,
) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..100 {
        let mut command = zanzi(dir);
        command
            .args(args)
            .args(target)
            .args(["--format", "json", "--limit", limit]);
        if let Some(cursor) = &cursor {
            command.args(["--cursor", cursor]);
        }
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, Some(0), "{stderr}");
        let doc: Value = serde_json::from_str(&stdout).unwrap();
        ids.extend(
            doc[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        match doc["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (ids, pages),
        }
    }
    panic!("the cursors never ended");
}

#[test]
fn lookups_through_a_server_print_what_they_print_locally() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = drive_db(d);
    let server = Server::start(&Options::new(&db.display().to_string()));
    for args in [
        &["lookup-resources", "document", "view", "user:alice"][..],
        &["lookup-resources", "document", "view", "group:eng#member"][..],
        &["lookup-subjects", "document:roadmap#view", "user"][..],
        // A wildcard with an exception.
        &["lookup-subjects", "document:faq#view", "user"][..],
    ] {
        same_locally_and_remotely(d, &db, &server, args);
        let json: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();
        same_locally_and_remotely(d, &db, &server, &json);
    }
    // The same over gRPC (the streamed lookups).
    let grpc = server.read.replace("http://", "grpc://");
    for args in [
        &["lookup-resources", "document", "view", "user:alice"][..],
        &["lookup-subjects", "document:faq#view", "user"][..],
    ] {
        same_locally_and_at(d, &db, &grpc, args);
        let json: Vec<&str> = args.iter().copied().chain(["--format", "json"]).collect();
        same_locally_and_at(d, &db, &grpc, &json);
    }
    // The schema: its hash and its IR.
    same_locally_and_remotely(d, &db, &server, &["schema", "show"]);
    same_locally_and_remotely(d, &db, &server, &["schema", "show", "--ir"]);
    // Paged: the same IDs page by page, locally and through the server.
    let local = ["--db", db.to_str().unwrap()];
    let remote = ["--remote", server.read.as_str()];
    for (args, key) in [
        (
            &["lookup-resources", "document", "view", "user:alice"][..],
            "resource_ids",
        ),
        (
            &["lookup-subjects", "document:roadmap#view", "user"][..],
            "subject_ids",
        ),
    ] {
        let (local_ids, local_pages) = all_pages(d, &local, args, key, "2");
        let (remote_ids, remote_pages) = all_pages(d, &remote, args, key, "2");
        assert_eq!(local_ids, remote_ids, "{args:?}");
        assert_eq!(local_pages, remote_pages, "{args:?}");
        let over_grpc = ["--remote", grpc.as_str()];
        let (grpc_ids, grpc_pages) = all_pages(d, &over_grpc, args, key, "2");
        assert_eq!(local_ids, grpc_ids, "{args:?} over gRPC");
        assert_eq!(local_pages, grpc_pages, "{args:?} over gRPC");
        assert!(local_pages > 1, "{args:?}: {local_ids:?} fits on one page");
    }
    // The human output says where the next page starts, on stderr.
    let (code, stdout, stderr) = run(zanzi(d)
        .args([
            "lookup-subjects",
            "document:roadmap#view",
            "user",
            "--limit",
            "1",
        ])
        .args(remote));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stderr.contains("more results: --cursor zk2_"), "{stderr}");
}

/// An HTTP server that answers `200 ok` to every request, as any web
/// server on a wrong port might.
fn not_zanzi() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    format!("http://{address}")
}

#[test]
fn status_refuses_what_is_not_zanzi_or_not_the_expected_zanzi_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let status = |url: &str, extra: &[&str]| {
        let started = Instant::now();
        let answer = run(zanzi(d)
            .args(["status", "--block", "--timeout", "60", "--remote", url])
            .args(extra));
        // Refusals come at once, not at the timeout.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{extra:?}: {answer:?}"
        );
        answer
    };

    let other = not_zanzi();
    let (code, stdout, stderr) = status(&other, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stderr.contains(&format!("a server answers at {other} but it is not zanzi")),
        "{stderr}"
    );

    let db = drive_db(d);
    let server = Server::start(&Options::new(&db.display().to_string()));
    let other_db = d.join("other.db");
    let (code, _, stderr) = run(zanzi(d)
        .args(["tuples", "write", "--schema", SCHEMA, "--db"])
        .arg(&other_db)
        .arg("document:x#viewer@user:alice"));
    assert_eq!(code, Some(0), "{stderr}");

    // The right one passes: by file (its store id), by hash prefix, by schema file.
    let schema = support::serve::Http::new()
        .get(&format!("{}/zanzi/v1/schema", server.read))
        .body;
    let hash = schema["hash"].as_str().unwrap().to_owned();
    let prefix = &hash["sha256:".len().."sha256:".len() + 10];
    let db_text = db.display().to_string();
    for extra in [
        &["--expect-db", db_text.as_str()][..],
        &["--expect-schema-hash", prefix][..],
        &["--expect-schema-hash", hash.as_str()][..],
        &[
            "--expect-schema-hash",
            SCHEMA,
            "--expect-db",
            db_text.as_str(),
        ][..],
    ] {
        let (code, stdout, stderr) = status(&server.read, extra);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(0), "ready\n"),
            "{extra:?}: {stderr}"
        );
    }

    // Another database: named, with both store ids.
    let (code, _, stderr) = status(&server.read, &["--expect-db", other_db.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!("serves database `{}`", db.display()))
            && stderr.contains(&format!("not `{}`", other_db.display())),
        "{stderr}"
    );
    // A database that is not here is compared by name.
    let (code, _, stderr) = status(&server.read, &["--expect-db", "/nowhere/else.db"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("not `/nowhere/else.db`"), "{stderr}");
    // Another schema.
    let (code, _, stderr) = status(&server.read, &["--expect-schema-hash", "00000000"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!(
            "answers with schema `{hash}`, not `sha256:00000000`"
        )),
        "{stderr}"
    );
    // Too short a prefix is a usage error.
    let (code, _, stderr) = status(&server.read, &["--expect-schema-hash", "abc"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("at least 8 hex digits"), "{stderr}");
}

#[test]
fn the_status_endpoint_and_version_name_zanzi() {
    let dir = tempfile::tempdir().unwrap();
    let db = drive_db(dir.path());
    let server = Server::start(&Options::new(&db.display().to_string()));
    let http = support::serve::Http::new();
    let version = http.get(&format!("{}/version", server.read)).body;
    assert_eq!(version["server"], "zanzi");
    assert!(version["version"].is_string());
    let status = http.get(&format!("{}/zanzi/v1/status", server.read)).body;
    assert_eq!(status["server"], "zanzi");
    assert_eq!(status["db"], db.display().to_string());
    assert!(status["schema_hash"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert!(status["head_snaptoken"]
        .as_str()
        .unwrap()
        .starts_with("zk2_"));
    // The store id is the database's own: `zanzi migrate status` shows it too.
    let store_id = status["store_id"].as_str().unwrap();
    assert!(!store_id.is_empty());
}
