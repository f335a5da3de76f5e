//! The OpenAPI document of every endpoint, built from the code: the body and
//! answer schemas are derived from the wire types ([`utoipa::ToSchema`]),
//! the operations come from [`ENDPOINTS`], which a test checks against the
//! routers (every listed operation is routed, on its listener). Served at
//! `GET /openapi.json` on the read listener; `docs/openapi.json` is a copy
//! that a test keeps in sync.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::openapi::content::Content;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, Ref, Required};
use utoipa::OpenApi as _;

use super::AppState;

/// Which listener serves an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Read,
    Write,
    Metrics,
    Syntax,
    /// Every listener.
    All,
}

/// One operation.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub listener: Listener,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub query: &'static [&'static str],
    /// The request body's schema, if any (`text` for plain text).
    pub body: Option<&'static str>,
    /// Status, description, schema of the answer.
    pub responses: &'static [(u16, &'static str, Option<&'static str>)],
}

const RELATION_QUERY: &[&str] = &[
    "namespace",
    "object",
    "relation",
    "subject_id",
    "subject_set.namespace",
    "subject_set.object",
    "subject_set.relation",
];
const CHECK_QUERY: &[&str] = &[
    "namespace",
    "object",
    "relation",
    "subject_id",
    "subject_set.namespace",
    "subject_set.object",
    "subject_set.relation",
    "max-depth",
    "consistency",
    "snaptoken",
];
const LIST_QUERY: &[&str] = &[
    "namespace",
    "object",
    "relation",
    "subject_id",
    "subject_set.namespace",
    "subject_set.object",
    "subject_set.relation",
    "page_size",
    "page_token",
    "consistency",
    "snaptoken",
];
const READ_OPTIONS: &[&str] = &["max-depth", "consistency", "snaptoken"];
const E: Option<&str> = Some("ErrorGeneric");

