//! Telemetry, limits and deadlines of the gRPC routes: metrics in the same
//! series as REST, the in-flight bound, `grpc-timeout` stopping the
//! evaluation, cancellation, panics, and OpenTelemetry traces (REST and
//! gRPC) arriving at a tiny OTLP receiver with the caller's trace id.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;
use zanzi::engine::{Engine, EngineError, Interrupt};
use zanzi::server::grpc::status::on_blocking_pool;
use zanzi::server::AppState;
use zanzi::store::{MemoryStore, Store, TupleStore};
use zanzi::tuple::{Object, Subject};

use support::grpc::GrpcServer;

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

/// The value of the `zanzi_http_requests_total` series with these labels.
fn requests_total(metrics: &str, endpoint: &str, status: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix("zanzi_http_requests_total{")?;
        let (labels, value) = rest.split_once("} ")?;
        let wanted = [
            format!("endpoint=\"{endpoint}\""),
            "method=\"grpc\"".to_owned(),
            format!("status=\"{status}\""),
        ];
        wanted
            .iter()
            .all(|w| labels.contains(w.as_str()))
            .then(|| value.trim().parse().unwrap())
    })
}

#[tokio::test]
async fn grpc_calls_are_counted_per_method_and_status_beside_rest() {
    let server = GrpcServer::start().await;
    let mut version = keto::version_service_client::VersionServiceClient::new(server.read.clone());
    let mut request = Request::new(keto::GetVersionRequest {});
    request
        .metadata_mut()
        .insert("x-request-id", "my-request-1".parse().unwrap());
    let answer = version.get_version(request).await.unwrap();
    // The request id is echoed.
    assert_eq!(
        answer.metadata().get("x-request-id").unwrap(),
        "my-request-1"
    );
    version
        .get_version(keto::GetVersionRequest {})
        .await
        .unwrap();
    // A failing call: the health of a service nobody registered.
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.read.clone());
    let error = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::NotFound);
    // An unknown method: one series for all of them.
    let mut write = keto::write_service_client::WriteServiceClient::new(server.read.clone());
    let error = write
        .delete_relation_tuples(keto::DeleteRelationTuplesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::Unimplemented);

    let metrics = server
        .http
        .get(format!(
            "http://{}/metrics/prometheus",
            server.running.metrics
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ok = requests_total(
        &metrics,
        "/ory.keto.relation_tuples.v1alpha2.VersionService/GetVersion",
        "OK",
    );
    // Other tests of this binary share the recorder: at least ours.
    assert!(ok.is_some_and(|n| n >= 2.0), "{metrics}");
    let not_found = requests_total(&metrics, "/grpc.health.v1.Health/Check", "NOT_FOUND");
    assert!(not_found.is_some_and(|n| n >= 1.0), "{metrics}");
    let unmatched = requests_total(&metrics, "unmatched", "UNIMPLEMENTED");
    assert!(unmatched.is_some_and(|n| n >= 1.0), "{metrics}");
    assert!(
        !metrics.contains("WriteService/DeleteRelationTuples"),
        "unknown methods get no series of their own: {metrics}"
    );
    assert!(
        metrics.contains("zanzi_http_request_duration_seconds_bucket{endpoint=\"/ory.keto.relation_tuples.v1alpha2.VersionService/GetVersion\""),
        "{metrics}"
    );
}

// ---------------------------------------------------------------------------
// A test CheckService behind the gRPC layer: deadlines, cancellation,
// the in-flight bound and panics.
// ---------------------------------------------------------------------------

/// `group:g0#member` holds `FAN` groups, each holding `FAN` more: a check
/// for a user in none of them visits every group.
const FAN: usize = 150;

const WIDE: &str = "
namespace user {}
namespace group {
  relation member: user | group#member
}
";

fn wide_store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    let mut tuples = Vec::new();
    for i in 0..FAN {
        tuples.push(format!("group:g0#member@group:a{i}#member"));
        for j in 0..FAN {
            tuples.push(format!("group:a{i}#member@group:b{i}_{j}#member"));
        }
    }
    let tuples: Vec<zanzi::tuple::Tuple> = tuples.iter().map(|t| t.parse().unwrap()).collect();
    store.write(&tuples, &[]).expect("the wide data is written");
    store
}

