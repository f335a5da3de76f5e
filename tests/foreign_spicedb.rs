//! The SpiceDB front end on real schemas (`tests/foreign/spicedb/`, see its
//! SOURCE.md), on SpiceDB's operator precedence proven by checks against
//! tuples, and on each of its diagnostics with line and column.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use zanzi::engine::Engine;
use zanzi::ir::Schema;
use zanzi::load::{compile_source, load_schema, Limits};
use zanzi::store::{MemoryStore, TupleStore};
use zanzi::tuple::{Object, Subject};

fn dir() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/foreign/spicedb"
    ))
}

/// The error codes each committed schema reports: none (caveats and
/// expiration included: they are zanzi's conditions and traits).
const EXPECTED: &[(&str, &[&str])] = &[
    ("agentic_rag.zed", &[]),
    ("tracing.zed", &[]),
    ("spanner_roles.zed", &[]),
    ("separate_schemafile.zed", &[]),
    ("doccomments.zed", &[]),
    ("partials.zed", &[]),
    ("many_imports.zed", &[]),
    ("superlarge.zed", &[]),
    ("basiccaveat.zed", &[]),
    // SpiceDB's parser fixture: its CEL does not compile in SpiceDB either
    // (an undeclared `something`, `contains` on a map, `?.`).
    ("complexcaveat.zed", &["E0146", "E0147", "E0145"]),
    ("use_expiration.zed", &[]),
];

#[test]
fn every_committed_schema_loads() {
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".zed"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = EXPECTED.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every committed schema is listed here");
    for (file, expected) in EXPECTED {
        let (sources, compiled) = load_schema(&dir().join(file), &Limits::default()).unwrap();
        let errors: Vec<&str> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.as_str())
            .collect();
        assert_eq!(
            &errors,
            expected,
            "{file}:\n{}",
            zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
        );
        assert_eq!(compiled.schema.is_some(), expected.is_empty(), "{file}");
    }
}

#[test]
fn names_are_kept_as_spicedb_stores_them() {
    let (_, compiled) =
        load_schema(&dir().join("separate_schemafile.zed"), &Limits::default()).unwrap();
    let schema = compiled.schema.unwrap();
    let project = schema.namespace_id("example/project").unwrap();
    assert!(schema.relation_id(project, "admin").is_some());
    assert!(schema.namespace_id("example/user").is_some());
}

#[test]
fn partials_are_part_of_the_definitions_that_use_them() {
    let (_, compiled) = load_schema(&dir().join("partials.zed"), &Limits::default()).unwrap();
    let schema = compiled.schema.unwrap();
    let resource = schema.namespace_id("resource").unwrap();
    assert!(schema.relation_id(resource, "user").is_some());
    assert!(schema.relation_id(resource, "view").is_some());
}

fn compile(src: &str) -> Schema {
    let (sources, compiled) = compile_source("schema.zed", src);
    assert!(
        !compiled.has_errors(),
        "{}",
        zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
    );
    compiled.schema.unwrap()
}

const PRECEDENCE: &str = "definition user {}

definition folder {
    relation viewer: user
}

definition doc {
    relation parent: folder
    relation a: user
    relation b: user
    relation c: user
    permission plus_minus = a + b - c
    permission minus_plus = a - b + c
    permission and_plus = a & b + c
    permission minus_minus = a - b - c
    permission arrow_chain = parent->viewer + a - b
}
";

/// Whether `user:alice` has `permission` on `doc:d` when she is in each
/// of `relations` (and `doc:d#parent@folder:f`, `folder:f#viewer@user:alice`
/// when `parent` is among them).
fn alice_has(schema: &Schema, permission: &str, relations: &[&str]) -> bool {
    let store = MemoryStore::new();
    let mut tuples = Vec::new();
    for relation in relations {
        let text = if *relation == "parent" {
            tuples.push(
                zanzi::tuple::parse_tuple_with_spans("folder:f#viewer@user:alice")
                    .unwrap()
                    .0,
            );
            "doc:d#parent@folder:f".to_owned()
        } else {
            format!("doc:d#{relation}@user:alice")
        };
        tuples.push(zanzi::tuple::parse_tuple_with_spans(&text).unwrap().0);
    }
    store.write(&tuples, &[]).unwrap();
    let head = store.head_revision().unwrap();
    Engine::new(schema, &store)
        .check(
            &Object::new("doc", "d"),
            permission,
            &Subject::object("user", "alice"),
            head,
        )
        .unwrap()
}

