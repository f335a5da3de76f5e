//! `zanzi serve`: the HTTP server, wire-compatible with Ory Keto's REST API
//! plus zanzi's own endpoints (lookups, explanations, schema introspection).
//!
//! Four listeners, as in Keto: the read API (default port 4466), the write
//! API (4467), Prometheus metrics (4468) and the syntax check (4469). One
//! [`AppState`] serves them all: the compiled schema, the tuple store, the
//! token keys, and the newest revision this server knows of.
//!
//! Engine and store calls are synchronous. A check answered from memory
//! (the mirror, or `--db :memory:`) runs in place on the async workers (it
//! reads the database only for the history of a revision this server has
//! not seen yet, once per revision); everything else runs on tokio's
//! blocking pool, so a slow database read does not stall the event loop.
//! Every request passes
//! through [`track`]: a request id (`x-request-id`, echoed), a bound on
//! requests in flight (503 past it), metrics and logs, and the Keto error
//! body for every error response. Shutdown stops accepting, lets requests
//! in flight finish, and returns once every listener is drained; writes are
//! committed before they are answered, so nothing acknowledged is lost.

pub mod auth;
pub mod body;
pub(crate) mod bounds;
pub mod config;
pub mod consistency;
pub mod errors;
pub mod grpc;
pub mod history;
pub mod keto;
pub mod limits;
pub mod metrics;
pub mod native;
pub mod openapi;
pub mod secret;
pub mod telemetry;
pub mod tls;
pub mod watch;
pub mod zookie;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use thiserror::Error;
use tokio::sync::Semaphore;

use crate::engine::Interrupt;
use crate::ir::Schema;
use crate::load;
use crate::store::postgres::ReplicatedStore;
use crate::store::{
    CachedStore, Location, MirrorStore, ObjectCache, PageRequest, PostgresStore, Revision,
    SqliteStore, Store, TupleFilter, TupleStore,
};
use config::Settings;
use errors::ApiError;
use zookie::TokenKeys;

pub use crate::api::SNAPTOKEN_HEADER;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error(
        "no schema: pass `--schema FILE` (a `.zanzi` source or a compiled `.json` IR); the \
         database has none stored"
    )]
    NoSchema,
    #[error("cannot read the schema `{path}`: {reason}")]
    SchemaFile { path: String, reason: String },
    #[error("the schema `{path}` does not compile:\n{diagnostics}")]
    SchemaErrors { path: String, diagnostics: String },
    #[error("cannot open the tuple store `{db}`: {reason}")]
    Store { db: String, reason: String },
    #[error(
        "{count} stored tuple(s) do not fit the new schema and would be ignored; \
         fix the schema, delete them, or start with --allow-invalid-tuples:\n{}",
        listing.join("\n")
    )]
    InvalidTuples { count: usize, listing: Vec<String> },
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Secret(#[from] secret::SecretError),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("cannot serve TLS: {0}")]
    Tls(#[from] tls::TlsError),
}

/// Everything the handlers share.
pub struct AppState {
    /// The schema requests are answered with; replaced when another
    /// server stores a new one (see `follow_loop`).
    schema: std::sync::RwLock<Arc<Schema>>,
    pub store: Arc<dyn Store>,
    pub tokens: TokenKeys,
    /// The history tags of recent revisions (`history.rs`).
    histories: history::HistoryCache,
    pub settings: Settings,
    /// The credentials requests must present (none: open).
    pub auth: auth::Authenticator,
    head: AtomicU64,
    horizon: AtomicU64,
    inflight: Arc<Semaphore>,
    /// Evaluations running at once on the blocking pool.
    workers: Semaphore,
    /// Whether the store answers engine reads from memory (no I/O).
    memory_reads: bool,
    /// The same store as `store` when reads may go to read replicas.
    replicas: Option<Arc<dyn ReplicaView>>,
    request_seq: AtomicU64,
    request_prefix: String,
    shutting_down: AtomicBool,
    /// Each client's requests per second, when limited.
    pub rate_limits: Option<limits::RateLimits>,
    /// The last snapshot token issued (see [`AppState::issued_token`]).
    last_token: std::sync::RwLock<Option<Arc<IssuedToken>>>,
}

/// A snapshot token as a header value (tokens are ASCII; anything else
/// would be sent as an empty header rather than fail the answer).
pub(crate) fn token_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""))
}

