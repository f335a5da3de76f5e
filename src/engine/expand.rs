//! Expand: the rewrite tree of a userset with the stored subjects at its
//! leaves, following subject sets and arrows to a given depth.
//!
//! The tree mirrors the schema: a permission is a [`ExpandTree::Computed`]
//! node over its rewrite, a stored relation is a [`ExpandTree::Leaf`] with
//! its direct subjects (each subject set among them expanded in turn). A
//! userset already being expanded on the current path is a
//! [`ExpandTree::Cycle`], and one deeper than the limit is
//! [`ExpandTree::Truncated`], so the tree is always finite.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::interrupt::Watch;
use super::{AnswerBudget, Engine, EngineError};
use crate::ir::{AllowedType, ArrowMode, RelationId, RelationKind, Rewrite};
use crate::store::{Reader, SubjectKind};
use crate::tuple::{subject_matches, Expiry, Object, Subject, TupleCondition};

/// An expanded userset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExpandTree {
    /// A stored relation of one object: its direct subjects, and the
    /// expansion of each subject set among them.
    Leaf {
        userset: String,
        subjects: Vec<String>,
        /// The subjects of tuples with a condition or an expiry (not
        /// expired at the read time), with what they carry: in the set
        /// when their condition holds.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attributed: Vec<AttributedSubject>,
        #[serde(
            default,
            skip_serializing_if = "Vec::is_empty",
            serialize_with = "super::serialize_deep"
        )]
        expanded: Vec<ExpandTree>,
    },
    /// A permission (or a name used in a rewrite) of one object.
    Computed {
        userset: String,
        #[serde(serialize_with = "super::serialize_deep")]
        child: Box<ExpandTree>,
    },
    Union {
        #[serde(serialize_with = "super::serialize_deep")]
        children: Vec<ExpandTree>,
    },
    Intersection {
        #[serde(serialize_with = "super::serialize_deep")]
        children: Vec<ExpandTree>,
    },
    Exclusion {
        #[serde(serialize_with = "super::serialize_deep")]
        base: Box<ExpandTree>,
        #[serde(serialize_with = "super::serialize_deep")]
        subtract: Box<ExpandTree>,
    },
    /// `tupleset->target` or `tupleset.all(target)`: one child per object
    /// of the tupleset that has `target`.
    Arrow {
        tupleset: String,
        target: String,
        mode: ArrowMode,
        #[serde(serialize_with = "super::serialize_deep")]
        children: Vec<ExpandTree>,
    },
    /// Not expanded: deeper than the requested depth.
    Truncated { userset: String },
    /// Already being expanded on this path.
    Cycle { userset: String },
}

/// A leaf's subject from a tuple with a condition or an expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributedSubject {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<TupleCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Expiry>,
}

pub(crate) struct Expander<'e, 'a> {
    engine: &'e Engine<'a>,
    /// The request's snapshot.
    reader: &'e dyn Reader,
    max_depth: u32,
    path: HashSet<(RelationId, String)>,
    watch: Watch,
    /// The tree's nodes and leaf subjects so far, against their limit.
    budget: AnswerBudget,
}

impl<'e, 'a> Expander<'e, 'a> {
    pub(crate) fn new(
        engine: &'e Engine<'a>,
        reader: &'e dyn Reader,
        max_depth: u32,
        budget: AnswerBudget,
    ) -> Self {
        Expander {
            engine,
            reader,
            max_depth,
            path: HashSet::new(),
            watch: Watch::current(),
            budget,
        }
    }

    pub(crate) fn expand_root(
        &mut self,
        relation: RelationId,
        id: &str,
    ) -> Result<ExpandTree, EngineError> {
        self.goal(relation, id, 0)
    }

    fn goal(
        &mut self,
        relation: RelationId,
        id: &str,
        depth: u32,
    ) -> Result<ExpandTree, EngineError> {
        self.watch.tick()?;
        self.budget.spend(1)?;
        let engine = self.engine;
        let userset = engine.userset(relation, id);
        if depth > self.max_depth {
            return Ok(ExpandTree::Truncated { userset });
        }
        let key = (relation, id.to_owned());
        if self.path.contains(&key) {
            return Ok(ExpandTree::Cycle { userset });
        }
        self.path.insert(key.clone());
        let tree = super::grow_stack(|| self.body(relation, id, depth, userset));
        self.path.remove(&key);
        tree
    }

