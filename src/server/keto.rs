//! Ory Keto's REST API, wire-compatible: the same paths, query parameters,
//! bodies, status codes and error shape (see `docs/api.md` for where zanzi
//! deliberately differs).
//!
//! # `subject_id` and zanzi's typed subjects
//!
//! Keto's subjects are untyped strings; zanzi's are `namespace:id`. A
//! `subject_id` is mapped as follows:
//!
//! 1. `ns:id`, where `ns` is a namespace of the schema, is the object
//!    subject `ns:id` (`ns:*` the wildcard); the ID is everything after the
//!    first `:`, raw (no percent-decoding);
//! 2. any other string is an ID whose namespace is inferred: the single
//!    namespace of object subjects the relation accepts (for a write or a
//!    filter: its direct object types; for a check: every namespace whose
//!    objects can reach the relation or permission). None or several is a
//!    400 naming the accepted types. In a query (list, delete), a bare ID
//!    instead matches object subjects of every type the query's relation
//!    (or namespace, or the whole schema) accepts directly;
//! 3. a `subject_set` whose `relation` is empty is the object subject
//!    `namespace:object`.
//!
//! On the way out, an object subject is written as the bare ID when rule 2
//! would map it back to the same subject, else as `ns:id`; wildcards as
//! `ns:*`; subject sets as `subject_set`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::consistency::Consistency;
use super::errors::ApiError;
use super::zookie::query_hash;
use super::{blocking, evaluate, AppState, SNAPTOKEN_HEADER};
use crate::engine::{Engine, EngineError, EngineOptions, ExpandTree};
use crate::ir::{AllowedType, NamespaceId, RelationId};
use crate::store::{ObjectIn, PageRequest, Revision, TupleFilter};
use crate::tuple::{validate_tuple, Object, Subject, Tuple, WriteError};

// ---------------------------------------------------------------------------
// Wire types.

/// Keto's `subjectSet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectSet {
    pub namespace: String,
    pub object: String,
    /// Empty: the object subject `namespace:object`.
    #[serde(default)]
    pub relation: String,
}

/// Keto's `relationship` (a relation tuple).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Relationship {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_set: Option<SubjectSet>,
}

/// One change of a PATCH.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchDelta {
    /// `insert` or `delete`.
    pub action: String,
    pub relation_tuple: Option<Relationship>,
}

/// The body of a batch check.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheckBody {
    pub tuples: Vec<Relationship>,
}

/// A check's answer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub allowed: bool,
    /// The snapshot the answer was computed at.
    pub snaptoken: String,
}

/// One answer of a batch check.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResultWithError {
    pub allowed: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BatchCheckResult {
    pub results: Vec<CheckResultWithError>,
    pub snaptoken: String,
}

/// A page of relationships.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Relationships {
    pub relation_tuples: Vec<Relationship>,
    /// Empty on the last page.
    pub next_page_token: String,
    pub snaptoken: String,
}

/// Keto's `expandedPermissionTree`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ExpandedTree {
    /// union, exclusion, intersection, leaf, tuple_to_subject_set, computed_subject_set
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<ExpandedTree>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tuple: Option<Relationship>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct NamespaceName {
    pub name: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Namespaces {
    pub namespaces: Vec<NamespaceName>,
}

// ---------------------------------------------------------------------------
// Request helpers.

/// Query parameters, in order; the first of a repeated key wins (as Go's
/// `url.Values.Get`).
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
                ApiError::bad_request("invalid_query", format!("invalid query string: {e}"))
            })?;
        Ok(Params(pairs))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    fn require(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                format!("the query parameter `{key}` is required"),
            )
        })
    }

    fn max_depth(&self) -> Result<Option<i64>, ApiError> {
        self.get("max-depth")
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_max_depth",
                        format!("unable to parse 'max-depth' query parameter to int: `{v}`"),
                    )
                })
            })
            .transpose()
    }

    fn consistency(&self, state: &AppState) -> Result<Consistency, ApiError> {
        Consistency::parse(state, self.get("consistency"), self.get("snaptoken"))
    }

    fn reject_unknown(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((key, _)) => Err(ApiError::bad_request(
                "unknown_parameter",
                format!(
                    "unknown query parameter `{key}`; allowed: {}",
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}

/// The query keys of a relation query (as Keto's `RelationQueryKeys`).
pub const RELATION_QUERY_KEYS: &[&str] = &[
    "namespace",
    "object",
    "relation",
    "subject_id",
    "subject_set.namespace",
    "subject_set.object",
    "subject_set.relation",
];

/// Reads a request body of at most the configured size, arriving within
/// the configured read timeout (a trickled body would hold its request
/// slot for as long as the client likes).
pub async fn read_body(state: &AppState, body: Body) -> Result<axum::body::Bytes, ApiError> {
    use http_body_util::BodyExt;
    let limit = state.settings.body_limit;
    let timeout = state.settings.read_timeout;
    let collected =
        tokio::time::timeout(timeout, http_body_util::Limited::new(body, limit).collect())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!(
                        "the request body did not arrive within {} s",
                        timeout.as_secs()
                    ),
                )
            })?
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("the request body exceeds the limit of {limit} bytes"),
                    )
                } else {
                    ApiError::bad_request(
                        "unreadable_body",
                        format!("cannot read the request body: {e}"),
                    )
                }
            })?;
    Ok(collected.to_bytes())
}

