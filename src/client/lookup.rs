//! zanzi's lookups through a server: `POST /zanzi/v1/lookup-resources`
//! (paged by the server's page tokens, which pin the first page's
//! snapshot) and `POST /zanzi/v1/lookup-subjects` (one answer, whole), or
//! over gRPC `zanzi.v1.PermissionService`'s streamed lookups, whose cursors
//! are the same signed page tokens. The gRPC lookups have no depth field:
//! they run with the server's depth limit, whatever `max_depth` asks.

use super::{grpc, Client, ClientError, ReadOptions};
use crate::api::proto::zanzi::v1 as pb;
use crate::tuple::{Object, Subject};

pub use super::{ResourcesPage, SubjectsAnswer};

impl Client {
    /// One page of the objects of `namespace` whose `relation` holds
    /// `subject`, continuing after `page_token` (at its snapshot).
    pub fn lookup_resources(
        &self,
        namespace: &str,
        relation: &str,
        subject: &Subject,
        options: &ReadOptions,
        page_size: Option<u64>,
        page_token: Option<&str>,
    ) -> Result<ResourcesPage, ClientError> {
        if let Some(remote) = self.grpc_read() {
            let request = pb::LookupResourcesRequest {
                namespace: namespace.to_owned(),
                relation: relation.to_owned(),
                subject: Some(crate::api::convert::to_subject(subject)),
                consistency: grpc::consistency(options)?,
                limit: page_size.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                cursor: page_token.unwrap_or_default().to_owned(),
                context: options.context_text(),
                contextual_tuples: grpc::contextual_tuples(options),
            };
            return remote.lookup_resources(&self.runtime, request);
        }
        let url = format!("{}/zanzi/v1/lookup-resources", self.read_url()?);
        let body = serde_json::json!({
            "namespace": namespace,
            "relation": relation,
            "subject": subject.to_string(),
            "page_size": page_size,
            "page_token": page_token,
            "max_depth": options.max_depth,
            "consistency": options.consistency,
            "snaptoken": options.snaptoken,
            "context": options.context,
            "contextual_tuples": options.keto_contextual_tuples(),
        });
        self.json(self.http.post(&url).json(&body), &url, &[200])
    }

    /// The subjects of `subject_namespace` in `object#relation`.
    pub fn lookup_subjects(
        &self,
        object: &Object,
        relation: &str,
        subject_namespace: &str,
        options: &ReadOptions,
    ) -> Result<SubjectsAnswer, ClientError> {
        if let Some(remote) = self.grpc_read() {
            let request = pb::LookupSubjectsRequest {
                object: Some(crate::api::convert::to_object(object)),
                relation: relation.to_owned(),
                subject_namespace: subject_namespace.to_owned(),
                consistency: grpc::consistency(options)?,
                limit: 0,
                cursor: String::new(),
                context: options.context_text(),
                contextual_tuples: grpc::contextual_tuples(options),
            };
            return remote.lookup_subjects(&self.runtime, request);
        }
        let url = format!("{}/zanzi/v1/lookup-subjects", self.read_url()?);
        let body = serde_json::json!({
            "namespace": object.namespace,
            "object": object.id,
            "relation": relation,
            "subject_namespace": subject_namespace,
            "max_depth": options.max_depth,
            "consistency": options.consistency,
            "snaptoken": options.snaptoken,
            "context": options.context,
            "contextual_tuples": options.keto_contextual_tuples(),
        });
        self.json(self.http.post(&url).json(&body), &url, &[200])
    }
}
