//! The syntax port: `ory.keto.opl.v1alpha1.SyntaxService.Check`, as
//! `POST /opl/syntax/check` answers.

use tonic::{Request, Response, Status};

use crate::api::proto::keto::opl::v1alpha1 as pb;
use crate::server::grpc::status::invalid_field;
use crate::server::native::syntax_errors;

/// The syntax check; it needs no state.
pub(super) struct Syntax;

fn position(p: &crate::api::native::SourcePosition) -> pb::SourcePosition {
    pb::SourcePosition {
        line: u32::try_from(p.line).unwrap_or(u32::MAX),
        column: u32::try_from(p.column).unwrap_or(u32::MAX),
    }
}

#[tonic::async_trait]
impl pb::syntax_service_server::SyntaxService for Syntax {
    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let content = request.into_inner().content;
        let text = String::from_utf8(content).map_err(|e| {
            invalid_field(
                "content",
                format!(
                    "`content` must be UTF-8 text: invalid byte at offset {}",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        // Compiling is CPU work bounded by the message size limit; small
        // enough to stay on the runtime, as the REST handler does.
        let parse_errors = syntax_errors(&text)
            .iter()
            .map(|e| pb::ParseError {
                message: e.message.clone(),
                start: Some(position(&e.start)),
                end: Some(position(&e.end)),
            })
            .collect();
        Ok(Response::new(pb::CheckResponse { parse_errors }))
    }
}
