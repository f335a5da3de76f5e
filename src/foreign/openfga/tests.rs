//! The OpenFGA front end: mapping, errors, DSL/JSON agreement, robustness.

use proptest::prelude::*;

use super::{parse_dsl, parse_json};
use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::ast::{self, Expr, TypeRef};
use crate::syntax::Parsed;

fn dsl(src: &str) -> (Parsed<'_>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let parsed = parse_dsl(FileId(0), src, &mut diags);
    (parsed, diags)
}

fn json(src: &str) -> (Parsed<'_>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let parsed = parse_json(FileId(0), src, &mut diags);
    (parsed, diags)
}

/// An expression in zanzi's notation, parentheses as in the tree.
fn show(expr: &Expr<'_>) -> String {
    match expr {
        Expr::Name(n) => n.text.to_owned(),
        Expr::Arrow {
            tupleset, target, ..
        } => format!("{}->{}", tupleset.text, target.text),
        Expr::Paren(inner, _) => format!("({})", show(inner)),
        Expr::Nil(_) => "nil".to_owned(),
        Expr::This(_) => "this".to_owned(),
        Expr::SelfObject(_) => "self".to_owned(),
        Expr::Chain { head, rest, .. } => {
            let mut out = show(head);
            for (op, _, e) in rest {
                out.push_str(&format!(" {} {}", op.symbol(), show(e)));
            }
            out
        }
    }
}

fn show_type(t: &TypeRef<'_>) -> String {
    match t {
        TypeRef::Object(n) => n.text.to_owned(),
        TypeRef::Wildcard(n, _) => format!("{}:*", n.text),
        TypeRef::SubjectSet(n, r) => format!("{}#{}", n.text, r.text),
    }
}

/// Every member as `ns.name: types = expr` or `ns.name = expr`, with docs.
fn members(parsed: &Parsed<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for item in &parsed.ast.items {
        let ns = match item {
            ast::Item::Namespace(ns) => ns,
            ast::Item::Condition(_) => continue,
            ast::Item::Error(_) => {
                out.push("<error>".to_owned());
                continue;
            }
        };
        out.push(format!("type {}{}", ns.name.text, docs(&ns.doc)));
        for m in &ns.members {
            out.push(match m {
                ast::Member::Relation(r) => {
                    let types: Vec<_> = r.types.iter().map(show_type).collect();
                    let rewrite = r.rewrite.as_ref().map(|e| format!(" = {}", show(e)));
                    format!(
                        "{}.{}: {}{}{}",
                        ns.name.text,
                        r.name.text,
                        types.join(" | "),
                        rewrite.unwrap_or_default(),
                        docs(&r.doc)
                    )
                }
                ast::Member::Permission(p) => {
                    format!(
                        "{}.{} = {}{}",
                        ns.name.text,
                        p.name.text,
                        show(&p.expr),
                        docs(&p.doc)
                    )
                }
                ast::Member::Error(_) => format!("{}.<error>", ns.name.text),
            });
        }
    }
    out
}

fn docs(doc: &[&str]) -> String {
    if doc.is_empty() {
        String::new()
    } else {
        format!(" /// {}", doc.join(" / "))
    }
}

