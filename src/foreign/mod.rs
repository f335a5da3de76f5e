//! Foreign front ends: the schema languages of Ory Keto (OPL, a TypeScript
//! subset), SpiceDB (`.zed`) and OpenFGA (DSL 1.1 and its JSON model), each
//! read into zanzi's syntax tree so that zanzi's own analysis checks them.
//!
//! A foreign file means what it means in its own system: names are kept as
//! that system stores them (verbatim [`crate::syntax::ast::Ident`]s, so Keto's `File` and
//! SpiceDB's `example/user` name the namespaces existing tuples use), and
//! operator precedence is that system's, made explicit with parentheses
//! (with warning W0601 where zanzi would ask for them). Spans point into the
//! foreign file, so every diagnostic, zanzi's own included, shows its line
//! and column there.

pub mod keto;
pub mod openfga;
pub mod spicedb;

use std::path::Path;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::Parsed;

/// A foreign schema language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Ory Keto's Ory Permission Language (`.ts`).
    Keto,
    /// SpiceDB's schema language (`.zed`).
    SpiceDb,
    /// OpenFGA's DSL, schema 1.1 (`.fga`).
    OpenFga,
    /// OpenFGA's JSON authorization model (`.json`).
    OpenFgaJson,
}

impl Dialect {
    /// Every dialect, for help texts.
    pub const ALL: [Dialect; 4] = [
        Dialect::Keto,
        Dialect::SpiceDb,
        Dialect::OpenFga,
        Dialect::OpenFgaJson,
    ];

    /// The name users pass to `--from`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Keto => "keto",
            Dialect::SpiceDb => "spicedb",
            Dialect::OpenFga => "openfga",
            Dialect::OpenFgaJson => "openfga-json",
        }
    }

    /// What users call the language, for messages.
    pub fn title(self) -> &'static str {
        match self {
            Dialect::Keto => "Ory Permission Language",
            Dialect::SpiceDb => "SpiceDB schema",
            Dialect::OpenFga => "OpenFGA model",
            Dialect::OpenFgaJson => "OpenFGA JSON model",
        }
    }

    /// Parses a `--from` value (`openfga` also takes JSON models: the
    /// content decides).
    pub fn from_name(name: &str) -> Option<Dialect> {
        Some(match name.to_ascii_lowercase().as_str() {
            "keto" | "opl" => Dialect::Keto,
            "spicedb" | "zed" => Dialect::SpiceDb,
            "openfga" | "fga" => Dialect::OpenFga,
            "openfga-json" => Dialect::OpenFgaJson,
            _ => return None,
        })
    }

    /// The dialect of a schema file by its name, `None` for zanzi source
    /// and compiled IR. A `.json` file is an OpenFGA model when its text
    /// says so (`type_definitions`); otherwise it is compiled IR.
    pub fn of_file(path: &Path, text: Option<&str>) -> Option<Dialect> {
        let name = path.file_name()?.to_str()?;
        let extension = path.extension().and_then(|e| e.to_str())?;
        match extension {
            "ts" => Some(Dialect::Keto),
            "zed" => Some(Dialect::SpiceDb),
            "fga" => Some(Dialect::OpenFga),
            "json" if text.is_some_and(is_openfga_json) => Some(Dialect::OpenFgaJson),
            _ if name.ends_with(".keto.ts") => Some(Dialect::Keto),
            _ => None,
        }
    }

    /// Guesses the dialect of a text with no telling file name.
    pub fn sniff(text: &str) -> Option<Dialect> {
        let code = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        if is_openfga_json(&code) {
            Some(Dialect::OpenFgaJson)
        } else if code.starts_with("model") || code.contains("\ntype ") {
            Some(Dialect::OpenFga)
        } else if code.contains("implements Namespace") {
            Some(Dialect::Keto)
        } else if code.contains("definition ") {
            Some(Dialect::SpiceDb)
        } else {
            None
        }
    }
}

/// Whether a JSON text is an OpenFGA authorization model.
fn is_openfga_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && (text.contains("\"type_definitions\"") || text.contains("\"schema_version\""))
}

/// Lexes and parses one foreign file into zanzi's syntax tree. Like
/// [`crate::syntax::parse`] it never fails: it returns what it could build
/// and reports every problem.
pub fn parse<'src>(
    dialect: Dialect,
    file: FileId,
    src: &'src str,
    diags: &mut Vec<Diagnostic>,
) -> Parsed<'src> {
    match dialect {
        Dialect::Keto => keto::parse(file, src, diags),
        Dialect::SpiceDb => spicedb::parse(file, src, diags),
        Dialect::OpenFga => openfga::parse_dsl(file, src, diags),
        Dialect::OpenFgaJson => openfga::parse_json(file, src, diags),
    }
}
