//! Differential tests with conditions, expiry and contextual tuples: the
//! engine against a naive three-valued evaluator on random schemas, random
//! tuples and random requests, on every embedded store.
//!
//! Random schemas are engine_diff.rs's (tests/support/schemas.rs:
//! namespaces, relations with types, rewrites with `|`, `&`, `-`, `->` and
//! `.all`) plus three conditions over boolean parameters, two of which
//! share a parameter, and types that randomly carry `with cN`,
//! `with expiration` or both. Random tuples carry the conditions and
//! expiries their types allow, a random part of the condition's context
//! stored with them; each case's request fixes a random part of the
//! parameters and the read time, and sometimes brings
//! contextual tuples. The naive evaluator is in
//! `engine_diff_conditions/naive.rs`; the tuples' and requests' generator in
//! `…/model.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]

mod support;

#[path = "engine_diff_conditions/model.rs"]
mod model;
#[path = "engine_diff_conditions/naive.rs"]
mod naive;

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use zanzi::engine::{Decision, Engine, EngineOptions, Outcome, RequestContext};
use zanzi::ir::Schema;
use zanzi::store::{CachedStore, MemoryStore, PageRequest, SqliteStore, TupleStore};
use zanzi::tuple::{Expiry, Object, Tuple};

use model::{model_tuples, request_context, to_subject, to_tuple, Case, MTuple, Subj, NOW};
use naive::{existing, Key, Naive, V};
use support::schemas::{universe, Expr, Kind, Model, Strata, Traits, Ty, CONDITION_SOURCE, POOL};

/// The schema's source text, with the conditions its types name.
fn source(model: &Model) -> String {
    format!("{CONDITION_SOURCE}{}", model.source())
}

fn compile(model: &Model) -> Option<Schema> {
    let (_, compiled) = zanzi::compile_source("random.zanzi", &source(model));
    // Until the language compiles conditions: the same schema built
    // through the IR.
    compiled.schema
}

/// A tuple in the notation, with its condition and expiry.
fn notation(t: &Tuple) -> String {
    let mut text = format!("{}#{}@{}", t.object, t.relation, t.subject);
    if let Some(condition) = &t.condition {
        text.push_str(&format!(
            "[{}:{}]",
            condition.name,
            condition.context.as_json()
        ));
    }
    if let Some(expires) = t.expires_at {
        text.push_str(&format!("[expiration:{expires}]"));
    }
    text
}

fn decision(value: &V) -> Decision {
    match value {
        V::T => Decision::Allowed,
        V::F => Decision::Denied,
        V::C(missing) => Decision::Conditional {
            missing: missing.iter().map(|m| (*m).to_owned()).collect(),
        },
    }
}

