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
    #[token("condition")]
    Condition,
    #[token("with")]
    With,
    /// `and` and `expiration` are keywords only after `with`; elsewhere the
    /// grammar takes them as names, so `relation and: user` keeps working.
    #[token("and")]
    And,
    #[token("expiration")]
    Expiration,
    /// The text between a condition's braces, handed over whole: it is CEL,
    /// which [`lex`] scans for its end and analysis parses.
    Cel(&'src str),
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
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
}

impl Token<'_> {
    /// The one user-facing name of each token.
    pub fn describe(&self) -> String {
        match self {
            Token::Namespace => "keyword `namespace`".into(),
            Token::Relation => "keyword `relation`".into(),
            Token::Permission => "keyword `permission`".into(),
            Token::Condition => "keyword `condition`".into(),
            Token::With => "keyword `with`".into(),
            Token::And => "keyword `and`".into(),
            Token::Expiration => "keyword `expiration`".into(),
            Token::Cel(_) => "condition expression".into(),
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
            Token::Lt => "<",
            Token::Gt => ">",
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
    // After `condition`, the next `{` opens a CEL body; a namespace or member
    // keyword first means the header was broken and there is no body.
    let mut condition_header = false;
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
            Token::Condition => {
                condition_header = true;
                out.tokens.push((span.start, token, span.end));
            }
            Token::Namespace | Token::Relation | Token::Permission | Token::RBrace => {
                condition_header = false;
                out.tokens.push((span.start, token, span.end));
            }
            Token::LBrace if condition_header => {
                condition_header = false;
                out.tokens.push((span.start, token, span.end));
                if !cel_body(file, src, range.end, span, &mut out, diags) {
                    // Nothing after this point can be parsed safely.
                    out.tokens.clear();
                    return out;
                }
                let skipped = out.tokens.last().map_or(0, |t| t.2 as usize);
                lexer.bump(skipped.saturating_sub(range.end));
            }
            _ => out.tokens.push((span.start, token, span.end)),
        }
    }
    if let Some(run) = bad_run {
        diags.push(unexpected_characters(src, run));
    }
    out
}

/// Pushes a condition's body, from `body_start` to its closing `}`, as a
/// [`Token::Cel`] and that `}`. A body the file leaves open is reported and
/// closed at the end of the file, so the parser does not report it again.
/// `false` when its brackets nest too deeply to go on.
fn cel_body<'src>(
    file: FileId,
    src: &'src str,
    body_start: usize,
    open: Span,
    out: &mut Lexed<'src>,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let rest = src.get(body_start..).unwrap_or("");
    let at = |n: usize| crate::source::offset(body_start + n);
    let (len, close) = match scan_cel(rest) {
        CelEnd::Closed(len) => (len, 1),
        CelEnd::Unterminated { open_string } => {
            let end = crate::source::offset(src.trim_end().len());
            let error = SyntaxError::UnterminatedConditionBody {
                span: open,
                file_end: Span::new(file, end, end),
                open_string: open_string.map(|n| Span::new(file, at(n), at(n) + 1)),
            };
            diags.push(error.to_diagnostic(()));
            (rest.len(), 0)
        }
        CelEnd::TooDeep(n) => {
            let error = SyntaxError::NestedTooDeeply {
                span: Span::new(file, at(n), at(n) + 1),
                limit: MAX_NESTING,
            };
            diags.push(error.to_diagnostic(()));
            return false;
        }
    };
    out.tokens
        .push((at(0), Token::Cel(rest.get(..len).unwrap_or("")), at(len)));
    out.tokens.push((at(len), Token::RBrace, at(len + close)));
    true
}

/// Where a condition's CEL body ends.
#[derive(Debug, PartialEq, Eq)]
enum CelEnd {
    /// The body is this many bytes long; the closing `}` follows.
    Closed(usize),
    /// The file ends first; inside a string literal starting at this offset, if so.
    Unterminated { open_string: Option<usize> },
    /// Brackets nest deeper than [`MAX_NESTING`] at this offset.
    TooDeep(usize),
}

/// Finds the `}` that closes a CEL body: brackets balance, and braces inside
/// string literals (`'…'`, `"…"`, `'''…'''`, `"""…"""`, raw `r"…"`, with
/// escapes) and `//` comments do not count.
fn scan_cel(body: &str) -> CelEnd {
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return CelEnd::TooDeep(i);
                }
            }
            b'}' if depth == 0 => return CelEnd::Closed(i),
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = body
                    .get(i..)
                    .and_then(|rest| rest.find('\n'))
                    .map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'\'' | b'"' => match string_end(body, i) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => {
                    return CelEnd::Unterminated {
                        open_string: Some(i),
                    }
                }
            },
            _ => {}
        }
        i += 1;
    }
    CelEnd::Unterminated { open_string: None }
}

