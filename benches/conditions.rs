//! The cost of a condition: the same check with and without one on its
//! path, side by side, on the in-memory and the SQLite store.
//!
//! Every document has a plain viewer (`user:p{i}`) and a viewer whose tuple
//! carries `office_network` with a stored CIDR (`user:c{i}`); every folder
//! reaches its documents' viewers through a group, once plainly and once
//! through a conditional membership. The checks ask for the same shapes of
//! path, one crossing a condition (evaluated: the request gives the client
//! address) and one not. A timing loop prints p50/p99 per case and the
//! ratio of each conditional case to its plain twin; criterion measures the
//! means. Figures are recorded in docs/performance.md ("Conditions").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use serde_json::json;

use zanzi::engine::{Decision, RequestContext};
use zanzi::ir::Schema;
use zanzi::store::Revision;
use zanzi::tuple::{Context, Tuple};
use zanzi::{Engine, MemoryStore, SqliteStore, TupleStore};

const SCHEMA: &str = r#"
namespace user {}

condition office_network(client_ip: ipaddress, cidr: string) {
  client_ip.in_cidr(cidr)
}

namespace group {
  relation member: user | user with office_network
}

namespace document {
  relation viewer: user | user with office_network | group#member
  permission view = viewer
}
"#;

/// Documents (and groups) in the data set.
const DOCUMENTS: usize = 10_000;
/// Checks per case in the timing loop.
const CHECKS: usize = 20_000;

fn schema() -> Schema {
    let (_, compiled) = zanzi::compile_source("conditions.zanzi", SCHEMA);
    compiled.schema.expect("the schema compiles")
}

fn office() -> Context {
    let serde_json::Value::Object(map) = json!({"cidr": "10.0.0.0/8"}) else {
        unreachable!()
    };
    Context::from_map(map)
}

fn tuples() -> Vec<Tuple> {
    let mut out = Vec::new();
    for i in 0..DOCUMENTS {
        let t = |s: String| s.parse::<Tuple>().unwrap();
        out.push(t(format!("document:d{i}#viewer@user:p{i}")));
        out.push(
            t(format!("document:d{i}#viewer@user:c{i}")).with_condition("office_network", office()),
        );
        out.push(t(format!("document:d{i}#viewer@group:g{i}#member")));
        out.push(t(format!("group:g{i}#member@user:gp{i}")));
        out.push(
            t(format!("group:g{i}#member@user:gc{i}")).with_condition("office_network", office()),
        );
    }
    out
}

/// The cases: a name, the subject prefix, and whether it crosses a condition.
const CASES: [(&str, &str, bool); 4] = [
    ("direct_plain", "p", false),
    ("direct_condition", "c", true),
    ("group_plain", "gp", false),
    ("group_condition", "gc", true),
];

fn question(prefix: &str, i: usize) -> Tuple {
    format!("document:d{i}#view@user:{prefix}{i}")
        .parse()
        .unwrap()
}

fn stores(data: &[Tuple]) -> Vec<(&'static str, Box<dyn TupleStore>, Revision)> {
    let memory = MemoryStore::new();
    let at = memory.write(data, &[]).unwrap();
    let sqlite = SqliteStore::open_in_memory().unwrap();
    let sqlite_at = sqlite
        .import(data, 10_000)
        .unwrap()
        .revisions
        .last()
        .copied()
        .unwrap();
    vec![
        ("memory", Box::new(memory), at),
        ("sqlite", Box::new(sqlite), sqlite_at),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let schema = schema();
    let data = tuples();
    let request = RequestContext {
        context: match json!({"client_ip": "10.1.2.3"}) {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        },
        ..RequestContext::default()
    };
    let stores = stores(&data);
    // One case alone (for instruction counts under callgrind).
    let only_case = std::env::var("ZANZI_BENCH_CASE").ok();
    let only_store = std::env::var("ZANZI_BENCH_STORE").ok();
    for (name, store, at) in &stores {
        if only_store.as_deref().is_some_and(|only| only != *name) {
            continue;
        }
        let engine = Engine::new(&schema, store.as_ref()).with_request(&request);
        let mut p50 = Vec::new();
        for (case, prefix, _) in CASES {
            if only_case.as_deref().is_some_and(|only| only != case) {
                p50.push(Duration::from_nanos(1));
                continue;
            }
            let mut times = Vec::with_capacity(CHECKS);
            for n in 0..CHECKS {
                let q = question(prefix, (n * 7919) % DOCUMENTS);
                let start = Instant::now();
                let decision = engine
                    .decide(&q.object, &q.relation, &q.subject, *at)
                    .unwrap();
                times.push(start.elapsed());
                assert_eq!(decision, Decision::Allowed, "{q}");
            }
            times.sort();
            let (median, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
            println!("conditions/{name}/{case}: p50 {median:?} p99 {p99:?}");
            p50.push(median);
        }
        println!(
            "conditions/{name}: direct ×{:.2}, via group ×{:.2} (conditional p50 / plain p50)",
            p50[1].as_secs_f64() / p50[0].as_secs_f64(),
            p50[3].as_secs_f64() / p50[2].as_secs_f64(),
        );
    }
    if std::env::var("ZANZI_BENCH_PERCENTILES").is_ok_and(|m| m == "only") {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("conditions");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (name, store, at) in &stores {
        let engine = Engine::new(&schema, store.as_ref()).with_request(&request);
        for (case, prefix, _) in CASES {
            let questions: Vec<Tuple> = (0..1000)
                .map(|n| question(prefix, (n * 7919) % DOCUMENTS))
                .collect();
            group.bench_function(BenchmarkId::new(case, name), |b| {
                let mut n = 0usize;
                b.iter(|| {
                    n = (n + 1) % questions.len();
                    let q = &questions[n];
                    engine
                        .decide(&q.object, &q.relation, &q.subject, *at)
                        .unwrap()
                })
            });
        }
    }
    group.finish();
    c.final_summary();
}
