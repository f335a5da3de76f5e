//! Server settings from three layers, later ones winning: the YAML config
//! file (`--config zanzi.yaml`), environment variables (`ZANZI_<KEY>`, e.g.
//! `ZANZI_MAX_DEPTH=16`), then command-line flags.
//!
//! Every layer goes through [`Settings::apply`], so a key means the same
//! everywhere and a mistake is reported with the key and the layer it came
//! from. The YAML file is flat: `key: value` per line, the keys of
//! [`KEYS`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use yaml_rust2::{Yaml, YamlLoader};

use super::secret::{ApiKey, Secret};

mod tls;
use tls::tls_setting;
pub use tls::{CertFiles, Listener, TlsPair};

/// Every setting, as written in the config file (and, upper-cased with a
/// `ZANZI_` prefix, in the environment).
pub const KEYS: &[&str] = &[
    "schema",
    "db",
    "host",
    "read_port",
    "write_port",
    "metrics_port",
    "syntax_port",
    "max_depth",
    "secret",
    "secret_file",
    "secret_previous",
    "secret_previous_file",
    "retention_secs",
    "gc_interval_secs",
    "read_timeout_secs",
    "body_limit",
    "max_inflight",
    "max_batch",
    "default_page_size",
    "max_page_size",
    "log_format",
    "log_level",
    "allow_invalid_tuples",
    "cache_tuples",
    "cache_size",
    "db_read_replicas",
    "grpc_max_message_bytes",
    "grpc_max_streams",
    "otlp_endpoint",
    "watch_max_stall_secs",
    "check_timeout_ms",
    "lookup_timeout_ms",
    "max_lookup_results",
    "max_expand_nodes",
    "rate_limit_per_sec",
    "rate_limit_burst",
    "auth_keys",
    "auth_keys_file",
    "auth_read_keys",
    "auth_write_keys",
    "jwks",
    "jwt_issuer",
    "jwt_audience",
    "jwt_leeway_secs",
    "insecure_no_auth",
    "tls_cert",
    "tls_key",
    "read_tls_cert",
    "read_tls_key",
    "write_tls_cert",
    "write_tls_key",
    "metrics_tls_cert",
    "metrics_tls_key",
    "syntax_tls_cert",
    "syntax_tls_key",
];

/// How reads are cached in the server's memory (`cache_size`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CacheSize {
    /// The store's default: a full mirror of a SQLite store, a bounded
    /// cache of [`DEFAULT_CACHE_BYTES`] over PostgreSQL.
    #[default]
    Auto,
    /// Read the store directly.
    Off,
    /// A full in-memory mirror of every tuple version (over PostgreSQL,
    /// kept current by the change feed).
    Full,
    /// At most this many bytes of cached objects (PostgreSQL).
    Bytes(u64),
}

/// The bounded cache's size when none is given: 256 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 256 << 20;

impl std::str::FromStr for CacheSize {
    type Err = String;

