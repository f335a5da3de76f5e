//! Random schemas with conditions and expiry, and random tuples for them:
//! raw random choices, resolved into a model the naive evaluator reads and
//! rendered as source text for the compiler.
//!
//! As in engine_diff.rs, indices are taken modulo what is available, so any
//! vector of numbers is a schema and shrinking stays meaningful.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use proptest::prelude::*;
use zanzi::tuple::{Context, Expiry, Object, Subject, Tuple};

/// The conditions every random schema declares, with the parameters each
/// expression uses (all of them). `c2` shares `p0` with `c0`, so one
/// request value decides tuples of two conditions.
pub const CONDITIONS: [(&str, &[&str]); 3] =
    [("c0", &["p0"]), ("c1", &["p1"]), ("c2", &["p0", "p2"])];

pub const CONDITION_SOURCE: &str = "condition c0(p0: bool) { p0 }
condition c1(p1: bool) { p1 }
condition c2(p0: bool, p2: bool) { p0 && p2 }
";

pub const PARAMS: [&str; 3] = ["p0", "p1", "p2"];

/// Object IDs tuples use; `FRESH` is in the universe but in no tuple.
pub const POOL: [&str; 3] = ["a", "b#1", "c d"];
pub const FRESH: &str = "zz";

/// The read time of every request: tuples expiring at it or before are gone.
pub const NOW: i64 = 1_893_456_000_000_000; // 2030-01-01T00:00:00Z
const HOUR: i64 = 3_600_000_000;

pub fn universe() -> Vec<String> {
    POOL.iter()
        .map(|s| (*s).to_owned())
        .chain([FRESH.to_owned()])
        .collect()
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

#[derive(Clone, Debug)]
pub struct RawTuple {
    ns: u8,
    object: u8,
    relation: u8,
    ty: u8,
    subject: u8,
    /// Two bits per parameter of the condition: absent, true, false.
    context: u8,
    expiry: u8,
}

#[derive(Clone, Debug)]
pub struct RawRequest {
    /// Two bits per parameter of `PARAMS`: absent, true, false.
    pub context: u8,
    pub tuples: Vec<RawTuple>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub namespaces: Vec<RawNs>,
    pub tuples: Vec<RawTuple>,
    pub request: RawRequest,
    pub seed: u64,
}

fn raw_ty() -> impl Strategy<Value = RawTy> {
    (0u8..7, any::<u8>(), any::<u8>(), 0u8..12).prop_map(|(kind, ns, name, traits)| RawTy {
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
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
        (any::<u8>(), any::<u8>(), any::<u8>()),
    )
        .prop_map(
            |((ns, object, relation, ty), (subject, context, expiry))| RawTuple {
                ns,
                object,
                relation,
                ty,
                subject,
                context,
                expiry,
            },
        )
}

fn raw_request() -> impl Strategy<Value = RawRequest> {
    (
        any::<u8>(),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(raw_tuple(), 1..=3),
        ],
    )
        .prop_map(|(context, tuples)| RawRequest { context, tuples })
}

pub fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(raw_ns(), 1..=4),
        prop::collection::vec(raw_tuple(), 0..=50),
        raw_request(),
        any::<u64>(),
    )
        .prop_map(|(namespaces, tuples, request, seed)| Case {
            namespaces,
            tuples,
            request,
            seed,
        })
}

/// A parameter's value from two random bits: absent, true or false.
fn bits(raw: u8, i: usize) -> Option<bool> {
    match (raw >> (2 * i)) & 3 {
        1 => Some(true),
        2 => Some(false),
        _ => None,
    }
}

/// The request's parameter values.
pub fn request_context(raw: &RawRequest) -> BTreeMap<&'static str, bool> {
    PARAMS
        .iter()
        .enumerate()
        .filter_map(|(i, p)| bits(raw.context, i).map(|v| (*p, v)))
        .collect()
}

// ---------------------------------------------------------------------------
// The model: a resolved schema the naive evaluator reads.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    Obj(usize),
    Wild(usize),
    Set(usize, String),
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

pub fn pick<T: Clone>(items: &[T], n: u8) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(n as usize % items.len()).cloned()
    }
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

    pub fn source(&self) -> String {
        let mut out = CONDITION_SOURCE.to_owned();
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
// Tuples.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subj {
    Obj(usize, String),
    Wild(usize),
    Set(usize, String, String),
    /// Some object of the namespace that no tuple names: in a set only
    /// through a wildcard (what a lookup of subjects asks first).
    Anon(usize),
}

/// A tuple of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MTuple {
    pub ns: usize,
    pub object: String,
    pub relation: String,
    pub subject: Subj,
    /// The condition (an index into `CONDITIONS`) and the stored context.
    pub condition: Option<(usize, BTreeMap<&'static str, bool>)>,
    pub expires: Option<i64>,
}

impl MTuple {
    fn same_key(&self, other: &MTuple) -> bool {
        self.ns == other.ns
            && self.object == other.object
            && self.relation == other.relation
            && self.subject == other.subject
    }
}

/// Tuples valid for the model, one per key (a tuple written again with
/// other traits replaces the first; keeping the first is as good a model).
pub fn model_tuples(model: &Model, raw: &[RawTuple], one_per_key: bool) -> Vec<MTuple> {
    let mut out: Vec<MTuple> = Vec::new();
    let count = model.namespaces.len();
    for t in raw {
        let ns = t.ns as usize % count;
        let relations: Vec<(&String, &Vec<(Ty, Traits)>)> = model.namespaces[ns]
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
        let (ty, traits) = pick(types, t.ty).unwrap();
        let subject = match ty {
            Ty::Obj(m) => Subj::Obj(m, id),
            Ty::Wild(m) => Subj::Wild(m),
            Ty::Set(m, q) => Subj::Set(m, id, q),
        };
        let condition = traits.condition.map(|c| {
            let context = CONDITIONS[c]
                .1
                .iter()
                .enumerate()
                .filter_map(|(i, p)| bits(t.context, i).map(|v| (*p, v)))
                .collect();
            (c, context)
        });
        // Expired, expiring exactly now (expired too), or not yet.
        let expires = match t.expiry % 6 {
            3 => Some(NOW - HOUR),
            4 => Some(NOW),
            5 => Some(NOW + HOUR),
            _ => None,
        }
        .filter(|_| traits.expiration);
        let tuple = MTuple {
            ns,
            object,
            relation: relation.clone(),
            subject,
            condition,
            expires,
        };
        if one_per_key && out.iter().any(|o| o.same_key(&tuple)) {
            continue;
        }
        out.push(tuple);
    }
    out
}

pub fn to_subject(s: &Subj) -> Subject {
    match s {
        Subj::Obj(m, id) => Subject::object(format!("n{m}"), id),
        Subj::Wild(m) => Subject::wildcard(format!("n{m}")),
        Subj::Set(m, id, q) => Subject::set(format!("n{m}"), id, q),
        Subj::Anon(m) => Subject::object(format!("n{m}"), FRESH),
    }
}

pub fn to_tuple(t: &MTuple) -> Tuple {
    let mut tuple = Tuple::new(
        Object::new(format!("n{}", t.ns), &t.object),
        &t.relation,
        to_subject(&t.subject),
    );
    if let Some((c, context)) = &t.condition {
        let map = context
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::Bool(*v)))
            .collect();
        tuple = tuple.with_condition(CONDITIONS[*c].0, Context::from_map(map));
    }
    if let Some(expires) = t.expires {
        tuple = tuple.with_expiry(Expiry::from_micros(expires));
    }
    tuple
}
