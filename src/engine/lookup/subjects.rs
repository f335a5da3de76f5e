//! Which subjects of a namespace are in a set: walks forward from the
//! userset, then decides each subject they named.
//!
//! The userset's rewrite is split into its leaves (computed names, arrows,
//! its own tuples), each walked on its own, forward over every branch. A
//! walk records each subject it meets with how it met it: through unions
//! alone within the depth limit (the subject is in that leaf), through some
//! other branch (maybe), or only on the right side of a `-` (named, no
//! more). The subjects met are the candidates, as before; each is decided
//! from its leaves ([`decide`]) and checked only when they leave it open.
//! A leaf whose walk left a subject open is split in turn (its own leaves
//! walked when first needed), as its subject may still be decided there.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::decide::{decide, Closure, Facts, Verdict};
use super::{mentions_self, order_key, same_id_runs, sort_by_id, ConditionalId, SubjectLookup};
use crate::engine::check::{address, Checker};
use crate::engine::ids::{Id, Ids, Strings};
use crate::engine::interrupt::Watch;
use crate::engine::{grow_stack, AnswerBudget, AnswerPart, Decision, Engine, EngineError, Target};
use crate::ir::{AllowedType, ArrowMode, NamespaceId, Relation, RelationId, RelationKind, Rewrite};
use crate::store::{Reader, SubjectKind};
use crate::tuple::{Subject, SubjectRef};

pub(in crate::engine) fn lookup_subjects(
    engine: &Engine<'_>,
    relation: RelationId,
    id: &str,
    namespace: NamespaceId,
    reader: &dyn Reader,
) -> Result<SubjectLookup, EngineError> {
    let mut walks = Walks::new(engine, reader, namespace, id);
    let candidates = walks.candidates(relation)?;
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
    // Deciding needs no check, which would look at the deadline: this does.
    let mut watch = Watch::current();
    for candidate in 0..candidates {
        watch.tick()?;
        let decision = match walks.decide(relation, candidate)? {
            Verdict::Holds => Decision::Allowed,
            Verdict::Fails => Decision::Denied,
            Verdict::Open => check(Target::Object {
                namespace,
                subject: Subject::object(ns_name, walks.candidate(candidate)),
            })?,
        };
        match decision {
            Decision::Allowed => {
                budget.spend(1)?;
                result
                    .subject_ids
                    .push(walks.candidate(candidate).to_owned());
            }
            Decision::Conditional { missing } => {
                budget.spend(1)?;
                result.conditional.push(ConditionalId {
                    id: walks.candidate(candidate).to_owned(),
                    missing,
                });
            }
            Decision::Denied if wildcard => {
                budget.spend(1)?;
                result.excluded.push(walks.candidate(candidate).to_owned());
            }
            Decision::Denied => {}
        }
    }
    Ok(result)
}

/// How a walk met a subject (or the namespace's wildcard), weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Level {
    /// Only on the right side of a `-`, or by a tuple the types refuse: a
    /// candidate, not a member.
    Named,
    /// Through an intersection, an exclusion's base, a tuple with traits or
    /// past the depth limit: a check decides.
    Maybe,
    /// Through unions alone, within the depth limit: a member.
    Proven,
}

/// A part of the userset's rewrite, walked on its own, on the userset's
/// object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Leaf {
    /// A relation or permission, whole.
    Relation(RelationId),
    /// A relation's own tuples (`this`).
    Tuples(RelationId),
    /// An arrow, by its address (see [`address`]).
    Arrow(usize),
}

/// What the walk of one leaf met.
#[derive(Default)]
struct Found {
    /// The subjects met, as they were met (one may come more than once),
    /// each with how in `levels`. They are not numbered: matched across
    /// leaves by sorting, as the answer is sorted anyway, rather than each
    /// looked up in a table as large as the answer.
    met: Strings,
    levels: Vec<Level>,
    /// The namespace's wildcard, when met in a positive branch.
    wildcard: Option<Level>,
    /// Whether the leaf is closed ([`Closure`]): a subject its walk never
    /// met is not in it.
    closed: bool,
    /// For a leaf walked after the candidates were gathered: the subjects
    /// met, sorted by ID, each once with its highest level (the key of its
    /// ID, and its place in `met`).
    sorted: Vec<(u64, usize, Level)>,
}

