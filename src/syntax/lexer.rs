//! Lexing: source text to tokens with byte spans (logos).
//!
//! Comments are tokens too, so the formatter can keep them; [`lex`] splits them
//! off as trivia before the parser sees the stream. Names are lexed leniently
//! (`Viewer`, `2fa`) so that analysis can say precisely what is wrong (E0101).

use logos::Logos;

use super::errors::SyntaxError;
use crate::diagnostics::{Diagnostic, ToDiagnostic};
use crate::source::{FileId, Span};

/// A lexing failure; the default is an unexpected character.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    #[default]
    UnexpectedCharacter,
}

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Token<'src> {
    #[token("namespace")]
    Namespace,
    #[token("relation")]
    Relation,
    #[token("permission")]
    Permission,
    /// Lenient on purpose: analysis says what is wrong with `Viewer` (E0101).
    #[regex(r"[A-Za-z0-9_]+", |lex| lex.slice())]
    Ident(&'src str),
    /// `` `File` ``: a name kept verbatim (the text between the backticks).
    #[regex(r"`[^`\n]*`", |lex| { let s = lex.slice(); s.get(1..s.len() - 1).unwrap_or("") })]
    QuotedIdent(&'src str),
    #[regex(r"///[^\n]*", |lex| lex.slice(), priority = 10, allow_greedy = true)]
    DocComment(&'src str),
    #[regex(r"//[^\n]*", |lex| lex.slice(), allow_greedy = true)]
    LineComment(&'src str),
    #[regex(r"/\*([^*]|\*+[^*/])*\*+/", |lex| lex.slice())]
    BlockComment(&'src str),
    /// `/*` with no closing `*/`: the rest of the file is a comment (E0002).
    #[token("/*", priority = 1)]
    UnterminatedComment,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(":")]
    Colon,
    #[token("|")]
    Pipe,
    #[token("&")]
    Amp,
    #[token("-")]
    Minus,
    #[token("->")]
    Arrow,
    #[token("#")]
    Hash,
    #[token("*")]
    Star,
    #[token("=")]
    Eq,
    #[token(".")]
    Dot,
    #[token(",")]
    Comma,
}

impl Token<'_> {
    /// The one user-facing name of each token.
    pub fn describe(&self) -> String {
        match self {
            Token::Namespace => "keyword `namespace`".into(),
            Token::Relation => "keyword `relation`".into(),
            Token::Permission => "keyword `permission`".into(),
            Token::Ident(name) => format!("name `{name}`"),
            Token::QuotedIdent(name) => format!("name `` `{name}` ``"),
            Token::DocComment(_) => "doc comment".into(),
            Token::LineComment(_) | Token::BlockComment(_) | Token::UnterminatedComment => {
                "comment".into()
            }
            other => format!("`{}`", other.punctuation().unwrap_or("?")),
        }
    }

    /// The text of a punctuation token.
    pub fn punctuation(&self) -> Option<&'static str> {
        Some(match self {
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::Colon => ":",
            Token::Pipe => "|",
            Token::Amp => "&",
            Token::Minus => "-",
            Token::Arrow => "->",
            Token::Hash => "#",
            Token::Star => "*",
            Token::Eq => "=",
            Token::Dot => ".",
            Token::Comma => ",",
            _ => return None,
        })
    }

    pub fn is_comment(&self) -> bool {
        matches!(
            self,
            Token::DocComment(_) | Token::LineComment(_) | Token::BlockComment(_)
        )
    }
}

/// Parentheses nested deeper than this are refused (E0007), so that no later
/// stage can overflow its stack on hostile input.
pub const MAX_NESTING: usize = 64;

/// A comment kept aside for the formatter and for doc attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment<'src> {
    pub text: &'src str,
    pub span: Span,
    pub doc: bool,
}

/// The lexed file: parser tokens and comments, separately.
#[derive(Debug, Default)]
pub struct Lexed<'src> {
    pub tokens: Vec<(u32, Token<'src>, u32)>,
    pub comments: Vec<Comment<'src>>,
}

