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
//! **Negation.** Schemas are stratified (LANGUAGE.md §5): the right side of
//! `-` never reaches a goal on the current path, so its result is always
//! final; a non-final one is reported as [`EngineError::NotStratified`].
//!
//! **Depth.** Each hop through a tuple (a subject set or an arrow) adds one
//! to the depth; computed names do not (they cannot loop: E0301). A goal
//! deeper than the limit is *unknown*, and unknown propagates with
//! three-valued logic (a union with a `true` branch is still `true`, an
//! intersection with a `false` branch still `false`). An unknown at the root
//! is [`EngineError::DepthExceeded`]: never a silent answer.

use std::collections::{HashMap, HashSet};

use super::explain::{Outcome, Step, TraceBuilder};
use super::{Engine, EngineError, ExplainNode, Target};
use crate::ir::{AllowedType, ArrowMode, RelationId, RelationKind, Rewrite};
use crate::store::Revision;
use crate::tuple::{encode_id, Object, Subject, Tuple};

/// Goals (indices into `Checker::goals`) a provisional `false` assumed
/// not derivable; sorted, without duplicates.
type Deps = Vec<usize>;

/// A three-valued result.
#[derive(Clone, Debug)]
enum Val {
    True,
    False(Deps),
    /// Too deep to tell; the path of usersets that went too deep.
    Unknown(Vec<String>),
}

#[derive(Clone, Debug)]
enum Memo {
    None,
    True,
    False(Deps),
}

struct Goal {
    relation: RelationId,
    id: String,
    memo: Memo,
    in_progress: bool,
}

pub(crate) struct Checker<'e, 'a> {
    engine: &'e Engine<'a>,
    target: Target,
    at: Revision,
    goals: Vec<Goal>,
    index: HashMap<(RelationId, String), usize>,
    /// The goals being evaluated, outermost first.
    path: Vec<usize>,
    trace: Option<TraceBuilder>,
    /// The deepest hop reached so far.
    deepest: u32,
}

fn merge(into: &mut Deps, from: &[usize]) {
    if from.is_empty() {
        return;
    }
    into.extend_from_slice(from);
    into.sort_unstable();
    into.dedup();
}

/// Accumulates a union: `true` wins, then unknown, then `false`.
struct Any {
    deps: Deps,
    unknown: Option<Vec<String>>,
}

impl Any {
    fn new() -> Any {
        Any {
            deps: Vec::new(),
            unknown: None,
        }
    }

    /// Adds a non-true branch.
    fn add(&mut self, val: Val) {
        match val {
            Val::True => {}
            Val::False(deps) => merge(&mut self.deps, &deps),
            Val::Unknown(path) => {
                self.unknown.get_or_insert(path);
            }
        }
    }

    fn finish(self) -> Val {
        match self.unknown {
            Some(path) => Val::Unknown(path),
            None => Val::False(self.deps),
        }
    }
}

impl Val {
    fn outcome(&self) -> Outcome {
        match self {
            Val::True => Outcome::Granted,
            Val::False(_) => Outcome::Denied,
            Val::Unknown(_) => Outcome::Unknown,
        }
    }
}

impl<'e, 'a> Checker<'e, 'a> {
    pub(crate) fn new(engine: &'e Engine<'a>, target: Target, at: Revision, trace: bool) -> Self {
        Checker {
            engine,
            target,
            at,
            goals: Vec::new(),
            index: HashMap::new(),
            path: Vec::new(),
            trace: trace.then(TraceBuilder::default),
            deepest: 0,
        }
    }

    /// The most hops through tuples any goal of this question took.
    pub(crate) fn deepest(&self) -> u32 {
        self.deepest
    }

    /// Answers the question for `id#relation`.
    pub(crate) fn check_root(
        &mut self,
        relation: RelationId,
        id: &str,
    ) -> Result<bool, EngineError> {
        match self.goal(relation, id, 0)? {
            Val::True => Ok(true),
            Val::False(_) => Ok(false),
            Val::Unknown(path) => Err(EngineError::DepthExceeded {
                max_depth: self.engine.options.max_depth,
                path,
            }),
        }
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

    fn intern(&mut self, relation: RelationId, id: &str) -> usize {
        if let Some(&g) = self.index.get(&(relation, id.to_owned())) {
            return g;
        }
        let g = self.goals.len();
        self.goals.push(Goal {
            relation,
            id: id.to_owned(),
            memo: Memo::None,
            in_progress: false,
        });
        self.index.insert((relation, id.to_owned()), g);
        g
    }

    fn goal_mut(&mut self, g: usize) -> Option<&mut Goal> {
        self.goals.get_mut(g)
    }

    /// The deps of a memoised `false`, brought up to date: each dep still in
    /// progress stays; one that completed `false` is replaced by its own
    /// deps; one that completed otherwise voids the entry (`None`).
    fn revalidate(&self, deps: &[usize]) -> Option<Deps> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
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
                Memo::True | Memo::None => return None,
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
            .map(|g| self.engine.userset(g.relation, &g.id))
            .collect();
        path.push(last);
        path
    }

