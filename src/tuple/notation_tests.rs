//! Tests of the text notation: parsing, encoding, errors and their places.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;
use crate::tuple::model::{Expiry, MAX_ID_BYTES};

fn err(text: &str) -> (usize, String) {
    let e = text.parse::<Tuple>().unwrap_err();
    (e.column(), e.to_string())
}

#[test]
fn parses_the_three_kinds_of_subject() {
    let t: Tuple = "document:readme#viewer@user:alice".parse().unwrap();
    assert_eq!(t.object, Object::new("document", "readme"));
    assert_eq!(t.relation, "viewer");
    assert_eq!(t.subject, Subject::object("user", "alice"));
    let t: Tuple = "document:readme#viewer@group:eng#member".parse().unwrap();
    assert_eq!(t.subject, Subject::set("group", "eng", "member"));
    let t: Tuple = "document:readme#viewer@user:*".parse().unwrap();
    assert_eq!(t.subject, Subject::wildcard("user"));
}

#[test]
fn encodes_what_would_be_ambiguous() {
    let t = Tuple::new(
        Object::new("doc", "a:b#c@d e%f"),
        "viewer",
        Subject::object("user", "*"),
    );
    let text = t.to_string();
    assert_eq!(text, "doc:a%3Ab%23c%40d%20e%25f#viewer@user:%2A");
    assert_eq!(text.parse::<Tuple>().unwrap(), t);
    assert_eq!(encode_id("a*b"), "a*b");
    assert_eq!(encode_id("x\u{a0}y"), "x%C2%A0y");
}

#[test]
fn errors_point_at_the_column() {
    assert_eq!(
        err("document:readme@user:alice"),
        (16, "expected `#` after the object".to_owned())
    );
    assert_eq!(
        err("document:#viewer@user:a"),
        (10, "empty object id".to_owned())
    );
    assert_eq!(
        err(":x#viewer@user:a"),
        (1, "empty namespace name".to_owned())
    );
    assert_eq!(
        err("document:x#viewer"),
        (18, "expected `@` after the relation name".to_owned())
    );
    assert_eq!(
        err("document:x#viewer@user"),
        (
            23,
            "expected `:` after the subject namespace name".to_owned()
        )
    );
    assert_eq!(
        err("document:x#viewer@user:"),
        (24, "empty subject id".to_owned())
    );
    assert_eq!(
        err("document:a b#viewer@user:x"),
        (
            11,
            "unencoded space in the object id; write it as `%20`".to_owned()
        )
    );
    assert_eq!(
        err("document:a:b#viewer@user:x"),
        (
            11,
            "unencoded `:` in the object id; write it as `%3A`".to_owned()
        )
    );
    // Foreign names are kept verbatim (Keto's `Document`, SpiceDB's
    // `example/user`); only what would make the notation ambiguous is refused.
    assert!("Document:x#viewer@example/user:a".parse::<Tuple>().is_ok());
    assert_eq!(err("Doc`x:x#viewer@user:a").0, 1);
    assert!(err("Doc`x:x#viewer@user:a")
        .1
        .starts_with("invalid namespace name `Doc`x`: a name cannot hold a backtick"));
    assert_eq!(
        err("document:x#viewer@user:*#member"),
        (
            25,
            "the wildcard `user:*` cannot name a relation".to_owned()
        )
    );
    assert_eq!(err("document:*#viewer@user:a").0, 10);
    assert_eq!(err("document:x#viewer@user:a@b").0, 25);
    assert_eq!(err("document:x#viewer@user:a#m#n").0, 27);
    assert_eq!(err("document:a%2#viewer@user:x").0, 11);
    assert_eq!(err("document:a%FF#viewer@user:x").0, 10);
    assert_eq!(err("document:a%07#viewer@user:x").0, 10);
    assert_eq!(err("document:a\u{7}#viewer@user:x").0, 11);
    // Columns count characters, not bytes, and ignore leading blanks.
    assert_eq!(err("  document:é b#viewer@user:x").0, 13);
}