/// Lexes a whole file, reporting bad characters, an unterminated comment and
/// runaway nesting; never fails.
pub fn lex<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Lexed<'src> {
    // About one token per five bytes in typical schemas; growing by doubling
    // would copy the whole stream several times on large inputs.
    let mut out = Lexed {
        tokens: Vec::with_capacity(src.len() / 5 + 16),
        comments: Vec::new(),
    };
    let mut depth = 0usize;
    let mut lexer = Token::lexer(src);
    let mut bad_run: Option<Span> = None;
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(
            file,
            crate::source::offset(range.start),
            crate::source::offset(range.end),
        );
        let token = match result {
            Ok(token) => token,
            Err(LexError::UnexpectedCharacter) => {
                // Adjacent bad characters become one diagnostic.
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
        };
        if let Some(run) = bad_run.take() {
            diags.push(unexpected_characters(src, run));
        }
        match token {
            Token::UnterminatedComment => {
                let end = crate::source::offset(src.trim_end().len());
                let error = SyntaxError::UnterminatedComment {
                    span,
                    file_end: Span::new(file, end, end),
                };
                diags.push(error.to_diagnostic(()));
                return out;
            }
            Token::DocComment(text) | Token::LineComment(text) | Token::BlockComment(text) => {
                out.comments.push(Comment {
                    text,
                    span,
                    doc: matches!(token, Token::DocComment(_)),
                });
            }
            Token::LParen => {
                depth += 1;
                if depth > MAX_NESTING {
                    let error = SyntaxError::NestedTooDeeply {
                        span,
                        limit: MAX_NESTING,
                    };
                    diags.push(error.to_diagnostic(()));
                    // Nothing after this point can be parsed safely.
                    out.tokens.clear();
                    return out;
                }
                out.tokens.push((span.start, token, span.end));
            }
            Token::RParen => {
                depth = depth.saturating_sub(1);
                out.tokens.push((span.start, token, span.end));
            }
            _ => out.tokens.push((span.start, token, span.end)),
        }
    }
    if let Some(run) = bad_run {
        diags.push(unexpected_characters(src, run));
    }
    out
}

fn unexpected_characters(src: &str, span: Span) -> Diagnostic {
    let text = src.get(span.range()).unwrap_or("").to_owned();
    SyntaxError::UnexpectedCharacters { span, text }.to_diagnostic(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::diagnostics::codes;

    fn kinds(src: &str) -> Vec<Token<'_>> {
        let mut diags = vec![];
        lex(FileId(0), src, &mut diags)
            .tokens
            .into_iter()
            .map(|(_, t, _)| t)
            .collect()
    }

    #[test]
    fn every_mark_lexes_back_through_describe() {
        for mark in [
            "{", "}", "(", ")", ":", "|", "&", "-", "->", "#", "*", "=", ".", ",",
        ] {
            let tokens = kinds(mark);
            assert_eq!(tokens.len(), 1, "{mark}");
            assert_eq!(tokens[0].describe(), format!("`{mark}`"));
        }
        for keyword in ["namespace", "relation", "permission"] {
            assert_eq!(kinds(keyword)[0].describe(), format!("keyword `{keyword}`"));
        }
    }

    #[test]
    fn doc_comments_are_not_line_comments() {
        let mut diags = vec![];
        let lexed = lex(FileId(0), "/// doc\n// plain\n/* block */", &mut diags);
        let docs: Vec<bool> = lexed.comments.iter().map(|c| c.doc).collect();
        assert_eq!(docs, vec![true, false, false]);
        assert!(diags.is_empty());
    }

    #[test]
    fn arrow_is_one_token_and_minus_another() {
        assert_eq!(kinds("a->b")[1], Token::Arrow);
        assert_eq!(kinds("a - b")[1], Token::Minus);
    }

    #[test]
    fn bad_characters_become_one_diagnostic_per_run() {
        let mut diags = vec![];
        lex(FileId(0), "a $$ b ;", &mut diags);
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].code, codes::E0001);
    }
}
