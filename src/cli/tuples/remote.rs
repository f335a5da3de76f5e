//! What `write` and `delete` share when they go through a server
//! (`--write-remote`): the JSON report, the messages, and how a refusal
//! becomes an exit code.

use std::process::ExitCode;

use miette::miette;
use serde::Serialize;

use crate::cli::local::{self, ReportFormat, JSON_VERSION};

use crate::cli::output::plural;
use crate::client::ClientError;

/// The `--format json` document of a write or a delete through a server.
#[derive(Serialize)]
pub(super) struct RemoteWriteReport {
    version: u32,
    ok: bool,
    /// The snapshot token of the write's revision.
    snaptoken: String,
    /// The tuples given (absent for a delete by filter, whose count the
    /// server does not report).
    #[serde(skip_serializing_if = "Option::is_none")]
    tuples: Option<u64>,
}

pub(super) fn remote_err(error: ClientError) -> miette::Report {
    miette!("{error}")
}

/// What a remote write does, for its messages.
#[derive(Clone, Copy)]
pub(super) enum Change {
    Write,
    Delete,
}

impl Change {
    fn noun(self) -> &'static str {
        match self {
            Change::Write => "write",
            Change::Delete => "delete",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Change::Write => "wrote",
            Change::Delete => "deleted",
        }
    }
}

/// A write the server refused as a bad request (a tuple the schema
/// rejects, say) exits 1 like a local one; other failures are errors.
pub(super) fn remote_write_outcome(
    result: Result<String, ClientError>,
    change: Change,
    tuples: Option<u64>,
    format: ReportFormat,
) -> miette::Result<ExitCode> {
    let token = match result {
        Ok(token) => token,
        Err(ClientError::Api {
            status,
            reason,
            message,
        }) if (400..500).contains(&status) && status != 404 => {
            match format {
                ReportFormat::Json => local::print_json(&serde_json::json!({
                    "version": JSON_VERSION,
                    "ok": false,
                    "written": false,
                    "status": status,
                    "reason": reason,
                    "message": message,
                }))?,
                ReportFormat::Human => eprintln!(
                    "error: the server refused the {} ({status} {reason}): {message}\n\
                     nothing was written",
                    change.noun()
                ),
            }
            return Ok(ExitCode::from(1));
        }
        Err(error) => return Err(remote_err(error)),
    };
    match format {
        ReportFormat::Json => local::print_json(&RemoteWriteReport {
            version: JSON_VERSION,
            ok: true,
            snaptoken: token,
            tuples,
        })?,
        ReportFormat::Human => {
            let verb = change.done();
            let what = match tuples {
                Some(n) => format!("{verb} {n} tuple{}", plural(n)),
                None => format!("{verb} the matching tuples"),
            };
            local::print(&format!("{what}; snaptoken {token}\n"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
