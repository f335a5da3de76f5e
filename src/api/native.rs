//! zanzi's own API bodies and answers (`/zanzi/v1/…` and the syntax
//! check), shared by the server and the client.

use serde::{Deserialize, Serialize};

use crate::engine::Explanation;

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
