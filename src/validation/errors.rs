//! What is wrong with the shape of a validation file (E0501), as data; the
//! words are written once, in [`ToDiagnostic::to_diagnostic`].

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
}

/// "did you mean" with its edit when `span` covers exactly `written` (a
/// plain YAML scalar; a quoted one is pointed at by its first character).
fn did_you_mean(d: Diagnostic, span: Span, written: &str, best: Option<&str>) -> Diagnostic {
    let Some(best) = best else { return d };
    let help = format!("did you mean `{best}`?");
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
        }
    }
}
