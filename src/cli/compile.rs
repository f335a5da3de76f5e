//! `zanzi compile`: one schema from all given files, written as IR JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use miette::{miette, IntoDiagnostic, WrapErr};

use super::output;
use crate::diagnostics::OutputFormat;
use crate::load::{self, Limits};
use crate::source::SourceMap;

pub fn run(
    paths: &[PathBuf],
    out: Option<&Path>,
    format: OutputFormat,
    color: super::ColorMode,
) -> miette::Result<ExitCode> {
    let inputs = load::discover(paths, false).into_diagnostic()?;
    let files: Vec<PathBuf> = inputs.schema_files().cloned().collect();
    let mut sources = SourceMap::new();
    let compilation =
        load::compile_files(&mut sources, &files, &Limits::default()).into_diagnostic()?;
    let (diags, schema) = (compilation.diagnostics, compilation.schema);

    // Diagnostics go to standard error: standard output may carry the product.
    output::diagnostics_to_stderr(&sources, &diags, format, color)?;
    let Some(schema) = schema else {
        return Ok(ExitCode::from(1));
    };
    let json = schema.to_json();
    match out {
        Some(path) => std::fs::write(path, json)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write `{}`", path.display()))?,
        None => output::print(&json).map_err(|e| miette!("cannot write the IR: {e}"))?,
    }
    Ok(ExitCode::SUCCESS)
}
