//! The history chain: a hash per committed revision that names the history
//! leading to it, so that two copies of one store (a file copy, a restored
//! backup) that diverged after the copy are told apart at the same
//! revision number, although they share the store id.
//!
//! `chain(0)` is [`GENESIS`]; `chain(r) = SHA-256(chain(r - 1) || r ||
//! deletes || inserts)`, where deletes and inserts are the tuples revision
//! `r` really deleted and created (not the no-ops of an idempotent write),
//! each sorted and encoded as [`encode_changes`] says. Every store computes
//! it inside the write transaction that commits `r` and keeps it with the
//! revision, so the same writes give the same chain on every backend.
//!
//! A database written before stores kept chains is seeded when it is first
//! opened by a version that does: its head gets [`seed`] (from the store id
//! and the head), and the revisions before it have no chain.

use sha2::{Digest, Sha256};

use super::Revision;
use crate::tuple::{SubjectRef, Tuple};

/// A revision's chain hash.
pub type Chain = [u8; 32];

/// Domain separation: these hashes are never confused with another use of
/// SHA-256 over the same bytes.
const DOMAIN: &[u8] = b"zanzi history chain v1";

/// The chain of revision 0, the empty store: the same for every store, so
/// that the same writes give the same chain.
pub fn genesis() -> Chain {
    let mut hash = Sha256::new();
    hash.update(DOMAIN);
    hash.update(b"genesis");
    hash.finalize().into()
}

/// The chain a store written before chains existed starts from at `head`.
pub fn seed(store_id: &str, head: Revision) -> Chain {
    if head.0 == 0 {
        return genesis();
    }
    let mut hash = Sha256::new();
    hash.update(DOMAIN);
    hash.update(b"seed");
    hash.update((store_id.len() as u64).to_be_bytes());
    hash.update(store_id.as_bytes());
    hash.update(head.0.to_be_bytes());
    hash.finalize().into()
}

/// The chain of `revision`, which deleted `deleted` and inserted `inserted`
/// (in any order), after `previous`, the chain of `revision - 1`.
pub fn next(previous: &Chain, revision: Revision, deleted: &[Tuple], inserted: &[Tuple]) -> Chain {
    let mut hash = Sha256::new();
    hash.update(DOMAIN);
    hash.update(previous);
    hash.update(revision.0.to_be_bytes());
    hash.update(encode_changes(deleted, inserted));
    hash.finalize().into()
}

/// The canonical encoding of a revision's changes: the count of deletes
/// and the deletes, then the count of inserts and the inserts, each list
/// sorted by the tuple's six fields (object namespace, object id,
/// relation, subject namespace, subject id, subject relation: `""` for an
/// object subject, `"*"` with an empty id for a wildcard), each field as
/// its length (u32, big-endian) and its UTF-8 bytes.
///
/// A tuple with a condition or an expiry adds, after its six fields, the
/// marker `u32::MAX` (never a field's length, so no plain tuple's encoding
/// changes or collides), then its condition name and canonical context as
/// two more fields (empty without a condition) and its expiry (a byte 0,
/// or 1 and the microseconds as i64, big-endian).
pub fn encode_changes(deleted: &[Tuple], inserted: &[Tuple]) -> Vec<u8> {
    let mut out = Vec::new();
    for tuples in [deleted, inserted] {
        let mut rows: Vec<([&str; 6], Option<Attributes<'_>>)> =
            tuples.iter().map(|t| (fields(t), attributes(t))).collect();
        rows.sort_unstable();
        rows.dedup();
        out.extend_from_slice(&(rows.len() as u64).to_be_bytes());
        let field = |out: &mut Vec<u8>, field: &str| {
            out.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        };
        for (row, attributes) in rows {
            for value in row {
                field(&mut out, value);
            }
            if let Some((name, context, expires_at)) = attributes {
                out.extend_from_slice(&u32::MAX.to_be_bytes());
                field(&mut out, name);
                field(&mut out, context);
                match expires_at {
                    Some(micros) => {
                        out.push(1);
                        out.extend_from_slice(&micros.to_be_bytes());
                    }
                    None => out.push(0),
                }
            }
        }
    }
    out
}

/// A tuple's condition name, context and expiry, as [`encode_changes`]
/// writes them.
type Attributes<'t> = (&'t str, &'t str, Option<i64>);

/// The attributes of a tuple that has any.
fn attributes(tuple: &Tuple) -> Option<Attributes<'_>> {
    if tuple.is_plain() {
        return None;
    }
    let (name, context) = match &tuple.condition {
        Some(c) => (c.name.as_str(), c.context.as_json()),
        None => ("", ""),
    };
    Some((name, context, tuple.expires_at.map(|e| e.micros)))
}