/// A snapshot token as answers carry it, in the body and in a header.
#[derive(Debug)]
pub struct IssuedToken {
    pub revision: Revision,
    history: zookie::HistoryTag,
    pub text: String,
    /// `text` as a header value, whose clones share one buffer.
    pub header: HeaderValue,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("schema", &self.schema().hash)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Loads the schema and opens the store named by `settings`.
    ///
    /// The store keeps the schema the server runs with (as `zanzi tuples
    /// write` does), so that local commands on the same database answer
    /// with it; without `--schema`, the stored one is used.
    pub fn open(settings: Settings) -> Result<AppState, ServeError> {
        let db = Location::parse(&settings.db).to_string();
        let store_error = |e: crate::store::StoreError| ServeError::Store {
            db: db.clone(),
            reason: e.to_string(),
        };
        settings.check()?;
        let (store, replicas) = open_store(&settings, &db)?;
        // Checked once the database is known to be reachable, so that a
        // wrong URL is reported as such.
        if settings.secret.is_none()
            && matches!(Location::parse(&settings.db), Location::Postgres(_))
        {
            return Err(secret::SecretError::Required { db }.into());
        }
        let schema = match &settings.schema {
            Some(path) => schema_at(path)?,
            None => {
                let stored = store.load_schema().map_err(store_error)?;
                let schema = stored.ok_or(ServeError::NoSchema)?;
                tracing::info!(schema = %schema.hash, "using the schema stored in the database");
                schema
            }
        };
        // Saved only once the stored tuples are known to fit.
        let mut state = AppState::new(settings, schema, Arc::clone(&store))?;
        state.replicas = replicas;
        store.save_schema(&state.schema()).map_err(store_error)?;
        Ok(state)
    }

    /// The read replicas, when reads may go to them.
    pub fn read_replicas(&self) -> Option<&ReplicatedStore> {
        self.replicas.as_deref().map(ReplicaView::replicated)
    }

    /// A state over an existing store (tests, embedding).
    pub fn new(
        settings: Settings,
        schema: Schema,
        store: Arc<dyn Store>,
    ) -> Result<AppState, ServeError> {
        let store_error = |e: crate::store::StoreError| ServeError::Store {
            db: Location::parse(&settings.db).to_string(),
            reason: e.to_string(),
        };
        let head = store.head_revision().map_err(store_error)?;
        let horizon = store.gc_horizon().map_err(store_error)?;
        let store_id = store.store_id().map_err(store_error)?;
        // The tuples were checked against the stored schema when it was
        // stored, and every write since against it: a replica starting with
        // that schema need not read them all again (10M tuples: 15 s).
        let stored = store.schema_hash().map_err(store_error)?;
        if !settings.allow_invalid_tuples && stored.as_deref() != Some(schema.hash.as_str()) {
            check_stored_tuples(&schema, store.as_ref(), head).map_err(|e| match e {
                Ok(err) => err,
                Err(e) => store_error(e),
            })?;
        }
        let secret = match &settings.secret {
            Some(secret) => {
                let previous = settings.secret_previous.as_ref();
                secret::check_fingerprint(store.as_ref(), &store_id, secret, previous)?;
                secret.expose().to_vec()
            }
            None => {
                tracing::warn!(
                    "no `secret` configured: snapshot and page tokens are signed with a random key \
                     and stop working when the server restarts"
                );
                crate::store::random_id().into_bytes()
            }
        };
        let memory_reads = store.reads_from_memory();
        let auth = auth::Authenticator::from_settings(&settings)?;
        let mut tokens = TokenKeys::new(&secret, &store_id);
        if let Some(previous) = &settings.secret_previous {
            tokens = tokens.accepting(previous.expose());
        }
        Ok(AppState {
            auth,
            tokens,
            histories: history::HistoryCache::default(),
            schema: std::sync::RwLock::new(Arc::new(schema)),
            store,
            head: AtomicU64::new(head.0),
            horizon: AtomicU64::new(horizon.0),
            inflight: Arc::new(Semaphore::new(settings.max_inflight)),
            memory_reads,
            replicas: None,
            workers: Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            request_seq: AtomicU64::new(0),
            request_prefix: crate::store::random_id().chars().take(8).collect(),
            shutting_down: AtomicBool::new(false),
            rate_limits: limits::RateLimits::new(&settings),
            last_token: std::sync::RwLock::new(None),
            settings,
        })
    }

    /// The schema now: one request keeps the one it started with.
    pub fn schema(&self) -> Arc<Schema> {
        match self.schema.read() {
            Ok(schema) => Arc::clone(&schema),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Answers with `schema` from now on.
    pub fn replace_schema(&self, schema: Schema) {
        let schema = Arc::new(schema);
        match self.schema.write() {
            Ok(mut current) => *current = schema,
            Err(poisoned) => *poisoned.into_inner() = schema,
        }
    }

    /// The newest revision this server has seen.
    pub fn known_head(&self) -> Revision {
        Revision(self.head.load(Ordering::Acquire))
    }

    /// Records a revision this server committed or saw.
    pub fn saw(&self, revision: Revision) {
        self.head.fetch_max(revision.0, Ordering::AcqRel);
    }

    /// Asks the store for its head (blocking).
    pub fn refresh_head(&self) -> Result<Revision, ApiError> {
        let head = self.store.head_revision()?;
        self.saw(head);
        Ok(self.known_head())
    }

    /// Requests being served right now.
    pub fn requests_in_flight(&self) -> usize {
        self.settings
            .max_inflight
            .saturating_sub(self.inflight.available_permits())
    }

    pub fn horizon(&self) -> Revision {
        Revision(self.horizon.load(Ordering::Acquire))
    }

    /// The snapshot token of `revision`, naming its history (blocking the
    /// first time a revision is seen: see `history.rs`).
    pub fn snaptoken(&self, revision: Revision) -> String {
        self.issued_token(revision).text.clone()
    }

    /// The snapshot token of `revision`, as [`AppState::snaptoken`]: the
    /// last one issued when it names the same revision and history (a
    /// token depends on nothing else), so that the answers of a busy
    /// server, most of them at one revision, do not each sign one.
    pub fn issued_token(&self, revision: Revision) -> Arc<IssuedToken> {
        let history = self.history_of(revision);
        {
            let last = self.last_token.read().unwrap_or_else(|p| p.into_inner());
            if let Some(token) = last
                .as_ref()
                .filter(|t| t.revision == revision && t.history == history)
            {
                return Arc::clone(token);
            }
        }
        let text = self.tokens.snapshot(revision, history);
        let header = token_value(&text);
        let token = Arc::new(IssuedToken {
            revision,
            history,
            text,
            header,
        });
        *self.last_token.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&token));
        token
    }

