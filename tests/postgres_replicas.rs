//! Read replicas (`--db-read-replica`): a real PostgreSQL primary and a
//! hot standby streaming from it (`pg_basebackup -R`, see
//! `support/postgres.rs`). Each test starts its own pair, since pausing
//! replay is the whole standby's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use support::postgres::Cluster;
use zanzi::server::config::{CacheSize, Settings};
use zanzi::server::consistency::Consistency;
use zanzi::server::AppState;
use zanzi::store::postgres::{ReadCounts, ReplicatedStore};
use zanzi::store::{write_validated, Maintenance, Revision, TupleStore};
use zanzi::{Engine, Tuple};

const DRIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/drive/drive.zanzi");

fn t(text: &str) -> Tuple {
    text.parse().unwrap()
}

/// A server state over a primary and its standby. Fields drop in order:
/// the state first, then the clusters.
struct Replicated {
    state: Arc<AppState>,
    url: String,
    replica_url: String,
    standby: Cluster,
    primary: Cluster,
}

impl Replicated {
    /// Without the read cache, so that every read goes to a database and
    /// the routing shows in the counts.
    fn start() -> Replicated {
        Replicated::start_with(CacheSize::Off)
    }

    fn start_with(cache_size: CacheSize) -> Replicated {
        let primary = Cluster::start_primary();
        let standby = Cluster::standby_of(&primary);
        let url = primary.database();
        // The layout must have reached the standby before it is checked.
        zanzi::store::postgres::migrate_up(&url).unwrap();
        standby.wait_replayed(&primary);
        let replica_url = standby.same_database(&url);
        let settings = Settings {
            db: url.clone(),
            db_read_replicas: vec![replica_url.clone()],
            schema: Some(DRIVE.into()),
            secret: Some("shared secret".into()),
            cache_size,
            ..Settings::default()
        };
        let state = Arc::new(AppState::open(settings).unwrap());
        Replicated {
            state,
            url,
            replica_url,
            standby,
            primary,
        }
    }

    fn replicas(&self) -> &ReplicatedStore {
        self.state.read_replicas().unwrap()
    }

    fn counts(&self) -> ReadCounts {
        self.replicas().read_counts()
    }

    fn write(&self, inserts: &[&str], deletes: &[&str]) -> Revision {
        let inserts: Vec<Tuple> = inserts.iter().map(|s| t(s)).collect();
        let deletes: Vec<Tuple> = deletes.iter().map(|s| t(s)).collect();
        let revision = write_validated(
            self.state.store.as_ref(),
            &self.state.schema(),
            &inserts,
            &deletes,
        )
        .unwrap();
        self.state.saw(revision);
        revision
    }

    /// A check as the server runs it: the consistency resolved to a
    /// revision, then the engine at it. Answers the outcome and the
    /// revision (what the snapshot token would name).
    fn check(&self, question: &str, consistency: Consistency) -> (bool, Revision) {
        let at = consistency.resolve(&self.state).unwrap();
        let schema = self.state.schema();
        let engine = Engine::new(&schema, self.state.store.as_ref());
        (engine.check_tuple(&t(question), at).unwrap(), at)
    }

    fn caught_up(&self) {
        self.standby.wait_replayed(&self.primary);
        self.replicas().refresh();
    }
}

/// Whether the reads between `before` and now went only to `target`.
fn only(before: ReadCounts, after: ReadCounts, target: &str) -> bool {
    let replica = after.replica - before.replica;
    let primary = after.primary - before.primary;
    match target {
        "replica" => replica > 0 && primary == 0,
        _ => primary > 0 && replica == 0,
    }
}

#[test]
fn reads_at_a_revision_the_standby_has_replayed_are_served_by_it() {
    let r = Replicated::start();
    let rev = r.write(&["document:readme#viewer@user:alice"], &[]);
    r.standby.wait_replayed(&r.primary);

    for consistency in [
        Consistency::AtLeastAsFresh(rev.into()),
        Consistency::AtExactSnapshot(rev.into()),
        Consistency::MinimizeLatency,
    ] {
        let before = r.counts();
        let (allowed, at) = r.check("document:readme#view@user:alice", consistency.clone());
        assert!(allowed, "{consistency:?}");
        assert!(at >= rev, "{consistency:?} read at {at}");
        assert!(
            only(before, r.counts(), "replica"),
            "{consistency:?}: {before:?} then {:?}",
            r.counts()
        );
    }
    // Listing pages through the replica too, at the same revision.
    let reader = r.state.store.snapshot(rev).unwrap();
    let page = reader
        .list(
            &zanzi::store::TupleFilter::default(),
            &zanzi::store::PageRequest::first(10),
        )
        .unwrap();
    assert_eq!(page.items, [t("document:readme#viewer@user:alice")]);
}

