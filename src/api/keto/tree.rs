//! Keto's expand tree (`expandedPermissionTree`), made from zanzi's.

use super::subjects::subject_to_keto;
use super::wire::{ExpandedTree, Relationship, SubjectSet};
use crate::engine::ExpandTree;
use crate::ir::Schema;
use crate::tuple::Subject;

fn userset_tuple(userset: &str) -> Option<Relationship> {
    let (object, relation) = crate::tuple::parse_object_relation(userset).ok()?;
    Some(Relationship {
        namespace: object.namespace.clone(),
        object: object.id.clone(),
        relation: relation.clone(),
        subject_id: None,
        subject_set: Some(SubjectSet {
            namespace: object.namespace,
            object: object.id,
            relation,
        }),
        condition: None,
        expires_at: None,
    })
}

/// zanzi's expand tree in Keto's shape. A stored relation is a `union` of
/// its subjects (`leaf` nodes; subject sets expanded in place); a
/// permission is a `computed_subject_set` over its rewrite; an arrow is a
/// `tuple_to_subject_set`; a truncated or cyclic userset is a `leaf` naming
/// the userset.
pub fn to_keto_tree(schema: &Schema, tree: &ExpandTree) -> ExpandedTree {
    let node = |kind, children, tuple| ExpandedTree {
        kind,
        children,
        tuple,
    };
    match tree {
        // Keto's tree cannot say "if a condition holds": subjects of tuples
        // with a condition or an expiry are left out of it (zanzi's own
        // expand lists them with what they carry).
        ExpandTree::Leaf {
            userset,
            subjects,
            expanded,
            attributed: _,
        } => {
            let base = userset_tuple(userset);
            let relation = base.as_ref().and_then(|b| {
                let ns = schema.namespace_id(&b.namespace)?;
                schema.relation_id(ns, &b.relation)
            });
            let mut children = Vec::new();
            for text in subjects {
                let Ok(subject) = text.parse::<Subject>() else {
                    continue;
                };
                let sub_tree = match &subject {
                    Subject::Set { .. } => expanded.iter().find(|e| match e {
                        ExpandTree::Leaf { userset, .. }
                        | ExpandTree::Computed { userset, .. }
                        | ExpandTree::Truncated { userset }
                        | ExpandTree::Cycle { userset } => userset == text,
                        _ => false,
                    }),
                    _ => None,
                };
                match sub_tree {
                    Some(sub) => children.push(to_keto_tree(schema, sub)),
                    None => {
                        let (subject_id, subject_set) = subject_to_keto(schema, &subject, relation);
                        let tuple = base.as_ref().map(|b| Relationship {
                            namespace: b.namespace.clone(),
                            object: b.object.clone(),
                            relation: b.relation.clone(),
                            subject_id,
                            subject_set,
                            condition: None,
                            expires_at: None,
                        });
                        children.push(node("leaf", Vec::new(), tuple));
                    }
                }
            }
            node("union", children, base)
        }
        ExpandTree::Computed { userset, child } => node(
            "computed_subject_set",
            vec![to_keto_tree(schema, child)],
            userset_tuple(userset),
        ),
        ExpandTree::Union { children } => node(
            "union",
            children.iter().map(|c| to_keto_tree(schema, c)).collect(),
            None,
        ),
        ExpandTree::Intersection { children } => node(
            "intersection",
            children.iter().map(|c| to_keto_tree(schema, c)).collect(),
            None,
        ),
        ExpandTree::Exclusion { base, subtract } => node(
            "exclusion",
            vec![to_keto_tree(schema, base), to_keto_tree(schema, subtract)],
            None,
        ),
        ExpandTree::Arrow { children, .. } => node(
            "tuple_to_subject_set",
            children.iter().map(|c| to_keto_tree(schema, c)).collect(),
            None,
        ),
        ExpandTree::Truncated { userset } | ExpandTree::Cycle { userset } => {
            node("leaf", Vec::new(), userset_tuple(userset))
        }
    }
}