#[test]
fn precedence_means_what_it_means_in_spicedb() {
    let schema = compile(PRECEDENCE);
    // `(a + b) - c`: in b and c is out (`a + (b - c)` would let her in).
    assert!(!alice_has(&schema, "plus_minus", &["b", "c"]));
    assert!(alice_has(&schema, "plus_minus", &["b"]));
    // `a - (b + c)`: in a and c is out (`(a - b) + c` would let her in).
    assert!(!alice_has(&schema, "minus_plus", &["a", "c"]));
    assert!(alice_has(&schema, "minus_plus", &["a"]));
    // `a & (b + c)`: in c alone is out (`(a & b) + c` would let her in).
    assert!(!alice_has(&schema, "and_plus", &["c"]));
    assert!(alice_has(&schema, "and_plus", &["a", "c"]));
    // `(a - b) - c`: in a, b and c is out (`a - (b - c)` would let her in).
    assert!(!alice_has(&schema, "minus_minus", &["a", "b", "c"]));
    assert!(!alice_has(&schema, "minus_minus", &["a", "c"]));
    assert!(alice_has(&schema, "minus_minus", &["a"]));
    // `(parent->viewer + a) - b`.
    assert!(alice_has(&schema, "arrow_chain", &["parent"]));
    assert!(!alice_has(&schema, "arrow_chain", &["parent", "b"]));
}

/// Needs zanzi's lowering of `nil` (the empty set).
#[test]
fn nil_is_the_empty_set() {
    let schema = compile(
        "definition user {}

definition folder {
    relation viewer: user
}

definition doc {
    relation parent: folder
    relation a: user
    relation b: user
    relation c: user
    permission with_nil = (a + nil) - b
    permission only_nil = nil
}
",
    );
    assert!(alice_has(&schema, "with_nil", &["a"]));
    assert!(!alice_has(&schema, "with_nil", &["a", "b"]));
    assert!(!alice_has(&schema, "only_nil", &["a", "b", "c"]));
}

#[test]
fn precedence_warnings_point_at_the_operators() {
    let (sources, compiled) = compile_source("schema.zed", PRECEDENCE);
    let found: Vec<(usize, usize, &str)> = compiled
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.line_col(d.primary.span.file, d.primary.span.start);
            (at.line, at.column, d.code.as_str())
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (12, 35, "W0601"),
            (13, 31, "W0601"),
            (14, 29, "W0601"),
            (15, 36, "W0601"),
            (16, 49, "W0601"),
        ]
    );
}

/// (line, column, code) of every diagnostic of a schema.
fn diagnostics(src: &str) -> Vec<(usize, usize, String)> {
    let (sources, compiled) = compile_source("schema.zed", src);
    compiled
        .diagnostics
        .iter()
        .map(|d| {
            let at = sources.line_col(d.primary.span.file, d.primary.span.start);
            (at.line, at.column, d.code.to_string())
        })
        .collect()
}

