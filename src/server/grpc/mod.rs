//! The gRPC side of `zanzi serve`: Keto's gRPC API and zanzi's own
//! services, on the same listeners as the REST API. A connection speaks
//! HTTP/1.1 or HTTP/2 (told apart by its first bytes); a request whose
//! `content-type` is `application/grpc…` goes to the gRPC routes, any other
//! to the REST routes. As in Keto, each port serves its part: reads on the
//! read port, writes on the write port, the syntax check on the syntax
//! port; every port serves `grpc.health.v1.Health`, server reflection and
//! Keto's `VersionService`, which stay open when credentials are required
//! (see [`super::auth`]).
//!
//! Handlers run the same code as the REST handlers (the engine on the
//! blocking pool, the same consistency choice and tokens) and answer
//! errors with [`status::to_status`]: Keto's codes and error details.

/// Applies the server's message size limits to a generated service.
macro_rules! limited {
    ($state:expr, $service:expr) => {
        $service
            .max_decoding_message_size($state.settings.grpc_max_message_bytes)
            .max_encoding_message_size($state.settings.grpc_max_message_bytes)
    };
}

pub mod convert;
mod keto;
pub mod layer;
mod native;
pub mod status;
mod watch;
mod write;

use std::sync::Arc;

use tonic::service::{Routes, RoutesBuilder};
use tonic::{Request, Response, Status};
use tonic_health::server::{HealthReporter, HealthService};

use super::AppState;
use crate::api::proto::keto::relation_tuples::v1alpha2 as keto_pb;

/// Which listener a router serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    Read,
    Write,
    Syntax,
}

/// The gRPC routes of one listener. Unknown services and methods are
/// answered `UNIMPLEMENTED`. `health` reports the server's state (the
/// server marks it `NOT_SERVING` when it starts shutting down).
pub fn router(state: &Arc<AppState>, port: Port, health: &HealthReporter) -> axum::Router {
    let mut routes = Routes::builder();
    routes.add_service(tonic_health::pb::health_server::HealthServer::new(
        HealthService::from_health_reporter(health.clone()),
    ));
    add_reflection(&mut routes);
    routes.add_service(limited!(
        state,
        keto_pb::version_service_server::VersionServiceServer::new(Version)
    ));
    match port {
        Port::Read => {
            keto::add_read(&mut routes, state);
            native::add_read(&mut routes, state);
            watch::add_read(&mut routes, state);
        }
        Port::Write => {
            keto::add_write(&mut routes, state);
            native::add_write(&mut routes, state);
            write::add_write(&mut routes, state);
        }
        Port::Syntax => keto::add_syntax(&mut routes, state),
    }
    let api = match port {
        Port::Read => super::auth::Api::Read,
        Port::Write => super::auth::Api::Write,
        Port::Syntax => super::auth::Api::Syntax,
    };
    let mut routes = routes.routes().prepare().into_axum_router();
    // As on REST: only what is configured, the rate limit inside the auth.
    if state.rate_limits.is_some() {
        routes = routes.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::limits::limit_grpc,
        ));
    }
    if state.auth.is_enabled() {
        routes = routes.layer(axum::middleware::from_fn_with_state(
            (state.clone(), api),
            super::auth::grpc,
        ));
    }
    layer::apply(routes, state)
}

fn add_reflection(routes: &mut RoutesBuilder) {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::api::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    match builder().build_v1() {
        Ok(v1) => {
            routes.add_service(v1);
        }
        Err(e) => tracing::error!(error = %e, "gRPC reflection (v1) is unavailable"),
    }
    // grpcurl and older clients ask the v1alpha service.
    match builder().build_v1alpha() {
        Ok(v1alpha) => {
            routes.add_service(v1alpha);
        }
        Err(e) => tracing::error!(error = %e, "gRPC reflection (v1alpha) is unavailable"),
    }
}

/// Keto's `VersionService`, on every port.
#[derive(Clone, Copy, Debug)]
struct Version;

#[tonic::async_trait]
impl keto_pb::version_service_server::VersionService for Version {
    async fn get_version(
        &self,
        _: Request<keto_pb::GetVersionRequest>,
    ) -> Result<Response<keto_pb::GetVersionResponse>, Status> {
        Ok(Response::new(keto_pb::GetVersionResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }))
    }
}

/// Whether a request is gRPC (by its `content-type`), for the listener's
/// dispatch.
pub fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}
