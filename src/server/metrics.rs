//! Prometheus metrics (`GET /metrics/prometheus` on the metrics listener):
//!
//! - `zanzi_http_requests_total{endpoint,method,status}` and
//!   `zanzi_http_request_duration_seconds{endpoint}` (a histogram), for
//!   REST requests and gRPC calls alike (a call's `method` is `grpc`, its
//!   `endpoint` `/package.Service/Method`, its `status` the code's name);
//! - `zanzi_checks_total{outcome}` (`allowed`, `denied`, `conditional`, `error`) and
//!   `zanzi_check_depth` (a histogram of the most hops through tuples a
//!   check took; the limit itself when it was hit);
//! - `zanzi_store_errors_total`, `zanzi_gc_removed_versions_total`,
//!   `zanzi_gc_expired_tuples_total`;
//! - `zanzi_rate_limited_total` (requests refused by the rate limit, see
//!   [`super::limits`]).
//!
//! One recorder per process: servers started in the same process (tests)
//! share it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0,
];
const DEPTH_BUCKETS: &[f64] = &[
    0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 64.0,
];

/// Installs the process-wide recorder (once).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("zanzi_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .set_buckets_for_metric(Matcher::Full("zanzi_check_depth".into()), DEPTH_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// The status label of a request: REST's number or gRPC's code name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Http(u16),
    Grpc(&'static str),
}

impl Status {
    fn label(self) -> String {
        match self {
            Status::Http(code) => code.to_string(),
            Status::Grpc(code) => code.to_owned(),
        }
    }
}

/// The series of one endpoint: its latency histogram, and its request
/// counter for each method and status seen.
struct EndpointSeries {
    duration: Histogram,
    requests: Vec<(Box<str>, Status, Counter)>,
}

impl EndpointSeries {
    /// The request counter of `method` and `status`, if seen.
    fn counter(&self, method: &str, status: Status) -> Option<&Counter> {
        self.requests
            .iter()
            .find(|(m, s, _)| **m == *method && *s == status)
            .map(|(_, _, counter)| counter)
    }
}

/// The handles of the series requests were recorded in, kept once the
/// recorder is installed: looking a series up by its labels (building
/// them, hashing, the registry's lock) cost more than the request's
/// own bookkeeping. Grows with the series, as the registry does.
static REQUEST_SERIES: OnceLock<RwLock<SeriesByEndpoint>> = OnceLock::new();

type SeriesByEndpoint = HashMap<Box<str>, EndpointSeries, foldhash::fast::RandomState>;

/// Whether this module's recorder is the process's: only then are
/// handles kept (another recorder, or none, gets every call as before).
fn installed() -> bool {
    matches!(HANDLE.get(), Some(Some(_)))
}

pub fn record_request(endpoint: &str, method: &str, status: u16, elapsed: Duration) {
    record(endpoint, method, Status::Http(status), elapsed);
}

/// A gRPC call, in the same series as REST requests: `endpoint` is the
/// method's path (`/package.Service/Method`), `method` is `grpc` and
/// `status` the status code's name (`OK`, `NOT_FOUND`, …).
pub fn record_grpc_call(endpoint: &str, code: &'static str, elapsed: Duration) {
    record(endpoint, "grpc", Status::Grpc(code), elapsed);
}

fn record(endpoint: &str, method: &str, status: Status, elapsed: Duration) {
    if !installed() {
        register_request(endpoint, method, status).increment(1);
        register_duration(endpoint).record(elapsed.as_secs_f64());
        return;
    }
    let series = REQUEST_SERIES.get_or_init(Default::default);
    {
        let known = series.read().unwrap_or_else(|p| p.into_inner());
        if let Some(endpoint) = known.get(endpoint) {
            if let Some(counter) = endpoint.counter(method, status) {
                counter.increment(1);
                endpoint.duration.record(elapsed.as_secs_f64());
                return;
            }
        }
    }
    let mut known = series.write().unwrap_or_else(|p| p.into_inner());
    let entry = known
        .entry(endpoint.into())
        .or_insert_with(|| EndpointSeries {
            duration: register_duration(endpoint),
            requests: Vec::new(),
        });
    let counter = match entry.counter(method, status) {
        Some(counter) => counter.clone(),
        None => {
            let counter = register_request(endpoint, method, status);
            entry
                .requests
                .push((method.into(), status, counter.clone()));
            counter
        }
    };
    counter.increment(1);
    entry.duration.record(elapsed.as_secs_f64());
}

fn register_request(endpoint: &str, method: &str, status: Status) -> Counter {
    metrics::counter!(
        "zanzi_http_requests_total",
        "endpoint" => endpoint.to_owned(),
        "method" => method.to_owned(),
        "status" => status.label(),
    )
}

fn register_duration(endpoint: &str) -> Histogram {
    metrics::histogram!(
        "zanzi_http_request_duration_seconds",
        "endpoint" => endpoint.to_owned(),
    )
}

/// What a check answered, as `zanzi_checks_total` labels it.
#[derive(Clone, Copy, Debug)]
pub enum CheckOutcome {
    Allowed,
    Denied,
    Conditional,
    Error,
}

impl CheckOutcome {
    fn label(self) -> &'static str {
        match self {
            CheckOutcome::Allowed => "allowed",
            CheckOutcome::Denied => "denied",
            CheckOutcome::Conditional => "conditional",
            CheckOutcome::Error => "error",
        }
    }

    fn counter(self) -> Counter {
        metrics::counter!("zanzi_checks_total", "outcome" => self.label())
    }
}

/// The handles of the check series (fixed labels), once the recorder is
/// installed.
struct CheckSeries {
    allowed: Counter,
    denied: Counter,
    conditional: Counter,
    error: Counter,
    depth: Histogram,
}

static CHECK_SERIES: OnceLock<CheckSeries> = OnceLock::new();

/// Records a check's outcome and the depth it reached.
pub fn record_check(outcome: CheckOutcome, depth: u32) {
    if !installed() {
        outcome.counter().increment(1);
        metrics::histogram!("zanzi_check_depth").record(f64::from(depth));
        return;
    }
    let series = CHECK_SERIES.get_or_init(|| CheckSeries {
        allowed: CheckOutcome::Allowed.counter(),
        denied: CheckOutcome::Denied.counter(),
        conditional: CheckOutcome::Conditional.counter(),
        error: CheckOutcome::Error.counter(),
        depth: metrics::histogram!("zanzi_check_depth"),
    });
    let counter = match outcome {
        CheckOutcome::Allowed => &series.allowed,
        CheckOutcome::Denied => &series.denied,
        CheckOutcome::Conditional => &series.conditional,
        CheckOutcome::Error => &series.error,
    };
    counter.increment(1);
    series.depth.record(f64::from(depth));
}

pub async fn serve(State(_state): State<Arc<AppState>>) -> impl IntoResponse {
    let body = install().map(PrometheusHandle::render).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
