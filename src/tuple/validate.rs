//! Validation of a tuple against a compiled schema before it is written
//! (docs/language.md, "Static rules"): the relation must exist and not be a
//! permission, and the subject must match one of the relation's types,
//! with the traits the tuple needs: its condition (whose stored context
//! must fit the parameters) and its expiry (docs/language.md, "Tuples with
//! a condition or an expiry").

use thiserror::Error;

use super::model::{Subject, Tuple};
use super::notation::{TuplePart, TupleSpans};
use crate::condition::value::check_context;
use crate::diagnostics::{codes, suggest, Diagnostic, Label, ToDiagnostic};
use crate::ir::{AllowedType, NamespaceId, Relation, RelationId, Schema, TraitedType};
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
    /// The subject's type is accepted, but not with the tuple's condition
    /// or expiry (or not without a condition).
    #[error("`{relation}` accepts {}; got `{subject}` {attributes}", allowed.join(", "))]
    AttributesNotAllowed {
        tuple: String,
        relation: String,
        allowed: Vec<String>,
        subject: String,
        /// `with condition `c``, `with an expiry`, `without a condition`, …
        attributes: String,
        /// The part of the tuple that no type accepts.
        part: TuplePart,
    },
    #[error(
        "unknown condition `{condition}` in `{tuple}`{}",
        did_you_mean(suggestion)
    )]
    UnknownCondition {
        tuple: String,
        condition: String,
        suggestion: Option<String>,
    },
    #[error("invalid context in `{tuple}`: {message}")]
    InvalidContext {
        tuple: String,
        /// The context key at fault.
        key: String,
        message: String,
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
            WriteError::AttributesNotAllowed { part, .. } => *part,
            WriteError::UnknownCondition { .. } | WriteError::InvalidContext { .. } => {
                TuplePart::Condition
            }
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
            WriteError::UnknownCondition { .. } => "no condition has this name",
            WriteError::InvalidContext { .. } => "this context",
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

/// A type with its traits as written in the language:
/// `user with office_network and expiration`.
pub fn display_traited_type(schema: &Schema, ty: &TraitedType) -> String {
    let base = display_type(schema, ty.base);
    let condition = ty
        .condition
        .and_then(|id| schema.condition(id))
        .map(|c| c.name.as_str());
    match (condition, ty.expiration) {
        (Some(name), true) => format!("{base} with {name} and expiration"),
        (Some(name), false) => format!("{base} with {name}"),
        (None, true) => format!("{base} with expiration"),
        (None, false) => base,
    }
}

/// Every type of a stored relation, plain and with traits, as written.
fn every_type(schema: &Schema, relation: &Relation) -> Vec<String> {
    let mut types: Vec<String> = relation
        .allowed()
        .iter()
        .map(|&ty| display_type(schema, ty))
        .collect();
    for ty in relation.traited() {
        let written = display_traited_type(schema, ty);
        // `user with expiration` also lists `user` among the plain types.
        if !types.contains(&written) {
            types.push(written);
        }
    }
    types.into_iter().map(|t| format!("`{t}`")).collect()
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
    let matched = if tuple.is_plain() {
        relation
            .allowed()
            .iter()
            .copied()
            .find(|&ty| subject_matches(schema, ty, &tuple.subject))
    } else {
        match_traits(schema, relation, tuple)?
    };
    let Some(subject_type) = matched else {
        let base_accepted = relation
            .all_types()
            .any(|ty| subject_matches(schema, ty, &tuple.subject));
        if base_accepted {
            return Err(attributes_not_allowed(schema, relation, relation_id, tuple));
        }
        return Err(WriteError::SubjectNotAllowed {
            tuple: text(),
            relation: schema.display_relation(relation_id),
            allowed: every_type(schema, relation),
            subject: tuple.subject.to_string(),
        });
    };
    Ok(ValidTuple {
        tuple,
        namespace,
        relation: relation_id,
        subject_type,
    })
}

/// The type with traits that accepts a tuple with a condition or an
/// expiry, after checking its condition and context; `None` when none does.
fn match_traits(
    schema: &Schema,
    relation: &Relation,
    tuple: &Tuple,
) -> Result<Option<AllowedType>, WriteError> {
    let condition = match &tuple.condition {
        None => None,
        Some(condition) => {
            let Some(id) = schema.condition_id(&condition.name) else {
                return Err(WriteError::UnknownCondition {
                    tuple: tuple.to_string(),
                    condition: condition.name.clone(),
                    suggestion: suggest::closest(
                        &condition.name,
                        schema.conditions.iter().map(|c| c.name.as_str()),
                    )
                    .map(str::to_owned),
                });
            };
            Some((id, condition))
        }
    };
    let matched = relation.traited().iter().find(|ty| {
        ty.condition == condition.map(|(id, _)| id)
            && (ty.expiration || tuple.expires_at.is_none())
            && subject_matches(schema, ty.base, &tuple.subject)
    });
    let Some(matched) = matched else {
        return Ok(None);
    };
    if let Some((id, stored)) = condition {
        if let Some(declared) = schema.condition(id) {
            check_context(declared, &stored.context.to_map()).map_err(|e| {
                WriteError::InvalidContext {
                    tuple: tuple.to_string(),
                    key: e.key,
                    message: e.message,
                }
            })?;
        }
    }
    Ok(Some(matched.base))
}

/// Why a subject whose type the relation has is refused with the tuple's
/// condition or expiry (or without a condition).
fn attributes_not_allowed(
    schema: &Schema,
    relation: &Relation,
    relation_id: RelationId,
    tuple: &Tuple,
) -> WriteError {
    let condition_name = tuple.condition.as_ref().map(|c| c.name.as_str());
    let attributes = match (condition_name, tuple.expires_at.is_some()) {
        (Some(name), true) => format!("with condition `{name}` and an expiry"),
        (Some(name), false) => format!("with condition `{name}`"),
        (None, true) => "with an expiry".to_owned(),
        (None, false) => "without a condition".to_owned(),
    };
    // Point at the condition when no type of this subject has it, else
    // at the expiry; a plain tuple is refused for its subject.
    let condition_accepted = condition_name.is_some_and(|name| {
        relation.traited().iter().any(|ty| {
            ty.condition
                .and_then(|id| schema.condition(id))
                .is_some_and(|c| c.name == name)
                && subject_matches(schema, ty.base, &tuple.subject)
        })
    });
    let part = if condition_name.is_some() && !condition_accepted {
        TuplePart::Condition
    } else if tuple.expires_at.is_some() {
        TuplePart::Expiry
    } else {
        TuplePart::Subject
    };
    WriteError::AttributesNotAllowed {
        tuple: tuple.to_string(),
        relation: schema.display_relation(relation_id),
        allowed: every_type(schema, relation),
        subject: tuple.subject.to_string(),
        attributes,
        part,
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

    /// `document#viewer: user | user with office_network | group#member
    /// with office_network`, `document#editor: user with expiration | user
    /// with office_network and expiration` (`with expiration` alone also
    /// lists the plain type, as the compiler does).
    fn with_traits() -> Schema {
        use crate::ir::{Condition, ConditionId, Param, ParamType, RelationKind};
        let source = "namespace user {}
            namespace group { relation member: user }
            namespace document {
              relation viewer: user
              relation editor: user
            }";
        let (_, compiled) = crate::compile_source("drive.zanzi", source);
        let schema = compiled.schema.unwrap();
        let ns = |name: &str| schema.namespace_id(name).unwrap();
        let user = AllowedType::Object {
            namespace: ns("user"),
        };
        let member = AllowedType::SubjectSet {
            namespace: ns("group"),
            relation: schema.relation_id(ns("group"), "member").unwrap(),
        };
        let office = Some(ConditionId(0));
        let mut relations = schema.relations.clone();
        for relation in &mut relations {
            let traited = |base, condition, expiration| TraitedType {
                base,
                condition,
                expiration,
            };
            let (types, with_traits) = match relation.name.as_str() {
                "viewer" => (
                    vec![user],
                    vec![traited(user, office, false), traited(member, office, false)],
                ),
                "editor" => (
                    vec![user],
                    vec![traited(user, None, true), traited(user, office, true)],
                ),
                _ => continue,
            };
            relation.kind = RelationKind::Relation {
                types,
                with_traits,
                rewrite: None,
            };
        }
        let office_network = Condition {
            name: "office_network".to_owned(),
            doc: None,
            params: vec![
                Param {
                    name: "client_ip".to_owned(),
                    ty: ParamType::IpAddress,
                },
                Param {
                    name: "cidr".to_owned(),
                    ty: ParamType::String,
                },
            ],
            expression: "client_ip.in_cidr(cidr)".to_owned(),
        };
        Schema::assemble_with_conditions(schema.namespaces.clone(), relations, vec![office_network])
    }

    #[test]
    fn traited_types_are_written_with_their_traits() {
        let schema = with_traits();
        let viewer = schema
            .relation_id(schema.namespace_id("document").unwrap(), "editor")
            .unwrap();
        let written: Vec<String> = schema
            .relation(viewer)
            .unwrap()
            .traited()
            .iter()
            .map(|ty| display_traited_type(&schema, ty))
            .collect();
        assert_eq!(
            written,
            [
                "user with expiration",
                "user with office_network and expiration"
            ]
        );
    }

    #[test]
    fn conditions_and_expiries_need_a_type_that_accepts_them() {
        let schema = with_traits();
        let check = |text: &str| {
            let tuple: Tuple = text.parse().unwrap();
            validate_tuple(&schema, &tuple)
                .map(|_| ())
                .map_err(|e| (e.part(), e.to_string()))
        };
        assert_eq!(check("document:d#viewer@user:bob"), Ok(()));
        assert_eq!(check("document:d#viewer@user:bob[office_network]"), Ok(()));
        assert_eq!(
            check(r#"document:d#viewer@group:eng#member[office_network:{"cidr":"10.0.0.0/8"}]"#),
            Ok(())
        );
        assert_eq!(
            check("document:d#editor@user:bob[expiration:2027-01-01T00:00:00Z]"),
            Ok(())
        );
        assert_eq!(check("document:d#editor@user:bob"), Ok(()));
        assert_eq!(
            check("document:d#editor@user:bob[office_network][expiration:2027-01-01T00:00:00Z]"),
            Ok(())
        );
        // Expiry is allowed, not required.
        assert_eq!(check("document:d#editor@user:bob[office_network]"), Ok(()));
        let viewer_types = "`user`, `user with office_network`, `group#member with office_network`";
        assert_eq!(
            check("document:d#viewer@user:bob[expiration:2027-01-01T00:00:00Z]"),
            Err((
                TuplePart::Expiry,
                format!("`document#viewer` accepts {viewer_types}; got `user:bob` with an expiry")
            ))
        );
        assert_eq!(
            check("document:d#viewer@group:eng#member"),
            Err((
                TuplePart::Subject,
                format!(
                    "`document#viewer` accepts {viewer_types}; got `group:eng#member` without a condition"
                )
            ))
        );
        assert_eq!(
            check("document:d#viewer@group:eng[office_network]"),
            Err((
                TuplePart::Subject,
                format!("`document#viewer` accepts {viewer_types}; got `group:eng`")
            ))
        );
    }

    #[test]
    fn unknown_conditions_and_bad_contexts_are_named() {
        let schema = with_traits();
        let check = |text: &str| {
            let tuple: Tuple = text.parse().unwrap();
            validate_tuple(&schema, &tuple)
                .map(|_| ())
                .map_err(|e| (e.part(), e.to_string()))
        };
        assert_eq!(
            check("document:d#viewer@user:bob[office_netwrk]"),
            Err((
                TuplePart::Condition,
                "unknown condition `office_netwrk` in `document:d#viewer@user:bob[office_netwrk]`; \
                 did you mean `office_network`?"
                    .to_owned()
            ))
        );
        let (part, message) =
            check(r#"document:d#viewer@user:bob[office_network:{"cidr":8}]"#).unwrap_err();
        assert_eq!(part, TuplePart::Condition);
        assert!(
            message.ends_with(
                "parameter `cidr` of condition `office_network` has type `string`: \
                 expected a string, found `8`"
            ),
            "{message}"
        );
        let tuple: Tuple = r#"document:d#viewer@user:bob[office_network:{"clientip":"::1"}]"#
            .parse()
            .unwrap();
        match validate_tuple(&schema, &tuple) {
            Err(WriteError::InvalidContext { key, message, .. }) => {
                assert_eq!(key, "clientip");
                assert!(message.ends_with("did you mean `client_ip`?"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_condition_is_pointed_at() {
        use crate::source::FileId;
        let schema = with_traits();
        // `viewer` takes `office_network` but no expiry: the expiry is at fault.
        let text = "document:d#viewer@user:bob[office_network][expiration:2027-01-01T00:00:00Z]";
        let (tuple, parts) = crate::tuple::parse_tuple_with_spans(text).unwrap();
        let error = validate_tuple(&schema, &tuple).unwrap_err();
        let site = TupleSite {
            span: Span::new(FileId(0), 0, text.len() as u32),
            parts: Some(parts),
        };
        let at = error.to_diagnostic(site).primary.span;
        assert_eq!(at.start..at.end, 42..75, "{error}");
    }
}
