//! The gRPC messages and services generated from `proto/` by `build.rs`:
//! Keto's API (`ory.keto.…`, wire-compatible) and zanzi's own (`zanzi.v1`).

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// `ory.keto.relation_tuples.v1alpha2` and `ory.keto.opl.v1alpha1`.
pub mod keto {
    pub mod relation_tuples {
        pub mod v1alpha2 {
            tonic::include_proto!("ory.keto.relation_tuples.v1alpha2");
        }
    }
    pub mod opl {
        pub mod v1alpha1 {
            tonic::include_proto!("ory.keto.opl.v1alpha1");
        }
    }
}

/// `zanzi.v1`.
pub mod zanzi {
    pub mod v1 {
        tonic::include_proto!("zanzi.v1");
    }
}

/// The descriptors of every message and service above, for server
/// reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/zanzi_descriptor.bin"));
