//! A schema with a condition and types with traits, for the tests of the
//! data's surface (tuples, the API):

#![allow(
    dead_code,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use zanzi::ir::Schema;

pub const OFFICE_SOURCE: &str = "
condition office_network(client_ip: ipaddress, cidr: string) {
  client_ip.in_cidr(cidr)
}
namespace user {}
namespace group {
  relation member: user
}
namespace document {
  relation viewer: user | user with office_network | group#member with office_network
  relation editor: user with expiration | user with office_network and expiration
}
";

/// The schema's IR, as `zanzi compile` writes it.
pub fn office_ir() -> String {
    office_schema().to_json()
}

/// The schema, compiled.
pub fn office_schema() -> Schema {
    let (_, compiled) = zanzi::compile_source("office.zanzi", OFFICE_SOURCE);
    compiled.schema.unwrap()
}
