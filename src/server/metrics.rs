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

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
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

pub fn record_request(endpoint: &str, method: &str, status: u16, elapsed: Duration) {
    record(endpoint, method, status.to_string(), elapsed);
}

/// A gRPC call, in the same series as REST requests: `endpoint` is the
/// method's path (`/package.Service/Method`), `method` is `grpc` and
/// `status` the status code's name (`OK`, `NOT_FOUND`, …).
pub fn record_grpc_call(endpoint: &str, code: &'static str, elapsed: Duration) {
    record(endpoint, "grpc", code.to_owned(), elapsed);
}

fn record(endpoint: &str, method: &str, status: String, elapsed: Duration) {
    metrics::counter!(
        "zanzi_http_requests_total",
        "endpoint" => endpoint.to_owned(),
        "method" => method.to_owned(),
        "status" => status,
    )
    .increment(1);
    metrics::histogram!(
        "zanzi_http_request_duration_seconds",
        "endpoint" => endpoint.to_owned(),
    )
    .record(elapsed.as_secs_f64());
}

/// Records a check's outcome and the depth it reached.
pub fn record_check(outcome: &'static str, depth: u32) {
    metrics::counter!("zanzi_checks_total", "outcome" => outcome).increment(1);
    metrics::histogram!("zanzi_check_depth").record(f64::from(depth));
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
