//! `--remote` support for the CLI: `zanzi check|expand|tuples` run against
//! a server instead of a local store when given `--remote URL` (the read
//! API) or `--write-remote URL` (the write API).
//!
//! A command takes `#[command(flatten)] remote: RemoteArgs` and, when
//! [`RemoteArgs::is_remote`] holds, answers through the server: check and
//! expand here, the `tuples` commands in [`super::tuples`] (see
//! docs/cli.md, "Remote mode"). Everything speaks through
//! [`crate::client::Client`], and prints what the local command
//! prints.

use std::path::PathBuf;
use std::process::ExitCode;

use miette::miette;
use serde::Serialize;

use super::context::{self, ContextError};
use super::local::{self, ReportFormat, JSON_VERSION};
use crate::client::{Client, Connection, ReadOptions};
use crate::engine::{Decision, ExpandTree, Explanation, Outcome};
use crate::tuple::{Notation, Tuple};

/// The flags every remote-capable command takes.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct RemoteArgs {
    /// Ask a running `zanzi serve` at this read-API URL (http://127.0.0.1:4466, or grpc://127.0.0.1:4466 for gRPC).
    #[arg(long, value_name = "URL", env = "ZANZI_READ_REMOTE")]
    pub remote: Option<String>,
    /// Write through a running server at this write-API URL (http://127.0.0.1:4467 or grpc://127.0.0.1:4467).
    #[arg(long, value_name = "URL", env = "ZANZI_WRITE_REMOTE")]
    pub write_remote: Option<String>,
    /// Read consistency: minimize_latency, at_least_as_fresh, at_exact_snapshot, fully_consistent.
    #[arg(long, value_name = "MODE")]
    pub consistency: Option<String>,
    /// A snapshot token from an earlier answer.
    #[arg(long, value_name = "TOKEN")]
    pub snaptoken: Option<String>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Speak to the server of this named context (`zanzi context list`)
    /// rather than the current one; explicit flags still win.
    #[arg(long, value_name = "NAME", env = "ZANZI_CONTEXT")]
    pub context: Option<String>,
    /// The connection the flags and contexts choose, worked out once.
    #[arg(skip)]
    resolved: std::sync::OnceLock<Result<Connection, ContextError>>,
}

/// How the command line proves who it is to a server, and whom it trusts.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct CredentialArgs {
    /// The key (or JWT) to send as `Authorization: Bearer`; prefer the
    /// environment variable, since flags show in process listings.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "ZANZI_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// A PEM file of the certificate authority that signed the server's
    /// certificate (for https:// and grpcs:// remotes), trusted beside the
    /// system's roots.
    #[arg(long, value_name = "FILE", env = "ZANZI_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

impl CredentialArgs {
    /// A connection to `read` and `write` with these credentials.
    pub fn connection(&self, read: Option<&str>, write: Option<&str>) -> Connection {
        Connection {
            read: read.map(str::to_owned),
            write: write.map(str::to_owned),
            token: self.token.clone(),
            ca_cert: self.ca_cert.clone(),
        }
    }
}

impl RemoteArgs {
    /// Whether the command speaks to a server: flags name one, or a context
    /// does (see [`super::context`]); otherwise it runs on the local database.
    pub fn is_remote(&self) -> miette::Result<bool> {
        let connection = self.connection()?;
        Ok(connection.read.is_some() || connection.write.is_some())
    }

    /// The server the flags, `--context` or the current context name.
    pub fn connection(&self) -> miette::Result<Connection> {
        self.resolved
            .get_or_init(|| {
                let explicit = self
                    .credentials
                    .connection(self.remote.as_deref(), self.write_remote.as_deref());
                context::resolve(&explicit, self.context.as_deref())
            })
            .clone()
            .map_err(|e| miette!("{e}"))
    }

    fn client(&self, connection: &Connection) -> miette::Result<Client> {
        Client::connect(connection).map_err(|e| miette!("{e}"))
    }

    /// A client for a read: a read URL is required (the write API serves
    /// only writes).
    pub fn reader(&self) -> miette::Result<Client> {
        let connection = self.connection()?;
        if connection.read.is_none() {
            return Err(miette!(
                help = "the read API listens on the server's --read-port, 4466 by default",
                "reads ask the read API: give --remote URL (or use a context that has one)"
            ));
        }
        self.client(&connection)
    }

    /// A client for a write: a write URL is required, and the read options
    /// mean nothing.
    pub fn writer(&self) -> miette::Result<Client> {
        let connection = self.connection()?;
        if connection.write.is_none() {
            return Err(miette!(
                help = "the write API listens on the server's --write-port, 4467 by default",
                "writes go to the write API: give --write-remote URL (or use a context that has one)"
            ));
        }
        if self.consistency.is_some() || self.snaptoken.is_some() {
            return Err(miette!(
                "--consistency and --snaptoken choose the snapshot of a read; a write is always \
                 at the head"
            ));
        }
        self.client(&connection)
    }