#[test]
fn each_error_at_its_line_and_column() {
    let cases: &[(&str, (usize, usize, &str))] = &[
        // A relation without `:`.
        (
            "definition user {}\ndefinition d {\n  relation a user\n}\n",
            (3, 14, "E0601"),
        ),
        // A permission without `=`.
        (
            "definition d {\n  relation a: d\n  permission p a\n}\n",
            (3, 16, "E0601"),
        ),
        // An operator without a right side.
        (
            "definition d {\n  relation a: d\n  permission p = a +\n}\n",
            (3, 21, "E0601"),
        ),
        // An unclosed parenthesis.
        (
            "definition d {\n  relation a: d\n  permission p = (a\n}\n",
            (3, 20, "E0601"),
        ),
        // A definition left open.
        ("definition d {\n  relation a: d\n", (2, 16, "E0601")),
        // Two members on one line.
        (
            "definition d {\n  relation a: d relation b: d\n}\n",
            (2, 17, "E0601"),
        ),
        // A character SpiceDB does not know.
        (
            "definition d {\n  relation a: d\n  permission p = a ? a\n}\n",
            (3, 20, "E0601"),
        ),
        // An unknown arrow function.
        (
            "definition d {\n  relation a: d\n  permission p = a.some(a)\n}\n",
            (3, 20, "E0601"),
        ),
        // A nested arrow.
        (
            "definition d {\n  relation a: d\n  permission p = a->a->a\n}\n",
            (3, 22, "E0601"),
        ),
        // An unterminated comment.
        ("definition d {}\n/* open\n", (2, 1, "E0601")),
        // An unknown use flag.
        ("use everything\ndefinition d {}\n", (1, 5, "E0601")),
        // A caveat no relation uses: zanzi's warning, at its name.
        (
            "caveat c(x int) {\n  x == 1\n}\ndefinition d {}\n",
            (1, 8, "W0141"),
        ),
        // A caveated type naming no caveat.
        (
            "definition d {\n  relation a: d with c\n}\n",
            (2, 22, "E0140"),
        ),
        // A caveat whose CEL does not type-check, at the place in the file.
        (
            "caveat c(x int) {\n  x == 'a'\n}\ndefinition d {\n  relation a: d with c\n}\n",
            (2, 3, "E0147"),
        ),
        // An unknown parameter type.
        (
            "caveat c(x integer) {\n  x == 1\n}\ndefinition d {\n  relation a: d with c\n}\n",
            (1, 12, "E0143"),
        ),
        // Expiration without `use expiration`.
        (
            "definition d {\n  relation a: d with expiration\n}\n",
            (2, 22, "E0601"),
        ),
        // An import.
        (
            "use import\nimport \"x.zed\"\ndefinition d {}\n",
            (2, 1, "E0602"),
        ),
        // An unknown partial.
        ("definition d {\n  ...p\n}\n", (2, 6, "E0630")),
    ];
    for (src, expected) in cases {
        let (line, column, code) = *expected;
        assert_eq!(
            diagnostics(src),
            vec![(line, column, code.to_owned())],
            "{src}"
        );
    }
}

#[test]
fn errors_do_not_cascade_into_analysis() {
    // `view` failed to parse: `edit = view` is not reported as unknown.
    let src = "definition user {}\ndefinition d {\n  relation a: user\n  permission view = a +\n  permission edit = view\n}\n";
    assert_eq!(diagnostics(src), vec![(4, 24, "E0601".to_owned())]);
    // A caveat that does not parse: what names it is not reported unknown.
    let src = "caveat c(x int {\n  x == 1\n}\ndefinition user {}\ndefinition d {\n  relation a: user with c\n  permission p = a\n}\n";
    assert_eq!(diagnostics(src), vec![(1, 16, "E0601".to_owned())]);
}

/// With `use self`, `self` is the resource itself as a subject: SpiceDB's
/// `user:alice#me@user:alice`. Without it, `self` is a name like any other.
#[test]
fn self_is_the_object_itself() {
    let schema = compile(
        "use self\n\ndefinition user {\n  relation friend: user\n  permission view = self + friend\n}\n",
    );
    let store = MemoryStore::new();
    let rev = zanzi::store::write_validated(
        &store,
        &schema,
        &["user:ann#friend@user:bob".parse().unwrap()],
        &[],
    )
    .unwrap();
    let engine = Engine::new(&schema, &store);
    let ask = |q: &str| engine.check_tuple(&q.parse().unwrap(), rev).unwrap();
    assert!(ask("user:ann#view@user:ann"));
    assert!(ask("user:ann#view@user:bob"));
    assert!(!ask("user:ann#view@user:cy"));
    assert!(!ask("user:bob#view@user:ann"));
}
