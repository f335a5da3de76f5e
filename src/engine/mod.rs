//! The permission engine: interprets a compiled [`Schema`] against a
//! [`TupleStore`] snapshot (docs/language.md, "Meaning").
//!
//! Every question is asked at a store [`Revision`], so a request (or every
//! page of a lookup) sees one consistent snapshot while writes go on.
//!
//! - [`Engine::check`]: is the subject in the set of `object#relation`? The
//!   least fixed point is computed top-down with a per-request memo; see
//!   [`check`](self::check) for how cycles and the depth limit are handled.
//! - [`Engine::explain`]: the same evaluation, recording the derivation that
//!   grants access, or why every branch failed.
//! - [`Engine::expand`]: the rewrite tree with the subjects at its leaves.
//! - [`Engine::lookup_subjects`] and [`Engine::lookup_resources`]: exact
//!   under every operator, by collecting candidates with a positive
//!   over-approximation, deciding most from what that walk found, and
//!   confirming the rest with a check (see [`lookup`](self::lookup)).
//!
//! Tuples the current schema would not accept (left over from an older
//! schema) are ignored, so the answers are those of the data the schema can
//! express. A subject set is not a member of itself unless a derivation
//! reaches it (`group:eng#member` is in `group:eng#member` only if some chain
//! of tuples leads back to it).

mod check;
mod expand;
mod explain;
mod ids;
pub mod interrupt;
mod lookup;

use serde::Serialize;
use thiserror::Error;

use crate::condition::EvalError;
use crate::ir::{AllowedType, NamespaceId, Relation, RelationId, Rewrite, Schema};
use crate::store::{Page, PageRequest, Reader, Revision, StoreError, TupleStore};
use crate::tuple::{encode_id, Expiry, Object, Subject, Tuple};

pub use expand::{AttributedSubject, ExpandTree};
pub use explain::{ExplainNode, Explanation, Outcome, Step};
pub use interrupt::Interrupt;
pub use lookup::{ConditionalId, SubjectLookup};

/// The depth limit when none is configured (docs/language.md, "Meaning").
pub const DEFAULT_MAX_DEPTH: u32 = 32;

/// The largest configurable depth. Evaluation recurses once per hop and
/// grows its stack on demand ([`grow_stack`]), so this bounds the work of a
/// runaway question rather than the native stack.
pub const MAX_MAX_DEPTH: u32 = 512;

/// Runs one level of a recursive evaluation, first moving to a fresh stack
/// segment when less than 128 KiB is left, so deep data cannot overflow the
/// caller's thread (whatever its stack size).
pub fn grow_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, f)
}

/// `serialize_with` for the children of result trees, which are as deep as
/// the data: serializers recurse once per level, so they need room too.
fn serialize_deep<T: Serialize, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    grow_stack(|| value.serialize(serializer))
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or(String::new(), |s| format!("; did you mean `{s}`?"))
}

/// Why the engine could not answer.
#[derive(Debug, Error)]
pub enum EngineError {
    /// Answering needed more hops through tuples than allowed. `path` is the
    /// chain of usersets that went too deep, from the question down.
    #[error("maximum depth {max_depth} exceeded: {}", path.join(" -> "))]
    DepthExceeded { max_depth: u32, path: Vec<String> },
    /// The name, and the closest declared one.
    #[error("unknown namespace `{0}`{hint}", hint = did_you_mean(.1))]
    UnknownNamespace(String, Option<String>),
    #[error(
        "`{namespace}` has no relation or permission `{relation}`{}",
        did_you_mean(suggestion)
    )]
    UnknownRelation {
        namespace: String,
        relation: String,
        /// The closest name `namespace` has.
        suggestion: Option<String>,
    },
    #[error("the wildcard `{0}` cannot be the subject of a question; ask about one subject")]
    WildcardSubject(String),
    #[error("invalid page cursor `{0}`")]
    InvalidCursor(String),
    /// The schema has negation through recursion, which compiled schemas
    /// never have; the IR must have been built by hand.
    #[error("`{0}` depends on itself through the right side of `-`: the schema is not stratified")]
    NotStratified(String),
    /// The request's deadline passed, or its caller went away, before the
    /// answer was found ([`Interrupt`]).
    #[error("the request's deadline passed before the evaluation finished")]
    DeadlineExceeded,
    /// The answer would hold more than its [`AnswerLimits`] allow; the
    /// evaluation stopped once it passed the limit.
    #[error("the answer would hold more than {limit} {what}")]
    AnswerTooLarge { what: AnswerPart, limit: usize },
    /// A tuple's condition failed while it was evaluated: an error of the
    /// request, never a deny.
    #[error(transparent)]
    Condition(#[from] EvalError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A check's answer (docs/language.md, "Conditions: three-valued answers").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    Denied,
    /// Allowed or not depending on these parameters, which neither the
    /// tuples nor the request gave a value (sorted).
    Conditional {
        missing: Vec<String>,
    },
}

