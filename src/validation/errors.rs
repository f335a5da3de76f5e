//! What can go wrong with a validation file, as data: its shape and the
//! files it names (E0501), storing its tuples (E0402), and its assertions
//! (E0502 to E0505). The words are written once, in
//! [`ToDiagnostic::to_diagnostic`] (and [`ValidationError::summary`] for the
//! one-line result of an assertion).

use std::path::PathBuf;

use crate::diagnostics::{codes, Applicability, Diagnostic, Edit, Label, ToDiagnostic};
use crate::source::Span;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationError {
    InvalidYaml {
        span: Span,
        /// The YAML parser's own words.
        info: String,
    },
    Alias {
        span: Span,
    },
    /// The document is not a mapping.
    NotAMapping {
        span: Span,
    },
    /// `what` ("`schema_file`", "a key", …) holds `found` ("a list", …).
    NotSingleValue {
        span: Span,
        what: String,
        found: &'static str,
    },
    NotAList {
        span: Span,
        what: String,
        found: &'static str,
    },
    DuplicateKey {
        span: Span,
        key: String,
    },
    UnknownKey {
        span: Span,
        key: String,
        keys: &'static [&'static str],
        suggestion: Option<&'static str>,
    },
    TuplesShape {
        span: Span,
    },
    AssertionsShape {
        span: Span,
    },
    UnknownAssertionKind {
        span: Span,
        kind: String,
        suggestion: Option<&'static str>,
    },
    ExpectedSubjectsShape {
        span: Span,
    },
    BothSchemas {
        span: Span,
    },
    NoSchema {
        span: Span,
    },
    /// `schema_file` names a file that could not be read or loaded.
    SchemaFileUnreadable {
        span: Span,
        path: PathBuf,
        reason: String,
    },
    /// `tuple_files` names a file that could not be read.
    TupleFileUnreadable {
        span: Span,
        path: PathBuf,
        reason: String,
    },
    /// The store refused the file's (already validated) tuples.
    StoreFailed {
        /// The start of the validation file: no one line is to blame.
        span: Span,
        reason: String,
    },
    /// An `expected_subjects` entry is a subject set (`ns:id#rel`).
    SubjectSetInExpectedSubjects {
        span: Span,
        subject: String,
    },
    /// A value of the wrong form (`now`, an assertion's `context`).
    BadValue {
        span: Span,
        what: String,
        reason: String,
    },
    /// A `conditional` assertion that is not conditional, or not on the
    /// expected parameters; `found` says what it is.
    NotConditional {
        span: Span,
        assertion: String,
        found: String,
        trace: String,
    },
    /// The engine refused the question (an unknown namespace or relation).
    AssertionUnanswerable {
        span: Span,
        assertion: String,
        reason: String,
    },
    /// The engine could not decide (a depth limit); `trace` is how far it got.
    AssertionUndecided {
        span: Span,
        assertion: String,
        reason: String,
        trace: String,
    },
    /// The subjects of `object#permission` could not be looked up.
    SubjectsUnanswerable {
        span: Span,
        target: String,
        reason: String,
    },
    /// An `allowed` assertion that is denied; `trace` says why.
    NotAllowed {
        span: Span,
        assertion: String,
        /// What it is instead: `denied`, or conditional on some parameters.
        found: String,
        trace: String,
    },
    /// A `denied` assertion that is allowed (or conditional); `trace` is
    /// the derivation.
    NotDenied {
        span: Span,
        assertion: String,
        found: String,
        trace: String,
    },
    /// The subjects found differ from those expected.
    SubjectsDiffer {
        span: Span,
        target: String,
        /// Expected but not found, each as `ns:id` or `ns:*`.
        missing: Vec<String>,
        /// Found but not expected.
        unexpected: Vec<String>,
    },
}

impl ValidationError {
    /// The one-line reason an assertion failed, for its [`AssertionResult`]
    /// (the diagnostic's message, with the differences for E0504).
    ///
    /// [`AssertionResult`]: super::AssertionResult
    pub fn summary(&self) -> String {
        let message = self.to_diagnostic(()).message;
        match self {
            ValidationError::SubjectsDiffer {
                missing,
                unexpected,
                ..
            } => {
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!("missing {}", backticked(missing)));
                }
                if !unexpected.is_empty() {
                    parts.push(format!("unexpected {}", backticked(unexpected)));
                }
                format!("{message}: {}", parts.join("; "))
            }
            _ => message,
        }
    }
}

