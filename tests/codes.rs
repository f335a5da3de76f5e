//! Every diagnostic code is documented, its examples do what they say, and
//! `docs/errors.md` is generated from the same text `zanzi explain` prints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use zanzi::diagnostics::codes::ALL;

/// The first code block after `heading`, with its language.
fn block_after<'a>(text: &'a str, heading: &str) -> Option<(&'a str, &'a str)> {
    let rest = &text[text.find(heading)?..];
    let fence = rest.find("```")? + 3;
    let info_end = fence + rest[fence..].find('\n')?;
    let start = info_end + 1;
    let end = rest[start..].find("```")?;
    Some((&rest[fence..info_end], &rest[start..start + end]))
}

/// The codes a code block produces: a schema (`zanzi`, or a foreign one:
/// `ts` for Keto, `zed` for SpiceDB, `fga` and `json` for OpenFGA) or a
/// validation file (`yaml`).
fn codes_of(language: &str, text: &str) -> Vec<String> {
    let schema_file = match language {
        "zanzi" => Some("example.zanzi"),
        "ts" => Some("example.keto.ts"),
        "zed" => Some("example.zed"),
        "fga" => Some("example.fga"),
        "json" => Some("example.json"),
        _ => None,
    };
    match language {
        _ if schema_file.is_some() => {
            let (_, compiled) = zanzi::compile_source(schema_file.unwrap_or_default(), text);
            compiled
                .diagnostics
                .iter()
                .map(|d| d.code.to_string())
                .collect()
        }
        "yaml" => {
            let mut sources = zanzi::source::SourceMap::new();
            let file = sources.add("example.yaml", text);
            let outcome = zanzi::validation::run(&mut sources, file, std::path::Path::new("."));
            outcome
                .diagnostics
                .iter()
                .map(|d| d.code.to_string())
                .collect()
        }
        other => panic!("unknown example language `{other}`"),
    }
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
        let (language, fixed) = block_after(text, "## Fixed").unwrap();
        let reported = codes_of(language, fixed);
        assert!(
            reported.is_empty(),
            "{code}: the Fixed example reports {reported:?}"
        );
        if code.as_str() == "E0008" {
            continue; // Markdown cannot hold invalid UTF-8; tests/robustness.rs covers it.
        }
        let (language, bad) = block_after(text, "## Bad").unwrap();
        let reported = codes_of(language, bad);
        assert!(
            reported.contains(&code.to_string()),
            "{code}: the Bad example reports {reported:?}"
        );
    }
}

#[test]
fn errors_md_is_generated_from_the_explanations() {
    let generated = zanzi::diagnostics::codes::errors_md();
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
