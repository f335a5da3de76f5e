//! `zanzi fmt`: rewrite schema files in the canonical style.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use miette::{IntoDiagnostic, WrapErr};

use super::output;
use crate::diagnostics;
use crate::foreign::Dialect;
use crate::load::{self, Limits};
use crate::source::SourceMap;

/// Formats a source text; `Err` carries the syntax diagnostics that prevent it.
pub fn format_source(
    sources: &SourceMap,
    file: crate::source::FileId,
) -> Result<String, Vec<diagnostics::Diagnostic>> {
    let text = sources.text(file);
    let mut diags = Vec::new();
    let parsed = crate::syntax::parse(file, text, &mut diags);
    diags.retain(|d| d.is_error());
    if diags.is_empty() {
        Ok(crate::syntax::fmt::format(&parsed, text))
    } else {
        Err(diags)
    }
}

pub fn run(paths: &[PathBuf], check: bool, color: super::ColorMode) -> miette::Result<ExitCode> {
    if paths.len() == 1 && paths.first().is_some_and(|p| p == Path::new("-")) {
        return stdin_to_stdout(color);
    }
    let inputs = load::discover(paths, false).into_diagnostic()?;
    let mut sources = SourceMap::new();
    let mut unformatted = 0usize;
    let mut broken = 0usize;
    let mut foreign = 0usize;
    for path in inputs.schema_files() {
        // Another system's schema is that system's to format: found in a
        // directory it is passed over, named on its own it is refused.
        let dialect = Dialect::of_file(path, None);
        let module_list = path.file_name() == Some("fga.mod".as_ref());
        if dialect.is_some() || module_list {
            if paths.contains(path) {
                let hint = match dialect {
                    Some(d) => format!(
                        "({}); `zanzi convert {} -o {}` writes it as zanzi",
                        d.title(),
                        path.display(),
                        path.with_extension("zanzi").display()
                    ),
                    None => "(OpenFGA's list of modules)".to_owned(),
                };
                eprintln!(
                    "error: `{}` is not zanzi source {hint}; `zanzi fmt` formats zanzi source only",
                    path.display()
                );
                foreign += 1;
            }
            continue;
        }
        let mut diags = Vec::new();
        let file = load::read_source(&mut sources, path, &Limits::default(), &mut diags)
            .into_diagnostic()?;
        let formatted = match format_source(&sources, file) {
            Ok(text) if diags.is_empty() => text,
            Ok(_) | Err(_) => {
                diags.extend(format_source(&sources, file).err().unwrap_or_default());
                output::report_to_stderr(&sources, &diags, color)?;
                broken += 1;
                continue;
            }
        };
        let original = sources.text(file);
        if formatted == original {
            continue;
        }
        unformatted += 1;
        if check {
            let name = load::display_name(path);
            let diff = similar::TextDiff::from_lines(original, formatted.as_str());
            let diff = diff
                .unified_diff()
                .context_radius(3)
                .header(&name, &format!("{name} (formatted)"))
                .to_string();
            output::print(&diff).into_diagnostic()?;
        } else {
            std::fs::write(path, &formatted)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot write `{}`", path.display()))?;
        }
    }
    if foreign > 0 {
        return Ok(ExitCode::from(2));
    }
    if broken > 0 {
        eprintln!("{broken} file(s) not formatted: fix the syntax errors first");
        return Ok(ExitCode::from(1));
    }
    if check && unformatted > 0 {
        eprintln!("{unformatted} file(s) would be reformatted; run `zanzi fmt` to fix");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn stdin_to_stdout(color: super::ColorMode) -> miette::Result<ExitCode> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .into_diagnostic()
        .wrap_err("cannot read standard input")?;
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let file = load::add_source_bytes(&mut sources, "<stdin>".into(), bytes, &mut diags);
    match format_source(&sources, file) {
        Ok(text) if diags.is_empty() => {
            output::print(&text).into_diagnostic()?;
            Ok(ExitCode::SUCCESS)
        }
        result => {
            diags.extend(result.err().unwrap_or_default());
            output::report_to_stderr(&sources, &diags, color)?;
            Ok(ExitCode::from(1))
        }
    }
}
