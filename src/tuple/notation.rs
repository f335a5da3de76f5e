//! The text notation `namespace:object#relation@subject`: writing it
//! (percent-encoding what would be ambiguous) and parsing it, alone or a
//! tuple file at a time.

use std::fmt::{self, Display, Write as _};
use std::ops::Range;
use std::str::FromStr;

use thiserror::Error;

use super::model::{is_name, name_problem, Object, Subject, Tuple, MAX_ID_BYTES};
use crate::diagnostics::{codes, Diagnostic, Label, ToDiagnostic};
use crate::source::Span;

#[path = "notation_suffix.rs"]
mod suffix;
pub use suffix::{strip_comment, EXPIRATION};

// ---------------------------------------------------------------------------
// Writing.

/// Writes `id` percent-encoded for the text notation.
fn write_id(f: &mut impl fmt::Write, id: &str) -> fmt::Result {
    if id == "*" {
        return f.write_str("%2A");
    }
    for c in id.chars() {
        // `[` would begin a suffix after a subject; it is read back raw in
        // an object ID, so older files stay readable.
        if needs_encoding(c) || c == '[' {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                write!(f, "%{byte:02X}")?;
            }
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

fn needs_encoding(c: char) -> bool {
    matches!(c, ':' | '#' | '@' | '%') || c.is_whitespace() || c.is_control()
}

/// `id` as written in the text notation.
pub fn encode_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    // Writing to a String cannot fail.
    let _ = write_id(&mut out, id);
    out
}

impl Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.namespace)?;
        f.write_char(':')?;
        write_id(f, &self.id)
    }
}

impl Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Object(object) => object.fmt(f),
            Subject::Set { object, relation } => write!(f, "{object}#{relation}"),
            Subject::Wildcard { namespace } => write!(f, "{namespace}:*"),
        }
    }
}

impl Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}@{}", self.object, self.relation, self.subject)?;
        suffix::write_suffixes(f, self)
    }
}

// ---------------------------------------------------------------------------
// Parsing.

/// A place in a parsed text: the byte range `start..end`, and the 1-based
/// character column of `start` (what people count in). Errors carry it so
/// that nobody has to scan the text again to point at the mistake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextSpan {
    pub start: usize,
    pub end: usize,
    pub column: usize,
}

impl TextSpan {
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    /// From the start of `self` to the end of `other`.
    pub fn to(self, other: TextSpan) -> TextSpan {
        TextSpan {
            end: other.end,
            ..self
        }
    }

    /// The same place in a text that has `bytes` more bytes and `chars` more
    /// characters on its line before this place.
    fn shift(self, bytes: usize, chars: usize) -> TextSpan {
        TextSpan {
            start: self.start + bytes,
            end: self.end + bytes,
            column: self.column + chars,
        }
    }
}

/// Why a tuple (or an object or subject) in the text notation did not parse.
/// `at` is the place of the problem in the parsed text.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TupleError {
    #[error("expected {expected} after the {after}")]
    Expected {
        at: TextSpan,
        expected: &'static str,
        after: &'static str,
    },
    #[error("empty {what}")]
    Empty { at: TextSpan, what: &'static str },
    #[error("invalid {what} `{name}`: {problem}")]
    InvalidName {
        at: TextSpan,
        what: &'static str,
        name: String,
        /// What the name rule ([`super::model::name_problem`]) objects to.
        problem: String,
    },
    #[error("unencoded {found} in the {what}; write it as `{encoded}`")]
    Unencoded {
        at: TextSpan,
        what: &'static str,
        found: String,
        encoded: String,
    },
    #[error(
        "invalid percent-encoding `{text}` in the {what}: `%` must be followed by two hex digits"
    )]
    BadEscape {
        at: TextSpan,
        what: &'static str,
        text: String,
    },
    #[error("the percent-encoded bytes of the {what} are not UTF-8")]
    NotUtf8 { at: TextSpan, what: &'static str },
    #[error("control character U+{code:04X} in the {what}")]
    Control {
        at: TextSpan,
        what: &'static str,
        code: u32,
    },
    #[error("the {what} is {len} bytes long; the limit is {MAX_ID_BYTES}")]
    TooLong {
        at: TextSpan,
        what: &'static str,
        len: usize,
    },
    #[error("the wildcard `{namespace}:*` cannot name a relation")]
    WildcardRelation { at: TextSpan, namespace: String },
    #[error(
        "the object of a tuple cannot be the wildcard `*`; write `%2A` for an object named `*`"
    )]
    WildcardObject { at: TextSpan },
    #[error("unexpected {found} after the {after}")]
    Trailing {
        at: TextSpan,
        found: String,
        after: &'static str,
    },
    #[error("unclosed `[`: a condition or an expiry ends with `]`")]
    Unclosed { at: TextSpan },
    #[error("invalid JSON in the context of condition `{condition}`: {message}")]
    BadJson {
        at: TextSpan,
        condition: String,
        message: String,
    },
    #[error("the context of condition `{condition}` must be a JSON object, not {found}")]
    ContextNotObject {
        at: TextSpan,
        condition: String,
        found: &'static str,
    },
    #[error(
        "invalid expiration `{text}`: expected an RFC 3339 time such as `2027-01-01T00:00:00Z`"
    )]
    BadExpiry { at: TextSpan, text: String },
    #[error("a tuple has at most one {what}")]
    Twice { at: TextSpan, what: &'static str },
}

