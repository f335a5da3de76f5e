//! Per-client rate limits (`rate_limit_per_sec`, `rate_limit_burst`; off
//! unless the rate is set): a token bucket per client, refilled at the rate
//! and holding at most the burst. A client is its credential when the
//! request carries one (the `Authorization` header, kept only as a hash),
//! else its IP address, so clients behind one address with their own
//! credentials do not share a bucket. A request past its client's bucket
//! is answered 429 with `Retry-After` (REST) or `RESOURCE_EXHAUSTED`
//! (gRPC), and counted in `zanzi_rate_limited_total`; health checks are
//! never limited.
//!
//! The limit runs after the credential check (inside the auth layer, see
//! `common` and `grpc::router`), so only accepted credentials get buckets of
//! their own; on a server without credentials, a client that makes one up
//! for each request gets a fresh bucket each time.
//!
//! The buckets are governor's keyed GCRA limiter (one timestamp per
//! client in a concurrent map); buckets that have refilled are forgotten
//! every [`FORGET_EVERY`], so the map holds only the clients seen lately.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};

use super::config::Settings;
use super::AppState;
use crate::api::ApiError;

/// How often buckets that have refilled are dropped from memory.
pub const FORGET_EVERY: Duration = Duration::from_secs(60);

/// Who a request is counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// The SHA-256 of the `Authorization` header's value: the raw
    /// credential is neither kept nor logged.
    Credential([u8; 32]),
    /// The peer's IP address (the port changes with each connection).
    Address(IpAddr),
}

impl ClientKey {
    /// The client of a request: its credential, else the address of the
    /// connection it came on (set by `serve_connections`); `None` for a
    /// request with neither (one routed in-process).
    pub fn of(request: &Request) -> Option<ClientKey> {
        let credential = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .filter(|value| !value.is_empty());
        if let Some(credential) = credential {
            return Some(ClientKey::Credential(Sha256::digest(credential).into()));
        }
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientKey::Address(peer.ip()))
    }
}

/// The buckets of every client.
pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<ClientKey>,
    per_sec: NonZeroU32,
    burst: NonZeroU32,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("per_sec", &self.per_sec)
            .field("burst", &self.burst)
            .field("clients", &self.limiter.len())
            .finish()
    }
}

impl RateLimits {
    /// The limits the settings ask for; `None` when the rate is 0 (off).
    pub fn new(settings: &Settings) -> Option<RateLimits> {
        let per_sec = NonZeroU32::new(settings.rate_limit_per_sec)?;
        let burst = settings
            .rate_limit_burst
            .and_then(NonZeroU32::new)
            .unwrap_or(per_sec);
        let quota = Quota::per_second(per_sec).allow_burst(burst);
        Some(RateLimits {
            limiter: DefaultKeyedRateLimiter::dashmap(quota),
            per_sec,
            burst,
        })
    }

    /// Takes a token from `client`'s bucket, or tells how long until one
    /// is there.
    pub fn admit(&self, client: &ClientKey) -> Result<(), Duration> {
        self.limiter
            .check_key(client)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Drops the buckets that have refilled (their clients are as if new).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients with a bucket in memory.
    pub fn clients(&self) -> usize {
        self.limiter.len()
    }

    /// The answer to a request past its bucket: 429 `rate_limited`, with
    /// the wait in whole seconds (rounded up) in its details.
    pub fn refusal(&self, wait: Duration) -> (ApiError, u64) {
        let secs = retry_after_secs(wait);
        ::metrics::counter!("zanzi_rate_limited_total").increment(1);
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests from this client (the server's `rate_limit_per_sec` is {} \
                 with bursts of {}); retry in {secs} s",
                self.per_sec, self.burst
            ),
        )
        .with_detail("retry_after_secs", secs);
        (error, secs)
    }
}

/// A wait as `Retry-After` gives it: whole seconds, rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// Whether a path is a health check (never limited: an orchestrator
/// probing a busy server must not see it as down).
pub(crate) fn is_health(path: &str) -> bool {
    path.starts_with("/health/") || path.starts_with("/grpc.health.v1.Health/")
}

