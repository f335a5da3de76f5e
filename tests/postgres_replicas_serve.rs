//! Several real `zanzi serve` processes over one PostgreSQL database:
//! snapshot tokens mean the same on every replica (read-your-writes, the
//! new-enemy problem), snapshots are exact prefixes of the commit order
//! under concurrent writers, and faults (the database stopped, a replica
//! killed mid-write) cost neither acknowledged writes nor right answers.
//!
//! The servers are the binary cargo built (`support/serve.rs`), each test
//! on its own database of a throwaway cluster (`support/postgres.rs`); the
//! concurrent-writer test runs `ZANZI_PREFIX_TEST_SECS` seconds (20).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;
use support::serve::{query, Answer, Http, Options, Server};

const SCHEMA: &str =
    "namespace user {}\nnamespace doc { relation viewer: user  permission view = viewer }\n";

const SECRET: &str = "replicas share this secret";

/// The schema in a file that lives as long as the test.
fn schema_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.zanzi");
    std::fs::write(&path, SCHEMA).unwrap();
    (dir, path)
}

/// Three servers on `db` with one secret; the first creates the layout and
/// stores the schema before the others start.
fn replicas(db: &str, schema: &std::path::Path, settings: &[(&str, &str)]) -> [Server; 3] {
    let mut options = Options::new(db).schema(schema).secret(SECRET);
    for (key, value) in settings {
        options = options.setting(key, value);
    }
    let a = options.start();
    let (b, c) = std::thread::scope(|s| {
        let b = s.spawn(|| options.start());
        let c = s.spawn(|| options.start());
        (b.join().unwrap(), c.join().unwrap())
    });
    [a, b, c]
}

/// The revision inside a snapshot token: `zk1_` + base64url of
/// `[version][store id: 16][revision: 8][MAC: 16]` (`src/server/zookie.rs`).
fn revision(token: &str) -> u64 {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.strip_prefix("zk1_").unwrap())
        .unwrap();
    u64::from_be_bytes(bytes[17..25].try_into().unwrap())
}

/// Writes `doc:OBJECT#viewer@user:SUBJECT` through `server`; its token.
fn grant(http: &Http, server: &Server, object: &str, subject: &str) -> String {
    let answer = try_grant(http, server, object, subject).unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    answer.token()
}

fn try_grant(
    http: &Http,
    server: &Server,
    object: &str,
    subject: &str,
) -> Result<Answer, reqwest::Error> {
    http.try_request(
        "PUT",
        &format!("{}/admin/relation-tuples", server.write),
        Some(
            &json!({"namespace": "doc", "object": object, "relation": "viewer",
                     "subject_id": format!("user:{subject}")}),
        ),
    )
}

/// Deletes `doc:OBJECT#viewer@user:SUBJECT` through `server` (a PATCH of one
/// delete); its token.
fn revoke(http: &Http, server: &Server, object: &str, subject: &str) -> String {
    let answer = http.request(
        "PATCH",
        &format!("{}/admin/relation-tuples", server.write),
        Some(&json!([{"action": "delete", "relation_tuple": {
            "namespace": "doc", "object": object, "relation": "viewer",
            "subject_id": format!("user:{subject}")}}])),
    );
    assert_eq!(answer.status, 204, "{answer:?}");
    answer.token()
}

/// Asks `server` whether `user:SUBJECT` may view `doc:OBJECT`, with the
/// given `consistency`/`snaptoken` parameters.
fn check(
    http: &Http,
    server: &Server,
    object: &str,
    subject: &str,
    consistency: &[(&str, &str)],
) -> Answer {
    let subject = format!("user:{subject}");
    let mut params = vec![
        ("namespace", "doc"),
        ("object", object),
        ("relation", "view"),
        ("subject_id", subject.as_str()),
    ];
    params.extend_from_slice(consistency);
    http.get(&format!(
        "{}/relation-tuples/check/openapi?{}",
        server.read,
        query(&params)
    ))
}

/// Whether the check was answered 200 and allowed.
fn allowed(answer: &Answer) -> bool {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["allowed"].as_bool().unwrap()
}

