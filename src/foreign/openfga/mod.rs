//! OpenFGA models, in the DSL (schema 1.1, `.fga`) and in the JSON form the
//! OpenFGA API takes, read into zanzi's syntax tree.
//!
//! OpenFGA relations both store tuples and compute, so the mapping is:
//! `define r: [user]` is a relation; `define r: [user] or editor` is a
//! relation whose rewrite reads its own tuples as `this`
//! (`relation r: user = this | editor`); a definition without `[…]` is a
//! permission. `y from z` is the arrow `z->y`; `or`, `and` and `but not` are
//! `|`, `&` and `-`. Names are kept verbatim. `condition c(p: type) { cel }`
//! is zanzi's condition `c`, and `[user with c]` the type `user with c`.
//!
//! Modular models (schema 1.2) are read too: [`modfile`] reads the `fga.mod`
//! manifest, each module file (`module core`) parses like a model, and
//! `extend type X` becomes a namespace marked as an extension, which
//! analysis merges into the one `type X` another module defines.

mod condition;
mod dsl;
mod json;
mod lexer;
mod model;
pub mod modfile;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::Parsed;

/// How deep parentheses (DSL) or usersets (JSON) may nest, as in zanzi (E0007).
const MAX_DEPTH: usize = 64;

/// Parses one DSL file.
pub fn parse_dsl<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    dsl::parse(file, src, diags)
}

/// Parses one JSON model.
pub fn parse_json<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    model::parse(file, src, diags)
}

/// The `#` comment lines right above the line holding `offset`, markers and
/// one leading space stripped: OpenFGA has no doc comments, and these are
/// what its models use to document a type or relation.
fn doc_above(src: &str, offset: u32) -> Vec<&str> {
    let before = src.get(..offset as usize).unwrap_or_default();
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let mut doc = Vec::new();
    for line in src.get(..line_start).unwrap_or_default().lines().rev() {
        let Some(text) = line.trim().strip_prefix('#') else {
            break;
        };
        doc.push(text.strip_prefix(' ').unwrap_or(text).trim_end());
    }
    doc.reverse();
    doc
}

#[cfg(test)]
mod tests;
