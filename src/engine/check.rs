//! Check: top-down evaluation of the least fixed point for one subject.
//!
//! A *goal* is one userset `object#relation`; the subject is fixed for the
//! whole request. Goals are evaluated depth first with a per-request memo.
//!
//! **Cycles.** Reaching a goal that is already being evaluated (on the
//! current path) answers "not derivable along this path". That is sound for
//! the root, but a `false` computed under such an assumption is only
//! provisional: it holds *given* that the goals it ran into are not derivable
//! without it. So every `false` carries the set of in-progress goals it
//! depended on (`deps`), and:
//!
//! - a `true` is always final (it is backed by a finite derivation);
//! - a `false` with no deps is final;
//! - a `false` with deps is memoised with them and reused only while each
//!   dep is still in progress, or has itself completed `false` (its own deps
//!   are then substituted); a dep that completed `true` voids the entry and
//!   the goal is evaluated again. This is what keeps dense cyclic group
//!   graphs linear instead of exponential, while never caching a wrong
//!   `false` (the naive "cycle means false" memo gets this wrong).
//!
//! A goal removes itself from its own deps when it completes, so the deps
//! returned to a caller are always goals on the caller's path.
//!
//! **Negation.** Schemas are stratified (docs/language.md, "Cycles"): the right side of
//! `-` never reaches a goal on the current path, so its result is always
//! final; a non-final one is reported as [`EngineError::NotStratified`].
//!
//! **Depth.** Each hop through a tuple (a subject set or an arrow) adds one
//! to the depth; computed names do not (they cannot loop: E0301). A goal
//! deeper than the limit is *unknown*, and unknown propagates with
//! three-valued logic (a union with a `true` branch is still `true`, an
//! intersection with a `false` branch still `false`). An unknown at the root
//! is [`EngineError::DepthExceeded`]: never a silent answer.
//!
//! The memo, the dependency sets and the evaluation of each operator rely
//! on each other's invariants, so they stay together here; the values and
//! their combination (`values`), the reads of stored relations
//! (`relation`, `attributed`) and the request's working memory (`scratch`)
//! are modules of their own.

mod attributed;
pub(crate) mod plain;
mod relation;
mod scratch;
mod values;

use super::ids::Ids;
use scratch::Scratch;
use values::{found, guarded, implied, join, Any, Val};

use std::collections::hash_map::Entry;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::explain::{Outcome, Step, TraceBuilder};
use super::interrupt::Watch;
use super::{Decision, Engine, EngineError, ExplainNode, Target};
use crate::condition::eval::Programs;
use crate::ir::{AllowedType, ArrowMode, NamespaceId, RelationId, RelationKind, Rewrite};
use crate::store::Reader;
use crate::tuple::{encode_id, Expiry, Object, Subject, Tuple};

/// Goals (indices into `Checker::goals`) a provisional `false` assumed
/// not derivable; sorted, without duplicates.
type Deps = Vec<usize>;

pub(crate) use super::ids::Id;

/// The objects of a tupleset (an arrow's `parent`), with their namespaces
/// and the guards of the tuples that name them.
type Objects = Rc<[(NamespaceId, Id, Guard)]>;

/// The parameters a conditional result is missing, sorted.
pub(crate) type Missing = Rc<BTreeSet<String>>;

/// What a tuple's condition makes of it for this request: `None` when it
/// holds unconditionally (no condition, or one that evaluated to true),
/// the missing parameters otherwise. Tuples whose condition evaluated to
/// false, and expired tuples, are left out before a guard is made.
pub(crate) type Guard = Option<Missing>;

#[derive(Clone, Debug)]
enum Memo {
    None,
    True,
    False(Deps),
    Cond(Missing),
}

struct Goal {
    relation: RelationId,
    id: Id,
    memo: Memo,
    in_progress: bool,
    /// What a visit of this goal while it is in progress answers: `false`
    /// at first, then the conditional result of the last round (see
    /// [`Checker::goal`]).
    assumed: Option<Missing>,
}

