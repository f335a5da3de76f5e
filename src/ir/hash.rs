//! The content hash: SHA-256 of the canonical JSON of a schema without its
//! `hash` field. Canonical because every map in the IR is a struct or a
//! sequence, so serde_json writes fields in one fixed order.

use sha2::{Digest, Sha256};

use super::Schema;

#[derive(serde::Serialize)]
struct Hashed<'a> {
    format_version: u32,
    namespaces: &'a [super::Namespace],
    relations: &'a [super::Relation],
}

pub(super) fn content_hash(schema: &Schema) -> String {
    let body = Hashed {
        format_version: schema.format_version,
        namespaces: &schema.namespaces,
        relations: &schema.relations,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}
