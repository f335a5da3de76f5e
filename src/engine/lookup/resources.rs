//! Which objects' sets hold a subject: walks backward from the subject
//! with the reverse index, then decides each object it reached.
//!
//! The walk follows the positive branches (an object is in `a - b` or
//! `a & b` only if it is in `a`) and the relations the right sides of `-`
//! read, but only through relations the asked one reads. Results are sorted
//! by ID and paged: the cursor is the last ID returned, and only the
//! candidates of the requested page are decided. A candidate reached
//! through unions alone is in the set; the others are decided from what the
//! walk reached on their object ([`decide`]), and checked, all by one
//! checker (one memo), only when that leaves them open.

use std::collections::VecDeque;
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::decide::{decide, Closure, Facts, Verdict};
use super::{mentions_self, order_key, same_id_runs, sort_by_id};
use crate::engine::check::{self, Checker};
use crate::engine::ids::{Id, Ids, Strings};
use crate::engine::interrupt::Watch;
use crate::engine::{grow_stack, Decision, Engine, EngineError, Target};
use crate::ir::{AllowedType, ArrowMode, NamespaceId, Relation, RelationId, RelationKind, Rewrite};
use crate::store::{Page, PageRequest, Reader};
use crate::tuple::{Object, Subject};

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

/// For every relation, its positive uses, and the relations `goal` reads
/// (on either side of `-`).
struct ReverseGraph {
    uses: FxHashMap<RelationId, Vec<Use>>,
    /// Indexed by relation.
    relevant: Vec<bool>,
    /// Relations whose rewrite does not make their own tuples enough
    /// (`this` under `&` or `-`, or absent): a tuple in one puts a subject
    /// in it only maybe.
    tuples_not_enough: FxHashSet<RelationId>,
}

