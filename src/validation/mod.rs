//! Validation files (docs/language.md, "Validation files"): a schema, tuples and assertions about
//! them, checked in one go by `zanzi validate`.
//!
//! Every problem is a [`ValidationError`] (or the tuple or schema error it
//! comes from), made into a [`Diagnostic`] pointing into the YAML file (or
//! into the schema or tuple file it names), so validation results render,
//! and serialize, exactly like schema diagnostics. Every assertion also gets
//! an [`AssertionResult`], passing or not, for the JSON report.

mod errors;
mod fga;
pub mod file;
mod foreign;
mod zed;

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::diagnostics::{Diagnostic, ToDiagnostic};
use crate::engine::{Decision, Engine, Outcome, RequestContext};
use crate::ir::Schema;
use crate::load::{self, Limits, LoadError};
use crate::source::{FileId, SourceMap, Span};
use crate::store::{MemoryStore, TupleStore};
use crate::tuple::{self, Expiry, Notation, NotationSite, Subject, Tuple, TupleError, TupleSite};

pub use errors::ValidationError;
pub use file::{Assertion, Located, SchemaSource, ValidationFile};
pub use foreign::Flavor;

/// What kind of assertion a result is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssertionKind {
    Allowed,
    Denied,
    /// Expected to depend on missing condition parameters.
    Conditional,
    ExpectedSubjects,
    /// An OpenFGA `list_objects` assertion.
    ListObjects,
    /// An OpenFGA `list_users` assertion.
    ListUsers,
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
pub struct FileReport {
    pub diagnostics: Vec<Diagnostic>,
    pub results: Vec<AssertionResult>,
    /// The compiled schema's hash, when it compiled.
    pub schema_hash: Option<String>,
}

/// Whose validation file the text of `file` is: zanzi's, SpiceDB's (`zed
/// validate`) or OpenFGA's (`fga model test`), by its keys.
pub fn flavor(sources: &SourceMap, file: FileId) -> Flavor {
    let root = tuple::yaml::parse(sources.text(file)).ok().flatten();
    foreign::flavor(root.as_ref())
}

/// Checks a validation file already added to `sources`, whichever system
/// wrote it (see [`flavor`]); files it names are read relative to `dir`
/// and added to `sources` too.
pub fn run(sources: &mut SourceMap, file: FileId, dir: &Path) -> FileReport {
    if let Ok(Some(root)) = tuple::yaml::parse(sources.text(file)) {
        match foreign::flavor(Some(&root)) {
            Flavor::Zanzi => {}
            Flavor::Zed => return zed::run(sources, file, &root, dir),
            Flavor::Fga => return fga::run(sources, file, &root, dir),
        }
    }
    run_zanzi(sources, file, dir)
}

/// Checks one of zanzi's own validation files.
fn run_zanzi(sources: &mut SourceMap, file: FileId, dir: &Path) -> FileReport {
    let mut report = FileReport::default();
    let loaded = match load(sources, file, dir) {
        Ok(loaded) => loaded,
        Err((diags, schema_hash)) => {
            report.diagnostics = diags;
            report.schema_hash = schema_hash;
            return report;
        }
    };
    report.schema_hash = Some(loaded.schema.hash.clone());
    if loaded.problems.iter().any(Diagnostic::is_error) {
        // The data is incomplete: answers would mislead. The assertions are
        // still read and their names checked, so one run reports everything.
        report.diagnostics = loaded.problems;
        let engine = Engine::new(&loaded.schema, &loaded.store);
        let assertions = loaded
            .file
            .allowed
            .iter()
            .chain(&loaded.file.denied)
            .chain(&loaded.file.conditional)
            .map(|a| &a.check);
        for located in assertions {
            let question: Tuple = match located.text.parse() {
                Ok(t) => t,
                Err(err) => {
                    let d = bad_notation(located, Notation::Check, &err, sources);
                    report.diagnostics.push(d);
                    continue;
                }
            };
            let named =
                engine.resolve_question(&question.object, &question.relation, &question.subject);
            if let Err(err) = named {
                let error = ValidationError::AssertionUnanswerable {
                    span: located.span,
                    assertion: located.text.clone(),
                    reason: err.to_string(),
                };
                report.diagnostics.push(error.to_diagnostic(()));
            }
        }
        return report;
    }
    report.diagnostics = loaded.problems;
    let engine = Engine::new(&loaded.schema, &loaded.store);
    let mut runner = AssertionRunner {
        sources,
        engine,
        at: loaded.at,
        now: loaded.file.now,
        report: &mut report,
    };
    let now = loaded.file.now;
    for assertion in &loaded.file.allowed {
        runner.assertion(assertion, AssertionKind::Allowed, now);
    }
    for assertion in &loaded.file.denied {
        runner.assertion(assertion, AssertionKind::Denied, now);
    }
    for assertion in &loaded.file.conditional {
        runner.assertion(assertion, AssertionKind::Conditional, now);
    }
    for (target, subjects) in &loaded.file.expected_subjects {
        runner.expected_subjects(target, subjects);
    }
    report
}

