//! Conditions in the IR: a condition's typed parameters and its CEL
//! expression (docs/language.md, "Conditions, expiring tuples and
//! contextual tuples"), and the traits a relation's subject type may carry.
//!
//! The expression is kept as source text: it was type-checked by the
//! compiler, is checked again on load, and is compiled once per condition
//! when an engine is built (`crate::condition`).

use serde::{Deserialize, Serialize};

use super::AllowedType;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConditionId(pub u32);

/// `condition NAME(param: type, …) { expression }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub params: Vec<Param>,
    /// The CEL expression, as written between the braces (trimmed).
    pub expression: String,
}

impl Condition {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ParamType,
}

/// A parameter's type. Serialized as written in the source (`list<int>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Duration,
    Timestamp,
    IpAddress,
    Any,
    List(Box<ParamType>),
    /// A map with string keys.
    Map(Box<ParamType>),
}

impl ParamType {
    /// The scalar type named `name` (`list` and `map` take an argument).
    pub fn scalar(name: &str) -> Option<ParamType> {
        Some(match name {
            "bool" => ParamType::Bool,
            "int" => ParamType::Int,
            "uint" => ParamType::Uint,
            "double" => ParamType::Double,
            "string" => ParamType::String,
            "bytes" => ParamType::Bytes,
            "duration" => ParamType::Duration,
            "timestamp" => ParamType::Timestamp,
            "ipaddress" => ParamType::IpAddress,
            "any" => ParamType::Any,
            _ => return None,
        })
    }

    /// Every type name, for "did you mean" and `zanzi explain`.
    pub const NAMES: &'static [&'static str] = &[
        "bool",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "duration",
        "timestamp",
        "ipaddress",
        "any",
        "list",
        "map",
    ];
}

impl std::fmt::Display for ParamType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamType::Bool => f.write_str("bool"),
            ParamType::Int => f.write_str("int"),
            ParamType::Uint => f.write_str("uint"),
            ParamType::Double => f.write_str("double"),
            ParamType::String => f.write_str("string"),
            ParamType::Bytes => f.write_str("bytes"),
            ParamType::Duration => f.write_str("duration"),
            ParamType::Timestamp => f.write_str("timestamp"),
            ParamType::IpAddress => f.write_str("ipaddress"),
            ParamType::Any => f.write_str("any"),
            ParamType::List(item) => write!(f, "list<{item}>"),
            ParamType::Map(value) => write!(f, "map<{value}>"),
        }
    }
}

impl std::str::FromStr for ParamType {
    type Err = String;

    fn from_str(text: &str) -> Result<ParamType, String> {
        let text = text.trim();
        let generic = |prefix: &str| {
            text.strip_prefix(prefix)
                .and_then(|rest| rest.trim_start().strip_prefix('<'))
                .and_then(|rest| rest.strip_suffix('>'))
        };
        if let Some(item) = generic("list") {
            return Ok(ParamType::List(Box::new(item.parse()?)));
        }
        if let Some(value) = generic("map") {
            return Ok(ParamType::Map(Box::new(value.parse()?)));
        }
        ParamType::scalar(text).ok_or_else(|| format!("unknown parameter type `{text}`"))
    }
}

impl Serialize for ParamType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ParamType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ParamType, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A subject type with traits: `user with office_network`,
/// `user with expiration`, `user with office_network and expiration`.
///
/// A relation's plain types (without traits) are its
/// [`RelationKind::Relation::types`](super::RelationKind::Relation); these
/// are kept apart because only tuples with a condition or an expiry match
/// them, and stores hand those out through their own reads. `with
/// expiration` alone also accepts the plain type (an expiry is allowed,
/// not required), so the compiler lists that base among the plain types
/// too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraitedType {
    pub base: AllowedType,
    /// The condition a tuple of this type carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionId>,
    /// Whether a tuple of this type may carry an expiry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expiration: bool,
}
