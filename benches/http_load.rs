//! HTTP load test of `zanzi serve` (a benchmark, not a timed test).
//!
//! Builds a SQLite database from a generated dataset (default: the 100k
//! "drive" dataset of `shared/bench/gen.py`), starts the release `zanzi serve`
//! on free loopback ports as a separate process, then sends the dataset's
//! check workload from `--connections` keep-alive connections for at most
//! `--seconds` and `--requests`, checking every answer against
//! `expected.txt`. Prints throughput, latency percentiles and the server's
//! peak RSS.
//!
//! ```text
//! python3 shared/bench/gen.py --tuples 100k --out /tmp/drive100k
//! cargo bench --bench http_load -- --data /tmp/drive100k [--connections 32]
//!     [--seconds 10] [--requests 1000000] [--db memory|sqlite]
//! ```
//!
//! Only loopback is used. Without a dataset it prints how to make one and exits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use zanzi::TupleStore;

struct Options {
    data: PathBuf,
    connections: usize,
    seconds: u64,
    requests: u64,
    db: String,
}

fn options() -> Options {
    let mut o = Options {
        data: PathBuf::from("/tmp/drive100k"),
        connections: 32,
        seconds: 10,
        requests: 2_000_000,
        db: "sqlite".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match arg.as_str() {
            "--data" => o.data = PathBuf::from(value()),
            "--connections" => o.connections = value().parse().unwrap(),
            "--seconds" => o.seconds = value().parse().unwrap(),
            "--requests" => o.requests = value().parse().unwrap(),
            "--db" => o.db = value(),
            _ => {} // cargo bench passes `--bench`
        }
    }
    o.seconds = o.seconds.min(120);
    o
}

fn free_ports() -> Vec<u16> {
    let sockets: Vec<_> = (0..4)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    sockets
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect()
}

fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let o = options();
    let tuples_path = o.data.join("tuples.txt");
    if !tuples_path.exists() {
        println!(
            "no dataset at {}: run `python3 shared/bench/gen.py --tuples 100k --out {}` first",
            o.data.display(),
            o.data.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = if o.db == "memory" {
        ":memory:".to_owned()
    } else {
        let path = dir.path().join("zanzi.db");
        let text = std::fs::read_to_string(&tuples_path).unwrap();
        let tuples: Vec<zanzi::Tuple> = zanzi::tuple::parse_tuple_file(&text)
            .unwrap()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let started = Instant::now();
        let store = zanzi::SqliteStore::open(&path).unwrap();
        store.import(&tuples, 50_000).unwrap();
        drop(store);
        println!(
            "imported {} tuples in {:?}",
            tuples.len(),
            started.elapsed()
        );
        path.display().to_string()
    };
    let ports = free_ports();
    let bin = env!("CARGO_BIN_EXE_zanzi");
    let child = Command::new(bin)
        .args(["serve", "--schema"])
        .arg(o.data.join("model.zanzi"))
        .args(["--db", &db, "--host", "127.0.0.1", "--log-level", "warn"])
        .args(["--read-port", &ports[0].to_string()])
        .args(["--write-port", &ports[1].to_string()])
        .args(["--metrics-port", &ports[2].to_string()])
        .args(["--syntax-port", &ports[3].to_string()])
        .env("ZANZI_SECRET", "load-test")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Killer(child);
    let pid = server.0.id();
    let read = format!("127.0.0.1:{}", ports[0]);
    let ready = Command::new(bin)
        .args(["status", "--block", "--timeout", "30", "--remote"])
        .arg(format!("http://{read}"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(ready.success(), "the server did not start");
    if o.db == "memory" {
        // Load the dataset through the write API, in batches.
        let text = std::fs::read_to_string(&tuples_path).unwrap();
        let tuples: Vec<zanzi::Tuple> = zanzi::tuple::parse_tuple_file(&text)
            .unwrap()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let write = format!("http://127.0.0.1:{}", ports[1]);
        let started = Instant::now();
        tokio::task::spawn_blocking(move || {
            let client = zanzi::client::Client::new(None, Some(&write)).unwrap();
            for chunk in tuples.chunks(5_000) {
                client.write(chunk, &[]).unwrap();
            }
        })
        .await
        .unwrap();
        println!(
            "loaded the dataset through PATCH in {:?}",
            started.elapsed()
        );
    }

    // The workload: GET check/openapi URLs and expected answers.
    let checks = std::fs::read_to_string(o.data.join("checks.txt")).unwrap();
    let expected = std::fs::read_to_string(o.data.join("expected.txt")).unwrap();
    let work: Arc<Vec<(String, bool)>> = Arc::new(
        checks
            .lines()
            .zip(expected.lines())
            .map(|(c, e)| {
                let t: zanzi::Tuple = c.parse().unwrap();
                let subject = match &t.subject {
                    zanzi::Subject::Object(o) => format!("{}:{}", o.namespace, o.id),
                    other => panic!("unexpected subject {other}"),
                };
                (
                    format!(
                        "/relation-tuples/check/openapi?namespace={}&object={}&relation={}&subject_id={}",
                        percent_encode(&t.object.namespace),
                        percent_encode(&t.object.id),
                        percent_encode(&t.relation),
                        percent_encode(&subject)
                    ),
                    e.trim() == "true",
                )
            })
            .collect(),
    );

    let sent = Arc::new(AtomicU64::new(0));
    let wrong = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let (rss_before, _) = rss_kib(pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..o.connections {
        let (work, sent, wrong, stop, read) = (
            work.clone(),
            sent.clone(),
            wrong.clone(),
            stop.clone(),
            read.clone(),
        );
        let limit = o.requests;
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&read).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut i = worker * 7919;
            loop {
                if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    break;
                }
                if sent.fetch_add(1, Ordering::Relaxed) >= limit {
                    break;
                }
                let (url, allowed) = &work[i % work.len()];
                i += 1;
                let request = hyper::Request::get(url.as_str())
                    .header("host", read.as_str())
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let t0 = Instant::now();
                let response = sender.send_request(request).await.unwrap();
                let status = response.status();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                latencies.push(t0.elapsed().as_micros() as u32);
                let ok = status == 200
                    && body.starts_with(if *allowed {
                        b"{\"allowed\":true"
                    } else {
                        b"{\"allowed\":false"
                    });
                if !ok {
                    wrong.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut latencies: Vec<u32> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let (rss_after, rss_peak) = rss_kib(pid);
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let n = latencies.len();
    println!(
        "store {}: {n} checks in {:.2?} over {} connections: {:.0} checks/s",
        o.db,
        elapsed,
        o.connections,
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency: p50 {} µs, p90 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        latencies.last().copied().unwrap_or(0)
    );
    println!(
        "server RSS: {:.1} MiB before the load, {:.1} MiB after, peak {:.1} MiB",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        rss_peak as f64 / 1024.0
    );
    println!("wrong answers: {}", wrong.load(Ordering::Relaxed));
    drop(server);
    assert_eq!(
        wrong.load(Ordering::Relaxed),
        0,
        "answers differ from expected.txt"
    );
}
