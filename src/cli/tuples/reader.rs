//! Reading tuple files and arguments, with each problem at its line and column.

use std::io::BufRead;
use std::ops::ControlFlow;

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::api::keto::subjects::{subject_from_keto, SubjectScope};
use crate::api::keto::wire::SubjectSet;
use crate::cli::local::{self, Origin, Problem, Problems};
use crate::ir;
use crate::tuple::foreign::{self, FileFormat, ForeignTupleError, Item, KetoTuple};
use crate::tuple::{
    parse_tuple_line, parse_tuple_with_spans, strip_comment, validate_tuple, Notation, Object,
    Tuple,
};

/// The tuple formats `zanzi tuples import` reads and `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TupleFormat {
    /// zanzi's tuple notation, one per line.
    Zanzi,
    /// SpiceDB relationship strings, one per line (`document:d#viewer@user:bob`).
    Spicedb,
    /// OpenFGA tuple files: a JSON or YAML list of `{user, relation, object}`,
    /// JSON lines (`.jsonl`) or CSV (`.csv`), chosen by the file's extension.
    Openfga,
    /// Keto's relation-tuple JSON (`keto relation-tuple create`).
    KetoJson,
}

impl TupleFormat {
    /// The file format to read `name` as: this format (OpenFGA's variant
    /// by extension), or, without one, the format the name and `head` say.
    pub fn file_format(format: Option<TupleFormat>, name: &str, head: &str) -> FileFormat {
        let detected = FileFormat::detect(name, head);
        match format {
            None => detected,
            Some(TupleFormat::Zanzi) => FileFormat::Zanzi,
            Some(TupleFormat::Spicedb) => FileFormat::SpiceDb,
            Some(TupleFormat::KetoJson) => FileFormat::KetoJson,
            Some(TupleFormat::Openfga) => match detected {
                FileFormat::OpenFgaCsv | FileFormat::OpenFgaJsonl => detected,
                _ => FileFormat::OpenFgaList,
            },
        }
    }
}

/// The 1-based line and column of byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Reads a whole document of tuples (OpenFGA's and Keto's formats), each
/// tuple or problem to `each` with its line.
fn read_document(
    name: &str,
    mut reader: impl BufRead,
    format: FileFormat,
    schema: Option<&ir::Schema>,
    mut each: impl FnMut(Result<Tuple, Problem>) -> ControlFlow<()>,
    progress: impl FnMut(u64),
) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let mut progress = progress;
    progress(bytes.len() as u64);
    let text = String::from_utf8_lossy(&bytes);
    let problem = |at: usize, message: String| {
        let (line, column) = line_col(&text, at);
        Origin::File { name, line }.problem(column, message)
    };
    let foreign_problem = |e: ForeignTupleError| problem(e.at.start, e.message);
    // Each tuple with the offset where it is written.
    let results: Vec<(usize, Result<Tuple, Problem>)> = match format {
        FileFormat::KetoJson => match foreign::parse_keto_json(&text) {
            Ok(items) => items
                .into_iter()
                .map(|item| {
                    let at = item.at.start;
                    let tuple = item
                        .value
                        .map_err(foreign_problem)
                        .and_then(|k| keto_tuple(&k, schema).map_err(|m| problem(at, m)));
                    (at, tuple)
                })
                .collect(),
            Err(e) => vec![(e.at.start, Err(foreign_problem(e)))],
        },
        _ => {
            let items: Result<Vec<Item<Tuple>>, ForeignTupleError> = match format {
                FileFormat::OpenFgaCsv => foreign::parse_openfga_csv(&text),
                FileFormat::OpenFgaJsonl => Ok(foreign::parse_openfga_jsonl(&text)),
                _ => foreign::parse_openfga_list(&text),
            };
            match items {
                Ok(items) => items
                    .into_iter()
                    .map(|item| (item.at.start, item.value.map_err(foreign_problem)))
                    .collect(),
                Err(e) => vec![(e.at.start, Err(foreign_problem(e)))],
            }
        }
    };
    for (at, result) in results {
        let result = result.and_then(|tuple| match schema.map(|s| validate_tuple(s, &tuple)) {
            Some(Err(error)) => Err(problem(at, error.to_string())),
            _ => Ok(tuple),
        });
        if each(result).is_break() {
            break;
        }
    }
    Ok(())
}