    /// `full`, `off` (or `0`), or a size: `268435456`, `256MiB`, `1GiB`,
    /// `512MB`, `64k`.
    fn from_str(text: &str) -> Result<CacheSize, String> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "auto" => return Ok(CacheSize::Auto),
            "full" => return Ok(CacheSize::Full),
            "off" | "0" => return Ok(CacheSize::Off),
            _ => {}
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| "expected `full`, `off` or a size such as `256MiB`".to_owned())?;
        let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1_000,
            "kib" => 1 << 10,
            "m" | "mb" => 1_000_000,
            "mib" => 1 << 20,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown unit `{other}`; use B, KB, KiB, MB, MiB, GB or GiB"
                ))
            }
        };
        match number.checked_mul(multiplier) {
            Some(0) => Ok(CacheSize::Off),
            Some(bytes) => Ok(CacheSize::Bytes(bytes)),
            None => Err("the size is too large".to_owned()),
        }
    }
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// The effective server settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `.zanzi` source or compiled IR `.json`.
    pub schema: Option<PathBuf>,
    /// A SQLite file, a PostgreSQL URL, or `:memory:` for an in-memory
    /// store (see [`crate::store::Location`]).
    pub db: String,
    pub host: IpAddr,
    /// 0 picks a free port.
    pub read_port: u16,
    pub write_port: u16,
    pub metrics_port: u16,
    pub syntax_port: u16,
    pub max_depth: u32,
    /// The HMAC key of snapshot and page tokens (`secret` or
    /// `secret_file`); random per process when unset, which only a server
    /// alone on its database may do (see [`super::secret`]).
    pub secret: Option<Secret>,
    /// A secret whose tokens are accepted too, while servers move from it
    /// to `secret` (`secret_previous` or `secret_previous_file`).
    pub secret_previous: Option<Secret>,
    /// How long old tuple versions stay readable through snapshot tokens.
    pub retention: Duration,
    pub gc_interval: Duration,
    /// How long a client may take to send a request's header (counted from
    /// the end of its previous request on a kept-alive connection) or its
    /// body; slower connections are closed, slower bodies answered 408.
    pub read_timeout: Duration,
    /// Largest request body in bytes (larger: 413).
    pub body_limit: usize,
    /// Requests served at once; more are answered 503 at once.
    pub max_inflight: usize,
    /// Most checks in one batch request.
    pub max_batch: usize,
    pub default_page_size: usize,
    pub max_page_size: usize,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Start even when stored tuples do not fit the schema.
    pub allow_invalid_tuples: bool,
    /// Keep a mirror of a SQLite store in memory for reads.
    pub cache_tuples: bool,
    /// The read cache: a full mirror, a bounded cache, or none.
    pub cache_size: CacheSize,
    /// PostgreSQL hot standbys of `db` that may serve reads (see
    /// [`crate::store::postgres::ReplicatedStore`]).
    pub db_read_replicas: Vec<String>,
    /// Largest gRPC message a client may send or be sent, in bytes (larger:
    /// `RESOURCE_EXHAUSTED`).
    pub grpc_max_message_bytes: usize,
    /// HTTP/2 streams (gRPC calls) open at once on one connection.
    pub grpc_max_streams: u32,
    /// Where to send OpenTelemetry traces (OTLP over gRPC,
    /// `http://collector:4317`); unset: no tracing export.
    pub otlp_endpoint: Option<String>,
    /// How long a Watch stream's consumer may read nothing while its
    /// buffer is full before the stream is cut off (it resumes from the
    /// token in the error).
    pub watch_max_stall: Duration,
    /// How long the engine may work on one check (also each check of a
    /// batch, and an explanation); past it: 504 `deadline_exceeded`.
    pub check_timeout: Duration,
    /// How long the engine may work on one lookup (or one page of one) or
    /// expand; past it: 504 `deadline_exceeded`.
    pub lookup_timeout: Duration,
    /// Most subjects one lookup of subjects may answer with (more: 422
    /// `result_too_large`); lookups of resources are paged instead.
    pub max_lookup_results: usize,
    /// Most nodes and leaf subjects one expand tree may have (more: 422
    /// `result_too_large`).
    pub max_expand_nodes: usize,
    /// Sustained requests per second one client may make (0: no limit);
    /// more are answered 429 (see [`super::limits`]).
    pub rate_limit_per_sec: u32,
    /// Requests one client may make at once after a quiet spell; `None`:
    /// as many as `rate_limit_per_sec`.
    pub rate_limit_burst: Option<u32>,
    /// Preshared keys valid on every API (see [`crate::server::auth`]).
    pub auth_keys: Vec<ApiKey>,
    /// A file of keys valid on every API, one a line: keeps them off the
    /// command line and out of the environment.
    pub auth_keys_file: Option<PathBuf>,
    /// Keys valid on the read API only.
    pub auth_read_keys: Vec<ApiKey>,
    /// Keys valid on the write API only.
    pub auth_write_keys: Vec<ApiKey>,
    /// A JWKS file or http(s) URL: JWTs signed by its keys are accepted.
    pub jwks: Option<String>,
    /// The `iss` a JWT must have, when set.
    pub jwt_issuer: Option<String>,
    /// The `aud` a JWT must have, when set.
    pub jwt_audience: Option<String>,
    /// Clock skew allowed on a JWT's `exp` and `nbf`.
    pub jwt_leeway: Duration,
    /// Serving beyond loopback without a credential is meant: no warning.
    pub insecure_no_auth: bool,
    /// Every listener's certificate and key (`tls_cert`, `tls_key`);
    /// none: cleartext.
    pub tls: TlsPair,
    /// One listener's own certificate and key (`read_tls_cert`, …), in
    /// place of [`Settings::tls`]; in the order of [`Listener::ALL`].
    pub listener_tls: [TlsPair; 4],
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            schema: None,
            db: "zanzi.db".into(),
            host: IpAddr::from([127, 0, 0, 1]),
            read_port: 4466,
            write_port: 4467,
            metrics_port: 4468,
            syntax_port: 4469,
            max_depth: crate::engine::DEFAULT_MAX_DEPTH,
            secret: None,
            secret_previous: None,
            retention: Duration::from_secs(3600),
            gc_interval: Duration::from_secs(60),
            read_timeout: Duration::from_secs(30),
            body_limit: 1024 * 1024,
            max_inflight: 1024,
            max_batch: 100,
            default_page_size: 100,
            max_page_size: 1000,
            log_format: LogFormat::Human,
            log_level: "info".into(),
            allow_invalid_tuples: false,
            cache_tuples: true,
            cache_size: CacheSize::Auto,
            db_read_replicas: Vec::new(),
            grpc_max_message_bytes: 4 * 1024 * 1024,
            grpc_max_streams: 100,
            otlp_endpoint: None,
            watch_max_stall: Duration::from_secs(10),
            // A healthy check takes micro- to milliseconds: one still going
            // after 5 s is stuck on pathological data and only holds a
            // worker, while lookups and expands grow with the data and get
            // more, still below `read_timeout` so that the answer names the
            // limit that was hit.
            check_timeout: Duration::from_secs(5),
            lookup_timeout: Duration::from_secs(20),
            // Some MB of JSON: as much as a client can use at once; more is
            // what paging (or a narrower question) is for.
            max_lookup_results: 100_000,
            max_expand_nodes: 100_000,
            rate_limit_per_sec: 0,
            rate_limit_burst: None,
            auth_keys: Vec::new(),
            auth_keys_file: None,
            auth_read_keys: Vec::new(),
            auth_write_keys: Vec::new(),
            jwks: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_leeway: Duration::from_secs(60),
            insecure_no_auth: false,
            tls: TlsPair::default(),
            listener_tls: Default::default(),
        }
    }
}

