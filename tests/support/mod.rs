//! Helpers shared by test binaries.

pub mod conditions;
pub mod grpc;
pub mod postgres;
pub mod schemas;
pub mod serve;
