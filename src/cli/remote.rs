//! `--remote` support for the CLI: `zanzi check|expand|tuples` run against
//! a server instead of a local store when given `--remote URL` (the read
//! API) or `--write-remote URL` (the write API).
//!
//! Merging into a command: add `#[command(flatten)] remote: RemoteArgs` to
//! its arguments and, at the top of its `run`, call the matching function
//! here when [`RemoteArgs::is_remote`] holds (see docs/cli.md, "Remote
//! mode"). Everything speaks through [`crate::server::client::Client`].

use std::process::ExitCode;

use miette::{miette, IntoDiagnostic};

use crate::server::client::{Client, ReadOptions};
use crate::tuple::Tuple;

/// The flags every remote-capable command takes.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct RemoteArgs {
    /// Ask a running `zanzi serve` at this read-API URL (e.g. http://127.0.0.1:4466).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    /// Write through a running server at this write-API URL (e.g. http://127.0.0.1:4467).
    #[arg(long, value_name = "URL")]
    pub write_remote: Option<String>,
    /// Read consistency: minimize_latency, at_least_as_fresh, at_exact_snapshot, fully_consistent.
    #[arg(long, value_name = "MODE")]
    pub consistency: Option<String>,
    /// A snapshot token from an earlier answer.
    #[arg(long, value_name = "TOKEN")]
    pub snaptoken: Option<String>,
}

impl RemoteArgs {
    pub fn is_remote(&self) -> bool {
        self.remote.is_some() || self.write_remote.is_some()
    }

    fn client(&self) -> miette::Result<Client> {
        Client::new(self.remote.as_deref(), self.write_remote.as_deref())
            .map_err(|e| miette!("{e}"))
    }

    /// A client for a read: `--remote` is required (the write API serves
    /// only writes).
    pub fn reader(&self) -> miette::Result<Client> {
        if self.remote.is_none() {
            return Err(miette!(
                help = "the read API listens on the server's --read-port, 4466 by default",
                "reads ask the read API: give --remote URL"
            ));
        }
        self.client()
    }

    /// A client for a write: `--write-remote` is required, and the read
    /// options mean nothing.
    pub fn writer(&self) -> miette::Result<Client> {
        if self.write_remote.is_none() {
            return Err(miette!(
                help = "the write API listens on the server's --write-port, 4467 by default",
                "writes go to the write API: give --write-remote URL"
            ));
        }
        if self.consistency.is_some() || self.snaptoken.is_some() {
            return Err(miette!(
                "--consistency and --snaptoken choose the snapshot of a read; a write is always \
                 at the head"
            ));
        }
        self.client()
    }

    /// The read options of these flags.
    pub fn options(&self, max_depth: Option<u32>) -> ReadOptions {
        ReadOptions {
            consistency: self.consistency.clone(),
            snaptoken: self.snaptoken.clone(),
            max_depth,
        }
    }
}

/// `zanzi check --remote URL TUPLE…`: prints `allowed`/`denied` per
/// question; exit 0 when all are allowed, 1 otherwise.
pub fn check(
    args: &RemoteArgs,
    questions: &[String],
    max_depth: Option<u32>,
) -> miette::Result<ExitCode> {
    let client = args.client()?;
    let mut all = true;
    for text in questions {
        let tuple: Tuple = text
            .parse()
            .map_err(|e| miette!("invalid question `{text}`: {e}"))?;
        let answer = client
            .check(&tuple, &args.options(max_depth))
            .map_err(|e| miette!("{e}"))?;
        all &= answer.allowed;
        println!(
            "{} {text}",
            if answer.allowed { "allowed" } else { "denied" }
        );
    }
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `zanzi expand --remote URL OBJECT#RELATION`: prints Keto's tree as JSON.
pub fn expand(
    args: &RemoteArgs,
    userset: &str,
    max_depth: Option<u32>,
) -> miette::Result<ExitCode> {
    let (object, relation) = crate::tuple::parse_object_relation(userset)
        .map_err(|e| miette!("invalid userset `{userset}`: {e}"))?;
    let tree = args
        .client()?
        .expand(&object, &relation, &args.options(max_depth))
        .map_err(|e| miette!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&tree).into_diagnostic()?);
    Ok(ExitCode::SUCCESS)
}
