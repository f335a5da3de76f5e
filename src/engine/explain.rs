//! Explain: the trace of a check, as data and as text.
//!
//! The trace is recorded by the check evaluator itself (not by a second
//! evaluator that could disagree with it), so it shows exactly what decided
//! the answer: for access granted, the chain of tuples and rewrites of the
//! derivation that was found; for access denied, every branch that was tried
//! and why it failed. A userset evaluated earlier in the same question is
//! shown once and referred to afterwards.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::ir::ArrowMode;

/// The result of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Granted,
    Denied,
    /// Depends on the values of missing parameters.
    Conditional,
    /// Beyond the depth limit, or a condition that failed.
    Unknown,
}

/// One step of an evaluation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// A stored relation of one object.
    Relation {
        userset: String,
    },
    /// A permission of one object; its child is the rewrite.
    Permission {
        userset: String,
    },
    /// Looking for this exact tuple.
    Tuple {
        tuple: String,
    },
    /// Looking for this wildcard tuple.
    Wildcard {
        tuple: String,
    },
    /// Following this tuple to its subject set (the child).
    SubjectSet {
        tuple: String,
    },
    Union,
    Intersection,
    /// Children: the base, then [`Step::Subtract`] when the base held.
    Exclusion,
    /// The right side of an exclusion: granted here means excluded.
    Subtract,
    /// `tupleset->target` (`any`) or `tupleset.all(target)`.
    Arrow {
        tupleset: String,
        target: String,
        mode: ArrowMode,
    },
    /// Following this tupleset tuple to the target on its object (the child).
    ArrowBranch {
        tuple: String,
    },
    /// The object of this tupleset tuple has no `target`: it contributes nothing.
    MissingTarget {
        tuple: String,
        object: String,
        target: String,
    },
    /// `self`: the object itself, granted when it is the subject asked about.
    SelfObject {
        object: String,
    },
    /// `.all` over no object: the empty set.
    EmptyTupleset {
        tupleset: String,
    },
    /// The part of `tupleset.all(target)` that some tuple of the tupleset
    /// that holds leads to a member (`tupleset->target`); shown when tuples
    /// with a pending condition leave it to decide.
    SomeHop {
        tupleset: String,
        target: String,
    },
    /// This userset is already being evaluated on this path: no derivation
    /// along it (a cycle in the data).
    Cycle {
        userset: String,
    },
    /// Evaluated earlier in this question; see there.
    Memo {
        userset: String,
    },
    /// Deeper than the depth limit.
    DepthLimit {
        userset: String,
    },
    /// The condition of this tuple, evaluated with the tuple's stored
    /// context and the request's values (those the tuple did not fix).
    Condition {
        tuple: String,
        condition: String,
        stored: serde_json::Value,
        request: serde_json::Value,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missing: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// This tuple expired before the read time: it counts for nothing.
    Expired {
        tuple: String,
        expired_at: String,
    },
}

/// A node of an explanation tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainNode {
    pub outcome: Outcome,
    #[serde(flatten)]
    pub step: Step,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::serialize_deep"
    )]
    pub children: Vec<ExplainNode>,
}

/// The answer to a check with its trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// `object#relation@subject`
    pub question: String,
    /// `Granted`, `Denied`, or `Unknown` when the depth limit was hit (then
    /// `error` says where).
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With a `Conditional` outcome: the parameters that had no value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    pub tree: Option<ExplainNode>,
}

/// Builds the tree while the evaluator runs.
#[derive(Debug, Default)]
pub(crate) struct TraceBuilder {
    open: Vec<(Step, Vec<ExplainNode>)>,
    root: Option<ExplainNode>,
}

impl TraceBuilder {
    pub(crate) fn open(&mut self, step: Step) {
        self.open.push((step, Vec::new()));
    }

