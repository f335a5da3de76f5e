//! The facade over the LALRPOP-generated parser: the only module that names
//! LALRPOP types. Turns parse errors into diagnostics in words a user knows.

use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

use super::ast;
use super::errors::{ParseHint, SyntaxError};
use super::lexer::{LexError, Token};
use crate::diagnostics::{Diagnostic, ToDiagnostic};
use crate::source::{FileId, Span};

lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        unused_qualifications
    )]
    grammar,
    "/zanzi.rs"
);

/// Parses the token stream of one file; every syntax error becomes a diagnostic.
pub fn parse_tokens<'src>(
    file: FileId,
    src: &'src str,
    tokens: &[(u32, Token<'src>, u32)],
    diags: &mut Vec<Diagnostic>,
) -> ast::File<'src> {
    let end = u32::try_from(src.len()).unwrap_or(u32::MAX);
    // Recovery cannot resume at the end of input, so bodies left open are
    // closed here and reported once (E0004) instead of losing the whole file.
    let unclosed = unclosed_braces(tokens);
    let closing = unclosed.iter().map(|_| (end, Token::RBrace, end));
    let stream = tokens.iter().copied().chain(closing).map(Ok::<_, LexError>);
    let mut errors = Vec::new();
    let result = grammar::FileParser::new().parse(file, src, &mut errors, stream);
    let first = diags.len();
    let mut report = |e: ParseError<u32, Token<'src>, LexError>| {
        // Errors at the synthetic braces are consequences of the missing `}`.
        if error_location(&e) < end {
            diags.push(describe_error(file, src, tokens, e));
        }
    };
    for ErrorRecovery { error, .. } in errors {
        report(error);
    }
    let ast = match result {
        Ok(ast) => ast,
        Err(error) => {
            report(error);
            ast::File::default()
        }
    };
    if let Some(&(open_start, _)) = unclosed.last() {
        let explained = diags
            .get(first..)
            .unwrap_or_default()
            .iter()
            .any(|d| d.primary.span.start >= open_start);
        if !explained {
            diags.push(unexpected_eof(file, src, tokens));
        }
    }
    ast
}

