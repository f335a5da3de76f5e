//! Facts that follow from a schema's types and rewrites: the dependency edges
//! between relations (for the cycle rules, in analysis and on load) and, per
//! relation or permission, the namespaces whose objects can be in its set
//! (for the server's subject mapping).
//!
//! Computed once, when a schema is assembled or loaded, and kept beside it;
//! never serialized, so the IR format and its hash do not depend on them.
//! Both walk rewrites through [`Rewrite::children`] and [`Rewrite::reads`],
//! so a new operator needs nothing here.

use std::collections::BTreeSet;

use super::graph::{Edge, EdgeKind};
use super::{AllowedType, NamespaceId, RelationId, RelationKind, Rewrite, Schema};

/// What a schema's content implies, kept beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Derived {
    /// Every dependency of the schema (see [`dependency_edges`]).
    pub edges: Vec<Edge<()>>,
    /// Indexed by [`RelationId`]: sorted namespaces (see [`subject_types`]).
    pub subject_types: Vec<Vec<NamespaceId>>,
}

impl Derived {
    pub(super) fn of(schema: &Schema) -> Derived {
        Derived {
            edges: dependency_edges(schema),
            subject_types: subject_types(schema),
        }
    }
}

/// Appends the edges of `rewrite`, which is permission `from`'s rewrite or
/// a part of it, in reading order; `negative` when the part lies under the
/// right side of a `-`. Analysis calls it on each part it lowers, so that a
/// permission with a mistake elsewhere still has its cycles reported.
pub fn rewrite_edges(from: RelationId, rewrite: &Rewrite, negative: bool, out: &mut Vec<Edge<()>>) {
    out.extend(rewrite.reads().map(|(to, kind)| Edge {
        from,
        to,
        kind,
        negative,
        label: (),
    }));
    for child in rewrite.children() {
        rewrite_edges(from, child.rewrite, negative || child.subtracted, out);
    }
}

/// The edge an allowed type of relation `from` adds: one for a subject set.
pub fn type_edge(from: RelationId, allowed: AllowedType) -> Option<Edge<()>> {
    match allowed {
        AllowedType::SubjectSet { relation, .. } => Some(Edge {
            from,
            to: relation,
            kind: EdgeKind::SubjectSet,
            negative: false,
            label: (),
        }),
        AllowedType::Object { .. } | AllowedType::Wildcard { .. } => None,
    }
}

/// Every dependency of the schema: permission rewrites and subject-set types.
pub fn dependency_edges(schema: &Schema) -> Vec<Edge<()>> {
    let mut edges = Vec::new();
    for (i, rel) in schema.relations.iter().enumerate() {
        let from = RelationId(i as u32);
        match &rel.kind {
            RelationKind::Relation { types } => {
                edges.extend(types.iter().filter_map(|t| type_edge(from, *t)));
            }
            RelationKind::Permission { rewrite } => rewrite_edges(from, rewrite, false, &mut edges),
        }
    }
    edges
}

/// For each relation or permission, the namespaces whose objects can be in
/// its set: a fixed point over the schema, and an over-approximation for `&`
/// and `-` (the subtracted side adds nothing), which is what the subject
/// mapping needs: the candidates.
pub fn subject_types(schema: &Schema) -> Vec<Vec<NamespaceId>> {
    let mut sets: Vec<BTreeSet<NamespaceId>> = vec![BTreeSet::new(); schema.relations.len()];
    loop {
        let mut changed = false;
        for (index, relation) in schema.relations.iter().enumerate() {
            let mut set = BTreeSet::new();
            match &relation.kind {
                RelationKind::Relation { types } => {
                    for ty in types {
                        match *ty {
                            AllowedType::Object { namespace }
                            | AllowedType::Wildcard { namespace } => {
                                set.insert(namespace);
                            }
                            AllowedType::SubjectSet { relation, .. } => {
                                extend_with(&mut set, &sets, relation);
                            }
                        }
                    }
                }
                RelationKind::Permission { rewrite } => rewrite_subjects(rewrite, &sets, &mut set),
            }
            if let Some(slot) = sets.get_mut(index) {
                if *slot != set {
                    *slot = set;
                    changed = true;
                }
            }
        }
        if !changed {
            return sets.into_iter().map(|s| s.into_iter().collect()).collect();
        }
    }
}

fn rewrite_subjects(
    rewrite: &Rewrite,
    sets: &[BTreeSet<NamespaceId>],
    out: &mut BTreeSet<NamespaceId>,
) {
    for (relation, kind) in rewrite.reads() {
        if kind.passes_subjects() {
            extend_with(out, sets, relation);
        }
    }
    for child in rewrite.children().filter(|c| !c.subtracted) {
        rewrite_subjects(child.rewrite, sets, out);
    }
}

fn extend_with(out: &mut BTreeSet<NamespaceId>, sets: &[BTreeSet<NamespaceId>], id: RelationId) {
    if let Some(set) = sets.get(id.0 as usize) {
        out.extend(set.iter().copied());
    }
}
