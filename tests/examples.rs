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

/// Every `zanzi` block of docs/language.md compiles without a diagnostic:
/// the language's own page shows only what the compiler accepts (mistakes
/// are shown in `text` blocks).
#[test]
fn the_language_page_examples_compile() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md")).unwrap();
    let mut blocks = 0;
    for (i, block) in page.split("```zanzi\n").skip(1).enumerate() {
        let code = block.split("```").next().unwrap();
        let (_, compiled) = zanzi::compile_source(&format!("language-{i}.zanzi"), code);
        assert!(
            compiled.diagnostics.is_empty(),
            "docs/language.md, zanzi block {}: {:?}\n{code}",
            i + 1,
            compiled
                .diagnostics
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect::<Vec<_>>()
        );
        blocks += 1;
    }
    assert!(blocks > 5, "only {blocks} zanzi blocks found");
}
