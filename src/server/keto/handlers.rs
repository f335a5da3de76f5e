//! The handlers of Keto's REST API.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::params::{filter_from_params, take_relationship, Params, RELATION_QUERY_KEYS};
use crate::api::keto::subjects::{
    at_field, filter_for_query, in_field, into_question, namespace_id, question, relation_id,
    tuple_for_delete, tuple_for_write, tuple_to_keto, Question, FIELD,
};
use crate::api::keto::tree::to_keto_tree;
use crate::api::keto::*;
use crate::api::request::{rest_request, CONTEXTUAL_TUPLES_FIELD, CONTEXT_FIELD};
use crate::engine::{Decision, Engine, EngineError, EngineOptions, RequestContext};
use crate::ir::Schema;
use crate::server::body::read_json;
use crate::server::bounds::{answer_limits, bounded, Work};
use crate::server::consistency::Consistency;
use crate::server::errors::ApiError;
use crate::server::metrics::CheckOutcome;
use crate::server::zookie::query_hash;
use crate::server::{
    blocking, evaluate, token_value, AppState, IssuedToken, Scope, SNAPTOKEN_HEADER,
};
use crate::store::{ChangeSet, PageRequest, Precondition, Revision};
use crate::tuple::{Object, Tuple};

fn token_header(token: &str) -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::HeaderName::from_static(SNAPTOKEN_HEADER),
        token_value(token),
    )]
}

/// The metrics outcome of a check's answer.
fn outcome(decision: &Decision) -> CheckOutcome {
    match decision {
        Decision::Allowed => CheckOutcome::Allowed,
        Decision::Denied => CheckOutcome::Denied,
        Decision::Conditional { .. } => CheckOutcome::Conditional,
    }
}

pub fn run_check(
    state: &Scope<'_>,
    q: &Question,
    depth: u32,
    at: Revision,
    request: &RequestContext,
) -> Result<Decision, ApiError> {
    let engine = Engine::new(&state.schema, state.store.as_ref())
        .with_options(EngineOptions { max_depth: depth })
        .with_request(request);
    bounded(&state.settings, Work::Check, || {
        match engine.decide_with_depth(&q.object, &q.relation, &q.subject, at) {
            Ok((decision, reached)) => {
                crate::server::metrics::record_check(outcome(&decision), reached);
                Ok(decision)
            }
            Err(e) => {
                let reached = match &e {
                    EngineError::DepthExceeded { max_depth, .. } => *max_depth,
                    _ => 0,
                };
                crate::server::metrics::record_check(CheckOutcome::Error, reached);
                Err(e)
            }
        }
    })
}

/// Keto's `allowed` and zanzi's `conditional` mark of a decision.
pub fn keto_answer(decision: Decision) -> (bool, Option<Conditional>) {
    match decision {
        Decision::Allowed => (true, None),
        Decision::Denied => (false, None),
        Decision::Conditional { missing } => (false, Some(Conditional { missing })),
    }
}

/// A check of `rel` at `consistency`: the answer and its snapshot's token.
pub fn check_at(
    s: &Scope<'_>,
    rel: Relationship,
    depth: u32,
    consistency: &Consistency,
    request: &RequestContext,
) -> Result<(Decision, String), ApiError> {
    let question = into_question(&s.schema, rel)?;
    let (decision, token) = check_question_at(s, &question, depth, consistency, request)?;
    Ok((decision, token.text.clone()))
}

/// The answer to `question` at `consistency`, and its snapshot's token.
fn check_question_at(
    s: &Scope<'_>,
    question: &Question,
    depth: u32,
    consistency: &Consistency,
    request: &RequestContext,
) -> Result<(Decision, Arc<IssuedToken>), ApiError> {
    let at = consistency.resolve(s)?;
    Ok((
        run_check(s, question, depth, at, request)?,
        s.issued_token(at),
    ))
}

/// What a check brings besides its question, as sent.
struct Extras {
    context: Option<serde_json::Value>,
    contextual_tuples: Vec<Relationship>,
}