pub(crate) struct Checker<'e, 'a> {
    engine: &'e Engine<'a>,
    target: Target,
    /// The request's snapshot.
    reader: &'e dyn Reader,
    /// Whether `reader` wants [`Reader::will_visit`] hints (asked once: the
    /// hint costs allocations a store in memory has no use for).
    visit_hints: bool,
    ids: Ids,
    goals: Vec<Goal>,
    index: FxHashMap<(RelationId, Id), usize>,
    /// The object subjects of the tuplesets read so far (an arrow's
    /// `parent` is read by every permission that follows it).
    tuplesets: FxHashMap<(RelationId, Id), Objects>,
    /// The goals being evaluated, outermost first.
    path: Vec<usize>,
    trace: Option<TraceBuilder>,
    /// The most hops through tuples any goal of this question took (metrics).
    deepest: u32,
    /// A lookup's hint for the question being answered: on this object, the
    /// rewrite branch at the end of this path (addresses of the rewrite
    /// nodes from the permission's root down) is known to hold.
    known: Option<(Id, Rc<[usize]>)>,
    /// When to give up (the request's deadline or cancellation).
    watch: Watch,
    /// The read time: tuples expired at it are left out. Read from the
    /// clock at the first tuple with traits, not per check.
    now: Option<Expiry>,
    /// The schema's conditions, compiled, once the first is evaluated.
    programs: Option<Arc<Programs>>,
    /// The type of the last subject set and the namespace of the last
    /// object read: most are of one type, so a name is compared with it
    /// before it is looked up.
    last_set_type: Option<(NamespaceId, RelationId)>,
    last_object_namespace: Option<NamespaceId>,
    /// An object ID copied out of `ids` for a read whose callback interns
    /// (see [`Ids::name_into`]).
    buffer: String,
}

impl Drop for Checker<'_, '_> {
    fn drop(&mut self) {
        Scratch {
            ids: std::mem::take(&mut self.ids),
            goals: std::mem::take(&mut self.goals),
            index: std::mem::take(&mut self.index),
            tuplesets: std::mem::take(&mut self.tuplesets),
            path: std::mem::take(&mut self.path),
            buffer: std::mem::take(&mut self.buffer),
        }
        .give_back();
    }
}

/// The address of a rewrite node, which identifies it within the schema.
pub(crate) fn address(rewrite: &Rewrite) -> usize {
    std::ptr::from_ref(rewrite) as usize
}

impl<S: std::borrow::Borrow<Subject>> Target<S> {
    /// The target with a copy of its subject.
    pub(crate) fn owned(&self) -> Target {
        match self {
            Target::Object { namespace, subject } => Target::Object {
                namespace: *namespace,
                subject: subject.borrow().clone(),
            },
            Target::Set {
                namespace,
                relation,
                subject,
            } => Target::Set {
                namespace: *namespace,
                relation: *relation,
                subject: subject.borrow().clone(),
            },
            Target::Anonymous { namespace } => Target::Anonymous {
                namespace: *namespace,
            },
        }
    }

    /// The type a stored subject has when it is the target itself, and
    /// the target.
    fn direct(&self) -> Option<(AllowedType, &Subject)> {
        match self {
            Target::Object { namespace, subject } => Some((
                AllowedType::Object {
                    namespace: *namespace,
                },
                subject.borrow(),
            )),
            Target::Set {
                namespace,
                relation,
                subject,
            } => Some((
                AllowedType::SubjectSet {
                    namespace: *namespace,
                    relation: *relation,
                },
                subject.borrow(),
            )),
            Target::Anonymous { .. } => None,
        }
    }

    /// The namespace whose wildcard holds the target.
    fn wildcard(&self) -> Option<NamespaceId> {
        match self {
            Target::Object { namespace, .. } | Target::Anonymous { namespace } => Some(*namespace),
            Target::Set { .. } => None,
        }
    }
}

