//! zanzi's own gRPC services (`zanzi.v1`): bulk checks, explanations,
//! streamed lookups with cursors, and the schema, each against what the
//! REST API answers for the same question; and the CLI's `--remote
//! grpc://` against `--remote http://`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use support::grpc::{settings, GrpcServer, SCHEMA};
use tokio_stream::StreamExt as _;
use tonic::Code;
use zanzi::api::proto::zanzi::v1 as pb;
use zanzi::store::MemoryStore;
use zanzi::Tuple;

use pb::permission_service_client::PermissionServiceClient;
use pb::schema_service_client::SchemaServiceClient;
use pb::schema_write_service_client::SchemaWriteServiceClient;

/// A server whose pages hold two items and whose batches hold at most
/// four checks.
async fn server() -> GrpcServer {
    let settings = zanzi::server::config::Settings {
        default_page_size: 2,
        max_batch: 4,
        ..settings()
    };
    GrpcServer::start_with(settings, SCHEMA, Arc::new(MemoryStore::new())).await
}

fn write(server: &GrpcServer, tuples: &[&str]) {
    let tuples: Vec<Tuple> = tuples.iter().map(|t| t.parse().unwrap()).collect();
    let revision = server.store().write(&tuples, &[]).unwrap();
    server.running.state.saw(revision);
}

fn object(namespace: &str, id: &str) -> Option<pb::ObjectRef> {
    Some(pb::ObjectRef {
        namespace: namespace.into(),
        id: id.into(),
    })
}

fn subject(namespace: &str, id: &str, relation: &str) -> Option<pb::SubjectRef> {
    Some(pb::SubjectRef {
        object: object(namespace, id),
        relation: relation.into(),
    })
}

