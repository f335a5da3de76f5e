//! Who may use the server: the credential policy of `zanzi serve` and its
//! enforcement on every listener, REST and gRPC.
//!
//! A request proves itself with `Authorization: Bearer <token>` (gRPC:
//! `authorization` metadata), the token being a preshared key or a JWT
//! signed by a key of the configured JWKS:
//!
//! - `auth_keys` (and the lines of `auth_keys_file`) are valid on every API;
//! - `auth_read_keys` only on the read API, `auth_write_keys` only on the
//!   write API (a write key does not read: give a writer both);
//! - a valid JWT is valid on every API.
//!
//! With no key and no JWKS configured everything is open, as before. The
//! health checks and the version (REST `/health/alive`, `/health/ready`,
//! `/version`; gRPC `grpc.health.v1.Health`, reflection and Keto's
//! `VersionService`) stay open, so that probes and tools need no secret.
//!
//! A refusal is 401 with Keto's error body and `WWW-Authenticate: Bearer`
//! (gRPC: `UNAUTHENTICATED`), its message saying what was wrong and never
//! repeating the token; `zanzi_auth_failures_total{reason}` counts them.

mod header;
mod jwt;
mod keys;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

pub use header::{bearer_token, HeaderError};
pub use jwt::Expectations;
pub use keys::{ApiKey, KeyScope, MIN_KEY_BYTES};

use super::config::Settings;
use super::errors::ApiError;
use super::AppState;
use jwt::JwtVerifier;
use keys::PresharedKeys;

/// The API a listener serves, for the keys valid on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Read,
    Write,
    Syntax,
    Metrics,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Read => "read",
            Api::Write => "write",
            Api::Syntax => "syntax",
            Api::Metrics => "metrics",
        }
    }
}

/// Why the credentials could not be set up (at start).
#[derive(Debug, Error)]
pub enum AuthError {
    #[error("`auth_keys_file` `{path}`: {reason}")]
    KeysFile { path: String, reason: String },
    #[error("`jwks` `{location}`: {reason}")]
    Jwks { location: String, reason: String },
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The `reason` label of `zanzi_auth_failures_total`.
    pub reason: &'static str,
    pub message: String,
    /// RFC 6750's `error` in `WWW-Authenticate`: none when no credential
    /// was sent, `invalid_request` for a malformed header,
    /// `invalid_token` for a credential that is not valid here.
    pub error: Option<&'static str>,
}

impl Refusal {
    fn invalid(reason: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            reason,
            message: message.into(),
            error: Some("invalid_token"),
        }
    }

    fn missing() -> Refusal {
        Refusal {
            reason: "missing",
            message: "this API needs a credential: send `Authorization: Bearer <key or JWT>`"
                .into(),
            error: None,
        }
    }

    fn malformed(error: HeaderError) -> Refusal {
        Refusal {
            reason: "malformed",
            message: error.to_string(),
            error: Some("invalid_request"),
        }
    }

    /// The `WWW-Authenticate` header's value.
    pub fn challenge(&self) -> String {
        match self.error {
            None => "Bearer".to_owned(),
            Some(error) => format!("Bearer error=\"{error}\""),
        }
    }
}

/// The credentials a server accepts.
#[derive(Debug, Default)]
pub struct Authenticator {
    keys: PresharedKeys,
    jwt: Option<JwtVerifier>,
}

impl Authenticator {
    /// The credentials `settings` configure: keys from the settings and
    /// the keys file, and the JWKS (a file is read now).
    pub fn from_settings(settings: &Settings) -> Result<Authenticator, AuthError> {
        let mut keys = PresharedKeys::default();
        for key in &settings.auth_keys {
            keys.add(key, KeyScope::Every);
        }
        if let Some(path) = &settings.auth_keys_file {
            for key in read_keys_file(path)? {
                keys.add(&key, KeyScope::Every);
            }
        }
        for key in &settings.auth_read_keys {
            keys.add(key, KeyScope::Read);
        }
        for key in &settings.auth_write_keys {
            keys.add(key, KeyScope::Write);
        }
        let jwt = settings
            .jwks
            .as_deref()
            .map(|location| {
                JwtVerifier::new(
                    location,
                    Expectations {
                        issuer: settings.jwt_issuer.clone(),
                        audience: settings.jwt_audience.clone(),
                        leeway: settings.jwt_leeway,
                    },
                )
            })
            .transpose()?;
        Ok(Authenticator { keys, jwt })
    }

    /// Whether any credential is configured (else everything is open).
    pub fn is_enabled(&self) -> bool {
        !self.keys.is_empty() || self.jwt.is_some()
    }

    /// Fetches a JWKS URL (at start).
    pub async fn prepare(&self) -> Result<(), AuthError> {
        match &self.jwt {
            Some(jwt) => jwt.prepare().await,
            None => Ok(()),
        }
    }

    /// Whether a request with `headers` may use `api`.
    pub async fn check(&self, api: Api, headers: &http::HeaderMap) -> Result<(), Refusal> {
        if !self.is_enabled() {
            return Ok(());
        }
        let result = self.check_token(api, headers).await;
        if let Err(refusal) = &result {
            ::metrics::counter!("zanzi_auth_failures_total", "reason" => refusal.reason)
                .increment(1);
        }
        result
    }

