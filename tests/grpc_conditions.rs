//! Conditions over gRPC: `zanzi.v1.PermissionService` and Keto's
//! `CheckService` take a context and contextual tuples and answer
//! conditional results with what is missing (docs/api.md, "Conditions").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;

use support::grpc::{settings, GrpcServer};
use tokio_stream::StreamExt as _;
use tonic::Code;
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;
use zanzi::api::proto::zanzi::v1 as pb;
use zanzi::store::{MemoryStore, PageRequest, TupleFilter};
use zanzi::Tuple;

use pb::permission_service_client::PermissionServiceClient;

const SCHEMA: &str = "
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

async fn server() -> GrpcServer {
    let server = GrpcServer::start_with(settings(), SCHEMA, Arc::new(MemoryStore::new())).await;
    let tuples: Vec<Tuple> = [
        r#"document:d1#viewer@user:alice[office_network:{"cidr":"10.0.0.0/8"}]"#,
        "document:d3#viewer@user:alice",
    ]
    .iter()
    .map(|t| t.parse().unwrap())
    .collect();
    let revision = server.store().write(&tuples, &[]).unwrap();
    server.running.state.saw(revision);
    server
}

fn object(namespace: &str, id: &str) -> Option<pb::ObjectRef> {
    Some(pb::ObjectRef {
        namespace: namespace.into(),
        id: id.into(),
    })
}

fn user(id: &str) -> Option<pb::SubjectRef> {
    Some(pb::SubjectRef {
        object: object("user", id),
        relation: String::new(),
    })
}

fn item(id: &str, who: &str) -> pb::CheckItem {
    pb::CheckItem {
        object: object("document", id),
        relation: "view".into(),
        subject: user(who),
    }
}

fn bulk(items: Vec<pb::CheckItem>, context: &str, tuples: Vec<pb::Tuple>) -> pb::BulkCheckRequest {
    pb::BulkCheckRequest {
        items,
        consistency: None,
        max_depth: 0,
        context: context.into(),
        contextual_tuples: tuples,
    }
}

fn field_of(status: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get("field").cloned())
        .unwrap_or_default()
}

