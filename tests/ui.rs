//! UI tests: each file in `tests/ui/` holds one mistake (or a few, in
//! `many_errors`), marked `//~ CODE` on the line of each primary label. The
//! marks must match exactly, and the output of `zanzi validate` (human and
//! JSON) is snapshotted. Directories in `tests/ui/` are one schema each,
//! except `foreign/`, which holds single foreign schemas (`#~ CODE` marks).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// (file name, line, code) of every `//~ CODE` (or `#~ CODE`) mark.
fn marks(path: &Path) -> BTreeSet<(String, usize, String)> {
    let files: Vec<_> = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut marks = BTreeSet::new();
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for (i, line) in text.lines().enumerate() {
            // `#~` in foreign files whose comments start with `#` (OpenFGA).
            if let Some((_, codes)) = line.split_once("//~").or_else(|| line.split_once("#~")) {
                for code in codes.split_whitespace() {
                    marks.insert((relative(&file), i + 1, code.to_owned()));
                }
            }
        }
    }
    marks
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

fn validate(path: &Path, format: &str) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_zanzi"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .args(["validate", "--format", format, &relative(path)])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

fn check(path: &Path) {
    let (json, json_code) = validate(path, "json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let reported: BTreeSet<(String, usize, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap() as usize,
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        marks(path),
        reported,
        "{}: marks and diagnostics differ",
        path.display()
    );
    let has_error = report["summary"]["errors"].as_u64().unwrap() > 0;
    assert_eq!(json_code, if has_error { 1 } else { 0 });

    let (human, human_code) = validate(path, "human");
    assert_eq!(human_code, json_code);
    insta::assert_snapshot!("human", format!("{human}exit status: {human_code}\n"));
    insta::assert_snapshot!("json", json);
}

#[test]
fn ui_files() {
    insta::glob!("ui/*.zanzi", check);
}

/// Foreign schemas (`tests/ui/foreign/`), diagnostics on their own lines.
#[test]
fn ui_foreign_files() {
    insta::glob!("ui/foreign/*", check);
}

/// Name and type errors in conditions' CEL (`tests/ui/cel_types/`).
#[test]
fn ui_cel_type_errors() {
    insta::glob!("ui/cel_types/*.zanzi", check);
}

#[test]
fn ui_schemas_spanning_several_files() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut dirs: Vec<_> = std::fs::read_dir(ui)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("foreign") && !p.ends_with("cel_types"))
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        insta::with_settings!({ snapshot_suffix => name }, { check(&dir) });
    }
}

/// The edits that help lines carry are what an editor's code action or
/// `zanzi fix` applies: applying each one fixes its mistake.
#[test]
fn suggested_edits_fix_the_schema() {
    let cases = [
        // A misspelt name (E0105): the closest name.
        "namespace user {}\nnamespace doc {\n  relation viewer: user\n  permission view = viewr\n}\n",
        // A chained exclusion (E0006): the union it means.
        "namespace user {}\nnamespace doc {\n  relation viewer: user\n  relation banned: user\n  relation muted: user\n  permission view = viewer - banned - muted\n}\n",
        // A `;` after a member (E0001): removed.
        "namespace user {}\nnamespace doc {\n  relation viewer: user;\n}\n",
        // A namespace left open at the end of the file (E0004): closed.
        "namespace user {}\nnamespace doc {\n  relation viewer: user // open\n",
        // A namespace left open before the next (E0003): closed there.
        "namespace doc {\n  relation viewer: user\nnamespace user {}\n",
    ];
    for text in cases {
        let (_, before) = zanzi::compile_source("doc.zanzi", text);
        assert!(before.has_errors(), "{text}");
        let edits: Vec<_> = before
            .diagnostics
            .iter()
            .filter_map(|d| d.help.as_ref()?.edit.clone())
            .collect();
        assert_eq!(edits.len(), 1, "{:?}", before.diagnostics);
        let fixed = edits[0].apply(text).unwrap();
        let (sources, after) = zanzi::compile_source("doc.zanzi", &fixed);
        assert!(
            !after.has_errors(),
            "{fixed}\n{}",
            zanzi::diagnostics::render_plain(&sources, &after.diagnostics)
        );
    }
}