    /// The `next_page_token` of a page read at `revision` for the query
    /// `query_hash`: `""` on the last page (no `cursor`), as in Keto.
    pub fn next_page_token(
        &self,
        revision: Revision,
        query_hash: [u8; 8],
        cursor: Option<String>,
    ) -> String {
        cursor
            .map(|cursor| {
                self.tokens.page(&zookie::PageToken {
                    revision,
                    history: Some(self.history_of(revision)),
                    query_hash,
                    cursor,
                })
            })
            .unwrap_or_default()
    }

    /// The effective depth limit for a request's `max-depth`: it may only
    /// lower the configured limit (0 or absent: the configured limit).
    pub fn depth(&self, requested: Option<i64>) -> Result<u32, ApiError> {
        let max = self.settings.max_depth;
        match requested {
            None | Some(0) => Ok(max),
            Some(n) if n < 0 => Err(ApiError::bad_request(
                "invalid_max_depth",
                format!("`max-depth` must not be negative, got {n}"),
            )),
            Some(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX).min(max)),
        }
    }

    fn next_request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:08x}", self.request_prefix)
    }
}

/// One request's view of the server: the state, and the schema the
/// request is answered with from start to end even if another is stored
/// meanwhile.
pub struct Scope<'a> {
    pub schema: Arc<Schema>,
    state: &'a AppState,
}

impl<'a> Scope<'a> {
    pub fn new(state: &'a AppState) -> Scope<'a> {
        Scope {
            schema: state.schema(),
            state,
        }
    }
}

impl std::ops::Deref for Scope<'_> {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        self.state
    }
}

/// A store over the primary `url` and its read replicas; errors name the
/// database at fault, without its password.
fn replicated_store(
    url: &str,
    replicas: &[String],
    db: &str,
) -> Result<ReplicatedStore, ServeError> {
    use crate::store::postgres::ReplicaError;
    let store = ReplicatedStore::connect(url, replicas).map_err(|e| match e {
        ReplicaError::Primary(e) => ServeError::Store {
            db: db.to_owned(),
            reason: e.to_string(),
        },
        ReplicaError::Replica { url, reason } => ServeError::Store { db: url, reason },
    })?;
    let shown: Vec<String> = replicas
        .iter()
        .map(|url| crate::store::location::without_password(url))
        .collect();
    tracing::info!(replicas = ?shown, "reads may be served by read replicas");
    Ok(store)
}

/// Runs `f`, which may block on the store, on the blocking pool; at most
/// as many at once as there are cores (more would only contend for the
/// store's locks).
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = state
        .workers
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the server is shutting down"))?;
    let state = state.clone();
    let interrupt = current_interrupt();
    // The request's span goes along, so that the evaluation's spans are
    // its children.
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| Interrupt::run(interrupt, || f(&Scope::new(&state))))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the request's worker failed: {e}")))?
}

tokio::task_local! {
    /// The interrupt of the request being served (set by [`track`] and the
    /// gRPC layer): the engine work of [`blocking`] and [`evaluate`] runs
    /// under it, so it stops past the request's deadline or once the client
    /// went away.
    pub(crate) static INTERRUPT: Arc<Interrupt>;
}

/// The current request's interrupt, if any.
pub(crate) fn current_interrupt() -> Option<Arc<Interrupt>> {
    INTERRUPT.try_with(Arc::clone).ok()
}

/// Cancels a request's interrupt when dropped: when the request is answered,
/// or when its future is dropped because the client went away (the engine
/// work on the blocking pool then stops too).
pub(crate) struct CancelOnDrop(pub(crate) Arc<Interrupt>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs a check: in place when the store answers reads from memory (a
/// hand-off to the blocking pool would cost more than the work), else as
/// [`blocking`]. Expands and lookups, whose work grows with the data, always
/// go to the blocking pool so they cannot hold up the event loop.
pub(crate) async fn evaluate<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Scope<'_>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    if state.memory_reads {
        return Interrupt::run(current_interrupt(), || f(&Scope::new(state)));
    }
    blocking(state, f).await
}