impl Found {
    fn meet(&mut self, subject: &str, level: Level) {
        self.met.push(subject);
        self.levels.push(level);
    }

    fn meet_wildcard(&mut self, level: Level) {
        if level > Level::Named {
            self.wildcard = self.wildcard.max(Some(level));
        }
    }

    /// Sorts the subjects met by ID, for [`Found::find`].
    fn sort(&mut self) {
        let met = &self.met;
        let mut sorted: Vec<(u64, usize, Level)> = self
            .levels
            .iter()
            .enumerate()
            .map(|(n, level)| (order_key(met.get(n)), n, *level))
            .collect();
        sort_by_id(&mut sorted, |s| s.0, |s| met.get(s.1));
        self.sorted = same_id_runs(&sorted, |s| s.0, |s| met.get(s.1))
            .filter_map(|run| {
                let &(key, n, _) = run.first()?;
                let level = run.iter().map(|s| s.2).max()?;
                Some((key, n, level))
            })
            .collect();
    }

    /// How the walk met `subject`, once sorted.
    fn find(&self, subject: &str) -> Option<Level> {
        let key = order_key(subject);
        let met = &self.met;
        let at = self
            .sorted
            .binary_search_by(|(k, n, _)| k.cmp(&key).then_with(|| met.get(*n).cmp(subject)))
            .ok()?;
        self.sorted.get(at).map(|(_, _, level)| *level)
    }
}

/// The walks of one lookup's leaves, on the userset's object.
struct Walks<'l, 'e> {
    engine: &'l Engine<'e>,
    reader: &'l dyn Reader,
    namespace: NamespaceId,
    /// The userset's object ID.
    root: Id,
    /// The IDs of the objects the walks visit (not of the subjects they
    /// meet, see [`Found::met`]).
    names: Ids,
    closure: Closure<'e>,
    /// The leaves walked so far (a few: searched in order).
    leaves: Vec<(Leaf, Found)>,
    /// The candidates' IDs, sorted.
    candidates: Strings,
    /// How the leaves walked to gather the candidates (the first `width`
    /// of `leaves`) met each: `width` levels per candidate.
    width: usize,
    levels: Vec<Option<Level>>,
    /// The verdicts of candidates decided from their `levels` alone, by
    /// those levels: candidates met alike share one decision.
    verdicts: FxHashMap<Box<[Option<Level>]>, Verdict>,
    /// Whether the decision being made read more than the candidate's
    /// `levels` (a leaf walked later, searched by ID).
    read_by_id: bool,
}

impl<'l, 'e> Walks<'l, 'e> {
    fn new(
        engine: &'l Engine<'e>,
        reader: &'l dyn Reader,
        namespace: NamespaceId,
        id: &str,
    ) -> Walks<'l, 'e> {
        let mut names = Ids::default();
        let root = names.intern(id);
        Walks {
            engine,
            reader,
            namespace,
            root,
            names,
            closure: Closure::new(engine.schema, engine.options.max_depth),
            leaves: Vec::new(),
            candidates: Strings::default(),
            width: 0,
            levels: Vec::new(),
            verdicts: FxHashMap::default(),
            read_by_id: false,
        }
    }