    /// Whether the subject is in `id#relation`.
    fn goal(&mut self, relation: RelationId, id: &str, depth: u32) -> Result<Val, EngineError> {
        self.deepest = self.deepest.max(depth);
        if depth > self.engine.options.max_depth {
            let path = self.path_strings(self.engine.userset(relation, id));
            self.leaf(
                |e| Step::DepthLimit {
                    userset: e.userset(relation, id),
                },
                Outcome::Unknown,
            );
            return Ok(Val::Unknown(path));
        }
        let g = self.intern(relation, id);
        let (in_progress, memo) = match self.goals.get(g) {
            Some(goal) => (goal.in_progress, goal.memo.clone()),
            None => (false, Memo::None),
        };
        if in_progress {
            self.leaf(
                |e| Step::Cycle {
                    userset: e.userset(relation, id),
                },
                Outcome::Denied,
            );
            return Ok(Val::False(vec![g]));
        }
        match memo {
            Memo::True => {
                self.leaf(
                    |e| Step::Memo {
                        userset: e.userset(relation, id),
                    },
                    Outcome::Granted,
                );
                return Ok(Val::True);
            }
            Memo::False(deps) => {
                if let Some(deps) = self.revalidate(&deps) {
                    self.leaf(
                        |e| Step::Memo {
                            userset: e.userset(relation, id),
                        },
                        Outcome::Denied,
                    );
                    if let Some(goal) = self.goal_mut(g) {
                        goal.memo = Memo::False(deps.clone());
                    }
                    return Ok(Val::False(deps));
                }
            }
            Memo::None => {}
        }

        if let Some(goal) = self.goal_mut(g) {
            goal.in_progress = true;
        }
        self.path.push(g);
        let result = super::grow_stack(|| self.evaluate(relation, id, depth));
        self.path.pop();
        let goal = self.goal_mut(g);
        let val = match result {
            Ok(val) => val,
            Err(e) => {
                if let Some(goal) = goal {
                    goal.in_progress = false;
                }
                return Err(e);
            }
        };
        let val = match val {
            Val::False(mut deps) => {
                deps.retain(|&d| d != g);
                Val::False(deps)
            }
            other => other,
        };
        if let Some(goal) = goal {
            goal.in_progress = false;
            goal.memo = match &val {
                Val::True => Memo::True,
                Val::False(deps) => Memo::False(deps.clone()),
                Val::Unknown(_) => Memo::None,
            };
        }
        Ok(val)
    }

    fn evaluate(&mut self, relation: RelationId, id: &str, depth: u32) -> Result<Val, EngineError> {
        let schema = self.engine.schema;
        let Some(rel) = schema.relation(relation) else {
            return Ok(Val::False(Vec::new()));
        };
        match &rel.kind {
            RelationKind::Relation { types } => {
                self.open(|e| Step::Relation {
                    userset: e.userset(relation, id),
                });
                let val = self.relation(relation, id, types, depth);
                if let Ok(val) = &val {
                    self.close(val);
                }
                val
            }
            RelationKind::Permission { rewrite } => {
                self.open(|e| Step::Permission {
                    userset: e.userset(relation, id),
                });
                let val = self.rewrite(rewrite, id, depth);
                if let Ok(val) = &val {
                    self.close(val);
                }
                val
            }
        }
    }

