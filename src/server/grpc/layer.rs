//! Per-call bookkeeping for the gRPC routes, the counterpart of REST's
//! [`track`](crate::server::track): a request id (`x-request-id` metadata,
//! echoed), the bound on requests in flight (`UNAVAILABLE` past it),
//! metrics in the same series as REST ([`metrics::record_grpc_call`]), a
//! log line, a span (whose parent is the caller's `traceparent`), the
//! call's deadline (`grpc-timeout`), and `INTERNAL` for a handler that
//! panics.
//!
//! A call's status is in the response headers when it failed before
//! answering (tonic's "trailers only" answer), else in the trailers at the
//! end of the body: the body is wrapped to read them, so a call is
//! recorded when its body ends (a stream's latency is the whole stream's).
//!
//! # Deadlines and cancellation, for handlers
//!
//! Every call runs under an [`Interrupt`]: its deadline is the call's
//! `grpc-timeout`, and it is cancelled when the client goes away (the
//! call's future or its response body is dropped). Past the deadline the
//! call is answered `DEADLINE_EXCEEDED` at once. Engine work started through
//! [`on_blocking_pool`](super::status::on_blocking_pool) or
//! [`evaluating`](super::status::evaluating) stops by itself (the engine
//! answers [`EngineError::DeadlineExceeded`](crate::engine::EngineError),
//! which is `DEADLINE_EXCEEDED`): nothing to do. Work elsewhere (a stream's
//! own task or thread) asks [`interrupt`] and either runs the engine under
//! it with [`Interrupt::run`] or looks at [`Interrupt::is_over`] now and
//! then:
//!
//! ```ignore
//! let interrupt = grpc::layer::interrupt(&request);
//! std::thread::spawn(move || Interrupt::run(interrupt, || engine.check(…)));
//! ```

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tonic::{Code, Status};
use tracing::Instrument as _;

use crate::engine::Interrupt;
use crate::server::{metrics, telemetry, AppState, CancelOnDrop, RequestId, INTERRUPT};

/// Applies the bookkeeping to the gRPC routes of one listener (unknown
/// services and methods included).
pub fn apply(router: axum::Router, state: &Arc<AppState>) -> axum::Router {
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_status,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
}

/// The interrupt a call runs under (its deadline, and cancellation when
/// the client goes away); `None` outside the gRPC routes.
pub fn interrupt<T>(request: &tonic::Request<T>) -> Option<Arc<Interrupt>> {
    request.extensions().get::<Arc<Interrupt>>().cloned()
}

/// The call's deadline (`grpc-timeout` from when it arrived), if it has one.
pub fn deadline<T>(request: &tonic::Request<T>) -> Option<Instant> {
    request
        .extensions()
        .get::<Arc<Interrupt>>()
        .and_then(|i| i.deadline())
}

