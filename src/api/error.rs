//! Errors of every API, in Ory Keto's shape (herodot's `genericError`):
//! `{"error":{"code","status","message","reason","request"}}`, plus
//! `details` when there is structured data to give (allowed types, the path
//! that went too deep). The status is HTTP's; other protocols map it to
//! their own codes.

use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::engine::{AnswerPart, EngineError};
use crate::store::StoreError;

/// An error answer.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
    /// A stable, short reason (`max_depth_exceeded`, `invalid_snaptoken`, …).
    pub reason: String,
    pub details: Option<Map<String, Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            reason: reason.to_owned(),
            details: None,
        }
    }

    pub fn bad_request(reason: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, reason, message)
    }

    pub fn not_found(reason: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, reason, message)
    }

    pub fn unprocessable(reason: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> ApiError {
        self.details
            .get_or_insert_with(Map::new)
            .insert(key.to_owned(), value.into());
        self
    }

    /// The JSON body, naming the request (fields in Keto's order).
    pub fn body(&self, request_id: &str) -> Vec<u8> {
        #[derive(Serialize)]
        struct Inner<'a> {
            code: u16,
            status: &'a str,
            message: &'a str,
            reason: &'a str,
            request: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            details: Option<&'a Map<String, Value>>,
        }
        let inner = Inner {
            code: self.status.as_u16(),
            status: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
            reason: &self.reason,
            request: request_id,
            details: self.details.as_ref(),
        };
        #[derive(Serialize)]
        struct Outer<'a> {
            error: Inner<'a>,
        }
        serde_json::to_vec(&Outer { error: inner }).unwrap_or_default()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::RevisionCollected { .. } => ApiError::bad_request(
                "snapshot_expired",
                format!(
                    "{error}; the snapshot is older than the retention window: \
                     retry with a newer token or `consistency=fully_consistent`"
                ),
            ),
            StoreError::FutureRevision { .. } => {
                ApiError::bad_request("snapshot_in_future", error.to_string())
            }
            StoreError::InvalidTuple { .. } => {
                ApiError::bad_request("invalid_tuple", error.to_string())
            }
            StoreError::PreconditionFailed { index, .. } => ApiError::new(
                StatusCode::CONFLICT,
                "precondition_failed",
                format!("{error}; nothing was written"),
            )
            .with_detail("field", format!("preconditions[{index}]")),
            StoreError::InvalidCursor(_) => {
                ApiError::bad_request("invalid_page_token", error.to_string())
            }
            StoreError::Unavailable(_) => {
                metrics::counter!("zanzi_store_errors_total").increment(1);
                tracing::warn!(error = %error, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    format!("{error}; retry later"),
                )
            }
            other => {
                metrics::counter!("zanzi_store_errors_total").increment(1);
                tracing::error!(error = %other, "store error");
                ApiError::internal(format!("the tuple store failed: {other}"))
            }
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::DepthExceeded {
                max_depth,
                ref path,
            } => {
                let path = path.clone();
                ApiError::bad_request(
                    "max_depth_exceeded",
                    format!(
                        "{error}; the answer is unknown, not denied: raise the server's \
                         `max_depth` or simplify the data"
                    ),
                )
                .with_detail("max_depth", max_depth)
                .with_detail("path", path)
            }
            EngineError::UnknownNamespace(..) | EngineError::UnknownRelation { .. } => {
                ApiError::not_found("unknown_name", error.to_string())
            }
            EngineError::WildcardSubject(_) => {
                ApiError::bad_request("wildcard_subject", error.to_string())
            }
            EngineError::InvalidCursor(_) => {
                ApiError::bad_request("invalid_page_token", error.to_string())
            }
            EngineError::NotStratified(_) => ApiError::internal(error.to_string()),
            // 504 as Keto answers a request past its deadline; gRPC's
            // DEADLINE_EXCEEDED (`grpc::status::code_for`).
            EngineError::DeadlineExceeded => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                error.to_string(),
            ),
            // The question is fine but its answer too large to give whole:
            // 422 (the server will not process it as asked), gRPC's
            // RESOURCE_EXHAUSTED (`grpc::status::code_for`).
            EngineError::AnswerTooLarge { what, limit } => {
                let setting = match what {
                    AnswerPart::Subjects => "max_lookup_results",
                    AnswerPart::ExpandNodes => "max_expand_nodes",
                };
                ApiError::unprocessable(
                    "result_too_large",
                    format!(
                        "{error} (the server's `{setting}`); ask a narrower question (a \
                         lower `max-depth`, another relation) or raise `{setting}`"
                    ),
                )
                .with_detail("setting", setting)
                .with_detail("limit", limit)
            }
            // The request's context (or a tuple's) made a condition fail:
            // the caller's to fix, and never a deny.
            EngineError::Condition(ref failed) => {
                let condition = failed.condition.clone();
                ApiError::bad_request("condition_failed", error.to_string())
                    .with_detail("condition", condition)
            }
            EngineError::Store(store) => store.into(),
        }
    }
}

/// An `invalid_argument` (400) naming the request field at fault in its
/// `field` detail (gRPC requests; the field is the message path).
pub fn invalid_field(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_argument", message).with_detail("field", field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_precondition_is_409_naming_it() {
        let error: ApiError = StoreError::PreconditionFailed {
            index: 2,
            precondition: "a live tuple matching {namespace: doc} must exist".into(),
        }
        .into();
        assert_eq!(
            (error.status, error.reason.as_str()),
            (StatusCode::CONFLICT, "precondition_failed")
        );
        assert_eq!(
            error.message,
            "precondition 2 failed: a live tuple matching {namespace: doc} must exist; \
             nothing was written"
        );
        assert_eq!(
            error.details.and_then(|d| d.get("field").cloned()),
            Some(Value::from("preconditions[2]"))
        );
    }

    #[test]
    fn a_store_that_is_away_is_503_and_a_failing_one_500() {
        let away: ApiError = StoreError::Unavailable("connection refused".into()).into();
        assert_eq!(
            (away.status, away.reason.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
        );
        assert!(
            away.message.contains("connection refused"),
            "{}",
            away.message
        );
        let broken: ApiError = StoreError::Backend("disk I/O error".into()).into();
        assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
