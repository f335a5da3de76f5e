//! Reading request bodies: bounded in size and time, JSON errors naming the field.

use axum::body::Body;
use axum::http::StatusCode;

use super::errors::ApiError;
use super::AppState;

/// Reads a request body of at most the configured size, arriving within
/// the configured read timeout (a trickled body would hold its request
/// slot for as long as the client likes).
pub async fn read_body(state: &AppState, body: Body) -> Result<axum::body::Bytes, ApiError> {
    use http_body_util::BodyExt;
    let limit = state.settings.body_limit;
    let timeout = state.settings.read_timeout;
    let collected =
        tokio::time::timeout(timeout, http_body_util::Limited::new(body, limit).collect())
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!(
                        "the request body did not arrive within {} s",
                        timeout.as_secs()
                    ),
                )
            })?
            .map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("the request body exceeds the limit of {limit} bytes"),
                    )
                } else {
                    ApiError::bad_request(
                        "unreadable_body",
                        format!("cannot read the request body: {e}"),
                    )
                }
            })?;
    Ok(collected.to_bytes())
}

/// Reads a JSON body (see [`read_body`]); errors name the offending field.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = read_body(state, body).await?;
    parse_json(&bytes)
}

/// Parses JSON, naming the field that is wrong.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." || path.is_empty() {
            format!("could not unmarshal json: {inner}")
        } else {
            format!("could not unmarshal json: field `{path}`: {inner}")
        };
        ApiError::bad_request("invalid_json", message)
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request("invalid_json", format!("could not unmarshal json: {e}"))
    })?;
    Ok(value)
}
