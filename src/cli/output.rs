//! Printing diagnostics in the chosen format.

use std::io::{IsTerminal, Write};

use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};

use super::ColorMode;
use crate::diagnostics::{self, Diagnostic, OutputFormat, Summary};
use crate::source::SourceMap;

/// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
pub fn color_choice(mode: ColorMode) -> ColorChoice {
    match mode {
        ColorMode::Always => ColorChoice::Always,
        ColorMode::Never => ColorChoice::Never,
        ColorMode::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            if no_color || !std::io::stdout().is_terminal() {
                ColorChoice::Never
            } else {
                ColorChoice::Auto
            }
        }
    }
}

/// Writes diagnostics in human or GitHub form to standard output.
pub fn print_diagnostics(
    sources: &SourceMap,
    diags: &[Diagnostic],
    format: OutputFormat,
    color: ColorChoice,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Human => {
            let mut out = StandardStream::stdout(color);
            diagnostics::render_human(sources, diags, &mut out)?;
            out.flush()
        }
        OutputFormat::Github => {
            let mut out = std::io::stdout().lock();
            out.write_all(diagnostics::render_github(sources, diags).as_bytes())?;
            out.flush()
        }
        // JSON is written by the command, as one document with its results.
        OutputFormat::Json => Ok(()),
    }
}

/// "2 errors, 1 warning" style counts.
pub fn counts(summary: Summary) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}",
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning")
    )
}
