//! Validation files (docs/language.md, "Validation files"): a schema, tuples and assertions about
//! them, checked in one go by `zanzi validate`.
//!
//! Every problem is a [`Diagnostic`] pointing into the YAML file (or into
//! the schema or tuple file it names), so validation results render, and
//! serialize, exactly like schema diagnostics. Every assertion also gets an
//! [`AssertionResult`], passing or not, for the JSON report.

mod errors;
pub mod file;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::diagnostics::{codes, Diagnostic, Label, ToDiagnostic};
use crate::engine::Engine;
use crate::ir::Schema;
use crate::load::{self, Limits, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::store::{MemoryStore, TupleStore};
use crate::tuple::{self, Notation, NotationSite, Subject, Tuple, TupleError, TupleSite};

pub use errors::ValidationError;
pub use file::{Located, SchemaSource, ValidationFile};

/// What kind of assertion a result is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssertionKind {
    Allowed,
    Denied,
    ExpectedSubjects,
}

/// The outcome of one assertion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssertionResult {
    pub kind: AssertionKind,
    /// The assertion as written (`document:readme#view@user:alice`, or
    /// `document:readme#view` for expected subjects).
    pub assertion: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub passed: bool,
    /// Why it failed (absent when it passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For a failed check: the derivation that grants access, or why every
    /// branch failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// Everything one validation file produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub results: Vec<AssertionResult>,
    /// The compiled schema's hash, when it compiled.
    pub schema_hash: Option<String>,
}

/// Checks a validation file already added to `sources`; files it names are
/// read relative to `dir` and added to `sources` too.
pub fn run(sources: &mut SourceMap, file: FileId, dir: &Path) -> Outcome {
    let mut outcome = Outcome::default();
    let loaded = match load(sources, file, dir) {
        Ok(loaded) => loaded,
        Err((diags, schema_hash)) => {
            outcome.diagnostics = diags;
            outcome.schema_hash = schema_hash;
            return outcome;
        }
    };
    outcome.schema_hash = Some(loaded.schema.hash.clone());
    let engine = Engine::new(&loaded.schema, &loaded.store);
    let mut checker = Checker {
        sources,
        engine,
        at: loaded.at,
        outcome: &mut outcome,
    };
    for assertion in &loaded.file.allowed {
        checker.assertion(assertion, AssertionKind::Allowed);
    }
    for assertion in &loaded.file.denied {
        checker.assertion(assertion, AssertionKind::Denied);
    }
    for (target, subjects) in &loaded.file.expected_subjects {
        checker.expected_subjects(target, subjects);
    }
    outcome
}

/// A validation file with its schema compiled and its tuples stored.
#[derive(Debug)]
pub struct Loaded {
    pub file: ValidationFile,
    pub schema: Schema,
    pub store: MemoryStore,
    /// The revision that holds every tuple of the file.
    pub at: crate::store::Revision,
}

/// Reads a validation file, compiles its schema and stores its tuples in
/// memory. On failure: the diagnostics, and the schema hash if it compiled.
pub fn load(
    sources: &mut SourceMap,
    file: FileId,
    dir: &Path,
) -> Result<Loaded, (Vec<Diagnostic>, Option<String>)> {
    let parsed = file::read(sources, file, dir).map_err(|d| (d, None))?;
    let mut diags = Vec::new();
    let Some(schema) = load_schema(sources, file, &parsed.schema, &mut diags) else {
        return Err((diags, None));
    };
    let Some(tuples) = load_tuples(sources, &parsed, &schema, &mut diags) else {
        return Err((diags, Some(schema.hash)));
    };
    let store = MemoryStore::new();
    match store.write(&tuples, &[]) {
        Ok(at) => Ok(Loaded {
            file: parsed,
            schema,
            store,
            at,
        }),
        Err(err) => {
            diags.push(Diagnostic::new(
                codes::E0402,
                format!("the tuples could not be stored: {err}"),
                Label::new(Span::new(file, 0, 0), "while loading this file"),
            ));
            Err((diags, Some(schema.hash)))
        }
    }
}

