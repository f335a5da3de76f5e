//! Unit tests: OPL read into zanzi's tree, shown as zanzi source.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::parse;
use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::fmt;

/// The file as zanzi source, and the codes with 1-based line:column.
fn read(src: &str) -> (String, Vec<String>) {
    let mut diags = Vec::new();
    let parsed = parse(FileId(0), src, &mut diags);
    (fmt::format(&parsed, src), codes(src, &diags))
}

fn codes(src: &str, diags: &[Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            let before = &src[..d.primary.span.start as usize];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("{}@{line}:{column}", d.code)
        })
        .collect()
}

/// A class `Doc` with relations `a`..`e`, `p` (parents) and the given permits.
fn doc(permits: &str) -> String {
    format!(
        "class User implements Namespace {{}}\n\
         class Doc implements Namespace {{\n\
         related: {{ a: User[]; b: User[]; c: User[]; d: User[]; p: Doc[] }}\n\
         permits = {{\n{permits}\n}}\n}}\n"
    )
}

/// The permission lines of `doc(permits)` as zanzi source, and the codes.
fn permits(permits: &str) -> (Vec<String>, Vec<String>) {
    let (out, codes) = read(&doc(permits));
    let lines = out
        .lines()
        .filter(|l| l.trim_start().starts_with("permission"))
        .map(|l| l.trim().to_owned())
        .collect();
    (lines, codes)
}

fn r(name: &str) -> String {
    format!("this.related.{name}.includes(ctx.subject)")
}

#[test]
fn classes_relations_and_types() {
    let src = r#"import { Namespace, SubjectSet, Context } from "@ory/keto-namespace-types"

class User implements Namespace {}
class Group implements Namespace {
  related: {
    members: (User | Group)[];
  };
}
export class File implements Namespace {
  related: {
    "owners": Array<User | SubjectSet<Group, "members">>,
    viewers: SubjectSet<Group, 'members'>[]
    parents: Array<SubjectSet<Group, "members">>
    editors: User[], siblings: File[]
  }
}
"#;
    let (out, codes) = read(src);
    assert_eq!(codes, Vec::<String>::new());
    assert_eq!(
        out,
        "namespace `User` {}\n\n\
         namespace `Group` {\n  relation members: `User` | `Group`\n}\n\n\
         namespace `File` {\n  relation owners: `User` | `Group`#members\n  \
         relation viewers: `Group`#members\n  relation parents: `Group`#members\n  \
         relation editors: `User`\n  relation siblings: `File`\n}\n"
    );
}

#[test]
fn names_are_verbatim_and_spans_inside_quotes() {
    let src = "class R implements Namespace { related: { \"scope.rel\": SubjectSet<R, \"scope.rel\">[] } }";
    let mut diags = Vec::new();
    let parsed = parse(FileId(0), src, &mut diags);
    let crate::syntax::ast::Item::Namespace(ns) = &parsed.ast.items[0] else {
        panic!()
    };
    let crate::syntax::ast::Member::Relation(rel) = &ns.members[0] else {
        panic!()
    };
    assert!(rel.name.verbatim && ns.name.verbatim);
    assert_eq!(&src[rel.name.span.range()], "scope.rel");
    let crate::syntax::ast::TypeRef::SubjectSet(t, r) = rel.types[0] else {
        panic!()
    };
    assert_eq!(
        (&src[t.span.range()], &src[r.span.range()]),
        ("R", "scope.rel")
    );
}

#[test]
fn terms_arrows_and_bracket_access() {
    let (lines, codes) = permits(&format!(
        "x: (ctx: Context): boolean => {},\n\
         y: (ctx) => this.permits.x(ctx) || this.permits[\"x\"](ctx),\n\
         z: (ctx: Context) => this.related.p.traverse((q) => q.permits.z(ctx)) ||\n\
            this.related[\"p\"].traverse(q => q.related.a.includes(ctx.subject,),),\n",
        r("a")
    ));
    assert_eq!(codes, Vec::<String>::new());
    assert_eq!(
        lines,
        [
            "permission x = a",
            "permission y = x | x",
            "permission z = p->z | p->a"
        ]
    );
}

#[test]
fn a_union_in_a_traverse_distributes() {
    let (lines, codes) = permits(
        "v: (ctx) => this.related.p.traverse((x) => x.permits.v(ctx) || (x.related.a.includes(ctx.subject))) && this.related.b.includes(ctx.subject)",
    );
    assert_eq!(codes, Vec::<String>::new());
    assert_eq!(lines, ["permission v = (p->v | p->a) & b"]);
}