/// A check; `forbid_denied` answers a denial (and a conditional answer)
/// 403 (Keto's plain check).
async fn check(
    state: Arc<AppState>,
    q: Params,
    rel: Relationship,
    extras: Extras,
    forbid_denied: bool,
) -> Result<Response, ApiError> {
    let depth = state.depth(q.max_depth()?)?;
    let consistency = q.consistency(&state)?;
    let (decision, token) = evaluate(&state, move |s| {
        let request = rest_request(
            &s.schema,
            extras.context.as_ref(),
            &extras.contextual_tuples,
        )?;
        let question = into_question(&s.schema, rel)?;
        check_question_at(s, &question, depth, &consistency, &request)
    })
    .await?;
    let (allowed, conditional) = keto_answer(decision);
    let status = if allowed || !forbid_denied {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    check_response(status, allowed, conditional, &token)
}

/// [`CheckResult`] borrowing its token and condition: a check's answer is
/// its hot path, and the token is written straight from the one issued
/// for the revision. Serialized exactly as [`CheckResult`] (tested).
#[derive(serde::Serialize)]
struct CheckAnswer<'a> {
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    conditional: Option<&'a Conditional>,
    snaptoken: &'a str,
}

/// A check's answer: Keto's body, and the token in a header too (sharing
/// the issued token's buffer).
fn check_response(
    status: StatusCode,
    allowed: bool,
    conditional: Option<Conditional>,
    token: &IssuedToken,
) -> Result<Response, ApiError> {
    let answer = CheckAnswer {
        allowed,
        conditional: conditional.as_ref(),
        snaptoken: &token.text,
    };
    let body = serde_json::to_vec(&answer).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::HeaderName::from_static(SNAPTOKEN_HEADER),
        token.header.clone(),
    );
    Ok(response)
}

/// A query parameter holding JSON (`context`, `contextual_tuples` of a GET
/// check), its errors naming the parameter.
fn json_param<T: serde::de::DeserializeOwned>(
    q: &Params,
    key: &'static str,
) -> Result<Option<T>, ApiError> {
    q.get(key)
        .filter(|v| !v.is_empty())
        .map(|v| {
            serde_json::from_str(v).map_err(|e| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("the query parameter `{key}` must be JSON-encoded: {e}"),
                )
                .with_detail(FIELD, key)
            })
        })
        .transpose()
}

/// `GET /relation-tuples/check` (`FORBID`: 403 when denied) and
/// `GET /relation-tuples/check/openapi` (always 200 with `allowed`).
pub async fn check_get<const FORBID: bool>(
    State(state): State<Arc<AppState>>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = Params::parse(uri.query())?;
    let rel = take_relationship(&mut q)?;
    let extras = Extras {
        context: json_param(&q, CONTEXT_FIELD)?,
        contextual_tuples: json_param(&q, CONTEXTUAL_TUPLES_FIELD)?.unwrap_or_default(),
    };
    check(state, q, rel, extras, FORBID).await
}

/// The same questions as [`check_get`], asked in a JSON body.
pub async fn check_post<const FORBID: bool>(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let body: CheckBody = read_json(&state, &headers, body).await?;
    let rel = body.relationship();
    let extras = Extras {
        context: body.context,
        contextual_tuples: body.contextual_tuples,
    };
    check(state, q, rel, extras, FORBID).await
}

/// Refuses a batch of more than `max_batch` checks.
pub fn check_batch_size(state: &AppState, len: usize) -> Result<(), ApiError> {
    if len > state.settings.max_batch {
        return Err(ApiError::bad_request(
            "batch_too_large",
            format!("batch exceeds max size of {}", state.settings.max_batch),
        ));
    }
    Ok(())
}

/// Checks of `tuples`, all at one snapshot: one answer (or error) each,
/// and the snapshot's token.
pub fn batch_check_at(
    s: &Scope<'_>,
    tuples: &[Relationship],
    depth: u32,
    consistency: &Consistency,
    request: &RequestContext,
) -> Result<(Vec<CheckResultWithError>, String), ApiError> {
    let at = consistency.resolve(s)?;
    let results = tuples
        .iter()
        .map(|rel| {
            match question(&s.schema, rel).and_then(|q| run_check(s, &q, depth, at, request)) {
                Ok(decision) => {
                    let (allowed, conditional) = keto_answer(decision);
                    CheckResultWithError {
                        allowed,
                        conditional,
                        error: String::new(),
                    }
                }
                Err(e) => CheckResultWithError {
                    allowed: false,
                    conditional: None,
                    error: e.message,
                },
            }
        })
        .collect();
    Ok((results, s.snaptoken(at)))
}

/// `POST /relation-tuples/batch/check`: one answer (or error) per tuple,
/// all at one snapshot.
pub async fn batch_check(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let depth = state.depth(q.max_depth()?)?;
    let consistency = q.consistency(&state)?;
    let request: BatchCheckBody = read_json(&state, &headers, body).await?;
    check_batch_size(&state, request.tuples.len())?;
    let (results, token) = evaluate(&state, move |s| {
        let context = rest_request(
            &s.schema,
            request.context.as_ref(),
            &request.contextual_tuples,
        )?;
        batch_check_at(s, &request.tuples, depth, &consistency, &context)
    })
    .await?;
    Ok((
        token_header(&token),
        Json(BatchCheckResult {
            results,
            snaptoken: token,
        }),
    )
        .into_response())
}

