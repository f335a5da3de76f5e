//! Store-scale benchmark: the peer harness's workload (`checks.txt` of a
//! `shared/bench/gen.py` data directory) against a database already filled
//! by `zanzi tuples import` — PostgreSQL through the bounded cache, or
//! SQLite — one client thread, as a server replica reads it. Prints per-check
//! latency percentiles of a cold pass (the cache starts empty) and a warm
//! pass, the answers' agreement with `expected.txt`, and the process's
//! resident memory. Not part of `cargo test`; figures go to
//! docs/performance.md.
//!
//! ```sh
//! cargo bench --bench store_scale -- --db postgres://… --data DIR [--cache-size 256MiB] [--checks N]
//! cargo bench --bench store_scale -- --db data.sqlite --data DIR
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/rss.rs"]
mod rss;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zanzi::load::{load_schema, Limits};
use zanzi::server::config::CacheSize;
use zanzi::store::{Location, ObjectCache, PostgresStore, SqliteStore, Store};
use zanzi::tuple::Tuple;
use zanzi::Engine;

use rss::rss_mib;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(db), Some(data)) = (arg("--db"), arg("--data")) else {
        eprintln!(
            "store_scale: give --db (a PostgreSQL URL or a SQLite file filled by `zanzi tuples \
             import`) and --data (a gen.py directory); skipping"
        );
        return;
    };
    let data = PathBuf::from(data);
    let cache: CacheSize = arg("--cache-size")
        .unwrap_or_else(|| "256MiB".into())
        .parse()
        .unwrap();
    let limit: usize = arg("--checks").map_or(10_000, |n| n.parse().unwrap());

    let (_, compilation) = load_schema(&data.join("model.zanzi"), &Limits::default()).unwrap();
    let schema = compilation.schema.expect("model.zanzi compiles");
    let checks: Vec<Tuple> = std::fs::read_to_string(data.join("checks.txt"))
        .unwrap()
        .lines()
        .take(limit)
        .map(|l| l.parse().unwrap())
        .collect();
    let expected: Vec<bool> = std::fs::read_to_string(data.join("expected.txt"))
        .unwrap()
        .lines()
        .take(limit)
        .map(|l| l.trim() == "true")
        .collect();

    let rss_empty = rss_mib();
    let opened = Instant::now();
    let store: Arc<dyn Store> = match (Location::parse(&db), cache) {
        (Location::Postgres(url), CacheSize::Bytes(bytes)) => {
            Arc::new(ObjectCache::new(PostgresStore::connect(&url).unwrap(), bytes).unwrap())
        }
        (Location::Postgres(url), _) => Arc::new(PostgresStore::connect(&url).unwrap()),
        (Location::Sqlite(path), _) => Arc::new(SqliteStore::open_existing(&path).unwrap()),
        (Location::Memory, _) => panic!("give a database filled by `zanzi tuples import`"),
    };
    let at = store.local_head().unwrap();
    println!(
        "store {} (cache {cache:?}), head revision {at}, opened in {:.2?}, {} checks",
        Location::parse(&db),
        opened.elapsed(),
        checks.len()
    );
    let engine = Engine::new(&schema, store.as_ref());
    for pass in ["cold", "warm"] {
        let mut times = Vec::with_capacity(checks.len());
        let mut wrong = 0;
        let started = Instant::now();
        for (check, expected) in checks.iter().zip(&expected) {
            let t = Instant::now();
            let allowed = engine.check_tuple(check, at).unwrap();
            times.push(t.elapsed());
            wrong += usize::from(allowed != *expected);
        }
        let total = started.elapsed();
        times.sort();
        println!(
            "{pass:>4}: p50 {}  p90 {}  p99 {}  max {}  ({:.0} checks/s, {wrong} answers differ \
             from expected.txt)  RSS {:.0} MiB (+{:.0} MiB over the process before the store)",
            micros(percentile(&times, 0.5)),
            micros(percentile(&times, 0.9)),
            micros(percentile(&times, 0.99)),
            micros(*times.last().unwrap()),
            checks.len() as f64 / total.as_secs_f64(),
            rss_mib(),
            rss_mib() - rss_empty,
        );
    }
}
