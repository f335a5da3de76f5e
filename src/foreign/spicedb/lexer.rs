//! Lexing SpiceDB schema text (logos), mirroring SpiceDB's own lexer
//! (`pkg/schemadsl/lexer`): its keywords, its punctuation (the CEL marks of
//! caveat bodies included, so that a caveat can be skipped token by token)
//! and its statement ends. SpiceDB ends a statement at a newline that
//! follows a name, a keyword, `}`, `)` or `*` (a "synthetic semicolon"), so
//! `viewer +` may continue on the next line but `viewer` may not; [`lex`]
//! turns exactly those newlines into [`Token::End`] and drops the others.

use logos::Logos;

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};
use crate::syntax::lexer::MAX_NESTING;
use crate::syntax::Comment;

/// A lexing failure; the default is a character SpiceDB does not know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    #[default]
    UnexpectedCharacter,
}

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t]+")]
pub enum Token<'src> {
    #[token("definition")]
    Definition,
    #[token("caveat")]
    Caveat,
    #[token("relation")]
    Relation,
    #[token("permission")]
    Permission,
    #[token("nil")]
    Nil,
    #[token("with")]
    With,
    /// SpiceDB's identifiers: Unicode letters, digits and `_`. Its
    /// contextual words (`use`, `self`, `expiration`, `and`, `import`,
    /// `partial`, `any`, `all`) are names here too; the parser decides.
    #[regex(r"[\p{L}\p{Nd}_]+", |lex| lex.slice())]
    Name(&'src str),
    #[regex(r"\r\n|\n|\r")]
    Newline,
    /// A statement end: `;`, or a newline where SpiceDB ends a statement
    /// (made by [`lex`], never by logos).
    End,
    #[token(";")]
    Semicolon,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("|")]
    Pipe,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("&")]
    Amp,
    #[token("/")]
    Slash,
    #[token("=")]
    Eq,
    #[token(":")]
    Colon,
    #[token("->")]
    Arrow,
    #[token("#")]
    Hash,
    #[token("...")]
    Ellipsis,
    #[token("*")]
    Star,
    #[token(".")]
    Dot,
    #[token(",")]
    Comma,
    /// The other marks of CEL, which only caveat bodies use.
    #[token("?", |lex| lex.slice())]
    #[token("||", |lex| lex.slice())]
    #[token("&&", |lex| lex.slice())]
    #[token("!", |lex| lex.slice())]
    #[token("!=", |lex| lex.slice())]
    #[token("[", |lex| lex.slice())]
    #[token("]", |lex| lex.slice())]
    #[token("%", |lex| lex.slice())]
    #[token("<", |lex| lex.slice())]
    #[token(">", |lex| lex.slice())]
    #[token("<=", |lex| lex.slice())]
    #[token(">=", |lex| lex.slice())]
    #[token("==", |lex| lex.slice())]
    Cel(&'src str),
    #[regex(r#""[^"\r\n]*""#, |lex| lex.slice())]
    #[regex(r"'[^'\r\n]*'", |lex| lex.slice())]
    #[token(r#"""""#, |lex| triple_quoted(lex, r#"""""#))]
    #[token("'''", |lex| triple_quoted(lex, "'''"))]
    Str(&'src str),
    /// A quote with no closing quote on its line.
    #[regex(r#""[^"\r\n]*"#, priority = 1, allow_greedy = true)]
    #[regex(r"'[^'\r\n]*", priority = 1, allow_greedy = true)]
    UnterminatedString,
    #[regex(r"//[^\r\n]*", |lex| lex.slice(), allow_greedy = true)]
    LineComment(&'src str),
    #[regex(r"/\*([^*]|\*+[^*/])*\*+/", |lex| lex.slice())]
    BlockComment(&'src str),
    /// `/*` with no closing `*/`.
    #[token("/*", priority = 1)]
    UnterminatedComment,
}

/// The rest of a `"""` or `'''` string, up to its closing quotes.
fn triple_quoted<'src>(
    lex: &mut logos::Lexer<'src, Token<'src>>,
    quotes: &str,
) -> Option<&'src str> {
    let end = lex.remainder().find(quotes)? + quotes.len();
    lex.bump(end);
    Some(lex.slice())
}

impl Token<'_> {
    /// The one user-facing name of each token, in SpiceDB's terms.
    pub fn describe(&self) -> String {
        match self {
            Token::Definition => "keyword `definition`".into(),
            Token::Caveat => "keyword `caveat`".into(),
            Token::Relation => "keyword `relation`".into(),
            Token::Permission => "keyword `permission`".into(),
            Token::Nil => "keyword `nil`".into(),
            Token::With => "keyword `with`".into(),
            Token::Name(name) => format!("identifier `{name}`"),
            Token::Newline | Token::End => "end of line".into(),
            Token::Str(_) | Token::UnterminatedString => "string".into(),
            Token::LineComment(_) | Token::BlockComment(_) | Token::UnterminatedComment => {
                "comment".into()
            }
            Token::Cel(mark) => format!("`{mark}`"),
            other => format!("`{}`", other.punctuation().unwrap_or("?")),
        }
    }

    /// The text of a punctuation token.
    pub fn punctuation(&self) -> Option<&'static str> {
        Some(match self {
            Token::Semicolon => ";",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::Pipe => "|",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Amp => "&",
            Token::Slash => "/",
            Token::Eq => "=",
            Token::Colon => ":",
            Token::Arrow => "->",
            Token::Hash => "#",
            Token::Ellipsis => "...",
            Token::Star => "*",
            Token::Dot => ".",
            Token::Comma => ",",
            _ => return None,
        })
    }

    /// Whether a newline after this token ends the statement (SpiceDB's
    /// `syntheticPredecessors`).
    fn ends_statement_at_newline(&self) -> bool {
        matches!(
            self,
            Token::Definition
                | Token::Caveat
                | Token::Relation
                | Token::Permission
                | Token::Nil
                | Token::With
                | Token::Name(_)
                | Token::RBrace
                | Token::RParen
                | Token::Star
        )
    }
}