impl Decision {
    /// Whether access is granted: a conditional answer never is.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed)
    }
}

/// What a request brings besides its question: values for conditions'
/// parameters, the read time that decides expiry, and tuples that hold for
/// this request only.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestContext {
    /// Parameter values; a tuple's stored value for a parameter wins.
    pub context: serde_json::Map<String, serde_json::Value>,
    /// The read time; `None`: the system clock when the request starts.
    pub now: Option<Expiry>,
    /// Contextual tuples, validated against the schema by the caller.
    pub tuples: Vec<Tuple>,
}

/// Engine settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EngineOptions {
    /// The most hops through tuples (subject sets and arrows) one answer may
    /// take; computed names within one object do not count. Clamped to
    /// [`MAX_MAX_DEPTH`].
    pub max_depth: u32,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// What an [`AnswerLimits`] bound counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerPart {
    /// The subjects of a lookup of subjects (those in the set, and with a
    /// wildcard those excluded from it).
    Subjects,
    /// The nodes of an expand tree and the subjects at its leaves.
    ExpandNodes,
}

impl std::fmt::Display for AnswerPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AnswerPart::Subjects => "subjects",
            AnswerPart::ExpandNodes => "expand tree nodes and subjects",
        })
    }
}

/// Bounds on the size of the answers that are built whole (lookups of
/// subjects, expand trees), so that one question cannot take the memory of
/// a server: past one, the evaluation stops with
/// [`EngineError::AnswerTooLarge`]. `None`: unbounded (the default).
/// Lookups of resources are paged and need none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnswerLimits {
    pub max_subjects: Option<usize>,
    pub max_expand_nodes: Option<usize>,
}

/// Counts the parts of an answer being built against its limit.
#[derive(Debug)]
pub(crate) struct AnswerBudget {
    what: AnswerPart,
    limit: Option<usize>,
    used: usize,
}

impl AnswerBudget {
    pub(crate) fn new(what: AnswerPart, limit: Option<usize>) -> AnswerBudget {
        AnswerBudget {
            what,
            limit,
            used: 0,
        }
    }

    /// `n` more parts in the answer: an error once past the limit.
    pub(crate) fn spend(&mut self, n: usize) -> Result<(), EngineError> {
        self.used = self.used.saturating_add(n);
        match self.limit {
            Some(limit) if self.used > limit => Err(EngineError::AnswerTooLarge {
                what: self.what,
                limit,
            }),
            _ => Ok(()),
        }
    }
}

/// The engine: a schema and a store. Cheap to create; holds no state
/// between questions.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    schema: &'a Schema,
    store: &'a dyn TupleStore,
    options: EngineOptions,
    limits: AnswerLimits,
    request: Option<&'a RequestContext>,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("schema", &self.schema.hash)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A check's subject with its names resolved; `S` holds the subject (a
/// borrowed one for a check that may not need a copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target<S = Subject> {
    /// `ns:id`
    Object { namespace: NamespaceId, subject: S },
    /// `ns:id#rel`
    Set {
        namespace: NamespaceId,
        relation: RelationId,
        subject: S,
    },
    /// Some object of `ns` that no tuple names: in a set only through a
    /// wildcard. Used to ask whether a set holds "everyone".
    Anonymous { namespace: NamespaceId },
}

