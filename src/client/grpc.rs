//! The gRPC transport of [`super::Client`], for `--remote grpc://HOST:PORT`
//! and `--write-remote grpc://HOST:PORT` (`grpcs://` over TLS, with the
//! same trusted roots as `https://`): the same questions as over HTTP,
//! asked through the server's gRPC services, answered in the same types so
//! that the CLI prints the same.
//!
//! - checks: `zanzi.v1.PermissionService.BulkCheck` with one item (typed
//!   subjects, zanzi's consistency choice);
//! - explanations: `CheckWithExplanation`, its tree mapped back to the
//!   engine's [`Explanation`];
//! - the schema: `zanzi.v1.SchemaService.ReadSchema`;
//! - listings: Keto's `ReadService.ListRelationTuples` (its answer has no
//!   snapshot token field: the token comes from the `x-zanzi-snaptoken`
//!   response header when the server sends one);
//! - writes: Keto's `WriteService.TransactRelationTuples` and
//!   `DeleteRelationTuples`;
//! - readiness: `grpc.health.v1.Health`.
//!
//! zanzi's own expand tree has no gRPC method: `expand` answers
//! [`ClientError::NotOverGrpc`].
//!
//! The client API is blocking: every call runs on the client's own
//! current-thread runtime, which also drives the channel.

use std::sync::Arc;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use super::{CheckAnswer, ClientError, ListPage, ReadOptions, ResourcesPage, SubjectsAnswer};
use crate::api::keto::subjects::{tuple_to_keto_typed, typed_subject};
use crate::api::keto::{Relationship, SubjectSet};
use crate::api::proto::keto::relation_tuples::v1alpha2 as keto;
use crate::api::proto::zanzi::v1 as pb;
use crate::engine::{self, Explanation};
use crate::store::TupleFilter;
use crate::tuple::{Subject, Tuple};

/// The scheme of gRPC URLs.
pub const SCHEME: &str = "grpc://";

/// The scheme of gRPC over TLS.
pub const TLS_SCHEME: &str = "grpcs://";

/// Connects to the URI's host and port, then does the TLS handshake
/// (`h2` by ALPN) with `config`, checking the certificate against the host.
fn tls_connector(
    config: Arc<rustls::ClientConfig>,
) -> impl tower::Service<
    http::Uri,
    Response = hyper_util::rt::TokioIo<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
    Error = Box<dyn std::error::Error + Send + Sync>,
    Future = impl Send,
> + Send
       + Clone
       + 'static {
    tower::service_fn(move |uri: http::Uri| {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&config));
        async move {
            let host = uri.host().ok_or("the URL has no host")?;
            let port = uri.port_u16().unwrap_or(443);
            let name = super::tls::server_name(host)?;
            let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
                .await
                .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
            tcp.set_nodelay(true)?;
            let stream = connector.connect(name, tcp).await?;
            Ok(hyper_util::rt::TokioIo::new(stream))
        }
    })
}

/// One server port spoken to over gRPC.
#[derive(Clone, Debug)]
pub struct Remote {
    /// The URL as given, for errors.
    url: String,
    channel: InterceptedService<Channel, Credential>,
}