/// Compiles the schema a validation file names (or holds inline).
fn load_schema(
    sources: &mut SourceMap,
    yaml: FileId,
    source: &SchemaSource,
    diags: &mut Vec<Diagnostic>,
) -> Option<Schema> {
    let compiled = match source {
        SchemaSource::File { path, span } => {
            match load::load_schema_into(sources, path, &Limits::default()) {
                Ok(compiled) => compiled,
                Err(err) => {
                    let reason = match &err {
                        LoadError::Read { source, .. } => source.to_string(),
                        other => other.with_cause(),
                    };
                    diags.push(
                        Diagnostic::new(
                            codes::E0501,
                            format!("cannot read schema file `{}`: {reason}", path.display()),
                            Label::new(*span, "named here"),
                        )
                        .with_note(
                            "paths in a validation file are relative to the file's directory",
                        ),
                    );
                    return None;
                }
            }
        }
        SchemaSource::Inline { text, span } => {
            // The schema keeps its lines and columns inside the YAML file:
            // every other line is blanked, so diagnostics point into the YAML.
            let yaml = sources.text(yaml);
            let first_line = sources.line_col(span.file, span.start).line;
            let count = text.lines().count();
            let mut shadow = String::with_capacity(yaml.len());
            for (i, line) in yaml.split_inclusive('\n').enumerate() {
                let inside = i + 1 >= first_line && i + 1 < first_line + count;
                if inside {
                    shadow.push_str(line);
                } else if line.ends_with('\n') {
                    shadow.push('\n');
                }
            }
            let name = sources.name(span.file).to_owned();
            let id = sources.add(name, shadow);
            load::compile(sources, &[id])
        }
    };
    let failed = compiled.has_errors();
    diags.extend(compiled.diagnostics);
    if failed {
        return None;
    }
    compiled.schema
}

/// Parses and validates every tuple, inline and from tuple files.
fn load_tuples(
    sources: &mut SourceMap,
    parsed: &ValidationFile,
    schema: &Schema,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<Tuple>> {
    let mut tuples = Vec::new();
    let before = diags.len();
    for line in &parsed.tuples {
        match tuple::parse_tuple_with_spans(&line.text) {
            Ok((t, spans)) => {
                if let Err(err) = tuple::validate_tuple(schema, &t) {
                    let site = TupleSite {
                        span: line.span,
                        parts: (sources.slice(line.span) == line.text).then_some(spans),
                    };
                    diags.push(err.to_diagnostic(site));
                } else {
                    tuples.push(t);
                }
            }
            Err(err) => diags.push(bad_notation(line, Notation::Tuple, &err, sources)),
        }
    }
    for (path, named_at) in &parsed.tuple_files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                diags.push(Diagnostic::new(
                    codes::E0501,
                    format!("cannot read tuple file `{}`: {err}", path.display()),
                    Label::new(*named_at, "named here"),
                ));
                continue;
            }
        };
        let id = sources.add(path.to_string_lossy().replace('\\', "/"), text);
        let text = sources.text(id).to_owned();
        match tuple::parse_tuple_file(&text) {
            Ok(lines) => {
                for (line, t) in lines {
                    if let Err(err) = tuple::validate_tuple(schema, &t) {
                        let site = TupleSite {
                            span: line_span(sources, id, line),
                            parts: None,
                        };
                        diags.push(err.to_diagnostic(site));
                    } else {
                        tuples.push(t);
                    }
                }
            }
            Err(errors) => {
                for e in errors {
                    let tuple_text = text.get(e.tuple.clone()).unwrap_or_default();
                    let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                    let site = NotationSite {
                        what: Notation::Tuple,
                        text: tuple_text,
                        span: Span::new(id, at(e.tuple.start), at(e.tuple.end)),
                        offsets_from: Some(0),
                    };
                    diags.push(e.error.to_diagnostic(site));
                }
            }
        }
    }
    (diags.len() == before).then_some(tuples)
}