/// A source and the (line, column, code) it reports.
type Case = (&'static str, &'static [(usize, usize, &'static str)]);

/// (line, column, code) of every diagnostic, 1-based.
fn places(src: &str, diags: &[Diagnostic]) -> Vec<(usize, usize, String)> {
    diags
        .iter()
        .map(|d| {
            let before = &src[..d.primary.span.start as usize];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, column, d.code.to_string())
        })
        .collect()
}

const MODEL: &str = "\
# the model
model
  schema 1.1

# People.
type user

type group
  relations
    define member: [user, group#member]

type folder
  relations
    define viewer: [user]

# A document.
type document
  relations
    define parent: [folder]
    # Who owns it.
    # (one person)
    define owner: [user]
    define editor: [user, group#member] or owner
    define viewer: [user, user:*] or editor or viewer from parent # shared
    define blocked: [user]
    define can_view: viewer but not blocked
    define can_edit: editor and (owner or viewer from parent)
    define restricted: [user] but not blocked
    define nested: ([user] or owner) and viewer
";

#[test]
fn dsl_maps_relations_rewrites_and_permissions() {
    let (parsed, diags) = dsl(MODEL);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        members(&parsed),
        [
            "type user /// People.",
            "type group",
            "group.member: user | group#member",
            "type folder",
            "folder.viewer: user",
            "type document /// A document.",
            "document.parent: folder",
            "document.owner: user /// Who owns it. / (one person)",
            "document.editor: user | group#member = this | owner",
            "document.viewer: user | user:* = this | editor | parent->viewer",
            "document.blocked: user",
            "document.can_view = viewer - blocked",
            "document.can_edit = editor & (owner | parent->viewer)",
            "document.restricted: user = this - blocked",
            "document.nested: user = (this | owner) & viewer",
        ]
    );
    for item in &parsed.ast.items {
        let ast::Item::Namespace(ns) = item else {
            continue;
        };
        assert!(ns.name.verbatim);
    }
}

#[test]
fn json_maps_like_the_dsl() {
    let model = r#"{
  "schema_version": "1.1",
  "type_definitions": [
    {"type": "user"},
    {"type": "document",
     "relations": {
       "owner": {"this": {}},
       "viewer": {"union": {"child": [
         {"this": {}},
         {"computedUserset": {"object": "", "relation": "owner"}},
         {"tupleToUserset": {"tupleset": {"object": "", "relation": "parent"},
                             "computedUserset": {"object": "", "relation": "viewer"}}}]}},
       "parent": {"this": {}},
       "can_edit": {"intersection": {"child": [
         {"computedUserset": {"relation": "owner"}},
         {"union": {"child": [{"computedUserset": {"relation": "viewer"}},
                              {"computedUserset": {"relation": "owner"}}]}}]}},
       "can_view": {"difference": {"base": {"computedUserset": {"relation": "viewer"}},
                                   "subtract": {"computedUserset": {"relation": "owner"}}}}
     },
     "metadata": {"relations": {
       "owner": {"directly_related_user_types": [{"type": "user"}]},
       "viewer": {"directly_related_user_types": [
         {"type": "user"}, {"type": "user", "wildcard": {}}, {"type": "group", "relation": "member"}]},
       "parent": {"directly_related_user_types": [{"type": "document"}]}
     }}}
  ]
}"#;
    let (parsed, diags) = json(model);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        members(&parsed),
        [
            "type user",
            "type document",
            "document.owner: user",
            "document.viewer: user | user:* | group#member = this | owner | parent->viewer",
            "document.parent: document",
            "document.can_edit = owner & (viewer | owner)",
            "document.can_view = viewer - owner",
        ]
    );
    // Names point at the string's text.
    let ast::Item::Namespace(ns) = &parsed.ast.items[1] else {
        panic!()
    };
    assert_eq!(&model[ns.name.span.range()], "document");
}

#[test]
fn one_operator_per_group_as_in_openfga() {
    let src = "model\n  schema 1.1\ntype user\n  relations\n    define a: [user]\n    define b: [user]\n    define x: a or b and a\n    define y: a but not b but not a\n    define z: (a or b) and a\n";
    let (parsed, diags) = dsl(src);
    assert_eq!(
        places(src, &diags),
        [(7, 22, "E0601".to_owned()), (8, 27, "E0601".to_owned())]
    );
    assert!(
        diags[0].message.contains("`or` and `and`"),
        "{}",
        diags[0].message
    );
    assert_eq!(
        diags[0].help.as_ref().unwrap().text,
        "say which applies first with parentheses, e.g. `(a or b) and a`"
    );
    // The broken definitions are error nodes, the rest reads on.
    assert_eq!(
        members(&parsed),
        [
            "type user",
            "user.a: user",
            "user.b: user",
            "user.<error>",
            "user.<error>",
            "user.z = (a | b) & a",
        ]
    );
    assert_eq!(parsed.broken_names, ["x", "y"]);
}

#[test]
fn syntax_errors_point_at_the_place_and_do_not_cascade() {
    let cases: &[Case] = &[
        // No header.
        ("type user\n", &[(1, 1, "E0601")]),
        // `schema 1.0`.
        ("model\n  schema 1.0\ntype user\n", &[(2, 10, "E0650")]),
        // Missing colon, then a good relation.
        (
            "model\n  schema 1.1\ntype user\n  relations\n    define a [user]\n    define b: [user]\n",
            &[(5, 14, "E0601")],
        ),
        // Direct types after an operator.
        (
            "model\n  schema 1.1\ntype user\n  relations\n    define a: [user]\n    define b: a or [user]\n",
            &[(6, 20, "E0601")],
        ),
        // `define` without `relations`.
        (
            "model\n  schema 1.1\ntype user\n  define a: [user]\n",
            &[(4, 3, "E0601")],
        ),
        // Unclosed bracket.
        (
            "model\n  schema 1.1\ntype user\n  relations\n    define a: [user\ntype doc\n",
            &[(5, 15, "E0601")],
        ),
        // A bad character reports once.
        (
            "model\n  schema 1.1\ntype user\n  relations\n    define a: [us$er]\n",
            &[(5, 18, "E0601")],
        ),
        // Conditions are read; a broken header is reported at its place.
        (
            "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user with c]\ncondition c(x: int) {\n  x < 3\n}\n",
            &[],
        ),
        (
            "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user with c]\ncondition c(x int) {\n  x < 3\n}\n",
            &[(7, 15, "E0601")],
        ),
        (
            "model\n  schema 1.1\ntype user\ncondition c(x: list<int) {\n  x < 3\n}\n",
            &[(4, 24, "E0601")],
        ),
        (
            "model\n  schema 1.1\ntype user\ncondition c(x: int) {\n  x < 3\n",
            &[(6, 1, "E0601")],
        ),
        // A module is read; a second `module` line is not.
        ("module core\ntype user\n", &[]),
        ("module core\ntype user\nmodule wiki\ntype doc\n", &[(3, 1, "E0651")]),
        ("module\ntype user\n", &[(1, 7, "E0601")]),
        ("module core\nextend user\n", &[(2, 8, "E0601")]),
        // `extend` outside a module.
        ("model\n  schema 1.1\nextend type user\n", &[(3, 1, "E0601")]),
    ];
    for (src, expected) in cases {
        let (_, diags) = dsl(src);
        let expected: Vec<_> = expected
            .iter()
            .map(|(l, c, code)| (*l, *c, (*code).to_owned()))
            .collect();
        assert_eq!(places(src, &diags), expected, "{src}");
    }
}

/// A module: its name on the file, `extend type` marked as an extension,
/// its conditions read.
#[test]
fn modules_mark_their_extensions() {
    let src = "module wiki\n\nextend type organization\n  relations\n    define can_create_space: admin\n\ntype space\n  relations\n    define organization: [organization]\ncondition c(x: int) {\n  x < 3\n}\n";
    let (parsed, diags) = dsl(src);
    assert_eq!(parsed.ast.module.map(|m| m.text), Some("wiki"));
    assert!(diags.is_empty(), "{diags:?}");
    assert!(
        matches!(parsed.ast.items.last(), Some(ast::Item::Condition(c)) if c.name.text == "c" && c.body.trim() == "x < 3")
    );
    let extends: Vec<_> = parsed
        .ast
        .items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Namespace(ns) => Some((ns.name.text, ns.extends)),
            ast::Item::Condition(_) | ast::Item::Error(_) => None,
        })
        .collect();
    assert_eq!(extends, [("organization", true), ("space", false)]);
    assert_eq!(
        members(&parsed),
        [
            "type organization",
            "organization.can_create_space = admin",
            "type space",
            "space.organization: organization"
        ]
    );
    // A whole model is no module, and its `extend` defines nothing new.
    let (parsed, _) = dsl("model\n  schema 1.1\nextend type user\n");
    assert!(parsed.ast.module.is_none());
}