/// Every endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/relation-tuples",
        listener: Listener::Read,
        operation_id: "getRelationships",
        summary: "List relationships matching a query, a page at a time",
        query: LIST_QUERY,
        body: None,
        responses: &[
            (200, "a page of relationships", Some("Relationships")),
            (400, "bad query or token", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/check",
        listener: Listener::Read,
        operation_id: "checkPermissionOrError",
        summary: "Check a permission: 200 when allowed, 403 when denied",
        query: CHECK_QUERY,
        body: None,
        responses: &[
            (200, "allowed", Some("CheckResult")),
            (403, "denied", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/check",
        listener: Listener::Read,
        operation_id: "postCheckPermissionOrError",
        summary: "Check a permission (body): 200 when allowed, 403 when denied",
        query: READ_OPTIONS,
        body: Some("Relationship"),
        responses: &[
            (200, "allowed", Some("CheckResult")),
            (403, "denied", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            (413, "body too large", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/check/openapi",
        listener: Listener::Read,
        operation_id: "checkPermission",
        summary: "Check a permission: always 200 with `allowed`",
        query: CHECK_QUERY,
        body: None,
        responses: &[
            (200, "the answer", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/check/openapi",
        listener: Listener::Read,
        operation_id: "postCheckPermission",
        summary: "Check a permission (body): always 200 with `allowed`",
        query: READ_OPTIONS,
        body: Some("Relationship"),
        responses: &[
            (200, "the answer", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            (413, "body too large", E),
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/batch/check",
        listener: Listener::Read,
        operation_id: "batchCheckPermission",
        summary: "Check many permissions at one snapshot",
        query: READ_OPTIONS,
        body: Some("BatchCheckBody"),
        responses: &[
            (200, "one answer per tuple", Some("BatchCheckResult")),
            (400, "bad request", E),
            (413, "body too large", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/expand",
        listener: Listener::Read,
        operation_id: "expandPermissions",
        summary: "Expand a userset into its tree",
        query: &[
            "namespace",
            "object",
            "relation",
            "max-depth",
            "consistency",
            "snaptoken",
        ],
        body: None,
        responses: &[
            (200, "the tree", Some("ExpandedTree")),
            (400, "bad request", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/namespaces",
        listener: Listener::Read,
        operation_id: "listRelationshipNamespaces",
        summary: "List the namespaces of the schema",
        query: &[],
        body: None,
        responses: &[(200, "the namespaces", Some("Namespaces"))],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/lookup-resources",
        listener: Listener::Read,
        operation_id: "lookupResources",
        summary: "The objects of a namespace whose relation or permission holds a subject",
        query: &[],
        body: Some("LookupResourcesBody"),
        responses: &[
            (200, "a page of object ids", Some("LookupResourcesResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/lookup-subjects",
        listener: Listener::Read,
        operation_id: "lookupSubjects",
        summary: "The object subjects of a namespace in a userset",
        query: &[],
        body: Some("LookupSubjectsBody"),
        responses: &[
            (200, "the subjects", Some("LookupSubjectsResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/expand",
        listener: Listener::Read,
        operation_id: "expandUserset",
        summary:
            "zanzi's expand tree of a userset: permissions, rewrites, arrows and stored subjects",
        query: &[],
        body: Some("ExpandBody"),
        responses: &[
            (200, "the tree", Some("ExpandResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/check/explain",
        listener: Listener::Read,
        operation_id: "explainCheck",
        summary: "A check with the derivation that grants it, or why every branch failed",
        query: &[],
        body: Some("ExplainBody"),
        responses: &[
            (200, "the explanation", Some("ExplainResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/zanzi/v1/schema",
        listener: Listener::Read,
        operation_id: "getSchema",
        summary: "The compiled schema (IR) and its hash",
        query: &[],
        body: None,
        responses: &[(200, "the IR", Some("SchemaResult"))],
    },
    Endpoint {
        method: "GET",
        path: "/zanzi/v1/status",
        listener: Listener::Read,
        operation_id: "getStatus",
        summary:
            "Which server answers: its version, database (store id and location) and schema hash",
        query: &[],
        body: None,
        responses: &[(200, "the status", Some("StatusResult"))],
    },
    Endpoint {
        method: "GET",
        path: "/openapi.json",
        listener: Listener::Read,
        operation_id: "getOpenApi",
        summary: "This document",
        query: &[],
        body: None,
        responses: &[(200, "the OpenAPI document", None)],
    },
    Endpoint {
        method: "PUT",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "createRelationship",
        summary: "Create a relationship (idempotent); answers with the payload",
        query: &[],
        body: Some("Relationship"),
        responses: &[
            (
                201,
                "created (the payload, plus `snaptoken`)",
                Some("Relationship"),
            ),
            (400, "malformed", E),
            (413, "body too large", E),
            (422, "rejected by the schema", E),
        ],
    },
    Endpoint {
        method: "DELETE",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "deleteRelationships",
        summary: "Delete every relationship matching a query (`namespace` required)",
        query: RELATION_QUERY,
        body: None,
        responses: &[
            (204, "deleted", None),
            (400, "bad query", E),
            (404, "unknown namespace or relation", E),
        ],
    },
    Endpoint {
        method: "PATCH",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "patchRelationships",
        summary: "Insert and delete relationships in one transaction",
        query: &[],
        body: Some("PatchDeltas"),
        responses: &[
            (204, "applied", None),
            (400, "malformed", E),
            (413, "body too large", E),
            (422, "rejected by the schema", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/metrics/prometheus",
        listener: Listener::Metrics,
        operation_id: "getMetrics",
        summary: "Prometheus metrics",
        query: &[],
        body: None,
        responses: &[(200, "metrics in the Prometheus text format", None)],
    },
    Endpoint {
        method: "POST",
        path: "/opl/syntax/check",
        listener: Listener::Syntax,
        operation_id: "checkOplSyntax",
        summary: "Check zanzi schema source; errors carry zanzi's diagnostic codes",
        query: &[],
        body: Some("text"),
        responses: &[
            (
                200,
                "the diagnostics (none when clean)",
                Some("SyntaxCheckResult"),
            ),
            (413, "body too large", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/health/alive",
        listener: Listener::All,
        operation_id: "isAlive",
        summary: "Whether the process is up",
        query: &[],
        body: None,
        responses: &[(200, "alive", None)],
    },
    Endpoint {
        method: "GET",
        path: "/health/ready",
        listener: Listener::All,
        operation_id: "isReady",
        summary: "Whether the server can answer (the store responds, not shutting down)",
        query: &[],
        body: None,
        responses: &[(200, "ready", None), (503, "not ready", None)],
    },
    Endpoint {
        method: "GET",
        path: "/version",
        listener: Listener::All,
        operation_id: "getVersion",
        summary: "The server's version, and `server: zanzi`",
        query: &[],
        body: None,
        responses: &[(200, "the version", None)],
    },
];

/// Keto's error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorGeneric {
    pub error: GenericError,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GenericError {
    pub code: u16,
    pub status: String,
    pub message: String,
    pub reason: String,
    pub request: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// PATCH's body: a list of deltas.
#[derive(utoipa::ToSchema)]
#[schema(as = PatchDeltas)]
pub struct PatchDeltas(#[allow(dead_code)] pub Vec<crate::api::keto::PatchDelta>);

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "zanzi",
        description = "Ory Keto-compatible REST API of zanzi, plus zanzi's own endpoints. See docs/api.md."
    ),
    components(schemas(
        crate::api::keto::Relationship,
        crate::api::keto::SubjectSet,
        crate::api::keto::PatchDelta,
        PatchDeltas,
        crate::api::keto::BatchCheckBody,
        crate::api::keto::CheckResult,
        crate::api::keto::CheckResultWithError,
        crate::api::keto::BatchCheckResult,
        crate::api::keto::Relationships,
        crate::api::keto::ExpandedTree,
        crate::api::keto::Namespaces,
        crate::api::keto::NamespaceName,
        crate::api::native::LookupResourcesBody,
        crate::api::native::LookupResourcesResult,
        crate::api::native::LookupSubjectsBody,
        crate::api::native::LookupSubjectsResult,
        crate::api::native::ExplainBody,
        crate::api::native::ExplainResult,
        crate::api::native::ExpandBody,
        crate::api::native::ExpandResult,
        crate::api::native::SchemaResult,
        crate::api::native::StatusResult,
        crate::api::native::SyntaxError,
        crate::api::native::SourcePosition,
        crate::api::native::SyntaxCheckResult,
        ErrorGeneric,
        GenericError,
    ))
)]
struct Components;

fn method(name: &str) -> HttpMethod {
    match name {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn content(schema: &str) -> (String, Content) {
    if schema == "text" {
        (
            "text/plain".into(),
            Content::new(Some(ObjectBuilder::new().schema_type(Type::String).build())),
        )
    } else {
        (
            "application/json".into(),
            Content::new(Some(Ref::from_schema_name(schema))),
        )
    }
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut doc = Components::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for e in ENDPOINTS {
        let listener = match e.listener {
            Listener::Read => "read",
            Listener::Write => "write",
            Listener::Metrics => "metrics",
            Listener::Syntax => "syntax",
            Listener::All => "every",
        };
        let mut op = OperationBuilder::new()
            .operation_id(Some(e.operation_id))
            .summary(Some(e.summary))
            .description(Some(format!("Served on the {listener} listener.")))
            .tag(listener);
        for name in e.query {
            let ty = if matches!(*name, "page_size" | "max-depth") {
                Type::Integer
            } else {
                Type::String
            };
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(ObjectBuilder::new().schema_type(ty).build())),
            );
        }
        if let Some(body) = e.body {
            let (kind, c) = content(body);
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(kind, c)
                    .build(),
            ));
        }
        for (status, description, schema) in e.responses {
            let mut response = ResponseBuilder::new().description(*description);
            if let Some(schema) = schema {
                let (kind, c) = content(schema);
                response = response.content(kind, c);
            }
            op = op.response(status.to_string(), response.build());
        }
        let item = PathItem::new(method(e.method), op.build());
        match doc.paths.paths.get_mut(e.path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                doc.paths.paths.insert(e.path.to_owned(), item);
            }
        }
    }
    doc
}

/// The document as pretty JSON (what `docs/openapi.json` holds).
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

pub async fn serve(State(_state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(document()).unwrap_or_default())
}
