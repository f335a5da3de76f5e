//! `zanzi status`: whether a server is ready, and whether it is the one
//! expected.
//!
//! Readiness may take a while (`--block` waits for it), but identity does
//! not change by waiting: a server that answers and is not zanzi, or
//! serves another database or schema than `--expect-db` and
//! `--expect-schema-hash` name, is reported at once with what differed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use miette::miette;

use super::context;
use super::local;
use super::remote::CredentialArgs;
use super::ColorMode;
use crate::api::native::StatusResult;
use crate::client::{Client, ClientError, READY_POLL};
use crate::store::Location;

/// The read API asked when neither a flag nor a context names one.
const DEFAULT_URL: &str = "http://127.0.0.1:4466";

/// The fewest hex digits `--expect-schema-hash` takes.
const MIN_HASH_PREFIX: usize = 8;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The server's read-API URL (default: the context's, else
    /// http://127.0.0.1:4466).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Ask the server of this named context rather than the current one.
    #[arg(long, value_name = "NAME", env = "ZANZI_CONTEXT")]
    pub context: Option<String>,
    /// Wait until the server is ready (up to --timeout seconds).
    #[arg(long)]
    pub block: bool,
    /// How long --block waits, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
    /// The database the server must serve: a SQLite file or PostgreSQL URL
    /// (the same database when its store id matches the server's, or when
    /// it names the server's --db).
    #[arg(long, value_name = "PATH|URL")]
    pub expect_db: Option<String>,
    /// The schema the server must answer with: its hash (`sha256:…`, or at
    /// least 8 leading hex digits), or a schema file whose compiled hash is
    /// compared.
    #[arg(long, value_name = "HASH|FILE")]
    pub expect_schema_hash: Option<String>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// The expected database: its display, and its store id when it could be
/// opened here.
struct ExpectedDb {
    shown: String,
    store_id: Option<String>,
}

/// What the server must be, worked out before the first probe.
struct Expected {
    db: Option<ExpectedDb>,
    /// Hex digits without `sha256:`; a prefix of the server's hash.
    schema_hash: Option<String>,
}

pub fn run(args: &StatusArgs, color: ColorMode) -> miette::Result<ExitCode> {
    let explicit = args.credentials.connection(args.remote.as_deref(), None);
    let mut connection =
        context::resolve(&explicit, args.context.as_deref()).map_err(|e| miette!("{e}"))?;
    let url = connection
        .read
        .get_or_insert_with(|| DEFAULT_URL.to_owned())
        .clone();
    let expected = Expected {
        db: args.expect_db.as_deref().map(expected_db),
        schema_hash: args
            .expect_schema_hash
            .as_deref()
            .map(|text| expected_hash(text, color))
            .transpose()?,
    };
    let client = Client::connect(&connection).map_err(|e| miette!("{e}"))?;
    let timeout = Duration::from_secs(args.timeout);
    let started = Instant::now();
    loop {
        match probe(&client, &url, &expected) {
            Probe::Ready => {
                println!("ready");
                return Ok(ExitCode::SUCCESS);
            }
            Probe::Wrong(message) => {
                eprintln!("{message}");
                return Ok(ExitCode::from(1));
            }
            Probe::NotReady(error) => {
                if !args.block {
                    eprintln!("not ready: {error}");
                    return Ok(ExitCode::from(1));
                }
                if started.elapsed() >= timeout {
                    eprintln!("not ready: {}", ClientError::Timeout(timeout));
                    eprintln!("last answer: {error}");
                    return Ok(ExitCode::from(1));
                }
            }
        }
        std::thread::sleep(READY_POLL);
    }
}

/// One look at the server.
enum Probe {
    Ready,
    /// Not (yet) ready: waiting may help.
    NotReady(ClientError),
    /// Not zanzi, or not the expected one: waiting will not help.
    Wrong(String),
}

