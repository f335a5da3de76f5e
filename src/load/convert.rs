//! `zanzi convert`: a foreign schema (Keto OPL, SpiceDB, OpenFGA) written as
//! canonical zanzi source.
//!
//! The foreign file is read by its front end and checked by zanzi's
//! analysis; only a schema that compiles is converted. The tree is then
//! written by the formatter (doc comments from the tree, names in backticks
//! where zanzi's spelling cannot write them, the parentheses the front end
//! made explicit), and the result is compiled again: a conversion whose IR
//! differs from the foreign file's is refused, so what `convert` writes
//! always means what the original meant.

use thiserror::Error;

use super::{compile_source, Compilation};
use crate::diagnostics::{self, Diagnostic};
use crate::foreign::{self, Dialect};
use crate::source::{FileId, SourceMap};
use crate::syntax::ast;
use crate::{analysis, syntax};

/// A conversion: the foreign file's diagnostics, and the zanzi source when
/// it compiled.
#[derive(Debug)]
pub struct Conversion {
    /// Every diagnostic of the foreign file, warnings included, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// The zanzi source, when the foreign schema compiled.
    pub source: Option<String>,
}

/// The written source does not compile to the foreign file's IR: a defect
/// in zanzi, reported rather than written.
#[derive(Debug, Error)]
#[error(
    "the converted schema does not mean what `{file}` means ({detail}); \
     this is a bug in zanzi: please report it with the file"
)]
pub struct NotFaithful {
    pub file: String,
    pub detail: String,
}

/// Converts `file` of `sources`, read as `dialect`.
pub fn convert(
    sources: &SourceMap,
    file: FileId,
    dialect: Dialect,
) -> Result<Conversion, NotFaithful> {
    let text = sources.text(file);
    let mut diags = Vec::new();
    let parsed = foreign::parse(dialect, file, text, &mut diags);
    let schema = analysis::analyze(sources, std::slice::from_ref(&parsed), &mut diags);
    diagnostics::sort_and_dedup(&mut diags);
    let schema = schema.filter(|_| !diags.iter().any(Diagnostic::is_error));
    let Some(schema) = schema else {
        return Ok(Conversion {
            diagnostics: diags,
            source: None,
        });
    };
    let merged = syntax::Parsed {
        ast: with_extensions_merged(&parsed.ast),
        comments: parsed.comments.clone(),
        broken_names: parsed.broken_names.clone(),
    };
    let source = syntax::fmt::format_tree(&merged, text);
    let not_faithful = |detail: String| NotFaithful {
        file: sources.name(file).to_owned(),
        detail,
    };
    let (
        _,
        Compilation {
            diagnostics: again,
            schema: converted,
        },
    ) = compile_source("converted.zanzi", &source);
    let converted = converted.ok_or_else(|| {
        let first = again
            .iter()
            .find(|d| d.is_error())
            .map_or_else(String::new, |d| format!("{} {}", d.code, d.message));
        not_faithful(format!("it does not compile: {first}"))
    })?;
    if converted.hash != schema.hash {
        return Err(not_faithful(format!(
            "IR {} instead of {}",
            converted.hash, schema.hash
        )));
    }
    Ok(Conversion {
        diagnostics: diags,
        source: Some(source),
    })
}

/// An OpenFGA module's `extend type` blocks written into the type they
/// extend, in the order analysis merges them: zanzi declares a namespace
/// once. (A module that extends another module's type does not compile
/// alone, so it never gets here.)
fn with_extensions_merged<'src>(file: &ast::File<'src>) -> ast::File<'src> {
    let mut items: Vec<ast::Item<'src>> = file
        .items
        .iter()
        .filter(|item| !matches!(item, ast::Item::Namespace(ns) if ns.extends))
        .cloned()
        .collect();
    for item in &file.items {
        let ast::Item::Namespace(extension) = item else {
            continue;
        };
        if !extension.extends {
            continue;
        }
        let defined = items.iter_mut().find_map(|i| match i {
            ast::Item::Namespace(ns) if ns.name.text == extension.name.text => Some(ns),
            _ => None,
        });
        match defined {
            Some(ns) => ns.members.extend(extension.members.iter().cloned()),
            None => items.push(item.clone()),
        }
    }
    ast::File {
        items,
        module: None,
    }
}
