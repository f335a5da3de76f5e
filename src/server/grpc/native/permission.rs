//! `zanzi.v1.PermissionService`'s unary methods: `BulkCheck` (REST's batch
//! check with typed subjects) and `CheckWithExplanation` (REST's
//! `POST /zanzi/v1/check/explain`). The streamed lookups are in
//! [`super::lookup`].

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{depth, question, request_context};
use crate::api::proto::zanzi::v1 as pb;
use crate::engine::{self, Explanation};
use crate::server::grpc::convert;
use crate::server::grpc::status::{code_for, evaluating, invalid_field, on_blocking_pool};
use crate::server::keto::handlers::{keto_answer, run_check};
use crate::server::native::run_explain;
use crate::server::AppState;

/// The services' shared state.
#[derive(Debug)]
pub(super) struct Permissions {
    pub(super) state: Arc<AppState>,
}

type Streamed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::permission_service_server::PermissionService for Permissions {
    async fn bulk_check(
        &self,
        request: Request<pb::BulkCheckRequest>,
    ) -> Result<Response<pb::BulkCheckResponse>, Status> {
        let request = request.into_inner();
        let state = &self.state;
        let max = state.settings.max_batch;
        if request.items.len() > max {
            return Err(invalid_field(
                "items",
                format!(
                    "`items`: {} checks exceed the maximum of {max} per request",
                    request.items.len()
                ),
            )
            .into());
        }
        let depth = depth(state, request.max_depth)?;
        let consistency = convert::consistency(state, "consistency", request.consistency.as_ref())?;
        let (results, token) = evaluating(state, move |s| {
            let context = request_context(&s.schema, &request.context, &request.contextual_tuples)?;
            let at = consistency.resolve(s)?;
            let results = request
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let answer = question(&s.schema, &format!("items[{i}]"), item)
                        .and_then(|q| run_check(s, &q, depth, at, &context));
                    match answer {
                        Ok(decision) => {
                            let (allowed, conditional) = keto_answer(decision);
                            pb::BulkCheckResult {
                                allowed,
                                error: String::new(),
                                code: 0,
                                conditional: conditional.is_some(),
                                missing: conditional.map(|c| c.missing).unwrap_or_default(),
                            }
                        }
                        Err(e) => pb::BulkCheckResult {
                            allowed: false,
                            code: code_for(e.status, &e.reason) as i32,
                            error: e.message,
                            conditional: false,
                            missing: Vec::new(),
                        },
                    }
                })
                .collect();
            Ok((results, s.snaptoken(at)))
        })
        .await?;
        Ok(Response::new(pb::BulkCheckResponse {
            results,
            checked_at: Some(convert::snaptoken(token)),
        }))
    }

    async fn check_with_explanation(
        &self,
        request: Request<pb::CheckWithExplanationRequest>,
    ) -> Result<Response<pb::CheckWithExplanationResponse>, Status> {
        let request = request.into_inner();
        let state = &self.state;
        let depth = depth(state, request.max_depth)?;
        let consistency = convert::consistency(state, "consistency", request.consistency.as_ref())?;
        let check = request
            .check
            .ok_or_else(|| Status::from(invalid_field("check", "`check` is required")))?;
        let response = on_blocking_pool(state, move |s| {
            let context = request_context(&s.schema, &request.context, &request.contextual_tuples)?;
            let q = question(&s.schema, "check", &check)?;
            let tuple = crate::tuple::Tuple::new(q.object, q.relation, q.subject);
            let (explanation, at) = run_explain(s, &tuple, depth, &consistency, &context)?;
            // As deep as the data: built on a growing stack.
            Ok(engine::grow_stack(|| {
                explanation_message(explanation, s.snaptoken(at))
            }))
        })
        .await?;
        Ok(Response::new(response))
    }

    type LookupResourcesStream = Streamed<pb::LookupResourcesResponse>;

    async fn lookup_resources(
        &self,
        request: Request<pb::LookupResourcesRequest>,
    ) -> Result<Response<Self::LookupResourcesStream>, Status> {
        let stream = super::lookup::resources(&self.state, request.into_inner()).await?;
        Ok(Response::new(Box::pin(stream)))
    }

    type LookupSubjectsStream = Streamed<pb::LookupSubjectsResponse>;

    async fn lookup_subjects(
        &self,
        request: Request<pb::LookupSubjectsRequest>,
    ) -> Result<Response<Self::LookupSubjectsStream>, Status> {
        let stream = super::lookup::subjects(&self.state, request.into_inner()).await?;
        Ok(Response::new(Box::pin(stream)))
    }
}

fn outcome(outcome: engine::Outcome) -> pb::Outcome {
    match outcome {
        engine::Outcome::Granted => pb::Outcome::Granted,
        engine::Outcome::Denied => pb::Outcome::Denied,
        engine::Outcome::Conditional => pb::Outcome::Conditional,
        engine::Outcome::Unknown => pb::Outcome::Unknown,
    }
}

fn explanation_message(
    explanation: Explanation,
    token: String,
) -> pb::CheckWithExplanationResponse {
    pb::CheckWithExplanationResponse {
        allowed: explanation.outcome == engine::Outcome::Granted,
        outcome: outcome(explanation.outcome) as i32,
        question: explanation.question,
        error: explanation.error.unwrap_or_default(),
        tree: explanation.tree.as_ref().map(node),
        checked_at: Some(convert::snaptoken(token)),
        missing: explanation.missing,
    }
}

/// A node of the engine's tree: `step` is the serde tag of its
/// [`engine::Step`], `details` the step's other fields as text.
fn node(node: &engine::ExplainNode) -> pb::ExplainNode {
    let (step, details) = step_parts(&node.step);
    pb::ExplainNode {
        outcome: outcome(node.outcome) as i32,
        step,
        details,
        children: node.children.iter().map(self::node).collect(),
    }
}

fn step_parts(step: &engine::Step) -> (String, HashMap<String, String>) {
    let mut name = String::new();
    let mut details = HashMap::new();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(step) {
        for (key, value) in fields {
            let text = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            if key == "step" {
                name = text;
            } else {
                details.insert(key, text);
            }
        }
    }
    (name, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_named_by_their_tag_with_their_fields_as_text() {
        let (name, details) = step_parts(&engine::Step::Arrow {
            tupleset: "parent".into(),
            target: "view".into(),
            mode: crate::ir::ArrowMode::Any,
        });
        assert_eq!(name, "arrow");
        assert_eq!(details.get("tupleset").map(String::as_str), Some("parent"));
        assert_eq!(details.get("target").map(String::as_str), Some("view"));
        assert!(details.contains_key("mode"));
        let (name, details) = step_parts(&engine::Step::Union);
        assert_eq!((name.as_str(), details.len()), ("union", 0));
    }
}
