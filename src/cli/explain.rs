//! `zanzi explain`: the long explanation of a diagnostic code.

use std::process::ExitCode;

use miette::{miette, IntoDiagnostic};

use crate::diagnostics::codes::{self, Code};

pub fn run(code: Option<&str>, list: bool) -> miette::Result<ExitCode> {
    if list {
        let list: String = codes::ALL
            .iter()
            .map(|(code, _)| format!("{code}  {}\n", code.title()))
            .collect();
        super::output::print(&list).into_diagnostic()?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = code.unwrap_or_default();
    let Some(code) = Code::parse(name) else {
        return Err(miette!(
            help = "`zanzi explain --list` lists every code",
            "unknown diagnostic code `{name}`"
        ));
    };
    super::output::print(code.explanation()).into_diagnostic()?;
    Ok(ExitCode::SUCCESS)
}
