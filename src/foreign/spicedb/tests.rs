#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;

use super::parse;
use crate::diagnostics::{codes, Diagnostic};
use crate::source::FileId;
use crate::syntax::ast::{ArrowForm, Expr, Item, Member, Namespace, TypeRef};
use crate::syntax::Parsed;

fn run(src: &str) -> (Parsed<'_>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let parsed = parse(FileId(0), src, &mut diags);
    (parsed, diags)
}

/// The 1-based line of a diagnostic's primary label.
fn line_of(src: &str, d: &Diagnostic) -> usize {
    src[..d.primary.span.start as usize].matches('\n').count() + 1
}

fn codes_of(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code.as_str()).collect()
}

fn namespaces<'a, 'src>(parsed: &'a Parsed<'src>) -> Vec<&'a Namespace<'src>> {
    parsed
        .ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Namespace(ns) => Some(ns),
            Item::Condition(_) | Item::Error(_) => None,
        })
        .collect()
}

/// An expression with every grouping shown, zanzi's operators.
fn show(expr: &Expr<'_>) -> String {
    match expr {
        Expr::Name(n) => n.text.to_owned(),
        Expr::Nil(_) => "nil".to_owned(),
        Expr::This(_) => "this".to_owned(),
        Expr::SelfObject(_) => "self".to_owned(),
        Expr::Arrow {
            tupleset,
            form,
            target,
            ..
        } => match form {
            ArrowForm::Arrow => format!("{}->{}", tupleset.text, target.text),
            ArrowForm::Method(m) => format!("{}.{}({})", tupleset.text, m.text, target.text),
        },
        Expr::Paren(inner, _) => format!("({})", show(inner)),
        Expr::Chain { head, rest, .. } => {
            let mut out = show(head);
            for (op, _, e) in rest {
                out.push_str(&format!(" {} {}", op.symbol(), show(e)));
            }
            out
        }
    }
}

/// The permission `p` of a one-definition schema, shown, and the codes.
fn permission(expr: &str) -> (String, Vec<&'static str>) {
    let src = format!("definition d {{\n    relation a: d\n    permission p = {expr}\n}}\n",);
    let (parsed, diags) = run(&src);
    let ns = namespaces(&parsed)[0];
    let shown = ns
        .members
        .iter()
        .find_map(|m| match m {
            Member::Permission(p) => Some(show(&p.expr)),
            _ => None,
        })
        .unwrap_or_else(|| "<error>".to_owned());
    (shown, codes_of(&diags))
}

#[test]
fn precedence_is_spicedbs_plus_then_and_then_minus() {
    let cases = [
        ("a + b + c", "a | b | c", 0),
        ("a & b & c", "a & b & c", 0),
        ("a + b - c", "(a | b) - c", 1),
        ("a - b + c", "a - (b | c)", 1),
        ("a & b + c", "a & (b | c)", 1),
        ("a + b & c", "(a | b) & c", 1),
        ("a - b & c", "a - (b & c)", 1),
        ("a - b - c", "(a - b) - c", 1),
        ("a - b - c - d", "((a - b) - c) - d", 1),
        ("a - b & c - d", "(a - (b & c)) - d", 1),
        ("(a + b) - c", "(a | b) - c", 0),
        ("a - (b - c)", "a - (b - c)", 0),
        ("((a))", "((a))", 0),
        (
            "p->a + p.any(a) - p.all(a)",
            "(p->a | p.any(a)) - p.all(a)",
            1,
        ),
        ("(a + b) & (c - d) + nil", "(a | b) & ((c - d) | nil)", 1),
    ];
    for (source, expected, warnings) in cases {
        let (shown, codes) = permission(source);
        assert_eq!(shown, expected, "{source}");
        assert_eq!(codes.len(), warnings, "{source}: {codes:?}");
        assert!(codes.iter().all(|c| *c == "W0601"), "{source}: {codes:?}");
    }
}

