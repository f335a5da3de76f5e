//! A tuple's identity in a store: one live tuple per key
//! ([`Tuple::key`]), whatever its condition and expiry, and the checks a
//! write makes of its inserts before anything is stored.

use super::{check_all, Reader, StoreError};
use crate::tuple::{Object, Subject, Tuple};

/// A tuple's identity, borrowed: what a store keeps one live tuple per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KeyRef<'a> {
    object: &'a Object,
    relation: &'a str,
    subject: &'a Subject,
}

impl<'a> KeyRef<'a> {
    pub(crate) fn of(tuple: &'a Tuple) -> KeyRef<'a> {
        KeyRef {
            object: &tuple.object,
            relation: &tuple.relation,
            subject: &tuple.subject,
        }
    }
}

/// Whether exactly `tuple`, condition and expiry included, is live for
/// `reader`.
pub(crate) fn is_live(reader: &dyn Reader, tuple: &Tuple) -> Result<bool, StoreError> {
    if tuple.is_plain() {
        return reader.contains(tuple);
    }
    let mut found = false;
    reader.for_each_attributed(
        &tuple.object.namespace,
        &tuple.object.id,
        &tuple.relation,
        &mut |stored| found |= stored == tuple,
    )?;
    Ok(found)
}

/// Checks the inserts of a write before anything is stored: every tuple
/// well formed, and no key twice with different conditions or expiries
/// (which one should stay would be a guess).
pub(crate) fn check_inserts(tuples: &[Tuple]) -> Result<(), StoreError> {
    check_all(tuples)?;
    let mut seen: std::collections::HashMap<KeyRef<'_>, &Tuple> =
        std::collections::HashMap::with_capacity(tuples.len());
    for tuple in tuples {
        if let Some(earlier) = seen.insert(KeyRef::of(tuple), tuple) {
            if earlier != tuple {
                return Err(StoreError::InvalidTuple {
                    tuple: tuple.to_string(),
                    reason: "the write holds this tuple twice, with different conditions or \
                             expiries"
                        .to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// A context as a database stored it (canonical JSON).
pub(crate) fn stored_context(text: &str) -> Result<crate::tuple::Context, StoreError> {
    crate::tuple::Context::parse(text).map_err(|e| {
        StoreError::Backend(format!("a stored context `{text}` is unreadable: {e}").into())
    })
}
