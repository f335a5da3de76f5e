//! A [`Reader`] with tuples added for one request (OpenFGA's contextual
//! tuples): every read answers from the snapshot and from the added
//! tuples, plain and attributed ones each through their own reads, as a
//! store would. Nothing is written; listing shows the stored tuples only.

use super::{
    Page, PageRequest, Probe, ProbeHit, Reader, Revision, StoreError, SubjectKind, TupleFilter,
};
use crate::tuple::{Subject, SubjectRef, Tuple};

/// `reader` and `tuples` read as one. The added tuples are few (a request
/// carries at most a hundred), so they are scanned rather than indexed.
pub struct Overlay<'r> {
    reader: Box<dyn Reader + 'r>,
    tuples: &'r [Tuple],
}

impl<'r> Overlay<'r> {
    pub fn new(reader: Box<dyn Reader + 'r>, tuples: &'r [Tuple]) -> Overlay<'r> {
        Overlay { reader, tuples }
    }

    fn added<'s>(
        &'s self,
        namespace: &'s str,
        object_id: &'s str,
        relation: &'s str,
    ) -> impl Iterator<Item = &'r Tuple> + 's {
        self.tuples.iter().filter(move |t| {
            t.object.namespace == namespace && t.object.id == object_id && t.relation == relation
        })
    }

    fn added_to<'s>(
        &'s self,
        namespace: &'s str,
        relation: &'s str,
    ) -> impl Iterator<Item = &'r Tuple> + 's {
        self.tuples
            .iter()
            .filter(move |t| t.object.namespace == namespace && t.relation == relation)
    }
}

impl Reader for Overlay<'_> {
    fn revision(&self) -> Revision {
        self.reader.revision()
    }

    fn for_each_subject(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        kind: SubjectKind,
        visit: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<(), StoreError> {
        self.reader
            .for_each_subject(namespace, object_id, relation, kind, visit)?;
        for tuple in self.added(namespace, object_id, relation) {
            if tuple.is_plain() && kind.matches(&tuple.subject) {
                visit(tuple.subject.borrowed());
            }
        }
        Ok(())
    }

    fn contains(&self, tuple: &Tuple) -> Result<bool, StoreError> {
        let added = self
            .added(&tuple.object.namespace, &tuple.object.id, &tuple.relation)
            .any(|t| t.is_plain() && t.subject == tuple.subject);
        Ok(added || self.reader.contains(tuple)?)
    }

    fn probe(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        probe: Probe<'_>,
        sets: &mut dyn FnMut(SubjectRef<'_>),
    ) -> Result<ProbeHit, StoreError> {
        let mut hit = self
            .reader
            .probe(namespace, object_id, relation, probe, sets)?;
        let wildcard = probe
            .wildcard
            .map(|namespace| SubjectRef::Wildcard { namespace });
        for tuple in self.added(namespace, object_id, relation) {
            let subject = Some(tuple.subject.borrowed());
            let names = (probe.subject.is_some() && subject == probe.subject)
                || (wildcard.is_some() && subject == wildcard);
            if tuple.is_plain() {
                hit.subject |= probe.subject.is_some() && subject == probe.subject;
                hit.wildcard |= wildcard.is_some() && subject == wildcard;
            } else {
                hit.attributed |= probe.attributed && names;
            }
        }
        if probe.sets && !hit.subject && !hit.wildcard {
            for tuple in self
                .added(namespace, object_id, relation)
                .filter(|t| t.is_plain())
            {
                if matches!(tuple.subject, Subject::Set { .. }) {
                    sets(tuple.subject.borrowed());
                }
            }
        }
        Ok(hit)
    }

    fn will_visit(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        self.reader.will_visit(namespace, object_ids)
    }

    fn wants_visit_hints(&self) -> bool {
        self.reader.wants_visit_hints()
    }

    fn prefetch(&self, namespace: &str, object_ids: &[&str]) -> Result<(), StoreError> {
        self.reader.prefetch(namespace, object_ids)
    }

    fn for_each_attributed(
        &self,
        namespace: &str,
        object_id: &str,
        relation: &str,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.reader
            .for_each_attributed(namespace, object_id, relation, visit)?;
        for tuple in self.added(namespace, object_id, relation) {
            if !tuple.is_plain() {
                visit(tuple);
            }
        }
        Ok(())
    }

    fn for_each_attributed_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&Tuple),
    ) -> Result<(), StoreError> {
        self.reader
            .for_each_attributed_with_subject(namespace, relation, subject, visit)?;
        for tuple in self.added_to(namespace, relation) {
            if !tuple.is_plain() && tuple.subject == *subject {
                visit(tuple);
            }
        }
        Ok(())
    }

    fn for_each_object_with_subject(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        visit: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        self.reader
            .for_each_object_with_subject(namespace, relation, subject, visit)?;
        for tuple in self.added_to(namespace, relation) {
            if tuple.is_plain() && tuple.subject == *subject {
                visit(&tuple.object.id);
            }
        }
        Ok(())
    }

    /// The stored tuples only: contextual tuples are not data.
    fn list(&self, filter: &TupleFilter, page: &PageRequest) -> Result<Page<Tuple>, StoreError> {
        self.reader.list(filter, page)
    }
}
