//! Lookups: which subjects are in a set, and which objects' sets hold a
//! subject.
//!
//! Both are exact under every operator, exclusion and intersection included,
//! by one simple strategy: collect a *superset* of candidates by walking the
//! tuples (ignoring what `&` and `-` would remove), then confirm each
//! candidate with a check. The walk visits each userset once, so it ends on
//! cyclic data; the checks bring the least-fixed-point semantics and the
//! depth limit.
//!
//! - `lookup_subjects` walks forward from the userset over every branch,
//!   the right side of `-` included (a subject it names may be the one
//!   excluded from a wildcard). A subject of the namespace that no tuple
//!   names can be in the set only through a wildcard; one anonymous check
//!   tells whether it is, and then the candidates that fail are the
//!   exceptions.
//! - `lookup_resources` walks backward from the subject with the reverse
//!   index, over positive branches only (an object is in `a - b` or `a & b`
//!   only if it is in `a`), and only through relations the asked one can
//!   read. Results are sorted by ID and paged: the cursor is the last ID
//!   returned, and only the candidates of the requested page are checked,
//!   all by one checker (one memo).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use serde::Serialize;

use super::check::Checker;
use super::{Engine, EngineError, Target};
use crate::ir::{AllowedType, NamespaceId, RelationId, RelationKind, Rewrite};
use crate::store::{Page, PageRequest, Revision, SubjectKind};
use crate::tuple::{Object, Subject};

/// The object subjects of one namespace in a set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubjectLookup {
    /// The subjects named by tuples that are in the set, sorted.
    pub subject_ids: Vec<String>,
    /// Whether every subject of the namespace is in the set (through a
    /// wildcard), except those in `excluded`.
    pub wildcard: bool,
    /// With `wildcard`: the subjects that are not in the set, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
}

/// A userset: a relation or permission of one object.
type Node = (RelationId, String);

pub(super) fn lookup_subjects(
    engine: &Engine<'_>,
    relation: RelationId,
    id: &str,
    namespace: NamespaceId,
    at: Revision,
) -> Result<SubjectLookup, EngineError> {
    let candidates = subject_candidates(engine, relation, id, namespace, at)?;
    let ns_name = engine.namespace_name(namespace);
    let check = |target: Target| Checker::new(engine, target, at, false).check_root(relation, id);
    let wildcard = check(Target::Anonymous { namespace })?;
    let mut result = SubjectLookup {
        wildcard,
        ..SubjectLookup::default()
    };
    for candidate in candidates {
        let target = Target::Object {
            namespace,
            subject: Subject::object(ns_name, candidate.clone()),
        };
        if check(target)? {
            result.subject_ids.push(candidate);
        } else if wildcard {
            result.excluded.push(candidate);
        }
    }
    Ok(result)
}

/// Every ID of `namespace` that a tuple reachable from `id#relation` names
/// as an object subject, sorted.
fn subject_candidates(
    engine: &Engine<'_>,
    relation: RelationId,
    id: &str,
    namespace: NamespaceId,
    at: Revision,
) -> Result<BTreeSet<String>, EngineError> {
    let ns_name = engine.namespace_name(namespace);
    let mut candidates = BTreeSet::new();
    let mut seen: HashSet<Node> = HashSet::new();
    let mut queue: VecDeque<Node> = VecDeque::from([(relation, id.to_owned())]);
    while let Some(node) = queue.pop_front() {
        if !seen.insert(node.clone()) {
            continue;
        }
        let (relation, id) = node;
        let Some(rel) = engine.schema.relation(relation) else {
            continue;
        };
        match &rel.kind {
            RelationKind::Relation { .. } => {
                let subjects = engine.store.subjects(
                    engine.namespace_name(rel.namespace),
                    &id,
                    &rel.name,
                    SubjectKind::Objects,
                    at,
                )?;
                for subject in subjects {
                    if let Subject::Object(object) = subject {
                        if object.namespace == ns_name {
                            candidates.insert(object.id);
                        }
                    }
                }
                for (_, set_relation, set_id) in engine.subject_sets(relation, &id, at)? {
                    queue.push_back((set_relation, set_id));
                }
            }
            RelationKind::Permission { rewrite } => {
                forward_rewrite(engine, rewrite, &id, at, &mut queue)?;
            }
        }
    }
    Ok(candidates)
}

