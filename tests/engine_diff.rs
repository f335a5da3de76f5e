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
//! Schemas are generated as source text and compiled; the ones the compiler
//! rejects (for example negation through recursion) are skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use zanzi::engine::{Engine, EngineOptions, Outcome};
use zanzi::ir::Schema;
use zanzi::store::{CachedStore, MemoryStore, PageRequest, SqliteStore, TupleStore};
use zanzi::tuple::{Object, Subject, Tuple};

// ---------------------------------------------------------------------------
// Raw random choices; indices are taken modulo what is available, so any
// vector of numbers is a schema and shrinking stays meaningful.

#[derive(Clone, Debug)]
struct RawTy {
    kind: u8,
    ns: u8,
    name: u8,
}

#[derive(Clone, Debug)]
enum RawExpr {
    Leaf { kind: u8, a: u8, b: u8 },
    Union(Vec<RawExpr>),
    Inter(Vec<RawExpr>),
    Excl(Box<RawExpr>, Box<RawExpr>),
}

#[derive(Clone, Debug)]
struct RawNs {
    relations: Vec<Vec<RawTy>>,
    /// Per relation (by index), an optional rewrite over `this`.
    rewrites: Vec<Option<RawExpr>>,
    permissions: Vec<RawExpr>,
}

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

fn raw_ty() -> impl Strategy<Value = RawTy> {
    (0u8..7, any::<u8>(), any::<u8>()).prop_map(|(kind, ns, name)| RawTy { kind, ns, name })
}

fn raw_expr() -> impl Strategy<Value = RawExpr> {
    let leaf =
        (0u8..8, any::<u8>(), any::<u8>()).prop_map(|(kind, a, b)| RawExpr::Leaf { kind, a, b });
    leaf.prop_recursive(3, 10, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..=3).prop_map(RawExpr::Union),
            prop::collection::vec(inner.clone(), 2..=3).prop_map(RawExpr::Inter),
            (inner.clone(), inner).prop_map(|(a, b)| RawExpr::Excl(Box::new(a), Box::new(b))),
        ]
    })
}

fn raw_ns() -> impl Strategy<Value = RawNs> {
    (
        prop::collection::vec(prop::collection::vec(raw_ty(), 1..=3), 0..=3),
        prop::collection::vec(prop::option::weighted(0.3, raw_expr()), 0..=3),
        prop::collection::vec(raw_expr(), 0..=3),
    )
        .prop_map(|(relations, rewrites, permissions)| RawNs {
            relations,
            rewrites,
            permissions,
        })
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
        prop::collection::vec(raw_ns(), 1..=4),
        prop::collection::vec(raw_tuple(), 0..=60),
        any::<u64>(),
    )
        .prop_map(|(namespaces, tuples, seed)| Case {
            namespaces,
            tuples,
            seed,
        })
}

// ---------------------------------------------------------------------------
// The model: a resolved schema the naive evaluator reads.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ty {
    Obj(usize),
    Wild(usize),
    Set(usize, String),
}

#[derive(Clone, Debug)]
enum Expr {
    Name(String),
    Arrow {
        tupleset: String,
        target: String,
        all: bool,
    },
    Union(Vec<Expr>),
    Inter(Vec<Expr>),
    Excl(Box<Expr>, Box<Expr>),
    /// The relation's own tuples (in a relation's rewrite).
    This,
    Nil,
    /// The object itself.
    SelfObj,
}

#[derive(Clone, Debug)]
enum Kind {
    /// Stored tuples of these types, and optionally a rewrite over them.
    Relation(Vec<Ty>, Option<Expr>),
    Permission(Expr),
}

#[derive(Clone, Debug)]
struct Model {
    /// Per namespace `n{i}`: its names in order, with their kinds.
    namespaces: Vec<Vec<(String, Kind)>>,
}

const POOL: [&str; 3] = ["a", "b#1", "c d"];
const FRESH: &str = "zz";

fn pick<T: Clone>(items: &[T], n: u8) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(n as usize % items.len()).cloned()
    }
}

