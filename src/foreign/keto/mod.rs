//! Ory Keto's permission language (OPL): the TypeScript subset of
//! `@ory/keto-namespace-types` that Keto's own parser accepts, read into
//! zanzi's syntax tree.
//!
//! `class File implements Namespace` is the namespace `File` (names are kept
//! verbatim: existing tuples use them); each `related` entry is a relation
//! and each `permits` entry a permission. Permission bodies are read the way
//! Keto reads them, left to right (see [`lower`]).

mod expr;
mod lexer;
mod lower;
mod parser;
#[cfg(test)]
mod tests;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::Parsed;

/// Parses one OPL file. Never fails: what could not be read is reported
/// (E0601, E0603) and left out, its names in [`Parsed::broken_names`].
pub fn parse<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    let lexed = lexer::lex(file, src, diags);
    let mut parser = parser::Parser::new(
        file,
        src,
        &lexed.tokens,
        &lexed.comments,
        lexed.truncated,
        diags,
    );
    let ast = parser.file();
    let broken_names = parser.broken_names;
    Parsed {
        ast,
        comments: Vec::new(),
        broken_names,
    }
}