impl ReverseGraph {
    /// Whether the goal reads `relation`, on either side of `-`.
    fn relevant(&self, relation: RelationId) -> bool {
        self.relevant
            .get(relation.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Whether a tuple of `relation` alone puts its subject in the relation's set.
    fn tuples_suffice(&self, relation: RelationId) -> bool {
        !self.tuples_not_enough.contains(&relation)
    }
}

/// Whether `leaf` (`this` or `self`) stands in `rewrite` with only unions
/// above it: then it alone puts its subject in the set.
fn under_unions_alone(rewrite: &Rewrite, leaf: &Rewrite) -> bool {
    match rewrite {
        Rewrite::Union { children } => children.iter().any(|c| under_unions_alone(c, leaf)),
        _ => rewrite == leaf,
    }
}

impl ReverseGraph {
    fn new(engine: &Engine<'_>, goal: RelationId) -> ReverseGraph {
        let schema = engine.schema;
        let mut uses: FxHashMap<RelationId, Vec<Use>> = FxHashMap::default();
        let mut tuples_not_enough = FxHashSet::default();
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
                if rewrite
                    .as_ref()
                    .is_some_and(|r| !under_unions_alone(r, &Rewrite::This))
                {
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
        // The edges along which subjects flow into a set, and those the
        // right sides of `-` read: the walk reaches what they exclude too,
        // so that an object it never reached is known not to be excluded.
        let mut reads: FxHashMap<RelationId, Vec<RelationId>> = FxHashMap::default();
        for edge in schema.dependency_edges() {
            if edge.kind.passes_subjects() {
                reads.entry(edge.from).or_default().push(edge.to);
            }
        }
        let mut relevant = vec![false; schema.relations.len()];
        let mut work = vec![goal];
        while let Some(r) = work.pop() {
            if let Some(slot) = relevant.get_mut(r.0 as usize) {
                if !*slot {
                    *slot = true;
                    work.extend(reads.get(&r).into_iter().flatten().copied());
                }
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
    uses: &'w mut FxHashMap<RelationId, Vec<Use>>,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// The walk shows that the set does not hold the target: no check.
    Excluded,
    /// A check, with a branch of the permission known to hold (the walk
    /// found a derivation of it within the depth limit).
    Known(Rc<[usize]>),
    /// A plain check.
    Check,
}

impl Confirm {
    fn needs_check(&self) -> bool {
        matches!(self, Confirm::Known(_) | Confirm::Check)
    }
}

/// The objects of a lookup of resources, each allowed or conditional; the
/// conditional ones only when `conditional` asks for them.
pub(in crate::engine) fn lookup_resources(
    engine: &Engine<'_>,
    relation: RelationId,
    target: &Target,
    page: &PageRequest,
    reader: &dyn Reader,
    conditional: bool,
) -> Result<Page<(String, Decision)>, EngineError> {
    let graph = ReverseGraph::new(engine, relation);
    let mut walk = Reverse::new(engine, &graph, relation);
    walk.run(target, reader)?;
    let after = page.cursor.as_deref();
    let (ids, mut remaining) = walk.candidates(after);
    // The candidates of this page are decided from the walk; those it
    // leaves open are read now, together, where a store can batch that.
    let mut closure = Closure::new(engine.schema, engine.options.max_depth);
    let mut verdicts = Verdicts::default();
    let first = page.limit.saturating_add(1);
    for (id, reach, confirm) in remaining.iter_mut().take(first) {
        walk.settle(
            &mut closure,
            &mut verdicts,
            target,
            ids.get(*id),
            *reach,
            confirm,
        )?;
    }
    let namespace = engine.namespace_name(engine.relation_namespace(relation));
    let to_check: Vec<&str> = remaining
        .iter()
        .take(first)
        .filter(|(_, _, confirm)| confirm.needs_check())
        .map(|(id, _, _)| ids.get(*id))
        .collect();
    reader.prefetch(namespace, &to_check)?;
    // One checker for every check: the target and the revision are the
    // same, so what one check learns (a shared folder's `view`) serves the
    // next.
    let mut checker: Option<Checker<'_, '_>> = None;
    let mut items: Vec<(String, Decision)> = Vec::with_capacity(remaining.len().min(page.limit));
    let mut next_cursor = None;
    // Deciding needs no check, which would look at the deadline: this does.
    let mut watch = Watch::current();
    for (index, (id, reach, confirm)) in remaining.iter_mut().enumerate() {
        watch.tick()?;
        if items.len() == page.limit {
            next_cursor = Some(
                items
                    .last()
                    .map(|(id, _)| id.clone())
                    .unwrap_or_else(|| after.unwrap_or_default().to_owned()),
            );
            break;
        }
        let name = ids.get(*id);
        if index >= first {
            walk.settle(&mut closure, &mut verdicts, target, name, *reach, confirm)?;
        }
        let decision = match confirm {
            Confirm::Certain => Decision::Allowed,
            Confirm::Excluded => Decision::Denied,
            Confirm::Known(_) | Confirm::Check => {
                let checker = checker
                    .get_or_insert_with(|| Checker::new(engine, target.clone(), reader, false));
                let known = match confirm {
                    Confirm::Known(path) => Some(path.clone()),
                    _ => None,
                };
                let id = checker.intern(name);
                checker.check_known(relation, id, known)?
            }
        };
        let keep = match decision {
            Decision::Allowed => true,
            Decision::Conditional { .. } => conditional,
            Decision::Denied => false,
        };
        if keep {
            items.push((name.to_owned(), decision));
        }
    }
    Ok(Page { items, next_cursor })
}

/// The backward walk from the target: how it reached each userset.
struct Reverse<'w, 'e> {
    engine: &'w Engine<'e>,
    graph: &'w ReverseGraph,
    /// The asked relation.
    goal: RelationId,
    names: Ids,
    reached: Reached,
    /// By object: the branch of the goal's rewrite the walk proved on it
    /// (the first found), an index into `branches`.
    known: Vec<Option<u32>>,
    /// The branches of the goal's rewrite proved on some object.
    branches: Vec<Rc<[usize]>>,
    queue: VecDeque<(RelationId, Id)>,
    /// The IDs of the last reverse read (kept for its buffers).
    batch: Strings,
    /// Whether some set uses the goal: then its objects are numbered and
    /// walked on like any other's. Otherwise (the usual case) they are kept
    /// in `answers` as reached, with how and the branch proved on them:
    /// most are the lookup's answers, read once, and numbering them would
    /// cost a lookup in a table as large as the answer each.
    goal_used: bool,
    answers: Strings,
    answered: Vec<(Reach, Option<u32>)>,
}

/// How the walk reached each userset. Objects are numbered densely and
/// most are reached in one relation only: the first relation reached on
/// each object is kept by number, the others aside.
#[derive(Default)]
struct Reached {
    first: Vec<Option<(RelationId, Reach)>>,
    more: FxHashMap<(RelationId, Id), Reach>,
}

impl Reached {
    fn get(&self, relation: RelationId, id: Id) -> Option<Reach> {
        match self.first.get(id as usize) {
            Some(Some((first, reach))) if *first == relation => Some(*reach),
            Some(Some(_)) if !self.more.is_empty() => self.more.get(&(relation, id)).copied(),
            _ => None,
        }
    }

    fn set(&mut self, relation: RelationId, id: Id, how: Reach) {
        let index = id as usize;
        if index >= self.first.len() {
            self.first.resize(index + 1, None);
        }
        let Some(slot) = self.first.get_mut(index) else {
            return;
        };
        match slot {
            None => *slot = Some((relation, how)),
            Some((first, reach)) if *first == relation => *reach = how,
            Some(_) => {
                self.more.insert((relation, id), how);
            }
        }
    }

    /// Every object reached in `relation`, with how.
    fn of(&self, relation: RelationId) -> impl Iterator<Item = (Id, Reach)> + '_ {
        let first = self
            .first
            .iter()
            .enumerate()
            .filter_map(move |(id, slot)| match slot {
                Some((first, reach)) if *first == relation => Some((id as Id, *reach)),
                _ => None,
            });
        let more = self
            .more
            .iter()
            .filter(move |((r, _), _)| *r == relation)
            .map(|((_, id), reach)| (*id, *reach));
        first.chain(more)
    }
}

impl<'w, 'e> Reverse<'w, 'e> {
    fn new(engine: &'w Engine<'e>, graph: &'w ReverseGraph, goal: RelationId) -> Reverse<'w, 'e> {
        Reverse {
            engine,
            graph,
            goal,
            names: Ids::default(),
            reached: Reached::default(),
            known: Vec::new(),
            branches: Vec::new(),
            queue: VecDeque::new(),
            batch: Strings::default(),
            goal_used: graph.uses.contains_key(&goal),
            answers: Strings::default(),
            answered: Vec::new(),
        }
    }

    fn get(&self, relation: RelationId, id: Id) -> Option<Reach> {
        self.reached.get(relation, id)
    }

    /// The number of `path` in `branches`.
    fn branch(&mut self, path: &Rc<[usize]>) -> u32 {
        match self
            .branches
            .iter()
            .position(|known| Rc::ptr_eq(known, path))
        {
            Some(index) => index as u32,
            None => {
                self.branches.push(path.clone());
                (self.branches.len() - 1) as u32
            }
        }
    }

    /// Records that the walk proved `branch` of the goal on object `id`,
    /// unless it proved one before.
    fn know(&mut self, id: Id, branch: u32) {
        let index = id as usize;
        if index >= self.known.len() {
            self.known.resize(index + 1, None);
        }
        if let Some(slot @ None) = self.known.get_mut(index) {
            *slot = Some(branch);
        }
    }

    /// Records that the object `id` of `relation` is reached as `how`;
    /// queues it when that is news (first reached, or now for certain) and
    /// other sets use it.
    /// `known`: the branch of the goal this proves on the object.
    fn reach(&mut self, relation: RelationId, id: &str, how: Reach, known: Option<u32>) {
        if relation == self.goal && !self.goal_used {
            self.answers.push(id);
            self.answered.push((how, known));
        } else if self.graph.relevant(relation) {
            let id = self.names.intern(id);
            self.reach_number(relation, id, how, known);
        }
    }

    /// [`Reverse::reach`] for an object already numbered.
    fn reach_number(&mut self, relation: RelationId, id: Id, how: Reach, known: Option<u32>) {
        if relation == self.goal && !self.goal_used {
            self.answers.push(self.names.name(id));
            self.answered.push((how, known));
            return;
        }
        if !self.graph.relevant(relation) {
            return;
        }
        if let Some(branch) = known {
            self.know(id, branch);
        }
        let news = match self.reached.get(relation, id) {
            None => true,
            Some(old) => how.certain && !old.certain,
        };
        if news {
            self.reached.set(relation, id, how);
            if self.graph.uses.contains_key(&relation) {
                self.queue.push_back((relation, id));
            }
        }
    }

    /// The candidates after the cursor `after`, sorted by ID, each once:
    /// their IDs, and for each the number of its ID there, how the walk
    /// reached it and how to confirm it.
    fn candidates(&mut self, after: Option<&str>) -> (Strings, Vec<(usize, Reach, Confirm)>) {
        let max_depth = self.engine.options.max_depth;
        // Each time an object was reached: its ID, how, and the branch
        // proved on it.
        let (ids, reached): (Strings, Vec<(Reach, Option<u32>)>) = if self.goal_used {
            let mut ids = Strings::default();
            let mut reached = Vec::new();
            for (id, reach) in self.reached.of(self.goal) {
                ids.push(self.names.name(id));
                let branch = self.known.get(id as usize).copied().flatten();
                reached.push((reach, branch));
            }
            (ids, reached)
        } else {
            (
                std::mem::take(&mut self.answers),
                std::mem::take(&mut self.answered),
            )
        };
        let mut order: Vec<(u64, usize)> = (0..ids.len())
            .map(|n| (order_key(ids.get(n)), n))
            .filter(|&(_, n)| after.is_none_or(|cursor| ids.get(n) > cursor))
            .collect();
        sort_by_id(&mut order, |o| o.0, |o| ids.get(o.1));
        // An object reached more than once: what any time showed.
        let candidates = same_id_runs(&order, |o| o.0, |o| ids.get(o.1))
            .filter_map(|run| {
                let mut times = run.iter().filter_map(|&(_, n)| Some((n, *reached.get(n)?)));
                let (n, (mut reach, mut branch)) = times.next()?;
                for (_, (again, known)) in times {
                    if again.certain && (!reach.certain || again.hops < reach.hops) {
                        reach = again;
                    }
                    branch = branch.or(known);
                }
                let confirm = if reach.certain && reach.hops <= max_depth {
                    Confirm::Certain
                } else {
                    match branch.and_then(|b| self.branches.get(b as usize)) {
                        Some(path) => Confirm::Known(path.clone()),
                        None => Confirm::Check,
                    }
                };
                Some((n, reach, confirm))
            })
            .collect();
        (ids, candidates)
    }

    /// Turns `confirm` into `Certain` or `Excluded` when the walk decides
    /// the candidate `id`; leaves it for a check otherwise.
    fn settle(
        &self,
        closure: &mut Closure<'_>,
        verdicts: &mut Verdicts,
        target: &Target,
        name: &str,
        reach: Reach,
        confirm: &mut Confirm,
    ) -> Result<(), EngineError> {
        let known = match confirm {
            Confirm::Certain | Confirm::Excluded => return Ok(()),
            Confirm::Known(path) => Some(path.clone()),
            Confirm::Check => None,
        };
        let Some(rewrite) = self.engine.rewrite_of(self.goal) else {
            return Ok(());
        };
        let id = self.names.find(name);
        // An object the walk reached in the goal alone is decided by how,
        // by the branch known on it and by whether it is the target.
        let shared = id.is_none().then(|| {
            let branch = known
                .as_ref()
                .map(|path| Rc::as_ptr(path).cast::<usize>() as usize);
            (reach, branch, is_target(target, name))
        });
        let verdict = match shared.and_then(|key| verdicts.get(&key)) {
            Some(verdict) => *verdict,
            None => {
                let mut facts = ResourceFacts {
                    walk: self,
                    closure,
                    target,
                    name,
                    id,
                    reach,
                    known: known.as_deref(),
                };
                let verdict = decide(rewrite, self.goal, &mut facts)?;
                if let Some(key) = shared {
                    verdicts.insert(key, verdict);
                }
                verdict
            }
        };
        match verdict {
            Verdict::Holds => *confirm = Confirm::Certain,
            Verdict::Fails => *confirm = Confirm::Excluded,
            Verdict::Open => {}
        }
        Ok(())
    }

    /// Walks backward from the tuples that name the target, along the uses;
    /// a userset reached only through sufficient uses from those tuples
    /// holds the target for certain, within its hops.
    fn run(&mut self, target: &Target, reader: &dyn Reader) -> Result<(), EngineError> {
        self.seed(target, reader)?;
        let engine = self.engine;
        let schema = engine.schema;
        let max_depth = engine.options.max_depth;
        let graph = self.graph;
        let mut watch = Watch::current();
        while let Some((this, id)) = self.queue.pop_front() {
            watch.tick()?;
            let Some(here) = self.get(this, id) else {
                continue;
            };
            let within = |hops: u32| here.certain && hops <= max_depth;
            let Some(uses) = graph.uses.get(&this) else {
                continue;
            };
            let object = Object::new(
                engine.namespace_name(engine.relation_namespace(this)),
                self.names.name(id),
            );
            for used in uses {
                match used {
                    Use::Computed { permission, branch } => {
                        let next = Reach {
                            certain: here.certain && branch.sufficient,
                            hops: here.hops,
                        };
                        let known = (*permission == self.goal && within(here.hops) && branch.holds)
                            .then(|| self.branch(&branch.path));
                        self.reach_number(*permission, id, next, known);
                    }
                    Use::SubjectSet { relation: user } => {
                        let Some(rel) = schema.relation(*user).filter(|_| graph.relevant(*user))
                        else {
                            continue;
                        };
                        let subject = Subject::Set {
                            object: object.clone(),
                            relation: engine.relation_name(this).to_owned(),
                        };
                        let hops = here.hops.saturating_add(1);
                        let next = Reach {
                            certain: here.certain && graph.tuples_suffice(*user),
                            hops,
                        };
                        self.holders(reader, rel, *user, &subject, next, None)?;
                    }
                    Use::Arrow {
                        permission,
                        tupleset,
                        branch,
                    } => {
                        let Some(rel) = schema
                            .relation(*tupleset)
                            .filter(|_| graph.relevant(*permission))
                        else {
                            continue;
                        };
                        let hops = here.hops.saturating_add(1);
                        let next = Reach {
                            certain: here.certain && branch.sufficient,
                            hops,
                        };
                        let known = (*permission == self.goal && within(hops) && branch.holds)
                            .then(|| self.branch(&branch.path));
                        let subject = Subject::Object(object.clone());
                        self.holders(reader, rel, *permission, &subject, next, known)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reaches `reached` (as `how`) on every object whose relation `rel`
    /// holds `subject`; through a tuple with a condition or an expiry, never
    /// for certain. `known`: the branch of the goal this proves.
    fn holders(
        &mut self,
        reader: &dyn Reader,
        rel: &Relation,
        reached: RelationId,
        subject: &Subject,
        how: Reach,
        known: Option<u32>,
    ) -> Result<(), EngineError> {
        let namespace = self.engine.namespace_name(rel.namespace);
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        reader.for_each_object_with_subject(namespace, &rel.name, subject, &mut |holder| {
            batch.push(holder);
        })?;
        for holder in batch.iter() {
            self.reach(reached, holder, how, known);
        }
        self.batch = batch;
        if !rel.traited().is_empty() {
            let maybe = Reach {
                certain: false,
                ..how
            };
            reader.for_each_attributed_with_subject(
                namespace,
                &rel.name,
                subject,
                &mut |tuple| self.reach(reached, &tuple.object.id, maybe, None),
            )?;
        }
        Ok(())
    }

    /// Reaches the usersets that hold the target directly: the stored tuples
    /// that name it (or a wildcard standing for it) in relations whose types
    /// accept it, and its own object in sets that hold it through `self`.
    fn seed(&mut self, target: &Target, reader: &dyn Reader) -> Result<(), EngineError> {
        let engine = self.engine;
        let schema = engine.schema;
        let wildcard = |namespace: NamespaceId| {
            (
                AllowedType::Wildcard { namespace },
                Subject::wildcard(engine.namespace_name(namespace)),
            )
        };
        let (exact, wildcard) = match target {
            Target::Object { namespace, subject } => (
                Some((
                    AllowedType::Object {
                        namespace: *namespace,
                    },
                    subject.clone(),
                )),
                Some(wildcard(*namespace)),
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
            Target::Anonymous { namespace } => (None, Some(wildcard(*namespace))),
        };
        for (ty, subject) in exact.into_iter().chain(wildcard) {
            for (index, rel) in schema.relations.iter().enumerate() {
                let this = RelationId(index as u32);
                if !self.graph.relevant(this) {
                    continue;
                }
                if rel.allowed().contains(&ty) {
                    let seed = Reach {
                        certain: self.graph.tuples_suffice(this),
                        hops: 0,
                    };
                    reader.for_each_object_with_subject(
                        engine.namespace_name(rel.namespace),
                        &rel.name,
                        &subject,
                        &mut |id| self.reach(this, id, seed, None),
                    )?;
                }
                // Tuples with a condition or an expiry seed too, never for
                // certain: their checks decide.
                if rel.traited().iter().any(|t| t.base == ty) {
                    let maybe = Reach {
                        certain: false,
                        hops: 0,
                    };
                    reader.for_each_attributed_with_subject(
                        engine.namespace_name(rel.namespace),
                        &rel.name,
                        &subject,
                        &mut |tuple| self.reach(this, &tuple.object.id, maybe, None),
                    )?;
                }
            }
        }
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
                if rel.namespace == *namespace && mentions_self(rewrite) {
                    let seed = Reach {
                        certain: under_unions_alone(rewrite, &Rewrite::SelfObject),
                        hops: 0,
                    };
                    self.reach(this, &object.id, seed, None);
                }
            }
        }
        Ok(())
    }
}

/// The verdicts of candidates the walk reached in the goal alone, by how,
/// by the known branch (its address) and by whether the candidate is the
/// target: nothing else of the walk tells such candidates apart.
type Verdicts = FxHashMap<(Reach, Option<usize>, bool), Verdict>;

/// Whether the object `name` is the target itself (what `self` tests).
fn is_target(target: &Target, name: &str) -> bool {
    matches!(target, Target::Object { subject: Subject::Object(object), .. } if object.id == name)
}

/// The facts of one candidate object, from the walk.
struct ResourceFacts<'f, 'w, 'e, 'c> {
    walk: &'f Reverse<'w, 'e>,
    closure: &'f mut Closure<'c>,
    target: &'f Target,
    name: &'f str,
    /// The object's number, if the walk gave it one (it reached some set
    /// of the object besides the goal).
    id: Option<Id>,
    /// How the walk reached the object in the goal.
    reach: Reach,
    /// The branch of the goal's rewrite the walk proved, if any.
    known: Option<&'f [usize]>,
}

impl ResourceFacts<'_, '_, '_, '_> {
    /// Whether the walk never reached `relation` on the candidate's object
    /// though it follows every derivation into it.
    fn unreached(&self, relation: RelationId) -> bool {
        self.walk.graph.relevant(relation) && self.reached(relation).is_none()
    }

    fn reached(&self, relation: RelationId) -> Option<Reach> {
        if relation == self.walk.goal {
            return Some(self.reach);
        }
        self.walk.get(relation, self.id?)
    }
}

impl Facts for ResourceFacts<'_, '_, '_, '_> {
    fn proven(&self, node: &Rewrite) -> bool {
        self.known
            .and_then(<[usize]>::last)
            .is_some_and(|&last| last == check::address(node))
    }

    fn computed(&mut self, relation: RelationId) -> Result<Verdict, EngineError> {
        let max_depth = self.walk.engine.options.max_depth;
        match self.reached(relation) {
            Some(reach) if reach.certain && reach.hops <= max_depth => return Ok(Verdict::Holds),
            Some(_) => {}
            None => {
                if self.unreached(relation) && self.closure.relation(relation) {
                    return Ok(Verdict::Fails);
                }
            }
        }
        match self.walk.engine.rewrite_of(relation) {
            Some(rewrite) => grow_stack(|| decide(rewrite, relation, self)),
            None => Ok(Verdict::Open),
        }
    }

    fn arrow(&mut self, _arrow: &Rewrite) -> Result<Verdict, EngineError> {
        Ok(Verdict::Open)
    }

    fn tuples(&mut self, relation: RelationId) -> Result<Verdict, EngineError> {
        Ok(
            if self.unreached(relation) && self.closure.tuples(relation) {
                Verdict::Fails
            } else {
                Verdict::Open
            },
        )
    }

    fn itself(&mut self, relation: RelationId) -> Verdict {
        let engine = self.walk.engine;
        // The name is read only through is_target, which keys [`Verdicts`].
        let holds = matches!(self.target, Target::Object { namespace, .. }
                if *namespace == engine.relation_namespace(relation))
            && is_target(self.target, self.name);
        if holds {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    }
}
