//! What every protocol and the client share: the wire types of Keto's API
//! and of zanzi's own ([`keto`], [`native`]), the mapping between Keto's
//! untyped subjects and zanzi's typed ones, and the error shape
//! ([`ApiError`]). Nothing here knows how a request arrives.

pub mod codec;
pub mod error;
pub mod keto;
pub mod native;
pub mod proto;

pub use error::ApiError;

/// The header carrying the snapshot token of a response.
pub const SNAPTOKEN_HEADER: &str = "x-zanzi-snaptoken";