/// E0004 naming the innermost delimiter left open.
fn unexpected_eof(file: FileId, src: &str, tokens: &[(u32, Token<'_>, u32)]) -> Diagnostic {
    let open = open_delimiters(tokens, u32::MAX);
    let closer = |t: Token<'_>| if t == Token::LParen { ")" } else { "}" };
    // Point at the last character rather than past a final newline.
    let end = u32::try_from(src.trim_end().len()).unwrap_or(u32::MAX);
    SyntaxError::UnexpectedEof {
        at: Span::new(file, end, end),
        open: open.last().map(|&(l, t, r)| {
            let opener = if t == Token::LParen { "(" } else { "{" };
            (Span::new(file, l, r), opener)
        }),
        innermost: open.last().map_or("}", |t| closer(t.1)),
        closers: open.iter().rev().map(|t| closer(t.1)).collect(),
    }
    .to_diagnostic(())
}

/// The `(` and `{` still open before `location`, outermost first.
fn open_delimiters<'src>(
    tokens: &[(u32, Token<'src>, u32)],
    location: u32,
) -> Vec<(u32, Token<'src>, u32)> {
    let mut open: Vec<(u32, Token<'src>, u32)> = Vec::new();
    for &(l, t, r) in tokens.iter().take_while(|t| t.0 < location) {
        match t {
            Token::LBrace | Token::LParen => open.push((l, t, r)),
            Token::RBrace => {
                // A `}` also closes any `(` left open inside its block.
                while open.last().is_some_and(|o| o.1 == Token::LParen) {
                    open.pop();
                }
                open.pop();
            }
            Token::RParen if open.last().is_some_and(|o| o.1 == Token::LParen) => {
                open.pop();
            }
            _ => {}
        }
    }
    open
}

fn error_location(error: &ParseError<u32, Token<'_>, LexError>) -> u32 {
    match error {
        ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => token.0,
        ParseError::UnrecognizedEof { location, .. } | ParseError::InvalidToken { location } => {
            *location
        }
        ParseError::User { .. } => 0,
    }
}

/// Names declared (`namespace x`, `condition x`, `relation x`, `permission x`)
/// or used as a condition (`with x`) inside parts of the file that failed to
/// parse: analysis stays silent about them (an unknown name, an unused condition).
pub fn names_in<'src>(
    tokens: &[(u32, Token<'src>, u32)],
    spans: impl Iterator<Item = Span>,
) -> Vec<&'src str> {
    let mut names = Vec::new();
    for span in spans {
        let inside = tokens
            .iter()
            .skip_while(|t| t.0 < span.start)
            .take_while(|t| t.2 <= span.end);
        let mut previous = None;
        for &(_, token, _) in inside {
            if let (
                Some(
                    Token::Namespace
                    | Token::Condition
                    | Token::Relation
                    | Token::Permission
                    | Token::With,
                ),
                Token::Ident(name) | Token::QuotedIdent(name),
            ) = (previous, token)
            {
                names.push(name);
            }
            previous = Some(token);
        }
    }
    names
}

fn describe_error<'src>(
    file: FileId,
    src: &str,
    tokens: &[(u32, Token<'src>, u32)],
    error: ParseError<u32, Token<'src>, LexError>,
) -> Diagnostic {
    let error = match error {
        ParseError::UnrecognizedToken {
            token: (l, token, r),
            expected,
        } => {
            let span = Span::new(file, l, r);
            let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
            let open = open_delimiters(tokens, l);
            let last_open = |kind: Token<'_>| {
                open.iter()
                    .rev()
                    .find(|t| t.1 == kind)
                    .map(|&(ol, _, or)| Span::new(file, ol, or))
            };
            if token == Token::RBrace && expects("namespace") {
                SyntaxError::UnmatchedBrace { span }
            } else if token == Token::Namespace && expects("}") {
                SyntaxError::NamespaceNotClosed {
                    span,
                    open: last_open(Token::LBrace),
                }
            } else {
                SyntaxError::Expected {
                    span,
                    expected: expected_words(&expected, Context::at(tokens, l)),
                    found: token.describe(),
                    open_paren: if expects(")") {
                        last_open(Token::LParen)
                    } else {
                        None
                    },
                    hint: hint(&expected, token, Context::at(tokens, l)),
                }
            }
        }
        ParseError::UnrecognizedEof { .. } => return unexpected_eof(file, src, tokens),
        ParseError::ExtraToken {
            token: (l, token, r),
        } => SyntaxError::ExtraToken {
            span: Span::new(file, l, r),
            found: token.describe(),
        },
        // The lexer's errors are reported by `lex`; its token stream never carries them.
        ParseError::InvalidToken { location } => SyntaxError::UnexpectedCharacter {
            span: Span::new(file, location, location + 1),
        },
        ParseError::User {
            error: LexError::UnexpectedCharacter,
        } => SyntaxError::UnexpectedCharacter {
            span: Span::new(file, 0, 0),
        },
    };
    error.to_diagnostic(())
}

/// Every `{` still open at the end of the stream, outermost first.
fn unclosed_braces(tokens: &[(u32, Token<'_>, u32)]) -> Vec<(u32, u32)> {
    let mut open = Vec::new();
    for &(l, t, r) in tokens {
        match t {
            Token::LBrace => open.push((l, r)),
            Token::RBrace => {
                open.pop();
            }
            _ => {}
        }
    }
    open
}

/// What the parser was in the middle of, judged from the tokens before an error.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Context<'src> {
    previous: Option<Token<'src>>,
    /// Inside a `relation` (its types) rather than a `permission` (its expression).
    in_relation: bool,
    /// Inside a condition's header (its parameters).
    in_condition: bool,
}

impl<'src> Context<'src> {
    fn at(tokens: &[(u32, Token<'src>, u32)], location: u32) -> Self {
        let before = tokens.iter().take_while(|t| t.2 <= location);
        let previous = before.clone().last().map(|t| t.1);
        let last_keyword = before
            .filter(|t| {
                matches!(
                    t.1,
                    Token::Relation | Token::Permission | Token::Namespace | Token::Condition
                )
            })
            .last()
            .map(|t| t.1);
        Context {
            previous,
            in_relation: last_keyword == Some(Token::Relation),
            in_condition: last_keyword == Some(Token::Condition),
        }
    }
}

/// Turns LALRPOP's terminal names into a short phrase such as
/// "relation name" or "`relation`, `permission` or `}`".
fn expected_words(expected: &[String], context: Context<'_>) -> String {
    let terminals: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    // After a declared name, `-` is only the recovery path for `can-view`.
    let hyphen_is_internal = terminals
        .iter()
        .any(|t| matches!(*t, ":" | "=" | "{" | "#"));
    // Where a name may stand, `and` and `expiration` are names too.
    let name_expected = terminals.contains(&"ident");
    let mut words: Vec<String> = Vec::new();
    for terminal in terminals {
        let word = match terminal {
            "-" if hyphen_is_internal => continue,
            "and" | "expiration" if name_expected && context.previous != Some(Token::With) => {
                continue
            }
            "ident" | "quoted" => name_word(context).to_owned(),
            "cel" => "condition expression".to_owned(),
            "namespace" | "relation" | "permission" => format!("`{terminal}`"),
            mark => format!("`{mark}`"),
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // Names and keywords first, marks after.
    words.sort_by_key(|w| w.starts_with('`'));
    match words.as_slice() {
        [] => "nothing more".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// What an identifier would be at this point.
fn name_word(context: Context<'_>) -> &'static str {
    match context.previous {
        Some(Token::Namespace) => "namespace name",
        Some(Token::Condition | Token::With) => "condition name",
        Some(Token::LParen | Token::Comma) if context.in_condition => "parameter name",
        Some(Token::Colon | Token::Lt) if context.in_condition => "parameter type",
        Some(Token::Relation) => "relation name",
        Some(Token::Permission) => "permission name",
        Some(Token::Colon | Token::Pipe) if context.in_relation => "type",
        Some(Token::Hash) => "relation or permission name",
        Some(Token::Dot) => "`any` or `all`",
        Some(
            Token::Eq | Token::LParen | Token::Pipe | Token::Amp | Token::Minus | Token::Arrow,
        ) => "relation or permission name",
        _ => "name",
    }
}

/// Which extra help fits the mistake, judged from what the parser expected.
fn hint(expected: &[String], found: Token<'_>, context: Context<'_>) -> Option<ParseHint> {
    let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    if matches!(found, Token::Relation | Token::Permission) && expects("namespace") {
        Some(ParseHint::OutsideNamespace)
    } else if context.in_condition {
        None
    } else if context.in_relation && matches!(found, Token::Ident(_)) && expects("|") {
        // `user with c user`: a type where `|` and another type were meant.
        Some(ParseHint::TypeSeparator)
    } else if expects(":") && !expects("=") {
        Some(ParseHint::RelationColon)
    } else if expects("=") {
        Some(ParseHint::PermissionEquals)
    } else if matches!(found, Token::Ident(_)) && expects("|") && expects("#") {
        Some(ParseHint::TypeSeparator)
    } else if matches!(found, Token::Ident(_)) && expects("|") && expects("&") {
        Some(ParseHint::Operators)
    } else {
        None
    }
}
