//! Ory Keto's API apart from the protocol that carries it: the wire types
//! ([`wire`]), the mapping between Keto's untyped subjects and zanzi's typed
//! ones ([`subjects`]) and Keto's expand tree ([`tree`]). The REST server and
//! the client share them.

pub mod subjects;
pub mod tree;
pub mod wire;

pub use subjects::{Access, Question, SubjectScope};
pub use wire::*;