/// Every userset of the universe, every subject a check can ask about, and
/// the anonymous subject of each namespace.
fn questions(model: &Model) -> (Vec<Key>, Vec<Subj>) {
    let mut usersets = Vec::new();
    let mut subjects = Vec::new();
    for (ns, members) in model.namespaces.iter().enumerate() {
        subjects.push(Subj::Anon(ns));
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

/// The naive values of every userset, per subject.
type Expected = HashMap<Subj, HashMap<Key, V>>;

fn expected(model: &Model, tuples: &[(MTuple, V)], subjects: &[Subj]) -> Expected {
    let strata = Strata::of(model);
    let (usersets, _) = questions(model);
    subjects
        .iter()
        .map(|s| {
            let naive = Naive::run(model, &strata, tuples, s);
            let values = usersets
                .iter()
                .map(|(ns, id, name)| ((*ns, id.clone(), name.clone()), naive.get(*ns, id, name)))
                .collect();
            (s.clone(), values)
        })
        .collect()
}

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

/// Where a case's tuples are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Data {
    /// Written to every embedded store (memory, SQLite, SQLite behind the
    /// cache), the request's random contextual tuples beside them.
    Stored,
    /// All of them contextual tuples of the request, on an empty memory
    /// store: the overlay carries everything.
    Contextual,
}

fn run_case(case: &Case, data: Data) -> Result<(), TestCaseError> {
    let model = Model::from_raw(&case.namespaces);
    let Some(schema) = compile(&model) else {
        return Ok(());
    };
    let stored = model_tuples(&model, &case.tuples, true);
    let contextual = model_tuples(&model, &case.request.tuples, false);
    let params = request_context(&case.request);
    let all: Vec<MTuple> = stored.iter().chain(&contextual).cloned().collect();
    let live = existing(&all, &params, NOW);
    let (usersets, subjects) = questions(&model);
    let expected = expected(&model, &live, &subjects);

    let (written, contextual): (Vec<Tuple>, Vec<Tuple>) = match data {
        Data::Stored => (
            stored.iter().map(to_tuple).collect(),
            contextual.iter().map(to_tuple).collect(),
        ),
        Data::Contextual => (Vec::new(), all.iter().map(to_tuple).collect()),
    };
    let request = RequestContext {
        context: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::Bool(*v)))
            .collect(),
        now: Some(Expiry::from_micros(NOW)),
        tuples: contextual,
    };
    let source = source(&model);
    let text = |tuples: &[Tuple]| {
        tuples
            .iter()
            .map(|t| format!("{}\n", notation(t)))
            .collect::<String>()
    };
    let context = || {
        format!(
            "schema:\n{source}\ntuples:\n{}\ncontextual tuples:\n{}\nrequest context: {:?}",
            text(&written),
            text(&request.tuples),
            params
        )
    };

    let memory = MemoryStore::new();
    let sqlite;
    let cached;
    let stores: Vec<(&str, &dyn TupleStore)> = match data {
        Data::Stored => {
            sqlite = SqliteStore::open_in_memory().unwrap();
            cached = CachedStore::new(SqliteStore::open_in_memory().unwrap()).unwrap();
            vec![
                ("memory", &memory),
                ("sqlite", &sqlite),
                ("cached", &cached),
            ]
        }
        Data::Contextual => vec![("memory", &memory)],
    };
    let mut rng = Rng(case.seed);
    for (store_name, store) in stores {
        let rev = zanzi::store::write_validated(store, &schema, &written, &[])
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
        // A cache answers from what the feed brought it once the feed has
        // passed the write.
        let started = std::time::Instant::now();
        while store.local_head().unwrap() < rev && started.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let engine = Engine::new(&schema, store)
            .with_request(&request)
            .with_options(EngineOptions { max_depth: 512 });
        // The memory store answers every check about an object subject and
        // a third of those about subject sets; the others a sample.
        let sample = store_name != "memory";
        for key in &usersets {
            let (ns, id, name) = key;
            let object = Object::new(format!("n{ns}"), id);
            for subject in &subjects {
                let one_in = match (sample, subject) {
                    (_, Subj::Anon(_)) => continue,
                    (false, Subj::Obj(..)) => 1,
                    (false, _) => 3,
                    (true, _) => 8,
                };
                if rng.below(one_in) != 0 {
                    continue;
                }
                let want = decision(&expected[subject][key]);
                let got = engine
                    .decide(&object, name, &to_subject(subject), rev)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                if rng.below(64) == 0 {
                    // The explanation's tree is evaluated apart: same answer.
                    let explained = engine
                        .explain(&object, name, &to_subject(subject), rev)
                        .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                    let (outcome, missing) = match &want {
                        Decision::Allowed => (Outcome::Granted, Vec::new()),
                        Decision::Denied => (Outcome::Denied, Vec::new()),
                        Decision::Conditional { missing } => {
                            (Outcome::Conditional, missing.clone())
                        }
                    };
                    prop_assert_eq!(explained.outcome, outcome);
                    prop_assert_eq!(&explained.missing, &missing);
                }
                prop_assert_eq!(
                    got,
                    want,
                    "{}: decide {}#{}@{}\n{}",
                    store_name,
                    object,
                    name,
                    to_subject(subject),
                    context()
                );
            }
        }
        // lookup_subjects for every userset and namespace.
        for key in &usersets {
            if sample && rng.below(3) != 0 {
                continue;
            }
            let (ns, id, name) = key;
            let object = Object::new(format!("n{ns}"), id);
            for m in 0..model.namespaces.len() {
                let found = engine
                    .lookup_subjects(&object, name, &format!("n{m}"), rev)
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                let what = || {
                    format!(
                        "{store_name}: lookup_subjects {object}#{name} n{m}: {found:?}\n{}",
                        context()
                    )
                };
                let value = |s: &Subj| &expected[s][key];
                let anonymous = value(&Subj::Anon(m));
                prop_assert_eq!(found.wildcard, *anonymous == V::T, "{}", what());
                let wildcard_missing = match decision(anonymous) {
                    Decision::Conditional { missing } => Some(missing),
                    _ => None,
                };
                prop_assert_eq!(&found.wildcard_missing, &wildcard_missing, "{}", what());
                let ids = universe();
                let listed = found
                    .subject_ids
                    .iter()
                    .chain(found.conditional.iter().map(|c| &c.id))
                    .chain(&found.excluded);
                for id in listed {
                    prop_assert!(ids.contains(id), "{} not in the universe: {}", id, what());
                }
                for x in ids {
                    let v = value(&Subj::Obj(m, x.clone()));
                    let in_ids = found.subject_ids.contains(&x);
                    let in_excluded = found.excluded.contains(&x);
                    let in_conditional: Vec<_> =
                        found.conditional.iter().filter(|c| c.id == x).collect();
                    let listed =
                        usize::from(in_ids) + usize::from(in_excluded) + in_conditional.len();
                    prop_assert!(listed <= 1, "{} listed twice: {}", x, what());
                    if listed == 0 {
                        // Unnamed by a tuple: the same as the anonymous
                        // subject, and then a wildcard answers for it.
                        prop_assert!(
                            v == anonymous || (*v == V::F && *anonymous != V::T),
                            "{} ({:?}) missing: {}",
                            x,
                            v,
                            what()
                        );
                        continue;
                    }
                    match v {
                        V::T => prop_assert!(in_ids, "{} is allowed: {}", x, what()),
                        V::F => prop_assert!(
                            in_excluded && found.wildcard,
                            "{} is denied: {}",
                            x,
                            what()
                        ),
                        V::C(_) => {
                            let Decision::Conditional { missing } = decision(v) else {
                                unreachable!()
                            };
                            prop_assert!(
                                in_conditional.first().is_some_and(|c| c.missing == missing),
                                "{} is conditional on {:?}: {}",
                                x,
                                missing,
                                what()
                            );
                        }
                    }
                }
            }
        }
        // lookup_resources_decided for every relation and subject, paged.
        for (ns, members) in model.namespaces.iter().enumerate() {
            for (name, _) in members {
                for subject in &subjects {
                    if matches!(subject, Subj::Anon(_))
                        || rng.below(if sample { 12 } else { 3 }) != 0
                    {
                        continue;
                    }
                    // Mostly with the conditional objects, sometimes without.
                    let conditional = rng.below(4) != 0;
                    let want: Vec<(String, Decision)> = universe()
                        .into_iter()
                        .map(|id| {
                            let key = (ns, id.clone(), name.clone());
                            (id, decision(&expected[subject][&key]))
                        })
                        .filter(|(_, d)| match d {
                            Decision::Allowed => true,
                            Decision::Conditional { .. } => conditional,
                            Decision::Denied => false,
                        })
                        .collect::<BTreeMap<_, _>>()
                        .into_iter()
                        .collect();
                    let limit = 1 + rng.below(4);
                    let mut page = PageRequest::first(limit);
                    let mut got = Vec::new();
                    for _ in 0..10 {
                        let result = engine
                            .lookup_resources_decided(
                                &format!("n{ns}"),
                                name,
                                &to_subject(subject),
                                &page,
                                rev,
                                conditional,
                            )
                            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", context())))?;
                        prop_assert!(result.items.len() <= limit);
                        got.extend(result.items);
                        match result.next_cursor {
                            Some(cursor) => page.cursor = Some(cursor),
                            None => break,
                        }
                    }
                    prop_assert_eq!(
                        &got,
                        &want,
                        "{}: lookup_resources (conditional: {}) n{}#{}@{}\n{}",
                        store_name,
                        conditional,
                        ns,
                        name,
                        to_subject(subject),
                        context()
                    );
                }
            }
        }
    }
    Ok(())
}