fn probe(client: &Client, url: &str, expected: &Expected) -> Probe {
    let ready = match client.probe_ready() {
        Err(error @ ClientError::Unreachable { .. }) => return Probe::NotReady(error),
        other => other,
    };
    // Something answers: it must be zanzi, ready or not.
    match client.verify_zanzi() {
        Ok(()) => {}
        Err(error @ ClientError::Unreachable { .. }) => return Probe::NotReady(error),
        Err(error) => return Probe::Wrong(error.to_string()),
    }
    if let Err(error) = ready {
        return Probe::NotReady(error);
    }
    if expected.db.is_none() && expected.schema_hash.is_none() {
        return Probe::Ready;
    }
    match client.server_status() {
        Ok(status) => match differences(url, &status, expected) {
            Some(message) => Probe::Wrong(message),
            None => Probe::Ready,
        },
        Err(error @ (ClientError::Unreachable { .. } | ClientError::Timeout(_))) => {
            Probe::NotReady(error)
        }
        Err(error @ ClientError::Api { status, .. }) if status >= 500 => Probe::NotReady(error),
        Err(error) => Probe::Wrong(format!(
            "cannot tell which database and schema the server at {url} serves: {error}"
        )),
    }
}

/// What differs between the server and what was expected, if anything.
fn differences(url: &str, status: &StatusResult, expected: &Expected) -> Option<String> {
    let mut differ = Vec::new();
    if let Some(db) = &expected.db {
        let same = match &db.store_id {
            Some(id) => *id == status.store_id,
            None => same_location(&db.shown, &status.db),
        };
        if !same {
            let ids = match &db.store_id {
                Some(id) => format!(" (store {}, not {id})", status.store_id),
                None => String::new(),
            };
            differ.push(format!(
                "serves database `{}`{ids}, not `{}`",
                status.db, db.shown
            ));
        }
    }
    if let Some(prefix) = &expected.schema_hash {
        let hex = status
            .schema_hash
            .strip_prefix("sha256:")
            .unwrap_or(&status.schema_hash);
        if !hex.starts_with(prefix.as_str()) {
            differ.push(format!(
                "answers with schema `{}`, not `sha256:{prefix}`",
                status.schema_hash
            ));
        }
    }
    (!differ.is_empty()).then(|| format!("the server at {url} {}", differ.join(" and ")))
}

/// Whether two `--db` values name the same database, as far as text can
/// tell (the server's is as it was given to the server).
fn same_location(expected: &str, served: &str) -> bool {
    if expected == served {
        return true;
    }
    match (Location::parse(expected), Location::parse(served)) {
        (Location::Sqlite(a), Location::Sqlite(b)) => {
            let absolute = |p: &Path| std::path::absolute(p).ok();
            absolute(&a).is_some_and(|a| Some(a) == absolute(&b))
        }
        _ => false,
    }
}

/// The database `--expect-db` names; its store id when it opens here.
fn expected_db(text: &str) -> ExpectedDb {
    let location = Location::parse(text);
    let store_id = if location.exists() {
        location
            .open_existing()
            .ok()
            .and_then(|store| store.store_id().ok())
    } else {
        None
    };
    ExpectedDb {
        shown: location.to_string(),
        store_id,
    }
}

/// The hex digits `--expect-schema-hash` asks for: from a hash or prefix,
/// or from compiling a schema file.
fn expected_hash(text: &str, color: ColorMode) -> miette::Result<String> {
    let path = Path::new(text);
    if path.exists() {
        let schema = local::load_schema_file(path, color)?;
        return Ok(schema
            .hash
            .strip_prefix("sha256:")
            .unwrap_or(&schema.hash)
            .to_owned());
    }
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    if hex.len() < MIN_HASH_PREFIX || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(miette!(
            help = "give the hash as `GET /zanzi/v1/schema` or `zanzi schema show` prints it, \
                    or a schema file",
            "--expect-schema-hash `{text}`: not a schema file, nor a hash of at least \
             {MIN_HASH_PREFIX} hex digits"
        ));
    }
    Ok(hex.to_ascii_lowercase())
}
