//! Printing: diagnostics in the chosen format, colour decided per stream,
//! and a closed pipe (`zanzi … | head`) treated as the reader being done.

use std::io::{IsTerminal, Write};

use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};

use super::ColorMode;
use crate::diagnostics::{self, Diagnostic, OutputFormat, Summary};
use crate::source::SourceMap;

/// Where a piece of output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Colour only when that stream is a terminal and NO_COLOR is not set
/// (https://no-color.org), unless asked for explicitly.
pub fn color_choice(mode: ColorMode, stream: Stream) -> ColorChoice {
    match mode {
        ColorMode::Always => ColorChoice::Always,
        ColorMode::Never => ColorChoice::Never,
        ColorMode::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let terminal = match stream {
                Stream::Stdout => std::io::stdout().is_terminal(),
                Stream::Stderr => std::io::stderr().is_terminal(),
            };
            if no_color || !terminal {
                ColorChoice::Never
            } else {
                ColorChoice::Auto
            }
        }
    }
}

/// A closed pipe means the reader has seen enough; it is not an error.
fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes text to standard output.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    ignore_broken_pipe(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Writes diagnostics in human or GitHub form.
/// Diagnostics for people on standard error: what a command that is not
/// about diagnostics prints when its input has errors.
pub fn report_to_stderr(
    sources: &SourceMap,
    diags: &[Diagnostic],
    mode: ColorMode,
) -> miette::Result<()> {
    use miette::IntoDiagnostic;
    print_diagnostics(sources, diags, OutputFormat::Human, mode, Stream::Stderr).into_diagnostic()
}

/// The diagnostics of a command whose standard output carries its product
/// (IR, converted source): on standard error, in the asked format, with the
/// counts after human output.
pub fn diagnostics_to_stderr(
    sources: &SourceMap,
    diags: &[Diagnostic],
    format: OutputFormat,
    mode: ColorMode,
) -> miette::Result<()> {
    use miette::IntoDiagnostic;
    if format == OutputFormat::Json {
        let report = diagnostics::render_json(sources, diags);
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&report).into_diagnostic()?
        );
    } else if !diags.is_empty() {
        print_diagnostics(sources, diags, format, mode, Stream::Stderr).into_diagnostic()?;
        if format == OutputFormat::Human {
            eprintln!("{}", counts(diagnostics::Summary::of(diags)));
        }
    }
    Ok(())
}

pub fn print_diagnostics(
    sources: &SourceMap,
    diags: &[Diagnostic],
    format: OutputFormat,
    mode: ColorMode,
    stream: Stream,
) -> std::io::Result<()> {
    let result = match format {
        OutputFormat::Human => {
            let color = color_choice(mode, stream);
            let mut out = match stream {
                Stream::Stdout => StandardStream::stdout(color),
                Stream::Stderr => StandardStream::stderr(color),
            };
            diagnostics::render_human(sources, diags, &mut out).and_then(|()| out.flush())
        }
        OutputFormat::Github => {
            let text = diagnostics::render_github(sources, diags);
            match stream {
                Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
                Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
            }
        }
        // JSON is written by the command, as one document with its results.
        OutputFormat::Json => Ok(()),
    };
    ignore_broken_pipe(result)
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

/// Sets up how errors are reported: colour as for diagnostics, and long
/// lines wrapped only on a terminal, so that logs and scripts see each
/// message on one line.
pub fn install_error_reporter(mode: ColorMode) {
    let color = color_choice(mode, Stream::Stderr) != ColorChoice::Never;
    let terminal = std::io::stderr().is_terminal();
    // Fails only when a reporter is already installed; keep that one.
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .wrap_lines(terminal)
                .build(),
        )
    }));
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
