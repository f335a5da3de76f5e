//! IDs in the text notation: percent-encoded where a raw character would be
//! ambiguous (`:`, `#`, `@`, `%`, whitespace, control characters), and
//! decoded back with the place of a bad escape.

use std::fmt;

use super::error::{describe_char, TextSpan, TupleError};
use crate::tuple::model::MAX_ID_BYTES;

/// Writes `id` percent-encoded for the text notation.
pub(super) fn write_id(f: &mut impl fmt::Write, id: &str) -> fmt::Result {
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

/// Decodes the percent-encoded ID `raw`; `char_at(i)` is the place of its
/// `i`th character in the parsed text.
pub(super) fn decode_id(
    raw: &str,
    what: &'static str,
    char_at: impl Fn(usize) -> TextSpan,
) -> Result<String, TupleError> {
    let at_start = char_at(0);
    if raw.is_empty() {
        return Err(TupleError::Empty { at: at_start, what });
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let at = char_at(i);
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
    let id = String::from_utf8(bytes).map_err(|_| TupleError::NotUtf8 { at: at_start, what })?;
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
