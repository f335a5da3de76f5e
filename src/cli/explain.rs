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

/// `docs/errors.md`: every explanation in one page (a test keeps the file in sync).
pub fn errors_md() -> String {
    let mut out = String::from(
        "# zanzi diagnostics\n\n\
         Every diagnostic zanzi reports has a stable code. `zanzi explain CODE` prints\n\
         the same text as this page. Codes starting with `E` are errors, `W` warnings.\n\
         This file is generated from `docs/codes/`; edit those files instead.\n\n",
    );
    for (code, _) in codes::ALL {
        out.push_str(&format!(
            "- [{code}](#{}): {}\n",
            code.as_str().to_lowercase(),
            code.title()
        ));
    }
    for (code, text) in codes::ALL {
        out.push_str(&format!(
            "\n<a id=\"{}\"></a>\n\n",
            code.as_str().to_lowercase()
        ));
        // Each file's `# CODE: title` becomes a second-level heading here.
        out.push('#');
        out.push_str(&text.replace("\n## ", "\n### "));
    }
    out
}