// ---------------------------------------------------------------------------
// Listing, expanding, namespaces.

/// The page size a listing asks for: 0 is the default, above the maximum
/// is refused.
pub fn page_size(state: &AppState, requested: i64) -> Result<usize, ApiError> {
    let invalid = |message: String| {
        ApiError::bad_request("invalid_page_size", message).with_detail(FIELD, "page_size")
    };
    let n = usize::try_from(requested).map_err(|_| {
        invalid(format!(
            "`page_size` must be a positive integer, got `{requested}`"
        ))
    })?;
    if n == 0 {
        Ok(state.settings.default_page_size)
    } else if n > state.settings.max_page_size {
        Err(invalid(format!(
            "`page_size` {n} is above the maximum of {}",
            state.settings.max_page_size
        )))
    } else {
        Ok(n)
    }
}

/// One page of the tuples matching the relation query `q`: the first at
/// `consistency`, the next ones at the snapshot of `page_token`.
pub fn list_page(
    s: &Scope<'_>,
    q: &Params,
    page_size: usize,
    page_token: Option<&str>,
    consistency: &Consistency,
) -> Result<Relationships, ApiError> {
    let filter = filter_from_params(&s.schema, q)?;
    let hash = query_hash(&serde_json::to_string(&filter).unwrap_or_default());
    let (at, cursor) = match page_token {
        Some(token) => {
            let page = s.tokens.parse_page(token).map_err(at_field("page_token"))?;
            if page.query_hash != hash {
                return Err(ApiError::bad_request(
                    "invalid_page_token",
                    "the page token belongs to a different query: keep the filters of the first page",
                )
                .with_detail(FIELD, "page_token"));
            }
            if page.revision < s.horizon() {
                return Err(ApiError::bad_request(
                    "snapshot_expired",
                    "the page token's snapshot is older than the retention window; start the listing again",
                )
                .with_detail(FIELD, "page_token"));
            }
            s.check_history(&page.snapshot())
                .map_err(|e| e.with_detail(FIELD, "page_token"))?;
            (page.revision, Some(page.cursor))
        }
        None => (consistency.resolve(s)?, None),
    };
    let page = s.store.snapshot(at)?.list(
        &filter,
        &PageRequest {
            cursor,
            limit: page_size,
        },
    )?;
    Ok(Relationships {
        relation_tuples: page
            .items
            .iter()
            .map(|t| tuple_to_keto(&s.schema, t))
            .collect(),
        next_page_token: s.next_page_token(at, hash, page.next_cursor),
        snaptoken: s.snaptoken(at),
    })
}

/// `GET /relation-tuples`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let page_size = match q.get("page_size").filter(|v| !v.is_empty()) {
        None => state.settings.default_page_size,
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                ApiError::bad_request(
                    "invalid_page_size",
                    format!("`page_size` must be a positive integer, got `{v}`"),
                )
                .with_detail(FIELD, "page_size")
            })?;
            page_size(&state, n)?
        }
    };
    let consistency = q.consistency(&state)?;
    let page_token = q
        .get("page_token")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let body = blocking(&state, move |s| {
        list_page(s, &q, page_size, page_token.as_deref(), &consistency)
    })
    .await?;
    Ok((token_header(&body.snaptoken), Json(body)).into_response())
}

/// `GET /relation-tuples/expand`.
pub async fn expand(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let depth = state.depth(q.max_depth()?)?;
    let consistency = q.consistency(&state)?;
    let (tree, token) = blocking(&state, move |s| {
        let set = SubjectSet {
            namespace: q.require("namespace")?.to_owned(),
            object: q.require("object")?.to_owned(),
            relation: q.require("relation")?.to_owned(),
        };
        expand_at(s, &set, depth, &consistency)
    })
    .await?;
    Ok((token_header(&token), Json(tree)).into_response())
}

