//! The answers of OpenFGA's ListObjects and ListUsers for a store test,
//! from zanzi's engine: where an answer depends on a condition parameter
//! that no context gives, OpenFGA answers with an error, and so do these.

use std::collections::BTreeSet;

use crate::engine::{Decision, Engine, EngineError};
use crate::store::{PageRequest, Revision};
use crate::tuple::foreign as formats;
use crate::tuple::{self, Subject, Tuple};

/// Why an assertion got no answer, as OpenFGA would give none.
pub(super) enum Unanswered {
    /// The answer depends on these condition parameters, which no context
    /// gives: OpenFGA's "missing context parameters" error.
    Missing(BTreeSet<String>),
    /// Any other error of the request.
    Error(String),
}

impl From<EngineError> for Unanswered {
    fn from(err: EngineError) -> Unanswered {
        Unanswered::Error(err.to_string())
    }
}

/// The objects of `namespace` whose `relation` holds `subject`; any whose
/// answer depends on a missing parameter makes the whole list an error, as
/// OpenFGA's ListObjects is.
pub(super) fn objects(
    engine: &Engine<'_>,
    at: Revision,
    namespace: &str,
    relation: &str,
    subject: &Subject,
) -> Result<BTreeSet<String>, Unanswered> {
    let mut out = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut request = PageRequest::first(1000);
    loop {
        let page =
            engine.lookup_resources_decided(namespace, relation, subject, &request, at, true)?;
        for (id, decision) in page.items {
            match decision {
                Decision::Allowed => {
                    out.insert(format!("{namespace}:{id}"));
                }
                Decision::Conditional { missing: names } => missing.extend(names),
                Decision::Denied => {}
            }
        }
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None if missing.is_empty() => return Ok(out),
            None => return Err(Unanswered::Missing(missing)),
        }
    }
}

/// A `list_users` question: the users of type `kind` (or, with
/// `set_relation`, the usersets `kind:…#set_relation`) in `object#relation`.
pub(super) struct UsersQuestion<'q> {
    pub object: &'q tuple::Object,
    pub relation: &'q str,
    pub kind: &'q str,
    pub set_relation: Option<&'q str>,
}

/// The answer to a `list_users` question; a user whose membership depends
/// on a missing parameter makes it an error, as in OpenFGA's ListUsers.
pub(super) fn users(
    engine: &Engine<'_>,
    at: Revision,
    tuples: &[Tuple],
    question: &UsersQuestion<'_>,
) -> Result<BTreeSet<String>, Unanswered> {
    let UsersQuestion {
        object,
        relation,
        kind,
        set_relation,
    } = *question;
    let mut out = BTreeSet::new();
    let mut missing = BTreeSet::new();
    match set_relation {
        None => {
            let found = engine.lookup_subjects(object, relation, kind, at)?;
            out.extend(found.subject_ids.iter().map(|id| format!("{kind}:{id}")));
            if found.wildcard {
                out.insert(format!("{kind}:*"));
            }
            for conditional in found.conditional {
                missing.extend(conditional.missing);
            }
            missing.extend(found.wildcard_missing.into_iter().flatten());
        }
        Some(set_relation) => {
            let candidates: BTreeSet<&Subject> = tuples
                .iter()
                .map(|t| &t.subject)
                .filter(|s| matches!(s, Subject::Set { object: o, relation: r } if o.namespace == kind && r == set_relation))
                .collect();
            for candidate in candidates {
                match engine.decide(object, relation, candidate, at)? {
                    Decision::Allowed => {
                        out.insert(formats::openfga_user_string(candidate));
                    }
                    Decision::Conditional { missing: names } => missing.extend(names),
                    Decision::Denied => {}
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(Unanswered::Missing(missing))
    }
}
