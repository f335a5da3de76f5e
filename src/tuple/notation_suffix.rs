//! The suffixes after a tuple's subject, in SpiceDB's form: the condition
//! `[NAME]` or `[NAME:{JSON object}]` and the expiry
//! `[expiration:RFC3339]` (docs/language.md, "Tuples with a condition or an
//! expiry"), and the end-of-line comments of tuple files, which must not
//! be looked for inside a suffix's JSON.

use std::fmt::{self, Write as _};

use super::{Scanner, TextSpan, TupleError};
use crate::tuple::model::{name_problem, Context, Expiry, Tuple, TupleCondition};

/// The name that introduces an expiry; no condition may have it.
pub const EXPIRATION: &str = "expiration";

/// Writes a tuple's condition, then its expiry, as suffixes.
pub(super) fn write_suffixes(f: &mut fmt::Formatter<'_>, tuple: &Tuple) -> fmt::Result {
    if let Some(condition) = &tuple.condition {
        f.write_char('[')?;
        f.write_str(&condition.name)?;
        if !condition.context.is_empty() {
            f.write_char(':')?;
            f.write_str(condition.context.as_json())?;
        }
        f.write_char(']')?;
    }
    if let Some(expiry) = tuple.expires_at {
        write!(f, "[{EXPIRATION}:{expiry}]")?;
    }
    Ok(())
}

/// What the suffixes of one tuple give, and where each is.
#[derive(Default)]
pub(super) struct Suffixes {
    pub condition: Option<(TupleCondition, TextSpan)>,
    pub expiry: Option<(Expiry, TextSpan)>,
}

/// Reads the suffixes at the cursor, in either order, each at most once.
pub(super) fn parse_suffixes(s: &mut Scanner<'_>) -> Result<Suffixes, TupleError> {
    let mut found = Suffixes::default();
    while s.peek() == Some('[') {
        let open = s.pos;
        s.pos += 1;
        let name_start = s.pos;
        let (_, name) = s.take_until(&[':', ']', '[']);
        let name = name.to_owned();
        let name_at = s.between(name_start, s.pos);
        if name == EXPIRATION {
            let expiry = parse_expiry(s, open)?;
            let at = s.between(open, s.pos);
            if found.expiry.is_some() {
                return Err(TupleError::Twice {
                    at,
                    what: "expiration",
                });
            }
            found.expiry = Some((expiry, at));
            continue;
        }
        if name.is_empty() {
            return Err(TupleError::Empty {
                at: name_at,
                what: "condition name",
            });
        }
        if let Some(problem) = name_problem(&name) {
            return Err(TupleError::InvalidName {
                at: name_at,
                what: "condition name",
                name,
                problem,
            });
        }
        let context = if s.eat(':') {
            parse_context(s, &name)?
        } else {
            Context::default()
        };
        if !s.eat(']') {
            return Err(unclosed(s, open));
        }
        let at = s.between(open, s.pos);
        if found.condition.is_some() {
            return Err(TupleError::Twice {
                at,
                what: "condition",
            });
        }
        found.condition = Some((TupleCondition { name, context }, at));
    }
    Ok(found)
}

/// `:RFC3339]` after `[expiration`.
fn parse_expiry(s: &mut Scanner<'_>, open: usize) -> Result<Expiry, TupleError> {
    if !s.eat(':') {
        return Err(TupleError::Expected {
            at: s.here(),
            expected: "`:` and an RFC 3339 time",
            after: "`expiration`",
        });
    }
    let start = s.pos;
    let (_, text) = s.take_until(&[']']);
    let at = s.between(start, s.pos);
    if s.peek().is_none() {
        return Err(unclosed(s, open));
    }
    let expiry = Expiry::parse(text).map_err(|_| TupleError::BadExpiry {
        at,
        text: text.to_owned(),
    })?;
    s.pos += 1;
    Ok(expiry)
}

/// The JSON object after `[NAME:`, up to (not including) its `]`.
fn parse_context(s: &mut Scanner<'_>, condition: &str) -> Result<Context, TupleError> {
    let start = s.pos;
    let from = s.byte_offset(start);
    let rest = s.text.get(from..).unwrap_or("");
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
    let value = match values.next() {
        Some(Ok(value)) => value,
        Some(Err(e)) => {
            let offset = json_error_offset(rest, &e);
            let chars = rest.get(..offset).map_or(0, |t| t.chars().count());
            return Err(TupleError::BadJson {
                at: s.char_at(start + chars),
                condition: condition.to_owned(),
                message: json_error_message(&e),
            });
        }
        None => {
            return Err(TupleError::BadJson {
                at: s.char_at(start),
                condition: condition.to_owned(),
                message: "expected a JSON object".to_owned(),
            })
        }
    };
    let consumed = values.byte_offset();
    let chars = rest.get(..consumed).map_or(0, |t| t.chars().count());
    let at = s.between(start, start + chars);
    s.pos = start + chars;
    match value {
        serde_json::Value::Object(map) => Ok(Context::from_map(map)),
        other => Err(TupleError::ContextNotObject {
            at,
            condition: condition.to_owned(),
            found: json_kind(&other),
        }),
    }
}

fn unclosed(s: &Scanner<'_>, open: usize) -> TupleError {
    TupleError::Unclosed {
        at: s.char_at(open),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "`null`",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The byte offset in `text` of a JSON error (serde_json counts 1-based
/// lines and byte columns).
fn json_error_offset(text: &str, e: &serde_json::Error) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + e.column().saturating_sub(1)).min(text.len())
}

/// serde_json's message without its "at line … column …".
fn json_error_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_owned(),
        None => text,
    }
}

/// A line without its `// comment`: one that starts the line or follows
/// whitespace, outside the suffixes after the subject (whose JSON may hold
/// `//` and spaces in its strings).
pub fn strip_comment(line: &str) -> &str {
    let mut previous_blank = true;
    let mut after_subject = false;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if depth > 0 {
            match c {
                '"' => in_string = true,
                '[' | '{' => depth += 1,
                ']' | '}' => depth -= 1,
                _ => {}
            }
            previous_blank = false;
            continue;
        }
        match c {
            '@' => after_subject = true,
            // Raw `[` may be in an object ID; after the `@` it opens a suffix.
            '[' if after_subject => depth = 1,
            '/' if previous_blank && line.get(i..).is_some_and(|rest| rest.starts_with("//")) => {
                return line.get(..i).unwrap_or(line);
            }
            _ => {}
        }
        previous_blank = c.is_whitespace();
    }
    line
}
