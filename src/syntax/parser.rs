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
    let closers: Vec<&str> = open.iter().rev().map(|t| closer(t.1)).collect();
    let innermost = open.last().map_or("}", |t| closer(t.1));
    let mut d = Diagnostic::new(
        codes::E0004,
        format!("unexpected end of file, expected `{innermost}`"),
        Label::new(Span::new(file, end, end), "the file ends here"),
    );
    if let Some(&(l, t, r)) = open.last() {
        let opener = if t == Token::LParen { "(" } else { "{" };
        d = d.with_secondary(
            Span::new(file, l, r),
            format!("this `{opener}` is never closed"),
        );
    }
    d.with_help(format!("add the missing `{}`", closers.join(" ")))
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
            let span = Span::new(file, l, r);
            let expects = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
            let open = open_delimiters(tokens, l);
            if token == Token::RBrace && expects("namespace") {
                return Diagnostic::new(
                    codes::E0003,
                    "unmatched `}`",
                    Label::new(span, "no block is open here"),
                )
                .with_help("remove it");
            }
            if token == Token::Namespace && expects("}") {
                let mut d = Diagnostic::new(
                    codes::E0003,
                    "expected `}` before the next namespace, found keyword `namespace`",
                    Label::new(span, "the previous namespace is still open"),
                );
                if let Some(&(ol, _, or)) = open.iter().rev().find(|t| t.1 == Token::LBrace) {
                    d = d.with_secondary(Span::new(file, ol, or), "this `{` is never closed");
                }
                return d.with_help("add `}` before this `namespace`");
            }
            let words = expected_words(&expected, Context::at(tokens, l));
            let mut d = Diagnostic::new(
                codes::E0003,
                format!("expected {}, found {}", words, token.describe()),
                Label::new(span, format!("expected {words}")),
            );
            if expects(")") {
                if let Some(&(ol, _, or)) = open.iter().rev().find(|t| t.1 == Token::LParen) {
                    d = d.with_secondary(Span::new(file, ol, or), "this `(` is never closed");
                }
            }
            add_hint(d, &expected, token)
        }
        ParseError::UnrecognizedEof { .. } => unexpected_eof(file, src, tokens),
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

/// What the parser was in the middle of, judged from the tokens before an error.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Context<'src> {
    previous: Option<Token<'src>>,
    /// Inside a `relation` (its types) rather than a `permission` (its expression).
    in_relation: bool,
}

impl<'src> Context<'src> {
    fn at(tokens: &[(u32, Token<'src>, u32)], location: u32) -> Self {
        let before = tokens.iter().take_while(|t| t.2 <= location);
        let previous = before.clone().last().map(|t| t.1);
        let in_relation = before
            .filter(|t| matches!(t.1, Token::Relation | Token::Permission | Token::Namespace))
            .last()
            .is_some_and(|t| t.1 == Token::Relation);
        Context {
            previous,
            in_relation,
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
    let mut words: Vec<String> = Vec::new();
    for terminal in terminals {
        let word = match terminal {
            "-" if hyphen_is_internal => continue,
            "ident" => name_word(context).to_owned(),
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