/// The read replicas behind a store (the store itself, or the store under
/// its cache), for the consistency choice (`consistency.rs`).
trait ReplicaView: Send + Sync {
    fn replicated(&self) -> &ReplicatedStore;
}

impl ReplicaView for ReplicatedStore {
    fn replicated(&self) -> &ReplicatedStore {
        self
    }
}

impl ReplicaView for ObjectCache<ReplicatedStore> {
    fn replicated(&self) -> &ReplicatedStore {
        self.durable()
    }
}

/// A store as a server holds it, and the read replicas whose heads route
/// its reads, if any.
type OpenedStore = (Arc<dyn Store>, Option<Arc<dyn ReplicaView>>);

/// The store `settings` name, with the read cache they ask for, and the
/// read replicas behind it if any. `db` names the database in errors.
fn open_store(settings: &Settings, db: &str) -> Result<OpenedStore, ServeError> {
    use config::CacheSize;
    let failed = |reason: String| ServeError::Store {
        db: db.to_owned(),
        reason,
    };
    let text = |e: crate::store::StoreError| failed(e.to_string());
    let replicas = &settings.db_read_replicas;
    Ok(
        match (Location::parse(&settings.db), settings.effective_cache()) {
            (Location::Sqlite(path), CacheSize::Full) => {
                let sqlite = SqliteStore::open(&path).map_err(text)?;
                (Arc::new(CachedStore::new(sqlite).map_err(text)?), None)
            }
            (Location::Postgres(url), CacheSize::Bytes(bytes)) if !replicas.is_empty() => {
                let replicated = replicated_store(&url, replicas, db)?;
                let cached = Arc::new(ObjectCache::new(replicated, bytes).map_err(text)?);
                (cached.clone(), Some(cached))
            }
            (Location::Postgres(url), CacheSize::Bytes(bytes)) => {
                let postgres = PostgresStore::connect(&url).map_err(text)?;
                (
                    Arc::new(ObjectCache::new(postgres, bytes).map_err(text)?),
                    None,
                )
            }
            (Location::Postgres(url), CacheSize::Off) if !replicas.is_empty() => {
                let replicated = Arc::new(replicated_store(&url, replicas, db)?);
                (replicated.clone(), Some(replicated))
            }
            // Over read replicas too: the mirror answers what it applied,
            // and only reads above that go to a replica (or the primary),
            // so requests are not routed by the replicas' heads.
            (Location::Postgres(url), CacheSize::Full) if !replicas.is_empty() => {
                let replicated = replicated_store(&url, replicas, db)?;
                (Arc::new(MirrorStore::new(replicated).map_err(text)?), None)
            }
            (Location::Postgres(url), CacheSize::Full) => {
                let postgres = PostgresStore::connect(&url).map_err(text)?;
                (Arc::new(MirrorStore::new(postgres).map_err(text)?), None)
            }
            (Location::Sqlite(_), CacheSize::Bytes(_)) => {
                return Err(failed(
                    "a bounded `cache_size` is for PostgreSQL; a SQLite store is mirrored \
                        whole (`full`, the default) or read directly (`off`)"
                        .to_owned(),
                ))
            }
            (location, _) => (Arc::from(location.open().map_err(text)?), None),
        },
    )
}

/// The schema at `path`, loaded as every command loads it
/// ([`crate::load::load_schema`]), with its errors as a [`ServeError`].
fn schema_at(path: &Path) -> Result<Schema, ServeError> {
    let (sources, compilation) =
        load::load_schema(path, &load::Limits::default()).map_err(|e| ServeError::SchemaFile {
            path: path.display().to_string(),
            reason: e.with_cause(),
        })?;
    match compilation.schema {
        Some(schema) => Ok(schema),
        None => Err(ServeError::SchemaErrors {
            path: path.display().to_string(),
            diagnostics: crate::diagnostics::render_plain(&sources, &compilation.diagnostics),
        }),
    }
}

