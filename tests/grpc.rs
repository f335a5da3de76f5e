//! gRPC next to REST on the same listeners: version, health and
//! reflection on every port, each port's services, and HTTP/1.1 still
//! answered on a port that speaks HTTP/2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(dead_code)]
mod support;

use support::grpc::GrpcServer;
use tokio_stream::StreamExt as _;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;

#[tokio::test]
async fn every_port_answers_version_and_health_and_rest_on_the_same_port() {
    let server = GrpcServer::start().await;
    for channel in [&server.read, &server.write, &server.syntax] {
        let mut version = keto::version_service_client::VersionServiceClient::new(channel.clone());
        let answer = version
            .get_version(keto::GetVersionRequest {})
            .await
            .unwrap();
        assert_eq!(answer.get_ref().version, env!("CARGO_PKG_VERSION"));
        let mut health = HealthClient::new(channel.clone());
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap();
        assert_eq!(status.get_ref().status, ServingStatus::Serving as i32);
    }
    // HTTP/1.1 REST on the port that just answered gRPC over HTTP/2.
    let version: serde_json::Value = server
        .http
        .get(server.rest_read("/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
}

/// The services a port lists through reflection v1 (what grpcurl asks).
async fn listed_services(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

#[tokio::test]
async fn reflection_lists_the_services_of_every_port() {
    let server = GrpcServer::start().await;
    let read = listed_services(server.read.clone()).await;
    for service in [
        "grpc.health.v1.Health",
        "ory.keto.relation_tuples.v1alpha2.VersionService",
    ] {
        assert!(read.contains(&service.to_owned()), "{service} in {read:?}");
    }
    let syntax = listed_services(server.syntax.clone()).await;
    assert!(syntax.contains(&"ory.keto.opl.v1alpha1.SyntaxService".to_owned()));
}

#[tokio::test]
async fn an_unknown_service_is_unimplemented() {
    let server = GrpcServer::start().await;
    // The write service is not served on the read port.
    let mut write = keto::write_service_client::WriteServiceClient::new(server.read.clone());
    let error = write
        .delete_relation_tuples(keto::DeleteRelationTuplesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::Unimplemented);
}
