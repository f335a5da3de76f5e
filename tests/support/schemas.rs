//! Random schemas for the differential tests (engine_diff.rs and
//! engine_diff_conditions.rs): raw random choices, resolved into a model the
//! naive evaluators read and rendered as source text for the compiler, and
//! the model's strata.
//!
//! Indices are taken modulo what is available, so any vector of numbers is
//! a schema and shrinking stays meaningful. Types carry traits (a condition,
//! an expiry) only when the generator is asked for them; without, the
//! schemas are plain.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::needless_range_loop
)]

use std::collections::HashMap;
use std::fmt::Write as _;

use proptest::prelude::*;

/// The conditions a schema with traits declares, with the parameters each
/// expression uses (all of them). `c2` shares `p0` with `c0`, so one
/// request value decides tuples of two conditions.
pub const CONDITIONS: [(&str, &[&str]); 3] =
    [("c0", &["p0"]), ("c1", &["p1"]), ("c2", &["p0", "p2"])];

/// The declarations of `CONDITIONS`, to go before a schema with traits.
pub const CONDITION_SOURCE: &str = "condition c0(p0: bool) { p0 }
condition c1(p1: bool) { p1 }
condition c2(p0: bool, p2: bool) { p0 && p2 }
";

/// Object IDs tuples use; `FRESH` is in the universe but in no tuple.
pub const POOL: [&str; 3] = ["a", "b#1", "c d"];
pub const FRESH: &str = "zz";

pub fn universe() -> Vec<String> {
    POOL.iter()
        .map(|s| (*s).to_owned())
        .chain([FRESH.to_owned()])
        .collect()
}

pub fn pick<T: Clone>(items: &[T], n: u8) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(n as usize % items.len()).cloned()
    }
}

// ---------------------------------------------------------------------------
// Raw random choices.

#[derive(Clone, Debug)]
pub struct RawTy {
    kind: u8,
    ns: u8,
    name: u8,
    traits: u8,
}

#[derive(Clone, Debug)]
pub enum RawExpr {
    Leaf { kind: u8, a: u8, b: u8 },
    Union(Vec<RawExpr>),
    Inter(Vec<RawExpr>),
    Excl(Box<RawExpr>, Box<RawExpr>),
}

#[derive(Clone, Debug)]
pub struct RawNs {
    relations: Vec<Vec<RawTy>>,
    /// Per relation (by index), an optional rewrite over `this`.
    rewrites: Vec<Option<RawExpr>>,
    permissions: Vec<RawExpr>,
}

/// `with_traits`: types may carry a condition, an expiry or both.
fn raw_ty(with_traits: bool) -> impl Strategy<Value = RawTy> {
    let traits = if with_traits { 0u8..12 } else { 0u8..1 };
    (0u8..7, any::<u8>(), any::<u8>(), traits).prop_map(|(kind, ns, name, traits)| RawTy {
        kind,
        ns,
        name,
        traits,
    })
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

/// A namespace; `with_traits` as for its types.
pub fn raw_ns(with_traits: bool) -> impl Strategy<Value = RawNs> {
    (
        prop::collection::vec(prop::collection::vec(raw_ty(with_traits), 1..=3), 0..=3),
        prop::collection::vec(prop::option::weighted(0.3, raw_expr()), 0..=3),
        prop::collection::vec(raw_expr(), 0..=3),
    )
        .prop_map(|(relations, rewrites, permissions)| RawNs {
            relations,
            rewrites,
            permissions,
        })
}

// ---------------------------------------------------------------------------
// The model: a resolved schema the naive evaluator reads.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    Obj(usize),
    Wild(usize),
    Set(usize, String),
}

/// Where a raw tuple lands in a model, each index taken modulo what
/// exists: its namespace, object, relation, one of the relation's types
/// with its traits, and the subject's id.
pub struct Placed {
    pub ns: usize,
    pub object: String,
    pub relation: String,
    pub ty: Ty,
    pub traits: Traits,
    pub id: String,
}

/// [`Placed`] for the raw indices; `None` when the namespace has no stored
/// relation.
pub fn place(model: &Model, [ns, object, relation, ty, subject]: [u8; 5]) -> Option<Placed> {
    let ns = ns as usize % model.namespaces.len();
    let relations: Vec<(&String, &Vec<(Ty, Traits)>)> = model.namespaces[ns]
        .iter()
        .filter_map(|(n, k)| match k {
            Kind::Relation(types, _) => Some((n, types)),
            Kind::Permission(_) => None,
        })
        .collect();
    let (relation, types) = pick(&relations, relation)?;
    let (ty, traits) = pick(types, ty)?;
    Some(Placed {
        ns,
        object: POOL[object as usize % POOL.len()].to_owned(),
        relation: relation.clone(),
        ty,
        traits,
        id: POOL[subject as usize % POOL.len()].to_owned(),
    })
}

/// A type's traits: the condition its tuples carry (an index into
/// `CONDITIONS`), and whether they may expire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Traits {
    pub condition: Option<usize>,
    pub expiration: bool,
}