/// The REST middleware: a request past its client's bucket is answered
/// 429 with `Retry-After`.
pub async fn limit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    match refused(&state, &request) {
        None => next.run(request).await,
        Some((error, secs)) => {
            let mut response = error.into_response();
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
            response
        }
    }
}

/// The gRPC middleware: a call past its client's bucket is answered
/// `RESOURCE_EXHAUSTED` (the same message, the wait in the error's
/// `retry_after_secs` metadata).
pub async fn limit_grpc(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match refused(&state, &request) {
        None => next.run(request).await,
        Some((error, _)) => super::grpc::status::to_status(&error).into_http(),
    }
}

/// The refusal of `request`, if its client is past its bucket.
fn refused(state: &AppState, request: &Request) -> Option<(ApiError, u64)> {
    let limits = state.rate_limits.as_ref()?;
    if is_health(request.uri().path()) {
        return None;
    }
    let client = ClientKey::of(request)?;
    let wait = limits.admit(&client).err()?;
    Some(limits.refusal(wait))
}

/// Every [`FORGET_EVERY`], drops the buckets that have refilled, until
/// the server is gone.
pub async fn forget_idle_clients(state: Weak<AppState>) {
    let mut ticker = tokio::time::interval(FORGET_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        if let Some(limits) = &state.rate_limits {
            limits.forget_idle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_sec: u32, burst: Option<u32>) -> RateLimits {
        let settings = Settings {
            rate_limit_per_sec: per_sec,
            rate_limit_burst: burst,
            ..Settings::default()
        };
        RateLimits::new(&settings).unwrap()
    }

    #[test]
    fn off_unless_a_rate_is_set() {
        assert!(RateLimits::new(&Settings::default()).is_none());
    }

    #[test]
    fn a_bucket_holds_the_burst_and_each_client_has_its_own() {
        let limits = limits(1, Some(3));
        let alice = ClientKey::Address(IpAddr::from([10, 0, 0, 1]));
        let bob = ClientKey::Address(IpAddr::from([10, 0, 0, 2]));
        let admitted = (0..10).filter(|_| limits.admit(&alice).is_ok()).count();
        assert_eq!(admitted, 3);
        let wait = limits.admit(&alice).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limits.admit(&bob).is_ok());
        assert_eq!(limits.clients(), 2);
    }

    #[test]
    fn refilled_buckets_are_forgotten_and_busy_ones_kept() {
        // One token every 100 ms, at most one held.
        let limits = limits(10, Some(1));
        let idle = ClientKey::Address(IpAddr::from([10, 0, 0, 1]));
        let busy = ClientKey::Address(IpAddr::from([10, 0, 0, 2]));
        assert!(limits.admit(&idle).is_ok());
        std::thread::sleep(Duration::from_millis(300));
        assert!(limits.admit(&busy).is_ok());
        limits.forget_idle();
        assert_eq!(limits.clients(), 1);
    }

    #[test]
    fn the_burst_defaults_to_the_rate() {
        let limits = limits(4, None);
        let client = ClientKey::Credential([7; 32]);
        assert_eq!((0..10).filter(|_| limits.admit(&client).is_ok()).count(), 4);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }

    #[test]
    fn a_credential_is_kept_as_a_hash_and_wins_over_the_address() {
        let mut request = Request::new(axum::body::Body::empty());
        let peer = SocketAddr::from(([192, 0, 2, 7], 5000));
        request.extensions_mut().insert(ConnectInfo(peer));
        assert_eq!(ClientKey::of(&request), Some(ClientKey::Address(peer.ip())));
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer secret-token"),
        );
        let key = ClientKey::of(&request).unwrap();
        assert!(matches!(key, ClientKey::Credential(_)));
        assert!(!format!("{key:?}").contains("secret-token"));
        assert_eq!(
            ClientKey::of(&Request::new(axum::body::Body::empty())),
            None
        );
    }
}
