//! Checks over plain tuples held in memory, evaluated in the store's own
//! numbers.
//!
//! The full checker ([`Checker`](super::Checker)) handles all that a check
//! can meet: cycles in the data, the depth limit's unknowns, conditions and
//! expiries, explanations, a lookup's known branch. Most checks meet none
//! of it and pay for it all the same, and through [`Reader`] every probe
//! names its object by strings that the store hashes and looks up again.
//! This evaluator covers the plain case over a [`MemoryView`]: the subject
//! and each name are resolved once, every read is by number, and a goal is
//! one entry in a table of booleans.
//!
//! It gives up, and the full checker answers from the start, as soon as it
//! meets what it does not cover: a goal reached again while it is being
//! evaluated (a cycle), a goal past the depth limit, a relation whose
//! tuples may carry a condition or an expiry, or more than [`BUDGET`]
//! goals and reads (the view's read lock holds writers up while it works).
//!
//! **Its answers are the full checker's.** Without a cycle, an unknown or a
//! trait, every value the full checker computes is a final `true` or
//! `false`: a provisional `false` only comes from a cycle, an unknown only
//! from the depth limit, a conditional value only from a tuple with traits.
//! Its memo then holds final booleans, reused at any depth as here, and the
//! order of evaluation changes no value. This evaluator applies the same
//! rules to the same tuples (the plain ones: a tuple with traits is never
//! read here, and relations that allow them make it give up), so where it
//! answers, it answers the same. The differential property tests hold both
//! to the naive evaluator on every store.

use std::cell::RefCell;
use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap;

use super::{Engine, EngineError, Target};
use crate::engine::grow_stack;
use crate::engine::interrupt::Watch;
use crate::ir::{AllowedType, ArrowMode, NamespaceId, Relation, RelationId, RelationKind, Rewrite};
use crate::store::memory::{Generation, MemoryView, StoredName, StoredObject, StoredSubject};
use crate::store::Reader;
use crate::tuple::{Subject, SubjectRef};

/// The most goals and reads one check makes here before it leaves the
/// question to the full checker.
const BUDGET: u32 = 4096;

/// Why an evaluation stopped short of an answer.
enum Stop {
    /// It met what it does not cover.
    GaveUp,
    Failed(EngineError),
}

type Step<T> = Result<T, Stop>;

/// Whether the target is in `object_id#relation`, and the most hops
/// through tuples it took; `None` when `reader` has no view in memory or
/// the question needs the full checker.
pub(crate) fn check(
    engine: &Engine<'_>,
    target: &Target<&Subject>,
    reader: &dyn Reader,
    relation: RelationId,
    object_id: &str,
) -> Result<Option<(bool, u32)>, EngineError> {
    let mut outcome = Err(Stop::GaveUp);
    let viewed = reader.with_memory_view(&mut |view| {
        outcome = SCRATCH
            .try_with(|scratch| match scratch.try_borrow_mut() {
                Ok(mut scratch) => answer(engine, target, view, relation, object_id, &mut scratch),
                Err(_) => Err(Stop::GaveUp),
            })
            .unwrap_or(Err(Stop::GaveUp));
    })?;
    match outcome {
        Ok(answer) if viewed => Ok(Some(answer)),
        Ok(_) | Err(Stop::GaveUp) => Ok(None),
        Err(Stop::Failed(error)) => Err(error),
    }
}

fn answer(
    engine: &Engine<'_>,
    target: &Target<&Subject>,
    view: &MemoryView<'_>,
    relation: RelationId,
    object_id: &str,
    scratch: &mut Scratch,
) -> Step<(bool, u32)> {
    let Scratch {
        memo,
        names,
        sets,
        objects,
    } = scratch;
    memo.clear();
    sets.clear();
    objects.clear();
    names.fit(engine, view.generation());
    let namespace = engine.namespace_name(engine.relation_namespace(relation));
    // An object that no tuple ever named: the full checker answers that
    // (only `self` can hold there).
    let object = view.object(namespace, object_id).ok_or(Stop::GaveUp)?;
    let direct = target
        .direct()
        .and_then(|(ty, subject)| Some((ty, view.subject(subject.borrowed())?)));
    let wildcard = target.wildcard().and_then(|ns| {
        let namespace = engine.namespace_name(ns);
        Some((ns, view.subject(SubjectRef::Wildcard { namespace })?))
    });
    let itself = match target {
        &Target::Object {
            namespace,
            subject: Subject::Object(object),
        } => view
            .object(&object.namespace, &object.id)
            .map(|stored| (namespace, stored)),
        _ => None,
    };
    let mut plain = Plain {
        engine,
        view,
        memo,
        names,
        sets,
        objects,
        direct,
        wildcard,
        itself,
        deepest: 0,
        goals: 0,
        watch: Watch::current(),
    };
    let allowed = plain.goal(relation, object, 0)?;
    Ok((allowed, plain.deepest))
}

