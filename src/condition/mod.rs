//! Conditions at work: a condition's CEL expression type-checked against
//! its parameters when the schema is compiled ([`check`]), a tuple's or a
//! request's context checked against the parameters' types ([`value`]),
//! and the expression compiled once per schema and evaluated per request
//! ([`eval`]) into a three-valued [`Verdict`].
//!
//! The IR side (parameters, types, traits) is [`crate::ir::condition`].

pub mod check;
pub mod eval;

use std::collections::BTreeSet;

use thiserror::Error;

/// What a condition says for one tuple in one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    True,
    False,
    /// Some parameters the expression uses have no value, in the tuple's
    /// stored context or the request's: these (sorted).
    Missing(BTreeSet<String>),
}

/// A condition failed while it was evaluated (an overflow, a malformed
/// CIDR, a missing map key, a context value of the wrong type): an error of
/// the request, never a deny.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("condition `{condition}` failed: {message}")]
pub struct EvalError {
    pub condition: String,
    pub message: String,
}