/// The subjects (without `user:`) of `doc:OBJECT#viewer` at the snapshot
/// chosen by `consistency`, every page read at the first page's revision;
/// and that revision's token.
fn list(
    http: &Http,
    server: &Server,
    object: &str,
    page_size: usize,
    consistency: &[(&str, &str)],
) -> (Vec<String>, String) {
    let page_size = page_size.to_string();
    let mut subjects = Vec::new();
    let mut page_token = String::new();
    let mut snapshot = None;
    loop {
        let mut params = vec![
            ("namespace", "doc"),
            ("object", object),
            ("relation", "viewer"),
            ("page_size", &page_size),
        ];
        if page_token.is_empty() {
            params.extend_from_slice(consistency);
        } else {
            params.push(("page_token", &page_token));
        }
        let answer = http.get(&format!(
            "{}/relation-tuples?{}",
            server.read,
            query(&params)
        ));
        assert_eq!(answer.status, 200, "{answer:?}");
        let token = answer.token();
        match &snapshot {
            None => snapshot = Some(token),
            Some(first) => assert_eq!(
                revision(first),
                revision(&token),
                "a page of one listing read another snapshot"
            ),
        }
        for tuple in answer.body["relation_tuples"].as_array().unwrap() {
            let id = tuple["subject_id"].as_str().unwrap();
            subjects.push(id.strip_prefix("user:").unwrap_or(id).to_owned());
        }
        page_token = answer.body["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if page_token.is_empty() {
            return (subjects, snapshot.unwrap());
        }
    }
}

#[test]
fn a_write_through_one_replica_is_read_through_the_others_with_its_token() {
    let (_dir, schema) = schema_file();
    let db = support::postgres::database();
    let [a, b, c] = replicas(&db, &schema, &[]);
    let http = Http::new();
    // B and C have seen nothing of what A writes: only the token tells them.
    let mut before = check(
        &http,
        &a,
        "rw",
        "nobody",
        &[("consistency", "fully_consistent")],
    );
    assert!(!allowed(&before));
    for i in 0..5 {
        let subject = format!("u{i}");
        let token = grant(&http, &a, "rw", &subject);
        assert!(revision(&token) > revision(&before.token()));
        for reader in [&b, &c] {
            let fresh = check(&http, reader, "rw", &subject, &[("snaptoken", &token)]);
            assert!(
                allowed(&fresh),
                "{} missed A's write: {fresh:?}",
                reader.read
            );
            assert!(revision(&fresh.token()) >= revision(&token));
            let exact = check(
                &http,
                reader,
                "rw",
                &subject,
                &[
                    ("consistency", "at_exact_snapshot"),
                    ("snaptoken", &before.token()),
                ],
            );
            assert!(
                !allowed(&exact),
                "the snapshot before the write shows it: {exact:?}"
            );
            assert_eq!(revision(&exact.token()), revision(&before.token()));
        }
        before = Answer {
            status: 200,
            snaptoken: Some(token),
            body: serde_json::Value::Null,
        };
    }

    // A server of another database (same secret) issues tokens the
    // replicas refuse: its revisions mean other data.
    let other = Options::new(&support::postgres::database())
        .schema(&schema)
        .secret(SECRET)
        .start();
    let foreign = grant(&http, &other, "rw", "u0");
    for reader in [&a, &b, &c] {
        let refused = check(&http, reader, "rw", "u0", &[("snaptoken", &foreign)]);
        assert_eq!(refused.status, 400, "{refused:?}");
        assert_eq!(refused.reason(), Some("invalid_snaptoken"), "{refused:?}");
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("another store"), "{message}");
    }
}