/// Refuses a schema under which stored tuples would be invalid: lists (up
/// to 50 of) them. `Err(Err(_))` is a store failure.
pub(crate) fn check_stored_tuples(
    schema: &Schema,
    store: &dyn TupleStore,
    head: Revision,
) -> Result<(), Result<ServeError, crate::store::StoreError>> {
    let mut page = PageRequest::first(10_000);
    let mut listing = Vec::new();
    let mut count = 0;
    let reader = store.snapshot(head).map_err(Err)?;
    loop {
        let result = reader.list(&TupleFilter::default(), &page).map_err(Err)?;
        for tuple in &result.items {
            if let Err(error) = crate::tuple::validate_tuple(schema, tuple) {
                count += 1;
                if listing.len() < 50 {
                    listing.push(format!("  {tuple}: {error}"));
                }
            }
        }
        match result.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    if count > listing.len() {
        listing.push(format!("  … and {} more", count - listing.len()));
    }
    if count > 0 {
        return Err(Ok(ServeError::InvalidTuples { count, listing }));
    }
    Ok(())
}

/// The request id of the current request.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Per-request bookkeeping: request id, load shedding, the Keto error
/// body, metrics and a log line.
pub async fn track(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| state.next_request_id(), str::to_owned);
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let endpoint = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = req.method().clone();
    let span = tracing::debug_span!(
        "http",
        otel.name = format!("{method} {endpoint}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = endpoint,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
        request_id = id.as_str(),
    );
    telemetry::adopt_parent(&span, req.headers());
    let mut response = match state.inflight.clone().try_acquire_owned() {
        Ok(permit) => {
            req.extensions_mut().insert(RequestId(id.clone()));
            // Evaluations stop past the read timeout, or when the client
            // goes away (this future is dropped).
            let interrupt = Arc::new(Interrupt::new(
                Instant::now().checked_add(state.settings.read_timeout),
            ));
            let _cancel = CancelOnDrop(interrupt.clone());
            let response = INTERRUPT
                .scope(
                    interrupt,
                    tracing::Instrument::instrument(next.run(req), span.clone()),
                )
                .await;
            drop(permit);
            response
        }
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            format!(
                "too many requests in flight (at most {}); retry shortly",
                state.settings.max_inflight
            ),
        )
        .into_response(),
    };
    let status = response.status();
    let error = response.extensions_mut().remove::<ApiError>().or_else(|| {
        // Errors from the framework (unknown route, wrong method) get the
        // same body as ours.
        (status.as_u16() >= 400 && !response.headers().contains_key("content-type")).then(|| {
            let message = match status {
                StatusCode::NOT_FOUND => "no such endpoint".to_owned(),
                StatusCode::METHOD_NOT_ALLOWED => {
                    format!("method {method} is not allowed on this endpoint")
                }
                other => other.canonical_reason().unwrap_or("error").to_lowercase(),
            };
            ApiError::new(status, "http_error", message)
        })
    });
    if let Some(error) = &error {
        let mut fresh = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            error.body(&id),
        )
            .into_response();
        for (name, value) in response.headers() {
            if name != "content-length" && name != "content-type" {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = fresh;
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let elapsed = started.elapsed();
    span.record("http.response.status_code", status.as_u16());
    if let Some(error) = error.as_ref().filter(|_| status.is_server_error()) {
        telemetry::mark_error(&span, &error.message);
    }
    metrics::record_request(endpoint, method.as_str(), status.as_u16(), elapsed);
    let latency_us = elapsed.as_micros() as u64;
    if status.is_server_error() {
        tracing::error!(request_id = %id, %method, endpoint, status = status.as_u16(), latency_us,
            error = error.as_ref().map(|e| e.message.as_str()).unwrap_or(""), "request failed");
    } else if status.is_client_error() && error.is_some() {
        tracing::info!(request_id = %id, %method, endpoint, status = status.as_u16(), latency_us,
            error = error.as_ref().map(|e| e.message.as_str()).unwrap_or(""), "request refused");
    } else {
        tracing::debug!(request_id = %id, %method, endpoint, status = status.as_u16(), latency_us, "request");
    }
    response
}

async fn alive() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.shutting_down.load(Ordering::Acquire) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "errors": { "shutdown": "the server is shutting down" } })),
        )
            .into_response();
    }
    let probe = blocking(&state, |s| Ok(s.store.head_revision()?)).await;
    match probe {
        Ok(_) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "errors": { "database": e.message } })),
        )
            .into_response(),
    }
}

/// `server` tells a client (`zanzi status`) that zanzi answers.
async fn version() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "server": crate::api::native::SERVER_NAME,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// A panic in a handler (a bug) is answered 500 in the usual error shape,
/// and the server goes on.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "a request handler panicked");
    ApiError::internal("the server failed to answer this request (a bug); it was logged")
        .into_response()
}

fn common(router: Router<Arc<AppState>>, state: &Arc<AppState>, api: auth::Api) -> Router {
    let mut router = router
        .route("/health/alive", get(alive))
        .route("/health/ready", get(ready))
        .route("/version", get(version));
    // Only what is configured is layered: a layer costs every request.
    // The rate limit counts a client by its credential once the credential
    // was accepted (it is inside the auth layer): made-up credentials get
    // no buckets.
    if state.rate_limits.is_some() {
        router = router.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit,
        ));
    }
    if state.auth.is_enabled() {
        router = router.layer(axum::middleware::from_fn_with_state(
            (state.clone(), api),
            auth::rest,
        ));
    }
    router
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state.clone())
}

/// The read API: Keto's read endpoints and zanzi's own.
pub fn read_router(state: &Arc<AppState>) -> Router {
    let router = native::routes(keto::read_routes(Router::new()))
        .route("/openapi.json", get(openapi::serve));
    common(router, state, auth::Api::Read)
}

/// The write API.
pub fn write_router(state: &Arc<AppState>) -> Router {
    common(keto::write_routes(Router::new()), state, auth::Api::Write)
}

