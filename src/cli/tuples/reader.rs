//! Reading tuple files and arguments, with each problem at its line and column.

use std::io::BufRead;
use std::ops::ControlFlow;

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::cli::local::{self, Origin, Problem, Problems};
use crate::ir;
use crate::tuple::{parse_tuple_line, parse_tuple_with_spans, validate_tuple, Notation, Tuple};

/// Reads a tuple file line by line. Each tuple (or the problem with its
/// line) goes to `each`, which may stop the reading; `progress` is told
/// how many bytes were read. With a schema, tuples are validated against it.
pub fn read_tuples(
    name: &str,
    mut reader: impl BufRead,
    schema: Option<&ir::Schema>,
    mut each: impl FnMut(Result<Tuple, Problem>) -> ControlFlow<()>,
    mut progress: impl FnMut(u64),
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf)?;
        if read == 0 {
            return Ok(());
        }
        progress(read as u64);
        line += 1;
        let mut bytes = buf.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        let origin = Origin::File { name, line };
        let result = match std::str::from_utf8(bytes) {
            Ok(text) => check_line(text, origin, schema),
            Err(error) => {
                let valid = bytes.get(..error.valid_up_to()).unwrap_or_default();
                let column = String::from_utf8_lossy(valid).chars().count() + 1;
                Some(Err(
                    origin.problem(column, "the line is not valid UTF-8".to_owned())
                ))
            }
        };
        if let Some(result) = result {
            if each(result).is_break() {
                return Ok(());
            }
        }
    }
}

/// One line of a tuple file: `None` for a blank or comment line.
pub(super) fn check_line(
    text: &str,
    origin: Origin<'_>,
    schema: Option<&ir::Schema>,
) -> Option<Result<Tuple, Problem>> {
    match parse_tuple_line(text) {
        Ok(None) => None,
        Err(error) => Some(Err(origin.problem(error.column(), error.to_string()))),
        Ok(Some((tuple, spans))) => Some(match schema.map(|s| validate_tuple(s, &tuple)) {
            Some(Err(error)) => {
                Err(origin.problem(spans.of(error.part()).column, error.to_string()))
            }
            _ => Ok(tuple),
        }),
    }
}

/// The tuples of a write or delete: the arguments, or standard input for
/// `-`. Arguments that do not parse are usage errors (exit 2); lines of
/// standard input that do not parse, and tuples the schema rejects, are
/// collected in `problems`.
pub(super) fn gather(
    texts: &[String],
    schema: Option<&ir::Schema>,
    problems: &mut Problems,
) -> miette::Result<Vec<Tuple>> {
    let mut tuples = Vec::new();
    if texts.iter().any(|t| t == "-") {
        if texts.len() > 1 {
            return Err(miette!(
                "`-` (standard input) cannot be combined with tuple arguments"
            ));
        }
        let stdin = std::io::stdin();
        read_tuples(
            "<stdin>",
            stdin.lock(),
            schema,
            |result| {
                match result {
                    Ok(tuple) => tuples.push(tuple),
                    Err(problem) => problems.push(problem),
                }
                ControlFlow::Continue(())
            },
            |_| {},
        )
        .into_diagnostic()
        .wrap_err("cannot read standard input")?;
        return Ok(tuples);
    }
    for (index, text) in texts.iter().enumerate() {
        let (tuple, spans) = parse_tuple_with_spans(text)
            .map_err(|e| local::notation_error(Notation::Tuple, text, &e))?;
        if let Some(Err(error)) = schema.map(|s| validate_tuple(s, &tuple)) {
            problems.push(
                Origin::Argument(index + 1)
                    .problem(spans.of(error.part()).column, error.to_string()),
            );
        }
        tuples.push(tuple);
    }
    Ok(tuples)
}