#[test]
fn a_revocation_on_one_replica_denies_at_its_token_on_another() {
    let (_dir, schema) = schema_file();
    let db = support::postgres::database();
    let [a, b, c] = replicas(&db, &schema, &[]);
    let http = Http::new();
    for round in 0..3 {
        let object = format!("secret{round}");
        let granted = grant(&http, &a, &object, "mallory");
        let revoked = revoke(&http, &b, &object, "mallory");
        assert!(revision(&revoked) > revision(&granted));
        let denied = check(&http, &c, &object, "mallory", &[("snaptoken", &revoked)]);
        assert!(!allowed(&denied), "the revocation was missed: {denied:?}");
        let denied = check(
            &http,
            &c,
            &object,
            "mallory",
            &[
                ("consistency", "at_least_as_fresh"),
                ("snaptoken", &revoked),
            ],
        );
        assert!(!allowed(&denied), "{denied:?}");
        let then = check(
            &http,
            &c,
            &object,
            "mallory",
            &[
                ("consistency", "at_exact_snapshot"),
                ("snaptoken", &granted),
            ],
        );
        assert!(allowed(&then), "the grant's snapshot lost it: {then:?}");
    }
}

/// What a writer of the prefix test does, in order: blocks of three
/// inserts and a delete of the block's middle tuple, each its own
/// transaction. Every step changes the writer's set, so a set is the
/// outcome of at most one prefix of the steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Insert(u64),
    Delete(u64),
}

fn step(i: u64) -> Step {
    let (block, j) = (i / 4, i % 4);
    if j < 3 {
        Step::Insert(3 * block + j)
    } else {
        Step::Delete(3 * block + 1)
    }
}

/// A writer's set after its first `k` steps.
fn after(k: u64) -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for i in 0..k {
        match step(i) {
            Step::Insert(n) => set.insert(n),
            Step::Delete(n) => set.remove(&n),
        };
    }
    set
}

