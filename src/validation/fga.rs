//! OpenFGA's store test files, the `fga model test` format, run unchanged:
//! `model` (inline DSL) or `model_file` (a model, or a modular model's
//! `fga.mod`), the store's `tuples`,
//! `tuple_file` and `tuple_files` (YAML, JSON, JSON lines or CSV, as `fga
//! tuple write --file` takes them), and `tests`, each with its own
//! `tuples` (added to the store's for that test only), `check`,
//! `list_objects` and `list_users` assertions (openfga/cli
//! `internal/storetest`).
//!
//! Failures are reported as `fga model test` prints them
//! (`Check(user=…,relation=…,object=…): expected=true, got=false`), each on
//! the YAML line of its assertion. As in `fga`, `list_users` uses the first
//! `user_filter`; its answer holds the users of that type (`user:anne`,
//! and `user:*` when the wildcard is in the set) or, for a filter with a
//! relation, the usersets of that type and relation that tuples name and
//! that are in the set (`group:eng#member`).
//!
//! Tuples may carry a `condition: {name, context}` and assertions a
//! `context`. Where zanzi's answer depends on a parameter no context gives
//! (conditional), OpenFGA answers with an error ("missing context
//! parameters"), so the assertion fails whatever it expected, as it does in
//! `fga model test` (docs/migrating.md, "Conditions in store tests").

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostics::{self, codes, Diagnostic, Label, ToDiagnostic};
use crate::engine::{Decision, Engine, RequestContext};
use crate::foreign::Dialect;
use crate::ir::Schema;
use crate::source::{FileId, SourceMap, Span};
use crate::store::{MemoryStore, Revision, TupleStore};
use crate::tuple::foreign::{self as formats, FileFormat, Item};
use crate::tuple::yaml::Node;
use crate::tuple::{self, Subject, Tuple, TupleSite};

use super::foreign::Run;
use super::{AssertionKind, FileReport};
use answers::{objects, users, Unanswered, UsersQuestion};

const KEYS: &[&str] = &[
    "name",
    "model",
    "model_file",
    "tuples",
    "tuple_file",
    "tuple_files",
    "tests",
];
const TEST_KEYS: &[&str] = &[
    "name",
    "description",
    "tuples",
    "tuple_file",
    "check",
    "list_objects",
    "list_users",
];
const CHECK_KEYS: &[&str] = &[
    "user",
    "users",
    "object",
    "objects",
    "context",
    "assertions",
];
const LIST_OBJECTS_KEYS: &[&str] = &["user", "type", "context", "assertions"];
const LIST_USERS_KEYS: &[&str] = &["object", "user_filter", "context", "assertions"];

/// Runs an OpenFGA store test file already added to `sources`.
pub fn run(sources: &mut SourceMap, file: FileId, root: &Node, dir: &Path) -> FileReport {
    let mut run = Run::new(sources, file);
    let Node::Map(entries, _) = root else {
        return run.report;
    };
    for (key, _) in entries {
        if !KEYS.contains(&key.as_str().unwrap_or("")) {
            run.ignored_key(key, "an OpenFGA store test file", KEYS);
        }
    }
    // An `fga.mod` is a schema path like any other: see `load`.
    let schema = run.schema_of(
        root.get("model"),
        root.get("model_file").filter(|n| !n.is_null()),
        Dialect::OpenFga,
        dir,
        "model_file",
        (
            "the store test file has no `model` or `model_file`",
            "no model",
        ),
    );
    let mut store_tuples = Vec::new();
    read_tuple_sources(&mut run, root, dir, &mut store_tuples);
    let Some(schema) = schema else {
        return run.report;
    };
    run.report.schema_hash = Some(schema.hash.clone());
    let store_tuples = valid(&mut run, &schema, store_tuples);
    for test in root
        .get("tests")
        .map(|t| run.list(t, "`tests`"))
        .unwrap_or(&[])
    {
        run_test(&mut run, &schema, dir, test, &store_tuples);
    }
    let mut report = run.report;
    diagnostics::sort_and_dedup(&mut report.diagnostics);
    report
}