/// Reads a JSON body (see [`read_body`]); errors name the offending field.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = read_body(state, body).await?;
    parse_json(&bytes)
}

/// Parses JSON, naming the field that is wrong.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." || path.is_empty() {
            format!("could not unmarshal json: {inner}")
        } else {
            format!("could not unmarshal json: field `{path}`: {inner}")
        };
        ApiError::bad_request("invalid_json", message)
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request("invalid_json", format!("could not unmarshal json: {e}"))
    })?;
    Ok(value)
}

fn token_header(token: &str) -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::HeaderName::from_static(SNAPTOKEN_HEADER),
        HeaderValue::from_str(token).unwrap_or(HeaderValue::from_static("")),
    )]
}

// ---------------------------------------------------------------------------
// Names and subjects.

/// Whether a name error happens on a read (404) or a write (422).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

fn name_error(access: Access, message: String) -> ApiError {
    match access {
        Access::Read => ApiError::not_found("unknown_name", message),
        Access::Write => ApiError::unprocessable("unknown_name", message),
    }
}

pub fn namespace_id(state: &AppState, name: &str, access: Access) -> Result<NamespaceId, ApiError> {
    state.schema.namespace_id(name).ok_or_else(|| {
        let known: Vec<&str> = state
            .schema
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        let hint = crate::analysis::suggest::closest(name, known.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        name_error(
            access,
            format!(
                "unknown namespace `{name}`{hint} (known: {})",
                known.join(", ")
            ),
        )
        .with_detail("namespaces", known)
    })
}

pub fn relation_id(
    state: &AppState,
    namespace: NamespaceId,
    name: &str,
    access: Access,
) -> Result<RelationId, ApiError> {
    state.schema.relation_id(namespace, name).ok_or_else(|| {
        let ns = state.schema.namespace(namespace);
        let known: Vec<&str> = ns
            .map(|n| {
                n.relations
                    .iter()
                    .filter_map(|r| state.schema.relation(*r))
                    .map(|r| r.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let hint = crate::analysis::suggest::closest(name, known.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        name_error(
            access,
            format!(
                "`{}` has no relation or permission `{name}`{hint} (it has: {})",
                ns.map_or("?", |n| n.name.as_str()),
                known.join(", ")
            ),
        )
        .with_detail("relations", known)
    })
}

/// Where a bare `subject_id` is resolved.
#[derive(Clone, Copy, Debug)]
pub enum SubjectScope {
    /// A stored relation's direct object types (writes, filters).
    Stored(RelationId),
    /// Whatever can reach a relation or permission (checks).
    Reachable(RelationId),
    /// The direct object types of every relation of a namespace (filters).
    Namespace(NamespaceId),
    /// Every relation (filters without a namespace).
    Anywhere,
}

fn direct_object_types(state: &AppState, relation: RelationId) -> Vec<NamespaceId> {
    let mut out: Vec<NamespaceId> = state
        .schema
        .relation(relation)
        .map(|r| {
            r.allowed()
                .iter()
                .filter_map(|t| match t {
                    AllowedType::Object { namespace } => Some(*namespace),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

fn candidates(state: &AppState, scope: SubjectScope) -> Vec<NamespaceId> {
    let mut out = match scope {
        SubjectScope::Stored(r) => direct_object_types(state, r),
        SubjectScope::Reachable(r) => state
            .subject_types
            .get(r.0 as usize)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default(),
        SubjectScope::Namespace(ns) => state
            .schema
            .namespace(ns)
            .map(|n| {
                n.relations
                    .iter()
                    .flat_map(|r| direct_object_types(state, *r))
                    .collect()
            })
            .unwrap_or_default(),
        SubjectScope::Anywhere => (0..state.schema.relations.len())
            .flat_map(|r| direct_object_types(state, RelationId(r as u32)))
            .collect(),
    };
    out.sort();
    out.dedup();
    out
}

fn scope_name(state: &AppState, scope: SubjectScope) -> String {
    match scope {
        SubjectScope::Stored(r) | SubjectScope::Reachable(r) => {
            format!("`{}`", state.schema.display_relation(r))
        }
        SubjectScope::Namespace(ns) => format!(
            "the relations of `{}`",
            state.schema.namespace(ns).map_or("?", |n| n.name.as_str())
        ),
        SubjectScope::Anywhere => "the schema".to_owned(),
    }
}

/// Maps a Keto subject onto a zanzi subject (see the module docs).
pub fn subject_from_keto(
    state: &AppState,
    subject_id: Option<&str>,
    subject_set: Option<&SubjectSet>,
    scope: SubjectScope,
) -> Result<Subject, ApiError> {
    match (subject_id, subject_set) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "duplicate_subject",
            "exactly one of subject_set or subject_id has to be provided",
        )),
        (None, None) => Err(ApiError::bad_request(
            "missing_subject",
            "subject is not allowed to be nil: provide `subject_id` or `subject_set`",
        )),
        (None, Some(set)) if set.relation.is_empty() => {
            Ok(Subject::object(set.namespace.clone(), set.object.clone()))
        }
        (None, Some(set)) => Ok(Subject::set(
            set.namespace.clone(),
            set.object.clone(),
            set.relation.clone(),
        )),
        (Some(id), None) => subject_from_id(state, id, scope),
    }
}

fn subject_from_id(state: &AppState, id: &str, scope: SubjectScope) -> Result<Subject, ApiError> {
    if let Some((ns, rest)) = id.split_once(':') {
        if state.schema.namespace_id(ns).is_some() {
            return Ok(if rest == "*" {
                Subject::wildcard(ns)
            } else {
                Subject::object(ns, rest)
            });
        }
    }
    let found = candidates(state, scope);
    let names: Vec<String> = found
        .iter()
        .filter_map(|ns| state.schema.namespace(*ns).map(|n| n.name.clone()))
        .collect();
    match names.as_slice() {
        [one] => Ok(Subject::object(one.clone(), id)),
        [] => Err(ApiError::bad_request(
            "unmappable_subject_id",
            format!(
                "subject_id `{id}` cannot be mapped: {} accepts no object subjects; \
                 use `subject_set` instead",
                scope_name(state, scope)
            ),
        )),
        many => Err(ApiError::bad_request(
            "ambiguous_subject_id",
            format!(
                "subject_id `{id}` is ambiguous: {} accepts objects of {}; \
                 write it as `<type>:{id}` (e.g. `{}:{id}`) or as a subject_set",
                scope_name(state, scope),
                many.join(", "),
                many.first().map_or("", String::as_str)
            ),
        )
        .with_detail("allowed_types", many.to_vec())),
    }
}

/// A zanzi subject in Keto's form, for a tuple of `relation`.
pub fn subject_to_keto(
    state: &AppState,
    subject: &Subject,
    relation: Option<RelationId>,
) -> (Option<String>, Option<SubjectSet>) {
    match subject {
        Subject::Object(object) => {
            let bare_round_trips = relation.is_some_and(|r| {
                let types = direct_object_types(state, r);
                let only = matches!(types.as_slice(), [ns] if state.schema.namespace(*ns).is_some_and(|n| n.name == object.namespace));
                let looks_typed = object
                    .id
                    .split_once(':')
                    .is_some_and(|(ns, _)| state.schema.namespace_id(ns).is_some());
                only && !looks_typed
            });
            if bare_round_trips {
                (Some(object.id.clone()), None)
            } else {
                (Some(format!("{}:{}", object.namespace, object.id)), None)
            }
        }
        Subject::Wildcard { namespace } => (Some(format!("{namespace}:*")), None),
        Subject::Set { object, relation } => (
            None,
            Some(SubjectSet {
                namespace: object.namespace.clone(),
                object: object.id.clone(),
                relation: relation.clone(),
            }),
        ),
    }
}

pub fn tuple_to_keto(state: &AppState, tuple: &Tuple) -> Relationship {
    let relation = state
        .schema
        .namespace_id(&tuple.object.namespace)
        .and_then(|ns| state.schema.relation_id(ns, &tuple.relation));
    let (subject_id, subject_set) = subject_to_keto(state, &tuple.subject, relation);
    Relationship {
        namespace: tuple.object.namespace.clone(),
        object: tuple.object.id.clone(),
        relation: tuple.relation.clone(),
        subject_id,
        subject_set,
    }
}

/// A relationship to be written: names resolved, subject mapped, the tuple
/// validated against the schema (422 naming the allowed types).
pub fn tuple_for_write(state: &AppState, rel: &Relationship) -> Result<Tuple, ApiError> {
    let ns = namespace_id(state, &rel.namespace, Access::Write)?;
    let relation = relation_id(state, ns, &rel.relation, Access::Write)?;
    if state
        .schema
        .relation(relation)
        .is_some_and(|r| r.is_permission())
    {
        return Err(ApiError::unprocessable(
            "permission_not_writable",
            format!(
                "`{}#{}` is a permission and cannot be written; write one of the relations it uses",
                rel.namespace, rel.relation
            ),
        ));
    }
    let subject = subject_from_keto(
        state,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        SubjectScope::Stored(relation),
    )?;
    let tuple = Tuple::new(
        Object::new(rel.namespace.clone(), rel.object.clone()),
        rel.relation.clone(),
        subject,
    );
    validate_tuple(&state.schema, &tuple).map_err(write_error)?;
    Ok(tuple)
}

/// A relationship to be deleted: names and subject resolved, not
/// type-checked (tuples left over from an older schema can be removed).
fn tuple_for_delete(state: &AppState, rel: &Relationship) -> Result<Tuple, ApiError> {
    let scope = state
        .schema
        .namespace_id(&rel.namespace)
        .and_then(|ns| state.schema.relation_id(ns, &rel.relation))
        .map_or(SubjectScope::Anywhere, SubjectScope::Stored);
    let subject = subject_from_keto(
        state,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        scope,
    )?;
    let tuple = Tuple::new(
        Object::new(rel.namespace.clone(), rel.object.clone()),
        rel.relation.clone(),
        subject,
    );
    tuple.check_well_formed().map_err(|reason| {
        ApiError::bad_request(
            "invalid_tuple",
            format!("invalid tuple `{tuple}`: {reason}"),
        )
    })?;
    Ok(tuple)
}

pub fn write_error(error: WriteError) -> ApiError {
    match &error {
        WriteError::Malformed { .. } => ApiError::bad_request("invalid_tuple", error.to_string()),
        WriteError::Permission { .. } => {
            ApiError::unprocessable("permission_not_writable", error.to_string())
        }
        WriteError::SubjectNotAllowed { allowed, .. } => {
            let allowed = allowed.clone();
            ApiError::unprocessable("subject_type_not_allowed", error.to_string())
                .with_detail("allowed_types", allowed)
        }
        WriteError::UnknownNamespace { .. } | WriteError::UnknownRelation { .. } => {
            ApiError::unprocessable("unknown_name", error.to_string())
        }
    }
}

/// The filter of a relation query in URL parameters (list, delete).
fn filter_from_params(state: &AppState, q: &Params) -> Result<TupleFilter, ApiError> {
    if q.has("subject") {
        return Err(ApiError::bad_request(
            "dropped_subject_key",
            "provide \"subject_id\" or \"subject_set.*\"; support for \"subject\" was dropped",
        ));
    }
    let set_keys = [
        "subject_set.namespace",
        "subject_set.object",
        "subject_set.relation",
    ];
    let has_set = set_keys.iter().any(|k| q.has(k));
    if q.has("subject_id") && has_set {
        return Err(ApiError::bad_request(
            "duplicate_subject",
            "exactly one of subject_set or subject_id has to be provided",
        ));
    }
    let namespace = q.get("namespace").map(str::to_owned);
    let relation = q.get("relation").map(str::to_owned);
    let ns = namespace
        .as_deref()
        .map(|n| namespace_id(state, n, Access::Read))
        .transpose()?;
    let rel = match (ns, relation.as_deref()) {
        (Some(ns), Some(r)) => Some(relation_id(state, ns, r, Access::Read)?),
        _ => None,
    };
    let scope = match (ns, rel) {
        (_, Some(r)) => SubjectScope::Stored(r),
        (Some(ns), None) => SubjectScope::Namespace(ns),
        (None, None) => SubjectScope::Anywhere,
    };
    let mut subject_object_in = None;
    let subject = if let Some(id) = q.get("subject_id") {
        match id.split_once(':') {
            Some((ns, _)) if state.schema.namespace_id(ns).is_some() => {
                Some(subject_from_id(state, id, scope)?)
            }
            // A query, unlike a write, need not pick one type: a bare ID
            // matches object subjects of every type the scope accepts.
            _ => {
                subject_object_in = Some(ObjectIn {
                    namespaces: candidates(state, scope)
                        .iter()
                        .filter_map(|ns| state.schema.namespace(*ns).map(|n| n.name.clone()))
                        .collect(),
                    id: id.to_owned(),
                });
                None
            }
        }
    } else if has_set {
        if !set_keys.iter().all(|k| q.has(k)) {
            return Err(ApiError::bad_request(
                "incomplete_subject",
                "incomplete subject, provide \"subject_id\" or a complete \"subject_set.*\"",
            ));
        }
        let set = SubjectSet {
            namespace: q
                .get("subject_set.namespace")
                .unwrap_or_default()
                .to_owned(),
            object: q.get("subject_set.object").unwrap_or_default().to_owned(),
            relation: q.get("subject_set.relation").unwrap_or_default().to_owned(),
        };
        Some(subject_from_keto(state, None, Some(&set), scope)?)
    } else {
        None
    };
    Ok(TupleFilter {
        namespace,
        object_id: q.get("object").map(str::to_owned),
        relation,
        subject,
        subject_object_in,
    })
}

// ---------------------------------------------------------------------------
// Checks.

/// A check question, resolved.
pub struct Question {
    pub object: Object,
    pub relation: String,
    pub subject: Subject,
}

pub fn question(state: &AppState, rel: &Relationship) -> Result<Question, ApiError> {
    let ns = namespace_id(state, &rel.namespace, Access::Read)?;
    let relation = relation_id(state, ns, &rel.relation, Access::Read)?;
    let subject = subject_from_keto(
        state,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        SubjectScope::Reachable(relation),
    )?;
    if let Subject::Set { object, relation } = &subject {
        let sns = namespace_id(state, &object.namespace, Access::Read)?;
        relation_id(state, sns, relation, Access::Read)?;
    } else {
        namespace_id(state, subject.namespace(), Access::Read)?;
    }
    Ok(Question {
        object: Object::new(rel.namespace.clone(), rel.object.clone()),
        relation: rel.relation.clone(),
        subject,
    })
}

/// Runs one check at `at` (blocking), recording metrics.
pub fn run_check(
    state: &AppState,
    q: &Question,
    depth: u32,
    at: Revision,
) -> Result<bool, ApiError> {
    let engine = Engine::new(&state.schema, state.store.as_ref())
        .with_options(EngineOptions { max_depth: depth });
    match engine.check_with_depth(&q.object, &q.relation, &q.subject, at) {
        Ok((allowed, reached)) => {
            super::metrics::record_check(if allowed { "allowed" } else { "denied" }, reached);
            Ok(allowed)
        }
        Err(e) => {
            let reached = match &e {
                EngineError::DepthExceeded { max_depth, .. } => *max_depth,
                _ => 0,
            };
            super::metrics::record_check("error", reached);
            Err(e.into())
        }
    }
}

fn query_relationship(q: &Params) -> Result<Relationship, ApiError> {
    if q.has("subject") {
        return Err(ApiError::bad_request(
            "dropped_subject_key",
            "provide \"subject_id\" or \"subject_set.*\"; support for \"subject\" was dropped",
        ));
    }
    let has_set = q.has("subject_set.namespace")
        || q.has("subject_set.object")
        || q.has("subject_set.relation");
    let subject_set = if has_set {
        if !(q.has("subject_set.namespace")
            && q.has("subject_set.object")
            && q.has("subject_set.relation"))
        {
            return Err(ApiError::bad_request(
                "incomplete_subject",
                "incomplete subject, provide \"subject_id\" or a complete \"subject_set.*\"",
            ));
        }
        Some(SubjectSet {
            namespace: q
                .get("subject_set.namespace")
                .unwrap_or_default()
                .to_owned(),
            object: q.get("subject_set.object").unwrap_or_default().to_owned(),
            relation: q.get("subject_set.relation").unwrap_or_default().to_owned(),
        })
    } else {
        None
    };
    if !(q.has("namespace") && q.has("object") && q.has("relation")) {
        return Err(ApiError::bad_request(
            "incomplete_tuple",
            "incomplete tuple, provide \"namespace\", \"object\", \"relation\", and a subject",
        ));
    }
    Ok(Relationship {
        namespace: q.require("namespace")?.to_owned(),
        object: q.require("object")?.to_owned(),
        relation: q.require("relation")?.to_owned(),
        subject_id: q.get("subject_id").map(str::to_owned),
        subject_set,
    })
}

/// A check; `forbid_denied` answers a denial 403 (Keto's plain check).
async fn check(
    state: Arc<AppState>,
    q: Params,
    rel: Relationship,
    forbid_denied: bool,
) -> Result<Response, ApiError> {
    let depth = state.depth(q.max_depth()?)?;
    let consistency = q.consistency(&state)?;
    let (allowed, token) = evaluate(&state, move |s| {
        let question = question(s, &rel)?;
        let at = consistency.resolve(s)?;
        Ok((run_check(s, &question, depth, at)?, s.snaptoken(at)))
    })
    .await?;
    let status = if allowed || !forbid_denied {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok((
        status,
        token_header(&token),
        Json(CheckResult {
            allowed,
            snaptoken: token,
        }),
    )
        .into_response())
}

/// `GET /relation-tuples/check` (`FORBID`: 403 when denied) and
/// `GET /relation-tuples/check/openapi` (always 200 with `allowed`).
pub async fn check_get<const FORBID: bool>(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let rel = query_relationship(&q)?;
    check(state, q, rel, FORBID).await
}

/// The same questions as [`check_get`], asked in a JSON body.
pub async fn check_post<const FORBID: bool>(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let rel: Relationship = read_json(&state, body).await?;
    check(state, q, rel, FORBID).await
}

/// `POST /relation-tuples/batch/check`: one answer (or error) per tuple,
/// all at one snapshot.
pub async fn batch_check(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let depth = state.depth(q.max_depth()?)?;
    let consistency = q.consistency(&state)?;
    let request: BatchCheckBody = read_json(&state, body).await?;
    if request.tuples.len() > state.settings.max_batch {
        return Err(ApiError::bad_request(
            "batch_too_large",
            format!("batch exceeds max size of {}", state.settings.max_batch),
        ));
    }
    let (results, token) = evaluate(&state, move |s| {
        let at = consistency.resolve(s)?;
        let results = request
            .tuples
            .iter()
            .map(
                |rel| match question(s, rel).and_then(|q| run_check(s, &q, depth, at)) {
                    Ok(allowed) => CheckResultWithError {
                        allowed,
                        error: String::new(),
                    },
                    Err(e) => CheckResultWithError {
                        allowed: false,
                        error: e.message,
                    },
                },
            )
            .collect();
        Ok((results, s.snaptoken(at)))
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

/// `GET /relation-tuples`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Params::parse(raw.as_deref())?;
    let page_size = match q.get("page_size").filter(|v| !v.is_empty()) {
        None => state.settings.default_page_size,
        Some(v) => {
            let n: usize = v.trim().parse().map_err(|_| {
                ApiError::bad_request(
                    "invalid_page_size",
                    format!("`page_size` must be a positive integer, got `{v}`"),
                )
            })?;
            if n == 0 {
                state.settings.default_page_size
            } else if n > state.settings.max_page_size {
                return Err(ApiError::bad_request(
                    "invalid_page_size",
                    format!(
                        "`page_size` {n} is above the maximum of {}",
                        state.settings.max_page_size
                    ),
                ));
            } else {
                n
            }
        }
    };
    let consistency = q.consistency(&state)?;
    let page_token = q
        .get("page_token")
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let (body, token) = blocking(&state, move |s| {
        let filter = filter_from_params(s, &q)?;
        let hash = query_hash(&serde_json::to_string(&filter).unwrap_or_default());
        let (at, cursor) = match page_token {
            Some(token) => {
                let page = s.tokens.parse_page(&token)?;
                if page.query_hash != hash {
                    return Err(ApiError::bad_request(
                        "invalid_page_token",
                        "the page token belongs to a different query: keep the filters of the first page",
                    ));
                }
                if page.revision < s.horizon() {
                    return Err(ApiError::bad_request(
                        "snapshot_expired",
                        "the page token's snapshot is older than the retention window; start the listing again",
                    ));
                }
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
        let next_page_token = s.next_page_token(at, hash, page.next_cursor);
        let token = s.snaptoken(at);
        Ok((
            Relationships {
                relation_tuples: page.items.iter().map(|t| tuple_to_keto(s, t)).collect(),
                next_page_token,
                snaptoken: token.clone(),
            },
            token,
        ))
    })
    .await?;
    Ok((token_header(&token), Json(body)).into_response())
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
        let namespace = q.require("namespace")?;
        let object = q.require("object")?;
        let relation = q.require("relation")?;
        let ns = namespace_id(s, namespace, Access::Read)?;
        relation_id(s, ns, relation, Access::Read)?;
        let at = consistency.resolve(s)?;
        let engine = Engine::new(&s.schema, s.store.as_ref());
        let tree = engine.expand(&Object::new(namespace, object), relation, depth, at)?;
        Ok((
            crate::engine::grow_stack(|| to_keto_tree(s, &tree)),
            s.snaptoken(at),
        ))
    })
    .await?;
    Ok((token_header(&token), Json(tree)).into_response())
}

fn userset_tuple(userset: &str) -> Option<Relationship> {
    let (object, relation) = crate::tuple::parse_object_relation(userset).ok()?;
    Some(Relationship {
        namespace: object.namespace.clone(),
        object: object.id.clone(),
        relation: relation.clone(),
        subject_id: None,
        subject_set: Some(SubjectSet {
            namespace: object.namespace,
            object: object.id,
            relation,
        }),
    })
}

/// zanzi's expand tree in Keto's shape. A stored relation is a `union` of
/// its subjects (`leaf` nodes; subject sets expanded in place); a
/// permission is a `computed_subject_set` over its rewrite; an arrow is a
/// `tuple_to_subject_set`; a truncated or cyclic userset is a `leaf` naming
/// the userset.
pub fn to_keto_tree(state: &AppState, tree: &ExpandTree) -> ExpandedTree {
    let node = |kind, children, tuple| ExpandedTree {
        kind,
        children,
        tuple,
    };
    match tree {
        ExpandTree::Leaf {
            userset,
            subjects,
            expanded,
        } => {
            let base = userset_tuple(userset);
            let relation = base.as_ref().and_then(|b| {
                let ns = state.schema.namespace_id(&b.namespace)?;
                state.schema.relation_id(ns, &b.relation)
            });
            let mut children = Vec::new();
            for text in subjects {
                let Ok(subject) = text.parse::<Subject>() else {
                    continue;
                };
                let sub_tree = match &subject {
                    Subject::Set { .. } => expanded.iter().find(|e| match e {
                        ExpandTree::Leaf { userset, .. }
                        | ExpandTree::Computed { userset, .. }
                        | ExpandTree::Truncated { userset }
                        | ExpandTree::Cycle { userset } => userset == text,
                        _ => false,
                    }),
                    _ => None,
                };
                match sub_tree {
                    Some(sub) => children.push(to_keto_tree(state, sub)),
                    None => {
                        let (subject_id, subject_set) = subject_to_keto(state, &subject, relation);
                        let tuple = base.as_ref().map(|b| Relationship {
                            namespace: b.namespace.clone(),
                            object: b.object.clone(),
                            relation: b.relation.clone(),
                            subject_id,
                            subject_set,
                        });
                        children.push(node("leaf", Vec::new(), tuple));
                    }
                }
            }
            node("union", children, base)
        }
        ExpandTree::Computed { userset, child } => node(
            "computed_subject_set",
            vec![to_keto_tree(state, child)],
            userset_tuple(userset),
        ),
        ExpandTree::Union { children } => node(
            "union",
            children.iter().map(|c| to_keto_tree(state, c)).collect(),
            None,
        ),
        ExpandTree::Intersection { children } => node(
            "intersection",
            children.iter().map(|c| to_keto_tree(state, c)).collect(),
            None,
        ),
        ExpandTree::Exclusion { base, subtract } => node(
            "exclusion",
            vec![to_keto_tree(state, base), to_keto_tree(state, subtract)],
            None,
        ),
        ExpandTree::Arrow { children, .. } => node(
            "tuple_to_subject_set",
            children.iter().map(|c| to_keto_tree(state, c)).collect(),
            None,
        ),
        ExpandTree::Truncated { userset } | ExpandTree::Cycle { userset } => {
            node("leaf", Vec::new(), userset_tuple(userset))
        }
    }
}

/// `GET /namespaces`.
pub async fn namespaces(State(state): State<Arc<AppState>>) -> Json<Namespaces> {
    Json(Namespaces {
        namespaces: state
            .schema
            .namespaces
            .iter()
            .map(|n| NamespaceName {
                name: n.name.clone(),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------
// Writes.

fn written(state: &AppState, revision: Revision) -> String {
    state.saw(revision);
    state.snaptoken(revision)
}

/// `PUT /admin/relation-tuples`: 201 mirroring the payload (plus `snaptoken`).
pub async fn create(State(state): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let rel: Relationship = read_json(&state, body).await?;
    let echo = rel.clone();
    let token = blocking(&state, move |s| {
        let tuple = tuple_for_write(s, &rel)?;
        let revision = s.store.write(&[tuple], &[])?;
        Ok(written(s, revision))
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
    let token = blocking(&state, move |s| {
        let filter = filter_from_params(s, &q)?;
        let revision = s.store.delete_matching(&filter)?;
        Ok(written(s, revision))
    })
    .await?;
    Ok((StatusCode::NO_CONTENT, token_header(&token)).into_response())
}

/// `PATCH /admin/relation-tuples`: inserts and deletes in one transaction;
/// one bad delta and nothing is written.
pub async fn patch(State(state): State<Arc<AppState>>, body: Body) -> Result<Response, ApiError> {
    let deltas: Vec<PatchDelta> = read_json(&state, body).await?;
    let token = blocking(&state, move |s| {
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
                "insert" => inserts.push(tuple_for_write(s, rel).map_err(at)?),
                "delete" => deletes.push(tuple_for_delete(s, rel).map_err(at)?),
                other => {
                    return Err(at(ApiError::bad_request(
                        "unknown_action",
                        format!("unknown action `{other}`; use `insert` or `delete`"),
                    )))
                }
            }
        }
        if inserts.is_empty() && deletes.is_empty() {
            let head = s.refresh_head()?;
            return Ok(s.snaptoken(head));
        }
        let revision = s.store.write(&inserts, &deletes)?;
        Ok(written(s, revision))
    })
    .await?;
    Ok((StatusCode::NO_CONTENT, token_header(&token)).into_response())
}

pub fn read_routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router
        .route("/relation-tuples", get(list))
        .route(
            "/relation-tuples/check",
            get(check_get::<true>).post(check_post::<true>),
        )
        .route(
            "/relation-tuples/check/openapi",
            get(check_get::<false>).post(check_post::<false>),
        )
        .route(
            "/relation-tuples/batch/check",
            axum::routing::post(batch_check),
        )
        .route("/relation-tuples/expand", get(expand))
        .route("/namespaces", get(namespaces))
}

pub fn write_routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router.route(
        "/admin/relation-tuples",
        axum::routing::put(create).delete(delete).patch(patch),
    )
}
