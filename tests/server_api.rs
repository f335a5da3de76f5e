//! The HTTP server end to end: every endpoint on real loopback listeners
//! (ports picked by the OS), bad input and abuse, snapshot tokens, garbage
//! collection, concurrency, graceful shutdown, the OpenAPI document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use zanzi::load::Limits;
use zanzi::server::config::Settings;
use zanzi::server::{self, AppState, Running};
use zanzi::store::{
    MemoryStore, PageRequest, Revision, SqliteStore, Store, TupleFilter, TupleStore,
};
use zanzi::Tuple;

mod support;

const SCHEMA: &str = "
namespace user {}
namespace bot {}
namespace group {
  relation member: user | group#member
}
namespace folder {
  relation parent: folder
  relation owner: user
  relation viewer: user | user:* | group#member
  permission view = owner | viewer | parent->view
}
namespace document {
  relation parent: folder
  relation owner: user
  relation viewer: user | group#member
  relation operator: user | bot
  relation banned: user
  permission edit = owner | parent->view
  permission view = (owner | viewer | parent->view) - banned
}
";

fn schema() -> zanzi::ir::Schema {
    let (_, compiled) = zanzi::compile_source("test.zanzi", SCHEMA);
    compiled.schema.unwrap()
}

fn settings() -> Settings {
    Settings {
        read_port: 0,
        write_port: 0,
        metrics_port: 0,
        syntax_port: 0,
        db: ":memory:".into(),
        secret: Some("test secret".into()),
        max_depth: 8,
        body_limit: 64 * 1024,
        default_page_size: 100,
        ..Settings::default()
    }
}

struct Server {
    running: Running,
    http: reqwest::Client,
}

impl Server {
    async fn start_with(settings: Settings, store: Arc<dyn Store>) -> Server {
        Server::start_with_schema(settings, schema(), store).await
    }

    async fn start_with_schema(
        settings: Settings,
        schema: zanzi::ir::Schema,
        store: Arc<dyn Store>,
    ) -> Server {
        let state = Arc::new(AppState::new(settings, schema, store).unwrap());
        let running = server::start(state, std::future::pending()).await.unwrap();
        Server {
            running,
            http: reqwest::Client::new(),
        }
    }

    async fn start() -> Server {
        Server::start_with(settings(), Arc::new(MemoryStore::new())).await
    }

    fn read(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.read)
    }

    fn write(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.write)
    }

    async fn get(&self, url: String) -> (StatusCode, Value) {
        let r = self.http.get(url).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn put(&self, body: Value) -> (StatusCode, Value) {
        self.send(
            self.http
                .put(self.write("/admin/relation-tuples"))
                .json(&body),
        )
        .await
    }

    async fn patch(&self, body: Value) -> (StatusCode, Value) {
        self.send(
            self.http
                .patch(self.write("/admin/relation-tuples"))
                .json(&body),
        )
        .await
    }

    async fn check(&self, query: &str) -> (StatusCode, Value) {
        self.get(self.read(&format!("/relation-tuples/check/openapi?{query}")))
            .await
    }

    fn store(&self) -> &dyn Store {
        self.running.state.store.as_ref()
    }

    /// Every live tuple, sorted.
    fn contents(&self) -> Vec<Tuple> {
        let head = self.store().head_revision().unwrap();
        let mut all = self
            .store()
            .snapshot(head)
            .unwrap()
            .list(&TupleFilter::default(), &PageRequest::first(100_000))
            .unwrap()
            .items;
        all.sort();
        all
    }
}

fn rel(ns: &str, obj: &str, relation: &str, subject_id: &str) -> Value {
    json!({"namespace": ns, "object": obj, "relation": relation, "subject_id": subject_id})
}