fn item(ns: &str, id: &str, relation: &str, user: &str) -> pb::CheckItem {
    pb::CheckItem {
        object: object(ns, id),
        relation: relation.into(),
        subject: subject("user", user, ""),
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
async fn bulk_check_answers_each_item_on_its_own_at_one_snapshot() {
    let server = server().await;
    write(
        &server,
        &[
            "folder:f#viewer@user:ann",
            "document:d#parent@folder:f",
            "document:d#banned@user:bob",
            "folder:f#viewer@user:bob",
        ],
    );
    let mut client = PermissionServiceClient::new(server.read.clone());
    let answer = client
        .bulk_check(pb::BulkCheckRequest {
            context: String::new(),
            contextual_tuples: Vec::new(),
            items: vec![
                item("document", "d", "view", "ann"),
                item("document", "d", "view", "bob"),
                item("document", "d", "vew", "ann"),
                item("nope", "d", "view", "ann"),
            ],
            consistency: None,
            max_depth: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let results: Vec<(bool, i32)> = answer.results.iter().map(|r| (r.allowed, r.code)).collect();
    assert_eq!(
        results,
        [
            (true, 0),
            (false, 0),
            (false, Code::NotFound as i32),
            (false, Code::NotFound as i32)
        ]
    );
    assert!(answer.results[0].error.is_empty());
    assert!(
        answer.results[2].error.contains("`items[2].relation`")
            && answer.results[2].error.contains("did you mean `view`"),
        "{}",
        answer.results[2].error
    );
    assert!(answer.results[3]
        .error
        .contains("`items[3].object.namespace`"));
    let token = answer.checked_at.unwrap().token;
    assert!(token.starts_with("zk2_"), "{token}");

    // The token names the snapshot: a check at exactly it after a change
    // answers as before.
    write(&server, &["document:d#banned@user:ann"]);
    let at_token = |token: String| pb::BulkCheckRequest {
        context: String::new(),
        contextual_tuples: Vec::new(),
        items: vec![item("document", "d", "view", "ann")],
        consistency: Some(pb::Consistency {
            requirement: Some(pb::consistency::Requirement::AtExactSnapshot(token)),
        }),
        max_depth: 0,
    };
    let old = client
        .bulk_check(at_token(token))
        .await
        .unwrap()
        .into_inner();
    assert!(old.results[0].allowed);
    let now = client
        .bulk_check(pb::BulkCheckRequest {
            items: vec![item("document", "d", "view", "ann")],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!now.results[0].allowed);

    // More than max_batch items: refused whole, naming `items`.
    let error = client
        .bulk_check(pb::BulkCheckRequest {
            items: vec![item("document", "d", "view", "ann"); 5],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(field_of(&error), "items");
    assert!(
        error.message().contains("maximum of 4"),
        "{}",
        error.message()
    );

    // A structural error in an item is that item's error.
    let answer = client
        .bulk_check(pb::BulkCheckRequest {
            items: vec![pb::CheckItem {
                object: object("document", "d"),
                relation: "view".into(),
                subject: None,
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.results[0].code, Code::InvalidArgument as i32);
    assert!(answer.results[0]
        .error
        .contains("`items[0].subject` is required"));

    // A bad token in `consistency` is the request's error.
    let error = client
        .bulk_check(at_token("zk1_garbage".into()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(field_of(&error), "consistency.at_exact_snapshot");
}

fn explain_request(id: &str, relation: &str, user: &str) -> pb::CheckWithExplanationRequest {
    pb::CheckWithExplanationRequest {
        context: String::new(),
        contextual_tuples: Vec::new(),
        check: Some(item("document", id, relation, user)),
        consistency: None,
        max_depth: 0,
    }
}

/// Every step name in the tree, depth first.
fn steps(node: &pb::ExplainNode, out: &mut Vec<String>) {
    out.push(node.step.clone());
    for child in &node.children {
        steps(child, out);
    }
}

#[tokio::test]
async fn explanations_map_the_engine_tree_for_granted_and_denied_checks() {
    let server = server().await;
    write(
        &server,
        &["folder:f#owner@user:ann", "document:d#parent@folder:f"],
    );
    let mut client = PermissionServiceClient::new(server.read.clone());
    let granted = client
        .check_with_explanation(explain_request("d", "view", "ann"))
        .await
        .unwrap()
        .into_inner();
    assert!(granted.allowed);
    assert_eq!(granted.outcome, pb::Outcome::Granted as i32);
    assert_eq!(granted.question, "document:d#view@user:ann");
    let tree = granted.tree.clone().unwrap();
    assert_eq!(tree.step, "permission");
    assert_eq!(tree.details.get("userset").unwrap(), "document:d#view");
    let mut names = Vec::new();
    steps(&tree, &mut names);
    assert!(names.contains(&"arrow".to_owned()), "{names:?}");
    assert!(names.contains(&"tuple".to_owned()), "{names:?}");

    // The same tree as REST's explanation, node for node.
    let rest: serde_json::Value = server
        .http
        .post(server.rest_read("/zanzi/v1/check/explain"))
        .json(&serde_json::json!({"tuple": "document:d#view@user:ann"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    fn same(rest: &serde_json::Value, grpc: &pb::ExplainNode) {
        assert_eq!(rest["step"], grpc.step.as_str());
        let outcome = match grpc.outcome {
            1 => "granted",
            2 => "denied",
            _ => "unknown",
        };
        assert_eq!(rest["outcome"], outcome);
        for (key, value) in &grpc.details {
            assert_eq!(rest[key.as_str()], value.as_str(), "{key}");
        }
        let children = rest["children"].as_array().cloned().unwrap_or_default();
        assert_eq!(children.len(), grpc.children.len());
        for (r, g) in children.iter().zip(&grpc.children) {
            same(r, g);
        }
    }
    same(&rest["explanation"]["tree"], &tree);

    let denied = client
        .check_with_explanation(explain_request("d", "view", "bob"))
        .await
        .unwrap()
        .into_inner();
    assert!(!denied.allowed);
    assert_eq!(denied.outcome, pb::Outcome::Denied as i32);
    let tree = denied.tree.unwrap();
    assert_eq!(tree.outcome, pb::Outcome::Denied as i32);
    assert!(!tree.children.is_empty());
    assert!(denied.checked_at.unwrap().token.starts_with("zk2_"));

    let error = client
        .check_with_explanation(explain_request("d", "viewr", "ann"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    assert_eq!(field_of(&error), "check.relation");
    let error = client
        .check_with_explanation(pb::CheckWithExplanationRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(field_of(&error), "check");
}

fn lookup(cursor: &str, limit: u32) -> pb::LookupResourcesRequest {
    pb::LookupResourcesRequest {
        context: String::new(),
        contextual_tuples: Vec::new(),
        namespace: "document".into(),
        relation: "view".into(),
        subject: subject("user", "ann", ""),
        consistency: None,
        limit,
        cursor: cursor.into(),
    }
}

async fn collect<T>(
    stream: Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>,
) -> Result<Vec<T>, tonic::Status> {
    let mut stream = stream?.into_inner();
    let mut out = Vec::new();
    while let Some(message) = stream.next().await {
        out.push(message?);
    }
    Ok(out)
}

#[tokio::test]
async fn lookup_resources_streams_pages_that_resume_from_any_cursor() {
    let server = server().await;
    let mut tuples: Vec<String> = (0..7)
        .map(|i| format!("document:d{i}#viewer@user:ann"))
        .collect();
    tuples.push("document:other#viewer@user:bob".into());
    tuples.push("folder:f#viewer@user:ann".into());
    tuples.push("document:viaf#parent@folder:f".into());
    write(
        &server,
        &tuples.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut client = PermissionServiceClient::new(server.read.clone());
    let pages = collect(client.lookup_resources(lookup("", 0)).await)
        .await
        .unwrap();
    // Pages of two (the server's page size), the last without a cursor.
    assert!(pages.len() >= 4, "{pages:?}");
    assert!(pages.iter().all(|p| p.object_ids.len() <= 2));
    assert!(pages.last().unwrap().after_cursor.is_empty());
    assert!(pages[..pages.len() - 1]
        .iter()
        .all(|p| !p.after_cursor.is_empty()));
    let streamed: Vec<String> = pages.iter().flat_map(|p| p.object_ids.clone()).collect();

    // The same set as REST's pages.
    let mut rest_ids = Vec::new();
    let mut token = String::new();
    let mut first_rest_token = None;
    loop {
        let page: serde_json::Value = server
            .http
            .post(server.rest_read("/zanzi/v1/lookup-resources"))
            .json(&serde_json::json!({
                "namespace": "document", "relation": "view", "subject": "user:ann",
                "page_size": 3, "page_token": token,
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        rest_ids.extend(
            page["object_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        token = page["next_page_token"].as_str().unwrap().to_owned();
        first_rest_token.get_or_insert_with(|| token.clone());
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(streamed, rest_ids);
    assert_eq!(streamed.len(), 8);
    assert!(streamed.contains(&"viaf".to_owned()));

    // Resuming after the second page gives exactly the rest, at the first
    // snapshot even though the data changed since.
    write(&server, &["document:zz#viewer@user:ann"]);
    let rest = collect(
        client
            .lookup_resources(lookup(&pages[1].after_cursor, 0))
            .await,
    )
    .await
    .unwrap();
    let rest: Vec<String> = rest.iter().flat_map(|p| p.object_ids.clone()).collect();
    assert_eq!(rest, streamed[4..]);

    // `limit` counts objects in all; its last page resumes.
    let limited = collect(client.lookup_resources(lookup("", 3)).await)
        .await
        .unwrap();
    let ids: Vec<String> = limited.iter().flat_map(|p| p.object_ids.clone()).collect();
    assert_eq!(ids, streamed[..3]);
    let cursor = &limited.last().unwrap().after_cursor;
    assert!(!cursor.is_empty());

    // A REST page token resumes a gRPC stream (one token format).
    let after_rest = collect(
        client
            .lookup_resources(lookup(&first_rest_token.unwrap(), 0))
            .await,
    )
    .await
    .unwrap();
    let after_rest: Vec<String> = after_rest
        .iter()
        .flat_map(|p| p.object_ids.clone())
        .collect();
    assert_eq!(after_rest, streamed[3..]);

    // A cursor of another query is refused naming `cursor`.
    let mut other = lookup(cursor, 0);
    other.subject = subject("user", "bob", "");
    let error = collect(client.lookup_resources(other).await)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(field_of(&error), "cursor");
    assert!(
        error.message().starts_with("`cursor`"),
        "{}",
        error.message()
    );

    let mut unknown = lookup("", 0);
    unknown.relation = "vew".into();
    let error = collect(client.lookup_resources(unknown).await)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    assert_eq!(field_of(&error), "relation");
}

#[tokio::test]
async fn lookup_subjects_sends_the_wildcard_first_and_resumes_by_cursor() {
    let server = server().await;
    write(
        &server,
        &[
            "folder:f#viewer@user:*",
            "folder:f#viewer@user:carl",
            "folder:f#owner@user:ann",
            "folder:f#viewer@group:eng#member",
            "group:eng#member@user:bob",
        ],
    );
    let mut client = PermissionServiceClient::new(server.read.clone());
    let request = |cursor: &str, limit: u32| pb::LookupSubjectsRequest {
        context: String::new(),
        contextual_tuples: Vec::new(),
        object: object("folder", "f"),
        relation: "view".into(),
        subject_namespace: "user".into(),
        consistency: None,
        limit,
        cursor: cursor.into(),
    };
    let all = collect(client.lookup_subjects(request("", 0)).await)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].wildcard);
    assert_eq!(all[0].subject_ids, ["ann", "bob", "carl"]);
    assert!(all[0].after_cursor.is_empty());

    let first = collect(client.lookup_subjects(request("", 1)).await)
        .await
        .unwrap();
    assert_eq!(first[0].subject_ids, ["ann"]);
    assert!(first[0].wildcard);
    let rest = collect(
        client
            .lookup_subjects(request(&first[0].after_cursor, 0))
            .await,
    )
    .await
    .unwrap();
    assert_eq!(rest[0].subject_ids, ["bob", "carl"]);
    assert!(rest.last().unwrap().after_cursor.is_empty());

    let mut other = request(&first[0].after_cursor, 0);
    other.relation = "owner".into();
    let error = collect(client.lookup_subjects(other).await)
        .await
        .unwrap_err();
    assert_eq!(field_of(&error), "cursor");
    let mut unknown = request("", 0);
    unknown.subject_namespace = "usr".into();
    let error = collect(client.lookup_subjects(unknown).await)
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::NotFound);
    assert_eq!(field_of(&error), "subject_namespace");
}

#[tokio::test]
async fn read_schema_answers_the_served_schema_as_rest_does() {
    let server = server().await;
    let answer = SchemaServiceClient::new(server.read.clone())
        .read_schema(pb::ReadSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    let rest: serde_json::Value = server
        .http
        .get(server.rest_read("/zanzi/v1/schema"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["hash"], answer.hash.as_str());
    let ir: serde_json::Value = serde_json::from_str(&answer.ir_json).unwrap();
    assert_eq!(rest["ir"], ir);
}

const NEW_SCHEMA: &str = "
namespace user {}
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
  relation banned: user
  relation editor: user
  permission edit = owner | editor | parent->view
  permission view = (owner | viewer | parent->view) - banned
}
";

fn write_schema(source: &str, expected_hash: &str) -> pb::WriteSchemaRequest {
    pb::WriteSchemaRequest {
        source: source.into(),
        expected_hash: expected_hash.into(),
    }
}

#[tokio::test]
async fn write_schema_compiles_refuses_and_compares_and_sets() {
    let server = server().await;
    let mut writer = SchemaWriteServiceClient::new(server.write.clone());
    let mut reader = SchemaServiceClient::new(server.read.clone());
    let old = reader
        .read_schema(pb::ReadSchemaRequest {})
        .await
        .unwrap()
        .into_inner()
        .hash;

    // A compile error: the rendered diagnostic, at line:column of `source`.
    let error = writer
        .write_schema(write_schema(
            "namespace user {}\nnamespace doc {\n  relation viewer: usr\n}\n",
            "",
        ))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(field_of(&error), "source");
    assert!(error.message().contains("source:3:"), "{}", error.message());

    // Not the hash the caller expected: nothing stored.
    let error = writer
        .write_schema(write_schema(NEW_SCHEMA, "sha256:0000"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    assert_eq!(field_of(&error), "expected_hash");
    assert_eq!(
        reader
            .read_schema(pb::ReadSchemaRequest {})
            .await
            .unwrap()
            .into_inner()
            .hash,
        old
    );

    // The next check uses the new schema.
    write(&server, &["document:d#owner@user:ann"]);
    let answer = writer
        .write_schema(write_schema(NEW_SCHEMA, &old))
        .await
        .unwrap()
        .into_inner();
    assert!(answer.changed);
    assert_ne!(answer.hash, old);
    assert_eq!(
        server.store().schema_hash().unwrap().as_deref(),
        Some(answer.hash.as_str())
    );
    let mut client = PermissionServiceClient::new(server.read.clone());
    let checked = client
        .bulk_check(pb::BulkCheckRequest {
            items: vec![item("document", "d", "editor", "ann")],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(checked.results[0].code, 0, "{}", checked.results[0].error);
    assert!(!checked.results[0].allowed);
    let again = writer
        .write_schema(write_schema(NEW_SCHEMA, ""))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.changed);
    assert_eq!(again.hash, answer.hash);

    // Stored tuples that would not fit: refused, nothing stored.
    write(&server, &["document:d#editor@user:bob"]);
    let error = writer
        .write_schema(write_schema(SCHEMA, ""))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::FailedPrecondition);
    assert!(
        error.message().contains("document:d#editor@user:bob"),
        "{}",
        error.message()
    );
    assert_eq!(
        reader
            .read_schema(pb::ReadSchemaRequest {})
            .await
            .unwrap()
            .into_inner()
            .hash,
        answer.hash
    );

    // A compiled IR (JSON) is accepted too.
    let ir = reader
        .read_schema(pb::ReadSchemaRequest {})
        .await
        .unwrap()
        .into_inner()
        .ir_json;
    let same = writer
        .write_schema(write_schema(&ir, &answer.hash))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (same.hash.as_str(), same.changed),
        (answer.hash.as_str(), false)
    );
}

/// Runs the `zanzi` binary off the runtime's threads: (exit code, stdout,
/// stderr).
async fn zanzi(args: Vec<String>) -> (Option<i32>, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn cli_check_over_grpc_prints_what_it_prints_over_http() {
    let server = server().await;
    write(
        &server,
        &[
            "folder:f#owner@user:ann",
            "document:d#parent@folder:f",
            "document:d#banned@user:bob",
            "folder:f#viewer@user:bob",
        ],
    );
    let http = format!("http://{}", server.running.read);
    let grpc = format!("grpc://{}", server.running.read);
    for question in [
        "document:d#view@user:ann",
        "document:d#view@user:bob",
        "document:d#edit@user:carl",
    ] {
        for extra in [&[][..], &["--explain"][..]] {
            let run = |url: &str| {
                let mut list = args(&["check", "--remote", url, question]);
                list.extend(args(extra));
                zanzi(list)
            };
            let over_http = run(&http).await;
            let over_grpc = run(&grpc).await;
            assert_eq!(
                over_http.0, over_grpc.0,
                "{question} {extra:?}: {over_grpc:?}"
            );
            assert_eq!(over_http.1, over_grpc.1, "{question} {extra:?}");
            assert!(!over_grpc.1.is_empty());
        }
    }
    let (code, stdout, _) = zanzi(args(&[
        "check",
        "--remote",
        &grpc,
        "document:d#view@user:ann",
    ]))
    .await;
    assert_eq!((code, stdout.as_str()), (Some(0), "allowed\n"));
    let (code, stdout, _) = zanzi(args(&[
        "check",
        "--remote",
        &grpc,
        "document:d#view@user:bob",
    ]))
    .await;
    assert_eq!((code, stdout.as_str()), (Some(1), "denied\n"));
    // An unknown relation: an error naming it, as over HTTP.
    let (code, _, stderr) = zanzi(args(&[
        "check",
        "--remote",
        &grpc,
        "document:d#vew@user:ann",
    ]))
    .await;
    assert_ne!(code, Some(0));
    assert!(stderr.contains("did you mean `view`"), "{stderr}");
}

/// Writes, listings and deletes through `grpc://` go through Keto's
/// `WriteService` and `ReadService`, with tokens from the
/// `x-zanzi-snaptoken` metadata.
#[tokio::test]
async fn cli_tuples_write_over_grpc_prints_what_it_prints_over_http() {
    let server = server().await;
    let over = |scheme: &str, port: std::net::SocketAddr, tuple: &str| {
        zanzi(args(&[
            "tuples",
            "write",
            "--write-remote",
            &format!("{scheme}://{port}"),
            tuple,
        ]))
    };
    let over_http = over("http", server.running.write, "document:a#viewer@user:ann").await;
    let over_grpc = over("grpc", server.running.write, "document:b#viewer@user:ann").await;
    let strip = |out: &str| out.split("snaptoken").next().unwrap_or_default().to_owned();
    assert_eq!(over_http.0, Some(0), "{over_http:?}");
    assert_eq!(over_grpc.0, Some(0), "{over_grpc:?}");
    assert_eq!(strip(&over_http.1), strip(&over_grpc.1));
    assert!(over_grpc.1.contains("snaptoken zk2_"), "{}", over_grpc.1);
    let listed = zanzi(args(&[
        "tuples",
        "export",
        "--remote",
        &format!("grpc://{}", server.running.read),
    ]))
    .await;
    assert!(
        listed.1.contains("document:b#viewer@user:ann"),
        "{listed:?}"
    );
    // A permission as a write target: refused, nothing written.
    let refused = over("grpc", server.running.write, "document:c#view@user:ann").await;
    let refused_http = over("http", server.running.write, "document:c#view@user:ann").await;
    assert_eq!(refused.0, refused_http.0, "{refused:?} {refused_http:?}");
    assert_ne!(refused.0, Some(0), "{refused:?}");
    assert!(refused.2.contains("is a permission"), "{refused:?}");
}
