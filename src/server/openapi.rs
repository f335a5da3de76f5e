//! The OpenAPI document of every endpoint, built from the code: the body and
//! answer schemas are derived from the wire types ([`utoipa::ToSchema`]),
//! the operations come from [`ENDPOINTS`], which a test checks against the
//! routers (every listed operation is routed, on its listener). Served at
//! `GET /openapi.json` on the read listener, with the server's bounds and
//! the names of its schema ([`served_document`]); `docs/openapi.json` is the
//! document of the default settings, without a schema, which a test keeps
//! in sync.

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
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, OpenApi, Ref, RefOr, Required, SchemaFormat};
use utoipa::OpenApi as _;

use super::config::Settings;
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

/// A query parameter's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A namespace or relation name the schema must know: not empty.
    Name,
    /// An ID in a question: 1 to 1024 bytes, no control characters.
    Id,
    /// A subject ID in a question: not empty, no control characters.
    SubjectId,
    /// Any text (a filter's value matches what it matches; a token).
    Text,
    /// `max-depth`: 0 is the server's limit, more may only lower it.
    Depth,
    /// `page_size`: 0 is the server's default, at most its maximum.
    PageSize,
    /// One of the consistency names.
    Consistency,
}

/// One query parameter.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub value: Value,
}

const fn optional(name: &'static str, value: Value) -> Param {
    Param {
        name,
        required: false,
        value,
    }
}

const fn required(name: &'static str, value: Value) -> Param {
    Param {
        name,
        required: true,
        value,
    }
}

/// What an operation reads from its request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    None,
    /// JSON of this schema; other media types are refused (415).
    Json(&'static str),
    /// Text, of any media type, possibly empty.
    Text,
}

/// One operation.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub listener: Listener,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub query: &'static [Param],
    pub body: Body,
    /// Status, description, schema of the answer (`text` for plain
    /// text); the errors every request may meet are added by
    /// [`document`].
    pub responses: &'static [(u16, &'static str, Option<&'static str>)],
}

const RELATION_QUERY: &[Param] = &[
    required("namespace", Value::Name),
    optional("object", Value::Text),
    optional("relation", Value::Text),
    optional("subject_id", Value::Text),
    optional("subject_set.namespace", Value::Text),
    optional("subject_set.object", Value::Text),
    optional("subject_set.relation", Value::Text),
];
const CHECK_QUERY: &[Param] = &[
    required("namespace", Value::Name),
    required("object", Value::Id),
    required("relation", Value::Name),
    optional("subject_id", Value::SubjectId),
    optional("subject_set.namespace", Value::Name),
    optional("subject_set.object", Value::Id),
    optional("subject_set.relation", Value::Text),
    optional("max-depth", Value::Depth),
    optional("consistency", Value::Consistency),
    optional("snaptoken", Value::Text),
];
const LIST_QUERY: &[Param] = &[
    optional("namespace", Value::Name),
    optional("object", Value::Text),
    optional("relation", Value::Text),
    optional("subject_id", Value::Text),
    optional("subject_set.namespace", Value::Text),
    optional("subject_set.object", Value::Text),
    optional("subject_set.relation", Value::Text),
    optional("page_size", Value::PageSize),
    optional("page_token", Value::Text),
    optional("consistency", Value::Consistency),
    optional("snaptoken", Value::Text),
];
const READ_OPTIONS: &[Param] = &[
    optional("max-depth", Value::Depth),
    optional("consistency", Value::Consistency),
    optional("snaptoken", Value::Text),
];
const E: Option<&str> = Some("ErrorGeneric");
/// An evaluation that ran past the request's deadline.
const DEADLINE: (u16, &str, Option<&str>) = (504, "the evaluation ran past the deadline", E);

