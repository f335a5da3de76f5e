//! A cursor over one tuple text, reading its names and IDs and saying
//! where each problem is.

use super::error::{describe_char, TextSpan, TupleError};
use super::id::decode_id;
use crate::tuple::model::{is_name, name_problem};

/// A cursor over the characters of one tuple text.
pub(super) struct Scanner<'a> {
    chars: Vec<(usize, char)>,
    pub(super) text: &'a str,
    /// Index into `chars`.
    pub(super) pos: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            chars: text.char_indices().collect(),
            text,
            pos: 0,
        }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    pub(super) fn byte_offset(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.text.len(), |&(i, _)| i)
    }

    /// The character at index `pos` (empty at the end of the text).
    pub(super) fn char_at(&self, pos: usize) -> TextSpan {
        self.between(pos, (pos + 1).min(self.chars.len()))
    }

    /// Characters `from..to`.
    pub(super) fn between(&self, from: usize, to: usize) -> TextSpan {
        TextSpan {
            start: self.byte_offset(from),
            end: self.byte_offset(to.max(from)),
            column: from + 1,
        }
    }

    /// The character under the cursor.
    pub(super) fn here(&self) -> TextSpan {
        self.char_at(self.pos)
    }

    /// Reads up to (not including) the first of `stops`, or the end.
    pub(super) fn take_until(&mut self, stops: &[char]) -> (usize, &'a str) {
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

    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A namespace or relation name, ending at one of `stops`.
    pub(super) fn name(
        &mut self,
        what: &'static str,
        stops: &[char],
    ) -> Result<String, TupleError> {
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
    pub(super) fn id(
        &mut self,
        what: &'static str,
        stops: &[char],
    ) -> Result<(String, &'a str), TupleError> {
        let (start, raw) = self.take_until(stops);
        decode_id(raw, what, |i| self.char_at(start + i)).map(|id| (id, raw))
    }

    pub(super) fn expect_end(&self, after: &'static str) -> Result<(), TupleError> {
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
