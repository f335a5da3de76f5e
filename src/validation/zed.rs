//! SpiceDB's validation files, the `zed validate` format, run unchanged:
//! `schema` (inline) or `schemaFile` (relative to the YAML's directory),
//! `relationships` (a block of relationship strings, possibly empty),
//! `assertions` (`assertTrue`, `assertFalse`, `assertCaveated`, each line
//! optionally `… with {"param": value}`, the check's caveat context) and
//! `validation` (expected relations).
//!
//! Relationships may carry a caveat and an expiration (`[c:{…}]`,
//! `[expiration:…]`), which are zanzi's condition and expiry. As in zed,
//! expiry is judged by the clock when the file is run (zed's files name no
//! time), and an assertion holds only for its own answer: `assertTrue`
//! wants access, `assertFalse` no access, `assertCaveated` an answer that
//! depends on missing caveat parameters.
//!
//! Failures are reported in zed's words (authzed/spicedb
//! `pkg/development`): "Expected relation or permission … to exist", "For
//! object and permission/relation `…`, missing expected subject `…`", each
//! on the YAML line of the item.
//!
//! # Expected relations
//!
//! zed expands `object#permission` and compares the subjects found with
//! the `[subject] is <object#relation>/…` strings listed. zanzi compares
//! the same set of subjects: the object subjects (`user:bob`), the
//! wildcards with their exceptions (`user:* - {user:bob}`), and the subject
//! sets that relationships name and that are in the set
//! (`group:eng#member`). It does not compare the `is <…>` part (the
//! relationships through which each subject was found): that describes
//! SpiceDB's expansion tree, which zanzi's evaluation does not share, and
//! two correct engines may find a subject by different paths. The
//! relationships listed are still read, and a malformed one is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diagnostics::{self, codes, Diagnostic, Label, ToDiagnostic};
use crate::engine::{Decision, Engine, RequestContext};
use crate::foreign::Dialect;
use crate::ir::Schema;
use crate::source::{FileId, SourceMap, Span};
use crate::store::{MemoryStore, Revision, TupleStore};
use crate::tuple::foreign::parse_spicedb;
use crate::tuple::yaml::Node;
use crate::tuple::{self, Subject, Tuple, TupleSite};

use super::foreign::Run;
use super::{AssertionKind, FileReport};

/// The keys of a zed validation file.
const KEYS: &[&str] = &[
    "schema",
    "schemaFile",
    "relationships",
    "assertions",
    "validation",
];

/// Runs a zed validation file already added to `sources`.
pub fn run(sources: &mut SourceMap, file: FileId, root: &Node, dir: &Path) -> FileReport {
    let mut run = Run::new(sources, file);
    let Node::Map(entries, _) = root else {
        return run.report;
    };
    let mut schema_node = None;
    let mut schema_file = None;
    let (mut relationships, mut assertions, mut validation) = (None, None, None);
    for (key, value) in entries {
        match key.as_str().unwrap_or("") {
            "schema" => schema_node = Some(value),
            "schemaFile" => schema_file = Some(value),
            "relationships" => relationships = Some(value),
            "assertions" => assertions = Some(value),
            "validation" => validation = Some(value),
            legacy @ ("namespace_configs" | "validation_tuples") => {
                let span = run.node_span(key);
                run.not_supported(span, &format!("the deprecated `{legacy}` key"));
            }
            _ => run.ignored_key(key, "a zed validation file", KEYS),
        }
    }
    let schema = match (schema_node.filter(|n| !n.is_null()), schema_file) {
        (Some(_), Some(file_node)) => {
            let span = run.node_span(file_node);
            run.shape(
                span,
                "only one of schema or schemaFile can be specified",
                "second schema",
            );
            None
        }
        _ => run.schema_of(
            schema_node,
            schema_file,
            Dialect::SpiceDb,
            dir,
            "schemaFile",
            (
                "the validation file has no `schema` or `schemaFile`",
                "no schema",
            ),
        ),
    };
    let tuples = relationships.map_or_else(Vec::new, |node| read_relationships(&mut run, node));
    let Some(schema) = schema else {
        return run.report;
    };
    run.report.schema_hash = Some(schema.hash.clone());
    let mut valid = Vec::new();
    for (tuple, span) in tuples {
        match tuple::validate_tuple(&schema, &tuple) {
            Ok(_) => valid.push(tuple),
            Err(err) => run.push(err.to_diagnostic(TupleSite { span, parts: None })),
        }
    }
    if run.report.diagnostics.iter().any(Diagnostic::is_error) {
        return run.report;
    }
    let store = MemoryStore::new();
    let at = match store.write(&valid, &[]) {
        Ok(at) => at,
        Err(err) => {
            let span = run.span(0..0);
            run.shape(
                span,
                format!("the relationships could not be stored: {err}"),
                "here",
            );
            return run.report;
        }
    };
    let mut checker = Checker {
        run,
        schema: &schema,
        engine: Engine::new(&schema, &store),
        at,
        tuples: &valid,
    };
    if let Some(node) = assertions {
        checker.assertions(node);
    }
    if let Some(node) = validation {
        checker.validation(node);
    }
    let mut report = checker.run.report;
    diagnostics::sort_and_dedup(&mut report.diagnostics);
    report
}