    /// Walks every leaf of `relation` on the userset's object, and gathers
    /// every ID of the namespace they met, sorted: the IDs a tuple reachable
    /// from the userset names as an object subject, and the object itself
    /// where `self` reads it. Gives how many there are.
    fn candidates(&mut self, relation: RelationId) -> Result<usize, EngineError> {
        let Some(rel) = self.engine.schema.relation(relation) else {
            return Ok(0);
        };
        let mut itself = false;
        match rel.rewrite() {
            Some(rewrite) => {
                let mut leaves = Vec::new();
                leaves_of(rewrite, &mut leaves);
                // A relation's own tuples name candidates whatever its
                // rewrite makes of them.
                if !rel.is_permission() {
                    leaves.push((Leaf::Tuples(relation), None));
                }
                for (leaf, node) in leaves {
                    self.walk(leaf, node)?;
                }
                itself = rel.namespace == self.namespace && mentions_self(rewrite);
            }
            None => self.walk(Leaf::Relation(relation), None)?,
        }
        let width = self.leaves.len();
        let root = self.names.name(self.root);
        let leaves = &self.leaves;
        // Every subject each leaf met (the object itself as if met by a
        // leaf past the last), sorted by ID.
        let id = |leaf: usize, n: usize| match leaves.get(leaf) {
            Some((_, found)) => found.met.get(n),
            None => root,
        };
        let mut met: Vec<(u64, usize, usize)> = Vec::new();
        for (leaf, (_, found)) in leaves.iter().enumerate() {
            met.extend((0..found.met.len()).map(|n| (order_key(found.met.get(n)), leaf, n)));
        }
        if itself {
            met.push((order_key(root), width, 0));
        }
        sort_by_id(&mut met, |m| m.0, |m| id(m.1, m.2));
        let mut candidates = Strings::default();
        let mut levels: Vec<Option<Level>> = Vec::new();
        for run in same_id_runs(&met, |m| m.0, |m| id(m.1, m.2)) {
            let Some(&(_, leaf, n)) = run.first() else {
                continue;
            };
            candidates.push(id(leaf, n));
            let row = levels.len();
            levels.resize(row + width, None);
            for &(_, leaf, n) in run {
                let level = leaves.get(leaf).and_then(|(_, found)| found.levels.get(n));
                if let (Some(level), Some(slot)) = (level, levels.get_mut(row + leaf)) {
                    *slot = (*slot).max(Some(*level));
                }
            }
        }
        self.candidates = candidates;
        self.width = width;
        self.levels = levels;
        Ok(self.candidates.len())
    }

    /// The ID of candidate `candidate`.
    fn candidate(&self, candidate: usize) -> &str {
        self.candidates.get(candidate)
    }

    /// What the walks tell of candidate `subject` in `relation` of the
    /// userset (the relation [`Walks::candidates`] was given).
    fn decide(&mut self, relation: RelationId, subject: usize) -> Result<Verdict, EngineError> {
        // A candidate's verdict depends on its levels, on whether it is
        // the userset's object itself (`self`), and on the leaves walked
        // later, which are searched by ID.
        let itself = self.candidate(subject) == self.names.name(self.root);
        let start = subject.saturating_mul(self.width);
        let row = start..start.saturating_add(self.width);
        if !itself {
            if let Some(verdict) = self
                .levels
                .get(row.clone())
                .and_then(|r| self.verdicts.get(r))
            {
                return Ok(*verdict);
            }
        }
        self.read_by_id = false;
        let verdict = self.decide_anew(relation, subject)?;
        if !itself && !self.read_by_id {
            if let Some(levels) = self.levels.get(row) {
                self.verdicts.insert(levels.into(), verdict);
            }
        }
        Ok(verdict)
    }

    fn decide_anew(
        &mut self,
        relation: RelationId,
        subject: usize,
    ) -> Result<Verdict, EngineError> {
        let mut facts = SubjectFacts {
            walks: self,
            subject,
        };
        let rewrite = facts.walks.engine.rewrite_of(relation);
        match rewrite {
            Some(rewrite) => decide(rewrite, relation, &mut facts),
            None => facts.computed(relation),
        }
    }

    /// How the walk of `leaf` met candidate `subject`, and whether the leaf
    /// is closed; walks it first if needed.
    fn met(
        &mut self,
        leaf: Leaf,
        node: Option<&Rewrite>,
        subject: usize,
    ) -> Result<(Option<Level>, bool), EngineError> {
        let index = match self.leaves.iter().position(|(walked, _)| *walked == leaf) {
            Some(index) => index,
            None => {
                self.walk(leaf, node)?;
                if let Some((_, found)) = self.leaves.last_mut() {
                    found.sort();
                }
                self.leaves.len().saturating_sub(1)
            }
        };
        let Some((_, found)) = self.leaves.get(index) else {
            return Ok((None, false));
        };
        let met = if index < self.width {
            self.levels
                .get(subject * self.width + index)
                .copied()
                .flatten()
        } else {
            self.read_by_id = true;
            found.find(self.candidates.get(subject))
        };
        Ok((met.max(found.wildcard), found.closed))
    }

