#![allow(dead_code)]
//! A `zanzi serve` in the test process, with gRPC channels to its ports.

use std::sync::Arc;

use tonic::transport::Channel;
use zanzi::server::config::Settings;
use zanzi::server::{self, AppState, Running};
use zanzi::store::{MemoryStore, Store};

/// The schema the gRPC tests run with.
pub const SCHEMA: &str = "
namespace user {}
namespace group {
  relation member: user | group#member
}
namespace folder {
  relation parent: folder
  relation owner: user
  relation viewer: user | user:* | group#member
  permission view = owner | viewer | parent->view
}
namespace document {
  relation parent: folder
  relation owner: user
  relation viewer: user | group#member
  relation banned: user
  permission edit = owner | parent->view
  permission view = (owner | viewer | parent->view) - banned
}
";

pub fn schema(source: &str) -> zanzi::ir::Schema {
    let (_, compiled) = zanzi::compile_source("test.zanzi", source);
    compiled.schema.expect("the test schema compiles")
}

/// Settings for a test server on free ports.
pub fn settings() -> Settings {
    Settings {
        read_port: 0,
        write_port: 0,
        metrics_port: 0,
        syntax_port: 0,
        db: ":memory:".into(),
        secret: Some("test secret".into()),
        max_depth: 8,
        ..Settings::default()
    }
}

/// A running server and channels to its read, write and syntax ports.
pub struct GrpcServer {
    pub running: Running,
    pub read: Channel,
    pub write: Channel,
    pub syntax: Channel,
    pub http: reqwest::Client,
}

impl GrpcServer {
    /// [`SCHEMA`] over an empty memory store.
    pub async fn start() -> GrpcServer {
        GrpcServer::start_with(settings(), SCHEMA, Arc::new(MemoryStore::new())).await
    }

    pub async fn start_with(settings: Settings, source: &str, store: Arc<dyn Store>) -> GrpcServer {
        let state = Arc::new(AppState::new(settings, schema(source), store).expect("state"));
        let running = server::start(state, std::future::pending())
            .await
            .expect("server starts");
        let channel = |addr: std::net::SocketAddr| async move {
            Channel::from_shared(format!("http://{addr}"))
                .expect("uri")
                .connect()
                .await
                .expect("connects")
        };
        GrpcServer {
            read: channel(running.read).await,
            write: channel(running.write).await,
            syntax: channel(running.syntax).await,
            running,
            http: reqwest::Client::new(),
        }
    }

    /// A REST URL on the read port.
    pub fn rest_read(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.read)
    }

    /// A REST URL on the write port.
    pub fn rest_write(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.write)
    }

    pub fn store(&self) -> &dyn Store {
        self.running.state.store.as_ref()
    }
}
