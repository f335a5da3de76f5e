//! The mapping between Keto's untyped subjects and zanzi's typed ones, and
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

use std::collections::BTreeSet;

use super::wire::{Relationship, SubjectSet};
use crate::api::ApiError;
use crate::ir::{AllowedType, NamespaceId, RelationId, Schema};
use crate::tuple::{validate_tuple, Object, Subject, Tuple, WriteError};

/// What the mapping reads of a schema.
#[derive(Clone, Copy, Debug)]
pub struct Mapping<'a> {
    pub schema: &'a Schema,
    /// Per relation or permission: the namespaces whose objects can be in
    /// its set.
    pub subject_types: &'a [BTreeSet<NamespaceId>],
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

pub fn namespace_id(
    mapping: &Mapping<'_>,
    name: &str,
    access: Access,
) -> Result<NamespaceId, ApiError> {
    mapping.schema.namespace_id(name).ok_or_else(|| {
        let known: Vec<&str> = mapping
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
    mapping: &Mapping<'_>,
    namespace: NamespaceId,
    name: &str,
    access: Access,
) -> Result<RelationId, ApiError> {
    mapping.schema.relation_id(namespace, name).ok_or_else(|| {
        let ns = mapping.schema.namespace(namespace);
        let known: Vec<&str> = ns
            .map(|n| {
                n.relations
                    .iter()
                    .filter_map(|r| mapping.schema.relation(*r))
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

fn direct_object_types(mapping: &Mapping<'_>, relation: RelationId) -> Vec<NamespaceId> {
    let mut out: Vec<NamespaceId> = mapping
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

pub fn candidates(mapping: &Mapping<'_>, scope: SubjectScope) -> Vec<NamespaceId> {
    let mut out = match scope {
        SubjectScope::Stored(r) => direct_object_types(mapping, r),
        SubjectScope::Reachable(r) => mapping
            .subject_types
            .get(r.0 as usize)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default(),
        SubjectScope::Namespace(ns) => mapping
            .schema
            .namespace(ns)
            .map(|n| {
                n.relations
                    .iter()
                    .flat_map(|r| direct_object_types(mapping, *r))
                    .collect()
            })
            .unwrap_or_default(),
        SubjectScope::Anywhere => (0..mapping.schema.relations.len())
            .flat_map(|r| direct_object_types(mapping, RelationId(r as u32)))
            .collect(),
    };
    out.sort();
    out.dedup();
    out
}

pub fn scope_name(mapping: &Mapping<'_>, scope: SubjectScope) -> String {
    match scope {
        SubjectScope::Stored(r) | SubjectScope::Reachable(r) => {
            format!("`{}`", mapping.schema.display_relation(r))
        }
        SubjectScope::Namespace(ns) => format!(
            "the relations of `{}`",
            mapping
                .schema
                .namespace(ns)
                .map_or("?", |n| n.name.as_str())
        ),
        SubjectScope::Anywhere => "the schema".to_owned(),
    }
}

/// Maps a Keto subject onto a zanzi subject (see the module docs).
pub fn subject_from_keto(
    mapping: &Mapping<'_>,
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
        (Some(id), None) => subject_from_id(mapping, id, scope),
    }
}

pub fn subject_from_id(
    mapping: &Mapping<'_>,
    id: &str,
    scope: SubjectScope,
) -> Result<Subject, ApiError> {
    if let Some((ns, rest)) = id.split_once(':') {
        if mapping.schema.namespace_id(ns).is_some() {
            return Ok(if rest == "*" {
                Subject::wildcard(ns)
            } else {
                Subject::object(ns, rest)
            });
        }
    }
    let found = candidates(mapping, scope);
    let names: Vec<String> = found
        .iter()
        .filter_map(|ns| mapping.schema.namespace(*ns).map(|n| n.name.clone()))
        .collect();
    match names.as_slice() {
        [one] => Ok(Subject::object(one.clone(), id)),
        [] => Err(ApiError::bad_request(
            "unmappable_subject_id",
            format!(
                "subject_id `{id}` cannot be mapped: {} accepts no object subjects; \
                 use `subject_set` instead",
                scope_name(mapping, scope)
            ),
        )),
        many => Err(ApiError::bad_request(
            "ambiguous_subject_id",
            format!(
                "subject_id `{id}` is ambiguous: {} accepts objects of {}; \
                 write it as `<type>:{id}` (e.g. `{}:{id}`) or as a subject_set",
                scope_name(mapping, scope),
                many.join(", "),
                many.first().map_or("", String::as_str)
            ),
        )
        .with_detail("allowed_types", many.to_vec())),
    }
}

/// A zanzi subject in Keto's form, for a tuple of `relation`.
pub fn subject_to_keto(
    mapping: &Mapping<'_>,
    subject: &Subject,
    relation: Option<RelationId>,
) -> (Option<String>, Option<SubjectSet>) {
    match subject {
        Subject::Object(object) => {
            let bare_round_trips = relation.is_some_and(|r| {
                let types = direct_object_types(mapping, r);
                let only = matches!(types.as_slice(), [ns] if mapping.schema.namespace(*ns).is_some_and(|n| n.name == object.namespace));
                let looks_typed = object
                    .id
                    .split_once(':')
                    .is_some_and(|(ns, _)| mapping.schema.namespace_id(ns).is_some());
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

pub fn tuple_to_keto(mapping: &Mapping<'_>, tuple: &Tuple) -> Relationship {
    let relation = mapping
        .schema
        .namespace_id(&tuple.object.namespace)
        .and_then(|ns| mapping.schema.relation_id(ns, &tuple.relation));
    let (subject_id, subject_set) = subject_to_keto(mapping, &tuple.subject, relation);
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
pub fn tuple_for_write(mapping: &Mapping<'_>, rel: &Relationship) -> Result<Tuple, ApiError> {
    let ns = namespace_id(mapping, &rel.namespace, Access::Write)?;
    let relation = relation_id(mapping, ns, &rel.relation, Access::Write)?;
    if mapping
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
        mapping,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        SubjectScope::Stored(relation),
    )?;
    let tuple = Tuple::new(
        Object::new(rel.namespace.clone(), rel.object.clone()),
        rel.relation.clone(),
        subject,
    );
    validate_tuple(mapping.schema, &tuple).map_err(write_error)?;
    Ok(tuple)
}

/// A relationship to be deleted: names and subject resolved, not
/// type-checked (tuples left over from an older schema can be removed).
pub fn tuple_for_delete(mapping: &Mapping<'_>, rel: &Relationship) -> Result<Tuple, ApiError> {
    let scope = mapping
        .schema
        .namespace_id(&rel.namespace)
        .and_then(|ns| mapping.schema.relation_id(ns, &rel.relation))
        .map_or(SubjectScope::Anywhere, SubjectScope::Stored);
    let subject = subject_from_keto(
        mapping,
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
// ---------------------------------------------------------------------------
// Checks.

/// A check question, resolved.
pub struct Question {
    pub object: Object,
    pub relation: String,
    pub subject: Subject,
}

pub fn question(mapping: &Mapping<'_>, rel: &Relationship) -> Result<Question, ApiError> {
    let ns = namespace_id(mapping, &rel.namespace, Access::Read)?;
    let relation = relation_id(mapping, ns, &rel.relation, Access::Read)?;
    let subject = subject_from_keto(
        mapping,
        rel.subject_id.as_deref(),
        rel.subject_set.as_ref(),
        SubjectScope::Reachable(relation),
    )?;
    if let Subject::Set { object, relation } = &subject {
        let sns = namespace_id(mapping, &object.namespace, Access::Read)?;
        relation_id(mapping, sns, relation, Access::Read)?;
    } else {
        namespace_id(mapping, subject.namespace(), Access::Read)?;
    }
    Ok(Question {
        object: Object::new(rel.namespace.clone(), rel.object.clone()),
        relation: rel.relation.clone(),
        subject,
    })
}
