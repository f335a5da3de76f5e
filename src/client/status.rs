//! Who answers at a URL: readiness (`/health/ready`, or gRPC's health
//! service), whether it is zanzi (`/version` says `"server": "zanzi"`),
//! and which database and schema it serves (`GET /zanzi/v1/status`), for
//! `zanzi status`.

use super::{Client, ClientError};
use crate::api::native::{StatusResult, SERVER_NAME};

impl Client {
    /// One readiness probe of the read API.
    pub fn probe_ready(&self) -> Result<(), ClientError> {
        if let Some(remote) = self.grpc_read() {
            return remote.ready(&self.runtime);
        }
        let url = format!("{}/health/ready", self.read_url()?);
        match self.send(self.http.get(&url), &url)? {
            (200, _, _) => Ok(()),
            (status, _, body) => Err(Client::api_error(status, &body)),
        }
    }

    /// Whether what answers at the read URL is zanzi: `Ok(())`, or
    /// [`ClientError::NotZanzi`] saying what answered instead (over gRPC,
    /// the health service answering is taken as enough).
    pub fn verify_zanzi(&self) -> Result<(), ClientError> {
        if self.grpc_read().is_some() {
            return Ok(());
        }
        let base = self.read_url()?;
        let url = format!("{base}/version");
        let (status, _, body) = self.send(self.http.get(&url), &url)?;
        let named = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("server").and_then(|s| s.as_str()).map(str::to_owned));
        match (status, named.as_deref()) {
            (200, Some(SERVER_NAME)) => Ok(()),
            (200, Some(other)) => Err(not_zanzi(base, format!("`/version` names `{other}`"))),
            (200, None) => Err(not_zanzi(
                base,
                "`/version` does not name the server".to_owned(),
            )),
            (status, _) => Err(not_zanzi(base, format!("`/version` answered {status}"))),
        }
    }

    /// `GET /zanzi/v1/status`: the server's database and schema.
    pub fn server_status(&self) -> Result<StatusResult, ClientError> {
        if self.grpc_read().is_some() {
            return Err(ClientError::NotOverGrpc(
                "the server's database and schema".into(),
            ));
        }
        let base = self.read_url()?;
        let url = format!("{base}/zanzi/v1/status");
        let (status, _, body) = self.send(self.http.get(&url), &url)?;
        if status != 200 {
            return Err(Client::api_error(status, &body));
        }
        match serde_json::from_slice::<StatusResult>(&body) {
            Ok(answer) if answer.server == SERVER_NAME => Ok(answer),
            Ok(answer) => Err(not_zanzi(
                base,
                format!("`/zanzi/v1/status` names `{}`", answer.server),
            )),
            Err(e) => Err(not_zanzi(
                base,
                format!("`/zanzi/v1/status` is not zanzi's: {e}"),
            )),
        }
    }
}

fn not_zanzi(url: &str, reason: String) -> ClientError {
    ClientError::NotZanzi {
        url: url.to_owned(),
        reason,
    }
}