impl Model {
    fn from_raw(raw: &[RawNs]) -> Model {
        let count = raw.len();
        // Names first, so types can refer to any namespace's names.
        let names: Vec<Vec<String>> = raw
            .iter()
            .map(|ns| {
                // A namespace without relations has nothing to compute from,
                // so it gets no permissions.
                let permissions = if ns.relations.is_empty() {
                    0
                } else {
                    ns.permissions.len()
                };
                (0..ns.relations.len())
                    .map(|j| format!("r{j}"))
                    .chain((0..permissions).map(|k| format!("p{k}")))
                    .collect()
            })
            .collect();
        let mut namespaces: Vec<Vec<(String, Kind)>> = Vec::new();
        for ns in raw {
            let mut members = Vec::new();
            for (j, types) in ns.relations.iter().enumerate() {
                let mut resolved: Vec<Ty> = types
                    .iter()
                    .map(|t| {
                        let m = t.ns as usize % count;
                        match t.kind {
                            0..=3 => Ty::Obj(m),
                            4 => Ty::Wild(m),
                            _ => match pick(&names[m], t.name) {
                                Some(name) => Ty::Set(m, name),
                                None => Ty::Obj(m),
                            },
                        }
                    })
                    .collect();
                resolved.sort();
                resolved.dedup();
                members.push((format!("r{j}"), Kind::Relation(resolved, None)));
            }
            namespaces.push(members);
        }
        // Relation rewrites: `this`, `nil`, earlier relations (so computed
        // names cannot loop) and arrows over plain relations.
        for (i, ns) in raw.iter().enumerate() {
            let plain_tuplesets = tuplesets_of(&namespaces[i]);
            for j in 0..ns.relations.len() {
                let Some(Some(raw_rewrite)) = ns.rewrites.get(j) else {
                    continue;
                };
                let available: Vec<String> = (0..j).map(|k| format!("r{k}")).collect();
                let tuplesets: Vec<_> = plain_tuplesets
                    .iter()
                    .filter(|(n, _)| n[1..].parse::<usize>().unwrap() < j)
                    .cloned()
                    .collect();
                let resolved = resolve_expr(raw_rewrite, &available, &tuplesets, &names, true);
                if let Kind::Relation(_, rewrite) = &mut namespaces[i][j].1 {
                    *rewrite = Some(resolved);
                }
            }
        }
        // Permissions: names of this namespace's relations and earlier
        // permissions (so computed names cannot loop), arrows over relations
        // whose types are all plain objects.
        for (i, ns) in raw.iter().enumerate() {
            for (k, expr) in ns.permissions.iter().enumerate() {
                let available: Vec<String> = namespaces[i]
                    .iter()
                    .map(|(n, _)| n.clone())
                    .filter(|n| n.starts_with('r') || n[1..].parse::<usize>().unwrap() < k)
                    .collect();
                let tuplesets = tuplesets_of(&namespaces[i]);
                if available.is_empty() {
                    continue;
                }
                let resolved = resolve_expr(expr, &available, &tuplesets, &names, false);
                namespaces[i].push((format!("p{k}"), Kind::Permission(resolved)));
            }
        }
        Model { namespaces }
    }

    fn source(&self) -> String {
        let mut out = String::new();
        for (i, members) in self.namespaces.iter().enumerate() {
            let _ = writeln!(out, "namespace n{i} {{");
            for (name, kind) in members {
                match kind {
                    Kind::Relation(types, rewrite) => {
                        let types: Vec<String> = types
                            .iter()
                            .map(|t| match t {
                                Ty::Obj(m) => format!("n{m}"),
                                Ty::Wild(m) => format!("n{m}:*"),
                                Ty::Set(m, q) => format!("n{m}#{q}"),
                            })
                            .collect();
                        let rewrite = rewrite
                            .as_ref()
                            .map_or(String::new(), |e| format!(" = {}", render(e, true)));
                        let _ = writeln!(out, "  relation {name}: {}{rewrite}", types.join(" | "));
                    }
                    Kind::Permission(expr) => {
                        let _ = writeln!(out, "  permission {name} = {}", render(expr, true));
                    }
                }
            }
            out.push_str("}\n");
        }
        out
    }

