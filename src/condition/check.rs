//! The compile-time check of a condition's CEL expression against its
//! declared parameters.

mod functions;
mod infer;
mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use cel::common::ast::SourceInfo;
use cel::IdedExpr;

use crate::ir::Param;
use infer::Inference;
use types::Type;

/// How deep an expression may nest (`(((a)))`, `a + b + c`, a macro in a
/// macro): deep enough for any condition, shallow enough for the checker's
/// and the evaluator's recursion.
pub const MAX_DEPTH: usize = 64;

/// The longest expression, in bytes.
pub const MAX_LENGTH: usize = 16 * 1024;

/// The stack the check runs on: the generated parser's frames are large
/// (tens of KiB per nesting level in a debug build), too large for the
/// caller's stack, whatever thread that is.
const CHECK_STACK: usize = 64 * 1024 * 1024;

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
    /// An operator or function applied to the wrong types.
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
    check_parsed(params, expression).map(|parsed| parsed.checked)
}

/// What the evaluator runs: the checked AST and how deep it nests.
pub(crate) struct Parsed {
    pub checked: Checked,
    pub ast: IdedExpr,
    pub depth: usize,
}

/// [`check_expression`], with the checked AST.
pub(crate) fn check_parsed(params: &[Param], expression: &str) -> Result<Parsed, Vec<CelError>> {
    if expression.len() > MAX_LENGTH {
        return Err(vec![CelError {
            span: 0..expression.len(),
            kind: CelErrorKind::Syntax,
            message: format!("the expression is longer than {MAX_LENGTH} bytes"),
            help: None,
        }]);
    }
    // Everything, the AST's drop included, happens on the check's own stack.
    stacker::grow(CHECK_STACK, || {
        let (ast, source) = parse(expression)?;
        let depth = infer::depth(&ast);
        if depth > MAX_DEPTH {
            return Err(vec![CelError {
                span: 0..expression.len(),
                kind: CelErrorKind::Syntax,
                message: format!("the expression nests more than {MAX_DEPTH} deep"),
                help: Some("split it, or use fewer parentheses and chained operators".to_owned()),
            }]);
        }
        let types: BTreeMap<&str, Type> = params
            .iter()
            .map(|p| (p.name.as_str(), Type::of_param(&p.ty)))
            .collect();
        let mut inference = Inference::new(&types, &source, expression);
        let result = inference.infer(&ast);
        if !(result == Type::Bool || result.is_dynamic()) {
            let text = expression.trim_end();
            let start = text.len() - text.trim_start().len();
            inference.errors.push(CelError {
                span: start..text.len(),
                kind: CelErrorKind::NotBool,
                message: format!("a condition must be bool, and this expression is {result}"),
                help: None,
            });
        }
        if !inference.errors.is_empty() {
            return Err(inference.errors);
        }
        let checked = Checked {
            used: inference.used,
        };
        Ok(Parsed {
            checked,
            ast,
            depth,
        })
    })
}

/// Parses CEL, with the standard macros (`has`, `all`, `exists`,
/// `exists_one`, `map`, `filter`) expanded and without the optional syntax
/// (`a.?b`), which conditions do not offer.
fn parse(expression: &str) -> Result<(IdedExpr, SourceInfo), Vec<CelError>> {
    cel::parser::Parser::new()
        .parse_with_source_info(expression)
        .map_err(|errors| {
            let too_deep = errors
                .errors
                .iter()
                .any(|e| e.msg.contains("Recursion limit"));
            if too_deep {
                return vec![CelError {
                    span: 0..expression.len(),
                    kind: CelErrorKind::Syntax,
                    message: "the expression nests too deep".to_owned(),
                    help: Some("use fewer parentheses".to_owned()),
                }];
            }
            errors
                .errors
                .iter()
                .map(|e| {
                    let at = offset(expression, e.pos.0, e.pos.1.saturating_sub(1));
                    let next = expression
                        .get(at..)
                        .and_then(|rest| rest.chars().next())
                        .map_or(at, |c| at + c.len_utf8());
                    CelError {
                        span: at..next,
                        kind: CelErrorKind::Syntax,
                        message: e.msg.clone(),
                        help: None,
                    }
                })
                .collect::<Vec<_>>()
        })
}

/// The byte offset of 1-based `line` and 0-based character `column` (the
/// parser reports columns 1-based).
fn offset(text: &str, line: isize, column: isize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(usize::try_from(line.saturating_sub(1)).unwrap_or(0))
        .map(str::len)
        .sum();
    let column = usize::try_from(column).unwrap_or(0);
    text.get(line_start..)
        .and_then(|rest| rest.char_indices().nth(column).map(|(i, _)| line_start + i))
        .unwrap_or(text.len())
}
