//! API errors as gRPC statuses, as Keto answers them: the code its HTTP
//! status maps to, the message, and a `google.rpc.ErrorInfo` detail
//! carrying the stable reason (`invalid_snaptoken`, …), the HTTP status
//! REST answers the same error with (`http_status`) and, when the error
//! has them, its details (the field at fault, …) as metadata.

use std::collections::HashMap;
use std::sync::Arc;

use http::StatusCode;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::api::ApiError;
use crate::server::{blocking, evaluate, AppState, Scope};

/// The error domain of every zanzi status.
pub const DOMAIN: &str = "zanzi";

/// The gRPC code an HTTP error status stands for.
pub fn code_for(status: StatusCode, reason: &str) -> Code {
    match (status, reason) {
        (_, "snapshot_expired") => Code::OutOfRange,
        (_, "result_too_large") => Code::ResourceExhausted,
        // A request's own field over its limit: the caller's argument.
        (_, "context_too_large") => Code::InvalidArgument,
        (StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY, _) => Code::InvalidArgument,
        (StatusCode::UNAUTHORIZED, _) => Code::Unauthenticated,
        (StatusCode::FORBIDDEN, _) => Code::PermissionDenied,
        (StatusCode::NOT_FOUND, _) => Code::NotFound,
        (StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED, _) => Code::FailedPrecondition,
        (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS, _) => {
            Code::ResourceExhausted
        }
        (StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT, _) => Code::DeadlineExceeded,
        (StatusCode::SERVICE_UNAVAILABLE, _) => Code::Unavailable,
        (StatusCode::NOT_IMPLEMENTED, _) => Code::Unimplemented,
        _ => Code::Internal,
    }
}

/// `error` as a gRPC status.
pub fn to_status(error: &ApiError) -> Status {
    let metadata: HashMap<String, String> = error
        .details
        .iter()
        .flatten()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .chain([("http_status".to_owned(), error.status.as_u16().to_string())])
        .collect();
    Status::with_error_details(
        code_for(error.status, &error.reason),
        error.message.clone(),
        ErrorDetails::with_error_info(error.reason.clone(), DOMAIN, metadata),
    )
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        to_status(&error)
    }
}

pub use crate::api::error::invalid_field;

/// Runs `f` as a REST handler would ([`blocking`]), answering its error as
/// a status.
pub async fn on_blocking_pool<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, Status> {
    blocking(state, f).await.map_err(Status::from)
}

/// Runs a check's `f` as the REST handlers do ([`evaluate`]).
pub async fn evaluating<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, Status> {
    evaluate(state, f).await.map_err(Status::from)
}

/// `message` as an answer carrying `token` in the `x-zanzi-snaptoken`
/// metadata, as REST answers carry it in that header: Keto's messages
/// without a token field (listing, expand, delete) give it there.
pub fn with_token<T>(message: T, token: &str) -> tonic::Response<T> {
    let mut response = tonic::Response::new(message);
    if let Ok(value) = token.parse() {
        response
            .metadata_mut()
            .insert(crate::api::SNAPTOKEN_HEADER, value);
    }
    response
}
