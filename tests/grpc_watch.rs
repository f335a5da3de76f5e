//! The Watch stream: gRPC `zanzi.v1.WatchService.Watch`, REST
//! `GET /zanzi/v1/watch` and `zanzi tuples watch --remote`: commit order
//! under concurrent writers, resume, the retention window, filters, slow
//! consumers, shutdown, and SQLite's feed next to the memory store's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use support::grpc::{settings, GrpcServer, SCHEMA};
use tonic::Code;
use tonic_types::StatusExt as _;
use zanzi::api::proto::zanzi::v1 as pb;
use zanzi::server::grpc::convert;
use zanzi::store::{Revision, SqliteStore};

type WatchClient = pb::watch_service_client::WatchServiceClient<tonic::transport::Channel>;

/// One change as the tests compare them: revision, `+`/`-`, tuple.
type Seen = (u64, char, String);

const WAIT: Duration = Duration::from_secs(20);

fn client(server: &GrpcServer) -> WatchClient {
    WatchClient::new(server.read.clone())
}

fn request(since: &str, filters: Vec<pb::TupleFilter>) -> pb::WatchRequest {
    pb::WatchRequest {
        since: since.to_owned(),
        filters,
    }
}

fn revision(server: &GrpcServer, token: &str) -> u64 {
    server
        .running
        .state
        .tokens
        .parse_snapshot(token)
        .unwrap()
        .revision
        .0
}

/// Writes through the REST write API (one transaction): `(action, tuple)`
/// with action `insert` or `delete`; the revision it committed.
async fn transact(server: &GrpcServer, actions: &[(&str, String)]) -> u64 {
    let body: Vec<serde_json::Value> = actions
        .iter()
        .map(|(action, tuple)| {
            let tuple: zanzi::tuple::Tuple = tuple.parse().unwrap();
            json!({"action": action, "relation_tuple": {
                "namespace": tuple.object.namespace, "object": tuple.object.id,
                "relation": tuple.relation, "subject_id": tuple.subject.to_string()}})
        })
        .collect();
    let response = server
        .http
        .patch(server.rest_write("/admin/relation-tuples"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{:?}", response.text().await);
    let token = response.headers()["x-zanzi-snaptoken"].to_str().unwrap();
    revision(server, token)
}

fn seen(server: &GrpcServer, response: &pb::WatchResponse) -> Vec<Seen> {
    response
        .changes
        .iter()
        .map(|c| {
            let sign = match pb::tuple_change::Operation::try_from(c.operation).unwrap() {
                pb::tuple_change::Operation::Insert => '+',
                pb::tuple_change::Operation::Delete => '-',
                other => panic!("operation {other:?}"),
            };
            let tuple = convert::tuple("t", c.tuple.as_ref()).unwrap();
            let token = &c.revision.as_ref().unwrap().token;
            (revision(server, token), sign, tuple.to_string())
        })
        .collect()
}

/// Reads `stream` until its `changes_through` reaches `through`; the
/// changes and the last `changes_through` token.
async fn read_through(
    server: &GrpcServer,
    stream: &mut tonic::Streaming<pb::WatchResponse>,
    through: u64,
) -> (Vec<Seen>, String) {
    let mut changes = Vec::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let message = tokio::time::timeout_at(deadline.into(), stream.message())
            .await
            .expect("the stream reaches the last write in time")
            .expect("no error")
            .expect("the stream goes on");
        changes.extend(seen(server, &message));
        let token = message.changes_through.unwrap().token;
        let at = revision(server, &token);
        // Never beyond what was sent, never backwards.
        assert!(
            changes.iter().all(|c| c.0 <= at),
            "{changes:?} through {at}"
        );
        if at >= through {
            return (changes, token);
        }
    }
}

/// Changes as a feed orders them: by revision, deletes before inserts;
/// within that, by tuple (a transaction's order is not promised).
fn canonical(mut changes: Vec<Seen>) -> Vec<Seen> {
    changes.sort_by(|a, b| (a.0, a.1 == '+', &a.2).cmp(&(b.0, b.1 == '+', &b.2)));
    changes
}

fn in_feed_order(changes: &[Seen]) -> bool {
    changes
        .windows(2)
        .all(|w| (w[0].0, w[0].1 == '+') <= (w[1].0, w[1].1 == '+'))
}

#[tokio::test]
async fn concurrent_transactions_arrive_whole_in_commit_order_with_their_tokens() {
    let server = GrpcServer::start().await;
    let mut stream = client(&server)
        .watch(request("", vec![]))
        .await
        .unwrap()
        .into_inner();
    let mut writers = Vec::new();
    let server = Arc::new(server);
    for w in 0..4 {
        let server = Arc::clone(&server);
        writers.push(tokio::spawn(async move {
            let mut expected = Vec::new();
            for t in 0..10 {
                let mut actions = vec![
                    ("insert", format!("document:w{w}t{t}#viewer@user:a")),
                    ("insert", format!("document:w{w}t{t}#owner@user:b")),
                ];
                if t > 0 {
                    actions.push(("delete", format!("document:w{w}t{}#owner@user:b", t - 1)));
                }
                let rev = transact(&server, &actions).await;
                for (action, tuple) in actions {
                    let sign = if action == "insert" { '+' } else { '-' };
                    expected.push((rev, sign, tuple));
                }
            }
            expected
        }));
    }
    let mut expected = Vec::new();
    for writer in writers {
        expected.extend(writer.await.unwrap());
    }
    let last = expected.iter().map(|c| c.0).max().unwrap();
    let (changes, _) = read_through(&server, &mut stream, last).await;
    assert!(in_feed_order(&changes), "{changes:?}");
    // Exactly the writes: nothing missed, nothing twice, each with the
    // revision its transaction committed.
    assert_eq!(canonical(changes), canonical(expected));
}

#[tokio::test]
async fn a_resumed_stream_gets_exactly_the_missed_changes_and_an_expired_token_is_out_of_range() {
    let server = GrpcServer::start().await;
    resume_exactly(&server).await;
}

/// The same over SQLite's own feed (its versions table) rather than the
/// memory store's.
#[tokio::test]
async fn resume_over_sqlites_feed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("watch.db")).unwrap();
    let server = GrpcServer::start_with(settings(), SCHEMA, Arc::new(store)).await;
    resume_exactly(&server).await;
}

