//! Validation of a tuple against a compiled schema before it is written
//! (docs/language.md, "Static rules"): the relation must exist and not be a
//! permission, and the subject must match one of the relation's types.

use thiserror::Error;

use super::model::{Subject, Tuple};
use super::notation::{TuplePart, TupleSpans};
use crate::diagnostics::{codes, suggest, Diagnostic, Label, ToDiagnostic};
use crate::ir::{AllowedType, NamespaceId, RelationId, Schema};
use crate::source::Span;

/// A tuple that the schema accepts, with its names resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidTuple<'t> {
    pub tuple: &'t Tuple,
    pub namespace: NamespaceId,
    pub relation: RelationId,
    /// The relation's type that the subject matched.
    pub subject_type: AllowedType,
}

/// Why the schema rejects a tuple. Messages name what is allowed, in the
/// language's own syntax.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WriteError {
    #[error(
        "unknown namespace `{namespace}` in `{tuple}`{}",
        did_you_mean(suggestion)
    )]
    UnknownNamespace {
        tuple: String,
        namespace: String,
        suggestion: Option<String>,
    },
    #[error(
        "`{namespace}` has no relation `{relation}` (in `{tuple}`){}",
        did_you_mean(suggestion)
    )]
    UnknownRelation {
        tuple: String,
        namespace: String,
        relation: String,
        suggestion: Option<String>,
    },
    #[error("`{relation}` is a permission and cannot be written; write one of the relations it uses (in `{tuple}`)")]
    Permission { tuple: String, relation: String },
    #[error("`{relation}` accepts {}; got `{subject}`", allowed.join(", "))]
    SubjectNotAllowed {
        tuple: String,
        /// `namespace#relation`
        relation: String,
        /// The accepted types in the language's syntax: `user`, `user:*`, `group#member`.
        allowed: Vec<String>,
        subject: String,
    },
    #[error("invalid tuple `{tuple}`: {reason}")]
    Malformed { tuple: String, reason: String },
}

impl WriteError {
    /// The part of the tuple the schema objects to.
    pub fn part(&self) -> TuplePart {
        match self {
            WriteError::UnknownNamespace { .. } => TuplePart::Namespace,
            WriteError::UnknownRelation { .. } | WriteError::Permission { .. } => {
                TuplePart::Relation
            }
            WriteError::SubjectNotAllowed { .. } => TuplePart::Subject,
            WriteError::Malformed { .. } => TuplePart::Whole,
        }
    }
}

/// Where a rejected tuple stands in a source.
#[derive(Clone, Copy, Debug)]
pub struct TupleSite {
    /// The whole tuple.
    pub span: Span,
    /// Where its parts are, counted from the start of `span`, when the
    /// source at `span` is the tuple's text as parsed.
    pub parts: Option<TupleSpans>,
}

impl ToDiagnostic for WriteError {
    type Context<'a> = TupleSite;

