//! The Watch stream: every committed change after a point, in commit order,
//! as it comes — the core that gRPC's `zanzi.v1.WatchService.Watch`
//! ([`super::grpc`]) and REST's `GET /zanzi/v1/watch` (here) both serve.
//!
//! [`open`] checks the request (the `since` token, the filters against the
//! schema) and starts a feed thread: a [`Follower`] of the store's change
//! feed on a thread of its own, never on the async runtime. The thread
//! sends [`WatchBatch`]es — whole revisions, in commit order, with the
//! point they are complete through — into a bounded channel that the
//! response stream ([`WatchStream`]) drains. Invariants:
//!
//! - a batch never splits a revision, and every revision up to a batch's
//!   `through` has been sent (filtered out, or in this batch or an earlier
//!   one): `through` is a point to resume from;
//! - when nothing is sent for [`HEARTBEAT`], an empty batch carries the
//!   follower's progress, so an idle client can persist where it is;
//! - the thread never waits for the consumer: when the channel is full,
//!   the stream is cut off ([`WatchEnd::TooSlow`]) with the last `through`
//!   it queued, which the consumer receives before the error — writers and
//!   other streams never wait on a slow reader;
//! - a dropped stream (the client went away) or a server shutting down
//!   ends the thread within [`WAIT`].

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::Stream;

use super::errors::ApiError;
use super::{blocking, AppState};
use crate::api::keto::subjects::{namespace_id, relation_id};
use crate::api::keto::Access;
use crate::api::native::{BatchJson, ChangeJson};
use crate::ir::Schema;
use crate::store::revision::ensure_readable;
use crate::store::{Change, Follower, Revision, StoreError, TupleFilter};
use crate::tuple::Subject;

/// How long the feed thread waits for a change before it looks whether
/// its stream is still wanted: the bound on how long a cancelled stream or
/// a shutdown keeps it.
pub const WAIT: Duration = Duration::from_millis(250);

/// The longest an open stream stays silent: then an empty batch (a
/// heartbeat) carries the follower's progress.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// Batches queued between the feed thread and a stream. When the buffer
/// is full the feed thread waits for the consumer (writers never do: the
/// thread only reads the feed), up to the `watch_max_stall_secs` setting;
/// a consumer that takes nothing for that long is cut off.
pub const BUFFER: usize = 64;

/// How often the feed thread looks whether a full buffer has room.
const ROOM_POLL: Duration = Duration::from_millis(5);

/// About how many changes one batch carries at most (a revision is never
/// split, so one revision may make a larger batch).
pub const BATCH_CHANGES: usize = 1000;

/// About how many bytes of tuples and tokens one batch carries at most
/// (again, a revision is never split): with [`BUFFER`], what one stream may
/// hold in memory, a few MiB.
pub const BATCH_BYTES: usize = 64 * 1024;

/// About the size of a change in a message: its tuple's names and IDs, and
/// its revision's token.
fn approx_bytes(change: &Change) -> usize {
    let tuple = &change.tuple;
    let subject = match &tuple.subject {
        Subject::Object(o) => o.namespace.len() + o.id.len(),
        Subject::Set { object, relation } => {
            object.namespace.len() + object.id.len() + relation.len()
        }
        Subject::Wildcard { namespace } => namespace.len() + 1,
    };
    tuple.object.namespace.len() + tuple.object.id.len() + tuple.relation.len() + subject + 80
}

/// One message of the stream: whole revisions, in commit order, and the
/// point every change has been sent through. No changes: a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchBatch {
    pub changes: Vec<Change>,
    pub through: Revision,
}

/// Why a stream ended on the server's side.
#[derive(Debug)]
pub enum WatchEnd {
    /// The consumer did not keep up: resume from `through`.
    TooSlow { through: Revision },
    /// The server is shutting down: resume from `through`, elsewhere or
    /// later.
    ShuttingDown { through: Revision },
    /// Reading the feed failed (the follower fell below the retention
    /// window, the database went away).
    Failed {
        error: StoreError,
        through: Revision,
    },
}