impl<'e, 'a> Checker<'e, 'a> {
    pub(crate) fn new(
        engine: &'e Engine<'a>,
        target: Target,
        reader: &'e dyn Reader,
        trace: bool,
    ) -> Self {
        let Scratch {
            ids,
            goals,
            index,
            tuplesets,
            path,
            buffer,
        } = Scratch::take();
        Checker {
            engine,
            target,
            reader,
            visit_hints: reader.wants_visit_hints(),
            ids,
            goals,
            index,
            tuplesets,
            path,
            buffer,
            trace: trace.then(TraceBuilder::default),
            deepest: 0,
            known: None,
            watch: Watch::current(),
            now: None,
            programs: None,
            last_set_type: None,
            last_object_namespace: None,
        }
    }

    /// The request's number for an object ID.
    pub(crate) fn intern(&mut self, id: &str) -> Id {
        self.ids.intern(id)
    }

    /// [`Checker::check_root`] for an interned ID, knowing (from a lookup's
    /// walk) that the branch at the end of `known` holds for it: that branch
    /// is taken as `true` without being evaluated, and a union tries the
    /// child that leads to it first. The caller vouches for the branch: it
    /// has a derivation within the depth limit.
    pub(crate) fn check_known(
        &mut self,
        relation: RelationId,
        id: Id,
        known: Option<Rc<[usize]>>,
    ) -> Result<Decision, EngineError> {
        self.known = known.map(|path| (id, path));
        let val = self.goal(relation, id, 0, false);
        self.known = None;
        val?.decision(self.engine.options.max_depth)
    }

    /// The known branch, when evaluating object `id`.
    fn known_on(&self, id: Id) -> Option<&[usize]> {
        match &self.known {
            Some((known, path)) if *known == id => Some(path),
            _ => None,
        }
    }

    /// The most hops through tuples any goal of this question took.
    pub(crate) fn deepest(&self) -> u32 {
        self.deepest
    }

    /// Answers the question for `id#relation`. A checker may answer several
    /// questions about its target in turn: what it learnt stays valid (the
    /// target and the revision are fixed), so a lookup confirms each
    /// candidate with one checker.
    pub(crate) fn check_root(
        &mut self,
        relation: RelationId,
        id: &str,
    ) -> Result<Decision, EngineError> {
        let id = self.ids.intern(id);
        self.goal(relation, id, 0, false)?
            .decision(self.engine.options.max_depth)
    }

    pub(crate) fn take_trace(&mut self) -> Option<ExplainNode> {
        self.trace.take().and_then(TraceBuilder::finish)
    }

    fn open(&mut self, step: impl FnOnce(&Engine<'a>) -> Step) {
        if let Some(trace) = &mut self.trace {
            trace.open(step(self.engine));
        }
    }

    fn close(&mut self, val: &Val) {
        if let Some(trace) = &mut self.trace {
            trace.close(val.outcome());
        }
    }

    fn leaf(&mut self, step: impl FnOnce(&Engine<'a>) -> Step, outcome: Outcome) {
        if let Some(trace) = &mut self.trace {
            trace.open(step(self.engine));
            trace.close(outcome);
        }
    }

    fn userset(&self, relation: RelationId, id: Id) -> String {
        self.engine.userset(relation, self.ids.name(id))
    }

    /// The goal of `id#relation`, created on its first sight (one hash
    /// either way).
    fn goal_index(&mut self, relation: RelationId, id: Id) -> usize {
        let next = self.goals.len();
        match self.index.entry((relation, id)) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                entry.insert(next);
                self.goals.push(Goal {
                    relation,
                    id,
                    memo: Memo::None,
                    in_progress: false,
                    assumed: None,
                });
                next
            }
        }
    }

    fn goal_mut(&mut self, g: usize) -> Option<&mut Goal> {
        self.goals.get_mut(g)
    }

    /// The deps of a memoised `false`, brought up to date: each dep still in
    /// progress stays; one that completed `false` is replaced by its own
    /// deps; one that completed otherwise voids the entry (`None`).
    fn revalidate(&self, deps: &[usize]) -> Option<Deps> {
        let mut out = Vec::new();
        let mut seen = FxHashSet::default();
        let mut work: Vec<usize> = deps.to_vec();
        while let Some(d) = work.pop() {
            if !seen.insert(d) {
                continue;
            }
            let goal = self.goals.get(d)?;
            if goal.in_progress {
                out.push(d);
                continue;
            }
            match &goal.memo {
                Memo::False(more) => work.extend_from_slice(more),
                Memo::True | Memo::Cond(_) | Memo::None => return None,
            }
        }
        out.sort_unstable();
        Some(out)
    }

