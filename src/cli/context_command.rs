//! `zanzi context`: set, use, list, show and remove the named contexts of
//! [`super::context`]. Tokens are stored but never printed (`<set>`).

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;

use miette::{miette, IntoDiagnostic as _};
use serde::Serialize;

use super::context::{check_name, location, Context, ContextError, Contexts};
use super::local::{self, ReportFormat, JSON_VERSION};

/// What a stored token is shown as.
const HIDDEN: &str = "<set>";

#[derive(Debug, clap::Subcommand)]
pub enum ContextCommand {
    /// Create or replace a named context.
    ///
    /// The context is not put in use: `zanzi context use NAME` does that.
    Set {
        /// The context's name: letters, digits, `-`, `_` and `.`.
        name: String,
        /// The server's read-API URL.
        #[arg(long, value_name = "URL", required_unless_present = "write_remote")]
        remote: Option<String>,
        /// The server's write-API URL.
        #[arg(long, value_name = "URL")]
        write_remote: Option<String>,
        /// The key (or JWT) sent to the server; prefer --token-stdin, since
        /// flags show in process listings.
        #[arg(long, value_name = "TOKEN", conflicts_with = "token_stdin")]
        token: Option<String>,
        /// Read the token from the first line of standard input.
        #[arg(long)]
        token_stdin: bool,
        /// A PEM file of the certificate authority that signed the server's
        /// certificate (kept as an absolute path).
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
    },
    /// Make a context the current one: commands without --remote,
    /// --write-remote or --context then run against its server instead of
    /// the local database.
    Use {
        /// The context's name.
        #[arg(required_unless_present = "none")]
        name: Option<String>,
        /// Use no context: commands run on the local database again.
        #[arg(long, conflicts_with = "name")]
        none: bool,
    },
    /// Use no context: commands run on the local database again (as `use --none`).
    Unset,
    /// List the contexts; `*` marks the current one.
    List {
        /// How to print them.
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
    },
    /// Show one context (default: the current one).
    Show {
        /// The context's name.
        name: Option<String>,
        /// How to print it.
        #[arg(long, value_enum, default_value_t)]
        format: ReportFormat,
    },
    /// Remove a context (if it is the current one, no context is in use afterwards).
    Remove {
        /// The context's name.
        name: String,
    },
}

fn report(error: ContextError) -> miette::Report {
    match error {
        ContextError::Malformed { .. } => miette!(
            help = "correct the file, or remove it and set the contexts again",
            "{error}"
        ),
        other => miette!("{other}"),
    }
}

