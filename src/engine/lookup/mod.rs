//! Lookups: which subjects are in a set, and which objects' sets hold a
//! subject.
//!
//! Both are exact under every operator, exclusion and intersection included.
//! A walk over the tuples collects a *superset* of candidates (ignoring
//! what `&` and `-` would remove) and visits each userset at most once per
//! way of reaching it, so it ends on cyclic data. It also records how it
//! reached each userset: through unions alone within the depth limit (then
//! the subject is in it), some other way, or not at all. From these facts
//! most candidates are decided without a check ([`decide`]): a check per
//! candidate is what a lookup over 100k objects used to spend its time on.
//! The others are confirmed by a check, which brings the least-fixed-point
//! semantics and the depth limit.
//!
//! - `lookup_subjects` ([`subjects`]) walks forward from the userset, each
//!   leaf of its rewrite on its own, over every branch, the right side of
//!   `-` included (a subject it names may be the one excluded from a
//!   wildcard). A subject of the namespace that no tuple names can be in
//!   the set only through a wildcard; one anonymous check tells whether it
//!   is, and then the candidates that fail are the exceptions.
//! - `lookup_resources` ([`resources`]) walks backward from the subject with
//!   the reverse index, and pages its candidates by ID.

mod decide;
mod resources;
mod subjects;

use serde::Serialize;

use crate::ir::Rewrite;

pub(super) use resources::lookup_resources;
pub(super) use subjects::lookup_subjects;

/// The object subjects of one namespace in a set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubjectLookup {
    /// The subjects named by tuples that are in the set, sorted.
    pub subject_ids: Vec<String>,
    /// Whether every subject of the namespace is in the set (through a
    /// wildcard), except those in `excluded`.
    pub wildcard: bool,
    /// With `wildcard`: the subjects that are not in the set, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// The subjects named by tuples that are in the set or not depending on
    /// missing condition parameters, sorted (never in `subject_ids`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditional: Vec<ConditionalId>,
    /// Whether every subject of the namespace may be in the set through a
    /// wildcard, depending on these missing parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wildcard_missing: Option<Vec<String>>,
}

/// An ID in a set or not depending on missing condition parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConditionalId {
    pub id: String,
    /// The missing parameters, sorted.
    pub missing: Vec<String>,
}

/// Whether `self` stands anywhere in `rewrite`.
fn mentions_self(rewrite: &Rewrite) -> bool {
    matches!(rewrite, Rewrite::SelfObject) || rewrite.children().any(|c| mentions_self(c.rewrite))
}

/// The first eight bytes of an ID as one number, ordered as the IDs are
/// (shorter IDs padded with zeros): sorting many IDs compares these first,
/// and the IDs themselves only where they are equal.
fn order_key(id: &str) -> u64 {
    let mut bytes = [0u8; 8];
    for (slot, byte) in bytes.iter_mut().zip(id.bytes()) {
        *slot = byte;
    }
    u64::from_be_bytes(bytes)
}

/// Sorts `items` by their IDs as `str`s order them: by their [`order_key`]s,
/// then each run of equal keys by the IDs themselves.
fn sort_by_id<'a, T>(items: &mut [T], key: impl Fn(&T) -> u64, id: impl Fn(&T) -> &'a str) {
    items.sort_unstable_by_key(&key);
    for run in items.chunk_by_mut(|a, b| key(a) == key(b)) {
        if run.len() > 1 {
            run.sort_unstable_by(|a, b| id(a).cmp(id(b)));
        }
    }
}

/// The runs of `items` (sorted by [`sort_by_id`]) that share one ID; IDs
/// are compared only where their order keys match.
fn same_id_runs<'s, 'a, T>(
    items: &'s [T],
    key: impl Fn(&T) -> u64,
    id: impl Fn(&T) -> &'a str,
) -> impl Iterator<Item = &'s [T]> {
    items.chunk_by(move |a, b| key(a) == key(b) && id(a) == id(b))
}

#[cfg(test)]
mod tests {
    use super::{order_key, same_id_runs, sort_by_id};

    #[test]
    fn ids_sort_as_strs_do_whatever_their_first_eight_bytes() {
        let mut ids = vec![
            "abcdefghz",
            "b",
            "abcdefgh",
            "",
            "abcdefgha",
            "a",
            "abcdefgh\0",
            "é",
            "ab",
        ];
        let mut expected = ids.clone();
        expected.sort_unstable();
        sort_by_id(&mut ids, |id| order_key(id), |id| *id);
        assert_eq!(ids, expected);
    }

    #[test]
    fn runs_of_one_id_are_found_whatever_their_keys_share() {
        let mut ids = vec!["b", "abcdefghz", "b", "abcdefgh", "abcdefghz", "a"];
        sort_by_id(&mut ids, |id| order_key(id), |id| *id);
        let runs: Vec<&[&str]> = same_id_runs(&ids, |id| order_key(id), |id| *id).collect();
        let expected: [&[&str]; 4] = [
            &["a"],
            &["abcdefgh"],
            &["abcdefghz", "abcdefghz"],
            &["b", "b"],
        ];
        assert_eq!(runs, expected);
    }

    #[test]
    fn order_keys_never_contradict_the_order_of_ids() {
        let ids = [
            "",
            "\0",
            "a",
            "a\0",
            "ab",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "abcdefgz",
            "b",
            "é",
            "zz",
        ];
        for a in ids {
            for b in ids {
                if a < b {
                    assert!(order_key(a) <= order_key(b), "{a:?} {b:?}");
                }
            }
        }
    }
}