impl TupleError {
    /// Where the problem is in the parsed text.
    pub fn span(&self) -> TextSpan {
        match self {
            TupleError::Expected { at, .. }
            | TupleError::Empty { at, .. }
            | TupleError::InvalidName { at, .. }
            | TupleError::Unencoded { at, .. }
            | TupleError::BadEscape { at, .. }
            | TupleError::NotUtf8 { at, .. }
            | TupleError::Control { at, .. }
            | TupleError::TooLong { at, .. }
            | TupleError::WildcardRelation { at, .. }
            | TupleError::WildcardObject { at }
            | TupleError::Trailing { at, .. }
            | TupleError::Unclosed { at }
            | TupleError::BadJson { at, .. }
            | TupleError::ContextNotObject { at, .. }
            | TupleError::BadExpiry { at, .. }
            | TupleError::Twice { at, .. } => *at,
        }
    }

    /// The 1-based character column of the problem.
    pub fn column(&self) -> usize {
        self.span().column
    }

    fn shift(mut self, bytes: usize, chars: usize) -> TupleError {
        match &mut self {
            TupleError::Expected { at, .. }
            | TupleError::Empty { at, .. }
            | TupleError::InvalidName { at, .. }
            | TupleError::Unencoded { at, .. }
            | TupleError::BadEscape { at, .. }
            | TupleError::NotUtf8 { at, .. }
            | TupleError::Control { at, .. }
            | TupleError::TooLong { at, .. }
            | TupleError::WildcardRelation { at, .. }
            | TupleError::WildcardObject { at }
            | TupleError::Trailing { at, .. }
            | TupleError::Unclosed { at }
            | TupleError::BadJson { at, .. }
            | TupleError::ContextNotObject { at, .. }
            | TupleError::BadExpiry { at, .. }
            | TupleError::Twice { at, .. } => *at = at.shift(bytes, chars),
        }
        self
    }
}

/// What a text in the tuple notation was meant to be; it names the text in
/// messages and says how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// `namespace:id#relation@subject`, stored.
    Tuple,
    /// `namespace:id#relation@subject`, asked.
    Check,
    /// `namespace:id#relation`.
    Userset,
    /// `namespace:id`.
    Object,
    /// `namespace:id`, `namespace:id#relation` or `namespace:*`.
    Subject,
}

impl Notation {
    pub fn name(self) -> &'static str {
        match self {
            Notation::Tuple => "tuple",
            Notation::Check => "check",
            Notation::Userset => "userset",
            Notation::Object => "object",
            Notation::Subject => "subject",
        }
    }

    /// How a text of this kind is written.
    pub fn form(self) -> &'static str {
        match self {
            Notation::Tuple | Notation::Check => "`namespace:id#relation@subject`",
            Notation::Userset => "`namespace:id#relation`",
            Notation::Object => "`namespace:id`",
            Notation::Subject => "`namespace:id`, `namespace:id#relation` or `namespace:*`",
        }
    }
}

