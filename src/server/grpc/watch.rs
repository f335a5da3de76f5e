//! `zanzi.v1.WatchService`: the change stream over gRPC, an adapter of
//! [`crate::server::watch`] (which REST's `GET /zanzi/v1/watch` shares):
//! the request's filters as [`NamedFilter`]s (`filters[i]`), each batch as
//! a `WatchResponse`, and the error that ends a stream as its status
//! (`OUT_OF_RANGE` for a token older than the retention window,
//! `RESOURCE_EXHAUSTED` for a consumer cut off, `UNAVAILABLE` at shutdown),
//! with the token to resume from in the `changes_through` metadata of its
//! `ErrorInfo`.

use std::pin::Pin;
use std::sync::Arc;

use tokio_stream::{Stream, StreamExt as _};
use tonic::service::RoutesBuilder;
use tonic::{Request, Response, Status};

use super::convert;
use crate::api::proto::zanzi::v1 as pb;
use crate::server::watch::{self, NamedFilter, RevisionTokens, WatchBatch};
use crate::server::AppState;
use crate::store::ChangeKind;
use pb::watch_service_server::{WatchService, WatchServiceServer};

/// WatchService.
pub(super) fn add_read(routes: &mut RoutesBuilder, state: &Arc<AppState>) {
    routes.add_service(limited!(
        state,
        WatchServiceServer::new(Watch {
            state: Arc::clone(state),
        })
    ));
}

struct Watch {
    state: Arc<AppState>,
}

type Responses = Pin<Box<dyn Stream<Item = Result<pb::WatchResponse, Status>> + Send>>;

#[tonic::async_trait]
impl WatchService for Watch {
    type WatchStream = Responses;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Responses>, Status> {
        let request = request.into_inner();
        let filters = request
            .filters
            .iter()
            .enumerate()
            .map(|(i, filter)| {
                let field = format!("filters[{i}]");
                Ok(NamedFilter {
                    filter: convert::filter(&field, filter)?,
                    field,
                })
            })
            .collect::<Result<Vec<_>, crate::api::ApiError>>()?;
        let stream = watch::open(&self.state, Some(&request.since), filters).await?;
        let state = Arc::clone(&self.state);
        let responses = stream.map(move |item| match item {
            Ok(batch) => Ok(response(&state, &batch)),
            Err(error) => Err(Status::from(error)),
        });
        Ok(Response::new(Box::pin(responses)))
    }
}

fn response(state: &AppState, batch: &WatchBatch) -> pb::WatchResponse {
    use pb::tuple_change::Operation;
    let mut tokens = RevisionTokens::new(state);
    pb::WatchResponse {
        changes: batch
            .changes
            .iter()
            .map(|change| pb::TupleChange {
                operation: match change.kind {
                    ChangeKind::Insert => Operation::Insert,
                    ChangeKind::Delete => Operation::Delete,
                } as i32,
                tuple: Some(convert::to_tuple(&change.tuple)),
                revision: Some(convert::snaptoken(tokens.get(change.revision))),
            })
            .collect(),
        changes_through: Some(convert::snaptoken(state.snaptoken(batch.through))),
    }
}