#[test]
fn negation_under_and_is_exclusion() {
    let (lines, codes) = permits(&format!(
        "v: (ctx) => {a} && !{b},\nw: (ctx) => !{b} && {a},\nx: (ctx) => {a} && !{b} && {c} && !({d}),\n\
         y: (ctx) => {a} && (!({b} || {c})),",
        a = r("a"),
        b = r("b"),
        c = r("c"),
        d = r("d")
    ));
    assert_eq!(codes, Vec::<String>::new());
    assert_eq!(
        lines,
        [
            "permission v = a - b",
            "permission w = a - b",
            "permission x = (a & c) - (b | (d))",
            "permission y = a - (b | c)",
        ]
    );
}

#[test]
fn and_and_or_are_read_left_to_right() {
    let (lines, codes) = permits(&format!(
        "v: (ctx) => {a} || {b} && {c},\nw: (ctx) => {a} && {b} || {c},\nx: (ctx) => {a} || ({b} && {c}),\n\
         y: (ctx) => {a} || {b} && !{c} || {d},",
        a = r("a"),
        b = r("b"),
        c = r("c"),
        d = r("d")
    ));
    assert_eq!(
        lines,
        [
            "permission v = (a | b) & c",
            "permission w = (a & b) | c",
            "permission x = a | (b & c)",
            "permission y = ((a | b) - c) | d",
        ]
    );
    // One warning per mixed region, on its last operator (line 5 is `v`).
    assert_eq!(codes, ["W0601@5:90", "W0601@6:90", "W0601@8:131"]);
}

#[test]
fn negations_without_meaning() {
    let (lines, codes) = permits(&format!(
        "v: (ctx) => !{a},\nw: (ctx) => {a} || !{b},\nx: (ctx) => !{a} && !{b},\ny: (ctx) => this.related.p.traverse((q) => !q.permits.y(ctx)),\n\
         z: (ctx) => this.related.p.traverse((q) => q.permits.y(ctx) && q.permits.z(ctx)),\nok: (ctx) => this.permits.v(ctx),",
        a = r("a"),
        b = r("b")
    ));
    assert_eq!(lines, ["permission ok = v"]);
    assert_eq!(
        codes,
        [
            "E0603@5:13",
            "E0603@6:53",
            "E0603@7:13",
            "E0603@8:44",
            "E0603@9:61"
        ]
    );
}

#[test]
fn broken_names_are_kept() {
    let src = doc(&format!(
        "v: (ctx) => !{a},\nw: (ctx) => this.related.a.include(ctx.subject),\nx: (ctx) => this.permits.v(ctx) || this.permits.w(ctx),",
        a = r("a")
    ));
    let mut diags = Vec::new();
    let parsed = parse(FileId(0), &src, &mut diags);
    assert_eq!(parsed.broken_names, ["v", "w"]);
    assert_eq!(codes(&src, &diags), ["E0603@5:13", "E0601@6:28"]);
}

#[test]
fn syntax_errors_recover_per_entry_permit_and_class() {
    let src = "class User implements Namespace {}\n\
               class Doc implements Namespace {\n\
               related: {\n  a: User\n  b: User[]\n  c: (User | )[]\n  d: User[]\n}\n\
               permits = {\n  v: (ctx) => this.related.a.includes(ctx.subject) this.related.b.includes(ctx.subject),\n  \
               w: (ctx) => { return true },\n  x: (c) => this.permits.v(c),\n  y: (ctx) => this.related.d.includes(ctx.subject),\n}\n}\n\
               class Broken implements Namespac { related: { q: User[] } }\n\
               class Last implements Namespace { related: { r: User[] } }\n";
    let mut diags = Vec::new();
    let parsed = parse(FileId(0), src, &mut diags);
    assert_eq!(
        codes(src, &diags),
        [
            "E0601@4:10",
            "E0601@6:14",
            "E0601@10:52",
            "E0601@11:15",
            "E0601@12:7",
            "E0601@16:25"
        ]
    );
    assert_eq!(
        parsed.broken_names,
        ["a", "c", "v", "w", "x", "Broken", "q"]
    );
    let out = fmt::format(&parsed, src);
    assert!(
        out.contains("relation b: `User`") && out.contains("relation d: `User`"),
        "{out}"
    );
    assert!(
        out.contains("permission y = d") && out.contains("namespace `Last`"),
        "{out}"
    );
    assert_eq!(
        diags[0].message,
        "expected `[]` after the type, found identifier `b`"
    );
}

#[test]
fn unclosed_class_and_end_of_file() {
    let (_, codes) = read("class A implements Namespace {\n  related: { x: A[] }\nclass B implements Namespace {}\nclass C implements Namespace {");
    assert_eq!(codes, ["E0601@3:1", "E0601@4:31"]);
    let (_, codes) =
        read("class A implements Namespace { permits = { v: (ctx) => this.permits.v(ctx) ||");
    assert_eq!(codes, ["E0601@1:78"]);
}