/// 300 cases, or `PROPTEST_CASES` when set (to run more than CI does).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_engine_with_conditions_agrees_with_the_naive_evaluator(case in model::case()) {
        run_case(&case, Data::Stored)?;
    }

    #[test]
    fn the_engine_with_contextual_tuples_only_agrees_with_the_naive_evaluator(
        case in model::case()
    ) {
        run_case(&case, Data::Contextual)?;
    }
}

#[test]
fn enough_generated_schemas_compile_and_tuples_carry_traits() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut compiled, mut conditional, mut expiring) = (0, 0, 0);
    let total = 300;
    for _ in 0..total {
        let case = model::case().new_tree(&mut runner).unwrap().current();
        let model = Model::from_raw(&case.namespaces);
        if compile(&model).is_some() {
            compiled += 1;
            let tuples = model_tuples(&model, &case.tuples, true);
            conditional += tuples.iter().filter(|t| t.condition.is_some()).count();
            expiring += tuples.iter().filter(|t| t.expires.is_some()).count();
        }
    }
    assert!(
        compiled * 2 > total,
        "only {compiled} of {total} random schemas compile"
    );
    assert!(
        conditional > compiled && expiring > compiled / 2,
        "{conditional} tuples with a condition and {expiring} with an expiry in {compiled} cases"
    );
}