/// Where a text in the tuple notation stands in a source, for its errors'
/// diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct NotationSite<'t> {
    pub what: Notation,
    /// The text as it was parsed, quoted in the message.
    pub text: &'t str,
    /// Where `text` is in the source.
    pub span: Span,
    /// The offset in `span.file` that the error's offsets count from, or
    /// `None` when they cannot be placed there (the source at `span` is not
    /// `text` as such, as with a quoted YAML scalar): then the diagnostic
    /// points at all of `span`.
    pub offsets_from: Option<u32>,
}

impl ToDiagnostic for TupleError {
    type Context<'a> = NotationSite<'a>;

    fn to_diagnostic(&self, site: NotationSite<'_>) -> Diagnostic {
        let at = self.span();
        let here = match site.offsets_from {
            Some(from) => {
                let offset = |n: usize| {
                    from.saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
                        .clamp(site.span.start, site.span.end)
                };
                Span::new(site.span.file, offset(at.start), offset(at.end))
            }
            None => site.span,
        };
        let what = site.what.name();
        let mut d = Diagnostic::new(
            codes::E0401,
            format!(
                "invalid {what} `{}` at column {}: {self}",
                site.text, at.column
            ),
            Label::new(here, "here"),
        );
        if here != site.span {
            d = d.with_secondary(site.span, format!("in this {what}"));
        }
        d.with_help(format!(
            "a {what} is written {}; `:`, `#`, `@`, `%` and spaces in IDs are percent-encoded",
            site.what.form()
        ))
    }
}

/// `c` as the user should read it in a message.
fn describe_char(c: char) -> String {
    if c == ' ' {
        "space".to_owned()
    } else if c.is_whitespace() || c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    }
}

/// A cursor over the characters of one tuple text.
struct Scanner<'a> {
    chars: Vec<(usize, char)>,
    text: &'a str,
    /// Index into `chars`.
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            chars: text.char_indices().collect(),
            text,
            pos: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn byte_offset(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.text.len(), |&(i, _)| i)
    }

    /// The character at index `pos` (empty at the end of the text).
    fn char_at(&self, pos: usize) -> TextSpan {
        self.between(pos, (pos + 1).min(self.chars.len()))
    }

    /// Characters `from..to`.
    fn between(&self, from: usize, to: usize) -> TextSpan {
        TextSpan {
            start: self.byte_offset(from),
            end: self.byte_offset(to.max(from)),
            column: from + 1,
        }
    }

    /// The character under the cursor.
    fn here(&self) -> TextSpan {
        self.char_at(self.pos)
    }

    /// Reads up to (not including) the first of `stops`, or the end.
    fn take_until(&mut self, stops: &[char]) -> (usize, &'a str) {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if stops.contains(&c) {
                break;
            }
            self.pos += 1;
        }
        let from = self.byte_offset(start);
        let to = self.byte_offset(self.pos);
        (start, self.text.get(from..to).unwrap_or(""))
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A namespace or relation name, ending at one of `stops`.
    fn name(&mut self, what: &'static str, stops: &[char]) -> Result<String, TupleError> {
        let (start, text) = self.take_until(stops);
        if text.is_empty() {
            return Err(TupleError::Empty {
                at: self.char_at(start),
                what,
            });
        }
        // `viewer user:ann`: a name and then a space is a missing separator,
        // which the caller names, rather than a bad name.
        if let Some((head, _)) = text.split_once(char::is_whitespace) {
            if is_name(head) {
                self.pos = start + head.chars().count();
                return Ok(head.to_owned());
            }
        }
        if let Some(problem) = name_problem(text) {
            return Err(TupleError::InvalidName {
                at: self.char_at(start),
                what,
                name: text.to_owned(),
                problem,
            });
        }
        Ok(text.to_owned())
    }

    /// A percent-encoded ID, ending at one of `stops`. Returns the raw text
    /// too, to tell the wildcard `*` from an encoded `%2A`.
    fn id(&mut self, what: &'static str, stops: &[char]) -> Result<(String, &'a str), TupleError> {
        let (start, raw) = self.take_until(stops);
        self.decode_id(start, raw, what).map(|id| (id, raw))
    }

    /// Decodes the percent-encoded ID `raw`, which starts at character `start`.
    fn decode_id(&self, start: usize, raw: &str, what: &'static str) -> Result<String, TupleError> {
        let at_start = self.char_at(start);
        if raw.is_empty() {
            return Err(TupleError::Empty { at: at_start, what });
        }
        let mut bytes = Vec::with_capacity(raw.len());
        let chars: Vec<char> = raw.chars().collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            let at = self.char_at(start + i);
            if c == '%' {
                let hex: String = chars.iter().skip(i + 1).take(2).collect();
                let value = (hex.len() == 2)
                    .then(|| u8::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()));
                match value {
                    Some(byte) => bytes.push(byte),
                    None => {
                        return Err(TupleError::BadEscape {
                            at,
                            what,
                            text: format!("%{hex}"),
                        })
                    }
                }
                i += 3;
                continue;
            }
            if c.is_control() {
                return Err(TupleError::Control {
                    at,
                    what,
                    code: c as u32,
                });
            }
            if needs_encoding(c) {
                let mut buf = [0u8; 4];
                let encoded: String = c
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect();
                return Err(TupleError::Unencoded {
                    at,
                    what,
                    found: describe_char(c),
                    encoded,
                });
            }
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
        }
        let id =
            String::from_utf8(bytes).map_err(|_| TupleError::NotUtf8 { at: at_start, what })?;
        if let Some(c) = id.chars().find(|c| c.is_control()) {
            return Err(TupleError::Control {
                at: at_start,
                what,
                code: c as u32,
            });
        }
        if id.len() > MAX_ID_BYTES {
            return Err(TupleError::TooLong {
                at: at_start,
                what,
                len: id.len(),
            });
        }
        Ok(id)
    }

    fn expect_end(&self, after: &'static str) -> Result<(), TupleError> {
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(TupleError::Trailing {
                at: self.here(),
                found: describe_char(c),
                after,
            }),
        }
    }
}