/// One token for the parser, with its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tok<'src> {
    pub token: Token<'src>,
    pub span: Span,
}

/// The lexed file: parser tokens (comments and plain newlines removed) and
/// the comments, in order.
#[derive(Debug, Default)]
pub struct Lexed<'src> {
    pub tokens: Vec<Tok<'src>>,
    pub comments: Vec<Comment<'src>>,
    /// Where characters SpiceDB does not know were skipped.
    pub errors: Vec<Span>,
}

/// Lexes a whole file; never fails. Bad characters, unterminated strings
/// and comments (E0601) and runaway nesting (E0007) are reported here.
pub fn lex<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Lexed<'src> {
    let mut out = Lexed::default();
    let mut lexer = Token::lexer(src);
    let mut depth = 0usize;
    // The last token that is not a comment (newlines included), as SpiceDB
    // tracks it to decide whether a newline ends a statement.
    let mut last: Option<Token<'src>> = None;
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
                bad_run = Some(match bad_run {
                    Some(run) if run.end == span.start => run.to(span),
                    Some(run) => {
                        out.errors.push(run);
                        diags.push(unexpected_characters(src, run));
                        span
                    }
                    None => span,
                });
                continue;
            }
        };
        if let Some(run) = bad_run.take() {
            out.errors.push(run);
            diags.push(unexpected_characters(src, run));
        }
        match token {
            Token::LineComment(text) | Token::BlockComment(text) => {
                out.comments.push(Comment {
                    text,
                    span,
                    doc: is_doc_comment(text),
                });
                continue;
            }
            Token::UnterminatedComment => {
                out.errors.push(span);
                diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        "unterminated multiline comment",
                        Label::new(span, "this comment is never closed"),
                    )
                    .with_help("close the comment with `*/`"),
                );
                return out;
            }
            Token::UnterminatedString => {
                out.errors.push(span);
                diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        "unterminated string",
                        Label::new(span, "this string has no closing quote on its line"),
                    )
                    .with_help("close the string on the same line"),
                );
                last = Some(Token::Str(""));
                continue;
            }
            Token::Newline => {
                if last.is_some_and(|t| t.ends_statement_at_newline()) {
                    // Empty, at the end of the line: where a label about
                    // the line's end belongs.
                    out.tokens.push(Tok {
                        token: Token::End,
                        span: Span::new(file, span.start, span.start),
                    });
                    last = Some(Token::End);
                } else {
                    last = Some(Token::Newline);
                }
                continue;
            }
            Token::LParen => {
                depth += 1;
                if depth > MAX_NESTING {
                    out.errors.push(span);
                    diags.push(
                        Diagnostic::new(
                            codes::E0007,
                            "expression nested too deeply",
                            Label::new(span, format!("more than {MAX_NESTING} open parentheses")),
                        )
                        .with_help("split the expression into several permissions"),
                    );
                    // Nothing after this point can be parsed safely.
                    out.tokens.clear();
                    return out;
                }
            }
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        last = Some(token);
        out.tokens.push(Tok { token, span });
    }
    if let Some(run) = bad_run {
        out.errors.push(run);
        diags.push(unexpected_characters(src, run));
    }
    out
}

