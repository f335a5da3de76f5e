//! Keto's REST bodies and answers (its JSON field names), also what the
//! client sends and reads.

use serde::{Deserialize, Serialize};

/// Keto's `subjectSet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectSet {
    #[schema(schema_with = crate::api::schema::name)]
    pub namespace: String,
    #[schema(schema_with = crate::api::schema::id)]
    pub object: String,
    /// Empty: the object subject `namespace:object`.
    #[serde(default)]
    pub relation: String,
}

/// Keto's `relationship` (a relation tuple).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Relationship {
    #[schema(schema_with = crate::api::schema::name)]
    pub namespace: String,
    #[schema(schema_with = crate::api::schema::id)]
    pub object: String,
    #[schema(schema_with = crate::api::schema::name)]
    pub relation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::api::schema::optional_subject_id)]
    pub subject_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_set: Option<SubjectSet>,
    /// zanzi's: the tuple's condition and the stored part of its context
    /// (docs/language.md, "Tuples with a condition or an expiry").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RelationshipCondition>)]
    pub condition: Option<crate::tuple::TupleCondition>,
    /// zanzi's: the instant (RFC 3339) from which the tuple no longer holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<crate::tuple::Expiry>,
}

/// The document's view of a tuple's condition ([`crate::tuple::TupleCondition`]
/// on the wire; derived here only for its schema, which refuses other keys
/// as the server does).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RelationshipCondition)]
pub struct RelationshipCondition {
    /// A condition of the schema that the relation's type names.
    #[schema(min_length = 1)]
    pub name: String,
    /// Values of its parameters fixed at write; each must fit its type.
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
}

/// The document's view of a batch check's tuple: a [`Relationship`]
/// whose values are not constrained, since a bad one is answered with its
/// own error inside the 200 answer rather than refused.
#[derive(utoipa::ToSchema)]
#[schema(as = BatchCheckTuple)]
pub struct BatchCheckTuple {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    pub subject_id: Option<String>,
    #[schema(value_type = Option<SubjectSetQuery>)]
    pub subject_set: Option<SubjectSet>,
}

/// The document's view of a subject set in a query (a filter): any
/// values, which match what they match.
#[derive(utoipa::ToSchema)]
#[schema(as = SubjectSetQuery)]
pub struct SubjectSetQuery {
    pub namespace: String,
    pub object: String,
    /// Empty or absent: the object subject `namespace:object`.
    #[schema(required = false)]
    pub relation: String,
}

/// A PATCH delta's action.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PatchAction)]
#[serde(rename_all = "snake_case")]
pub enum PatchAction {
    Insert,
    Delete,
}

/// One change of a PATCH.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchDelta {
    #[schema(value_type = PatchAction)]
    pub action: String,
    /// Required: a delta without one is refused.
    #[schema(value_type = Relationship, required = true)]
    pub relation_tuple: Option<Relationship>,
}

/// The body of a PATCH: Keto's array of deltas, or zanzi's object that
/// adds preconditions (`{"deltas": [...], "preconditions": [...]}`).
#[derive(Clone, Debug)]
pub enum PatchBody {
    Deltas(Vec<PatchDelta>),
    WithPreconditions(PatchWithPreconditions),
}

impl PatchBody {
    pub fn into_parts(self) -> (Vec<PatchDelta>, Vec<PatchPrecondition>) {
        match self {
            PatchBody::Deltas(deltas) => (deltas, Vec::new()),
            PatchBody::WithPreconditions(body) => (body.deltas, body.preconditions),
        }
    }
}

/// An array is Keto's form, an object zanzi's; told apart by the first
/// token rather than by trying each (`#[serde(untagged)]`), so that an
/// error names the field at fault.
impl<'de> Deserialize<'de> for PatchBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<PatchBody, D::Error> {
        struct Either;
        impl<'de> serde::de::Visitor<'de> for Either {
            type Value = PatchBody;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of deltas or an object with `deltas` and `preconditions`")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<PatchBody, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(PatchBody::Deltas)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<PatchBody, A::Error> {
                PatchWithPreconditions::deserialize(serde::de::value::MapAccessDeserializer::new(
                    map,
                ))
                .map(PatchBody::WithPreconditions)
            }
        }
        deserializer.deserialize_any(Either)
    }
}

/// zanzi's PATCH body: the deltas, written only if every precondition
/// holds (checked in the same transaction).
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWithPreconditions {
    pub deltas: Vec<PatchDelta>,
    #[serde(default)]
    pub preconditions: Vec<PatchPrecondition>,
}

/// "A tuple matching `query` must (not) exist".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchPrecondition {
    pub must: Must,
    pub query: RelationQuery,
}

/// `exist` or `not_exist`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Must {
    Exist,
    NotExist,
}

/// Keto's relation query as a JSON object: an unset field matches anything;
/// `subject_id` is read as in a list query (a bare ID matches object
/// subjects of every type the query accepts).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1)]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SubjectSetQuery>)]
    pub subject_set: Option<SubjectSet>,
}

/// The body of a batch check.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheckBody {
    /// At most the server's `max_batch` (in the served document).
    #[schema(value_type = Vec<BatchCheckTuple>)]
    pub tuples: Vec<Relationship>,
    /// zanzi's: values of conditions' parameters, for every check of the
    /// batch (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// zanzi's: tuples that hold for this request only (at most 100),
    /// validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<Relationship>,
}

/// The body of a check: Keto's relationship, plus zanzi's request context
/// and contextual tuples.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    #[schema(schema_with = crate::api::schema::name)]
    pub namespace: String,
    #[schema(schema_with = crate::api::schema::id)]
    pub object: String,
    #[schema(schema_with = crate::api::schema::name)]
    pub relation: String,
    #[serde(default)]
    #[schema(schema_with = crate::api::schema::optional_subject_id)]
    pub subject_id: Option<String>,
    #[serde(default)]
    pub subject_set: Option<SubjectSet>,
    /// Refused (400): a question carries no condition.
    #[serde(default)]
    #[schema(value_type = Option<RelationshipCondition>)]
    pub condition: Option<crate::tuple::TupleCondition>,
    /// Refused (400): a question carries no expiry.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<crate::tuple::Expiry>,
    /// zanzi's: values of conditions' parameters (at most 64 KiB of JSON).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// zanzi's: tuples that hold for this request only (at most 100),
    /// validated as writes are; never stored.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub contextual_tuples: Vec<Relationship>,
}

impl CheckBody {
    /// The question, as a relationship; a condition or expiry the body
    /// carries is kept in it for the question's check to refuse.
    pub fn relationship(&self) -> Relationship {
        Relationship {
            namespace: self.namespace.clone(),
            object: self.object.clone(),
            relation: self.relation.clone(),
            subject_id: self.subject_id.clone(),
            subject_set: self.subject_set.clone(),
            condition: self.condition.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// zanzi's mark on a conditional answer: the parameters that neither the
/// tuples nor the request gave a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conditional {
    pub missing: Vec<String>,
}

/// A check's answer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    /// False when the answer is conditional.
    pub allowed: bool,
    /// zanzi's: present only when the answer depends on missing parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional: Option<Conditional>,
    /// The snapshot the answer was computed at.
    pub snaptoken: String,
}

/// One answer of a batch check.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResultWithError {
    /// False when the answer is conditional.
    pub allowed: bool,
    /// zanzi's: present only when the answer depends on missing parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional: Option<Conditional>,
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
