//! Differential tests: the engine against a naive evaluator on random
//! schemas and random tuples, on every store.
//!
//! The naive evaluator shares no code with the engine. It reads the random
//! schema's own model (not the compiled IR, so lowering is tested too),
//! computes the full set of every userset of a small universe bottom-up,
//! stratum by stratum (strongly connected components of the dependency
//! graph, dependencies first), iterating each stratum from empty sets to its
//! least fixed point. Sets of object subjects are finite (`Fin`) or
//! everything-but-finitely-many (`Cof`, from wildcards), which is closed
//! under union, intersection and difference, so wildcards under exclusion
//! are exact too.
//!
//! Schemas are generated as source text (tests/support/schemas.rs, without
//! traits) and compiled; the ones the compiler rejects (for example
//! negation through recursion) are skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use zanzi::engine::{Engine, EngineError, EngineOptions, Outcome};
use zanzi::ir::Schema;
use zanzi::store::{CachedStore, MemoryStore, PageRequest, SqliteStore, TupleStore};
use zanzi::tuple::{Object, Subject, Tuple};

use support::schemas::{place, raw_ns, universe, Expr, Kind, Model, RawNs, Strata, Ty, POOL};

// ---------------------------------------------------------------------------
// Raw random tuples; as for schemas, indices are taken modulo what is
// available, so any vector of numbers is a case and shrinking stays
// meaningful.

#[derive(Clone, Debug)]
struct RawTuple {
    ns: u8,
    object: u8,
    relation: u8,
    ty: u8,
    subject: u8,
}

#[derive(Clone, Debug)]
struct Case {
    namespaces: Vec<RawNs>,
    tuples: Vec<RawTuple>,
    seed: u64,
}

fn raw_tuple() -> impl Strategy<Value = RawTuple> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(|(ns, object, relation, ty, subject)| RawTuple {
            ns,
            object,
            relation,
            ty,
            subject,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(raw_ns(false), 1..=4),
        prop::collection::vec(raw_tuple(), 0..=60),
        any::<u64>(),
    )
        .prop_map(|(namespaces, tuples, seed)| Case {
            namespaces,
            tuples,
            seed,
        })
}

/// A stored tuple of the model: (ns, object, relation, subject).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Subj {
    Obj(usize, String),
    Wild(usize),
    Set(usize, String, String),
}

type ModelTuple = (usize, String, String, Subj);

fn model_tuples(model: &Model, raw: &[RawTuple]) -> Vec<ModelTuple> {
    let mut out = Vec::new();
    for t in raw {
        let Some(placed) = place(model, [t.ns, t.object, t.relation, t.ty, t.subject]) else {
            continue;
        };
        let subject = match placed.ty {
            Ty::Obj(m) => Subj::Obj(m, placed.id),
            Ty::Wild(m) => Subj::Wild(m),
            Ty::Set(m, q) => Subj::Set(m, placed.id, q),
        };
        out.push((placed.ns, placed.object, placed.relation, subject));
    }
    out
}

fn to_subject(s: &Subj) -> Subject {
    match s {
        Subj::Obj(m, id) => Subject::object(format!("n{m}"), id),
        Subj::Wild(m) => Subject::wildcard(format!("n{m}")),
        Subj::Set(m, id, q) => Subject::set(format!("n{m}"), id, q),
    }
}

fn to_tuple(t: &ModelTuple) -> Tuple {
    Tuple::new(
        Object::new(format!("n{}", t.0), &t.1),
        &t.2,
        to_subject(&t.3),
    )
}

// ---------------------------------------------------------------------------
// The naive evaluator.

/// A set of object IDs of one namespace: finite, or all but finitely many.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ids {
    Fin(BTreeSet<String>),
    Cof(BTreeSet<String>),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Set {
    /// Object subjects per namespace; an absent namespace is `Fin(∅)`.
    objects: BTreeMap<usize, Ids>,
    /// Subject-set subjects `(ns, id, relation)`.
    sets: BTreeSet<(usize, String, String)>,
}