pub fn metrics_router(state: &Arc<AppState>) -> Router {
    common(
        Router::new().route("/metrics/prometheus", get(metrics::serve)),
        state,
        auth::Api::Metrics,
    )
}

pub fn syntax_router(state: &Arc<AppState>) -> Router {
    common(
        Router::new().route("/opl/syntax/check", post(native::syntax_check)),
        state,
        auth::Api::Syntax,
    )
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    pub read: SocketAddr,
    pub write: SocketAddr,
    pub metrics: SocketAddr,
    pub syntax: SocketAddr,
    pub state: Arc<AppState>,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    gc: tokio::task::JoinHandle<()>,
    /// The listeners' TLS certificates, if any.
    certificates: Arc<tls::Certificates>,
}

impl Running {
    /// Stops accepting, waits for requests in flight, then returns.
    pub async fn shutdown(self) {
        self.state.shutting_down.store(true, Ordering::Release);
        let _ = self.shutdown.send(true);
        self.wait().await;
    }

    /// Rereads every TLS certificate now, as SIGHUP does: new
    /// connections get the new ones; a file that fails keeps its old one.
    pub fn reload_tls(&self) {
        self.certificates.reload_all();
    }

    /// Waits until the server has stopped (after a shutdown signal).
    pub async fn wait(self) {
        for task in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "listener failed"),
                Err(e) => tracing::error!(error = %e, "listener task failed"),
            }
        }
        self.gc.abort();
    }
}

async fn bind(host: std::net::IpAddr, port: u16) -> Result<tokio::net::TcpListener, ServeError> {
    let addr = SocketAddr::new(host, port);
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Bind {
            addr: addr.to_string(),
            reason: e.to_string(),
        })
}

/// Accepts connections until `stop` turns true, then lets every open
/// connection finish the request it is serving (idle ones close at once)
/// and returns once all have closed.
///
/// A connection speaks HTTP/1.1 or HTTP/2 (cleartext, prior knowledge:
/// gRPC), told apart by its first bytes; each request goes to `grpc` when
/// it is a gRPC call ([`grpc::is_grpc`]) and the listener has gRPC routes,
/// else to `router`. Beyond `axum::serve`: a header read timeout (hyper's,
/// which also closes a kept-alive HTTP/1.1 connection that stays idle that
/// long), so that connections that never finish a request do not pile up,
/// and a bound on the HTTP/2 streams of one connection.
///
/// With `tls`, each connection first does its TLS handshake, in its own
/// task (a slow client does not hold up `accept`) and within the read
/// timeout; a failed handshake closes only that connection.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    router: Router,
    grpc: Option<Router>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    settings: &Settings,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt as _;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.read_timeout);
    http.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(settings.grpc_max_streams)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(settings.read_timeout);
    // Shared with the connections' tasks, which build their connection
    // once the handshake is done.
    let http = Arc::new(http);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: the connections already
                // open go on; try again shortly rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Answers are small and written at once: send them without delay.
        let _ = stream.set_nodelay(true);
        let rest = router.clone();
        let grpc = grpc.clone();
        let service =
            hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
                // Who is calling, for the rate limits of both protocols.
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let target = match &grpc {
                    Some(grpc) if grpc::is_grpc(&request) => grpc.clone(),
                    _ => rest.clone(),
                };
                target.oneshot(request.map(axum::body::Body::new))
            });
        let Some(tls) = &tls else {
            let connection = graceful.watch(
                http.serve_connection(TokioIo::new(stream), service)
                    .into_owned(),
            );
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection closed with an error");
                }
            });
            continue;
        };
        let (tls, http, watcher) = (tls.clone(), Arc::clone(&http), graceful.watcher());
        let handshake_timeout = settings.read_timeout;
        let mut stopping = stop.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(handshake_timeout, tls.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!("TLS handshake timed out");
                        return;
                    }
                },
                // A connection with no request yet need not hold up a shutdown.
                _ = stopping.wait_for(|stop| *stop) => return,
            };
            let connection = http.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Binds the four listeners and starts serving; `signal` resolving starts
