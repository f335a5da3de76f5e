//! Load test of `zanzi serve` over REST and gRPC (a benchmark, not a timed
//! test).
//!
//! Builds a SQLite database from a generated dataset (default: the 100k
//! "drive" dataset of `shared/bench/gen.py`), starts the release `zanzi serve`
//! on free loopback ports as a separate process, then runs, one after the
//! other on the same server, for at most `--seconds` and `--requests` each:
//!
//! 1. `rest`: the dataset's check workload as `GET /relation-tuples/check/openapi`
//!    from `--connections` keep-alive HTTP/1.1 connections;
//! 2. `grpc`: the same checks as Keto's gRPC `CheckService.Check`, the same
//!    number of calls in flight over `--grpc-connections` HTTP/2 connections;
//! 3. `bulk`: zanzi's `BulkCheck`, 100 checks per call;
//! 4. `watch`: writers insert `--watch-rate` tuples a second (batches of
//!    `--watch-batch`, Keto's gRPC `TransactRelationTuples`) while one `Watch`
//!    stream consumes them; reports how far behind the stream fell.
//!
//! Every answer is checked against `expected.txt`. Prints throughput,
//! latency percentiles and the server's RSS.
//!
//! ```text
//! python3 shared/bench/gen.py --tuples 100k --out /tmp/drive100k
//! cargo bench --bench http_load -- --data /tmp/drive100k [--connections 32]
//!     [--grpc-connections 4] [--seconds 10] [--requests 1000000]
//!     [--db memory|sqlite] [--phases rest,grpc,bulk,watch]
//!     [--watch-rate 10000] [--watch-batch 100] [--client hyper|lean]
//! ```
//!
//! `--client lean` runs the REST phase with a leaner client than hyper's:
//! each connection writes its request and reads the answer itself over
//! tokio's TCP streams (the same request line and `host` header, every
//! answer's status and body checked), about a quarter less CPU per check,
//! which on two shared cores is left to the server.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;
use zanzi::api::proto::zanzi::v1 as zv1;
use zanzi::TupleStore;

struct Options {
    data: PathBuf,
    connections: usize,
    grpc_connections: usize,
    seconds: u64,
    requests: u64,
    db: String,
    phases: Vec<String>,
    watch_rate: u64,
    watch_batch: usize,
    /// The REST phase's client: `hyper` (the default) or `lean`.
    client: String,
    /// The server's process id, once started.
    server_pid: u32,
}

