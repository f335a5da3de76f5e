//! OpenFGA models (`tests/foreign/openfga/`, committed unchanged) load and
//! compile; the DSL and JSON forms of a model compile to the same IR; the
//! mapping and OpenFGA's grouping rules hold when checked with the engine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use zanzi::ir::Schema;
use zanzi::load::Limits;
use zanzi::store::{MemoryStore, TupleStore};
use zanzi::{Engine, Tuple};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/foreign/openfga")
}

fn files(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, keep, out);
        } else if keep(&path.file_name().unwrap().to_string_lossy()) {
            out.push(path);
        }
    }
}

/// The error codes a model is expected to report: none, except for those
/// of OpenFGA's transformer tests that test syntax only and are not valid
/// models (an arrow over a computed relation; a userset naming a relation
/// `user` lacks; CEL naming undeclared variables).
fn expected_errors(path: &Path, text: &str) -> BTreeSet<&'static str> {
    let dir = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    let mut expected = BTreeSet::new();
    if dir == "14-mixed-operators" {
        expected.insert("E0201");
    }
    if dir.starts_with("15-mixed-operators") {
        expected.insert("E0107");
        // … and a condition they never declare.
        if text.contains(" with ") || text.contains("\"condition\": \"cond\"") {
            expected.insert("E0140");
        }
    }
    // OpenFGA's transformer fixtures for conditions test syntax: their CEL
    // names variables the conditions do not declare.
    if dir == "11-multiple-conditions" {
        expected.insert("E0146");
    }
    expected
}

fn error_codes(compiled: &zanzi::Compilation) -> BTreeSet<&'static str> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect()
}

#[test]
fn every_committed_model_loads() {
    let mut models = Vec::new();
    files(
        &root(),
        &|name| name.ends_with(".fga") || name == "authorization-model.json",
        &mut models,
    );
    assert!(models.len() > 60, "{} models", models.len());
    let mut clean = 0;
    for path in &models {
        let text = std::fs::read_to_string(path).unwrap();
        // A module is part of a model: its `fga.mod` loads it (below).
        if text.trim_start().starts_with("module") {
            continue;
        }
        let (sources, compiled) = zanzi::load::load_schema(path, &Limits::default()).unwrap();
        let expected = expected_errors(path, &text);
        assert_eq!(
            error_codes(&compiled),
            expected,
            "{}:\n{}",
            path.display(),
            zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
        );
        if expected.is_empty() {
            assert!(compiled.schema.is_some());
            clean += 1;
        }
    }
    assert!(clean >= 30, "{clean} clean models");
}

/// Every committed modular model (`fga.mod`) compiles, its `extend type`
/// relations merged into the type another module defines.
#[test]
fn every_committed_modular_model_loads() {
    let mut manifests = Vec::new();
    files(&root(), &|name| name == "fga.mod", &mut manifests);
    assert!(!manifests.is_empty());
    for path in &manifests {
        let (sources, compiled) = zanzi::load::load_schema(path, &Limits::default()).unwrap();
        assert!(
            compiled.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
        );
        assert!(compiled.schema.is_some());
    }
    let (_, compiled) = zanzi::load::load_schema(
        &root().join("sample-stores/stores/modular/fga.mod"),
        &Limits::default(),
    )
    .unwrap();
    let schema = compiled.schema.unwrap();
    checks(
        &schema,
        &[
            "organization:openfga#admin@user:anne",
            "space:wiki#organization@organization:openfga",
            "project:p#organization@organization:openfga",
        ],
        &[
            ("organization:openfga#can_create_space@user:anne", true),
            ("organization:openfga#can_create_project@user:anne", true),
            ("organization:openfga#member@user:anne", true),
            ("space:wiki#can_view_pages@user:anne", true),
            ("project:p#viewer@user:anne", true),
            ("project:p#viewer@user:bob", false),
        ],
    );
}

/// Store test files that hold their model inline (`model: |`).
#[test]
fn every_inline_store_model_loads() {
    let mut stores = Vec::new();
    files(&root(), &|name| name.ends_with(".fga.yaml"), &mut stores);
    let mut inline = 0;
    for path in &stores {
        let text = std::fs::read_to_string(path).unwrap();
        let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
        let Some(model) = docs[0]["model"].as_str() else {
            assert!(
                docs[0]["model_file"].as_str().is_some(),
                "{}",
                path.display()
            );
            continue;
        };
        inline += 1;
        let (sources, compiled) = zanzi::compile_source("store.fga", model);
        assert_eq!(
            error_codes(&compiled),
            expected_errors(path, model),
            "{}:\n{}",
            path.display(),
            zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
        );
    }
    assert!(inline >= 20, "{inline} inline models");
}