/// `/** … */` and `/// …` document what follows them; SpiceDB's own
/// examples document definitions, relations and permissions this way.
fn is_doc_comment(text: &str) -> bool {
    (text.starts_with("/**") && text != "/**/" && !text.starts_with("/***"))
        || (text.starts_with("///") && !text.starts_with("////"))
}

fn unexpected_characters(src: &str, span: Span) -> Diagnostic {
    let text = src.get(span.range()).unwrap_or("");
    let shown: String = text.chars().take(16).collect();
    Diagnostic::new(
        codes::E0601,
        format!("unrecognized character `{}`", shown.escape_debug()),
        Label::new(span, "SpiceDB's schema language has no such character"),
    )
    .with_help("remove it")
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token<'_>> {
        let mut diags = vec![];
        lex(FileId(0), src, &mut diags)
            .tokens
            .into_iter()
            .map(|t| t.token)
            .collect()
    }

    #[test]
    fn every_mark_lexes_back_through_describe() {
        for mark in [
            ";", "{", "}", "(", ")", "|", "+", "-", "&", "/", "=", ":", "->", "#", "...", "*", ".",
            ",", "?", "||", "&&", "!", "!=", "[", "]", "%", "<", ">", "<=", ">=", "==",
        ] {
            let tokens = kinds(mark);
            assert_eq!(tokens.len(), 1, "{mark}");
            assert_eq!(tokens[0].describe(), format!("`{mark}`"));
        }
        for keyword in [
            "definition",
            "caveat",
            "relation",
            "permission",
            "nil",
            "with",
        ] {
            assert_eq!(kinds(keyword)[0].describe(), format!("keyword `{keyword}`"));
        }
        assert_eq!(kinds("self")[0], Token::Name("self"));
    }

    #[test]
    fn newlines_end_statements_only_after_names_keywords_and_closers() {
        assert_eq!(
            kinds("a +\nb\n"),
            vec![Token::Name("a"), Token::Plus, Token::Name("b"), Token::End]
        );
        assert_eq!(
            kinds("a // note\n\n}"),
            vec![Token::Name("a"), Token::End, Token::RBrace]
        );
        assert_eq!(kinds("{\n}\r\n").last(), Some(&Token::End));
        assert_eq!(kinds("x:*\n").last(), Some(&Token::End));
    }

    #[test]
    fn doc_comments_are_told_apart() {
        let mut diags = vec![];
        let lexed = lex(
            FileId(0),
            "/** doc */ /// doc\n// plain\n/* block */ /**/ /*** rule ***/",
            &mut diags,
        );
        let docs: Vec<bool> = lexed.comments.iter().map(|c| c.doc).collect();
        assert_eq!(docs, vec![true, true, false, false, false, false]);
        assert!(diags.is_empty());
    }

    #[test]
    fn strings_and_unicode_names() {
        assert_eq!(kinds("'a b'"), vec![Token::Str("'a b'")]);
        assert_eq!(
            kinds("\"\"\"a\n\"b\"\"\""),
            vec![Token::Str("\"\"\"a\n\"b\"\"\"")]
        );
        assert_eq!(kinds("café_2"), vec![Token::Name("café_2")]);
        let mut diags = vec![];
        lex(FileId(0), "\"open\nx", &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::E0601);
    }

    #[test]
    fn bad_characters_become_one_diagnostic_per_run() {
        let mut diags = vec![];
        let lexed = lex(FileId(0), "a $$ b @", &mut diags);
        assert_eq!(diags.len(), 2);
        assert_eq!(lexed.errors.len(), 2);
        assert_eq!(diags[0].message, "unrecognized character `$$`");
    }

    #[test]
    fn deep_nesting_stops_lexing() {
        let mut diags = vec![];
        let src = "(".repeat(MAX_NESTING + 1);
        let lexed = lex(FileId(0), &src, &mut diags);
        assert!(lexed.tokens.is_empty());
        assert_eq!(diags[0].code, codes::E0007);
    }
}
