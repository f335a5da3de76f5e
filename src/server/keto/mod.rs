//! Ory Keto's REST API, wire-compatible: the same paths, query parameters,
//! bodies, status codes and error shape (see `docs/api.md` for where zanzi
//! deliberately differs).
//!
//! The wire types and the mapping of Keto's subjects live in
//! [`crate::api::keto`], shared with the client; here are the query
//! parameters ([`params`]) and the handlers ([`handlers`]).

pub mod handlers;
pub mod params;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use super::AppState;
use handlers::*;

pub fn read_routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router
        .route("/relation-tuples", get(list))
        .route(
            "/relation-tuples/check",
            get(check_get::<true>).post(check_post::<true>),
        )
        .route(
            "/relation-tuples/check/openapi",
            get(check_get::<false>).post(check_post::<false>),
        )
        .route(
            "/relation-tuples/batch/check",
            axum::routing::post(batch_check),
        )
        .route("/relation-tuples/expand", get(expand))
        .route("/namespaces", get(namespaces))
}

pub fn write_routes(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router.route(
        "/admin/relation-tuples",
        axum::routing::put(create).delete(delete).patch(patch),
    )
}
