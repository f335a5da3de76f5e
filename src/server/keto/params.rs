//! Keto's query parameters: reading them, and the relationship or filter
//! they describe.

use super::super::consistency::Consistency;
use super::super::errors::ApiError;
use super::super::AppState;
use crate::api::keto::subjects::{candidates, subject_from_id, subject_from_keto};
use crate::api::keto::subjects::{namespace_id, relation_id};
use crate::api::keto::{Access, Relationship, SubjectScope, SubjectSet};
use crate::store::{ObjectIn, TupleFilter};

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

    pub fn require(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).ok_or_else(|| {
            ApiError::bad_request(
                "missing_parameter",
                format!("the query parameter `{key}` is required"),
            )
        })
    }

    pub fn max_depth(&self) -> Result<Option<i64>, ApiError> {
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

    pub fn consistency(&self, state: &AppState) -> Result<Consistency, ApiError> {
        Consistency::parse(state, self.get("consistency"), self.get("snaptoken"))
    }

    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), ApiError> {
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

/// The filter of a relation query in URL parameters (list, delete).
pub fn filter_from_params(state: &AppState, q: &Params) -> Result<TupleFilter, ApiError> {
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
        .map(|n| namespace_id(&state.schema, n, Access::Read))
        .transpose()?;
    let rel = match (ns, relation.as_deref()) {
        (Some(ns), Some(r)) => Some(relation_id(&state.schema, ns, r, Access::Read)?),
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
                Some(subject_from_id(&state.schema, id, scope)?)
            }
            // A query, unlike a write, need not pick one type: a bare ID
            // matches object subjects of every type the scope accepts.
            _ => {
                subject_object_in = Some(ObjectIn {
                    namespaces: candidates(&state.schema, scope)
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
        Some(subject_from_keto(&state.schema, None, Some(&set), scope)?)
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

pub fn query_relationship(q: &Params) -> Result<Relationship, ApiError> {
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