    fn path_strings(&self, last: String) -> Vec<String> {
        let mut path: Vec<String> = self
            .path
            .iter()
            .filter_map(|&g| self.goals.get(g))
            .map(|g| self.userset(g.relation, g.id))
            .collect();
        path.push(last);
        path
    }

    /// Whether the subject is in `id#relation`. `in_permission`: this goal is
    /// part of a permission of the same object (a store hint, see
    /// [`Probe::whole_object`]).
    fn goal(
        &mut self,
        relation: RelationId,
        id: Id,
        depth: u32,
        in_permission: bool,
    ) -> Result<Val, EngineError> {
        self.watch.tick()?;
        self.deepest = self.deepest.max(depth);
        if depth > self.engine.options.max_depth {
            let path = self.path_strings(self.userset(relation, id));
            if self.trace.is_some() {
                let userset = self.userset(relation, id);
                self.leaf(|_| Step::DepthLimit { userset }, Outcome::Unknown);
            }
            return Ok(Val::Unknown(path));
        }
        let g = self.goal_index(relation, id);
        // What the goal already knows, copied out only where it is not
        // plain data (a memoised `false` with deps is rare).
        let known = match self.goals.get(g) {
            Some(goal) if goal.in_progress => Some(match &goal.assumed {
                Some(missing) => Val::Cond(missing.clone(), vec![g]),
                None => Val::False(vec![g]),
            }),
            Some(goal) => match &goal.memo {
                Memo::True => Some(Val::True),
                Memo::Cond(missing) => Some(Val::Cond(missing.clone(), Vec::new())),
                Memo::False(deps) if deps.is_empty() => Some(Val::False(Vec::new())),
                Memo::False(deps) => {
                    let deps = deps.clone();
                    return self.memoised_false(g, deps, (relation, id), depth, in_permission);
                }
                Memo::None => None,
            },
            None => None,
        };
        if let Some(val) = known {
            if self.trace.is_some() {
                let userset = self.userset(relation, id);
                let cycle = self.goals.get(g).is_some_and(|goal| goal.in_progress);
                if cycle {
                    self.leaf(|_| Step::Cycle { userset }, val.outcome());
                } else {
                    self.leaf(|_| Step::Memo { userset }, val.outcome());
                }
            }
            return Ok(val);
        }
        self.evaluate_goal(g, relation, id, depth, in_permission)
    }

    /// A memoised `false` that leaned on goals then in progress: still
    /// `false` if they have not completed otherwise since, else evaluated
    /// afresh.
    #[cold]
    fn memoised_false(
        &mut self,
        g: usize,
        deps: Deps,
        (relation, id): (RelationId, Id),
        depth: u32,
        in_permission: bool,
    ) -> Result<Val, EngineError> {
        if let Some(deps) = self.revalidate(&deps) {
            if self.trace.is_some() {
                let userset = self.userset(relation, id);
                self.leaf(|_| Step::Memo { userset }, Outcome::Denied);
            }
            if let Some(goal) = self.goal_mut(g) {
                goal.memo = Memo::False(deps.clone());
            }
            return Ok(Val::False(deps));
        }
        self.evaluate_goal(g, relation, id, depth, in_permission)
    }

