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
    /// Left out when empty, so schemas without conditions keep their hashes.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    conditions: &'a [super::Condition],
}

pub(super) fn content_hash(schema: &Schema) -> String {
    let body = Hashed {
        format_version: schema.format_version,
        namespaces: &schema.namespaces,
        relations: &schema.relations,
        conditions: &schema.conditions,
    };
    let mut hasher = HashWriter(Sha256::new());
    // Writing into a hasher cannot fail, and the IR holds plain data only.
    let _ = serde_json::to_writer(&mut hasher, &body);
    let digest = hasher.0.finalize();
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Streams the JSON into the hasher instead of building it in memory first.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
