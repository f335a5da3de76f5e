//! The three-valued results of a check and how the operators combine
//! them: Kleene's logic, with the goals a provisional `false` leaned on
//! and the parameters a conditional result is missing.

use std::rc::Rc;

use super::{Deps, Guard, Missing};
use crate::engine::explain::Outcome;
use crate::engine::{Decision, EngineError};

/// A result in Kleene's logic, with the two ways of not knowing apart.
#[derive(Clone, Debug)]
pub(super) enum Val {
    True,
    False(Deps),
    /// Holds or not depending on the values of these missing parameters.
    Cond(Missing, Deps),
    /// Too deep to tell; the path of usersets that went too deep.
    Unknown(Vec<String>),
}

/// The union of two sets of missing parameters.
pub(super) fn join(a: &Missing, b: &Missing) -> Missing {
    if a == b || b.is_empty() {
        return a.clone();
    }
    if a.is_empty() {
        return b.clone();
    }
    Rc::new(a.iter().chain(b.iter()).cloned().collect())
}

/// `val` behind a tuple with `guard`: conditional at best when the guard is.
#[inline]
pub(super) fn guarded(guard: &Guard, val: Val) -> Val {
    match (guard, val) {
        (None, val) => val,
        (Some(missing), Val::True) => Val::Cond(missing.clone(), Vec::new()),
        (Some(missing), Val::Cond(more, deps)) => Val::Cond(join(missing, &more), deps),
        (Some(_), val) => val,
    }
}

/// A hop of `.all` through a tuple with `guard` to a target worth `val`:
/// the guard implies the target. A tuple whose condition is pending may
/// turn out not to hold, taking its hop with it, so its hop is allowed
/// when the target is and conditional otherwise, never denied: a deny must
/// stay a deny whatever values the missing parameters take.
pub(super) fn implied(guard: &Guard, val: Val) -> Val {
    match (guard, val) {
        (None, val) => val,
        (Some(_), Val::True) => Val::True,
        (Some(missing), Val::False(deps)) => Val::Cond(missing.clone(), deps),
        (Some(missing), Val::Cond(more, deps)) => Val::Cond(join(missing, &more), deps),
        (Some(_), Val::Unknown(path)) => Val::Unknown(path),
    }
}

pub(super) fn merge(into: &mut Deps, from: &[usize]) {
    if from.is_empty() {
        return;
    }
    into.extend_from_slice(from);
    into.sort_unstable();
    into.dedup();
}

/// Accumulates the branches of a union (`true` wins, then unknown, then
/// conditional with every branch's missing parameters, then `false`) or,
/// with `add_all`, of an intersection (`false` wins, then unknown, then
/// conditional, then `true`).
pub(super) struct Any {
    deps: Deps,
    missing: Option<Missing>,
    unknown: Option<Vec<String>>,
}

impl Any {
    pub(super) fn new() -> Any {
        Any {
            deps: Vec::new(),
            missing: None,
            unknown: None,
        }
    }

    pub(super) fn add_missing(&mut self, missing: &Missing) {
        self.missing = Some(match &self.missing {
            Some(have) => join(have, missing),
            None => missing.clone(),
        });
    }

    /// Adds a non-true branch of a union.
    pub(super) fn add(&mut self, val: Val) {
        match val {
            Val::True => {}
            Val::False(deps) => merge(&mut self.deps, &deps),
            Val::Cond(missing, deps) => {
                self.add_missing(&missing);
                merge(&mut self.deps, &deps);
            }
            Val::Unknown(path) => {
                self.unknown.get_or_insert(path);
            }
        }
    }

    /// The union's value: unknown, else conditional, else false.
    pub(super) fn finish(self) -> Val {
        self.settle(Val::False)
    }

    /// Unknown, else conditional, else what `settled` makes of the
    /// dependencies.
    fn settle(self, settled: impl FnOnce(Deps) -> Val) -> Val {
        match (self.unknown, self.missing) {
            (Some(path), _) => Val::Unknown(path),
            (None, Some(missing)) => Val::Cond(missing, self.deps),
            (None, None) => settled(self.deps),
        }
    }

    /// Adds a non-false branch of an intersection: as [`Any::add`], a
    /// false branch's dependencies aside.
    pub(super) fn add_all(&mut self, val: Val) {
        if !matches!(val, Val::False(_)) {
            self.add(val);
        }
    }

    /// The intersection's value: unknown, else conditional, else true.
    pub(super) fn finish_all(self) -> Val {
        self.settle(|_| Val::True)
    }
}

impl Val {
    pub(super) fn outcome(&self) -> Outcome {
        match self {
            Val::True => Outcome::Granted,
            Val::False(_) => Outcome::Denied,
            Val::Cond(..) => Outcome::Conditional,
            Val::Unknown(_) => Outcome::Unknown,
        }
    }

    /// The answer at the root of a question.
    pub(super) fn decision(self, max_depth: u32) -> Result<Decision, EngineError> {
        match self {
            Val::True => Ok(Decision::Allowed),
            Val::False(_) => Ok(Decision::Denied),
            Val::Cond(missing, _) => Ok(Decision::Conditional {
                missing: missing.iter().cloned().collect(),
            }),
            Val::Unknown(path) => Err(EngineError::DepthExceeded { max_depth, path }),
        }
    }
}

pub(super) fn found(found: bool) -> Outcome {
    if found {
        Outcome::Granted
    } else {
        Outcome::Denied
    }
}
