//! The formatter is idempotent, keeps every comment, and never changes what
//! a schema means (the compiled IR hash).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use zanzi::source::SourceMap;

fn format(text: &str) -> Option<String> {
    let mut sources = SourceMap::new();
    let file = sources.add("f.zanzi", text);
    let mut diags = Vec::new();
    let parsed = zanzi::syntax::parse(file, sources.text(file), &mut diags);
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(zanzi::syntax::fmt::format(&parsed, text))
}

fn comments(text: &str) -> Vec<String> {
    let mut sources = SourceMap::new();
    let file = sources.add("f.zanzi", text);
    let mut diags = Vec::new();
    let parsed = zanzi::syntax::parse(file, sources.text(file), &mut diags);
    parsed
        .comments
        .iter()
        .map(|c| c.text.trim_end().to_owned())
        .collect()
}

fn hash(text: &str) -> Option<String> {
    zanzi::compile_source("f.zanzi", text)
        .1
        .schema
        .map(|s| s.hash)
}

fn schema_files(dir: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "zanzi") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn check_file(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let Some(once) = format(&text) else { return };
    let twice = format(&once)
        .unwrap_or_else(|| panic!("{}: formatted output does not parse", path.display()));
    assert_eq!(
        once,
        twice,
        "{}: formatting is not idempotent",
        path.display()
    );
    assert_eq!(
        comments(&text),
        comments(&once),
        "{}: comments changed",
        path.display()
    );
    assert_eq!(
        hash(&text),
        hash(&once),
        "{}: formatting changed the IR",
        path.display()
    );
}

#[test]
fn idempotent_on_examples_and_ui_files() {
    let files: Vec<_> = schema_files("examples")
        .into_iter()
        .chain(schema_files("tests/ui"))
        .collect();
    assert!(files.len() > 6);
    for path in files {
        check_file(&path);
    }
}

#[test]
fn examples_are_already_formatted() {
    for path in schema_files("examples") {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            format(&text).unwrap(),
            text,
            "{} is not formatted",
            path.display()
        );
    }
}

#[test]
fn canonical_layout() {
    let messy = "// header\n\n\n/// People.\nnamespace   user{ }\nnamespace doc {\n\n\n  relation owner :user|user:*   // who owns it\n   /// Readers.\n relation viewer: user\n  permission view=owner|(viewer &owner)-owner /* inline */\n}\n// trailing\n";
    let expected = "// header\n\n/// People.\nnamespace user {}\n\nnamespace doc {\n  relation owner: user | user:* // who owns it\n  /// Readers.\n  relation viewer: user\n  permission view = owner | (viewer & owner) - owner /* inline */\n}\n// trailing\n";
    let formatted = format(messy).unwrap();
    assert_eq!(formatted, expected);
    assert_eq!(format(&formatted).unwrap(), formatted);
}

#[test]
fn blank_lines_between_members_are_kept_once() {
    let text = "namespace a {\n  relation x: a\n\n\n\n  relation y: a\n  relation z: a\n}\n";
    assert_eq!(
        format(text).unwrap(),
        "namespace a {\n  relation x: a\n\n  relation y: a\n  relation z: a\n}\n"
    );
}

/// `zanzi fmt` passes over another system's schemas in a directory and
/// refuses one named on its own (exit 2), pointing to `zanzi convert`;
/// neither file is touched.
#[test]
fn foreign_schemas_are_not_formatted() {
    let dir = tempfile::tempdir().unwrap();
    let zed = dir.path().join("schema.zed");
    let text = "definition user {}\ndefinition doc {\n    relation viewer: user\n}\n";
    std::fs::write(&zed, text).unwrap();
    let run = |arg: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"))
            .args(["fmt"])
            .arg(arg)
            .output()
            .unwrap()
    };
    let walked = run(dir.path());
    assert_eq!(walked.status.code(), Some(0));
    let named = run(&zed);
    assert_eq!(named.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&named.stderr);
    assert!(stderr.contains("zanzi convert"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&zed).unwrap(), text);
}

#[test]
fn conditions_and_traits_format_canonically() {
    let text = "namespace user {}\n  /// Office.\ncondition   office (ip:ipaddress,cidrs : list< string >,) {\n      cidrs.exists(c, ip.in_cidr(c)) &&\n        true // both\n        }\ncondition short() {   true   }\nnamespace doc { relation r: user with office  and  expiration|user with expiration // why\n}\n";
    let once = format(text).unwrap();
    assert_eq!(
        once,
        "namespace user {}\n\n/// Office.\ncondition office(ip: ipaddress, cidrs: list<string>) {\n  cidrs.exists(c, ip.in_cidr(c)) &&\n    true // both\n}\n\ncondition short() { true }\n\nnamespace doc {\n  relation r: user with office and expiration | user with expiration // why\n}\n"
    );
    assert_eq!(format(&once).unwrap(), once);
    assert!(hash(text).is_some());
    assert_eq!(hash(text), hash(&once));
}

#[test]
fn a_multi_line_string_in_a_condition_is_kept_as_written() {
    let text = "namespace user {}\ncondition c(s: string) {\n    s == '''a\n  b'''\n}\nnamespace doc {\n  relation r: user with c\n}\n";
    let once = format(text).unwrap();
    assert!(once.contains("{\n    s == '''a\n  b'''\n}"), "{once}");
    assert_eq!(format(&once).unwrap(), once);
    assert!(hash(text).is_some());
    assert_eq!(hash(text), hash(&once));
}