fn options() -> Options {
    let mut o = Options {
        data: PathBuf::from("/tmp/drive100k"),
        connections: 32,
        seconds: 10,
        requests: 2_000_000,
        db: "sqlite".into(),
        grpc_connections: 4,
        phases: ["rest", "grpc", "bulk", "watch"].map(String::from).to_vec(),
        watch_rate: 10_000,
        watch_batch: 100,
        client: "hyper".into(),
        server_pid: 0,
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
            "--grpc-connections" => o.grpc_connections = value().parse().unwrap(),
            "--phases" => o.phases = value().split(',').map(String::from).collect(),
            "--watch-rate" => o.watch_rate = value().parse().unwrap(),
            "--watch-batch" => o.watch_batch = value().parse().unwrap(),
            "--client" => {
                o.client = value();
                assert!(
                    ["hyper", "lean"].contains(&o.client.as_str()),
                    "--client is hyper or lean, not {}",
                    o.client
                );
            }
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

/// CPU time (user + system) a process has used so far, in µs: the
/// server's from `/proc/PID/stat`, this process's from `/proc/self/stat`.
fn cpu_us(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on Linux.
    ticks * 10_000
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
    let mut o = options();
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
    // `ZANZI_BENCH_SERVER=PATH` serves with another build of `zanzi` (to
    // compare two builds under the same load generator).
    let bin = std::env::var("ZANZI_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_zanzi").to_owned());
    let bin = bin.as_str();
    // `ZANZI_BENCH_WRAP="valgrind --tool=callgrind"` runs the server under
    // a tool (instruction counts per call are repeatable on a busy machine).
    let wrap = std::env::var("ZANZI_BENCH_WRAP").unwrap_or_default();
    let mut wrap = wrap.split_whitespace();
    let mut command = match wrap.next() {
        Some(tool) => {
            let mut c = Command::new(tool);
            c.args(wrap).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let child = command
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
    o.server_pid = pid;
    let read = format!("127.0.0.1:{}", ports[0]);
    let ready = Command::new(bin)
        .args(["status", "--block", "--timeout", "300", "--remote"])
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

    let work = Arc::new(workload(&o));
    let (rss_before, _) = rss_kib(pid);
    println!(
        "server RSS before the load: {:.1} MiB",
        rss_before as f64 / 1024.0
    );
    let mut wrong = 0;
    let phase = |name: &str| o.phases.iter().any(|p| p == name);
    if phase("rest") {
        wrong += match o.client.as_str() {
            "lean" => rest_phase_lean(&o, &read, work.clone()).await,
            _ => rest_phase_hyper(&o, &read, work.clone()).await,
        };
    }
    let grpc = grpc_channels(&read, o.grpc_connections).await;
    if phase("grpc") {
        wrong += grpc_phase(&o, &grpc, work.clone()).await;
    }
    if phase("bulk") {
        wrong += bulk_phase(&o, &grpc, work.clone()).await;
    }
    if phase("watch") {
        let write = format!("127.0.0.1:{}", ports[1]);
        watch_phase(&o, &grpc, &write).await;
    }
    let (rss_after, rss_peak) = rss_kib(pid);
    println!(
        "server RSS: {:.1} MiB after the load, peak {:.1} MiB",
        rss_after as f64 / 1024.0,
        rss_peak as f64 / 1024.0
    );
    println!("wrong answers: {wrong}");
    drop(server);
    assert_eq!(wrong, 0, "answers differ from expected.txt");
}

/// One check of the workload and its expected answer.
struct Check {
    tuple: zanzi::Tuple,
    /// `ns:id` of the (object) subject, as Keto's `subject_id`.
    subject_id: String,
    url: String,
    allowed: bool,
}

impl Check {
    /// Whether a REST answer (status, body) is this check's right answer.
    fn answered_by(&self, status: u16, body: &[u8]) -> bool {
        let expected: &[u8] = if self.allowed {
            b"{\"allowed\":true"
        } else {
            b"{\"allowed\":false"
        };
        status == 200 && body.starts_with(expected)
    }
}

fn workload(o: &Options) -> Vec<Check> {
    let checks = std::fs::read_to_string(o.data.join("checks.txt")).unwrap();
    let expected = std::fs::read_to_string(o.data.join("expected.txt")).unwrap();
    checks
        .lines()
        .zip(expected.lines())
        .map(|(c, e)| {
            let tuple: zanzi::Tuple = c.parse().unwrap();
            let subject_id = match &tuple.subject {
                zanzi::Subject::Object(o) => format!("{}:{}", o.namespace, o.id),
                other => panic!("unexpected subject {other}"),
            };
            let url = format!(
                "/relation-tuples/check/openapi?namespace={}&object={}&relation={}&subject_id={}",
                percent_encode(&tuple.object.namespace),
                percent_encode(&tuple.object.id),
                percent_encode(&tuple.relation),
                percent_encode(&subject_id)
            );
            Check {
                tuple,
                subject_id,
                url,
                allowed: e.trim() == "true",
            }
        })
        .collect()
}

/// Runs one task per worker state in `workers`, each calling `call` (which
/// answers whether the answer was right) until the time or request budget
/// is spent; prints the phase's throughput and latency; returns the
/// number of wrong answers. `per_call` is how many checks one call makes.
async fn drive<W, F, Fut>(label: &str, o: &Options, per_call: u64, workers: Vec<W>, call: F) -> u64
where
    W: Send + 'static,
    F: Fn(W, usize) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = (W, bool)> + Send,
{
    let sent = Arc::new(AtomicU64::new(0));
    let wrong = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let limit = o.requests / per_call;
    let server = o.server_pid.to_string();
    let (server_cpu, own_cpu) = (cpu_us(&server), cpu_us("self"));
    let started = Instant::now();
    let tasks: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(worker, mut state)| {
            let (sent, wrong) = (sent.clone(), wrong.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                let mut i = worker * 7919;
                while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < limit {
                    let t0 = Instant::now();
                    let (next, ok) = call(state, i).await;
                    state = next;
                    latencies.push(t0.elapsed().as_micros() as u32);
                    if !ok {
                        wrong.fetch_add(1, Ordering::Relaxed);
                    }
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<u32> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    let server_cpu = cpu_us(&server) - server_cpu;
    let own_cpu = cpu_us("self") - own_cpu;
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let n = latencies.len() as u64;
    println!(
        "{label} (store {}): {} checks in {n} calls in {elapsed:.2?}: {:.0} checks/s",
        o.db,
        n * per_call,
        (n * per_call) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{label} latency per call: p50 {} µs, p90 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        latencies.last().copied().unwrap_or(0)
    );
    let checks = (n * per_call).max(1) as f64;
    println!(
        "{label} CPU per check: server {:.1} µs, load generator {:.1} µs",
        server_cpu as f64 / checks,
        own_cpu as f64 / checks
    );
    wrong.load(Ordering::Relaxed)
}

type HyperHttp1 = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// The REST phase with hyper's HTTP/1.1 client (the default).
async fn rest_phase_hyper(o: &Options, read: &str, work: Arc<Vec<Check>>) -> u64 {
    let mut workers = Vec::new();
    for _ in 0..o.connections {
        let stream = tokio::net::TcpStream::connect(read).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        workers.push((sender, work.clone(), read.to_owned()));
    }
    let label = format!("rest ({} HTTP/1.1 connections)", o.connections);
    drive(
        &label,
        o,
        1,
        workers,
        |(mut sender, work, host): (HyperHttp1, Arc<Vec<Check>>, String), i| async move {
            let check = &work[i % work.len()];
            let request = hyper::Request::get(check.url.as_str())
                .header("host", host.as_str())
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let ok = check.answered_by(status.as_u16(), &body);
            ((sender, work, host), ok)
        },
    )
    .await
}

/// Each check's request as the lean client writes it.
type Wire = Arc<Vec<Vec<u8>>>;

/// One keep-alive HTTP/1.1 connection of the REST phase's lean client,
/// with the buffer its answers are read into (kept between requests).
struct Http1 {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

/// A request as it goes on the wire: the same request line and `host`
/// header hyper's client sent, written once per check instead of built
/// per request.
fn http1_request(url: &str, host: &str) -> Vec<u8> {
    format!("GET {url} HTTP/1.1\r\nhost: {host}\r\n\r\n").into_bytes()
}

/// The status and body of one HTTP/1.1 response, read whole from `conn`
/// (`content-length` framing, as the server sends every check answer).
async fn read_response(conn: &mut Http1) -> (u16, &[u8]) {
    use tokio::io::AsyncReadExt as _;
    conn.buffer.clear();
    loop {
        if let Some((status, head, length)) = parse_head(&conn.buffer) {
            while conn.buffer.len() < head + length {
                read_more(conn).await;
            }
            assert_eq!(conn.buffer.len(), head + length, "bytes past the answer");
            return (status, &conn.buffer[head..]);
        }
        read_more(conn).await;
    }

    async fn read_more(conn: &mut Http1) {
        conn.buffer.reserve(4096);
        let n = conn.stream.read_buf(&mut conn.buffer).await.unwrap();
        assert!(n > 0, "the server closed the connection");
    }
}

/// A complete response head in `bytes`: its status, its length and the
/// body's `content-length`; `None` while the head is incomplete.
fn parse_head(bytes: &[u8]) -> Option<(u16, usize, usize)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&bytes[..end]).expect("a response head in ASCII");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1.1 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .expect("an HTTP/1.1 status line");
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse().expect("a numeric content-length"))
        .expect("a content-length header (chunked answers are not expected)");
    Some((status, end, length))
}

/// The REST phase with the lean client (`--client lean`): each connection
/// writes its request and reads the answer itself (no client library, no
/// second task per connection), so that on two shared cores the load
/// generator leaves more CPU to the server it measures. The requests are
/// the ones hyper's client sends; every answer's status and body are still
/// checked.
async fn rest_phase_lean(o: &Options, read: &str, work: Arc<Vec<Check>>) -> u64 {
    let requests: Wire = Arc::new(
        work.iter()
            .map(|check| http1_request(&check.url, read))
            .collect(),
    );
    let mut workers = Vec::new();
    for _ in 0..o.connections {
        let stream = tokio::net::TcpStream::connect(read).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let conn = Http1 {
            stream,
            buffer: Vec::with_capacity(4096),
        };
        workers.push((conn, work.clone(), requests.clone()));
    }
    let label = format!("rest ({} HTTP/1.1 connections, lean client)", o.connections);
    drive(
        &label,
        o,
        1,
        workers,
        |(mut conn, work, requests): (Http1, Arc<Vec<Check>>, Wire), i| async move {
            use tokio::io::AsyncWriteExt as _;
            let at = i % work.len();
            let check = &work[at];
            conn.stream.write_all(&requests[at]).await.unwrap();
            let (status, body) = read_response(&mut conn).await;
            let ok = check.answered_by(status, body);
            ((conn, work, requests), ok)
        },
    )
    .await
}

async fn grpc_channels(read: &str, n: usize) -> Vec<tonic::transport::Channel> {
    let mut channels = Vec::new();
    for _ in 0..n.max(1) {
        channels.push(
            tonic::transport::Channel::from_shared(format!("http://{read}"))
                .unwrap()
                .tcp_nodelay(true)
                .connect()
                .await
                .unwrap(),
        );
    }
    channels
}

fn keto_tuple(check: &Check) -> keto::RelationTuple {
    keto::RelationTuple {
        namespace: check.tuple.object.namespace.clone(),
        object: check.tuple.object.id.clone(),
        relation: check.tuple.relation.clone(),
        subject: Some(keto::Subject {
            r#ref: Some(keto::subject::Ref::Id(check.subject_id.clone())),
        }),
    }
}

type KetoCheck = keto::check_service_client::CheckServiceClient<tonic::transport::Channel>;

async fn grpc_phase(
    o: &Options,
    channels: &[tonic::transport::Channel],
    work: Arc<Vec<Check>>,
) -> u64 {
    let workers: Vec<_> = (0..o.connections)
        .map(|w| {
            let channel = channels[w % channels.len()].clone();
            (KetoCheck::new(channel), work.clone())
        })
        .collect();
    let label = format!(
        "grpc ({} calls in flight over {} HTTP/2 connections)",
        o.connections,
        channels.len()
    );
    drive(
        &label,
        o,
        1,
        workers,
        |(mut client, work): (KetoCheck, Arc<Vec<Check>>), i| async move {
            let check = &work[i % work.len()];
            let answer = client
                .check(keto::CheckRequest {
                    tuple: Some(keto_tuple(check)),
                    ..Default::default()
                })
                .await;
            let ok = answer.is_ok_and(|a| a.get_ref().allowed == check.allowed);
            ((client, work), ok)
        },
    )
    .await
}

type Permissions =
    zv1::permission_service_client::PermissionServiceClient<tonic::transport::Channel>;

/// Checks per `BulkCheck` call.
const BULK: usize = 100;

async fn bulk_phase(
    o: &Options,
    channels: &[tonic::transport::Channel],
    work: Arc<Vec<Check>>,
) -> u64 {
    let workers: Vec<_> = (0..channels.len() * 2)
        .map(|w| {
            let channel = channels[w % channels.len()].clone();
            (Permissions::new(channel), work.clone())
        })
        .collect();
    let label = format!(
        "bulk ({} calls of {BULK} checks in flight over {} HTTP/2 connections)",
        workers.len(),
        channels.len()
    );
    drive(
        &label,
        o,
        BULK as u64,
        workers,
        |(mut client, work): (Permissions, Arc<Vec<Check>>), i| async move {
            let batch: Vec<&Check> = (0..BULK)
                .map(|k| &work[(i * BULK + k) % work.len()])
                .collect();
            let items = batch
                .iter()
                .map(|c| zv1::CheckItem {
                    object: Some(zv1::ObjectRef {
                        namespace: c.tuple.object.namespace.clone(),
                        id: c.tuple.object.id.clone(),
                    }),
                    relation: c.tuple.relation.clone(),
                    subject: Some(zanzi_subject(&c.tuple.subject)),
                })
                .collect();
            let answer = client
                .bulk_check(zv1::BulkCheckRequest {
                    items,
                    ..Default::default()
                })
                .await;
            let ok = answer.is_ok_and(|a| {
                let results = &a.get_ref().results;
                results.len() == batch.len()
                    && results
                        .iter()
                        .zip(&batch)
                        .all(|(r, c)| r.error.is_empty() && r.allowed == c.allowed)
            });
            ((client, work), ok)
        },
    )
    .await
}

fn zanzi_subject(subject: &zanzi::Subject) -> zv1::SubjectRef {
    match subject {
        zanzi::Subject::Object(o) => zv1::SubjectRef {
            object: Some(zv1::ObjectRef {
                namespace: o.namespace.clone(),
                id: o.id.clone(),
            }),
            relation: String::new(),
        },
        other => panic!("unexpected subject {other}"),
    }
}

/// Writers insert `--watch-rate` tuples a second for `--seconds` while one
/// Watch stream reads them; prints the rate written, the rate received,
/// the largest backlog, and how long the stream took to catch up after
/// the last write.
async fn watch_phase(o: &Options, read: &[tonic::transport::Channel], write: &str) {
    use tokio_stream::StreamExt as _;
    let write = grpc_channels(write, 1).await.remove(0);
    let mut watcher = zv1::watch_service_client::WatchServiceClient::new(read[0].clone());
    let mut stream = watcher
        .watch(zv1::WatchRequest::default())
        .await
        .unwrap()
        .into_inner();
    let written = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let max_backlog = Arc::new(AtomicU64::new(0));
    let consumer = {
        let (written, received, max_backlog) =
            (written.clone(), received.clone(), max_backlog.clone());
        tokio::spawn(async move {
            while let Some(message) = stream.next().await {
                let message = message.expect("the watch stream fails");
                let n = received.fetch_add(message.changes.len() as u64, Ordering::AcqRel)
                    + message.changes.len() as u64;
                let backlog = written.load(Ordering::Acquire).saturating_sub(n);
                max_backlog.fetch_max(backlog, Ordering::AcqRel);
            }
        })
    };
    let batches_per_sec = (o.watch_rate / o.watch_batch as u64).max(1);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / batches_per_sec as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let end = started + Duration::from_secs(o.seconds);
    let mut next = 0u64;
    let mut pending = tokio::task::JoinSet::new();
    while Instant::now() < end {
        ticker.tick().await;
        let deltas = (0..o.watch_batch)
            .map(|_| {
                next += 1;
                keto::RelationTupleDelta {
                    action: keto::relation_tuple_delta::Action::Insert as i32,
                    relation_tuple: Some(keto::RelationTuple {
                        namespace: "document".into(),
                        object: format!("watch-{next}"),
                        relation: "viewer".into(),
                        subject: Some(keto::Subject {
                            r#ref: Some(keto::subject::Ref::Id(format!("user:w{next}"))),
                        }),
                    }),
                }
            })
            .collect();
        let mut client = keto::write_service_client::WriteServiceClient::new(write.clone());
        let written = written.clone();
        let n = o.watch_batch as u64;
        // At most 8 transactions in flight: the rate the server sustains
        // shows as a lower write rate, not as an unbounded queue here.
        while pending.len() >= 8 {
            pending.join_next().await;
        }
        pending.spawn(async move {
            client
                .transact_relation_tuples(keto::TransactRelationTuplesRequest {
                    relation_tuple_deltas: deltas,
                    ..Default::default()
                })
                .await
                .expect("a watch benchmark write fails");
            written.fetch_add(n, Ordering::AcqRel);
        });
    }
    while pending.join_next().await.is_some() {}
    let writing = started.elapsed();
    let total = written.load(Ordering::Acquire);
    let caught_up = Instant::now();
    while received.load(Ordering::Acquire) < total && caught_up.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let lag = caught_up.elapsed();
    let got = received.load(Ordering::Acquire);
    consumer.abort();
    println!(
        "watch: wrote {total} tuples in {writing:.2?} ({:.0}/s, batches of {}); the stream \
         received {got}, at most {} behind, caught up {lag:.2?} after the last write",
        total as f64 / writing.as_secs_f64(),
        o.watch_batch,
        max_backlog.load(Ordering::Acquire)
    );
    assert_eq!(got, total, "the watch stream lost changes");
}
