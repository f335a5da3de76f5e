//! The SpiceDB schema front end (`.zed`): SpiceDB's schema language read
//! into zanzi's syntax tree, as SpiceDB itself reads it.
//!
//! - `definition example/user { … }` is namespace `example/user`: names are
//!   verbatim, prefix included.
//! - `relation r: a | b:* | c#m | d#...` lists subject types; `d#...` is the
//!   object itself, as `d` is.
//! - `permission p = …` keeps SpiceDB's precedence (`+` before `&` before
//!   `-`, all left-associative) with explicit parentheses and W0601 where
//!   the source leaned on it (see `expr.rs`); `->`, `.any()`, `.all()` are
//!   arrows, `nil` the empty set.
//! - `/** … */` and `///` comments document what follows them.
//! - `caveat c(p type, …) { cel }` is condition `c` (SpiceDB's parameter
//!   types are zanzi's); `with c`, `with expiration` (after `use
//!   expiration`) and `with c and expiration` are a type's traits.
//! - `self` (after `use self`) is the object itself; partials are inlined.

mod expr;
mod lexer;
mod parser;
mod partials;
mod terms;
#[cfg(test)]
mod tests;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::ast::{Item, Member};
use crate::syntax::Parsed;

/// Lexes and parses one SpiceDB schema file; never fails.
pub fn parse<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    let lexed = lexer::lex(file, src, diags);
    let first_parser_diag = diags.len();
    let mut parser = parser::Parser::new(file, src, &lexed.tokens, &lexed.comments, diags);
    let mut ast = parser.file();
    let mut broken_names = std::mem::take(&mut parser.broken);
    let partials = std::mem::take(&mut parser.partials);
    partials.inline(&mut ast, &mut broken_names, diags);
    drop_lex_cascades(&lexed, diags, first_parser_diag);
    // A member with a bad character in it was read without that character:
    // analysing it would only add follow-on errors.
    for item in &mut ast.items {
        let Item::Namespace(ns) = item else {
            continue;
        };
        for member in &mut ns.members {
            let span = member.span();
            if lexed
                .errors
                .iter()
                .any(|e| e.start >= span.start && e.start < span.end)
            {
                match member {
                    Member::Relation(r) => broken_names.push(r.name.text),
                    Member::Permission(p) => broken_names.push(p.name.text),
                    Member::Error(_) => {}
                }
                *member = Member::Error(span);
            }
        }
    }
    Parsed {
        ast,
        comments: lexed.comments,
        broken_names,
    }
}

/// Drops the syntax errors that follow a bad character in the same
/// statement: the statement was read without the character, so they only
/// repeat that first error.
fn drop_lex_cascades(lexed: &lexer::Lexed<'_>, diags: &mut Vec<Diagnostic>, from: usize) {
    if lexed.errors.is_empty() {
        return;
    }
    let statement_start = |at: u32| {
        let before = lexed.tokens.partition_point(|t| t.span.start < at);
        lexed
            .tokens
            .get(..before)
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|t| {
                matches!(
                    t.token,
                    lexer::Token::End
                        | lexer::Token::Semicolon
                        | lexer::Token::LBrace
                        | lexer::Token::RBrace
                )
            })
            .map_or(0, |t| t.span.end)
    };
    let mut index = 0;
    diags.retain(|d| {
        index += 1;
        if index <= from || d.code != crate::diagnostics::codes::E0601 {
            return true;
        }
        let at = d.primary.span.start;
        let start = statement_start(at);
        !lexed
            .errors
            .iter()
            .any(|e| e.start >= start && e.start < at)
    });
}