/// The tree of the subject set `set` at `consistency`, and its snapshot's
/// token.
pub fn expand_at(
    s: &Scope<'_>,
    set: &SubjectSet,
    depth: u32,
    consistency: &Consistency,
) -> Result<(ExpandedTree, String), ApiError> {
    let ns =
        namespace_id(&s.schema, &set.namespace, Access::Read).map_err(at_field("namespace"))?;
    relation_id(&s.schema, ns, &set.relation, Access::Read).map_err(at_field("relation"))?;
    let at = consistency.resolve(s)?;
    let engine =
        Engine::new(&s.schema, s.store.as_ref()).with_answer_limits(answer_limits(&s.settings));
    let object = Object::new(set.namespace.clone(), set.object.clone());
    let tree = bounded(&s.settings, Work::Lookup, || {
        engine.expand(&object, &set.relation, depth, at)
    })?;
    Ok((
        crate::engine::grow_stack(|| to_keto_tree(&s.schema, &tree)),
        s.snaptoken(at),
    ))
}

/// The namespaces of the schema, in its order.
pub fn namespace_names(schema: &Schema) -> Namespaces {
    Namespaces {
        namespaces: schema
            .namespaces
            .iter()
            .map(|n| NamespaceName {
                name: n.name.clone(),
            })
            .collect(),
    }
}

/// `GET /namespaces`.
pub async fn namespaces(State(state): State<Arc<AppState>>) -> Json<Namespaces> {
    Json(namespace_names(&state.schema()))
}

// ---------------------------------------------------------------------------
// Writes.

fn written(state: &AppState, revision: Revision) -> String {
    state.saw(revision);
    state.snaptoken(revision)
}

/// `PUT /admin/relation-tuples`: 201 mirroring the payload (plus `snaptoken`).
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let rel: Relationship = read_json(&state, &headers, body).await?;
    // The answer shows the tuple as the listing does (one rule for the
    // subject's form), not as it was sent.
    let (echo, token) = blocking(&state, move |s| {
        let tuple = tuple_for_write(&s.schema, &rel)?;
        let revision = s.store.write(std::slice::from_ref(&tuple), &[])?;
        Ok((tuple_to_keto(&s.schema, &tuple), written(s, revision)))
    })
    .await?;
    let mut body = serde_json::to_value(&echo).unwrap_or_default();
    if let Some(map) = body.as_object_mut() {
        map.insert("snaptoken".into(), token.clone().into());
    }
    let location = format!(
        "/relation-tuples?{}",
        serde_urlencoded::to_string([
            ("namespace", echo.namespace.as_str()),
            ("object", echo.object.as_str()),
            ("relation", echo.relation.as_str()),
        ])
        .unwrap_or_default()
    );
    let mut headers = HeaderMap::new();
    headers.extend(token_header(&token));
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    Ok((StatusCode::CREATED, headers, Json(body)).into_response())
}

/// `DELETE /admin/relation-tuples`: deletes every tuple matching the query;
/// `namespace` is required, the body must be empty.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let mut known = RELATION_QUERY_KEYS.to_vec();
    known.push("subject");
    q.reject_unknown(&known)?;
    if !q.has("namespace") {
        return Err(ApiError::bad_request(
            "missing_parameter",
            "the query parameter `namespace` is required",
        ));
    }
    {
        use http_body_util::BodyExt;
        let limited = http_body_util::Limited::new(body, 1024);
        let bytes = limited
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_else(|_| axum::body::Bytes::from_static(b"x"));
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "unexpected_body",
                "the request body must be empty: DELETE takes its filter from the query",
            ));
        }
    }
    let token = blocking(&state, move |s| delete_by_query(s, &q)).await?;
    Ok((StatusCode::NO_CONTENT, token_header(&token)).into_response())
}

/// Deletes every tuple matching the relation query `q` (which the caller
/// has checked names a namespace): the token of the write.
pub fn delete_by_query(s: &Scope<'_>, q: &Params) -> Result<String, ApiError> {
    let filter = filter_from_params(&s.schema, q)?;
    let revision = s.store.delete_matching(&filter)?;
    Ok(written(s, revision))
}

/// One change of a transaction.
#[derive(Clone, Debug)]
pub enum Delta {
    Insert(Relationship),
    Delete(Relationship),
}

/// Writes `deltas` in one transaction if every precondition holds (an
/// `Err` delta, or one the schema refuses, and nothing is written; `at`
/// says which delta an error is about): the token of the write, or of the
/// head when there is nothing to write or check.
pub fn transact(
    s: &Scope<'_>,
    deltas: Vec<Result<Delta, ApiError>>,
    preconditions: &[Precondition],
    at: impl Fn(usize, ApiError) -> ApiError,
) -> Result<String, ApiError> {
    let mut inserts = Vec::new();
    let mut deletes = Vec::new();
    for (i, delta) in deltas.into_iter().enumerate() {
        match delta.map_err(|e| at(i, e))? {
            Delta::Insert(rel) => {
                inserts.push(tuple_for_write(&s.schema, &rel).map_err(|e| at(i, e))?)
            }
            Delta::Delete(rel) => {
                deletes.push(tuple_for_delete(&s.schema, &rel).map_err(|e| at(i, e))?)
            }
        }
    }
    if inserts.is_empty() && deletes.is_empty() && preconditions.is_empty() {
        let head = s.refresh_head()?;
        return Ok(s.snaptoken(head));
    }
    let revision = s.store.apply(&ChangeSet {
        inserts: &inserts,
        deletes: &deletes,
        preconditions,
        ..ChangeSet::default()
    })?;
    Ok(written(s, revision))
}

