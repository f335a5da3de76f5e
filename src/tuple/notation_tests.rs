//! Tests of the text notation: parsing, encoding, errors and their places.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;

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
