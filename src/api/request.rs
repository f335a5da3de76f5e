//! What a check-like request brings besides its question
//! (docs/api.md, "Conditions"): values for conditions' parameters (the
//! context) and contextual tuples, read and bounded the same way whatever
//! the protocol.

use http::StatusCode;
use serde_json::{Map, Value};

use super::keto::subjects::{tuple_for_write, FIELD};
use super::keto::Relationship;
use super::ApiError;
use crate::engine::RequestContext;
use crate::ir::Schema;
use crate::tuple::{Tuple, MAX_CONTEXT_BYTES};

/// The most contextual tuples one request may bring.
pub const MAX_CONTEXTUAL_TUPLES: usize = 100;

/// The request field holding the context.
pub const CONTEXT_FIELD: &str = "context";
/// The request field holding the contextual tuples.
pub const CONTEXTUAL_TUPLES_FIELD: &str = "contextual_tuples";

/// A request's context: a JSON object of at most [`MAX_CONTEXT_BYTES`]
/// (413 past it, so that one request cannot make every condition it meets
/// read megabytes); absent or `null` is the empty context.
pub fn context_object(value: Option<&Value>) -> Result<Map<String, Value>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(object)) => {
            let size = serde_json::to_string(object).map_or(usize::MAX, |text| text.len());
            if size > MAX_CONTEXT_BYTES {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "context_too_large",
                    format!(
                        "`{CONTEXT_FIELD}` is {size} bytes of JSON, above the limit of \
                         {MAX_CONTEXT_BYTES} bytes"
                    ),
                )
                .with_detail(FIELD, CONTEXT_FIELD)
                .with_detail("limit", MAX_CONTEXT_BYTES));
            }
            Ok(object.clone())
        }
        Some(other) => Err(ApiError::bad_request(
            "invalid_context",
            format!(
                "`{CONTEXT_FIELD}` must be a JSON object of parameter values, got {}",
                json_kind(other)
            ),
        )
        .with_detail(FIELD, CONTEXT_FIELD)),
    }
}

/// A context sent as JSON text (gRPC): empty is the empty context.
pub fn context_text(text: &str) -> Result<Map<String, Value>, ApiError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ApiError::bad_request(
            "invalid_context",
            format!("`{CONTEXT_FIELD}` is not JSON: {e}"),
        )
        .with_detail(FIELD, CONTEXT_FIELD)
    })?;
    context_object(Some(&value))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuses more than [`MAX_CONTEXTUAL_TUPLES`] contextual tuples (400).
pub fn check_contextual_count(count: usize) -> Result<(), ApiError> {
    if count > MAX_CONTEXTUAL_TUPLES {
        return Err(ApiError::bad_request(
            "too_many_contextual_tuples",
            format!(
                "{count} contextual tuples; a request may bring at most {MAX_CONTEXTUAL_TUPLES}"
            ),
        )
        .with_detail(FIELD, CONTEXTUAL_TUPLES_FIELD)
        .with_detail("limit", MAX_CONTEXTUAL_TUPLES));
    }
    Ok(())
}

/// `error` about the contextual tuple at `index`: its message and field
/// (`contextual_tuples[2].subject_id`) name the tuple.
pub fn at_contextual_tuple(index: usize, error: ApiError) -> ApiError {
    let at = format!("{CONTEXTUAL_TUPLES_FIELD}[{index}]");
    let field = match error
        .details
        .as_ref()
        .and_then(|d| d.get(FIELD))
        .and_then(Value::as_str)
    {
        Some(inner) => format!("{at}.{inner}"),
        None => at.clone(),
    };
    ApiError {
        message: format!("{at}: {}", error.message),
        ..error
    }
    .with_detail(FIELD, field)
    .with_detail("index", index)
}

/// The request context the engine takes, whatever the protocol: the
/// decoded `context`, then at most [`MAX_CONTEXTUAL_TUPLES`] contextual
/// tuples, each read by `read_tuple` (given its index, so that its errors
/// name it). The server's clock decides expiry: a client's notion of now is
/// never taken.
pub fn request_context<T>(
    context: Map<String, Value>,
    tuples: &[T],
    read_tuple: impl Fn(usize, &T) -> Result<Tuple, ApiError>,
) -> Result<RequestContext, ApiError> {
    check_contextual_count(tuples.len())?;
    let tuples = tuples
        .iter()
        .enumerate()
        .map(|(index, tuple)| read_tuple(index, tuple))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(RequestContext {
        context,
        now: None,
        tuples,
    })
}

/// The contextual tuple at `index`, in Keto's relationship shape, validated
/// against the schema as a write is (the same errors, naming the tuple).
pub fn keto_contextual_tuple(
    schema: &Schema,
    index: usize,
    relationship: &Relationship,
) -> Result<Tuple, ApiError> {
    tuple_for_write(schema, relationship).map_err(|e| at_contextual_tuple(index, e))
}

/// The request context of a REST request: its JSON context and its
/// Keto-shaped contextual tuples.
pub fn rest_request(
    schema: &Schema,
    context: Option<&Value>,
    tuples: &[Relationship],
) -> Result<RequestContext, ApiError> {
    request_context(context_object(context)?, tuples, |index, relationship| {
        keto_contextual_tuple(schema, index, relationship)
    })
}

/// What binds a page token to a request's context and contextual tuples
/// (another context may answer other objects): empty when it has none.
pub fn request_fingerprint(request: &RequestContext) -> String {
    if request.context.is_empty() && request.tuples.is_empty() {
        return String::new();
    }
    let tuples: Vec<String> = request.tuples.iter().map(ToString::to_string).collect();
    format!(
        "\n{}\n{}",
        Value::Object(request.context.clone()),
        tuples.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_must_be_a_small_object() {
        assert_eq!(context_object(None).map(|m| m.len()).ok(), Some(0));
        let not_object = context_object(Some(&Value::from("x"))).err();
        assert_eq!(
            not_object.map(|e| (e.status, e.reason)),
            Some((StatusCode::BAD_REQUEST, "invalid_context".to_owned()))
        );
        let big = serde_json::json!({ "k": "x".repeat(MAX_CONTEXT_BYTES) });
        let too_big = context_object(Some(&big)).err();
        assert_eq!(
            too_big.map(|e| (e.status, e.reason)),
            Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                "context_too_large".to_owned()
            ))
        );
    }

    #[test]
    fn an_error_names_the_contextual_tuple_and_its_field() {
        let error = at_contextual_tuple(
            3,
            ApiError::unprocessable("x", "bad").with_detail(FIELD, "subject_id"),
        );
        assert_eq!(error.message, "contextual_tuples[3]: bad");
        assert_eq!(
            error.details.and_then(|d| d.get(FIELD).cloned()),
            Some(Value::from("contextual_tuples[3].subject_id"))
        );
        assert!(check_contextual_count(MAX_CONTEXTUAL_TUPLES).is_ok());
        assert!(check_contextual_count(MAX_CONTEXTUAL_TUPLES + 1).is_err());
    }
}
