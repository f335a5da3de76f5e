//! `zanzi.v1.WriteService`: writes with preconditions.

use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::server::AppState;

/// WriteService.
pub(super) fn add_write(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}
