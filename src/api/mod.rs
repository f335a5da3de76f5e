//! What every protocol and the client share: the wire types of Keto's API
//! and of zanzi's own ([`keto`], [`native`]), the mapping between Keto's
//! untyped subjects and zanzi's typed ones, and the error shape
//! ([`ApiError`]). Nothing here knows how a request arrives.

pub mod codec;
pub mod convert;
pub mod error;
pub mod keto;
pub mod native;
pub mod proto;
pub mod request;
pub mod schema;

pub use error::ApiError;

/// The header carrying the snapshot token of a response.
pub const SNAPTOKEN_HEADER: &str = "x-zanzi-snaptoken";

/// The consistency choices a read may name (`consistency=`), weakest first
/// (docs/api.md, "Consistency and snapshot tokens").
pub const CONSISTENCY_NAMES: &[&str] = &[
    "minimize_latency",
    "at_least_as_fresh",
    "at_exact_snapshot",
    "fully_consistent",
];
