//! Engine benchmarks on the peer harness's "drive" data set
//! (`benches/support/dataset.rs`): check (allowed and denied, shallow and
//! deep, and the whole workload mix), expand, lookup_subjects and
//! lookup_resources, on the in-memory and the SQLite store, at 10k and 100k
//! tuples (and 1M with `ZANZI_BENCH_1M=1`); import throughput into SQLite;
//! lookup_resources over 100k documents that all match, and
//! lookup_subjects of a document that 100k users can view.
//!
//! Besides criterion's means, a plain timing loop prints per-check latency
//! percentiles (p50/p90/p99) of the workload per store and size.
//! `ZANZI_BENCH_PERCENTILES=only` prints just those (and import rates),
//! `=import` just import rates, `=0` skips them;
//! `ZANZI_BENCH_SIZES="10k 1M"` picks the sizes, `ZANZI_BENCH_STORE=memory`
//! (or `sqlite`) one store.
//! Figures are recorded in docs/performance.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/dataset.rs"]
mod dataset;

use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};

use zanzi::ir::Schema;
use zanzi::store::{PageRequest, Revision};
use zanzi::{Engine, MemoryStore, SqliteStore, TupleStore};

use dataset::{Check, Dataset};

/// Checks of the workload (the same count as the harness's).
const CHECKS: usize = 10_000;
const SEED: u64 = 1;

fn schema() -> Schema {
    let (_, compiled) = zanzi::compile_source("drive.zanzi", dataset::SCHEMA);
    compiled.schema.expect("the drive schema compiles")
}

/// 10k and 100k, plus 1M with `ZANZI_BENCH_1M=1`; `ZANZI_BENCH_SIZES`
/// (e.g. `"1M"`) picks others.
fn sizes() -> Vec<(&'static str, usize)> {
    let known = [("10k", 10_000), ("100k", 100_000), ("1M", 1_000_000)];
    if let Ok(wanted) = std::env::var("ZANZI_BENCH_SIZES") {
        return known
            .into_iter()
            .filter(|(label, _)| wanted.split_whitespace().any(|w| w == *label))
            .collect();
    }
    let big = std::env::var("ZANZI_BENCH_1M").is_ok_and(|v| v == "1");
    known.into_iter().take(if big { 3 } else { 2 }).collect()
}

/// Whether the store named `name` is benchmarked (`ZANZI_BENCH_STORE`
/// names one; both by default).
fn wanted(name: &str) -> bool {
    std::env::var("ZANZI_BENCH_STORE").map_or(true, |w| w.is_empty() || w == name)
}

/// The same tuples in each store `ZANZI_BENCH_STORE` asks for (SQLite's
/// database in a temporary directory).
struct Stores {
    memory: Option<(MemoryStore, Revision)>,
    sqlite: Option<(SqliteStore, Revision)>,
    _dir: tempfile::TempDir,
}

impl Stores {
    fn load(tuples: &[zanzi::Tuple]) -> Stores {
        let memory = wanted("memory").then(|| {
            let store = MemoryStore::new();
            let at = store.write(tuples, &[]).unwrap();
            (store, at)
        });
        let dir = tempfile::tempdir().unwrap();
        let sqlite = wanted("sqlite").then(|| {
            let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
            let report = store.import(tuples, 50_000).unwrap();
            (store, *report.revisions.last().unwrap())
        });
        Stores {
            memory,
            sqlite,
            _dir: dir,
        }
    }

    /// The loaded stores, with the revision to read at.
    fn each(&self) -> Vec<(&'static str, &dyn TupleStore, Revision)> {
        let mut stores: Vec<(&'static str, &dyn TupleStore, Revision)> = Vec::new();
        if let Some((store, at)) = &self.memory {
            stores.push(("memory", store, *at));
        }
        if let Some((store, at)) = &self.sqlite {
            stores.push(("sqlite", store, *at));
        }
        stores
    }
}

/// A data set loaded into the stores.
struct Loaded {
    label: &'static str,
    data: Dataset,
    stores: Stores,
    /// The workload's answers (the stores agree on every one).
    answers: Vec<bool>,
}

impl Loaded {
    fn new(schema: &Schema, label: &'static str, n: usize) -> Loaded {
        let data = dataset::generate(n, CHECKS, SEED);
        let stores = Stores::load(&data.tuples);
        let mut loaded = Loaded {
            label,
            data,
            stores,
            answers: Vec::new(),
        };
        let mut answers: Vec<Option<bool>> = vec![None; loaded.data.checks.len()];
        for (name, store, at) in loaded.stores() {
            let engine = Engine::new(schema, store);
            for (check, answer) in loaded.data.checks.iter().zip(&mut answers) {
                let got = engine.check_tuple(&check.tuple, at).unwrap();
                assert!(
                    answer.is_none_or(|a| a == got),
                    "the stores disagree on {} ({name})",
                    check.tuple
                );
                *answer = Some(got);
            }
        }
        loaded.answers = answers.into_iter().map(Option::unwrap_or_default).collect();
        let data = &loaded.data;
        let allowed = loaded.answers.iter().filter(|&&a| a).count();
        eprintln!(
            "{label}: {} tuples ({} users, {} groups, {} folders, {} documents); \
             {} checks, {allowed} allowed",
            data.tuples.len(),
            data.users,
            data.groups,
            data.folders,
            data.documents,
            data.checks.len()
        );
        loaded
    }