/// The span of 1-based `line` of `file`, without its line break and
/// trailing blanks.
fn line_span(sources: &SourceMap, file: FileId, line: usize) -> Span {
    let text = sources.text(file);
    let start_of_line: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = text
        .get(start_of_line..)
        .and_then(|t| t.lines().next())
        .unwrap_or("");
    let to = |n: usize| u32::try_from(start_of_line + n).unwrap_or(u32::MAX);
    Span::new(file, to(0), to(line_text.trim_end().len()))
}

/// E0401 for a text of a validation file that is not in the tuple notation.
fn bad_notation(
    located: &Located,
    what: Notation,
    error: &TupleError,
    sources: &SourceMap,
) -> Diagnostic {
    let verbatim = sources.slice(located.span) == located.text;
    error.to_diagnostic(NotationSite {
        what,
        text: &located.text,
        span: located.span,
        offsets_from: verbatim.then_some(located.span.start),
    })
}

struct Checker<'s, 'e> {
    sources: &'s SourceMap,
    engine: Engine<'e>,
    at: crate::store::Revision,
    outcome: &'s mut Outcome,
}

impl Checker<'_, '_> {
    fn result(
        &mut self,
        kind: AssertionKind,
        located: &Located,
        passed: bool,
        message: Option<String>,
        explanation: Option<String>,
    ) {
        let at = self.sources.line_col(located.span.file, located.span.start);
        self.outcome.results.push(AssertionResult {
            kind,
            assertion: located.text.clone(),
            file: self.sources.name(located.span.file).to_owned(),
            line: at.line,
            column: at.column,
            passed,
            message,
            explanation,
        });
    }

    fn assertion(&mut self, located: &Located, kind: AssertionKind) {
        let question: Tuple = match located.text.parse() {
            Ok(t) => t,
            Err(err) => {
                let d = bad_notation(located, Notation::Check, &err, self.sources);
                self.result(kind, located, false, Some(d.message.clone()), None);
                self.outcome.diagnostics.push(d);
                return;
            }
        };
        // Most assertions pass: a plain check answers them; the (slower)
        // explanation is only built for the ones that fail.
        let want = kind == AssertionKind::Allowed;
        let checked = self.engine.check(
            &question.object,
            &question.relation,
            &question.subject,
            self.at,
        );
        if matches!(checked, Ok(allowed) if allowed == want) {
            self.result(kind, located, true, None, None);
            return;
        }
        let explained = self.engine.explain(
            &question.object,
            &question.relation,
            &question.subject,
            self.at,
        );
        let explanation = match explained {
            Ok(explanation) => explanation,
            Err(err) => {
                let message = format!("`{}` could not be answered: {err}", located.text);
                self.outcome.diagnostics.push(
                    Diagnostic::new(
                        codes::E0505,
                        message.clone(),
                        Label::new(located.span, "this assertion"),
                    )
                    .with_help(
                        "assertions name relations or permissions of the object's namespace",
                    ),
                );
                self.result(kind, located, false, Some(message), None);
                return;
            }
        };
        if let Some(err) = &explanation.error {
            let message = format!("`{}` could not be answered: {err}", located.text);
            self.outcome.diagnostics.push(
                Diagnostic::new(
                    codes::E0505,
                    message.clone(),
                    Label::new(located.span, "this assertion"),
                )
                .with_note(explanation.render()),
            );
            self.result(
                kind,
                located,
                false,
                Some(message),
                Some(explanation.render()),
            );
            return;
        }
        let allowed = matches!(explanation.outcome, crate::engine::Outcome::Granted);
        let rendered = explanation.render();
        if allowed == want {
            self.result(kind, located, true, None, Some(rendered));
            return;
        }
        let (code, message, label) = if want {
            (
                codes::E0502,
                format!("assertion failed: `{}` is denied", located.text),
                "expected to be allowed",
            )
        } else {
            (
                codes::E0503,
                format!("assertion failed: `{}` is allowed", located.text),
                "expected to be denied",
            )
        };
        self.outcome.diagnostics.push(
            Diagnostic::new(code, message.clone(), Label::new(located.span, label))
                .with_note(rendered.clone()),
        );
        self.result(kind, located, false, Some(message), Some(rendered));
    }

