//! `zanzi.v1.WatchService`: the change stream.

use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::server::AppState;

/// WatchService.
pub(super) fn add_read(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}
