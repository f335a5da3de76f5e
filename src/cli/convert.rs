//! `zanzi convert`: a Keto, SpiceDB or OpenFGA schema as zanzi source.

use std::path::Path;
use std::process::ExitCode;

use miette::{miette, IntoDiagnostic, WrapErr};

use super::output;
use crate::diagnostics::{self, OutputFormat};
use crate::foreign::Dialect;
use crate::load::{self, convert, Limits};
use crate::source::SourceMap;

/// `--from`: the foreign language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// Ory Keto's permission language (`.ts`).
    Keto,
    /// SpiceDB's schema language (`.zed`).
    Spicedb,
    /// OpenFGA's model, DSL (`.fga`) or JSON (`.json`).
    Openfga,
}

pub fn run(
    path: &Path,
    from: Option<From>,
    out: Option<&Path>,
    format: OutputFormat,
    color: super::ColorMode,
) -> miette::Result<ExitCode> {
    let mut sources = SourceMap::new();
    let mut read_diags = Vec::new();
    let file = load::read_source(&mut sources, path, &Limits::default(), &mut read_diags)
        .into_diagnostic()?;
    let text = sources.text(file);
    let dialect = match from {
        Some(From::Keto) => Dialect::Keto,
        Some(From::Spicedb) => Dialect::SpiceDb,
        // OpenFGA's two forms: the content tells which.
        Some(From::Openfga) => match Dialect::sniff(text) {
            Some(Dialect::OpenFgaJson) => Dialect::OpenFgaJson,
            _ => Dialect::OpenFga,
        },
        None => Dialect::of_file(path, Some(text))
            .or_else(|| Dialect::sniff(text))
            .ok_or_else(|| {
                miette!(
                    "cannot tell the language of `{}`: name it with --from keto|spicedb|openfga",
                    path.display()
                )
            })?,
    };
    let conversion = convert::convert(&sources, file, dialect).into_diagnostic()?;
    let mut diags = conversion.diagnostics;
    diags.extend(read_diags);
    diagnostics::sort_and_dedup(&mut diags);
    // Diagnostics go to standard error: standard output may carry the product.
    output::diagnostics_to_stderr(&sources, &diags, format, color)?;
    let Some(source) = conversion
        .source
        .filter(|_| !diags.iter().any(|d| d.is_error()))
    else {
        return Ok(ExitCode::from(1));
    };
    match out {
        Some(path) => std::fs::write(path, source)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write `{}`", path.display()))?,
        None => output::print(&source).map_err(|e| miette!("cannot write the schema: {e}"))?,
    }
    Ok(ExitCode::SUCCESS)
}