impl WatchEnd {
    /// The error the stream ends with, carrying the token to resume from
    /// (as the detail `changes_through`, and in the message).
    pub fn into_error(self, state: &AppState) -> ApiError {
        let resume = |through: Revision| state.snaptoken(through);
        match self {
            WatchEnd::TooSlow { through } => {
                let token = resume(through);
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "watch_too_slow",
                    format!(
                        "the stream was cut off: its consumer read nothing for {:?} while \
                         {BUFFER} messages waited (`watch_max_stall_secs`); watch again with \
                         `since` {token} to resume after the last change received",
                        state.settings.watch_max_stall
                    ),
                )
                .with_detail("changes_through", token)
            }
            WatchEnd::ShuttingDown { through } => {
                let token = resume(through);
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting_down",
                    format!(
                        "the server is shutting down; watch again with `since` {token} to resume \
                         after the last change received"
                    ),
                )
                .with_detail("changes_through", token)
            }
            WatchEnd::Failed { error, through } => {
                let token = resume(through);
                match error {
                    StoreError::RevisionCollected { .. } => {
                        expired("the stream's position", &error)
                    }
                    error => {
                        let mut api = ApiError::from(error);
                        api.message = format!(
                            "{}; watch again with `since` {token} to resume after the last \
                             change received",
                            api.message
                        );
                        api
                    }
                }
                .with_detail("changes_through", token)
            }
        }
    }
}

/// The answer to a `since` (or a follower) below the garbage-collection
/// horizon: OUT_OF_RANGE on gRPC, 410 Gone on REST.
fn expired(what: &str, error: &StoreError) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "snapshot_expired",
        format!(
            "{what} is older than the retention window ({error}): the changes since then are \
             gone. Re-read the state you need (e.g. list the tuples with \
             `consistency=fully_consistent`), then watch from that answer's snaptoken, or with \
             an empty `since` to watch from now on"
        ),
    )
    .with_detail("field", "since")
}

/// A filter of the request, with the name of its field in errors
/// (`filters[0]` on gRPC, empty on REST, whose filter fields are top-level
/// query parameters).
#[derive(Clone, Debug)]
pub struct NamedFilter {
    pub field: String,
    pub filter: TupleFilter,
}

impl NamedFilter {
    fn field(&self, name: &str) -> String {
        if self.field.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.field)
        }
    }

    /// Checks the filter's names against the schema; an unknown one is a
    /// bad argument naming its field.
    fn check(&self, schema: &Schema) -> Result<(), ApiError> {
        let invalid = |field: String, e: ApiError| {
            ApiError::bad_request("invalid_argument", format!("`{field}`: {}", e.message))
                .with_detail("field", field)
        };
        let filter = &self.filter;
        let namespace = match &filter.namespace {
            Some(name) => Some(
                namespace_id(schema, name, Access::Read)
                    .map_err(|e| invalid(self.field("namespace"), e))?,
            ),
            None => None,
        };
        if let Some(relation) = &filter.relation {
            match namespace {
                Some(ns) => {
                    relation_id(schema, ns, relation, Access::Read)
                        .map_err(|e| invalid(self.field("relation"), e))?;
                }
                None => {
                    let known = schema.namespaces.iter().any(|ns| {
                        ns.relations
                            .iter()
                            .filter_map(|r| schema.relation(*r))
                            .any(|r| r.name == *relation)
                    });
                    if !known {
                        let field = self.field("relation");
                        return Err(ApiError::bad_request(
                            "invalid_argument",
                            format!("`{field}`: no namespace has a relation `{relation}`"),
                        )
                        .with_detail("field", field));
                    }
                }
            }
        }
        if let Some(subject) = &filter.subject {
            let namespace = match subject {
                Subject::Object(o) | Subject::Set { object: o, .. } => &o.namespace,
                Subject::Wildcard { namespace } => namespace,
            };
            namespace_id(schema, namespace, Access::Read)
                .map_err(|e| invalid(self.field("subject"), e))?;
        }
        Ok(())
    }
}

/// Whether `change` is one a stream with `filters` sends (none: all).
fn wanted(filters: &[TupleFilter], change: &Change) -> bool {
    filters.is_empty() || filters.iter().any(|f| f.matches(&change.tuple))
}

/// A started watch: the stream of its batches, ending with the error that
/// ended it, if any.
pub struct WatchStream {
    rx: mpsc::Receiver<WatchBatch>,
    end: Arc<Mutex<Option<WatchEnd>>>,
    state: Arc<AppState>,
    finished: bool,
    _open: OpenStream,
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream").finish_non_exhaustive()
    }
}

