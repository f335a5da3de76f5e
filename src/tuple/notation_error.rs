//! Places in a parsed tuple text and what went wrong there, with the
//! diagnostic each error becomes.

use std::ops::Range;

use thiserror::Error;

use crate::diagnostics::{codes, Diagnostic, Label, ToDiagnostic};
use crate::source::Span;
use crate::tuple::model::MAX_ID_BYTES;

/// A place in a parsed text: the byte range `start..end`, and the 1-based
/// character column of `start` (what people count in). Errors carry it so
/// that nobody has to scan the text again to point at the mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextSpan {
    pub start: usize,
    pub end: usize,
    pub column: usize,
}

impl TextSpan {
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: TextSpan) -> TextSpan {
        TextSpan {
            end: other.end,
            ..self
        }
    }

    /// The same place in a text that has `bytes` more bytes and `chars` more
    /// characters on its line before this place.
    pub(super) fn shift(self, bytes: usize, chars: usize) -> TextSpan {
        TextSpan {
            start: self.start + bytes,
            end: self.end + bytes,
            column: self.column + chars,
        }
    }
}

/// Why a tuple (or an object or subject) in the text notation did not parse.
/// `at` is the place of the problem in the parsed text.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TupleError {
    #[error("expected {expected} after the {after}")]
    Expected {
        at: TextSpan,
        expected: &'static str,
        after: &'static str,
    },
    #[error("empty {what}")]
    Empty { at: TextSpan, what: &'static str },
    #[error("invalid {what} `{name}`: {problem}")]
    InvalidName {
        at: TextSpan,
        what: &'static str,
        name: String,
        /// What the name rule ([`super::model::name_problem`]) objects to.
        problem: String,
    },
    #[error("unencoded {found} in the {what}; write it as `{encoded}`")]
    Unencoded {
        at: TextSpan,
        what: &'static str,
        found: String,
        encoded: String,
    },
    #[error(
        "invalid percent-encoding `{text}` in the {what}: `%` must be followed by two hex digits"
    )]
    BadEscape {
        at: TextSpan,
        what: &'static str,
        text: String,
    },
    #[error("the percent-encoded bytes of the {what} are not UTF-8")]
    NotUtf8 { at: TextSpan, what: &'static str },
    #[error("control character U+{code:04X} in the {what}")]
    Control {
        at: TextSpan,
        what: &'static str,
        code: u32,
    },
    #[error("the {what} is {len} bytes long; the limit is {MAX_ID_BYTES}")]
    TooLong {
        at: TextSpan,
        what: &'static str,
        len: usize,
    },
    #[error("the wildcard `{namespace}:*` cannot name a relation")]
    WildcardRelation { at: TextSpan, namespace: String },
    #[error(
        "the object of a tuple cannot be the wildcard `*`; write `%2A` for an object named `*`"
    )]
    WildcardObject { at: TextSpan },
    #[error("unexpected {found} after the {after}")]
    Trailing {
        at: TextSpan,
        found: String,
        after: &'static str,
    },
    #[error("unclosed `[`: a condition or an expiry ends with `]`")]
    Unclosed { at: TextSpan },
    #[error("invalid JSON in the context of condition `{condition}`: {message}")]
    BadJson {
        at: TextSpan,
        condition: String,
        message: String,
    },
    #[error("the context of condition `{condition}` must be a JSON object, not {found}")]
    ContextNotObject {
        at: TextSpan,
        condition: String,
        found: &'static str,
    },
    #[error(
        "invalid expiration `{text}`: expected an RFC 3339 time such as `2027-01-01T00:00:00Z`"
    )]
    BadExpiry { at: TextSpan, text: String },
    #[error("a tuple has at most one {what}")]
    Twice { at: TextSpan, what: &'static str },
}

impl TupleError {
    /// Where the problem is in the parsed text.
    pub fn span(&self) -> TextSpan {
        match self {
            TupleError::Expected { at, .. }
            | TupleError::Empty { at, .. }
            | TupleError::InvalidName { at, .. }
            | TupleError::Unencoded { at, .. }
            | TupleError::BadEscape { at, .. }
            | TupleError::NotUtf8 { at, .. }
            | TupleError::Control { at, .. }
            | TupleError::TooLong { at, .. }
            | TupleError::WildcardRelation { at, .. }
            | TupleError::WildcardObject { at }
            | TupleError::Trailing { at, .. }
            | TupleError::Unclosed { at }
            | TupleError::BadJson { at, .. }
            | TupleError::ContextNotObject { at, .. }
            | TupleError::BadExpiry { at, .. }
            | TupleError::Twice { at, .. } => *at,
        }
    }

