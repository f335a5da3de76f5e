//! Conditions at the REST edge: a request's context and contextual tuples
//! on every check-like endpoint, three-valued answers in Keto's shape and
//! zanzi's, and the errors of bad input (docs/api.md, "Conditions").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use zanzi::server::config::Settings;
use zanzi::server::{self, AppState, Running};
use zanzi::store::MemoryStore;

pub const SCHEMA: &str = "
condition office_network(client_ip: ipaddress, cidr: string) {
  client_ip.in_cidr(cidr)
}
namespace user {}
namespace group {
  relation member: user
}
namespace document {
  relation viewer: user | user with office_network | group#member with office_network
  permission view = viewer
}
";

fn settings() -> Settings {
    Settings {
        read_port: 0,
        write_port: 0,
        metrics_port: 0,
        syntax_port: 0,
        db: ":memory:".into(),
        secret: Some("test secret".into()),
        max_depth: 8,
        body_limit: 1024 * 1024,
        ..Settings::default()
    }
}

struct Server {
    running: Running,
    http: reqwest::Client,
}

impl Server {
    async fn start() -> Server {
        let (_, compiled) = zanzi::compile_source("office.zanzi", SCHEMA);
        let schema = compiled.schema.expect("the test schema compiles");
        let state =
            Arc::new(AppState::new(settings(), schema, Arc::new(MemoryStore::new())).unwrap());
        let running = server::start(state, std::future::pending()).await.unwrap();
        let server = Server {
            running,
            http: reqwest::Client::new(),
        };
        // alice sees d1 from the office network; bob sees d3 always.
        let (status, body) = server
            .send(
                server
                    .http
                    .patch(server.write("/admin/relation-tuples"))
                    .json(&json!([
                        {"action": "insert", "relation_tuple": {
                            "namespace": "document", "object": "d1", "relation": "viewer",
                            "subject_id": "user:alice",
                            "condition": {"name": "office_network", "context": {"cidr": "10.0.0.0/8"}}
                        }},
                        {"action": "insert", "relation_tuple": {
                            "namespace": "document", "object": "d3", "relation": "viewer",
                            "subject_id": "user:alice"
                        }},
                    ])),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        server
    }

    fn read(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.read)
    }

    fn write(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.write)
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.read(path)).json(&body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.read(path))).await
    }
}