/// The tuples of `tuples`, `tuple_file` and `tuple_files` of a node (the
/// store, or one test), each with where it was written.
fn read_tuple_sources(run: &mut Run<'_>, node: &Node, dir: &Path, out: &mut Vec<(Tuple, Span)>) {
    if let Some(list) = node.get("tuples") {
        for item in run.list(list, "`tuples`") {
            let span = run.node_span(item);
            let text = run.text.clone();
            let value = formats::openfga_item(item, &text);
            push_item(
                run,
                Item {
                    at: span.range(),
                    value,
                },
                run.file,
                out,
            );
        }
    }
    let mut files: Vec<&Node> = node
        .get("tuple_file")
        .filter(|n| !n.is_null())
        .into_iter()
        .collect();
    if let Some(list) = node.get("tuple_files") {
        files.extend(run.list(list, "`tuple_files`"));
    }
    for file_node in files {
        let Some(relative) = run.string(file_node, "a tuple file") else {
            continue;
        };
        let path = dir.join(relative);
        let named_at = run.node_span(file_node);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) => {
                run.shape(
                    named_at,
                    format!(
                        "cannot read the tuple file `{}`: {err}",
                        crate::load::display_name(&path)
                    ),
                    "named here",
                );
                continue;
            }
        };
        let id = run
            .sources
            .add(crate::load::display_name(&path), text.clone());
        let items = match FileFormat::detect(relative, &text) {
            FileFormat::OpenFgaCsv => formats::parse_openfga_csv(&text),
            FileFormat::OpenFgaJsonl => Ok(formats::parse_openfga_jsonl(&text)),
            FileFormat::OpenFgaList => formats::parse_openfga_list(&text),
            _ => {
                run.shape(named_at, format!("unsupported file format of `{relative}`: OpenFGA reads `.json`, `.yaml`, `.jsonl` and `.csv` tuple files"), "named here");
                continue;
            }
        };
        match items {
            Ok(items) => {
                for item in items {
                    push_item(run, item, id, out);
                }
            }
            Err(e) => {
                let span = span_in(id, &e.at);
                run.push(Diagnostic::new(
                    codes::E0677,
                    format!("failed to parse input tuples: {}", e.message),
                    Label::new(span, "here"),
                ));
            }
        }
    }
}

fn span_in(file: FileId, at: &std::ops::Range<usize>) -> Span {
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    Span::new(file, n(at.start), n(at.end.max(at.start)))
}

fn push_item(run: &mut Run<'_>, item: Item<Tuple>, file: FileId, out: &mut Vec<(Tuple, Span)>) {
    let span = span_in(file, &item.at);
    match item.value {
        Ok(tuple) => out.push((tuple, span)),
        Err(e) => {
            let at = span_in(file, &e.at);
            run.push(Diagnostic::new(codes::E0677, format!("invalid tuple: {}", e.message), Label::new(at, "this tuple")).with_help("a tuple is `{user: \"user:anne\", relation: \"viewer\", object: \"document:roadmap\"}`"));
        }
    }
}

/// The tuples the schema accepts; the others are reported.
fn valid(run: &mut Run<'_>, schema: &Schema, tuples: Vec<(Tuple, Span)>) -> Vec<Tuple> {
    let mut out = Vec::new();
    for (tuple, span) in tuples {
        match tuple::validate_tuple(schema, &tuple) {
            Ok(_) => out.push(tuple),
            Err(err) => run.push(err.to_diagnostic(TupleSite { span, parts: None })),
        }
    }
    out
}

fn run_test(run: &mut Run<'_>, schema: &Schema, dir: &Path, test: &Node, store_tuples: &[Tuple]) {
    let Node::Map(entries, _) = test else {
        let span = run.node_span(test);
        run.shape(
            span,
            format!("a test must be a mapping, not {}", test.describe()),
            "expected a mapping",
        );
        return;
    };
    for (key, _) in entries {
        if !TEST_KEYS.contains(&key.as_str().unwrap_or("")) {
            run.ignored_key(key, "an OpenFGA test", TEST_KEYS);
        }
    }
    let name = test
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_owned();
    let mut own = Vec::new();
    read_tuple_sources(run, test, dir, &mut own);
    let mut tuples: Vec<Tuple> = store_tuples.to_vec();
    tuples.extend(valid(run, schema, own));
    tuples.sort();
    tuples.dedup();
    let store = MemoryStore::new();
    let at = match store.write(&tuples, &[]) {
        Ok(at) => at,
        Err(err) => {
            let span = run.node_span(test);
            run.shape(
                span,
                format!("the tuples could not be stored: {err}"),
                "this test",
            );
            return;
        }
    };
    let mut tester = Tester {
        run,
        engine: Engine::new(schema, &store),
        at,
        tuples: &tuples,
        name,
    };
    if let Some(list) = test.get("check") {
        for item in tester.run.list(list, "`check`") {
            tester.check(item);
        }
    }
    if let Some(list) = test.get("list_objects") {
        for item in tester.run.list(list, "`list_objects`") {
            tester.list_objects(item);
        }
    }
    if let Some(list) = test.get("list_users") {
        for item in tester.run.list(list, "`list_users`") {
            tester.list_users(item);
        }
    }
}

