//! `zanzi serve` and `zanzi status`: settings from flags, the environment
//! and a config file (see [`crate::server::config`]), then the server.

use std::path::PathBuf;
use std::process::ExitCode;

use miette::{miette, IntoDiagnostic};

use crate::server::config::{LogFormat, Settings};

/// The flags of `zanzi serve`; each overrides the config file and `ZANZI_*`.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// The schema: a `.zanzi` file, a directory of them, a compiled `.json` IR,
    /// or a Keto (`.ts`), SpiceDB (`.zed`) or OpenFGA (`.fga`, `.json`) schema
    /// (default: the one stored in the database).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The database, created or migrated on first start: a SQLite file, a
    /// PostgreSQL URL (`postgres://user@host:port/db`), or `:memory:`.
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,
    /// A PostgreSQL hot standby of `--db` to serve reads from (repeatable);
    /// reads at a revision it has not replayed go to `--db`.
    #[arg(long = "db-read-replica", value_name = "URL")]
    pub db_read_replica: Vec<String>,
    /// A YAML config file (flat `key: value`; see docs/api.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on (default 127.0.0.1).
    #[arg(long)]
    pub host: Option<String>,
    /// Read API port (default 4466; 0 for any free port).
    #[arg(long)]
    pub read_port: Option<u16>,
    /// Write API port (default 4467).
    #[arg(long)]
    pub write_port: Option<u16>,
    /// Metrics port (default 4468).
    #[arg(long)]
    pub metrics_port: Option<u16>,
    /// Syntax-check port (default 4469).
    #[arg(long)]
    pub syntax_port: Option<u16>,
    /// Depth limit of checks (requests may only lower it).
    #[arg(long)]
    pub max_depth: Option<u32>,
    /// How long old snapshots stay readable, in seconds (default 3600).
    #[arg(long, value_name = "SECS")]
    pub retention_secs: Option<u64>,
    /// Log format.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter (`info`, `debug`, `zanzi=debug`, …).
    #[arg(long)]
    pub log_level: Option<String>,
    /// Start even if stored tuples do not fit the schema (they are then ignored).
    #[arg(long)]
    pub allow_invalid_tuples: bool,
    /// Read SQLite directly instead of through an in-memory mirror (less
    /// memory, slower checks).
    #[arg(long)]
    pub no_cache: bool,
    /// The read cache: `full` (a mirror of every tuple: SQLite's default;
    /// over PostgreSQL it follows the change feed),
    /// a size such as `256MiB` (a bounded cache of whole objects, kept
    /// current by the change feed: PostgreSQL's default, 256MiB), or `off`.
    #[arg(long, value_name = "full|SIZE|off")]
    pub cache_size: Option<String>,
    /// Send OpenTelemetry traces over OTLP/gRPC to this collector
    /// (`http://localhost:4317`); off when unset. A request's W3C
    /// `traceparent` becomes the parent of its spans.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// A key clients may send as `Authorization: Bearer KEY`, valid on
    /// every API (repeatable: several keys are valid at once, for
    /// rotation). Flags show in process listings: prefer
    /// `--auth-keys-file` or `ZANZI_AUTH_KEYS`.
    #[arg(long = "auth-key", value_name = "KEY")]
    pub auth_key: Vec<String>,
    /// A file of keys valid on every API, one a line (`#` comments and
    /// blank lines are skipped).
    #[arg(long, value_name = "FILE")]
    pub auth_keys_file: Option<PathBuf>,
    /// Accept JWTs signed by a key of this JWKS (a file, or an http(s)
    /// URL fetched at start and when a token names an unknown key).
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// The issuer (`iss`) a JWT must name.
    #[arg(long, value_name = "ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The audience (`aud`) a JWT must name.
    #[arg(long, value_name = "AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Serve beyond loopback without any credential, and without the
    /// warning that anyone who reaches the ports can change every tuple.
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Serve TLS on every listener with this certificate chain (PEM);
    /// reread on SIGHUP and when the file changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// A file holding the secret that signs snapshot and page tokens
    /// (required on PostgreSQL; there is no flag for the secret itself,
    /// which process listings would show).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
}

