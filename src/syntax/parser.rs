//! The facade over the LALRPOP-generated parser: the only module that names
//! LALRPOP types. Turns parse errors into diagnostics in words a user knows.

use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

use super::ast;
use super::lexer::{LexError, Token};
use crate::diagnostics::{codes, Diagnostic, Label};
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
    if let Some(&(open_start, open_end)) = unclosed.last() {
        let explained = diags
            .get(first..)
            .unwrap_or_default()
            .iter()
            .any(|d| d.primary.span.start >= open_start);
        if !explained {
            diags.push(
                Diagnostic::new(
                    codes::E0004,
                    "unexpected end of file, expected `}`",
                    Label::new(Span::new(file, end, end), "the file ends here"),
                )
                .with_secondary(
                    Span::new(file, open_start, open_end),
                    "this `{` is never closed",
                )
                .with_help("add the missing `}`"),
            );
        }
    }
    ast
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

/// Names declared (`namespace x`, `relation x`, `permission x`) inside parts
/// of the file that failed to parse: analysis stays silent about them.
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
                Some(Token::Namespace | Token::Relation | Token::Permission),
                Token::Ident(name),
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
    match error {
        ParseError::UnrecognizedToken {
            token: (l, token, r),
            expected,
        } => {
            let previous = tokens
                .iter()
                .rev()
                .find(|(_, _, end)| *end <= l)
                .map(|t| t.1);
            let words = expected_words(&expected, previous);
            let span = Span::new(file, l, r);
            let d = Diagnostic::new(
                codes::E0003,
                format!("expected {}, found {}", words, token.describe()),
                Label::new(span, format!("expected {words}")),
            );
            add_hint(d, &expected, token)
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let previous = tokens.last().map(|t| t.1);
            let expected = expected_words(&expected, previous);
            let end = u32::try_from(src.len()).unwrap_or(location);
            Diagnostic::new(
                codes::E0004,
                format!("unexpected end of file, expected {expected}"),
                Label::new(Span::new(file, end, end), format!("expected {expected}")),
            )
        }
        ParseError::ExtraToken {
            token: (l, token, r),
        } => Diagnostic::new(
            codes::E0003,
            format!("unexpected {}", token.describe()),
            Label::new(Span::new(file, l, r), "unexpected here"),
        ),
        // The lexer's errors are reported by `lex`; its token stream never carries them.
        ParseError::InvalidToken { location } => Diagnostic::new(
            codes::E0001,
            "unexpected character",
            Label::new(
                Span::new(file, location, location + 1),
                "not part of the zanzi language",
            ),
        ),
        ParseError::User {
            error: LexError::UnexpectedCharacter,
        } => Diagnostic::new(
            codes::E0001,
            "unexpected character",
            Label::new(Span::new(file, 0, 0), "not part of the zanzi language"),
        ),
    }
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

/// Turns LALRPOP's terminal names into a short phrase such as
/// "relation name" or "`|`, `relation`, `permission` or `}`".
fn expected_words(expected: &[String], previous: Option<Token<'_>>) -> String {
    let mut words: Vec<String> = Vec::new();
    for terminal in expected {
        let word = match terminal.trim_matches('"') {
            "ident" => name_word(previous).to_owned(),
            "namespace" | "relation" | "permission" => format!("`{}`", terminal.trim_matches('"')),
            mark => format!("`{mark}`"),
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // Names and keywords first, marks after; at most five.
    words.sort_by_key(|w| w.starts_with('`'));
    if words.len() > 5 {
        words.truncate(5);
        words.push("…".into());
    }
    match words.as_slice() {
        [] => "nothing more".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// What an identifier would be at this point, judged by the token before it.
fn name_word(previous: Option<Token<'_>>) -> &'static str {
    match previous {
        Some(Token::Namespace) => "namespace name",
        Some(Token::Relation) => "relation name",
        Some(Token::Permission) => "permission name",
        Some(Token::Colon) => "type",
        Some(Token::Hash) => "relation or permission name",
        Some(Token::Eq) | Some(Token::LParen) | Some(Token::Amp) | Some(Token::Minus) => {
            "relation or permission name"
        }
        Some(Token::Arrow) => "permission name",
        Some(Token::Dot) => "`any` or `all`",
        _ => "name",
    }
}

/// Extra help for the mistakes people actually make.
fn add_hint(d: Diagnostic, expected: &[String], found: Token<'_>) -> Diagnostic {
    let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    if matches!(found, Token::Relation | Token::Permission) && expects("namespace") {
        d.with_help("relations and permissions belong inside a `namespace name { … }` block")
    } else if expects(":") && !expects("=") {
        d.with_help("a relation lists its types after `:`, e.g. `relation owner: user`")
    } else if expects("=") {
        d.with_help("a permission is defined with `=`, e.g. `permission view = owner | viewer`")
    } else if matches!(found, Token::Ident(_)) && expects("|") && expects("#") {
        d.with_help("separate the types of a relation with `|`")
    } else if matches!(found, Token::Ident(_)) && expects("|") && expects("&") {
        d.with_help("combine names with `|` (union), `&` (intersection) or `-` (exclusion)")
    } else {
        d
    }
}