/// Where the parts of a parsed tuple are in its text, so that a schema's
/// objection ([`WriteError`](super::WriteError)) can point at its part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TupleSpans {
    pub namespace: TextSpan,
    pub relation: TextSpan,
    pub subject: TextSpan,
    /// The condition's suffix, `[NAME:{…}]`, when there is one.
    pub condition: Option<TextSpan>,
    /// The expiry's suffix, `[expiration:…]`, when there is one.
    pub expiry: Option<TextSpan>,
}

impl TupleSpans {
    /// The whole tuple.
    pub fn whole(&self) -> TextSpan {
        let last = [self.condition, self.expiry]
            .into_iter()
            .flatten()
            .chain([self.subject])
            .max_by_key(|span| span.end)
            .unwrap_or(self.subject);
        self.namespace.to(last)
    }

    fn shift(self, bytes: usize, chars: usize) -> TupleSpans {
        TupleSpans {
            namespace: self.namespace.shift(bytes, chars),
            relation: self.relation.shift(bytes, chars),
            subject: self.subject.shift(bytes, chars),
            condition: self.condition.map(|at| at.shift(bytes, chars)),
            expiry: self.expiry.map(|at| at.shift(bytes, chars)),
        }
    }
}

/// A part of a tuple, for pointing at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TuplePart {
    Namespace,
    Relation,
    Subject,
    /// The condition suffix (the subject when there is none).
    Condition,
    /// The expiry suffix (the subject when there is none).
    Expiry,
    Whole,
}

impl TupleSpans {
    pub fn of(&self, part: TuplePart) -> TextSpan {
        match part {
            TuplePart::Namespace => self.namespace,
            TuplePart::Relation => self.relation,
            TuplePart::Subject => self.subject,
            TuplePart::Condition => self.condition.unwrap_or(self.subject),
            TuplePart::Expiry => self.expiry.unwrap_or(self.subject),
            TuplePart::Whole => self.whole(),
        }
    }
}

