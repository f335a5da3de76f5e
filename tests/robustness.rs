//! Bad input never panics: random bytes, random token soup, hostile sizes.
//! Every diagnostic span lies inside its source, on character boundaries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use zanzi::source::SourceMap;

/// Compiles `text` and renders every output format; returns the diagnostics' codes.
fn front_end(text: &str) -> Vec<&'static str> {
    let (sources, compiled) = zanzi::compile_source("fuzz.zanzi", text);
    for d in &compiled.diagnostics {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            let span = label.span;
            assert!(span.start <= span.end, "{d:?}");
            assert!(
                (span.end as usize) <= text.len(),
                "span past the end: {d:?}"
            );
            assert!(text.is_char_boundary(span.start as usize), "{d:?}");
            assert!(text.is_char_boundary(span.end as usize), "{d:?}");
        }
    }
    let _ = zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics);
    let _ = zanzi::diagnostics::render_json(&sources, &compiled.diagnostics);
    let _ = zanzi::diagnostics::render_github(&sources, &compiled.diagnostics);
    if let Some(schema) = &compiled.schema {
        let back = zanzi::ir::Schema::from_json(&schema.to_json()).unwrap();
        assert_eq!(&back, schema);
    }
    compiled
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

fn format(text: &str) -> Option<String> {
    let mut sources = SourceMap::new();
    let file = sources.add("f.zanzi", text);
    let mut diags = Vec::new();
    let parsed = zanzi::syntax::parse(file, text, &mut diags);
    (!diags.iter().any(|d| d.is_error())).then(|| zanzi::syntax::fmt::format(&parsed, text))
}

const VOCABULARY: &[&str] = &[
    "namespace",
    "relation",
    "permission",
    "user",
    "group",
    "doc",
    "member",
    "viewer",
    "parent",
    "view",
    "{",
    "}",
    "(",
    ")",
    ":",
    "|",
    "&",
    "-",
    "->",
    "#",
    "*",
    "=",
    ".",
    ",",
    "any",
    "all",
    "condition",
    "with",
    "and",
    "expiration",
    "<",
    ">",
    "'}'",
    "\"{\"",
    "'''",
    "x > 1",
    "Viewer",
    "can-view",
    "2fa",
    "x_",
    "/// doc\n",
    "// note\n",
    "/* c */",
    "\n",
    ";",
    "$",
];

/// YAML-shaped noise around the keys of a validation file.
fn validation_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "schema: |\n  namespace user {}\n  namespace doc {\n    relation viewer: user\n  }\n",
        "tuples: |\n  doc:a#viewer@user:ann\n",
        "tuples:\n  - doc:a#viewer@user:ann\n  - doc:%ZZ#viewer@user:x\n",
        "assertions:\n  allowed:\n    - doc:a#viewer@user:ann\n",
        "assertions:\n  denied: [doc:a#viewer@user:bob, ]\n",
        "expected_subjects:\n  doc:a#viewer: [user:ann, user:*]\n",
        "schema_file: x.zanzi\n",
        "tuple_files: [a, b]\n",
        "- item\n",
        "key: [unclosed\n",
        "  bad indent: x\n",
        "anchor: &a x\nalias: *a\n",
        "\t\u{fffd}é: \"q\"\n",
        ": :\n",
    ]);
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..80)
        .prop_map(|tokens| tokens.join(" "))
}