fn ids_union(a: &Ids, b: &Ids) -> Ids {
    match (a, b) {
        (Ids::Fin(x), Ids::Fin(y)) => Ids::Fin(x | y),
        (Ids::Fin(x), Ids::Cof(e)) | (Ids::Cof(e), Ids::Fin(x)) => Ids::Cof(e - x),
        (Ids::Cof(e), Ids::Cof(f)) => Ids::Cof(e & f),
    }
}

fn ids_inter(a: &Ids, b: &Ids) -> Ids {
    match (a, b) {
        (Ids::Fin(x), Ids::Fin(y)) => Ids::Fin(x & y),
        (Ids::Fin(x), Ids::Cof(e)) | (Ids::Cof(e), Ids::Fin(x)) => Ids::Fin(x - e),
        (Ids::Cof(e), Ids::Cof(f)) => Ids::Cof(e | f),
    }
}

fn ids_diff(a: &Ids, b: &Ids) -> Ids {
    match (a, b) {
        (Ids::Fin(x), Ids::Fin(y)) => Ids::Fin(x - y),
        (Ids::Fin(x), Ids::Cof(e)) => Ids::Fin(x & e),
        (Ids::Cof(e), Ids::Fin(y)) => Ids::Cof(e | y),
        (Ids::Cof(e), Ids::Cof(f)) => Ids::Fin(f - e),
    }
}

const EMPTY: Ids = Ids::Fin(BTreeSet::new());
static EMPTY_IDS: Ids = Ids::Fin(BTreeSet::new());

impl Set {
    fn ids(&self, ns: usize) -> &Ids {
        self.objects.get(&ns).unwrap_or(&EMPTY_IDS)
    }

    fn combine(
        &self,
        other: &Set,
        f: fn(&Ids, &Ids) -> Ids,
        sets: BTreeSet<(usize, String, String)>,
    ) -> Set {
        let keys: BTreeSet<usize> = self
            .objects
            .keys()
            .chain(other.objects.keys())
            .copied()
            .collect();
        let objects = keys
            .into_iter()
            .map(|k| (k, f(self.ids(k), other.ids(k))))
            .filter(|(_, v)| *v != EMPTY)
            .collect();
        Set { objects, sets }
    }

    fn union(&self, other: &Set) -> Set {
        self.combine(other, ids_union, &self.sets | &other.sets)
    }

    fn inter(&self, other: &Set) -> Set {
        self.combine(other, ids_inter, &self.sets & &other.sets)
    }

    fn diff(&self, other: &Set) -> Set {
        self.combine(other, ids_diff, &self.sets - &other.sets)
    }

    fn contains(&self, s: &Subj) -> bool {
        match s {
            Subj::Obj(m, id) => match self.ids(*m) {
                Ids::Fin(x) => x.contains(id),
                Ids::Cof(e) => !e.contains(id),
            },
            Subj::Set(m, id, q) => self.sets.contains(&(*m, id.clone(), q.clone())),
            Subj::Wild(_) => unreachable!(),
        }
    }
}

type Key = (usize, String, String);

struct Naive<'m> {
    model: &'m Model,
    tuples: &'m [ModelTuple],
    values: HashMap<Key, Set>,
}

