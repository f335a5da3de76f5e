//! `fga.mod`: the manifest of an OpenFGA modular model, a YAML mapping
//! `schema: '1.2'` and `contents: [module files…]`, paths relative to the
//! manifest (openfga/language `TransformModFile`). Only the list is read
//! here; the loader reads the modules, which compile as one schema.
//!
//! Like OpenFGA, every problem is reported, not only the first: a missing
//! field, a schema other than `1.2`, an entry that is not an `.fga` path.
//! An entry listed twice is reported too, where OpenFGA would read the
//! module twice and fail on its types defined again.

use std::path::Path;

use super::lexer::span;
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};
use crate::tuple::yaml::{self, Node};

/// The only manifest schema OpenFGA defines.
const SCHEMA: &str = "1.2";

/// One module file named in `contents`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModEntry {
    /// The path as written, relative to the manifest.
    pub path: String,
    /// Where it is written in the manifest.
    pub span: Span,
}

/// Whether `path` names an OpenFGA manifest (`fga.mod`, as `fga` names it).
pub fn is_mod_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("fga.mod"))
}

/// The module files an `fga.mod` lists, in order; the problems found are
/// reported (E0654) and the entries that are still usable returned.
pub fn parse(file: FileId, text: &str, diags: &mut Vec<Diagnostic>) -> Vec<ModEntry> {
    let at = |range: std::ops::Range<usize>| span(file, range.start, range.end);
    let whole = at(0..text.find('\n').unwrap_or(text.len()));
    let root = match yaml::parse(text) {
        Ok(Some(root)) => root,
        Ok(None) => {
            diags.push(
                problem(whole, "`fga.mod` is empty", "no `schema` or `contents`").with_help(HELP),
            );
            return Vec::new();
        }
        Err(err) => {
            let start = err.at.min(text.len());
            let end = text
                .get(start..)
                .and_then(|t| t.chars().next())
                .map_or(start, |c| start + c.len_utf8());
            diags.push(problem(
                at(start..end),
                format!("`fga.mod` is not valid YAML: {}", err.message),
                "here",
            ));
            return Vec::new();
        }
    };
    let Node::Map(..) = root else {
        diags.push(
            problem(
                at(root.range(text)),
                format!("`fga.mod` must be a mapping, found {}", root.describe()),
                "expected `schema:` and `contents:`",
            )
            .with_help(HELP),
        );
        return Vec::new();
    };
    match root.get("schema") {
        None => diags.push(
            problem(
                whole,
                "`fga.mod` has no `schema` field",
                "no `schema: '1.2'`",
            )
            .with_help(HELP),
        ),
        Some(node) => match node.as_str().filter(|_| !node.is_null()) {
            Some(SCHEMA) => {}
            Some(version) => diags.push(
                problem(
                    at(node.range(text)),
                    format!("`fga.mod` schema `{version}` is not supported"),
                    "OpenFGA modular models are schema 1.2",
                )
                .with_help("write `schema: '1.2'`"),
            ),
            None => diags.push(
                problem(
                    at(node.range(text)),
                    format!(
                        "the `fga.mod` schema must be a version, found {}",
                        node.describe()
                    ),
                    "expected `'1.2'`",
                )
                .with_help("write `schema: '1.2'`"),
            ),
        },
    }
    let list = match root.get("contents") {
        None => {
            diags.push(
                problem(
                    whole,
                    "`fga.mod` has no `contents` field",
                    "no module files listed",
                )
                .with_help(HELP),
            );
            return Vec::new();
        }
        Some(Node::Seq(items, _)) => items,
        Some(other) => {
            diags.push(
                problem(
                    at(other.range(text)),
                    format!(
                        "`contents` must be a list of module files, found {}",
                        other.describe()
                    ),
                    "expected a list",
                )
                .with_help(HELP),
            );
            return Vec::new();
        }
    };
    let mut entries: Vec<ModEntry> = Vec::new();
    for item in list {
        let item_span = at(item.range(text));
        let Some(path) = item.as_str().filter(|_| !item.is_null()) else {
            diags.push(problem(
                item_span,
                format!(
                    "a `contents` entry must be a file path, found {}",
                    item.describe()
                ),
                "expected a path such as `core.fga`",
            ));
            continue;
        };
        if !path.ends_with(".fga") {
            diags.push(
                problem(
                    item_span,
                    format!("module files must be `.fga` files, found `{path}`"),
                    "not an `.fga` file",
                )
                .with_help("list the modules' `.fga` files: each starts with `module NAME`"),
            );
            continue;
        }
        if let Some(first) = entries.iter().find(|e| e.path == path) {
            diags.push(
                problem(
                    item_span,
                    format!("`{path}` is listed twice"),
                    "listed again here",
                )
                .with_secondary(first.span, "first listed here")
                .with_help("remove this line"),
            );
            continue;
        }
        entries.push(ModEntry {
            path: path.to_owned(),
            span: item_span,
        });
    }
    entries
}