    fn body(
        &mut self,
        relation: RelationId,
        id: &str,
        depth: u32,
        userset: String,
    ) -> Result<ExpandTree, EngineError> {
        let engine = self.engine;
        let Some(rel) = engine.schema.relation(relation) else {
            return Ok(ExpandTree::Union {
                children: Vec::new(),
            });
        };
        match &rel.kind {
            RelationKind::Relation {
                types,
                rewrite: None,
                ..
            } => self.stored(relation, id, types, depth, userset),
            RelationKind::Relation {
                rewrite: Some(rewrite),
                ..
            }
            | RelationKind::Permission { rewrite } => Ok(ExpandTree::Computed {
                userset,
                child: Box::new(self.rewrite(rewrite, relation, id, depth)?),
            }),
        }
    }

    /// The subjects of a relation's own tuples, subject sets expanded.
    fn stored(
        &mut self,
        relation: RelationId,
        id: &str,
        types: &[AllowedType],
        depth: u32,
        userset: String,
    ) -> Result<ExpandTree, EngineError> {
        let engine = self.engine;
        let Some(rel) = engine.schema.relation(relation) else {
            return Ok(ExpandTree::Union {
                children: Vec::new(),
            });
        };
        let stored = self.reader.subjects(
            engine.namespace_name(rel.namespace),
            id,
            &rel.name,
            SubjectKind::All,
        )?;
        let subjects: Vec<String> = stored
            .iter()
            .filter(|s| types.iter().any(|&t| subject_matches(engine.schema, t, s)))
            .map(ToString::to_string)
            .collect();
        self.budget.spend(subjects.len())?;
        let mut expanded = Vec::new();
        for (_, set_relation, set_id) in engine.subject_sets(relation, id, self.reader)? {
            expanded.push(self.goal(set_relation, &set_id, depth + 1)?);
        }
        let mut attributed = Vec::new();
        if !rel.traited().is_empty() {
            let now = engine.now();
            let mut tuples = Vec::new();
            self.reader.for_each_attributed(
                engine.namespace_name(rel.namespace),
                id,
                &rel.name,
                &mut |tuple| tuples.push(tuple.clone()),
            )?;
            for tuple in tuples.into_iter().filter(|t| t.live_at(now)) {
                self.budget.spend(1)?;
                if let Subject::Set { object, relation } = &tuple.subject {
                    let set = engine
                        .schema
                        .namespace_id(&object.namespace)
                        .and_then(|ns| engine.schema.relation_id(ns, relation));
                    if let Some(set) = set {
                        expanded.push(self.goal(set, &object.id, depth + 1)?);
                    }
                }
                attributed.push(AttributedSubject {
                    subject: tuple.subject.to_string(),
                    condition: tuple.condition.map(|c| *c),
                    expires_at: tuple.expires_at,
                });
            }
        }
        Ok(ExpandTree::Leaf {
            userset,
            subjects,
            attributed,
            expanded,
        })
    }

