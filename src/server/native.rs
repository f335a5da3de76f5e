//! zanzi's own endpoints, beyond Keto's API, in the same style (JSON
//! bodies, Keto's error shape, snapshot tokens). Subjects and questions are
//! written in zanzi's tuple notation (`document:readme#view@user:alice`).
//!
//! - `POST /zanzi/v1/lookup-resources`: the objects of a namespace whose
//!   relation or permission holds a subject, paged;
//! - `POST /zanzi/v1/lookup-subjects`: the object subjects of a namespace in
//!   a userset (and whether a wildcard grants everyone);
//! - `POST /zanzi/v1/check`: a check answered in three values;
//! - `POST /zanzi/v1/check/explain`: a check with its derivation;
//! - `GET /zanzi/v1/schema`: the compiled IR and its hash;
//! - `GET /zanzi/v1/status`: which server, database and schema answer;
//! - `POST /opl/syntax/check` (syntax listener): compiles zanzi source and
//!   answers with Keto's `errors` list plus zanzi's diagnostic codes.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::body::read_json;
use super::bounds::{answer_limits, bounded, Work};
use super::consistency::Consistency;
use super::errors::ApiError;
use super::keto::handlers::run_check;
use super::zookie::query_hash;
use super::{blocking, AppState, Scope};
use crate::api::keto::subjects::{namespace_id, relation_id, FIELD};
use crate::api::keto::{Access, Question};
use crate::api::native::*;
use crate::api::request::request_fingerprint;
use crate::engine::{Engine, EngineOptions, Explanation, RequestContext, SubjectLookup};
use crate::store::{PageRequest, Revision};
use crate::tuple::{Object, Subject, Tuple};

fn parse_subject(text: &str) -> Result<Subject, ApiError> {
    text.parse().map_err(|e| {
        ApiError::bad_request("invalid_subject", format!("invalid subject `{text}`: {e}"))
    })
}

