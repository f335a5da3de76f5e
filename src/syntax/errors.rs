//! What the lexer and parser find wrong, as data; the words are written once,
//! in [`ToDiagnostic::to_diagnostic`].

use crate::diagnostics::{codes, Applicability, Diagnostic, Edit, Label, ToDiagnostic};
use crate::source::Span;

/// Extra help for the parse errors people actually make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseHint {
    /// `relation` or `permission` outside a namespace.
    OutsideNamespace,
    /// A relation without `:`.
    RelationColon,
    /// A permission without `=`.
    PermissionEquals,
    /// Two types without `|` between them.
    TypeSeparator,
    /// Two names without an operator between them.
    Operators,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyntaxError {
    /// E0001: a run of characters that are no token, as written.
    UnexpectedCharacters { span: Span, text: String },
    /// E0001 that the lexer never lets through to the parser.
    UnexpectedCharacter { span: Span },
    /// E0002.
    UnterminatedComment { span: Span, file_end: Span },
    /// E0007.
    NestedTooDeeply { span: Span, limit: usize },
    /// E0003: a `}` with no block open.
    UnmatchedBrace { span: Span },
    /// E0003: `namespace` while a namespace is still open.
    NamespaceNotClosed { span: Span, open: Option<Span> },
    /// E0003: `expected` (already a phrase: "relation name", "`:` or `|`")
    /// where `found` (a token described) stands.
    Expected {
        span: Span,
        expected: String,
        found: String,
        /// The `(` left open, when a `)` would have done.
        open_paren: Option<Span>,
        hint: Option<ParseHint>,
    },
    /// E0003: a token after the end of what the grammar accepts.
    ExtraToken { span: Span, found: String },
    /// E0004.
    UnexpectedEof {
        /// The end of the file's text.
        at: Span,
        /// The innermost delimiter left open: where it is and what it is.
        open: Option<(Span, &'static str)>,
        /// What closes the innermost open delimiter.
        innermost: &'static str,
        /// Every missing closer, innermost first.
        closers: Vec<&'static str>,
    },
    /// W0001.
    DocCommentOnNothing { span: Span },
    /// E0004: a condition's `{` that the file never closes.
    UnterminatedConditionBody {
        span: Span,
        file_end: Span,
        /// The quote of a string literal left open, when that is why.
        open_string: Option<Span>,
    },
}

impl ToDiagnostic for SyntaxError {
    type Context<'a> = ();

    fn to_diagnostic(&self, (): ()) -> Diagnostic {
        match self {
            SyntaxError::UnexpectedCharacters { span, text } => {
                let shown: String = text.chars().flat_map(char::escape_debug).collect();
                let message = if text.chars().count() == 1 {
                    format!("unexpected character `{shown}`")
                } else {
                    format!("unexpected characters `{shown}`")
                };
                let d = Diagnostic::new(
                    codes::E0001,
                    message,
                    Label::new(*span, "not part of the zanzi language"),
                );
                if text == ";" {
                    d.with_fix(
                        "members need no terminator: remove the `;`",
                        Edit::new(*span, "", Applicability::MachineApplicable),
                    )
                } else if text.starts_with('"') || text.starts_with('\'') {
                    d.with_help("names are written without quotes")
                } else {
                    d.with_fix(
                        "remove it",
                        Edit::new(*span, "", Applicability::MaybeIncorrect),
                    )
                }
            }
            SyntaxError::UnexpectedCharacter { span } => Diagnostic::new(
                codes::E0001,
                "unexpected character",
                Label::new(*span, "not part of the zanzi language"),
            ),
            SyntaxError::UnterminatedComment { span, file_end } => Diagnostic::new(
                codes::E0002,
                "unterminated block comment",
                Label::new(*span, "this comment is never closed"),
            )
            .with_secondary(*file_end, "the file ends here")
            .with_help("close the comment with `*/`"),
            SyntaxError::NestedTooDeeply { span, limit } => Diagnostic::new(
                codes::E0007,
                "expression nested too deeply",
                Label::new(*span, format!("more than {limit} open parentheses")),
            )
            .with_help("split the expression into several permissions"),
            SyntaxError::UnmatchedBrace { span } => Diagnostic::new(
                codes::E0003,
                "unmatched `}`",
                Label::new(*span, "no block is open here"),
            )
            .with_help("remove it"),
            SyntaxError::NamespaceNotClosed { span, open } => {
                let mut d = Diagnostic::new(
                    codes::E0003,
                    "expected `}` before the next namespace, found keyword `namespace`",
                    Label::new(*span, "the previous namespace is still open"),
                );
                if let Some(open) = open {
                    d = d.with_secondary(*open, "this `{` is never closed");
                }
                d.with_fix(
                    "add `}` before this `namespace`",
                    Edit::new(
                        Span::new(span.file, span.start, span.start),
                        "}\n",
                        Applicability::MaybeIncorrect,
                    ),
                )
            }
            SyntaxError::Expected {
                span,
                expected,
                found,
                open_paren,
                hint,
            } => {
                let mut d = Diagnostic::new(
                    codes::E0003,
                    format!("expected {expected}, found {found}"),
                    Label::new(*span, format!("expected {expected}")),
                );
                if let Some(open) = open_paren {
                    d = d.with_secondary(*open, "this `(` is never closed");
                }
                match hint {
                    Some(ParseHint::OutsideNamespace) => d.with_help(
                        "relations and permissions belong inside a `namespace name { … }` block",
                    ),
                    Some(ParseHint::RelationColon) => d.with_help(
                        "a relation lists its types after `:`, e.g. `relation owner: user`",
                    ),
                    Some(ParseHint::PermissionEquals) => d.with_help(
                        "a permission is defined with `=`, e.g. `permission view = owner | viewer`",
                    ),
                    Some(ParseHint::TypeSeparator) => {
                        d.with_help("separate the types of a relation with `|`")
                    }
                    Some(ParseHint::Operators) => d.with_help(
                        "combine names with `|` (union), `&` (intersection) or `-` (exclusion)",
                    ),
                    None => d,
                }
            }
            SyntaxError::ExtraToken { span, found } => Diagnostic::new(
                codes::E0003,
                format!("unexpected {found}"),
                Label::new(*span, "unexpected here"),
            ),
            SyntaxError::UnexpectedEof {
                at,
                open,
                innermost,
                closers,
            } => {
                let mut d = Diagnostic::new(
                    codes::E0004,
                    format!("unexpected end of file, expected `{innermost}`"),
                    Label::new(*at, "the file ends here"),
                );
                if let Some((span, opener)) = open {
                    d = d.with_secondary(*span, format!("this `{opener}` is never closed"));
                }
                // At the end is one place the closers may go, not the only
                // one; on a line of their own, past any final `// comment`.
                let closers = closers.join(" ");
                d.with_fix(
                    format!("add the missing `{closers}`"),
                    Edit::new(*at, format!("\n{closers}"), Applicability::MaybeIncorrect),
                )
            }
            SyntaxError::UnterminatedConditionBody {
                span,
                file_end,
                open_string,
            } => {
                let d = Diagnostic::new(
                    codes::E0004,
                    "unexpected end of file, expected `}` after the condition's expression",
                    Label::new(*span, "this `{` is never closed"),
                )
                .with_secondary(*file_end, "the file ends here");
                match open_string {
                    Some(quote) => d
                        .with_secondary(*quote, "this string literal is never closed")
                        .with_help("close the string literal with the quotes that open it"),
                    None => d.with_help("close the condition's expression with `}`"),
                }
            }
            SyntaxError::DocCommentOnNothing { span } => Diagnostic::new(
                codes::W0001,
                "doc comment documents nothing",
                Label::new(
                    *span,
                    "not followed by a `namespace`, `condition`, `relation` or `permission`",
                ),
            )
            .with_fix(
                "use `//` for a plain comment",
                Edit::new(
                    Span::new(span.file, span.start, span.start + 3),
                    "//",
                    Applicability::MachineApplicable,
                ),
            ),
        }
    }
}
