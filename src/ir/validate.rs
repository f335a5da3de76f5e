//! Re-validation of a loaded IR file: the engine trusts what passes here, so
//! every id must be in range and every invariant the compiler guarantees must
//! hold again (a file can be edited by hand and re-hashed).

use std::collections::HashSet;

use super::graph::{self, Edge};
use super::{AllowedType, NamespaceId, RelationId, RelationKind, Rewrite, Schema};

#[derive(Debug, thiserror::Error)]
pub enum IrError {
    #[error("not a compiled zanzi schema: {0}")]
    Json(#[source] serde_json::Error),
    #[error("compiled schema has format version {found}, this zanzi reads version {expected}: recompile the schema")]
    Version { found: u32, expected: u32 },
    #[error("compiled schema was modified after compilation: recorded hash {recorded}, content hashes to {actual}")]
    HashMismatch { recorded: String, actual: String },
    #[error("compiled schema is inconsistent: {0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> IrError {
    IrError::Invalid(message.into())
}

pub(super) fn validate(schema: &Schema) -> Result<(), IrError> {
    let ns_count = schema.namespaces.len();
    let rel_count = schema.relations.len();
    let ns_ok = |id: NamespaceId| (id.0 as usize) < ns_count;
    let rel_in =
        |id: RelationId, ns: NamespaceId| schema.relation(id).is_some_and(|r| r.namespace == ns);

    let mut names = HashSet::new();
    let mut owner = vec![None; rel_count];
    for (i, ns) in schema.namespaces.iter().enumerate() {
        if !names.insert(ns.name.as_str()) {
            return Err(invalid(format!("namespace `{}` is defined twice", ns.name)));
        }
        for &rel in &ns.relations {
            match owner.get_mut(rel.0 as usize) {
                Some(slot @ None) => *slot = Some(i),
                Some(Some(_)) => {
                    return Err(invalid(format!("relation {} is listed twice", rel.0)))
                }
                None => return Err(invalid(format!("relation id {} is out of range", rel.0))),
            }
        }
    }
    let mut rel_names = HashSet::new();
    for (i, rel) in schema.relations.iter().enumerate() {
        let expected = owner.get(i).copied().flatten();
        if expected != Some(rel.namespace.0 as usize) {
            return Err(invalid(format!(
                "relation `{}` is not listed by its namespace",
                rel.name
            )));
        }
        if !rel_names.insert((rel.namespace, rel.name.as_str())) {
            return Err(invalid(format!("relation `{}` is defined twice", rel.name)));
        }
        match &rel.kind {
            RelationKind::Relation {
                types,
                with_traits,
                rewrite,
            } => {
                if let Some(rewrite) = rewrite {
                    check_rewrite(schema, rel.namespace, rewrite, true, 0)?;
                }
                if types.is_empty() && with_traits.is_empty() {
                    return Err(invalid(format!("relation `{}` has no types", rel.name)));
                }
                for traited in with_traits {
                    let condition_ok = traited
                        .condition
                        .is_none_or(|c| (c.0 as usize) < schema.conditions.len());
                    if !condition_ok || (traited.condition.is_none() && !traited.expiration) {
                        return Err(invalid(format!(
                            "relation `{}` has an invalid type with traits",
                            rel.name
                        )));
                    }
                }
                for t in rel.all_types() {
                    let ok = match t {
                        AllowedType::Object { namespace } | AllowedType::Wildcard { namespace } => {
                            ns_ok(namespace)
                        }
                        AllowedType::SubjectSet {
                            namespace,
                            relation,
                        } => rel_in(relation, namespace),
                    };
                    if !ok {
                        return Err(invalid(format!(
                            "relation `{}` has an invalid type",
                            rel.name
                        )));
                    }
                }
            }
            RelationKind::Permission { rewrite } => {
                check_rewrite(schema, rel.namespace, rewrite, false, 0)?;
            }
        }
    }

    Ok(())
}

/// The cycle rules, on the schema's dependency edges; after [`validate`],
/// which makes every id in them valid.
pub(super) fn acyclic(edges: &[Edge<()>], rel_count: usize) -> Result<(), IrError> {
    if !graph::negative_cycles(rel_count, edges).is_empty() {
        return Err(invalid(
            "a permission depends on itself through an exclusion",
        ));
    }
    if !graph::computed_cycles(rel_count, edges).is_empty() {
        return Err(invalid(
            "a permission depends on itself through computed names only",
        ));
    }
    Ok(())
}

/// Rewrites deeper than this are refused, so that no interpreter recursion can overflow.
pub const MAX_REWRITE_DEPTH: usize = 256;

/// `in_relation`: the rewrite is a relation's, where `this` may stand.
fn check_rewrite(
    schema: &Schema,
    ns: NamespaceId,
    rewrite: &Rewrite,
    in_relation: bool,
    depth: usize,
) -> Result<(), IrError> {
    if depth > MAX_REWRITE_DEPTH {
        return Err(invalid("a rewrite is nested too deeply"));
    }
    let in_ns = |id: RelationId| schema.relation(id).is_some_and(|r| r.namespace == ns);
    match rewrite {
        Rewrite::Computed { relation } => {
            if !in_ns(*relation) {
                return Err(invalid("a computed userset names another namespace"));
            }
        }
        Rewrite::Arrow {
            tupleset, targets, ..
        } => {
            let tupleset = schema
                .relation(*tupleset)
                .filter(|r| r.namespace == ns)
                .ok_or_else(|| invalid("an arrow's tupleset is not in its namespace"))?;
            let objects_only = tupleset
                .allowed()
                .iter()
                .all(|t| matches!(t, AllowedType::Object { .. }));
            if tupleset.rewrite().is_some() || !objects_only {
                return Err(invalid(
                    "an arrow's tupleset must be a relation of object types",
                ));
            }
            for target in targets {
                let ok = schema
                    .relation(target.relation)
                    .is_some_and(|r| r.namespace == target.namespace);
                if !ok {
                    return Err(invalid("an arrow target is inconsistent"));
                }
            }
        }
        Rewrite::Union { children } | Rewrite::Intersection { children } => {
            if children.is_empty() {
                return Err(invalid("an empty union or intersection"));
            }
        }
        Rewrite::This if !in_relation => {
            return Err(invalid("`this` stands in a permission"));
        }
        Rewrite::Exclusion { .. } | Rewrite::This | Rewrite::Nil | Rewrite::SelfObject => {}
    }
    rewrite
        .children()
        .try_for_each(|c| check_rewrite(schema, ns, c.rewrite, in_relation, depth + 1))
}
