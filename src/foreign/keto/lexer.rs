//! Lexing the Ory Permission Language: source text to tokens with byte spans.
//!
//! The token set is Keto's own (`schema/lexer.go`): identifiers are ASCII
//! letters, digits and `_`; strings are quoted with `"` or `'` and have no
//! escapes; `<` and `>` are single tokens, so `Array<SubjectSet<A, "b">>`
//! closes with two of them. Comments are kept aside with the index of the
//! token that follows them, so that a JSDoc comment documents that token's item.

use logos::Logos;

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};

/// Why a piece of text is not a token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    #[default]
    UnexpectedCharacter,
    UnterminatedString,
    UnterminatedComment,
}

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f\x0B]+")]
pub enum Token<'src> {
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'src str),
    /// A string literal's text, without its quotes.
    #[token("\"", |lex| string(lex, '"'))]
    #[token("'", |lex| string(lex, '\''))]
    Str(&'src str),
    #[regex(r"//[^\n]*", |lex| lex.slice(), allow_greedy = true)]
    LineComment(&'src str),
    /// `/* … */`, including JSDoc `/** … */`.
    #[token("/*", block_comment)]
    BlockComment(&'src str),
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("<")]
    Less,
    #[token(">")]
    Greater,
    #[token(":")]
    Colon,
    #[token(";")]
    Semicolon,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
    #[token("=>")]
    FatArrow,
    #[token("||")]
    OrOr,
    #[token("&&")]
    AndAnd,
    #[token("!")]
    Bang,
    #[token("|")]
    Pipe,
}

fn string<'src>(
    lex: &mut logos::Lexer<'src, Token<'src>>,
    quote: char,
) -> Result<&'src str, LexError> {
    let rest = lex.remainder();
    match rest.find(quote) {
        Some(end) => {
            lex.bump(end + 1);
            Ok(rest.get(..end).unwrap_or(""))
        }
        None => {
            lex.bump(rest.len());
            Err(LexError::UnterminatedString)
        }
    }
}

fn block_comment<'src>(lex: &mut logos::Lexer<'src, Token<'src>>) -> Result<&'src str, LexError> {
    match lex.remainder().find("*/") {
        Some(end) => {
            lex.bump(end + 2);
            Ok(lex.slice())
        }
        None => {
            lex.bump(lex.remainder().len());
            Err(LexError::UnterminatedComment)
        }
    }
}

impl Token<'_> {
    /// The one user-facing name of each token, in TypeScript's terms.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("identifier `{name}`"),
            Token::Str(text) => format!("string literal `\"{text}\"`"),
            Token::LineComment(_) | Token::BlockComment(_) => "comment".to_owned(),
            other => format!("`{}`", other.punctuation()),
        }
    }

    /// The text of a punctuation token (empty for the others).
    pub fn punctuation(&self) -> &'static str {
        match self {
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::Less => "<",
            Token::Greater => ">",
            Token::Colon => ":",
            Token::Semicolon => ";",
            Token::Comma => ",",
            Token::Dot => ".",
            Token::Assign => "=",
            Token::FatArrow => "=>",
            Token::OrOr => "||",
            Token::AndAnd => "&&",
            Token::Bang => "!",
            Token::Pipe => "|",
            Token::Ident(_) | Token::Str(_) | Token::LineComment(_) | Token::BlockComment(_) => "",
        }
    }
}

/// A comment and the index of the token after it.
#[derive(Clone, Copy, Debug)]
pub struct Comment<'src> {
    pub text: &'src str,
    pub next_token: usize,
}

impl<'src> Comment<'src> {
    /// The lines of a JSDoc comment (`/** … */`), markers and one leading
    /// space stripped; `None` for any other comment.
    pub fn doc_lines(&self) -> Option<Vec<&'src str>> {
        let inner = self.text.strip_prefix("/**")?.strip_suffix("*/")?;
        if inner.starts_with('/') || self.text == "/**/" {
            return None;
        }
        let mut lines: Vec<&str> = inner
            .lines()
            .map(|line| {
                let line = line.trim_start();
                let line = line.strip_prefix('*').unwrap_or(line);
                line.strip_prefix(' ').unwrap_or(line).trim_end()
            })
            .collect();
        while lines.first().is_some_and(|l| l.is_empty()) {
            lines.remove(0);
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        Some(lines)
    }
}

/// The tokens of a file, comments aside.
#[derive(Debug, Default)]
pub struct Lexed<'src> {
    pub tokens: Vec<(Token<'src>, Span)>,
    pub comments: Vec<Comment<'src>>,
    /// An unterminated string or comment ended the file early (reported).
    pub truncated: bool,
}

/// Lexes a whole file. Bad characters are reported (adjacent ones once) and
/// skipped; an unterminated string or comment ends the file.
pub fn lex<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Lexed<'src> {
    let mut out = Lexed::default();
    let mut lexer = Token::lexer(src);
    let mut bad_run: Option<Span> = None;
    let span_of = |range: std::ops::Range<usize>| {
        Span::new(
            file,
            crate::source::offset(range.start),
            crate::source::offset(range.end),
        )
    };
    while let Some(result) = lexer.next() {
        let span = span_of(lexer.span());
        if let Err(LexError::UnexpectedCharacter) = result {
            bad_run = Some(match bad_run {
                Some(run) if run.end == span.start => run.to(span),
                Some(run) => {
                    diags.push(unexpected_characters(src, run));
                    span
                }
                None => span,
            });
            continue;
        }
        if let Some(run) = bad_run.take() {
            diags.push(unexpected_characters(src, run));
        }
        match result {
            Ok(Token::LineComment(text) | Token::BlockComment(text)) => {
                out.comments.push(Comment {
                    text,
                    next_token: out.tokens.len(),
                })
            }
            Ok(token) => out.tokens.push((token, span)),
            Err(error) => {
                let (what, opener) = match error {
                    LexError::UnterminatedString => ("string literal", 1),
                    _ => ("comment", 2),
                };
                let start = Span::new(
                    file,
                    span.start,
                    span.start.saturating_add(opener).min(span.end),
                );
                let end = crate::source::offset(src.len());
                diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        format!("unterminated {what}"),
                        Label::new(start, format!("this {what} is never closed")),
                    )
                    .with_secondary(Span::new(file, end, end), "the file ends here")
                    .with_help(match error {
                        LexError::UnterminatedString => {
                            "close the string with the quote it opened with"
                        }
                        _ => "close the comment with `*/`",
                    }),
                );
                out.truncated = true;
                break;
            }
        }
    }
    if let Some(run) = bad_run {
        diags.push(unexpected_characters(src, run));
    }
    out
}

fn unexpected_characters(src: &str, run: Span) -> Diagnostic {
    let text = src.get(run.range()).unwrap_or("?");
    let what = if text.chars().count() == 1 {
        "character"
    } else {
        "characters"
    };
    Diagnostic::new(
        codes::E0601,
        format!("unexpected {what} `{}`", text.escape_debug()),
        Label::new(run, "not part of the Ory Permission Language"),
    )
    .with_note("names are ASCII letters, digits and `_`; strings are quoted with `\"` or `'`")
}
