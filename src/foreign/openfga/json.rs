//! A JSON reader that keeps byte spans, for OpenFGA's JSON models.
//!
//! serde_json forgets where values are, and every diagnostic must point at
//! the name or node it is about, so this small reader keeps the span of each
//! value and string. Strings are borrowed from the source (their text
//! between the quotes); whether they hold escapes is recorded, since names
//! must be slices of the file. JSON cannot be resynchronised reliably, so
//! the first syntax error (E0601) ends the file.

use super::lexer::span;
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};

/// How deep arrays and objects may nest (the model itself needs about a
/// dozen levels plus its usersets).
const MAX_NESTING: usize = 256;

/// A JSON string as written.
#[derive(Clone, Copy, Debug)]
pub struct Str<'src> {
    /// The text between the quotes, escapes not decoded.
    pub raw: &'src str,
    /// The span of `raw` (inside the quotes).
    pub span: Span,
    pub escaped: bool,
}

#[derive(Clone, Debug)]
pub enum Value<'src> {
    /// Members in the order written; the span covers the braces.
    Object(Vec<(Str<'src>, Value<'src>)>, Span),
    Array(Vec<Value<'src>>, Span),
    String(Str<'src>),
    /// A number, `true`, `false` or `null`.
    Scalar(&'src str, Span),
}

impl<'src> Value<'src> {
    pub fn span(&self) -> Span {
        match self {
            Value::Object(_, span) | Value::Array(_, span) | Value::Scalar(_, span) => *span,
            Value::String(s) => s.span,
        }
    }

    /// The value of member `key`, when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value<'src>> {
        match self {
            Value::Object(members, _) => members.iter().find(|(k, _)| k.raw == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What this value is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Object(..) => "an object",
            Value::Array(..) => "an array",
            Value::String(_) => "a string",
            Value::Scalar("null", _) => "`null`",
            Value::Scalar("true" | "false", _) => "a boolean",
            Value::Scalar(..) => "a number",
        }
    }
}

struct Reader<'a, 'src> {
    file: FileId,
    src: &'src str,
    pos: usize,
    diags: &'a mut Vec<Diagnostic>,
}

/// Reads one JSON document; `None` after reporting its first syntax error.
pub fn read<'src>(
    file: FileId,
    src: &'src str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value<'src>> {
    let mut reader = Reader {
        file,
        src,
        pos: 0,
        diags,
    };
    let value = reader.value(0)?;
    reader.blanks();
    if reader.pos < src.len() {
        reader.error("the end of the JSON document");
        return None;
    }
    Some(value)
}

impl<'src> Reader<'_, 'src> {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..)?.chars().next()
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
    }

    fn error(&mut self, expected: &str) {
        let (found, at) = match self.peek() {
            Some(c) => (
                format!("`{}`", c.escape_debug()),
                span(self.file, self.pos, self.pos + c.len_utf8()),
            ),
            None => (
                "the end of the file".to_owned(),
                span(self.file, self.pos, self.pos),
            ),
        };
        self.diags.push(Diagnostic::new(
            codes::E0601,
            format!("expected {expected}, found {found}"),
            Label::new(at, format!("expected {expected}")),
        ));
    }

    fn value(&mut self, depth: usize) -> Option<Value<'src>> {
        self.blanks();
        if depth > MAX_NESTING {
            let at = span(self.file, self.pos, self.pos + 1);
            self.diags.push(Diagnostic::new(
                codes::E0601,
                format!("JSON nested more than {MAX_NESTING} deep"),
                Label::new(at, "too deep"),
            ));
            return None;
        }
        match self.peek() {
            Some('{') => self.object(depth),
            Some('[') => self.array(depth),
            Some('"') => self.string().map(Value::String),
            Some(c) if c == '-' || c.is_ascii_alphanumeric() => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
                {
                    self.pos += 1;
                }
                let text = self.src.get(start..self.pos).unwrap_or_default();
                let at = span(self.file, start, self.pos);
                if matches!(text, "true" | "false" | "null") || is_number(text) {
                    Some(Value::Scalar(text, at))
                } else {
                    self.diags.push(Diagnostic::new(
                        codes::E0601,
                        format!("expected a JSON value, found `{text}`"),
                        Label::new(at, "not JSON (strings are written in double quotes)"),
                    ));
                    None
                }
            }
            _ => {
                self.error("a JSON value");
                None
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<Value<'src>> {
        let start = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        self.blanks();
        if self.peek() == Some('}') {
            self.pos += 1;
            return Some(Value::Object(members, span(self.file, start, self.pos)));
        }
        loop {
            self.blanks();
            if self.peek() != Some('"') {
                self.error("a member name in double quotes");
                return None;
            }
            let key = self.string()?;
            self.blanks();
            if self.peek() != Some(':') {
                self.error("`:` after the member name");
                return None;
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.blanks();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Some(Value::Object(members, span(self.file, start, self.pos)));
                }
                _ => {
                    self.error("`,` or `}`");
                    return None;
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Value<'src>> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.blanks();
        if self.peek() == Some(']') {
            self.pos += 1;
            return Some(Value::Array(items, span(self.file, start, self.pos)));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.blanks();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Some(Value::Array(items, span(self.file, start, self.pos)));
                }
                _ => {
                    self.error("`,` or `]`");
                    return None;
                }
            }
        }
    }

    /// A string at `"`: its raw text, span and whether it holds escapes.
    fn string(&mut self) -> Option<Str<'src>> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.peek() {
                Some('"') => {
                    let raw = self.src.get(start..self.pos).unwrap_or_default();
                    let at = span(self.file, start, self.pos);
                    self.pos += 1;
                    return Some(Str {
                        raw,
                        span: at,
                        escaped,
                    });
                }
                Some('\\') => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek() {
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => self.pos += 1,
                        Some('u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                    self.error("four hexadecimal digits after `\\u`");
                                    return None;
                                }
                                self.pos += 1;
                            }
                        }
                        _ => {
                            self.error("an escape (`\\\"`, `\\\\`, `\\n`, `\\u0041`, …)");
                            return None;
                        }
                    }
                }
                Some(c) if (c as u32) < 0x20 => {
                    let at = span(self.file, open, self.pos);
                    self.diags.push(Diagnostic::new(
                        codes::E0601,
                        "unterminated string (a JSON string ends on its line)",
                        Label::new(at, "this string is not closed"),
                    ));
                    return None;
                }
                Some(c) => self.pos += c.len_utf8(),
                None => {
                    let at = span(self.file, open, self.pos);
                    self.diags.push(Diagnostic::new(
                        codes::E0601,
                        "unterminated string",
                        Label::new(at, "this string is not closed"),
                    ));
                    return None;
                }
            }
        }
    }
}

