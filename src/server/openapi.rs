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

mod endpoints;

use endpoints::E;
pub use endpoints::{Body, Endpoint, Listener, Param, Value, ENDPOINTS};

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
    /// Always `zanzi`: how `zanzi status` knows what answers.
    pub server: String,
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
        crate::api::keto::RelationshipCondition,
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
        crate::api::keto::CheckBody,
        crate::api::keto::Conditional,
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
        crate::api::native::ConditionalId,
        crate::api::native::ZanziCheckBody,
        crate::api::native::ZanziCheckResult,
        crate::api::native::DecisionName,
        crate::api::native::ExplainBody,
        crate::api::native::ExplainResult,
        crate::api::native::ExpandBody,
        crate::api::native::ExpandResult,
        crate::api::native::SchemaResult,
        crate::api::native::StatusResult,
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
        let mut errors = common_errors(e.body);
        // What the server's own configuration adds.
        if !settings.credential_settings().is_empty() && !super::auth::OPEN_PATHS.contains(&e.path)
        {
            errors.push((
                401,
                "a credential is required and was missing, malformed or refused",
            ));
        }
        if settings.rate_limit_per_sec > 0 && !super::limits::is_health(e.path) {
            errors.push((
                429,
                "past this client's rate limit: retry after `Retry-After` seconds",
            ));
        }
        for (status, description) in errors {
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
