//! zanzi's own endpoints, beyond Keto's API, in the same style (JSON
//! bodies, Keto's error shape, snapshot tokens). Subjects and questions are
//! written in zanzi's tuple notation (`document:readme#view@user:alice`).
//!
//! - `POST /zanzi/v1/lookup-resources`: the objects of a namespace whose
//!   relation or permission holds a subject, paged;
//! - `POST /zanzi/v1/lookup-subjects`: the object subjects of a namespace in
//!   a userset (and whether a wildcard grants everyone);
//! - `POST /zanzi/v1/check/explain`: a check with its derivation;
//! - `GET /zanzi/v1/schema`: the compiled IR and its hash;
//! - `POST /opl/syntax/check` (syntax listener): compiles zanzi source and
//!   answers with Keto's `errors` list plus zanzi's diagnostic codes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::consistency::Consistency;
use super::errors::ApiError;
use super::keto::{namespace_id, read_json, relation_id, Access};
use super::zookie::query_hash;
use super::{blocking, AppState};
use crate::engine::{Engine, EngineOptions, Explanation};
use crate::store::PageRequest;
use crate::tuple::{Object, Subject, Tuple};

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupResourcesBody {
    pub namespace: String,
    /// A relation or permission of `namespace`.
    pub relation: String,
    /// `user:alice` or `group:eng#member`.
    pub subject: String,
    #[serde(default)]
    pub page_size: Option<usize>,
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupResourcesResult {
    pub object_ids: Vec<String>,
    /// Empty on the last page.
    pub next_page_token: String,
    pub snaptoken: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupSubjectsBody {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    /// The namespace of the subjects wanted (`user`).
    pub subject_namespace: String,
    #[serde(default)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupSubjectsResult {
    pub subject_ids: Vec<String>,
    /// Every subject of the namespace is in the set, except `excluded`.
    pub wildcard: bool,
    pub excluded: Vec<String>,
    pub snaptoken: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainBody {
    /// The question as a tuple: `document:readme#view@user:alice`.
    pub tuple: String,
    /// May only lower the configured depth limit.
    #[serde(default)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpandBody {
    /// The userset to expand: `document:readme#view`.
    pub userset: String,
    /// May only lower the configured depth limit; deeper parts are
    /// answered as `truncated` nodes.
    #[serde(default)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExpandResult {
    /// zanzi's expand tree (docs/api.md): permissions, rewrites, arrows and
    /// stored subjects, as `zanzi expand --format json` prints it.
    #[schema(value_type = Object)]
    pub tree: crate::engine::ExpandTree,
    pub snaptoken: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExplainResult {
    /// granted, denied or unknown (the depth limit was hit; see `error`).
    #[schema(value_type = Object)]
    pub explanation: Explanation,
    pub snaptoken: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SchemaResult {
    /// `sha256:<hex>` of the IR.
    pub hash: String,
    /// The compiled IR (docs/ir.md).
    #[schema(value_type = Object)]
    pub ir: serde_json::Value,
}

/// Keto's `ParseError` (its `Line` is capitalised, as Keto's is), with
/// zanzi's diagnostic code, severity and help.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SyntaxError {
    pub message: String,
    pub start: SourcePosition,
    pub end: SourcePosition,
    pub code: String,
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SourcePosition {
    #[serde(rename = "Line")]
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SyntaxCheckResult {
    pub errors: Vec<SyntaxError>,
}

fn parse_subject(text: &str) -> Result<Subject, ApiError> {
    text.parse().map_err(|e| {
        ApiError::bad_request("invalid_subject", format!("invalid subject `{text}`: {e}"))
    })
}

pub async fn lookup_resources(
    State(state): State<Arc<AppState>>,
    body: Body,
) -> Result<Response, ApiError> {
    let body: LookupResourcesBody = read_json(&state, body).await?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let limit = match body.page_size {
        None | Some(0) => state.settings.default_page_size,
        Some(n) if n > state.settings.max_page_size => {
            return Err(ApiError::bad_request(
                "invalid_page_size",
                format!(
                    "`page_size` {n} is above the maximum of {}",
                    state.settings.max_page_size
                ),
            ))
        }
        Some(n) => n,
    };
    let result = blocking(&state, move |s| {
        let ns = namespace_id(s, &body.namespace, Access::Read)?;
        relation_id(s, ns, &body.relation, Access::Read)?;
        let subject = parse_subject(&body.subject)?;
        let hash = query_hash(&format!(
            "{}\n{}\n{}",
            body.namespace, body.relation, subject
        ));
        let (at, cursor) = match body.page_token.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => {
                let page = s.tokens.parse_page(token)?;
                if page.query_hash != hash {
                    return Err(ApiError::bad_request(
                        "invalid_page_token",
                        "the page token belongs to a different query",
                    ));
                }
                (
                    Consistency::AtExactSnapshot(page.revision).resolve(s)?,
                    Some(page.cursor),
                )
            }
            None => (consistency.resolve(s)?, None),
        };
        let engine = Engine::new(&s.schema, s.store.as_ref());
        let page = engine.lookup_resources(
            &body.namespace,
            &body.relation,
            &subject,
            &PageRequest { cursor, limit },
            at,
        )?;
        Ok(LookupResourcesResult {
            object_ids: page.items,
            next_page_token: s.next_page_token(at, hash, page.next_cursor),
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    Ok(Json(result).into_response())
}

pub async fn lookup_subjects(
    State(state): State<Arc<AppState>>,
    body: Body,
) -> Result<Response, ApiError> {
    let body: LookupSubjectsBody = read_json(&state, body).await?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let result = blocking(&state, move |s| {
        let ns = namespace_id(s, &body.namespace, Access::Read)?;
        relation_id(s, ns, &body.relation, Access::Read)?;
        namespace_id(s, &body.subject_namespace, Access::Read)?;
        let at = consistency.resolve(s)?;
        let engine = Engine::new(&s.schema, s.store.as_ref());
        let found = engine.lookup_subjects(
            &Object::new(body.namespace.clone(), body.object.clone()),
            &body.relation,
            &body.subject_namespace,
            at,
        )?;
        Ok(LookupSubjectsResult {
            subject_ids: found.subject_ids,
            wildcard: found.wildcard,
            excluded: found.excluded,
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    Ok(Json(result).into_response())
}

pub async fn explain(State(state): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let body: ExplainBody = read_json(&state, body).await?;
    let depth = state.depth(body.max_depth)?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let result = blocking(&state, move |s| {
        let tuple: Tuple = body.tuple.parse().map_err(|e| {
            ApiError::bad_request(
                "invalid_tuple",
                format!("invalid tuple `{}`: {e}", body.tuple),
            )
        })?;
        let ns = namespace_id(s, &tuple.object.namespace, Access::Read)?;
        relation_id(s, ns, &tuple.relation, Access::Read)?;
        let at = consistency.resolve(s)?;
        let engine = Engine::new(&s.schema, s.store.as_ref())
            .with_options(EngineOptions { max_depth: depth });
        let explanation = engine.explain(&tuple.object, &tuple.relation, &tuple.subject, at)?;
        Ok(ExplainResult {
            explanation,
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    deep_json(&result)
}

/// A JSON answer holding a tree as deep as the data: serialized on a
/// growing stack (`axum::Json` would recurse on the request thread's).
fn deep_json(value: &impl Serialize) -> Result<Response, ApiError> {
    let json = crate::engine::grow_stack(|| serde_json::to_vec(value))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response())
}

/// `POST /zanzi/v1/expand`: zanzi's own expand tree, richer than Keto's
/// (it names permissions, rewrites and arrows).
pub async fn expand(State(state): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let body: ExpandBody = read_json(&state, body).await?;
    let depth = state.depth(body.max_depth)?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let result = blocking(&state, move |s| {
        let (object, relation) =
            crate::tuple::parse_object_relation(&body.userset).map_err(|e| {
                ApiError::bad_request(
                    "invalid_userset",
                    format!("invalid userset `{}`: {e}", body.userset),
                )
            })?;
        let ns = namespace_id(s, &object.namespace, Access::Read)?;
        relation_id(s, ns, &relation, Access::Read)?;
        let at = consistency.resolve(s)?;
        let engine = Engine::new(&s.schema, s.store.as_ref());
        let tree = engine.expand(&object, &relation, depth, at)?;
        Ok(ExpandResult {
            tree,
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    deep_json(&result)
}

pub async fn schema(State(state): State<Arc<AppState>>) -> Result<Json<SchemaResult>, ApiError> {
    let ir: serde_json::Value = serde_json::from_str(&state.schema.to_json())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(SchemaResult {
        hash: state.schema.hash.clone(),
        ir,
    }))
}

/// `POST /opl/syntax/check`: the body is zanzi source (any content type).
pub async fn syntax_check(
    State(state): State<Arc<AppState>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = super::keto::read_body(&state, body).await?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        ApiError::bad_request("invalid_body", "the schema source must be UTF-8 text")
    })?;
    let (sources, compilation) = crate::compile_source("schema.zanzi", &text);
    let report = crate::diagnostics::render_json(&sources, &compilation.diagnostics);
    let errors = report
        .diagnostics
        .into_iter()
        .map(|d| SyntaxError {
            message: d.message,
            start: SourcePosition {
                line: d.line,
                column: d.column,
            },
            end: SourcePosition {
                line: d.end.line,
                column: d.end.column,
            },
            code: d.code.to_owned(),
            severity: d.severity.to_owned(),
            help: d.help,
        })
        .collect();
    Ok(Json(SyntaxCheckResult { errors }).into_response())
}

pub fn routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router
        .route("/zanzi/v1/lookup-resources", post(lookup_resources))
        .route("/zanzi/v1/lookup-subjects", post(lookup_subjects))
        .route("/zanzi/v1/check/explain", post(explain))
        .route("/zanzi/v1/expand", post(expand))
        .route("/zanzi/v1/schema", get(schema))
}