// ---------------------------------------------------------------------------
// The naive evaluator on hand-made cases (the engine's own cases in
// engine_conditions.rs, in the model's terms).

const C0: Traits = Traits {
    condition: Some(0),
    expiration: false,
};
const C1: Traits = Traits {
    condition: Some(1),
    expiration: false,
};
const C2: Traits = Traits {
    condition: Some(2),
    expiration: false,
};
const PLAIN: Traits = Traits {
    condition: None,
    expiration: false,
};

fn relation(types: &[(Ty, Traits)]) -> Kind {
    Kind::Relation(types.to_vec(), None)
}

fn tuple(ns: usize, object: &str, relation: &str, subject: Subj) -> MTuple {
    MTuple {
        ns,
        object: object.to_owned(),
        relation: relation.to_owned(),
        subject,
        condition: None,
        expires: None,
    }
}

fn with(mut t: MTuple, condition: usize, stored: &[(&'static str, bool)]) -> MTuple {
    t.condition = Some((condition, stored.iter().copied().collect()));
    t
}

fn user(id: &str) -> Subj {
    Subj::Obj(0, id.to_owned())
}

/// The naive value of `ns:id#name` for `subject`.
fn value(
    model: &Model,
    data: &[MTuple],
    params: &[(&'static str, bool)],
    (ns, id, name): (usize, &str, &str),
    subject: &Subj,
) -> V {
    let live = existing(data, &params.iter().copied().collect(), NOW);
    Naive::run(model, &Strata::of(model), &live, subject).get(ns, id, name)
}

/// `n0` users; `n1` documents: `r0` viewer, `r1` blocked, `r2` cleared,
/// `r3` parent (folders are `n1` too); `p0 = r0 - r1`, `p1 = r0 & r2`,
/// `p2 = r0 | r3->r0`, `p3 = r3.all(r0)`.
fn documents() -> Model {
    let n0 = Ty::Obj(0);
    Model {
        namespaces: vec![
            vec![],
            vec![
                (
                    "r0".into(),
                    relation(&[(n0.clone(), PLAIN), (n0.clone(), C0), (Ty::Wild(0), C2)]),
                ),
                (
                    "r1".into(),
                    relation(&[(n0.clone(), PLAIN), (n0.clone(), C1)]),
                ),
                ("r2".into(), relation(&[(n0, C2)])),
                (
                    "r3".into(),
                    relation(&[(Ty::Obj(1), PLAIN), (Ty::Obj(1), C0)]),
                ),
                (
                    "p0".into(),
                    Kind::Permission(Expr::Excl(
                        Box::new(Expr::Name("r0".into())),
                        Box::new(Expr::Name("r1".into())),
                    )),
                ),
                (
                    "p1".into(),
                    Kind::Permission(Expr::Inter(vec![
                        Expr::Name("r0".into()),
                        Expr::Name("r2".into()),
                    ])),
                ),
                (
                    "p2".into(),
                    Kind::Permission(Expr::Union(vec![
                        Expr::Name("r0".into()),
                        Expr::Arrow {
                            tupleset: "r3".into(),
                            target: "r0".into(),
                            all: false,
                        },
                    ])),
                ),
                (
                    "p3".into(),
                    Kind::Permission(Expr::Arrow {
                        tupleset: "r3".into(),
                        target: "r0".into(),
                        all: true,
                    }),
                ),
            ],
        ],
    }
}

#[test]
fn naive_a_missing_parameter_is_conditional_and_a_given_one_decides() {
    let model = documents();
    let data = [with(tuple(1, "d", "r0", user("bob")), 0, &[])];
    let q = (1, "d", "r0");
    assert_eq!(value(&model, &data, &[], q, &user("bob")), V::cond(&["p0"]));
    assert_eq!(value(&model, &data, &[("p0", true)], q, &user("bob")), V::T);
    assert_eq!(
        value(&model, &data, &[("p0", false)], q, &user("bob")),
        V::F
    );
    assert_eq!(value(&model, &data, &[], q, &user("eve")), V::F);
    // The stored value wins over the request's.
    let fixed = [with(tuple(1, "d", "r0", user("bob")), 0, &[("p0", false)])];
    assert_eq!(
        value(&model, &fixed, &[("p0", true)], q, &user("bob")),
        V::F
    );
}

#[test]
fn naive_every_missing_parameter_is_named_even_beside_a_false_one() {
    // `p0 && p2` with p0 false and p2 missing: missing, as the rules say.
    let model = documents();
    let data = [with(tuple(1, "d", "r0", Subj::Wild(0)), 2, &[])];
    let q = (1, "d", "r0");
    assert_eq!(
        value(&model, &data, &[("p0", false)], q, &user("ann")),
        V::cond(&["p2"])
    );
    assert_eq!(
        value(&model, &data, &[], q, &Subj::Anon(0)),
        V::cond(&["p0", "p2"])
    );
    assert_eq!(
        value(
            &model,
            &data,
            &[("p0", true), ("p2", true)],
            q,
            &Subj::Anon(0)
        ),
        V::T
    );
}

#[test]
fn naive_exclusion_intersection_and_arrows_are_kleene() {
    let model = documents();
    let data = [
        tuple(1, "d", "r0", user("bob")),
        with(tuple(1, "d", "r1", user("bob")), 1, &[]),
        with(tuple(1, "d", "r2", user("bob")), 2, &[("p2", true)]),
        with(tuple(1, "d", "r2", user("eve")), 2, &[]),
        with(tuple(1, "d", "r3", Subj::Obj(1, "f".into())), 0, &[]),
        tuple(1, "d", "r3", Subj::Obj(1, "g".into())),
        tuple(1, "f", "r0", user("ann")),
        tuple(1, "g", "r0", user("ann")),
        tuple(1, "g", "r0", user("cy")),
    ];
    let bob = user("bob");
    assert_eq!(
        value(&model, &data, &[], (1, "d", "p0"), &bob),
        V::cond(&["p1"])
    );
    assert_eq!(
        value(&model, &data, &[("p1", false)], (1, "d", "p0"), &bob),
        V::T
    );
    assert_eq!(
        value(&model, &data, &[("p1", true)], (1, "d", "p0"), &bob),
        V::F
    );
    assert_eq!(
        value(&model, &data, &[], (1, "d", "p1"), &bob),
        V::cond(&["p0"])
    );
    // Eve is no viewer: denied whatever the missing values.
    assert_eq!(
        value(&model, &data, &[], (1, "d", "p1"), &user("eve")),
        V::F
    );
    // Ann through f (conditional) and g (plain): any hop allowed, and
    // `.all` too, whether or not the tuple naming f holds.
    let ann = user("ann");
    assert_eq!(value(&model, &data, &[], (1, "d", "p2"), &ann), V::T);
    assert_eq!(value(&model, &data, &[], (1, "d", "p3"), &ann), V::T);
    // Cy only through g: the conditional hop to f makes `.all` depend on
    // its condition, which decides it once given.
    let cy = user("cy");
    assert_eq!(value(&model, &data, &[], (1, "d", "p2"), &cy), V::T);
    assert_eq!(
        value(&model, &data, &[], (1, "d", "p3"), &cy),
        V::cond(&["p0"])
    );
    assert_eq!(
        value(&model, &data, &[("p0", false)], (1, "d", "p3"), &cy),
        V::T
    );
    assert_eq!(
        value(&model, &data, &[("p0", true)], (1, "d", "p3"), &cy),
        V::F
    );
    // Only conditional hops: the tupleset itself may turn out empty.
    let only = [
        with(tuple(1, "d", "r3", Subj::Obj(1, "f".into())), 0, &[]),
        tuple(1, "f", "r0", user("ann")),
    ];
    assert_eq!(
        value(&model, &only, &[], (1, "d", "p3"), &ann),
        V::cond(&["p0"])
    );
    assert_eq!(
        value(&model, &only, &[("p0", true)], (1, "d", "p3"), &ann),
        V::T
    );
    assert_eq!(
        value(&model, &only, &[("p0", false)], (1, "d", "p3"), &ann),
        V::F
    );
    // ... and when none of them leads to a member, denied whether they
    // hold (a hop denied) or not (no hop).
    assert_eq!(value(&model, &only, &[], (1, "d", "p3"), &cy), V::F);
    // A conditional hop to a conditional target: both conditions' parameters.
    let deeper = [
        tuple(1, "d", "r3", Subj::Obj(1, "g".into())),
        with(tuple(1, "d", "r3", Subj::Obj(1, "f".into())), 0, &[]),
        tuple(1, "g", "r0", user("ann")),
        with(tuple(1, "f", "r0", Subj::Wild(0)), 2, &[("p0", true)]),
    ];
    assert_eq!(
        value(&model, &deeper, &[], (1, "f", "r0"), &ann),
        V::cond(&["p2"])
    );
    assert_eq!(
        value(&model, &deeper, &[], (1, "d", "p3"), &ann),
        V::cond(&["p0", "p2"])
    );
    // No hop: `.all` is denied.
    assert_eq!(value(&model, &data, &[], (1, "f", "p3"), &ann), V::F);
}

#[test]
fn naive_expired_tuples_do_not_exist() {
    let model = documents();
    let q = (1, "d", "r0");
    let at = |expires| {
        let mut t = tuple(1, "d", "r0", user("bob"));
        t.expires = Some(expires);
        [t]
    };
    let hour = 3_600_000_000;
    assert_eq!(value(&model, &at(NOW + 1), &[], q, &user("bob")), V::T);
    assert_eq!(value(&model, &at(NOW), &[], q, &user("bob")), V::F);
    assert_eq!(value(&model, &at(NOW - hour), &[], q, &user("bob")), V::F);
}

/// `n1` groups: `r0` member of users (with c1) and of groups' members
/// (with c0, and with c2).
fn groups() -> Model {
    let set = Ty::Set(1, "r0".into());
    Model {
        namespaces: vec![
            vec![],
            vec![(
                "r0".into(),
                relation(&[(Ty::Obj(0), C1), (set.clone(), C0), (set, C2)]),
            )],
        ],
    }
}

#[test]
fn naive_conditional_cycles_reach_the_least_fixed_point() {
    let model = groups();
    let g = |id: &str| Subj::Set(1, id.into(), "r0".into());
    let data = [
        with(tuple(1, "g1", "r0", user("ann")), 1, &[]),
        with(tuple(1, "g1", "r0", g("g2")), 0, &[]),
        with(tuple(1, "g2", "r0", g("g1")), 2, &[("p2", true)]),
    ];
    let ann = user("ann");
    let both = V::cond(&["p0", "p1"]);
    assert_eq!(value(&model, &data, &[], (1, "g1", "r0"), &ann), both);
    assert_eq!(value(&model, &data, &[], (1, "g2", "r0"), &ann), both);
    assert_eq!(
        value(&model, &data, &[("p0", true)], (1, "g2", "r0"), &ann),
        V::cond(&["p1"])
    );
    assert_eq!(
        value(
            &model,
            &data,
            &[("p0", true), ("p1", true)],
            (1, "g2", "r0"),
            &ann
        ),
        V::T
    );
    // Without ann's tuple the cycle holds nothing: F, not conditional.
    assert_eq!(
        value(&model, &data, &[("p1", false)], (1, "g2", "r0"), &ann),
        V::F
    );
    // A subject set is a member of the sets that reach it.
    assert_eq!(
        value(&model, &data, &[], (1, "g2", "r0"), &g("g1")),
        V::cond(&["p0"])
    );
    assert_eq!(
        value(&model, &data, &[], (1, "g1", "r0"), &g("g1")),
        V::cond(&["p0"])
    );
}