/// The new-enemy problem through a lagging replica: a revocation's token
/// is never answered from a replica that has not replayed it.
#[test]
fn a_lagging_standby_never_answers_for_a_revision_it_has_not_replayed() {
    let r = Replicated::start();
    let granted = r.write(&["document:readme#viewer@user:alice"], &[]);
    r.caught_up();
    r.standby.pause_replay();

    let revoked = r.write(&[], &["document:readme#viewer@user:alice"]);
    let written = r.write(&["document:readme#viewer@user:bob"], &[]);

    let before = r.counts();
    let (bob, at) = r.check(
        "document:readme#view@user:bob",
        Consistency::AtLeastAsFresh(written.into()),
    );
    assert!(bob && at >= written, "the write is seen at its token");
    for consistency in [
        Consistency::AtLeastAsFresh(revoked.into()),
        Consistency::AtExactSnapshot(revoked.into()),
        Consistency::FullyConsistent,
    ] {
        let (alice, at) = r.check("document:readme#view@user:alice", consistency.clone());
        assert!(!alice && at >= revoked, "{consistency:?}: allowed at {at}");
    }
    assert!(only(before, r.counts(), "primary"), "{:?}", r.counts());

    // minimize_latency may read the replica's older snapshot: it answers
    // at the replica's revision, where the grant still holds.
    let before = r.counts();
    let (alice, at) = r.check(
        "document:readme#view@user:alice",
        Consistency::MinimizeLatency,
    );
    assert_eq!(at, granted, "the replica's revision");
    assert!(alice, "at revision {granted} alice could view");
    assert!(only(before, r.counts(), "replica"), "{:?}", r.counts());

    r.standby.resume_replay();
    r.caught_up();
    let before = r.counts();
    let (alice, _) = r.check(
        "document:readme#view@user:alice",
        Consistency::AtLeastAsFresh(revoked.into()),
    );
    assert!(!alice);
    assert!(only(before, r.counts(), "replica"), "{:?}", r.counts());
}

/// The same through the bounded cache over the replicated store: answers
/// depend only on the revision read at, never on where the data came from.
#[test]
fn with_the_cache_a_lagging_standby_still_never_answers_for_a_revision_it_has_not_replayed() {
    let r = Replicated::start_with(CacheSize::Bytes(1 << 20));
    let granted = r.write(&["document:readme#viewer@user:alice"], &[]);
    r.caught_up();
    // Cached at the grant.
    let (alice, _) = r.check(
        "document:readme#view@user:alice",
        Consistency::AtLeastAsFresh(granted.into()),
    );
    assert!(alice);
    r.standby.pause_replay();

    let revoked = r.write(&[], &["document:readme#viewer@user:alice"]);
    for consistency in [
        Consistency::AtLeastAsFresh(revoked.into()),
        Consistency::AtExactSnapshot(revoked.into()),
        Consistency::FullyConsistent,
    ] {
        let (alice, at) = r.check("document:readme#view@user:alice", consistency.clone());
        assert!(!alice && at >= revoked, "{consistency:?}: allowed at {at}");
    }
    let (alice, at) = r.check(
        "document:readme#view@user:alice",
        Consistency::MinimizeLatency,
    );
    assert_eq!(alice, at < revoked, "minimize_latency at {at}");
    let (alice, _) = r.check(
        "document:readme#view@user:alice",
        Consistency::AtExactSnapshot(granted.into()),
    );
    assert!(alice, "at revision {granted} alice could view");
    r.standby.resume_replay();
}

