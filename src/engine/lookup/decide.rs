//! Deciding a candidate from what a lookup's walk found, without a check.
//!
//! A walk proves that a userset holds the subject when it found a
//! derivation through unions alone within the depth limit (a check would
//! find it too, and a union with a `true` branch is `true`). It proves that
//! a userset does not hold the subject when the walk, which follows every
//! positive derivation, never reached it, and the userset is *closed*: its
//! evaluation cannot hop through more tuples than the depth limit allows
//! (no cycle through tuples in its part of the schema) and reads no tuple
//! with a condition or an expiry. A check of a closed userset answers
//! `true` or `false`, never unknown, conditional or an error, so the walk
//! alone tells which.
//!
//! Operators combine these facts in three values, as a check combines its
//! own; what stays open is left to a check. A fact the walk proves stands
//! whatever a check would meet in other branches (a condition that fails to
//! evaluate, say), as the walk's certain results always have.

use rustc_hash::FxHashMap;

use crate::engine::{grow_stack, EngineError};
use crate::ir::{AllowedType, ArrowTarget, RelationId, RelationKind, Rewrite, Schema};

/// What the walk proves of a part of a rewrite for one candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Holds,
    Fails,
    /// Only a check can tell.
    Open,
}

/// What a walk knows of the leaves of a rewrite, for one candidate.
pub(super) trait Facts {
    /// Whether the walk proved `node` to hold (a lookup's known branch).
    fn proven(&self, node: &Rewrite) -> bool;
    /// The computed name `relation`, on the candidate's object.
    fn computed(&mut self, relation: RelationId) -> Result<Verdict, EngineError>;
    /// An arrow of the rewrite.
    fn arrow(&mut self, arrow: &Rewrite) -> Result<Verdict, EngineError>;
    /// The own tuples of `relation` (`this` in its rewrite).
    fn tuples(&mut self, relation: RelationId) -> Result<Verdict, EngineError>;
    /// The object itself (`self` in the rewrite of `relation`).
    fn itself(&mut self, relation: RelationId) -> Verdict;
}

/// Decides `rewrite`, the rewrite of `relation` or a part of it, from the
/// facts of its leaves.
pub(super) fn decide(
    rewrite: &Rewrite,
    relation: RelationId,
    facts: &mut impl Facts,
) -> Result<Verdict, EngineError> {
    if facts.proven(rewrite) {
        return Ok(Verdict::Holds);
    }
    Ok(match rewrite {
        Rewrite::Computed { relation } => facts.computed(*relation)?,
        Rewrite::Arrow { .. } => facts.arrow(rewrite)?,
        Rewrite::This => facts.tuples(relation)?,
        Rewrite::SelfObject => facts.itself(relation),
        Rewrite::Nil => Verdict::Fails,
        Rewrite::Union { children } => {
            let mut verdict = Verdict::Fails;
            for child in children {
                match decide(child, relation, facts)? {
                    Verdict::Holds => return Ok(Verdict::Holds),
                    Verdict::Open => verdict = Verdict::Open,
                    Verdict::Fails => {}
                }
            }
            verdict
        }
        Rewrite::Intersection { children } => {
            let mut verdict = Verdict::Holds;
            for child in children {
                match decide(child, relation, facts)? {
                    Verdict::Fails => return Ok(Verdict::Fails),
                    Verdict::Open => verdict = Verdict::Open,
                    Verdict::Holds => {}
                }
            }
            verdict
        }
        // A check reads the base first: only a base that holds lets the
        // right side decide.
        Rewrite::Exclusion { base, subtract } => match decide(base, relation, facts)? {
            Verdict::Holds => match decide(subtract, relation, facts)? {
                Verdict::Holds => Verdict::Fails,
                Verdict::Fails => Verdict::Holds,
                Verdict::Open => Verdict::Open,
            },
            other => other,
        },
    })
}

/// The most hops through tuples an evaluation can take from a relation
/// (or its own tuples, or an arrow), when it is bounded and reads no tuple
/// with traits; computed on demand and kept for one lookup.
pub(super) struct Closure<'s> {
    schema: &'s Schema,
    max_depth: u32,
    relations: FxHashMap<RelationId, Bound>,
    tuples: FxHashMap<RelationId, Bound>,
}

