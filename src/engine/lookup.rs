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
use std::rc::Rc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::check::{self, Checker, Id};
use super::interrupt::Watch;
use super::{AnswerBudget, AnswerPart, Decision, Engine, EngineError, Target};
use crate::ir::{AllowedType, ArrowMode, NamespaceId, RelationId, RelationKind, Rewrite};
use crate::store::{Page, PageRequest, Reader, SubjectKind};
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
    /// The subjects named by tuples that are in the set or not depending on
    /// missing condition parameters, sorted (never in `subject_ids`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<ConditionalId>,
    /// Whether every subject of the namespace may be in the set through a
    /// wildcard, depending on these missing parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wildcard_missing: Option<Vec<String>>,
}

/// An ID in a set or not depending on missing condition parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConditionalId {
    pub id: String,
    /// The missing parameters, sorted.
    pub missing: Vec<String>,
}

/// A userset: a relation or permission of one object.
type Node = (RelationId, String);

pub(super) fn lookup_subjects(
    engine: &Engine<'_>,
    relation: RelationId,
    id: &str,
    namespace: NamespaceId,
    reader: &dyn Reader,
) -> Result<SubjectLookup, EngineError> {
    let candidates = subject_candidates(engine, relation, id, namespace, reader)?;
    let ns_name = engine.namespace_name(namespace);
    let check =
        |target: Target| Checker::new(engine, target, reader, false).check_root(relation, id);
    let anonymous = check(Target::Anonymous { namespace })?;
    let wildcard = anonymous.is_allowed();
    let mut result = SubjectLookup {
        wildcard,
        wildcard_missing: match anonymous {
            Decision::Conditional { missing } => Some(missing),
            Decision::Allowed | Decision::Denied => None,
        },
        ..SubjectLookup::default()
    };
    // Counted as the answer grows: a set past the limit is not built whole.
    let mut budget = AnswerBudget::new(AnswerPart::Subjects, engine.limits.max_subjects);
    for candidate in candidates {
        let target = Target::Object {
            namespace,
            subject: Subject::object(ns_name, candidate.clone()),
        };
        match check(target)? {
            Decision::Allowed => {
                budget.spend(1)?;
                result.subject_ids.push(candidate);
            }
            Decision::Conditional { missing } => {
                budget.spend(1)?;
                result.conditional.push(ConditionalId {
                    id: candidate,
                    missing,
                });
            }
            Decision::Denied if wildcard => {
                budget.spend(1)?;
                result.excluded.push(candidate);
            }
            Decision::Denied => {}
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
    reader: &dyn Reader,
) -> Result<BTreeSet<String>, EngineError> {
    let ns_name = engine.namespace_name(namespace);
    let mut candidates = BTreeSet::new();
    let mut seen: HashSet<Node> = HashSet::new();
    let mut queue: VecDeque<Node> = VecDeque::from([(relation, id.to_owned())]);
    let mut watch = Watch::current();
    while let Some(node) = queue.pop_front() {
        watch.tick()?;
        if !seen.insert(node.clone()) {
            continue;
        }
        let (relation, id) = node;
        let Some(rel) = engine.schema.relation(relation) else {
            continue;
        };
        // A relation with a rewrite reads its tuples (`this`) and its rewrite:
        // candidates only need to be a superset.
        if let Some(rewrite) = rel.rewrite() {
            if rel.namespace == namespace && mentions_self(rewrite) {
                candidates.insert(id.clone());
            }
            forward_rewrite(engine, rewrite, &id, reader, &mut queue)?;
        }
        match &rel.kind {
            RelationKind::Permission { .. } => {}
            RelationKind::Relation { .. } => {
                let subjects = reader.subjects(
                    engine.namespace_name(rel.namespace),
                    &id,
                    &rel.name,
                    SubjectKind::Objects,
                )?;
                for subject in subjects {
                    if let Subject::Object(object) = subject {
                        if object.namespace == ns_name {
                            candidates.insert(object.id);
                        }
                    }
                }
                for (_, set_relation, set_id) in engine.subject_sets(relation, &id, reader)? {
                    queue.push_back((set_relation, set_id));
                }
                // Tuples with a condition or an expiry: candidates whatever
                // their condition says; the checks decide.
                for subject in engine.attributed_subjects(relation, &id, reader)? {
                    match subject {
                        Subject::Object(object) if object.namespace == ns_name => {
                            candidates.insert(object.id);
                        }
                        Subject::Set { object, relation } => {
                            let set = engine
                                .schema
                                .namespace_id(&object.namespace)
                                .and_then(|ns| engine.schema.relation_id(ns, &relation));
                            if let Some(set) = set {
                                queue.push_back((set, object.id));
                            }
                        }
                        _ => {}
                    }
                }
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
    reader: &dyn Reader,
    queue: &mut VecDeque<Node>,
) -> Result<(), EngineError> {
    match rewrite {
        Rewrite::Computed { relation } => queue.push_back((*relation, id.to_owned())),
        // The relation's own tuples are read where its node is, and the
        // object itself (`self`) is a candidate there.
        Rewrite::This | Rewrite::Nil | Rewrite::SelfObject => {}
        Rewrite::Union { children } | Rewrite::Intersection { children } => {
            for child in children {
                forward_rewrite(engine, child, id, reader, queue)?;
            }
        }
        Rewrite::Exclusion { base, subtract } => {
            forward_rewrite(engine, base, id, reader, queue)?;
            forward_rewrite(engine, subtract, id, reader, queue)?;
        }
        Rewrite::Arrow {
            tupleset, targets, ..
        } => {
            let attributed = engine
                .attributed_subjects(*tupleset, id, reader)?
                .into_iter()
                .filter_map(|subject| match subject {
                    Subject::Object(object) => engine
                        .schema
                        .namespace_id(&object.namespace)
                        .map(|ns| (ns, object.id)),
                    _ => None,
                });
            for (ns, x) in engine
                .object_subjects(*tupleset, id, reader)?
                .into_iter()
                .chain(attributed)
            {
                if let Some(target) = targets.iter().find(|t| t.namespace == ns) {
                    queue.push_back((target.relation, x));
                }
            }
        }
    }
    Ok(())
}

/// How a userset `X` of an object `a` can put a subject into others.
#[derive(Clone, Debug)]
enum Use {
    /// `relation` accepts `X`'s subject sets: `b#relation@a#X`.
    SubjectSet { relation: RelationId },
    /// Permission `permission` of the same object reads `X` positively, at
    /// `branch` of its rewrite.
    Computed {
        permission: RelationId,
        branch: Branch,
    },
    /// Permission `permission` has a positive arrow `tupleset->X` at
    /// `branch`: `b#tupleset@a` puts `b#permission` in reach.
    Arrow {
        permission: RelationId,
        tupleset: RelationId,
        branch: Branch,
    },
}

/// Where a use sits in its permission's rewrite.
#[derive(Clone, Debug)]
struct Branch {
    /// The addresses of the rewrite nodes from the permission's root down to
    /// the use (see [`check::address`]).
    path: Rc<[usize]>,
    /// The branch itself holds when the used userset does: always for a
    /// computed name; for an arrow, when it is `any` and its tupleset accepts
    /// the object (one object's target holding does not make `.all` hold).
    holds: bool,
    /// The branch holds and only unions lie above it: the use alone puts the
    /// subject in the permission. Otherwise the rest of the rewrite decides
    /// (the right side of an exclusion, the other sides of an intersection).
    sufficient: bool,
}

/// For every relation, its positive uses, and the relations `goal` reads.
struct ReverseGraph {
    uses: HashMap<RelationId, Vec<Use>>,
    relevant: HashSet<RelationId>,
    /// Relations whose rewrite does not make their own tuples enough
    /// (`this` under `&` or `-`, or absent): a tuple in one puts a subject
    /// in it only maybe.
    tuples_not_enough: HashSet<RelationId>,
}

impl ReverseGraph {
    /// Whether a tuple of `relation` alone puts its subject in the relation's set.
    fn tuples_suffice(&self, relation: RelationId) -> bool {
        !self.tuples_not_enough.contains(&relation)
    }
}

/// Whether `self` stands anywhere in `rewrite`.
fn mentions_self(rewrite: &Rewrite) -> bool {
    matches!(rewrite, Rewrite::SelfObject) || rewrite.children().any(|c| mentions_self(c.rewrite))
}

/// Whether `self` stands in `rewrite` with only unions above it: then the
/// object is in the set for certain when it is the subject.
fn self_sufficient(rewrite: &Rewrite) -> bool {
    match rewrite {
        Rewrite::SelfObject => true,
        Rewrite::Union { children } => children.iter().any(self_sufficient),
        _ => false,
    }
}

/// Whether `this` stands in `rewrite` with only unions above it.
fn this_sufficient(rewrite: &Rewrite) -> bool {
    match rewrite {
        Rewrite::This => true,
        Rewrite::Union { children } => children.iter().any(this_sufficient),
        _ => false,
    }
}

impl ReverseGraph {
    fn new(engine: &Engine<'_>, goal: RelationId) -> ReverseGraph {
        let schema = engine.schema;
        let mut uses: HashMap<RelationId, Vec<Use>> = HashMap::new();
        let mut tuples_not_enough = HashSet::new();
        for (index, rel) in schema.relations.iter().enumerate() {
            let this = RelationId(index as u32);
            if let RelationKind::Relation { rewrite, .. } = &rel.kind {
                let mut sets: Vec<RelationId> = rel
                    .all_types()
                    .filter_map(|ty| match ty {
                        AllowedType::SubjectSet { relation, .. } => Some(relation),
                        _ => None,
                    })
                    .collect();
                sets.sort_unstable();
                sets.dedup();
                for relation in sets {
                    uses.entry(relation)
                        .or_default()
                        .push(Use::SubjectSet { relation: this });
                }
                if rewrite.as_ref().is_some_and(|r| !this_sufficient(r)) {
                    tuples_not_enough.insert(this);
                }
            }
            if let Some(rewrite) = rel.rewrite() {
                let mut walk = UseWalk {
                    engine,
                    permission: this,
                    path: Vec::new(),
                    uses: &mut uses,
                };
                walk.positive(rewrite, true);
            }
        }
        // Positive reads: the edges along which subjects flow into a set.
        let mut reads: HashMap<RelationId, Vec<RelationId>> = HashMap::new();
        for edge in schema.dependency_edges() {
            if !edge.negative && edge.kind.passes_subjects() {
                reads.entry(edge.from).or_default().push(edge.to);
            }
        }
        let mut relevant = HashSet::new();
        let mut work = vec![goal];
        while let Some(r) = work.pop() {
            if relevant.insert(r) {
                work.extend(reads.get(&r).into_iter().flatten().copied());
            }
        }
        ReverseGraph {
            uses,
            relevant,
            tuples_not_enough,
        }
    }
}

/// Collects the positive uses in one permission's rewrite.
struct UseWalk<'w, 'e> {
    engine: &'w Engine<'e>,
    permission: RelationId,
    path: Vec<usize>,
    uses: &'w mut HashMap<RelationId, Vec<Use>>,
}

impl UseWalk<'_, '_> {
    /// `sufficient`: only unions above `rewrite`.
    fn positive(&mut self, rewrite: &Rewrite, sufficient: bool) {
        self.path.push(check::address(rewrite));
        let permission = self.permission;
        match rewrite {
            Rewrite::Computed { relation } => {
                let branch = Branch {
                    path: self.path.as_slice().into(),
                    holds: true,
                    sufficient,
                };
                self.uses
                    .entry(*relation)
                    .or_default()
                    .push(Use::Computed { permission, branch });
            }
            Rewrite::Union { children } => {
                for child in children {
                    self.positive(child, sufficient);
                }
            }
            Rewrite::Intersection { children } => {
                for child in children {
                    self.positive(child, false);
                }
            }
            Rewrite::Exclusion { base, .. } => self.positive(base, false),
            // The relation's own tuples and the object itself are seeds of
            // the walk, not uses.
            Rewrite::This | Rewrite::Nil | Rewrite::SelfObject => {}
            Rewrite::Arrow {
                tupleset,
                targets,
                mode,
                ..
            } => {
                let accepted = self
                    .engine
                    .schema
                    .relation(*tupleset)
                    .map_or(&[][..], |r| r.allowed());
                for target in targets {
                    let object = AllowedType::Object {
                        namespace: target.namespace,
                    };
                    let holds = *mode == ArrowMode::Any && accepted.contains(&object);
                    let branch = Branch {
                        path: self.path.as_slice().into(),
                        holds,
                        sufficient: sufficient && holds,
                    };
                    self.uses
                        .entry(target.relation)
                        .or_default()
                        .push(Use::Arrow {
                            permission,
                            tupleset: *tupleset,
                            branch,
                        });
                }
            }
        }
        self.path.pop();
    }
}

/// What the walk knows of a userset it reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reach {
    /// A derivation found by the walk alone puts the subject in it.
    certain: bool,
    /// The hops through tuples of the derivation the walk found.
    hops: u32,
}

/// How a candidate is confirmed.
#[derive(Clone, Debug)]
enum Confirm {
    /// The walk found a derivation within the depth limit: no check.
    Certain,
    /// A check, with a branch of the permission known to hold (the walk
    /// found a derivation of it within the depth limit).
    Known(Rc<[usize]>),
    /// A plain check.
    Check,
}

impl Confirm {
    fn rank(&self) -> u8 {
        match self {
            Confirm::Certain => 2,
            Confirm::Known(_) => 1,
            Confirm::Check => 0,
        }
    }
}

/// The objects of a lookup of resources, each allowed or conditional; the
/// conditional ones only when `conditional` asks for them.
pub(super) fn lookup_resources(
    engine: &Engine<'_>,
    relation: RelationId,
    target: &Target,
    page: &PageRequest,
    reader: &dyn Reader,
    conditional: bool,
) -> Result<Page<(String, Decision)>, EngineError> {
    // One checker for the walk's IDs and every check: the target and the
    // revision are the same, so what one check learns (a shared folder's
    // `view`) serves the next.
    let mut checker = Checker::new(engine, target.clone(), reader, false);
    let found = resource_candidates(engine, &mut checker, relation, target, reader)?;
    let mut candidates: Vec<(Rc<str>, Id, Confirm)> = found
        .into_iter()
        .map(|(id, confirm)| (checker.id_name(id), id, confirm))
        .collect();
    candidates.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let after = page.cursor.as_deref();
    let remaining: Vec<_> = candidates
        .into_iter()
        .filter(|(name, _, _)| after.is_none_or(|cursor| &**name > cursor))
        .collect();
    // The candidates of this page are read now, together, where a store can
    // batch that.
    let namespace = engine.namespace_name(engine.relation_namespace(relation));
    let to_check: Vec<&str> = remaining
        .iter()
        .take(page.limit.saturating_add(1))
        .filter(|(_, _, confirm)| !matches!(confirm, Confirm::Certain))
        .map(|(name, _, _)| &**name)
        .collect();
    reader.prefetch(namespace, &to_check)?;
    let mut items: Vec<(String, Decision)> = Vec::new();
    let mut next_cursor = None;
    for (name, id, confirm) in &remaining {
        if items.len() == page.limit {
            next_cursor = Some(
                items
                    .last()
                    .map(|(id, _)| id.clone())
                    .unwrap_or_else(|| after.unwrap_or_default().to_owned()),
            );
            break;
        }
        let decision = match confirm {
            Confirm::Certain => Decision::Allowed,
            Confirm::Known(path) => checker.check_known(relation, *id, Some(path.clone()))?,
            Confirm::Check => checker.check_known(relation, *id, None)?,
        };
        let keep = match decision {
            Decision::Allowed => true,
            Decision::Conditional { .. } => conditional,
            Decision::Denied => false,
        };
        if keep {
            items.push((name.to_string(), decision));
        }
    }
    Ok(Page { items, next_cursor })
}

/// Every object whose `relation` may hold the target, with how to confirm
/// it. The walk follows the uses backward from the tuples that name the
/// target; a userset reached only through sufficient uses from those tuples
/// holds the target for certain, within its hops.
fn resource_candidates(
    engine: &Engine<'_>,
    checker: &mut Checker<'_, '_>,
    relation: RelationId,
    target: &Target,
    reader: &dyn Reader,
) -> Result<FxHashMap<Id, Confirm>, EngineError> {
    let schema = engine.schema;
    let max_depth = engine.options.max_depth;
    let graph = ReverseGraph::new(engine, relation);
    let mut queue: VecDeque<(RelationId, Id)> = VecDeque::new();
    let mut reached: FxHashMap<(RelationId, Id), Reach> = FxHashMap::default();
    let mut candidates: FxHashMap<Id, Confirm> = FxHashMap::default();

    // Records that `node` is reached as `how`; queues it when that is news
    // (first reached, or now for certain).
    let reach = |reached: &mut FxHashMap<(RelationId, Id), Reach>,
                 queue: &mut VecDeque<(RelationId, Id)>,
                 node: (RelationId, Id),
                 how: Reach| {
        if !graph.relevant.contains(&node.0) {
            return;
        }
        let news = match reached.get(&node) {
            None => true,
            Some(old) => how.certain && !old.certain,
        };
        if news {
            reached.insert(node, how);
            queue.push_back(node);
        }
    };
    let offer = |candidates: &mut FxHashMap<Id, Confirm>, id: Id, confirm: Confirm| {
        let slot = candidates.entry(id).or_insert(Confirm::Check);
        if confirm.rank() > slot.rank() {
            *slot = confirm;
        }
    };

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
    // Tuples with a condition or an expiry seed too, never for certain:
    // their checks decide.
    let maybe = Reach {
        certain: false,
        hops: 0,
    };
    for (ty, subject) in exact.into_iter().chain(wildcard) {
        for (index, rel) in schema.relations.iter().enumerate() {
            let this = RelationId(index as u32);
            if !graph.relevant.contains(&this) {
                continue;
            }
            if rel.allowed().contains(&ty) {
                let seed = Reach {
                    certain: graph.tuples_suffice(this),
                    hops: 0,
                };
                reader.for_each_object_with_subject(
                    engine.namespace_name(rel.namespace),
                    &rel.name,
                    &subject,
                    &mut |id| {
                        let id = checker.intern(id);
                        reach(&mut reached, &mut queue, (this, id), seed);
                    },
                )?;
            }
            if rel.traited().iter().any(|t| t.base == ty) {
                reader.for_each_attributed_with_subject(
                    engine.namespace_name(rel.namespace),
                    &rel.name,
                    &subject,
                    &mut |tuple| {
                        let id = checker.intern(&tuple.object.id);
                        reach(&mut reached, &mut queue, (this, id), maybe);
                    },
                )?;
            }
        }
    }
    // Seeds: the subject's own object, in sets that hold it through `self`.
    if let Target::Object {
        namespace,
        subject: Subject::Object(object),
    } = target
    {
        for (index, rel) in schema.relations.iter().enumerate() {
            let this = RelationId(index as u32);
            let Some(rewrite) = rel.rewrite() else {
                continue;
            };
            if rel.namespace != *namespace
                || !graph.relevant.contains(&this)
                || !mentions_self(rewrite)
            {
                continue;
            }
            let seed = Reach {
                certain: self_sufficient(rewrite),
                hops: 0,
            };
            let id = checker.intern(&object.id);
            reach(&mut reached, &mut queue, (this, id), seed);
        }
    }

    let mut watch = Watch::current();
    while let Some(node) = queue.pop_front() {
        watch.tick()?;
        let (this, id) = node;
        let Some(&here) = reached.get(&node) else {
            continue;
        };
        let within = |hops: u32| here.certain && hops <= max_depth;
        if this == relation {
            let confirm = if within(here.hops) {
                Confirm::Certain
            } else {
                Confirm::Check
            };
            offer(&mut candidates, id, confirm);
        }
        let Some(uses) = graph.uses.get(&this) else {
            continue;
        };
        let name = checker.id_name(id);
        let object = Object::new(
            engine.namespace_name(engine.relation_namespace(this)),
            &*name,
        );
        for used in uses {
            match used {
                Use::Computed { permission, branch } => {
                    let next = Reach {
                        certain: here.certain && branch.sufficient,
                        hops: here.hops,
                    };
                    if *permission == relation && within(here.hops) && branch.holds {
                        offer(&mut candidates, id, Confirm::Known(branch.path.clone()));
                    }
                    reach(&mut reached, &mut queue, (*permission, id), next);
                }
                Use::SubjectSet { relation: user } => {
                    let Some(rel) = schema.relation(*user) else {
                        continue;
                    };
                    let subject = Subject::Set {
                        object: object.clone(),
                        relation: engine.relation_name(this).to_owned(),
                    };
                    let next = Reach {
                        certain: here.certain && graph.tuples_suffice(*user),
                        hops: here.hops + 1,
                    };
                    reader.for_each_object_with_subject(
                        engine.namespace_name(rel.namespace),
                        &rel.name,
                        &subject,
                        &mut |holder| {
                            let holder = checker.intern(holder);
                            reach(&mut reached, &mut queue, (*user, holder), next);
                        },
                    )?;
                    if !rel.traited().is_empty() {
                        let next = Reach {
                            certain: false,
                            hops: here.hops + 1,
                        };
                        reader.for_each_attributed_with_subject(
                            engine.namespace_name(rel.namespace),
                            &rel.name,
                            &subject,
                            &mut |tuple| {
                                let holder = checker.intern(&tuple.object.id);
                                reach(&mut reached, &mut queue, (*user, holder), next);
                            },
                        )?;
                    }
                }
                Use::Arrow {
                    permission,
                    tupleset,
                    branch,
                } => {
                    let Some(rel) = schema.relation(*tupleset) else {
                        continue;
                    };
                    let next = Reach {
                        certain: here.certain && branch.sufficient,
                        hops: here.hops + 1,
                    };
                    let known = *permission == relation && within(here.hops + 1) && branch.holds;
                    reader.for_each_object_with_subject(
                        engine.namespace_name(rel.namespace),
                        &rel.name,
                        &Subject::Object(object.clone()),
                        &mut |holder| {
                            let holder = checker.intern(holder);
                            if known {
                                offer(&mut candidates, holder, Confirm::Known(branch.path.clone()));
                            }
                            reach(&mut reached, &mut queue, (*permission, holder), next);
                        },
                    )?;
                    if !rel.traited().is_empty() {
                        let next = Reach {
                            certain: false,
                            hops: here.hops + 1,
                        };
                        reader.for_each_attributed_with_subject(
                            engine.namespace_name(rel.namespace),
                            &rel.name,
                            &Subject::Object(object.clone()),
                            &mut |tuple| {
                                let holder = checker.intern(&tuple.object.id);
                                reach(&mut reached, &mut queue, (*permission, holder), next);
                            },
                        )?;
                    }
                }
            }
        }
    }
    Ok(candidates)
}
