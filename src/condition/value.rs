//! Context values checked against a condition's parameter types before
//! anything uses them: a tuple's stored context when it is written, a
//! request's context when it arrives. Each type has one JSON form (bool,
//! integers in range, base64 bytes, Go/CEL durations, RFC 3339
//! timestamps, IP address strings), so a value refused here is refused
//! with its key and its type, never at evaluation.

use std::net::IpAddr;

use base64::Engine as _;
use serde_json::Value;
use thiserror::Error;

use crate::diagnostics::suggest;
use crate::ir::{Condition, ParamType};

/// A context key a condition refuses: unknown, or with a value of the
/// wrong type. `message` is complete and names the key.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ContextError {
    pub key: String,
    pub message: String,
}

/// Checks every key of `context` against `condition`'s parameters.
/// Missing keys are fine: a request may supply them.
pub fn check_context(
    condition: &Condition,
    context: &serde_json::Map<String, Value>,
) -> Result<(), ContextError> {
    for (key, value) in context {
        let Some(param) = condition.param(key) else {
            let suggestion =
                suggest::closest(key, condition.params.iter().map(|p| p.name.as_str()))
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
            let known = if condition.params.is_empty() {
                "it has no parameters".to_owned()
            } else {
                let names: Vec<String> = condition
                    .params
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                format!("its parameters are {}", names.join(", "))
            };
            return Err(ContextError {
                key: key.clone(),
                message: format!(
                    "condition `{}` has no parameter `{key}` ({known}){suggestion}",
                    condition.name
                ),
            });
        };
        check_value(&param.ty, value).map_err(|problem| ContextError {
            key: key.clone(),
            message: format!(
                "parameter `{key}` of condition `{}` has type `{}`: {problem}",
                condition.name, param.ty
            ),
        })?;
    }
    Ok(())
}

/// Checks that `value` is the JSON form of a value of type `ty`; the error
/// says what was expected and what was found, after the path of the
/// offending item in a list or map (`at [2]["k"]: …`).
pub fn check_value(ty: &ParamType, value: &Value) -> Result<(), String> {
    let mut path = String::new();
    check_at(ty, value, &mut path).map_err(|problem| {
        if path.is_empty() {
            problem
        } else {
            format!("at {path}: {problem}")
        }
    })
}

fn check_at(ty: &ParamType, value: &Value, path: &mut String) -> Result<(), String> {
    let fail = |expected: &str| Err(format!("expected {expected}, found `{}`", shown(value)));
    match ty {
        ParamType::Any => Ok(()),
        ParamType::Bool if value.is_boolean() => Ok(()),
        ParamType::Bool => fail("`true` or `false`"),
        ParamType::Int if value.is_i64() => Ok(()),
        ParamType::Int => fail("an integer between -2^63 and 2^63-1"),
        ParamType::Uint if value.is_u64() => Ok(()),
        ParamType::Uint => fail("an integer between 0 and 2^64-1"),
        ParamType::Double if value.is_number() => Ok(()),
        ParamType::Double => fail("a number"),
        ParamType::String if value.is_string() => Ok(()),
        ParamType::String => fail("a string"),
        ParamType::Bytes => match value.as_str() {
            Some(text)
                if base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .is_ok() =>
            {
                Ok(())
            }
            _ => fail("a base64 string (standard alphabet, padded)"),
        },
        ParamType::Duration => match value.as_str().map(parse_duration) {
            Some(Ok(_)) => Ok(()),
            _ => fail("a duration such as `\"90s\"` or `\"1h30m\"`"),
        },
        ParamType::Timestamp => match value.as_str().map(chrono::DateTime::parse_from_rfc3339) {
            Some(Ok(_)) => Ok(()),
            _ => fail("an RFC 3339 timestamp"),
        },
        ParamType::IpAddress => match value.as_str().map(str::parse::<IpAddr>) {
            Some(Ok(_)) => Ok(()),
            _ => fail("an IPv4 or IPv6 address"),
        },
        ParamType::List(item) => {
            let Value::Array(items) = value else {
                return fail(&format!("a list of `{item}`"));
            };
            for (index, element) in items.iter().enumerate() {
                let before = path.len();
                path.push_str(&format!("[{index}]"));
                check_at(item, element, path)?;
                path.truncate(before);
            }
            Ok(())
        }
        ParamType::Map(item) => {
            let Value::Object(entries) = value else {
                return fail(&format!("a map of `{item}` (a JSON object)"));
            };
            for (key, element) in entries {
                let before = path.len();
                path.push_str(&format!("[{}]", Value::String(key.clone())));
                check_at(item, element, path)?;
                path.truncate(before);
            }
            Ok(())
        }
    }
}

/// `value` as JSON, cut short when long.
fn shown(value: &Value) -> String {
    const LIMIT: usize = 40;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or("")),
        None => text,
    }
}

/// Durations are read as the evaluator reads them, so that a value
/// accepted at write time is one a condition can use.
pub use super::eval::parse_duration;

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