    /// Walks `leaf` (`node` is the arrow of an arrow's leaf).
    fn walk(&mut self, leaf: Leaf, node: Option<&Rewrite>) -> Result<(), EngineError> {
        if self.leaves.iter().any(|(walked, _)| *walked == leaf) {
            return Ok(());
        }
        let mut walk = Walk {
            engine: self.engine,
            reader: self.reader,
            namespace: self.namespace,
            names: &mut self.names,
            seen: FxHashMap::default(),
            queue: VecDeque::new(),
            found: Found::default(),
            watch: Watch::current(),
        };
        let root = self.root;
        let start = Reach {
            level: Level::Proven,
            hops: 0,
        };
        match leaf {
            Leaf::Relation(relation) => walk.reach((relation, root), start),
            Leaf::Tuples(relation) => walk.tuples(relation, root, start)?,
            Leaf::Arrow(_) => {
                if let Some(arrow) = node {
                    walk.arrow(arrow, root, start)?;
                }
            }
        }
        walk.run()?;
        let mut found = walk.found;
        found.closed = match leaf {
            Leaf::Relation(relation) => self.closure.relation(relation),
            Leaf::Tuples(relation) => self.closure.tuples(relation),
            Leaf::Arrow(_) => node.is_some_and(|arrow| self.closure.arrow(arrow)),
        };
        self.leaves.push((leaf, found));
        Ok(())
    }
}

/// Collects the leaves of a rewrite on one object: computed names, arrows.
fn leaves_of<'r>(rewrite: &'r Rewrite, out: &mut Vec<(Leaf, Option<&'r Rewrite>)>) {
    match rewrite {
        Rewrite::Computed { relation } => out.push((Leaf::Relation(*relation), None)),
        Rewrite::Arrow { .. } => out.push((Leaf::Arrow(address(rewrite)), Some(rewrite))),
        Rewrite::This | Rewrite::Nil | Rewrite::SelfObject => {}
        Rewrite::Union { .. } | Rewrite::Intersection { .. } | Rewrite::Exclusion { .. } => {
            for child in rewrite.children() {
                leaves_of(child.rewrite, out);
            }
        }
    }
}

/// The facts of one subject, from the walks of the userset's leaves.
struct SubjectFacts<'w, 'l, 'e> {
    walks: &'w mut Walks<'l, 'e>,
    /// The candidate.
    subject: usize,
}

impl SubjectFacts<'_, '_, '_> {
    /// A leaf's verdict from how its walk met the subject: in it, maybe
    /// (then `split` may still decide), or not at all (then it is not in a
    /// closed leaf).
    fn verdict(
        &mut self,
        (met, closed): (Option<Level>, bool),
        split: impl FnOnce(&mut Self) -> Result<Verdict, EngineError>,
    ) -> Result<Verdict, EngineError> {
        match met {
            Some(Level::Proven) => Ok(Verdict::Holds),
            Some(Level::Named) | None if closed => Ok(Verdict::Fails),
            _ => split(self),
        }
    }
}

impl Facts for SubjectFacts<'_, '_, '_> {
    fn proven(&self, _node: &Rewrite) -> bool {
        false
    }

    fn computed(&mut self, relation: RelationId) -> Result<Verdict, EngineError> {
        let met = self
            .walks
            .met(Leaf::Relation(relation), None, self.subject)?;
        let rewrite = self.walks.engine.rewrite_of(relation);
        self.verdict(met, |facts| match rewrite {
            Some(rewrite) => grow_stack(|| decide(rewrite, relation, facts)),
            None => Ok(Verdict::Open),
        })
    }

    fn arrow(&mut self, arrow: &Rewrite) -> Result<Verdict, EngineError> {
        let leaf = Leaf::Arrow(address(arrow));
        let met = self.walks.met(leaf, Some(arrow), self.subject)?;
        self.verdict(met, |_| Ok(Verdict::Open))
    }

    fn tuples(&mut self, relation: RelationId) -> Result<Verdict, EngineError> {
        let met = self.walks.met(Leaf::Tuples(relation), None, self.subject)?;
        self.verdict(met, |_| Ok(Verdict::Open))
    }

    fn itself(&mut self, relation: RelationId) -> Verdict {
        let walks = &self.walks;
        if walks.engine.relation_namespace(relation) == walks.namespace
            && walks.candidate(self.subject) == walks.names.name(walks.root)
        {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    }
}

/// How a walk reached a userset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reach {
    level: Level,
    /// The hops through tuples from the leaf.
    hops: u32,
}

/// One walk: forward from a leaf, over every branch, each userset visited
/// once per level it is reached at.
struct Walk<'w, 'l, 'e> {
    engine: &'l Engine<'e>,
    reader: &'l dyn Reader,
    namespace: NamespaceId,
    names: &'w mut Ids,
    seen: FxHashMap<(RelationId, Id), Reach>,
    queue: VecDeque<(RelationId, Id)>,
    found: Found,
    watch: Watch,
}

