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
    assert_eq!(String::from_utf8_lossy(&allowed.stdout), "allowed\n");
    // The derivation, as a local --explain prints it.
    let explained = zanzi()
        .args([
            "check",
            "--explain",
            "--remote",
            &remote,
            "doc:a#view@user:alice",
        ])
        .output()
        .unwrap();
    assert_eq!(explained.status.code(), Some(0));
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(text.contains("doc:a#viewer@user:alice"), "{text}");
    let json = zanzi()
        .args([
            "check",
            "--format",
            "json",
            "--remote",
            &remote,
            "doc:a#view@user:bob",
        ])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["result"], "denied");
    assert_eq!(report["allowed"], false);
    assert!(report["snaptoken"].as_str().unwrap().starts_with("zk2_"));
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
    let remote_tree = String::from_utf8_lossy(&expanded.stdout).into_owned();
    assert!(remote_tree.contains("user:alice"), "{remote_tree}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status on SIGTERM: {exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"stopped\"")), "{rest:?}");

    // The remote expand printed what a local one prints.
    let local = zanzi()
        .args(["expand", "--db"])
        .arg(dir.path().join("z.db"))
        .arg("doc:a#view")
        .output()
        .unwrap();
    assert!(local.status.success());
    assert_eq!(String::from_utf8_lossy(&local.stdout), remote_tree);

    // What was written is there after a restart.
    let store = zanzi::SqliteStore::open(dir.path().join("z.db")).unwrap();
    use zanzi::TupleStore as _;
    let head = store.head_revision().unwrap();
    assert!(store
        .snapshot(head)
        .unwrap()
        .contains(&"doc:a#viewer@user:alice".parse().unwrap())
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

/// A server child, killed when the test ends (even by a panic).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `zanzi serve` on free ports over `dir/z.db`; answers the child
/// and its read and write URLs.
fn start_server(dir: &std::path::Path, schema: &str) -> (Server, String, String) {
    let path = dir.join("schema.zanzi");
    std::fs::write(&path, schema).unwrap();
    start_server_with(dir, Some(&path))
}

/// [`start_server`] with the schema file, or the one stored in the database.
fn start_server_with(
    dir: &std::path::Path,
    schema: Option<&std::path::Path>,
) -> (Server, String, String) {
    let (server, mut log) = spawn_server(dir, schema);
    let (read, write) = listeners(&mut log);
    // Keep reading the log, as a log collector would.
    std::thread::spawn(move || log.for_each(drop));
    (server, read, write)
}

type Log = std::io::Lines<BufReader<std::process::ChildStderr>>;

/// `zanzi serve` on free ports over `dir/z.db`, logging JSON to the
/// returned reader.
fn spawn_server(dir: &std::path::Path, schema: Option<&std::path::Path>) -> (Server, Log) {
    let mut command = zanzi();
    command.args(["serve", "--log-format", "json"]);
    if let Some(schema) = schema {
        command.arg("--schema").arg(schema);
    }
    let mut server = Server(
        command
            .arg("--db")
            .arg(dir.join("z.db"))
            .args(["--read-port", "0", "--write-port", "0"])
            .args(["--metrics-port", "0", "--syntax-port", "0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let log = BufReader::new(server.0.stderr.take().unwrap()).lines();
    (server, log)
}

/// Reads the log up to the announcement of the listeners; answers the read
/// and write URLs.
fn listeners(log: &mut Log) -> (String, String) {
    for line in log.by_ref() {
        let line = line.unwrap();
        let record: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"));
        if record["fields"]["message"] == "zanzi serving" {
            let url = |name: &str| format!("http://{}", record["fields"][name].as_str().unwrap());
            return (url("read"), url("write"));
        }
    }
    panic!("the server did not announce its listeners");
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = zanzi().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tuples_commands_write_list_export_import_and_delete_through_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, read, write) = start_server(
        dir.path(),
        "namespace user {}\nnamespace doc { relation viewer: user  permission view = viewer }\n",
    );
    let export_all = || {
        let (code, stdout, stderr) = run(&["tuples", "export", "--remote", &read]);
        assert_eq!(code, Some(0), "{stderr}");
        stdout
    };

    let (code, stdout, stderr) = run(&[
        "tuples",
        "write",
        "--write-remote",
        &write,
        "doc:a#viewer@user:ann",
        "doc:a#viewer@user:ben",
        "doc:b#viewer@user:ann",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("wrote 3 tuples; snaptoken "), "{stdout}");

    // A permission as a write target: refused by the server, exit 1, and
    // nothing of the request is written.
    let (code, _, stderr) = run(&[
        "tuples",
        "write",
        "--write-remote",
        &write,
        "doc:c#viewer@user:cid",
        "doc:c#view@user:cid",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("refused the write"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    // A write needs the write API's URL.
    let (code, _, stderr) = run(&[
        "tuples",
        "write",
        "--remote",
        &read,
        "doc:c#viewer@user:cid",
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--write-remote"), "{stderr}");

    // One page at a time, as locally.
    let (code, stdout, stderr) = run(&[
        "tuples",
        "list",
        "--remote",
        &read,
        "--namespace",
        "doc",
        "--page-size",
        "2",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    let token = stderr
        .trim()
        .strip_prefix("more tuples: --page-token ")
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_owned();
    let (code, rest, stderr) = run(&[
        "tuples",
        "list",
        "--remote",
        &read,
        "--namespace",
        "doc",
        "--page-size",
        "2",
        "--page-token",
        &token,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(rest.lines().count(), 1, "{rest}");
    assert!(stderr.is_empty(), "the last page: {stderr}");
    let mut listed: Vec<&str> = stdout.lines().chain(rest.lines()).collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "doc:a#viewer@user:ann",
            "doc:a#viewer@user:ben",
            "doc:b#viewer@user:ann"
        ]
    );
    let (code, stdout, _) = run(&[
        "tuples",
        "list",
        "--remote",
        &read,
        "--subject",
        "user:ben",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0));
    let page: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(page["tuples"][0]["tuple"], "doc:a#viewer@user:ben");
    assert!(!page["snaptoken"].as_str().unwrap().is_empty());
    let (code, _, stderr) = run(&["tuples", "list", "--remote", &read, "--at", "1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--at"), "{stderr}");

    // Import: validated against the server's schema first, so a bad line
    // writes nothing; then batches of PATCHes.
    let file = dir.path().join("many.tuples");
    let mut text: String = (0..2500)
        .map(|i| format!("doc:d{i}#viewer@user:u{i}\n"))
        .collect();
    std::fs::write(&file, &text).unwrap();
    let bad = dir.path().join("bad.tuples");
    text.push_str("doc:x#owner@user:u\n");
    std::fs::write(&bad, &text).unwrap();
    let (code, _, stderr) = run(&[
        "tuples",
        "import",
        "--write-remote",
        &write,
        "--remote",
        &read,
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("bad.tuples:2501:7"), "{stderr}");
    assert_eq!(export_all().lines().count(), 3);
    let (code, _, stderr) = run(&[
        "tuples",
        "import",
        "--write-remote",
        &write,
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("give --remote URL"), "{stderr}");
    let (code, stdout, stderr) = run(&[
        "tuples",
        "import",
        "--write-remote",
        &write,
        "--remote",
        &read,
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["tuples"], 2500);
    assert_eq!(summary["batches"], 3);
    assert!(summary["snaptoken"].is_string());
    let exported = export_all();
    assert_eq!(exported.lines().count(), 2503);
    assert!(exported.contains("doc:d2499#viewer@user:u2499\n"));

    // Deletes: tuples given, then by filter.
    let (code, stdout, stderr) = run(&[
        "tuples",
        "delete",
        "--write-remote",
        &write,
        "doc:a#viewer@user:ben",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("deleted 1 tuple; snaptoken "),
        "{stdout}"
    );
    let (code, stdout, _) = run(&["check", "--remote", &read, "doc:a#view@user:ben"]);
    assert_eq!(code, Some(1), "{stdout}");
    let (code, _, stderr) = run(&[
        "tuples",
        "delete",
        "--write-remote",
        &write,
        "--relation",
        "viewer",
    ]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("needs a namespace"), "{stderr}");
    let (code, stdout, stderr) = run(&[
        "tuples",
        "delete",
        "--write-remote",
        &write,
        "--namespace",
        "doc",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with("deleted the matching tuples"),
        "{stdout}"
    );
    assert_eq!(export_all(), "");
}

#[test]
fn the_server_outlives_a_log_reader_that_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.zanzi");
    std::fs::write(
        &schema,
        "namespace user {}\nnamespace doc { relation viewer: user }\n",
    )
    .unwrap();
    let (_server, mut log) = spawn_server(dir.path(), Some(&schema));
    let (read, write) = listeners(&mut log);
    // The pipe closes here: every later log line fails to write.
    drop(log);
    // A refused write is logged as a warning.
    let (code, _, stderr) = run(&[
        "tuples",
        "write",
        "--write-remote",
        &write,
        "doc:a#owner@user:x",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    for tuple in ["doc:a#viewer@user:ann", "doc:a#viewer@user:ben"] {
        let (code, _, stderr) = run(&["tuples", "write", "--write-remote", &write, tuple]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, stdout, stderr) = run(&["tuples", "export", "--remote", &read]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 2);
}

#[test]
fn a_restarted_server_collects_old_versions_on_the_old_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "namespace user {}\nnamespace doc { relation viewer: user }\n";
    {
        let (_server, _, write) = start_server(dir.path(), schema);
        for args in [
            ["write", "doc:a#viewer@user:ann"],
            ["delete", "doc:a#viewer@user:ann"],
        ] {
            let (code, _, stderr) = run(&["tuples", args[0], "--write-remote", &write, args[1]]);
            assert_eq!(code, Some(0), "{stderr}");
        }
    }
    // Both commits now lie two hours back, beyond the default one-hour
    // retention: the history of `ann` may go at once.
    let path = dir.path().join("z.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE revisions SET committed_at = committed_at - 7200000",
        [],
    )
    .unwrap();
    drop(conn);
    // The first collection runs as the server starts.
    let (_server, _, _) = start_server(dir.path(), schema);
    use zanzi::store::Maintenance as _;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let horizon = zanzi::SqliteStore::open(&path)
            .unwrap()
            .gc_horizon()
            .unwrap();
        if horizon == zanzi::store::Revision(2) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing was collected after the restart (horizon {horizon})"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_server_keeps_its_schema_in_the_database_and_starts_from_it() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (_server, _, write) = start_server(
            dir.path(),
            "namespace user {}\nnamespace doc { relation viewer: user  permission view = viewer }\n",
        );
        let (code, _, stderr) = run(&[
            "tuples",
            "write",
            "--write-remote",
            &write,
            "doc:a#viewer@user:ann",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    // Local commands on the same file answer with the server's schema...
    let db = dir.path().join("z.db");
    let (code, stdout, stderr) =
        run(&["check", "--db", db.to_str().unwrap(), "doc:a#view@user:ann"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "allowed\n"), "{stderr}");
    // ...and a server started without --schema uses it.
    let (_server, read, _) = start_server_with(dir.path(), None);
    let (code, stdout, stderr) = run(&["check", "--remote", &read, "doc:a#view@user:ann"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "allowed\n"), "{stderr}");
}