/// OpenFGA's own transformer tests pair each DSL model with its JSON form.
#[test]
fn dsl_and_json_forms_compile_to_the_same_ir() {
    let dir = root().join("language-transformer");
    let mut compared = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case = entry.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        let limits = Limits::default();
        let (_, from_dsl) =
            zanzi::load::load_schema(&case.join("authorization-model.fga"), &limits).unwrap();
        let (_, from_json) =
            zanzi::load::load_schema(&case.join("authorization-model.json"), &limits).unwrap();
        let mut dsl_diags: Vec<_> = from_dsl.diagnostics.iter().map(|d| d.code).collect();
        let mut json_diags: Vec<_> = from_json.diagnostics.iter().map(|d| d.code).collect();
        dsl_diags.sort();
        json_diags.sort();
        assert_eq!(dsl_diags, json_diags, "{}", case.display());
        if let (Some(a), Some(b)) = (from_dsl.schema, from_json.schema) {
            assert_eq!(a.content_hash(), b.content_hash(), "{}", case.display());
            compared += 1;
        }
    }
    assert!(compared >= 15, "{compared} models compared");
}

fn schema(src: &str) -> Schema {
    let (sources, compiled) = zanzi::compile_source("model.fga", src);
    assert!(
        !compiled.has_errors(),
        "{}",
        zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
    );
    compiled.schema.unwrap()
}

/// Answers `questions` (`document:d#viewer@user:anne`) over `tuples`.
fn checks(schema: &Schema, tuples: &[&str], questions: &[(&str, bool)]) {
    let store = MemoryStore::new();
    let data: Vec<Tuple> = tuples.iter().map(|t| t.parse().unwrap()).collect();
    zanzi::store::write_validated(&store, schema, &data, &[]).unwrap();
    let engine = Engine::new(schema, &store);
    let revision = store.head_revision().unwrap();
    for (question, expected) in questions {
        let tuple: Tuple = question.parse().unwrap();
        assert_eq!(
            engine.check_tuple(&tuple, revision).unwrap(),
            *expected,
            "{question}"
        );
    }
}

/// Groups in parentheses mean what OpenFGA means by them.
#[test]
fn groups_mean_what_openfga_means() {
    let schema = schema(
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    \
         define a: [user]\n    define b: [user]\n    define c: [user]\n    \
         define x: a or (b but not c)\n    define y: (a or b) but not c\n    \
         define z: a and (b or c)\n",
    );
    checks(
        &schema,
        &["doc:d#a@user:anne", "doc:d#c@user:anne", "doc:d#b@user:bob"],
        &[
            ("doc:d#x@user:anne", true),
            ("doc:d#y@user:anne", false),
            ("doc:d#x@user:bob", true),
            ("doc:d#y@user:bob", true),
            ("doc:d#z@user:anne", true),
            ("doc:d#z@user:bob", false),
        ],
    );
}

/// `define viewer: [user] or editor`: stored tuples and computed members
/// together; `viewer from parent`; wildcards and usersets. These need the
/// engine's support for relation rewrites (`this`).
#[test]
fn relations_store_tuples_and_compute() {
    let schema = schema(
        "model\n  schema 1.1\ntype user\ntype group\n  relations\n    \
         define member: [user]\ntype folder\n  relations\n    define viewer: [user]\n\
         type doc\n  relations\n    define parent: [folder]\n    define blocked: [user]\n    \
         define editor: [user, group#member]\n    \
         define viewer: [user, user:*] or editor or viewer from parent\n    \
         define restricted: [user] but not blocked\n",
    );
    checks(
        &schema,
        &[
            "doc:d#viewer@user:anne",
            "doc:d#editor@group:eng#member",
            "group:eng#member@user:bob",
            "doc:d#parent@folder:f",
            "folder:f#viewer@user:carl",
            "doc:pub#viewer@user:*",
            "doc:d#restricted@user:anne",
            "doc:d#restricted@user:bob",
            "doc:d#blocked@user:bob",
        ],
        &[
            ("doc:d#viewer@user:anne", true),
            ("doc:d#viewer@user:bob", true),
            ("doc:d#viewer@user:carl", true),
            ("doc:d#viewer@user:dave", false),
            ("doc:pub#viewer@user:dave", true),
            ("doc:d#restricted@user:anne", true),
            ("doc:d#restricted@user:bob", false),
        ],
    );
}

