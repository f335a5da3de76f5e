//! The read port: checks, expands, listings and namespaces.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{chosen_query, consistency, depth, named, relationship, to_subject_tree, to_tuple};
use crate::api::keto::{Relationship, SubjectSet};
use crate::api::proto::keto::relation_tuples::v1alpha2 as pb;
use crate::api::request::{context_text, keto_contextual_tuple, request_context};
use crate::api::ApiError;
use crate::engine::RequestContext;
use crate::server::grpc::status::{evaluating, invalid_field, on_blocking_pool, with_token};
use crate::server::keto::handlers::keto_answer;
use crate::server::keto::handlers::{
    batch_check_at, check_at, check_batch_size, expand_at, list_page, namespace_names, page_size,
};
use crate::server::{AppState, Scope};

/// The read services, over one server state.
#[derive(Clone)]
pub(super) struct Read(pub(super) Arc<AppState>);

/// The question of a check: `tuple`, or the deprecated fields 1-4 when it
/// is unset; and the prefix its fields are named under.
fn check_question(request: &pb::CheckRequest) -> (Relationship, &'static str) {
    match &request.tuple {
        Some(tuple) => (relationship(tuple), "tuple"),
        #[allow(deprecated)]
        None => (
            relationship(&pb::RelationTuple {
                namespace: request.namespace.clone(),
                object: request.object.clone(),
                relation: request.relation.clone(),
                subject: request.subject.clone(),
            }),
            "",
        ),
    }
}

/// A Keto gRPC check's context (JSON text) and contextual tuples, each
/// validated as a write is; errors name `contextual_tuples[i]`.
fn keto_request_context(
    s: &Scope<'_>,
    context: &str,
    tuples: &[pb::RelationTuple],
) -> Result<RequestContext, ApiError> {
    let tuples: Vec<Relationship> = tuples.iter().map(relationship).collect();
    request_context(context_text(context)?, &tuples, |index, rel| {
        keto_contextual_tuple(&s.schema, index, rel)
    })
}

#[tonic::async_trait]
impl pb::check_service_server::CheckService for Read {
    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let request = request.into_inner();
        let depth = depth(&self.0, request.max_depth)?;
        let consistency = consistency(&self.0, request.latest, &request.snaptoken)?;
        let (rel, prefix) = check_question(&request);
        let (decision, snaptoken) = evaluating(&self.0, move |s| {
            let context = keto_request_context(s, &request.context, &request.contextual_tuples)?;
            check_at(s, rel, depth, &consistency, &context).map_err(named(prefix))
        })
        .await?;
        let (allowed, conditional) = keto_answer(decision);
        Ok(with_token(
            pb::CheckResponse {
                allowed,
                snaptoken: snaptoken.clone(),
                conditional: conditional.is_some(),
                missing: conditional.map(|c| c.missing).unwrap_or_default(),
            },
            &snaptoken,
        ))
    }

    async fn batch_check(
        &self,
        request: Request<pb::BatchCheckRequest>,
    ) -> Result<Response<pb::BatchCheckResponse>, Status> {
        let request = request.into_inner();
        check_batch_size(&self.0, request.tuples.len()).map_err(|e| super::at_path(e, "tuples"))?;
        let depth = depth(&self.0, request.max_depth)?;
        let consistency = consistency(&self.0, request.latest, &request.snaptoken)?;
        let tuples: Vec<Relationship> = request.tuples.iter().map(relationship).collect();
        let (results, snaptoken) = evaluating(&self.0, move |s| {
            let context = keto_request_context(s, &request.context, &request.contextual_tuples)?;
            batch_check_at(s, &tuples, depth, &consistency, &context)
        })
        .await?;
        Ok(Response::new(pb::BatchCheckResponse {
            results: results
                .into_iter()
                .map(|r| pb::CheckResponseWithError {
                    allowed: r.allowed,
                    error: r.error,
                    snaptoken: snaptoken.clone(),
                    conditional: r.conditional.is_some(),
                    missing: r.conditional.map(|c| c.missing).unwrap_or_default(),
                })
                .collect(),
        }))
    }
}

#[tonic::async_trait]
impl pb::expand_service_server::ExpandService for Read {
    async fn expand(
        &self,
        request: Request<pb::ExpandRequest>,
    ) -> Result<Response<pb::ExpandResponse>, Status> {
        use pb::subject::Ref;
        let request = request.into_inner();
        let depth = depth(&self.0, request.max_depth)?;
        let consistency = consistency(&self.0, false, &request.snaptoken)?;
        let set = match request.subject.and_then(|s| s.r#ref) {
            None => {
                return Err(invalid_field(
                    "subject",
                    "`subject`: the subject set to expand is required",
                )
                .into())
            }
            // As Keto: a subject ID expands to itself.
            #[allow(deprecated)]
            Some(Ref::Id(id)) => {
                return Ok(Response::new(pb::ExpandResponse {
                    tree: Some(pb::SubjectTree {
                        node_type: pb::NodeType::Leaf.into(),
                        subject: Some(pb::Subject {
                            r#ref: Some(Ref::Id(id)),
                        }),
                        tuple: None,
                        children: Vec::new(),
                    }),
                }))
            }
            Some(Ref::Set(set)) => SubjectSet {
                namespace: set.namespace,
                object: set.object,
                relation: set.relation,
            },
        };
        let (tree, token) = on_blocking_pool(&self.0, move |s| {
            let (tree, token) =
                expand_at(s, &set, depth, &consistency).map_err(named("subject.set"))?;
            Ok((crate::engine::grow_stack(|| to_subject_tree(&tree)), token))
        })
        .await?;
        Ok(with_token(pb::ExpandResponse { tree: Some(tree) }, &token))
    }
}

#[tonic::async_trait]
impl pb::read_service_server::ReadService for Read {
    async fn list_relation_tuples(
        &self,
        request: Request<pb::ListRelationTuplesRequest>,
    ) -> Result<Response<pb::ListRelationTuplesResponse>, Status> {
        let request = request.into_inner();
        let deprecated = deprecated_query!(request);
        let (prefix, params) = chosen_query(request.relation_query.as_ref(), deprecated)?;
        let page_size = page_size(&self.0, i64::from(request.page_size)).map_err(named(""))?;
        let consistency = consistency(&self.0, false, &request.snaptoken)?;
        let page_token = Some(request.page_token).filter(|t| !t.is_empty());
        let page = on_blocking_pool(&self.0, move |s| {
            list_page(s, &params, page_size, page_token.as_deref(), &consistency).map_err(
                |e: ApiError| {
                    // The page token is a top-level field; the rest is the query's.
                    let top = e
                        .details
                        .as_ref()
                        .and_then(|d| d.get(crate::api::keto::subjects::FIELD))
                        .is_some_and(|f| f == "page_token");
                    named(if top { "" } else { prefix })(e)
                },
            )
        })
        .await?;
        Ok(with_token(
            pb::ListRelationTuplesResponse {
                relation_tuples: page.relation_tuples.iter().map(to_tuple).collect(),
                next_page_token: page.next_page_token,
            },
            &page.snaptoken,
        ))
    }
}

#[tonic::async_trait]
impl pb::namespaces_service_server::NamespacesService for Read {
    async fn list_namespaces(
        &self,
        _: Request<pb::ListNamespacesRequest>,
    ) -> Result<Response<pb::ListNamespacesResponse>, Status> {
        let names = namespace_names(&self.0.schema());
        Ok(Response::new(pb::ListNamespacesResponse {
            namespaces: names
                .namespaces
                .into_iter()
                .map(|n| pb::Namespace { name: n.name })
                .collect(),
        }))
    }
}
