//! Renders diagnostics for people (`human`), scripts (`json`) and CI (`github`).
//!
//! The JSON shape is versioned and documented in `docs/cli.md`; fields are
//! only ever added.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;

use super::{Applicability, Diagnostic, Edit, Severity, Summary};
use crate::source::{LineCol, SourceMap, Span};

/// How a command prints its results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Rendered diagnostics with source snippets.
    #[default]
    Human,
    /// One JSON object (stable, versioned).
    Json,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

fn to_codespan(d: &Diagnostic) -> cs::Diagnostic<crate::source::FileId> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let mut labels = vec![
        cs::Label::primary(d.primary.span.file, d.primary.span.range())
            .with_message(&d.primary.message),
    ];
    labels.extend(
        d.secondary
            .iter()
            .map(|l| cs::Label::secondary(l.span.file, l.span.range()).with_message(&l.message)),
    );
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(help) = &d.help {
        notes.push(format!("help: {}", help.text));
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// Writes every diagnostic, then a summary line, in rustc's style.
pub fn render_human(
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diagnostics {
        term::emit_to_write_style(out, &config, sources, &to_codespan(d))
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Plain human rendering into a string (no colour): used by snapshots and tests.
pub fn render_plain(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut buf = term::termcolor::NoColor::new(Vec::new());
    // Writing into memory cannot fail.
    let _ = render_human(sources, diagnostics, &mut buf);
    String::from_utf8_lossy(&buf.into_inner()).into_owned()
}

#[derive(Serialize, Debug)]
pub struct JsonLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end: LineCol,
    pub message: String,
    pub primary: bool,
}

#[derive(Serialize, Debug)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end: LineCol,
    pub labels: Vec<JsonLabel>,
    pub notes: Vec<String>,
    pub help: Option<String>,
    /// The change the help proposes, when it is a concrete one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<JsonEdit>,
}

/// A suggested replacement: the text from (`line`, `column`) to `end`
/// becomes `replacement`.
#[derive(Serialize, Debug)]
pub struct JsonEdit {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end: LineCol,
    pub replacement: String,
    pub applicability: Applicability,
}

/// The `--format json` document.
#[derive(Serialize, Debug)]
pub struct JsonReport {
    pub version: u32,
    pub diagnostics: Vec<JsonDiagnostic>,
    pub summary: Summary,
}

fn json_label(sources: &SourceMap, span: Span, message: &str, primary: bool) -> JsonLabel {
    let start = sources.line_col(span.file, span.start);
    JsonLabel {
        file: sources.name(span.file).to_owned(),
        line: start.line,
        column: start.column,
        end: sources.line_col(span.file, span.end),
        message: message.to_owned(),
        primary,
    }
}

fn json_edit(sources: &SourceMap, edit: &Edit) -> JsonEdit {
    let start = sources.line_col(edit.span.file, edit.span.start);
    JsonEdit {
        file: sources.name(edit.span.file).to_owned(),
        line: start.line,
        column: start.column,
        end: sources.line_col(edit.span.file, edit.span.end),
        replacement: edit.replacement.clone(),
        applicability: edit.applicability,
    }
}

/// Converts diagnostics to their JSON form.
pub fn render_json(sources: &SourceMap, diagnostics: &[Diagnostic]) -> JsonReport {
    let diagnostics = diagnostics
        .iter()
        .map(|d| {
            let primary = json_label(sources, d.primary.span, &d.primary.message, true);
            let mut labels = vec![];
            labels.extend(
                d.secondary
                    .iter()
                    .map(|l| json_label(sources, l.span, &l.message, false)),
            );
            JsonDiagnostic {
                code: d.code.as_str(),
                severity: d.severity.as_str(),
                message: d.message.clone(),
                file: primary.file.clone(),
                line: primary.line,
                column: primary.column,
                end: primary.end,
                labels: std::iter::once(primary).chain(labels).collect(),
                notes: d.notes.clone(),
                help: d.help.as_ref().map(|h| h.text.clone()),
                edit: d
                    .help
                    .as_ref()
                    .and_then(|h| h.edit.as_ref())
                    .map(|e| json_edit(sources, e)),
            }
        })
        .collect::<Vec<_>>();
    let summary = Summary {
        errors: diagnostics.iter().filter(|d| d.severity == "error").count(),
        warnings: diagnostics
            .iter()
            .filter(|d| d.severity == "warning")
            .count(),
    };
    JsonReport {
        version: 1,
        diagnostics,
        summary,
    }
}

/// Escapes a workflow-command value (GitHub's rules: `%`, CR, LF; and `:`/`,` in properties).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error …::message` line per diagnostic.
pub fn render_github(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let start = sources.line_col(d.primary.span.file, d.primary.span.start);
        let end = sources.line_col(d.primary.span.file, d.primary.span.end);
        let mut message = format!("{}: {}", d.message, d.primary.message);
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {}", help.text));
        }
        let mut props = format!(
            "file={},line={},col={}",
            escape_property(sources.name(d.primary.span.file)),
            start.line,
            start.column
        );
        if end.line == start.line {
            props.push_str(&format!(",endColumn={}", end.column));
        } else {
            props.push_str(&format!(",endLine={}", end.line));
        }
        out.push_str(&format!(
            "::{} {},title={}::{}\n",
            d.severity.as_str(),
            props,
            escape_property(d.code.as_str()),
            escape_data(&message)
        ));
    }
    out
}
