//! The naive evaluator: for ONE subject and ONE request, the three-valued
//! value of every userset of the small universe.
//!
//! It shares no code with the engine and reads the model, not the IR.
//! Values are Kleene's {F < C(M) < T}, a conditional carrying the missing
//! parameters `M`. Usersets are computed stratum by stratum (strongly
//! connected components of the dependency graph, dependencies first: the
//! `Strata` engine_diff.rs uses too), each stratum to its least fixed point in two phases:
//!
//! 1. the *levels* (F, C or T, ignoring `M`) from all-F, which only grow,
//!    since every operator is monotone in the order F < C < T;
//! 2. with the levels fixed, the missing sets from `C(∅)`, which only
//!    grow too, since with fixed levels each operator's `M` is a union of
//!    its conditional inputs' `M`s.
//!
//! Two phases, because iterating the whole value at once is not monotone:
//! `C(x) & C(y)` is `C(x, y)`, and when the right side later becomes `T` it
//! is `C(x)`; a cycle through the intersection may by then have copied `y`
//! around and keep it for ever, so the result would depend on the order of
//! evaluation. The two-phase value is the least solution of the equations
//! with the least levels.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{MTuple, Subj};
use crate::support::schemas::{universe, Expr, Kind, Model, Strata, CONDITIONS};

/// A three-valued membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum V {
    F,
    /// Holds or not depending on these missing parameters.
    C(BTreeSet<&'static str>),
    T,
}

impl V {
    pub fn cond(missing: &[&'static str]) -> V {
        V::C(missing.iter().copied().collect())
    }

    fn level(&self) -> u8 {
        match self {
            V::F => 0,
            V::C(_) => 1,
            V::T => 2,
        }
    }

    pub fn or(self, other: V) -> V {
        match (self, other) {
            (V::T, _) | (_, V::T) => V::T,
            (V::C(a), V::C(b)) => V::C(&a | &b),
            (V::C(a), V::F) | (V::F, V::C(a)) => V::C(a),
            (V::F, V::F) => V::F,
        }
    }

    pub fn and(self, other: V) -> V {
        match (self, other) {
            (V::F, _) | (_, V::F) => V::F,
            (V::C(a), V::C(b)) => V::C(&a | &b),
            (V::C(a), V::T) | (V::T, V::C(a)) => V::C(a),
            (V::T, V::T) => V::T,
        }
    }

    pub fn not(self) -> V {
        match self {
            V::F => V::T,
            V::C(a) => V::C(a),
            V::T => V::F,
        }
    }

    /// `self ⇒ other`, that is `¬self ∨ other`.
    pub fn implies(self, other: V) -> V {
        self.not().or(other)
    }

    pub fn minus(self, other: V) -> V {
        match (self, other) {
            (V::F, _) | (_, V::T) => V::F,
            (V::T, V::F) => V::T,
            (V::C(a), V::C(b)) => V::C(&a | &b),
            (V::C(a), V::F) | (V::T, V::C(a)) => V::C(a),
        }
    }
}

/// What a tuple is for one request: `None` when it does not exist (expired
/// at `now`, or its condition is false), else its guard (`T` or `C(M)`).
pub fn guard(tuple: &MTuple, request: &BTreeMap<&'static str, bool>, now: i64) -> Option<V> {
    if tuple.expires.is_some_and(|at| at <= now) {
        return None;
    }
    let Some((c, stored)) = &tuple.condition else {
        return Some(V::T);
    };
    let mut missing = BTreeSet::new();
    let mut holds = true;
    for p in CONDITIONS[*c].1 {
        match stored.get(p).or_else(|| request.get(p)) {
            Some(value) => holds &= *value,
            None => {
                missing.insert(*p);
            }
        }
    }
    if !missing.is_empty() {
        Some(V::C(missing))
    } else if holds {
        Some(V::T)
    } else {
        None
    }
}

pub type Key = (usize, String, String);

/// The values of every userset for one subject.
pub struct Naive<'m> {
    model: &'m Model,
    /// The tuples that exist for the request, with their guards.
    tuples: &'m [(MTuple, V)],
    subject: &'m Subj,
    /// The object IDs computed: the universe and every ID a tuple names.
    ids: Vec<String>,
    values: HashMap<Key, V>,
}

/// The tuples of `data` that exist for the request, with their guards.
pub fn existing(
    data: &[MTuple],
    request: &BTreeMap<&'static str, bool>,
    now: i64,
) -> Vec<(MTuple, V)> {
    data.iter()
        .filter_map(|t| guard(t, request, now).map(|g| (t.clone(), g)))
        .collect()
}