#[test]
fn errors_and_parts_carry_byte_ranges() {
    // Columns count characters, offsets count bytes: `é` is two.
    let e = "  document:éé b#viewer@user:x"
        .parse::<Tuple>()
        .unwrap_err();
    assert_eq!(
        e.span(),
        TextSpan {
            start: 15,
            end: 16,
            column: 14
        }
    );
    let (_, spans) = parse_tuple_with_spans(" doc:x#viewer@user:a ").unwrap();
    let at = |t: TextSpan| (t.start, t.end, t.column);
    assert_eq!(at(spans.namespace), (1, 4, 2));
    assert_eq!(at(spans.relation), (7, 13, 8));
    assert_eq!(at(spans.subject), (14, 20, 15));
    assert_eq!(at(spans.whole()), (1, 20, 2));
    let errors = parse_tuple_file("a:b#c@d:e\r\n  x:y#z@ // c\n").unwrap_err();
    assert_eq!(errors[0].tuple, 13..19);
    assert_eq!((errors[0].error.span().start, errors[0].column()), (19, 9));
}

#[test]
fn ids_have_a_length_limit() {
    let long = "a".repeat(MAX_ID_BYTES);
    assert!(format!("doc:{long}#r@user:x").parse::<Tuple>().is_ok());
    let e = format!("doc:{long}a#r@user:x")
        .parse::<Tuple>()
        .unwrap_err();
    assert!(e.to_string().contains("1025 bytes"), "{e}");
}

#[test]
fn tuple_files_skip_blanks_and_comments() {
    let text = "// groups\n\ngroup:eng#member@user:bob   // bob\n  doc:x#viewer@group:eng#member\n";
    let tuples = parse_tuple_file(text).unwrap();
    assert_eq!(tuples.len(), 2);
    assert_eq!(tuples[0].0, 3);
    assert_eq!(tuples[1].0, 4);
    let errors = parse_tuple_file("a:b#c@d:e\nbad\n\nx:y#z@\n").unwrap_err();
    assert_eq!(errors.len(), 2);
    assert_eq!((errors[0].line, errors[0].column()), (2, 4));
    assert_eq!((errors[1].line, errors[1].column()), (4, 7));
    assert_eq!(
        errors[1].to_string(),
        "line 4, column 7: empty subject namespace name"
    );
}

#[test]
fn object_relation_and_subject_parse_alone() {
    let (object, relation) = parse_object_relation("document:readme#view").unwrap();
    assert_eq!((object.id.as_str(), relation.as_str()), ("readme", "view"));
    assert_eq!(
        "group:eng#member".parse::<Subject>().unwrap(),
        Subject::set("group", "eng", "member")
    );
    assert_eq!(
        "user:%2A".parse::<Subject>().unwrap(),
        Subject::object("user", "*")
    );
    assert_eq!(
        "user:x".parse::<Object>().unwrap(),
        Object::new("user", "x")
    );
}

#[test]
fn conditions_and_expiries_are_suffixes() {
    let t: Tuple = "document:d#viewer@user:bob[office_network]"
        .parse()
        .unwrap();
    let condition = t.condition.as_deref().unwrap();
    assert_eq!(condition.name, "office_network");
    assert!(condition.context.is_empty());
    assert_eq!(t.key(), "document:d#viewer@user:bob".parse().unwrap());
    let t: Tuple =
        r#"document:d#viewer@group:eng#member[office_network:{ "cidr": "10.0.0.0/8", "a": [1] }]"#
            .parse()
            .unwrap();
    assert_eq!(t.subject, Subject::set("group", "eng", "member"));
    assert_eq!(
        t.to_string(),
        r#"document:d#viewer@group:eng#member[office_network:{"a":[1],"cidr":"10.0.0.0/8"}]"#
    );
    let t: Tuple = "document:d#editor@user:bob[expiration:2027-01-01T01:00:00+01:00]"
        .parse()
        .unwrap();
    assert_eq!(
        t.expires_at,
        Some(Expiry::parse("2027-01-01T00:00:00Z").unwrap())
    );
    assert_eq!(
        t.to_string(),
        "document:d#editor@user:bob[expiration:2027-01-01T00:00:00Z]"
    );
    // Either order is read; the condition is written first.
    let both = r#"document:d#editor@user:*[expiration:2027-01-01T00:00:00.5Z][c:{"k":"v"}]"#;
    let t: Tuple = both.parse().unwrap();
    assert_eq!(
        t.to_string(),
        r#"document:d#editor@user:*[c:{"k":"v"}][expiration:2027-01-01T00:00:00.500Z]"#
    );
    assert_eq!(t.to_string().parse::<Tuple>().unwrap(), t);
    // An empty context is no context.
    let t: Tuple = "doc:x#r@user:a[c:{}]".parse().unwrap();
    assert_eq!(t.to_string(), "doc:x#r@user:a[c]");
}