/// The longest `grpc-timeout` honoured (the header allows 10⁸ hours).
const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `grpc-timeout`: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`,
/// `n`), as the gRPC HTTP/2 protocol spells it.
fn parse_timeout(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?;
    let unit = text.chars().last()?;
    let digits = text.get(..text.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let duration = match unit {
        'H' => Duration::from_secs(n.saturating_mul(3600)),
        'M' => Duration::from_secs(n.saturating_mul(60)),
        'S' => Duration::from_secs(n),
        'm' => Duration::from_millis(n),
        'u' => Duration::from_micros(n),
        'n' => Duration::from_nanos(n),
        _ => return None,
    };
    Some(duration.min(MAX_TIMEOUT))
}

async fn track(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| state.next_request_id(), str::to_owned);
    let path = request.uri().path().to_owned();
    let span = tracing::debug_span!(
        "grpc",
        otel.name = path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = path.as_str(),
        rpc.grpc.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        request_id = id.as_str(),
    );
    telemetry::adopt_parent(&span, request.headers());
    let timeout = match request.headers().get("grpc-timeout") {
        None => None,
        Some(value) => match parse_timeout(value) {
            Some(timeout) => Some(timeout),
            None => {
                let status = Status::invalid_argument(
                    "`grpc-timeout` must be at most 8 digits and a unit (H, M, S, m, u, n)",
                );
                return Call::new(&id, path, started, span, None).finish(status.into_http());
            }
        },
    };
    let deadline = timeout.and_then(|t| started.checked_add(t));
    let interrupt = Arc::new(Interrupt::new(deadline));
    let cancel = CancelOnDrop(interrupt.clone());
    let call = Call::new(&id, path, started, span.clone(), Some(cancel));
    let Ok(permit) = state.inflight.clone().try_acquire_owned() else {
        let status = Status::unavailable(format!(
            "too many requests in flight (at most {}); retry shortly",
            state.settings.max_inflight
        ));
        return call.finish(status.into_http());
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    request.extensions_mut().insert(interrupt.clone());
    let answer = INTERRUPT.scope(interrupt.clone(), next.run(request).instrument(span));
    let response = match deadline {
        None => answer.await,
        Some(deadline) => match tokio::time::timeout_at(deadline.into(), answer).await {
            Ok(response) => response,
            Err(_) => {
                interrupt.cancel();
                Status::deadline_exceeded(format!(
                    "the call's deadline ({} ms) passed before it was answered",
                    timeout.map_or(0, |t| t.as_millis())
                ))
                .into_http()
            }
        },
    };
    drop(permit);
    call.finish(response)
}

/// A call being answered: recorded once its status is known.
struct Call {
    id: String,
    path: String,
    started: Instant,
    span: tracing::Span,
    /// Cancels the call's interrupt when the call ends or is dropped.
    _cancel: Option<CancelOnDrop>,
}

impl Call {
    fn new(
        id: &str,
        path: String,
        started: Instant,
        span: tracing::Span,
        cancel: Option<CancelOnDrop>,
    ) -> Call {
        Call {
            id: id.to_owned(),
            path,
            started,
            span,
            _cancel: cancel,
        }
    }

    /// Echoes the request id, and records the call now (an answer with its
    /// status in the headers) or when the body ends (in the trailers).
    fn finish(self, response: http::Response<Body>) -> Response {
        let (mut parts, body) = response.into_parts();
        correct_code(&mut parts.headers);
        if let Ok(value) = HeaderValue::from_str(&self.id) {
            parts.headers.insert("x-request-id", value);
        }
        if let Some(code) = status_code(&parts.headers) {
            self.record(code, message(&parts.headers));
            return Response::from_parts(parts, body);
        }
        let body = Tracked {
            inner: body,
            call: Some(self),
        };
        Response::from_parts(parts, Body::new(body))
    }

    fn record(self, code: Code, message: String) {
        let elapsed = self.started.elapsed();
        // Unknown services and methods are one series, not one per path a
        // client made up.
        let endpoint = if code == Code::Unimplemented {
            "unmatched"
        } else {
            self.path.as_str()
        };
        let name = code_name(code);
        metrics::record_grpc_call(endpoint, name, elapsed);
        self.span.record("rpc.grpc.status_code", code as i32);
        let latency_us = elapsed.as_micros() as u64;
        let (id, path) = (&self.id, &self.path);
        match code {
            Code::Ok => {
                tracing::debug!(request_id = %id, method = "grpc", endpoint = %path, status = name, latency_us, "request")
            }
            Code::Internal | Code::Unknown | Code::DataLoss | Code::Unavailable => {
                telemetry::mark_error(&self.span, &message);
                tracing::error!(request_id = %id, method = "grpc", endpoint = %path, status = name, latency_us, error = %message, "request failed")
            }
            _ => {
                tracing::info!(request_id = %id, method = "grpc", endpoint = %path, status = name, latency_us, error = %message, "request refused")
            }
        }
    }
}

/// tonic answers a request message it cannot decode `INTERNAL`, and one
/// over the size limit `OUT_OF_RANGE`; both are the client's doing:
/// `INVALID_ARGUMENT` (the message names the field, from prost) and
/// `RESOURCE_EXHAUSTED` (gRPC's code for a message over the limit).
fn correct_code(headers: &mut HeaderMap) {
    let Some(code @ (Code::Internal | Code::OutOfRange)) = status_code(headers) else {
        return;
    };
    let text = message(headers);
    let corrected = match code {
        Code::Internal if text.starts_with("failed to decode Protobuf message") => {
            Code::InvalidArgument
        }
        Code::OutOfRange if text.starts_with("Error, decoded message length too large") => {
            Code::ResourceExhausted
        }
        _ => return,
    };
    headers.insert("grpc-status", HeaderValue::from(corrected as i32));
}

/// The status code in `headers` (or trailers).
fn status_code(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|v| Code::from_bytes(v.as_bytes()))
}

/// The status message in `headers` (or trailers), percent-decoded; not
/// parsed for a call that succeeded (every check's answer).
fn message(headers: &HeaderMap) -> String {
    if status_code(headers) == Some(Code::Ok) {
        return String::new();
    }
    Status::from_header_map(headers)
        .map(|s| s.message().to_owned())
        .unwrap_or_default()
}

/// A response body that records its call when it ends: from the trailers'
/// status, or `CANCELLED` when dropped before its end (the client went
/// away).
struct Tracked {
    inner: Body,
    call: Option<Call>,
}

impl HttpBody for Tracked {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &mut polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_mut() {
                    correct_code(trailers);
                    let code = status_code(trailers).unwrap_or(Code::Unknown);
                    let text = message(trailers);
                    if let Some(call) = self.call.take() {
                        call.record(code, text);
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = self.call.take() {
                    call.record(Code::Internal, "the answer could not be sent".to_owned());
                }
            }
            Poll::Ready(None) => {
                // A body without trailers: tonic always sends them, so the
                // status is unknown.
                if let Some(call) = self.call.take() {
                    call.record(
                        Code::Unknown,
                        "the answer ended without a status".to_owned(),
                    );
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.record(
                Code::Cancelled,
                "the client went away before the answer ended".to_owned(),
            );
        }
    }
}

/// The name of a status code as gRPC spells it (the `status` label).
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A panic in a handler (a bug) is answered `INTERNAL`, and the server
/// goes on.
fn panic_status(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "a gRPC handler panicked");
    Status::internal("the server failed to answer this call (a bug); it was logged").into_http()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(text: &str) -> Option<Duration> {
        parse_timeout(&HeaderValue::from_str(text).ok()?)
    }

    #[test]
    fn grpc_timeout_units_and_malformed_values() {
        assert_eq!(timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(timeout("3S"), Some(Duration::from_secs(3)));
        assert_eq!(timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(timeout("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "S", "123456789S", "10s", "1.5S", "-1S", "10"] {
            assert_eq!(timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_code_has_its_grpc_name() {
        assert_eq!(code_name(Code::from_i32(4)), "DEADLINE_EXCEEDED");
        assert_eq!(code_name(Code::from_i32(12)), "UNIMPLEMENTED");
        assert_eq!(code_name(Code::from_i32(0)), "OK");
    }
}
