//! Facts that follow from a schema's types and rewrites: the dependency edges
//! between relations (for the cycle rules, in analysis and on load) and, per
//! relation or permission, the namespaces whose objects can be in its set
//! (for the server's subject mapping).
//!
//! Computed once, when a schema is assembled or loaded, and kept beside it;
//! never serialized, so the IR format and its hash do not depend on them.
//! The edges walk rewrites through [`Rewrite::children`] and
//! [`Rewrite::reads`], and subject namespaces follow the edges, so a new
//! operator needs nothing here.

use std::collections::BTreeSet;

use super::graph::{Edge, EdgeKind};
use super::{AllowedType, NamespaceId, RelationId, RelationKind, Rewrite, Schema};

/// What a schema's content implies, kept beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Derived {
    /// Every dependency of the schema (see [`dependency_edges`]).
    pub edges: Vec<Edge<()>>,
    /// Indexed by [`RelationId`]: sorted namespaces (see [`subject_namespaces`]).
    pub subject_namespaces: Vec<Vec<NamespaceId>>,
}

impl Derived {
    pub(super) fn of(schema: &Schema) -> Derived {
        let edges = dependency_edges(schema);
        let subject_namespaces = subject_namespaces(schema, &edges);
        Derived {
            edges,
            subject_namespaces,
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

/// Where `this` stands in a relation's rewrite: (somewhere kept, somewhere
/// subtracted). A relation without a rewrite is its tuples: (true, false).
pub fn this_polarity(rewrite: Option<&Rewrite>) -> (bool, bool) {
    fn walk(rewrite: &Rewrite, negative: bool, found: &mut (bool, bool)) {
        if matches!(rewrite, Rewrite::This) {
            if negative {
                found.1 = true;
            } else {
                found.0 = true;
            }
        }
        for child in rewrite.children() {
            walk(child.rewrite, negative || child.subtracted, found);
        }
    }
    let Some(rewrite) = rewrite else {
        return (true, false);
    };
    let mut found = (false, false);
    walk(rewrite, false, &mut found);
    found
}

/// The edges a relation's subject-set types add, with the polarity of
/// `this` in its rewrite (an edge each way when it stands in both).
pub fn type_edges(
    from: RelationId,
    types: &[AllowedType],
    rewrite: Option<&Rewrite>,
) -> Vec<Edge<()>> {
    let (kept, subtracted) = this_polarity(rewrite);
    let mut edges = Vec::new();
    for t in types {
        if let Some(edge) = type_edge(from, *t) {
            if subtracted {
                edges.push(Edge {
                    negative: true,
                    ..edge.clone()
                });
            }
            if kept {
                edges.push(edge);
            }
        }
    }
    edges
}

/// Every dependency of the schema: rewrites and subject-set types.
pub fn dependency_edges(schema: &Schema) -> Vec<Edge<()>> {
    let mut edges = Vec::new();
    for (i, rel) in schema.relations.iter().enumerate() {
        let from = RelationId(i as u32);
        match &rel.kind {
            RelationKind::Relation { rewrite, .. } => {
                let types: Vec<AllowedType> = rel.all_types().collect();
                edges.extend(type_edges(from, &types, rewrite.as_ref()));
                if let Some(rewrite) = rewrite {
                    rewrite_edges(from, rewrite, false, &mut edges);
                }
            }
            RelationKind::Permission { rewrite } => rewrite_edges(from, rewrite, false, &mut edges),
        }
    }
    edges
}

/// For each relation or permission, the namespaces whose objects can be in
/// its set, sorted: those a relation accepts as objects or wildcards, and
/// those that flow in along `edges` (not under a `-`, not to a tupleset,
/// which is read for its objects only). An over-approximation for `&` and
/// `-`, which is what the subject mapping needs: the candidates.
///
/// A worklist rather than rounds over every relation: a chain of relations
/// declared before what they read would take one round per link.
pub fn subject_namespaces(schema: &Schema, edges: &[Edge<()>]) -> Vec<Vec<NamespaceId>> {
    let mut sets: Vec<BTreeSet<NamespaceId>> = schema
        .relations
        .iter()
        .map(|r| {
            r.all_types()
                .filter_map(|t| match t {
                    AllowedType::Object { namespace } | AllowedType::Wildcard { namespace } => {
                        Some(namespace)
                    }
                    AllowedType::SubjectSet { .. } => None,
                })
                .collect()
        })
        .collect();
    // For each relation, those whose sets take in its subjects.
    let mut takers: Vec<Vec<RelationId>> = vec![Vec::new(); sets.len()];
    for edge in edges {
        if !edge.negative && edge.kind.passes_subjects() {
            if let Some(list) = takers.get_mut(edge.to.0 as usize) {
                list.push(edge.from);
            }
        }
    }
    let mut work: Vec<usize> = (0..sets.len()).collect();
    while let Some(giver) = work.pop() {
        let Some(takers) = takers.get(giver).filter(|t| !t.is_empty()) else {
            continue;
        };
        let given = sets.get(giver).cloned().unwrap_or_default();
        for taker in takers {
            if let Some(set) = sets.get_mut(taker.0 as usize) {
                let before = set.len();
                set.extend(given.iter().copied());
                if set.len() != before {
                    work.push(taker.0 as usize);
                }
            }
        }
    }
    sets.into_iter().map(|s| s.into_iter().collect()).collect()
}