/// Queues every userset `rewrite` reads on object `id`, both sides of `-`.
fn forward_rewrite(
    engine: &Engine<'_>,
    rewrite: &Rewrite,
    id: &str,
    at: Revision,
    queue: &mut VecDeque<Node>,
) -> Result<(), EngineError> {
    match rewrite {
        Rewrite::Computed { relation } => queue.push_back((*relation, id.to_owned())),
        Rewrite::Union { children } | Rewrite::Intersection { children } => {
            for child in children {
                forward_rewrite(engine, child, id, at, queue)?;
            }
        }
        Rewrite::Exclusion { base, subtract } => {
            forward_rewrite(engine, base, id, at, queue)?;
            forward_rewrite(engine, subtract, id, at, queue)?;
        }
        Rewrite::Arrow {
            tupleset, targets, ..
        } => {
            for (ns, x) in engine.object_subjects(*tupleset, id, at)? {
                if let Some(target) = targets.iter().find(|t| t.namespace == ns) {
                    queue.push_back((target.relation, x));
                }
            }
        }
    }
    Ok(())
}

/// How a userset `X` of an object `a` can put a subject into others.
#[derive(Clone, Copy, Debug)]
enum Use {
    /// `relation` accepts `X`'s subject sets: `b#relation@a#X`.
    SubjectSet { relation: RelationId },
    /// Permission `permission` of the same object reads `X` positively.
    Computed { permission: RelationId },
    /// Permission `permission` has a positive arrow `tupleset->X`:
    /// `b#tupleset@a` puts `b#permission` in reach.
    Arrow {
        permission: RelationId,
        tupleset: RelationId,
    },
}

/// For every relation, its positive uses, and the relations `goal` reads.
struct ReverseGraph {
    uses: HashMap<RelationId, Vec<Use>>,
    relevant: HashSet<RelationId>,
}

impl ReverseGraph {
    fn new(engine: &Engine<'_>, goal: RelationId) -> ReverseGraph {
        let schema = engine.schema;
        let mut uses: HashMap<RelationId, Vec<Use>> = HashMap::new();
        let mut reads: HashMap<RelationId, Vec<RelationId>> = HashMap::new();
        for (index, rel) in schema.relations.iter().enumerate() {
            let this = RelationId(index as u32);
            match &rel.kind {
                RelationKind::Relation { types } => {
                    for ty in types {
                        if let AllowedType::SubjectSet { relation, .. } = ty {
                            uses.entry(*relation)
                                .or_default()
                                .push(Use::SubjectSet { relation: this });
                            reads.entry(this).or_default().push(*relation);
                        }
                    }
                }
                RelationKind::Permission { rewrite } => {
                    positive_uses(rewrite, this, &mut uses, &mut reads);
                }
            }
        }
        let mut relevant = HashSet::new();
        let mut work = vec![goal];
        while let Some(r) = work.pop() {
            if relevant.insert(r) {
                work.extend(reads.get(&r).into_iter().flatten().copied());
            }
        }
        ReverseGraph { uses, relevant }
    }
}

fn positive_uses(
    rewrite: &Rewrite,
    permission: RelationId,
    uses: &mut HashMap<RelationId, Vec<Use>>,
    reads: &mut HashMap<RelationId, Vec<RelationId>>,
) {
    match rewrite {
        Rewrite::Computed { relation } => {
            uses.entry(*relation)
                .or_default()
                .push(Use::Computed { permission });
            reads.entry(permission).or_default().push(*relation);
        }
        Rewrite::Union { children } | Rewrite::Intersection { children } => {
            for child in children {
                positive_uses(child, permission, uses, reads);
            }
        }
        Rewrite::Exclusion { base, .. } => positive_uses(base, permission, uses, reads),
        Rewrite::Arrow {
            tupleset, targets, ..
        } => {
            for target in targets {
                uses.entry(target.relation).or_default().push(Use::Arrow {
                    permission,
                    tupleset: *tupleset,
                });
                reads.entry(permission).or_default().push(target.relation);
            }
        }
    }
}