fn alice_views(object: &str) -> Value {
    json!({"namespace": "document", "object": object, "relation": "view", "subject_id": "user:alice"})
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn reason(body: &Value) -> &str {
    body["error"]["reason"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn keto_checks_are_conditional_without_the_parameter_and_decided_with_it() {
    let server = Server::start().await;
    // No context: Keto's 403, allowed false, and zanzi's mark.
    let query = "namespace=document&object=d1&relation=view&subject_id=user:alice";
    let (status, body) = server.get(&format!("/relation-tuples/check?{query}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["allowed"], json!(false));
    assert_eq!(body["conditional"], json!({"missing": ["client_ip"]}));
    // The context in the query, JSON-encoded.
    let context =
        serde_urlencoded::to_string([("context", r#"{"client_ip":"10.1.2.3"}"#)]).unwrap();
    let (status, body) = server
        .get(&format!("/relation-tuples/check?{query}&{context}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], json!(true));
    assert!(body.get("conditional").is_none(), "{body}");
    // In the body: outside the network is a plain deny.
    let outside = with(
        alice_views("d1"),
        "context",
        json!({"client_ip": "192.168.1.1"}),
    );
    let (status, body) = server.post("/relation-tuples/check", outside).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["allowed"], json!(false));
    assert!(body.get("conditional").is_none(), "{body}");
    // The openapi variant answers 200 either way.
    let (status, body) = server
        .post("/relation-tuples/check/openapi", alice_views("d1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["conditional"]["missing"], json!(["client_ip"]));
}

#[tokio::test]
async fn batch_checks_native_checks_and_explain_answer_in_three_values() {
    let server = Server::start().await;
    let (status, body) = server
        .post(
            "/relation-tuples/batch/check",
            json!({"tuples": [alice_views("d1"), alice_views("d2"), alice_views("d3")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["conditional"]["missing"], json!(["client_ip"]));
    assert_eq!(results[0]["allowed"], json!(false));
    assert_eq!(results[1], json!({"allowed": false}));
    assert_eq!(results[2], json!({"allowed": true}));
    let (_, body) = server
        .post(
            "/relation-tuples/batch/check",
            json!({"tuples": [alice_views("d1")], "context": {"client_ip": "10.9.9.9"}}),
        )
        .await;
    assert_eq!(body["results"][0], json!({"allowed": true}));

    let question = "document:d1#view@user:alice";
    let (status, body) = server
        .post("/zanzi/v1/check", json!({"tuple": question}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decision"], json!("conditional"));
    assert_eq!(body["missing"], json!(["client_ip"]));
    let (_, body) = server
        .post(
            "/zanzi/v1/check",
            json!({"tuple": question, "context": {"client_ip": "10.0.0.1"}}),
        )
        .await;
    assert_eq!(body["decision"], json!("allowed"));
    assert!(body.get("missing").is_none(), "{body}");
    let (_, body) = server
        .post(
            "/zanzi/v1/check",
            json!({"tuple": question, "context": {"client_ip": "::1"}}),
        )
        .await;
    assert_eq!(body["decision"], json!("denied"));

    let (status, body) = server
        .post("/zanzi/v1/check/explain", json!({"tuple": question}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["explanation"]["outcome"], json!("conditional"));
    assert_eq!(body["explanation"]["missing"], json!(["client_ip"]));
}

#[tokio::test]
async fn contextual_tuples_grant_for_one_request_and_are_never_stored() {
    let server = Server::start().await;
    let bob = json!({"namespace": "document", "object": "d2", "relation": "view", "subject_id": "user:bob"});
    let grant = json!([{"namespace": "document", "object": "d2", "relation": "viewer", "subject_id": "user:bob"}]);
    let (status, body) = server
        .post(
            "/relation-tuples/check",
            with(bob.clone(), "contextual_tuples", grant.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed"], json!(true));
    // The next request does not see it, and nothing was written.
    let (status, _) = server.post("/relation-tuples/check", bob.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, listed) = server
        .get("/relation-tuples?namespace=document&object=d2")
        .await;
    assert_eq!(listed["relation_tuples"], json!([]));
    // A contextual tuple with a condition is conditional like a stored one.
    let conditional = json!([{"namespace": "document", "object": "d2", "relation": "viewer",
        "subject_id": "user:bob",
        "condition": {"name": "office_network", "context": {"cidr": "10.0.0.0/8"}}}]);
    let (_, body) = server
        .post(
            "/zanzi/v1/check",
            json!({"tuple": "document:d2#view@user:bob", "contextual_tuples": conditional}),
        )
        .await;
    assert_eq!(body["decision"], json!("conditional"), "{body}");
    // A GET check takes them JSON-encoded.
    let query = serde_urlencoded::to_string([
        ("namespace", "document"),
        ("object", "d2"),
        ("relation", "view"),
        ("subject_id", "user:bob"),
        ("contextual_tuples", &grant.to_string()),
    ])
    .unwrap();
    let (status, body) = server.get(&format!("/relation-tuples/check?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn contextual_tuples_the_schema_refuses_are_422_naming_the_tuple() {
    let server = Server::start().await;
    // group#member is accepted only with the condition.
    let refused = json!([
        {"namespace": "document", "object": "d2", "relation": "viewer", "subject_id": "user:bob"},
        {"namespace": "document", "object": "d2", "relation": "viewer",
         "subject_set": {"namespace": "group", "object": "eng", "relation": "member"}},
    ]);
    let (status, body) = server
        .post(
            "/relation-tuples/check",
            with(alice_views("d2"), "contextual_tuples", refused),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("contextual_tuples[1]: "), "{message}");
    let details = &body["error"]["details"];
    assert_eq!(details["index"], json!(1));
    assert!(
        details["field"]
            .as_str()
            .unwrap()
            .starts_with("contextual_tuples[1]"),
        "{details}"
    );
    assert!(details["allowed_types"].is_array(), "{details}");
    // A permission cannot be a contextual tuple any more than a write.
    let permission = json!([{"namespace": "document", "object": "d2", "relation": "view", "subject_id": "user:bob"}]);
    let (status, body) = server
        .post(
            "/zanzi/v1/check",
            json!({"tuple": "document:d2#view@user:bob", "contextual_tuples": permission}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // At most 100.
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"namespace": "document", "object": format!("x{i}"), "relation": "viewer", "subject_id": "user:bob"}))
        .collect();
    let (status, body) = server
        .post(
            "/relation-tuples/check",
            with(alice_views("d2"), "contextual_tuples", json!(many)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(reason(&body), "too_many_contextual_tuples");
}

#[tokio::test]
async fn bad_contexts_are_refused_naming_the_field_or_the_condition() {
    let server = Server::start().await;
    // Not an object.
    let (status, body) = server
        .post(
            "/relation-tuples/check",
            with(alice_views("d1"), "context", json!(["10.0.0.1"])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(reason(&body), "invalid_context");
    assert_eq!(body["error"]["details"]["field"], json!("context"));
    // Over 64 KiB of JSON.
    let big = json!({"client_ip": "10.0.0.1", "padding": "x".repeat(70 * 1024)});
    let (status, body) = server
        .post(
            "/zanzi/v1/check",
            json!({"tuple": "document:d1#view@user:alice", "context": big}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(reason(&body), "context_too_large");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("65536"),
        "{body}"
    );
    // A value that makes the condition fail: 400 naming it, never a deny.
    let (status, body) = server
        .post(
            "/relation-tuples/check",
            with(
                alice_views("d1"),
                "context",
                json!({"client_ip": "not an address"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(reason(&body), "condition_failed");
    assert_eq!(
        body["error"]["details"]["condition"],
        json!("office_network")
    );
    // A question carries no condition or expiry.
    let (status, body) = server
        .post(
            "/relation-tuples/check",
            with(
                alice_views("d1"),
                "expires_at",
                json!("2030-01-01T00:00:00Z"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"]["field"], json!("expires_at"));
    let (status, body) = server
        .post(
            "/zanzi/v1/check",
            json!({"tuple": "document:d1#view@user:alice[office_network]"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A GET context that is not JSON names the parameter.
    let (status, body) = server
        .get("/relation-tuples/check?namespace=document&object=d1&relation=view&subject_id=user:alice&context=%7Bnope")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"]["field"], json!("context"));
}

#[tokio::test]
async fn lookups_mark_conditional_results() {
    let server = Server::start().await;
    let (status, body) = server
        .post(
            "/zanzi/v1/lookup-resources",
            json!({"namespace": "document", "relation": "view", "subject": "user:alice"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["object_ids"], json!(["d3"]));
    assert_eq!(
        body["conditional"],
        json!([{"id": "d1", "missing": ["client_ip"]}])
    );
    let (_, body) = server
        .post(
            "/zanzi/v1/lookup-resources",
            json!({"namespace": "document", "relation": "view", "subject": "user:alice",
                   "context": {"client_ip": "10.0.0.7"}}),
        )
        .await;
    assert_eq!(body["object_ids"], json!(["d1", "d3"]));
    assert_eq!(body["conditional"], json!([]));
    // Paged one at a time: the conditional object is a page of its own.
    let (_, first) = server
        .post(
            "/zanzi/v1/lookup-resources",
            json!({"namespace": "document", "relation": "view", "subject": "user:alice", "page_size": 1}),
        )
        .await;
    assert_eq!(first["object_ids"], json!([]));
    assert_eq!(first["conditional"][0]["id"], json!("d1"));
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let (_, second) = server
        .post(
            "/zanzi/v1/lookup-resources",
            json!({"namespace": "document", "relation": "view", "subject": "user:alice",
                   "page_size": 1, "page_token": token.clone()}),
        )
        .await;
    assert_eq!(second["object_ids"], json!(["d3"]));
    // A page token is bound to its context.
    let (status, body) = server
        .post(
            "/zanzi/v1/lookup-resources",
            json!({"namespace": "document", "relation": "view", "subject": "user:alice",
                   "page_size": 1, "page_token": token, "context": {"client_ip": "10.0.0.7"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = server
        .post(
            "/zanzi/v1/lookup-subjects",
            json!({"namespace": "document", "object": "d1", "relation": "view", "subject_namespace": "user"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subject_ids"], json!([]));
    assert_eq!(
        body["conditional"],
        json!([{"id": "alice", "missing": ["client_ip"]}])
    );
    let (_, body) = server
        .post(
            "/zanzi/v1/lookup-subjects",
            json!({"namespace": "document", "object": "d1", "relation": "view",
                   "subject_namespace": "user", "context": {"client_ip": "10.0.0.7"}}),
        )
        .await;
    assert_eq!(body["subject_ids"], json!(["alice"]));

    // Expand shows what the attributed tuple carries.
    let (status, body) = server
        .post("/zanzi/v1/expand", json!({"userset": "document:d1#viewer"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains("office_network"), "{body}");
}