impl<'m> Naive<'m> {
    fn run(model: &'m Model, tuples: &'m [ModelTuple]) -> Naive<'m> {
        let mut naive = Naive {
            model,
            tuples,
            values: HashMap::new(),
        };
        for comp in &Strata::of(model).components {
            for round in 0.. {
                assert!(round < 1000, "no fixed point: the schema is not stratified");
                let mut changed = false;
                for (ns, name) in comp {
                    for id in universe() {
                        let value = naive.eval(*ns, &id, name);
                        let key = (*ns, id, name.clone());
                        if naive.values.get(&key) != Some(&value) {
                            naive.values.insert(key, value);
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
        }
        naive
    }

    fn get(&self, ns: usize, id: &str, name: &str) -> Set {
        self.values
            .get(&(ns, id.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn stored<'s>(
        &'s self,
        ns: usize,
        id: &'s str,
        relation: &'s str,
    ) -> impl Iterator<Item = &'s Subj> + 's {
        self.tuples
            .iter()
            .filter(move |t| t.0 == ns && t.1 == id && t.2 == relation)
            .map(|t| &t.3)
    }

    fn eval(&self, ns: usize, id: &str, name: &str) -> Set {
        match self.model.kind(ns, name).unwrap() {
            Kind::Relation(_, None) => self.own(ns, id, name),
            Kind::Relation(_, Some(expr)) => self.eval_expr(ns, id, name, expr),
            Kind::Permission(expr) => self.eval_expr(ns, id, name, expr),
        }
    }

    /// The set a relation's own tuples give.
    fn own(&self, ns: usize, id: &str, name: &str) -> Set {
        {
            {
                let mut set = Set::default();
                for s in self.stored(ns, id, name) {
                    let add = match s {
                        Subj::Obj(m, x) => Set {
                            objects: BTreeMap::from([(*m, Ids::Fin(BTreeSet::from([x.clone()])))]),
                            sets: BTreeSet::new(),
                        },
                        Subj::Wild(m) => Set {
                            objects: BTreeMap::from([(*m, Ids::Cof(BTreeSet::new()))]),
                            sets: BTreeSet::new(),
                        },
                        Subj::Set(m, y, q) => {
                            let mut inner = self.get(*m, y, q);
                            inner.sets.insert((*m, y.clone(), q.clone()));
                            inner
                        }
                    };
                    set = set.union(&add);
                }
                set
            }
        }
    }

    /// `owner`: the relation or permission the expression defines.
    fn eval_expr(&self, ns: usize, id: &str, owner: &str, expr: &Expr) -> Set {
        match expr {
            Expr::Name(n) => self.get(ns, id, n),
            Expr::This => self.own(ns, id, owner),
            Expr::Nil => Set::default(),
            Expr::SelfObj => Set {
                objects: BTreeMap::from([(ns, Ids::Fin(BTreeSet::from([id.to_owned()])))]),
                sets: BTreeSet::new(),
            },
            Expr::Arrow {
                tupleset,
                target,
                all,
            } => {
                let branches: Vec<Set> = self
                    .stored(ns, id, tupleset)
                    .filter_map(|s| match s {
                        Subj::Obj(m, x) => Some(if self.model.has(*m, target) {
                            self.get(*m, x, target)
                        } else {
                            Set::default()
                        }),
                        _ => None,
                    })
                    .collect();
                if *all {
                    let mut it = branches.into_iter();
                    match it.next() {
                        None => Set::default(),
                        Some(first) => it.fold(first, |acc, b| acc.inter(&b)),
                    }
                } else {
                    branches.iter().fold(Set::default(), |acc, b| acc.union(b))
                }
            }
            Expr::Union(c) => c
                .iter()
                .map(|e| self.eval_expr(ns, id, owner, e))
                .fold(Set::default(), |acc, b| acc.union(&b)),
            Expr::Inter(c) => {
                let mut it = c.iter().map(|e| self.eval_expr(ns, id, owner, e));
                let first = it.next().unwrap_or_default();
                it.fold(first, |acc, b| acc.inter(&b))
            }
            Expr::Excl(a, b) => self
                .eval_expr(ns, id, owner, a)
                .diff(&self.eval_expr(ns, id, owner, b)),
        }
    }
}

// ---------------------------------------------------------------------------
// The comparison.

/// A small deterministic generator for sampling queries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn compile(model: &Model) -> Option<Schema> {
    let (_, compiled) = zanzi::compile_source("random.zanzi", &model.source());
    compiled.schema
}

/// Every userset of the universe and every subject a check can ask about.
fn questions(model: &Model) -> (Vec<Key>, Vec<Subj>) {
    let mut usersets = Vec::new();
    let mut subjects = Vec::new();
    for (ns, members) in model.namespaces.iter().enumerate() {
        for id in universe() {
            subjects.push(Subj::Obj(ns, id.clone()));
            for (name, _) in members {
                usersets.push((ns, id.clone(), name.clone()));
            }
        }
        for id in POOL {
            for (name, _) in members {
                subjects.push(Subj::Set(ns, id.to_owned(), name.clone()));
            }
        }
    }
    (usersets, subjects)
}

/// Which stores a case runs on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stores {
    /// Memory, SQLite and SQLite behind the cache.
    Embedded,
    /// PostgreSQL: a fresh database of the test cluster.
    Postgres,
    /// PostgreSQL read through a hot standby (`--db-read-replica`), caught
    /// up before the reads.
    Replicated,
}

/// Every page of `n{ns}#{name}@{subject}` from lookup_resources, `limit`
/// at a time (at most ten pages, none longer than the limit).
fn all_pages(
    engine: &Engine<'_>,
    ns: usize,
    name: &str,
    subject: &Subject,
    limit: usize,
    rev: zanzi::store::Revision,
) -> Result<Vec<String>, EngineError> {
    let mut page = PageRequest::first(limit);
    let mut got = Vec::new();
    for _ in 0..10 {
        let result = engine.lookup_resources(&format!("n{ns}"), name, subject, &page, rev)?;
        assert!(result.items.len() <= limit, "a page longer than {limit}");
        got.extend(result.items);
        match result.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(got)
}

fn run_case(case: &Case, which: Stores) -> Result<(), TestCaseError> {
    let model = Model::from_raw(&case.namespaces);
    let Some(schema) = compile(&model) else {
        return Ok(());
    };
    let tuples = model_tuples(&model, &case.tuples);
    let naive = Naive::run(&model, &tuples);
    let written: Vec<Tuple> = tuples.iter().map(to_tuple).collect();
    let source = model.source();
    let data: String = written.iter().map(|t| format!("{t}\n")).collect();
    let context = || format!("schema:\n{source}\ntuples:\n{data}");

    let memory;
    let sqlite;
    let cached;
    let postgres;
    let postgres_cached;
    let postgres_mirror;
    let replicated;
    let mut catch_up: Option<&zanzi::store::postgres::ReplicatedStore> = None;
    let stores: Vec<(&str, &dyn TupleStore)> = match which {
        Stores::Embedded => {
            memory = MemoryStore::new();
            sqlite = SqliteStore::open_in_memory().unwrap();
            cached = CachedStore::new(SqliteStore::open_in_memory().unwrap()).unwrap();
            vec![
                ("memory", &memory),
                ("sqlite", &sqlite),
                ("cached", &cached),
            ]
        }
        Stores::Postgres => {
            let url = support::postgres::database();
            postgres = zanzi::store::PostgresStore::connect(&url).unwrap();
            // The mirror shares the first store's database, so it learns
            // that store's write from the feed (its own write after it
            // changes nothing).
            postgres_mirror =
                zanzi::store::MirrorStore::new(zanzi::store::PostgresStore::connect(&url).unwrap())
                    .unwrap();
            // A small cache, so that objects are evicted and read again.
            postgres_cached =
                zanzi::store::ObjectCache::new(support::postgres::store(), 64 << 10).unwrap();
            // Its schema tells the cache which arrows to read ahead along.
            zanzi::store::SchemaStore::save_schema(&postgres_cached, &schema).unwrap();
            vec![
                ("postgres", &postgres),
                ("postgres_cached", &postgres_cached),
                ("postgres_mirror", &postgres_mirror),
            ]
        }
        Stores::Replicated => {
            replicated = support::postgres::replicated_store();
            catch_up = Some(&replicated);
            vec![("replicated", &replicated)]
        }
    };
    let (usersets, subjects) = questions(&model);
    let mut rng = Rng(case.seed);
    for (store_name, store) in stores {
        let rev = zanzi::store::write_validated(store, &schema, &written, &[])
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
        // A cache answers from what the feed brought it once the feed has
        // passed the write (before that, from the database).
        let started = std::time::Instant::now();
        while store.local_head().unwrap() < rev && started.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        if let Some(replicated) = catch_up {
            support::postgres::catch_up(replicated);
        }
        let engine = Engine::new(&schema, store).with_options(EngineOptions { max_depth: 512 });
        // The memory store answers every check about an object subject and
        // a third of those about subject sets; SQLite and PostgreSQL a
        // sample of both.
        let sample = store_name != "memory" && store_name != "cached";
        for (ns, id, name) in &usersets {
            let object = Object::new(format!("n{ns}"), id);
            for subject in &subjects {
                let one_in = match (sample, subject) {
                    (false, Subj::Obj(..)) => 1,
                    (false, _) => 3,
                    (true, _) => 8,
                };
                if rng.below(one_in) != 0 {
                    continue;
                }
                let expected = naive.get(*ns, id, name).contains(subject);
                let got = engine
                    .check(&object, name, &to_subject(subject), rev)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                prop_assert_eq!(
                    got,
                    expected,
                    "{}: check {}#{}@{}\n{}",
                    store_name,
                    object,
                    name,
                    to_subject(subject),
                    context()
                );
                if rng.below(64) == 0 {
                    let explained = engine
                        .explain(&object, name, &to_subject(subject), rev)
                        .unwrap();
                    let outcome = if expected {
                        Outcome::Granted
                    } else {
                        Outcome::Denied
                    };
                    prop_assert_eq!(explained.outcome, outcome);
                }
            }
        }
        // lookup_subjects for every userset and namespace.
        for (ns, id, name) in &usersets {
            if sample && rng.below(3) != 0 {
                continue;
            }
            let object = Object::new(format!("n{ns}"), id);
            let set = naive.get(*ns, id, name);
            for m in 0..model.namespaces.len() {
                let found = engine
                    .lookup_subjects(&object, name, &format!("n{m}"), rev)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                let what = format!(
                    "{store_name}: lookup_subjects {object}#{name} n{m}\n{}",
                    context()
                );
                match set.ids(m) {
                    Ids::Fin(ids) => {
                        prop_assert!(!found.wildcard, "{}", what);
                        prop_assert_eq!(
                            &found.subject_ids,
                            &ids.iter().cloned().collect::<Vec<_>>(),
                            "{}",
                            what
                        );
                    }
                    Ids::Cof(excluded) => {
                        prop_assert!(found.wildcard, "{}", what);
                        prop_assert_eq!(
                            &found.excluded,
                            &excluded.iter().cloned().collect::<Vec<_>>(),
                            "{}",
                            what
                        );
                        prop_assert!(
                            found.subject_ids.iter().all(|s| !excluded.contains(s)),
                            "{}",
                            what
                        );
                    }
                }
            }
        }
        // lookup_resources for every relation and subject, some paged.
        for (ns, members) in model.namespaces.iter().enumerate() {
            for (name, _) in members {
                for subject in &subjects {
                    if rng.below(if sample { 12 } else { 3 }) != 0 {
                        continue;
                    }
                    let expected: Vec<String> = universe()
                        .into_iter()
                        .filter(|id| naive.get(ns, id, name).contains(subject))
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let limit = 1 + rng.below(4);
                    let got = all_pages(&engine, ns, name, &to_subject(subject), limit, rev)
                        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                    prop_assert_eq!(
                        &got,
                        &expected,
                        "{}: lookup_resources n{}#{}@{}\n{}",
                        store_name,
                        ns,
                        name,
                        to_subject(subject),
                        context()
                    );
                }
            }
        }
    }
    if let Some(replicated) = catch_up {
        // The standby served reads, so the comparison above tested it. (Not
        // necessarily all: on a loaded machine a slow checkout there sends
        // reads to the primary for a while, which is the routing's job;
        // tests/postgres_replicas.rs checks where each read goes.)
        let counts = replicated.read_counts();
        prop_assert!(counts.replica > 0 || counts.primary == 0, "{:?}", counts);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3000,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_engine_agrees_with_the_naive_evaluator(case in case()) {
        run_case(&case, Stores::Embedded)?;
    }
}

proptest! {
    // Fewer cases on PostgreSQL: every read is a round trip to a server and
    // every case a new database, so a case costs tens of milliseconds.
    #![proptest_config(ProptestConfig {
        cases: 100,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_engine_on_postgres_agrees_with_the_naive_evaluator(case in case()) {
        run_case(&case, Stores::Postgres)?;
    }
}

proptest! {
    // Fewer still through a read replica: each case waits for the standby.
    #![proptest_config(ProptestConfig {
        cases: 16,
        max_shrink_iters: 50,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_engine_through_a_read_replica_agrees_with_the_naive_evaluator(case in case()) {
        run_case(&case, Stores::Replicated)?;
    }
}

/// A case written to a memory store.
struct InMemory {
    model: Model,
    schema: Schema,
    store: MemoryStore,
    rev: zanzi::store::Revision,
    /// The schema and tuples, for failure messages.
    text: String,
}

/// `case` written to a new memory store; `None` when its schema does not
/// compile.
fn in_memory(case: &Case) -> Result<Option<InMemory>, TestCaseError> {
    let model = Model::from_raw(&case.namespaces);
    let Some(schema) = compile(&model) else {
        return Ok(None);
    };
    let written: Vec<Tuple> = model_tuples(&model, &case.tuples)
        .iter()
        .map(to_tuple)
        .collect();
    let data: String = written.iter().map(|t| format!("{t}\n")).collect();
    let text = format!("schema:\n{}\ntuples:\n{data}", model.source());
    let store = MemoryStore::new();
    let rev = zanzi::store::write_validated(&store, &schema, &written, &[])
        .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    Ok(Some(InMemory {
        model,
        schema,
        store,
        rev,
        text,
    }))
}

/// Under small depth limits, where the lookups' own decisions meet the
/// depth limit: each lookup agrees with a check of every object (or every
/// subject) wherever that check answers. A lookup decides most candidates
/// from its walk, without a check; this pins that such a decision is never
/// one a check would not make. (The naive evaluator has no depth limit, so
/// this compares the engine with itself.)
///
/// A lookup of subjects checks each remaining candidate alone, so it also
/// fails exactly when the check of a subject it named fails. A lookup of
/// resources checks its remaining candidates with one checker, whose memo
/// keeps what one check learnt within the limit for the next; near the
/// limit, on cyclic data, that can answer for an object whose check alone
/// fails, and the order of its branches can fail where a check alone
/// answers. So for resources only the answers are compared.
fn run_depth_case(case: &Case) -> Result<(), TestCaseError> {
    let Some(InMemory {
        model,
        schema,
        store,
        rev,
        text,
    }) = in_memory(case)?
    else {
        return Ok(());
    };
    let context = || text.as_str();
    let (usersets, subjects) = questions(&model);
    let mut rng = Rng(case.seed);
    let depth_error =
        |r: &Result<bool, EngineError>| matches!(r, Err(EngineError::DepthExceeded { .. }));
    for max_depth in 0..=3 {
        let engine = Engine::new(&schema, &store).with_options(EngineOptions { max_depth });
        // lookup_resources, against a check of every object.
        for (ns, members) in model.namespaces.iter().enumerate() {
            for (name, _) in members {
                for subject in &subjects {
                    if rng.below(2) != 0 {
                        continue;
                    }
                    let subject = to_subject(subject);
                    let checks: Vec<(String, Result<bool, EngineError>)> = universe()
                        .into_iter()
                        .map(|id| {
                            let object = Object::new(format!("n{ns}"), &id);
                            let answer = engine.check(&object, name, &subject, rev);
                            (id, answer)
                        })
                        .collect();
                    let what = || {
                        format!(
                            "depth {max_depth}: lookup_resources n{ns}#{name}@{subject}\n{checks:?}\n{}",
                            context()
                        )
                    };
                    let limit = 1 + rng.below(4);
                    match all_pages(&engine, ns, name, &subject, limit, rev) {
                        Err(EngineError::DepthExceeded { .. }) => {}
                        Err(other) => {
                            return Err(TestCaseError::fail(format!("{other}\n{}", what())))
                        }
                        Ok(got) => {
                            for (id, answer) in &checks {
                                if let Ok(answer) = answer {
                                    prop_assert_eq!(
                                        *answer,
                                        got.contains(id),
                                        "{}: {}",
                                        id,
                                        what()
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        // lookup_subjects, against a check of every subject of the namespace.
        for (ns, id, name) in &usersets {
            if rng.below(2) != 0 {
                continue;
            }
            let object = Object::new(format!("n{ns}"), id);
            for m in 0..model.namespaces.len() {
                // The universe, and a subject no tuple names and that is not
                // the object (as the lookup's anonymous check asks).
                let checks: Vec<(String, Result<bool, EngineError>)> = universe()
                    .into_iter()
                    .chain(["anonymous".to_owned()])
                    .map(|s| {
                        let answer =
                            engine.check(&object, name, &Subject::object(format!("n{m}"), &s), rev);
                        (s, answer)
                    })
                    .collect();
                let what = || {
                    format!(
                        "depth {max_depth}: lookup_subjects {object}#{name} n{m}\n{checks:?}\n{}",
                        context()
                    )
                };
                match engine.lookup_subjects(&object, name, &format!("n{m}"), rev) {
                    Err(EngineError::DepthExceeded { .. }) => {
                        prop_assert!(checks.iter().any(|(_, r)| depth_error(r)), "{}", what());
                    }
                    Err(other) => return Err(TestCaseError::fail(format!("{other}\n{}", what()))),
                    Ok(found) => {
                        for (s, answer) in &checks {
                            let named = found.subject_ids.contains(s) || found.excluded.contains(s);
                            let allowed = found.subject_ids.contains(s)
                                || (found.wildcard && !found.excluded.contains(s));
                            match answer {
                                Ok(answer) => {
                                    prop_assert_eq!(*answer, allowed, "{}: {}", s, what())
                                }
                                // Only a subject the walk never met may fail
                                // where the lookup answers: it was never asked.
                                Err(_) => prop_assert!(!named, "{}: {}", s, what()),
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        max_shrink_iters: 1000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn lookups_agree_with_checks_under_small_depth_limits(case in case()) {
        run_depth_case(&case)?;
    }
}

/// Checks in memory first try an evaluator of their own over the store's
/// numbers, which gives up on cycles, the depth limit and traits; an
/// explanation always takes the full checker. Under small depth limits,
/// where the two part most often, they must still agree on every question,
/// an exceeded limit included.
fn run_plain_case(case: &Case) -> Result<(), TestCaseError> {
    let Some(InMemory {
        model,
        schema,
        store,
        rev,
        text,
    }) = in_memory(case)?
    else {
        return Ok(());
    };
    let context = || text.as_str();
    let (usersets, subjects) = questions(&model);
    let mut rng = Rng(case.seed);
    for max_depth in [0, 1, 2, 3, 512] {
        let engine = Engine::new(&schema, &store).with_options(EngineOptions { max_depth });
        for (ns, id, name) in &usersets {
            let object = Object::new(format!("n{ns}"), id);
            for subject in &subjects {
                if rng.below(2) != 0 {
                    continue;
                }
                let subject = to_subject(subject);
                let checked = match engine.check(&object, name, &subject, rev) {
                    Ok(true) => Outcome::Granted,
                    Ok(false) => Outcome::Denied,
                    Err(EngineError::DepthExceeded { .. }) => Outcome::Unknown,
                    Err(other) => {
                        return Err(TestCaseError::fail(format!("{other}\n{}", context())))
                    }
                };
                let explained = engine.explain(&object, name, &subject, rev).unwrap();
                prop_assert_eq!(
                    checked,
                    explained.outcome,
                    "depth {}: {}#{}@{}\n{}",
                    max_depth,
                    object,
                    name,
                    subject,
                    context()
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 500,
        max_shrink_iters: 1000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn checks_agree_with_the_full_checker_under_depth_limits(case in case()) {
        run_plain_case(&case)?;
    }
}

#[test]
fn enough_generated_schemas_compile() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut compiled = 0;
    let total = 300;
    for _ in 0..total {
        let case = case().new_tree(&mut runner).unwrap().current();
        if compile(&Model::from_raw(&case.namespaces)).is_some() {
            compiled += 1;
        }
    }
    assert!(
        compiled * 2 > total,
        "only {compiled} of {total} random schemas compile"
    );
}
