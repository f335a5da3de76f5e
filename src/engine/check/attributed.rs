//! Tuples with a condition or an expiry, as one check sees them: read
//! apart from plain tuples (stores never hand them to a plain read), kept
//! only when a type of the relation accepts them, left out once expired at
//! the request's read time, and turned into a [`Guard`] by evaluating their
//! condition with the tuple's stored context and the request's.

use std::rc::Rc;
use std::sync::{Arc, Mutex};

use super::{Checker, Guard, Id};
use crate::condition::eval::Programs;
use crate::condition::Verdict;
use crate::engine::explain::{Outcome, Step};
use crate::engine::EngineError;
use crate::ir::{AllowedType, ConditionId, RelationId, Schema, TraitedType};
use crate::tuple::{Subject, Tuple, TupleCondition};

/// Where a tuple with traits leads.
pub(super) enum Lead {
    /// To the target itself (its subject is the target or the target's
    /// wildcard); only said when the caller asked for the target alone.
    Target,
    /// To this subject.
    Subject(Subject),
}

impl Checker<'_, '_> {
    /// The tuples of `id#relation` with a condition or an expiry that the
    /// relation's types accept and that may hold in this request, with
    /// their guards. Expired tuples and tuples whose condition is false
    /// are left out; an evaluation error fails the request. With
    /// `only_target`, so are the tuples whose subject cannot lead to the
    /// target (another object, another namespace's wildcard): their
    /// conditions are not evaluated; those that name the target come as
    /// [`Lead::Target`].
    pub(super) fn attributed(
        &mut self,
        relation: RelationId,
        id: Id,
        only_target: bool,
    ) -> Result<Vec<(Lead, Guard)>, EngineError> {
        let engine = self.engine;
        let schema = engine.schema;
        let Some(rel) = schema.relation(relation) else {
            return Ok(Vec::new());
        };
        let name = self.ids.name(id).to_owned();
        // Judged as the store hands them over: nothing is copied but the
        // subjects of the tuples that may hold.
        let reader = self.reader;
        let mut out = Vec::new();
        let mut failed = None;
        reader.for_each_attributed(
            engine.namespace_name(rel.namespace),
            &name,
            &rel.name,
            &mut |tuple| {
                if failed.is_some() {
                    return;
                }
                let names_target = only_target && self.names_target(&tuple.subject);
                if only_target && !names_target && !matches!(tuple.subject, Subject::Set { .. }) {
                    return;
                }
                match self.judge(rel.traited(), tuple) {
                    Ok(Some(guard)) if names_target => out.push((Lead::Target, guard)),
                    Ok(Some(guard)) => out.push((Lead::Subject(tuple.subject.clone()), guard)),
                    Ok(None) => {}
                    Err(e) => failed = Some(e),
                }
            },
        )?;
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Whether a tuple with this subject names the target: it is the
    /// target, or the wildcard of the target's namespace.
    fn names_target(&self, subject: &Subject) -> bool {
        match subject {
            Subject::Wildcard { namespace } => self
                .target
                .wildcard()
                .is_some_and(|ns| self.engine.namespace_name(ns) == namespace),
            _ => self.target.direct().is_some_and(|(_, s)| s == subject),
        }
    }

    /// Whether a tuple with traits may hold in this request: `Some` with
    /// its guard, `None` when the relation's types do not accept it, it
    /// has expired, or its condition is false.
    fn judge(
        &mut self,
        traited: &[TraitedType],
        tuple: &Tuple,
    ) -> Result<Option<Guard>, EngineError> {
        let engine = self.engine;
        let Some(condition) = accepted(engine.schema, traited, tuple) else {
            return Ok(None);
        };
        // The clock is read only for a tuple that can expire.
        let expired = tuple.expires_at.is_some() && {
            let now = *self.now.get_or_insert_with(|| engine.now());
            !tuple.live_at(now)
        };
        if expired {
            if self.trace.is_some() {
                let expired_at = tuple.expires_at.map(|e| e.to_string()).unwrap_or_default();
                let tuple = tuple.to_string();
                self.leaf(|_| Step::Expired { tuple, expired_at }, Outcome::Denied);
            }
            return Ok(None);
        }
        Ok(match (condition, tuple.condition.as_deref()) {
            (Some(condition), Some(stored)) => match self.verdict(condition, stored, tuple)? {
                Verdict::True => Some(None),
                Verdict::False => None,
                Verdict::Missing(missing) => Some(Some(Rc::new(missing))),
            },
            _ => Some(None),
        })
    }

    /// Evaluates a tuple's condition for this request.
    fn verdict(
        &mut self,
        condition: ConditionId,
        stored: &TupleCondition,
        tuple: &Tuple,
    ) -> Result<Verdict, EngineError> {
        let programs = match &self.programs {
            Some(programs) => programs.clone(),
            None => {
                let programs = compiled(self.engine.schema)?;
                self.programs = Some(programs.clone());
                programs
            }
        };
        let stored_context = programs.stored_context(stored.context.as_json());
        let request = self.engine.request_context();
        let verdict = programs.evaluate(condition, &stored_context, request);
        if self.trace.is_some() {
            let params = self
                .engine
                .schema
                .condition(condition)
                .map(|c| c.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
                .unwrap_or_default();
            let from_request: serde_json::Map<String, serde_json::Value> = request
                .iter()
                .filter(|(k, _)| params.contains(k) && !stored_context.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let (outcome, missing, error) = match &verdict {
                Ok(Verdict::True) => (Outcome::Granted, Vec::new(), None),
                Ok(Verdict::False) => (Outcome::Denied, Vec::new(), None),
                Ok(Verdict::Missing(m)) => {
                    (Outcome::Conditional, m.iter().cloned().collect(), None)
                }
                Err(e) => (Outcome::Unknown, Vec::new(), Some(e.message.clone())),
            };
            let step = Step::Condition {
                tuple: tuple.to_string(),
                condition: stored.name.clone(),
                stored: serde_json::Value::Object((*stored_context).clone()),
                request: serde_json::Value::Object(from_request),
                missing,
                error,
            };
            self.leaf(|_| step, outcome);
        }
        Ok(verdict?)
    }
}

/// Whether a type of the relation accepts `tuple`: `Some` with the id of
/// its condition (`None` inside when it has none), `None` when no type
/// accepts it (a tuple the schema no longer allows is ignored, as plain
/// ones are).
fn accepted(
    schema: &Schema,
    traited: &[TraitedType],
    tuple: &Tuple,
) -> Option<Option<ConditionId>> {
    let base = match &tuple.subject {
        Subject::Object(object) => AllowedType::Object {
            namespace: schema.namespace_id(&object.namespace)?,
        },
        Subject::Wildcard { namespace } => AllowedType::Wildcard {
            namespace: schema.namespace_id(namespace)?,
        },
        Subject::Set { object, relation } => {
            let namespace = schema.namespace_id(&object.namespace)?;
            AllowedType::SubjectSet {
                namespace,
                relation: schema.relation_id(namespace, relation)?,
            }
        }
    };
    let condition = match &tuple.condition {
        Some(condition) => Some(schema.condition_id(&condition.name)?),
        None => None,
    };
    traited
        .iter()
        .any(|t| {
            t.base == base
                && t.condition == condition
                && (tuple.expires_at.is_none() || t.expiration)
        })
        .then_some(condition)
}

/// The compiled conditions of `schema`, compiled once per schema (by
/// content hash) and shared by every request.
fn compiled(schema: &Schema) -> Result<Arc<Programs>, EngineError> {
    /// Schemas kept compiled; a server holds one or two at a time.
    const KEEP: usize = 8;
    static CACHE: Mutex<Vec<(String, Arc<Programs>)>> = Mutex::new(Vec::new());
    let mut cache = CACHE
        .lock()
        .map_err(|_| EngineError::Store(crate::store::StoreError::Poisoned))?;
    if let Some((_, programs)) = cache.iter().find(|(hash, _)| *hash == schema.hash) {
        return Ok(programs.clone());
    }
    let programs = Arc::new(Programs::compile(&schema.conditions)?);
    if cache.len() >= KEEP {
        cache.remove(0);
    }
    cache.push((schema.hash.clone(), programs.clone()));
    Ok(programs)
}