    /// Evaluates goal `g` (`id#relation`), not in progress and not
    /// memoised, and memoises what it can. Inlined into `goal`: as a call
    /// of its own it costs every goal a prologue.
    #[inline(always)]
    fn evaluate_goal(
        &mut self,
        g: usize,
        relation: RelationId,
        id: Id,
        depth: u32,
        in_permission: bool,
    ) -> Result<Val, EngineError> {
        if let Some(goal) = self.goal_mut(g) {
            goal.in_progress = true;
            goal.assumed = None;
        }
        self.path.push(g);
        // A conditional result that leaned on this very goal (a cycle in
        // the data through a conditional tuple) was computed assuming the
        // goal `false`; it is evaluated again assuming that result, until
        // the missing parameters stop growing: the least fixed point, as
        // for plain relations. Plain data never takes a second round.
        let result = loop {
            let result = super::grow_stack(|| self.evaluate(relation, id, depth, in_permission));
            let grown = match &result {
                Ok(Val::Cond(missing, deps)) if deps.contains(&g) => {
                    let assumed = self.goals.get(g).and_then(|goal| goal.assumed.clone());
                    (assumed.as_ref() != Some(missing)).then(|| missing.clone())
                }
                _ => None,
            };
            let Some(missing) = grown else {
                break result;
            };
            if let Some(goal) = self.goal_mut(g) {
                goal.assumed = Some(missing);
            }
            // `false`s computed under the old assumption may not hold now.
            for goal in &mut self.goals {
                if matches!(&goal.memo, Memo::False(deps) if !deps.is_empty()) {
                    goal.memo = Memo::None;
                }
            }
        };
        self.path.pop();
        let goal = self.goal_mut(g);
        let val = match result {
            Ok(val) => val,
            Err(e) => {
                if let Some(goal) = goal {
                    goal.in_progress = false;
                    goal.assumed = None;
                }
                return Err(e);
            }
        };
        let val = match val {
            Val::False(mut deps) => {
                deps.retain(|&d| d != g);
                Val::False(deps)
            }
            Val::Cond(missing, mut deps) => {
                deps.retain(|&d| d != g);
                Val::Cond(missing, deps)
            }
            other => other,
        };
        if let Some(goal) = goal {
            goal.in_progress = false;
            goal.assumed = None;
            goal.memo = match &val {
                Val::True => Memo::True,
                // (An empty list is the usual case, and needs no call.)
                Val::False(deps) if deps.is_empty() => Memo::False(Vec::new()),
                Val::False(deps) => Memo::False(deps.clone()),
                Val::Cond(missing, deps) if deps.is_empty() => Memo::Cond(missing.clone()),
                Val::Cond(..) | Val::Unknown(_) => Memo::None,
            };
        }
        Ok(val)
    }

    fn evaluate(
        &mut self,
        relation: RelationId,
        id: Id,
        depth: u32,
        in_permission: bool,
    ) -> Result<Val, EngineError> {
        let schema = self.engine.schema;
        let Some(rel) = schema.relation(relation) else {
            return Ok(Val::False(Vec::new()));
        };
        match &rel.kind {
            RelationKind::Relation { rewrite: None, .. } => {
                if self.trace.is_some() {
                    let userset = self.userset(relation, id);
                    self.open(|_| Step::Relation { userset });
                }
                let val = self.relation(relation, id, rel, depth, in_permission);
                if let Ok(val) = &val {
                    self.close(val);
                }
                val
            }
            RelationKind::Relation {
                rewrite: Some(rewrite),
                ..
            }
            | RelationKind::Permission { rewrite } => {
                if self.trace.is_some() {
                    let userset = self.userset(relation, id);
                    self.open(|_| Step::Permission { userset });
                }
                let val = self.rewrite(rewrite, id, depth);
                if let Ok(val) = &val {
                    self.close(val);
                }
                val
            }
        }
    }

    /// `id#relation@subject` in the notation, for traces.
    fn tuple_text(&self, relation: RelationId, id: Id, subject: Subject) -> String {
        let engine = self.engine;
        Tuple::new(
            Object::new(
                engine.namespace_name(engine.relation_namespace(relation)),
                self.ids.name(id),
            ),
            engine.relation_name(relation),
            subject,
        )
        .to_string()
    }