    pub(crate) fn close(&mut self, outcome: Outcome) {
        let Some((step, children)) = self.open.pop() else {
            return;
        };
        let node = ExplainNode {
            outcome,
            step,
            children,
        };
        match self.open.last_mut() {
            Some((_, siblings)) => siblings.push(node),
            None => self.root = Some(node),
        }
    }

    pub(crate) fn finish(self) -> Option<ExplainNode> {
        self.root
    }
}

impl Explanation {
    /// The explanation as indented text, one step a line.
    pub fn render(&self) -> String {
        let verdict = match self.outcome {
            Outcome::Granted => "allowed".to_owned(),
            Outcome::Denied => "denied".to_owned(),
            Outcome::Conditional => format!("conditional (missing {})", self.missing.join(", ")),
            Outcome::Unknown => "unknown".to_owned(),
        };
        let mut out = format!("{}: {verdict}\n", self.question);
        if let Some(error) = &self.error {
            let _ = writeln!(out, "error: {error}");
        }
        if let Some(tree) = &self.tree {
            render_node(tree, 1, &mut out);
        }
        out
    }
}

fn render_node(node: &ExplainNode, indent: usize, out: &mut String) {
    let mark = match node.outcome {
        Outcome::Granted => "✓",
        Outcome::Denied => "✗",
        Outcome::Conditional => "~",
        Outcome::Unknown => "?",
    };
    let granted = node.outcome == Outcome::Granted;
    let text = match &node.step {
        Step::Relation { userset } => format!("{userset} (relation)"),
        Step::Permission { userset } => format!("{userset} (permission)"),
        Step::Tuple { tuple } if granted => format!("tuple {tuple}"),
        Step::Tuple { tuple } => format!("no tuple {tuple}"),
        Step::Wildcard { tuple } if granted => format!("wildcard tuple {tuple}"),
        Step::Wildcard { tuple } => format!("no wildcard tuple {tuple}"),
        Step::SubjectSet { tuple } => format!("via {tuple}"),
        Step::Union => "any of (|)".to_owned(),
        Step::Intersection => "all of (&)".to_owned(),
        Step::Exclusion => "but not (-)".to_owned(),
        Step::Subtract if granted => "excluded by".to_owned(),
        Step::Subtract => "not excluded by".to_owned(),
        Step::Arrow {
            tupleset,
            target,
            mode: ArrowMode::Any,
        } => format!("{tupleset}->{target}"),
        Step::Arrow {
            tupleset,
            target,
            mode: ArrowMode::All,
        } => format!("{tupleset}.all({target})"),
        Step::ArrowBranch { tuple } => format!("via {tuple}"),
        Step::MissingTarget {
            tuple,
            object,
            target,
        } => format!("via {tuple}: `{object}` has no `{target}`"),
        Step::EmptyTupleset { tupleset } => format!("{tupleset} is empty"),
        Step::SomeHop { tupleset, target } => {
            format!("some hop of {tupleset} leads to `{target}`")
        }
        Step::SelfObject { object } => format!("self ({object})"),
        Step::Cycle { userset } => format!("{userset}: cycle, no derivation along this path"),
        Step::Memo { userset } => format!("{userset} (evaluated above)"),
        Step::DepthLimit { userset } => format!("{userset}: depth limit reached"),
        Step::Condition {
            tuple,
            condition,
            stored,
            request,
            missing,
            error,
        } => {
            let mut text =
                format!("condition {condition} of {tuple}: tuple {stored}, request {request}");
            if !missing.is_empty() {
                let _ = write!(text, ", missing {}", missing.join(", "));
            }
            if let Some(error) = error {
                let _ = write!(text, ", failed: {error}");
            }
            text
        }
        Step::Expired { tuple, expired_at } => format!("{tuple} expired at {expired_at}"),
    };
    let _ = writeln!(out, "{}{mark} {text}", "  ".repeat(indent));
    for child in &node.children {
        super::grow_stack(|| render_node(child, indent + 1, out));
    }
}