pub fn run(command: &ContextCommand) -> miette::Result<ExitCode> {
    let path = location().map_err(report)?;
    let mut contexts = Contexts::load(&path).map_err(report)?;
    match command {
        ContextCommand::Set {
            name,
            remote,
            write_remote,
            token,
            token_stdin,
            ca_cert,
        } => {
            check_name(name).map_err(report)?;
            for (flag, url) in [("--remote", remote), ("--write-remote", write_remote)] {
                if let Some(url) = url {
                    check_url(flag, url)?;
                }
            }
            let token = match (token, token_stdin) {
                (_, true) => Some(read_token()?),
                (token, false) => token.clone(),
            };
            let ca_cert = ca_cert.as_deref().map(absolute_ca_cert).transpose()?;
            contexts.contexts.insert(
                name.clone(),
                Context {
                    remote: remote.clone(),
                    write_remote: write_remote.clone(),
                    token,
                    ca_cert,
                },
            );
            contexts.save(&path).map_err(report)?;
            if contexts.current.as_deref() != Some(name) {
                eprintln!("context `{name}` saved; `zanzi context use {name}` puts it in use");
            }
        }
        ContextCommand::Use { name, none: _ } => {
            if let Some(name) = name {
                contexts.get(name, &path).map_err(report)?;
            }
            contexts.current = name.clone();
            contexts.save(&path).map_err(report)?;
        }
        ContextCommand::Unset => {
            contexts.current = None;
            contexts.save(&path).map_err(report)?;
        }
        ContextCommand::List { format } => list(&contexts, *format)?,
        ContextCommand::Show { name, format } => {
            let name = match name.as_ref().or(contexts.current.as_ref()) {
                Some(name) => name,
                None => {
                    return Err(miette!(
                        help = "name one (`zanzi context show NAME`), or see `zanzi context list`",
                        "no context is in use"
                    ))
                }
            };
            let context = contexts.get(name, &path).map_err(report)?;
            let shown = Shown::of(name, context, &contexts);
            match format {
                ReportFormat::Json => local::print_json(&shown)?,
                ReportFormat::Human => local::print(&shown.lines())?,
            }
        }
        ContextCommand::Remove { name } => {
            contexts.get(name, &path).map_err(report)?;
            contexts.contexts.remove(name);
            if contexts.current.as_deref() == Some(name) {
                contexts.current = None;
                eprintln!(
                    "`{name}` was the current context; commands run on the local database now"
                );
            }
            contexts.save(&path).map_err(report)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A URL the client can speak to, or an error naming the flag.
fn check_url(flag: &str, url: &str) -> miette::Result<()> {
    const SCHEMES: [&str; 4] = ["http://", "https://", "grpc://", "grpcs://"];
    if SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
        Ok(())
    } else {
        Err(miette!(
            "{flag} `{url}`: expected a URL starting with {}",
            SCHEMES.join(", ")
        ))
    }
}

/// The first line of standard input, which must not be empty.
fn read_token() -> miette::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .into_diagnostic()
        .map_err(|e| e.wrap_err("--token-stdin: cannot read standard input"))?;
    let token = line.trim();
    if token.is_empty() {
        return Err(miette!("--token-stdin: standard input holds no token"));
    }
    Ok(token.to_owned())
}

/// The CA file as an absolute path, so that the context works from any
/// directory; it must be readable now.
fn absolute_ca_cert(path: &std::path::Path) -> miette::Result<PathBuf> {
    std::fs::metadata(path).map_err(|e| miette!("--ca-cert `{}`: {e}", path.display()))?;
    std::path::absolute(path).map_err(|e| miette!("--ca-cert `{}`: {e}", path.display()))
}

/// A context as `list` and `show` print it: the token hidden.
#[derive(Serialize)]
struct Shown<'a> {
    name: &'a str,
    current: bool,
    remote: Option<&'a str>,
    write_remote: Option<&'a str>,
    /// `<set>` when the context holds a token, else null.
    token: Option<&'static str>,
    ca_cert: Option<String>,
}

impl<'a> Shown<'a> {
    fn of(name: &'a str, context: &'a Context, contexts: &Contexts) -> Shown<'a> {
        Shown {
            name,
            current: contexts.current.as_deref() == Some(name),
            remote: context.remote.as_deref(),
            write_remote: context.write_remote.as_deref(),
            token: context.token.as_ref().map(|_| HIDDEN),
            ca_cert: context.ca_cert.as_ref().map(|p| p.display().to_string()),
        }
    }

    /// `--format human` of `show`: one `key: value` a line.
    fn lines(&self) -> String {
        let or_dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
        [
            ("name", self.name.to_owned()),
            (
                "current",
                if self.current { "yes" } else { "no" }.to_owned(),
            ),
            ("remote", or_dash(self.remote)),
            ("write-remote", or_dash(self.write_remote)),
            ("token", or_dash(self.token)),
            ("ca-cert", or_dash(self.ca_cert.as_deref())),
        ]
        .iter()
        .map(|(key, value)| format!("{key}: {value}\n"))
        .collect()
    }

    fn row(&self) -> [String; 6] {
        let or_dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
        [
            if self.current { "*" } else { " " }.to_owned(),
            self.name.to_owned(),
            or_dash(self.remote),
            or_dash(self.write_remote),
            or_dash(self.token),
            or_dash(self.ca_cert.as_deref()),
        ]
    }
}

/// The `--format json` document of `zanzi context list`.
#[derive(Serialize)]
struct ListReport<'a> {
    version: u32,
    current: Option<&'a str>,
    contexts: Vec<Shown<'a>>,
}

fn list(contexts: &Contexts, format: ReportFormat) -> miette::Result<()> {
    let shown: Vec<Shown> = contexts
        .contexts
        .iter()
        .map(|(name, context)| Shown::of(name, context, contexts))
        .collect();
    if format == ReportFormat::Json {
        return local::print_json(&ListReport {
            version: JSON_VERSION,
            current: contexts.current.as_deref(),
            contexts: shown,
        });
    }
    if shown.is_empty() {
        eprintln!("no contexts; `zanzi context set NAME --remote URL` adds one");
        return Ok(());
    }
    let header = ["", "NAME", "REMOTE", "WRITE-REMOTE", "TOKEN", "CA-CERT"].map(str::to_owned);
    let rows: Vec<[String; 6]> = std::iter::once(header)
        .chain(shown.iter().map(Shown::row))
        .collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let text: String = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect();
    local::print(&text)
}