pub(super) fn lookup_resources(
    engine: &Engine<'_>,
    relation: RelationId,
    target: &Target,
    page: &PageRequest,
    at: Revision,
) -> Result<Page<String>, EngineError> {
    let candidates = resource_candidates(engine, relation, target, at)?;
    let after = page.cursor.as_deref();
    let mut items = Vec::new();
    let mut next_cursor = None;
    let remaining = candidates
        .iter()
        .filter(|id| after.is_none_or(|cursor| id.as_str() > cursor));
    // One checker for every candidate: the target and the revision are the
    // same, so what one check learns (a shared folder's `view`) serves the
    // next.
    let mut checker = Checker::new(engine, target.clone(), at, false);
    for id in remaining {
        if items.len() == page.limit {
            next_cursor = Some(
                items
                    .last()
                    .cloned()
                    .unwrap_or_else(|| after.unwrap_or_default().to_owned()),
            );
            break;
        }
        if checker.check_root(relation, id)? {
            items.push(id.clone());
        }
    }
    Ok(Page { items, next_cursor })
}

/// The IDs of every object whose `relation` may hold the target, sorted.
fn resource_candidates(
    engine: &Engine<'_>,
    relation: RelationId,
    target: &Target,
    at: Revision,
) -> Result<BTreeSet<String>, EngineError> {
    let schema = engine.schema;
    let graph = ReverseGraph::new(engine, relation);
    let mut queue: VecDeque<Node> = VecDeque::new();

    // Seeds: the stored tuples that name the subject itself (or a wildcard
    // standing for it), in relations whose types accept it.
    let (exact, wildcard) = match target {
        Target::Object { namespace, subject } => (
            Some((
                AllowedType::Object {
                    namespace: *namespace,
                },
                subject.clone(),
            )),
            Some((
                AllowedType::Wildcard {
                    namespace: *namespace,
                },
                Subject::wildcard(engine.namespace_name(*namespace)),
            )),
        ),
        Target::Set {
            namespace,
            relation,
            subject,
        } => (
            Some((
                AllowedType::SubjectSet {
                    namespace: *namespace,
                    relation: *relation,
                },
                subject.clone(),
            )),
            None,
        ),
        Target::Anonymous { namespace } => (
            None,
            Some((
                AllowedType::Wildcard {
                    namespace: *namespace,
                },
                Subject::wildcard(engine.namespace_name(*namespace)),
            )),
        ),
    };
    for (ty, subject) in exact.into_iter().chain(wildcard) {
        for (index, rel) in schema.relations.iter().enumerate() {
            let this = RelationId(index as u32);
            if !graph.relevant.contains(&this) || !rel.allowed().contains(&ty) {
                continue;
            }
            for id in engine.store.objects_with_subject(
                engine.namespace_name(rel.namespace),
                &rel.name,
                &subject,
                at,
            )? {
                queue.push_back((this, id));
            }
        }
    }

    let mut seen: HashSet<Node> = HashSet::new();
    let mut candidates = BTreeSet::new();
    while let Some(node) = queue.pop_front() {
        if !graph.relevant.contains(&node.0) || !seen.insert(node.clone()) {
            continue;
        }
        let (this, id) = node;
        if this == relation {
            candidates.insert(id.clone());
        }
        let object = Object::new(
            engine.namespace_name(engine.relation_namespace(this)),
            id.clone(),
        );
        for &used in graph.uses.get(&this).into_iter().flatten() {
            match used {
                Use::Computed { permission } => queue.push_back((permission, id.clone())),
                Use::SubjectSet { relation: user } => {
                    let Some(rel) = schema.relation(user) else {
                        continue;
                    };
                    let subject = Subject::Set {
                        object: object.clone(),
                        relation: engine.relation_name(this).to_owned(),
                    };
                    for holder in engine.store.objects_with_subject(
                        engine.namespace_name(rel.namespace),
                        &rel.name,
                        &subject,
                        at,
                    )? {
                        queue.push_back((user, holder));
                    }
                }
                Use::Arrow {
                    permission,
                    tupleset,
                } => {
                    let Some(rel) = schema.relation(tupleset) else {
                        continue;
                    };
                    for holder in engine.store.objects_with_subject(
                        engine.namespace_name(rel.namespace),
                        &rel.name,
                        &Subject::Object(object.clone()),
                        at,
                    )? {
                        queue.push_back((permission, holder));
                    }
                }
            }
        }
    }
    Ok(candidates)
}