/// JSON's number syntax: `-?int(.digits)?([eE][+-]?digits)?`.
fn is_number(text: &str) -> bool {
    let rest = text.strip_prefix('-').unwrap_or(text);
    let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 || (int_len > 1 && rest.starts_with('0')) {
        return false;
    }
    let mut rest = rest.get(int_len..).unwrap_or_default();
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = fraction.get(digits..).unwrap_or_default();
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        return !exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit());
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_ok(src: &str) -> Value<'_> {
        let mut diags = Vec::new();
        let value = read(FileId(0), src, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        value.unwrap()
    }

    #[test]
    fn strings_keep_their_spans() {
        let src = r#"{ "type": "user", "n": [1, -2.5e3, true, null] }"#;
        let value = read_ok(src);
        let Some(Value::String(s)) = value.get("type") else {
            panic!("no type");
        };
        assert_eq!(s.raw, "user");
        assert_eq!(&src[s.span.range()], "user");
        assert!(!s.escaped);
    }

    #[test]
    fn escapes_are_noted() {
        let value = read_ok(r#"["a\"b"]"#);
        let Value::Array(items, _) = value else {
            panic!()
        };
        assert!(matches!(items.first(), Some(Value::String(s)) if s.escaped));
    }

    #[test]
    fn syntax_errors_are_reported_once() {
        for bad in [
            "{",
            "{\"a\" 1}",
            "[1,]",
            "\"open",
            "{\"a\":tru}",
            "01",
            "[1] 2",
        ] {
            let mut diags = Vec::new();
            assert!(read(FileId(0), bad, &mut diags).is_none(), "{bad}");
            assert_eq!(diags.len(), 1, "{bad}: {diags:?}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "[".repeat(10_000);
        let mut diags = Vec::new();
        assert!(read(FileId(0), &deep, &mut diags).is_none());
        assert_eq!(diags.len(), 1);
    }
}