#[test]
fn lexical_errors() {
    let (_, codes) = read("class A implements Namespace { related: { x: A[] } }\n/* never closed");
    assert_eq!(codes, ["E0601@2:1"]);
    let (_, codes) = read("class A implements Namespace { related: { \"x: A[] } }");
    assert_eq!(codes, ["E0601@1:43"]);
    let (_, codes) = read("class A implements Namespace { related: { x$y: A[] } }");
    assert_eq!(codes[0], "E0601@1:44");
}

#[test]
fn jsdoc_documents_the_next_item() {
    let src = "/** A person. */\nclass User implements Namespace {}\n// not a doc\n/**\n * A document.\n *\n * Shared.\n */\nclass Doc implements Namespace {\n  related: {\n    /** Who reads. */\n    viewers: User[]\n  }\n  permits = {\n    /** Reading. */\n    view: (ctx) => this.related.viewers.includes(ctx.subject),\n  }\n}\n";
    let mut diags = Vec::new();
    let parsed = parse(FileId(0), src, &mut diags);
    assert!(diags.is_empty());
    let docs: Vec<Vec<&str>> = parsed
        .ast
        .items
        .iter()
        .flat_map(|item| match item {
            crate::syntax::ast::Item::Namespace(ns) => {
                let mut docs = vec![ns.doc.clone()];
                for m in &ns.members {
                    match m {
                        crate::syntax::ast::Member::Relation(r) => docs.push(r.doc.clone()),
                        crate::syntax::ast::Member::Permission(p) => docs.push(p.doc.clone()),
                        crate::syntax::ast::Member::Error(_) => {}
                    }
                }
                docs
            }
            crate::syntax::ast::Item::Condition(_) | crate::syntax::ast::Item::Error(_) => vec![],
        })
        .collect();
    assert_eq!(
        docs,
        [
            vec!["A person."],
            vec!["A document.", "", "Shared."],
            vec!["Who reads."],
            vec!["Reading."]
        ]
    );
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!(
        "v: (ctx) => {}{}{}",
        "(".repeat(200),
        r("a"),
        ")".repeat(200)
    );
    let (_, codes) = permits(&deep);
    assert_eq!(codes.len(), 1);
    assert!(codes[0].starts_with("E0601"));
}

#[test]
fn long_chains_are_refused_not_overflowed() {
    let terms = vec![r("a"); 5000].join(" || ");
    let (_, codes) = permits(&format!("v: (ctx) => {terms}"));
    assert_eq!(codes.len(), 1);
    assert!(codes[0].starts_with("E0601"));
    let terms = vec![r("a"); 1000].join(" && ");
    let (lines, codes) = permits(&format!("v: (ctx) => {terms} || {}", r("b")));
    assert_eq!((lines.len(), codes.len()), (1, 1));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const WORDS: &[&str] = &[
        "class",
        "implements",
        "Namespace",
        "related",
        "permits",
        "this",
        "ctx",
        "subject",
        "includes",
        "traverse",
        "Array",
        "SubjectSet",
        "User",
        "Context",
        "boolean",
        "import",
        "from",
        "x",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "<",
        ">",
        ":",
        ";",
        ",",
        ".",
        "=",
        "=>",
        "||",
        "&&",
        "!",
        "|",
        "\"m\"",
        "'",
        "/*",
        "*/",
        "/**",
        "//",
        "\n",
        "$",
    ];

    fn check_spans(src: &str) {
        let mut sources = crate::source::SourceMap::new();
        let file = sources.add("fuzz.keto.ts", src);
        let mut diags = Vec::new();
        let _ = crate::foreign::keto::parse(file, src, &mut diags);
        for d in &diags {
            for label in std::iter::once(&d.primary).chain(&d.secondary) {
                assert!(label.span.start <= label.span.end);
                assert!(label.span.end as usize <= src.len());
            }
        }
        let _ = crate::diagnostics::render_plain(&sources, &diags);
    }

    proptest! {
        #[test]
        fn random_text_never_panics(src in "\\PC{0,300}") {
            check_spans(&src);
        }

        #[test]
        fn token_soup_never_panics(words in proptest::collection::vec(proptest::sample::select(WORDS), 0..120)) {
            check_spans(&words.join(" "));
        }

        #[test]
        fn cut_examples_never_panic(cut in 0usize..2000) {
            let src = doc(&format!("v: (ctx) => {} && !{} || this.related.p.traverse((q) => q.permits.v(ctx)),", r("a"), r("b")));
            let cut = src.char_indices().map(|(i, _)| i).rfind(|&i| i <= cut).unwrap_or(0);
            check_spans(&src[..cut]);
        }
    }
}
