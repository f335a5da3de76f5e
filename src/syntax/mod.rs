//! Syntax: source text to a tolerant tree, plus the canonical formatter.
//!
//! [`parse`] never fails: it returns the tree it could build and every
//! diagnostic it found. Doc comments are attached to the item that follows
//! them here; a doc comment with nothing to document is a warning (W0001).

pub mod ast;
mod errors;
pub mod fmt;
pub mod lexer;
mod parser;

use crate::diagnostics::{Diagnostic, ToDiagnostic};
use crate::source::FileId;

pub use errors::{ParseHint, SyntaxError};
pub use lexer::Comment;

/// Words that cannot name anything (docs/language.md, "Keywords and reserved words").
pub const RESERVED: &[&str] = &[
    "with",
    "condition",
    "caveat",
    "import",
    "nil",
    "this",
    "self",
    "any",
    "all",
];

/// The language's keywords, which cannot name anything either.
pub const KEYWORDS: &[&str] = &["namespace", "relation", "permission"];

/// Whether `name` can be written bare in zanzi source; any other name is
/// written between backticks (`` `File` ``, `` `example/user` ``).
pub fn is_plain_name(name: &str) -> bool {
    crate::diagnostics::suggest::identifier_problem(name).is_none()
        && !KEYWORDS.contains(&name)
        && !RESERVED.contains(&name)
}

/// Why `name` cannot be a verbatim (backticked or foreign) name, if it
/// cannot: it must be a name a tuple can hold.
pub use crate::tuple::model::name_problem as verbatim_name_problem;

/// The longest verbatim name (OpenFGA allows type names of 254 bytes).
pub use crate::tuple::model::MAX_NAME_BYTES as MAX_VERBATIM_NAME_BYTES;

/// A parsed file with its comments (for the formatter).
#[derive(Debug, Default)]
pub struct Parsed<'src> {
    pub ast: ast::File<'src>,
    pub comments: Vec<Comment<'src>>,
    /// Names declared in parts that failed to parse; references to them are not reported.
    pub broken_names: Vec<&'src str>,
}

/// Lexes and parses one file.
pub fn parse<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    let first_syntax_diag = diags.len();
    let lexed = lexer::lex(file, src, diags);
    let lex_errors: Vec<_> = diags
        .get(first_syntax_diag..)
        .unwrap_or_default()
        .iter()
        .map(|d| d.primary.span)
        .collect();
    let mut ast = parser::parse_tokens(file, src, &lexed.tokens, diags);
    // A member with a bad character in it parsed without that character
    // (`t - > p` as `t - p`): analysing it would only report follow-on errors.
    // So does a condition whose body the file never closes.
    let lex_error_in = |span: crate::source::Span| {
        lex_errors
            .iter()
            .any(|e| e.start >= span.start && e.start < span.end)
    };
    for item in &mut ast.items {
        if let ast::Item::Condition(c) = item {
            if lex_error_in(c.span) {
                *item = ast::Item::Error(c.span);
            }
            continue;
        }
        let ast::Item::Namespace(ns) = item else {
            continue;
        };
        for member in &mut ns.members {
            let span = member.span();
            if lex_error_in(span) {
                *member = ast::Member::Error(span);
            }
        }
    }
    // A file that failed to lex or parse reports no doc-comment warnings on top.
    let quiet = diags.len() > first_syntax_diag;
    attach_docs(
        &mut ast,
        &lexed.comments,
        src,
        if quiet { None } else { Some(diags) },
    );
    let broken_names = parser::names_in(&lexed.tokens, error_spans(&ast).into_iter());
    Parsed {
        ast,
        comments: lexed.comments,
        broken_names,
    }
}

fn error_spans(ast: &ast::File<'_>) -> Vec<crate::source::Span> {
    ast.items
        .iter()
        .flat_map(|item| match item {
            ast::Item::Error(span) => vec![*span],
            ast::Item::Condition(_) => vec![],
            ast::Item::Namespace(ns) => ns
                .members
                .iter()
                .filter_map(|m| match m {
                    ast::Member::Error(span) => Some(*span),
                    _ => None,
                })
                .collect(),
        })
        .collect()
}

/// Gives each namespace, condition, relation and permission the `///` lines directly above it.
fn attach_docs<'src>(
    ast: &mut ast::File<'src>,
    comments: &[Comment<'src>],
    src: &str,
    diags: Option<&mut Vec<Diagnostic>>,
) {
    let mut starts: Vec<(u32, &mut Vec<&'src str>)> = Vec::new();
    for item in &mut ast.items {
        let ns = match item {
            ast::Item::Namespace(ns) => ns,
            ast::Item::Condition(c) => {
                starts.push((c.span.start, &mut c.doc));
                continue;
            }
            ast::Item::Error(_) => continue,
        };
        starts.push((ns.span.start, &mut ns.doc));
        for member in &mut ns.members {
            match member {
                ast::Member::Relation(r) => starts.push((r.span.start, &mut r.doc)),
                ast::Member::Permission(p) => starts.push((p.span.start, &mut p.doc)),
                ast::Member::Error(_) => {}
            }
        }
    }
    let mut unattached = Vec::new();
    let mut docs = comments.iter().filter(|c| c.doc).peekable();
    for (start, doc) in starts {
        while let Some(comment) = docs.next_if(|c| c.span.start < start) {
            // Attached only when nothing but whitespace and other doc lines lie between.
            let between = src
                .get(comment.span.end as usize..start as usize)
                .unwrap_or("");
            let only_docs = between
                .lines()
                .all(|line| line.trim().is_empty() || line.trim_start().starts_with("///"));
            // `relation x: user /// …` documents neither `x` nor what follows.
            let line_start = src
                .get(..comment.span.start as usize)
                .and_then(|before| before.rfind('\n'))
                .map_or(0, |i| i + 1);
            let after_code = !src
                .get(line_start..comment.span.start as usize)
                .unwrap_or("")
                .trim()
                .is_empty();
            if only_docs && !after_code {
                doc.push(doc_text(comment.text));
            } else {
                unattached.push(*comment);
            }
        }
    }
    unattached.extend(docs.copied());
    if let Some(diags) = diags {
        for comment in unattached {
            let error = SyntaxError::DocCommentOnNothing { span: comment.span };
            diags.push(error.to_diagnostic(()));
        }
    }
}

/// The text of a `/// line`, without the slashes and one leading space.
fn doc_text(comment: &str) -> &str {
    let text = comment.trim_start_matches('/');
    text.strip_prefix(' ').unwrap_or(text).trim_end()
}