/// a graceful shutdown.
pub async fn start(
    state: Arc<AppState>,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, ServeError> {
    metrics::install();
    let s = &state.settings;
    state.auth.prepare().await?;
    if let Some(warning) = auth::exposure_warning(s) {
        for line in warning.lines() {
            tracing::warn!("{line}");
        }
    }
    // Certificates first: a bad one stops the server before it listens.
    let mut certificates = tls::Certificates::default();
    let mut acceptors = Vec::new();
    for listener in config::Listener::ALL {
        let tls = match s.listener_cert(listener)? {
            Some(files) => {
                let cert = certificates.get_or_load(files.clone())?;
                let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(cert)?);
                Some((acceptor, files))
            }
            None => None,
        };
        acceptors.push((listener, tls));
    }
    let health = tonic_health::server::HealthReporter::new();
    let grpc_router = |port| Some(grpc::router(&state, port, &health));
    let listeners = [
        (
            bind(s.host, s.read_port).await?,
            read_router(&state),
            grpc_router(grpc::Port::Read),
        ),
        (
            bind(s.host, s.write_port).await?,
            write_router(&state),
            grpc_router(grpc::Port::Write),
        ),
        (
            bind(s.host, s.metrics_port).await?,
            metrics_router(&state),
            None,
        ),
        (
            bind(s.host, s.syntax_port).await?,
            syntax_router(&state),
            grpc_router(grpc::Port::Syntax),
        ),
    ];
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut addrs = Vec::new();
    let mut tasks = Vec::new();
    for ((listener, router, grpc), (name, tls)) in listeners.into_iter().zip(acceptors) {
        let addr = listener.local_addr().map_err(|e| ServeError::Bind {
            addr: "?".into(),
            reason: e.to_string(),
        })?;
        addrs.push(addr);
        if let Some((_, files)) = &tls {
            tracing::info!(listener = name.name(), %addr, cert = %files.cert.display(), "serving TLS");
        }
        let rx = rx.clone();
        let state = state.clone();
        let tls = tls.map(|(acceptor, _)| acceptor);
        tasks.push(tokio::spawn(async move {
            serve_connections(listener, router, grpc, tls, &state.settings, rx).await
        }));
    }
    let certificates = Arc::new(certificates);
    if !certificates.is_empty() {
        tokio::spawn(tls::reload_loop(Arc::clone(&certificates), rx.clone()));
    }
    let signal_tx = tx.clone();
    let signal_state = state.clone();
    tokio::spawn(async move {
        signal.await;
        signal_state.shutting_down.store(true, Ordering::Release);
        let _ = signal_tx.send(true);
    });
    // gRPC health checks see the shutdown as REST's `/health/ready` does.
    let mut stopping = rx.clone();
    let reporter = health.clone();
    tokio::spawn(async move {
        if stopping.wait_for(|stop| *stop).await.is_ok() {
            reporter
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
        }
    });
    let gc = tokio::spawn(gc_loop(state.clone()));
    if state.rate_limits.is_some() {
        tokio::spawn(limits::forget_idle_clients(Arc::downgrade(&state)));
    }
    if matches!(Location::parse(&state.settings.db), Location::Postgres(_)) {
        tokio::spawn(follow_loop(state.clone(), rx.clone()));
    }
    let [read, write, metrics, syntax] = addrs.as_slice() else {
        return Err(ServeError::Bind {
            addr: "?".into(),
            reason: "listeners missing".into(),
        });
    };
    tracing::info!(%read, %write, %metrics, %syntax, schema = %state.schema().hash, "zanzi serving");
    Ok(Running {
        read: *read,
        write: *write,
        metrics: *metrics,
        syntax: *syntax,
        state: state.clone(),
        shutdown: tx,
        tasks,
        gc,
        certificates,
    })
}

/// How often a server on a shared database looks at what other servers did.
const FOLLOW_HEAD: Duration = Duration::from_millis(100);
const FOLLOW_SCHEMA: Duration = Duration::from_secs(1);

/// On a database other servers share: keeps the newest revision this
/// server reads at (`minimize_latency`) moving with their writes, the
/// horizon with their garbage collection, and the schema with the one
/// they store (`zanzi schema push`, or a server started with another).
async fn follow_loop(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(FOLLOW_HEAD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_schema_check = Instant::now();
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let check_schema = last_schema_check.elapsed() >= FOLLOW_SCHEMA;
        if check_schema {
            last_schema_check = Instant::now();
        }
        let result = blocking(&state, move |s| {
            let head = s.store.local_head()?;
            s.saw(head);
            // Tokens of other servers' writes are checked from memory.
            s.remember_history(head);
            if !check_schema {
                return Ok(());
            }
            s.horizon
                .fetch_max(s.store.gc_horizon()?.0, Ordering::AcqRel);
            let stored = s.store.schema_hash()?;
            if stored.as_deref().is_some_and(|hash| *hash != s.schema.hash) {
                if let Some(schema) = s.store.load_schema()? {
                    tracing::info!(
                        from = %s.schema.hash,
                        to = %schema.hash,
                        "another server stored a new schema; answering with it from now on"
                    );
                    s.replace_schema(schema);
                }
            }
            Ok(())
        })
        .await;
        if let Err(error) = result {
            tracing::debug!(error = %error.message, "following the shared database failed; retrying");
        }
    }
}