    /// The loaded stores, with the revision to read at.
    fn stores(&self) -> Vec<(&'static str, &dyn TupleStore, Revision)> {
        self.stores.each()
    }

    /// The checks of one class: (name, predicate on check and answer).
    fn classes(&self) -> Vec<(&'static str, Vec<&Check>)> {
        type Pred = fn(&Check, bool) -> bool;
        let classes: [(&str, Pred); 4] = [
            // the user is the owner or a direct viewer
            ("shallow_allowed", |c, a| c.category == "direct" && a),
            // a document without a parent folder: nothing to climb
            ("shallow_denied", |c, a| c.folder_depth == 0 && !a),
            // inherited from a folder at least five hops away
            ("deep_allowed", |c, a| {
                c.category == "inherited" && c.hops >= 5 && a
            }),
            // every folder of a chain of six or more is searched in vain
            ("deep_denied", |c, a| c.folder_depth >= 6 && !a),
        ];
        classes
            .iter()
            .map(|(name, pred)| {
                let picked = self
                    .data
                    .checks
                    .iter()
                    .zip(&self.answers)
                    .filter(|(c, &a)| pred(c, a))
                    .map(|(c, _)| c)
                    .take(500)
                    .collect();
                (*name, picked)
            })
            .collect()
    }

    /// The document of the deepest allowed inherited check, and its user.
    fn deep_document(&self) -> &Check {
        self.data
            .checks
            .iter()
            .zip(&self.answers)
            .filter(|(c, &a)| c.category == "inherited" && a)
            .max_by_key(|(c, _)| (c.folder_depth, c.hops))
            .map(|(c, _)| c)
            .unwrap()
    }
}

/// Cycles through `items`, one per call.
struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    fn new(items: &'a [T]) -> Self {
        Cycle { items, next: 0 }
    }

    fn next(&mut self) -> &'a T {
        let item = &self.items[self.next];
        self.next = (self.next + 1) % self.items.len();
        item
    }
}

fn bench_checks(c: &mut Criterion, schema: &Schema, loaded: &Loaded) {
    let mut group = c.benchmark_group(format!("check/{}", loaded.label));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let all: Vec<&Check> = loaded.data.checks.iter().collect();
    let mut classes = loaded.classes();
    classes.push(("mix", all));
    for (store_name, store, at) in loaded.stores() {
        let engine = Engine::new(schema, store);
        for (class, checks) in &classes {
            if checks.is_empty() {
                continue;
            }
            group.bench_function(BenchmarkId::new(*class, store_name), |b| {
                let mut cycle = Cycle::new(checks);
                b.iter(|| engine.check_tuple(&cycle.next().tuple, at).unwrap())
            });
        }
    }
    group.finish();
}

