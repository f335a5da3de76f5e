//! zanzi's own gRPC services beyond Keto's API (`zanzi.v1`): lookups,
//! bulk checks, explanations and the schema.

use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::server::AppState;

/// PermissionService, SchemaService.
pub(super) fn add_read(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}

/// SchemaWriteService.
pub(super) fn add_write(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}
