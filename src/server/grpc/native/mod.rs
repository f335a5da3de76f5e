//! zanzi's own gRPC services beyond Keto's API (`zanzi.v1`): bulk checks
//! and explanations ([`permission`]), streamed lookups ([`lookup`]) and the
//! schema ([`schema`]).
//!
//! Each method runs what its REST endpoint runs (`server::native`,
//! `server::keto::handlers`): the same consistency choice, tokens, name
//! checks and engine calls, on the blocking pool. Errors name the request
//! field at fault, in the message (`` `items[2].relation`: … ``) and in the
//! status's `ErrorInfo` (`field`).

mod lookup;
mod permission;
mod schema;

use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::api::keto::subjects::{namespace_id, relation_id, Access, Question};
use crate::api::proto::zanzi::v1 as pb;
use crate::api::ApiError;
use crate::ir::Schema;
use crate::server::AppState;
use crate::tuple::Subject;

use super::convert;

/// PermissionService, SchemaService.
pub(super) fn add_read(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    routes.add_service(limited!(
        state,
        pb::permission_service_server::PermissionServiceServer::new(permission::Permissions {
            state: Arc::clone(state),
        })
    ));
    routes.add_service(limited!(
        state,
        pb::schema_service_server::SchemaServiceServer::new(schema::SchemaReader {
            state: Arc::clone(state),
        })
    ));
}

/// SchemaWriteService.
pub(super) fn add_write(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    routes.add_service(limited!(
        state,
        pb::schema_write_service_server::SchemaWriteServiceServer::new(schema::SchemaWriter::new(
            state
        ))
    ));
}

/// `error`, about the request field `field`: the message starts with the
/// field's name and the details carry it.
fn at_field(field: &str, error: ApiError) -> ApiError {
    let message = format!("`{field}`: {}", error.message);
    ApiError { message, ..error }.with_detail("field", field)
}

/// A request's context (JSON text) and contextual tuples, each validated
/// against the schema as a write is, errors naming `contextual_tuples[i]`.
fn request_context(
    schema: &Schema,
    context: &str,
    tuples: &[pb::Tuple],
) -> Result<crate::engine::RequestContext, ApiError> {
    use crate::api::request::{context_text, CONTEXTUAL_TUPLES_FIELD};
    crate::api::request::request_context(context_text(context)?, tuples, |index, t| {
        let field = format!("{CONTEXTUAL_TUPLES_FIELD}[{index}]");
        let tuple = convert::tuple(&field, Some(t))?;
        crate::tuple::validate_tuple(schema, &tuple)
            .map_err(|e| super::write::tuple_error(schema, &field, &tuple, e))?;
        Ok(tuple)
    })
}

/// A request's `max_depth`: may only lower the server's limit (0 keeps it).
fn depth(state: &AppState, requested: i32) -> Result<u32, ApiError> {
    state
        .depth(Some(i64::from(requested)))
        .map_err(|e| at_field("max_depth", e))
}

/// The question of a `CheckItem` at `field` (`items[3]`), its names
/// checked against the schema as the REST check checks them.
fn question(schema: &Schema, field: &str, item: &pb::CheckItem) -> Result<Question, ApiError> {
    let object = convert::object(&format!("{field}.object"), item.object.as_ref())?;
    let subject = convert::subject(&format!("{field}.subject"), item.subject.as_ref())?;
    let relation = item.relation.clone();
    if relation.is_empty() {
        return Err(super::status::invalid_field(
            &format!("{field}.relation"),
            format!("`{field}.relation` must not be empty"),
        ));
    }
    let ns = namespace_id(schema, &object.namespace, Access::Read)
        .map_err(|e| at_field(&format!("{field}.object.namespace"), e))?;
    relation_id(schema, ns, &relation, Access::Read)
        .map_err(|e| at_field(&format!("{field}.relation"), e))?;
    let subject_ns = namespace_id(schema, subject.namespace(), Access::Read)
        .map_err(|e| at_field(&format!("{field}.subject.object.namespace"), e))?;
    if let Subject::Set { relation, .. } = &subject {
        relation_id(schema, subject_ns, relation, Access::Read)
            .map_err(|e| at_field(&format!("{field}.subject.relation"), e))?;
    }
    Ok(Question {
        object,
        relation,
        subject,
    })
}