    /// The 1-based character column of the problem.
    pub fn column(&self) -> usize {
        self.span().column
    }

    pub(super) fn shift(mut self, bytes: usize, chars: usize) -> TupleError {
        match &mut self {
            TupleError::Expected { at, .. }
            | TupleError::Empty { at, .. }
            | TupleError::InvalidName { at, .. }
            | TupleError::Unencoded { at, .. }
            | TupleError::BadEscape { at, .. }
            | TupleError::NotUtf8 { at, .. }
            | TupleError::Control { at, .. }
            | TupleError::TooLong { at, .. }
            | TupleError::WildcardRelation { at, .. }
            | TupleError::WildcardObject { at }
            | TupleError::Trailing { at, .. }
            | TupleError::Unclosed { at }
            | TupleError::BadJson { at, .. }
            | TupleError::ContextNotObject { at, .. }
            | TupleError::BadExpiry { at, .. }
            | TupleError::Twice { at, .. } => *at = at.shift(bytes, chars),
        }
        self
    }
}

/// What a text in the tuple notation was meant to be; it names the text in
/// messages and says how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// `namespace:id#relation@subject`, stored.
    Tuple,
    /// `namespace:id#relation@subject`, asked.
    Check,
    /// `namespace:id#relation`.
    Userset,
    /// `namespace:id`.
    Object,
    /// `namespace:id`, `namespace:id#relation` or `namespace:*`.
    Subject,
}

impl Notation {
    pub fn name(self) -> &'static str {
        match self {
            Notation::Tuple => "tuple",
            Notation::Check => "check",
            Notation::Userset => "userset",
            Notation::Object => "object",
            Notation::Subject => "subject",
        }
    }

    /// How a text of this kind is written.
    pub fn form(self) -> &'static str {
        match self {
            Notation::Tuple | Notation::Check => "`namespace:id#relation@subject`",
            Notation::Userset => "`namespace:id#relation`",
            Notation::Object => "`namespace:id`",
            Notation::Subject => "`namespace:id`, `namespace:id#relation` or `namespace:*`",
        }
    }
}

/// Where a text in the tuple notation stands in a source, for its errors'
/// diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct NotationSite<'t> {
    pub what: Notation,
    /// The text as it was parsed, quoted in the message.
    pub text: &'t str,
    /// Where `text` is in the source.
    pub span: Span,
    /// The offset in `span.file` that the error's offsets count from, or
    /// `None` when they cannot be placed there (the source at `span` is not
    /// `text` as such, as with a quoted YAML scalar): then the diagnostic
    /// points at all of `span`.
    pub offsets_from: Option<u32>,
}

impl ToDiagnostic for TupleError {
    type Context<'a> = NotationSite<'a>;

    fn to_diagnostic(&self, site: NotationSite<'_>) -> Diagnostic {
        let at = self.span();
        let here = match site.offsets_from {
            Some(from) => {
                let offset = |n: usize| {
                    from.saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
                        .clamp(site.span.start, site.span.end)
                };
                Span::new(site.span.file, offset(at.start), offset(at.end))
            }
            None => site.span,
        };
        let what = site.what.name();
        let mut d = Diagnostic::new(
            codes::E0401,
            format!(
                "invalid {what} `{}` at column {}: {self}",
                site.text, at.column
            ),
            Label::new(here, "here"),
        );
        if here != site.span {
            d = d.with_secondary(site.span, format!("in this {what}"));
        }
        d.with_help(format!(
            "a {what} is written {}; `:`, `#`, `@`, `%` and spaces in IDs are percent-encoded",
            site.what.form()
        ))
    }
}

/// `c` as the user should read it in a message.
pub(super) fn describe_char(c: char) -> String {
    if c == ' ' {
        "space".to_owned()
    } else if c.is_whitespace() || c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}
