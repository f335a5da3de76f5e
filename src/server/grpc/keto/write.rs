//! The write port: transactions and deletes by query.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{chosen_query, named, relationship};
use crate::api::keto::subjects::FIELD;
use crate::api::proto::keto::relation_tuples::v1alpha2 as pb;
use crate::api::ApiError;
use crate::server::grpc::status::{invalid_field, on_blocking_pool, with_token};
use crate::server::grpc::write::keto_preconditions;
use crate::server::keto::handlers::{delete_by_query, transact, Delta};
use crate::server::AppState;

/// The write service, over one server state.
pub(super) struct Write(pub(super) Arc<AppState>);

/// The deltas of a transaction as REST's, each checked for an action and a
/// tuple.
fn deltas(request: &pb::TransactRelationTuplesRequest) -> Result<Vec<Delta>, ApiError> {
    use pb::relation_tuple_delta::Action;
    request
        .relation_tuple_deltas
        .iter()
        .enumerate()
        .map(|(i, delta)| {
            let field = format!("relation_tuple_deltas[{i}]");
            let tuple = delta.relation_tuple.as_ref().ok_or_else(|| {
                let path = format!("{field}.relation_tuple");
                invalid_field(&path, format!("`{path}` is required"))
            })?;
            match Action::try_from(delta.action) {
                Ok(Action::Insert) => Ok(Delta::Insert(relationship(tuple))),
                Ok(Action::Delete) => Ok(Delta::Delete(relationship(tuple))),
                Ok(Action::Unspecified) | Err(_) => {
                    let path = format!("{field}.action");
                    Err(invalid_field(
                        &path,
                        format!(
                            "`{path}`: the action must be ACTION_INSERT or ACTION_DELETE, got {}",
                            delta.action
                        ),
                    ))
                }
            }
        })
        .collect()
}

#[tonic::async_trait]
impl pb::write_service_server::WriteService for Write {
    async fn transact_relation_tuples(
        &self,
        request: Request<pb::TransactRelationTuplesRequest>,
    ) -> Result<Response<pb::TransactRelationTuplesResponse>, Status> {
        let mut request = request.into_inner();
        let deltas = deltas(&request)?;
        let preconditions = std::mem::take(&mut request.preconditions);
        let inserts: Vec<bool> = deltas
            .iter()
            .map(|d| matches!(d, Delta::Insert(_)))
            .collect();
        let token = on_blocking_pool(&self.0, move |s| {
            // zanzi's field 100: checked in the write's transaction.
            let preconditions = keto_preconditions(&s.schema, &preconditions)?;
            transact(
                s,
                deltas.into_iter().map(Ok).collect(),
                &preconditions,
                |i, e: ApiError| {
                    let prefix = format!("relation_tuple_deltas[{i}].relation_tuple");
                    // An error about the tuple as a whole (malformed) names it.
                    let e = if e.details.as_ref().is_some_and(|d| d.contains_key(FIELD)) {
                        e
                    } else {
                        e.with_detail(FIELD, "")
                    };
                    let name = named(&prefix);
                    name(e)
                },
            )
        })
        .await?;
        // As Keto documents it: one token per delta, empty for a delete.
        Ok(with_token(
            pb::TransactRelationTuplesResponse {
                snaptokens: inserts
                    .into_iter()
                    .map(|insert| if insert { token.clone() } else { String::new() })
                    .collect(),
            },
            &token,
        ))
    }

    async fn delete_relation_tuples(
        &self,
        request: Request<pb::DeleteRelationTuplesRequest>,
    ) -> Result<Response<pb::DeleteRelationTuplesResponse>, Status> {
        let request = request.into_inner();
        let deprecated = deprecated_query!(request);
        let (prefix, params) = chosen_query(request.relation_query.as_ref(), deprecated)?;
        // As on REST: a delete stays within one namespace.
        if !params.has("namespace") {
            let path = format!("{prefix}.namespace");
            return Err(invalid_field(
                &path,
                format!("`{path}` is required: a delete by query stays within one namespace"),
            )
            .into());
        }
        let token = on_blocking_pool(&self.0, move |s| {
            delete_by_query(s, &params).map_err(named(prefix))
        })
        .await?;
        Ok(with_token(pb::DeleteRelationTuplesResponse {}, &token))
    }
}
