//! Helpers shared by test binaries.

pub mod postgres;
pub mod serve;