/// `namespace:id` (the object part of a tuple), and where its namespace is.
fn parse_object(s: &mut Scanner<'_>, stops: &[char]) -> Result<(Object, TextSpan), TupleError> {
    let start = s.pos;
    let namespace = s.name("namespace name", &[':', '#', '@'])?;
    let namespace_at = s.between(start, s.pos);
    if !s.eat(':') {
        return Err(TupleError::Expected {
            at: s.here(),
            expected: "`:`",
            after: "namespace name",
        });
    }
    let at = s.here();
    let (id, raw) = s.id("object id", stops)?;
    if raw == "*" {
        return Err(TupleError::WildcardObject { at });
    }
    Ok((Object { namespace, id }, namespace_at))
}

/// A subject, to the end of the text, or in a tuple to its first suffix.
fn parse_subject(s: &mut Scanner<'_>, in_tuple: bool) -> Result<Subject, TupleError> {
    let id_stops: &[char] = if in_tuple {
        &['#', '@', '[']
    } else {
        &['#', '@']
    };
    let name_stops: &[char] = if in_tuple {
        &['#', '@', ':', '[']
    } else {
        &['#', '@', ':']
    };
    let namespace = s.name("subject namespace name", &[':', '#', '@'])?;
    if !s.eat(':') {
        return Err(TupleError::Expected {
            at: s.here(),
            expected: "`:`",
            after: "subject namespace name",
        });
    }
    let (id, raw) = s.id("subject id", id_stops)?;
    if s.peek() == Some('@') {
        return Err(TupleError::Trailing {
            at: s.here(),
            found: "`@`".to_owned(),
            after: "subject id",
        });
    }
    let wildcard = raw == "*";
    if s.peek() == Some('#') {
        if wildcard {
            return Err(TupleError::WildcardRelation {
                at: s.here(),
                namespace,
            });
        }
        s.pos += 1;
        let relation = s.name("subject relation name", name_stops)?;
        if !in_tuple {
            s.expect_end("subject relation name")?;
        }
        return Ok(Subject::Set {
            object: Object { namespace, id },
            relation,
        });
    }
    if wildcard {
        return Ok(Subject::Wildcard { namespace });
    }
    Ok(Subject::Object(Object { namespace, id }))
}

fn parse_tuple(text: &str) -> Result<(Tuple, TupleSpans), TupleError> {
    let mut s = Scanner::new(text);
    let (object, namespace) = parse_object(&mut s, &['#', '@'])?;
    if !s.eat('#') {
        return Err(TupleError::Expected {
            at: s.here(),
            expected: "`#`",
            after: "object",
        });
    }
    let relation_start = s.pos;
    let relation_name = s.name("relation name", &['@', '#', ':'])?;
    let relation = s.between(relation_start, s.pos);
    if !s.eat('@') {
        return Err(TupleError::Expected {
            at: s.here(),
            expected: "`@`",
            after: "relation name",
        });
    }
    let subject_start = s.pos;
    let subject_value = parse_subject(&mut s, true)?;
    let subject = s.between(subject_start, s.pos);
    let suffixes = suffix::parse_suffixes(&mut s)?;
    s.expect_end(
        if suffixes.condition.is_some() || suffixes.expiry.is_some() {
            "tuple"
        } else {
            "subject"
        },
    )?;
    let mut tuple = Tuple::new(object, relation_name, subject_value);
    tuple.condition = suffixes
        .condition
        .as_ref()
        .map(|(condition, _)| Box::new(condition.clone()));
    tuple.expires_at = suffixes.expiry.map(|(expiry, _)| expiry);
    Ok((
        tuple,
        TupleSpans {
            namespace,
            relation,
            subject,
            condition: suffixes.condition.map(|(_, at)| at),
            expiry: suffixes.expiry.map(|(_, at)| at),
        },
    ))
}

/// Runs `parse` on `text` without its surrounding whitespace, keeping
/// places relative to `text`.
fn trimmed<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, TupleError>,
) -> Result<T, TupleError> {
    let trimmed = text.trim_start();
    let bytes = text.len() - trimmed.len();
    let chars = text.chars().take_while(|c| c.is_whitespace()).count();
    parse(trimmed.trim_end()).map_err(|e| e.shift(bytes, chars))
}

