//! The schema between Keto's untyped subjects and zanzi's typed ones, and
//! Keto's names resolved against the schema, for every protocol that speaks
//! Keto's API.
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

use super::wire::{RelationQuery, Relationship, SubjectSet};
use crate::api::ApiError;
use crate::ir::{AllowedType, NamespaceId, RelationId, Schema};
use crate::store::{ObjectIn, TupleFilter};
use crate::tuple::{validate_tuple, Object, Subject, Tuple, TuplePart, WriteError};

// ---------------------------------------------------------------------------
// Names and subjects.

/// Whether a name error happens on a read (404) or a write (422).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// `; did you mean `x`?` when a known name is close to `name`.
fn did_you_mean(name: &str, known: &[&str]) -> String {
    crate::diagnostics::suggest::closest(name, known.iter().copied())
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

fn name_error(access: Access, message: String) -> ApiError {
    match access {
        Access::Read => ApiError::not_found("unknown_name", message),
        Access::Write => ApiError::unprocessable("unknown_name", message),
    }
}

/// The detail naming the request field an error is about, in Keto's REST
/// keys (`namespace`, `relation`, `subject_id`, `subject_set.namespace`,
/// …); each protocol spells it its own way (gRPC: `tuple.subject.id`).
pub const FIELD: &str = "field";

/// Tags an error with the field it is about, unless a deeper call already
/// named one.
pub fn at_field(key: &'static str) -> impl Fn(ApiError) -> ApiError {
    move |error| {
        if error
            .details
            .as_ref()
            .is_some_and(|d| d.contains_key(FIELD))
        {
            error
        } else {
            error.with_detail(FIELD, key)
        }
    }
}

/// The key of a relationship's subject: `subject_id`, `subject_set`, or
/// `subject` when it has none.
fn subject_key(rel: &Relationship) -> &'static str {
    match (&rel.subject_id, &rel.subject_set) {
        (Some(_), _) => "subject_id",
        (None, Some(_)) => "subject_set",
        (None, None) => "subject",
    }
}

