//! Keto's gRPC API: every method, the same answers as Keto's REST API for
//! the same questions (and tokens that cross between the two), and bad
//! input answered with a precise status that names the field, the store
//! left unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use serde_json::{json, Value};
use support::grpc::{settings, GrpcServer, SCHEMA};
use tonic::transport::Channel;
use tonic::Code;
use zanzi::api::proto::keto::opl::v1alpha1 as opl;
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;
use zanzi::store::{MemoryStore, PageRequest, TupleFilter};

use keto::check_service_client::CheckServiceClient;
use keto::expand_service_client::ExpandServiceClient;
use keto::read_service_client::ReadServiceClient;
use keto::relation_tuple_delta::Action;
use keto::subject::Ref;
use keto::write_service_client::WriteServiceClient;

// ---------------------------------------------------------------------------
// Messages.

fn id(id: &str) -> Option<keto::Subject> {
    Some(keto::Subject {
        r#ref: Some(Ref::Id(id.to_owned())),
    })
}

fn set(namespace: &str, object: &str, relation: &str) -> Option<keto::Subject> {
    Some(keto::Subject {
        r#ref: Some(Ref::Set(keto::SubjectSet {
            namespace: namespace.to_owned(),
            object: object.to_owned(),
            relation: relation.to_owned(),
        })),
    })
}

fn tuple(
    namespace: &str,
    object: &str,
    relation: &str,
    subject: Option<keto::Subject>,
) -> keto::RelationTuple {
    keto::RelationTuple {
        namespace: namespace.to_owned(),
        object: object.to_owned(),
        relation: relation.to_owned(),
        subject,
    }
}

/// `ns:obj#rel@subject`, the subject `ns:id`, a bare id, or `ns:obj#rel`.
fn parse(text: &str) -> keto::RelationTuple {
    let (object, subject) = text.split_once('@').unwrap();
    let (object, relation) = object.split_once('#').unwrap();
    let (namespace, object) = object.split_once(':').unwrap();
    let subject = match subject.split_once('#') {
        Some((s, r)) => {
            let (ns, obj) = s.split_once(':').unwrap();
            set(ns, obj, r)
        }
        None => id(subject),
    };
    tuple(namespace, object, relation, subject)
}

/// A tuple as Keto's REST relationship.
fn rest_json(t: &keto::RelationTuple) -> Value {
    let mut body = json!({"namespace": t.namespace, "object": t.object, "relation": t.relation});
    match t.subject.as_ref().and_then(|s| s.r#ref.as_ref()) {
        Some(Ref::Id(id)) => body["subject_id"] = json!(id),
        Some(Ref::Set(s)) => {
            body["subject_set"] =
                json!({"namespace": s.namespace, "object": s.object, "relation": s.relation})
        }
        None => {}
    }
    body
}

fn delta(action: Action, t: keto::RelationTuple) -> keto::RelationTupleDelta {
    keto::RelationTupleDelta {
        action: action.into(),
        relation_tuple: Some(t),
    }
}

fn write(server: &GrpcServer) -> WriteServiceClient<Channel> {
    WriteServiceClient::new(server.write.clone())
}

fn checker(server: &GrpcServer) -> CheckServiceClient<Channel> {
    CheckServiceClient::new(server.read.clone())
}