/// The relationships of the `relationships` block, each with its span;
/// malformed, repeated and unsupported ones are reported.
fn read_relationships(run: &mut Run<'_>, node: &Node) -> Vec<(Tuple, Span)> {
    let Node::Scalar { value, .. } = node else {
        let span = run.node_span(node);
        run.shape(
            span,
            "`relationships` must be a block of relationship lines, not a list",
            "expected `relationships: |`",
        );
        return Vec::new();
    };
    let places = run.places(node.at(), value.lines().map(str::trim));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, raw) in value.lines().enumerate() {
        let text = raw.trim();
        if text.is_empty() || text.starts_with("//") {
            continue;
        }
        let start = places.get(i).copied().unwrap_or(0);
        let span = run.span(start..start + text.len());
        match parse_spicedb(text) {
            Ok(tuple) => {
                if !seen.insert(tuple.clone()) {
                    run.push(Diagnostic::new(
                        codes::E0677,
                        format!("found repeated relationship `{text}`"),
                        Label::new(span, "given again here"),
                    ).with_help("remove the second copy: zed refuses a file that repeats a relationship"));
                    continue;
                }
                out.push((tuple, span));
            }
            Err(e) => {
                let at = exact(run, span, text, &e.at);
                run.push(
                    Diagnostic::new(
                        codes::E0677,
                        format!("error parsing relationship `{text}`: {}", e.message),
                        Label::new(at, "here"),
                    )
                    .with_help("a relationship is written `resource_type:id#relation@subject_type:id` (`#relation` after the subject for a subject set)"),
                );
            }
        }
    }
    out
}

/// The part `at` of `text`, which stands at `span` (when it does).
fn exact(run: &Run<'_>, span: Span, text: &str, at: &std::ops::Range<usize>) -> Span {
    if run.sources.slice(span) != text {
        return span;
    }
    let start = span.start as usize + at.start.min(text.len());
    let end = span.start as usize + at.end.min(text.len());
    run.span(start..end.max(start + usize::from(end == start && start < span.end as usize)))
}

/// Whether `decision` is the answer an assertion of `kind` wants.
fn matches_kind(kind: AssertionKind, decision: &Decision) -> bool {
    matches!(
        (kind, decision),
        (AssertionKind::Allowed, Decision::Allowed)
            | (AssertionKind::Denied, Decision::Denied)
            | (AssertionKind::Conditional, Decision::Conditional { .. })
    )
}

/// A subject as zed prints it: `user:bob`, `group:eng#member`, `user:*`.
fn show(subject: &Subject) -> String {
    subject.to_string()
}

struct Checker<'r, 's> {
    run: Run<'r>,
    schema: &'s Schema,
    engine: Engine<'s>,
    at: Revision,
    tuples: &'s [Tuple],
}

impl Checker<'_, '_> {
    fn assertions(&mut self, node: &Node) {
        let entries = self.run.map(node, "`assertions`");
        for (key, items) in entries {
            let kind = match key.as_str().unwrap_or("") {
                "assertTrue" => AssertionKind::Allowed,
                "assertFalse" => AssertionKind::Denied,
                "assertCaveated" => AssertionKind::Conditional,
                _ => {
                    self.run.ignored_key(
                        key,
                        "zed's `assertions`",
                        &["assertTrue", "assertFalse", "assertCaveated"],
                    );
                    continue;
                }
            };
            for item in self
                .run
                .list(items, &format!("`{}`", key.as_str().unwrap_or("")))
            {
                self.assertion(item, kind);
            }
        }
    }