/// What the test service's last evaluation answered.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Answered(bool),
    Stopped,
    Failed(String),
}

#[derive(Clone)]
struct TestCheck {
    state: Arc<AppState>,
    /// Calls for the object `wait` wait for this.
    release: Arc<Notify>,
    started: Arc<Notify>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
}

#[tonic::async_trait]
impl keto::check_service_server::CheckService for TestCheck {
    async fn check(
        &self,
        request: Request<keto::CheckRequest>,
    ) -> Result<Response<keto::CheckResponse>, Status> {
        let object = request.get_ref().tuple.clone().unwrap_or_default().object;
        match object.as_str() {
            "panic" => panic!("a handler bug"),
            "wait" => {
                self.started.notify_one();
                self.release.notified().await;
                return Ok(Response::new(keto::CheckResponse::default()));
            }
            _ => {}
        }
        self.started.notify_one();
        let outcomes = self.outcomes.clone();
        // As the real handlers run the engine: on the blocking pool.
        let allowed = on_blocking_pool(&self.state, move |s| {
            let engine = Engine::new(&s.schema, s.store.as_ref());
            let answer = engine.check(
                &Object::new("group", "g0"),
                "member",
                &Subject::object("user", "nobody"),
                s.known_head(),
            );
            let outcome = match &answer {
                Ok(allowed) => Outcome::Answered(*allowed),
                Err(EngineError::DeadlineExceeded) => Outcome::Stopped,
                Err(other) => Outcome::Failed(other.to_string()),
            };
            outcomes.lock().unwrap().push(outcome);
            Ok(answer?)
        })
        .await?;
        Ok(Response::new(keto::CheckResponse {
            allowed,
            snaptoken: String::new(),
            ..keto::CheckResponse::default()
        }))
    }

    async fn batch_check(
        &self,
        _: Request<keto::BatchCheckRequest>,
    ) -> Result<Response<keto::BatchCheckResponse>, Status> {
        Err(Status::unimplemented("not in this test"))
    }
}

type Client = keto::check_service_client::CheckServiceClient<axum::Router>;

/// The test service behind the server's gRPC layer, and a client calling
/// it in process.
fn test_service(max_inflight: usize) -> (TestCheck, Client) {
    let settings = zanzi::server::config::Settings {
        max_inflight,
        ..support::grpc::settings()
    };
    let state = Arc::new(
        AppState::new(
            settings,
            support::grpc::schema(WIDE),
            wide_store() as Arc<dyn Store>,
        )
        .unwrap(),
    );
    let service = TestCheck {
        state: state.clone(),
        release: Arc::new(Notify::new()),
        started: Arc::new(Notify::new()),
        outcomes: Arc::new(Mutex::new(Vec::new())),
    };
    let mut routes = tonic::service::Routes::builder();
    routes.add_service(keto::check_service_server::CheckServiceServer::new(
        service.clone(),
    ));
    let router =
        zanzi::server::grpc::layer::apply(routes.routes().prepare().into_axum_router(), &state);
    let client = keto::check_service_client::CheckServiceClient::new(router);
    (service, client)
}