    fn to_diagnostic(&self, site: TupleSite) -> Diagnostic {
        let message = format!("tuple rejected by the schema: {self}");
        let part = self.part();
        let at = site
            .parts
            .map(|parts| parts.of(part))
            .filter(|_| part != TuplePart::Whole);
        let Some(at) = at else {
            return Diagnostic::new(codes::E0402, message, Label::new(site.span, "this tuple"));
        };
        let offset = |n: usize| {
            site.span
                .start
                .saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
                .min(site.span.end)
        };
        let label = match self {
            WriteError::UnknownNamespace { .. } => "no namespace has this name",
            WriteError::UnknownRelation { .. } => "no relation has this name",
            WriteError::Permission { .. } => "a permission",
            _ => "not one of the accepted types",
        };
        Diagnostic::new(
            codes::E0402,
            message,
            Label::new(
                Span::new(site.span.file, offset(at.start), offset(at.end)),
                label,
            ),
        )
        .with_secondary(site.span, "in this tuple")
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// A type as written in the language: `user`, `user:*` or `group#member`.
pub fn display_type(schema: &Schema, ty: AllowedType) -> String {
    let ns = |id: NamespaceId| schema.namespace(id).map_or("?", |n| n.name.as_str());
    match ty {
        AllowedType::Object { namespace } => ns(namespace).to_owned(),
        AllowedType::Wildcard { namespace } => format!("{}:*", ns(namespace)),
        AllowedType::SubjectSet { relation, .. } => schema.display_relation(relation),
    }
}

/// Whether `subject` is of type `ty`: `ns:id` matches `ns`, `ns:*` only
/// `ns:*`, and `ns:id#rel` matches `ns#rel`.
pub fn subject_matches(schema: &Schema, ty: AllowedType, subject: &Subject) -> bool {
    let ns_name = |id: NamespaceId| schema.namespace(id).map(|n| n.name.as_str());
    match (ty, subject) {
        (AllowedType::Object { namespace }, Subject::Object(object)) => {
            ns_name(namespace) == Some(object.namespace.as_str())
        }
        (AllowedType::Wildcard { namespace }, Subject::Wildcard { namespace: name }) => {
            ns_name(namespace) == Some(name.as_str())
        }
        (
            AllowedType::SubjectSet {
                namespace,
                relation,
            },
            Subject::Set {
                object,
                relation: rel,
            },
        ) => {
            ns_name(namespace) == Some(object.namespace.as_str())
                && schema.relation(relation).map(|r| r.name.as_str()) == Some(rel.as_str())
        }
        _ => false,
    }
}

/// Checks a tuple against the schema before it is written (docs/language.md, "Static rules").
pub fn validate_tuple<'t>(schema: &Schema, tuple: &'t Tuple) -> Result<ValidTuple<'t>, WriteError> {
    let text = || tuple.to_string();
    tuple
        .check_well_formed()
        .map_err(|reason| WriteError::Malformed {
            tuple: text(),
            reason,
        })?;
    let namespace = schema
        .namespace_id(&tuple.object.namespace)
        .ok_or_else(|| WriteError::UnknownNamespace {
            tuple: text(),
            namespace: tuple.object.namespace.clone(),
            suggestion: suggest::closest(
                &tuple.object.namespace,
                schema.namespaces.iter().map(|n| n.name.as_str()),
            )
            .map(str::to_owned),
        })?;
    let relation_id = schema
        .relation_id(namespace, &tuple.relation)
        .ok_or_else(|| {
            let names = schema
                .namespace(namespace)
                .into_iter()
                .flat_map(|n| n.relations.iter())
                .filter_map(|&r| schema.relation(r))
                .filter(|r| !r.is_permission())
                .map(|r| r.name.as_str());
            WriteError::UnknownRelation {
                tuple: text(),
                namespace: tuple.object.namespace.clone(),
                relation: tuple.relation.clone(),
                suggestion: suggest::closest(&tuple.relation, names).map(str::to_owned),
            }
        })?;
    let relation = schema
        .relation(relation_id)
        .ok_or_else(|| WriteError::UnknownRelation {
            tuple: text(),
            namespace: tuple.object.namespace.clone(),
            relation: tuple.relation.clone(),
            suggestion: None,
        })?;
    if relation.is_permission() {
        return Err(WriteError::Permission {
            tuple: text(),
            relation: schema.display_relation(relation_id),
        });
    }
    let matched = relation
        .allowed()
        .iter()
        .copied()
        .find(|&ty| subject_matches(schema, ty, &tuple.subject));
    match matched {
        Some(subject_type) => Ok(ValidTuple {
            tuple,
            namespace,
            relation: relation_id,
            subject_type,
        }),
        None => Err(WriteError::SubjectNotAllowed {
            tuple: text(),
            relation: schema.display_relation(relation_id),
            allowed: relation
                .allowed()
                .iter()
                .map(|&ty| format!("`{}`", display_type(schema, ty)))
                .collect(),
            subject: tuple.subject.to_string(),
        }),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    const DRIVE: &str = "namespace user {}
        namespace group { relation member: user | group#member }
        namespace document {
          relation viewer: user | user:* | group#member
          relation banned: user
          permission view = viewer - banned
        }";

    #[test]
    fn validation_names_the_allowed_types() {
        let (_, compiled) = crate::compile_source("drive.zanzi", DRIVE);
        let schema = compiled.schema.unwrap();
        let check = |text: &str| {
            let tuple: Tuple = text.parse().unwrap();
            validate_tuple(&schema, &tuple)
                .map(|v| v.subject_type)
                .map_err(|e| e.to_string())
        };
        assert!(check("document:x#viewer@user:a").is_ok());
        assert!(check("document:x#viewer@user:*").is_ok());
        assert!(check("document:x#viewer@group:eng#member").is_ok());
        assert_eq!(
            check("document:x#viewer@team:x#member").unwrap_err(),
            "`document#viewer` accepts `user`, `user:*`, `group#member`; got `team:x#member`"
        );
        assert_eq!(
            check("document:x#banned@user:*").unwrap_err(),
            "`document#banned` accepts `user`; got `user:*`"
        );
        assert_eq!(
            check("group:x#member@group:y").unwrap_err(),
            "`group#member` accepts `user`, `group#member`; got `group:y`"
        );
        assert_eq!(
            check("documnet:x#viewer@user:a").unwrap_err(),
            "unknown namespace `documnet` in `documnet:x#viewer@user:a`; did you mean `document`?"
        );
        assert_eq!(
            check("document:x#viewr@user:a").unwrap_err(),
            "`document` has no relation `viewr` (in `document:x#viewr@user:a`); did you mean `viewer`?"
        );
        assert!(check("document:x#view@user:a")
            .unwrap_err()
            .contains("is a permission"));
    }
}