/// Adds the `authorization` metadata to every call (when there is a token).
#[derive(Clone, Debug)]
pub struct Credential(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Credential {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl Remote {
    /// A lazily connected channel to `grpc://host:port`, or over TLS to
    /// `grpcs://host:port` trusting the system's roots and `ca_cert`'s,
    /// sending `token` with every call (connecting happens on the first
    /// call, on `runtime`).
    pub fn new(
        url: &str,
        runtime: &tokio::runtime::Runtime,
        token: Option<&str>,
        ca_cert: Option<&std::path::Path>,
    ) -> Result<Remote, ClientError> {
        let credential = match token {
            Some(token) => {
                let header = super::bearer(token)?;
                let mut value = tonic::metadata::MetadataValue::try_from(header.as_bytes())
                    .map_err(|_| ClientError::BadToken)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let (address, tls) = match url.strip_prefix(TLS_SCHEME) {
            Some(address) => (address, true),
            None => (url.strip_prefix(SCHEME).unwrap_or(url), false),
        };
        let address = address.trim_end_matches('/');
        let scheme = if tls { "https" } else { "http" };
        let endpoint = Endpoint::from_shared(format!("{scheme}://{address}")).map_err(|e| {
            ClientError::Unreachable {
                url: url.to_owned(),
                reason: e.to_string(),
            }
        })?;
        let endpoint = endpoint.timeout(std::time::Duration::from_secs(30));
        let _entered = runtime.enter();
        let channel = if tls {
            let config = super::tls::client_config(ca_cert, super::tls::Alpn::H2)?;
            endpoint.connect_with_connector_lazy(tls_connector(Arc::new(config)))
        } else {
            endpoint.connect_lazy()
        };
        Ok(Remote {
            url: url.to_owned(),
            channel: InterceptedService::new(channel, Credential(credential)),
        })
    }

    /// A failed call as a client error.
    fn error(&self, status: &tonic::Status) -> ClientError {
        if let Some(reason) = super::tls::certificate_problem(status) {
            return ClientError::Certificate {
                url: self.url.clone(),
                reason,
            };
        }
        match status.code() {
            tonic::Code::Unavailable if status.message().contains("connect") => {
                ClientError::Unreachable {
                    url: self.url.clone(),
                    reason: status.message().to_owned(),
                }
            }
            tonic::Code::Unauthenticated => {
                ClientError::Unauthenticated(status.message().to_owned())
            }
            code => {
                // zanzi's servers say which REST answer the error is.
                use tonic_types::StatusExt as _;
                let info = status.get_error_details().error_info().cloned();
                let http = info
                    .as_ref()
                    .and_then(|i| i.metadata.get("http_status"))
                    .and_then(|s| s.parse::<u16>().ok());
                match (info, http) {
                    (Some(info), Some(http)) => ClientError::Api {
                        status: http,
                        reason: info.reason,
                        message: status.message().to_owned(),
                    },
                    _ => ClientError::Grpc {
                        code: format!("{code:?}"),
                        message: status.message().to_owned(),
                    },
                }
            }
        }
    }

    pub fn ready(&self, runtime: &tokio::runtime::Runtime) -> Result<(), ClientError> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
        let mut client = HealthClient::new(self.channel.clone());
        let answer = runtime
            .block_on(client.check(HealthCheckRequest {
                service: String::new(),
            }))
            .map_err(|s| self.error(&s))?;
        if answer.get_ref().status == ServingStatus::Serving as i32 {
            Ok(())
        } else {
            Err(ClientError::Grpc {
                code: "Unavailable".into(),
                message: "the server is not serving".into(),
            })
        }
    }

    pub fn schema_json(&self, runtime: &tokio::runtime::Runtime) -> Result<String, ClientError> {
        let mut client = pb::schema_service_client::SchemaServiceClient::new(self.channel.clone());
        let answer = runtime
            .block_on(client.read_schema(pb::ReadSchemaRequest {}))
            .map_err(|s| self.error(&s))?;
        Ok(answer.into_inner().ir_json)
    }

    /// One page of `LookupResources` (at most `limit` IDs; 0: all), its
    /// messages gathered (the cursor of the last message is empty when the
    /// lookup is complete).
    pub fn lookup_resources(
        &self,
        runtime: &tokio::runtime::Runtime,
        request: pb::LookupResourcesRequest,
    ) -> Result<ResourcesPage, ClientError> {
        let mut client =
            pb::permission_service_client::PermissionServiceClient::new(self.channel.clone());
        runtime.block_on(async {
            let mut stream = client
                .lookup_resources(request)
                .await
                .map_err(|s| self.error(&s))?
                .into_inner();
            let mut page = ResourcesPage {
                object_ids: Vec::new(),
                conditional: Vec::new(),
                next_page_token: String::new(),
                snaptoken: String::new(),
            };
            while let Some(message) = stream.message().await.map_err(|s| self.error(&s))? {
                page.object_ids.extend(message.object_ids);
                page.conditional
                    .extend(message.conditional.into_iter().map(conditional_id));
                page.next_page_token = message.after_cursor;
                if let Some(at) = message.looked_up_at {
                    page.snaptoken = at.token;
                }
            }
            Ok(page)
        })
    }

    /// `LookupSubjects` whole, its messages gathered.
    pub fn lookup_subjects(
        &self,
        runtime: &tokio::runtime::Runtime,
        request: pb::LookupSubjectsRequest,
    ) -> Result<SubjectsAnswer, ClientError> {
        let mut client =
            pb::permission_service_client::PermissionServiceClient::new(self.channel.clone());
        runtime.block_on(async {
            let mut stream = client
                .lookup_subjects(request)
                .await
                .map_err(|s| self.error(&s))?
                .into_inner();
            let mut answer = SubjectsAnswer {
                subject_ids: Vec::new(),
                wildcard: false,
                excluded: Vec::new(),
                conditional: Vec::new(),
                wildcard_missing: None,
                snaptoken: String::new(),
            };
            while let Some(message) = stream.message().await.map_err(|s| self.error(&s))? {
                answer.subject_ids.extend(message.subject_ids);
                answer.wildcard |= message.wildcard;
                answer.excluded.extend(message.excluded);
                answer
                    .conditional
                    .extend(message.conditional.into_iter().map(conditional_id));
                if !message.wildcard_missing.is_empty() {
                    answer.wildcard_missing = Some(message.wildcard_missing);
                }
                if let Some(at) = message.looked_up_at {
                    answer.snaptoken = at.token;
                }
            }
            Ok(answer)
        })
    }

    pub fn check(
        &self,
        runtime: &tokio::runtime::Runtime,
        question: &Tuple,
        options: &ReadOptions,
    ) -> Result<CheckAnswer, ClientError> {
        let mut client =
            pb::permission_service_client::PermissionServiceClient::new(self.channel.clone());
        let request = pb::BulkCheckRequest {
            items: vec![check_item(question)],
            consistency: consistency(options)?,
            max_depth: max_depth(options),
            context: options.context_text(),
            contextual_tuples: contextual_tuples(options),
        };
        let answer = runtime
            .block_on(client.bulk_check(request))
            .map_err(|s| self.error(&s))?
            .into_inner();
        let result = answer
            .results
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::Protocol("a bulk check without its result".into()))?;
        if result.code != 0 {
            return Err(ClientError::Grpc {
                code: format!("{:?}", tonic::Code::from_i32(result.code)),
                message: result.error,
            });
        }
        let decision = if result.allowed {
            engine::Decision::Allowed
        } else if result.conditional {
            engine::Decision::Conditional {
                missing: result.missing,
            }
        } else {
            engine::Decision::Denied
        };
        Ok(CheckAnswer {
            allowed: decision.is_allowed(),
            decision,
            snaptoken: answer.checked_at.map(|t| t.token).unwrap_or_default(),
        })
    }

    pub fn explain(
        &self,
        runtime: &tokio::runtime::Runtime,
        question: &Tuple,
        options: &ReadOptions,
    ) -> Result<(Explanation, String), ClientError> {
        let mut client =
            pb::permission_service_client::PermissionServiceClient::new(self.channel.clone());
        let request = pb::CheckWithExplanationRequest {
            check: Some(check_item(question)),
            consistency: consistency(options)?,
            max_depth: max_depth(options),
            context: options.context_text(),
            contextual_tuples: contextual_tuples(options),
        };
        let answer = runtime
            .block_on(client.check_with_explanation(request))
            .map_err(|s| self.error(&s))?
            .into_inner();
        let tree = match &answer.tree {
            Some(node) => Some(engine::grow_stack(|| explain_node(node))?),
            None => None,
        };
        let explanation = Explanation {
            question: answer.question,
            outcome: outcome(answer.outcome)?,
            error: Some(answer.error).filter(|e| !e.is_empty()),
            missing: answer.missing,
            tree,
        };
        Ok((
            explanation,
            answer.checked_at.map(|t| t.token).unwrap_or_default(),
        ))
    }

    pub fn list_page(
        &self,
        runtime: &tokio::runtime::Runtime,
        filter: &TupleFilter,
        options: &ReadOptions,
        page_size: u64,
        page_token: Option<&str>,
    ) -> Result<(Vec<Relationship>, ListPage), ClientError> {
        // Keto's listing takes a token (at least as fresh), nothing else.
        match options.consistency.as_deref() {
            None | Some("at_least_as_fresh" | "minimize_latency") => {}
            Some(other) => {
                return Err(ClientError::NotOverGrpc(format!(
                    "a listing at consistency `{other}`"
                )))
            }
        }
        let mut client = keto::read_service_client::ReadServiceClient::new(self.channel.clone());
        let request = keto::ListRelationTuplesRequest {
            relation_query: Some(query(filter)),
            snaptoken: options.snaptoken.clone().unwrap_or_default(),
            page_size: i32::try_from(page_size).unwrap_or(i32::MAX),
            page_token: page_token.unwrap_or_default().to_owned(),
            ..Default::default()
        };
        let answer = runtime
            .block_on(client.list_relation_tuples(request))
            .map_err(|s| self.error(&s))?;
        let snaptoken = header_token(answer.metadata());
        let answer = answer.into_inner();
        let relationships = answer
            .relation_tuples
            .into_iter()
            .map(relationship)
            .collect::<Result<_, _>>()?;
        Ok((
            relationships,
            ListPage {
                tuples: Vec::new(),
                next_page_token: answer.next_page_token,
                snaptoken,
            },
        ))
    }

    pub fn write(
        &self,
        runtime: &tokio::runtime::Runtime,
        inserts: &[Tuple],
        deletes: &[Tuple],
    ) -> Result<String, ClientError> {
        use keto::relation_tuple_delta::Action;
        let deltas = inserts
            .iter()
            .map(|t| (Action::Insert, t))
            .chain(deletes.iter().map(|t| (Action::Delete, t)))
            .map(|(action, t)| keto::RelationTupleDelta {
                action: action as i32,
                relation_tuple: Some(relation_tuple(t)),
            })
            .collect();
        let mut client = keto::write_service_client::WriteServiceClient::new(self.channel.clone());
        let answer = runtime
            .block_on(
                client.transact_relation_tuples(keto::TransactRelationTuplesRequest {
                    relation_tuple_deltas: deltas,
                    preconditions: Vec::new(),
                }),
            )
            .map_err(|s| self.error(&s))?;
        let header = header_token(answer.metadata());
        // One token per delta, all of the one transaction.
        Ok(answer
            .into_inner()
            .snaptokens
            .into_iter()
            .rev()
            .find(|t| !t.is_empty())
            .unwrap_or(header))
    }

    pub fn delete_matching(
        &self,
        runtime: &tokio::runtime::Runtime,
        filter: &TupleFilter,
    ) -> Result<String, ClientError> {
        let mut client = keto::write_service_client::WriteServiceClient::new(self.channel.clone());
        let answer = runtime
            .block_on(
                client.delete_relation_tuples(keto::DeleteRelationTuplesRequest {
                    relation_query: Some(query(filter)),
                    ..Default::default()
                }),
            )
            .map_err(|s| self.error(&s))?;
        Ok(header_token(answer.metadata()))
    }
}

fn header_token(metadata: &tonic::metadata::MetadataMap) -> String {
    metadata
        .get(crate::api::SNAPTOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn check_item(question: &Tuple) -> pb::CheckItem {
    let tuple = crate::api::convert::to_tuple(question);
    pb::CheckItem {
        object: tuple.object,
        relation: tuple.relation,
        subject: tuple.subject,
    }
}

fn max_depth(options: &ReadOptions) -> i32 {
    options
        .max_depth
        .map_or(0, |d| i32::try_from(d).unwrap_or(i32::MAX))
}

/// `--consistency` and `--snaptoken` as zanzi.v1's choice, with REST's
/// rules: a token alone means at least as fresh.
pub(super) fn consistency(options: &ReadOptions) -> Result<Option<pb::Consistency>, ClientError> {
    use pb::consistency::Requirement;
    let token = options.snaptoken.clone().filter(|t| !t.is_empty());
    let needs = |name: &str| {
        token.clone().ok_or_else(|| {
            ClientError::Protocol(format!("`consistency={name}` needs a `snaptoken`"))
        })
    };
    let requirement = match options.consistency.as_deref().filter(|c| !c.is_empty()) {
        None => token.clone().map(Requirement::AtLeastAsFresh),
        Some("minimize_latency") => Some(Requirement::MinimizeLatency(true)),
        Some("fully_consistent") => Some(Requirement::FullyConsistent(true)),
        Some(name @ "at_least_as_fresh") => Some(Requirement::AtLeastAsFresh(needs(name)?)),
        Some(name @ "at_exact_snapshot") => Some(Requirement::AtExactSnapshot(needs(name)?)),
        Some(other) => {
            return Err(ClientError::Protocol(format!(
                "unknown consistency `{other}` (known: {})",
                crate::api::CONSISTENCY_NAMES.join(", ")
            )))
        }
    };
    Ok(requirement.map(|r| pb::Consistency {
        requirement: Some(r),
    }))
}

fn outcome(code: i32) -> Result<engine::Outcome, ClientError> {
    match pb::Outcome::try_from(code) {
        Ok(pb::Outcome::Granted) => Ok(engine::Outcome::Granted),
        Ok(pb::Outcome::Denied) => Ok(engine::Outcome::Denied),
        Ok(pb::Outcome::Unknown) => Ok(engine::Outcome::Unknown),
        Ok(pb::Outcome::Conditional) => Ok(engine::Outcome::Conditional),
        _ => Err(ClientError::Protocol(format!("unknown outcome {code}"))),
    }
}

/// The engine's node back from the message: the step is rebuilt from its
/// name (the serde tag) and its fields.
fn explain_node(node: &pb::ExplainNode) -> Result<engine::ExplainNode, ClientError> {
    let mut fields: serde_json::Map<String, serde_json::Value> = node
        .details
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    fields.insert("step".into(), serde_json::Value::String(node.step.clone()));
    let step: engine::Step = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| ClientError::Protocol(format!("explanation step `{}`: {e}", node.step)))?;
    Ok(engine::ExplainNode {
        outcome: outcome(node.outcome)?,
        step,
        children: node
            .children
            .iter()
            .map(explain_node)
            .collect::<Result<_, _>>()?,
    })
}

fn keto_subject(subject_id: Option<String>, set: Option<SubjectSet>) -> Option<keto::Subject> {
    use keto::subject::Ref;
    let reference = match (subject_id, set) {
        (_, Some(set)) => Ref::Set(keto::SubjectSet {
            namespace: set.namespace,
            object: set.object,
            relation: set.relation,
        }),
        (Some(id), None) => Ref::Id(id),
        (None, None) => return None,
    };
    Some(keto::Subject {
        r#ref: Some(reference),
    })
}

fn relation_tuple(tuple: &Tuple) -> keto::RelationTuple {
    let rel = tuple_to_keto_typed(tuple);
    keto::RelationTuple {
        namespace: rel.namespace,
        object: rel.object,
        relation: rel.relation,
        subject: keto_subject(rel.subject_id, rel.subject_set),
    }
}

fn query(filter: &TupleFilter) -> keto::RelationQuery {
    let subject = filter.subject.as_ref().and_then(|s: &Subject| {
        let (id, set) = typed_subject(s);
        keto_subject(id, set)
    });
    keto::RelationQuery {
        namespace: filter.namespace.clone(),
        object: filter.object_id.clone(),
        relation: filter.relation.clone(),
        subject,
    }
}

fn relationship(tuple: keto::RelationTuple) -> Result<Relationship, ClientError> {
    use keto::subject::Ref;
    let (subject_id, subject_set) = match tuple.subject.and_then(|s| s.r#ref) {
        Some(Ref::Id(id)) => (Some(id), None),
        Some(Ref::Set(set)) => (
            None,
            Some(SubjectSet {
                namespace: set.namespace,
                object: set.object,
                relation: set.relation,
            }),
        ),
        None => {
            return Err(ClientError::Protocol(
                "a relation tuple without a subject".into(),
            ))
        }
    };
    Ok(Relationship {
        namespace: tuple.namespace,
        object: tuple.object,
        relation: tuple.relation,
        subject_id,
        subject_set,
        condition: None,
        expires_at: None,
    })
}

/// The request's contextual tuples as `zanzi.v1` tuples.
pub(super) fn contextual_tuples(options: &ReadOptions) -> Vec<pb::Tuple> {
    options
        .contextual_tuples
        .iter()
        .map(crate::api::convert::to_tuple)
        .collect()
}

fn conditional_id(c: pb::ConditionalId) -> crate::api::native::ConditionalId {
    crate::api::native::ConditionalId {
        id: c.id,
        missing: c.missing,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn explanation_steps_survive_the_round_trip() {
        let step = engine::Step::Arrow {
            tupleset: "parent".into(),
            target: "view".into(),
            mode: crate::ir::ArrowMode::All,
        };
        let details: HashMap<String, String> = match serde_json::to_value(&step) {
            Ok(serde_json::Value::Object(fields)) => fields
                .into_iter()
                .filter(|(k, _)| k != "step")
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect(),
            _ => HashMap::new(),
        };
        let node = pb::ExplainNode {
            outcome: pb::Outcome::Denied as i32,
            step: "arrow".into(),
            details,
            children: vec![pb::ExplainNode {
                outcome: pb::Outcome::Granted as i32,
                step: "union".into(),
                details: HashMap::new(),
                children: Vec::new(),
            }],
        };
        let back = explain_node(&node).ok();
        assert_eq!(back.as_ref().map(|n| &n.step), Some(&step));
        assert_eq!(
            back.map(|n| n.children.len()),
            Some(1),
            "children are mapped too"
        );
    }

    #[test]
    fn consistency_follows_rest_rules() {
        let options = ReadOptions {
            snaptoken: Some("zk1_x".into()),
            ..ReadOptions::default()
        };
        assert_eq!(
            consistency(&options)
                .ok()
                .flatten()
                .and_then(|c| c.requirement),
            Some(pb::consistency::Requirement::AtLeastAsFresh("zk1_x".into()))
        );
        let exact = ReadOptions {
            consistency: Some("at_exact_snapshot".into()),
            ..ReadOptions::default()
        };
        assert!(consistency(&exact).is_err());
    }
}
