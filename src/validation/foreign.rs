//! What the runners of the peers' validation files share: which kind of
//! file a YAML document is, placing YAML nodes in the file, compiling a
//! schema written inline (with every diagnostic placed in the YAML), and
//! recording results.
//!
//! A zed validation file ([`super::zed`]) and an OpenFGA store test file
//! ([`super::fga`]) produce the same [`FileReport`] as zanzi's own
//! validation files, so `zanzi validate` prints, serializes and exits the
//! same way for all three.

use std::path::Path;

use crate::diagnostics::{self, codes, Diagnostic, Label};
use crate::foreign::Dialect;
use crate::ir::Schema;
use crate::load::{self, Compilation, Limits, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::tuple::yaml::Node;

use super::{AssertionKind, AssertionResult, FileReport};

/// Whose validation file a YAML document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// zanzi's own (docs/language.md, "Validation files").
    Zanzi,
    /// SpiceDB's `zed validate` format.
    Zed,
    /// OpenFGA's `fga model test` format.
    Fga,
}

/// Keys only a zed validation file has.
const ZED_KEYS: &[&str] = &[
    "relationships",
    "schemaFile",
    "validation",
    "namespace_configs",
    "validation_tuples",
];
/// Keys only zanzi's validation files have.
const ZANZI_KEYS: &[&str] = &["schema_file", "expected_subjects"];
/// Keys only an OpenFGA store test file has.
const FGA_KEYS: &[&str] = &["tests", "model", "model_file", "tuple_file"];

/// Tells the flavor of a validation file by its top-level keys (and
/// `assertTrue`/`assertFalse` under `assertions`); a file that is not a
/// YAML mapping is zanzi's, whose reader reports why.
pub fn flavor(root: Option<&Node>) -> Flavor {
    let Some(Node::Map(entries, _)) = root else {
        return Flavor::Zanzi;
    };
    let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
    // A key only zanzi's files have decides: the foreign keys beside it are
    // mistakes, for zanzi's reader to name.
    let zanzi_assertions = root
        .and_then(|r| r.get("assertions"))
        .is_some_and(|a| ["allowed", "denied"].iter().any(|k| a.get(k).is_some()));
    if zanzi_assertions || keys.iter().any(|k| ZANZI_KEYS.contains(k)) {
        return Flavor::Zanzi;
    }
    if keys.iter().any(|k| FGA_KEYS.contains(k)) {
        return Flavor::Fga;
    }
    let zed_assertions = root.and_then(|r| r.get("assertions")).is_some_and(|a| {
        ["assertTrue", "assertFalse", "assertCaveated"]
            .iter()
            .any(|k| a.get(k).is_some())
    });
    if zed_assertions || keys.iter().any(|k| ZED_KEYS.contains(k)) {
        return Flavor::Zed;
    }
    // A file with only a schema: its language tells.
    let schema = root.and_then(|r| r.get("schema")).and_then(Node::as_str);
    if schema.and_then(Dialect::sniff) == Some(Dialect::SpiceDb) {
        return Flavor::Zed;
    }
    Flavor::Zanzi
}

/// The state of one foreign validation file being run.
pub struct Run<'s> {
    pub sources: &'s mut SourceMap,
    pub file: FileId,
    pub text: String,
    pub report: FileReport,
}

impl<'s> Run<'s> {
    pub fn new(sources: &'s mut SourceMap, file: FileId) -> Run<'s> {
        let text = sources.text(file).to_owned();
        Run {
            sources,
            file,
            text,
            report: FileReport::default(),
        }
    }

    /// The span of a byte range of the YAML file.
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        let at = |n: usize| u32::try_from(n.min(self.text.len())).unwrap_or(u32::MAX);
        Span::new(self.file, at(range.start), at(range.end.max(range.start)))
    }

    /// Where a node stands (see [`Node::range`]).
    pub fn node_span(&self, node: &Node) -> Span {
        self.span(node.range(&self.text))
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.report.diagnostics.push(diagnostic);
    }

    /// E0670: the file's shape is not what its system reads.
    pub fn shape(&mut self, span: Span, message: impl Into<String>, label: &str) {
        self.push(Diagnostic::new(
            codes::E0670,
            message,
            Label::new(span, label),
        ));
    }

    /// W0670: a key the system ignores.
    pub fn ignored_key(&mut self, key: &Node, system: &str, keys: &[&str]) {
        let name = key.as_str().unwrap_or("");
        let span = self.node_span(key);
        let mut d = Diagnostic::new(
            codes::W0670,
            format!("`{name}` is not a key of {system}; it is ignored"),
            Label::new(span, "ignored"),
        )
        .with_note(format!("the keys are {}", keys.join(", ")));
        if let Some(best) = diagnostics::suggest::closest(name, keys.iter().copied()) {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
        self.push(d);
    }

    /// E0602: a construct zanzi will support later, reported on `span`.
    pub fn not_supported(&mut self, span: Span, what: &str) {
        self.push(
            Diagnostic::new(
                codes::E0602,
                format!("{what} is not supported yet"),
                Label::new(span, "not supported yet"),
            )
            .with_note("caveats, conditions and expiring relationships arrive with zanzi's conditions support"),
        );
    }

    /// The text of a scalar node, or E0670 saying what was expected.
    pub fn string<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        match node {
            Node::Scalar { value, .. } => Some(value),
            other => {
                let span = self.node_span(other);
                self.shape(
                    span,
                    format!("{what} must be a string, not {}", other.describe()),
                    "expected a string",
                );
                None
            }
        }
    }