/// The command line's own `ZANZI_` variables (its remote mode): a server
/// started in the same shell passes over them without a warning.
pub const CLI_VARIABLES: &[&str] = &[
    "ZANZI_READ_REMOTE",
    "ZANZI_WRITE_REMOTE",
    "ZANZI_TOKEN",
    "ZANZI_CA_CERT",
    "ZANZI_CONTEXT",
    "ZANZI_CONFIG_DIR",
];

/// A setting that could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error(
        "{origin}: unknown setting `{key}`{}; known settings: {}",
        suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean `{s}`?)")),
        KEYS.join(", ")
    )]
    UnknownKey {
        origin: String,
        key: String,
        /// The closest known setting.
        suggestion: Option<String>,
    },
    #[error("{origin}: invalid value `{value}` for `{key}`: {reason}")]
    Invalid {
        origin: String,
        key: String,
        value: String,
        reason: String,
    },
    /// A secret setting (a key) that could not be used: never repeated.
    #[error("{origin}: invalid `{key}`: {reason}")]
    InvalidSecret {
        origin: String,
        key: String,
        reason: String,
    },
    #[error("`insecure_no_auth` (`--insecure-no-auth`) turns authentication off, yet credentials are configured ({configured}); drop one or the other")]
    InsecureWithCredentials { configured: String },
    #[error("cannot read the config file `{path}`: {reason}")]
    File { path: String, reason: String },
    /// Read replicas are PostgreSQL standbys: they need a PostgreSQL `db`.
    #[error(
        "`db_read_replicas` (`--db-read-replica`) needs a PostgreSQL `db` (postgres://…); \
         `{db}` is not one"
    )]
    ReplicasNeedPostgres { db: String },
    /// A certificate without its private key, or the reverse.
    #[error(
        "`{set}` is set but `{missing}` is not: a certificate and its private key go together"
    )]
    TlsHalf { set: String, missing: String },
}

fn parse<T: std::str::FromStr>(
    origin: &str,
    key: &str,
    value: &str,
    what: &str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid {
        origin: origin.to_owned(),
        key: key.to_owned(),
        value: value.to_owned(),
        reason: format!("expected {what}"),
    })
}

/// The secret in the file `path`, for the setting `key`; an error names
/// the setting and the path.
fn secret_file(origin: &str, key: &str, path: &str) -> Result<Secret, ConfigError> {
    Secret::from_file(path).map_err(|reason| ConfigError::Invalid {
        origin: origin.to_owned(),
        key: key.to_owned(),
        value: path.to_owned(),
        reason,
    })
}