/// Every `gc_interval`, deletes the tuples whose expiry has passed (see
/// [`collect_expired`]) and collects the history older than the revision that
/// was the head `retention` ago: the newest committed by then, from the
/// store's commit times, which outlive a restart. Stores without commit
/// times (in memory) fall back to heads noted by this loop.
async fn gc_loop(state: Arc<AppState>) {
    let mut samples: VecDeque<(Instant, Revision)> = VecDeque::new();
    let mut ticker = tokio::time::interval(state.settings.gc_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match collect_expired(&state).await {
            Ok(0) => {}
            Ok(removed) => {
                ::metrics::counter!("zanzi_gc_expired_tuples_total").increment(removed);
                tracing::info!(removed, "deleted expired tuples");
            }
            Err(e) => tracing::error!(error = %e.message, "deleting expired tuples failed"),
        }
        let now = Instant::now();
        samples.push_back((now, state.known_head()));
        let mut cutoff = None;
        while let Some(&(at, rev)) = samples.front() {
            if now.duration_since(at) >= state.settings.retention {
                cutoff = Some(rev);
                samples.pop_front();
            } else {
                break;
            }
        }
        let window_start = std::time::SystemTime::now()
            .checked_sub(state.settings.retention)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        if let Some(millis) = window_start {
            match blocking(&state, move |s| Ok(s.store.revision_as_of(millis)?)).await {
                Ok(committed) => cutoff = cutoff.max(committed),
                Err(e) => tracing::error!(error = %e.message, "reading commit times failed"),
            }
        }
        let Some(before) = cutoff else { continue };
        if before <= state.horizon() {
            continue;
        }
        let result = blocking(&state, move |s| {
            let started = Instant::now();
            let removed = s.store.gc(before)?;
            s.horizon
                .fetch_max(s.store.gc_horizon()?.0, Ordering::AcqRel);
            Ok((removed, started.elapsed()))
        })
        .await;
        match result {
            Ok((removed, took)) => {
                ::metrics::counter!("zanzi_gc_removed_versions_total").increment(removed);
                tracing::info!(before = %before, removed, took_ms = took.as_millis() as u64, "garbage-collected old tuple versions");
            }
            Err(e) => tracing::error!(error = %e.message, "garbage collection failed"),
        }
    }
}

/// How many expired tuples one round of the collector deletes at most, in
/// one write: a backlog goes over several rounds, never as one huge write.
const EXPIRED_PER_ROUND: usize = 10_000;

/// Deletes up to [`EXPIRED_PER_ROUND`] tuples whose expiry has passed by
/// the server's clock, as one write at a new revision (so every follower of
/// the change feed sees it); returns how many. Reads ignore expired tuples
/// already: this only keeps them from piling up.
pub async fn collect_expired(state: &Arc<AppState>) -> Result<u64, ApiError> {
    blocking(state, |s| {
        let removed = s
            .store
            .gc_expired(crate::tuple::Expiry::now(), EXPIRED_PER_ROUND)?;
        if removed > 0 {
            s.refresh_head()?;
        }
        Ok(removed)
    })
    .await
}

/// Runs a garbage collection now (tests and operators): collects history
/// before `before` and raises the horizon.
pub async fn collect_now(state: &Arc<AppState>, before: Revision) -> Result<u64, ApiError> {
    blocking(state, move |s| {
        let removed = s.store.gc(before)?;
        s.horizon
            .fetch_max(s.store.gc_horizon()?.0, Ordering::AcqRel);
        Ok(removed)
    })
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Sets up logging for the process (once), and trace export when
/// `otlp_endpoint` is set: call it inside the Tokio runtime the server runs
/// on, and [`telemetry::Telemetry::shutdown`] the answer once it stopped.
pub fn init_logging(settings: &Settings) -> telemetry::Telemetry {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{EnvFilter, Layer as _, Registry};
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::stderr().is_terminal())
        // A log reader that goes away must not take the server with it:
        // reporting the failed write would itself fail, and panic.
        .log_internal_errors(false);
    let fmt: Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync> = match settings.log_format
    {
        config::LogFormat::Json => Box::new(fmt.json().with_filter(filter)),
        config::LogFormat::Human => Box::new(fmt.with_filter(filter)),
    };
    let (telemetry, failed) = match settings.otlp_endpoint.as_deref() {
        Some(endpoint) => match telemetry::Telemetry::otlp(endpoint) {
            Ok(telemetry) => (telemetry, None),
            Err(e) => (telemetry::Telemetry::default(), Some(e)),
        },
        None => (telemetry::Telemetry::default(), None),
    };
    let otlp = telemetry.tracer().map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(Targets::new().with_target("zanzi", LevelFilter::DEBUG))
    });
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otlp)
        .try_init();
    match (failed, settings.otlp_endpoint.as_deref()) {
        (Some(e), Some(endpoint)) => {
            tracing::error!(endpoint, error = %e, "cannot export traces; going on without")
        }
        (None, Some(endpoint)) => tracing::info!(endpoint, "exporting traces over OTLP"),
        _ => {}
    }
    telemetry
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn run(settings: Settings) -> Result<(), ServeError> {
    // A bad certificate is reported before the database is opened (or
    // migrated); `start` loads them again for serving.
    for listener in config::Listener::ALL {
        if let Some(files) = settings.listener_cert(listener)? {
            tls::load(&files)?;
        }
    }
    let state = Arc::new(tokio::task::block_in_place(|| AppState::open(settings))?);
    let running = start(state, shutdown_signal()).await?;
    running.wait().await;
    tracing::info!("stopped");
    Ok(())
}