#[test]
fn the_warning_shows_the_grouping_in_spicedb_syntax() {
    let src = "definition d {\n    relation a: d\n    permission p = a + b - c\n}\n";
    let (_, diags) = run(src);
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d.code, codes::W0601);
    assert_eq!(d.notes, vec!["read as `(a + b) - c`".to_owned()]);
    assert_eq!(&src[d.primary.span.range()], "-");
}

#[test]
fn prefixed_names_wildcards_and_subject_sets() {
    let src = "definition example/user {}\n\ndefinition example/doc {\n    relation viewer: example/user | example/user:* | example/group#member | example/group#... ;\n    relation editor: example/user\n}\n";
    let (parsed, diags) = run(src);
    assert!(diags.is_empty(), "{diags:?}");
    let ns = namespaces(&parsed);
    assert_eq!(ns[0].name.text, "example/user");
    assert!(ns[0].name.verbatim);
    let Member::Relation(viewer) = &ns[1].members[0] else {
        panic!()
    };
    assert!(matches!(viewer.types[0], TypeRef::Object(n) if n.text == "example/user"));
    assert!(
        matches!(viewer.types[1], TypeRef::Wildcard(n, span) if n.text == "example/user" && &src[span.range()] == "example/user:*")
    );
    assert!(
        matches!(viewer.types[2], TypeRef::SubjectSet(n, r) if n.text == "example/group" && r.text == "member")
    );
    assert!(matches!(viewer.types[3], TypeRef::Object(n) if n.text == "example/group"));
}

#[test]
fn a_newline_after_ellipsis_does_not_end_the_statement() {
    let (parsed, diags) = run("definition g {\n    relation m: g#...\n    relation n: g\n}\n");
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    assert!(diags[0].help.is_some());
    assert_eq!(parsed.broken_names, vec!["m"]);
}

