//! A compiled schema with a condition and types with traits, built from
//! compiled IR (so that tests of the data's surface do not wait on the
//! compiler's syntax for conditions):
//!
//! ```text
//! condition office_network(client_ip: ipaddress, cidr: string) { client_ip.in_cidr(cidr) }
//! namespace user {}
//! namespace group { relation member: user }
//! namespace document {
//!   relation viewer: user | user with office_network | group#member with office_network
//!   relation editor: user with expiration | user with office_network and expiration
//! }
//! ```

#![allow(
    dead_code,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde_json::{json, Value};
use zanzi::ir::{IrError, Schema};

const BASE: &str = "namespace user {}
namespace group { relation member: user }
namespace document {
  relation viewer: user
  relation editor: user
}
";

/// The schema's IR, as `zanzi compile` writes it.
pub fn office_ir() -> String {
    let (_, compiled) = zanzi::compile_source("office.zanzi", BASE);
    let base = compiled.schema.unwrap();
    let ns = |name: &str| base.namespace_id(name).unwrap().0;
    let user = json!({"type": "object", "namespace": ns("user")});
    let member = json!({
        "type": "subject_set",
        "namespace": ns("group"),
        "relation": base.relation_id(base.namespace_id("group").unwrap(), "member").unwrap().0,
    });
    let mut ir: Value = serde_json::from_str(&base.to_json()).unwrap();
    ir["conditions"] = json!([{
        "name": "office_network",
        "params": [
            {"name": "client_ip", "type": "ipaddress"},
            {"name": "cidr", "type": "string"},
        ],
        "expression": "client_ip.in_cidr(cidr)",
    }]);
    for relation in ir["relations"].as_array_mut().unwrap() {
        let traits = match relation["name"].as_str().unwrap() {
            "viewer" => json!([
                {"base": user, "condition": 0},
                {"base": member, "condition": 0},
            ]),
            "editor" => json!([
                {"base": user, "expiration": true},
                {"base": user, "condition": 0, "expiration": true},
            ]),
            _ => continue,
        };
        relation["kind"]["with_traits"] = traits;
    }
    let text = serde_json::to_string_pretty(&ir).unwrap();
    // The hash covers the content: take the one the loader computes.
    match Schema::from_json(&text) {
        Ok(_) => text,
        Err(IrError::HashMismatch { recorded, actual }) => {
            let fixed = text.replace(&recorded, &actual);
            Schema::from_json(&fixed).unwrap();
            fixed
        }
        Err(e) => panic!("{e}"),
    }
}

/// The schema, loaded.
pub fn office_schema() -> Schema {
    Schema::from_json(&office_ir()).unwrap()
}