/// Every endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/relation-tuples",
        listener: Listener::Read,
        operation_id: "getRelationships",
        summary: "List relationships matching a query, a page at a time",
        query: LIST_QUERY,
        body: Body::None,
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
        body: Body::None,
        responses: &[
            (200, "allowed", Some("CheckResult")),
            (403, "denied", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/check",
        listener: Listener::Read,
        operation_id: "postCheckPermissionOrError",
        summary: "Check a permission (body): 200 when allowed, 403 when denied",
        query: READ_OPTIONS,
        body: Body::Json("Relationship"),
        responses: &[
            (200, "allowed", Some("CheckResult")),
            (403, "denied", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/check/openapi",
        listener: Listener::Read,
        operation_id: "checkPermission",
        summary: "Check a permission: always 200 with `allowed`",
        query: CHECK_QUERY,
        body: Body::None,
        responses: &[
            (200, "the answer", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/check/openapi",
        listener: Listener::Read,
        operation_id: "postCheckPermission",
        summary: "Check a permission (body): always 200 with `allowed`",
        query: READ_OPTIONS,
        body: Body::Json("Relationship"),
        responses: &[
            (200, "the answer", Some("CheckResult")),
            (400, "bad request, or the depth limit was hit", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/relation-tuples/batch/check",
        listener: Listener::Read,
        operation_id: "batchCheckPermission",
        summary: "Check many permissions at one snapshot; a bad tuple gets its own error",
        query: READ_OPTIONS,
        body: Body::Json("BatchCheckBody"),
        responses: &[
            (200, "one answer per tuple", Some("BatchCheckResult")),
            (400, "bad request", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/relation-tuples/expand",
        listener: Listener::Read,
        operation_id: "expandPermissions",
        summary: "Expand a userset into its tree",
        query: &[
            required("namespace", Value::Name),
            required("object", Value::Text),
            required("relation", Value::Name),
            optional("max-depth", Value::Depth),
            optional("consistency", Value::Consistency),
            optional("snaptoken", Value::Text),
        ],
        body: Body::None,
        responses: &[
            (200, "the tree", Some("ExpandedTree")),
            (400, "bad request", E),
            (404, "unknown namespace or relation", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/namespaces",
        listener: Listener::Read,
        operation_id: "listRelationshipNamespaces",
        summary: "List the namespaces of the schema",
        query: &[],
        body: Body::None,
        responses: &[(200, "the namespaces", Some("Namespaces"))],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/lookup-resources",
        listener: Listener::Read,
        operation_id: "lookupResources",
        summary: "The objects of a namespace whose relation or permission holds a subject",
        query: &[],
        body: Body::Json("LookupResourcesBody"),
        responses: &[
            (200, "a page of object ids", Some("LookupResourcesResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/lookup-subjects",
        listener: Listener::Read,
        operation_id: "lookupSubjects",
        summary: "The object subjects of a namespace in a userset",
        query: &[],
        body: Body::Json("LookupSubjectsBody"),
        responses: &[
            (200, "the subjects", Some("LookupSubjectsResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            DEADLINE,
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
        body: Body::Json("ExpandBody"),
        responses: &[
            (200, "the tree", Some("ExpandResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "POST",
        path: "/zanzi/v1/check/explain",
        listener: Listener::Read,
        operation_id: "explainCheck",
        summary: "A check with the derivation that grants it, or why every branch failed",
        query: &[],
        body: Body::Json("ExplainBody"),
        responses: &[
            (200, "the explanation", Some("ExplainResult")),
            (400, "bad request", E),
            (404, "unknown name", E),
            DEADLINE,
        ],
    },
    Endpoint {
        method: "GET",
        path: "/zanzi/v1/schema",
        listener: Listener::Read,
        operation_id: "getSchema",
        summary: "The compiled schema (IR) and its hash",
        query: &[],
        body: Body::None,
        responses: &[(200, "the IR", Some("SchemaResult"))],
    },
    Endpoint {
        method: "GET",
        path: "/openapi.json",
        listener: Listener::Read,
        operation_id: "getOpenApi",
        summary: "This document",
        query: &[],
        body: Body::None,
        responses: &[(200, "the OpenAPI document", Some("OpenApiDocument"))],
    },
    Endpoint {
        method: "PUT",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "createRelationship",
        summary: "Create a relationship (idempotent); answers with the payload",
        query: &[],
        body: Body::Json("Relationship"),
        responses: &[
            (
                201,
                "created (the payload, plus `snaptoken`)",
                Some("CreatedRelationship"),
            ),
            (400, "malformed", E),
            (422, "rejected by the schema", E),
        ],
    },
    Endpoint {
        method: "DELETE",
        path: "/admin/relation-tuples",
        listener: Listener::Write,
        operation_id: "deleteRelationships",
        summary: "Delete every relationship matching a query (`namespace` required, no body)",
        query: RELATION_QUERY,
        body: Body::None,
        responses: &[
            (204, "deleted", None),
            (400, "bad query, or a request body", E),
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
        body: Body::Json("PatchBody"),
        responses: &[
            (204, "applied", None),
            (400, "malformed", E),
            (
                404,
                "a precondition names an unknown namespace or relation",
                E,
            ),
            (409, "a precondition does not hold; nothing was written", E),
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
        body: Body::None,
        responses: &[(200, "metrics in the Prometheus text format", Some("text"))],
    },
    Endpoint {
        method: "POST",
        path: "/opl/syntax/check",
        listener: Listener::Syntax,
        operation_id: "checkOplSyntax",
        summary: "Check zanzi schema source; errors carry zanzi's diagnostic codes",
        query: &[],
        body: Body::Text,
        responses: &[
            (
                200,
                "the diagnostics (none when clean)",
                Some("SyntaxCheckResult"),
            ),
            (400, "the body is not UTF-8", E),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/health/alive",
        listener: Listener::All,
        operation_id: "isAlive",
        summary: "Whether the process is up",
        query: &[],
        body: Body::None,
        responses: &[(200, "alive", Some("HealthStatus"))],
    },
    Endpoint {
        method: "GET",
        path: "/health/ready",
        listener: Listener::All,
        operation_id: "isReady",
        summary: "Whether the server can answer (the store responds, not shutting down)",
        query: &[],
        body: Body::None,
        responses: &[
            (200, "ready", Some("HealthStatus")),
            (
                503,
                "not ready (or too many requests in flight)",
                Some("NotReady"),
            ),
        ],
    },
    Endpoint {
        method: "GET",
        path: "/version",
        listener: Listener::All,
        operation_id: "getVersion",
        summary: "The server's version",
        query: &[],
        body: Body::None,
        responses: &[(200, "the version", Some("Version"))],
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

/// PUT's answer: the relationship as stored, and the write's token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedRelationship {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    pub subject_id: Option<String>,
    pub subject_set: Option<crate::api::keto::SubjectSet>,
    pub snaptoken: String,
}

/// `/health/alive`, and `/health/ready` when ready.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `ok`.
    pub status: String,
}

/// `/health/ready` when not ready: what is wrong, by part.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthNotReady {
    pub errors: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Version {
    pub version: String,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "zanzi",
        description = "Ory Keto-compatible REST API of zanzi, plus zanzi's own endpoints. See \
                       docs/api.md. Request bodies are JSON: `Content-Type: application/json` \
                       (or `application/*+json`, or no Content-Type at all); any other media \
                       type is refused with 415, except on the syntax check, which reads text."
    ),
    components(schemas(
        crate::api::keto::Relationship,
        crate::api::keto::SubjectSet,
        crate::api::keto::SubjectSetQuery,
        crate::api::keto::BatchCheckTuple,
        crate::api::keto::PatchAction,
        crate::api::keto::PatchDelta,
        crate::api::keto::PatchWithPreconditions,
        crate::api::keto::PatchPrecondition,
        crate::api::keto::Must,
        crate::api::keto::RelationQuery,
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
        crate::api::native::SyntaxError,
        crate::api::native::SourcePosition,
        crate::api::native::SyntaxCheckResult,
        CreatedRelationship,
        HealthStatus,
        HealthNotReady,
        Version,
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

fn text() -> Content {
    Content::new(Some(ObjectBuilder::new().schema_type(Type::String).build()))
}

fn json(schema: &str) -> Content {
    Content::new(Some(Ref::from_schema_name(schema)))
}

/// The content of an answer.
fn answer(schema: &str) -> (&'static str, Content) {
    match schema {
        "text" => ("text/plain", text()),
        "OpenApiDocument" => (
            "application/json",
            Content::new(Some(ObjectBuilder::new().schema_type(Type::Object).build())),
        ),
        // The probe's own answer, or the shedding of a request past the
        // bound on requests in flight.
        "NotReady" => (
            "application/json",
            Content::new(Some(RefOr::T(Schema::OneOf(
                OneOfBuilder::new()
                    .item(Ref::from_schema_name("HealthNotReady"))
                    .item(Ref::from_schema_name("ErrorGeneric"))
                    .build(),
            )))),
        ),
        other => ("application/json", json(other)),
    }
}

/// The parameter's schema; `max_page_size` bounds `page_size`.
fn parameter_schema(value: Value, max_page_size: usize) -> RefOr<Schema> {
    use crate::api::schema as values;
    match value {
        Value::Name => values::name().into(),
        Value::Id => values::id().into(),
        Value::SubjectId => values::subject_id().into(),
        Value::Text => ObjectBuilder::new().schema_type(Type::String).into(),
        Value::Depth => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0_i64))
            .maximum(Some(i64::MAX))
            .into(),
        Value::PageSize => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0_i64))
            .maximum(Some(max_page_size))
            .into(),
        Value::Consistency => values::consistency().into(),
    }
}

/// The errors any request may meet, besides its endpoint's own.
fn common_errors(body: Body) -> Vec<(u16, &'static str)> {
    let mut errors = vec![
        (500, "the server failed (a bug, or the store failed)"),
        (
            503,
            "too many requests in flight, or the store is unavailable; retry",
        ),
    ];
    match body {
        Body::None => {}
        Body::Json(_) => errors.extend([
            (400, "malformed JSON, or a field of the wrong type"),
            (408, "the body did not arrive within the read timeout"),
            (413, "the body is larger than the server's limit"),
            (
                415,
                "the body's Content-Type is not JSON: send `application/json`",
            ),
        ]),
        Body::Text => errors.extend([
            (408, "the body did not arrive within the read timeout"),
            (413, "the body is larger than the server's limit"),
        ]),
    }
    errors
}

/// The whole document, for a server with `settings` (their bounds on
/// pages and batches are the document's).
pub fn document_for(settings: &Settings) -> OpenApi {
    let mut doc = Components::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    if let Some(components) = doc.components.as_mut() {
        components.schemas.insert(
            "PatchBody".to_owned(),
            OneOfBuilder::new()
                .description(Some(
                    "Keto's array of deltas, or zanzi's object that adds preconditions",
                ))
                .item(ArrayBuilder::new().items(Ref::from_schema_name("PatchDelta")))
                .item(Ref::from_schema_name("PatchWithPreconditions"))
                .into(),
        );
        bound(
            &mut components.schemas,
            "BatchCheckBody",
            "tuples",
            |schema| {
                if let Schema::Array(array) = schema {
                    array.max_items = Some(settings.max_batch);
                }
            },
        );
        bound(
            &mut components.schemas,
            "LookupResourcesBody",
            "page_size",
            |schema| {
                if let Schema::Object(object) = schema {
                    object.maximum = Some(settings.max_page_size.into());
                }
            },
        );
    }
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
        for param in e.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(param.name)
                    .parameter_in(ParameterIn::Query)
                    .required(if param.required {
                        Required::True
                    } else {
                        Required::False
                    })
                    .schema(Some(parameter_schema(param.value, settings.max_page_size))),
            );
        }
        match e.body {
            Body::None => {}
            Body::Json(schema) => {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content("application/json", json(schema))
                        .build(),
                ))
            }
            // Keto answers an empty one, as zanzi does: no errors.
            Body::Text => {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::False))
                        .content("text/plain", text())
                        .build(),
                ))
            }
        }
        let mut responses: Vec<(u16, &str, Option<&str>)> = e.responses.to_vec();
        for (status, description) in common_errors(e.body) {
            if !responses.iter().any(|(s, _, _)| *s == status) {
                responses.push((status, description, E));
            }
        }
        responses.sort_by_key(|(status, _, _)| *status);
        for (status, description, schema) in responses {
            let mut response = ResponseBuilder::new().description(description);
            if let Some(schema) = schema {
                let (kind, c) = answer(schema);
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

/// Applies `change` to the schema of the property `property` of the
/// component `component` (inline, or under a `oneOf` with `null`).
fn bound(
    schemas: &mut std::collections::BTreeMap<String, RefOr<Schema>>,
    component: &str,
    property: &str,
    change: impl Fn(&mut Schema),
) {
    let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(component) else {
        return;
    };
    match object.properties.get_mut(property) {
        Some(RefOr::T(Schema::OneOf(one_of))) => {
            for item in &mut one_of.items {
                if let RefOr::T(schema) = item {
                    change(schema);
                }
            }
        }
        Some(RefOr::T(schema)) => change(schema),
        _ => {}
    }
}

/// The document of a server with the default settings.
pub fn document() -> OpenApi {
    document_for(&Settings::default())
}

/// The document as pretty JSON (what `docs/openapi.json` holds: the
/// default settings).
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// The document a server serves: [`document_for`] its settings, with the
/// names its schema knows as the enums of the name parameters and fields
/// (any other name is refused: 404 on a read, 422 on a write), so that a
/// client generated from it, or a fuzzer, asks about what exists.
pub fn served_document(settings: &Settings, schema: &crate::ir::Schema) -> serde_json::Value {
    let mut doc = serde_json::to_value(document_for(settings)).unwrap_or_default();
    let namespaces: Vec<&str> = schema.namespaces.iter().map(|n| n.name.as_str()).collect();
    let mut relations: Vec<&str> = schema.relations.iter().map(|r| r.name.as_str()).collect();
    relations.sort_unstable();
    relations.dedup();
    let names = |name: &str| match name {
        "namespace" | "subject_set.namespace" | "subject_namespace" => Some(namespaces.clone()),
        "relation" => Some(relations.clone()),
        _ => None,
    };
    // Only where the document already says a name must be known (its
    // `minLength`): a filter's `relation` or a subject set's may be anything.
    let restrict = |schema: Option<&mut serde_json::Value>, known: Vec<&str>| {
        if let Some(schema) = schema.and_then(serde_json::Value::as_object_mut) {
            if schema.get("type").and_then(serde_json::Value::as_str) == Some("string")
                && schema.contains_key("minLength")
            {
                schema.insert("enum".to_owned(), known.into());
            }
        }
    };
    if let Some(paths) = doc
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
    {
        for operation in paths
            .values_mut()
            .filter_map(serde_json::Value::as_object_mut)
        {
            for operation in operation.values_mut() {
                let parameters = operation
                    .get_mut("parameters")
                    .and_then(serde_json::Value::as_array_mut);
                for parameter in parameters.into_iter().flatten() {
                    let name = parameter.get("name").and_then(serde_json::Value::as_str);
                    if let Some(known) = name.and_then(names) {
                        restrict(parameter.get_mut("schema"), known);
                    }
                }
            }
        }
    }
    for component in [
        "Relationship",
        "SubjectSet",
        "LookupResourcesBody",
        "LookupSubjectsBody",
    ] {
        let properties = doc
            .pointer_mut(&format!("/components/schemas/{component}/properties"))
            .and_then(serde_json::Value::as_object_mut);
        for (name, schema) in properties.into_iter().flatten() {
            if let Some(known) = names(name) {
                restrict(Some(schema), known);
            }
        }
    }
    doc
}

pub async fn serve(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(served_document(&state.settings, &state.schema()))
}