/// Token sequences shaped like schemas, so that analysis and the formatter get exercised too.
fn schema_like() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["user", "group", "doc", "folder"]);
    let rel = prop::sample::select(vec!["owner", "viewer", "parent", "member", "view", "edit"]);
    let op = prop::sample::select(vec![" | ", " & ", " - "]);
    let term = (rel.clone(), rel.clone(), 0..4u8).prop_map(|(a, b, k)| match k {
        0 => a.to_string(),
        1 => format!("{a}->{b}"),
        2 => format!("{a}.all({b})"),
        _ => format!("({a} | {b})"),
    });
    let expr = (term.clone(), prop::collection::vec((op, term), 0..3)).prop_map(|(head, rest)| {
        rest.into_iter()
            .fold(head, |acc, (op, t)| format!("{acc}{op}{t}"))
    });
    let ty = (name.clone(), rel.clone(), 0..3u8).prop_map(|(n, r, k)| match k {
        0 => n.to_string(),
        1 => format!("{n}:*"),
        _ => format!("{n}#{r}"),
    });
    // Types may carry traits; `c` and `d` are the conditions below, `e` is never declared.
    let traits = prop::sample::select(vec![
        "",
        "",
        " with c",
        " with d and expiration",
        " with expiration",
        " with e",
    ]);
    let ty = (ty, traits).prop_map(|(t, tr)| format!("{t}{tr}"));
    let member = prop_oneof![
        (rel.clone(), prop::collection::vec(ty, 1..3))
            .prop_map(|(r, types)| format!("  relation {r}: {}\n", types.join(" | "))),
        (rel, expr).prop_map(|(r, e)| format!("  permission {r} = {e} // why\n")),
    ];
    let namespace = (name, prop::collection::vec(member, 0..5)).prop_map(|(n, members)| {
        format!("/// The {n}.\nnamespace {n} {{\n{}}}\n", members.concat())
    });
    let condition = prop::sample::select(vec![
        "/// Office.\ncondition c(ip: ipaddress, cidr: string) {\n  ip.in_cidr(cidr) // }\n}\n",
        "condition c(n: int) { n > 1 }\n",
        "condition d(tags: list<string>, m: map<int>) {\n    size(tags) > 0 &&\n      \"}\" in m\n}\n",
        "condition d(x: strng) { x }\n",
        "condition d(s: string) { s == '''{\n''' }\n",
    ]);
    (
        prop::collection::vec(namespace, 0..4),
        prop::collection::vec(condition, 0..3),
    )
        .prop_map(|(ns, conditions)| format!("{}{}", conditions.concat(), ns.join("\n")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        front_end(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_tokens_never_panic(text in token_soup()) {
        front_end(&text);
    }

    #[test]
    fn random_validation_files_never_panic(text in validation_soup()) {
        let mut sources = SourceMap::new();
        let file = sources.add("fuzz.yaml", text.as_str());
        let outcome = zanzi::validation::run(&mut sources, file, std::path::Path::new("/nonexistent"));
        for d in &outcome.diagnostics {
            let source = sources.text(d.primary.span.file);
            prop_assert!((d.primary.span.end as usize) <= source.len());
            prop_assert!(source.is_char_boundary(d.primary.span.start as usize));
        }
        let _ = zanzi::diagnostics::render_plain(&sources, &outcome.diagnostics);
    }

    #[test]
    fn schema_like_input_formats_idempotently_without_changing_meaning(text in schema_like()) {
        front_end(&text);
        if let Some(once) = format(&text) {
            let twice = format(&once).expect("formatted output parses");
            prop_assert_eq!(&once, &twice);
            let hash = |t: &str| zanzi::compile_source("f.zanzi", t).1.schema.map(|s| s.hash);
            prop_assert_eq!(hash(&text), hash(&once));
        }
    }
}

#[test]
fn a_hundred_thousand_nested_parentheses_are_refused_cleanly() {
    let depth = 100_000;
    let text = format!(
        "namespace doc {{\n  relation viewer: doc\n  permission view = {}viewer{}\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    assert_eq!(front_end(&text), vec!["E0007"]);
}

#[test]
fn nesting_up_to_the_limit_compiles() {
    let depth = 64;
    let text = format!(
        "namespace doc {{\n  relation viewer: doc\n  permission view = {}viewer{}\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    assert!(front_end(&text).is_empty());
}

#[test]
fn a_very_long_union_compiles() {
    let terms = vec!["viewer"; 50_000].join(" | ");
    let text =
        format!("namespace doc {{\n  relation viewer: doc\n  permission view = {terms}\n}}\n");
    assert!(front_end(&text).is_empty());
}

#[test]
fn a_ten_megabyte_schema_compiles() {
    let mut text = String::from("namespace user {}\n");
    let mut n = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "namespace ns{n} {{\n  relation parent: ns{n}\n  relation viewer: user | user:*\n  permission view = viewer | parent->view\n}}\n"
        ));
        n += 1;
    }
    let (_, compiled) = zanzi::compile_source("big.zanzi", &text);
    assert!(compiled.diagnostics.is_empty());
    assert_eq!(compiled.schema.unwrap().namespaces.len(), n + 1);
}

#[test]
fn an_empty_file_is_an_empty_schema() {
    let (_, compiled) = zanzi::compile_source("empty.zanzi", "");
    assert!(compiled.diagnostics.is_empty());
    assert!(compiled.schema.unwrap().namespaces.is_empty());
}

#[test]
fn unterminated_comment_and_stray_bytes_are_reported_once() {
    assert_eq!(front_end("namespace a {}\n/* never closed"), vec!["E0002"]);
    assert_eq!(front_end("namespace a { relation x: a; }"), vec!["E0001"]);
}