    /// `owner`: the relation or permission whose rewrite this is (`this` is its tuples).
    fn rewrite(
        &mut self,
        rewrite: &Rewrite,
        owner: RelationId,
        id: &str,
        depth: u32,
    ) -> Result<ExpandTree, EngineError> {
        // A computed name is the node of its goal; every other rewrite is a
        // node of its own.
        if !matches!(rewrite, Rewrite::Computed { .. }) {
            self.budget.spend(1)?;
        }
        match rewrite {
            Rewrite::Computed { relation } => self.goal(*relation, id, depth),
            Rewrite::Nil => Ok(ExpandTree::Union {
                children: Vec::new(),
            }),
            Rewrite::SelfObject => {
                let engine = self.engine;
                let object =
                    Object::new(engine.namespace_name(engine.relation_namespace(owner)), id);
                Ok(ExpandTree::Leaf {
                    userset: "self".to_owned(),
                    subjects: vec![object.to_string()],
                    attributed: Vec::new(),
                    expanded: Vec::new(),
                })
            }
            Rewrite::This => {
                let engine = self.engine;
                let types = engine
                    .schema
                    .relation(owner)
                    .map_or(&[][..], |r| r.allowed());
                let userset = engine.userset(owner, id);
                self.stored(owner, id, types, depth, userset)
            }
            Rewrite::Union { children } => Ok(ExpandTree::Union {
                children: self.all(children, owner, id, depth)?,
            }),
            Rewrite::Intersection { children } => Ok(ExpandTree::Intersection {
                children: self.all(children, owner, id, depth)?,
            }),
            Rewrite::Exclusion { base, subtract } => Ok(ExpandTree::Exclusion {
                base: Box::new(self.rewrite(base, owner, id, depth)?),
                subtract: Box::new(self.rewrite(subtract, owner, id, depth)?),
            }),
            Rewrite::Arrow {
                tupleset,
                target_name,
                targets,
                mode,
            } => {
                let engine = self.engine;
                let mut children = Vec::new();
                for (ns, x) in engine.object_subjects(*tupleset, id, self.reader)? {
                    if let Some(target) = targets.iter().find(|t| t.namespace == ns) {
                        children.push(self.goal(target.relation, &x, depth + 1)?);
                    }
                }
                Ok(ExpandTree::Arrow {
                    tupleset: engine.userset(*tupleset, id),
                    target: target_name.clone(),
                    mode: *mode,
                    children,
                })
            }
        }
    }

    fn all(
        &mut self,
        children: &[Rewrite],
        owner: RelationId,
        id: &str,
        depth: u32,
    ) -> Result<Vec<ExpandTree>, EngineError> {
        children
            .iter()
            .map(|child| self.rewrite(child, owner, id, depth))
            .collect()
    }
}

impl ExpandTree {
    /// The tree as indented text, one node a line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(0, &mut out);
        out
    }

    fn render_into(&self, indent: usize, out: &mut String) {
        super::grow_stack(|| self.render_node(indent, out));
    }

    fn render_node(&self, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent);
        match self {
            ExpandTree::Leaf {
                userset,
                subjects,
                attributed,
                expanded,
            } => {
                let mut all = subjects.clone();
                for a in attributed {
                    let mut text = a.subject.clone();
                    if let Some(condition) = &a.condition {
                        if condition.context.is_empty() {
                            let _ = write!(text, "[{}]", condition.name);
                        } else {
                            let _ = write!(
                                text,
                                "[{}:{}]",
                                condition.name,
                                condition.context.as_json()
                            );
                        }
                    }
                    if let Some(expiry) = a.expires_at {
                        let _ = write!(text, "[expiration:{expiry}]");
                    }
                    all.push(text);
                }
                let list = if all.is_empty() {
                    "(no subjects)".to_owned()
                } else {
                    all.join(", ")
                };
                let _ = writeln!(out, "{pad}{userset}: {list}");
                for child in expanded {
                    child.render_into(indent + 1, out);
                }
            }
            ExpandTree::Computed { userset, child } => {
                let _ = writeln!(out, "{pad}{userset} =");
                child.render_into(indent + 1, out);
            }
            ExpandTree::Union { children } => {
                let _ = writeln!(out, "{pad}union (|)");
                for child in children {
                    child.render_into(indent + 1, out);
                }
            }
            ExpandTree::Intersection { children } => {
                let _ = writeln!(out, "{pad}intersection (&)");
                for child in children {
                    child.render_into(indent + 1, out);
                }
            }
            ExpandTree::Exclusion { base, subtract } => {
                let _ = writeln!(out, "{pad}exclusion (-)");
                base.render_into(indent + 1, out);
                let _ = writeln!(out, "{pad}  minus");
                subtract.render_into(indent + 2, out);
            }
            ExpandTree::Arrow {
                tupleset,
                target,
                mode,
                children,
            } => {
                let arrow = match mode {
                    ArrowMode::Any => format!("{tupleset}->{target}"),
                    ArrowMode::All => format!("{tupleset}.all({target})"),
                };
                let _ = writeln!(out, "{pad}{arrow}");
                for child in children {
                    child.render_into(indent + 1, out);
                }
            }
            ExpandTree::Truncated { userset } => {
                let _ = writeln!(out, "{pad}{userset}: … (depth limit)");
            }
            ExpandTree::Cycle { userset } => {
                let _ = writeln!(out, "{pad}{userset}: (cycle)");
            }
        }
    }
}