impl WatchStream {
    /// The server's state (for the tokens of the batches).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }
}

impl Stream for WatchStream {
    type Item = Result<WatchBatch, ApiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(batch)) => Poll::Ready(Some(Ok(batch))),
            Poll::Ready(None) => {
                self.finished = true;
                let end = match self.end.lock() {
                    Ok(mut end) => end.take(),
                    Err(poisoned) => poisoned.into_inner().take(),
                };
                Poll::Ready(end.map(|end| Err(end.into_error(&self.state))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Counts an open stream in `zanzi_watch_streams` while it lives.
struct OpenStream;

impl OpenStream {
    fn new() -> OpenStream {
        ::metrics::gauge!("zanzi_watch_streams").increment(1.0);
        OpenStream
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        ::metrics::gauge!("zanzi_watch_streams").decrement(1.0);
    }
}

/// Starts a watch after `since` (a snapshot token; `None` or empty: from
/// the head now) of the changes matching any of `filters`. Fails before
/// anything is streamed when the token is bad (naming `since`), older than
/// the retention window (`snapshot_expired`), or a filter names what the
/// schema lacks.
pub async fn open(
    state: &Arc<AppState>,
    since: Option<&str>,
    filters: Vec<NamedFilter>,
) -> Result<WatchStream, ApiError> {
    let since = match since.filter(|s| !s.is_empty()) {
        Some(token) => Some(state.tokens.parse_snapshot(token).map_err(|e| {
            ApiError::bad_request("invalid_snaptoken", format!("`since`: {}", e.message))
                .with_detail("field", "since")
        })?),
        None => None,
    };
    let after = blocking(state, move |s| {
        if let Some(token) = &since {
            s.check_history(token)
                .map_err(|e| e.with_detail("field", "since"))?;
        }
        let since = since.map(|token| token.revision);
        for filter in &filters {
            filter.check(&s.schema)?;
        }
        let head = s.store.head_revision()?;
        let after = match since {
            None => head,
            Some(after) => {
                let horizon = s.store.gc_horizon()?;
                match ensure_readable(after, head, horizon) {
                    Ok(()) => after,
                    Err(error @ StoreError::RevisionCollected { .. }) => {
                        return Err(expired("the `since` token", &error))
                    }
                    Err(error) => {
                        return Err(ApiError::bad_request(
                            "invalid_snaptoken",
                            format!("`since`: {error}"),
                        )
                        .with_detail("field", "since"))
                    }
                }
            }
        };
        Ok((after, filters))
    })
    .await;
    let (after, filters) = after?;
    let (tx, rx) = mpsc::channel(BUFFER);
    let end = Arc::new(Mutex::new(None));
    let feed = Feed {
        state: Arc::clone(state),
        filters: filters.into_iter().map(|f| f.filter).collect(),
        tx,
        end: Arc::clone(&end),
    };
    std::thread::Builder::new()
        .name("zanzi-watch".to_owned())
        .spawn(move || feed.run(after))
        .map_err(|e| ApiError::internal(format!("cannot start the watch's feed thread: {e}")))?;
    Ok(WatchStream {
        rx,
        end,
        state: Arc::clone(state),
        finished: false,
        _open: OpenStream::new(),
    })
}

/// The feed thread of one stream.
struct Feed {
    state: Arc<AppState>,
    filters: Vec<TupleFilter>,
    tx: mpsc::Sender<WatchBatch>,
    end: Arc<Mutex<Option<WatchEnd>>>,
}

/// What sending a batch came to.
enum Sent {
    Queued,
    /// The stream is gone (the client went away): stop quietly.
    Closed,
    Full,
}

impl Feed {
    fn run(self, after: Revision) {
        let store = Arc::clone(&self.state.store);
        let mut follower = Follower::new(store.as_ref(), after);
        // The point every queued batch is complete through.
        let mut queued = after;
        let mut last_sent = Instant::now();
        let end = loop {
            if self.tx.is_closed() {
                return;
            }
            if self.state.shutting_down.load(Ordering::Acquire) {
                break WatchEnd::ShuttingDown { through: queued };
            }
            let batch = match follower.next(WAIT) {
                Ok(batch) => batch,
                Err(error) => {
                    break WatchEnd::Failed {
                        error,
                        through: queued,
                    }
                }
            };
            let mut outcome = Sent::Queued;
            for message in split(batch.changes, &self.filters, batch.through) {
                let through = message.through;
                outcome = self.send(message);
                if !matches!(outcome, Sent::Queued) {
                    break;
                }
                queued = through;
                last_sent = Instant::now();
            }
            match outcome {
                Sent::Queued => {}
                Sent::Closed => return,
                Sent::Full => break WatchEnd::TooSlow { through: queued },
            }
            if last_sent.elapsed() >= HEARTBEAT {
                let heartbeat = WatchBatch {
                    changes: Vec::new(),
                    through: follower.seen(),
                };
                match self.send(heartbeat) {
                    Sent::Queued => {
                        queued = follower.seen();
                        last_sent = Instant::now();
                    }
                    Sent::Closed => return,
                    Sent::Full => break WatchEnd::TooSlow { through: queued },
                }
            }
        };
        match self.end.lock() {
            Ok(mut slot) => *slot = Some(end),
            Err(poisoned) => *poisoned.into_inner() = Some(end),
        }
        // Dropping the sender ends the stream after what was queued, with
        // the error just stored.
    }

    /// Queues `batch`, waiting while the buffer is full for as long as the
    /// consumer may stall: a consumer catching up from an old token reads
    /// as fast as it can and is never cut off; one that stops reading is.
    fn send(&self, mut batch: WatchBatch) -> Sent {
        // The tokens of the batch are signed on the event loop, from memory.
        for change in &batch.changes {
            self.state.remember_history(change.revision);
        }
        self.state.remember_history(batch.through);
        let stalled_since = Instant::now();
        loop {
            match self.tx.try_send(batch) {
                Ok(()) => return Sent::Queued,
                Err(mpsc::error::TrySendError::Closed(_)) => return Sent::Closed,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if stalled_since.elapsed() >= self.state.settings.watch_max_stall
                        || self.state.shutting_down.load(Ordering::Acquire)
                    {
                        return Sent::Full;
                    }
                    batch = back;
                    std::thread::sleep(ROOM_POLL);
                }
            }
        }
    }
}

/// The wanted changes of a feed batch as stream batches of about
/// [`BATCH_CHANGES`] or [`BATCH_BYTES`], cut between revisions; the last one is complete
/// through `through`. Nothing wanted: nothing to send (the next heartbeat
/// carries the progress).
fn split(changes: Vec<Change>, filters: &[TupleFilter], through: Revision) -> Vec<WatchBatch> {
    let mut out = Vec::new();
    let mut current: Vec<Change> = Vec::new();
    let mut bytes = 0;
    for change in changes.into_iter().filter(|c| wanted(filters, c)) {
        let new_revision = current
            .last()
            .is_some_and(|c| c.revision != change.revision);
        if new_revision && (current.len() >= BATCH_CHANGES || bytes >= BATCH_BYTES) {
            bytes = 0;
            let done = std::mem::take(&mut current);
            let through = done.last().map_or(through, |c| c.revision);
            out.push(WatchBatch {
                changes: done,
                through,
            });
        }
        bytes += approx_bytes(&change);
        current.push(change);
    }
    if !current.is_empty() {
        out.push(WatchBatch {
            changes: current,
            through,
        });
    }
    out
}

// ---------------------------------------------------------------------------
// REST: `GET /zanzi/v1/watch`, newline-delimited JSON.

/// The query of `GET /zanzi/v1/watch`: where to start and one filter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchParams {
    pub since: Option<String>,
    pub namespace: Option<String>,
    pub object_id: Option<String>,
    pub relation: Option<String>,
    /// The exact subject, in tuple notation (`user:alice`, `group:eng#member`).
    pub subject: Option<String>,
}

/// `batch` as a JSON line's content.
pub fn batch_json(state: &AppState, batch: &WatchBatch) -> BatchJson {
    let mut tokens = RevisionTokens::new(state);
    BatchJson {
        changes: batch
            .changes
            .iter()
            .map(|c| ChangeJson {
                operation: c.kind,
                tuple: c.tuple.to_string(),
                revision: tokens.get(c.revision),
            })
            .collect(),
        changes_through: state.snaptoken(batch.through),
    }
}

/// The snapshot tokens of a batch's revisions, each signed once.
pub struct RevisionTokens<'a> {
    state: &'a AppState,
    tokens: HashMap<Revision, String>,
}

