//! Tuples the user got wrong, reported with where they stand.

use serde::Serialize;

use super::{print_json, ReportFormat, JSON_VERSION};
use crate::diagnostics;
use crate::diagnostics::ToDiagnostic;
use crate::source::{SourceMap, Span};
use crate::tuple::{Notation, NotationSite, TupleError};

/// Mistakes in what was typed on the command line, as diagnostics with
/// the argument as their source: [`run`](super::run) renders them like a
/// schema's, in the colour mode of the command.
#[derive(Debug, thiserror::Error)]
#[error("invalid command-line argument")]
pub struct InputError {
    pub sources: SourceMap,
    pub diagnostics: Vec<diagnostics::Diagnostic>,
}

impl miette::Diagnostic for InputError {}

/// A usage error for text on the command line that is not in the tuple
/// notation, pointing at the mistake.
pub fn notation_error(what: Notation, text: &str, error: &TupleError) -> miette::Report {
    let mut sources = SourceMap::new();
    let file = sources.add("<argument>", text);
    let span = Span::new(file, 0, u32::try_from(text.len()).unwrap_or(u32::MAX));
    let site = NotationSite {
        what,
        text,
        span,
        offsets_from: Some(0),
    };
    let mut diagnostic = error.to_diagnostic(site);
    // The argument is all the source there is: outlining it adds nothing.
    diagnostic.secondary.clear();
    miette::Report::new(InputError {
        diagnostics: vec![diagnostic],
        sources,
    })
}

/// One bad tuple: where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file (`<stdin>` for standard input), for tuples read from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The 1-based position among the command's arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<usize>,
    /// The 1-based character column.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line, self.argument) {
            (Some(file), Some(line), _) => {
                write!(f, "{file}:{line}:{}: {}", self.column, self.message)
            }
            (_, _, Some(argument)) => write!(
                f,
                "argument {argument}, column {}: {}",
                self.column, self.message
            ),
            _ => write!(f, "column {}: {}", self.column, self.message),
        }
    }
}

/// Where a tuple came from, for its [`Problem`]s.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    File { name: &'a str, line: usize },
    Argument(usize),
}

impl Origin<'_> {
    pub fn problem(self, column: usize, message: String) -> Problem {
        match self {
            Origin::File { name, line } => Problem {
                file: Some(name.to_owned()),
                line: Some(line),
                argument: None,
                column,
                message,
            },
            Origin::Argument(argument) => Problem {
                file: None,
                line: None,
                argument: Some(argument),
                column,
                message,
            },
        }
    }
}

/// At most this many problems are printed; the rest are counted.
pub const MAX_SHOWN: usize = 20;

/// The problems found in a batch of tuples: the first [`MAX_SHOWN`] and a
/// count of all.
#[derive(Debug, Default)]
pub struct Problems {
    pub shown: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        if self.shown.len() < MAX_SHOWN {
            self.shown.push(problem);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Reports the problems (on standard error, or as one JSON document on
    /// standard output) and says that nothing was written.
    pub fn report(&self, format: ReportFormat) -> miette::Result<()> {
        match format {
            ReportFormat::Json => print_json(&ProblemReport {
                version: JSON_VERSION,
                ok: false,
                written: false,
                error_count: self.total,
                errors: &self.shown,
            }),
            ReportFormat::Human => {
                let mut text = String::new();
                for problem in &self.shown {
                    text.push_str(&format!("{problem}\n"));
                }
                if self.total > self.shown.len() {
                    text.push_str(&format!("and {} more\n", self.total - self.shown.len()));
                }
                text.push_str(&format!(
                    "error: {} bad tuple{}; nothing was written\n",
                    self.total,
                    if self.total == 1 { "" } else { "s" }
                ));
                eprint!("{text}");
                Ok(())
            }
        }
    }
}

/// The JSON document of a write that was refused.
#[derive(Serialize)]
pub(super) struct ProblemReport<'a> {
    version: u32,
    ok: bool,
    written: bool,
    error_count: usize,
    errors: &'a [Problem],
}
