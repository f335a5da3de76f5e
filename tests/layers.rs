//! The library's modules form layers: each imports only from layers below
//! it (docs/architecture.md). This test reads every `crate::…` and
//! `super::…` path in `src/` and fails on an upward edge, on a module the
//! list does not place, and on a cycle between the files of one module.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom up. Modules on one line are one layer; within a layer, only the
/// edges listed in [`SAME_LAYER`] are allowed.
const LAYERS: &[&[&str]] = &[
    &["source", "diagnostics"],
    &["ir"],
    &["condition"],
    &["tuple"],
    &["syntax"],
    &["foreign"],
    &["analysis"],
    &["load"],
    &["store"],
    &["engine"],
    &["validation"],
    &["api"],
    &["server", "client"],
    &["cli"],
];

const SAME_LAYER: &[(&str, &str)] = &[("diagnostics", "source")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `src/cli/tuples/mod.rs` → `[cli, tuples]`.
fn module_of(file: &Path, src: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The code of a file without comments and string contents, so that a path
/// in a doc comment or a message is not read as an import.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every module path a file names, resolved from the crate root: `crate::a::b`,
/// `super::b` and the members of groups such as `crate::{a, b::c}`.
fn referenced_paths(module: &[String], code: &str, is_mod_file: bool) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != ':';
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let (base, len) = if starts_word && rest.starts_with("crate::") {
            (Some(Vec::new()), 7)
        } else if starts_word && rest.starts_with("super::") {
            // `super` of `a/b.rs` is `a`; of `a/b/mod.rs` also `a`.
            let mut base = module.to_vec();
            let _ = is_mod_file;
            base.pop();
            (Some(base), 7)
        } else {
            (None, 1)
        };
        let Some(mut base) = base else {
            i += len;
            continue;
        };
        let mut j = i + len;
        // Further `super::` segments.
        loop {
            let next: String = bytes[j..bytes.len().min(j + 7)].iter().collect();
            if next == "super::" {
                base.pop();
                j += 7;
            } else {
                break;
            }
        }
        collect_tree(&bytes, &mut j, base, &mut found);
        i = j.max(i + 1);
    }
    found
}

/// Reads `a::b::{c, d::e}` at `*at`, pushing each full path.
fn collect_tree(chars: &[char], at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let skip_space = |at: &mut usize| {
        while *at < chars.len() && chars[*at].is_whitespace() {
            *at += 1;
        }
    };
    skip_space(at);
    if *at < chars.len() && chars[*at] == '{' {
        *at += 1;
        loop {
            skip_space(at);
            if *at >= chars.len() || chars[*at] == '}' {
                *at += 1;
                return;
            }
            collect_tree(chars, at, prefix.clone(), out);
            skip_space(at);
            if *at < chars.len() && chars[*at] == ',' {
                *at += 1;
            }
        }
    }
    let mut path = prefix;
    loop {
        let start = *at;
        while *at < chars.len() && is_ident(chars[*at]) {
            *at += 1;
        }
        if *at == start {
            break;
        }
        path.push(chars[start..*at].iter().collect());
        if chars.get(*at) == Some(&':') && chars.get(*at + 1) == Some(&':') {
            *at += 2;
            if chars.get(*at) == Some(&'{') {
                collect_tree(chars, at, path, out);
                return;
            }
        } else {
            break;
        }
    }
    if !path.is_empty() {
        out.push(path);
    }
}

struct Crate {
    /// Every file's module path and the paths it names.
    files: Vec<(PathBuf, Vec<String>, Vec<Vec<String>>)>,
    /// Module paths that are files or directories.
    modules: BTreeSet<Vec<String>>,
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let mut files = Vec::new();
    let mut modules = BTreeSet::new();
    for path in paths {
        let module = module_of(&path, &src);
        let text = std::fs::read_to_string(&path).unwrap();
        let is_mod = path.file_name().is_some_and(|n| n == "mod.rs");
        let refs = referenced_paths(&module, &code_only(&text), is_mod);
        modules.insert(module.clone());
        files.push((path, module, refs));
    }
    Crate { files, modules }
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let krate = read_crate();
    let mut problems = Vec::new();
    for (path, module, refs) in &krate.files {
        let Some(top) = module.first() else {
            continue; // lib.rs and main.rs tie the layers together.
        };
        let Some(from) = layer_of(top) else {
            problems.push(format!(
                "{}: module `{top}` is in no layer of tests/layers.rs (and docs/architecture.md)",
                path.display()
            ));
            continue;
        };
        for target in refs {
            let Some(to_top) = target.first() else {
                continue;
            };
            if to_top == top || !krate.modules.contains(&vec![to_top.clone()]) {
                continue; // Within the module, or an item of the crate root.
            }
            let Some(to) = layer_of(to_top) else {
                continue; // Reported for its own files.
            };
            let allowed =
                to < from || (to == from && SAME_LAYER.contains(&(top.as_str(), to_top.as_str())));
            if !allowed {
                problems.push(format!(
                    "{}: `{top}` uses `{}`, which is not below it",
                    path.display(),
                    target.join("::")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Within one module, its files (children of one parent) must not import
/// each other in a circle: shared pieces go into a file both use.
#[test]
fn sibling_files_do_not_import_each_other_in_a_cycle() {
    let krate = read_crate();
    // The longest module path that is a file or a directory.
    let unit_of = |path: &[String]| -> Vec<String> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| krate.modules.contains(p))
            .unwrap_or_default()
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (_, module, refs) in &krate.files {
        for target in refs {
            let to = unit_of(target);
            let siblings = module.len() == to.len()
                && !module.is_empty()
                && module[..module.len() - 1] == to[..to.len() - 1];
            if siblings && to != *module {
                edges.entry(module.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, bool>,
        stack: &mut Vec<Vec<String>>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.clone(), false);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next) {
                None => visit(next, edges, state, stack, cycles),
                Some(false) => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    let names: Vec<String> = stack[from..]
                        .iter()
                        .chain([next])
                        .map(|n| n.join("::"))
                        .collect();
                    cycles.push(names.join(" -> "));
                }
                Some(true) => {}
            }
        }
        stack.pop();
        state.insert(node.clone(), true);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in edges.keys() {
        if !state.contains_key(node) {
            visit(node, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// The checker itself: an upward path, a grouped one and a `super` chain
/// are all seen.
#[test]
fn the_reader_sees_grouped_and_relative_paths() {
    let module = vec!["cli".to_owned(), "tuples".to_owned(), "write".to_owned()];
    let code = code_only(
        "use crate::{store::{Revision, TupleStore}, tuple};\n\
         use super::super::local::Format; // crate::server in a comment\n\
         let s = \"crate::cli\";",
    );
    let found: Vec<String> = referenced_paths(&module, &code, false)
        .iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        found,
        [
            "store::Revision",
            "store::TupleStore",
            "tuple",
            "cli::local::Format"
        ]
    );
}