/// A goal's state in the memo.
#[derive(Clone, Copy)]
enum State {
    InProgress,
    Holds,
    Fails,
}

/// A check's working memory, kept per thread between checks.
#[derive(Default)]
struct Scratch {
    memo: FxHashMap<u64, State>,
    names: Names,
    /// The subject sets being visited, of every read on the path (each
    /// read pushes its own and truncates them when done).
    sets: Vec<(RelationId, StoredObject)>,
    /// The objects of the tuplesets being visited, likewise.
    objects: Vec<(NamespaceId, StoredObject)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The schema's names in one dictionary's numbers, kept between checks of
/// the same schema over the same dictionary (names are only ever added to
/// a dictionary, so what was found stays found).
#[derive(Default)]
struct Names {
    schema: String,
    generation: Option<Generation>,
    /// Each relation's stored name, once found.
    relations: Vec<Option<StoredName>>,
    /// A stored subject set's namespace and relation in the schema.
    sets: FxHashMap<(StoredName, StoredName), Option<(NamespaceId, RelationId)>>,
    /// A stored namespace in the schema.
    namespaces: FxHashMap<StoredName, Option<NamespaceId>>,
}

impl Names {
    /// Forgets everything unless it is of this schema and dictionary.
    fn fit(&mut self, engine: &Engine<'_>, generation: Generation) {
        let schema = engine.schema;
        if self.generation == Some(generation) && self.schema == schema.hash {
            return;
        }
        self.schema.clone_from(&schema.hash);
        self.generation = Some(generation);
        self.relations.clear();
        self.relations.resize(schema.relations.len(), None);
        self.sets.clear();
        self.namespaces.clear();
    }

    /// The stored name of `relation`; `None` if no tuple ever named it.
    fn relation(
        &mut self,
        engine: &Engine<'_>,
        view: &MemoryView<'_>,
        relation: RelationId,
    ) -> Option<StoredName> {
        let slot = self.relations.get_mut(relation.0 as usize)?;
        if slot.is_none() {
            *slot = view.name(engine.relation_name(relation));
        }
        *slot
    }

    /// The schema's namespace and relation of a stored subject set.
    fn set_type(
        &mut self,
        engine: &Engine<'_>,
        view: &MemoryView<'_>,
        namespace: StoredName,
        relation: StoredName,
    ) -> Option<(NamespaceId, RelationId)> {
        *self.sets.entry((namespace, relation)).or_insert_with(|| {
            let schema = engine.schema;
            let ns = schema.namespace_id(view.name_of(namespace))?;
            Some((ns, schema.relation_id(ns, view.name_of(relation))?))
        })
    }