#[test]
fn conditions_keep_the_type() {
    let (parsed, _) = dsl("model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user with c, user:* with c]\n");
    assert_eq!(
        members(&parsed),
        ["type user", "type doc", "doc.a: user | user:*"]
    );
}

#[test]
fn json_errors_point_at_the_place() {
    let cases: &[Case] = &[
        ("{\"schema_version\": \"1.1\",\n \"type_definitions\": [\n  {\"type\": 3}]}", &[(3, 12, "E0601")]),
        ("{\"schema_version\": \"1.0\", \"type_definitions\": []}", &[(1, 21, "E0650")]),
        ("{\"type_definitions\": []}", &[(1, 1, "E0601")]),
        ("{\"schema_version\": \"1.1\", \"type_definitions\": [{\"type\": \"us\\u0065r\"}]}", &[(1, 58, "E0601")]),
        (
            "{\"schema_version\": \"1.1\", \"type_definitions\": [{\"type\": \"d\", \"relations\": {\"a\": {}, \"b\": {\"this\": {}}}}]}",
            &[(1, 81, "E0601")],
        ),
        ("{\"schema_version\": \"1.1\",\n \"type_definitions\": [}", &[(2, 23, "E0601")]),
        ("{\"schema_version\": \"1.1\", \"conditions\": {\"c\": {}}}", &[(1, 43, "E0601")]),
        // Half a surrogate pair in an expression, at its escape.
        (
            "{\"schema_version\": \"1.1\", \"conditions\": {\"c\": {\"expression\": \"x == \\\"\\ud800\\\"\"}}}",
            &[(1, 70, "E0601")],
        ),
    ];
    for (src, expected) in cases {
        let (_, diags) = json(src);
        let expected: Vec<_> = expected
            .iter()
            .map(|(l, c, code)| (*l, *c, (*code).to_owned()))
            .collect();
        assert_eq!(places(src, &diags), expected, "{src}");
    }
}

