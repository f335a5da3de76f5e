//! Every diagnostic code, listed once, with its long explanation.
//!
//! Codes are stable and never reused. The explanation of `E0105` lives in
//! `docs/codes/E0105.md` (a title line, prose, a `Bad` and a `Fixed` example);
//! `zanzi explain E0105` prints it and `docs/errors.md` is generated from all of
//! them (a test keeps the two in sync and compiles every example).

use super::Severity;

/// A stable diagnostic code such as `E0105`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// `W…` codes are warnings; every other code is an error.
    pub fn severity(self) -> Severity {
        if self.0.starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The long explanation (Markdown), if this code is documented.
    pub fn explanation(self) -> &'static str {
        ALL.iter()
            .find(|(code, _)| *code == self)
            .map_or("", |(_, text)| text)
    }

    /// The short title from the first line of the explanation.
    pub fn title(self) -> &'static str {
        let first = self.explanation().lines().next().unwrap_or("");
        first
            .split_once(": ")
            .map_or(first, |(_, title)| title.trim())
    }

    /// Looks a code up by name, case-insensitively (`e0105` works).
    pub fn parse(name: &str) -> Option<Code> {
        ALL.iter()
            .map(|(code, _)| *code)
            .find(|code| code.0.eq_ignore_ascii_case(name.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($name:ident),* $(,)?) => {
        $(pub const $name: Code = Code(stringify!($name));)*
        /// Every code with its explanation, grouped by stage.
        pub const ALL: &[(Code, &str)] = &[
            $(($name, include_str!(concat!("../../docs/codes/", stringify!($name), ".md"))),)*
        ];
    };
}
codes! {
    E0001,
    E0002,
    E0003,
    E0004,
    E0005,
    E0006,
    E0007,
    E0008,
    W0001,
    E0101,
    E0102,
    E0103,
    E0104,
    E0105,
    E0106,
    E0107,
    E0108,
    E0109,
    W0101,
    W0102,
    E0140,
    E0141,
    E0142,
    E0143,
    E0144,
    E0145,
    E0146,
    E0147,
    E0148,
    W0140,
    W0141,
    E0201,
    E0202,
    E0203,
    W0201,
    E0204,
    E0205,
    E0301,
    E0302,
    E0401,
    E0402,
    E0501,
    E0502,
    E0503,
    E0504,
    E0505,
    E0506,
    E0601,
    E0602,
    E0603,
    W0601,
    E0630,
    E0650,
    E0651,
    E0652,
    E0653,
    E0654,
    E0655,
    E0670,
    E0671,
    E0672,
    E0673,
    E0674,
    E0675,
    E0676,
    E0677,
    E0678,
    W0670,
}

/// `docs/errors.md`: every explanation in one page (a test keeps the file in sync).
pub fn errors_md() -> String {
    let mut out = String::from(
        "# zanzi diagnostics\n\n\
         Every diagnostic zanzi reports has a stable code. `zanzi explain CODE` prints\n\
         the same text as this page. Codes starting with `E` are errors, `W` warnings.\n\
         This file is generated from `docs/codes/`; edit those files instead.\n\n",
    );
    for (code, _) in ALL {
        out.push_str(&format!(
            "- [{code}](#{}): {}\n",
            code.as_str().to_lowercase(),
            code.title()
        ));
    }
    for (code, text) in ALL {
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