/// The JSON form of a model with stored-and-computed relations means the
/// same as the DSL form.
#[test]
fn json_models_check_like_dsl_models() {
    let path = root().join("language-transformer/90-github/authorization-model.json");
    let (_, json) = zanzi::load::load_schema(&path, &Limits::default()).unwrap();
    let path = root().join("sample-stores/stores/github/model.fga");
    let (_, dsl) = zanzi::load::load_schema(&path, &Limits::default()).unwrap();
    let (json, dsl) = (json.schema.unwrap(), dsl.schema.unwrap());
    let tuples = [
        "organization:acme#owner@user:anne",
        "organization:acme#repo_admin@organization:acme#member",
        "repo:acme/widgets#owner@organization:acme",
        "team:eng#member@user:bob",
        "repo:acme/widgets#writer@team:eng#member",
    ];
    let questions = [
        ("repo:acme/widgets#admin@user:anne", true),
        ("repo:acme/widgets#writer@user:bob", true),
        ("repo:acme/widgets#reader@user:bob", true),
        ("repo:acme/widgets#admin@user:bob", false),
    ];
    checks(&json, &tuples, &questions);
    checks(&dsl, &tuples, &questions);
}

/// Diagnostics point at the foreign file's line and column.
#[test]
fn diagnostics_show_the_foreign_line_and_column() {
    let src = "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    \
               define viewer: [user]\n    define can_view: viewr or owner from parent\n";
    let (sources, compiled) = zanzi::compile_source("doc.fga", src);
    let places: Vec<_> = compiled
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.line_col(d.primary.span.file, d.primary.span.start);
            (at.line, at.column, d.code.as_str())
        })
        .collect();
    assert_eq!(places, [(7, 22, "E0105"), (7, 42, "E0105")]);
}

const MODULE_TOKENS: &[&str] = &[
    "module",
    "m",
    "extend",
    "type",
    "user",
    "doc",
    "relations",
    "define",
    "viewer",
    ":",
    "[",
    "]",
    "or",
    "from",
    "\n",
    "  ",
    "#",
    ",",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 128, ..Default::default() })]

    /// Modules made of random tokens, compiled together as one modular
    /// model: no panic, every span inside its own file.
    #[test]
    fn random_modules_never_panic(modules in proptest::collection::vec(
        proptest::collection::vec(proptest::sample::select(MODULE_TOKENS), 0..40),
        1..4,
    )) {
        let mut sources = zanzi::source::SourceMap::new();
        let files: Vec<_> = modules
            .iter()
            .enumerate()
            .map(|(i, words)| sources.add(format!("m{i}.fga"), format!("module m{i}\n{}", words.join(" "))))
            .collect();
        let compiled = zanzi::compile(&sources, &files);
        for d in &compiled.diagnostics {
            for label in std::iter::once(&d.primary).chain(&d.secondary) {
                proptest::prop_assert!(label.span.start <= label.span.end);
                proptest::prop_assert!(label.span.end as usize <= sources.text(label.span.file).len());
            }
        }
    }
}

/// A JSON model's condition expression is a JSON string: its escapes are
/// decoded (as the DSL writes the same CEL), and CEL's errors point at what
/// is written in the file.
#[test]
fn json_expressions_with_escapes_are_decoded() {
    let json = r#"{"schema_version": "1.1",
 "type_definitions": [
  {"type": "user"},
  {"type": "doc", "relations": {"viewer": {"this": {}}},
   "metadata": {"relations": {"viewer": {"directly_related_user_types": [{"type": "user", "condition": "named"}]}}}}],
 "conditions": {"named": {"name": "named",
  "expression": "name == \"a\\\"b\" ||\nname.startsWith(\"\u0041\\\\\")",
  "parameters": {"name": {"type_name": "TYPE_NAME_STRING"}}}}}"#;
    let dsl = r#"model
  schema 1.1
type user
type doc
  relations
    define viewer: [user with named]
condition named(name: string) {
  name == "a\"b" ||
  name.startsWith("A\\")
}
"#;
    let from_json = schema_named("model.json", json);
    let from_dsl = schema(dsl);
    let expression = |s: &Schema| s.conditions[0].expression.clone();
    assert_eq!(expression(&from_json), expression(&from_dsl));
    assert!(expression(&from_json).contains(r#"name == "a\"b""#));
    assert_eq!(from_json.content_hash(), from_dsl.content_hash());

    // `nme` is after three escapes: the error is at `nme` in the file.
    let bad = json.replace(r#"name.startsWith"#, "nme.startsWith");
    let (sources, compiled) = zanzi::compile_source("model.json", &bad);
    let error = compiled
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .unwrap_or_else(|| panic!("no error for {bad}"));
    let span = error.primary.span;
    assert_eq!(
        &bad[span.start as usize..span.end as usize],
        "nme",
        "{}",
        zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
    );
}

fn schema_named(name: &str, src: &str) -> Schema {
    let (sources, compiled) = zanzi::compile_source(name, src);
    assert!(
        !compiled.has_errors(),
        "{}",
        zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
    );
    compiled.schema.unwrap()
}
