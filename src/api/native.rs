//! zanzi's own API bodies and answers (`/zanzi/v1/…` and the syntax
//! check), shared by the server and the client.

use serde::{Deserialize, Serialize};

use crate::api::keto::Relationship;
use crate::api::ApiError;
use crate::engine::{Explanation, RequestContext};
use crate::ir::Schema;

/// A body that brings, besides its question, values for conditions'
/// parameters and contextual tuples: every one is read the same way.
pub trait WithRequestContext {
    fn context(&self) -> Option<&serde_json::Value>;
    fn contextual_tuples(&self) -> &[Relationship];

    /// The request context the body brings, bounded and validated against
    /// `schema` ([`rest_request`](crate::api::request::rest_request)).
    fn request_context(&self, schema: &Schema) -> Result<RequestContext, ApiError> {
        crate::api::request::rest_request(schema, self.context(), self.contextual_tuples())
    }
}

macro_rules! with_request_context {
    ($($body:ty),*) => {$(
        impl WithRequestContext for $body {
            fn context(&self) -> Option<&serde_json::Value> {
                self.context.as_ref()
            }
            fn contextual_tuples(&self) -> &[Relationship] {
                &self.contextual_tuples
            }
        }
    )*};
}

with_request_context!(
    LookupResourcesBody,
    LookupSubjectsBody,
    ZanziCheckBody,
    ExplainBody,
    ExpandBody
);

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupResourcesBody {
    #[schema(schema_with = crate::api::schema::name)]
    pub namespace: String,
    /// A relation or permission of `namespace`.
    #[schema(min_length = 1)]
    pub relation: String,
    /// `user:alice` or `group:eng#member`.
    #[schema(min_length = 1)]
    pub subject: String,
    /// 0 or absent: the server's default; at most its `max_page_size`
    /// (in the served document).
    #[serde(default)]
    pub page_size: Option<usize>,
    #[serde(default)]
    pub page_token: Option<String>,
    /// May only lower the configured depth limit (each candidate's check
    /// is held to it).
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_depth)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_consistency)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
    /// Values of conditions' parameters (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// Tuples that hold for this request only (at most 100), in Keto's
    /// relationship shape, validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<crate::api::keto::Relationship>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupResourcesResult {
    /// The objects whose set holds the subject.
    pub object_ids: Vec<String>,
    /// The objects whose set holds the subject depending on parameters
    /// neither the tuples nor the request gave (never in `object_ids`);
    /// a page's size counts both lists.
    pub conditional: Vec<ConditionalId>,
    /// Empty on the last page.
    pub next_page_token: String,
    pub snaptoken: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupSubjectsBody {
    #[schema(schema_with = crate::api::schema::name)]
    pub namespace: String,
    pub object: String,
    #[schema(schema_with = crate::api::schema::name)]
    pub relation: String,
    /// The namespace of the subjects wanted (`user`).
    #[schema(min_length = 1)]
    pub subject_namespace: String,
    /// May only lower the configured depth limit (each candidate's check
    /// is held to it).
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_depth)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_consistency)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
    /// Values of conditions' parameters (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// Tuples that hold for this request only (at most 100), in Keto's
    /// relationship shape, validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<crate::api::keto::Relationship>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LookupSubjectsResult {
    pub subject_ids: Vec<String>,
    /// Every subject of the namespace is in the set, except `excluded`.
    pub wildcard: bool,
    pub excluded: Vec<String>,
    /// Subjects in the set depending on missing parameters (never in
    /// `subject_ids`).
    pub conditional: Vec<ConditionalId>,
    /// Present when every subject may be in the set through a wildcard,
    /// depending on these missing parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wildcard_missing: Option<Vec<String>>,
    pub snaptoken: String,
}

/// An ID in a set or not depending on missing parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConditionalId {
    pub id: String,
    /// The parameters no one gave a value, sorted.
    pub missing: Vec<String>,
}

impl From<crate::engine::ConditionalId> for ConditionalId {
    fn from(c: crate::engine::ConditionalId) -> ConditionalId {
        ConditionalId {
            id: c.id,
            missing: c.missing,
        }
    }
}