    /// The schema's namespace of a stored one.
    fn namespace(
        &mut self,
        engine: &Engine<'_>,
        view: &MemoryView<'_>,
        namespace: StoredName,
    ) -> Option<NamespaceId> {
        *self
            .namespaces
            .entry(namespace)
            .or_insert_with(|| engine.schema.namespace_id(view.name_of(namespace)))
    }
}

struct Plain<'s, 'v, 'e, 'a> {
    engine: &'e Engine<'a>,
    view: &'s MemoryView<'v>,
    memo: &'s mut FxHashMap<u64, State>,
    names: &'s mut Names,
    sets: &'s mut Vec<(RelationId, StoredObject)>,
    objects: &'s mut Vec<(NamespaceId, StoredObject)>,
    /// The target, when stored, with the type a stored subject has when it
    /// is the target.
    direct: Option<(AllowedType, StoredSubject)>,
    /// The wildcard that holds the target, when one is stored.
    wildcard: Option<(NamespaceId, StoredSubject)>,
    /// The target object itself, for `self`.
    itself: Option<(NamespaceId, StoredObject)>,
    /// The most hops through tuples any goal took (metrics).
    deepest: u32,
    goals: u32,
    watch: Watch,
}

impl Plain<'_, '_, '_, '_> {
    /// Whether the target is in `object#relation`.
    fn goal(&mut self, relation: RelationId, object: StoredObject, depth: u32) -> Step<bool> {
        if depth > self.engine.options.max_depth {
            return Err(Stop::GaveUp);
        }
        self.spend()?;
        self.deepest = self.deepest.max(depth);
        let key = (u64::from(relation.0) << 32) | u64::from(object.number());
        match self.memo.entry(key) {
            Entry::Vacant(entry) => {
                entry.insert(State::InProgress);
            }
            Entry::Occupied(entry) => {
                return match entry.get() {
                    State::Holds => Ok(true),
                    State::Fails => Ok(false),
                    State::InProgress => Err(Stop::GaveUp),
                }
            }
        }
        let holds = grow_stack(|| self.evaluate(relation, object, depth))?;
        self.memo
            .insert(key, if holds { State::Holds } else { State::Fails });
        Ok(holds)
    }

    fn evaluate(&mut self, relation: RelationId, object: StoredObject, depth: u32) -> Step<bool> {
        let Some(rel) = self.engine.schema.relation(relation) else {
            return Ok(false);
        };
        match &rel.kind {
            RelationKind::Relation { rewrite: None, .. } => {
                self.stored(relation, rel, object, depth)
            }
            RelationKind::Relation {
                rewrite: Some(rewrite),
                ..
            }
            | RelationKind::Permission { rewrite } => {
                self.rewrite(rewrite, relation, object, depth)
            }
        }
    }

    /// One more goal or read against the budget and the interrupt.
    fn spend(&mut self) -> Step<()> {
        self.goals += 1;
        if self.goals > BUDGET {
            return Err(Stop::GaveUp);
        }
        self.watch.tick().map_err(Stop::Failed)
    }