fn check_of(object: &str) -> keto::CheckRequest {
    keto::CheckRequest {
        tuple: Some(keto::RelationTuple {
            namespace: "group".into(),
            object: object.into(),
            relation: "member".into(),
            subject: None,
        }),
        ..keto::CheckRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_past_its_grpc_timeout_stops_evaluating_and_the_server_goes_on() {
    let (service, mut client) = test_service(16);
    // Without a deadline the whole check runs: how long it takes here.
    let started = Instant::now();
    let answer = client.check(check_of("g0")).await.unwrap();
    let full = started.elapsed();
    assert!(!answer.get_ref().allowed);
    assert_eq!(
        service.outcomes.lock().unwrap().pop(),
        Some(Outcome::Answered(false))
    );

    let mut request = Request::new(check_of("g0"));
    let timeout = (full / 20).max(Duration::from_micros(200));
    request.set_timeout(timeout);
    let error = client.check(request).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::DeadlineExceeded, "{error:?}");
    // The evaluation itself stopped (only an interrupt makes the engine
    // answer this), soon after the deadline rather than at the end.
    let deadline = Instant::now() + Duration::from_secs(10);
    let outcome = loop {
        if let Some(outcome) = service.outcomes.lock().unwrap().pop() {
            break outcome;
        }
        assert!(Instant::now() < deadline, "the evaluation never ended");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    assert_eq!(outcome, Outcome::Stopped, "a full check takes {full:?}");

    // The server goes on: a call with room answers.
    let mut request = Request::new(check_of("g0"));
    request.set_timeout(Duration::from_secs(600));
    assert!(!client.check(request).await.unwrap().get_ref().allowed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_grpc_timeout_is_refused_naming_it() {
    let (_, mut client) = test_service(16);
    let mut request = Request::new(check_of("g0"));
    request
        .metadata_mut()
        .insert("grpc-timeout", "soon".parse().unwrap());
    let error = client.check(request).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(error.message().contains("grpc-timeout"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_stops_the_evaluation() {
    let (service, client) = test_service(16);
    let mut caller = client.clone();
    let call = tokio::spawn(async move { caller.check(check_of("g0")).await });
    service.started.notified().await;
    // The client gives up (its call future is dropped).
    call.abort();
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcome = loop {
        if let Some(outcome) = service.outcomes.lock().unwrap().pop() {
            break outcome;
        }
        assert!(Instant::now() < deadline, "the evaluation never ended");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    assert_eq!(outcome, Outcome::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_the_in_flight_bound_are_unavailable() {
    let (service, client) = test_service(1);
    let mut first = client.clone();
    let waiting = tokio::spawn(async move { first.check(check_of("wait")).await });
    service.started.notified().await;
    let mut second = client.clone();
    let error = second.check(check_of("g0")).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::Unavailable, "{error:?}");
    assert!(error.message().contains("in flight"), "{error:?}");
    // Once the first call is answered, there is room again.
    service.release.notify_one();
    waiting.await.unwrap().unwrap();
    assert!(
        !second
            .check(check_of("g0"))
            .await
            .unwrap()
            .get_ref()
            .allowed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_internal_and_the_server_goes_on() {
    let (_, mut client) = test_service(16);
    let error = client.check(check_of("panic")).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::Internal, "{error:?}");
    assert!(
        !error.message().contains("a handler bug"),
        "no internals: {error:?}"
    );
    assert!(
        !client
            .check(check_of("g0"))
            .await
            .unwrap()
            .get_ref()
            .allowed
    );
}

#[test]
fn the_engine_stops_under_a_cancelled_interrupt_and_not_without_one() {
    let schema = support::grpc::schema(WIDE);
    let store = wide_store();
    let engine = Engine::new(&schema, store.as_ref());
    let head = store.head_revision().unwrap();
    let ask = || {
        engine.check(
            &Object::new("group", "g0"),
            "member",
            &Subject::object("user", "nobody"),
            head,
        )
    };
    assert!(!ask().unwrap());
    let cancelled = Arc::new(Interrupt::new(None));
    cancelled.cancel();
    let stopped = Interrupt::run(Some(cancelled), ask);
    assert!(
        matches!(stopped, Err(EngineError::DeadlineExceeded)),
        "{stopped:?}"
    );
    let past = Arc::new(Interrupt::new(Some(Instant::now())));
    let expanded = Interrupt::run(Some(past), || {
        engine.expand(&Object::new("group", "g0"), "member", 8, head)
    });
    assert!(matches!(expanded, Err(EngineError::DeadlineExceeded)));
    // The interrupt was for that work only.
    assert!(!ask().unwrap());
}

// ---------------------------------------------------------------------------
// OpenTelemetry: a `zanzi serve` process exporting to a tiny OTLP receiver
// (a process of its own: the tracing subscriber is global).
// ---------------------------------------------------------------------------

mod otlp {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };

    /// A received span: trace id, parent span id, name.
    #[derive(Clone, Debug)]
    pub struct Span {
        pub trace_id: Vec<u8>,
        pub span_id: Vec<u8>,
        pub parent: Vec<u8>,
        pub name: String,
    }

    #[derive(Clone, Default)]
    pub struct Receiver {
        pub spans: Arc<Mutex<Vec<Span>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Receiver {
        async fn export(
            &self,
            request: Request<ExportTraceServiceRequest>,
        ) -> Result<Response<ExportTraceServiceResponse>, Status> {
            let mut spans = self.spans.lock().unwrap();
            for resource in request.into_inner().resource_spans {
                for scope in resource.scope_spans {
                    for span in scope.spans {
                        spans.push(Span {
                            trace_id: span.trace_id,
                            span_id: span.span_id,
                            parent: span.parent_span_id,
                            name: span.name,
                        });
                    }
                }
            }
            Ok(Response::new(ExportTraceServiceResponse {
                partial_success: None,
            }))
        }
    }

    /// Starts the receiver on a free port: its address and what it got.
    pub async fn start() -> (String, Receiver) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = Receiver::default();
        let service = TraceServiceServer::new(receiver.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        (format!("http://{addr}"), receiver)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_grpc_spans_arrive_in_the_callers_trace() {
    let (endpoint, receiver) = otlp::start().await;
    let (_dir, schema) = support::serve::schema_file();
    let options = support::serve::Options::new(":memory:")
        .schema(&schema)
        .setting("OTLP_ENDPOINT", &endpoint);
    let server = tokio::task::spawn_blocking(move || options.start())
        .await
        .unwrap();
    let rest_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let grpc_trace = "0af7651916cd43dd8448eb211c80319c";
    let caller_span = "00f067aa0ba902b7";

    // A REST check inside the caller's trace.
    let http = reqwest::Client::new();
    let answer = http
        .get(format!(
            "{}/relation-tuples/check?namespace=doc&object=a&relation=view&subject_id=alice",
            server.read
        ))
        .header("traceparent", format!("00-{rest_trace}-{caller_span}-01"))
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success() || answer.status() == 403,
        "{answer:?}"
    );

    // A gRPC call inside another.
    let channel = tonic::transport::Channel::from_shared(server.read.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut version = keto::version_service_client::VersionServiceClient::new(channel);
    let mut request = Request::new(keto::GetVersionRequest {});
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{grpc_trace}-{caller_span}-01").parse().unwrap(),
    );
    version.get_version(request).await.unwrap();

    // SIGTERM: the server flushes its last spans as it stops.
    let pid = server.pid().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut server = server;
    while server.is_running() {
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let spans = receiver.spans.lock().unwrap().clone();
    let named = |trace: &str, name: &str| {
        spans
            .iter()
            .find(|s| hex(&s.trace_id) == trace && s.name == name)
            .cloned()
    };
    let request = named(rest_trace, "GET /relation-tuples/check")
        .unwrap_or_else(|| panic!("no REST request span in {spans:#?}\n{}", server.log()));
    assert_eq!(
        hex(&request.parent),
        caller_span,
        "the caller's span is the parent"
    );
    let check = named(rest_trace, "engine.check")
        .unwrap_or_else(|| panic!("no evaluation span in {spans:#?}"));
    assert_eq!(
        check.parent, request.span_id,
        "the evaluation is inside the request"
    );
    assert!(
        named(rest_trace, "store.snapshot").is_some(),
        "no store span in {spans:#?}"
    );
    let call = named(
        grpc_trace,
        "ory.keto.relation_tuples.v1alpha2.VersionService/GetVersion",
    )
    .unwrap_or_else(|| panic!("no gRPC request span in {spans:#?}"));
    assert_eq!(hex(&call.parent), caller_span);
}