/// A Keto tuple as a zanzi tuple: a bare `subject_id` is resolved against
/// the schema as Keto's API does (see `api::keto::subjects`).
fn keto_tuple(k: &KetoTuple, schema: Option<&ir::Schema>) -> Result<Tuple, String> {
    let set = k
        .subject_set
        .as_ref()
        .map(|(namespace, object, relation)| SubjectSet {
            namespace: namespace.clone(),
            object: object.clone(),
            relation: relation.clone(),
        });
    let relation = schema.and_then(|s| {
        s.namespace_id(&k.namespace)
            .and_then(|ns| s.relation_id(ns, &k.relation))
    });
    let subject = match (schema, relation) {
        (Some(schema), Some(relation)) => subject_from_keto(
            schema,
            k.subject_id.as_deref(),
            set.as_ref(),
            SubjectScope::Stored(relation),
        )
        .map_err(|e| e.message)?,
        _ => {
            let id = k.subject_id.clone().unwrap_or_default();
            match set {
                Some(set) if set.relation.is_empty() => {
                    crate::tuple::Subject::object(set.namespace, set.object)
                }
                Some(set) => crate::tuple::Subject::set(set.namespace, set.object, set.relation),
                None => match id.split_once(':') {
                    Some((ns, "*")) => crate::tuple::Subject::wildcard(ns),
                    Some((ns, rest)) => crate::tuple::Subject::object(ns, rest),
                    None => {
                        return Err(format!(
                        "`{}#{}` is not in the schema, so the subject_id `{id}` cannot be mapped",
                        k.namespace, k.relation
                    ))
                    }
                },
            }
        }
    };
    let mut tuple = Tuple::new(
        Object::new(k.namespace.clone(), k.object.clone()),
        k.relation.clone(),
        subject,
    );
    tuple.condition = k.condition.clone().map(Box::new);
    tuple.expires_at = k.expires_at;
    tuple.check_well_formed()?;
    Ok(tuple)
}

/// One SpiceDB relationship line: `None` for a blank or comment line.
fn check_spicedb_line(
    text: &str,
    origin: Origin<'_>,
    schema: Option<&ir::Schema>,
) -> Option<Result<Tuple, Problem>> {
    let content = strip_comment(text);
    if content.trim().is_empty() {
        return None;
    }
    Some(match foreign::parse_spicedb(content) {
        Err(e) => {
            let column = content
                .get(..e.at.start)
                .map_or(1, |b| b.chars().count() + 1);
            Err(origin.problem(column, e.message))
        }
        Ok(tuple) => match schema.map(|s| validate_tuple(s, &tuple)) {
            Some(Err(error)) => Err(origin.problem(1, error.to_string())),
            _ => Ok(tuple),
        },
    })
}

/// Reads a tuple file line by line. Each tuple (or the problem with its
/// line) goes to `each`, which may stop the reading; `progress` is told
/// how many bytes were read. With a schema, tuples are validated against it.
pub fn read_tuples(
    name: &str,
    mut reader: impl BufRead,
    format: FileFormat,
    schema: Option<&ir::Schema>,
    mut each: impl FnMut(Result<Tuple, Problem>) -> ControlFlow<()>,
    mut progress: impl FnMut(u64),
) -> std::io::Result<()> {
    if !format.is_line_based() {
        return read_document(name, reader, format, schema, each, progress);
    }
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
            Ok(text) if format == FileFormat::SpiceDb => check_spicedb_line(text, origin, schema),
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
            FileFormat::Zanzi,
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