impl Walk<'_, '_, '_> {
    /// Queues `node` when this is the first time it is reached, or now at
    /// a higher level.
    fn reach(&mut self, node: (RelationId, Id), how: Reach) {
        let news = match self.seen.get(&node) {
            None => true,
            Some(old) => how.level > old.level,
        };
        if news {
            self.seen.insert(node, how);
            self.queue.push_back(node);
        }
    }

    /// The level a subject read at `how` is met at: a member only within
    /// the depth limit.
    fn within(&self, how: Reach) -> Level {
        if how.level == Level::Proven && how.hops > self.engine.options.max_depth {
            Level::Maybe
        } else {
            how.level
        }
    }

    fn run(&mut self) -> Result<(), EngineError> {
        while let Some(node) = self.queue.pop_front() {
            self.watch.tick()?;
            let Some(&how) = self.seen.get(&node) else {
                continue;
            };
            let (relation, id) = node;
            let Some(rel) = self.engine.schema.relation(relation) else {
                continue;
            };
            let mut tuples = None;
            if let Some(rewrite) = rel.rewrite() {
                self.rewrite(rewrite, rel, id, how, &mut tuples)?;
            }
            if let RelationKind::Relation { rewrite, .. } = &rel.kind {
                // Without a rewrite the relation is its tuples; with one,
                // they count where `this` stands, and are candidates anyway.
                let level = match rewrite {
                    None => how.level,
                    Some(_) => tuples.unwrap_or(Level::Named),
                };
                self.tuples(relation, id, Reach { level, ..how })?;
            }
        }
        Ok(())
    }

    /// Walks the rewrite `rewrite` of `rel` on object `id`, reached at
    /// `how`; `tuples` gathers the highest level `this` stands at.
    fn rewrite(
        &mut self,
        rewrite: &Rewrite,
        rel: &Relation,
        id: Id,
        how: Reach,
        tuples: &mut Option<Level>,
    ) -> Result<(), EngineError> {
        let weaker = Reach {
            level: how.level.min(Level::Maybe),
            ..how
        };
        match rewrite {
            Rewrite::Computed { relation } => self.reach((*relation, id), how),
            Rewrite::Union { children } => {
                for child in children {
                    self.rewrite(child, rel, id, how, tuples)?;
                }
            }
            Rewrite::Intersection { children } => {
                for child in children {
                    self.rewrite(child, rel, id, weaker, tuples)?;
                }
            }
            Rewrite::Exclusion { base, subtract } => {
                self.rewrite(base, rel, id, weaker, tuples)?;
                let named = Reach {
                    level: Level::Named,
                    ..how
                };
                self.rewrite(subtract, rel, id, named, tuples)?;
            }
            Rewrite::This => *tuples = (*tuples).max(Some(how.level)),
            Rewrite::Nil => {}
            Rewrite::SelfObject => {
                if rel.namespace == self.namespace {
                    let level = self.within(how);
                    self.found.meet(self.names.name(id), level);
                }
            }
            Rewrite::Arrow { .. } => self.arrow(rewrite, id, how)?,
        }
        Ok(())
    }

    /// Walks the arrow `arrow` on object `id`, reached at `how`: one hop to
    /// the target of each object of its tupleset.
    fn arrow(&mut self, arrow: &Rewrite, id: Id, how: Reach) -> Result<(), EngineError> {
        let Rewrite::Arrow {
            tupleset,
            targets,
            mode,
            ..
        } = arrow
        else {
            return Ok(());
        };
        // `.all` holds only when every object's target does.
        let level = if *mode == ArrowMode::Any {
            how.level
        } else {
            how.level.min(Level::Maybe)
        };
        let hops = how.hops.saturating_add(1);
        for (namespace, object, plain) in self.tupleset(*tupleset, id)? {
            if let Some(target) = targets.iter().find(|t| t.namespace == namespace) {
                let level = if plain {
                    level
                } else {
                    level.min(Level::Maybe)
                };
                self.reach((target.relation, object), Reach { level, hops });
            }
        }
        Ok(())
    }

    /// The object subjects of `id#tupleset` its types accept, and those
    /// of its tuples with traits (`false`), whatever their types.
    fn tupleset(
        &mut self,
        tupleset: RelationId,
        id: Id,
    ) -> Result<Vec<(NamespaceId, Id, bool)>, EngineError> {
        let engine = self.engine;
        let schema = engine.schema;
        let Some(rel) = schema.relation(tupleset) else {
            return Ok(Vec::new());
        };
        let object_id = self.names.name(id).to_owned();
        let types = rel.allowed();
        let names = &mut *self.names;
        let mut objects = Vec::new();
        let mut last: Option<NamespaceId> = None;
        self.reader.for_each_subject(
            engine.namespace_name(rel.namespace),
            &object_id,
            &rel.name,
            SubjectKind::Objects,
            &mut |subject| {
                let SubjectRef::Object { namespace, id } = subject else {
                    return;
                };
                if let Some(ns) = engine.namespace_near(&mut last, namespace) {
                    if types.contains(&AllowedType::Object { namespace: ns }) {
                        objects.push((ns, names.intern(id), true));
                    }
                }
            },
        )?;
        if !rel.traited().is_empty() {
            self.reader.for_each_attributed(
                engine.namespace_name(rel.namespace),
                &object_id,
                &rel.name,
                &mut |tuple| {
                    if let Subject::Object(object) = &tuple.subject {
                        if let Some(ns) = schema.namespace_id(&object.namespace) {
                            objects.push((ns, names.intern(&object.id), false));
                        }
                    }
                },
            )?;
        }
        Ok(objects)
    }

    /// The own tuples of `id#relation`, counted at `how`: the subjects of
    /// the namespace they name, its wildcard, and the subject sets they
    /// lead to.
    fn tuples(&mut self, relation: RelationId, id: Id, how: Reach) -> Result<(), EngineError> {
        let engine = self.engine;
        let schema = engine.schema;
        let Some(rel) = schema.relation(relation) else {
            return Ok(());
        };
        let types = rel.allowed();
        let namespace = self.namespace;
        let ns_name = engine.namespace_name(namespace);
        let at = self.within(how);
        let object_level = if types.contains(&AllowedType::Object { namespace }) {
            at
        } else {
            Level::Named
        };
        let wildcard_allowed = types.contains(&AllowedType::Wildcard { namespace });
        let object_id = self.names.name(id).to_owned();
        let names = &mut *self.names;
        let found = &mut self.found;
        let mut sets: Vec<(RelationId, Id)> = Vec::new();
        let mut last: Option<(NamespaceId, RelationId)> = None;
        self.reader.for_each_subject(
            engine.namespace_name(rel.namespace),
            &object_id,
            &rel.name,
            SubjectKind::All,
            &mut |subject| match subject {
                SubjectRef::Object { namespace, id } if namespace == ns_name => {
                    found.meet(id, object_level);
                }
                SubjectRef::Wildcard { namespace } if namespace == ns_name && wildcard_allowed => {
                    found.meet_wildcard(at);
                }
                SubjectRef::Set {
                    namespace,
                    id,
                    relation,
                } => {
                    if let Some((ns, target)) = engine.set_type_near(&mut last, namespace, relation)
                    {
                        let allowed = AllowedType::SubjectSet {
                            namespace: ns,
                            relation: target,
                        };
                        if types.contains(&allowed) {
                            sets.push((target, names.intern(id)));
                        }
                    }
                }
                _ => {}
            },
        )?;
        let hop = Reach {
            level: how.level,
            hops: how.hops.saturating_add(1),
        };
        for set in sets {
            self.reach(set, hop);
        }
        if !rel.traited().is_empty() {
            // Tuples with a condition or an expiry: whatever their
            // condition says, never more than maybe; checks decide.
            let maybe = how.level.min(Level::Maybe);
            for subject in engine.attributed_subjects(relation, &object_id, self.reader)? {
                match subject {
                    Subject::Object(object) if object.namespace == ns_name => {
                        self.found.meet(&object.id, maybe);
                    }
                    Subject::Wildcard { namespace } if namespace == ns_name => {
                        self.found.meet_wildcard(maybe);
                    }
                    Subject::Set { object, relation } => {
                        let set = schema
                            .namespace_id(&object.namespace)
                            .and_then(|ns| schema.relation_id(ns, &relation));
                        if let Some(set) = set {
                            let set_id = self.names.intern(&object.id);
                            self.reach(
                                (set, set_id),
                                Reach {
                                    level: maybe,
                                    ..hop
                                },
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
