//! OpenTelemetry traces for both protocols (off unless `otlp_endpoint` is
//! set): the spans of `tracing` sent over OTLP/gRPC, with the request's
//! W3C `traceparent` (an HTTP header on REST, metadata on gRPC) as the
//! parent of its request span, so that a check shows up inside the
//! caller's trace.
//!
//! Spans: one per request (`http` on REST, `grpc` on gRPC), one per
//! evaluation (`engine.check`, `engine.expand`, `engine.lookup_*`), one per
//! store snapshot read (`store.snapshot`). They are `debug` spans so that
//! with tracing off and the usual `info` log level their call sites are
//! disabled: a disabled span costs a load and a branch, nothing on the hot
//! path. The OTLP layer has its own filter (zanzi's spans and events up to
//! `debug`), independent of `log_level`.

use std::sync::atomic::{AtomicBool, Ordering};

use http::HeaderMap;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Whether traces are exported (spans then take their parent from
/// `traceparent`).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The trace exporter of the process; flushes what is left when shut down.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// The OTLP exporter to `endpoint` (`http://collector:4317`). Must be
    /// called inside a Tokio runtime: the gRPC channel runs on it.
    pub(crate) fn otlp(endpoint: &str) -> Result<Telemetry, String> {
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| e.to_string())?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("zanzi")
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        ENABLED.store(true, Ordering::Release);
        Ok(Telemetry {
            provider: Some(provider),
        })
    }

    /// The tracer the `tracing` layer hands spans to.
    pub(crate) fn tracer(&self) -> Option<opentelemetry_sdk::trace::Tracer> {
        use opentelemetry::trace::TracerProvider as _;
        self.provider.as_ref().map(|p| p.tracer("zanzi"))
    }

    /// Sends the spans not sent yet and stops the exporter. Call it outside
    /// the runtime's threads, while the runtime still runs (the export goes
    /// through it).
    pub fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            ENABLED.store(false, Ordering::Release);
            if let Err(e) = provider.shutdown() {
                tracing::warn!(error = %e, "flushing the last traces failed");
            }
        }
    }
}

/// Reads `traceparent`/`tracestate` from HTTP headers (gRPC metadata are
/// HTTP/2 headers too).
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes the caller's trace (`traceparent` in `headers`) the parent of
/// `span`, when traces are exported.
pub(crate) fn adopt_parent(span: &tracing::Span, headers: &HeaderMap) {
    if !ENABLED.load(Ordering::Acquire) || span.is_disabled() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

/// Marks `span` as failed for the trace viewer.
pub(crate) fn mark_error(span: &tracing::Span, message: &str) {
    if ENABLED.load(Ordering::Acquire) {
        span.record("otel.status_code", "ERROR");
        span.record("otel.status_description", message);
    }
}
