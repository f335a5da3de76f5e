//! Placeholder until the front end lands.

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::Parsed;

/// Parses one DSL file.
pub fn parse_dsl<'src>(
    _file: FileId,
    _src: &'src str,
    _diags: &mut Vec<Diagnostic>,
) -> Parsed<'src> {
    Parsed::default()
}

/// Parses one JSON model.
pub fn parse_json<'src>(
    _file: FileId,
    _src: &'src str,
    _diags: &mut Vec<Diagnostic>,
) -> Parsed<'src> {
    Parsed::default()
}
