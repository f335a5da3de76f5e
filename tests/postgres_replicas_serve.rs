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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;
use support::serve::*;

#[test]
fn a_write_through_one_replica_is_read_through_the_others_with_its_token() {
    let (_dir, schema) = schema_file();
    let db = support::postgres::database();
    let [a, b, c] = replicas(&db, &schema, &[]);
    let http = Http::new();
    // B and C have seen nothing of what A writes: only the token tells them.
    let head = check(
        &http,
        &a,
        "rw",
        "nobody",
        &[("consistency", "fully_consistent")],
    );
    assert!(!allowed(&head));
    // The token of the snapshot just before each write.
    let mut before = head.token();
    for i in 0..5 {
        let subject = format!("u{i}");
        let token = grant(&http, &a, "rw", &subject);
        assert!(revision(&token) > revision(&before));
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
                &[("consistency", "at_exact_snapshot"), ("snaptoken", &before)],
            );
            assert!(
                !allowed(&exact),
                "the snapshot before the write shows it: {exact:?}"
            );
            assert_eq!(revision(&exact.token()), revision(&before));
        }
        before = token;
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

/// The checker's arithmetic: every prefix is recognised as itself, and a
/// set with a later write but not an earlier one as none.
#[test]
fn the_prefix_checker_tells_prefixes_from_other_sets() {
    for k in 0..60 {
        assert_eq!(prefix_of(&after(k)), Some(k));
    }
    let mut gap = after(20);
    gap.remove(&3);
    assert_eq!(prefix_of(&gap), None);
    // A tuple gone that no step deletes.
    let mut lost = after(7);
    lost.remove(&2);
    assert_eq!(prefix_of(&lost), None);
    let mut undeleted = after(12);
    undeleted.insert(1);
    assert_eq!(prefix_of(&undeleted), None);
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
                } else if round % 4 == 0 && !acknowledged.lock().unwrap().is_empty() {
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
                // A check at the same snapshot agrees with the listing.
                let w = rng.below(writers);
                let n = rng.below(sets[w].last().map_or(0, |&n| n as usize) + 2) as u64;
                let asked = check(
                    &http,
                    &c,
                    "d",
                    &format!("w{w}_{n}"),
                    &[("consistency", "at_exact_snapshot"), ("snaptoken", &token)],
                );
                if allowed(&asked) != sets[w].contains(&n) {
                    errors.push(format!(
                        "revision {}: the check of w{w}_{n} says {asked:?}, the listing {}",
                        revision(&token),
                        sets[w].contains(&n)
                    ));
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
        &Http::new(),
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

/// One request of the fault stream: when it ran and what came back
/// (`None`: no HTTP answer at all).
#[derive(Debug)]
struct Event {
    /// Read in failure messages (through `Debug`).
    #[allow(dead_code)]
    what: String,
    start: Instant,
    end: Instant,
    status: Option<u16>,
}

/// PostgreSQL stopped under a stream of writes and checks: while it is
/// away every request is answered 503 (never a wrong answer, never another
/// 5xx), and once it is back the same server process answers again, with
/// every write it acknowledged.
#[test]
fn the_database_stopped_and_started_under_a_server_costs_no_write_and_no_right_answer() {
    let (_dir, schema) = schema_file();
    let cluster = support::postgres::Cluster::start();
    let db = cluster.database();
    let mut server = Options::new(&db).schema(&schema).secret(SECRET).start();
    let stop = AtomicBool::new(false);
    let events: Mutex<Vec<Event>> = Mutex::new(Vec::new());
    let wrong: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut acked: Vec<u64> = Vec::new();
    let mut phases = BTreeMap::new();
    std::thread::scope(|s| {
        let stream = s.spawn(|| {
            let http = Http::with_timeout(Duration::from_secs(60));
            let mut acked = Vec::new();
            let mut rng = Rng(0xfa17_0001);
            let mut i = 0u64;
            let record = |what: String, start: Instant, answer: &Result<Answer, reqwest::Error>| {
                events.lock().unwrap().push(Event {
                    what,
                    start,
                    end: Instant::now(),
                    status: answer.as_ref().ok().map(|a| a.status),
                });
            };
            while !stop.load(Ordering::Acquire) {
                i += 1;
                let start = Instant::now();
                let answer = try_grant(&http, &server, "f", &format!("u{i}"));
                record(format!("write u{i}"), start, &answer);
                if matches!(&answer, Ok(a) if a.status == 201) {
                    acked.push(i);
                }
                // A granted subject (if any) and one never granted: a 200
                // must be the right answer.
                let granted = (!acked.is_empty()).then(|| acked[rng.below(acked.len())]);
                for (subject, expected) in [(granted, true), (Some(0), false)] {
                    let Some(n) = subject else { continue };
                    let subject = format!("user:u{n}");
                    let start = Instant::now();
                    let answer = http.try_request(
                        "GET",
                        &format!(
                            "{}/relation-tuples/check/openapi?{}",
                            server.read,
                            query(&[
                                ("namespace", "doc"),
                                ("object", "f"),
                                ("relation", "view"),
                                ("subject_id", &subject),
                                ("consistency", "fully_consistent"),
                            ])
                        ),
                        None,
                    );
                    record(format!("check {subject}"), start, &answer);
                    if let Ok(a) = &answer {
                        if a.status == 200 && a.body["allowed"] != expected {
                            wrong.lock().unwrap().push(format!("{subject}: {a:?}"));
                        }
                    }
                }
            }
            acked
        });

        std::thread::sleep(Duration::from_secs(1));
        phases.insert("stopping", Instant::now());
        cluster.stop();
        let stopped = Instant::now();
        phases.insert("stopped", stopped);
        // Down until a few requests have been refused (each may wait for
        // the pool's connection timeout), at least 3 s.
        let refused_since_stop = || {
            events
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.start >= stopped && e.status == Some(503))
                .count()
        };
        while stopped.elapsed() < Duration::from_secs(3)
            || (refused_since_stop() < 3 && stopped.elapsed() < Duration::from_secs(60))
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        phases.insert("starting", Instant::now());
        cluster.start_server();
        let started = Instant::now();
        phases.insert("started", started);
        // Back: wait for a write acknowledged after the restart, then a
        // little more traffic.
        let recovered = loop {
            let back = events
                .lock()
                .unwrap()
                .iter()
                .find(|e| e.start >= started && e.status == Some(201))
                .map(|e| e.end);
            if let Some(at) = back {
                break at;
            }
            if started.elapsed() > Duration::from_secs(60) {
                break Instant::now();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        phases.insert("recovered", recovered);
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::Release);
        acked = stream.join().unwrap();
    });

    let events = events.into_inner().unwrap();
    let wrong = wrong.into_inner().unwrap();
    assert!(wrong.is_empty(), "wrong answers: {wrong:#?}");
    let odd: Vec<&Event> = events
        .iter()
        .filter(|e| !matches!(e.status, Some(200 | 201 | 503)))
        .collect();
    assert!(odd.is_empty(), "answers other than 200/201/503: {odd:#?}");
    // While the database was away (requests that started after it stopped
    // and ended before it was started again): 503 only.
    let down: Vec<&Event> = events
        .iter()
        .filter(|e| e.start >= phases["stopped"] && e.end <= phases["starting"])
        .collect();
    assert!(down.len() >= 3, "too few requests while down: {down:#?}");
    assert!(
        down.iter().all(|e| e.status == Some(503)),
        "answered while the database was away: {down:#?}"
    );
    let slowest = down.iter().map(|e| e.end - e.start).max().unwrap();
    assert!(slowest <= Duration::from_secs(5), "a 503 took {slowest:?}");
    let recovered = phases["recovered"] - phases["started"];
    assert!(
        recovered < Duration::from_secs(30),
        "the server did not answer a write within 30 s of the restart; its log:\n{}",
        server.log()
    );
    assert!(server.is_running(), "the server process went away");
    let before = events
        .iter()
        .filter(|e| e.end <= phases["stopping"] && e.status == Some(201))
        .count();
    let after = events
        .iter()
        .filter(|e| e.start >= phases["started"] && e.status == Some(201))
        .count();
    assert!(
        before > 0 && after > 0,
        "writes before {before}, after {after}"
    );

    // Every acknowledged write is there.
    let (subjects, _) = list(
        &Http::new(),
        &server,
        "f",
        1000,
        &[("consistency", "fully_consistent")],
    );
    let present: BTreeSet<String> = subjects.into_iter().collect();
    let lost: Vec<u64> = acked
        .iter()
        .copied()
        .filter(|n| !present.contains(&format!("u{n}")))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let mut latencies: Vec<Duration> = down.iter().map(|e| e.end - e.start).collect();
    latencies.sort_unstable();
    eprintln!(
        "database stop: {} requests, {} acknowledged writes ({before} before the stop, {after} \
         after the restart); {} requests while down, all 503, latency min {:?} median {:?} max \
         {slowest:?}; first write acknowledged {recovered:?} after the restart",
        events.len(),
        acked.len(),
        down.len(),
        latencies[0],
        latencies[latencies.len() / 2],
    );
}

/// Tuples in the large write of the kill test.
const LARGE: usize = 20_000;

/// A PATCH inserting `doc:OBJECT#viewer@user:u0…` (LARGE tuples) in one
/// transaction.
fn large_write(object: &str) -> serde_json::Value {
    (0..LARGE)
        .map(|i| {
            json!({"action": "insert", "relation_tuple": {"namespace": "doc", "object": object,
                   "relation": "viewer", "subject_id": format!("user:u{i}")}})
        })
        .collect()
}

/// Waits until no session of the database is inside a statement or a
/// transaction: a killed server's transaction has then committed or rolled
/// back for good.
fn settle(db: &str) {
    let mut client = postgres::Client::connect(db, postgres::NoTls).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND state <> 'idle'",
                &[],
            )
            .unwrap()
            .get(0);
        if busy == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "sessions still busy after 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until a session of the database runs (or has run, in a
/// transaction still open) the insert of a large write; false if none is
/// seen before the write is `answered`.
fn inserting(db: &str, answered: &AtomicBool) -> bool {
    let mut client = postgres::Client::connect(db, postgres::NoTls).unwrap();
    while !answered.load(Ordering::Acquire) {
        let seen: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND state IN ('active', 'idle in transaction')
                   AND query LIKE 'INSERT INTO zanzi_tuples%'",
                &[],
            )
            .unwrap()
            .get(0);
        if seen > 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// `kill -9` of a replica in the middle of a write of 20,000 tuples in one
/// transaction, at several points of it: afterwards another replica sees
/// all of the write or none of it.
#[test]
fn a_replica_killed_during_a_large_write_leaves_it_whole_or_absent() {
    let (_dir, schema) = schema_file();
    let db = support::postgres::database();
    let options = Options::new(&db)
        .schema(&schema)
        .secret(SECRET)
        .setting("BODY_LIMIT", "67108864")
        .setting("MAX_PAGE_SIZE", "100000");
    let observer = options.start();
    let http = Http::new();
    let count = |object: &str| {
        let (subjects, _) = list(
            &http,
            &observer,
            object,
            100_000,
            &[("consistency", "fully_consistent")],
        );
        subjects.len()
    };

    // The whole write, not killed: how long it takes.
    let victim = options.start();
    let started = Instant::now();
    let answer = http.request(
        "PATCH",
        &format!("{}/admin/relation-tuples", victim.write),
        Some(&large_write("whole")),
    );
    let took = started.elapsed();
    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(count("whole"), LARGE);
    drop(victim);

    // Kill points: during the request's parsing (a fraction of the whole
    // write's time), then as the insert runs in the database and later.
    let kill_points = [
        (None, took.mul_f64(0.3)),
        (Some(()), Duration::ZERO),
        (Some(()), Duration::from_millis(30)),
        (Some(()), Duration::from_millis(150)),
        (Some(()), Duration::from_millis(400)),
        (Some(()), Duration::from_millis(700)),
    ];
    let mut outcomes = Vec::new();
    for (attempt, (after_insert, delay)) in kill_points.into_iter().enumerate() {
        let object = format!("killed{attempt}");
        let body = large_write(&object);
        let mut victim = options.start();
        let url = format!("{}/admin/relation-tuples", victim.write);
        let finished = AtomicBool::new(false);
        let (answered, inserting) = std::thread::scope(|s| {
            let write = s.spawn(|| {
                let answer = http.try_request("PATCH", &url, Some(&body));
                finished.store(true, Ordering::Release);
                answer
            });
            let inserting = after_insert.map(|()| inserting(&db, &finished));
            std::thread::sleep(delay);
            victim.kill();
            (write.join().unwrap().ok().map(|a| a.status), inserting)
        });
        // Right after the kill, and once the database has finished with
        // the dead server's session.
        let early = count(&object);
        settle(&db);
        let settled = count(&object);
        for n in [early, settled] {
            assert!(
                n == 0 || n == LARGE,
                "killed {delay:?} after {}: {n} of the {LARGE} tuples are visible",
                if inserting.is_some() {
                    "the insert began"
                } else {
                    "sending"
                }
            );
        }
        assert!(
            early <= settled,
            "the write disappeared: {early} then {settled}"
        );
        let at = match inserting {
            None => format!("{delay:?} after sending"),
            Some(true) => format!("{delay:?} after the insert began"),
            Some(false) => format!("{delay:?} after the write (no insert seen)"),
        };
        outcomes.push(format!(
            "{at}: {} (answered: {answered:?})",
            if settled == LARGE { "whole" } else { "absent" }
        ));
    }
    eprintln!(
        "kill -9 during a write of {LARGE} tuples (whole write {took:?}): {}",
        outcomes.join("; ")
    );
}