    /// A stored relation: a direct tuple, a wildcard, or a subject set that
    /// holds the subject.
    fn relation(
        &mut self,
        relation: RelationId,
        id: &str,
        types: &[AllowedType],
        depth: u32,
    ) -> Result<Val, EngineError> {
        let engine = self.engine;
        let object = Object::new(
            engine.namespace_name(engine.relation_namespace(relation)),
            id,
        );
        let name = engine.relation_name(relation);
        let target = self.target.clone();
        let (direct, wildcard) = match &target {
            Target::Object { namespace, subject } => (
                types
                    .contains(&AllowedType::Object {
                        namespace: *namespace,
                    })
                    .then_some(subject.clone()),
                types
                    .contains(&AllowedType::Wildcard {
                        namespace: *namespace,
                    })
                    .then(|| Subject::wildcard(engine.namespace_name(*namespace))),
            ),
            Target::Set {
                namespace,
                relation,
                subject,
            } => (
                types
                    .contains(&AllowedType::SubjectSet {
                        namespace: *namespace,
                        relation: *relation,
                    })
                    .then_some(subject.clone()),
                None,
            ),
            Target::Anonymous { namespace } => (
                None,
                types
                    .contains(&AllowedType::Wildcard {
                        namespace: *namespace,
                    })
                    .then(|| Subject::wildcard(engine.namespace_name(*namespace))),
            ),
        };
        for (subject, is_wildcard) in [(direct, false), (wildcard, true)] {
            let Some(subject) = subject else { continue };
            let tuple = Tuple::new(object.clone(), name, subject);
            let found = engine.store.contains(&tuple, self.at)?;
            let outcome = if found {
                Outcome::Granted
            } else {
                Outcome::Denied
            };
            self.leaf(
                |_| {
                    let tuple = tuple.to_string();
                    if is_wildcard {
                        Step::Wildcard { tuple }
                    } else {
                        Step::Tuple { tuple }
                    }
                },
                outcome,
            );
            if found {
                return Ok(Val::True);
            }
        }
        let mut any = Any::new();
        for (subject, set_relation, set_id) in engine.subject_sets(relation, id, self.at)? {
            self.open(|_| Step::SubjectSet {
                tuple: Tuple::new(object.clone(), name, subject).to_string(),
            });
            let val = self.goal(set_relation, &set_id, depth + 1)?;
            self.close(&val);
            if matches!(val, Val::True) {
                return Ok(Val::True);
            }
            any.add(val);
        }
        Ok(any.finish())
    }

    fn rewrite(&mut self, rewrite: &Rewrite, id: &str, depth: u32) -> Result<Val, EngineError> {
        match rewrite {
            Rewrite::Computed { relation } => self.goal(*relation, id, depth),
            Rewrite::Union { children } => {
                self.open(|_| Step::Union);
                let mut any = Any::new();
                for child in children {
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
                let mut unknown = None;
                for child in children {
                    match self.rewrite(child, id, depth)? {
                        Val::True => {}
                        Val::False(deps) => {
                            let val = Val::False(deps);
                            self.close(&val);
                            return Ok(val);
                        }
                        Val::Unknown(path) => {
                            unknown.get_or_insert(path);
                        }
                    }
                }
                let val = unknown.map_or(Val::True, Val::Unknown);
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
                    Val::False(deps) if !deps.is_empty() => {
                        let names = deps
                            .iter()
                            .filter_map(|&d| self.goals.get(d))
                            .map(|g| self.engine.userset(g.relation, &g.id))
                            .collect::<Vec<_>>()
                            .join(", ");
                        return Err(EngineError::NotStratified(names));
                    }
                    // The base was not `false`: it is `true` or unknown.
                    Val::False(_) => base_val,
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
                let objects = engine.object_subjects(*tupleset, id, self.at)?;
                let object = Object::new(
                    engine.namespace_name(engine.relation_namespace(*tupleset)),
                    id,
                );
                let all = *mode == ArrowMode::All;
                if all && objects.is_empty() {
                    self.leaf(
                        |e| Step::EmptyTupleset {
                            tupleset: e.userset(*tupleset, id),
                        },
                        Outcome::Denied,
                    );
                    let val = Val::False(Vec::new());
                    self.close(&val);
                    return Ok(val);
                }
                let mut any = Any::new();
                let mut unknown = None;
                for (ns, x) in objects {
                    let via = |e: &Engine<'_>| {
                        Tuple::new(
                            object.clone(),
                            e.relation_name(*tupleset),
                            Subject::object(e.namespace_name(ns), x.clone()),
                        )
                        .to_string()
                    };
                    let Some(target) = targets.iter().find(|t| t.namespace == ns) else {
                        self.leaf(
                            |e| Step::MissingTarget {
                                tuple: via(e),
                                object: format!("{}:{}", e.namespace_name(ns), encode_id(&x)),
                                target: target_name.clone(),
                            },
                            Outcome::Denied,
                        );
                        if all {
                            let val = Val::False(Vec::new());
                            self.close(&val);
                            return Ok(val);
                        }
                        continue;
                    };
                    self.open(|e| Step::ArrowBranch { tuple: via(e) });
                    let val = self.goal(target.relation, &x, depth + 1)?;
                    self.close(&val);
                    match (all, val) {
                        (false, Val::True) => {
                            self.close(&Val::True);
                            return Ok(Val::True);
                        }
                        (false, other) => any.add(other),
                        (true, Val::True) => {}
                        (true, Val::False(deps)) => {
                            let val = Val::False(deps);
                            self.close(&val);
                            return Ok(val);
                        }
                        (true, Val::Unknown(path)) => {
                            unknown.get_or_insert(path);
                        }
                    }
                }
                let val = if all {
                    unknown.map_or(Val::True, Val::Unknown)
                } else {
                    any.finish()
                };
                self.close(&val);
                Ok(val)
            }
        }
    }
}