/// Parses `namespace:object#relation@subject` (surrounding whitespace is
/// ignored) and says where its parts are in `text`.
pub fn parse_tuple_with_spans(text: &str) -> Result<(Tuple, TupleSpans), TupleError> {
    let bytes = text.len() - text.trim_start().len();
    let chars = text.chars().take_while(|c| c.is_whitespace()).count();
    trimmed(text, parse_tuple).map(|(tuple, spans)| (tuple, spans.shift(bytes, chars)))
}

impl FromStr for Tuple {
    type Err = TupleError;

    /// Parses `namespace:object#relation@subject`; surrounding whitespace is ignored.
    fn from_str(text: &str) -> Result<Tuple, TupleError> {
        trimmed(text, parse_tuple).map(|(tuple, _)| tuple)
    }
}

impl FromStr for Subject {
    type Err = TupleError;

    /// Parses `namespace:id`, `namespace:id#relation` or `namespace:*`.
    fn from_str(text: &str) -> Result<Subject, TupleError> {
        trimmed(text, |text| parse_subject(&mut Scanner::new(text), false))
    }
}

impl FromStr for Object {
    type Err = TupleError;

    /// Parses `namespace:id`.
    fn from_str(text: &str) -> Result<Object, TupleError> {
        trimmed(text, |text| {
            let mut s = Scanner::new(text);
            let (object, _) = parse_object(&mut s, &['#', '@'])?;
            s.expect_end("object id")?;
            Ok(object)
        })
    }
}

/// Parses `namespace:id#relation`, the object and relation of a check or
/// an expand (`document:readme#view`).
pub fn parse_object_relation(text: &str) -> Result<(Object, String), TupleError> {
    trimmed(text, |text| {
        let mut s = Scanner::new(text);
        let (object, _) = parse_object(&mut s, &['#', '@'])?;
        if !s.eat('#') {
            return Err(TupleError::Expected {
                at: s.here(),
                expected: "`#`",
                after: "object",
            });
        }
        let relation = s.name("relation name", &['@', '#', ':'])?;
        s.expect_end("relation name")?;
        Ok((object, relation))
    })
}

/// A parse error in a tuple file, with its 1-based line. The error's byte
/// offsets count from the start of the file, its column from the start of
/// the line.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("line {line}, column {}: {error}", error.column())]
pub struct TupleFileError {
    pub line: usize,
    pub error: TupleError,
    /// The bytes of the file that hold the tuple's text (without the
    /// comment and surrounding whitespace).
    pub tuple: Range<usize>,
}

impl TupleFileError {
    pub fn column(&self) -> usize {
        self.error.column()
    }
}

/// Parses a tuple file: one tuple per line; blank lines and `//` comment
/// lines are skipped, and so is a `//` comment after whitespace at the end of
/// a line (an ID cannot contain raw whitespace, so this is unambiguous).
/// Returns every tuple with its 1-based line number, or every error.
pub fn parse_tuple_file(text: &str) -> Result<Vec<(usize, Tuple)>, Vec<TupleFileError>> {
    let mut tuples = Vec::new();
    let mut errors = Vec::new();
    let mut line_start = 0;
    for (index, line_with_end) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let line = line_with_end
            .strip_suffix('\n')
            .map_or(line_with_end, |l| l.strip_suffix('\r').unwrap_or(l));
        match parse_tuple_line(line) {
            Ok(None) => {}
            Ok(Some((tuple, _))) => tuples.push((line_no, tuple)),
            Err(error) => {
                let content = strip_comment(line);
                let lead = content.len() - content.trim_start().len();
                let start = line_start + lead;
                errors.push(TupleFileError {
                    line: line_no,
                    error: error.shift(line_start, 0),
                    tuple: start..start + content.trim().len(),
                });
            }
        }
        line_start += line_with_end.len();
    }
    if errors.is_empty() {
        Ok(tuples)
    } else {
        Err(errors)
    }
}

/// Parses one line of a tuple file: `None` for a blank or comment line.
/// Places in errors and spans count from the start of `line`.
pub fn parse_tuple_line(line: &str) -> Result<Option<(Tuple, TupleSpans)>, TupleError> {
    let content = strip_comment(line);
    if content.trim().is_empty() {
        return Ok(None);
    }
    parse_tuple_with_spans(content).map(Some)
}

#[cfg(test)]
#[path = "notation_tests.rs"]
mod tests;
