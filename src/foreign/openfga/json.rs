//! A JSON reader that keeps byte spans, for OpenFGA's JSON models.
//!
//! serde_json forgets where values are, and every diagnostic must point at
//! the name or node it is about, so this small reader keeps the span of each
//! value and string. Strings are borrowed from the source (their text
//! between the quotes); whether they hold escapes is recorded, since names
//! must be slices of the file, and a condition's expression is [`decode`]d
//! with the place of each byte. JSON cannot be resynchronised reliably, so
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

/// A JSON string's text decoded, with the file offset of each of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// For each byte of `text`, where the character (or escape) it comes
    /// from starts in the file; one more entry, the end of the string.
    pub offsets: Vec<u32>,
}

/// Decodes the escapes of `s` (which [`read`] has checked: each is `\"`,
/// `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` or `\u` and four hex digits),
/// keeping where each decoded byte is written. A `\u` escape of half a
/// surrogate pair without its other half is reported at the escape (`None`).
pub fn decode(s: Str<'_>, diags: &mut Vec<Diagnostic>) -> Option<Decoded> {
    let mut text = String::with_capacity(s.raw.len());
    let mut offsets = Vec::with_capacity(s.raw.len() + 1);
    let base = s.span.start as usize;
    let mut chars = s.raw.char_indices().peekable();
    let hex = |at: usize| {
        s.raw
            .get(at..at + 4)
            .and_then(|digits| u32::from_str_radix(digits, 16).ok())
    };
    while let Some((at, c)) = chars.next() {
        let decoded = if c == '\\' {
            match chars.next() {
                Some((_, 'b')) => '\u{8}',
                Some((_, 'f')) => '\u{c}',
                Some((_, 'n')) => '\n',
                Some((_, 'r')) => '\r',
                Some((_, 't')) => '\t',
                Some((u, 'u')) => {
                    let first = hex(u + 1).unwrap_or(0xFFFD);
                    let mut end = u + 5;
                    let code = if (0xD800..0xDC00).contains(&first) {
                        // A high surrogate needs `\uDC00`–`\uDFFF` right after it.
                        let low = s
                            .raw
                            .get(end..end + 2)
                            .filter(|next| *next == "\\u")
                            .and_then(|_| hex(end + 2))
                            .filter(|low| (0xDC00..0xE000).contains(low));
                        match low {
                            Some(low) => {
                                end += 6;
                                0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
                            }
                            None => first,
                        }
                    } else {
                        first
                    };
                    while chars.peek().is_some_and(|&(i, _)| i < end) {
                        chars.next();
                    }
                    match char::from_u32(code) {
                        Some(c) => c,
                        None => {
                            let at = span(s.span.file, base + at, base + u + 5);
                            diags.push(Diagnostic::new(
                                codes::E0601,
                                format!("`\\u{code:04X}` is half of a surrogate pair, without its other half"),
                                Label::new(at, "not a character"),
                            ));
                            return None;
                        }
                    }
                }
                // `\"`, `\\` and `\/` stand for themselves.
                Some((_, other)) => other,
                None => '\\',
            }
        } else {
            c
        };
        let written = crate::source::offset(base + at);
        offsets.extend(std::iter::repeat_n(written, decoded.len_utf8()));
        text.push(decoded);
    }
    offsets.push(s.span.end);
    Some(Decoded { text, offsets })
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

    fn decoded(src: &str) -> Result<Decoded, Vec<Diagnostic>> {
        let mut diags = Vec::new();
        match read_ok(src) {
            Value::String(s) => decode(s, &mut diags).ok_or(diags),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn escapes_are_decoded_and_keep_their_places() {
        let src = r#""a\"b\\c\/\n\t\u0041\u00e9\ud83d\ude00z""#;
        let d = decoded(src).unwrap();
        assert_eq!(d.text, "a\"b\\c/\n\tAé😀z");
        assert_eq!(d.offsets.len(), d.text.len() + 1);
        // Each decoded character points at its escape in the file.
        let place = |needle: &str| src.find(needle).unwrap() as u32;
        let at = |c: &str| d.offsets[d.text.find(c).unwrap()];
        assert_eq!(at("\""), place("\\\""));
        assert_eq!(at("A"), place("\\u0041"));
        assert_eq!(at("é"), place("\\u00e9"));
        assert_eq!(at("😀"), place("\\ud83d"));
        assert_eq!(at("z"), place("z"));
        assert_eq!(d.offsets[d.text.len()], src.len() as u32 - 1);
        // Without escapes, offsets are the bytes themselves.
        let plain = decoded(r#""ab""#).unwrap();
        assert_eq!(plain.offsets, [1, 2, 3]);
    }

    #[test]
    fn a_lone_surrogate_is_refused_at_its_escape() {
        let src = r#""x\ud83dy""#;
        let e = decoded(src).unwrap_err().remove(0);
        assert_eq!(&src[e.primary.span.range()], "\\ud83d");
        assert!(e.message.contains("surrogate"), "{}", e.message);
        assert!(decoded(r#""\udc00""#).is_err());
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
