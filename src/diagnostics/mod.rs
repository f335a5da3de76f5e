//! The one diagnostic type shared by every stage.
//!
//! Stages never stop at the first problem: they push into a plain
//! `Vec<Diagnostic>` (ordered once, at the end, by [`sort_and_dedup`]) and
//! carry on past sentinels (`Error` nodes, unresolved names) so that a single
//! mistake yields a single diagnostic.

pub mod codes;
mod render;
pub mod suggest;

pub use codes::Code;
pub use render::{
    render_github, render_human, render_json, render_plain, JsonDiagnostic, JsonEdit, JsonLabel,
    JsonReport, OutputFormat,
};

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in the source with a short message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// A problem in user input, with where, why and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// What went wrong: lowercase, no period, user input in `backticks`.
    pub message: String,
    /// Exactly one primary place.
    pub primary: Label,
    /// Where else, and why (the first definition, the rest of a cycle, …).
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<Help>,
}

/// How to fix a problem: the line people read, and when the fix is a
/// concrete change of the source, that change, for tools (an editor's code
/// action, `zanzi fix`) to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Help {
    pub text: String,
    pub edit: Option<Edit>,
}

/// Replace the text at `span` with `replacement` (an empty span inserts,
/// an empty replacement deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
    pub applicability: Applicability,
}

/// How safe an [`Edit`] is to apply without a person looking (the scale
/// rustc and ruff use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    /// The edit is what was meant, and the result is correct: apply it.
    MachineApplicable,
    /// The edit is a guess (a close name, one of two groupings): show it.
    MaybeIncorrect,
}

impl Edit {
    pub fn new(span: Span, replacement: impl Into<String>, applicability: Applicability) -> Self {
        Edit {
            span,
            replacement: replacement.into(),
            applicability,
        }
    }

    /// `text` (the whole text of `span.file`) with the edit applied.
    pub fn apply(&self, text: &str) -> Option<String> {
        let range = self.span.range();
        let before = text.get(..range.start)?;
        let after = text.get(range.end..)?;
        Some(format!("{before}{}{after}", self.replacement))
    }
}

impl Diagnostic {
    /// A new diagnostic whose severity follows from its code (`E…` or `W…`).
    pub fn new(code: Code, message: impl Into<String>, primary: Label) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(Help {
            text: help.into(),
            edit: None,
        });
        self
    }

    /// A help line that proposes a concrete change, with that change.
    pub fn with_fix(mut self, help: impl Into<String>, edit: Edit) -> Self {
        self.help = Some(Help {
            text: help.into(),
            edit: Some(edit),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A stage's error as data, made into a [`Diagnostic`] by one function per
/// error type, so that each message, label and help line is written once.
/// `Context` is what the error needs besides itself to be placed and named:
/// `()` when it holds its spans, where its text stands for an error whose
/// offsets count from the start of a text it did not know the place of.
pub trait ToDiagnostic {
    type Context<'a>;

    fn to_diagnostic(&self, context: Self::Context<'_>) -> Diagnostic;
}

/// The order every output uses: by file, then position, then code.
pub fn sort_and_dedup(items: &mut Vec<Diagnostic>) {
    items.sort_by(|a, b| {
        (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
    });
    items.dedup_by(|a, b| a.primary.span == b.primary.span && a.code == b.code);
}

/// Counts of errors and warnings, for summaries and exit codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        Summary {
            errors,
            warnings: diagnostics.len() - errors,
        }
    }
}

/// An error and the errors that caused it, on one line, for messages that
/// are not rendered as a chain: a driver's own message is often only "error
/// connecting to server", its cause says why.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let next_text = next.to_string();
        if !text.ends_with(&next_text) {
            text.push_str(": ");
            text.push_str(&next_text);
        }
        cause = next.source();
    }
    text
}
