//! The text notation `namespace:object#relation@subject`: writing it
//! (percent-encoding what would be ambiguous) and parsing it, alone or a
//! tuple file at a time. IDs are encoded and decoded in `id`, read by the
//! cursor in `scan`, a tuple's suffixes in `suffix`; the errors, with where
//! they are, in `error`.

use std::fmt::{self, Display, Write as _};
use std::ops::Range;
use std::str::FromStr;

use thiserror::Error;

use super::model::{Object, Subject, Tuple};

#[path = "notation_error.rs"]
mod error;
#[path = "notation_id.rs"]
mod id;
#[path = "notation_scan.rs"]
mod scan;
#[path = "notation_suffix.rs"]
mod suffix;

pub use error::{Notation, NotationSite, TextSpan, TupleError};
pub use id::encode_id;
pub use suffix::{strip_comment, EXPIRATION};

use id::write_id;
use scan::Scanner;

// ---------------------------------------------------------------------------
// Writing (IDs are percent-encoded by `id`).

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