    /// `rewrite` of goal `object#relation`.
    fn rewrite(
        &mut self,
        rewrite: &Rewrite,
        relation: RelationId,
        object: StoredObject,
        depth: u32,
    ) -> Step<bool> {
        match rewrite {
            // A stored relation named within a permission is read in place:
            // its tuples are read once or twice per object, and reading
            // them is cheaper than a goal's entry in the memo. The goals
            // its subject sets lead to are memoised, and a cycle through
            // it is met there.
            Rewrite::Computed { relation } => match self.engine.schema.relation(*relation) {
                Some(
                    rel @ Relation {
                        kind: RelationKind::Relation { rewrite: None, .. },
                        ..
                    },
                ) => {
                    self.spend()?;
                    self.stored(*relation, rel, object, depth)
                }
                _ => self.goal(*relation, object, depth),
            },
            Rewrite::Nil => Ok(false),
            Rewrite::SelfObject => {
                let owner = self.engine.relation_namespace(relation);
                Ok(self.itself == Some((owner, object)))
            }
            Rewrite::This => match self.engine.schema.relation(relation) {
                Some(rel) => self.stored(relation, rel, object, depth),
                None => Ok(false),
            },
            Rewrite::Union { children } => {
                for child in children {
                    if self.rewrite(child, relation, object, depth)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rewrite::Intersection { children } => {
                if children.is_empty() {
                    return Err(Stop::GaveUp);
                }
                for child in children {
                    if !self.rewrite(child, relation, object, depth)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rewrite::Exclusion { base, subtract } => Ok(self
                .rewrite(base, relation, object, depth)?
                && !self.rewrite(subtract, relation, object, depth)?),
            Rewrite::Arrow {
                tupleset,
                targets,
                mode,
                ..
            } => {
                let from = self.objects.len();
                self.tupleset(*tupleset, object)?;
                let all = *mode == ArrowMode::All;
                let mut answer = if all {
                    from < self.objects.len()
                } else {
                    false
                };
                for at in from..self.objects.len() {
                    let Some(&(namespace, next)) = self.objects.get(at) else {
                        break;
                    };
                    let hop = match targets.iter().find(|t| t.namespace == namespace) {
                        Some(target) => self.goal(target.relation, next, depth + 1)?,
                        None => false,
                    };
                    if hop != all {
                        answer = hop;
                        break;
                    }
                }
                self.objects.truncate(from);
                Ok(answer)
            }
        }
    }

    /// Pushes the object subjects of `object#tupleset` that its types
    /// accept onto `self.objects`.
    fn tupleset(&mut self, tupleset: RelationId, object: StoredObject) -> Step<()> {
        let engine = self.engine;
        let Some(rel) = engine.schema.relation(tupleset) else {
            return Ok(());
        };
        if !rel.traited().is_empty() {
            return Err(Stop::GaveUp);
        }
        let view = self.view;
        let Some(name) = self.names.relation(engine, view, tupleset) else {
            return Ok(());
        };
        let types = rel.allowed();
        let (names, objects) = (&mut *self.names, &mut *self.objects);
        view.for_each_object(object, name, |next| {
            let Some(namespace) = names.namespace(engine, view, view.namespace_of(next)) else {
                return;
            };
            if types.contains(&AllowedType::Object { namespace }) {
                objects.push((namespace, next));
            }
        });
        Ok(())
    }

    /// A stored relation: a direct tuple, a wildcard, or a subject set that
    /// holds the target.
    fn stored(
        &mut self,
        relation: RelationId,
        rel: &Relation,
        object: StoredObject,
        depth: u32,
    ) -> Step<bool> {
        if !rel.traited().is_empty() {
            return Err(Stop::GaveUp);
        }
        let engine = self.engine;
        let view = self.view;
        let Some(name) = self.names.relation(engine, view, relation) else {
            return Ok(false);
        };
        let types = rel.allowed();
        if let Some((ty, subject)) = self.direct {
            if types.contains(&ty) && view.holds(object, name, subject) {
                return Ok(true);
            }
        }
        if let Some((namespace, wildcard)) = self.wildcard {
            if types.contains(&AllowedType::Wildcard { namespace })
                && view.holds(object, name, wildcard)
            {
                return Ok(true);
            }
        }
        if !types
            .iter()
            .any(|t| matches!(t, AllowedType::SubjectSet { .. }))
        {
            return Ok(false);
        }
        let from = self.sets.len();
        let (names, sets) = (&mut *self.names, &mut *self.sets);
        view.for_each_set(object, name, |set, set_relation| {
            let namespace = view.namespace_of(set);
            let Some((namespace, target)) = names.set_type(engine, view, namespace, set_relation)
            else {
                return;
            };
            let allowed = AllowedType::SubjectSet {
                namespace,
                relation: target,
            };
            if types.contains(&allowed) {
                sets.push((target, set));
            }
        });
        let mut holds = false;
        for at in from..self.sets.len() {
            let Some(&(target, set)) = self.sets.get(at) else {
                break;
            };
            if self.goal(target, set, depth + 1)? {
                holds = true;
                break;
            }
        }
        self.sets.truncate(from);
        Ok(holds)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::check;
    use crate::engine::{Engine, EngineOptions};
    use crate::ir::Schema;
    use crate::store::{MemoryStore, SqliteStore, TupleStore};
    use crate::tuple::Tuple;

    const SCHEMA: &str = "
        namespace user {}
        namespace group {
          relation member: user | group#member
        }
        namespace doc {
          relation parent: doc
          relation viewer: user | user:* | group#member
          relation banned: user
          relation guest: user with expiration
          permission view = (viewer | parent->view) - banned
          permission visit = view | guest
          permission me = self
        }
    ";

    fn schema() -> Schema {
        let (_, compilation) = crate::compile_source("plain.zanzi", SCHEMA);
        compilation.schema.expect("the schema compiles")
    }

    fn store(tuples: &[&str]) -> MemoryStore {
        let store = MemoryStore::new();
        let tuples: Vec<Tuple> = tuples.iter().map(|t| t.parse().unwrap()).collect();
        store.write(&tuples, &[]).unwrap();
        store
    }

    /// What the plain evaluator answers, `None` when it leaves the question
    /// to the full checker; and what the full checker answers.
    fn both(
        schema: &Schema,
        store: &dyn TupleStore,
        max_depth: u32,
        question: &str,
    ) -> (Option<bool>, Option<bool>) {
        let question: Tuple = question.parse().unwrap();
        let engine = Engine::new(schema, store).with_options(EngineOptions { max_depth });
        let relation = engine
            .resolve(&question.object, &question.relation)
            .unwrap();
        let target = engine.target_of(&question.subject).unwrap();
        let at = store.head_revision().unwrap();
        let reader = store.snapshot(at).unwrap();
        let plain = check(&engine, &target, &*reader, relation, &question.object.id)
            .unwrap()
            .map(|(allowed, _)| allowed);
        let explained = engine
            .explain(&question.object, &question.relation, &question.subject, at)
            .unwrap();
        let full = match explained.outcome {
            crate::engine::Outcome::Granted => Some(true),
            crate::engine::Outcome::Denied => Some(false),
            _ => None,
        };
        (plain, full)
    }

    const DATA: &[&str] = &[
        "group:a#member@user:ann",
        "group:b#member@group:a#member",
        "doc:root#viewer@group:b#member",
        "doc:root#viewer@user:bob",
        "doc:child#parent@doc:root",
        "doc:child#banned@user:bob",
        "doc:open#viewer@user:*",
    ];

    #[test]
    fn plain_questions_are_answered_as_the_full_checker_answers_them() {
        let schema = schema();
        let store = store(DATA);
        for (question, allowed) in [
            ("doc:child#view@user:ann", true),
            ("doc:root#view@user:bob", true),
            ("doc:child#view@user:bob", false),
            ("doc:child#view@user:carol", false),
            ("doc:open#view@user:carol", true),
            ("doc:root#view@group:a#member", true),
            ("doc:root#me@doc:root", true),
            ("doc:root#me@doc:child", false),
        ] {
            assert_eq!(
                both(&schema, &store, 8, question),
                (Some(allowed), Some(allowed)),
                "{question}"
            );
        }
    }

    #[test]
    fn what_it_does_not_cover_is_left_to_the_full_checker() {
        let schema = schema();
        let store = store(DATA);
        // Past the depth limit: two hops to ann through the groups.
        assert_eq!(
            both(&schema, &store, 1, "doc:root#view@user:ann"),
            (None, None)
        );
        // A relation that allows expiring tuples.
        assert_eq!(
            both(&schema, &store, 8, "doc:child#visit@user:carol"),
            (None, Some(false))
        );
        // An object no tuple names.
        assert_eq!(
            both(&schema, &store, 8, "doc:nowhere#me@doc:nowhere"),
            (None, Some(true))
        );
        // A cycle in the data.
        let cyclic = self::store(&[
            "group:x#member@group:y#member",
            "group:y#member@group:x#member",
            "doc:d#viewer@group:x#member",
        ]);
        assert_eq!(
            both(&schema, &cyclic, 8, "doc:d#view@user:ann"),
            (None, Some(false))
        );
        // A store without a view in memory.
        let sqlite = SqliteStore::open_in_memory().unwrap();
        let tuples: Vec<Tuple> = DATA.iter().map(|t| t.parse().unwrap()).collect();
        sqlite.write(&tuples, &[]).unwrap();
        assert_eq!(
            both(&schema, &sqlite, 8, "doc:child#view@user:ann"),
            (None, Some(true))
        );
    }

    #[test]
    fn names_kept_from_one_store_are_not_used_with_another() {
        let schema = schema();
        // The same names numbered differently in two dictionaries: the
        // first check keeps `viewer` and `banned` in the first one's
        // numbers, where `banned` has the number `viewer` has in the second.
        let first = store(&["doc:d#banned@user:u", "doc:d#viewer@user:v"]);
        let second = store(&["doc:d#viewer@user:u"]);
        assert_eq!(
            both(&schema, &first, 8, "doc:d#view@user:v"),
            (Some(true), Some(true))
        );
        assert_eq!(
            both(&schema, &second, 8, "doc:d#view@user:u"),
            (Some(true), Some(true))
        );
        assert_eq!(
            both(&schema, &first, 8, "doc:d#view@user:u"),
            (Some(false), Some(false))
        );
    }
}
