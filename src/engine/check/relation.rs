//! The reads of stored relations: a relation's tuples (direct, wildcard,
//! subject sets, and those with traits) and an arrow's tupleset.

use super::attributed::Lead;
use super::values::{found, guarded, Any, Val};
use super::{Checker, Guard, Id, Objects};
use crate::engine::explain::Step;
use crate::engine::EngineError;
use crate::ir::{AllowedType, Relation, RelationId};
use crate::store::{Probe, SubjectKind};
use crate::tuple::{Subject, SubjectRef};

impl<'a> Checker<'_, 'a> {
    /// The object subjects of `id#tupleset` that its types accept, read
    /// once per request.
    pub(super) fn tupleset(
        &mut self,
        tupleset: RelationId,
        id: Id,
    ) -> Result<Objects, EngineError> {
        if let Some(objects) = self.tuplesets.get(&(tupleset, id)) {
            return Ok(objects.clone());
        }
        let engine = self.engine;
        let schema = engine.schema;
        let mut objects = Vec::new();
        if let Some(rel) = schema.relation(tupleset) {
            let types = rel.allowed();
            let mut buffer = std::mem::take(&mut self.buffer);
            let name = self.ids.name_into(id, &mut buffer);
            let ids = &mut self.ids;
            let mut last = self.last_object_namespace;
            let read = self.reader.for_each_subject(
                engine.namespace_name(rel.namespace),
                name,
                &rel.name,
                SubjectKind::Objects,
                &mut |subject| {
                    if let SubjectRef::Object { namespace, id } = subject {
                        // Mostly one namespace: compared before it is hashed.
                        let ns = match last {
                            Some(ns) if engine.namespace_name(ns) == namespace => Some(ns),
                            _ => schema.namespace_id(namespace),
                        };
                        if let Some(ns) = ns {
                            last = Some(ns);
                            if types.contains(&AllowedType::Object { namespace: ns }) {
                                objects.push((ns, ids.intern(id), None));
                            }
                        }
                    }
                },
            );
            self.buffer = buffer;
            read?;
            self.last_object_namespace = last;
            if !rel.traited().is_empty() {
                for (lead, guard) in self.attributed(tupleset, id, false)? {
                    if let Lead::Subject(Subject::Object(object)) = lead {
                        if let Some(ns) = schema.namespace_id(&object.namespace) {
                            objects.push((ns, self.ids.intern(&object.id), guard));
                        }
                    }
                }
            }
        }
        let objects: Objects = objects.into();
        self.tuplesets.insert((tupleset, id), objects.clone());
        Ok(objects)
    }

    /// Tells the store which objects the subject sets `sets` are about to
    /// be visited on, namespace by namespace (see [`Reader::will_visit`]).
    pub(super) fn will_visit(&self, sets: &[(RelationId, Id)]) -> Result<(), EngineError> {
        let engine = self.engine;
        let mut namespaces: Vec<_> = sets
            .iter()
            .map(|(relation, _)| engine.relation_namespace(*relation))
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        for namespace in namespaces {
            let ids: Vec<&str> = sets
                .iter()
                .filter(|(relation, _)| engine.relation_namespace(*relation) == namespace)
                .map(|(_, id)| self.ids.name(*id))
                .collect();
            self.reader
                .will_visit(engine.namespace_name(namespace), &ids)?;
        }
        Ok(())
    }

    /// A stored relation: a direct tuple, a wildcard, or a subject set that
    /// holds the subject. One store read answers all three.
    pub(super) fn relation(
        &mut self,
        relation: RelationId,
        id: Id,
        rel: &'a Relation,
        depth: u32,
        in_permission: bool,
    ) -> Result<Val, EngineError> {
        let engine = self.engine;
        let schema = engine.schema;
        let types = rel.allowed();
        let direct = self
            .target
            .direct()
            .filter(|(ty, _)| types.contains(ty))
            .map(|(_, subject)| subject);
        let wildcard = self
            .target
            .wildcard()
            .filter(|&namespace| types.contains(&AllowedType::Wildcard { namespace }));
        let want_sets = types
            .iter()
            .any(|t| matches!(t, AllowedType::SubjectSet { .. }));
        let traited = rel.traited();
        if direct.is_none() && wildcard.is_none() && !want_sets && traited.is_empty() {
            return Ok(Val::False(Vec::new()));
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        let name = self.ids.name_into(id, &mut buffer);
        let probe = Probe {
            subject: direct.map(Subject::borrowed),
            wildcard: wildcard.map(|ns| engine.namespace_name(ns)),
            sets: want_sets,
            whole_object: in_permission,
            attributed: !traited.is_empty() && (direct.is_some() || wildcard.is_some()),
        };
        let (has_direct, has_wildcard) = (direct.is_some(), wildcard.is_some());
        let mut sets: Vec<(RelationId, Id)> = Vec::new();
        let ids = &mut self.ids;
        let mut last = self.last_set_type;
        let hit = self.reader.probe(
            engine.namespace_name(engine.relation_namespace(relation)),
            name,
            engine.relation_name(relation),
            probe,
            &mut |subject| {
                let SubjectRef::Set {
                    namespace,
                    id,
                    relation,
                } = subject
                else {
                    return;
                };
                let (ns, target) = match last {
                    Some((ns, target))
                        if engine.relation_name(target) == relation
                            && engine.namespace_name(ns) == namespace =>
                    {
                        (ns, target)
                    }
                    _ => {
                        let Some(ns) = schema.namespace_id(namespace) else {
                            return;
                        };
                        let Some(target) = schema.relation_id(ns, relation) else {
                            return;
                        };
                        last = Some((ns, target));
                        (ns, target)
                    }
                };
                let allowed = AllowedType::SubjectSet {
                    namespace: ns,
                    relation: target,
                };
                if types.contains(&allowed) {
                    sets.push((target, ids.intern(id)));
                }
            },
        );
        self.buffer = buffer;
        let hit = hit?;
        self.last_set_type = last;
        if has_direct {
            if self.trace.is_some() {
                let subject = self.target.direct().map(|(_, s)| s.clone());
                if let Some(subject) = subject {
                    let tuple = self.tuple_text(relation, id, subject);
                    self.leaf(|_| Step::Tuple { tuple }, found(hit.subject));
                }
            }
            if hit.subject {
                return Ok(Val::True);
            }
        }
        if let Some(namespace) = wildcard.filter(|_| has_wildcard) {
            if self.trace.is_some() {
                let subject = Subject::wildcard(engine.namespace_name(namespace));
                let tuple = self.tuple_text(relation, id, subject);
                self.leaf(|_| Step::Wildcard { tuple }, found(hit.wildcard));
            }
            if hit.wildcard {
                return Ok(Val::True);
            }
        }
        let mut any = Any::new();
        // Tuples with traits are read after the plain subject sets, so that
        // a plain grant through a group never waits for them, unless the
        // probe saw one naming the target: that one needs no walk.
        let mut attributed_sets = None;
        if hit.attributed {
            let mut sets = Vec::new();
            if self.attributed_direct(relation, id, &mut any, &mut sets)? {
                return Ok(Val::True);
            }
            attributed_sets = Some(sets);
        }
        if self.visit_hints && sets.len() > 1 {
            self.will_visit(&sets)?;
        }
        for (set_relation, set_id) in sets {
            if self.trace.is_some() {
                let subject = Subject::set(
                    engine.namespace_name(engine.relation_namespace(set_relation)),
                    self.ids.name(set_id),
                    engine.relation_name(set_relation),
                );
                let tuple = self.tuple_text(relation, id, subject);
                self.open(|_| Step::SubjectSet { tuple });
            }
            let val = self.goal(set_relation, set_id, depth + 1, false)?;
            self.close(&val);
            if matches!(val, Val::True) {
                return Ok(Val::True);
            }
            any.add(val);
        }
        // Then the tuples with traits: those that name the target (or its
        // wildcard) first, as they need no walk, then the subject sets
        // they lead to.
        if !traited.is_empty() {
            let sets = match attributed_sets {
                Some(sets) => sets,
                None => {
                    let mut sets = Vec::new();
                    if self.attributed_direct(relation, id, &mut any, &mut sets)? {
                        return Ok(Val::True);
                    }
                    sets
                }
            };
            if self.attributed_subject_sets(relation, id, depth, sets, &mut any)? {
                return Ok(Val::True);
            }
        }
        Ok(any.finish())
    }

    /// The tuples with traits of `id#relation` that name the target (or
    /// its wildcard), added to `any`; `true` when one holds outright. The
    /// subject sets among them are set aside in `sets`.
    pub(super) fn attributed_direct(
        &mut self,
        relation: RelationId,
        id: Id,
        any: &mut Any,
        sets: &mut Vec<(Subject, Guard)>,
    ) -> Result<bool, EngineError> {
        for (lead, guard) in self.attributed(relation, id, true)? {
            match lead {
                Lead::Target => {
                    let val = guarded(&guard, Val::True);
                    if matches!(val, Val::True) {
                        return Ok(true);
                    }
                    any.add(val);
                }
                Lead::Subject(subject @ Subject::Set { .. }) => sets.push((subject, guard)),
                Lead::Subject(_) => {}
            }
        }
        Ok(false)
    }

    /// The subject sets that tuples with traits of `id#relation` lead to,
    /// each under its tuple's guard, added to `any`; `true` when one holds
    /// outright.
    pub(super) fn attributed_subject_sets(
        &mut self,
        relation: RelationId,
        id: Id,
        depth: u32,
        sets: Vec<(Subject, Guard)>,
        any: &mut Any,
    ) -> Result<bool, EngineError> {
        let schema = self.engine.schema;
        for (subject, guard) in sets {
            let Subject::Set {
                object,
                relation: set_relation,
            } = &subject
            else {
                continue;
            };
            let Some(set_relation) = schema
                .namespace_id(&object.namespace)
                .and_then(|ns| schema.relation_id(ns, set_relation))
            else {
                continue;
            };
            let set_id = self.ids.intern(&object.id);
            if self.trace.is_some() {
                let tuple = self.tuple_text(relation, id, subject.clone());
                self.open(|_| Step::SubjectSet { tuple });
            }
            let val = guarded(&guard, self.goal(set_relation, set_id, depth + 1, false)?);
            self.close(&val);
            if matches!(val, Val::True) {
                return Ok(true);
            }
            any.add(val);
        }
        Ok(false)
    }
}
