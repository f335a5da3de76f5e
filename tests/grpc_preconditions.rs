//! Preconditioned writes over the server: REST PATCH with preconditions,
//! zanzi.v1 `WriteService.Write`, "grant only if still a member", and
//! compare-and-set with concurrent clients.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use serde_json::{json, Value};
use support::grpc::GrpcServer;
use tonic::Code;
use tonic_types::StatusExt;
use zanzi::api::proto::zanzi::v1 as pb;
use zanzi::store::{PageRequest, TupleFilter};
use zanzi::tuple::Tuple;

type Client = pb::write_service_client::WriteServiceClient<tonic::transport::Channel>;

fn t(text: &str) -> Tuple {
    text.parse().unwrap()
}

/// Every live tuple, as text, sorted.
fn live(server: &GrpcServer) -> Vec<String> {
    let store = server.store();
    let head = store.head_revision().unwrap();
    let mut all: Vec<String> = store
        .snapshot(head)
        .unwrap()
        .list(&TupleFilter::default(), &PageRequest::first(1000))
        .unwrap()
        .items
        .iter()
        .map(ToString::to_string)
        .collect();
    all.sort();
    all
}

async fn patch(server: &GrpcServer, body: Value) -> (u16, Value) {
    let response = server
        .http
        .patch(server.rest_write("/admin/relation-tuples"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn insert(namespace: &str, object: &str, relation: &str, subject_id: &str) -> Value {
    json!({"action": "insert", "relation_tuple": {
        "namespace": namespace, "object": object, "relation": relation, "subject_id": subject_id}})
}

#[tokio::test]
async fn rest_patch_checks_preconditions_and_writes_nothing_when_one_fails() {
    let server = GrpcServer::start().await;
    // Keto's array form is unchanged.
    let (status, _) = patch(&server, json!([insert("group", "eng", "member", "alice")])).await;
    assert_eq!(status, 204);
    let before = live(&server);
    let head = server.store().head_revision().unwrap();

    let (status, body) = patch(
        &server,
        json!({
            "deltas": [insert("document", "d", "viewer", "bob")],
            "preconditions": [
                {"must": "exist", "query": {"namespace": "group", "object": "eng",
                                             "relation": "member", "subject_id": "alice"}},
                {"must": "exist", "query": {"namespace": "group", "object": "eng",
                                             "relation": "member", "subject_id": "bob"}}
            ]
        }),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["reason"], "precondition_failed");
    assert_eq!(body["error"]["details"]["field"], "preconditions[1]");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("precondition 1 failed: a live tuple matching {namespace: group, object_id: eng, relation: member, subject_id: bob in user} must exist"),
        "{message}"
    );
    assert_eq!(live(&server), before, "nothing written");
    assert_eq!(server.store().head_revision().unwrap(), head);

    let (status, body) = patch(
        &server,
        json!({
            "deltas": [insert("document", "d", "viewer", "bob")],
            "preconditions": [{"must": "not_exist", "query": {"namespace": "document", "object": "d"}}]
        }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert!(live(&server).contains(&"document:d#viewer@user:bob".to_owned()));

    // A bad query is refused naming it, before anything is checked.
    let (status, body) = patch(
        &server,
        json!({
            "deltas": [],
            "preconditions": [{"must": "exist", "query": {"namespace": "documnet"}}]
        }),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["details"]["field"], "preconditions[0].query");
    assert!(body["error"]["message"].as_str().unwrap().starts_with(
        "preconditions[0].query: unknown namespace `documnet`; did you mean `document`?"
    ));
    let (status, body) = patch(
        &server,
        json!({"deltas": [], "preconditions": [{"must": "maybe", "query": {}}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("preconditions[0].must"),
        "{body}"
    );
}

fn touch(tuple: &str) -> pb::TupleUpdate {
    pb::TupleUpdate {
        operation: pb::tuple_update::Operation::Touch as i32,
        tuple: Some(zanzi::server::grpc::convert::to_tuple(&t(tuple))),
    }
}

fn delete(tuple: &str) -> pb::TupleUpdate {
    pb::TupleUpdate {
        operation: pb::tuple_update::Operation::Delete as i32,
        tuple: Some(zanzi::server::grpc::convert::to_tuple(&t(tuple))),
    }
}

fn must(exist: bool, tuple: &str) -> pb::Precondition {
    let tuple = t(tuple);
    pb::Precondition {
        operation: if exist {
            pb::precondition::Operation::MustExist
        } else {
            pb::precondition::Operation::MustNotExist
        } as i32,
        filter: Some(pb::TupleFilter {
            namespace: tuple.object.namespace.clone(),
            object_id: tuple.object.id.clone(),
            relation: tuple.relation.clone(),
            subject: Some(zanzi::server::grpc::convert::to_subject(&tuple.subject)),
        }),
    }
}

fn field_of(status: &tonic::Status) -> (String, String) {
    let info = status.get_details_error_info().expect("an ErrorInfo");
    (
        info.reason,
        info.metadata.get("field").cloned().unwrap_or_default(),
    )
}

#[tokio::test]
async fn grpc_write_checks_preconditions_and_names_the_failing_one() {
    let server = GrpcServer::start().await;
    let mut client = Client::new(server.write.clone());
    let written = client
        .write(pb::WriteRequest {
            updates: vec![
                touch("group:eng#member@user:alice"),
                touch("folder:f#viewer@user:*"),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = written.written_at.unwrap().token;
    assert!(token.starts_with("zk2_"), "{token}");
    let before = live(&server);
    let head = server.store().head_revision().unwrap();

    let status = client
        .write(pb::WriteRequest {
            updates: vec![touch("document:d#viewer@user:bob")],
            preconditions: vec![
                must(true, "group:eng#member@user:alice"),
                must(false, "folder:f#viewer@user:*"),
            ],
            delete_matching: Some(pb::TupleFilter {
                namespace: "group".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        field_of(&status),
        (
            "precondition_failed".to_owned(),
            "preconditions[1]".to_owned()
        )
    );
    assert!(
        status.message().starts_with("precondition 1 failed: a live tuple matching {namespace: folder, object_id: f, relation: viewer, subject: user:*} must not exist"),
        "{}",
        status.message()
    );
    assert_eq!(live(&server), before, "nothing written, nothing deleted");
    assert_eq!(server.store().head_revision().unwrap(), head);

    // Holding: delete_matching, then the updates, at one revision.
    client
        .write(pb::WriteRequest {
            updates: vec![
                touch("document:d#viewer@user:bob"),
                delete("folder:f#viewer@user:*"),
            ],
            preconditions: vec![must(true, "group:eng#member@user:alice")],
            delete_matching: Some(pb::TupleFilter {
                namespace: "group".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    assert_eq!(live(&server), vec!["document:d#viewer@user:bob"]);
    assert_eq!(
        server.store().head_revision().unwrap().0,
        head.0 + 1,
        "one transaction"
    );
}

#[tokio::test]
async fn grpc_write_refuses_bad_input_naming_the_field() {
    let server = GrpcServer::start().await;
    let mut client = Client::new(server.write.clone());
    let cases: Vec<(pb::WriteRequest, Code, &str)> = vec![
        (
            pb::WriteRequest {
                updates: vec![
                    touch("group:eng#member@user:a"),
                    touch("document:d#viewer@usr:bob"),
                ],
                ..Default::default()
            },
            Code::InvalidArgument,
            "updates[1].tuple.subject.object.namespace",
        ),
        (
            pb::WriteRequest {
                updates: vec![touch("document:d#viewer@folder:f")],
                ..Default::default()
            },
            Code::InvalidArgument,
            "updates[0].tuple.subject",
        ),
        (
            pb::WriteRequest {
                updates: vec![touch("document:d#view@user:bob")],
                ..Default::default()
            },
            Code::InvalidArgument,
            "updates[0].tuple.relation",
        ),
        (
            pb::WriteRequest {
                updates: vec![touch("docs:d#viewer@user:bob")],
                ..Default::default()
            },
            Code::InvalidArgument,
            "updates[0].tuple.object.namespace",
        ),
        (
            pb::WriteRequest {
                updates: vec![pb::TupleUpdate {
                    operation: 0,
                    ..touch("document:d#viewer@user:bob")
                }],
                ..Default::default()
            },
            Code::InvalidArgument,
            "updates[0].operation",
        ),
        (
            pb::WriteRequest {
                preconditions: vec![pb::Precondition {
                    operation: 0,
                    ..must(true, "document:d#viewer@user:bob")
                }],
                ..Default::default()
            },
            Code::InvalidArgument,
            "preconditions[0].operation",
        ),
        (
            pb::WriteRequest {
                preconditions: vec![pb::Precondition {
                    operation: 1,
                    filter: None,
                }],
                ..Default::default()
            },
            Code::InvalidArgument,
            "preconditions[0].filter",
        ),
        (
            pb::WriteRequest {
                preconditions: vec![must(true, "documents:d#viewer@user:bob")],
                ..Default::default()
            },
            Code::NotFound,
            "preconditions[0].filter.namespace",
        ),
        (
            pb::WriteRequest {
                delete_matching: Some(pb::TupleFilter::default()),
                ..Default::default()
            },
            Code::InvalidArgument,
            "delete_matching.namespace",
        ),
    ];
    for (request, code, field) in cases {
        let status = client.write(request).await.unwrap_err();
        assert_eq!(status.code(), code, "{field}: {status:?}");
        assert_eq!(field_of(&status).1, field, "{status:?}");
    }
    assert!(live(&server).is_empty(), "nothing written");
}

/// The example of docs/api.md, "Preconditioned writes": share a document with a
/// member of a group only while they are still a member, even if someone
/// removes them at the same moment.
#[tokio::test]
async fn grant_only_if_still_a_member() {
    let server = GrpcServer::start().await;
    let mut client = Client::new(server.write.clone());
    client
        .write(pb::WriteRequest {
            updates: vec![touch("group:eng#member@user:alice")],
            ..Default::default()
        })
        .await
        .unwrap();
    let grant = pb::WriteRequest {
        updates: vec![touch("document:spec#viewer@user:alice")],
        preconditions: vec![must(true, "group:eng#member@user:alice")],
        ..Default::default()
    };
    client.write(grant.clone()).await.unwrap();
    client
        .write(pb::WriteRequest {
            updates: vec![
                delete("group:eng#member@user:alice"),
                delete("document:spec#viewer@user:alice"),
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    let status = client.write(grant).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(live(&server).is_empty(), "{:?}", live(&server));
}

/// Compare-and-set over the server: concurrent clients (gRPC and REST,
/// each on its own connection) each set the owner of a folder only if it
/// has none; exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compare_and_set_with_concurrent_clients_has_one_winner() {
    let server = GrpcServer::start().await;
    let write_addr = server.running.write;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let start = std::sync::Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            let channel = tonic::transport::Channel::from_shared(format!("http://{write_addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            let mut client = Client::new(channel);
            let request = pb::WriteRequest {
                updates: vec![touch(&format!("folder:f#owner@user:u{i}"))],
                preconditions: vec![pb::Precondition {
                    operation: pb::precondition::Operation::MustNotExist as i32,
                    filter: Some(pb::TupleFilter {
                        namespace: "folder".into(),
                        object_id: "f".into(),
                        relation: "owner".into(),
                        subject: None,
                    }),
                }],
                ..Default::default()
            };
            start.wait().await;
            match client.write(request).await {
                Ok(_) => true,
                Err(status) if status.code() == Code::FailedPrecondition => false,
                Err(status) => panic!("{status:?}"),
            }
        }));
    }
    let url = server.rest_write("/admin/relation-tuples");
    for i in 8..12 {
        let (start, url) = (std::sync::Arc::clone(&start), url.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let body = json!({
                "deltas": [insert("folder", "f", "owner", &format!("user:u{i}"))],
                "preconditions": [{"must": "not_exist",
                                   "query": {"namespace": "folder", "object": "f", "relation": "owner"}}]
            });
            start.wait().await;
            let status = http.patch(&url).json(&body).send().await.unwrap().status();
            match status.as_u16() {
                204 => true,
                409 => false,
                other => panic!("{other}"),
            }
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    let owners: Vec<String> = live(&server)
        .into_iter()
        .filter(|t| t.starts_with("folder:f#owner@"))
        .collect();
    assert_eq!(owners.len(), 1, "{owners:?}");
}