#[test]
fn a_stopped_standby_sends_reads_to_the_primary_until_it_is_back() {
    let r = Replicated::start();
    let rev = r.write(&["document:readme#viewer@user:alice"], &[]);
    r.caught_up();
    r.standby.stop();

    let before = r.counts();
    for consistency in [
        Consistency::AtLeastAsFresh(rev.into()),
        Consistency::AtExactSnapshot(rev.into()),
        Consistency::MinimizeLatency,
        Consistency::FullyConsistent,
    ] {
        let (allowed, _) = r.check("document:readme#view@user:alice", consistency.clone());
        assert!(allowed, "{consistency:?}");
    }
    let after = r.counts();
    assert!(after.primary > before.primary, "{before:?} then {after:?}");

    r.standby.start_server();
    // A replica that failed is skipped for a while, then tried again.
    std::thread::sleep(Duration::from_millis(2500));
    r.caught_up();
    let before = r.counts();
    let (allowed, _) = r.check(
        "document:readme#view@user:alice",
        Consistency::AtLeastAsFresh(rev.into()),
    );
    assert!(allowed);
    assert!(only(before, r.counts(), "replica"), "{:?}", r.counts());
}

/// A read that the standby cancels for a conflict with recovery (here at
/// once: `max_standby_streaming_delay = 0`) is repeated on the primary at
/// the same revision, with the same answer.
///
/// The conflict needs the primary's VACUUM to remove the old versions; a
/// transaction open on the primary at that moment (the server's own feed,
/// under load) keeps them, and then nothing conflicts. So the scenario is
/// tried a few times, each time with versions of its own, and must produce
/// the cancellation once; every read of every try must be right.
#[test]
fn a_read_cancelled_by_recovery_is_repeated_on_the_primary() {
    let r = Replicated::start();
    let mut standby_admin =
        postgres::Client::connect(&r.standby.url("postgres"), postgres::NoTls).unwrap();
    standby_admin
        .batch_execute("ALTER SYSTEM SET max_standby_streaming_delay = 0")
        .unwrap();
    standby_admin
        .batch_execute("SELECT pg_reload_conf()")
        .unwrap();
    let store = r.replicas();
    let mut primary_admin = postgres::Client::connect(&r.url, postgres::NoTls).unwrap();
    let mut tries = Vec::new();
    for attempt in 0..5 {
        let old = format!("document:old{attempt}#viewer@user:alice");
        let new = format!("document:readme{attempt}#viewer@user:alice");
        r.write(&[old.as_str()], &[]);
        r.write(&[], &[old.as_str()]);
        let rev = r.write(&[new.as_str()], &[]);
        r.caught_up();

        let reader = store.snapshot(rev).unwrap();
        let before = store.read_counts();
        assert!(reader.contains(&t(&new)).unwrap());
        // Deleted after `rev`: a retry that read the head would miss it.
        r.write(&[], &[new.as_str()]);
        // Remove the old versions on the primary, with nothing of ours
        // holding them there: replaying the removal conflicts with the
        // reader's snapshot.
        store.primary().gc(rev).unwrap();
        primary_admin
            .batch_execute("VACUUM (FREEZE) zanzi_tuples")
            .unwrap();
        r.standby.wait_replayed(&r.primary);

        assert!(reader.contains(&t(&new)).unwrap(), "try {attempt}");
        assert!(!reader.contains(&t(&old)).unwrap(), "try {attempt}");
        let after = store.read_counts();
        drop(reader);
        let retried = after.retried_on_primary - before.retried_on_primary;
        assert!(retried <= 1, "{before:?} then {after:?}");
        tries.push((before, after));
        if retried == 1 {
            return;
        }
    }
    panic!("no read was cancelled by recovery in 5 tries: {tries:?}");
}

#[test]
fn a_replica_of_another_database_is_refused_naming_it() {
    let r = Replicated::start();
    let other = r.primary.database();
    zanzi::store::postgres::migrate_up(&other).unwrap();
    r.standby.wait_replayed(&r.primary);
    let other_replica = r.standby.same_database(&other);
    let err = ReplicatedStore::connect(&r.url, std::slice::from_ref(&other_replica)).unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&other_replica), "{message}");
    assert!(message.contains("another database"), "{message}");
    // The same replica of the right database is accepted.
    ReplicatedStore::connect(&r.url, std::slice::from_ref(&r.replica_url)).unwrap();
}

// ---------------------------------------------------------------------------
// Through `zanzi serve`.

/// A server child, killed when the test ends (even by a panic).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request; answers the status, the snapshot token header
/// and the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let token = head
        .lines()
        .find_map(|line| line.strip_prefix("x-zanzi-snaptoken: "))
        .unwrap_or_default()
        .to_owned();
    (status, token, body.to_owned())
}