/// The offset just past the CEL string literal whose quote is at `at`, or
/// `None` when the body ends inside it.
fn string_end(body: &str, at: usize) -> Option<usize> {
    let bytes = body.as_bytes();
    let quote = *bytes.get(at)?;
    // `r"…"`, `R'…'`, `br"…"`, `rb'…'`: a prefix directly before the quote.
    let prefix = body.get(..at).unwrap_or("");
    let word_start = prefix
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let word = prefix.get(word_start..).unwrap_or("");
    let raw = matches!(word.to_ascii_lowercase().as_str(), "r" | "br" | "rb");
    let triple = bytes.get(at + 1) == Some(&quote) && bytes.get(at + 2) == Some(&quote);
    let mut i = at + if triple { 3 } else { 1 };
    while let Some(&byte) = bytes.get(i) {
        if byte == b'\\' && !raw {
            i += 2;
            continue;
        }
        if byte == quote {
            if !triple {
                return Some(i + 1);
            }
            if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                return Some(i + 3);
            }
        }
        // A one-line string ends with its line; CEL's parser says what is wrong.
        if byte == b'\n' && !triple {
            return Some(i);
        }
        i += 1;
    }
    None
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
            "{", "}", "(", ")", ":", "|", "&", "-", "->", "#", "*", "=", ".", ",", "<", ">",
        ] {
            let tokens = kinds(mark);
            assert_eq!(tokens.len(), 1, "{mark}");
            assert_eq!(tokens[0].describe(), format!("`{mark}`"));
        }
        for keyword in [
            "namespace",
            "relation",
            "permission",
            "condition",
            "with",
            "and",
            "expiration",
        ] {
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

    /// The tokens of a source holding a condition, and what lexing reported.
    fn lexed(src: &str) -> (Vec<Token<'_>>, Vec<Diagnostic>) {
        let mut diags = vec![];
        let tokens = lex(FileId(0), src, &mut diags)
            .tokens
            .into_iter()
            .map(|(_, t, _)| t)
            .collect();
        (tokens, diags)
    }

    #[test]
    fn a_condition_body_is_one_token_whatever_its_braces_and_strings_hold() {
        for cel in [
            r#"{"a": {"b": 1}}.size() == 1"#,
            r#"x == "}" || y == '}' || z == "\"}""#,
            r#"x == '\'}' && y == "a\\""#,
            r#"x == '''}'}''' || y == """}"}""""#,
            r#"x == r"\}" && y == R'\' && z == br"}" && w == b"}""#,
            "x // a } in a comment\n  && y",
            "",
        ] {
            let src = format!("condition c() {{{cel}}} namespace n {{}}");
            let (tokens, diags) = lexed(&src);
            assert!(diags.is_empty(), "{cel}: {diags:?}");
            assert_eq!(tokens[5], Token::Cel(cel), "{cel}");
            assert_eq!(tokens[6], Token::RBrace, "{cel}");
            assert_eq!(tokens[7], Token::Namespace, "{cel}");
        }
    }

    #[test]
    fn only_a_condition_header_opens_a_body() {
        // A namespace keyword first: the header was broken, the braces are the namespace's.
        let (tokens, _) = lexed("condition c( namespace n { relation r: user }");
        assert!(tokens.contains(&Token::Relation));
        let (tokens, _) = lexed("namespace n { relation r: user with c }");
        assert!(tokens.iter().all(|t| !matches!(t, Token::Cel(_))));
    }

    #[test]
    fn an_unterminated_body_is_reported_at_its_brace_and_closed_at_the_end() {
        let src = "condition c(x: string) {\n  x == '''}\n";
        let (tokens, diags) = lexed(src);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::E0004);
        assert_eq!(diags[0].primary.span.start, 23);
        // The string's quote is the second label.
        assert_eq!(diags[0].secondary[1].span.start, 32);
        assert!(matches!(tokens[tokens.len() - 2], Token::Cel(_)));
        assert_eq!(tokens[tokens.len() - 1], Token::RBrace);
    }

    #[test]
    fn a_body_nested_too_deeply_is_refused() {
        let src = format!(
            "condition c() {{ {}1{} }}",
            "(".repeat(100),
            ")".repeat(100)
        );
        let (tokens, diags) = lexed(&src);
        assert_eq!(diags[0].code, codes::E0007);
        assert!(tokens.is_empty());
    }
}
