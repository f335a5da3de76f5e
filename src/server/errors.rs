//! API errors as HTTP responses. Handlers return [`ApiError`]; its
//! response carries the error as an extension, and the request middleware
//! ([`super::track`]) writes the body once the request id is known, so
//! every error names its request.

use axum::response::{IntoResponse, Response};

pub use crate::api::ApiError;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}