impl<'m> Naive<'m> {
    pub fn run(
        model: &'m Model,
        strata: &Strata,
        tuples: &'m [(MTuple, V)],
        subject: &'m Subj,
    ) -> Naive<'m> {
        let mut ids: BTreeSet<String> = universe().into_iter().collect();
        for (t, _) in tuples {
            ids.insert(t.object.clone());
            if let Subj::Set(_, id, _) = &t.subject {
                ids.insert(id.clone());
            }
        }
        let mut naive = Naive {
            model,
            tuples,
            subject,
            ids: ids.into_iter().collect(),
            values: HashMap::new(),
        };
        for comp in &strata.components {
            // Phase 1: the levels.
            naive.iterate(comp, |old, new| old.level() == new.level());
            // Phase 2: the missing sets, from none.
            for (ns, name) in comp {
                for id in &naive.ids {
                    let key = (*ns, id.clone(), name.clone());
                    if let Some(v @ V::C(_)) = naive.values.get_mut(&key) {
                        *v = V::C(BTreeSet::new());
                    }
                }
            }
            naive.iterate(comp, |old, new| old == new);
        }
        naive
    }

    fn iterate(&mut self, comp: &[(usize, String)], same: fn(&V, &V) -> bool) {
        for round in 0.. {
            assert!(round < 1000, "no fixed point: the schema is not stratified");
            let mut changed = false;
            for (ns, name) in comp {
                for id in &self.ids {
                    let value = self.eval(*ns, id, name);
                    let key = (*ns, id.clone(), name.clone());
                    let old = self.values.get(&key).unwrap_or(&V::F);
                    if !same(old, &value) {
                        changed = true;
                    }
                    self.values.insert(key, value);
                }
            }
            if !changed {
                break;
            }
        }
    }

    pub fn get(&self, ns: usize, id: &str, name: &str) -> V {
        self.values
            .get(&(ns, id.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or(V::F)
    }

    fn stored<'s>(
        &'s self,
        ns: usize,
        id: &'s str,
        relation: &'s str,
    ) -> impl Iterator<Item = (&'s Subj, &'s V)> + 's {
        self.tuples
            .iter()
            .filter(move |(t, _)| t.ns == ns && t.object == id && t.relation == relation)
            .map(|(t, g)| (&t.subject, g))
    }

    fn eval(&self, ns: usize, id: &str, name: &str) -> V {
        match self.model.kind(ns, name).unwrap() {
            Kind::Relation(_, None) => self.own(ns, id, name),
            Kind::Relation(_, Some(expr)) | Kind::Permission(expr) => {
                self.eval_expr(ns, id, name, expr)
            }
        }
    }

    /// What a relation's own tuples give: the union of each tuple's guard
    /// and its subject's membership.
    fn own(&self, ns: usize, id: &str, name: &str) -> V {
        let mut value = V::F;
        for (s, g) in self.stored(ns, id, name) {
            let member = match (s, self.subject) {
                (Subj::Obj(..), target) => bool_v(s == target),
                (Subj::Wild(m), Subj::Obj(n, _) | Subj::Anon(n)) => bool_v(m == n),
                (Subj::Wild(_), _) => V::F,
                (Subj::Set(..), target) if s == target => V::T,
                (Subj::Set(m, y, q), _) => self.get(*m, y, q),
                (Subj::Anon(_), _) => unreachable!("no tuple names the anonymous subject"),
            };
            value = value.or(g.clone().and(member));
        }
        value
    }

    /// `owner`: the relation or permission the expression defines.
    fn eval_expr(&self, ns: usize, id: &str, owner: &str, expr: &Expr) -> V {
        match expr {
            Expr::Name(n) => self.get(ns, id, n),
            Expr::This => self.own(ns, id, owner),
            Expr::Nil => V::F,
            Expr::SelfObj => bool_v(*self.subject == Subj::Obj(ns, id.to_owned())),
            Expr::Arrow {
                tupleset,
                target,
                all,
            } => {
                // Each hop: its tuple's guard and its target's value.
                let hops: Vec<(V, V)> = self
                    .stored(ns, id, tupleset)
                    .filter_map(|(s, g)| match s {
                        Subj::Obj(m, x) => Some((
                            g.clone(),
                            if self.model.has(*m, target) {
                                self.get(*m, x, target)
                            } else {
                                V::F
                            },
                        )),
                        _ => None,
                    })
                    .collect();
                if *all {
                    // Some tuple that holds leads to a member (so the
                    // tupleset is not empty), and every tuple that holds does.
                    let some = hops
                        .iter()
                        .map(|(g, t)| g.clone().and(t.clone()))
                        .fold(V::F, V::or);
                    hops.into_iter()
                        .map(|(g, t)| g.implies(t))
                        .fold(some, V::and)
                } else {
                    hops.into_iter().map(|(g, t)| g.and(t)).fold(V::F, V::or)
                }
            }
            Expr::Union(c) => c
                .iter()
                .map(|e| self.eval_expr(ns, id, owner, e))
                .fold(V::F, V::or),
            Expr::Inter(c) => c
                .iter()
                .map(|e| self.eval_expr(ns, id, owner, e))
                .fold(V::T, V::and),
            Expr::Excl(a, b) => self
                .eval_expr(ns, id, owner, a)
                .minus(self.eval_expr(ns, id, owner, b)),
        }
    }
}

fn bool_v(holds: bool) -> V {
    if holds {
        V::T
    } else {
        V::F
    }
}