impl ServeArgs {
    /// The effective settings: defaults < config file < environment < flags.
    pub fn settings(
        &self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Settings, Vec<String>), crate::server::config::ConfigError> {
        let mut s = Settings::default();
        if let Some(path) = &self.config {
            s.apply_file(path)?;
        }
        let ignored = s.apply_env(env)?;
        let flags: Vec<(&str, Option<String>)> = vec![
            (
                "schema",
                self.schema.as_ref().map(|p| p.display().to_string()),
            ),
            ("db", self.db.clone()),
            ("host", self.host.clone()),
            ("read_port", self.read_port.map(|v| v.to_string())),
            ("write_port", self.write_port.map(|v| v.to_string())),
            ("metrics_port", self.metrics_port.map(|v| v.to_string())),
            ("syntax_port", self.syntax_port.map(|v| v.to_string())),
            ("max_depth", self.max_depth.map(|v| v.to_string())),
            ("retention_secs", self.retention_secs.map(|v| v.to_string())),
            (
                "log_format",
                self.log_format.map(|f| match f {
                    LogFormat::Human => "human".to_owned(),
                    LogFormat::Json => "json".to_owned(),
                }),
            ),
            ("log_level", self.log_level.clone()),
            (
                "allow_invalid_tuples",
                self.allow_invalid_tuples.then(|| "true".to_owned()),
            ),
            ("cache_tuples", self.no_cache.then(|| "false".to_owned())),
            ("cache_size", self.cache_size.clone()),
            ("otlp_endpoint", self.otlp_endpoint.clone()),
            (
                "auth_keys_file",
                self.auth_keys_file
                    .as_ref()
                    .map(|p| p.display().to_string()),
            ),
            ("jwks", self.jwks.clone()),
            ("jwt_issuer", self.jwt_issuer.clone()),
            ("jwt_audience", self.jwt_audience.clone()),
            (
                "insecure_no_auth",
                self.insecure_no_auth.then(|| "true".to_owned()),
            ),
            (
                "tls_cert",
                self.tls_cert.as_ref().map(|p| p.display().to_string()),
            ),
            (
                "tls_key",
                self.tls_key.as_ref().map(|p| p.display().to_string()),
            ),
            (
                "secret_file",
                self.secret_file.as_ref().map(|p| p.display().to_string()),
            ),
        ];
        for (key, value) in flags {
            if let Some(value) = value {
                s.apply(&format!("--{}", key.replace('_', "-")), key, &value)?;
            }
        }
        if !self.auth_key.is_empty() {
            s.set_keys("--auth-key", "auth_keys", self.auth_key.clone())?;
        }
        if !self.db_read_replica.is_empty() {
            s.set_read_replicas("--db-read-replica", self.db_read_replica.clone())?;
        }
        s.check()?;
        Ok((s, ignored))
    }
}

pub fn run(args: &ServeArgs) -> miette::Result<ExitCode> {
    let (settings, ignored) = args
        .settings(std::env::vars())
        .map_err(|e| miette!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    // The trace exporter's channel runs on the server's runtime.
    let telemetry = {
        let _inside = runtime.enter();
        crate::server::init_logging(&settings)
    };
    for name in ignored {
        tracing::warn!(variable = %name, "ignoring an environment variable that is not a server setting");
    }
    let served = runtime.block_on(crate::server::run(settings));
    // The last spans (the shutdown's) go out before the runtime stops.
    telemetry.shutdown();
    served.map_err(|e| match e {
        // As every command reports its database: one line naming --db.
        crate::server::ServeError::Store { db, reason } => miette!("--db `{db}`: {reason}"),
        e => miette!("{e}"),
    })?;
    Ok(ExitCode::SUCCESS)
}
