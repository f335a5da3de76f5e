//! Tokens name the history they came from: a copy of a database (a file
//! copy of SQLite, a PostgreSQL database made from another as template)
//! keeps the store id, yet once the copy and the original diverge, a
//! server on one refuses the other's tokens at the same revision number,
//! over REST and gRPC, while the original keeps accepting its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::grpc::{settings, GrpcServer, SCHEMA};
use tonic::Code;
use zanzi::api::proto::zanzi::v1 as pb;
use zanzi::server::config::Settings;
use zanzi::store::{CachedStore, Revision, SqliteStore, TupleStore};

use pb::permission_service_client::PermissionServiceClient;

fn t(text: &str) -> zanzi::Tuple {
    text.parse().unwrap()
}

/// Grants `document:x#viewer@user:USER` through the REST write API; the
/// token of the write.
async fn grant(server: &GrpcServer, user: &str) -> String {
    let answer: Value = server
        .http
        .put(format!(
            "http://{}/admin/relation-tuples",
            server.running.write
        ))
        .json(&json!({
            "namespace": "document", "object": "x", "relation": "viewer", "subject_id": user
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["snaptoken"].as_str().unwrap().to_owned()
}

/// A REST check of `document:x#view@user:USER` at least as fresh as `token`.
async fn rest_check(server: &GrpcServer, user: &str, token: &str) -> (StatusCode, Value) {
    let response = server
        .http
        .get(format!(
            "http://{}/relation-tuples/check/openapi?namespace=document&object=x&relation=view\
             &subject_id={user}&snaptoken={token}",
            server.running.read
        ))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A gRPC check of `document:x#view@user:USER` at least as fresh as `token`.
async fn grpc_check(server: &GrpcServer, user: &str, token: &str) -> Result<bool, tonic::Status> {
    let answer = PermissionServiceClient::new(server.read.clone())
        .bulk_check(pb::BulkCheckRequest {
            context: String::new(),
            contextual_tuples: Vec::new(),
            items: vec![pb::CheckItem {
                object: Some(pb::ObjectRef {
                    namespace: "document".into(),
                    id: "x".into(),
                }),
                relation: "view".into(),
                subject: Some(pb::SubjectRef {
                    object: Some(pb::ObjectRef {
                        namespace: "user".into(),
                        id: user.into(),
                    }),
                    relation: String::new(),
                }),
            }],
            consistency: Some(pb::Consistency {
                requirement: Some(pb::consistency::Requirement::AtLeastAsFresh(
                    token.to_owned(),
                )),
            }),
            max_depth: 0,
        })
        .await?
        .into_inner();
    Ok(answer.results[0].allowed)
}

/// What a server refusing a token of another history answers.
fn assert_other_history(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"]["reason"], "snapshot_from_another_history",
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("different history of this store") && message.contains("read again"),
        "{message}"
    );
}

fn sqlite_settings(path: &std::path::Path) -> Settings {
    Settings {
        db: path.display().to_string(),
        ..settings()
    }
}

async fn serve_sqlite(path: &std::path::Path) -> GrpcServer {
    let store = CachedStore::new(SqliteStore::open(path).unwrap()).unwrap();
    GrpcServer::start_with(sqlite_settings(path), SCHEMA, Arc::new(store)).await
}

#[tokio::test]
async fn a_copied_sqlite_database_refuses_the_tokens_of_the_original_once_they_diverge() {
    let dir = tempfile::tempdir().unwrap();
    let (original, copy) = (dir.path().join("original.db"), dir.path().join("copy.db"));
    {
        let store = SqliteStore::open(&original).unwrap();
        store
            .write(&[t("document:x#owner@user:olga")], &[])
            .unwrap();
    }
    std::fs::copy(&original, &copy).unwrap();
    let original = serve_sqlite(&original).await;
    let copy = serve_sqlite(&copy).await;
    let shared = original.running.state.snaptoken(Revision(1));

    // The same number of writes, of different tuples: both at revision 2.
    let token = grant(&original, "alice").await;
    let copied = grant(&copy, "mallory").await;
    assert_eq!(support::serve::revision(&token), 2);
    assert_eq!(support::serve::revision(&copied), 2);

    let (status, body) = rest_check(&copy, "alice", &token).await;
    assert_other_history(status, &body);
    assert_eq!(body["error"]["details"]["field"], "snaptoken", "{body}");
    let (status, body) = rest_check(&original, "mallory", &copied).await;
    assert_other_history(status, &body);
    let error = grpc_check(&copy, "alice", &token).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
    assert!(
        error.message().contains("different history of this store"),
        "{error:?}"
    );

    // Each accepts its own, and both the token from before the copy.
    let (status, body) = rest_check(&original, "alice", &token).await;
    assert_eq!((status, &body["allowed"]), (StatusCode::OK, &json!(true)));
    assert!(grpc_check(&original, "alice", &token).await.unwrap());
    assert!(grpc_check(&copy, "mallory", &copied).await.unwrap());
    let (status, body) = rest_check(&copy, "olga", &shared).await;
    assert_eq!(
        (status, &body["allowed"]),
        (StatusCode::OK, &json!(true)),
        "{body}"
    );
}

/// A server on PostgreSQL (the `--db` the copy names) with `secret`.
fn postgres_state(url: &str) -> Arc<zanzi::server::AppState> {
    let settings = Settings {
        db: url.to_owned(),
        secret: Some("shared secret".into()),
        read_port: 0,
        write_port: 0,
        metrics_port: 0,
        syntax_port: 0,
        ..Settings::default()
    };
    let schema = support::grpc::schema(SCHEMA);
    let store = zanzi::store::PostgresStore::connect(url).unwrap();
    Arc::new(zanzi::server::AppState::new(settings, schema, Arc::new(store)).unwrap())
}

#[test]
fn a_postgres_database_made_from_another_refuses_its_tokens_once_they_diverge() {
    let cluster = support::postgres::cluster();
    let original = cluster.database();
    {
        let store = zanzi::store::PostgresStore::connect(&original).unwrap();
        store
            .write(&[t("document:x#owner@user:olga")], &[])
            .unwrap();
    }
    let name = original.rsplit('/').next().unwrap().to_owned();
    let copy_name = format!("{name}_copy");
    // The template must have no session: the store's pool closes on drop,
    // possibly a moment later.
    let mut made = false;
    for _ in 0..50 {
        let mut admin =
            postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).unwrap();
        if admin
            .batch_execute(&format!("CREATE DATABASE {copy_name} TEMPLATE {name}"))
            .is_ok()
        {
            made = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(made, "cannot copy the database");
    let copy = cluster.url(&copy_name);
    let (original, copy) = (postgres_state(&original), postgres_state(&copy));
    assert_eq!(
        original.store.store_id().unwrap(),
        copy.store.store_id().unwrap()
    );
    let shared = original.snaptoken(Revision(1));
    let alice = original
        .store
        .write(&[t("document:x#viewer@user:alice")], &[])
        .unwrap();
    let mallory = copy
        .store
        .write(&[t("document:x#viewer@user:mallory")], &[])
        .unwrap();
    assert_eq!((alice, mallory), (Revision(2), Revision(2)));
    let token = original.snaptoken(alice);

    let parsed = copy.tokens.parse_snapshot(&token).unwrap();
    let error = copy.check_history(&parsed).unwrap_err();
    assert_eq!(error.status, StatusCode::BAD_REQUEST);
    assert!(
        error.message.contains("different history of this store"),
        "{}",
        error.message
    );
    original
        .check_history(&original.tokens.parse_snapshot(&token).unwrap())
        .unwrap();
    copy.check_history(&copy.tokens.parse_snapshot(&shared).unwrap())
        .unwrap();
    // Both databases chain the same writes as the other stores do.
    let chain = |state: &zanzi::server::AppState, at| state.store.history_chain(at).unwrap();
    assert_eq!(chain(&original, Revision(1)), chain(&copy, Revision(1)));
    assert_ne!(chain(&original, Revision(2)), chain(&copy, Revision(2)));
}
