//! Loading an IR file re-validates it: tampered, mismatched or inconsistent
//! files are rejected with a clear error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use zanzi::ir::{IrError, Schema};

const SOURCE: &str = "namespace user {}\nnamespace group {\n  relation member: user | group#member\n}\nnamespace doc {\n  relation parent: doc\n  relation viewer: user | group#member\n  relation banned: user\n  permission view = (viewer | parent->view) - banned\n}\n";

fn compiled() -> Schema {
    zanzi::compile_source("s.zanzi", SOURCE).1.schema.unwrap()
}

/// Re-hashes a hand-edited document, as anyone editing the file could.
fn rehash(value: serde_json::Value) -> String {
    let mut schema: Schema = serde_json::from_value(value).unwrap();
    schema.hash = schema.content_hash();
    serde_json::to_string(&schema).unwrap()
}

#[test]
fn round_trips() {
    let schema = compiled();
    assert_eq!(Schema::from_json(&schema.to_json()).unwrap(), schema);
    assert!(schema.hash.starts_with("sha256:"));
}

#[test]
fn rehash_matches_the_compiler() {
    let schema = compiled();
    let value: serde_json::Value = serde_json::from_str(&schema.to_json()).unwrap();
    assert_eq!(Schema::from_json(&rehash(value)).unwrap(), schema);
}

#[test]
fn a_modified_file_is_rejected() {
    let json = compiled().to_json().replace("\"banned\"", "\"allowed\"");
    assert!(matches!(
        Schema::from_json(&json),
        Err(IrError::HashMismatch { .. })
    ));
}

#[test]
fn another_format_version_is_rejected() {
    let mut value: serde_json::Value = serde_json::from_str(&compiled().to_json()).unwrap();
    value["format_version"] = 99.into();
    let err = Schema::from_json(&rehash(value)).unwrap_err();
    assert!(matches!(err, IrError::Version { found: 99, .. }), "{err}");
}

#[test]
fn unknown_fields_and_garbage_are_rejected() {
    let mut value: serde_json::Value = serde_json::from_str(&compiled().to_json()).unwrap();
    value["extra"] = true.into();
    assert!(matches!(
        Schema::from_json(&value.to_string()),
        Err(IrError::Json(_))
    ));
    assert!(matches!(
        Schema::from_json("not json"),
        Err(IrError::Json(_))
    ));
    assert!(matches!(Schema::from_json("{}"), Err(IrError::Json(_))));
}

#[test]
fn inconsistent_ids_are_rejected_even_when_rehashed() {
    let original: serde_json::Value = serde_json::from_str(&compiled().to_json()).unwrap();
    // A computed reference out of range.
    let mut value = original.clone();
    let view = value["relations"]
        .as_array_mut()
        .unwrap()
        .last_mut()
        .unwrap();
    view["kind"]["rewrite"]["subtract"]["relation"] = 999.into();
    assert!(matches!(
        Schema::from_json(&rehash(value)),
        Err(IrError::Invalid(_))
    ));
    // A permission excluding itself (unstratified).
    let mut value = original.clone();
    let view_id = value["relations"].as_array().unwrap().len() - 1;
    let view = value["relations"]
        .as_array_mut()
        .unwrap()
        .last_mut()
        .unwrap();
    view["kind"]["rewrite"]["subtract"]["relation"] = view_id.into();
    let err = Schema::from_json(&rehash(value)).unwrap_err();
    assert!(err.to_string().contains("exclusion"), "{err}");
    // A relation listed by the wrong namespace.
    let mut value = original;
    value["namespaces"][0]["relations"] = serde_json::json!([0]);
    assert!(matches!(
        Schema::from_json(&rehash(value)),
        Err(IrError::Invalid(_))
    ));
}

#[test]
fn errors_read_well() {
    let json = compiled().to_json().replace("\"banned\"", "\"allowed\"");
    let message = Schema::from_json(&json).unwrap_err().to_string();
    assert!(message.contains("modified after compilation"), "{message}");
}

#[test]
fn the_deepest_legal_schema_loads_back() {
    // 64 parentheses alternating `|` and `&`: the deepest rewrite the compiler accepts.
    let mut expr = "viewer".to_owned();
    for i in 0..64 {
        let op = if i % 2 == 0 { "|" } else { "&" };
        expr = format!("(viewer {op} {expr})");
    }
    let source =
        format!("namespace doc {{\n  relation viewer: doc\n  permission view = {expr}\n}}\n");
    let (_, compiled) = zanzi::compile_source("deep.zanzi", &source);
    assert!(compiled.diagnostics.is_empty());
    let schema = compiled.schema.unwrap();
    assert_eq!(Schema::from_json(&schema.to_json()).unwrap(), schema);
}

#[test]
fn hostile_nesting_is_refused_without_overflow() {
    let json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(Schema::from_json(&json), Err(IrError::Invalid(_))));
}

#[test]
fn subject_types_and_edges_are_derived_on_compile_and_on_load() {
    use zanzi::ir::graph::EdgeKind;
    let source = "namespace user {}\nnamespace bot {}\nnamespace folder {\n  relation viewer: user\n}\nnamespace doc {\n  relation parent: folder\n  relation banned: bot\n  relation editor: user\n  permission view = (editor | parent->viewer) - banned\n}\n";
    let compiled = zanzi::compile_source("s.zanzi", source).1.schema.unwrap();
    let loaded = Schema::from_json(&compiled.to_json()).unwrap();
    for schema in [&compiled, &loaded] {
        let ns = |name: &str| schema.namespace_id(name).unwrap();
        let rel = |namespace: &str, name: &str| schema.relation_id(ns(namespace), name).unwrap();
        // Neither the tupleset's objects nor the subtracted side are candidates.
        assert_eq!(schema.subject_types(rel("doc", "view")), [ns("user")]);
        assert_eq!(schema.subject_types(rel("doc", "parent")), [ns("folder")]);
        let view: Vec<_> = schema
            .dependency_edges()
            .iter()
            .filter(|e| e.from == rel("doc", "view"))
            .map(|e| (e.to, e.kind, e.negative))
            .collect();
        assert_eq!(
            view,
            [
                (rel("doc", "editor"), EdgeKind::Computed, false),
                (rel("doc", "parent"), EdgeKind::Tupleset, false),
                (
                    rel("folder", "viewer"),
                    EdgeKind::Arrow(rel("doc", "parent")),
                    false
                ),
                (rel("doc", "banned"), EdgeKind::Computed, true),
            ]
        );
    }
}