#[derive(Clone, Copy, Debug)]
enum Bound {
    /// Being computed: meeting it again is a cycle through tuples
    /// (computed names alone never loop: E0301).
    Pending,
    /// The most hops, or `None` when unbounded or reading tuples with traits.
    Known(Option<u32>),
}

impl<'s> Closure<'s> {
    pub(super) fn new(schema: &'s Schema, max_depth: u32) -> Closure<'s> {
        Closure {
            schema,
            max_depth,
            relations: FxHashMap::default(),
            tuples: FxHashMap::default(),
        }
    }

    /// Whether a check of `relation` on any object, as a goal of depth 0,
    /// answers `true` or `false` and nothing else.
    pub(super) fn relation(&mut self, relation: RelationId) -> bool {
        let bound = self.relation_bound(relation);
        self.fits(bound)
    }

    /// The same for the own tuples of `relation` (`this`).
    pub(super) fn tuples(&mut self, relation: RelationId) -> bool {
        let bound = self.tuples_bound(relation);
        self.fits(bound)
    }

    /// The same for an arrow evaluated at depth 0.
    pub(super) fn arrow(&mut self, arrow: &Rewrite) -> bool {
        let bound = match arrow {
            Rewrite::Arrow {
                tupleset, targets, ..
            } => self.arrow_bound(*tupleset, targets),
            _ => None,
        };
        self.fits(bound)
    }

    fn fits(&self, bound: Option<u32>) -> bool {
        bound.is_some_and(|hops| hops <= self.max_depth)
    }

    fn relation_bound(&mut self, relation: RelationId) -> Option<u32> {
        match self.relations.get(&relation) {
            Some(Bound::Known(bound)) => return *bound,
            Some(Bound::Pending) => return None,
            None => {}
        }
        self.relations.insert(relation, Bound::Pending);
        let schema = self.schema;
        let bound = schema.relation(relation).and_then(|rel| match &rel.kind {
            RelationKind::Relation { rewrite: None, .. } => self.tuples_bound(relation),
            RelationKind::Relation {
                rewrite: Some(rewrite),
                ..
            }
            | RelationKind::Permission { rewrite } => {
                grow_stack(|| self.rewrite_bound(rewrite, relation))
            }
        });
        self.relations.insert(relation, Bound::Known(bound));
        bound
    }

    fn tuples_bound(&mut self, relation: RelationId) -> Option<u32> {
        match self.tuples.get(&relation) {
            Some(Bound::Known(bound)) => return *bound,
            Some(Bound::Pending) => return None,
            None => {}
        }
        self.tuples.insert(relation, Bound::Pending);
        let schema = self.schema;
        let bound = schema.relation(relation).and_then(|rel| {
            if !rel.traited().is_empty() {
                return None;
            }
            let mut most = 0;
            for ty in rel.allowed() {
                if let AllowedType::SubjectSet { relation: set, .. } = ty {
                    let hops = grow_stack(|| self.relation_bound(*set))?;
                    most = most.max(hops.saturating_add(1));
                }
            }
            Some(most)
        });
        self.tuples.insert(relation, Bound::Known(bound));
        bound
    }

    fn rewrite_bound(&mut self, rewrite: &Rewrite, relation: RelationId) -> Option<u32> {
        match rewrite {
            Rewrite::Computed { relation } => self.relation_bound(*relation),
            Rewrite::Arrow {
                tupleset, targets, ..
            } => self.arrow_bound(*tupleset, targets),
            Rewrite::This => self.tuples_bound(relation),
            Rewrite::Nil | Rewrite::SelfObject => Some(0),
            Rewrite::Union { .. } | Rewrite::Intersection { .. } | Rewrite::Exclusion { .. } => {
                let mut most = 0;
                for child in rewrite.children() {
                    most = most.max(self.rewrite_bound(child.rewrite, relation)?);
                }
                Some(most)
            }
        }
    }

    /// One hop to each target; the tupleset is read for its objects only.
    fn arrow_bound(&mut self, tupleset: RelationId, targets: &[ArrowTarget]) -> Option<u32> {
        let plain = self
            .schema
            .relation(tupleset)
            .is_some_and(|rel| rel.traited().is_empty());
        if !plain {
            return None;
        }
        let mut most = 0;
        for target in targets {
            let hops = self.relation_bound(target.relation)?;
            most = most.max(hops.saturating_add(1));
        }
        Some(most)
    }
}