/// Asserts Keto's error shape and returns the message.
fn error_message(body: &Value, status: StatusCode) -> String {
    let e = &body["error"];
    assert_eq!(e["code"], status.as_u16(), "{body}");
    assert!(e["status"].is_string(), "{body}");
    assert!(e["reason"].is_string(), "{body}");
    assert!(
        e["request"].as_str().is_some_and(|r| !r.is_empty()),
        "{body}"
    );
    e["message"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keto_endpoints_behave_like_keto() {
    let s = Server::start().await;

    // Create: 201 mirroring the payload, plus a token; repeated: no duplicate.
    let body = rel("document", "readme", "viewer", "alice");
    let (status, created) = s.put(body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    for key in ["namespace", "object", "relation", "subject_id"] {
        assert_eq!(created[key], body[key]);
    }
    assert!(created["snaptoken"].as_str().unwrap().starts_with("zk2_"));
    assert_eq!(s.put(body.clone()).await.0, StatusCode::CREATED);
    let (_, list) = s
        .get(s.read("/relation-tuples?namespace=document&object=readme"))
        .await;
    assert_eq!(list["relation_tuples"], json!([body]));
    assert_eq!(list["next_page_token"], "");

    // Empty lists are [] and the last page's token is "".
    let (status, empty) = s.get(s.read("/relation-tuples?namespace=folder")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty["relation_tuples"], json!([]));
    assert_eq!(empty["next_page_token"], "");

    // A subject set with an empty relation is the object subject.
    let (status, _) = s
        .put(
            json!({"namespace": "folder", "object": "root", "relation": "owner",
                    "subject_set": {"namespace": "user", "object": "carol", "relation": ""}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(s
        .contents()
        .contains(&"folder:root#owner@user:carol".parse().unwrap()));
    // Typed subject ids and subject sets.
    assert_eq!(
        s.put(rel("document", "readme", "parent", "folder:root"))
            .await
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        s.put(
            json!({"namespace": "document", "object": "readme", "relation": "viewer",
                     "subject_set": {"namespace": "group", "object": "eng", "relation": "member"}})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        s.put(rel("group", "eng", "member", "dave")).await.0,
        StatusCode::CREATED
    );

    // Check: the 403 variant and the openapi variant, GET and POST.
    let q = "namespace=document&object=readme&relation=view";
    let (status, body) = s
        .get(s.read(&format!("/relation-tuples/check?{q}&subject_id=alice")))
        .await;
    assert_eq!((status, &body["allowed"]), (StatusCode::OK, &json!(true)));
    let (status, body) = s
        .get(s.read(&format!("/relation-tuples/check?{q}&subject_id=eve")))
        .await;
    assert_eq!(
        (status, &body["allowed"]),
        (StatusCode::FORBIDDEN, &json!(false))
    );
    let (status, body) = s.check(&format!("{q}&subject_id=eve")).await;
    assert_eq!((status, &body["allowed"]), (StatusCode::OK, &json!(false)));
    for (who, allowed) in [("dave", true), ("carol", true), ("eve", false)] {
        let payload = rel("document", "readme", "view", who);
        let (status, body) = s
            .send(
                s.http
                    .post(s.read("/relation-tuples/check/openapi"))
                    .json(&payload),
            )
            .await;
        assert_eq!(
            (status, &body["allowed"]),
            (StatusCode::OK, &json!(allowed)),
            "{who}"
        );
        let (status, _) = s
            .send(s.http.post(s.read("/relation-tuples/check")).json(&payload))
            .await;
        let expected = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, expected, "{who}");
    }
    // Subject sets as check subjects.
    let (_, body) = s
        .check(&format!(
            "{q}&subject_set.namespace=group&subject_set.object=eng&subject_set.relation=member"
        ))
        .await;
    assert_eq!(body["allowed"], true);

    // Batch check, one snapshot.
    let (status, body) = s
        .send(
            s.http
                .post(s.read("/relation-tuples/batch/check"))
                .json(&json!({"tuples": [
                    rel("document", "readme", "view", "alice"),
                    rel("document", "readme", "view", "eve"),
                    rel("nope", "readme", "view", "eve"),
                ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0], json!({"allowed": true}));
    assert_eq!(body["results"][1], json!({"allowed": false}));
    assert!(body["results"][2]["error"]
        .as_str()
        .unwrap()
        .contains("unknown namespace"));

    // Expand: Keto's tree shape.
    let (status, tree) = s
        .get(s.read(
            "/relation-tuples/expand?namespace=document&object=readme&relation=viewer&max-depth=3",
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tree["type"], "union");
    assert_eq!(tree["tuple"]["subject_set"]["relation"], "viewer");
    let text = tree.to_string();
    assert!(
        text.contains("\"subject_id\":\"alice\"") && text.contains("\"subject_id\":\"dave\""),
        "{text}"
    );

    // Namespaces, health, version on every listener.
    let (_, ns) = s.get(s.read("/namespaces")).await;
    assert_eq!(ns["namespaces"][0], json!({"name": "user"}));
    for base in [
        s.running.read,
        s.running.write,
        s.running.metrics,
        s.running.syntax,
    ] {
        for path in ["/health/alive", "/health/ready"] {
            let (status, body) = s.get(format!("http://{base}{path}")).await;
            assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
        }
        let (_, v) = s.get(format!("http://{base}/version")).await;
        assert!(v["version"].is_string());
        assert_eq!(v["server"], "zanzi");
    }

    // Pagination over 7 viewers of one folder, 3 at a time.
    for i in 0..7 {
        s.put(rel("folder", "big", "viewer", &format!("u{i}")))
            .await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let url = s.read(&format!(
            "/relation-tuples?namespace=folder&object=big&page_size=3&page_token={token}"
        ));
        let (status, page) = s.get(url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for t in page["relation_tuples"].as_array().unwrap() {
            seen.push(t["subject_id"].as_str().unwrap().to_owned());
        }
        token = page["next_page_token"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
        assert!(token.starts_with("pt2_"));
    }
    assert_eq!(pages, 3);
    seen.sort();
    assert_eq!(seen, (0..7).map(|i| format!("u{i}")).collect::<Vec<_>>());
    // Filters by subject.
    let (_, by_subject) = s.get(s.read("/relation-tuples?subject_id=user:u3")).await;
    assert_eq!(by_subject["relation_tuples"].as_array().unwrap().len(), 1);

    // Patch: all or nothing; then delete by query.
    let (status, _) = s
        .patch(json!([
            {"action": "insert", "relation_tuple": rel("document", "d2", "viewer", "alice")},
            {"action": "delete", "relation_tuple": rel("document", "readme", "viewer", "alice")},
        ]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = s
        .check("namespace=document&object=readme&relation=view&subject_id=alice")
        .await;
    assert_eq!(body["allowed"], false);
    let (_, body) = s
        .check("namespace=document&object=d2&relation=view&subject_id=alice")
        .await;
    assert_eq!(body["allowed"], true);
    let r = s
        .http
        .delete(s.write("/admin/relation-tuples?namespace=folder&object=big"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers()["x-zanzi-snaptoken"]
        .to_str()
        .unwrap()
        .starts_with("zk2_"));
    let (_, list) = s
        .get(s.read("/relation-tuples?namespace=folder&object=big"))
        .await;
    assert_eq!(list["relation_tuples"], json!([]));

    // Ambiguous and unmappable subject ids name the allowed types.
    let (status, body) = s.put(rel("document", "readme", "operator", "r2d2")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = error_message(&body, status);
    assert!(
        message.contains("ambiguous") && message.contains("user, bot"),
        "{message}"
    );
    assert_eq!(
        body["error"]["details"]["allowed_types"],
        json!(["user", "bot"])
    );
    assert_eq!(
        s.put(rel("document", "readme", "operator", "bot:r2d2"))
            .await
            .0,
        StatusCode::CREATED
    );
    // Listing writes the ID back typed where a bare ID would be ambiguous.
    let (_, list) = s
        .get(s.read("/relation-tuples?namespace=document&relation=operator"))
        .await;
    assert_eq!(list["relation_tuples"][0]["subject_id"], "bot:r2d2");

    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_precise_errors_and_changes_nothing() {
    let s = Server::start().await;
    s.put(rel("document", "readme", "viewer", "alice")).await;
    s.put(rel("group", "g0", "member", "alice")).await;
    // A chain of groups deeper than the depth limit (8).
    for i in 0..12 {
        s.put(json!({"namespace": "group", "object": format!("g{}", i + 1), "relation": "member",
                     "subject_set": {"namespace": "group", "object": format!("g{i}"), "relation": "member"}}))
            .await;
    }
    let before = s.contents();
    let put = |body: &'static str| {
        s.http
            .put(s.write("/admin/relation-tuples"))
            .header("content-type", "application/json")
            .body(body)
    };

    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (put("{\"namespace\": \"document\","), StatusCode::BAD_REQUEST, "could not unmarshal json"),
        (put("[1, 2]"), StatusCode::BAD_REQUEST, "could not unmarshal json"),
        (
            put(r#"{"namespace":"document","object":"x","relation":"viewer","subject_id":"bob","admin":true}"#),
            StatusCode::BAD_REQUEST,
            "unknown field `admin`",
        ),
        (
            put(r#"{"namespace":"document","object":7,"relation":"viewer","subject_id":"bob"}"#),
            StatusCode::BAD_REQUEST,
            "field `object`",
        ),
        (
            put(r#"{"namespace":"documnet","object":"x","relation":"viewer","subject_id":"bob"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "did you mean `document`",
        ),
        (
            put(r#"{"namespace":"document","object":"x","relation":"view","subject_id":"bob"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "is a permission",
        ),
        (
            put(r#"{"namespace":"document","object":"x","relation":"viewer","subject_id":"bot:b1"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "accepts `user`, `group#member`",
        ),
        (
            put(r#"{"namespace":"document","object":"x","relation":"viewer","subject_set":{"namespace":"group","object":"g","relation":"owner"}}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "accepts `user`, `group#member`",
        ),
        (
            put(r#"{"namespace":"document","object":"","relation":"viewer","subject_id":"bob"}"#),
            StatusCode::BAD_REQUEST,
            "invalid tuple",
        ),
        (
            put(r#"{"namespace":"document","object":"a\u0007b","relation":"viewer","subject_id":"bob"}"#),
            StatusCode::BAD_REQUEST,
            "invalid tuple",
        ),
        (
            put(r#"{"namespace":"document","object":"x","relation":"viewer"}"#),
            StatusCode::BAD_REQUEST,
            "subject is not allowed to be nil",
        ),
        (
            s.http.patch(s.write("/admin/relation-tuples")).json(&json!([
                {"action": "insert", "relation_tuple": rel("document", "new", "viewer", "bob")},
                {"action": "insert", "relation_tuple": rel("document", "new", "banned", "group:g1")},
            ])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "[1]: `document#banned` accepts `user`",
        ),
        (
            s.http.patch(s.write("/admin/relation-tuples")).json(&json!([
                {"action": "upsert", "relation_tuple": rel("document", "new", "viewer", "bob")},
            ])),
            StatusCode::BAD_REQUEST,
            "unknown action `upsert`",
        ),
        (
            s.http.put(s.write("/admin/relation-tuples")).body(vec![b' '; 70 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "exceeds the limit",
        ),
        (
            s.http.delete(s.write("/admin/relation-tuples?object=readme")),
            StatusCode::BAD_REQUEST,
            "`namespace` is required",
        ),
        (
            s.http.delete(s.write("/admin/relation-tuples?namespace=document&limit=5")),
            StatusCode::BAD_REQUEST,
            "unknown query parameter `limit`",
        ),
        (
            s.http.delete(s.write("/admin/relation-tuples?namespace=nope")),
            StatusCode::NOT_FOUND,
            "unknown namespace `nope`",
        ),
        (
            s.http.get(s.read("/relation-tuples/check?namespace=nope&object=x&relation=view&subject_id=a")),
            StatusCode::NOT_FOUND,
            "unknown namespace `nope`",
        ),
        (
            s.http.get(s.read("/relation-tuples/check?namespace=document&object=x&relation=vew&subject_id=a")),
            StatusCode::NOT_FOUND,
            "did you mean `view`",
        ),
        (
            s.http.get(s.read("/relation-tuples/check?namespace=document&object=x&subject_id=a")),
            StatusCode::BAD_REQUEST,
            "incomplete tuple",
        ),
        (
            s.http.get(s.read("/relation-tuples/check?namespace=document&object=x&relation=view&subject_id=a&max-depth=-1")),
            StatusCode::BAD_REQUEST,
            "must not be negative",
        ),
        (
            s.http.get(s.read("/relation-tuples/check?namespace=group&object=g12&relation=member&subject_id=alice")),
            StatusCode::BAD_REQUEST,
            "maximum depth 8 exceeded",
        ),
        (
            // max-depth may only lower the limit: 100 is still 8.
            s.http.get(s.read("/relation-tuples/check/openapi?namespace=group&object=g12&relation=member&subject_id=alice&max-depth=100")),
            StatusCode::BAD_REQUEST,
            "maximum depth 8 exceeded",
        ),
        (
            s.http.get(s.read("/relation-tuples/check/openapi?namespace=group&object=g5&relation=member&subject_id=alice&max-depth=2")),
            StatusCode::BAD_REQUEST,
            "maximum depth 2 exceeded",
        ),
        (
            s.http.get(s.read("/relation-tuples?namespace=group&page_token=garbage")),
            StatusCode::BAD_REQUEST,
            "malformed page token",
        ),
        (
            s.http.get(s.read("/relation-tuples?namespace=group&page_size=100000")),
            StatusCode::BAD_REQUEST,
            "above the maximum",
        ),
        (
            s.http.get(s.read("/relation-tuples/check/openapi?namespace=document&object=x&relation=view&subject_id=a&snaptoken=zk1_AAAA")),
            StatusCode::BAD_REQUEST,
            "snapshot token",
        ),
        (
            s.http.get(s.read("/relation-tuples/check/openapi?namespace=document&object=x&relation=view&subject_id=a&consistency=at_exact_snapshot")),
            StatusCode::BAD_REQUEST,
            "needs a `snaptoken`",
        ),
        (
            s.http.get(s.read("/relation-tuples/check/openapi?namespace=document&object=x&relation=view&subject_id=a&consistency=eventually")),
            StatusCode::BAD_REQUEST,
            "unknown consistency `eventually`",
        ),
        (
            s.http.post(s.read("/zanzi/v1/check/explain")).json(&json!({"tuple": "document:x#view@"})),
            StatusCode::BAD_REQUEST,
            "invalid tuple",
        ),
        (s.http.get(s.read("/no/such/thing")), StatusCode::NOT_FOUND, "no such endpoint"),
        (s.http.post(s.read("/namespaces")), StatusCode::METHOD_NOT_ALLOWED, "not allowed"),
    ];
    for (request, status, needle) in cases {
        let (got, body) = s.send(request).await;
        let message = error_message(&body, got);
        assert_eq!(got, status, "{needle}: {body}");
        assert!(
            message.contains(needle),
            "expected `{needle}` in `{message}`"
        );
    }

    // Forged, truncated and foreign tokens.
    let (_, page) = s
        .get(s.read("/relation-tuples?namespace=group&page_size=2"))
        .await;
    let page_token = page["next_page_token"].as_str().unwrap().to_owned();
    let snaptoken = page["snaptoken"].as_str().unwrap().to_owned();
    let other = Server::start().await; // same secret, another store
    other.put(rel("group", "x", "member", "alice")).await;
    other.put(rel("group", "x", "member", "bob")).await;
    let (_, foreign_page) = other
        .get(other.read("/relation-tuples?namespace=group&page_size=1"))
        .await;
    let (_, foreign_check) = other
        .check("namespace=group&object=x&relation=member&subject_id=alice")
        .await;
    let mut forged = page_token.clone().into_bytes();
    let last = forged.len() - 5;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let truncated = &page_token[..page_token.len() - 4];
    let foreign = foreign_page["next_page_token"].as_str().unwrap();
    for (token, needle) in [
        (forged.as_str(), "integrity check"),
        (truncated, "page token"),
        (foreign, "another store"),
    ] {
        let (status, body) = s
            .get(s.read(&format!(
                "/relation-tuples?namespace=group&page_size=2&page_token={token}"
            )))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_message(&body, status).contains(needle), "{body}");
    }
    // A page token is bound to its query.
    let (status, body) = s
        .get(s.read(&format!(
            "/relation-tuples?namespace=document&page_token={page_token}"
        )))
        .await;
    assert!(
        status == StatusCode::BAD_REQUEST
            && error_message(&body, status).contains("different query")
    );
    let foreign_snap = foreign_check["snaptoken"].as_str().unwrap();
    let truncated_snap = &snaptoken[..snaptoken.len() - 2];
    for (token, needle) in [
        (foreign_snap, "another store"),
        (truncated_snap, "snapshot token"),
    ] {
        let (status, body) = s
            .check(&format!("namespace=document&object=readme&relation=view&subject_id=alice&consistency=at_exact_snapshot&snaptoken={token}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(error_message(&body, status).contains(needle), "{body}");
    }

    // Request ids are echoed.
    let r = s
        .http
        .get(s.read("/relation-tuples/check/openapi?namespace=nope"))
        .header("x-request-id", "my-request-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "my-request-1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["request"], "my-request-1");

    assert_eq!(s.contents(), before, "nothing was written");
    other.running.shutdown().await;
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_connections_are_served_or_refused_precisely() {
    let mut settings = settings();
    settings.max_inflight = 64;
    let s = Server::start_with(settings, Arc::new(MemoryStore::new())).await;
    s.put(rel("document", "readme", "viewer", "alice")).await;
    let before = s.contents();
    let read = s.running.read;
    let write = s.running.write;
    let mut tasks = Vec::new();
    for i in 0..500 {
        tasks.push(tokio::spawn(async move {
            // One client per task: its own connection.
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap();
            let r = match i % 3 {
                0 => http
                    .get(format!("http://{read}/relation-tuples/check/openapi?namespace=document&object=readme&relation=view&subject_id=alice"))
                    .send()
                    .await,
                1 => http
                    .put(format!("http://{write}/admin/relation-tuples"))
                    .body(format!("{{\"namespace\":\"document\",\"object\":\"x{i}\",\"relation\":\"view\",\"subject_id\":\"a\"}}"))
                    .send()
                    .await,
                _ => http
                    .put(format!("http://{write}/admin/relation-tuples"))
                    .body("{not json")
                    .send()
                    .await,
            };
            let r = r.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (i, status, body)
        }));
    }
    let mut served = 0;
    let mut shed = 0;
    for task in tasks {
        let (i, status, body) = task.await.unwrap();
        match (i % 3, status) {
            (_, StatusCode::SERVICE_UNAVAILABLE) => {
                assert!(error_message(&body, status).contains("too many requests"));
                shed += 1;
            }
            (0, StatusCode::OK) => {
                assert_eq!(body["allowed"], true);
                served += 1;
            }
            (1, StatusCode::UNPROCESSABLE_ENTITY) | (2, StatusCode::BAD_REQUEST) => {
                error_message(&body, status);
                served += 1;
            }
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    assert_eq!(served + shed, 500);
    assert!(served > 0);
    let (status, _) = s.get(s.read("/health/ready")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.contents(), before);
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_reader_is_allowed_at_the_old_snapshot_only() {
    let s = Server::start().await;
    // Version 1 of the document: alice can read it.
    let (_, created) = s.put(rel("document", "doc1", "viewer", "alice")).await;
    let v1 = created["snaptoken"].as_str().unwrap().to_owned();
    let q = "namespace=document&object=doc1&relation=view&subject_id=alice";
    // Revoke.
    let r = s
        .http
        .delete(s.write("/admin/relation-tuples?namespace=document&object=doc1&relation=viewer&subject_id=alice"))
        .send()
        .await
        .unwrap();
    let v2 = r.headers()["x-zanzi-snaptoken"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(v1, v2);

    let ask = |consistency: &str, token: &str| {
        let url = s.read(&format!(
            "/relation-tuples/check/openapi?{q}&consistency={consistency}&snaptoken={token}"
        ));
        let http = s.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    };
    let (status, at_v1) = ask("at_exact_snapshot", &v1).await;
    assert_eq!((status, &at_v1["allowed"]), (StatusCode::OK, &json!(true)));
    assert_eq!(
        at_v1["snaptoken"], v1,
        "the answer names the snapshot it used"
    );
    let (_, at_v2) = ask("at_exact_snapshot", &v2).await;
    assert_eq!(at_v2["allowed"], false);
    // At least as fresh as v1 reads the newest state: denied.
    let (_, fresh) = ask("at_least_as_fresh", &v1).await;
    assert_eq!(fresh["allowed"], false);
    let (_, full) = s.check(&format!("{q}&consistency=fully_consistent")).await;
    assert_eq!(full["allowed"], false);
    let (_, latest) = s.check(q).await;
    assert_eq!(latest["allowed"], false);
    // The same holds for listings and expands.
    let (_, old_list) = s
        .get(s.read(&format!(
            "/relation-tuples?namespace=document&consistency=at_exact_snapshot&snaptoken={v1}"
        )))
        .await;
    assert_eq!(old_list["relation_tuples"].as_array().unwrap().len(), 1);

    // Garbage collection up to v2: v1 is now outside the window.
    let before = zanzi::Revision(s.running.state.known_head().0);
    let removed = server::collect_now(&s.running.state, before).await.unwrap();
    assert_eq!(removed, 1);
    let (status, body) = ask("at_exact_snapshot", &v1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error_message(&body, status).contains("retention window"),
        "{body}"
    );
    let (_, at_v2) = ask("at_exact_snapshot", &v2).await;
    assert_eq!(at_v2["allowed"], false);
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_garbage_collector_runs_on_its_own() {
    let mut settings = settings();
    settings.retention = Duration::from_millis(0);
    settings.gc_interval = Duration::from_millis(50);
    let s = Server::start_with(settings, Arc::new(MemoryStore::new())).await;
    let (_, created) = s.put(rel("document", "doc1", "viewer", "alice")).await;
    let v1 = created["snaptoken"].as_str().unwrap().to_owned();
    s.send(
        s.http
            .delete(s.write("/admin/relation-tuples?namespace=document")),
    )
    .await;
    let mut collected = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if s.store().gc_horizon().unwrap() >= Revision(2) {
            collected = true;
            break;
        }
    }
    assert!(collected, "the periodic collection raised the horizon");
    let (status, _) = s
        .check(&format!("namespace=document&object=doc1&relation=view&subject_id=alice&consistency=at_exact_snapshot&snaptoken={v1}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.running.shutdown().await;
}

/// The collector also deletes the tuples whose expiry has passed, as a
/// write at a new revision that the change feed carries; the others stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_garbage_collector_deletes_expired_tuples() {
    use zanzi::tuple::Expiry;
    let mut settings = settings();
    settings.gc_interval = Duration::from_millis(50);
    let store = Arc::new(MemoryStore::new());
    let viewer =
        |id: &str| -> Tuple { format!("document:{id}#viewer@user:alice").parse().unwrap() };
    let expired = viewer("old").with_expiry(Expiry::parse("2001-01-01T00:00:00Z").unwrap());
    let lasting = viewer("new").with_expiry(Expiry::parse("2100-01-01T00:00:00Z").unwrap());
    let r1 = store
        .write(&[expired.clone(), lasting.clone(), viewer("plain")], &[])
        .unwrap();
    // The schema must allow the expiries the store holds.
    let expiring = SCHEMA.replace(
        "relation viewer: user |",
        "relation viewer: user with expiration | user |",
    );
    assert_ne!(expiring, SCHEMA);
    let (_, compiled) = zanzi::compile_source("test.zanzi", &expiring);
    let s = Server::start_with_schema(settings, compiled.schema.unwrap(), store).await;
    let mut collected = false;
    for _ in 0..100 {
        // The server notes the collection's revision once it is written.
        if s.running.state.known_head() > r1 {
            collected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        collected,
        "the periodic collection deleted the expired tuple"
    );
    assert_eq!(s.contents(), [lasting, viewer("plain")]);
    let changes = s.store().changes_since(r1, 10).unwrap().changes;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].kind, zanzi::store::ChangeKind::Delete);
    assert_eq!(changes[0].tuple, expired);
    assert_eq!(s.running.state.known_head(), changes[0].revision);
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zanzi_endpoints_lookups_explain_schema_syntax_metrics() {
    let s = Server::start().await;
    s.put(rel("folder", "root", "viewer", "alice")).await;
    for i in 0..5 {
        s.put(rel("document", &format!("d{i}"), "parent", "folder:root"))
            .await;
    }
    s.put(rel("document", "d3", "banned", "alice")).await;
    s.put(rel("document", "d9", "viewer", "bob")).await;

    // Lookup resources, paged.
    let mut ids = Vec::new();
    let mut token = Value::Null;
    loop {
        let (status, page) = s
            .send(
                s.http
                    .post(s.read("/zanzi/v1/lookup-resources"))
                    .json(&json!({
                        "namespace": "document", "relation": "view", "subject": "user:alice",
                        "page_size": 2, "page_token": token,
                    })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        ids.extend(
            page["object_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        if page["next_page_token"] == "" {
            break;
        }
        token = page["next_page_token"].clone();
    }
    assert_eq!(ids, ["d0", "d1", "d2", "d4"]);

    // Lookup subjects.
    let (status, found) = s
        .send(s.http.post(s.read("/zanzi/v1/lookup-subjects")).json(&json!({
            "namespace": "document", "object": "d1", "relation": "view", "subject_namespace": "user",
        })))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["subject_ids"], json!(["alice"]));
    assert_eq!(found["wildcard"], false);

    // Explain.
    let (status, explained) = s
        .send(
            s.http
                .post(s.read("/zanzi/v1/check/explain"))
                .json(&json!({"tuple": "document:d3#view@user:alice"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{explained}");
    assert_eq!(explained["explanation"]["outcome"], "denied");
    assert!(explained["explanation"]["tree"].is_object());

    // zanzi's expand tree, as the local `zanzi expand --format json` has it.
    let (status, expanded) = s
        .send(
            s.http
                .post(s.read("/zanzi/v1/expand"))
                .json(&json!({"userset": "document:d3#view", "max_depth": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{expanded}");
    assert!(expanded["snaptoken"].as_str().unwrap().starts_with("zk2_"));
    let tree: zanzi::engine::ExpandTree = serde_json::from_value(expanded["tree"].clone()).unwrap();
    let head = s.store().head_revision().unwrap();
    let local = zanzi::engine::Engine::new(&schema(), s.store())
        .expand(&zanzi::Object::new("document", "d3"), "view", 3, head)
        .unwrap();
    assert_eq!(tree, local);
    let (status, body) = s
        .send(
            s.http
                .post(s.read("/zanzi/v1/expand"))
                .json(&json!({"userset": "document:d3"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["reason"], "invalid_userset");

    // Schema introspection.
    let (_, schema) = s.get(s.read("/zanzi/v1/schema")).await;
    assert!(schema["hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(schema["ir"]["hash"], schema["hash"]);

    // Syntax check: Keto's shape plus zanzi's codes.
    let r = s
        .http
        .post(format!("http://{}/opl/syntax/check", s.running.syntax))
        .body("namespace user {}\nnamespace doc {\n  relation viewer: usr\n}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "E0106");
    assert_eq!(body["errors"][0]["start"]["Line"], 3);
    let r = s
        .http
        .post(format!("http://{}/opl/syntax/check", s.running.syntax))
        .body("namespace user {}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"errors": []}));

    // Keto's clients send OPL: read as OPL, positions counted as Keto does
    // (line 1-based, a token's start column 0-based).
    let opl = |body: &'static str| {
        s.http
            .post(format!("http://{}/opl/syntax/check", s.running.syntax))
            .body(body)
            .send()
    };
    let r = opl("import { Namespace, Context } from \"@ory/keto-namespace-types\"\n\
                 class User implements Namespace {}\n\
                 class Doc implements Namespace {\n  related: { viewers: User[] }\n  \
                 permits = { view: (ctx: Context) => this.related.viewers.includes(ctx.subject) }\n}\n")
    .await
    .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"errors": []}));
    let r = opl("class User implements Namespace {}\nclass Doc implements Namespace {\n  related: { viewers: User }\n}\n")
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "E0601");
    assert_eq!(body["errors"][0]["start"], json!({"Line": 3, "column": 26}));
    assert_eq!(body["errors"][0]["end"], json!({"Line": 3, "column": 26}));
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("expected `[]`"));
    // zanzi's own analysis speaks through the same endpoint.
    let r = opl("class Doc implements Namespace {\n  related: { viewers: Usr[] }\n}\n")
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "E0106");
    assert_eq!(body["errors"][0]["start"], json!({"Line": 2, "column": 22}));

    // Metrics.
    s.check("namespace=document&object=d1&relation=view&subject_id=alice")
        .await;
    let text = s
        .http
        .get(format!("http://{}/metrics/prometheus", s.running.metrics))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "zanzi_http_requests_total",
        "zanzi_http_request_duration_seconds_bucket",
        "zanzi_checks_total",
        "zanzi_check_depth",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remote_client_speaks_to_the_server() {
    let s = Server::start().await;
    let read = format!("http://{}", s.running.read);
    let write = format!("http://{}", s.running.write);
    tokio::task::spawn_blocking(move || {
        use zanzi::client::{Client, ReadOptions};
        let client = Client::new(Some(&read), Some(&write)).unwrap();
        client.status(true, Duration::from_secs(5)).unwrap();
        let t = |s: &str| -> Tuple { s.parse().unwrap() };
        let token = client
            .write(
                &[
                    t("document:a#viewer@user:alice"),
                    t("document:a#viewer@group:eng#member"),
                ],
                &[],
            )
            .unwrap();
        let options = ReadOptions {
            snaptoken: Some(token),
            ..ReadOptions::default()
        };
        assert!(
            client
                .check(&t("document:a#view@user:alice"), &options)
                .unwrap()
                .allowed
        );
        assert!(
            !client
                .check(&t("document:a#view@user:bob"), &options)
                .unwrap()
                .allowed
        );
        let (mut tuples, _) = client
            .list(
                &TupleFilter {
                    namespace: Some("document".into()),
                    ..TupleFilter::default()
                },
                &options,
            )
            .unwrap();
        tuples.sort();
        assert_eq!(
            tuples,
            vec![
                t("document:a#viewer@user:alice"),
                t("document:a#viewer@group:eng#member")
            ]
        );
        let tree = client
            .expand(&zanzi::Object::new("document", "a"), "viewer", &options)
            .unwrap();
        assert_eq!(tree["type"], "union");
        client
            .delete_matching(&TupleFilter {
                namespace: Some("document".into()),
                ..TupleFilter::default()
            })
            .unwrap();
        let err = client
            .check(&t("nope:a#view@user:alice"), &ReadOptions::default())
            .unwrap_err();
        assert!(err.to_string().contains("unknown namespace"), "{err}");
        // Status of a server that is not there.
        let gone = Client::new(Some("http://127.0.0.1:9"), None).unwrap();
        assert!(gone.status(false, Duration::from_secs(1)).is_err());
    })
    .await
    .unwrap();
    s.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zanzi.db");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let mut settings = settings();
    settings.body_limit = 16 * 1024 * 1024;
    let s = Server::start_with(settings, store).await;
    let deltas: Vec<Value> = (0..20_000)
        .map(|i| json!({"action": "insert", "relation_tuple": rel("document", &format!("d{i}"), "viewer", "alice")}))
        .collect();
    let body = serde_json::to_vec(&deltas).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    // Send the headers and half the body by hand, so that the request is
    // certainly in flight when the shutdown starts.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let write = s.running.write;
    let mut conn = tokio::net::TcpStream::connect(write).await.unwrap();
    let head = format!(
        "PATCH /admin/relation-tuples HTTP/1.1\r\nhost: {write}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    let state = s.running.state.clone();
    for _ in 0..500 {
        if state.requests_in_flight() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(state.requests_in_flight(), 1);
    let stopping = tokio::spawn(s.running.shutdown());
    tokio::time::sleep(Duration::from_millis(50)).await;
    // New connections are refused while the request goes on.
    assert!(reqwest::get(format!("http://{write}/health/alive"))
        .await
        .is_err());
    conn.write_all(rest).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    stopping.await.unwrap();
    drop(state);
    // Everything acknowledged is on disk.
    let reopened = SqliteStore::open(&path).unwrap();
    let head = reopened.head_revision().unwrap();
    let all = reopened
        .snapshot(head)
        .unwrap()
        .list(&TupleFilter::default(), &PageRequest::first(100_000))
        .unwrap();
    assert_eq!(all.items.len(), 20_000);
}

#[test]
fn a_schema_that_would_invalidate_stored_tuples_is_refused() {
    let store = Arc::new(MemoryStore::new());
    let tuples: Vec<Tuple> = [
        "document:a#viewer@user:alice",
        "document:a#operator@bot:r2",
        "document:a#banned@user:eve",
    ]
    .iter()
    .map(|t| t.parse().unwrap())
    .collect();
    store.write(&tuples, &[]).unwrap();
    let narrower = SCHEMA
        .replace("relation operator: user | bot", "relation operator: user")
        .replace("  relation banned: user\n", "")
        .replace(" - banned", "");
    let (_, compiled) = zanzi::compile_source("narrower.zanzi", &narrower);
    let narrower = compiled.schema.unwrap();
    let err = AppState::new(settings(), narrower.clone(), store.clone()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("2 stored tuple(s)"), "{text}");
    assert!(
        text.contains("document:a#operator@bot:r2") && text.contains("document:a#banned@user:eve"),
        "{text}"
    );
    assert!(text.contains("--allow-invalid-tuples"), "{text}");
    let mut allow = settings();
    allow.allow_invalid_tuples = true;
    assert!(AppState::new(allow, narrower, store).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_matches_the_copy_in_docs() {
    use zanzi::server::openapi::{document_json, Listener, ENDPOINTS};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let current = document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == current,
        "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test --test server_api openapi`"
    );

    let s = Server::start().await;
    let (status, served) = s.get(s.read("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served["paths"].as_object().unwrap().len(), {
        let mut paths: Vec<&str> = ENDPOINTS.iter().map(|e| e.path).collect();
        paths.dedup();
        paths.sort();
        paths.dedup();
        paths.len()
    });
    for e in ENDPOINTS {
        let listener = match e.listener {
            Listener::Read | Listener::All => s.running.read,
            Listener::Write => s.running.write,
            Listener::Metrics => s.running.metrics,
            Listener::Syntax => s.running.syntax,
        };
        let method = reqwest::Method::from_bytes(e.method.as_bytes()).unwrap();
        let r = s
            .http
            .request(method, format!("http://{listener}{}", e.path))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("no such endpoint"),
            "{} {} is documented but not routed: {status} {body}",
            e.method,
            e.path
        );
    }
    s.running.shutdown().await;
}

#[test]
fn the_schema_loads_from_source_a_directory_or_compiled_ir() {
    let load = |path: &std::path::Path| {
        let (_, compilation) = zanzi::load::load_schema(path, &Limits::default()).unwrap();
        compilation.schema.unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("schema.zanzi");
    std::fs::write(&source, SCHEMA).unwrap();
    let from_source = load(&source);
    assert_eq!(from_source.hash, schema().hash);
    let from_dir = load(dir.path());
    assert_eq!(from_dir.hash, from_source.hash);
    let ir = dir.path().join("schema.json");
    std::fs::write(&ir, from_source.to_json()).unwrap();
    assert_eq!(load(&ir).hash, from_source.hash);
    // A modified IR is refused by its hash.
    std::fs::write(
        &ir,
        from_source.to_json().replace("\"viewer\"", "\"watcher\""),
    )
    .unwrap();
    let err = zanzi::load::load_schema(&ir, &Limits::default())
        .unwrap_err()
        .with_cause();
    assert!(err.contains("schema.json"), "{err}");
}

/// `serve --schema DIR` compiles exactly the files `check --schema DIR`
/// does: nested directories included, hidden ones skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_loads_a_schema_directory_as_every_command_does() {
    let dir = tempfile::tempdir().unwrap();
    let (head, tail) = SCHEMA.split_at(SCHEMA.find("namespace document").unwrap());
    std::fs::create_dir_all(dir.path().join("more")).unwrap();
    std::fs::create_dir_all(dir.path().join(".hidden")).unwrap();
    std::fs::write(dir.path().join("a.zanzi"), head).unwrap();
    std::fs::write(dir.path().join("more/b.zanzi"), tail).unwrap();
    std::fs::write(dir.path().join(".hidden/c.zanzi"), "not a schema").unwrap();
    let mut settings = settings();
    settings.schema = Some(dir.path().to_path_buf());
    let state = AppState::open(settings).unwrap();
    assert_eq!(state.schema().hash, schema().hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_and_slow_bodies_answered_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = settings();
    settings.read_timeout = Duration::from_secs(1);
    let s = Server::start_with(settings, Arc::new(MemoryStore::new())).await;
    let read = s.running.read;
    let write = s.running.write;
    // Reads until the server closes the connection; answers what came and
    // how long it took.
    async fn until_closed(conn: &mut tokio::net::TcpStream) -> (String, Duration) {
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut answer));
        assert!(read.await.is_ok(), "the connection stayed open");
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    }

    // A header that never ends: the connection is closed, unanswered.
    let mut slow = tokio::net::TcpStream::connect(read).await.unwrap();
    slow.write_all(b"GET /health/alive HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let (answer, took) = until_closed(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(took >= Duration::from_millis(900), "{took:?}");

    // A kept-alive connection that goes quiet after its answer is closed.
    let mut idle = tokio::net::TcpStream::connect(read).await.unwrap();
    idle.write_all(b"GET /health/alive HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let (answer, took) = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took >= Duration::from_millis(900), "{took:?}");

    // A body that stops halfway: 408 in Keto's error shape, nothing written.
    let body = serde_json::to_string(&rel("document", "d", "viewer", "alice")).unwrap();
    let mut trickle = tokio::net::TcpStream::connect(write).await.unwrap();
    let head = format!(
        "PUT /admin/relation-tuples HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    trickle.write_all(head.as_bytes()).await.unwrap();
    trickle
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    let (answer, _) = until_closed(&mut trickle).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"reason\":\"body_timeout\""), "{answer}");
    let (status, listed) = s.get(s.read("/relation-tuples?namespace=document")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["relation_tuples"], json!([]));

    // The server goes on serving.
    let (status, _) = s.get(s.read("/health/alive")).await;
    assert_eq!(status, StatusCode::OK);
}

/// Lookups are held to the configured depth limit, like checks (not to the
/// default of 32), and a request's `max_depth` may only lower it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_honour_the_configured_depth_limit() {
    let settings = Settings {
        max_depth: 512,
        ..settings()
    };
    let s = Server::start_with(settings, Arc::new(MemoryStore::new())).await;
    // A chain of 40 groups: alice is a member of g0, g0's members of g1, …
    let mut chain = vec![json!({"action": "insert", "relation_tuple":
        {"namespace": "group", "object": "g0", "relation": "member", "subject_id": "user:alice"}})];
    for i in 1..40 {
        chain.push(json!({"action": "insert", "relation_tuple": {
            "namespace": "group", "object": format!("g{i}"), "relation": "member",
            "subject_set": {"namespace": "group", "object": format!("g{}", i - 1), "relation": "member"}}}));
    }
    let (status, body) = s.patch(json!(chain)).await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = s
        .check("namespace=group&object=g39&relation=member&subject_id=user:alice")
        .await;
    assert_eq!(
        (status, &body["allowed"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
    let resources = |extra: Value| {
        let mut body = json!({"namespace": "group", "relation": "member", "subject": "user:alice"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s.http
            .post(s.read("/zanzi/v1/lookup-resources"))
            .json(&body)
    };
    let (status, body) = s.send(resources(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["object_ids"].as_array().unwrap().len(), 40, "{body}");
    let subjects = |extra: Value| {
        let mut body = json!({"namespace": "group", "object": "g39", "relation": "member", "subject_namespace": "user"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s.http.post(s.read("/zanzi/v1/lookup-subjects")).json(&body)
    };
    let (status, body) = s.send(subjects(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subject_ids"], json!(["alice"]), "{body}");
    // A lower limit per request is an error naming it, for both lookups.
    for request in [
        resources(json!({"max_depth": 3})),
        subjects(json!({"max_depth": 3})),
    ] {
        let (status, body) = s.send(request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body.to_string().contains("maximum depth 3 exceeded"),
            "{body}"
        );
    }
}

/// A PUT answers with the tuple as the listing shows it: one rule for the
/// subject's form (bare where it round-trips), whatever form was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_answers_the_subject_as_the_listing_does() {
    let s = Server::start().await;
    for (sent, shown) in [("folder:root", "root"), ("root2", "root2")] {
        let (status, body) = s
            .put(json!({"namespace": "document", "object": "readme", "relation": "parent", "subject_id": sent}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["subject_id"], json!(shown), "{body}");
    }
    let (status, listed) = s
        .get(s.read("/relation-tuples?namespace=document&object=readme&relation=parent"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut ids: Vec<_> = listed["relation_tuples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, ["root", "root2"]);
    // Where the bare ID would be ambiguous, both show the typed form.
    let (status, body) = s
        .put(json!({"namespace": "document", "object": "readme", "relation": "operator", "subject_id": "user:ann"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["subject_id"], json!("user:ann"), "{body}");
}

/// IDs follow one rule everywhere: bytes that are not UTF-8 in a query
/// string are refused (400 naming the parameter) rather than replaced, so
/// two IDs never collide; a control character is refused by a check as by
/// a write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_strings_and_questions_follow_the_id_rule_of_writes() {
    let s = Server::start().await;
    let (status, body) = s
        .put(json!({"namespace": "document", "object": "\u{fffd}\u{fffd}", "relation": "viewer", "subject_id": "user:ann"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for path in [
        "/relation-tuples?namespace=document&object=%FF%FE",
        "/relation-tuples/check/openapi?namespace=document&object=%FF%FE&relation=viewer&subject_id=user:ann",
    ] {
        let (status, body) = s.get(s.read(path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["details"]["field"], json!("object"), "{body}");
    }
    // The tuple written with U+FFFD is still there: nothing collided.
    let (status, body) = s
        .send(s.http.delete(
            s.write("/admin/relation-tuples?namespace=document&object=%FF%FE&relation=viewer"),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(s.contents().len(), 1);
    // `+` and `%20` still decode to spaces.
    let (status, body) = s
        .get(s.read("/relation-tuples?namespace=document&object=a+b%20c"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A NUL in a check's ID is the write's 400, not a silent deny.
    let (status, body) = s
        .check("namespace=document&object=a%00b&relation=view&subject_id=user:ann")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("control character"), "{body}");
}

/// Request bodies are JSON: `application/json` (with parameters) and
/// `application/*+json` are read, and so is a body without a Content-Type;
/// any other media type is refused with 415 before anything is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_json_is_refused_with_415_and_nothing_is_written() {
    let s = Server::start().await;
    let tuple = json!({"namespace": "document", "object": "readme", "relation": "owner", "subject_id": "ann"});
    let send = |method: reqwest::Method, url: String, content_type: Option<&str>| {
        let mut request = s.http.request(method, url).body(tuple.to_string());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        s.send(request)
    };
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, body) = send(
            reqwest::Method::PUT,
            s.write("/admin/relation-tuples"),
            Some(content_type),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{content_type}`")), "{message}");
        assert!(message.contains("application/json"), "{message}");
        assert!(message.contains("curl"), "{message}");
        assert_eq!(body["error"]["code"], 415);
        assert_eq!(body["error"]["reason"], "unsupported_media_type");
        assert_eq!(body["error"]["details"]["header"], "content-type");
    }
    assert!(s.contents().is_empty(), "{:?}", s.contents());
    // The reads with a body, Keto's and zanzi's, and PATCH refuse them too.
    for (method, url) in [
        (reqwest::Method::POST, s.read("/relation-tuples/check")),
        (
            reqwest::Method::POST,
            s.read("/relation-tuples/batch/check"),
        ),
        (reqwest::Method::POST, s.read("/zanzi/v1/lookup-resources")),
        (reqwest::Method::PATCH, s.write("/admin/relation-tuples")),
    ] {
        let (status, body) = send(
            method.clone(),
            url.clone(),
            Some("application/x-www-form-urlencoded"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} {url}: {body}"
        );
    }
    // JSON with a charset, no Content-Type at all, and a +json type are read.
    let (status, body) = send(
        reqwest::Method::PUT,
        s.write("/admin/relation-tuples"),
        Some("application/json; charset=utf-8"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = send(
        reqwest::Method::PUT,
        s.write("/admin/relation-tuples"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = send(
        reqwest::Method::POST,
        s.read("/relation-tuples/check/openapi"),
        Some("application/vnd.api+json"),
    )
    .await;
    assert_eq!(
        (status, &body["allowed"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
    // The syntax check reads text, whatever its type says.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = s
            .http
            .post(format!("http://{}/opl/syntax/check", s.running.syntax))
            .body("namespace user {}");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, body) = s.send(request).await;
        assert_eq!(status, StatusCode::OK, "{content_type:?}: {body}");
        assert_eq!(body["errors"], json!([]), "{body}");
    }
    s.running.shutdown().await;
}

/// A body's objects must be JSON objects: serde would also read a struct
/// from an array of its fields, which the document does not allow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_in_place_of_an_object_is_refused() {
    let s = Server::start().await;
    let (status, body) = s.put(json!(["document", "readme", "owner", "ann"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s
        .patch(
            json!({"deltas": [], "preconditions": [{"must": "not_exist", "query": [null, null]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("preconditions[0].query"), "{message}");
    assert!(s.contents().is_empty());
    s.running.shutdown().await;
}

/// The served document states what the server refuses: required
/// parameters, empty names, IDs with control characters, negative depths,
/// the consistency names, the 415 of JSON bodies, and this server's bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_states_the_servers_rules() {
    let mut settings = settings();
    settings.max_page_size = 7;
    settings.max_batch = 3;
    let s = Server::start_with(settings, Arc::new(MemoryStore::new())).await;
    let (status, doc) = s.get(s.read("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let check = &doc["paths"]["/relation-tuples/check"]["get"];
    let param = |name: &str| {
        check["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(param("namespace")["required"], true);
    assert_eq!(param("namespace")["schema"]["minLength"], 1);
    assert_eq!(param("object")["schema"]["maxLength"], 1024);
    assert!(param("object")["schema"]["pattern"]
        .as_str()
        .unwrap()
        .contains("\\u0000"));
    assert_eq!(param("max-depth")["schema"]["minimum"], 0);
    assert_eq!(
        param("consistency")["schema"]["enum"],
        json!([
            "minimize_latency",
            "at_least_as_fresh",
            "at_exact_snapshot",
            "fully_consistent",
            // An empty value is the default, as the server reads it.
            ""
        ])
    );
    let list = &doc["paths"]["/relation-tuples"]["get"]["parameters"];
    let page_size = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page_size")
        .unwrap();
    assert_eq!(page_size["schema"]["maximum"], 7);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["BatchCheckBody"]["properties"]["tuples"]["maxItems"],
        3
    );
    assert_eq!(
        schemas["Relationship"]["properties"]["namespace"]["minLength"],
        1
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let json_body = op["requestBody"]["content"]["application/json"].is_object();
            assert_eq!(
                op["responses"]["415"].is_object(),
                json_body,
                "{method} {path}: 415 documented exactly when the body is JSON"
            );
            assert!(op["responses"]["500"].is_object(), "{method} {path}");
        }
    }
    // The names the schema knows, where a name must be known.
    assert_eq!(
        param("namespace")["schema"]["enum"],
        json!(["user", "bot", "group", "folder", "document"])
    );
    assert!(param("relation")["schema"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("viewer")));
    assert!(param("subject_set.relation")["schema"]["enum"].is_null());
    assert!(schemas["Relationship"]["properties"]["namespace"]["enum"].is_array());
    let syntax = &doc["paths"]["/opl/syntax/check"]["post"]["requestBody"];
    assert_eq!(syntax["required"], false);
    s.running.shutdown().await;
}

/// A tuple's condition and expiry travel as the fields `condition` and
/// `expires_at` of Keto's relationship, both ways; a write whose condition,
/// expiry or context the schema refuses names what it accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_and_expiries_are_written_and_listed_as_fields() {
    let state = AppState::new(
        settings(),
        support::conditions::office_schema(),
        Arc::new(MemoryStore::new()),
    )
    .unwrap();
    let running = server::start(Arc::new(state), std::future::pending())
        .await
        .unwrap();
    let s = Server {
        running,
        http: reqwest::Client::new(),
    };
    let office = json!({"name": "office_network", "context": {"cidr": "10.0.0.0/8"}});
    let (status, body) = s
        .put(
            json!({"namespace": "document", "object": "d", "relation": "viewer",
                    "subject_id": "user:bob", "condition": office}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["condition"], office, "{body}");
    assert!(body.get("expires_at").is_none(), "{body}");
    let (status, body) = s
        .patch(json!([{"action": "insert", "relation_tuple": {
            "namespace": "document", "object": "d", "relation": "editor",
            "subject_id": "user:ann", "expires_at": "2027-01-01T01:00:00+01:00"}}]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let mut listed: Vec<String> = s.contents().iter().map(ToString::to_string).collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "document:d#editor@user:ann[expiration:2027-01-01T00:00:00Z]",
            r#"document:d#viewer@user:bob[office_network:{"cidr":"10.0.0.0/8"}]"#,
        ]
    );
    let (status, body) = s.get(s.read("/relation-tuples?namespace=document")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tuples = body["relation_tuples"].as_array().unwrap();
    let editor = tuples.iter().find(|t| t["relation"] == "editor").unwrap();
    assert_eq!(
        editor["expires_at"],
        json!("2027-01-01T00:00:00Z"),
        "{body}"
    );
    assert!(editor.get("condition").is_none(), "{body}");
    let viewer = tuples.iter().find(|t| t["relation"] == "viewer").unwrap();
    assert_eq!(viewer["condition"], office, "{body}");

    // An expiry where the type takes none: the accepted types are named.
    let (status, body) = s
        .put(
            json!({"namespace": "document", "object": "d", "relation": "viewer",
                    "subject_id": "user:bob", "expires_at": "2027-01-01T00:00:00Z"}),
        )
        .await;
    let message = error_message(&body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["reason"], "condition_not_allowed", "{body}");
    assert_eq!(
        message,
        "`document#viewer` accepts `user`, `user with office_network`, \
         `group#member with office_network`; got `user:bob` with an expiry"
    );
    assert_eq!(
        body["error"]["details"]["allowed_types"],
        json!([
            "`user`",
            "`user with office_network`",
            "`group#member with office_network`"
        ])
    );
    assert_eq!(body["error"]["details"]["field"], "expires_at", "{body}");
    // A context value of the wrong type: the key is named.
    let (status, body) = s
        .put(
            json!({"namespace": "document", "object": "d", "relation": "viewer",
                    "subject_id": "user:bob",
                    "condition": {"name": "office_network", "context": {"cidr": 8}}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = error_message(&body, StatusCode::BAD_REQUEST);
    assert!(
        message.contains("parameter `cidr` of condition `office_network` has type `string`"),
        "{message}"
    );
    assert_eq!(body["error"]["reason"], "invalid_context", "{body}");
    assert_eq!(body["error"]["details"]["key"], "cidr", "{body}");
    // An unknown condition, with what was meant.
    let (status, body) = s
        .put(
            json!({"namespace": "document", "object": "d", "relation": "viewer",
                    "subject_id": "user:bob", "condition": {"name": "office_netwrk"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        error_message(&body, status).ends_with("did you mean `office_network`?"),
        "{body}"
    );
    // A bad time and a context that is no object are malformed input.
    for bad in [
        json!({"expires_at": "tomorrow"}),
        json!({"condition": {"name": "office_network", "context": [1]}}),
    ] {
        let mut body = json!({"namespace": "document", "object": "d", "relation": "editor",
                              "subject_id": "user:bob"});
        for (k, v) in bad.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = s.put(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
    // Nothing of the refused writes was stored.
    assert_eq!(s.contents().len(), 2);
}