    fn assertion(&mut self, item: &Node, kind: AssertionKind) {
        let Some(written) = self.run.string(item, "an assertion") else {
            return;
        };
        let span = self.run.node_span(item);
        let trimmed = written.trim();
        let (relationship, context) = match trimmed.split_once(" with ") {
            Some((r, c)) => (r.trim(), Some(c.trim())),
            None => (trimmed, None),
        };
        let fail = |run: &mut Run<'_>, message: String| {
            let d = Diagnostic::new(codes::E0677, message, Label::new(span, "this assertion"));
            run.result(kind, trimmed.to_owned(), span, Some(&d));
            run.push(d);
        };
        let tuple = match parse_spicedb(relationship) {
            Ok(tuple) if tuple.is_plain() => tuple,
            Ok(_) => {
                let message = format!("cannot specify a caveat on an assertion: `{trimmed}`");
                return fail(&mut self.run, message);
            }
            Err(e) => {
                let message = format!(
                    "error parsing relationship in assertion `{trimmed}`: {}",
                    e.message
                );
                return fail(&mut self.run, message);
            }
        };
        let context = match context.map(serde_json::from_str::<serde_json::Value>) {
            None => serde_json::Map::new(),
            Some(Ok(serde_json::Value::Object(map))) => map,
            Some(Ok(_)) => {
                let message = format!(
                    "error parsing caveat context in assertion `{trimmed}`: the context after `with` must be a JSON object"
                );
                return fail(&mut self.run, message);
            }
            Some(Err(e)) => {
                let message = format!("error parsing caveat context in assertion `{trimmed}`: {e}");
                return fail(&mut self.run, message);
            }
        };
        // zed's files name no time: expiry is judged by the clock.
        let request = RequestContext {
            context,
            now: None,
            tuples: Vec::new(),
        };
        let engine = self.engine.with_request(&request);
        let decided = engine.decide(&tuple.object, &tuple.relation, &tuple.subject, self.at);
        let failure = match decided {
            Ok(decision) if matches_kind(kind, &decision) => None,
            Ok(decision) => {
                let (code, words, label) = match kind {
                    AssertionKind::Allowed => (codes::E0671, "to exist", "expected to exist"),
                    AssertionKind::Conditional => {
                        (codes::E0678, "to be caveated", "expected to be caveated")
                    }
                    _ => (codes::E0672, "to not exist", "expected to not exist"),
                };
                let mut d = Diagnostic::new(
                    code,
                    format!("Expected relation or permission {trimmed} {words}"),
                    Label::new(span, label),
                );
                if let Decision::Conditional { missing } = &decision {
                    d = d.with_note(format!(
                        "the answer is caveated: it needs {}",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if let Ok(explanation) =
                    engine.explain(&tuple.object, &tuple.relation, &tuple.subject, self.at)
                {
                    d = d.with_note(explanation.render());
                }
                Some(d)
            }
            Err(err) => Some(
                Diagnostic::new(
                    codes::E0505,
                    format!("`{trimmed}` could not be answered: {err}"),
                    Label::new(span, "this assertion"),
                )
                .with_help("assertions name relations or permissions of the resource's definition"),
            ),
        };
        self.run
            .result(kind, trimmed.to_owned(), span, failure.as_ref());
        if let Some(d) = failure {
            self.run.push(d);
        }
    }

    fn validation(&mut self, node: &Node) {
        let entries = self.run.map(node, "`validation`");
        for (key, subjects) in entries {
            let Some(target) = self.run.string(key, "an object and relation") else {
                continue;
            };
            let target = target.trim().to_owned();
            let key_span = self.run.node_span(key);
            let before = self.run.report.diagnostics.len();
            let (object, relation) = match tuple::parse_object_relation(&target) {
                Ok(parts) => parts,
                Err(e) => {
                    let d = Diagnostic::new(
                        codes::E0677,
                        format!("could not parse {target}: {e}"),
                        Label::new(key_span, "expected `resource_type:id#relation`"),
                    );
                    self.run
                        .result(AssertionKind::ExpectedSubjects, target, key_span, Some(&d));
                    self.run.push(d);
                    continue;
                }
            };
            let found = match self.found(&object, &relation) {
                Ok(found) => found,
                Err(reason) => {
                    let d = Diagnostic::new(
                        codes::E0505,
                        format!("`{target}` could not be answered: {reason}"),
                        Label::new(key_span, "these expected subjects"),
                    );
                    self.run
                        .result(AssertionKind::ExpectedSubjects, target, key_span, Some(&d));
                    self.run.push(d);
                    continue;
                }
            };
            let mut listed = BTreeSet::new();
            for item in self.run.list(subjects, "the expected subjects") {
                if let Some(subject) = self.expected(item, &target, &found) {
                    listed.insert(subject);
                }
            }
            // One diagnostic per key (diagnostics are one per place and code).
            let extra: Vec<&Subject> = found.keys().filter(|s| !listed.contains(*s)).collect();
            if let Some((first, rest)) = extra.split_first() {
                let mut d = Diagnostic::new(
                    codes::E0673,
                    format!(
                        "For object and permission/relation `{target}`, subject `{}` found but not listed in expected subjects",
                        show(first)
                    ),
                    Label::new(key_span, "expected subjects of this"),
                )
                .with_help(format!("add `- \"[{}] is <…>\"` to the list, or correct the relationships", show(first)));
                if !rest.is_empty() {
                    let others: Vec<String> =
                        rest.iter().map(|s| format!("`{}`", show(s))).collect();
                    d = d.with_note(format!("also found but not listed: {}", others.join(", ")));
                }
                self.run.push(d);
            }
            let first_failure = self
                .run
                .report
                .diagnostics
                .get(before..)
                .and_then(|d| d.iter().find(|d| d.is_error()))
                .cloned();
            self.run.result(
                AssertionKind::ExpectedSubjects,
                target,
                key_span,
                first_failure.as_ref(),
            );
        }
    }

    /// One `[subject] is <…>` string: the subject, after comparing it with
    /// what was found.
    fn expected(
        &mut self,
        item: &Node,
        target: &str,
        found: &BTreeMap<Subject, Found>,
    ) -> Option<Subject> {
        let written = self.run.string(item, "an expected subject")?;
        let span = self.run.node_span(item);
        let (Some(open), Some(close)) = (written.find('['), written.rfind(']')) else {
            self.run.push(Diagnostic::new(
                codes::E0673,
                format!("For object and permission/relation `{target}`, no expected subject specified in `{written}`"),
                Label::new(span, "no `[subject]` here"),
            ).with_help("write `[user:bob] is <document:d#viewer>`"));
            return None;
        };
        let inside = written
            .get(open + 1..close.max(open + 1))
            .unwrap_or("")
            .trim();
        for resource in written.get(close..).unwrap_or("").split('<').skip(1) {
            let onr = resource.split('>').next().unwrap_or("");
            if let Err(e) = tuple::parse_object_relation(onr) {
                self.run.push(Diagnostic::new(
                    codes::E0677,
                    format!("invalid resource and relation: `{onr}`: {e}"),
                    Label::new(span, "here"),
                ));
            }
        }
        let (subject_text, exceptions_text) = match inside.split_once(" - ") {
            Some((s, e)) => (s.trim(), Some(e.trim())),
            None => (inside, None),
        };
        // `user:tom[...]`: the subject is in the set under a caveat.
        let (subject_text, caveated) = match subject_text.strip_suffix("[...]") {
            Some(text) => (text.trim(), true),
            None => (subject_text, false),
        };
        let parse = |run: &mut Run<'_>, text: &str| -> Option<Subject> {
            let text = text.trim();
            let text = text.strip_suffix("[...]").unwrap_or(text).trim();
            let text = text.strip_suffix("#...").unwrap_or(text);
            match text.parse::<Subject>() {
                Ok(subject) => Some(subject),
                Err(e) => {
                    run.push(Diagnostic::new(
                        codes::E0677,
                        format!("invalid subject: `{text}`: {e}"),
                        Label::new(span, "here"),
                    ));
                    None
                }
            }
        };
        let subject = parse(&mut self.run, subject_text)?;
        let mut exceptions = BTreeSet::new();
        if let Some(list) = exceptions_text {
            let list = list.trim_start_matches('{').trim_end_matches('}');
            for part in list.split(',').filter(|p| !p.trim().is_empty()) {
                exceptions.insert(parse(&mut self.run, part)?);
            }
        }
        let Some(computed) = found.get(&subject) else {
            self.run.push(Diagnostic::new(
                codes::E0673,
                format!(
                    "For object and permission/relation `{target}`, missing expected subject `{}`",
                    show(&subject)
                ),
                Label::new(span, "not in the set"),
            ));
            return Some(subject);
        };
        if computed.caveated != caveated {
            let (written, actual) = if caveated {
                ("with a caveat (`[...]`)", "without one")
            } else {
                ("without a caveat", "under a caveat")
            };
            self.run.push(
                Diagnostic::new(
                    codes::E0673,
                    format!(
                        "For object and permission/relation `{target}`, subject `{}` is listed {written} but found {actual}",
                        show(&subject)
                    ),
                    Label::new(span, "this expected subject"),
                )
                .with_help("write `[subject[...]]` for a subject found under a caveat, `[subject]` otherwise"),
            );
        }
        let computed = &computed.excluded;
        let wildcard = matches!(subject, Subject::Wildcard { .. });
        if wildcard && *computed != exceptions {
            let list = |set: &BTreeSet<Subject>| {
                set.iter()
                    .map(|s| format!("<{}>", show(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.run.push(Diagnostic::new(
                codes::E0673,
                format!(
                    "For object and permission/relation `{target}`, found different excluded subjects for subject `{}`: Specified: `{}`, Computed: `{}`",
                    show(&subject), list(&exceptions), list(computed)
                ),
                Label::new(span, "these exceptions"),
            ));
        } else if !wildcard && !exceptions.is_empty() {
            self.run.push(Diagnostic::new(
                codes::E0673,
                format!("For object and permission/relation `{target}`, found unexpected excluded subjects"),
                Label::new(span, "only a wildcard has exceptions"),
            ));
        }
        Some(subject)
    }

    /// The subjects in the set of `object#relation`: object subjects and
    /// wildcards (with the subjects they exclude), and the subject sets
    /// stored relationships name that are in the set; each marked when it
    /// is in the set only under a caveat (zed's `[subject[...]]`).
    fn found(
        &self,
        object: &tuple::Object,
        relation: &str,
    ) -> Result<BTreeMap<Subject, Found>, String> {
        let mut found = BTreeMap::new();
        for ns in &self.schema.namespaces {
            let lookup = self
                .engine
                .lookup_subjects(object, relation, &ns.name, self.at)
                .map_err(|e| e.to_string())?;
            for id in &lookup.subject_ids {
                found.insert(
                    Subject::object(ns.name.clone(), id.clone()),
                    Found::default(),
                );
            }
            for conditional in &lookup.conditional {
                found.insert(
                    Subject::object(ns.name.clone(), conditional.id.clone()),
                    Found {
                        caveated: true,
                        ..Found::default()
                    },
                );
            }
            if lookup.wildcard || lookup.wildcard_missing.is_some() {
                let excluded = lookup
                    .excluded
                    .iter()
                    .map(|id| Subject::object(ns.name.clone(), id.clone()))
                    .collect();
                found.insert(
                    Subject::wildcard(ns.name.clone()),
                    Found {
                        excluded,
                        caveated: !lookup.wildcard,
                    },
                );
            }
        }
        let me = Subject::set(object.namespace.clone(), object.id.clone(), relation);
        let sets: BTreeSet<&Subject> = self
            .tuples
            .iter()
            .map(|t| &t.subject)
            .filter(|s| matches!(s, Subject::Set { .. }) && **s != me)
            .collect();
        for set in sets {
            let caveated = match self.engine.decide(object, relation, set, self.at) {
                Ok(Decision::Allowed) => false,
                Ok(Decision::Conditional { .. }) => true,
                Ok(Decision::Denied) | Err(_) => continue,
            };
            found.insert(
                set.clone(),
                Found {
                    caveated,
                    ..Found::default()
                },
            );
        }
        Ok(found)
    }
}

/// A subject found in a set: the subjects a wildcard excludes, and whether
/// it is in the set only under a caveat.
#[derive(Default)]
struct Found {
    excluded: BTreeSet<Subject>,
    caveated: bool,
}

#[cfg(test)]
#[path = "zed_tests.rs"]
mod tests;
