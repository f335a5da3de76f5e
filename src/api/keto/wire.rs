//! Keto's REST bodies and answers (its JSON field names), also what the
//! client sends and reads.

use serde::{Deserialize, Serialize};

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