/// Fragments of both forms, for token soups.
const DSL_TOKENS: &[&str] = &[
    "model",
    "schema",
    "1.1",
    "type",
    "user",
    "doc",
    "relations",
    "define",
    "viewer",
    ":",
    "[",
    "]",
    "(",
    ")",
    ",",
    "#",
    " #",
    "*",
    "or",
    "and",
    "but not",
    "from",
    "with",
    "condition",
    "{",
    "}",
    "module",
    "extend",
    "\n",
    "\n  ",
    "\n    ",
    " ",
    "\t",
    "é",
    "\"",
    "\r\n",
];

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"schema_version\"",
    "\"1.1\"",
    "\"type_definitions\"",
    "\"type\"",
    "\"user\"",
    "\"relations\"",
    "\"viewer\"",
    "\"this\"",
    "\"union\"",
    "\"child\"",
    "\"difference\"",
    "\"base\"",
    "\"subtract\"",
    "\"computedUserset\"",
    "\"relation\"",
    "\"tupleToUserset\"",
    "\"tupleset\"",
    "\"metadata\"",
    "\"directly_related_user_types\"",
    "\"wildcard\"",
    "\"condition\"",
    "\"conditions\"",
    "null",
    "1",
    "\"a\\n\"",
    " ",
    "\"",
];

fn soup(tokens: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(tokens), 0..80).prop_map(|t| t.concat())
}

fn spans_inside(src: &str, diags: &[Diagnostic]) {
    for d in diags {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            assert!(label.span.start <= label.span.end, "{d:?}");
            assert!(label.span.end as usize <= src.len(), "{d:?}");
            assert!(src.is_char_boundary(label.span.start as usize), "{d:?}");
            assert!(src.is_char_boundary(label.span.end as usize), "{d:?}");
        }
    }
}

fn both(src: &str) {
    let (_, diags) = dsl(src);
    spans_inside(src, &diags);
    let (_, diags) = json(src);
    spans_inside(src, &diags);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        both(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn dsl_token_soups_never_panic(text in soup(DSL_TOKENS)) {
        both(&format!("model\n  schema 1.1\n{text}"));
        both(&format!("module m\n{text}"));
        both(&text);
    }

    #[test]
    fn json_token_soups_never_panic(text in soup(JSON_TOKENS)) {
        both(&text);
    }
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let depth = 5_000;
    let src = format!(
        "model\n  schema 1.1\ntype u\n  relations\n    define a: [u]\n    define b: {}a{}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let (_, diags) = dsl(&src);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let mut nested = String::from("{\"this\": {}}");
    for _ in 0..200 {
        nested = format!("{{\"union\": {{\"child\": [{nested}]}}}}");
    }
    let src = format!(
        "{{\"schema_version\": \"1.1\", \"type_definitions\": [{{\"type\": \"u\", \"relations\": {{\"a\": {nested}}}}}]}}"
    );
    let (_, diags) = json(&src);
    assert_eq!(diags.len(), 1, "{diags:?}");
}
