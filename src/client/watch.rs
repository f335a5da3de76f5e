//! Following a server's change stream: `GET /zanzi/v1/watch`, read line by
//! line as the server writes it (newline-delimited JSON, one
//! [`BatchJson`] per line, an `{"error":…}` line when the server ends the
//! stream), until the caller stops, the stream ends or Ctrl-C.

use std::ops::ControlFlow;
use std::time::Duration;

use super::{trim, Client, ClientError};
use crate::api::native::BatchJson;
use crate::store::TupleFilter;

/// How a watch ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchStop {
    /// The caller had enough.
    Done,
    /// Ctrl-C.
    Interrupted,
}

/// Follows `read_url`'s change stream after `since` (empty: from now on),
/// filtered by `filter`, calling `on_batch` with each line (heartbeats
/// included) until it breaks. An error line the server ends the stream
/// with is a [`ClientError::Api`] carrying the token to resume from in its
/// message.
pub fn watch(
    read_url: &str,
    token: Option<&str>,
    ca_cert: Option<&std::path::Path>,
    since: Option<&str>,
    filter: &TupleFilter,
    mut on_batch: impl FnMut(BatchJson) -> ControlFlow<()>,
) -> Result<WatchStop, ClientError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Protocol(e.to_string()))?;
    // No overall timeout: the stream lasts as long as the watch.
    let http = super::http_client(
        reqwest::Client::builder().connect_timeout(Duration::from_secs(10)),
        &[read_url],
        token,
        ca_cert,
    )?;
    let url = format!("{}/zanzi/v1/watch", trim(read_url));
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(since) = since {
        query.push(("since", since.to_owned()));
    }
    if let Some(namespace) = &filter.namespace {
        query.push(("namespace", namespace.clone()));
    }
    if let Some(id) = &filter.object_id {
        query.push(("object_id", id.clone()));
    }
    if let Some(relation) = &filter.relation {
        query.push(("relation", relation.clone()));
    }
    if let Some(subject) = &filter.subject {
        query.push(("subject", subject.to_string()));
    }
    runtime.block_on(async {
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        let request = http.get(&url).query(&query).send();
        let mut response = tokio::select! {
            response = request => response.map_err(|e| ClientError::Unreachable {
                url: url.clone(),
                reason: e.to_string(),
            })?,
            _ = &mut interrupted => return Ok(WatchStop::Interrupted),
        };
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.bytes().await.unwrap_or_default();
            return Err(Client::api_error(status, &body));
        }
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let chunk = tokio::select! {
                chunk = response.chunk() => chunk.map_err(|e| ClientError::Unreachable {
                    url: url.clone(),
                    reason: e.to_string(),
                })?,
                _ = &mut interrupted => return Ok(WatchStop::Interrupted),
            };
            let Some(chunk) = chunk else {
                return Err(ClientError::Protocol(
                    "the server ended the stream without a reason".to_owned(),
                ));
            };
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if let ControlFlow::Break(()) = on_line(&line, &mut on_batch)? {
                    return Ok(WatchStop::Done);
                }
            }
        }
    })
}

/// One line of the stream: a batch for `on_batch`, or the error that ends
/// the stream.
fn on_line(
    line: &[u8],
    on_batch: &mut impl FnMut(BatchJson) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, ClientError> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return Ok(ControlFlow::Continue(()));
    }
    if text.starts_with(b"{\"error\"") {
        let status = serde_json::from_slice::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.pointer("/error/code").and_then(serde_json::Value::as_u64))
            .and_then(|code| u16::try_from(code).ok())
            .unwrap_or(500);
        return Err(Client::api_error(status, text));
    }
    let batch: BatchJson = serde_json::from_slice(text)
        .map_err(|e| ClientError::Protocol(format!("a line of the change stream: {e}")))?;
    Ok(on_batch(batch))
}