    async fn check_token(&self, api: Api, headers: &http::HeaderMap) -> Result<(), Refusal> {
        let token = header::from_headers(headers)
            .map_err(Refusal::malformed)?
            .ok_or_else(Refusal::missing)?;
        let matched = self.keys.find(token);
        let valid_here = matched.every
            || (api == Api::Read && matched.read)
            || (api == Api::Write && matched.write);
        if valid_here {
            return Ok(());
        }
        if matched.any() {
            let scope = if matched.read { "read" } else { "write" };
            return Err(Refusal::invalid(
                "wrong_api",
                format!(
                    "the key is valid on the {scope} API only, not on the {} API",
                    api.name()
                ),
            ));
        }
        match &self.jwt {
            Some(jwt) if token.split('.').count() == 3 => jwt.verify(token).await,
            _ => Err(Refusal::invalid(
                "unknown_key",
                "the bearer token is not a key this server accepts",
            )),
        }
    }
}

/// The keys of an `auth_keys_file`: one a line; blank lines and `#`
/// comments are skipped.
fn read_keys_file(path: &std::path::Path) -> Result<Vec<ApiKey>, AuthError> {
    let failed = |reason: String| AuthError::KeysFile {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let mut keys = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key =
            ApiKey::new(line).map_err(|reason| failed(format!("line {}: {reason}", number + 1)))?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(failed("holds no key".into()));
    }
    Ok(keys)
}

/// The warning for a server anyone on the network can use: listening
/// beyond loopback with no credential, unless `insecure_no_auth` says
/// that is meant.
pub fn exposure_warning(settings: &Settings) -> Option<String> {
    let configured = !settings.auth_keys.is_empty()
        || settings.auth_keys_file.is_some()
        || !settings.auth_read_keys.is_empty()
        || !settings.auth_write_keys.is_empty()
        || settings.jwks.is_some();
    if configured || settings.insecure_no_auth || settings.host.is_loopback() {
        return None;
    }
    Some(format!(
        "zanzi serve listens on {host} with NO AUTHENTICATION.\n\
         Anyone who can reach its ports can read every tuple, write and delete any of them, \
         and so grant themselves any permission.\n\
         Configure a credential: a key file (`--auth-keys-file FILE`, one key a line), keys in \
         `ZANZI_AUTH_KEYS`, or JWTs (`--jwks FILE|URL`); clients send `--token` or \
         `ZANZI_TOKEN`.\n\
         Or listen on 127.0.0.1 only (`--host 127.0.0.1`), or pass `--insecure-no-auth` if \
         the network itself is the protection.",
        host = settings.host
    ))
}

/// Paths open without a credential on every REST listener.
pub(crate) const OPEN_PATHS: &[&str] = &["/health/alive", "/health/ready", "/version"];

/// gRPC services open without a credential (path prefixes).
const OPEN_SERVICES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/ory.keto.relation_tuples.v1alpha2.VersionService/",
];

/// The REST middleware: 401 with Keto's body and `WWW-Authenticate` for a
/// request without a credential valid on `api`.
pub async fn rest(
    State((state, api)): State<(Arc<AppState>, Api)>,
    request: Request,
    next: Next,
) -> Response {
    if OPEN_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    match state.auth.check(api, request.headers()).await {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            let challenge = refusal.challenge();
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", refusal.message)
                    .into_response();
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(http::header::WWW_AUTHENTICATE, value);
            }
            response
        }
    }
}

/// The gRPC middleware: `UNAUTHENTICATED` for a call without a credential
/// valid on `api`.
pub async fn grpc(
    State((state, api)): State<(Arc<AppState>, Api)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if OPEN_SERVICES.iter().any(|open| path.starts_with(open)) {
        return next.run(request).await;
    }
    match state.auth.check(api, request.headers()).await {
        Ok(()) => next.run(request).await,
        Err(refusal) => tonic::Status::unauthenticated(refusal.message).into_http(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_is_for_open_servers_beyond_loopback() {
        let mut settings = Settings::default();
        assert_eq!(exposure_warning(&settings), None);
        settings.host = std::net::IpAddr::from([0, 0, 0, 0]);
        let warning = exposure_warning(&settings).unwrap_or_default();
        assert!(warning.contains("NO AUTHENTICATION"), "{warning}");
        settings.insecure_no_auth = true;
        assert_eq!(exposure_warning(&settings), None);
        settings.insecure_no_auth = false;
        settings.auth_keys = vec![ApiKey::new("0123456789abcdef").unwrap()];
        assert_eq!(exposure_warning(&settings), None);
        settings.auth_keys.clear();
        settings.host = std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST);
        assert_eq!(exposure_warning(&settings), None);
    }

    #[test]
    fn keys_files_skip_comments_and_name_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(
            &path,
            "# current\n0123456789abcdef\n\n  # next\nfedcba9876543210\n",
        )
        .unwrap();
        assert_eq!(read_keys_file(&path).unwrap().len(), 2);
        std::fs::write(&path, "# none\n\n").unwrap();
        let error = read_keys_file(&path).unwrap_err().to_string();
        assert!(error.contains("holds no key"), "{error}");
        std::fs::write(&path, "0123456789abcdef\nshort\n").unwrap();
        let error = read_keys_file(&path).unwrap_err().to_string();
        assert!(
            error.contains("line 2") && !error.contains("short"),
            "{error}"
        );
    }
}
