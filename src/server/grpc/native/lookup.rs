//! `LookupResources` and `LookupSubjects`: server-streamed lookups with
//! cursors.
//!
//! A cursor (`after_cursor`, `cursor`) is a signed page token, the same as
//! REST's `next_page_token`: it carries the snapshot revision, a hash of the
//! query (a cursor of another query is refused naming `cursor`) and the
//! position. Resuming from one reads at its snapshot, so a lookup resumed
//! anywhere answers exactly the rest of the same set. The last message of
//! a complete lookup has an empty `after_cursor`.
//!
//! Resources are paged by the engine: a producer task computes one page at
//! a time on the blocking pool and hands it to a channel of capacity one,
//! so at most one page is computed ahead of what the client has taken, and
//! the producer stops as soon as the client goes away (the channel closes).
//! It holds no blocking-pool worker while it waits for the client.
//! Subjects are one set in the engine (computed whole, sorted); they are
//! sent in chunks of [`SUBJECT_CHUNK`].

use std::sync::Arc;

use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::{at_field, convert, request_context};
use crate::api::keto::subjects::{namespace_id, relation_id, Access};
use crate::api::native::split_decided;
use crate::api::proto::zanzi::v1 as pb;
use crate::api::request::request_fingerprint;
use crate::api::ApiError;
use crate::engine::{Engine, RequestContext};
use crate::server::bounds::{bounded, Work};
use crate::server::grpc::status::{invalid_field, on_blocking_pool};
use crate::server::native::{page_start, resources_query_hash, run_lookup_subjects};
use crate::server::zookie::query_hash;
use crate::server::AppState;
use crate::store::PageRequest;
use crate::tuple::Object;

/// Subject IDs per message of `LookupSubjects`.
pub const SUBJECT_CHUNK: usize = 1000;

fn required(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(invalid_field(field, format!("`{field}` must not be empty")));
    }
    Ok(())
}

/// The field a failure to find a paged read's start is about.
fn start_field(cursor: &str) -> &'static str {
    if cursor.is_empty() {
        "consistency"
    } else {
        "cursor"
    }
}

/// `limit` (0: none) as a count.
fn limit(limit: u32) -> Option<usize> {
    (limit > 0).then(|| usize::try_from(limit).unwrap_or(usize::MAX))
}

pub(super) async fn resources(
    state: &Arc<AppState>,
    request: pb::LookupResourcesRequest,
) -> Result<ReceiverStream<Result<pb::LookupResourcesResponse, Status>>, Status> {
    let consistency = convert::consistency(state, "consistency", request.consistency.as_ref())?;
    let subject = convert::subject("subject", request.subject.as_ref())?;
    required("namespace", &request.namespace)?;
    required("relation", &request.relation)?;
    let pb::LookupResourcesRequest {
        namespace,
        relation,
        limit: wanted,
        cursor,
        context,
        contextual_tuples,
        ..
    } = request;
    let (schema, hash, at, mut after, namespace, relation, subject, context) =
        on_blocking_pool(state, move |s| {
            let ns = namespace_id(&s.schema, &namespace, Access::Read)
                .map_err(|e| at_field("namespace", e))?;
            relation_id(&s.schema, ns, &relation, Access::Read)
                .map_err(|e| at_field("relation", e))?;
            namespace_id(&s.schema, subject.namespace(), Access::Read)
                .map_err(|e| at_field("subject.object.namespace", e))?;
            let context = request_context(&s.schema, &context, &contextual_tuples)?;
            let hash = resources_query_hash(&namespace, &relation, &subject, &context);
            let (at, after) = page_start(s, Some(&cursor), hash, &consistency)
                .map_err(|e| at_field(start_field(&cursor), e))?;
            Ok((
                Arc::clone(&s.schema),
                hash,
                at,
                after,
                namespace,
                relation,
                subject,
                Arc::new(context),
            ))
        })
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let page_size = state.settings.default_page_size.max(1);
        let mut remaining = limit(wanted);
        let token = state.snaptoken(at);
        loop {
            let size = remaining.map_or(page_size, |r| r.min(page_size));
            if tx.is_closed() {
                break;
            }
            let (schema, namespace, relation, subject, context) = (
                Arc::clone(&schema),
                namespace.clone(),
                relation.clone(),
                subject.clone(),
                Arc::clone(&context),
            );
            let cursor = after.take();
            let page = on_blocking_pool(&state, move |s| {
                // The schema the lookup started with, for all its pages.
                let engine = Engine::new(&schema, s.store.as_ref())
                    .with_options(crate::engine::EngineOptions {
                        max_depth: s.settings.max_depth,
                    })
                    .with_request(&context);
                let request = PageRequest {
                    cursor,
                    limit: size,
                };
                bounded(&s.settings, Work::Lookup, || {
                    engine.lookup_resources_decided(
                        &namespace, &relation, &subject, &request, at, true,
                    )
                })
            })
            .await;
            let page = match page {
                Ok(page) => page,
                Err(status) => {
                    let _ = tx.send(Err(status)).await;
                    break;
                }
            };
            if let Some(r) = remaining.as_mut() {
                *r = r.saturating_sub(page.items.len());
            }
            let done = page.next_cursor.is_none() || remaining == Some(0);
            let (object_ids, conditional) = split_decided(page.items);
            let message = pb::LookupResourcesResponse {
                object_ids,
                after_cursor: state.next_page_token(at, hash, page.next_cursor.clone()),
                looked_up_at: Some(convert::snaptoken(token.clone())),
                conditional: conditional.into_iter().map(conditional_id).collect(),
            };
            if tx.send(Ok(message)).await.is_err() || done {
                break;
            }
            after = page.next_cursor;
        }
    });
    Ok(ReceiverStream::new(rx))
}