#[derive(Clone, Debug)]
pub enum Expr {
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
pub enum Kind {
    /// Stored tuples of these types, and optionally a rewrite over them.
    Relation(Vec<(Ty, Traits)>, Option<Expr>),
    Permission(Expr),
}

#[derive(Clone, Debug)]
pub struct Model {
    /// Per namespace `n{i}`: its names in order, with their kinds.
    pub namespaces: Vec<Vec<(String, Kind)>>,
}

fn traits(raw: u8) -> Traits {
    match raw {
        5..=7 => Traits {
            condition: Some(usize::from(raw - 5)),
            expiration: false,
        },
        8 => Traits {
            condition: None,
            expiration: true,
        },
        9..=11 => Traits {
            condition: Some(usize::from(raw - 9)),
            expiration: true,
        },
        _ => Traits::default(),
    }
}

impl Model {
    pub fn from_raw(raw: &[RawNs]) -> Model {
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
                let mut resolved: Vec<(Ty, Traits)> = types
                    .iter()
                    .map(|t| {
                        let m = t.ns as usize % count;
                        let base = match t.kind {
                            0..=3 => Ty::Obj(m),
                            4 => Ty::Wild(m),
                            _ => match pick(&names[m], t.name) {
                                Some(name) => Ty::Set(m, name),
                                None => Ty::Obj(m),
                            },
                        };
                        (base, traits(t.traits))
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
            let tuplesets_here = tuplesets_of(&namespaces[i]);
            for j in 0..ns.relations.len() {
                let Some(Some(raw_rewrite)) = ns.rewrites.get(j) else {
                    continue;
                };
                let available: Vec<String> = (0..j).map(|k| format!("r{k}")).collect();
                let tuplesets: Vec<_> = tuplesets_here
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
        // whose types are all objects.
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

    /// The schema's source text; one with traits goes after
    /// `CONDITION_SOURCE`.
    pub fn source(&self) -> String {
        let mut out = String::new();
        for (i, members) in self.namespaces.iter().enumerate() {
            let _ = writeln!(out, "namespace n{i} {{");
            for (name, kind) in members {
                match kind {
                    Kind::Relation(types, rewrite) => {
                        let types: Vec<String> = types.iter().map(render_type).collect();
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

    pub fn kind(&self, ns: usize, name: &str) -> Option<&Kind> {
        self.namespaces[ns]
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k)
    }

    pub fn has(&self, ns: usize, name: &str) -> bool {
        self.kind(ns, name).is_some()
    }
}

fn render_type((ty, traits): &(Ty, Traits)) -> String {
    let base = match ty {
        Ty::Obj(m) => format!("n{m}"),
        Ty::Wild(m) => format!("n{m}:*"),
        Ty::Set(m, q) => format!("n{m}#{q}"),
    };
    match (traits.condition, traits.expiration) {
        (None, false) => base,
        (None, true) => format!("{base} with expiration"),
        (Some(c), false) => format!("{base} with {}", CONDITIONS[c].0),
        (Some(c), true) => format!("{base} with {} and expiration", CONDITIONS[c].0),
    }
}

/// The relations of a namespace an arrow can follow: without a rewrite, of
/// object types only (with or without traits), with their namespaces.
fn tuplesets_of(members: &[(String, Kind)]) -> Vec<(String, Vec<usize>)> {
    members
        .iter()
        .filter_map(|(n, kind)| match kind {
            Kind::Relation(types, None) if types.iter().all(|(t, _)| matches!(t, Ty::Obj(_))) => {
                Some((
                    n.clone(),
                    types
                        .iter()
                        .filter_map(|(t, _)| match t {
                            Ty::Obj(m) => Some(*m),
                            _ => None,
                        })
                        .collect(),
                ))
            }
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

// ---------------------------------------------------------------------------
// Strata.

/// The usersets' names grouped into strata, dependencies first.
pub struct Strata {
    pub components: Vec<Vec<(usize, String)>>,
}

impl Strata {
    pub fn of(model: &Model) -> Strata {
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
            for dep in deps(model, *ns, name) {
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
        // Components, ordered by how much they reach.
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
        Strata {
            components: components
                .into_iter()
                .map(|c| c.into_iter().map(|i| nodes[i].clone()).collect())
                .collect(),
        }
    }
}

fn deps(model: &Model, ns: usize, name: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    match model.kind(ns, name).unwrap() {
        Kind::Relation(types, rewrite) => {
            for (t, _) in types {
                if let Ty::Set(m, q) = t {
                    out.push((*m, q.clone()));
                }
            }
            if let Some(expr) = rewrite {
                expr_deps(model, ns, expr, &mut out);
            }
        }
        Kind::Permission(expr) => expr_deps(model, ns, expr, &mut out),
    }
    out
}

fn expr_deps(model: &Model, ns: usize, expr: &Expr, out: &mut Vec<(usize, String)>) {
    match expr {
        Expr::Name(n) => out.push((ns, n.clone())),
        Expr::Arrow {
            tupleset, target, ..
        } => {
            out.push((ns, tupleset.clone()));
            if let Some(Kind::Relation(types, _)) = model.kind(ns, tupleset) {
                for (t, _) in types {
                    if let Ty::Obj(m) = t {
                        if model.has(*m, target) {
                            out.push((*m, target.clone()));
                        }
                    }
                }
            }
        }
        Expr::This | Expr::Nil | Expr::SelfObj => {}
        Expr::Union(c) | Expr::Inter(c) => c.iter().for_each(|e| expr_deps(model, ns, e, out)),
        Expr::Excl(a, b) => {
            expr_deps(model, ns, a, out);
            expr_deps(model, ns, b, out);
        }
    }
}