    fn expected_subjects(&mut self, target: &Located, subjects: &[Located]) {
        let kind = AssertionKind::ExpectedSubjects;
        let (object, relation) = match tuple::parse_object_relation(&target.text) {
            Ok(parts) => parts,
            Err(err) => {
                let d = bad_notation(target, Notation::Userset, &err, self.sources);
                self.result(kind, target, false, Some(d.message.clone()), None);
                self.outcome.diagnostics.push(d);
                return;
            }
        };
        let mut expected = BTreeSet::new();
        for s in subjects {
            match s.text.parse::<Subject>() {
                Ok(Subject::Set { .. }) => {
                    let d = Diagnostic::new(
                        codes::E0501,
                        format!("`{}` is a subject set; expected subjects are object subjects (`ns:id`) or wildcards (`ns:*`)", s.text),
                        Label::new(s.span, "not an object subject"),
                    );
                    self.result(kind, target, false, Some(d.message.clone()), None);
                    self.outcome.diagnostics.push(d);
                    return;
                }
                Ok(subject) => {
                    expected.insert(subject.to_string());
                }
                Err(err) => {
                    let d = bad_notation(s, Notation::Subject, &err, self.sources);
                    self.result(kind, target, false, Some(d.message.clone()), None);
                    self.outcome.diagnostics.push(d);
                    return;
                }
            }
        }
        let mut actual = BTreeSet::new();
        let schema = self.engine.schema();
        for ns in &schema.namespaces {
            match self
                .engine
                .lookup_subjects(&object, &relation, &ns.name, self.at)
            {
                Ok(found) => {
                    for id in &found.subject_ids {
                        actual.insert(Subject::object(ns.name.clone(), id.clone()).to_string());
                    }
                    if found.wildcard {
                        actual.insert(Subject::wildcard(ns.name.clone()).to_string());
                        for id in &found.excluded {
                            actual
                                .remove(&Subject::object(ns.name.clone(), id.clone()).to_string());
                        }
                    }
                }
                Err(err) => {
                    let message = format!("`{}` could not be answered: {err}", target.text);
                    self.outcome.diagnostics.push(Diagnostic::new(
                        codes::E0505,
                        message.clone(),
                        Label::new(target.span, "these expected subjects"),
                    ));
                    self.result(kind, target, false, Some(message), None);
                    return;
                }
            }
        }
        if actual == expected {
            self.result(kind, target, true, None, None);
            return;
        }
        let missing: Vec<&String> = expected.difference(&actual).collect();
        let unexpected: Vec<&String> = actual.difference(&expected).collect();
        let list = |items: &[&String]| {
            items
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut d = Diagnostic::new(
            codes::E0504,
            format!(
                "the subjects of `{}` differ from the expected ones",
                target.text
            ),
            Label::new(target.span, "expected subjects listed here"),
        );
        let mut parts = Vec::new();
        if !missing.is_empty() {
            d = d.with_note(format!("expected but not in the set: {}", list(&missing)));
            parts.push(format!("missing {}", list(&missing)));
        }
        if !unexpected.is_empty() {
            d = d.with_note(format!(
                "in the set but not expected: {}",
                list(&unexpected)
            ));
            parts.push(format!("unexpected {}", list(&unexpected)));
        }
        let message = format!("{}: {}", d.message, parts.join("; "));
        self.outcome.diagnostics.push(d);
        self.result(kind, target, false, Some(message), None);
    }
}