/// `` `a`, `b` ``
fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message of every question the engine could not answer.
fn unanswered(question: &str, reason: &str) -> String {
    format!("`{question}` could not be answered: {reason}")
}

/// "did you mean" with its edit when `span` covers exactly `written` (a
/// plain YAML scalar; a quoted one is pointed at by its first character).
/// Keys and assertion kinds of SpiceDB's and OpenFGA's validation files,
/// with their system and what zanzi calls them.
const FOREIGN_NAMES: &[(&str, &str, &str)] = &[
    ("relationships", "SpiceDB", "tuples"),
    ("schemaFile", "SpiceDB", "schema_file"),
    ("validation", "SpiceDB", "expected_subjects"),
    ("assertTrue", "SpiceDB", "allowed"),
    ("assertFalse", "SpiceDB", "denied"),
    ("model", "OpenFGA", "schema"),
    ("model_file", "OpenFGA", "schema_file"),
    ("tuple_file", "OpenFGA", "tuple_files"),
];

/// What zanzi calls a key another system's validation files use.
pub fn zanzi_name_of(foreign: &str) -> Option<&'static str> {
    FOREIGN_NAMES
        .iter()
        .find(|(name, _, _)| *name == foreign)
        .map(|(_, _, zanzi)| *zanzi)
}

fn did_you_mean(d: Diagnostic, span: Span, written: &str, best: Option<&str>) -> Diagnostic {
    let Some(best) = best else { return d };
    let help = match FOREIGN_NAMES.iter().find(|(name, _, _)| *name == written) {
        Some((_, system, zanzi)) if *zanzi == best => {
            format!("`{written}` is {system}'s name: zanzi calls this `{best}`")
        }
        _ => format!("did you mean `{best}`?"),
    };
    if span.range().len() == written.len() {
        d.with_fix(help, Edit::new(span, best, Applicability::MaybeIncorrect))
    } else {
        d.with_help(help)
    }
}

impl ToDiagnostic for ValidationError {
    type Context<'a> = ();