async fn resume_exactly(server: &GrpcServer) {
    let start = transact(server, &[("insert", "document:d0#viewer@user:a".into())]).await;
    let start_token = server.running.state.snaptoken(Revision(start));
    let mut stream = client(server)
        .watch(request(&start_token, vec![]))
        .await
        .unwrap()
        .into_inner();
    let r1 = transact(server, &[("insert", "document:d1#viewer@user:a".into())]).await;
    let r2 = transact(
        server,
        &[
            ("delete", "document:d0#viewer@user:a".into()),
            ("insert", "document:d2#viewer@user:a".into()),
        ],
    )
    .await;
    let (changes, through) = read_through(server, &mut stream, r2).await;
    assert_eq!(
        changes,
        [
            (r1, '+', "document:d1#viewer@user:a".into()),
            (r2, '-', "document:d0#viewer@user:a".into()),
            (r2, '+', "document:d2#viewer@user:a".into()),
        ]
    );
    drop(stream);
    let r3 = transact(server, &[("insert", "document:d3#viewer@user:a".into())]).await;
    let r4 = transact(server, &[("delete", "document:d1#viewer@user:a".into())]).await;
    let mut resumed = client(server)
        .watch(request(&through, vec![]))
        .await
        .unwrap()
        .into_inner();
    let (missed, _) = read_through(server, &mut resumed, r4).await;
    assert_eq!(
        missed,
        [
            (r3, '+', "document:d3#viewer@user:a".into()),
            (r4, '-', "document:d1#viewer@user:a".into()),
        ]
    );
    // History before r4 collected: the first token is now too old.
    zanzi::server::collect_now(&server.running.state, Revision(r4))
        .await
        .unwrap();
    let error = client(server)
        .watch(request(&start_token, vec![]))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange, "{error:?}");
    assert!(
        error.message().contains("retention window") && error.message().contains("from now on"),
        "{}",
        error.message()
    );
    // A token from the horizon on still resumes.
    let at_horizon = server.running.state.snaptoken(Revision(r4));
    client(server)
        .watch(request(&at_horizon, vec![]))
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_tokens_and_unknown_filter_names_are_refused_naming_the_field() {
    let server = GrpcServer::start().await;
    let mut watch = client(&server);
    let field = |error: &tonic::Status| {
        error
            .get_details_error_info()
            .and_then(|info| info.metadata.get("field").cloned())
    };
    for since in ["zk1_forged", "nonsense"] {
        let error = watch.watch(request(since, vec![])).await.unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
        assert_eq!(field(&error).as_deref(), Some("since"), "{error:?}");
    }
    // A valid token of another store (another secret's, too).
    let other = zanzi::server::zookie::TokenKeys::new(b"other", "00112233445566778899aabbccddeeff")
        .snapshot(Revision(1), [0; 16]);
    let error = watch.watch(request(&other, vec![])).await.unwrap_err();
    assert_eq!(field(&error).as_deref(), Some("since"), "{error:?}");
    // Above the head.
    let future = server.running.state.snaptoken(Revision(1000));
    let error = watch.watch(request(&future, vec![])).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");

    let filters = vec![
        pb::TupleFilter {
            namespace: "document".into(),
            ..Default::default()
        },
        pb::TupleFilter {
            namespace: "documnt".into(),
            ..Default::default()
        },
    ];
    let error = watch.watch(request("", filters)).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
    assert_eq!(field(&error).as_deref(), Some("filters[1].namespace"));
    assert!(
        error.message().contains("did you mean `document`"),
        "{error:?}"
    );
    let filters = vec![pb::TupleFilter {
        namespace: "document".into(),
        relation: "viewr".into(),
        ..Default::default()
    }];
    let error = watch.watch(request("", filters)).await.unwrap_err();
    assert_eq!(field(&error).as_deref(), Some("filters[0].relation"));
    let filters = vec![pb::TupleFilter {
        relation: "nonesuch".into(),
        ..Default::default()
    }];
    let error = watch.watch(request("", filters)).await.unwrap_err();
    assert_eq!(field(&error).as_deref(), Some("filters[0].relation"));
}

