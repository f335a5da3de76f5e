//! `zanzi validate`: check schemas (and, with the engine, validation files).

use std::path::PathBuf;
use std::process::ExitCode;

use miette::IntoDiagnostic;
use serde::Serialize;

use super::output::{self, Stream};
use crate::diagnostics::{self, Diagnostic, JsonDiagnostic, OutputFormat, Summary};
use crate::load::{self, display_name, Limits};
use crate::source::SourceMap;
use crate::validation::{self, AssertionResult};

/// One checked schema in the JSON report.
#[derive(Serialize, Debug)]
pub struct SchemaResult {
    pub files: Vec<String>,
    pub ok: bool,
    /// The IR hash when the schema compiled.
    pub hash: Option<String>,
}

/// One checked validation file in the JSON report.
#[derive(Serialize, Debug)]
pub struct ValidationFileResult {
    pub file: String,
    pub ok: bool,
    /// The hash of the schema it validated, when that schema compiled.
    pub schema_hash: Option<String>,
}

/// The `--format json` document of `zanzi validate`.
#[derive(Serialize, Debug)]
pub struct ValidateReport {
    pub version: u32,
    pub ok: bool,
    pub schemas: Vec<SchemaResult>,
    pub validation_files: Vec<ValidationFileResult>,
    /// One result per assertion of every validation file, passing or not.
    pub assertions: Vec<AssertionResult>,
    pub diagnostics: Vec<JsonDiagnostic>,
    pub summary: Summary,
}

pub fn run(
    paths: &[PathBuf],
    format: OutputFormat,
    deny_warnings: bool,
    color: super::ColorMode,
) -> miette::Result<ExitCode> {
    let inputs = load::discover(paths, true).into_diagnostic()?;
    let limits = Limits::default();
    let mut sources = SourceMap::new();
    let mut all = Vec::new();
    let mut schemas = Vec::new();
    for files in inputs.schema_dirs.values() {
        let compilation = load::compile_files(&mut sources, files, &limits).into_diagnostic()?;
        let diags = compilation.diagnostics;
        let ok = !diags.iter().any(Diagnostic::is_error);
        schemas.push(SchemaResult {
            files: files.iter().map(|p| display_name(p)).collect(),
            ok,
            hash: compilation.schema.map(|s| s.hash),
        });
        all.extend(diags);
    }
    let mut validation_files = Vec::new();
    let mut assertions = Vec::new();
    for path in &inputs.validation_files {
        let mut diags = Vec::new();
        let id = load::read_source(&mut sources, path, &limits, &mut diags).into_diagnostic()?;
        let dir = path.parent().unwrap_or(std::path::Path::new(""));
        if diags.is_empty() {
            let outcome = validation::run(&mut sources, id, dir);
            diags.extend(outcome.diagnostics);
            assertions.extend(outcome.results);
            validation_files.push(ValidationFileResult {
                file: display_name(path),
                ok: !diags.iter().any(Diagnostic::is_error),
                schema_hash: outcome.schema_hash,
            });
        } else {
            validation_files.push(ValidationFileResult {
                file: display_name(path),
                ok: false,
                schema_hash: None,
            });
        }
        diagnostics::sort_and_dedup(&mut diags);
        all.extend(diags);
    }
    // A schema file both named (or found) and used by a validation file is
    // read twice, under two file ids: its problems are reported once.
    let mut seen = std::collections::HashSet::new();
    all.retain(|d| {
        let at = d.primary.span;
        seen.insert((
            sources.name(at.file).to_owned(),
            at.start,
            at.end,
            d.code,
            d.message.clone(),
        ))
    });
    let summary = Summary::of(&all);
    let failed = summary.errors > 0 || (deny_warnings && summary.warnings > 0);
    match format {
        OutputFormat::Json => {
            let report = ValidateReport {
                version: 1,
                ok: !failed,
                schemas,
                validation_files,
                assertions,
                diagnostics: diagnostics::render_json(&sources, &all).diagnostics,
                summary,
            };
            let json = serde_json::to_string_pretty(&report).into_diagnostic()?;
            output::print(&format!("{json}\n")).into_diagnostic()?;
        }
        OutputFormat::Human => {
            output::print_diagnostics(&sources, &all, format, color, Stream::Stdout)
                .into_diagnostic()?;
            let files: usize = schemas.iter().map(|s| s.files.len()).sum();
            let verdict = if failed { "failed" } else { "ok" };
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            let mut parts = Vec::new();
            if !schemas.is_empty() {
                parts.push(format!(
                    "{} in {}",
                    plural(schemas.len(), "schema"),
                    plural(files, "file")
                ));
            }
            if !validation_files.is_empty() {
                let passed = assertions.iter().filter(|a| a.passed).count();
                parts.push(format!(
                    "{} with {} of {} passing",
                    plural(validation_files.len(), "validation file"),
                    passed,
                    plural(assertions.len(), "assertion")
                ));
            }
            output::print(&format!(
                "{verdict}: {}: {}\n",
                parts.join(", "),
                output::counts(summary)
            ))
            .into_diagnostic()?;
        }
        OutputFormat::Github => {
            output::print_diagnostics(&sources, &all, format, color, Stream::Stdout)
                .into_diagnostic()?;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