const HELP: &str = "an `fga.mod` reads `schema: '1.2'` and `contents:` with one module file a line";

fn problem(span: Span, message: impl Into<String>, label: &str) -> Diagnostic {
    Diagnostic::new(codes::E0654, message, Label::new(span, label))
}

/// E0655: a module file the manifest lists cannot be read.
pub fn unreadable(entry: &ModEntry, reason: &str) -> Diagnostic {
    Diagnostic::new(
        codes::E0655,
        format!("cannot read the module file `{}`: {reason}", entry.path),
        Label::new(entry.span, "listed here"),
    )
    .with_note("paths in `fga.mod` are relative to the directory that holds it")
    .with_help("fix the path, or remove the line")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn read(text: &str) -> (Vec<String>, Vec<(String, usize)>) {
        let mut diags = Vec::new();
        let entries = parse(FileId(0), text, &mut diags);
        for d in &diags {
            let spans = std::iter::once(d.primary.span).chain(d.secondary.iter().map(|l| l.span));
            for s in spans {
                assert!(s.start <= s.end && s.end as usize <= text.len(), "{d:?}");
            }
        }
        let at = diags
            .iter()
            .map(|d| {
                let before = text.get(..d.primary.span.start as usize).unwrap_or("");
                (d.code.to_string(), before.matches('\n').count() + 1)
            })
            .collect();
        (entries.into_iter().map(|e| e.path).collect(), at)
    }

    #[test]
    fn lists_the_modules_in_order() {
        let (paths, diags) =
            read("schema: '1.2'\ncontents:\n  - core.fga\n  - issue-tracker/projects.fga\n");
        assert_eq!(paths, ["core.fga", "issue-tracker/projects.fga"]);
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn reports_every_problem_on_its_line() {
        let e = |line| ("E0654".to_owned(), line);
        let cases: &[(&str, &[(String, usize)])] = &[
            ("schema: '1.1'\ncontents:\n  - a.fga\n", &[e(1)]),
            ("schema: 1.2\ncontents:\n  - a.fga\n", &[]),
            ("contents:\n  - a.fga\n", &[e(1)]),
            ("schema: '1.2'\n", &[e(1)]),
            ("schema: '1.2'\ncontents: a.fga\n", &[e(2)]),
            (
                "schema: '1.2'\ncontents:\n  - a.fga\n  - b.json\n  - [x]\n  - a.fga\n",
                &[e(4), e(5), e(6)],
            ),
            ("- a.fga\n", &[e(1)]),
            ("", &[e(1)]),
            ("schema: [\n", &[e(2)]),
            ("schema:\n  - '1.2'\ncontents: []\n", &[e(2)]),
        ];
        for (text, expected) in cases {
            let (_, diags) = read(text);
            assert_eq!(&diags, expected, "{text}");
        }
    }

    #[test]
    fn names_the_manifest_by_its_file_name() {
        assert!(is_mod_file(Path::new("store/fga.mod")));
        assert!(!is_mod_file(Path::new("go.mod")));
        assert!(!is_mod_file(Path::new("fga.mod/core.fga")));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_manifests_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            read(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn manifest_token_soups_never_panic(parts in prop::collection::vec(
            prop::sample::select(&["schema:", "contents:", "'1.2'", "1.2", "\n", "  - ", "a.fga", "[", "]", "{", ":", "#", "\"", "-", " "][..]),
            0..40,
        )) {
            read(&parts.concat());
        }
    }
}