    fn kind(&self, ns: usize, name: &str) -> Option<&Kind> {
        self.namespaces[ns]
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k)
    }

    fn has(&self, ns: usize, name: &str) -> bool {
        self.kind(ns, name).is_some()
    }
}

/// The relations of a namespace an arrow can follow: plain (no rewrite),
/// of object types only, with their namespaces.
fn tuplesets_of(members: &[(String, Kind)]) -> Vec<(String, Vec<usize>)> {
    members
        .iter()
        .filter_map(|(n, kind)| match kind {
            Kind::Relation(types, None) if types.iter().all(|t| matches!(t, Ty::Obj(_))) => Some((
                n.clone(),
                types
                    .iter()
                    .map(|t| match t {
                        Ty::Obj(m) => *m,
                        _ => unreachable!(),
                    })
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// `in_relation`: a relation's rewrite, where `this` may stand.
fn resolve_expr(
    raw: &RawExpr,
    available: &[String],
    tuplesets: &[(String, Vec<usize>)],
    names: &[Vec<String>],
    in_relation: bool,
) -> Expr {
    let go = |e: &RawExpr| resolve_expr(e, available, tuplesets, names, in_relation);
    match raw {
        RawExpr::Leaf { kind: 5, .. } if in_relation => Expr::This,
        RawExpr::Leaf { kind: 6, .. } => Expr::Nil,
        RawExpr::Leaf { kind: 7, a, .. } if a % 2 == 0 => Expr::SelfObj,
        RawExpr::Leaf { kind, a, b } => {
            if (3..5).contains(kind) {
                if let Some((tupleset, spaces)) = pick(tuplesets, *a) {
                    let mut targets: Vec<String> = spaces
                        .iter()
                        .flat_map(|&m| names[m].iter().cloned())
                        .collect();
                    targets.sort();
                    targets.dedup();
                    if let Some(target) = pick(&targets, *b) {
                        return Expr::Arrow {
                            tupleset,
                            target,
                            all: *kind == 4,
                        };
                    }
                }
            }
            match pick(available, *a) {
                Some(name) => Expr::Name(name),
                None if in_relation => Expr::This,
                None => Expr::Nil,
            }
        }
        RawExpr::Union(children) => Expr::Union(children.iter().map(go).collect()),
        RawExpr::Inter(children) => Expr::Inter(children.iter().map(go).collect()),
        RawExpr::Excl(a, b) => Expr::Excl(Box::new(go(a)), Box::new(go(b))),
    }
}

fn render(expr: &Expr, top: bool) -> String {
    let text = match expr {
        Expr::Name(n) => return n.clone(),
        Expr::This => return "this".to_owned(),
        Expr::Nil => return "nil".to_owned(),
        Expr::SelfObj => return "self".to_owned(),
        Expr::Arrow {
            tupleset,
            target,
            all: false,
        } => return format!("{tupleset}->{target}"),
        Expr::Arrow {
            tupleset,
            target,
            all: true,
        } => return format!("{tupleset}.all({target})"),
        Expr::Union(c) => c
            .iter()
            .map(|e| render(e, false))
            .collect::<Vec<_>>()
            .join(" | "),
        Expr::Inter(c) => c
            .iter()
            .map(|e| render(e, false))
            .collect::<Vec<_>>()
            .join(" & "),
        Expr::Excl(a, b) => format!("{} - {}", render(a, false), render(b, false)),
    };
    if top {
        text
    } else {
        format!("({text})")
    }
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
    let count = model.namespaces.len();
    for t in raw {
        let ns = t.ns as usize % count;
        let relations: Vec<(&String, &Vec<Ty>)> = model.namespaces[ns]
            .iter()
            .filter_map(|(n, k)| match k {
                Kind::Relation(types, _) => Some((n, types)),
                Kind::Permission(_) => None,
            })
            .collect();
        let Some((relation, types)) = pick(&relations, t.relation) else {
            continue;
        };
        let object = POOL[t.object as usize % POOL.len()].to_owned();
        let id = POOL[t.subject as usize % POOL.len()].to_owned();
        let subject = match pick(types, t.ty).unwrap() {
            Ty::Obj(m) => Subj::Obj(m, id),
            Ty::Wild(m) => Subj::Wild(m),
            Ty::Set(m, q) => Subj::Set(m, id, q),
        };
        out.push((ns, object, relation.clone(), subject));
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

fn universe() -> Vec<String> {
    POOL.iter()
        .map(|s| (*s).to_owned())
        .chain([FRESH.to_owned()])
        .collect()
}

impl<'m> Naive<'m> {
    fn run(model: &'m Model, tuples: &'m [ModelTuple]) -> Naive<'m> {
        let mut naive = Naive {
            model,
            tuples,
            values: HashMap::new(),
        };
        // Nodes and their dependencies.
        let nodes: Vec<(usize, String)> = model
            .namespaces
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.iter().map(move |(n, _)| (i, n.clone())))
            .collect();
        let index: HashMap<(usize, String), usize> = nodes
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        let n = nodes.len();
        let mut reach = vec![vec![false; n]; n];
        for (i, (ns, name)) in nodes.iter().enumerate() {
            reach[i][i] = true;
            for dep in naive.deps(*ns, name) {
                reach[i][index[&dep]] = true;
            }
        }
        for k in 0..n {
            for i in 0..n {
                if reach[i][k] {
                    for j in 0..n {
                        if reach[k][j] {
                            reach[i][j] = true;
                        }
                    }
                }
            }
        }
        // Strata: components, ordered by how much they reach.
        let mut components: Vec<Vec<usize>> = Vec::new();
        let mut placed = vec![false; n];
        for i in 0..n {
            if placed[i] {
                continue;
            }
            let comp: Vec<usize> = (0..n).filter(|&j| reach[i][j] && reach[j][i]).collect();
            for &j in &comp {
                placed[j] = true;
            }
            components.push(comp);
        }
        components.sort_by_key(|c| reach[c[0]].iter().filter(|&&r| r).count());
        for comp in components {
            for round in 0.. {
                assert!(round < 1000, "no fixed point: the schema is not stratified");
                let mut changed = false;
                for &node in &comp {
                    let (ns, name) = &nodes[node];
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

    fn deps(&self, ns: usize, name: &str) -> Vec<(usize, String)> {
        match self.model.kind(ns, name).unwrap() {
            Kind::Relation(types, rewrite) => {
                let mut out: Vec<(usize, String)> = types
                    .iter()
                    .filter_map(|t| match t {
                        Ty::Set(m, q) => Some((*m, q.clone())),
                        _ => None,
                    })
                    .collect();
                if let Some(expr) = rewrite {
                    self.expr_deps(ns, expr, &mut out);
                }
                out
            }
            Kind::Permission(expr) => {
                let mut out = Vec::new();
                self.expr_deps(ns, expr, &mut out);
                out
            }
        }
    }

    fn expr_deps(&self, ns: usize, expr: &Expr, out: &mut Vec<(usize, String)>) {
        match expr {
            Expr::Name(n) => out.push((ns, n.clone())),
            Expr::Arrow {
                tupleset, target, ..
            } => {
                out.push((ns, tupleset.clone()));
                if let Some(Kind::Relation(types, _)) = self.model.kind(ns, tupleset) {
                    for t in types {
                        if let Ty::Obj(m) = t {
                            if self.model.has(*m, target) {
                                out.push((*m, target.clone()));
                            }
                        }
                    }
                }
            }
            Expr::This | Expr::Nil | Expr::SelfObj => {}
            Expr::Union(c) | Expr::Inter(c) => c.iter().for_each(|e| self.expr_deps(ns, e, out)),
            Expr::Excl(a, b) => {
                self.expr_deps(ns, a, out);
                self.expr_deps(ns, b, out);
            }
        }
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
                    let mut page = PageRequest::first(limit);
                    let mut got = Vec::new();
                    for _ in 0..10 {
                        let result = engine
                            .lookup_resources(
                                &format!("n{ns}"),
                                name,
                                &to_subject(subject),
                                &page,
                                rev,
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