#[test]
fn members_need_a_line_of_their_own() {
    let (_, diags) = run("definition g { relation m: g }\n");
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    assert_eq!(
        diags[0].message,
        "expected end of statement after the relation, found `}`"
    );
    let (_, diags) = run("definition g { relation m: g; permission p = m; }\n");
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn doc_comments_document_what_follows() {
    let src = "/** a user */\ndefinition user {}\n\n/**\n * A document.\n * Shared.\n */\ndefinition doc {\n    // not a doc\n    relation viewer: user // trailing\n    /// who may view\n    permission view = viewer\n}\n";
    let (parsed, diags) = run(src);
    assert!(diags.is_empty(), "{diags:?}");
    let ns = namespaces(&parsed);
    assert_eq!(ns[0].doc, vec!["a user"]);
    assert_eq!(ns[1].doc, vec!["A document.", "Shared."]);
    let docs: Vec<_> = ns[1]
        .members
        .iter()
        .map(|m| match m {
            Member::Relation(r) => r.doc.clone(),
            Member::Permission(p) => p.doc.clone(),
            Member::Error(_) => vec![],
        })
        .collect();
    assert_eq!(docs, vec![vec![], vec!["who may view"]]);
    assert_eq!(parsed.comments.len(), 5);
}

#[test]
fn caveats_are_conditions_and_with_clauses_are_traits() {
    let src = "use expiration\n\ndefinition user {}\n\n/** from the office */\ncaveat ip_allowed(ip ipaddress, cidrs list<string>,\n    m map<list<int>>) {\n    cidrs.exists(c, ip.in_cidr(c)) && {\"k\": 1}[\"k\"] == 1\n}\n\ndefinition doc {\n    relation a: user with ip_allowed | user\n    relation b: user with expiration\n    relation c: user:* with ip_allowed and expiration\n    permission view = a + b + c\n}\n";
    let (parsed, diags) = run(src);
    assert!(diags.is_empty(), "{diags:?}");
    let Some(Item::Condition(caveat)) = parsed.ast.items.get(1) else {
        panic!("no condition: {:?}", parsed.ast.items);
    };
    assert_eq!(caveat.name.text, "ip_allowed");
    assert_eq!(caveat.doc, vec!["from the office"]);
    let params: Vec<_> = caveat.params.iter().map(|p| p.name.text).collect();
    assert_eq!(params, ["ip", "cidrs", "m"]);
    assert_eq!(
        caveat.body.trim(),
        "cidrs.exists(c, ip.in_cidr(c)) && {\"k\": 1}[\"k\"] == 1"
    );
    assert_eq!(&src[caveat.body_span.range()], caveat.body);
    let ns = namespaces(&parsed);
    let traits: Vec<Vec<(Option<&str>, bool)>> = ns[1]
        .members
        .iter()
        .filter_map(|m| match m {
            Member::Relation(r) => Some(
                (0..r.types.len())
                    .map(|i| {
                        r.traits_of(i).map_or((None, false), |t| {
                            (t.condition.map(|c| c.text), t.expiration.is_some())
                        })
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(
        traits,
        vec![
            vec![(Some("ip_allowed"), false), (None, false)],
            vec![(None, true)],
            vec![(Some("ip_allowed"), true)],
        ]
    );
    assert!(parsed.broken_names.is_empty());
}

#[test]
fn with_expiration_needs_use_expiration() {
    let src = "definition user {}\n\ndefinition doc {\n    relation b: user with expiration\n}\n";
    let (_, diags) = run(src);
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    assert_eq!(line_of(src, &diags[0]), 4);
    assert!(diags[0].message.contains("use expiration"));
}

#[test]
fn a_broken_caveat_silences_what_names_it() {
    let src = "definition user {}\n\ncaveat c(x int {\n    x > 1\n}\n\ndefinition doc {\n    relation a: user with c\n}\n";
    let (parsed, diags) = run(src);
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    assert_eq!(line_of(src, &diags[0]), 3);
    assert_eq!(parsed.broken_names, vec!["c"]);
    assert_eq!(namespaces(&parsed).len(), 2);
}

#[test]
fn self_is_the_object_itself_only_when_use_self_makes_it_a_keyword() {
    let (parsed, diags) = run("use self\n\ndefinition user {\n    permission me = self\n}\n");
    assert!(codes_of(&diags).is_empty());
    assert!(parsed.broken_names.is_empty());
    let (shown, codes) = permission("self");
    assert_eq!(shown, "self");
    assert!(codes.is_empty());
}

#[test]
fn nil_is_the_empty_set() {
    let (shown, codes) = permission("nil");
    assert_eq!(shown, "nil");
    assert!(codes.is_empty());
}

#[test]
fn arrows_keep_their_form_and_nested_ones_are_refused() {
    assert_eq!(permission("a->b").0, "a->b");
    assert_eq!(permission("a.all(b)").0, "a.all(b)");
    let (shown, codes) = permission("a->b->c");
    assert_eq!((shown.as_str(), codes), ("<error>", vec!["E0601"]));
    let (_, codes) = permission("a.some(b)");
    assert_eq!(codes, vec!["E0601"]);
}

#[test]
fn one_error_per_broken_member_and_the_rest_is_read() {
    let src = "definition user {}\n\ndefinition doc {\n    relation viewer user\n    relation editor: user\n    permission edit = editor +\n    permission view = (viewer + edit\n    permission ok = editor\n}\n\ndefinition other {\n    relation x: user\n";
    let (parsed, diags) = run(src);
    let found: Vec<(usize, &str)> = diags
        .iter()
        .map(|d| (line_of(src, d), d.code.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![(4, "E0601"), (6, "E0601"), (7, "E0601"), (12, "E0601")],
        "{diags:#?}"
    );
    assert_eq!(parsed.broken_names, vec!["viewer", "edit", "view"]);
    let ns = namespaces(&parsed);
    assert_eq!(ns.len(), 3);
    assert!(matches!(&ns[1].members[4], Member::Permission(p) if p.name.text == "ok"));
}

#[test]
fn bad_characters_report_once_per_statement() {
    let (parsed, diags) = run("definition d {\n    relation a: d\n    permission p = a $ a\n}\n");
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    assert_eq!(parsed.broken_names, vec!["p"]);
}

#[test]
fn top_level_junk_is_one_error() {
    let (parsed, diags) = run("relation x: y\n\ndefinition d {}\n");
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    assert_eq!(namespaces(&parsed).len(), 1);
}

#[test]
fn use_flags() {
    let (_, diags) = run("use typechecking\nuse partial\nuse import\n\ndefinition d {}\n");
    assert!(diags.is_empty(), "{diags:?}");
    let (_, diags) = run("use magic\n\ndefinition d {}\n");
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    let (_, diags) = run("definition d {}\nuse self\n");
    assert_eq!(codes_of(&diags), vec!["E0601"]);
    let (_, diags) = run("use import\nimport \"other.zed\"\n\ndefinition d {}\n");
    assert_eq!(codes_of(&diags), vec!["E0602"]);
}

#[test]
fn permission_type_annotations_are_read_and_ignored() {
    let (parsed, diags) = run(
        "use typechecking\n\ndefinition user {}\n\ndefinition d {\n    relation a: user\n    permission p: user | d = a\n}\n",
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(namespaces(&parsed)[1].members.len(), 2);
}

#[test]
fn partials_are_inlined() {
    let src = "use partial\n\ndefinition user {}\n\npartial viewable {\n    relation viewer: user\n    ...ownable\n}\n\npartial ownable {\n    relation owner: user\n}\n\ndefinition doc {\n    ...viewable\n    permission view = viewer + owner\n}\n";
    let (parsed, diags) = run(src);
    assert!(diags.is_empty(), "{diags:?}");
    let names: Vec<&str> = namespaces(&parsed)[1]
        .members
        .iter()
        .map(|m| match m {
            Member::Relation(r) => r.name.text,
            Member::Permission(p) => p.name.text,
            Member::Error(_) => "<error>",
        })
        .collect();
    assert_eq!(names, vec!["viewer", "owner", "view"]);
}

#[test]
fn unknown_and_circular_partials_are_e0630() {
    let (_, diags) = run("definition d {\n    ...missing\n}\n");
    assert_eq!(codes_of(&diags), vec!["E0630"]);
    let (_, diags) = run(
        "partial a {\n    ...b\n}\n\npartial b {\n    ...a\n}\n\ndefinition d {\n    ...a\n}\n",
    );
    assert!(codes_of(&diags).contains(&"E0630"), "{diags:?}");
    assert!(codes_of(&diags).iter().all(|c| *c == "E0630"));
}

#[test]
fn long_exclusion_chains_are_refused_not_nested_without_bound() {
    let expr = vec!["a"; 200].join(" - ");
    let (shown, codes) = permission(&expr);
    assert_eq!(shown, "<error>");
    assert_eq!(codes, vec!["E0007"]);
    let union = vec!["a"; 5000].join(" + ");
    let (_, codes) = permission(&union);
    assert!(codes.is_empty());
}

fn check_spans(src: &str) {
    let (_, diags) = run(src);
    for d in &diags {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            assert!(label.span.start <= label.span.end, "{d:?}");
            assert!(label.span.end as usize <= src.len(), "{d:?}");
            assert!(src.is_char_boundary(label.span.start as usize), "{d:?}");
            assert!(src.is_char_boundary(label.span.end as usize), "{d:?}");
        }
    }
}

const SOUP: &[&str] = &[
    "definition",
    "caveat",
    "relation",
    "permission",
    "nil",
    "with",
    "use",
    "self",
    "expiration",
    "and",
    "partial",
    "import",
    "any",
    "all",
    "user",
    "ex/doc",
    "\n",
    ";",
    "{",
    "}",
    "(",
    ")",
    "|",
    "+",
    "-",
    "&",
    "/",
    "=",
    ":",
    "->",
    "#",
    "...",
    "*",
    ".",
    ",",
    "\"s\"",
    "'",
    "/**",
    "*/",
    "//",
    "$",
    "é",
];

proptest! {
    #[test]
    fn random_text_never_panics(src in "\\PC{0,200}") {
        check_spans(&src);
    }

    #[test]
    fn token_soups_never_panic(words in proptest::collection::vec(0..SOUP.len(), 0..80)) {
        let src: String = words.iter().map(|&i| SOUP[i]).collect::<Vec<_>>().join(" ");
        check_spans(&src);
    }
}