/// `PATCH /admin/relation-tuples`: inserts and deletes in one transaction;
/// one bad delta and nothing is written. The body is Keto's array of
/// deltas, or `{"deltas": [...], "preconditions": [...]}`: then the deltas
/// are written only if every precondition holds, checked in the same
/// transaction (409 naming the first that does not). With preconditions and
/// no delta, the preconditions are still checked (an empty transaction).
pub async fn patch(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body: PatchBody = read_json(&state, &headers, body).await?;
    let (deltas, preconditions) = body.into_parts();
    let deltas = deltas
        .into_iter()
        .map(|delta| {
            let rel = delta.relation_tuple.ok_or_else(|| {
                ApiError::bad_request("missing_field", "relation_tuple is missing")
            })?;
            match delta.action.as_str() {
                "insert" => Ok(Delta::Insert(rel)),
                "delete" => Ok(Delta::Delete(rel)),
                other => Err(ApiError::bad_request(
                    "unknown_action",
                    format!("unknown action `{other}`; use `insert` or `delete`"),
                )),
            }
        })
        .collect();
    let token = blocking(&state, move |s| {
        let preconditions = patch_preconditions(&s.schema, &preconditions)?;
        transact(s, deltas, &preconditions, |i, e| ApiError {
            message: format!("[{i}]: {}", e.message),
            ..e
        })
    })
    .await?;
    Ok((StatusCode::NO_CONTENT, token_header(&token)).into_response())
}

/// A PATCH's deltas as the tuples to insert and to delete, each validated
/// as PUT and DELETE validate them; an error names the delta (`[2]: …`).
pub fn patch_deltas(
    schema: &Schema,
    deltas: &[PatchDelta],
) -> Result<(Vec<Tuple>, Vec<Tuple>), ApiError> {
    let mut inserts = Vec::new();
    let mut deletes = Vec::new();
    for (i, delta) in deltas.iter().enumerate() {
        let at = |e: ApiError| ApiError {
            message: format!("[{i}]: {}", e.message),
            ..e
        };
        let rel = delta.relation_tuple.as_ref().ok_or_else(|| {
            at(ApiError::bad_request(
                "missing_field",
                "relation_tuple is missing",
            ))
        })?;
        match delta.action.as_str() {
            "insert" => inserts.push(tuple_for_write(schema, rel).map_err(at)?),
            "delete" => deletes.push(tuple_for_delete(schema, rel).map_err(at)?),
            other => {
                return Err(at(ApiError::bad_request(
                    "unknown_action",
                    format!("unknown action `{other}`; use `insert` or `delete`"),
                )))
            }
        }
    }
    Ok((inserts, deletes))
}

/// A PATCH's preconditions, their queries read as a list query reads its
/// parameters; an error names the field (`preconditions[1].query`).
fn patch_preconditions(
    schema: &Schema,
    preconditions: &[PatchPrecondition],
) -> Result<Vec<Precondition>, ApiError> {
    preconditions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let filter = filter_for_query(schema, &p.query)
                .map_err(|e| in_field(e, &format!("preconditions[{i}].query")))?;
            Ok(match p.must {
                Must::Exist => Precondition::must_exist(filter),
                Must::NotExist => Precondition::must_not_exist(filter),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{CheckAnswer, CheckResult, Conditional};

    #[test]
    fn a_check_answer_is_written_as_a_check_result() {
        let conditional = Conditional {
            missing: vec!["ip".into()],
        };
        for (allowed, conditional) in [(true, None), (false, None), (false, Some(conditional))] {
            let owned = CheckResult {
                allowed,
                conditional: conditional.clone(),
                snaptoken: "zk2_\"quoted\"".into(),
            };
            let borrowed = CheckAnswer {
                allowed,
                conditional: conditional.as_ref(),
                snaptoken: &owned.snaptoken,
            };
            assert_eq!(
                serde_json::to_string(&borrowed).unwrap(),
                serde_json::to_string(&owned).unwrap()
            );
        }
    }
}
