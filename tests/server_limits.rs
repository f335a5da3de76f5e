//! The limits that protect a server from its clients, end to end over both
//! protocols: per-client rate limits (429 / `RESOURCE_EXHAUSTED`), the
//! deadlines of checks and lookups (504 / `DEADLINE_EXCEEDED`) and the caps
//! on answers built whole (422 / `RESOURCE_EXHAUSTED`), each naming the
//! setting that was hit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::grpc::{settings, GrpcServer, SCHEMA};
use tokio_stream::StreamExt as _;
use tonic::Code;
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;
use zanzi::api::proto::zanzi::v1 as pb;
use zanzi::server::config::Settings;
use zanzi::store::{MemoryStore, Store, TupleStore};
use zanzi::Tuple;

async fn start(settings: Settings, tuples: &[String]) -> GrpcServer {
    let store = Arc::new(MemoryStore::new());
    let tuples: Vec<Tuple> = tuples.iter().map(|t| t.parse().unwrap()).collect();
    if !tuples.is_empty() {
        store.write(&tuples, &[]).unwrap();
    }
    GrpcServer::start_with(settings, SCHEMA, store as Arc<dyn Store>).await
}

fn rate_limited(per_sec: u32, burst: u32) -> Settings {
    Settings {
        rate_limit_per_sec: per_sec,
        rate_limit_burst: Some(burst),
        ..settings()
    }
}

/// Sends `n` requests at once-after-another from `client` and counts those
/// admitted (200); every other answer must be the rate limit's 429.
async fn burst(client: &reqwest::Client, url: &str, token: Option<&str>, n: usize) -> usize {
    let mut admitted = 0;
    for _ in 0..n {
        let mut request = client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        match response.status() {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected status {other}"),
        }
    }
    admitted
}

/// How many requests a bucket of `burst` at one per second may admit over
/// a burst that took `elapsed`: the burst, and one per second since.
fn at_most(burst: usize, elapsed: Duration) -> usize {
    burst + elapsed.as_secs() as usize
}

#[tokio::test]
async fn a_client_past_its_burst_is_answered_429_with_retry_after_until_the_refill() {
    let server = start(rate_limited(1, 2), &[]).await;
    let url = server.rest_read("/version");
    let started = Instant::now();
    let admitted = burst(&server.http, &url, None, 5).await;
    assert!(
        (2..=at_most(2, started.elapsed())).contains(&admitted),
        "{admitted} admitted"
    );
    let refused = server.http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "1");
    assert!(refused.headers().contains_key("x-request-id"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], 429);
    assert_eq!(body["error"]["status"], "Too Many Requests");
    assert_eq!(body["error"]["reason"], "rate_limited");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`rate_limit_per_sec`"), "{message}");
    // Health checks are never limited, even now.
    for path in ["/health/alive", "/health/ready"] {
        for _ in 0..5 {
            let status = server
                .http
                .get(server.rest_read(path))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::OK, "{path}");
        }
    }
    // One token is back after a refill interval (1 s at one per second).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = server.http.get(&url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    // Refusals are counted.
    let metrics = server
        .http
        .get(format!(
            "http://{}/metrics/prometheus",
            server.running.metrics
        ))
        .bearer_auth("the scraper")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("zanzi_rate_limited_total"), "{metrics}");
}

#[tokio::test]
async fn clients_with_other_credentials_or_addresses_have_their_own_buckets() {
    let server = start(rate_limited(1, 2), &[]).await;
    let url = server.rest_read("/version");
    let started = Instant::now();
    let anonymous = burst(&server.http, &url, None, 4).await;
    let alice = burst(&server.http, &url, Some("alice's token"), 4).await;
    let bob = burst(&server.http, &url, Some("bob's token"), 4).await;
    // Another loopback address is another client.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let other_address = burst(&elsewhere, &url, None, 4).await;
    let most = at_most(2, started.elapsed());
    for (who, admitted) in [
        ("anonymous", anonymous),
        ("alice", alice),
        ("bob", bob),
        ("127.0.0.2", other_address),
    ] {
        assert!((2..=most).contains(&admitted), "{who}: {admitted} admitted");
    }
}

#[tokio::test]
async fn grpc_calls_past_the_burst_are_resource_exhausted_and_health_is_not_limited() {
    use tonic_health::pb::health_client::HealthClient;
    let server = start(rate_limited(1, 2), &[]).await;
    let mut version = keto::version_service_client::VersionServiceClient::new(server.read.clone());
    let mut refused = None;
    for _ in 0..5 {
        if let Err(status) = version.get_version(keto::GetVersionRequest {}).await {
            refused = Some(status);
            break;
        }
    }
    let status = refused.expect("a call past the burst is refused");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("`rate_limit_per_sec`"),
        "{status:?}"
    );
    let mut health = HealthClient::new(server.read.clone());
    for _ in 0..5 {
        health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .unwrap();
    }
}