    /// The items of a list node (null is the empty list), or E0670.
    pub fn list<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match node {
            Node::Seq(items, _) => items,
            n if n.is_null() => &[],
            other => {
                let span = self.node_span(other);
                self.shape(
                    span,
                    format!("{what} must be a list, not {}", other.describe()),
                    "expected a list",
                );
                &[]
            }
        }
    }

    /// The entries of a mapping node (null is the empty mapping), or E0670.
    pub fn map<'n>(&mut self, node: &'n Node, what: &str) -> &'n [(Node, Node)] {
        match node {
            Node::Map(entries, _) => entries,
            n if n.is_null() => &[],
            other => {
                let span = self.node_span(other);
                self.shape(
                    span,
                    format!("{what} must be a mapping, not {}", other.describe()),
                    "expected a mapping",
                );
                &[]
            }
        }
    }

    /// Records the result of one assertion, placed at `span`.
    pub fn result(
        &mut self,
        kind: AssertionKind,
        assertion: String,
        span: Span,
        failure: Option<&Diagnostic>,
    ) {
        let at = self.sources.line_col(span.file, span.start);
        self.report.results.push(AssertionResult {
            kind,
            assertion,
            file: self.sources.name(span.file).to_owned(),
            line: at.line,
            column: at.column,
            passed: failure.is_none(),
            message: failure.map(|d| d.message.clone()),
            explanation: failure.and_then(|d| d.notes.first().cloned()),
        });
    }

    /// Where each of `lines` (of a scalar that starts at `from`) stands in
    /// the file: each is searched for after the previous one; a blank line,
    /// or one not found, stands where the search is.
    pub fn places<'l>(&self, from: usize, lines: impl Iterator<Item = &'l str>) -> Vec<usize> {
        let mut cursor = from.min(self.text.len());
        lines
            .map(|line| {
                let needle = line.trim();
                if needle.is_empty() {
                    return cursor;
                }
                match self.text.get(cursor..).and_then(|t| t.find(needle)) {
                    Some(i) => {
                        let start = cursor + i;
                        cursor = start + needle.len();
                        start - (line.len() - line.trim_start().len()).min(start)
                    }
                    None => cursor,
                }
            })
            .collect()
    }

    /// The schema a foreign validation file gives: `inline` in the YAML, or
    /// the file `file` names relative to `dir` (`file_key` is that key, for
    /// messages); neither is the problem `missing` (message, label).
    pub fn schema_of(
        &mut self,
        inline: Option<&Node>,
        file: Option<&Node>,
        dialect: Dialect,
        dir: &Path,
        file_key: &str,
        missing: (&str, &str),
    ) -> Option<Schema> {
        match (inline.filter(|n| !n.is_null()), file) {
            (Some(node), _) => self.compile_inline(node, dialect),
            (None, Some(node)) => {
                let path = self.string(node, &format!("`{file_key}`"))?;
                let span = self.node_span(node);
                self.compile_file(dir, path, span)
            }
            (None, None) => {
                let span = self.span(0..0);
                self.shape(span, missing.0, missing.1);
                None
            }
        }
    }

    /// Compiles a schema written inline in the YAML (`schema: |`, `model:
    /// |`) as `dialect`. The YAML took its indentation away, so the text is
    /// compiled as it is and every diagnostic is moved back onto the YAML
    /// line and column it came from.
    pub fn compile_inline(&mut self, node: &Node, dialect: Dialect) -> Option<Schema> {
        let Node::Scalar { value, .. } = node else {
            self.string(node, "the schema");
            return None;
        };
        let name = format!("{}#schema", self.sources.name(self.file));
        let id = self.sources.add(name, value.clone());
        let compiled = load::compile_as(self.sources, &[id], Some(dialect));
        // Where each line of the schema starts in the YAML file: found by
        // searching forward, which holds for literal and folded blocks and
        // for plain and quoted scalars alike.
        let starts = self.places(node.at(), value.lines());
        let schema_lines: Vec<usize> = std::iter::once(0)
            .chain(value.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let file = self.file;
        let limit = self.text.len();
        let map = |offset: u32| -> u32 {
            let offset = offset as usize;
            let line = schema_lines
                .partition_point(|&s| s <= offset)
                .saturating_sub(1);
            let column = offset - schema_lines.get(line).copied().unwrap_or(0);
            let base = starts.get(line).or(starts.last()).copied().unwrap_or(0);
            u32::try_from((base + column).min(limit)).unwrap_or(u32::MAX)
        };
        let move_span = |span: &mut Span| {
            if span.file == id {
                *span = Span::new(file, map(span.start), map(span.end).max(map(span.start)));
            }
        };
        let failed = compiled.has_errors();
        for mut d in compiled.diagnostics {
            move_span(&mut d.primary.span);
            for label in &mut d.secondary {
                move_span(&mut label.span);
            }
            if let Some(edit) = d.help.as_mut().and_then(|h| h.edit.as_mut()) {
                move_span(&mut edit.span);
            }
            self.push(d);
        }
        if failed {
            return None;
        }
        compiled.schema
    }

    /// Compiles the schema file `relative` names (relative to `dir`).
    pub fn compile_file(&mut self, dir: &Path, relative: &str, named_at: Span) -> Option<Schema> {
        let path = dir.join(relative);
        match load::load_schema_into(self.sources, &path, &Limits::default()) {
            Ok(Compilation {
                diagnostics,
                schema,
            }) => {
                let failed = diagnostics.iter().any(Diagnostic::is_error);
                self.report.diagnostics.extend(diagnostics);
                schema.filter(|_| !failed)
            }
            Err(err) => {
                let reason = match &err {
                    LoadError::Read { source, .. } => source.to_string(),
                    other => other.with_cause(),
                };
                self.shape(
                    named_at,
                    format!(
                        "cannot read the schema file `{}`: {reason}",
                        load::display_name(&path)
                    ),
                    "named here",
                );
                None
            }
        }
    }
}
