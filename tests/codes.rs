//! Every diagnostic code is documented, its examples do what they say, and
//! `docs/errors.md` is generated from the same text `zanzi explain` prints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use zanzi::diagnostics::codes::ALL;

/// The first ```zanzi block after `heading`.
fn block_after<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let rest = &text[text.find(heading)?..];
    let start = rest.find("```zanzi\n")? + "```zanzi\n".len();
    let end = rest[start..].find("```")?;
    Some(&rest[start..start + end])
}

#[test]
fn every_code_has_a_title_and_both_examples() {
    for (code, text) in ALL {
        assert!(
            text.starts_with(&format!("# {code}: ")),
            "docs/codes/{code}.md must start with `# {code}: title`"
        );
        assert!(!code.title().is_empty(), "{code} has no title");
        assert!(
            block_after(text, "## Bad").is_some(),
            "{code} has no Bad example"
        );
        assert!(
            block_after(text, "## Fixed").is_some(),
            "{code} has no Fixed example"
        );
    }
}

#[test]
fn bad_examples_report_their_code_and_fixed_ones_are_clean() {
    for (code, text) in ALL {
        let fixed = block_after(text, "## Fixed").unwrap();
        let (_, compiled) = zanzi::compile_source("fixed.zanzi", fixed);
        assert!(
            compiled.diagnostics.is_empty(),
            "{code}: the Fixed example reports {:?}",
            compiled
                .diagnostics
                .iter()
                .map(|d| (d.code, &d.message))
                .collect::<Vec<_>>()
        );
        if code.as_str() == "E0008" {
            continue; // Markdown cannot hold invalid UTF-8; tests/robustness.rs covers it.
        }
        let bad = block_after(text, "## Bad").unwrap();
        let (_, compiled) = zanzi::compile_source("bad.zanzi", bad);
        let codes: Vec<_> = compiled.diagnostics.iter().map(|d| d.code).collect();
        assert!(
            codes.contains(code),
            "{code}: the Bad example reports {codes:?}"
        );
    }
}

#[test]
fn errors_md_is_generated_from_the_explanations() {
    let generated = zanzi::cli::explain::errors_md();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md");
    if std::env::var_os("ZANZI_BLESS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/errors.md is out of date: run `ZANZI_BLESS=1 cargo test --test codes`"
    );
}
