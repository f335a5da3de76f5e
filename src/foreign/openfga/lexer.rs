//! The OpenFGA DSL's tokens: words, marks and line ends, with byte spans.
//!
//! Comments follow OpenFGA's own pre-pass (`ParseDSL` in openfga/language):
//! a line whose first non-blank character is `#` is a comment, and so is
//! the rest of a line from a `#` that follows a blank (`define viewer: [user] # note`);
//! a `#` glued to a word is the userset mark (`group#member`). Indentation
//! carries no meaning in OpenFGA's grammar, so only line ends are tokens.
//! A `condition` block is one token: its CEL body is not read (E0602).

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};

/// One token of the DSL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok<'src> {
    /// A name, keyword or schema version (`viewer`, `define`, `1.1`,
    /// `a.b/c`): what it is depends on where it stands.
    Word(&'src str),
    /// `but not`, one operator written as two words.
    ButNot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Colon,
    Star,
    Hash,
    /// One or more line ends (blank and comment lines included).
    Newline,
    /// A whole `condition name(…) { … }` block; the span of its name is kept.
    Condition(Span),
    /// A character OpenFGA does not allow here (already reported).
    Bad,
}

impl Tok<'_> {
    /// The token as users write it, for messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::ButNot => "`but not`".to_owned(),
            Tok::LBracket => "`[`".to_owned(),
            Tok::RBracket => "`]`".to_owned(),
            Tok::LParen => "`(`".to_owned(),
            Tok::RParen => "`)`".to_owned(),
            Tok::Comma => "`,`".to_owned(),
            Tok::Colon => "`:`".to_owned(),
            Tok::Star => "`*`".to_owned(),
            Tok::Hash => "`#`".to_owned(),
            Tok::Newline => "the end of the line".to_owned(),
            Tok::Condition(_) => "a `condition` block".to_owned(),
            Tok::Bad => "an unexpected character".to_owned(),
        }
    }
}

/// A token and where it is.
#[derive(Clone, Copy, Debug)]
pub struct Token<'src> {
    pub tok: Tok<'src>,
    pub span: Span,
}

/// A span from byte offsets (files beyond 4 GiB are refused before this).
pub fn span(file: FileId, start: usize, end: usize) -> Span {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Span::new(file, clamp(start), clamp(end))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '.')
}

/// Lexes `src`; bad characters are reported (E0601) and become [`Tok::Bad`].
pub fn lex<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Vec<Token<'src>> {
    let mut tokens: Vec<Token<'src>> = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    // Whether only blanks precede `i` on its line (comments start there).
    let mut line_start = true;
    let mut after_blank = true;
    while let Some(c) = src.get(i..).and_then(|rest| rest.chars().next()) {
        let start = i;
        let len = c.len_utf8();
        match c {
            '\n' | '\r' => {
                i += len;
                line_start = true;
                after_blank = true;
                if !matches!(tokens.last().map(|t| t.tok), Some(Tok::Newline) | None) {
                    tokens.push(Token {
                        tok: Tok::Newline,
                        span: span(file, start, start + len),
                    });
                }
                continue;
            }
            ' ' | '\t' | '\u{c}' => {
                i += len;
                after_blank = true;
                continue;
            }
            '#' if line_start || after_blank => {
                while bytes.get(i).is_some_and(|b| *b != b'\n' && *b != b'\r') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        line_start = false;
        after_blank = false;
        let mark = match c {
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            ':' => Some(Tok::Colon),
            '*' => Some(Tok::Star),
            '#' => Some(Tok::Hash),
            _ => None,
        };
        if let Some(tok) = mark {
            i += len;
            tokens.push(Token {
                tok,
                span: span(file, start, i),
            });
            continue;
        }
        if is_word_char(c) {
            while src
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .is_some_and(is_word_char)
            {
                i += 1;
            }
            let word = src.get(start..i).unwrap_or_default();
            let first_on_line = matches!(tokens.last().map(|t| t.tok), Some(Tok::Newline) | None);
            if word == "but" {
                if let Some(end) = not_after(src, i) {
                    i = end;
                    tokens.push(Token {
                        tok: Tok::ButNot,
                        span: span(file, start, i),
                    });
                    continue;
                }
            }
            if word == "condition" && first_on_line {
                let (end, name) = condition_block(file, src, i);
                i = end;
                tokens.push(Token {
                    tok: Tok::Condition(name),
                    span: span(file, start, end),
                });
                continue;
            }
            tokens.push(Token {
                tok: Tok::Word(word),
                span: span(file, start, i),
            });
            continue;
        }
        i += len;
        let here = span(file, start, i);
        diags.push(Diagnostic::new(
            codes::E0601,
            format!(
                "unexpected character `{}` in an OpenFGA model",
                c.escape_debug()
            ),
            Label::new(here, "not allowed here"),
        ));
        tokens.push(Token {
            tok: Tok::Bad,
            span: here,
        });
    }
    tokens
}

/// The end of `not` when blanks and then the word `not` follow offset `i`.
fn not_after(src: &str, i: usize) -> Option<usize> {
    let rest = src.get(i..)?;
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if trimmed.len() == rest.len() {
        return None;
    }
    let after = trimmed.strip_prefix("not")?;
    if after.chars().next().is_some_and(is_word_char) {
        return None;
    }
    Some(src.len() - after.len())
}

/// Skips a `condition name(…) { … }` block whose keyword ends at `i`:
/// returns where the block ends and the span of its name. An unterminated
/// block runs to the end of the file (the parser reports the condition).
fn condition_block(file: FileId, src: &str, i: usize) -> (usize, Span) {
    let rest = src.get(i..).unwrap_or_default();
    let name_start = i + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    let name_len = src
        .get(name_start..)
        .unwrap_or_default()
        .chars()
        .take_while(|c| is_word_char(*c))
        .map(char::len_utf8)
        .sum::<usize>();
    let name = span(file, name_start, name_start + name_len);
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in src.get(i..).unwrap_or_default().char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q || c == '\n' {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '{' => depth += 1,
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return (i + offset + 1, name);
                }
            }
            _ => {}
        }
    }
    (src.len(), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok<'_>> {
        let mut diags = Vec::new();
        let out = lex(FileId(0), src, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        out.into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn comments_follow_openfga_rules() {
        assert_eq!(
            toks("# c\ndefine v: [group#member] # note\n"),
            vec![
                Tok::Word("define"),
                Tok::Word("v"),
                Tok::Colon,
                Tok::LBracket,
                Tok::Word("group"),
                Tok::Hash,
                Tok::Word("member"),
                Tok::RBracket,
                Tok::Newline,
            ]
        );
    }

    #[test]
    fn but_not_is_one_operator() {
        assert_eq!(
            toks("a but not b but nothing"),
            vec![
                Tok::Word("a"),
                Tok::ButNot,
                Tok::Word("b"),
                Tok::Word("but"),
                Tok::Word("nothing"),
            ]
        );
    }

    #[test]
    fn a_condition_block_is_one_token() {
        let t = toks("condition c(x: int) {\n  x < 3 && \"}\" != \"\"\n}\ntype user");
        assert!(matches!(t.first(), Some(Tok::Condition(_))));
        assert_eq!(
            t.get(1..),
            Some(&[Tok::Newline, Tok::Word("type"), Tok::Word("user")][..])
        );
    }

    #[test]
    fn bad_characters_are_reported() {
        let mut diags = Vec::new();
        let out = lex(FileId(0), "type a$b", &mut diags);
        assert_eq!(diags.len(), 1);
        assert!(out.iter().any(|t| t.tok == Tok::Bad));
    }
}
