//! Reading request bodies: bounded in size and time, JSON errors naming the
//! field, and only bodies that say they are JSON (or say nothing).

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};

use super::errors::ApiError;
use super::AppState;

mod objects;

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

/// Reads a JSON body (see [`read_body`]) after [`require_json`]; errors
/// name the offending field.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    require_json(headers)?;
    let bytes = read_body(state, body).await?;
    parse_json(&bytes)
}

/// Refuses (415) a body whose `Content-Type` is not JSON: `application/json`
/// (parameters such as `charset` allowed) or `application/*+json`. A
/// request without the header is read as JSON: Keto's users' curl commands
/// often send none, and its SDKs always send JSON. A form or plain text is
/// refused rather than guessed at, so that a mistaken client learns why.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let shown = String::from_utf8_lossy(value.as_bytes()).into_owned();
    let essence = shown
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_json = essence.split_once('/').is_some_and(|(kind, subtype)| {
        kind == "application" && (subtype == "json" || subtype.ends_with("+json"))
    });
    if is_json {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!(
            "the request body's Content-Type is `{shown}`; send JSON with \
             `Content-Type: application/json` (curl: `--json '{{...}}'`, or \
             `-H 'Content-Type: application/json'` with `-d`)"
        ),
    )
    .with_detail("header", "content-type"))
}

/// Parses JSON, naming the field that is wrong; a struct only from an
/// object (see [`objects`]).
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T =
        serde_path_to_error::deserialize(objects::ObjectsOnly(&mut de)).map_err(|e| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::keto::{PatchBody, Relationship};

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        let object =
            br#"{"namespace":"document","object":"readme","relation":"view","subject_id":"alice"}"#;
        let read: Result<Relationship, _> = parse_json(object);
        assert_eq!(read.map(|r| r.object).ok().as_deref(), Some("readme"));
        let array: Result<Relationship, _> = parse_json(br#"["document","readme","view"]"#);
        let message = array.err().map(|e| e.message).unwrap_or_default();
        assert!(message.contains("expected a JSON object"), "{message}");
        // Below the top too, naming the field.
        let nested = br#"{"deltas":[],"preconditions":[{"must":"exist","query":[null,null]}]}"#;
        let patch: Result<PatchBody, _> = parse_json(nested);
        let message = patch.err().map(|e| e.message).unwrap_or_default();
        assert!(message.contains("preconditions[0].query"), "{message}");
        // Keto's PATCH body is an array, of objects.
        let deltas = br#"[{"action":"insert","relation_tuple":{"namespace":"d","object":"o","relation":"r","subject_id":"s"}}]"#;
        let patch: Result<PatchBody, _> = parse_json(deltas);
        assert!(patch.is_ok(), "{:?}", patch.err().map(|e| e.message));
    }

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = value.parse() {
            headers.insert(header::CONTENT_TYPE, value);
        }
        headers
    }

    #[test]
    fn json_media_types_and_no_header_are_read_as_json() {
        for value in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            "application/merge-patch+json",
        ] {
            assert!(require_json(&with_type(value)).is_ok(), "{value}");
        }
        assert!(require_json(&HeaderMap::new()).is_ok());
    }

    #[test]
    fn other_media_types_are_refused_naming_the_one_sent() {
        for value in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/json",
            "application/jsonp",
            "",
        ] {
            let error = require_json(&with_type(value)).err();
            assert_eq!(
                error.as_ref().map(|e| e.status),
                Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
                "{value}"
            );
            let message = error.map(|e| e.message).unwrap_or_default();
            assert!(message.contains(&format!("`{value}`")), "{message}");
            assert!(message.contains("application/json"), "{message}");
        }
    }
}