impl<'a> RevisionTokens<'a> {
    pub fn new(state: &'a AppState) -> RevisionTokens<'a> {
        RevisionTokens {
            state,
            tokens: HashMap::new(),
        }
    }

    pub fn get(&mut self, revision: Revision) -> String {
        self.tokens
            .entry(revision)
            .or_insert_with(|| self.state.snaptoken(revision))
            .clone()
    }
}

/// `GET /zanzi/v1/watch`: `application/x-ndjson`, one [`BatchJson`] per
/// line; an error after the stream started is a last line in the usual
/// error shape (`{"error":{…}}`).
pub async fn watch(
    State(state): State<Arc<AppState>>,
    params: Result<Query<WatchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let subject = params
        .subject
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|text| {
            text.parse::<Subject>().map_err(|e| {
                ApiError::bad_request("invalid_subject", format!("`subject`: `{text}`: {e}"))
                    .with_detail("field", "subject")
            })
        })
        .transpose()?;
    let text = |s: Option<String>| s.filter(|s| !s.is_empty());
    let filter = TupleFilter {
        namespace: text(params.namespace),
        object_id: text(params.object_id),
        relation: text(params.relation),
        subject,
        subject_object_in: None,
    };
    let filters = if filter == TupleFilter::default() {
        Vec::new()
    } else {
        vec![NamedFilter {
            field: String::new(),
            filter,
        }]
    };
    let stream = open(&state, params.since.as_deref(), filters).await?;
    let lines = tokio_stream::StreamExt::map(stream, move |item| {
        let mut line = match item {
            Ok(batch) => serde_json::to_vec(&batch_json(&state, &batch)).unwrap_or_default(),
            Err(error) => error.body(""),
        };
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(line)
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ChangeKind;
    use crate::tuple::Tuple;

    fn change(revision: u64, text: &str) -> Change {
        Change {
            revision: Revision(revision),
            kind: ChangeKind::Insert,
            tuple: text
                .parse::<Tuple>()
                .unwrap_or_else(|e| unreachable!("{e}")),
        }
    }

    #[test]
    fn batches_are_cut_between_revisions_and_filtered() {
        let mut changes = Vec::new();
        for i in 0..BATCH_CHANGES + 5 {
            changes.push(change(1, &format!("doc:a{i}#viewer@user:x")));
        }
        changes.push(change(2, "doc:b#viewer@user:x"));
        changes.push(change(2, "folder:b#viewer@user:x"));
        let batches = split(changes.clone(), &[], Revision(3));
        let shape: Vec<_> = batches
            .iter()
            .map(|b| (b.changes.len(), b.through))
            .collect();
        // Revision 1 alone is over the size, and is not split.
        assert_eq!(shape, [(BATCH_CHANGES + 5, Revision(1)), (2, Revision(3))]);
        let only_folders = [TupleFilter {
            namespace: Some("folder".into()),
            ..TupleFilter::default()
        }];
        let batches = split(changes, &only_folders, Revision(3));
        assert_eq!(batches.len(), 1);
        assert_eq!(batches.first().map(|b| b.through), Some(Revision(3)));
        assert_eq!(batches.first().map(|b| b.changes.len()), Some(1));

        // Large tuples: batches are cut by size, each revision whole, and
        // every change is in exactly one batch, in order.
        let long = "x".repeat(1000);
        let changes: Vec<Change> = (1..=200)
            .map(|r| change(r, &format!("doc:{long}{r}#viewer@user:{long}")))
            .collect();
        let batches = split(changes.clone(), &[], Revision(200));
        assert!(batches.len() > 2, "{} batches", batches.len());
        for batch in &batches {
            let bytes: usize = batch.changes.iter().map(approx_bytes).sum();
            assert!(bytes < BATCH_BYTES + 2100, "{bytes} bytes");
            assert_eq!(
                batch.changes.last().map(|c| c.revision),
                Some(batch.through)
            );
        }
        let flat: Vec<Change> = batches.into_iter().flat_map(|b| b.changes).collect();
        assert_eq!(flat, changes);
    }
}