    fn rewrite(&mut self, rewrite: &Rewrite, id: Id, depth: u32) -> Result<Val, EngineError> {
        let mut first = None;
        if let Some(path) = self.known_on(id) {
            if path.last() == Some(&address(rewrite)) {
                return Ok(Val::True);
            }
            if let Rewrite::Union { children } = rewrite {
                first = children.iter().position(|c| path.contains(&address(c)));
            }
        }
        match rewrite {
            Rewrite::Computed { relation } => self.goal(*relation, id, depth, true),
            Rewrite::Nil => Ok(Val::False(Vec::new())),
            // The object itself: the subject is `ns:id` of this very object.
            Rewrite::SelfObject => {
                let engine = self.engine;
                let owner = self
                    .path
                    .last()
                    .and_then(|&g| self.goals.get(g))
                    .map(|g| engine.relation_namespace(g.relation));
                let holds = match (&self.target, owner) {
                    (
                        Target::Object {
                            namespace,
                            subject: Subject::Object(object),
                        },
                        Some(owner),
                    ) => *namespace == owner && *object.id == *self.ids.name(id),
                    _ => false,
                };
                if self.trace.is_some() {
                    let userset = owner.map_or(String::new(), |ns| {
                        format!(
                            "{}:{}",
                            engine.namespace_name(ns),
                            encode_id(self.ids.name(id))
                        )
                    });
                    self.leaf(|_| Step::SelfObject { object: userset }, found(holds));
                }
                Ok(if holds {
                    Val::True
                } else {
                    Val::False(Vec::new())
                })
            }
            // The relation whose rewrite this is: the goal being evaluated.
            Rewrite::This => {
                let engine = self.engine;
                let relation = self
                    .path
                    .last()
                    .and_then(|&g| self.goals.get(g))
                    .map(|g| g.relation);
                let Some((relation, rel)) =
                    relation.and_then(|r| Some((r, engine.schema.relation(r)?)))
                else {
                    return Ok(Val::False(Vec::new()));
                };
                if self.trace.is_some() {
                    let userset = self.userset(relation, id);
                    self.open(|_| Step::Relation { userset });
                }
                let val = self.relation(relation, id, rel, depth, true);
                if let Ok(val) = &val {
                    self.close(val);
                }
                val
            }
            Rewrite::Union { children } => {
                self.open(|_| Step::Union);
                let mut any = Any::new();
                // The child on the way to a known branch first; the order of
                // a union's children changes no answer.
                let ordered = first.and_then(|i| children.get(i)).into_iter().chain(
                    children
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| Some(i) != first)
                        .map(|(_, c)| c),
                );
                for child in ordered {
                    let val = self.rewrite(child, id, depth)?;
                    if matches!(val, Val::True) {
                        self.close(&Val::True);
                        return Ok(Val::True);
                    }
                    any.add(val);
                }
                let val = any.finish();
                self.close(&val);
                Ok(val)
            }
            Rewrite::Intersection { children } => {
                self.open(|_| Step::Intersection);
                let mut all = Any::new();
                for child in children {
                    match self.rewrite(child, id, depth)? {
                        Val::False(deps) => {
                            let val = Val::False(deps);
                            self.close(&val);
                            return Ok(val);
                        }
                        other => all.add_all(other),
                    }
                }
                let val = all.finish_all();
                self.close(&val);
                Ok(val)
            }
            Rewrite::Exclusion { base, subtract } => {
                self.open(|_| Step::Exclusion);
                let base_val = self.rewrite(base, id, depth)?;
                if let Val::False(deps) = base_val {
                    let val = Val::False(deps);
                    self.close(&val);
                    return Ok(val);
                }
                self.open(|_| Step::Subtract);
                let sub = self.rewrite(subtract, id, depth)?;
                self.close(&sub);
                let val = match sub {
                    Val::True => Val::False(Vec::new()),
                    Val::False(deps) | Val::Cond(_, deps) if !deps.is_empty() => {
                        let names = deps
                            .iter()
                            .filter_map(|&d| self.goals.get(d))
                            .map(|g| self.userset(g.relation, g.id))
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(EngineError::NotStratified(names));
                    }
                    // The base was not `false`: it is `true`, conditional
                    // or unknown.
                    Val::False(_) => base_val,
                    // Excluded or not depending on the missing parameters:
                    // never allowed.
                    Val::Cond(missing, _) => match base_val {
                        Val::True => Val::Cond(missing, Vec::new()),
                        Val::Cond(base_missing, deps) => {
                            Val::Cond(join(&base_missing, &missing), deps)
                        }
                        other => other,
                    },
                    Val::Unknown(path) => match base_val {
                        Val::Unknown(base_path) => Val::Unknown(base_path),
                        _ => Val::Unknown(path),
                    },
                };
                self.close(&val);
                Ok(val)
            }
            Rewrite::Arrow {
                tupleset,
                target_name,
                targets,
                mode,
            } => {
                let engine = self.engine;
                self.open(|e| Step::Arrow {
                    tupleset: e.relation_name(*tupleset).to_owned(),
                    target: target_name.clone(),
                    mode: *mode,
                });
                let objects = self.tupleset(*tupleset, id)?;
                let all = *mode == ArrowMode::All;
                if all && objects.is_empty() {
                    if self.trace.is_some() {
                        let tupleset = self.userset(*tupleset, id);
                        self.leaf(|_| Step::EmptyTupleset { tupleset }, Outcome::Denied);
                    }
                    let val = Val::False(Vec::new());
                    self.close(&val);
                    return Ok(val);
                }
                // `t->p`: the union of the hops. `t.all(p)` is `t->p` too
                // (some tuple that holds leads to a member: the tupleset is
                // not empty) and, for every hop, its tuple implies its
                // target: the intersection `every`.
                let mut any = Any::new();
                let mut every = Any::new();
                let mut some_hop_allowed = false;
                for (ns, x, guard) in objects.iter() {
                    let (ns, x) = (*ns, *x);
                    let via = |this: &Self| {
                        this.tuple_text(
                            *tupleset,
                            id,
                            Subject::object(engine.namespace_name(ns), this.ids.name(x)),
                        )
                    };
                    let Some(target) = targets.iter().find(|t| t.namespace == ns) else {
                        let hop = if all {
                            implied(guard, Val::False(Vec::new()))
                        } else {
                            Val::False(Vec::new())
                        };
                        if self.trace.is_some() {
                            let tuple = via(self);
                            let object = format!(
                                "{}:{}",
                                engine.namespace_name(ns),
                                encode_id(self.ids.name(x))
                            );
                            self.leaf(
                                |_| Step::MissingTarget {
                                    tuple,
                                    object,
                                    target: target_name.clone(),
                                },
                                hop.outcome(),
                            );
                        }
                        if all {
                            if let Val::False(deps) = hop {
                                let val = Val::False(deps);
                                self.close(&val);
                                return Ok(val);
                            }
                            every.add_all(hop);
                        }
                        continue;
                    };
                    if self.trace.is_some() {
                        let tuple = via(self);
                        self.open(|_| Step::ArrowBranch { tuple });
                    }
                    let val = self.goal(target.relation, x, depth + 1, false)?;
                    if !all {
                        let hop = guarded(guard, val);
                        self.close(&hop);
                        if matches!(hop, Val::True) {
                            self.close(&Val::True);
                            return Ok(Val::True);
                        }
                        any.add(hop);
                        continue;
                    }
                    let hop = guarded(guard, val.clone());
                    let implication = implied(guard, val);
                    self.close(&implication);
                    if let Val::False(deps) = implication {
                        let val = Val::False(deps);
                        self.close(&val);
                        return Ok(val);
                    }
                    every.add_all(implication);
                    if matches!(hop, Val::True) {
                        some_hop_allowed = true;
                    } else {
                        any.add(hop);
                    }
                }
                if !all {
                    let val = any.finish();
                    self.close(&val);
                    return Ok(val);
                }
                if !some_hop_allowed {
                    // Only when a tuple with a pending condition is met can
                    // `t->p` decide more than the hops did (an unknown hop
                    // is unknown in `every` already).
                    let some_hop = any.finish();
                    if self.trace.is_some() && !matches!(some_hop, Val::Unknown(_)) {
                        let tupleset = self.userset(*tupleset, id);
                        let target = target_name.clone();
                        self.leaf(|_| Step::SomeHop { tupleset, target }, some_hop.outcome());
                    }
                    if let Val::False(deps) = some_hop {
                        let val = Val::False(deps);
                        self.close(&val);
                        return Ok(val);
                    }
                    every.add_all(some_hop);
                }
                let val = every.finish_all();
                self.close(&val);
                Ok(val)
            }
        }
    }
}