/// The number of steps whose outcome `set` is, if it is one.
fn prefix_of(set: &BTreeSet<u64>) -> Option<u64> {
    let Some(&max) = set.last() else {
        return Some(0);
    };
    // `max` is the newest insert: the set is right after it, or after the
    // delete that follows it.
    let inserted = 4 * (max / 3) + max % 3 + 1;
    [inserted, inserted + 1]
        .into_iter()
        .find(|&k| (k == inserted || step(inserted) == Step::Delete(max - 1)) && after(k) == *set)
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Many writers on two replicas, each step its own transaction, while a
/// checker on the third reads snapshots (fresh ones and earlier ones, at
/// their exact revision): every snapshot at revision `s` must hold exactly
/// the steps acknowledged with a revision `<= s`, so no snapshot shows a
/// write without every write committed before it.
#[test]
fn every_snapshot_under_concurrent_writers_is_a_prefix_of_the_commit_order() {
    const WRITERS_PER_REPLICA: usize = 3;
    let secs: u64 = std::env::var("ZANZI_PREFIX_TEST_SECS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("ZANZI_PREFIX_TEST_SECS: a number of seconds")
        })
        .unwrap_or(20);
    let (_dir, schema) = schema_file();
    let db = support::postgres::database();
    let [a, b, c] = replicas(&db, &schema, &[("MAX_PAGE_SIZE", "1000000")]);
    let writers = 2 * WRITERS_PER_REPLICA;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let done = AtomicBool::new(false);
    // Tokens of acknowledged writes: snapshots for the checker to revisit.
    let acknowledged: Mutex<Vec<String>> = Mutex::new(Vec::new());

    let (revisions, snapshots, errors) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let server = if w % 2 == 0 { &a } else { &b };
                let acknowledged = &acknowledged;
                s.spawn(move || {
                    let http = Http::new();
                    let mut revisions = Vec::new();
                    let mut i = 0;
                    while Instant::now() < deadline {
                        let token = match step(i) {
                            Step::Insert(n) => grant(&http, server, "d", &format!("w{w}_{n}")),
                            Step::Delete(n) => revoke(&http, server, "d", &format!("w{w}_{n}")),
                        };
                        revisions.push(revision(&token));
                        acknowledged.lock().unwrap().push(token);
                        i += 1;
                    }
                    revisions
                })
            })
            .collect();
        let checker = s.spawn(|| {
            let http = Http::new();
            let mut rng = Rng(0x5eed_1234_abcd_0042);
            let mut seen: Vec<String> = Vec::new();
            // (revision, steps visible per writer)
            let mut snapshots: Vec<(u64, Vec<u64>)> = Vec::new();
            let mut errors: Vec<String> = Vec::new();
            let mut round = 0;
            while !done.load(Ordering::Acquire) {
                round += 1;
                let token = if round % 2 == 1 || seen.is_empty() {
                    let head = check(
                        &http,
                        &c,
                        "d",
                        "w0_0",
                        &[("consistency", "fully_consistent")],
                    );
                    assert_eq!(head.status, 200, "{head:?}");
                    head.token()
                } else if round % 4 == 0 {
                    let acknowledged = acknowledged.lock().unwrap();
                    acknowledged[rng.below(acknowledged.len())].clone()
                } else {
                    seen[rng.below(seen.len())].clone()
                };
                let (subjects, listed) = list(
                    &http,
                    &c,
                    "d",
                    1_000_000,
                    &[("consistency", "at_exact_snapshot"), ("snaptoken", &token)],
                );
                assert_eq!(revision(&listed), revision(&token));
                let mut sets = vec![BTreeSet::new(); writers];
                for subject in &subjects {
                    let (w, n) = subject
                        .strip_prefix('w')
                        .and_then(|rest| rest.split_once('_'))
                        .unwrap_or_else(|| panic!("a tuple nobody wrote: {subject}"));
                    sets[w.parse::<usize>().unwrap()].insert(n.parse::<u64>().unwrap());
                }
                let mut steps = Vec::new();
                for (w, set) in sets.iter().enumerate() {
                    match prefix_of(set) {
                        Some(k) => steps.push(k),
                        None => errors.push(format!(
                            "revision {}: writer {w}'s tuples {set:?} are no prefix of its writes",
                            revision(&token)
                        )),
                    }
                }
                if steps.len() == writers {
                    snapshots.push((revision(&token), steps));
                }
                seen.push(token);
            }
            (snapshots, errors)
        });
        let revisions: Vec<Vec<u64>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        done.store(true, Ordering::Release);
        let (snapshots, errors) = checker.join().unwrap();
        (revisions, snapshots, errors)
    });
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    // Each writer's revisions rise, and no two writes share one.
    let mut all: Vec<u64> = revisions.iter().flatten().copied().collect();
    for (w, revs) in revisions.iter().enumerate() {
        assert!(revs.windows(2).all(|p| p[0] < p[1]), "writer {w}: {revs:?}");
    }
    let writes = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        writes,
        "two acknowledged writes share a revision"
    );

    // A snapshot at revision s holds exactly the writes acknowledged at or
    // below s: none later, none missing.
    for (at, steps) in &snapshots {
        for (w, (&k, revs)) in steps.iter().zip(&revisions).enumerate() {
            let expected = revs.partition_point(|&r| r <= *at);
            assert_eq!(
                k,
                expected as u64,
                "at revision {at}, writer {w} shows {k} steps, but {expected} were acknowledged \
                 at or below it ({:?}…)",
                &revs[expected.saturating_sub(2)..(expected + 2).min(revs.len())]
            );
        }
    }

    // Every acknowledged write is there at the head, and nothing else.
    let (subjects, head) = list(
        &http_once(),
        &b,
        "d",
        1_000_000,
        &[("consistency", "fully_consistent")],
    );
    assert!(revision(&head) >= *all.last().unwrap());
    let mut expected = BTreeSet::new();
    for (w, revs) in revisions.iter().enumerate() {
        for n in after(revs.len() as u64) {
            expected.insert(format!("w{w}_{n}"));
        }
    }
    assert_eq!(subjects.into_iter().collect::<BTreeSet<_>>(), expected);
    let distinct: BTreeMap<u64, usize> = snapshots.iter().map(|(r, _)| (*r, 0)).collect();
    eprintln!(
        "prefix test: {secs} s, {writers} writers on 2 replicas, {writes} acknowledged writes, \
         {} snapshots checked ({} distinct revisions) on the third",
        snapshots.len(),
        distinct.len()
    );
    assert!(
        writes >= 100 && snapshots.len() >= 10,
        "too little happened to tell"
    );
}

fn http_once() -> Http {
    Http::new()
}