impl Settings {
    /// The cache to run with: `cache_tuples = false` (`--no-cache`) is
    /// `off`, and `auto` becomes the store's default.
    pub fn effective_cache(&self) -> CacheSize {
        match (self.cache_tuples, self.cache_size) {
            (false, _) => CacheSize::Off,
            (true, CacheSize::Auto) => match crate::store::Location::parse(&self.db) {
                crate::store::Location::Postgres(_) => CacheSize::Bytes(DEFAULT_CACHE_BYTES),
                _ => CacheSize::Full,
            },
            (true, size) => size,
        }
    }

    /// Sets `key` from its text form; `origin` says where it came from.
    pub fn apply(&mut self, origin: &str, key: &str, value: &str) -> Result<(), ConfigError> {
        let secs = |v: &str| parse::<u64>(origin, key, v, "a number of seconds");
        let millis = |v: &str| parse::<u64>(origin, key, v, "a number of milliseconds");
        let count = |v: &str| parse::<usize>(origin, key, v, "a non-negative integer");
        let port = |v: &str| parse::<u16>(origin, key, v, "a port number (0 for any free port)");
        // Empty unsets, so that a layer can take back a file a lower one set.
        let file = |v: &str| Some(PathBuf::from(v.trim())).filter(|p| !p.as_os_str().is_empty());
        if let Some((listener, is_key)) = tls_setting(key) {
            let pair = self.listener_tls_mut(listener);
            match is_key {
                true => pair.key = file(value),
                false => pair.cert = file(value),
            }
            return Ok(());
        }
        match key {
            "schema" => self.schema = Some(PathBuf::from(value)),
            "db" => self.db = value.to_owned(),
            "host" => self.host = parse(origin, key, value, "an IP address")?,
            "read_port" => self.read_port = port(value)?,
            "write_port" => self.write_port = port(value)?,
            "metrics_port" => self.metrics_port = port(value)?,
            "syntax_port" => self.syntax_port = port(value)?,
            "max_depth" => {
                let depth: u32 = parse(origin, key, value, "a positive integer")?;
                if depth == 0 || depth > crate::engine::MAX_MAX_DEPTH {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_owned(),
                        key: key.to_owned(),
                        value: value.to_owned(),
                        reason: format!("must be 1..={}", crate::engine::MAX_MAX_DEPTH),
                    });
                }
                self.max_depth = depth;
            }
            "secret" => self.secret = Some(value.into()),
            "secret_file" => self.secret = Some(secret_file(origin, key, value)?),
            "secret_previous" => self.secret_previous = Some(value.into()),
            "secret_previous_file" => self.secret_previous = Some(secret_file(origin, key, value)?),
            "retention_secs" => self.retention = Duration::from_secs(secs(value)?),
            "gc_interval_secs" => self.gc_interval = Duration::from_secs(secs(value)?.max(1)),
            "read_timeout_secs" => self.read_timeout = Duration::from_secs(secs(value)?.max(1)),
            "body_limit" => self.body_limit = count(value)?,
            "max_inflight" => self.max_inflight = count(value)?.max(1),
            "max_batch" => self.max_batch = count(value)?.max(1),
            "default_page_size" => self.default_page_size = count(value)?.max(1),
            "max_page_size" => self.max_page_size = count(value)?.max(1),
            "log_format" => {
                self.log_format = match value.trim() {
                    "human" => LogFormat::Human,
                    "json" => LogFormat::Json,
                    _ => {
                        return Err(ConfigError::Invalid {
                            origin: origin.to_owned(),
                            key: key.to_owned(),
                            value: value.to_owned(),
                            reason: "expected `human` or `json`".into(),
                        })
                    }
                }
            }
            "log_level" => self.log_level = value.to_owned(),
            "allow_invalid_tuples" => {
                self.allow_invalid_tuples = parse(origin, key, value, "`true` or `false`")?
            }
            "cache_tuples" => self.cache_tuples = parse(origin, key, value, "`true` or `false`")?,
            "cache_size" => {
                self.cache_size = value.parse().map_err(|reason| ConfigError::Invalid {
                    origin: origin.to_owned(),
                    key: key.to_owned(),
                    value: value.to_owned(),
                    reason,
                })?
            }
            "db_read_replicas" => self.set_read_replicas(origin, split_urls(value))?,
            "grpc_max_message_bytes" => self.grpc_max_message_bytes = count(value)?.max(1024),
            "grpc_max_streams" => {
                let streams: u32 = parse(origin, key, value, "a positive integer")?;
                self.grpc_max_streams = streams.max(1);
            }
            "watch_max_stall_secs" => {
                self.watch_max_stall = Duration::from_secs(secs(value)?.max(1))
            }
            "check_timeout_ms" => self.check_timeout = Duration::from_millis(millis(value)?.max(1)),
            "lookup_timeout_ms" => {
                self.lookup_timeout = Duration::from_millis(millis(value)?.max(1))
            }
            "max_lookup_results" => self.max_lookup_results = count(value)?.max(1),
            "max_expand_nodes" => self.max_expand_nodes = count(value)?.max(1),
            "rate_limit_per_sec" => {
                self.rate_limit_per_sec =
                    parse(origin, key, value, "a number of requests (0: no limit)")?
            }
            "rate_limit_burst" => {
                let burst: u32 = parse(origin, key, value, "a number of requests (0: the rate)")?;
                self.rate_limit_burst = Some(burst).filter(|b| *b > 0);
            }
            "auth_keys" | "auth_read_keys" | "auth_write_keys" => {
                self.set_keys(origin, key, value.split(',').map(str::to_owned).collect())?
            }
            "auth_keys_file" => self.auth_keys_file = non_empty(value).map(PathBuf::from),
            "jwks" => self.jwks = non_empty(value),
            "jwt_issuer" => self.jwt_issuer = non_empty(value),
            "jwt_audience" => self.jwt_audience = non_empty(value),
            "jwt_leeway_secs" => {
                let leeway = secs(value)?;
                if leeway > MAX_JWT_LEEWAY_SECS {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_owned(),
                        key: key.to_owned(),
                        value: value.to_owned(),
                        reason: format!("must be at most {MAX_JWT_LEEWAY_SECS} seconds"),
                    });
                }
                self.jwt_leeway = Duration::from_secs(leeway);
            }
            "insecure_no_auth" => {
                self.insecure_no_auth = parse(origin, key, value, "`true` or `false`")?
            }
            "tls_cert" => self.tls.cert = file(value),
            "tls_key" => self.tls.key = file(value),
            "otlp_endpoint" => {
                self.otlp_endpoint = Some(value.trim().to_owned()).filter(|v| !v.is_empty())
            }
            _ => {
                return Err(ConfigError::UnknownKey {
                    origin: origin.to_owned(),
                    key: key.to_owned(),
                    suggestion: crate::diagnostics::suggest::closest(key, KEYS.iter().copied())
                        .map(str::to_owned),
                })
            }
        }
        Ok(())
    }

    /// Sets the keys of `key` (`auth_keys`, `auth_read_keys` or
    /// `auth_write_keys`); each layer replaces the list of the one below.
    /// Errors never repeat a key.
    pub fn set_keys(
        &mut self,
        origin: &str,
        key: &str,
        keys: Vec<String>,
    ) -> Result<(), ConfigError> {
        let keys = keys
            .iter()
            .enumerate()
            .map(|(index, text)| {
                ApiKey::new(text).map_err(|reason| ConfigError::InvalidSecret {
                    origin: origin.to_owned(),
                    key: key.to_owned(),
                    reason: if keys.len() > 1 {
                        format!("key {}: {reason}", index + 1)
                    } else {
                        reason
                    },
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        match key {
            "auth_read_keys" => self.auth_read_keys = keys,
            "auth_write_keys" => self.auth_write_keys = keys,
            _ => self.auth_keys = keys,
        }
        Ok(())
    }

    /// Sets the read replicas (each layer replaces the list of the one
    /// below); each must be a PostgreSQL URL.
    pub fn set_read_replicas(
        &mut self,
        origin: &str,
        urls: Vec<String>,
    ) -> Result<(), ConfigError> {
        for url in &urls {
            if !matches!(
                crate::store::Location::parse(url),
                crate::store::Location::Postgres(_)
            ) {
                return Err(ConfigError::Invalid {
                    origin: origin.to_owned(),
                    key: "db_read_replicas".to_owned(),
                    value: crate::store::location::without_password(url),
                    reason: "expected a PostgreSQL URL (postgres://user@host:port/db)".into(),
                });
            }
        }
        self.db_read_replicas = urls;
        Ok(())
    }

    /// The credential settings that are set (none: every API is open).
    pub fn credential_settings(&self) -> Vec<&'static str> {
        [
            ("auth_keys", !self.auth_keys.is_empty()),
            ("auth_keys_file", self.auth_keys_file.is_some()),
            ("auth_read_keys", !self.auth_read_keys.is_empty()),
            ("auth_write_keys", !self.auth_write_keys.is_empty()),
            ("jwks", self.jwks.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Checks what no single setting can: settings that only make sense
    /// together. Run once every layer is applied.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !self.db_read_replicas.is_empty()
            && !matches!(
                crate::store::Location::parse(&self.db),
                crate::store::Location::Postgres(_)
            )
        {
            return Err(ConfigError::ReplicasNeedPostgres {
                db: crate::store::Location::parse(&self.db).to_string(),
            });
        }
        if self.insecure_no_auth {
            let configured = self.credential_settings();
            if !configured.is_empty() {
                return Err(ConfigError::InsecureWithCredentials {
                    configured: configured.join(", "),
                });
            }
        }
        for listener in Listener::ALL {
            self.listener_cert(listener)?;
        }
        Ok(())
    }

    /// Applies a YAML config file's settings.
    pub fn apply_file(&mut self, path: &std::path::Path) -> Result<(), ConfigError> {
        let file_error = |reason: String| ConfigError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        self.apply_yaml(&path.display().to_string(), &text)
    }

    /// Applies the settings of a YAML document (`origin` names it in errors).
    pub fn apply_yaml(&mut self, origin: &str, text: &str) -> Result<(), ConfigError> {
        let file_error = |reason: String| ConfigError::File {
            path: origin.to_owned(),
            reason,
        };
        let docs = YamlLoader::load_from_str(text).map_err(|e| file_error(e.to_string()))?;
        let Some(doc) = docs.first() else {
            return Ok(());
        };
        let Yaml::Hash(map) = doc else {
            if doc.is_null() {
                return Ok(());
            }
            return Err(file_error("expected a mapping of `key: value`".into()));
        };
        for (key, value) in map {
            let Some(key) = key.as_str() else {
                return Err(file_error(format!("keys must be strings, got {key:?}")));
            };
            if let (Yaml::Array(items), "auth_keys" | "auth_read_keys" | "auth_write_keys") =
                (value, key)
            {
                let keys = items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        item.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| ConfigError::InvalidSecret {
                                origin: origin.to_owned(),
                                key: key.to_owned(),
                                reason: format!("item {}: expected a string", index + 1),
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.set_keys(origin, key, keys)?;
                continue;
            }
            if let (Yaml::Array(items), "db_read_replicas") = (value, key) {
                let urls = items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| ConfigError::Invalid {
                                origin: origin.to_owned(),
                                key: key.to_owned(),
                                value: format!("{item:?}"),
                                reason: "expected a list of PostgreSQL URLs".into(),
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.set_read_replicas(origin, urls)?;
                continue;
            }
            let text = match value {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                Yaml::Boolean(b) => b.to_string(),
                Yaml::Real(r) => r.clone(),
                _ => {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_owned(),
                        key: key.to_owned(),
                        value: format!("{value:?}"),
                        reason: "expected a single value".into(),
                    })
                }
            };
            self.apply(origin, key, &text)?;
        }
        Ok(())
    }

    /// Applies every `ZANZI_<KEY>` variable of `vars` whose key is a
    /// setting; returns the other `ZANZI_` names, for a warning (a misspelt
    /// setting should not pass silently, nor should `ZANZI_REMOTE` of the
    /// CLI stop a server).
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Vec<String>, ConfigError> {
        let mut ignored = Vec::new();
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("ZANZI_") else {
                continue;
            };
            if CLI_VARIABLES.contains(&name.as_str()) {
                continue;
            }
            let key = key.to_ascii_lowercase();
            if KEYS.contains(&key.as_str()) {
                self.apply(&format!("environment variable {name}"), &key, &value)?;
            } else {
                ignored.push(name);
            }
        }
        Ok(ignored)
    }
}

/// The largest `jwt_leeway_secs`: more would keep expired tokens usable.
pub const MAX_JWT_LEEWAY_SECS: u64 = 300;

/// A value, or `None` for an empty one (which unsets the setting).
fn non_empty(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A comma-separated list of URLs. A piece that does not start a URL
/// belongs to the one before: libpq URLs may list hosts with commas
/// (`postgres://h1:5432,h2:5432/db`).
fn split_urls(value: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for piece in value.split(',').map(str::trim) {
        let starts_url = piece.starts_with("postgres://") || piece.starts_with("postgresql://");
        match urls.last_mut() {
            Some(last) if !starts_url => {
                last.push(',');
                last.push_str(piece);
            }
            _ if piece.is_empty() => {}
            _ => urls.push(piece.to_owned()),
        }
    }
    urls
}

#[cfg(test)]
mod tests;