    fn to_diagnostic(&self, (): ()) -> Diagnostic {
        let plain = |span: Span, message: String, label: &str| {
            Diagnostic::new(codes::E0501, message, Label::new(span, label))
        };
        match self {
            ValidationError::InvalidYaml { span, info } => {
                plain(*span, format!("invalid YAML: {info}"), "here")
            }
            ValidationError::Alias { span } => plain(
                *span,
                "YAML aliases are not supported in validation files".to_owned(),
                "alias",
            ),
            ValidationError::NotAMapping { span } => plain(
                *span,
                "a validation file is a mapping with `schema_file` (or `schema`), `tuples` and `assertions`".to_owned(),
                "expected a mapping here",
            ),
            ValidationError::NotSingleValue { span, what, found } => plain(
                *span,
                format!("{what} must be a single value, not {found}"),
                "expected a single value",
            ),
            ValidationError::NotAList { span, what, found } => plain(
                *span,
                format!("{what} must be a list, not {found}"),
                "expected a list (`- item` lines or `[a, b]`)",
            ),
            ValidationError::DuplicateKey { span, key } => {
                plain(*span, format!("`{key}` is given twice"), "given again here")
            }
            ValidationError::UnknownKey {
                span,
                key,
                keys,
                suggestion,
            } => {
                let d = plain(
                    *span,
                    format!("unknown key `{key}` in a validation file"),
                    "not a validation-file key",
                )
                .with_note(format!("the keys are {}", keys.join(", ")));
                did_you_mean(d, *span, key, *suggestion)
            }
            ValidationError::TuplesShape { span } => plain(
                *span,
                "`tuples` must be a block of lines or a list".to_owned(),
                "expected `tuples: |`",
            ),
            ValidationError::AssertionsShape { span } => plain(
                *span,
                "`assertions` must be a mapping with `allowed` and `denied`".to_owned(),
                "expected a mapping",
            ),
            ValidationError::UnknownAssertionKind {
                span,
                kind,
                suggestion,
            } => {
                let d = plain(
                    *span,
                    format!("unknown assertion kind `{kind}`"),
                    "expected `allowed` or `denied`",
                );
                did_you_mean(d, *span, kind, *suggestion)
            }
            ValidationError::ExpectedSubjectsShape { span } => plain(
                *span,
                "`expected_subjects` must map `object#permission` to a list of subjects"
                    .to_owned(),
                "expected a mapping",
            ),
            ValidationError::BothSchemas { span } => plain(
                *span,
                "give either `schema_file` or `schema`, not both".to_owned(),
                "here",
            ),
            ValidationError::NoSchema { span } => plain(
                *span,
                "a validation file needs `schema_file: FILE` or an inline `schema: |`".to_owned(),
                "no schema given",
            ),
            ValidationError::SchemaFileUnreadable { span, path, reason } => plain(
                *span,
                format!("cannot read schema file `{}`: {reason}", path.display()),
                "named here",
            )
            .with_note("paths in a validation file are relative to the file's directory"),
            ValidationError::TupleFileUnreadable { span, path, reason } => plain(
                *span,
                format!("cannot read tuple file `{}`: {reason}", path.display()),
                "named here",
            ),
            ValidationError::StoreFailed { span, reason } => Diagnostic::new(
                codes::E0402,
                format!("the tuples could not be stored: {reason}"),
                Label::new(*span, "while loading this file"),
            ),
            ValidationError::SubjectSetInExpectedSubjects { span, subject } => plain(
                *span,
                format!("`{subject}` is a subject set; expected subjects are object subjects (`ns:id`) or wildcards (`ns:*`)"),
                "not an object subject",
            ),
            ValidationError::BadValue { span, what, reason } => {
                plain(*span, format!("invalid {what}: {reason}"), "here")
            }
            ValidationError::NotConditional {
                span,
                assertion,
                found,
                trace,
            } => Diagnostic::new(
                codes::E0506,
                format!("assertion failed: `{assertion}` is {found}"),
                Label::new(*span, "expected to be conditional"),
            )
            .with_note(trace.clone()),
            ValidationError::AssertionUnanswerable {
                span,
                assertion,
                reason,
            } => Diagnostic::new(
                codes::E0505,
                unanswered(assertion, reason),
                Label::new(*span, "this assertion"),
            )
            .with_help("assertions name relations or permissions of the object's namespace"),
            ValidationError::AssertionUndecided {
                span,
                assertion,
                reason,
                trace,
            } => Diagnostic::new(
                codes::E0505,
                unanswered(assertion, reason),
                Label::new(*span, "this assertion"),
            )
            .with_note(trace.clone()),
            ValidationError::SubjectsUnanswerable {
                span,
                target,
                reason,
            } => Diagnostic::new(
                codes::E0505,
                unanswered(target, reason),
                Label::new(*span, "these expected subjects"),
            ),
            ValidationError::NotAllowed {
                span,
                assertion,
                found,
                trace,
            } => Diagnostic::new(
                codes::E0502,
                format!("assertion failed: `{assertion}` is {found}"),
                Label::new(*span, "expected to be allowed"),
            )
            .with_note(trace.clone()),
            ValidationError::NotDenied {
                span,
                assertion,
                found,
                trace,
            } => Diagnostic::new(
                codes::E0503,
                format!("assertion failed: `{assertion}` is {found}"),
                Label::new(*span, "expected to be denied"),
            )
            .with_note(trace.clone()),
            ValidationError::SubjectsDiffer {
                span,
                target,
                missing,
                unexpected,
            } => {
                let mut d = Diagnostic::new(
                    codes::E0504,
                    format!("the subjects of `{target}` differ from the expected ones"),
                    Label::new(*span, "expected subjects listed here"),
                );
                if !missing.is_empty() {
                    d = d.with_note(format!(
                        "expected but not in the set: {}",
                        backticked(missing)
                    ));
                }
                if !unexpected.is_empty() {
                    d = d.with_note(format!(
                        "in the set but not expected: {}",
                        backticked(unexpected)
                    ));
                }
                d
            }
        }
    }
}