fn allowed(body: &str) -> bool {
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    value["allowed"].as_bool().unwrap()
}

#[test]
fn zanzi_serve_with_a_paused_read_replica_answers_at_the_write_token() {
    let primary = Cluster::start_primary();
    let standby = Cluster::standby_of(&primary);
    let url = primary.database();
    zanzi::store::postgres::migrate_up(&url).unwrap();
    standby.wait_replayed(&primary);
    let replica = standby.same_database(&url);
    // A second replica that is down: skipped, and shown without its
    // password.
    let down = "postgres://postgres:s3cret@127.0.0.1:1/zanzi";
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .env_remove("ZANZI_DB")
            .env_remove("ZANZI_DB_READ_REPLICAS")
            .env("ZANZI_SECRET", "shared secret")
            .args(["serve", "--log-format", "json", "--schema", DRIVE])
            .args(["--db", &url, "--db-read-replica", &replica])
            .args(["--db-read-replica", down])
            .args(["--read-port", "0", "--write-port", "0"])
            .args(["--metrics-port", "0", "--syntax-port", "0"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut log = BufReader::new(server.0.stderr.take().unwrap()).lines();
    let mut logged = String::new();
    let (read, write) = loop {
        let line = log
            .next()
            .expect("the server did not announce its listeners")
            .unwrap();
        logged.push_str(&line);
        let record: serde_json::Value = serde_json::from_str(&line).unwrap();
        if record["fields"]["message"] == "zanzi serving" {
            let addr = |name: &str| record["fields"][name].as_str().unwrap().to_owned();
            break (addr("read"), addr("write"));
        }
    };
    std::thread::spawn(move || log.for_each(drop));
    assert!(!logged.contains("s3cret"), "{logged}");
    assert!(
        logged.contains("postgres://postgres:***@127.0.0.1:1/zanzi"),
        "{logged}"
    );

    let grant =
        r#"{"namespace":"document","object":"readme","relation":"viewer","subject_id":"alice"}"#;
    let (status, _, _) = http(&write, "PUT", "/admin/relation-tuples", grant);
    assert_eq!(status, 201);
    standby.wait_replayed(&primary);
    standby.pause_replay();

    let check = |token: &str| {
        let path = format!(
            "/relation-tuples/check/openapi?namespace=document&object=readme\
             &relation=view&subject_id=alice&snaptoken={token}"
        );
        let (status, _, body) = http(&read, "GET", &path, "");
        assert_eq!(status, 200, "{body}");
        allowed(&body)
    };
    let (status, revoked, _) = http(
        &write,
        "DELETE",
        "/admin/relation-tuples?namespace=document&object=readme&relation=viewer&subject_id=alice",
        "",
    );
    assert_eq!(status, 204);
    assert!(!revoked.is_empty());
    assert!(!check(&revoked), "the revocation's token must deny");
    let (status, granted, _) = http(&write, "PUT", "/admin/relation-tuples", grant);
    assert_eq!(status, 201);
    assert!(check(&granted), "the grant's token must allow");
    standby.resume_replay();
}

#[test]
fn read_replicas_need_a_postgres_db_and_bad_ones_are_refused_at_start() {
    let serve = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .env_remove("ZANZI_DB")
            .env_remove("ZANZI_DB_READ_REPLICAS")
            .args(["serve", "--schema", DRIVE, "--read-port", "0"])
            .args([
                "--write-port",
                "0",
                "--metrics-port",
                "0",
                "--syntax-port",
                "0",
            ])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = serve(&[
        "--db",
        ":memory:",
        "--db-read-replica",
        "postgres://u:s3cret@127.0.0.1:1/db",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("needs a PostgreSQL `db`"), "{stderr}");

    let (primary, standby) = support::postgres::replicated();
    let url = primary.database();
    let other = primary.database();
    zanzi::store::postgres::migrate_up(&url).unwrap();
    zanzi::store::postgres::migrate_up(&other).unwrap();
    standby.wait_replayed(primary);
    let wrong = standby
        .same_database(&other)
        .replace("postgres@", "postgres:s3cret@");
    let (code, stderr) = serve(&["--db", &url, "--db-read-replica", &wrong]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("another database"), "{stderr}");
    assert!(stderr.contains("postgres:***@"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