fn bench_expand_and_lookups(c: &mut Criterion, schema: &Schema, loaded: &Loaded) {
    let mut group = c.benchmark_group(format!("read/{}", loaded.label));
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    let deep = loaded.deep_document();
    let document = &deep.tuple.object;
    let user = &deep.tuple.subject;
    let top_group = zanzi::Object::new("group", "g0");
    for (store_name, store, at) in loaded.stores() {
        let engine = Engine::new(schema, store);
        group.bench_function(BenchmarkId::new("expand_group", store_name), |b| {
            b.iter(|| engine.expand(&top_group, "member", 32, at).unwrap())
        });
        group.bench_function(BenchmarkId::new("expand_document_view", store_name), |b| {
            b.iter(|| engine.expand(document, "view", 32, at).unwrap())
        });
        group.bench_function(BenchmarkId::new("lookup_subjects", store_name), |b| {
            b.iter(|| {
                engine
                    .lookup_subjects(document, "view", "user", at)
                    .unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("lookup_resources", store_name), |b| {
            b.iter(|| {
                engine
                    .lookup_resources(
                        "document",
                        "view",
                        user,
                        &PageRequest::first(usize::MAX),
                        at,
                    )
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// A group for a lookup over 100k: few samples, each a large answer.
fn wide_group<'c>(
    c: &'c mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group
}

/// lookup_resources for a user who can view every one of 100k documents.
fn bench_wide_lookup(c: &mut Criterion, schema: &Schema) {
    let stores = Stores::load(&dataset::wide(100_000, 200, SEED));
    let reader = zanzi::Subject::object("user", "reader");
    let mut group = wide_group(c, "lookup_resources_100k_documents");
    for (store_name, store, at) in stores.each() {
        let engine = Engine::new(schema, store);
        let page = engine
            .lookup_resources(
                "document",
                "view",
                &reader,
                &PageRequest::first(usize::MAX),
                at,
            )
            .unwrap();
        assert_eq!(page.items.len(), 99_000, "every document but the banned");
        group.bench_function(store_name, |b| {
            b.iter(|| {
                engine
                    .lookup_resources(
                        "document",
                        "view",
                        &reader,
                        &PageRequest::first(usize::MAX),
                        at,
                    )
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// lookup_subjects for a document that ~100k users can view.
fn bench_wide_subjects(c: &mut Criterion, schema: &Schema) {
    const USERS: usize = 100_000;
    let stores = Stores::load(&dataset::wide_subjects(USERS));
    let document = zanzi::Object::new("document", "shared");
    let mut group = wide_group(c, "lookup_subjects_100k_users");
    for (store_name, store, at) in stores.each() {
        let engine = Engine::new(schema, store);
        let found = engine
            .lookup_subjects(&document, "view", "user", at)
            .unwrap();
        assert_eq!(
            found.subject_ids.len(),
            USERS - USERS / 1000,
            "every user but the banned"
        );
        group.bench_function(store_name, |b| {
            b.iter(|| {
                engine
                    .lookup_subjects(&document, "view", "user", at)
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn bench_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import_sqlite");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    for (label, n) in [("10k", 10_000), ("100k", 100_000)] {
        let data = dataset::generate(n, 0, SEED);
        group.throughput(Throughput::Elements(data.tuples.len() as u64));
        group.bench_function(label, |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().unwrap();
                    let store = SqliteStore::open(dir.path().join("import.db")).unwrap();
                    (dir, store)
                },
                |(dir, store)| {
                    store.import(&data.tuples, 50_000).unwrap();
                    (dir, store)
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// `q`-quantile of sorted nanoseconds, in µs (nearest rank).
fn quantile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e3
}

fn report(name: &str, ns: &mut [u64]) {
    ns.sort_unstable();
    let mean = ns.iter().sum::<u64>() as f64 / ns.len().max(1) as f64 / 1e3;
    println!(
        "{name:<40} n={:<6} p50 {:>9.2} µs  p90 {:>9.2} µs  p99 {:>9.2} µs  max {:>9.2} µs  mean {:>9.2} µs",
        ns.len(),
        quantile(ns, 0.50),
        quantile(ns, 0.90),
        quantile(ns, 0.99),
        quantile(ns, 1.0),
        mean
    );
}

/// Per-check latency percentiles: the whole workload, in file order, twice
/// (the first pass warms caches and is not counted), then per class.
/// Never inlined, so that callgrind can count just this (`--toggle-collect`).
#[inline(never)]
fn percentiles(schema: &Schema, loaded: &Loaded) {
    let classes = loaded.classes();
    for (store_name, store, at) in loaded.stores() {
        let engine = Engine::new(schema, store);
        for _ in 0..2 {
            for check in &loaded.data.checks {
                engine.check_tuple(&check.tuple, at).unwrap();
            }
        }
        let mut all = Vec::with_capacity(loaded.data.checks.len());
        for check in &loaded.data.checks {
            let t = Instant::now();
            engine.check_tuple(&check.tuple, at).unwrap();
            all.push(t.elapsed().as_nanos() as u64);
        }
        report(
            &format!("check {} {store_name} mix", loaded.label),
            &mut all,
        );
        for (class, checks) in &classes {
            let mut ns: Vec<u64> = checks
                .iter()
                .map(|check| {
                    let t = Instant::now();
                    engine.check_tuple(&check.tuple, at).unwrap();
                    t.elapsed().as_nanos() as u64
                })
                .collect();
            report(
                &format!("check {} {store_name} {class}", loaded.label),
                &mut ns,
            );
        }
    }
}

fn import_rate(label: &str, n: usize) {
    let data = dataset::generate(n, 0, SEED);
    let mut rates = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("import.db")).unwrap();
        let t = Instant::now();
        store.import(&data.tuples, 50_000).unwrap();
        rates.push(data.tuples.len() as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "import {label:<6} {} tuples: median {:.0} tuples/s (runs: {})",
        data.tuples.len(),
        rates[1],
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn main() {
    // `ZANZI_BENCH_PERCENTILES`: unset runs everything; `only` the timing
    // loops (check percentiles, import rates); `import` the import rates;
    // `0` criterion alone. `ZANZI_BENCH_NO_IMPORT` skips the import rates.
    let mode = std::env::var("ZANZI_BENCH_PERCENTILES").unwrap_or_default();
    let criterion = mode != "only" && mode != "import";
    let schema = schema();
    let mut c = Criterion::default().configure_from_args();
    if mode != "import" {
        for (label, n) in sizes() {
            let loaded = Loaded::new(&schema, label, n);
            if mode != "0" {
                percentiles(&schema, &loaded);
            }
            if criterion {
                bench_checks(&mut c, &schema, &loaded);
                bench_expand_and_lookups(&mut c, &schema, &loaded);
            }
        }
    }
    if mode != "0" && wanted("sqlite") && std::env::var_os("ZANZI_BENCH_NO_IMPORT").is_none() {
        for (label, n) in sizes() {
            import_rate(label, n);
        }
    }
    if criterion {
        bench_wide_lookup(&mut c, &schema);
        bench_wide_subjects(&mut c, &schema);
        bench_import(&mut c);
        c.final_summary();
    }
}