/// `document:wide#view` through `count` groups of one member each: a check
/// for someone in none of them visits every group.
#[tokio::test]
async fn credentials_are_checked_before_they_are_counted() {
    // A refused credential is answered 401 however often it is sent: it
    // never gets a bucket of its own (nor, past it, a 429 that would tell
    // it apart from an accepted one).
    let mut settings = rate_limited(1, 2);
    settings
        .apply("test", "auth_keys", "the-real-key-0123456789")
        .unwrap();
    let server = start(settings, &[]).await;
    let url = server.rest_read("/namespaces");
    for _ in 0..5 {
        let response = server
            .http
            .get(&url)
            .bearer_auth("a-made-up-key-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let started = Instant::now();
    let admitted = burst(&server.http, &url, Some("the-real-key-0123456789"), 5).await;
    assert!(
        (2..=at_most(2, started.elapsed())).contains(&admitted),
        "{admitted} admitted"
    );
}

fn wide(count: usize) -> Vec<String> {
    (0..count)
        .flat_map(|i| {
            [
                format!("document:wide#viewer@group:g{i}#member"),
                format!("group:g{i}#member@user:u{i}"),
            ]
        })
        .collect()
}

#[tokio::test]
async fn a_check_past_check_timeout_ms_is_504_over_rest_and_deadline_exceeded_over_grpc() {
    let settings = Settings {
        check_timeout: Duration::from_millis(1),
        ..settings()
    };
    let server = start(settings, &wide(20_000)).await;
    let check = |subject: &str| {
        server
            .http
            .get(server.rest_read(&format!(
                "/relation-tuples/check/openapi?namespace=document&object=wide&relation=view&subject_id={subject}"
            )))
            .send()
    };
    let response = check("nobody").await.unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["reason"], "deadline_exceeded");
    assert_eq!(body["error"]["details"]["setting"], "check_timeout_ms");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`check_timeout_ms` (1 ms)"), "{message}");
    // Each check of a batch has its own deadline: one that needs little
    // time is answered next to one that runs out of it.
    let batch = server
        .http
        .post(server.rest_read("/relation-tuples/batch/check"))
        .json(&json!({"tuples": [
            {"namespace": "group", "object": "g1", "relation": "member", "subject_id": "u1"},
            {"namespace": "document", "object": "wide", "relation": "view", "subject_id": "nobody"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), StatusCode::OK);
    let batch: Value = batch.json().await.unwrap();
    assert_eq!(batch["results"][0]["allowed"], true, "{batch}");
    let error = batch["results"][1]["error"].as_str().unwrap();
    assert!(error.contains("check_timeout_ms"), "{error}");

    let mut checker = keto::check_service_client::CheckServiceClient::new(server.read.clone());
    let status = checker
        .check(keto::CheckRequest {
            tuple: Some(keto::RelationTuple {
                namespace: "document".into(),
                object: "wide".into(),
                relation: "view".into(),
                subject: Some(keto::Subject {
                    r#ref: Some(keto::subject::Ref::Id("nobody".into())),
                }),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("check_timeout_ms"), "{status:?}");
}

#[tokio::test]
async fn a_lookup_past_lookup_timeout_ms_names_it_and_a_quick_one_is_answered() {
    let settings = Settings {
        lookup_timeout: Duration::from_millis(1),
        ..settings()
    };
    let server = start(settings, &wide(20_000)).await;
    let lookup = |object: &str| {
        server
            .http
            .post(server.rest_read("/zanzi/v1/lookup-subjects"))
            .json(&json!({
                "namespace": "document", "object": object, "relation": "view",
                "subject_namespace": "user",
            }))
            .send()
    };
    let response = lookup("wide").await.unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["setting"], "lookup_timeout_ms");
    let response = lookup("narrow").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// `document:five` has five viewers, `document:three` three; alice views
/// five documents.
fn viewers() -> Vec<String> {
    let mut tuples: Vec<String> = (0..5)
        .map(|i| format!("document:five#viewer@user:u{i}"))
        .collect();
    tuples.extend((0..3).map(|i| format!("document:three#viewer@user:u{i}")));
    tuples.extend((0..5).map(|i| format!("document:d{i}#viewer@user:alice")));
    tuples
}

#[tokio::test]
async fn a_lookup_of_subjects_over_max_lookup_results_is_refused_naming_it() {
    let settings = Settings {
        max_lookup_results: 3,
        ..settings()
    };
    let server = start(settings, &viewers()).await;
    let lookup = |object: &str| {
        server
            .http
            .post(server.rest_read("/zanzi/v1/lookup-subjects"))
            .json(&json!({
                "namespace": "document", "object": object, "relation": "view",
                "subject_namespace": "user",
            }))
            .send()
    };
    let response = lookup("five").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["reason"], "result_too_large");
    assert_eq!(body["error"]["details"]["setting"], "max_lookup_results");
    assert_eq!(body["error"]["details"]["limit"], 3);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("more than 3 subjects") && message.contains("`max_lookup_results`"),
        "{message}"
    );
    // At the cap, the answer is given.
    let response = lookup("three").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["subject_ids"], json!(["u0", "u1", "u2"]));
    // Lookups of resources are paged: the cap is not theirs.
    let response = server
        .http
        .post(server.rest_read("/zanzi/v1/lookup-resources"))
        .json(&json!({
            "namespace": "document", "relation": "view", "subject": "user:alice",
            "page_size": 10,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object_ids"].as_array().map(Vec::len), Some(5));

    let mut client =
        pb::permission_service_client::PermissionServiceClient::new(server.read.clone());
    let request = |id: &str| pb::LookupSubjectsRequest {
        context: String::new(),
        contextual_tuples: Vec::new(),
        object: Some(pb::ObjectRef {
            namespace: "document".into(),
            id: id.into(),
        }),
        relation: "view".into(),
        subject_namespace: "user".into(),
        consistency: None,
        limit: 0,
        cursor: String::new(),
    };
    let status = match client.lookup_subjects(request("five")).await {
        Err(status) => status,
        Ok(stream) => stream
            .into_inner()
            .next()
            .await
            .unwrap()
            .expect_err("over the cap"),
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("max_lookup_results"),
        "{status:?}"
    );
    let mut stream = client
        .lookup_subjects(request("three"))
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.subject_ids, ["u0", "u1", "u2"]);
}

#[tokio::test]
async fn an_expand_over_max_expand_nodes_is_refused_on_both_endpoints_and_grpc() {
    let settings = Settings {
        max_expand_nodes: 5,
        ..settings()
    };
    let server = start(settings, &viewers()).await;
    let keto_expand = |object: &str| {
        server
            .http
            .get(server.rest_read(&format!(
                "/relation-tuples/expand?namespace=document&object={object}&relation=viewer"
            )))
            .send()
    };
    let zanzi_expand = |object: &str| {
        server
            .http
            .post(server.rest_read("/zanzi/v1/expand"))
            .json(&json!({"userset": format!("document:{object}#viewer")}))
            .send()
    };
    // `document:five#viewer` is one node and five subjects (6 > 5); `three`: 4.
    for response in [keto_expand("five").await, zanzi_expand("five").await] {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["reason"], "result_too_large");
        assert_eq!(body["error"]["details"]["setting"], "max_expand_nodes");
    }
    for response in [keto_expand("three").await, zanzi_expand("three").await] {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    let mut expand = keto::expand_service_client::ExpandServiceClient::new(server.read.clone());
    let status = expand
        .expand(keto::ExpandRequest {
            subject: Some(keto::Subject {
                r#ref: Some(keto::subject::Ref::Set(keto::SubjectSet {
                    namespace: "document".into(),
                    object: "five".into(),
                    relation: "viewer".into(),
                })),
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("max_expand_nodes"), "{status:?}");
}

#[test]
fn the_new_settings_are_read_from_every_layer() {
    let mut s = Settings::default();
    assert_eq!(s.rate_limit_per_sec, 0);
    s.apply_yaml(
        "zanzi.yaml",
        "rate_limit_per_sec: 10\nrate_limit_burst: 20\ncheck_timeout_ms: 250\n\
         lookup_timeout_ms: 2000\nmax_lookup_results: 50\nmax_expand_nodes: 60\n",
    )
    .unwrap();
    assert_eq!((s.rate_limit_per_sec, s.rate_limit_burst), (10, Some(20)));
    assert_eq!(s.check_timeout, Duration::from_millis(250));
    assert_eq!(s.lookup_timeout, Duration::from_secs(2));
    assert_eq!((s.max_lookup_results, s.max_expand_nodes), (50, 60));
    let error = s
        .apply("ZANZI_CHECK_TIMEOUT_MS", "check_timeout_ms", "soon")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`check_timeout_ms`") && error.contains("milliseconds"),
        "{error}"
    );
}
