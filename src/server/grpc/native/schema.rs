//! `SchemaService.ReadSchema` (read port: REST's `GET /zanzi/v1/schema`)
//! and `SchemaWriteService.WriteSchema` (write port: what `zanzi schema
//! push` does, through the server).
//!
//! A write compiles the source (or reads a compiled IR given as JSON),
//! refuses it when stored tuples would not fit it (unless the server runs
//! with `allow_invalid_tuples`) or when `expected_hash` is set and the
//! stored schema is another, then stores it and answers with it at once.
//! Other servers on a shared database pick it up through their follow
//! loop. Writes through this server are serialized, so the
//! compare-and-set holds between them; a `zanzi schema push` or another
//! server writing at the same moment is not excluded (the store has no
//! conditional save).

use std::sync::{Arc, Mutex};

use http::StatusCode;
use tonic::{Request, Response, Status};

use super::at_field;
use crate::api::proto::zanzi::v1 as pb;
use crate::api::ApiError;
use crate::ir::Schema;
use crate::server::grpc::status::{invalid_field, on_blocking_pool};
use crate::server::{check_stored_tuples, AppState, ServeError};

#[derive(Debug)]
pub(super) struct SchemaReader {
    pub(super) state: Arc<AppState>,
}

#[tonic::async_trait]
impl pb::schema_service_server::SchemaService for SchemaReader {
    async fn read_schema(
        &self,
        _: Request<pb::ReadSchemaRequest>,
    ) -> Result<Response<pb::ReadSchemaResponse>, Status> {
        let schema = self.state.schema();
        Ok(Response::new(pb::ReadSchemaResponse {
            hash: schema.hash.clone(),
            ir_json: schema.to_json(),
        }))
    }
}

#[derive(Debug)]
pub(super) struct SchemaWriter {
    state: Arc<AppState>,
    /// Held from reading the stored hash to storing the new schema.
    writing: Arc<Mutex<()>>,
}

impl SchemaWriter {
    pub(super) fn new(state: &Arc<AppState>) -> SchemaWriter {
        SchemaWriter {
            state: Arc::clone(state),
            writing: Arc::new(Mutex::new(())),
        }
    }
}

/// The name compile errors are reported under.
const SOURCE_NAME: &str = "source";

/// `source` compiled: zanzi source, or a compiled IR when it is JSON.
fn compile(source: &str) -> Result<Schema, ApiError> {
    if serde_json::from_str::<serde_json::Value>(source).is_ok() {
        return Schema::from_json(source).map_err(|e| {
            invalid_field(
                SOURCE_NAME,
                format!("`source` is JSON but not a compiled schema: {e}"),
            )
        });
    }
    let (sources, mut compilation) = crate::load::compile_source(SOURCE_NAME, source);
    match compilation.schema {
        Some(schema) if !compilation.has_errors() => Ok(schema),
        _ => {
            compilation.diagnostics.retain(|d| d.is_error());
            let count = compilation.diagnostics.len();
            let rendered = crate::diagnostics::render_plain(&sources, &compilation.diagnostics);
            Err(invalid_field(
                SOURCE_NAME,
                format!(
                    "`source` has {count} error{}; nothing was stored:\n{rendered}",
                    if count == 1 { "" } else { "s" }
                ),
            )
            .with_detail("reason", "schema_errors"))
        }
    }
}

fn precondition(reason: &str, message: String) -> ApiError {
    ApiError::new(StatusCode::PRECONDITION_FAILED, reason, message)
}

#[tonic::async_trait]
impl pb::schema_write_service_server::SchemaWriteService for SchemaWriter {
    async fn write_schema(
        &self,
        request: Request<pb::WriteSchemaRequest>,
    ) -> Result<Response<pb::WriteSchemaResponse>, Status> {
        let request = request.into_inner();
        if request.source.trim().is_empty() {
            return Err(invalid_field(SOURCE_NAME, "`source` must not be empty").into());
        }
        let writing = Arc::clone(&self.writing);
        let (hash, changed) = on_blocking_pool(&self.state, move |s| {
            let schema = compile(&request.source)?;
            let _writing = writing.lock().unwrap_or_else(|p| p.into_inner());
            let stored = s.store.schema_hash()?;
            let current = stored.unwrap_or_else(|| s.schema().hash.clone());
            if !request.expected_hash.is_empty() && request.expected_hash != current {
                return Err(at_field(
                    "expected_hash",
                    precondition(
                        "schema_changed",
                        format!(
                            "the stored schema is `{current}`, not `{}`; nothing was stored",
                            request.expected_hash
                        ),
                    ),
                ));
            }
            if !s.settings.allow_invalid_tuples {
                let head = s.refresh_head()?;
                match check_stored_tuples(&schema, s.store.as_ref(), head) {
                    Ok(()) => {}
                    Err(Ok(ServeError::InvalidTuples { count, listing })) => {
                        return Err(at_field(
                            SOURCE_NAME,
                            precondition(
                                "invalid_stored_tuples",
                                format!(
                                    "{count} stored tuple(s) do not fit this schema; nothing \
                                     was stored:\n{}",
                                    listing.join("\n")
                                ),
                            ),
                        ))
                    }
                    Err(Ok(other)) => return Err(ApiError::internal(other.to_string())),
                    Err(Err(store)) => return Err(store.into()),
                }
            }
            let changed = s.store.save_schema(&schema)?;
            let hash = schema.hash.clone();
            if s.schema().hash != hash {
                tracing::info!(from = %s.schema().hash, to = %hash, "a new schema was written; answering with it from now on");
                s.replace_schema(schema);
            }
            Ok((hash, changed))
        })
        .await?;
        Ok(Response::new(pb::WriteSchemaResponse { hash, changed }))
    }
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn compile_errors_name_the_source_line_and_column() {
        let error = compile("namespace user {}\nnamespace doc {\n  relation viewer: usr\n}\n")
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(error.contains("source:3:"), "{error}");
        assert!(error.starts_with("`source` has 1 error"), "{error}");
        let ir = compile("namespace user {}")
            .map(|s| s.to_json())
            .unwrap_or_default();
        assert_eq!(
            compile(&ir).map(|s| s.hash).ok(),
            compile("namespace user {}").map(|s| s.hash).ok()
        );
    }
}