#[test]
fn a_bracket_in_an_id_is_encoded_and_read_back_raw() {
    let t = Tuple::new(
        Object::new("doc", "a[1]"),
        "viewer",
        Subject::object("user", "b[2]"),
    );
    assert_eq!(t.to_string(), "doc:a%5B1]#viewer@user:b%5B2]");
    assert_eq!(t.to_string().parse::<Tuple>().unwrap(), t);
    // Older files wrote it raw in object IDs.
    let raw: Tuple = "doc:a[1]#viewer@user:x".parse().unwrap();
    assert_eq!(raw.object.id, "a[1]");
}

#[test]
fn suffix_errors_point_into_the_suffix() {
    assert_eq!(
        err("doc:x#r@user:a[office_network"),
        (
            15,
            "unclosed `[`: a condition or an expiry ends with `]`".to_owned()
        )
    );
    assert_eq!(
        err(r#"doc:x#r@user:a[c:{"k":"v"}"#),
        (
            15,
            "unclosed `[`: a condition or an expiry ends with `]`".to_owned()
        )
    );
    let (column, message) = err(r#"doc:x#r@user:a[c:{"k": tru}]"#);
    assert_eq!(column, 27); // where serde_json noticed: the `}` after `tru`
    assert!(
        message.starts_with("invalid JSON in the context of condition `c`: expected"),
        "{message}"
    );
    assert_eq!(
        err(r#"doc:x#r@user:a[c:["k"]]"#),
        (
            18,
            "the context of condition `c` must be a JSON object, not an array".to_owned()
        )
    );
    assert_eq!(
        err("doc:x#r@user:a[expiration:tomorrow]"),
        (
            27,
            "invalid expiration `tomorrow`: expected an RFC 3339 time such as `2027-01-01T00:00:00Z`"
                .to_owned()
        )
    );
    assert_eq!(
        err("doc:x#r@user:a[expiration]").1,
        "expected `:` and an RFC 3339 time after the `expiration`"
    );
    assert_eq!(
        err("doc:x#r@user:a[c][d]"),
        (18, "a tuple has at most one condition".to_owned())
    );
    assert_eq!(
        err("doc:x#r@user:a[expiration:2027-01-01T00:00:00Z][expiration:2028-01-01T00:00:00Z]").1,
        "a tuple has at most one expiration"
    );
    assert_eq!(
        err("doc:x#r@user:a[]"),
        (16, "empty condition name".to_owned())
    );
    assert_eq!(
        err("doc:x#r@user:a[c]x"),
        (18, "unexpected `x` after the tuple".to_owned())
    );
}

#[test]
fn spans_cover_the_suffixes() {
    let (_, spans) =
        parse_tuple_with_spans(r#"doc:x#r@user:a[c:{"k":1}][expiration:2027-01-01T00:00:00Z]"#)
            .unwrap();
    let at = |t: TextSpan| (t.start, t.end);
    assert_eq!(spans.condition.map(at), Some((14, 25)));
    assert_eq!(spans.expiry.map(at), Some((25, 58)));
    assert_eq!(at(spans.whole()), (0, 58));
    assert_eq!(at(spans.of(TuplePart::Condition)), (14, 25));
    let (_, plain) = parse_tuple_with_spans("doc:x#r@user:a").unwrap();
    assert_eq!(plain.of(TuplePart::Condition), plain.subject);
}

#[test]
fn comments_are_not_looked_for_inside_a_context() {
    let text = concat!(
        r##"doc:x#r@user:a[c:{"url": "https://x // y", "tag": "#1"}]   // a comment"##,
        "\n",
        r#"doc:y#r@user:b[c:{"k": "]"}] // another"#,
        "\n",
        "doc:a[1]#r@user:c // raw bracket in an object id\n",
    );
    let tuples = parse_tuple_file(text).unwrap();
    assert_eq!(tuples.len(), 3);
    let context = tuples[0].1.condition.as_deref().unwrap().context.to_map();
    assert_eq!(context["url"], "https://x // y");
    assert_eq!(context["tag"], "#1");
    assert_eq!(
        tuples[1].1.condition.as_deref().unwrap().context.as_json(),
        r#"{"k":"]"}"#
    );
    assert_eq!(tuples[2].1.object.id, "a[1]");
}