/// A validation file with its schema compiled and its tuples stored.
#[derive(Debug)]
pub struct Loaded {
    /// Problems with the file or its tuples that did not stop the rest from
    /// being read; when there are any, the data is incomplete and the
    /// assertions are only checked for their names, not answered.
    pub problems: Vec<Diagnostic>,
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
    let (parsed, mut diags) = file::read(sources, file, dir).map_err(|d| (d, None))?;
    let Some(schema) = load_schema(sources, file, &parsed.schema, &mut diags) else {
        return Err((diags, None));
    };
    let tuples = load_tuples(sources, &parsed, &schema, &mut diags);
    let store = MemoryStore::new();
    match store.write(&tuples, &[]) {
        Ok(at) => Ok(Loaded {
            problems: diags,
            file: parsed,
            schema,
            store,
            at,
        }),
        Err(err) => {
            let error = ValidationError::StoreFailed {
                span: Span::new(file, 0, 0),
                reason: err.to_string(),
            };
            diags.push(error.to_diagnostic(()));
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
                    let error = ValidationError::SchemaFileUnreadable {
                        span: *span,
                        path: path.clone(),
                        reason,
                    };
                    diags.push(error.to_diagnostic(()));
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

/// Parses and validates every tuple, inline and from tuple files: the valid
/// ones, each problem reported.
fn load_tuples(
    sources: &mut SourceMap,
    parsed: &ValidationFile,
    schema: &Schema,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Tuple> {
    let mut tuples = Vec::new();
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
                let error = ValidationError::TupleFileUnreadable {
                    span: *named_at,
                    path: path.clone(),
                    reason: err.to_string(),
                };
                diags.push(error.to_diagnostic(()));
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
    tuples
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

/// `allowed`, `denied`, or `conditional on `a`, `b``, for messages.
fn describe(decision: &Decision) -> String {
    match decision {
        Decision::Allowed => "allowed".to_owned(),
        Decision::Denied => "denied".to_owned(),
        Decision::Conditional { missing } => format!(
            "conditional on {}",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Answers the assertions of one loaded validation file, recording a result
/// for each and a diagnostic for each that fails.
struct AssertionRunner<'s, 'e> {
    sources: &'s SourceMap,
    engine: Engine<'e>,
    at: crate::store::Revision,
    /// The file's `now`, which every answer is read at.
    now: Option<Expiry>,
    report: &'s mut FileReport,
}

impl AssertionRunner<'_, '_> {
    fn result(
        &mut self,
        kind: AssertionKind,
        located: &Located,
        passed: bool,
        message: Option<String>,
        explanation: Option<String>,
    ) {
        let at = self.sources.line_col(located.span.file, located.span.start);
        self.report.results.push(AssertionResult {
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

    /// Records a failed assertion and its diagnostic.
    fn fail(
        &mut self,
        kind: AssertionKind,
        located: &Located,
        error: ValidationError,
        explanation: Option<String>,
    ) {
        self.result(kind, located, false, Some(error.summary()), explanation);
        self.report.diagnostics.push(error.to_diagnostic(()));
    }

    /// The request an assertion makes: its context, its contextual tuples
    /// (validated like the file's; `None` after reporting a bad one) and
    /// the file's `now`.
    fn request(&mut self, assertion: &Assertion, now: Option<Expiry>) -> Option<RequestContext> {
        let mut tuples = Vec::new();
        let mut ok = true;
        for line in &assertion.tuples {
            match tuple::parse_tuple_with_spans(&line.text) {
                Ok((t, spans)) => match tuple::validate_tuple(self.engine.schema(), &t) {
                    Ok(_) => tuples.push(t),
                    Err(err) => {
                        let site = TupleSite {
                            span: line.span,
                            parts: (self.sources.slice(line.span) == line.text).then_some(spans),
                        };
                        self.report.diagnostics.push(err.to_diagnostic(site));
                        ok = false;
                    }
                },
                Err(err) => {
                    let d = bad_notation(line, Notation::Tuple, &err, self.sources);
                    self.report.diagnostics.push(d);
                    ok = false;
                }
            }
        }
        ok.then(|| RequestContext {
            context: assertion.context.clone(),
            now,
            tuples,
        })
    }

    fn assertion(&mut self, assertion: &Assertion, kind: AssertionKind, now: Option<Expiry>) {
        let located = &assertion.check;
        let question: Tuple = match located.text.parse() {
            Ok(t) => t,
            Err(err) => {
                let d = bad_notation(located, Notation::Check, &err, self.sources);
                self.result(kind, located, false, Some(d.message.clone()), None);
                self.report.diagnostics.push(d);
                return;
            }
        };
        if !question.is_plain() {
            let error = ValidationError::BadValue {
                span: located.span,
                what: "assertion".to_owned(),
                reason: "a question carries no condition or expiry; give values with `context:` and the time with `now:`".to_owned(),
            };
            self.fail(kind, located, error, None);
            return;
        }
        let Some(request) = self.request(assertion, now) else {
            let message = "a contextual tuple of this assertion is invalid".to_owned();
            self.result(kind, located, false, Some(message), None);
            return;
        };
        let engine = self.engine.with_request(&request);
        let expected_missing: Option<Vec<String>> = assertion.missing.as_ref().map(|missing| {
            let mut names: Vec<String> = missing.iter().map(|m| m.text.clone()).collect();
            names.sort();
            names.dedup();
            names
        });
        let holds = |decision: &Decision| match (kind, decision) {
            (AssertionKind::Allowed, Decision::Allowed)
            | (AssertionKind::Denied, Decision::Denied) => true,
            (AssertionKind::Conditional, Decision::Conditional { missing }) => {
                expected_missing.as_ref().is_none_or(|want| want == missing)
            }
            _ => false,
        };
        // Most assertions pass: a plain check answers them; the (slower)
        // explanation is only built for the ones that fail.
        let decided = engine.decide(
            &question.object,
            &question.relation,
            &question.subject,
            self.at,
        );
        if matches!(&decided, Ok(decision) if holds(decision)) {
            self.result(kind, located, true, None, None);
            return;
        }
        let explained = engine.explain(
            &question.object,
            &question.relation,
            &question.subject,
            self.at,
        );
        let explanation = match explained {
            Ok(explanation) => explanation,
            Err(err) => {
                let error = ValidationError::AssertionUnanswerable {
                    span: located.span,
                    assertion: located.text.clone(),
                    reason: err.to_string(),
                };
                self.fail(kind, located, error, None);
                return;
            }
        };
        let rendered = explanation.render();
        if let Some(err) = &explanation.error {
            let error = ValidationError::AssertionUndecided {
                span: located.span,
                assertion: located.text.clone(),
                reason: err.clone(),
                trace: rendered.clone(),
            };
            self.fail(kind, located, error, Some(rendered));
            return;
        }
        let decision = match explanation.outcome {
            Outcome::Granted => Decision::Allowed,
            Outcome::Conditional => Decision::Conditional {
                missing: explanation.missing.clone(),
            },
            Outcome::Denied | Outcome::Unknown => Decision::Denied,
        };
        if holds(&decision) {
            self.result(kind, located, true, None, Some(rendered));
            return;
        }
        let (span, assertion, trace) = (located.span, located.text.clone(), rendered.clone());
        let error = match kind {
            AssertionKind::Allowed => ValidationError::NotAllowed {
                span,
                assertion,
                found: describe(&decision),
                trace,
            },
            AssertionKind::Conditional => ValidationError::NotConditional {
                span,
                assertion,
                found: match (&decision, &expected_missing) {
                    (Decision::Conditional { .. }, Some(want)) => format!(
                        "{}, not on {}",
                        describe(&decision),
                        want.iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => describe(&decision),
                },
                trace,
            },
            _ => ValidationError::NotDenied {
                span,
                assertion,
                found: describe(&decision),
                trace,
            },
        };
        self.fail(kind, located, error, Some(rendered));
    }

    fn expected_subjects(&mut self, target: &Located, subjects: &[Located]) {
        let kind = AssertionKind::ExpectedSubjects;
        let (object, relation) = match tuple::parse_object_relation(&target.text) {
            Ok(parts) => parts,
            Err(err) => {
                let d = bad_notation(target, Notation::Userset, &err, self.sources);
                self.result(kind, target, false, Some(d.message.clone()), None);
                self.report.diagnostics.push(d);
                return;
            }
        };
        let mut expected = BTreeSet::new();
        for s in subjects {
            match s.text.parse::<Subject>() {
                Ok(Subject::Set { .. }) => {
                    let error = ValidationError::SubjectSetInExpectedSubjects {
                        span: s.span,
                        subject: s.text.clone(),
                    };
                    self.fail(kind, target, error, None);
                    return;
                }
                Ok(subject) => {
                    expected.insert(subject.to_string());
                }
                Err(err) => {
                    let d = bad_notation(s, Notation::Subject, &err, self.sources);
                    self.result(kind, target, false, Some(d.message.clone()), None);
                    self.report.diagnostics.push(d);
                    return;
                }
            }
        }
        let mut actual = BTreeSet::new();
        let schema = self.engine.schema();
        let request = RequestContext {
            now: self.now,
            ..RequestContext::default()
        };
        let engine = self.engine.with_request(&request);
        for ns in &schema.namespaces {
            match engine.lookup_subjects(&object, &relation, &ns.name, self.at) {
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
                    let error = ValidationError::SubjectsUnanswerable {
                        span: target.span,
                        target: target.text.clone(),
                        reason: err.to_string(),
                    };
                    self.fail(kind, target, error, None);
                    return;
                }
            }
        }
        if actual == expected {
            self.result(kind, target, true, None, None);
            return;
        }
        let error = ValidationError::SubjectsDiffer {
            span: target.span,
            target: target.text.clone(),
            missing: expected.difference(&actual).cloned().collect(),
            unexpected: actual.difference(&expected).cloned().collect(),
        };
        self.fail(kind, target, error, None);
    }
}
