//! Import throughput of the SQLite store. Ignored by default; run with
//! `cargo test --release --test import_speed -- --ignored --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use zanzi::store::{SqliteStore, TupleStore};
use zanzi::tuple::{Object, Subject, Tuple};

#[test]
#[ignore = "a throughput measurement; run in release"]
fn sqlite_import_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("import.db")).unwrap();
    let n = 1_000_000u32;
    let tuples: Vec<Tuple> = (0..n)
        .map(|i| {
            let subject = if i % 10 == 0 {
                Subject::set("group", format!("g{}", i % 5000), "member")
            } else {
                Subject::object("user", format!("u{}", i % 100_000))
            };
            Tuple::new(
                Object::new("document", format!("d{}", i / 4)),
                "viewer",
                subject,
            )
        })
        .collect();
    let start = Instant::now();
    let report = store.import(&tuples, 50_000).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "imported {} tuples in {secs:.2}s: {:.0} tuples/s",
        report.inserted,
        f64::from(n) / secs
    );
    assert_eq!(report.inserted, u64::from(n));
    assert_eq!(
        store.head_revision().unwrap(),
        *report.revisions.last().unwrap()
    );
}