/// A page of decided IDs as the allowed ones and the conditional ones.
pub fn split_decided(
    items: Vec<(String, crate::engine::Decision)>,
) -> (Vec<String>, Vec<ConditionalId>) {
    let mut allowed = Vec::new();
    let mut conditional = Vec::new();
    for (id, decision) in items {
        match decision {
            crate::engine::Decision::Allowed => allowed.push(id),
            crate::engine::Decision::Conditional { missing } => {
                conditional.push(ConditionalId { id, missing })
            }
            crate::engine::Decision::Denied => {}
        }
    }
    (allowed, conditional)
}

/// The body of zanzi's check: the question in tuple notation.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ZanziCheckBody {
    /// The question as a tuple: `document:readme#view@user:alice` (no
    /// condition or expiry: a question carries none).
    #[schema(min_length = 1)]
    pub tuple: String,
    /// May only lower the configured depth limit.
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_depth)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_consistency)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
    /// Values of conditions' parameters (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// Tuples that hold for this request only (at most 100), in Keto's
    /// relationship shape, validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<crate::api::keto::Relationship>,
}

/// `allowed`, `denied` or `conditional`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    Allowed,
    Denied,
    Conditional,
}

/// zanzi's check answer: three-valued.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ZanziCheckResult {
    pub decision: DecisionName,
    /// With `conditional`: the parameters no one gave a value, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    pub snaptoken: String,
}

impl ZanziCheckResult {
    pub fn new(decision: crate::engine::Decision, snaptoken: String) -> ZanziCheckResult {
        use crate::engine::Decision;
        let (decision, missing) = match decision {
            Decision::Allowed => (DecisionName::Allowed, Vec::new()),
            Decision::Denied => (DecisionName::Denied, Vec::new()),
            Decision::Conditional { missing } => (DecisionName::Conditional, missing),
        };
        ZanziCheckResult {
            decision,
            missing,
            snaptoken,
        }
    }
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainBody {
    /// The question as a tuple: `document:readme#view@user:alice`.
    #[schema(min_length = 1)]
    pub tuple: String,
    /// May only lower the configured depth limit.
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_depth)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_consistency)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
    /// Values of conditions' parameters (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// Tuples that hold for this request only (at most 100), in Keto's
    /// relationship shape, validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<crate::api::keto::Relationship>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpandBody {
    /// The userset to expand: `document:readme#view`.
    #[schema(min_length = 1)]
    pub userset: String,
    /// May only lower the configured depth limit; deeper parts are
    /// answered as `truncated` nodes.
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_depth)]
    pub max_depth: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_consistency)]
    pub consistency: Option<String>,
    #[serde(default)]
    pub snaptoken: Option<String>,
    /// Values of conditions' parameters (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// Tuples that hold for this request only (at most 100), in Keto's
    /// relationship shape, validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<crate::api::keto::Relationship>,
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

/// What `/version` and `/zanzi/v1/status` name zanzi by.
pub const SERVER_NAME: &str = "zanzi";

/// `GET /zanzi/v1/status`: which server answers, over which database and
/// schema, so that a client can tell it has the one it expects.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusResult {
    /// Always `zanzi`.
    pub server: String,
    /// The server's version.
    pub version: String,
    /// The database's identity (kept in the database; the same for every
    /// server on it and for `zanzi migrate status`).
    pub store_id: String,
    /// The `--db` location, its password masked.
    pub db: String,
    /// `sha256:<hex>` of the schema answered with.
    pub schema_hash: String,
    /// A snapshot token of the newest revision the server knows.
    pub head_snaptoken: String,
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

/// One change in a JSON line.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChangeJson {
    pub operation: crate::store::ChangeKind,
    /// In tuple notation.
    pub tuple: String,
    /// The snapshot token of the change's revision.
    pub revision: String,
}

/// One JSON line of the stream: the gRPC message's content.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchJson {
    pub changes: Vec<ChangeJson>,
    pub changes_through: String,
}