fn conditional_id(c: crate::api::native::ConditionalId) -> pb::ConditionalId {
    pb::ConditionalId {
        id: c.id,
        missing: c.missing,
    }
}

/// What binds a cursor to one lookup of subjects (and its context).
fn subjects_query_hash(
    object: &Object,
    relation: &str,
    subject_namespace: &str,
    context: &RequestContext,
) -> [u8; 8] {
    query_hash(&format!(
        "lookup-subjects\n{object}\n{relation}\n{subject_namespace}{}",
        request_fingerprint(context)
    ))
}

pub(super) async fn subjects(
    state: &Arc<AppState>,
    request: pb::LookupSubjectsRequest,
) -> Result<
    tokio_stream::Iter<std::vec::IntoIter<Result<pb::LookupSubjectsResponse, Status>>>,
    Status,
> {
    let consistency = convert::consistency(state, "consistency", request.consistency.as_ref())?;
    let object = convert::object("object", request.object.as_ref())?;
    required("relation", &request.relation)?;
    required("subject_namespace", &request.subject_namespace)?;
    let messages = on_blocking_pool(state, move |s| {
        let pb::LookupSubjectsRequest {
            relation,
            subject_namespace,
            cursor,
            limit: wanted,
            context,
            contextual_tuples,
            ..
        } = request;
        let ns = namespace_id(&s.schema, &object.namespace, Access::Read)
            .map_err(|e| at_field("object.namespace", e))?;
        relation_id(&s.schema, ns, &relation, Access::Read).map_err(|e| at_field("relation", e))?;
        namespace_id(&s.schema, &subject_namespace, Access::Read)
            .map_err(|e| at_field("subject_namespace", e))?;
        let context = request_context(&s.schema, &context, &contextual_tuples)?;
        let hash = subjects_query_hash(&object, &relation, &subject_namespace, &context);
        let (at, after) = page_start(s, Some(&cursor), hash, &consistency)
            .map_err(|e| at_field(start_field(&cursor), e))?;
        let found = run_lookup_subjects(
            s,
            &object,
            &relation,
            &subject_namespace,
            at,
            s.settings.max_depth,
            &context,
        )?;
        let token = s.snaptoken(at);
        let mut ids = found.subject_ids;
        if let Some(after) = &after {
            let start = ids.partition_point(|id| id <= after);
            ids.drain(..start);
        }
        let more = match limit(wanted) {
            Some(n) if n < ids.len() => {
                ids.truncate(n);
                true
            }
            _ => false,
        };
        let chunks: Vec<Vec<String>> = ids.chunks(SUBJECT_CHUNK).map(<[String]>::to_vec).collect();
        let last = chunks.len().saturating_sub(1);
        let mut messages: Vec<_> = chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let cursor = (more || i < last).then(|| chunk.last().cloned()).flatten();
                Ok(pb::LookupSubjectsResponse {
                    after_cursor: s.next_page_token(at, hash, cursor),
                    subject_ids: chunk,
                    wildcard: false,
                    excluded: Vec::new(),
                    looked_up_at: Some(convert::snaptoken(token.clone())),
                    conditional: Vec::new(),
                    wildcard_missing: Vec::new(),
                })
            })
            .collect();
        if messages.is_empty() {
            messages.push(Ok(pb::LookupSubjectsResponse {
                looked_up_at: Some(convert::snaptoken(token)),
                ..Default::default()
            }));
        }
        if let Some(Ok(first)) = messages.first_mut() {
            first.wildcard = found.wildcard;
            first.excluded = found.excluded;
            first.conditional = found
                .conditional
                .into_iter()
                .map(|c| conditional_id(c.into()))
                .collect();
            first.wildcard_missing = found.wildcard_missing.unwrap_or_default();
        }
        Ok(messages)
    })
    .await?;
    Ok(tokio_stream::iter(messages))
}
