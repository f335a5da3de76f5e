//! Random cases with conditions and expiry: schemas whose types carry
//! traits (tests/support/schemas.rs), random tuples for them with their
//! conditions' stored context and their expiries, and random requests.
//!
//! As for the schemas, indices are taken modulo what is available, so any
//! vector of numbers is a case and shrinking stays meaningful.

use std::collections::BTreeMap;

use proptest::prelude::*;
use zanzi::tuple::{Context, Expiry, Object, Subject, Tuple};

use crate::support::schemas::{place, raw_ns, Model, Placed, RawNs, Ty, CONDITIONS, FRESH};

pub const PARAMS: [&str; 3] = ["p0", "p1", "p2"];

/// The read time of every request: tuples expiring at it or before are gone.
pub const NOW: i64 = 1_893_456_000_000_000; // 2030-01-01T00:00:00Z
const HOUR: i64 = 3_600_000_000;

// ---------------------------------------------------------------------------
// Raw random choices.

#[derive(Clone, Debug)]
pub struct RawTuple {
    ns: u8,
    object: u8,
    relation: u8,
    ty: u8,
    subject: u8,
    /// Two bits per parameter of the condition: absent, true, false.
    context: u8,
    expiry: u8,
}

#[derive(Clone, Debug)]
pub struct RawRequest {
    /// Two bits per parameter of `PARAMS`: absent, true, false.
    pub context: u8,
    pub tuples: Vec<RawTuple>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub namespaces: Vec<RawNs>,
    pub tuples: Vec<RawTuple>,
    pub request: RawRequest,
    pub seed: u64,
}

fn raw_tuple() -> impl Strategy<Value = RawTuple> {
    (
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
        (any::<u8>(), any::<u8>(), any::<u8>()),
    )
        .prop_map(
            |((ns, object, relation, ty), (subject, context, expiry))| RawTuple {
                ns,
                object,
                relation,
                ty,
                subject,
                context,
                expiry,
            },
        )
}

fn raw_request() -> impl Strategy<Value = RawRequest> {
    (
        any::<u8>(),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(raw_tuple(), 1..=3),
        ],
    )
        .prop_map(|(context, tuples)| RawRequest { context, tuples })
}

pub fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(raw_ns(true), 1..=4),
        prop::collection::vec(raw_tuple(), 0..=50),
        raw_request(),
        any::<u64>(),
    )
        .prop_map(|(namespaces, tuples, request, seed)| Case {
            namespaces,
            tuples,
            request,
            seed,
        })
}

/// A parameter's value from two random bits: absent, true or false.
fn bits(raw: u8, i: usize) -> Option<bool> {
    match (raw >> (2 * i)) & 3 {
        1 => Some(true),
        2 => Some(false),
        _ => None,
    }
}

/// The request's parameter values.
pub fn request_context(raw: &RawRequest) -> BTreeMap<&'static str, bool> {
    PARAMS
        .iter()
        .enumerate()
        .filter_map(|(i, p)| bits(raw.context, i).map(|v| (*p, v)))
        .collect()
}

// ---------------------------------------------------------------------------
// Tuples.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subj {
    Obj(usize, String),
    Wild(usize),
    Set(usize, String, String),
    /// Some object of the namespace that no tuple names: in a set only
    /// through a wildcard (what a lookup of subjects asks first).
    Anon(usize),
}

/// A tuple of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MTuple {
    pub ns: usize,
    pub object: String,
    pub relation: String,
    pub subject: Subj,
    /// The condition (an index into `CONDITIONS`) and the stored context.
    pub condition: Option<(usize, BTreeMap<&'static str, bool>)>,
    pub expires: Option<i64>,
}

impl MTuple {
    fn same_key(&self, other: &MTuple) -> bool {
        self.ns == other.ns
            && self.object == other.object
            && self.relation == other.relation
            && self.subject == other.subject
    }
}

/// Tuples valid for the model, one per key (a tuple written again with
/// other traits replaces the first; keeping the first is as good a model).
pub fn model_tuples(model: &Model, raw: &[RawTuple], one_per_key: bool) -> Vec<MTuple> {
    let mut out: Vec<MTuple> = Vec::new();
    for t in raw {
        let Some(Placed {
            ns,
            object,
            relation,
            ty,
            traits,
            id,
        }) = place(model, [t.ns, t.object, t.relation, t.ty, t.subject])
        else {
            continue;
        };
        let subject = match ty {
            Ty::Obj(m) => Subj::Obj(m, id),
            Ty::Wild(m) => Subj::Wild(m),
            Ty::Set(m, q) => Subj::Set(m, id, q),
        };
        let condition = traits.condition.map(|c| {
            let context = CONDITIONS[c]
                .1
                .iter()
                .enumerate()
                .filter_map(|(i, p)| bits(t.context, i).map(|v| (*p, v)))
                .collect();
            (c, context)
        });
        // Expired, expiring exactly now (expired too), or not yet.
        let expires = match t.expiry % 6 {
            3 => Some(NOW - HOUR),
            4 => Some(NOW),
            5 => Some(NOW + HOUR),
            _ => None,
        }
        .filter(|_| traits.expiration);
        let tuple = MTuple {
            ns,
            object,
            relation,
            subject,
            condition,
            expires,
        };
        if one_per_key && out.iter().any(|o| o.same_key(&tuple)) {
            continue;
        }
        out.push(tuple);
    }
    out
}

pub fn to_subject(s: &Subj) -> Subject {
    match s {
        Subj::Obj(m, id) => Subject::object(format!("n{m}"), id),
        Subj::Wild(m) => Subject::wildcard(format!("n{m}")),
        Subj::Set(m, id, q) => Subject::set(format!("n{m}"), id, q),
        Subj::Anon(m) => Subject::object(format!("n{m}"), FRESH),
    }
}

pub fn to_tuple(t: &MTuple) -> Tuple {
    let mut tuple = Tuple::new(
        Object::new(format!("n{}", t.ns), &t.object),
        &t.relation,
        to_subject(&t.subject),
    );
    if let Some((c, context)) = &t.condition {
        let map = context
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::Bool(*v)))
            .collect();
        tuple = tuple.with_condition(CONDITIONS[*c].0, Context::from_map(map));
    }
    if let Some(expires) = t.expires {
        tuple = tuple.with_expiry(Expiry::from_micros(expires));
    }
    tuple
}