pub async fn lookup_resources(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: LookupResourcesBody = read_json(&state, &headers, body).await?;
    let depth = state.depth(body.max_depth)?;
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
        let ns = namespace_id(&s.schema, &body.namespace, Access::Read)?;
        relation_id(&s.schema, ns, &body.relation, Access::Read)?;
        let subject = parse_subject(&body.subject)?;
        let request = body.request_context(&s.schema)?;
        let hash = resources_query_hash(&body.namespace, &body.relation, &subject, &request);
        let (at, cursor) = page_start(s, body.page_token.as_deref(), hash, &consistency)?;
        let engine = Engine::new(&s.schema, s.store.as_ref())
            .with_options(EngineOptions { max_depth: depth })
            .with_request(&request);
        let page = bounded(&s.settings, Work::Lookup, || {
            engine.lookup_resources_decided(
                &body.namespace,
                &body.relation,
                &subject,
                &PageRequest { cursor, limit },
                at,
                true,
            )
        })?;
        let (object_ids, conditional) = split_decided(page.items);
        Ok(LookupResourcesResult {
            object_ids,
            conditional,
            next_page_token: s.next_page_token(at, hash, page.next_cursor),
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    Ok(Json(result).into_response())
}

/// What binds a page token to one lookup of resources (REST's page tokens
/// and gRPC's cursors are the same tokens), its context and contextual
/// tuples included (another context may answer other objects).
pub(crate) fn resources_query_hash(
    namespace: &str,
    relation: &str,
    subject: &Subject,
    request: &RequestContext,
) -> [u8; 8] {
    query_hash(&format!(
        "{namespace}\n{relation}\n{subject}{}",
        request_fingerprint(request)
    ))
}

/// Where a paged read starts: after the page token's cursor, at its
/// snapshot, when there is one (of this query: `hash`), else at the start,
/// at the snapshot `consistency` chooses.
pub(crate) fn page_start(
    s: &Scope<'_>,
    token: Option<&str>,
    hash: [u8; 8],
    consistency: &Consistency,
) -> Result<(Revision, Option<String>), ApiError> {
    match token.filter(|t| !t.is_empty()) {
        Some(token) => {
            let page = s.tokens.parse_page(token)?;
            if page.query_hash != hash {
                return Err(ApiError::bad_request(
                    "invalid_page_token",
                    "the page token belongs to a different query",
                ));
            }
            Ok((
                Consistency::AtExactSnapshot(page.snapshot()).resolve(s)?,
                Some(page.cursor),
            ))
        }
        None => Ok((consistency.resolve(s)?, None)),
    }
}

pub async fn lookup_subjects(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: LookupSubjectsBody = read_json(&state, &headers, body).await?;
    let depth = state.depth(body.max_depth)?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let result = blocking(&state, move |s| {
        let object = Object::new(body.namespace.clone(), body.object.clone());
        let request = body.request_context(&s.schema)?;
        let at = consistency.resolve(s)?;
        let found = run_lookup_subjects(
            s,
            &object,
            &body.relation,
            &body.subject_namespace,
            at,
            depth,
            &request,
        )?;
        Ok(LookupSubjectsResult {
            subject_ids: found.subject_ids,
            wildcard: found.wildcard,
            excluded: found.excluded,
            conditional: found.conditional.into_iter().map(Into::into).collect(),
            wildcard_missing: found.wildcard_missing,
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    Ok(Json(result).into_response())
}

/// The subjects of `subject_namespace` in `object#relation` at `at`, the
/// names checked against the schema, every check held to `max_depth`.
pub(crate) fn run_lookup_subjects(
    s: &Scope<'_>,
    object: &Object,
    relation: &str,
    subject_namespace: &str,
    at: Revision,
    max_depth: u32,
    request: &RequestContext,
) -> Result<SubjectLookup, ApiError> {
    let ns = namespace_id(&s.schema, &object.namespace, Access::Read)?;
    relation_id(&s.schema, ns, relation, Access::Read)?;
    namespace_id(&s.schema, subject_namespace, Access::Read)?;
    let engine = Engine::new(&s.schema, s.store.as_ref())
        .with_options(EngineOptions { max_depth })
        .with_answer_limits(answer_limits(&s.settings))
        .with_request(request);
    bounded(&s.settings, Work::Lookup, || {
        engine.lookup_subjects(object, relation, subject_namespace, at)
    })
}

pub async fn explain(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: ExplainBody = read_json(&state, &headers, body).await?;
    let depth = state.depth(body.max_depth)?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let result = blocking(&state, move |s| {
        let tuple = question_tuple(&body.tuple)?;
        let request = body.request_context(&s.schema)?;
        let (explanation, at) = run_explain(s, &tuple, depth, &consistency, &request)?;
        Ok(ExplainResult {
            explanation,
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    deep_json(&result)
}

/// A question in tuple notation: a condition or expiry suffix is refused
/// (a question carries none).
fn question_tuple(text: &str) -> Result<Tuple, ApiError> {
    let tuple: Tuple = text.parse().map_err(|e| {
        ApiError::bad_request("invalid_tuple", format!("invalid tuple `{text}`: {e}"))
            .with_detail(FIELD, "tuple")
    })?;
    if !tuple.is_plain() {
        return Err(ApiError::bad_request(
            "invalid_tuple",
            format!(
                "`{text}` carries a condition or an expiry; a question carries none (give \
                 parameter values in `context`)"
            ),
        )
        .with_detail(FIELD, "tuple"));
    }
    Ok(tuple)
}

/// `POST /zanzi/v1/check`: a check answered in three values, `allowed`,
/// `denied` or `conditional` (with the missing parameters).
pub async fn check(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: ZanziCheckBody = read_json(&state, &headers, body).await?;
    let depth = state.depth(body.max_depth)?;
    let consistency = Consistency::parse(
        &state,
        body.consistency.as_deref(),
        body.snaptoken.as_deref(),
    )?;
    let result = super::evaluate(&state, move |s| {
        let tuple = question_tuple(&body.tuple)?;
        let request = body.request_context(&s.schema)?;
        let question = Question {
            object: tuple.object,
            relation: tuple.relation,
            subject: tuple.subject,
        };
        let ns = namespace_id(&s.schema, &question.object.namespace, Access::Read)?;
        relation_id(&s.schema, ns, &question.relation, Access::Read)?;
        let at = consistency.resolve(s)?;
        let decision = run_check(s, &question, depth, at, &request)?;
        Ok(ZanziCheckResult::new(decision, s.snaptoken(at)))
    })
    .await?;
    Ok(Json(result).into_response())
}

/// The check `tuple` asks, with its derivation, at the snapshot
/// `consistency` chooses (returned too).
pub(crate) fn run_explain(
    s: &Scope<'_>,
    tuple: &Tuple,
    depth: u32,
    consistency: &Consistency,
    request: &RequestContext,
) -> Result<(Explanation, Revision), ApiError> {
    let ns = namespace_id(&s.schema, &tuple.object.namespace, Access::Read)?;
    relation_id(&s.schema, ns, &tuple.relation, Access::Read)?;
    let at = consistency.resolve(s)?;
    let engine = Engine::new(&s.schema, s.store.as_ref())
        .with_options(EngineOptions { max_depth: depth })
        .with_request(request);
    let explanation = bounded(&s.settings, Work::Check, || {
        engine.explain(&tuple.object, &tuple.relation, &tuple.subject, at)
    })?;
    Ok((explanation, at))
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
pub async fn expand(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: ExpandBody = read_json(&state, &headers, body).await?;
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
        let ns = namespace_id(&s.schema, &object.namespace, Access::Read)?;
        relation_id(&s.schema, ns, &relation, Access::Read)?;
        // The context is read (and bounded) but no condition is evaluated:
        // the tree shows what each attributed tuple carries.
        let request = body.request_context(&s.schema)?;
        let at = consistency.resolve(s)?;
        let engine = Engine::new(&s.schema, s.store.as_ref())
            .with_answer_limits(answer_limits(&s.settings))
            .with_request(&request);
        let tree = bounded(&s.settings, Work::Lookup, || {
            engine.expand(&object, &relation, depth, at)
        })?;
        Ok(ExpandResult {
            tree,
            snaptoken: s.snaptoken(at),
        })
    })
    .await?;
    deep_json(&result)
}

pub async fn schema(State(state): State<Arc<AppState>>) -> Result<Json<SchemaResult>, ApiError> {
    let schema = state.schema();
    let ir: serde_json::Value =
        serde_json::from_str(&schema.to_json()).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(SchemaResult {
        hash: schema.hash.clone(),
        ir,
    }))
}

/// `GET /zanzi/v1/status`: what `zanzi status --expect-db` and
/// `--expect-schema-hash` compare with.
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Json<StatusResult>, ApiError> {
    let result = blocking(&state, |s| {
        let head = s.refresh_head()?;
        Ok(StatusResult {
            server: SERVER_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            store_id: s.store.store_id()?,
            db: crate::store::Location::parse(&s.settings.db).to_string(),
            schema_hash: s.schema.hash.clone(),
            head_snaptoken: s.snaptoken(head),
        })
    })
    .await?;
    Ok(Json(result))
}

/// `POST /opl/syntax/check`: the body is Ory Permission Language (what
/// Keto's clients send) or zanzi source; the content tells which.
pub async fn syntax_check(
    State(state): State<Arc<AppState>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = super::body::read_body(&state, body).await?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        ApiError::bad_request("invalid_body", "the schema source must be UTF-8 text")
    })?;
    Ok(Json(SyntaxCheckResult {
        errors: syntax_errors(&text),
    })
    .into_response())
}

/// Whether a syntax-check body is OPL rather than zanzi source.
fn is_opl(text: &str) -> bool {
    text.contains("implements Namespace")
        || text.lines().map(str::trim_start).any(|line| {
            ["class ", "export class ", "import "]
                .iter()
                .any(|start| line.starts_with(start))
        })
}

/// What the syntax check answers for a schema source: every diagnostic,
/// with its start and end. OPL positions are counted the way Keto counts
/// them, so that Keto's clients place them where Keto would.
pub fn syntax_errors(text: &str) -> Vec<SyntaxError> {
    let opl = is_opl(text);
    let name = if opl {
        "schema.keto.ts"
    } else {
        "schema.zanzi"
    };
    let (sources, compilation) = crate::compile_source(name, text);
    let report = crate::diagnostics::render_json(&sources, &compilation.diagnostics);
    report
        .diagnostics
        .into_iter()
        .zip(&compilation.diagnostics)
        .map(|(d, diagnostic)| {
            let (start, end) = if opl {
                let span = diagnostic.primary.span;
                (
                    keto_position(text, span.start as usize),
                    keto_position(text, span.end as usize),
                )
            } else {
                (
                    SourcePosition {
                        line: d.line,
                        column: d.column,
                    },
                    SourcePosition {
                        line: d.end.line,
                        column: d.end.column,
                    },
                )
            };
            SyntaxError {
                message: d.message,
                start,
                end,
                code: d.code.to_owned(),
                severity: d.severity.to_owned(),
                help: d.help,
            }
        })
        .collect()
}

/// Keto's `toSrcPos` (schema/parse_errors.go), quirks included: the line is
/// 1-based and the column is that of the character before `offset`, 1-based
/// (so a token's start column is its 0-based column), counting characters.
fn keto_position(text: &str, offset: usize) -> SourcePosition {
    let mut position = SourcePosition { line: 1, column: 0 };
    let mut rest = offset as i64;
    for c in text.chars() {
        position.column += 1;
        rest -= 1;
        if rest <= 0 {
            break;
        }
        if c == '\n' {
            position.line += 1;
            position.column = 0;
        }
    }
    position
}

pub fn routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router
        .route("/zanzi/v1/lookup-resources", post(lookup_resources))
        .route("/zanzi/v1/lookup-subjects", post(lookup_subjects))
        .route("/zanzi/v1/check", post(check))
        .route("/zanzi/v1/check/explain", post(explain))
        .route("/zanzi/v1/expand", post(expand))
        .route("/zanzi/v1/schema", get(schema))
        .route("/zanzi/v1/status", get(status))
        .route("/zanzi/v1/watch", get(super::watch::watch))
}
