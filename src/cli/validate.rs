//! `zanzi validate`: check schemas (and, with the engine, validation files).

use std::path::PathBuf;
use std::process::ExitCode;

use miette::IntoDiagnostic;
use serde::Serialize;

use super::inputs;
use super::output::{self, Stream};
use crate::diagnostics::{self, Diagnostic, JsonDiagnostic, OutputFormat, Summary};
use crate::source::SourceMap;

/// One checked schema in the JSON report.
#[derive(Serialize, Debug)]
pub struct SchemaResult {
    pub files: Vec<String>,
    pub ok: bool,
    /// The IR hash when the schema compiled.
    pub hash: Option<String>,
}

/// The `--format json` document of `zanzi validate`.
#[derive(Serialize, Debug)]
pub struct ValidateReport {
    pub version: u32,
    pub ok: bool,
    pub schemas: Vec<SchemaResult>,
    pub diagnostics: Vec<JsonDiagnostic>,
    pub summary: Summary,
}

pub fn run(
    paths: &[PathBuf],
    format: OutputFormat,
    deny_warnings: bool,
    color: super::ColorMode,
) -> miette::Result<ExitCode> {
    let inputs = inputs::discover(paths, false)?;
    let mut sources = SourceMap::new();
    let mut all = Vec::new();
    let mut schemas = Vec::new();
    for files in inputs.schema_dirs.values() {
        let mut diags = Vec::new();
        let ids = files
            .iter()
            .map(|path| inputs::load(&mut sources, path, &mut diags))
            .collect::<miette::Result<Vec<_>>>()?;
        let compilation = crate::compile(&sources, &ids);
        diags.extend(compilation.diagnostics);
        diagnostics::sort_and_dedup(&mut diags);
        let ok = !diags.iter().any(Diagnostic::is_error);
        schemas.push(SchemaResult {
            files: files.iter().map(|p| inputs::display_name(p)).collect(),
            ok,
            hash: compilation.schema.map(|s| s.hash),
        });
        all.extend(diags);
    }
    let summary = Summary::of(&all);
    let failed = summary.errors > 0 || (deny_warnings && summary.warnings > 0);
    match format {
        OutputFormat::Json => {
            let report = ValidateReport {
                version: 1,
                ok: !failed,
                schemas,
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
            output::print(&format!(
                "{verdict}: {} schema{} in {files} file{}: {}\n",
                schemas.len(),
                if schemas.len() == 1 { "" } else { "s" },
                if files == 1 { "" } else { "s" },
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