    /// The read options of these flags.
    pub fn options(&self, max_depth: Option<u32>) -> ReadOptions {
        ReadOptions {
            consistency: self.consistency.clone(),
            snaptoken: self.snaptoken.clone(),
            max_depth,
            ..ReadOptions::default()
        }
    }
}

/// The `--format json` document of `zanzi check --remote`: the local one's
/// fields, with the snapshot token in place of the revision and schema.
#[derive(Serialize)]
struct RemoteCheckReport<'a> {
    version: u32,
    check: &'a str,
    /// `allowed`, `denied` or `conditional`.
    result: &'static str,
    /// `false` when conditional.
    allowed: bool,
    /// With `conditional`: the parameters that had no value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<String>,
    snaptoken: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a Explanation>,
}

/// `zanzi check --remote URL QUESTION`: prints what the local check prints
/// (`allowed`/`denied`/`conditional`, the derivation with `--explain`, or
/// the JSON document); exit 0 allowed, 1 denied, 3 conditional.
pub fn check(
    args: &RemoteArgs,
    text: &str,
    options: ReadOptions,
    explain: bool,
    format: ReportFormat,
) -> miette::Result<ExitCode> {
    let question: Tuple = text
        .parse()
        .map_err(|e| local::notation_error(Notation::Check, text, &e))?;
    if !question.is_plain() {
        return Err(miette!(
            help = "give the parameters' values with --context",
            "a question carries no condition or expiry: `{text}`"
        ));
    }
    let client = args.reader()?;
    let (decision, snaptoken, explanation) = if explain {
        let (explanation, token) = client
            .explain(&question, &options)
            .map_err(|e| miette!("{e}"))?;
        let decision = match (explanation.outcome, &explanation.error) {
            (Outcome::Granted, _) => Decision::Allowed,
            (Outcome::Denied, _) => Decision::Denied,
            (Outcome::Conditional, _) => Decision::Conditional {
                missing: explanation.missing.clone(),
            },
            (Outcome::Unknown, error) => {
                return Err(miette!(
                    "{}",
                    error.as_deref().unwrap_or("the depth limit was reached")
                ))
            }
        };
        (decision, token, Some(explanation))
    } else {
        let answer = client
            .check(&question, &options)
            .map_err(|e| miette!("{e}"))?;
        (answer.decision, answer.snaptoken, None)
    };
    let missing = match &decision {
        Decision::Conditional { missing } => missing.clone(),
        _ => Vec::new(),
    };
    match format {
        ReportFormat::Json => local::print_json(&RemoteCheckReport {
            version: JSON_VERSION,
            check: &question.to_string(),
            result: match &decision {
                Decision::Allowed => "allowed",
                Decision::Denied => "denied",
                Decision::Conditional { .. } => "conditional",
            },
            allowed: decision.is_allowed(),
            missing: missing.clone(),
            snaptoken: &snaptoken,
            explanation: explanation.as_ref(),
        })?,
        ReportFormat::Human => match &explanation {
            Some(explanation) => local::print(&explanation.render())?,
            None => local::print(&match &decision {
                Decision::Allowed => "allowed\n".to_owned(),
                Decision::Denied => "denied\n".to_owned(),
                Decision::Conditional { missing } => {
                    format!("conditional (missing {})\n", missing.join(", "))
                }
            })?,
        },
    }
    // As the local check: 0 allowed, 1 denied, 3 conditional.
    Ok(match decision {
        Decision::Allowed => ExitCode::SUCCESS,
        Decision::Denied => ExitCode::from(1),
        Decision::Conditional { .. } => ExitCode::from(3),
    })
}

/// The `--format json` document of `zanzi expand --remote`.
#[derive(Serialize)]
struct RemoteExpandReport<'a> {
    version: u32,
    userset: &'a str,
    snaptoken: &'a str,
    max_depth: Option<u32>,
    tree: &'a ExpandTree,
}

/// `zanzi expand --remote URL OBJECT#RELATION`: prints what the local
/// expand prints, from the server's `POST /zanzi/v1/expand`.
pub fn expand(
    args: &RemoteArgs,
    userset: &str,
    max_depth: Option<u32>,
    format: ReportFormat,
) -> miette::Result<ExitCode> {
    let (object, relation) = crate::tuple::parse_object_relation(userset)
        .map_err(|e| local::notation_error(Notation::Userset, userset, &e))?;
    let (tree, snaptoken) = args
        .reader()?
        .expand_tree(&object, &relation, &args.options(max_depth))
        .map_err(|e| miette!("{e}"))?;
    match format {
        ReportFormat::Human => local::print(&tree.render())?,
        ReportFormat::Json => local::print_json(&RemoteExpandReport {
            version: JSON_VERSION,
            userset: &format!("{object}#{relation}"),
            snaptoken: &snaptoken,
            max_depth,
            tree: &tree,
        })?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `--at` names a local revision; a server's snapshots are tokens.
pub fn at_with_remote() -> miette::Report {
    miette!(
        help = "pass --consistency at_exact_snapshot --snaptoken TOKEN to read a server's \
                older snapshot",
        "--at names a revision of a local database; it cannot be used with --remote"
    )
}