#[tokio::test]
async fn bulk_check_and_explain_answer_conditional_with_what_is_missing() {
    let server = server().await;
    let mut client = PermissionServiceClient::new(server.read.clone());
    let answer = client
        .bulk_check(bulk(
            vec![
                item("d1", "alice"),
                item("d2", "alice"),
                item("d3", "alice"),
            ],
            "",
            Vec::new(),
        ))
        .await
        .unwrap()
        .into_inner();
    let r = &answer.results;
    assert!(!r[0].allowed && r[0].conditional, "{r:?}");
    assert_eq!(r[0].missing, vec!["client_ip".to_owned()]);
    assert!(!r[1].allowed && !r[1].conditional && r[1].missing.is_empty());
    assert!(r[2].allowed && !r[2].conditional);
    let inside = client
        .bulk_check(bulk(
            vec![item("d1", "alice")],
            r#"{"client_ip":"10.2.3.4"}"#,
            Vec::new(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(inside.results[0].allowed);
    let outside = client
        .bulk_check(bulk(
            vec![item("d1", "alice")],
            r#"{"client_ip":"::1"}"#,
            Vec::new(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!outside.results[0].allowed && !outside.results[0].conditional);

    let explained = client
        .check_with_explanation(pb::CheckWithExplanationRequest {
            check: Some(item("d1", "alice")),
            consistency: None,
            max_depth: 0,
            context: String::new(),
            contextual_tuples: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(explained.outcome, pb::Outcome::Conditional as i32);
    assert_eq!(explained.missing, vec!["client_ip".to_owned()]);
    assert!(!explained.allowed);
}

#[tokio::test]
async fn contextual_tuples_grant_once_and_bad_ones_are_invalid_arguments() {
    let server = server().await;
    let mut client = PermissionServiceClient::new(server.read.clone());
    let grant = pb::Tuple {
        object: object("document", "d2"),
        relation: "viewer".into(),
        subject: user("bob"),
        condition: None,
        expires_at: String::new(),
    };
    let answer = client
        .bulk_check(bulk(vec![item("d2", "bob")], "", vec![grant.clone()]))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.results[0].allowed);
    let again = client
        .bulk_check(bulk(vec![item("d2", "bob")], "", Vec::new()))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.results[0].allowed);
    let stored = server
        .store()
        .snapshot(server.running.state.known_head())
        .unwrap()
        .list(
            &TupleFilter::default(),
            &PageRequest {
                cursor: None,
                limit: 100,
            },
        )
        .unwrap();
    assert_eq!(stored.items.len(), 2, "nothing written: {:?}", stored.items);

    // A permission is no tuple: refused as a write is, naming it.
    let permission = pb::Tuple {
        relation: "view".into(),
        ..grant
    };
    let error = client
        .bulk_check(bulk(vec![item("d2", "bob")], "", vec![permission]))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(
        field_of(&error).starts_with("contextual_tuples[0]"),
        "{error:?}"
    );

    // A context over 64 KiB: INVALID_ARGUMENT naming the limit.
    let big = serde_json::json!({"padding": "x".repeat(70 * 1024)}).to_string();
    let error = client
        .bulk_check(bulk(vec![item("d1", "alice")], &big, Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert!(error.message().contains("65536"), "{}", error.message());
    // A context that is no object, and one that makes the condition fail.
    let error = client
        .bulk_check(bulk(vec![item("d1", "alice")], "[1]", Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(
        (error.code(), field_of(&error).as_str()),
        (Code::InvalidArgument, "context")
    );
    let failed = client
        .bulk_check(bulk(
            vec![item("d1", "alice")],
            r#"{"client_ip":"nope"}"#,
            Vec::new(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        failed.results[0].error.contains("office_network"),
        "{failed:?}"
    );
    assert_eq!(failed.results[0].code, Code::InvalidArgument as i32);
}

#[tokio::test]
async fn lookups_stream_conditional_results() {
    let server = server().await;
    let mut client = PermissionServiceClient::new(server.read.clone());
    let mut stream = client
        .lookup_resources(pb::LookupResourcesRequest {
            namespace: "document".into(),
            relation: "view".into(),
            subject: user("alice"),
            consistency: None,
            limit: 0,
            cursor: String::new(),
            context: String::new(),
            contextual_tuples: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let (mut ids, mut conditional) = (Vec::new(), Vec::new());
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        ids.extend(message.object_ids);
        conditional.extend(message.conditional);
    }
    assert_eq!(ids, vec!["d3".to_owned()]);
    assert_eq!(
        conditional,
        vec![pb::ConditionalId {
            id: "d1".into(),
            missing: vec!["client_ip".into()],
        }]
    );
    let mut stream = client
        .lookup_subjects(pb::LookupSubjectsRequest {
            object: object("document", "d1"),
            relation: "view".into(),
            subject_namespace: "user".into(),
            consistency: None,
            limit: 0,
            cursor: String::new(),
            context: r#"{"client_ip":"10.0.0.1"}"#.into(),
            contextual_tuples: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.subject_ids, vec!["alice".to_owned()]);
    assert!(first.conditional.is_empty());
}

#[tokio::test]
async fn keto_check_service_takes_the_context_and_marks_conditional_answers() {
    let server = server().await;
    let mut client = keto::check_service_client::CheckServiceClient::new(server.read.clone());
    let tuple = |object: &str, relation: &str, who: &str| keto::RelationTuple {
        namespace: "document".into(),
        object: object.into(),
        relation: relation.into(),
        subject: Some(keto::Subject {
            r#ref: Some(keto::subject::Ref::Id(format!("user:{who}"))),
        }),
    };
    #[allow(deprecated)]
    let request = |context: &str, tuples: Vec<keto::RelationTuple>, object: &str, who: &str| {
        keto::CheckRequest {
            tuple: Some(tuple(object, "view", who)),
            context: context.into(),
            contextual_tuples: tuples,
            ..Default::default()
        }
    };
    let answer = client
        .check(request("", Vec::new(), "d1", "alice"))
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.allowed && answer.conditional);
    assert_eq!(answer.missing, vec!["client_ip".to_owned()]);
    let answer = client
        .check(request(
            r#"{"client_ip":"10.0.0.1"}"#,
            Vec::new(),
            "d1",
            "alice",
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.allowed && !answer.conditional);
    let answer = client
        .check(request("", vec![tuple("d2", "viewer", "bob")], "d2", "bob"))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.allowed);
}