struct Tester<'a, 'r, 's> {
    run: &'a mut Run<'r>,
    engine: Engine<'s>,
    at: Revision,
    tuples: &'s [Tuple],
    name: String,
}

/// `[a b c]`, as `fga` prints a list.
fn show_list<'i>(items: impl IntoIterator<Item = &'i String>) -> String {
    format!(
        "[{}]",
        items.into_iter().cloned().collect::<Vec<_>>().join(" ")
    )
}

/// A context as `fga` prints it after a question: `, context:map[k:v]`
/// (keys sorted, strings bare); nothing without one.
fn show_context(context: &serde_json::Map<String, serde_json::Value>) -> String {
    if context.is_empty() {
        return String::new();
    }
    let mut entries: Vec<String> = context
        .iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => format!("{key}:{s}"),
            other => format!("{key}:{other}"),
        })
        .collect();
    entries.sort();
    format!(", context:map[{}]", entries.join(" "))
}

impl Tester<'_, '_, '_> {
    /// One string or a list of strings under `one` or `many`.
    fn strings(&mut self, item: &Node, one: &str, many: &str) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(node) = item.get(one).filter(|n| !n.is_null()) {
            out.extend(
                self.run
                    .string(node, &format!("`{one}`"))
                    .map(str::to_owned),
            );
        }
        if let Some(node) = item.get(many) {
            for n in self.run.list(node, &format!("`{many}`")) {
                out.extend(
                    self.run
                        .string(n, &format!("each of `{many}`"))
                        .map(str::to_owned),
                );
            }
        }
        if out.is_empty() {
            let span = self.run.node_span(item);
            self.run
                .shape(span, format!("must specify '{one}' or '{many}'"), "here");
        }
        out
    }

    /// Warns of the keys of an assertion item that `fga` ignores.
    fn known_keys(&mut self, item: &Node, what: &str, keys: &[&str]) {
        let Node::Map(entries, _) = item else {
            return;
        };
        for (key, _) in entries {
            match key.as_str().unwrap_or("") {
                name if keys.contains(&name) => {}
                "contextual_tuples" => {
                    let span = self.run.node_span(key);
                    self.run.push(
                        Diagnostic::new(
                            codes::W0670,
                            format!("`contextual_tuples` is not a key of {what}; it is ignored"),
                            Label::new(span, "ignored"),
                        )
                        .with_note(
                            "OpenFGA's store tests have no contextual tuples per assertion: \
                             a test's own `tuples` hold for that test only",
                        )
                        .with_help("move these tuples to the test's `tuples`"),
                    );
                }
                _ => self.run.ignored_key(key, what, keys),
            }
        }
    }

    /// The request of an assertion: its `context` (`None` after reporting
    /// one that is not a mapping of names to values).
    fn request(&mut self, item: &Node) -> Option<RequestContext> {
        let context = match item.get("context").filter(|n| !n.is_null()) {
            None => serde_json::Map::new(),
            Some(node @ Node::Map(..)) => match formats::openfga_json(node, &self.run.text) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => serde_json::Map::new(),
                Err(e) => {
                    let at = span_in(self.run.file, &e.at);
                    self.run
                        .shape(at, format!("invalid `context`: {}", e.message), "here");
                    return None;
                }
            },
            Some(other) => {
                let span = self.run.node_span(other);
                self.run.shape(
                    span,
                    format!(
                        "`context` is a mapping of condition parameters to values, not {}",
                        other.describe()
                    ),
                    "expected a mapping",
                );
                return None;
            }
        };
        Some(RequestContext {
            context,
            now: None,
            tuples: Vec::new(),
        })
    }

    fn subject(&mut self, user: &str, span: Span) -> Option<Subject> {
        match formats::openfga_user(user) {
            Ok(subject) => Some(subject),
            Err(message) => {
                self.run.push(Diagnostic::new(
                    codes::E0677,
                    format!("invalid user: {message}"),
                    Label::new(span, "here"),
                ));
                None
            }
        }
    }

    /// Records the outcome of one assertion.
    fn outcome(
        &mut self,
        kind: AssertionKind,
        text: String,
        span: Span,
        failure: Option<Diagnostic>,
    ) {
        let assertion = if self.name.is_empty() {
            text
        } else {
            format!("{}: {text}", self.name)
        };
        self.run.result(kind, assertion, span, failure.as_ref());
        if let Some(d) = failure {
            self.run.push(d);
        }
    }

    /// The failure of an assertion that got no answer: `code` for a missing
    /// parameter (the assertion fails as in `fga`), E0505 otherwise.
    fn unanswered(
        &self,
        code: codes::Code,
        text: &str,
        expected: &str,
        span: Span,
        why: Unanswered,
    ) -> Diagnostic {
        match why {
            Unanswered::Missing(missing) => {
                let names = show_list(&missing);
                Diagnostic::new(
                    code,
                    format!(
                        "{text}: expected={expected}, got=N/A, error=missing context parameters {names}"
                    ),
                    Label::new(span, format!("no value for {names}")),
                )
                .with_note(
                    "the answer depends on a condition whose parameters no context gives; \
                     OpenFGA answers such a request with an error, so `fga model test` fails \
                     this assertion whatever it expects",
                )
                .with_help("give the parameters in the assertion's `context`")
            }
            Unanswered::Error(reason) => Diagnostic::new(
                codes::E0505,
                format!("`{text}` could not be answered: {reason}"),
                Label::new(span, "this assertion"),
            ),
        }
    }

    fn check(&mut self, item: &Node) {
        self.known_keys(item, "an OpenFGA check", CHECK_KEYS);
        let Some(request) = self.request(item) else {
            return;
        };
        let engine = self.engine.with_request(&request);
        let shown_context = show_context(&request.context);
        let users = self.strings(item, "user", "users");
        let objects = self.strings(item, "object", "objects");
        let Some(assertions) = item.get("assertions") else {
            return;
        };
        for (relation, expected) in self.run.map(assertions, "`assertions`") {
            let span = self.run.node_span(relation);
            let relation = relation.as_str().unwrap_or("").to_owned();
            let expected = match expected.as_str() {
                Some("true") => true,
                Some("false") => false,
                _ => {
                    let at = self.run.node_span(expected);
                    self.run.shape(
                        at,
                        "a check assertion is `relation: true` or `relation: false`",
                        "expected true or false",
                    );
                    continue;
                }
            };
            let kind = if expected {
                AssertionKind::Allowed
            } else {
                AssertionKind::Denied
            };
            for user in &users {
                let Some(subject) = self.subject(user, span) else {
                    continue;
                };
                for object_text in &objects {
                    let text = format!(
                        "Check(user={user},relation={relation},object={object_text}{shown_context})"
                    );
                    let object = match formats::from_openfga(user, &relation, object_text) {
                        Ok(t) => t.object,
                        Err(message) => {
                            let d = Diagnostic::new(
                                codes::E0677,
                                format!("invalid check: {message}"),
                                Label::new(span, "here"),
                            );
                            self.outcome(kind, text, span, Some(d));
                            continue;
                        }
                    };
                    let got = match engine.decide(&object, &relation, &subject, self.at) {
                        Ok(Decision::Allowed) => Ok(true),
                        Ok(Decision::Denied) => Ok(false),
                        Ok(Decision::Conditional { missing }) => {
                            Err(Unanswered::Missing(missing.into_iter().collect()))
                        }
                        Err(err) => Err(err.into()),
                    };
                    let failure = match got {
                        Ok(got) if got == expected => None,
                        Ok(got) => {
                            let mut d = Diagnostic::new(
                                codes::E0674,
                                format!("{text}: expected={expected}, got={got}"),
                                Label::new(span, format!("expected {expected}")),
                            );
                            if let Ok(explanation) =
                                engine.explain(&object, &relation, &subject, self.at)
                            {
                                d = d.with_note(explanation.render());
                            }
                            Some(d)
                        }
                        Err(why) => Some(self.unanswered(
                            codes::E0674,
                            &text,
                            &expected.to_string(),
                            span,
                            why,
                        )),
                    };
                    self.outcome(kind, text, span, failure);
                }
            }
        }
    }

    fn list_objects(&mut self, item: &Node) {
        self.known_keys(item, "an OpenFGA list_objects", LIST_OBJECTS_KEYS);
        let Some(request) = self.request(item) else {
            return;
        };
        let engine = self.engine.with_request(&request);
        let user = item
            .get("user")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let kind_name = item
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let Some(assertions) = item.get("assertions") else {
            return;
        };
        for (relation, expected) in self.run.map(assertions, "`assertions`") {
            let span = self.run.node_span(relation);
            let relation = relation.as_str().unwrap_or("").to_owned();
            let expected: BTreeSet<String> = self
                .run
                .list(expected, "the expected objects")
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            let text = format!(
                "ListObjects(user={user},relation={relation},type={kind_name}{})",
                show_context(&request.context)
            );
            let Some(subject) = self.subject(&user, span) else {
                continue;
            };
            let failure = match objects(&engine, self.at, &kind_name, &relation, &subject) {
                Ok(got) if got == expected => None,
                Ok(got) => Some(Diagnostic::new(
                    codes::E0675,
                    format!(
                        "{text}: expected={}, got={}",
                        show_list(&expected),
                        show_list(&got)
                    ),
                    Label::new(span, "expected these objects"),
                )),
                Err(why) => {
                    Some(self.unanswered(codes::E0675, &text, &show_list(&expected), span, why))
                }
            };
            self.outcome(AssertionKind::ListObjects, text, span, failure);
        }
    }

    fn list_users(&mut self, item: &Node) {
        self.known_keys(item, "an OpenFGA list_users", LIST_USERS_KEYS);
        let Some(request) = self.request(item) else {
            return;
        };
        let engine = self.engine.with_request(&request);
        let object_text = item
            .get("object")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let filter = item.get("user_filter").and_then(|f| match f {
            Node::Seq(items, _) => items.first(),
            _ => None,
        });
        let filter_type = filter
            .and_then(|f| f.get("type"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned();
        let filter_relation = filter
            .and_then(|f| f.get("relation"))
            .and_then(Node::as_str)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let Some(assertions) = item.get("assertions") else {
            return;
        };
        for (relation, expected) in self.run.map(assertions, "`assertions`") {
            let span = self.run.node_span(relation);
            let relation = relation.as_str().unwrap_or("").to_owned();
            let listed = expected
                .get("users")
                .map(|u| self.run.list(u, "`users`"))
                .unwrap_or(&[]);
            let expected: BTreeSet<String> = listed
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            let shown_filter = match &filter_relation {
                Some(r) => format!("{{type:{filter_type} relation:{r}}}"),
                None => format!("{{type:{filter_type}}}"),
            };
            let text = format!(
                "ListUsers(object={object_text},relation={relation},user_filter={shown_filter}{})",
                show_context(&request.context)
            );
            let object = match formats::from_openfga("user:x", &relation, &object_text) {
                Ok(t) => t.object,
                Err(message) => {
                    let d = Diagnostic::new(
                        codes::E0677,
                        format!("invalid list_users: {message}"),
                        Label::new(span, "here"),
                    );
                    self.outcome(AssertionKind::ListUsers, text, span, Some(d));
                    continue;
                }
            };
            let question = UsersQuestion {
                object: &object,
                relation: &relation,
                kind: &filter_type,
                set_relation: filter_relation.as_deref(),
            };
            let failure = match users(&engine, self.at, self.tuples, &question) {
                Ok(got) if got == expected => None,
                Ok(got) => Some(Diagnostic::new(
                    codes::E0676,
                    format!(
                        "{text}: expected={{Users:{}}}, got={{Users:{}}}",
                        show_list(&expected),
                        show_list(&got)
                    ),
                    Label::new(span, "expected these users"),
                )),
                Err(why) => Some(self.unanswered(
                    codes::E0676,
                    &text,
                    &format!("{{Users:{}}}", show_list(&expected)),
                    span,
                    why,
                )),
            };
            self.outcome(AssertionKind::ListUsers, text, span, failure);
        }
    }
}

#[path = "fga_answers.rs"]
mod answers;

#[cfg(test)]
#[path = "fga_tests.rs"]
mod tests;