/// A tuple's six fields, as [`encode_changes`] orders them.
fn fields(tuple: &Tuple) -> [&str; 6] {
    let (s_ns, s_id, s_rel) = match tuple.subject.borrowed() {
        SubjectRef::Object { namespace, id } => (namespace, id, ""),
        SubjectRef::Set {
            namespace,
            id,
            relation,
        } => (namespace, id, relation),
        SubjectRef::Wildcard { namespace } => (namespace, "", "*"),
    };
    [
        &tuple.object.namespace,
        &tuple.object.id,
        &tuple.relation,
        s_ns,
        s_id,
        s_rel,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Tuple {
        text.parse().unwrap()
    }

    #[test]
    fn the_chain_depends_on_every_change_and_not_on_their_order() {
        let a = t("doc:a#viewer@user:alice");
        let b = t("doc:a#viewer@group:g#member");
        let start = genesis();
        let one = next(&start, Revision(1), &[], &[a.clone(), b.clone()]);
        assert_eq!(one, next(&start, Revision(1), &[], &[b.clone(), a.clone()]));
        assert_ne!(
            one,
            next(&start, Revision(1), &[], std::slice::from_ref(&a))
        );
        assert_ne!(
            one,
            next(
                &start,
                Revision(1),
                std::slice::from_ref(&a),
                std::slice::from_ref(&b)
            )
        );
        assert_ne!(one, next(&start, Revision(2), &[], &[a.clone(), b.clone()]));
        assert_ne!(
            one,
            next(&seed("x", Revision(3)), Revision(1), &[], &[a, b])
        );
        assert_eq!(seed("x", Revision(0)), genesis());
        assert_ne!(seed("x", Revision(4)), seed("y", Revision(4)));
    }

    /// A condition or an expiry changes the chain; a plain tuple's
    /// encoding is what it was before tuples had either.
    #[test]
    fn conditions_and_expiries_are_part_of_the_chain() {
        use crate::tuple::{Context, Expiry};
        let plain = t("doc:a#viewer@user:alice");
        let mut old_form = Vec::new();
        old_form.extend_from_slice(&0u64.to_be_bytes());
        old_form.extend_from_slice(&1u64.to_be_bytes());
        for field in ["doc", "a", "viewer", "user", "alice", ""] {
            old_form.extend_from_slice(&(field.len() as u32).to_be_bytes());
            old_form.extend_from_slice(field.as_bytes());
        }
        assert_eq!(encode_changes(&[], std::slice::from_ref(&plain)), old_form);
        let context = Context::parse(r#"{"cidr":"10.0.0.0/8"}"#).unwrap();
        let conditioned = plain.clone().with_condition("office", context.clone());
        let other_context = plain.clone().with_condition(
            "office",
            Context::parse(r#"{"cidr":"10.0.0.0/9"}"#).unwrap(),
        );
        let expiring = plain.clone().with_expiry(Expiry::from_micros(5));
        let both = conditioned.clone().with_expiry(Expiry::from_micros(5));
        let chains: Vec<Chain> = [&plain, &conditioned, &other_context, &expiring, &both]
            .into_iter()
            .map(|tuple| next(&genesis(), Revision(1), &[], std::slice::from_ref(tuple)))
            .collect();
        for (i, a) in chains.iter().enumerate() {
            for b in chains.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
    }
}
