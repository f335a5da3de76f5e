//! Keto's gRPC API (`ory.keto.relation_tuples.v1alpha2`, and the syntax
//! check of `ory.keto.opl.v1alpha1`).

use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::server::AppState;

/// CheckService, ExpandService, ReadService, NamespacesService.
pub(super) fn add_read(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}

/// WriteService.
pub(super) fn add_write(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}

/// SyntaxService.
pub(super) fn add_syntax(_routes: &mut RoutesBuilder, _state: &Arc<AppState>) {}