impl<'a> Engine<'a> {
    pub fn new(schema: &'a Schema, store: &'a dyn TupleStore) -> Engine<'a> {
        Engine {
            schema,
            store,
            options: EngineOptions::default(),
            limits: AnswerLimits::default(),
            request: None,
        }
    }

    /// Answers with this request's context, read time and contextual tuples.
    pub fn with_request(mut self, request: &'a RequestContext) -> Engine<'a> {
        self.request = Some(request);
        self
    }

    /// The read time of this request.
    fn now(&self) -> Expiry {
        self.request.and_then(|r| r.now).unwrap_or_else(Expiry::now)
    }

    /// The request's parameter values.
    fn request_context(&self) -> &serde_json::Map<String, serde_json::Value> {
        static EMPTY: std::sync::OnceLock<serde_json::Map<String, serde_json::Value>> =
            std::sync::OnceLock::new();
        match self.request {
            Some(request) => &request.context,
            None => EMPTY.get_or_init(serde_json::Map::new),
        }
    }

    /// Bounds the answers built whole (see [`AnswerLimits`]).
    pub fn with_answer_limits(mut self, limits: AnswerLimits) -> Engine<'a> {
        self.limits = limits;
        self
    }

    pub fn with_options(mut self, options: EngineOptions) -> Engine<'a> {
        self.options = EngineOptions {
            max_depth: options.max_depth.min(MAX_MAX_DEPTH),
        };
        self
    }

    pub fn options(&self) -> EngineOptions {
        self.options
    }

    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// Whether `subject` is in the set of `object#relation` at `at`; a
    /// conditional answer is `false` (see [`Engine::decide`]).
    pub fn check(
        &self,
        object: &Object,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<bool, EngineError> {
        Ok(self.decide(object, relation, subject, at)?.is_allowed())
    }

    /// Whether `subject` is in the set of `object#relation` at `at`:
    /// allowed, denied, or conditional on missing parameters.
    pub fn decide(
        &self,
        object: &Object,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Decision, EngineError> {
        Ok(self.decide_with_depth(object, relation, subject, at)?.0)
    }

    /// [`Engine::decide`], also telling the most hops through tuples the
    /// evaluation took (for metrics).
    pub fn decide_with_depth(
        &self,
        object: &Object,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<(Decision, u32), EngineError> {
        let _span = tracing::debug_span!("engine.check", object = %object, relation, subject = %subject, revision = at.0).entered();
        let relation = self.resolve(object, relation)?;
        let target = self.target_of(subject)?;
        let reader = self.snapshot(at)?;
        if let Some((allowed, deepest)) =
            check::plain::check(self, &target, &*reader, relation, &object.id)?
        {
            let answer = if allowed {
                Decision::Allowed
            } else {
                Decision::Denied
            };
            return Ok((answer, deepest));
        }
        let mut checker = check::Checker::new(self, target.owned(), &*reader, false);
        let answer = checker.check_root(relation, &object.id)?;
        Ok((answer, checker.deepest()))
    }

    /// [`Engine::check`], also telling the most hops through tuples the
    /// evaluation took (for metrics).
    pub fn check_with_depth(
        &self,
        object: &Object,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<(bool, u32), EngineError> {
        let (decision, depth) = self.decide_with_depth(object, relation, subject, at)?;
        Ok((decision.is_allowed(), depth))
    }

    /// [`Engine::check`] for an assertion written as a tuple
    /// (`document:readme#view@user:alice`).
    pub fn check_tuple(&self, tuple: &Tuple, at: Revision) -> Result<bool, EngineError> {
        self.check(&tuple.object, &tuple.relation, &tuple.subject, at)
    }

    /// The evaluation of a check, step by step: the derivation that grants
    /// access, or why each branch failed.
    pub fn explain(
        &self,
        object: &Object,
        relation: &str,
        subject: &Subject,
        at: Revision,
    ) -> Result<Explanation, EngineError> {
        let _span = tracing::debug_span!("engine.explain", object = %object, relation, subject = %subject, revision = at.0).entered();
        let relation_id = self.resolve(object, relation)?;
        let target = self.target(subject)?;
        let reader = self.snapshot(at)?;
        let mut checker = check::Checker::new(self, target, &*reader, true);
        let answer = checker.check_root(relation_id, &object.id);
        let tree = checker.take_trace();
        let (outcome, error, missing) = match answer {
            Ok(Decision::Allowed) => (Outcome::Granted, None, Vec::new()),
            Ok(Decision::Denied) => (Outcome::Denied, None, Vec::new()),
            Ok(Decision::Conditional { missing }) => (Outcome::Conditional, None, missing),
            Err(error @ EngineError::DepthExceeded { .. }) => {
                (Outcome::Unknown, Some(error.to_string()), Vec::new())
            }
            Err(other) => return Err(other),
        };
        Ok(Explanation {
            question: format!("{object}#{relation}@{subject}"),
            outcome,
            error,
            missing,
            tree,
        })
    }

    /// The rewrite tree of `object#relation`, following tuples up to
    /// `max_depth` hops (deeper parts are marked truncated).
    pub fn expand(
        &self,
        object: &Object,
        relation: &str,
        max_depth: u32,
        at: Revision,
    ) -> Result<ExpandTree, EngineError> {
        let _span = tracing::debug_span!("engine.expand", object = %object, relation, max_depth, revision = at.0).entered();
        let relation = self.resolve(object, relation)?;
        let reader = self.snapshot(at)?;
        let budget = AnswerBudget::new(AnswerPart::ExpandNodes, self.limits.max_expand_nodes);
        expand::Expander::new(self, &*reader, max_depth.min(MAX_MAX_DEPTH), budget)
            .expand_root(relation, &object.id)
    }

    /// The object subjects of `subject_namespace` in the set of
    /// `object#relation`, and whether the set holds every subject of that
    /// namespace (a wildcard), less some.
    pub fn lookup_subjects(
        &self,
        object: &Object,
        relation: &str,
        subject_namespace: &str,
        at: Revision,
    ) -> Result<SubjectLookup, EngineError> {
        let _span = tracing::debug_span!("engine.lookup_subjects", object = %object, relation, subject_namespace, revision = at.0).entered();
        let relation = self.resolve(object, relation)?;
        let namespace = self
            .schema
            .namespace_id(subject_namespace)
            .ok_or_else(|| self.unknown_namespace(subject_namespace))?;
        let reader = self.snapshot(at)?;
        lookup::lookup_subjects(self, relation, &object.id, namespace, &*reader)
    }

    /// The IDs of the objects of `namespace` whose `relation` holds
    /// `subject`, sorted, a page at a time (the cursor is the last ID of the
    /// previous page).
    pub fn lookup_resources(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        page: &PageRequest,
        at: Revision,
    ) -> Result<Page<String>, EngineError> {
        let page = self.lookup_resources_decided(namespace, relation, subject, page, at, false)?;
        Ok(Page {
            items: page.items.into_iter().map(|(id, _)| id).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// [`Engine::lookup_resources`], each object with its decision: with
    /// `conditional`, the objects whose set holds the subject depending on
    /// missing condition parameters come too (marked so).
    pub fn lookup_resources_decided(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        page: &PageRequest,
        at: Revision,
        conditional: bool,
    ) -> Result<Page<(String, Decision)>, EngineError> {
        let _span = tracing::debug_span!("engine.lookup_resources", namespace, relation, subject = %subject, revision = at.0).entered();
        let ns = self
            .schema
            .namespace_id(namespace)
            .ok_or_else(|| self.unknown_namespace(namespace))?;
        let relation_id = self
            .schema
            .relation_id(ns, relation)
            .ok_or_else(|| self.unknown_relation(ns, namespace, relation))?;
        let target = self.target(subject)?;
        let reader = self.snapshot(at)?;
        lookup::lookup_resources(self, relation_id, &target, page, &*reader, conditional)
    }

    /// The store's snapshot at `at`, in a span of its own (the reads of the
    /// evaluation itself, one per edge, get none).
    fn snapshot(&self, at: Revision) -> Result<Box<dyn Reader + 'a>, EngineError> {
        let _span = tracing::debug_span!("store.snapshot", revision = at.0).entered();
        let reader = self.store.snapshot(at)?;
        match self.request {
            Some(request) if !request.tuples.is_empty() => Ok(Box::new(
                crate::store::overlay::Overlay::new(reader, &request.tuples),
            )),
            _ => Ok(reader),
        }
    }

    /// An unknown namespace, with the closest declared name.
    fn unknown_namespace(&self, name: &str) -> EngineError {
        let known = self.schema.namespaces.iter().map(|n| n.name.as_str());
        let suggestion = crate::diagnostics::suggest::closest(name, known).map(str::to_owned);
        EngineError::UnknownNamespace(name.to_owned(), suggestion)
    }

    /// An unknown relation of `ns`, with the closest name it has.
    fn unknown_relation(&self, ns: NamespaceId, namespace: &str, relation: &str) -> EngineError {
        let known = self
            .schema
            .namespace(ns)
            .into_iter()
            .flat_map(|n| n.relations.iter())
            .filter_map(|&r| self.schema.relation(r))
            .map(|r| r.name.as_str());
        let suggestion = crate::diagnostics::suggest::closest(relation, known).map(str::to_owned);
        EngineError::UnknownRelation {
            namespace: namespace.to_owned(),
            relation: relation.to_owned(),
            suggestion,
        }
    }

    /// Resolves a question's names without answering it: the errors a check
    /// gives before reading anything (an unknown namespace or relation, a
    /// wildcard subject).
    pub fn resolve_question(
        &self,
        object: &Object,
        relation: &str,
        subject: &Subject,
    ) -> Result<(), EngineError> {
        self.resolve(object, relation)?;
        self.target(subject).map(|_| ())
    }

    fn resolve(&self, object: &Object, relation: &str) -> Result<RelationId, EngineError> {
        let ns = self
            .schema
            .namespace_id(&object.namespace)
            .ok_or_else(|| self.unknown_namespace(&object.namespace))?;
        self.schema
            .relation_id(ns, relation)
            .ok_or_else(|| self.unknown_relation(ns, &object.namespace, relation))
    }

    fn target(&self, subject: &Subject) -> Result<Target, EngineError> {
        Ok(self.target_of(subject)?.owned())
    }

    /// [`Engine::target`] without a copy of the subject.
    fn target_of<'s>(&self, subject: &'s Subject) -> Result<Target<&'s Subject>, EngineError> {
        let namespace = self
            .schema
            .namespace_id(subject.namespace())
            .ok_or_else(|| self.unknown_namespace(subject.namespace()))?;
        match subject {
            Subject::Object(_) => Ok(Target::Object { namespace, subject }),
            Subject::Set { object, relation } => {
                let relation_id = self
                    .schema
                    .relation_id(namespace, relation)
                    .ok_or_else(|| self.unknown_relation(namespace, &object.namespace, relation))?;
                Ok(Target::Set {
                    namespace,
                    relation: relation_id,
                    subject,
                })
            }
            Subject::Wildcard { .. } => Err(EngineError::WildcardSubject(subject.to_string())),
        }
    }

    // Helpers shared by the evaluators.

    fn namespace_name(&self, id: NamespaceId) -> &'a str {
        self.schema.namespace(id).map_or("?", |n| n.name.as_str())
    }

    fn relation_name(&self, id: RelationId) -> &'a str {
        self.schema.relation(id).map_or("?", |r| r.name.as_str())
    }

    /// The namespace named `name`: `last` when it is that one (the subjects
    /// of one read are mostly of one namespace, and comparing a name is
    /// cheaper than looking it up), else looked up and kept in `last`.
    fn namespace_near(&self, last: &mut Option<NamespaceId>, name: &str) -> Option<NamespaceId> {
        if let Some(ns) = last.filter(|&ns| self.namespace_name(ns) == name) {
            return Some(ns);
        }
        let ns = self.schema.namespace_id(name)?;
        *last = Some(ns);
        Some(ns)
    }

    /// The subject set type `namespace#relation`, found as
    /// [`Engine::namespace_near`] finds a namespace.
    fn set_type_near(
        &self,
        last: &mut Option<(NamespaceId, RelationId)>,
        namespace: &str,
        relation: &str,
    ) -> Option<(NamespaceId, RelationId)> {
        let same = |&(ns, target): &(NamespaceId, RelationId)| {
            self.relation_name(target) == relation && self.namespace_name(ns) == namespace
        };
        if let Some(found) = last.filter(same) {
            return Some(found);
        }
        let ns = self.schema.namespace_id(namespace)?;
        let found = (ns, self.schema.relation_id(ns, relation)?);
        *last = Some(found);
        Some(found)
    }

    /// What `id` means when computed ([`Relation::rewrite`]).
    fn rewrite_of(&self, id: RelationId) -> Option<&'a Rewrite> {
        self.schema.relation(id).and_then(Relation::rewrite)
    }

    fn relation_namespace(&self, id: RelationId) -> NamespaceId {
        self.schema
            .relation(id)
            .map_or(NamespaceId(u32::MAX), |r| r.namespace)
    }

    /// `ns:id#relation`, as in the tuple notation.
    fn userset(&self, relation: RelationId, id: &str) -> String {
        format!(
            "{}:{}#{}",
            self.namespace_name(self.relation_namespace(relation)),
            encode_id(id),
            self.relation_name(relation)
        )
    }

    /// The stored subject sets of `id#relation` that the relation's types
    /// accept, resolved.
    fn subject_sets(
        &self,
        relation: RelationId,
        id: &str,
        reader: &dyn Reader,
    ) -> Result<Vec<(Subject, RelationId, String)>, EngineError> {
        let Some(rel) = self.schema.relation(relation) else {
            return Ok(Vec::new());
        };
        let types = rel.allowed();
        if !types
            .iter()
            .any(|t| matches!(t, AllowedType::SubjectSet { .. }))
        {
            return Ok(Vec::new());
        }
        let subjects = reader.subjects(
            self.namespace_name(rel.namespace),
            id,
            &rel.name,
            crate::store::SubjectKind::Sets,
        )?;
        Ok(subjects
            .into_iter()
            .filter_map(|subject| {
                let Subject::Set { object, relation } = &subject else {
                    return None;
                };
                let ns = self.schema.namespace_id(&object.namespace)?;
                let target = self.schema.relation_id(ns, relation)?;
                let allowed = types.contains(&AllowedType::SubjectSet {
                    namespace: ns,
                    relation: target,
                });
                let id = object.id.clone();
                allowed.then_some((subject, target, id))
            })
            .collect())
    }

    /// The subjects of the stored tuples of `id#relation` that carry a
    /// condition or an expiry, whatever their condition says and however
    /// old (lookups' candidates, which checks then decide); none when the
    /// relation has no type with traits.
    fn attributed_subjects(
        &self,
        relation: RelationId,
        id: &str,
        reader: &dyn Reader,
    ) -> Result<Vec<Subject>, EngineError> {
        let Some(rel) = self.schema.relation(relation) else {
            return Ok(Vec::new());
        };
        if rel.traited().is_empty() {
            return Ok(Vec::new());
        }
        let mut subjects = Vec::new();
        reader.for_each_attributed(
            self.namespace_name(rel.namespace),
            id,
            &rel.name,
            &mut |tuple| subjects.push(tuple.subject.clone()),
        )?;
        Ok(subjects)
    }

    /// The stored object subjects of `id#relation` that the relation's
    /// types accept (an arrow's tupleset), with their namespaces.
    fn object_subjects(
        &self,
        relation: RelationId,
        id: &str,
        reader: &dyn Reader,
    ) -> Result<Vec<(NamespaceId, String)>, EngineError> {
        let Some(rel) = self.schema.relation(relation) else {
            return Ok(Vec::new());
        };
        let types = rel.allowed();
        let subjects = reader.subjects(
            self.namespace_name(rel.namespace),
            id,
            &rel.name,
            crate::store::SubjectKind::Objects,
        )?;
        Ok(subjects
            .into_iter()
            .filter_map(|subject| {
                let Subject::Object(object) = subject else {
                    return None;
                };
                let ns = self.schema.namespace_id(&object.namespace)?;
                types
                    .contains(&AllowedType::Object { namespace: ns })
                    .then_some((ns, object.id))
            })
            .collect())
    }
}
