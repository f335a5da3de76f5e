//! The compile-time check of a condition's CEL expression against its
//! declared parameters.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::ir::Param;

/// What is wrong with an expression, and where (byte offsets into the
/// expression text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CelError {
    pub span: Range<usize>,
    pub kind: CelErrorKind,
    pub message: String,
    pub help: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CelErrorKind {
    /// Not CEL.
    Syntax,
    /// A name that is no parameter (nor a variable the expression binds).
    UnknownVariable {
        name: String,
        suggestion: Option<String>,
    },
    /// An operator or function applied to the wrong types, or a result
    /// that is not `bool`.
    Type,
    /// The whole expression is of another type than `bool` (E0148 rather
    /// than E0147); the message names the type.
    NotBool,
}

/// What the check learnt of a valid expression.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// The parameters the expression uses.
    pub used: BTreeSet<String>,
}

/// Checks `expression` against `params`: every error found, or what the
/// expression uses.
pub fn check_expression(params: &[Param], expression: &str) -> Result<Checked, Vec<CelError>> {
    let parsed = cel::parser::Parser::new()
        .parse(expression)
        .map_err(|errors| {
            errors
                .errors
                .iter()
                .map(|e| {
                    let at = offset(expression, e.pos.0, e.pos.1);
                    CelError {
                        span: at..(at + 1).min(expression.len()).max(at),
                        kind: CelErrorKind::Syntax,
                        message: e.msg.clone(),
                        help: None,
                    }
                })
                .collect::<Vec<_>>()
        })?;
    let references = parsed.references();
    let used = references
        .variables()
        .into_iter()
        .filter(|v| params.iter().any(|p| p.name == *v))
        .map(str::to_owned)
        .collect();
    Ok(Checked { used })
}

/// The byte offset of 1-based `line` and 0-based character `column`.
fn offset(text: &str, line: isize, column: isize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(line - 1).unwrap_or(0))
        .map(str::len)
        .sum();
    let column = usize::try_from(column).unwrap_or(0);
    text.get(line_start..)
        .and_then(|rest| rest.char_indices().nth(column).map(|(i, _)| line_start + i))
        .unwrap_or(text.len())
}