#[tokio::test]
async fn filters_select_changes_and_rest_streams_the_same_as_grpc() {
    let server = GrpcServer::start().await;
    let filters = vec![
        pb::TupleFilter {
            namespace: "folder".into(),
            ..Default::default()
        },
        pb::TupleFilter {
            namespace: "document".into(),
            object_id: "readme".into(),
            relation: "viewer".into(),
            subject: None,
        },
    ];
    let mut filtered = client(&server)
        .watch(request("", filters))
        .await
        .unwrap()
        .into_inner();
    let mut all = client(&server)
        .watch(request("", vec![]))
        .await
        .unwrap()
        .into_inner();
    let rest = server
        .http
        .get(server.rest_read("/zanzi/v1/watch"))
        .query(&[("namespace", "document"), ("relation", "viewer")])
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);
    assert_eq!(rest.headers()["content-type"], "application/x-ndjson");
    let tuples = [
        "folder:f#viewer@user:a",
        "document:readme#viewer@user:a",
        "document:readme#owner@user:a",
        "document:other#viewer@user:a",
        "group:g#member@user:a",
    ];
    let mut last = 0;
    for tuple in tuples {
        last = transact(&server, &[("insert", tuple.into())]).await;
    }
    let (got, _) = read_through(&server, &mut filtered, last).await;
    let got: Vec<&str> = got.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        got,
        ["folder:f#viewer@user:a", "document:readme#viewer@user:a"]
    );

    // REST: the same content as gRPC's, as JSON lines.
    let (grpc, _) = read_through(&server, &mut all, last).await;
    let expected: Vec<Seen> = grpc
        .into_iter()
        .filter(|c| c.2.starts_with("document:") && c.2.contains("#viewer@"))
        .collect();
    let mut lines = Vec::new();
    let mut rest = rest;
    let mut pending = String::new();
    let deadline = Instant::now() + WAIT;
    'read: loop {
        let chunk = tokio::time::timeout_at(deadline.into(), rest.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        pending.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = pending.find('\n') {
            let line: serde_json::Value = serde_json::from_str(&pending[..end]).unwrap();
            pending.drain(..=end);
            let through = revision(&server, line["changes_through"].as_str().unwrap());
            lines.push(line);
            if through >= last {
                break 'read;
            }
        }
    }
    let from_rest: Vec<Seen> = lines
        .iter()
        .flat_map(|line| line["changes"].as_array().unwrap().clone())
        .map(|c| {
            let sign = match c["operation"].as_str().unwrap() {
                "insert" => '+',
                "delete" => '-',
                other => panic!("{other}"),
            };
            let rev = revision(&server, c["revision"].as_str().unwrap());
            (rev, sign, c["tuple"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(from_rest, expected);
    assert_eq!(from_rest.len(), 2);
}

#[tokio::test]
async fn rest_refuses_before_streaming_in_the_usual_error_shape() {
    let server = GrpcServer::start().await;
    transact(&server, &[("insert", "document:a#viewer@user:a".into())]).await;
    let old = server.running.state.snaptoken(Revision(0));
    let head = server.running.state.known_head();
    zanzi::server::collect_now(&server.running.state, head)
        .await
        .unwrap();
    let cases = [
        (vec![("since", old.as_str())], 410, "snapshot_expired"),
        (vec![("since", "zk1_nope")], 400, "invalid_snaptoken"),
        (vec![("namespace", "nonesuch")], 400, "invalid_argument"),
        (vec![("subject", "not a subject")], 400, "invalid_subject"),
        (vec![("colour", "blue")], 400, "invalid_query"),
    ];
    for (query, status, reason) in cases {
        let answer = server
            .http
            .get(server.rest_read("/zanzi/v1/watch"))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{query:?}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["reason"], reason, "{query:?}: {body}");
    }
}

#[tokio::test]
async fn an_idle_stream_gets_heartbeats_carrying_progress() {
    let server = GrpcServer::start().await;
    let mut stream = client(&server)
        .watch(request(
            "",
            vec![pb::TupleFilter {
                namespace: "folder".into(),
                ..Default::default()
            }],
        ))
        .await
        .unwrap()
        .into_inner();
    // A change the filter leaves out still moves the stream's position.
    let r = transact(&server, &[("insert", "document:a#viewer@user:a".into())]).await;
    let started = Instant::now();
    let message = tokio::time::timeout(WAIT, stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(message.changes.is_empty());
    assert_eq!(
        revision(&server, &message.changes_through.unwrap().token),
        r
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_does_not_read_is_cut_off_with_a_token_to_resume_from() {
    let mut settings = settings();
    settings.max_batch = 1000;
    settings.body_limit = 16 * 1024 * 1024;
    settings.watch_max_stall = Duration::from_secs(1);
    let server =
        GrpcServer::start_with(settings, SCHEMA, Arc::new(zanzi::store::MemoryStore::new())).await;
    // Never read until the writes are done (and for longer than the
    // stall allowed).
    let mut slow = client(&server)
        .watch(request("", vec![]))
        .await
        .unwrap()
        .into_inner();
    // Another stream, on its own connection, keeps up meanwhile.
    let other_channel =
        tonic::transport::Channel::from_shared(format!("http://{}", server.running.read))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut fast = WatchClient::new(other_channel)
        .watch(request("", vec![]))
        .await
        .unwrap()
        .into_inner();
    const TRANSACTIONS: usize = 600;
    let reader = tokio::spawn(async move {
        let mut messages = Vec::new();
        let mut count = 0;
        while count < TRANSACTIONS * 10 {
            let message = tokio::time::timeout(WAIT, fast.message())
                .await
                .expect("the fast stream keeps coming")
                .expect("the fast stream is not cut off")
                .expect("the fast stream goes on");
            count += message.changes.len();
            messages.push(message);
        }
        messages
    });
    let long = "x".repeat(1000);
    let mut revisions = Vec::new();
    // Many transactions of 10 large tuples (about 20 KiB each): more
    // messages than the stream's buffer and HTTP/2's windows hold.
    for t in 0..TRANSACTIONS {
        let actions: Vec<(&str, String)> = (0..10)
            .map(|i| {
                (
                    "insert",
                    format!("document:{long}{t}-{i}#viewer@user:{long}"),
                )
            })
            .collect();
        let started = Instant::now();
        revisions.push(transact(&server, &actions).await);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a write waited on the slow stream: {:?}",
            started.elapsed()
        );
    }
    let last = *revisions.last().unwrap();
    let fast_changes: Vec<Seen> = reader
        .await
        .unwrap()
        .iter()
        .flat_map(|m| seen(&server, m))
        .collect();
    assert_eq!(fast_changes.len(), TRANSACTIONS * 10);
    // Let the feed thread find the slow stream's buffer full.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut received = Vec::new();
    let mut through = None;
    let status = loop {
        match tokio::time::timeout(WAIT, slow.message()).await.unwrap() {
            Ok(Some(message)) => {
                received.extend(seen(&server, &message));
                through = message.changes_through.map(|t| t.token);
            }
            Ok(None) => panic!("the stream ended without an error"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        received.len() < TRANSACTIONS * 10,
        "the stream was not cut off"
    );
    let info = status.get_details_error_info().unwrap();
    let resume = info.metadata["changes_through"].clone();
    assert!(status.message().contains(&resume), "{}", status.message());
    // The token is the last position received: resuming there gives the
    // rest, nothing twice.
    assert_eq!(Some(&resume), through.as_ref());
    let mut rest = client(&server)
        .watch(request(&resume, vec![]))
        .await
        .unwrap()
        .into_inner();
    let (rest_changes, _) = read_through(&server, &mut rest, last).await;
    received.extend(rest_changes);
    assert_eq!(received.len(), TRANSACTIONS * 10);
    assert_eq!(canonical(received), canonical(fast_changes));
}

#[tokio::test]
async fn shutdown_ends_open_streams_and_does_not_hang() {
    let server = GrpcServer::start().await;
    let mut stream = client(&server)
        .watch(request("", vec![]))
        .await
        .unwrap()
        .into_inner();
    let rest = server
        .http
        .get(server.rest_read("/zanzi/v1/watch"))
        .send()
        .await
        .unwrap();
    let r = transact(&server, &[("insert", "document:a#viewer@user:a".into())]).await;
    read_through(&server, &mut stream, r).await;
    let GrpcServer { running, .. } = server;
    let state = Arc::clone(&running.state);
    tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .expect("graceful shutdown finishes with streams open");
    let status = loop {
        match stream.message().await {
            Ok(Some(_)) => {}
            Ok(None) => panic!("ended without a status"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let resume = &status.get_details_error_info().unwrap().metadata["changes_through"];
    assert_eq!(state.tokens.parse_snapshot(resume).unwrap().revision.0, r);
    // The REST stream's last line says so too.
    let text = rest.text().await.unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["error"]["reason"], "shutting_down", "{text}");
}

// ---------------------------------------------------------------------------
// `zanzi tuples watch --remote`, against a `zanzi serve` on SQLite.

fn zanzi_cli() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
}

#[test]
fn the_cli_prints_a_servers_changes_and_stops_cleanly_on_ctrl_c() {
    use support::serve::{grant, revoke, schema_file, Http, Options};
    let dir = tempfile::tempdir().unwrap();
    let (_schema_dir, schema) = schema_file();
    let db = dir.path().join("z.db");
    let server = Options::new(db.to_str().unwrap()).schema(&schema).start();
    let http = Http::new();
    let start = grant(&http, &server, "a", "x");
    let b = grant(&http, &server, "b", "y");
    let gone = revoke(&http, &server, "a", "x");

    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .args([
            "tuples",
            "watch",
            "--remote",
            &server.read,
            "--since",
            &start,
        ])
        .args(["--limit", "2"])
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout,
        format!("+ doc:b#viewer@user:y  {b}\n- doc:a#viewer@user:x  {gone}\n")
    );

    // Filtered, as JSON lines.
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .args([
            "tuples",
            "watch",
            "--remote",
            &server.read,
            "--since",
            &start,
        ])
        .args(["--object", "doc:a", "--format", "json", "--limit", "1"])
        .timeout(WAIT)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        line,
        json!({"operation": "delete", "tuple": "doc:a#viewer@user:x", "revision": gone})
    );

    // An expired or foreign token: an error naming the problem, exit 2.
    let output = zanzi_cli()
        .args([
            "tuples",
            "watch",
            "--remote",
            &server.read,
            "--since",
            "zk1_nope",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("since"),
        "{output:?}"
    );

    // Following until Ctrl-C: the changes come as they are committed.
    let mut child = zanzi_cli()
        .args([
            "tuples",
            "watch",
            "--remote",
            &server.read,
            "--since",
            &gone,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let c = grant(&http, &server, "c", "z");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, format!("+ doc:c#viewer@user:z  {c}\n"));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the watch did not stop on Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}