async fn insert(server: &GrpcServer, tuples: &[&str]) -> Vec<String> {
    write(server)
        .transact_relation_tuples(keto::TransactRelationTuplesRequest {
            relation_tuple_deltas: tuples
                .iter()
                .map(|t| delta(Action::Insert, parse(t)))
                .collect(),
            preconditions: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .snaptokens
}

async fn check(
    server: &GrpcServer,
    text: &str,
    snaptoken: &str,
) -> Result<keto::CheckResponse, tonic::Status> {
    checker(server)
        .check(keto::CheckRequest {
            tuple: Some(parse(text)),
            snaptoken: snaptoken.to_owned(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn allowed(server: &GrpcServer, text: &str) -> bool {
    check(server, text, "").await.unwrap().allowed
}

/// Every page of a listing, walked with `page_size`.
async fn list_all(
    server: &GrpcServer,
    query: keto::RelationQuery,
    page_size: i32,
) -> (Vec<keto::RelationTuple>, usize) {
    let mut read = ReadServiceClient::new(server.read.clone());
    let mut out = Vec::new();
    let mut pages = 0;
    let mut page_token = String::new();
    loop {
        let page = read
            .list_relation_tuples(keto::ListRelationTuplesRequest {
                relation_query: Some(query.clone()),
                page_size,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(page.relation_tuples.len() <= page_size as usize);
        out.extend(page.relation_tuples);
        if page.next_page_token.is_empty() {
            return (out, pages);
        }
        page_token = page.next_page_token;
    }
}

fn namespace_query(namespace: &str) -> keto::RelationQuery {
    keto::RelationQuery {
        namespace: Some(namespace.to_owned()),
        ..Default::default()
    }
}

/// A tree as `{type, tuple, children}` with Keto's REST kind names.
fn tree_json(tree: &keto::SubjectTree) -> Value {
    let kind = match keto::NodeType::try_from(tree.node_type).unwrap() {
        keto::NodeType::Union => "union",
        keto::NodeType::Exclusion => "exclusion",
        keto::NodeType::Intersection => "intersection",
        keto::NodeType::Leaf => "leaf",
        keto::NodeType::Unspecified => "unspecified",
    };
    let mut out = json!({ "type": kind });
    if let Some(t) = &tree.tuple {
        out["tuple"] = rest_json(t);
    }
    if !tree.children.is_empty() {
        out["children"] = tree.children.iter().map(tree_json).collect();
    }
    out
}

/// A REST tree with the kinds Keto's gRPC node types lack made `unspecified`.
fn rest_tree_as_grpc(mut tree: Value) -> Value {
    if let Some(kind) = tree["type"].as_str() {
        if kind == "tuple_to_subject_set" || kind == "computed_subject_set" {
            tree["type"] = json!("unspecified");
        }
    }
    if let Some(children) = tree.get_mut("children").and_then(Value::as_array_mut) {
        for child in children.iter_mut() {
            *child = rest_tree_as_grpc(child.take());
        }
    }
    tree
}

async fn expand(
    server: &GrpcServer,
    namespace: &str,
    object: &str,
    relation: &str,
) -> Result<keto::SubjectTree, tonic::Status> {
    ExpandServiceClient::new(server.read.clone())
        .expand(keto::ExpandRequest {
            subject: set(namespace, object, relation),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().tree.unwrap())
}

/// The field a status names in its `ErrorInfo`.
fn field_of(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get("field").cloned())
        .unwrap_or_default()
}

/// Asserts `status` has `code`, names `field` in its message and details.
#[track_caller]
fn assert_status(status: &tonic::Status, code: Code, field: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    assert!(
        status.message().contains(&format!("`{field}`")),
        "{field} in {status:?}"
    );
    assert_eq!(field_of(status), field, "{status:?}");
}

const DATA: &[&str] = &[
    "document:d1#owner@user:alice",
    "document:d1#viewer@group:eng#member",
    "group:eng#member@user:bob",
    "group:eng#member@group:core#member",
    "group:core#member@user:carol",
    "document:d1#viewer@user:dave",
    "document:d1#banned@user:dave",
    "document:d2#parent@folder:f1",
    "folder:f1#viewer@user:*",
    "folder:f2#owner@user:erin",
    "document:d3#parent@folder:f2",
];

// ---------------------------------------------------------------------------
// 1. Every method.

#[tokio::test]
async fn every_keto_method_answers_over_grpc() {
    let server = GrpcServer::start().await;

    // Transact: one token per delta, the write's for an insert.
    let tokens = insert(&server, DATA).await;
    assert_eq!(tokens.len(), DATA.len());
    assert!(tokens.iter().all(|t| !t.is_empty() && *t == tokens[0]));

    // Checks: allowed, denied (not an error), nested, wildcard, exclusion.
    assert!(allowed(&server, "document:d1#view@user:alice").await);
    assert!(allowed(&server, "document:d1#view@user:carol").await);
    assert!(allowed(&server, "document:d2#view@user:anyone").await);
    assert!(!allowed(&server, "document:d1#view@user:dave").await);
    assert!(!allowed(&server, "document:d1#view@user:mallory").await);
    // A bare subject ID, its type inferred as on REST.
    assert!(allowed(&server, "document:d1#view@alice").await);
    // The deprecated fields 1-4 when `tuple` is unset.
    #[allow(deprecated)]
    let old = checker(&server)
        .check(keto::CheckRequest {
            namespace: "document".into(),
            object: "d1".into(),
            relation: "owner".into(),
            subject: id("user:alice"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(old.allowed);
    assert!(!old.snaptoken.is_empty());

    // At a snapshot token: a token from before a revoke still reads fresh
    // enough to see it gone (at least as fresh), and `latest` too.
    let before = check(&server, "document:d3#view@user:erin", "")
        .await
        .unwrap();
    assert!(before.allowed);
    let revoked = write(&server)
        .transact_relation_tuples(keto::TransactRelationTuplesRequest {
            relation_tuple_deltas: vec![delta(Action::Delete, parse("folder:f2#owner@user:erin"))],
            preconditions: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked.snaptokens, vec![String::new()]);
    let after = check(&server, "document:d3#view@user:erin", &before.snaptoken)
        .await
        .unwrap();
    assert!(!after.allowed);
    assert_ne!(after.snaptoken, before.snaptoken);
    let latest = checker(&server)
        .check(keto::CheckRequest {
            tuple: Some(parse("document:d3#view@user:erin")),
            latest: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!latest.allowed);

    // max_depth may only lower the limit: 1 is too shallow for the nested group.
    let shallow = checker(&server)
        .check(keto::CheckRequest {
            tuple: Some(parse("document:d1#view@user:carol")),
            max_depth: 1,
            ..Default::default()
        })
        .await;
    assert!(
        !matches!(shallow, Ok(ref r) if r.get_ref().allowed),
        "{shallow:?}"
    );

    // Batch check: one answer each, errors inline.
    let batch = checker(&server)
        .batch_check(keto::BatchCheckRequest {
            tuples: vec![
                parse("document:d1#view@user:alice"),
                parse("document:d1#view@user:mallory"),
                parse("document:d1#nope@user:alice"),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let answers: Vec<(bool, bool)> = batch
        .results
        .iter()
        .map(|r| (r.allowed, r.error.is_empty()))
        .collect();
    assert_eq!(answers, vec![(true, true), (false, true), (false, false)]);
    assert!(batch.results[2].error.contains("nope"));
    assert!(batch.results.iter().all(|r| !r.snaptoken.is_empty()));

    // Expand: a union of the stored subjects, the subject set expanded in place.
    let tree = expand(&server, "document", "d1", "viewer").await.unwrap();
    assert_eq!(tree.node_type, keto::NodeType::Union as i32);
    let t = tree.tuple.as_ref().unwrap();
    assert_eq!(
        (t.namespace.as_str(), t.object.as_str(), t.relation.as_str()),
        ("document", "d1", "viewer")
    );
    let kinds: Vec<i32> = tree.children.iter().map(|c| c.node_type).collect();
    assert!(kinds.contains(&(keto::NodeType::Leaf as i32)), "{tree:?}");
    assert!(kinds.contains(&(keto::NodeType::Union as i32)), "{tree:?}");
    #[allow(deprecated)]
    let leaf = tree
        .children
        .iter()
        .find(|c| c.node_type == keto::NodeType::Leaf as i32)
        .unwrap();
    #[allow(deprecated)]
    {
        assert_eq!(leaf.subject, leaf.tuple.as_ref().unwrap().subject);
    }
    // The permission with an exclusion.
    let view = expand(&server, "document", "d1", "view").await.unwrap();
    let json = tree_json(&view);
    assert!(json.to_string().contains("\"exclusion\""), "{json}");
    // A subject ID expands to itself.
    let own = ExpandServiceClient::new(server.read.clone())
        .expand(keto::ExpandRequest {
            subject: id("alice"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tree
        .unwrap();
    assert_eq!(own.node_type, keto::NodeType::Leaf as i32);

    // Listing: a walk by pages of 2 sees every document tuple once.
    let (documents, pages) = list_all(&server, namespace_query("document"), 2).await;
    let expected = DATA.iter().filter(|t| t.starts_with("document:")).count();
    assert_eq!(documents.len(), expected);
    assert_eq!(pages, expected.div_ceil(2));
    let mut seen: Vec<String> = documents.iter().map(|t| format!("{t:?}")).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), expected);
    // The deprecated query and a subject filter.
    let by_subject = ReadServiceClient::new(server.read.clone())
        .list_relation_tuples(keto::ListRelationTuplesRequest {
            #[allow(deprecated)]
            query: Some(keto::list_relation_tuples_request::Query {
                namespace: "group".into(),
                subject: id("user:bob"),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        by_subject.relation_tuples,
        vec![parse("group:eng#member@bob")]
    );

    // Namespaces, in the schema's order.
    let namespaces =
        keto::namespaces_service_client::NamespacesServiceClient::new(server.read.clone())
            .list_namespaces(keto::ListNamespacesRequest {})
            .await
            .unwrap()
            .into_inner();
    let names: Vec<String> = namespaces.namespaces.into_iter().map(|n| n.name).collect();
    assert_eq!(names, ["user", "group", "folder", "document"]);

    // Delete by query: the group tuples go, the rest stay.
    write(&server)
        .delete_relation_tuples(keto::DeleteRelationTuplesRequest {
            relation_query: Some(namespace_query("group")),
            ..Default::default()
        })
        .await
        .unwrap();
    let (groups, _) = list_all(&server, namespace_query("group"), 10).await;
    assert!(groups.is_empty());
    assert!(!allowed(&server, "document:d1#view@user:bob").await);
    assert!(allowed(&server, "document:d1#view@user:alice").await);
}

#[tokio::test]
async fn the_syntax_check_reports_errors_with_their_positions() {
    let server = GrpcServer::start().await;
    let mut syntax = opl::syntax_service_client::SyntaxServiceClient::new(server.syntax.clone());
    let ok = syntax
        .check(opl::CheckRequest {
            content: SCHEMA.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(ok.parse_errors.is_empty(), "{ok:?}");
    let source = "namespace user {}\nnamespace doc {\n  relation viewer: usr\n}\n";
    let answer = syntax
        .check(opl::CheckRequest {
            content: source.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    let error = answer.parse_errors.first().expect("an error");
    assert!(error.message.contains("usr"), "{error:?}");
    let start = error.start.unwrap();
    let end = error.end.unwrap();
    assert_eq!((start.line, start.column), (3, 20), "{error:?}");
    assert_eq!((end.line, end.column), (3, 23), "{error:?}");
    // The same as REST's answer.
    let rest: Value = server
        .http
        .post(format!("http://{}/opl/syntax/check", server.running.syntax))
        .body(source)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rest_errors: Vec<(String, u64, u64, u64, u64)> = rest["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["message"].as_str().unwrap().to_owned(),
                e["start"]["Line"].as_u64().unwrap(),
                e["start"]["column"].as_u64().unwrap(),
                e["end"]["Line"].as_u64().unwrap(),
                e["end"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let grpc_errors: Vec<(String, u64, u64, u64, u64)> = answer
        .parse_errors
        .iter()
        .map(|e| {
            let (s, t) = (e.start.unwrap(), e.end.unwrap());
            (
                e.message.clone(),
                s.line.into(),
                s.column.into(),
                t.line.into(),
                t.column.into(),
            )
        })
        .collect();
    assert_eq!(grpc_errors, rest_errors);
}

// ---------------------------------------------------------------------------
// 2. REST and gRPC answer identically.

/// REST's answer to a check: allowed, or (status, message).
async fn rest_check(
    server: &GrpcServer,
    t: &keto::RelationTuple,
    snaptoken: &str,
) -> Result<bool, (u16, String)> {
    let response = server
        .http
        .post(server.rest_read("/relation-tuples/check/openapi"))
        .query(&[("snaptoken", snaptoken)])
        .json(&rest_json(t))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    if status == 200 {
        Ok(body["allowed"].as_bool().unwrap())
    } else {
        Err((
            status,
            body["error"]["message"].as_str().unwrap().to_owned(),
        ))
    }
}

#[tokio::test]
async fn rest_and_grpc_answer_the_same_questions_identically() {
    let server = GrpcServer::start().await;
    // Written through REST.
    let patch: Vec<Value> = DATA
        .iter()
        .map(|t| json!({"action": "insert", "relation_tuple": rest_json(&parse(t))}))
        .collect();
    let response = server
        .http
        .patch(server.rest_write("/admin/relation-tuples"))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let rest_token = response.headers()["x-zanzi-snaptoken"]
        .to_str()
        .unwrap()
        .to_owned();

    let questions = [
        "document:d1#view@user:alice",
        "document:d1#view@alice",
        "document:d1#view@user:bob",
        "document:d1#view@user:carol",
        "document:d1#view@user:dave",
        "document:d1#view@user:mallory",
        "document:d1#edit@user:alice",
        "document:d2#view@user:anyone",
        "document:d2#edit@user:anyone",
        "document:d3#view@user:erin",
        "document:d1#viewer@group:eng#member",
        "group:eng#member@user:carol",
        "document:d1#nope@user:alice",
        "nothing:d1#view@user:alice",
        "document:d1#view@group:eng#nope",
        "document:d1#view@nobody:x#member",
    ];
    let mut errors = 0;
    for text in questions {
        let t = parse(text);
        let rest = rest_check(&server, &t, &rest_token).await;
        let grpc = check(&server, text, &rest_token).await;
        match (&rest, &grpc) {
            (Ok(a), Ok(b)) => assert_eq!(*a, b.allowed, "{text}"),
            (Err((status, message)), Err(s)) => {
                errors += 1;
                let code = zanzi::server::grpc::status::code_for(
                    http::StatusCode::from_u16(*status).unwrap(),
                    "",
                );
                assert_eq!(s.code(), code, "{text}: {s:?}");
                assert!(
                    s.message().ends_with(message.as_str()),
                    "{text}: {s:?} vs {message}"
                );
                assert!(s.message().starts_with("`tuple."), "{text}: {s:?}");
            }
            _ => panic!("{text}: REST {rest:?}, gRPC {grpc:?}"),
        }
    }
    assert_eq!(errors, 4);

    // Listings, by pages of 3, and with a subject filter.
    for (query, grpc_query) in [
        (vec![("namespace", "document")], namespace_query("document")),
        (
            vec![("namespace", "document"), ("subject_id", "user:dave")],
            keto::RelationQuery {
                namespace: Some("document".into()),
                subject: id("user:dave"),
                ..Default::default()
            },
        ),
        (vec![], keto::RelationQuery::default()),
    ] {
        let mut rest_all = Vec::new();
        let mut page_token = String::new();
        loop {
            let mut params = query.clone();
            params.push(("page_size", "3"));
            if !page_token.is_empty() {
                params.push(("page_token", &page_token));
            }
            let page: Value = server
                .http
                .get(server.rest_read("/relation-tuples"))
                .query(&params)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            rest_all.extend(page["relation_tuples"].as_array().unwrap().iter().cloned());
            match page["next_page_token"].as_str() {
                Some("") | None => break,
                Some(next) => page_token = next.to_owned(),
            }
        }
        let (grpc_all, _) = list_all(&server, grpc_query, 3).await;
        let grpc_all: Vec<Value> = grpc_all.iter().map(rest_json).collect();
        assert!(!rest_all.is_empty());
        assert_eq!(grpc_all, rest_all, "{query:?}");
    }

    // Expands.
    for (namespace, object, relation) in [
        ("document", "d1", "view"),
        ("document", "d1", "viewer"),
        ("document", "d2", "view"),
        ("group", "eng", "member"),
    ] {
        let rest: Value = server
            .http
            .get(server.rest_read("/relation-tuples/expand"))
            .query(&[
                ("namespace", namespace),
                ("object", object),
                ("relation", relation),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let grpc = expand(&server, namespace, object, relation).await.unwrap();
        assert_eq!(
            tree_json(&grpc),
            rest_tree_as_grpc(rest),
            "{namespace}:{object}#{relation}"
        );
    }
    // An unknown relation: the same error both ways.
    let rest = server
        .http
        .get(server.rest_read("/relation-tuples/expand"))
        .query(&[
            ("namespace", "document"),
            ("object", "d1"),
            ("relation", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 404);
    let rest: Value = rest.json().await.unwrap();
    let grpc = expand(&server, "document", "d1", "nope").await.unwrap_err();
    assert_status(&grpc, Code::NotFound, "subject.set.relation");
    assert!(grpc
        .message()
        .ends_with(rest["error"]["message"].as_str().unwrap()));

    // Tokens cross over: a gRPC write's token read by a REST check...
    let tokens = insert(&server, &["document:d9#owner@user:zoe"]).await;
    let t = parse("document:d9#view@user:zoe");
    assert_eq!(rest_check(&server, &t, &tokens[0]).await, Ok(true));
    // ... and a REST write's token by a gRPC check.
    let response = server
        .http
        .put(server.rest_write("/admin/relation-tuples"))
        .json(&rest_json(&parse("document:d8#owner@user:yan")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token = response.headers()["x-zanzi-snaptoken"]
        .to_str()
        .unwrap()
        .to_owned();
    let answer = check(&server, "document:d8#view@user:yan", &token)
        .await
        .unwrap();
    assert!(answer.allowed);
}

// ---------------------------------------------------------------------------
// 3. Bad input.

/// Sends `bytes` as the message of a unary call to `path`.
async fn raw_call(channel: Channel, path: &'static str, bytes: Vec<u8>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(bytes),
        http::uri::PathAndQuery::from_static(path),
        raw::Codec,
    )
    .await
    .unwrap_err()
}

mod raw {
    //! A codec that sends and receives bytes as they are.
    use prost::bytes::{Buf, BufMut};
    use tonic::codec::{DecodeBuf, EncodeBuf};
    use tonic::Status;

    pub struct Codec;
    pub struct Encoder;
    pub struct Decoder;

    impl tonic::codec::Encoder for Encoder {
        type Item = Vec<u8>;
        type Error = Status;
        fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
            dst.put_slice(&item);
            Ok(())
        }
    }

    impl tonic::codec::Decoder for Decoder {
        type Item = Vec<u8>;
        type Error = Status;
        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
            let mut out = vec![0; src.remaining()];
            src.copy_to_slice(&mut out);
            Ok(Some(out))
        }
    }

    impl tonic::codec::Codec for Codec {
        type Encode = Vec<u8>;
        type Decode = Vec<u8>;
        type Encoder = Encoder;
        type Decoder = Decoder;
        fn encoder(&mut self) -> Encoder {
            Encoder
        }
        fn decoder(&mut self) -> Decoder {
            Decoder
        }
    }
}

/// The store's head and every tuple in it.
fn contents(server: &GrpcServer) -> (zanzi::store::Revision, Vec<String>) {
    let store = server.store();
    let head = store.head_revision().unwrap();
    let page = store
        .snapshot(head)
        .unwrap()
        .list(&TupleFilter::default(), &PageRequest::first(10_000))
        .unwrap();
    (head, page.items.iter().map(ToString::to_string).collect())
}

#[tokio::test]
async fn bad_input_gets_a_precise_status_naming_the_field_and_changes_nothing() {
    let server = GrpcServer::start_with(
        zanzi::server::config::Settings {
            grpc_max_message_bytes: 4096,
            max_page_size: 100,
            ..settings()
        },
        SCHEMA,
        Arc::new(MemoryStore::new()),
    )
    .await;
    let tokens = insert(&server, DATA).await;
    let token = tokens[0].clone();
    let before = contents(&server);

    // Malformed protobuf: a `tuple` (field 8) whose namespace (field 1)
    // claims more bytes than there are.
    let status = raw_call(
        server.read.clone(),
        "/ory.keto.relation_tuples.v1alpha2.CheckService/Check",
        vec![0x42, 0x03, 0x0a, 0x09, b'x'],
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains("RelationTuple.namespace"),
        "{status:?}"
    );
    // Garbage on the write port.
    let status = raw_call(
        server.write.clone(),
        "/ory.keto.relation_tuples.v1alpha2.WriteService/TransactRelationTuples",
        vec![0xff, 0xff, 0xff, 0xff],
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    // Unknown namespace and relation: NOT_FOUND on a read...
    let status = check(&server, "nothing:x#view@user:alice", "")
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, "tuple.namespace");
    let status = check(&server, "document:x#nope@user:alice", "")
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, "tuple.relation");
    let status = check(&server, "document:x#view@group:eng#nope", "")
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, "tuple.subject.set.relation");
    // ... refused on a write, naming the delta; the valid delta before it
    // is not written either.
    let transact = |deltas: Vec<keto::RelationTupleDelta>| {
        let mut client = write(&server);
        async move {
            client
                .transact_relation_tuples(keto::TransactRelationTuplesRequest {
                    relation_tuple_deltas: deltas,
                    preconditions: Vec::new(),
                })
                .await
                .unwrap_err()
        }
    };
    let good = || delta(Action::Insert, parse("document:new#owner@user:alice"));
    let status = transact(vec![
        good(),
        delta(Action::Insert, parse("nothing:x#owner@user:a")),
    ])
    .await;
    assert_status(
        &status,
        Code::InvalidArgument,
        "relation_tuple_deltas[1].relation_tuple.namespace",
    );
    let status = transact(vec![
        good(),
        delta(Action::Insert, parse("document:x#nope@user:a")),
    ])
    .await;
    assert_status(
        &status,
        Code::InvalidArgument,
        "relation_tuple_deltas[1].relation_tuple.relation",
    );
    // A permission as a write target.
    let status = transact(vec![
        good(),
        delta(Action::Insert, parse("document:x#view@user:a")),
    ])
    .await;
    assert_status(
        &status,
        Code::InvalidArgument,
        "relation_tuple_deltas[1].relation_tuple.relation",
    );
    assert!(status.message().contains("permission"), "{status:?}");
    // A subject the relation does not accept.
    let status = transact(vec![delta(
        Action::Insert,
        parse("document:x#owner@group:eng#member"),
    )])
    .await;
    assert_status(
        &status,
        Code::InvalidArgument,
        "relation_tuple_deltas[0].relation_tuple.subject.set",
    );
    // No subject, no action.
    let status = transact(vec![delta(
        Action::Insert,
        tuple("document", "x", "owner", None),
    )])
    .await;
    assert_status(
        &status,
        Code::InvalidArgument,
        "relation_tuple_deltas[0].relation_tuple.subject",
    );
    let status = transact(vec![
        good(),
        keto::RelationTupleDelta {
            action: Action::Unspecified.into(),
            relation_tuple: Some(parse("document:y#owner@user:a")),
        },
    ])
    .await;
    assert_status(
        &status,
        Code::InvalidArgument,
        "relation_tuple_deltas[1].action",
    );
    // A precondition that does not hold (documents exist): nothing written.
    let status = write(&server)
        .transact_relation_tuples(keto::TransactRelationTuplesRequest {
            relation_tuple_deltas: vec![good()],
            preconditions: vec![keto::Precondition {
                operation: keto::precondition::Operation::MustNotExist.into(),
                query: Some(namespace_query("document")),
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(field_of(&status), "preconditions[0]", "{status:?}");

    // Tokens: garbage, forged, of another store.
    let status = check(&server, "document:d1#view@user:alice", "garbage")
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "snaptoken");
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let status = check(&server, "document:d1#view@user:alice", &forged)
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "snaptoken");
    let other = GrpcServer::start().await;
    let other_token = insert(&other, &["document:o#owner@user:o"]).await.remove(0);
    let status = check(&server, "document:d1#view@user:alice", &other_token)
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "snaptoken");

    // Listings: a page size above the maximum, a negative one, a foreign page token.
    let mut read = ReadServiceClient::new(server.read.clone());
    let list = |page_size: i32, page_token: &str| keto::ListRelationTuplesRequest {
        relation_query: Some(namespace_query("document")),
        page_size,
        page_token: page_token.to_owned(),
        ..Default::default()
    };
    let status = read.list_relation_tuples(list(101, "")).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, "page_size");
    let status = read.list_relation_tuples(list(-1, "")).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, "page_size");
    let status = read
        .list_relation_tuples(list(2, &token))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "page_token");
    let status = read
        .list_relation_tuples(keto::ListRelationTuplesRequest {
            relation_query: Some(namespace_query("nothing")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, "relation_query.namespace");
    let status = read
        .list_relation_tuples(keto::ListRelationTuplesRequest::default())
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "relation_query");

    // Deletes: without a namespace, with an unknown one.
    let status = write(&server)
        .delete_relation_tuples(keto::DeleteRelationTuplesRequest {
            relation_query: Some(keto::RelationQuery::default()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "relation_query.namespace");
    let status = write(&server)
        .delete_relation_tuples(keto::DeleteRelationTuplesRequest {
            relation_query: Some(keto::RelationQuery {
                namespace: Some("document".into()),
                relation: Some("nope".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, "relation_query.relation");

    // A negative max_depth; an expand without a subject.
    let status = checker(&server)
        .check(keto::CheckRequest {
            tuple: Some(parse("document:d1#view@user:alice")),
            max_depth: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "max_depth");
    let status = ExpandServiceClient::new(server.read.clone())
        .expand(keto::ExpandRequest::default())
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "subject");

    // The syntax check's content must be UTF-8.
    let status = opl::syntax_service_client::SyntaxServiceClient::new(server.syntax.clone())
        .check(opl::CheckRequest {
            content: vec![b'n', 0xff, 0xfe],
        })
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, "content");

    // A message over the limit.
    let status = transact(vec![delta(
        Action::Insert,
        parse(&format!("document:{}#owner@user:a", "x".repeat(8000))),
    )])
    .await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("limit"), "{status:?}");

    assert_eq!(contents(&server), before);
}
