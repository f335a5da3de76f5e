//! Relation tuples: the data model, the text notation and write validation.
//!
//! A tuple `namespace:object#relation@subject` says that `subject` is in the
//! relation `relation` of the object `namespace:object` (docs/language.md,
//! "Tuple notation"). The subject is an object (`user:alice`), a subject set
//! (`group:eng#member`, every member of that set) or a wildcard (`user:*`,
//! every user).
//!
//! - [`model`]: [`Tuple`], [`Object`], [`Subject`], [`SubjectRef`].
//! - [`notation`]: [`Display`](std::fmt::Display) and
//!   [`FromStr`](std::str::FromStr) round-trip every valid tuple exactly;
//!   parse errors carry the place of the mistake in the text.
//! - [`validate`]: tuples are plain strings and the store keeps them without a
//!   schema; before one is written, [`validate_tuple`] checks it against the
//!   compiled schema. Its errors name the part of the tuple they are about.
//!
//! Both kinds of error become diagnostics through
//! [`ToDiagnostic`](crate::diagnostics::ToDiagnostic), given where their text
//! stands in a source.

pub mod csv;
pub mod foreign;
pub mod model;
pub mod notation;
pub mod validate;
pub mod yaml;

pub use model::{
    name_problem, Context, Expiry, Object, Subject, SubjectRef, Tuple, TupleCondition,
    MAX_CONTEXT_BYTES, MAX_ID_BYTES, MAX_NAME_BYTES,
};
pub use notation::{
    encode_id, parse_object_relation, parse_tuple_file, parse_tuple_line, parse_tuple_with_spans,
    strip_comment, Notation, NotationSite, TextSpan, TupleError, TupleFileError, TuplePart,
    TupleSpans,
};
pub use validate::{
    display_traited_type, display_type, subject_matches, validate_tuple, TupleSite, ValidTuple,
    WriteError,
};