pub fn namespace_id(schema: &Schema, name: &str, access: Access) -> Result<NamespaceId, ApiError> {
    schema.namespace_id(name).ok_or_else(|| {
        let known: Vec<&str> = schema.namespaces.iter().map(|n| n.name.as_str()).collect();
        let hint = did_you_mean(name, &known);
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
    schema: &Schema,
    namespace: NamespaceId,
    name: &str,
    access: Access,
) -> Result<RelationId, ApiError> {
    schema.relation_id(namespace, name).ok_or_else(|| {
        let ns = schema.namespace(namespace);
        let known: Vec<&str> = ns
            .map(|n| {
                n.relations
                    .iter()
                    .filter_map(|r| schema.relation(*r))
                    .map(|r| r.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let hint = did_you_mean(name, &known);
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

fn direct_object_types(schema: &Schema, relation: RelationId) -> Vec<NamespaceId> {
    let mut out: Vec<NamespaceId> = schema
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

pub fn candidates(schema: &Schema, scope: SubjectScope) -> Vec<NamespaceId> {
    let mut out = match scope {
        SubjectScope::Stored(r) => direct_object_types(schema, r),
        SubjectScope::Reachable(r) => schema.subject_namespaces(r).to_vec(),
        SubjectScope::Namespace(ns) => schema
            .namespace(ns)
            .map(|n| {
                n.relations
                    .iter()
                    .flat_map(|r| direct_object_types(schema, *r))
                    .collect()
            })
            .unwrap_or_default(),
        SubjectScope::Anywhere => (0..schema.relations.len())
            .flat_map(|r| direct_object_types(schema, RelationId(r as u32)))
            .collect(),
    };
    out.sort();
    out.dedup();
    out
}

pub fn scope_name(schema: &Schema, scope: SubjectScope) -> String {
    match scope {
        SubjectScope::Stored(r) | SubjectScope::Reachable(r) => {
            format!("`{}`", schema.display_relation(r))
        }
        SubjectScope::Namespace(ns) => format!(
            "the relations of `{}`",
            schema.namespace(ns).map_or("?", |n| n.name.as_str())
        ),
        SubjectScope::Anywhere => "the schema".to_owned(),
    }
}

/// Maps a Keto subject onto a zanzi subject (see the module docs).
pub fn subject_from_keto(
    schema: &Schema,
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
        (Some(id), None) => subject_from_id(schema, id, scope),
    }
}

pub fn subject_from_id(
    schema: &Schema,
    id: &str,
    scope: SubjectScope,
) -> Result<Subject, ApiError> {
    if let Some((ns, rest)) = id.split_once(':') {
        if schema.namespace_id(ns).is_some() {
            return Ok(if rest == "*" {
                Subject::wildcard(ns)
            } else {
                Subject::object(ns, rest)
            });
        }
    }
    let found = candidates(schema, scope);
    let names: Vec<String> = found
        .iter()
        .filter_map(|ns| schema.namespace(*ns).map(|n| n.name.clone()))
        .collect();
    match names.as_slice() {
        [one] => Ok(Subject::object(one.clone(), id)),
        [] => Err(ApiError::bad_request(
            "unmappable_subject_id",
            format!(
                "subject_id `{id}` cannot be mapped: {} accepts no object subjects; \
                 use `subject_set` instead",
                scope_name(schema, scope)
            ),
        )),
        many => Err(ApiError::bad_request(
            "ambiguous_subject_id",
            format!(
                "subject_id `{id}` is ambiguous: {} accepts objects of {}; \
                 write it as `<type>:{id}` (e.g. `{}:{id}`) or as a subject_set",
                scope_name(schema, scope),
                many.join(", "),
                many.first().map_or("", String::as_str)
            ),
        )
        .with_detail("allowed_types", many.to_vec())),
    }
}

/// `error` about the request field `field`: its message prefixed with the
/// field and the field kept in the details (the gRPC status names it).
pub fn in_field(error: ApiError, field: &str) -> ApiError {
    ApiError {
        message: format!("{field}: {}", error.message),
        ..error
    }
    .with_detail("field", field)
}

/// A query's filter (list, delete, a precondition): names resolved as on
/// a read (404 when unknown); a bare `subject_id` matches object subjects
/// of every type the query accepts directly (see the module docs).
pub fn filter_for_query(schema: &Schema, query: &RelationQuery) -> Result<TupleFilter, ApiError> {
    if query.subject_id.is_some() && query.subject_set.is_some() {
        return Err(ApiError::bad_request(
            "duplicate_subject",
            "exactly one of subject_set or subject_id has to be provided",
        ));
    }
    let ns = query
        .namespace
        .as_deref()
        .map(|n| namespace_id(schema, n, Access::Read))
        .transpose()
        .map_err(at_field("namespace"))?;
    let rel = match (ns, query.relation.as_deref()) {
        (Some(ns), Some(r)) => {
            Some(relation_id(schema, ns, r, Access::Read).map_err(at_field("relation"))?)
        }
        _ => None,
    };
    let scope = match (ns, rel) {
        (_, Some(r)) => SubjectScope::Stored(r),
        (Some(ns), None) => SubjectScope::Namespace(ns),
        (None, None) => SubjectScope::Anywhere,
    };
    let mut subject_object_in = None;
    let subject = if let Some(id) = query.subject_id.as_deref() {
        match id.split_once(':') {
            Some((ns, _)) if schema.namespace_id(ns).is_some() => {
                Some(subject_from_id(schema, id, scope).map_err(at_field("subject_id"))?)
            }
            // A query, unlike a write, need not pick one type: a bare ID
            // matches object subjects of every type the scope accepts.
            _ => {
                subject_object_in = Some(ObjectIn {
                    namespaces: candidates(schema, scope)
                        .iter()
                        .filter_map(|ns| schema.namespace(*ns).map(|n| n.name.clone()))
                        .collect(),
                    id: id.to_owned(),
                });
                None
            }
        }
    } else if let Some(set) = &query.subject_set {
        Some(subject_from_keto(schema, None, Some(set), scope).map_err(at_field("subject_set"))?)
    } else {
        None
    };
    Ok(TupleFilter {
        namespace: query.namespace.clone(),
        object_id: query.object.clone(),
        relation: query.relation.clone(),
        subject,
        subject_object_in,
    })
}

/// A zanzi subject in Keto's typed form: `ns:id`, `ns:*` or a subject
/// set, which maps back to the same subject under any schema (rule 1).
pub fn typed_subject(subject: &Subject) -> (Option<String>, Option<SubjectSet>) {
    match subject {
        Subject::Object(object) => (Some(format!("{}:{}", object.namespace, object.id)), None),
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

/// A zanzi subject in Keto's form, for a tuple of `relation`: the bare ID
/// where rule 2 maps it back to the same subject, else the typed form.
pub fn subject_to_keto(
    schema: &Schema,
    subject: &Subject,
    relation: Option<RelationId>,
) -> (Option<String>, Option<SubjectSet>) {
    if let Subject::Object(object) = subject {
        let bare_round_trips = relation.is_some_and(|r| {
            let types = direct_object_types(schema, r);
            let only = matches!(types.as_slice(), [ns] if schema.namespace(*ns).is_some_and(|n| n.name == object.namespace));
            let looks_typed = object
                .id
                .split_once(':')
                .is_some_and(|(ns, _)| schema.namespace_id(ns).is_some());
            only && !looks_typed
        });
        if bare_round_trips {
            return (Some(object.id.clone()), None);
        }
    }
    typed_subject(subject)
}

/// `tuple` as Keto's relationship, its subject in the given form.
fn relationship(
    tuple: &Tuple,
    (subject_id, subject_set): (Option<String>, Option<SubjectSet>),
) -> Relationship {
    Relationship {
        namespace: tuple.object.namespace.clone(),
        object: tuple.object.id.clone(),
        relation: tuple.relation.clone(),
        subject_id,
        subject_set,
        condition: tuple.condition.as_deref().cloned(),
        expires_at: tuple.expires_at,
    }
}

/// `tuple` as Keto's relationship, a bare `subject_id` where it round-trips.
pub fn tuple_to_keto(schema: &Schema, tuple: &Tuple) -> Relationship {
    let relation = schema
        .namespace_id(&tuple.object.namespace)
        .and_then(|ns| schema.relation_id(ns, &tuple.relation));
    relationship(tuple, subject_to_keto(schema, &tuple.subject, relation))
}

/// `tuple` as Keto's relationship with a typed subject: what a client that
/// does not know the schema sends.
pub fn tuple_to_keto_typed(tuple: &Tuple) -> Relationship {
    relationship(tuple, typed_subject(&tuple.subject))
}

/// A relationship to be written: names resolved, subject mapped, the tuple
/// validated against the schema (422 naming the allowed types).
pub fn tuple_for_write(schema: &Schema, rel: &Relationship) -> Result<Tuple, ApiError> {
    let ns = namespace_id(schema, &rel.namespace, Access::Write).map_err(at_field("namespace"))?;
    let relation =
        relation_id(schema, ns, &rel.relation, Access::Write).map_err(at_field("relation"))?;
    if schema.relation(relation).is_some_and(|r| r.is_permission()) {
        return Err(ApiError::unprocessable(
            "permission_not_writable",
            format!(
                "`{}#{}` is a permission and cannot be written; write one of the relations it uses",
                rel.namespace, rel.relation
            ),
        )
        .with_detail(FIELD, "relation"));
    }
    let subject = subject_from_keto(
        schema,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        SubjectScope::Stored(relation),
    )
    .map_err(at_field(subject_key(rel)))?;
    let mut tuple = Tuple::new(
        Object::new(rel.namespace.clone(), rel.object.clone()),
        rel.relation.clone(),
        subject,
    );
    tuple.condition = rel.condition.clone().map(Box::new);
    tuple.expires_at = rel.expires_at;
    // The object's namespace and relation are known by now: a name the
    // schema objects to is the subject's.
    validate_tuple(schema, &tuple).map_err(|e| match e {
        WriteError::Malformed { .. } => write_error(e),
        WriteError::Permission { .. } => at_field("relation")(write_error(e)),
        WriteError::UnknownCondition { .. } => at_field("condition.name")(write_error(e)),
        WriteError::InvalidContext { ref key, .. } => {
            let field = format!("condition.context.{key}");
            write_error(e).with_detail(FIELD, field)
        }
        WriteError::AttributesNotAllowed { part, .. } => match part {
            TuplePart::Condition => at_field("condition")(write_error(e)),
            TuplePart::Expiry => at_field("expires_at")(write_error(e)),
            _ => at_field(subject_key(rel))(write_error(e)),
        },
        _ => at_field(subject_key(rel))(write_error(e)),
    })?;
    Ok(tuple)
}

/// A relationship to be deleted: names and subject resolved, not
/// type-checked (tuples left over from an older schema can be removed).
pub fn tuple_for_delete(schema: &Schema, rel: &Relationship) -> Result<Tuple, ApiError> {
    let scope = schema
        .namespace_id(&rel.namespace)
        .and_then(|ns| schema.relation_id(ns, &rel.relation))
        .map_or(SubjectScope::Anywhere, SubjectScope::Stored);
    let subject = subject_from_keto(
        schema,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        scope,
    )
    .map_err(at_field(subject_key(rel)))?;
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
        WriteError::AttributesNotAllowed { allowed, .. } => {
            let allowed = allowed.clone();
            ApiError::unprocessable("condition_not_allowed", error.to_string())
                .with_detail("allowed_types", allowed)
        }
        WriteError::UnknownNamespace { .. }
        | WriteError::UnknownRelation { .. }
        | WriteError::UnknownCondition { .. } => {
            ApiError::unprocessable("unknown_name", error.to_string())
        }
        WriteError::InvalidContext { key, .. } => {
            let key = key.clone();
            ApiError::bad_request("invalid_context", error.to_string()).with_detail("key", key)
        }
    }
}
// ---------------------------------------------------------------------------
// Checks.

/// A check question, resolved.
pub struct Question {
    pub object: Object,
    pub relation: String,
    pub subject: Subject,
}

/// The question `rel` asks, its names checked against `schema`.
pub fn question(schema: &Schema, rel: &Relationship) -> Result<Question, ApiError> {
    let subject = question_subject(schema, rel)?;
    asked(Tuple::new(
        Object::new(rel.namespace.clone(), rel.object.clone()),
        rel.relation.clone(),
        subject,
    ))
}

/// As [`question`], its IDs moved out of `rel` rather than copied.
pub fn into_question(schema: &Schema, rel: Relationship) -> Result<Question, ApiError> {
    let subject = question_subject(schema, &rel)?;
    asked(Tuple::new(
        Object::new(rel.namespace, rel.object),
        rel.relation,
        subject,
    ))
}

/// The subject of the question `rel` asks, once its names are checked.
fn question_subject(schema: &Schema, rel: &Relationship) -> Result<Subject, ApiError> {
    if rel.condition.is_some() || rel.expires_at.is_some() {
        let field = if rel.condition.is_some() {
            "condition"
        } else {
            "expires_at"
        };
        return Err(ApiError::bad_request(
            "invalid_tuple",
            format!("a check asks about a tuple; it carries no `{field}`"),
        )
        .with_detail(FIELD, field));
    }
    let ns = namespace_id(schema, &rel.namespace, Access::Read).map_err(at_field("namespace"))?;
    let relation =
        relation_id(schema, ns, &rel.relation, Access::Read).map_err(at_field("relation"))?;
    let subject = subject_from_keto(
        schema,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        SubjectScope::Reachable(relation),
    )
    .map_err(at_field(subject_key(rel)))?;
    if let Subject::Set { object, relation } = &subject {
        let sns = namespace_id(schema, &object.namespace, Access::Read)
            .map_err(at_field("subject_set.namespace"))?;
        relation_id(schema, sns, relation, Access::Read)
            .map_err(at_field("subject_set.relation"))?;
    } else {
        namespace_id(schema, subject.namespace(), Access::Read)
            .map_err(at_field(subject_key(rel)))?;
    }
    Ok(subject)
}

/// A question whose names are known: its IDs checked as a write checks them.
fn asked(asked: Tuple) -> Result<Question, ApiError> {
    // One rule for IDs everywhere: what a write refuses, a question does too.
    asked.check_well_formed().map_err(|reason| {
        ApiError::bad_request(
            "invalid_tuple",
            format!("invalid question `{asked}`: {reason}"),
        )
    })?;
    Ok(Question {
        object: asked.object,
        relation: asked.relation,
        subject: asked.subject,
    })
}
