//! Round-trip and error-position properties of the tuple notation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use serde_json::Value;
use zanzi::tuple::{parse_tuple_file, Context, Expiry, Object, Subject, Tuple};

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,12}"
}

/// IDs biased towards the characters the notation must encode, plus any
/// non-control Unicode.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9:#@% *\t_\u{a0}\u{2003}é✓-]{1,16}".prop_map(|s| s.replace('\t', " ")),
        Just("*".to_owned()),
        any::<String>(),
    ]
    .prop_filter("valid ids only", |s| {
        !s.is_empty() && s.len() <= 1024 && !s.chars().any(char::is_control)
    })
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        (name(), id()).prop_map(|(n, i)| Subject::object(n, i)),
        (name(), id(), name()).prop_map(|(n, i, r)| Subject::set(n, i, r)),
        name().prop_map(Subject::wildcard),
    ]
}

/// Strings biased towards what could end a suffix or start a comment.
fn json_string() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z\\[\\]{}\"\\\\/# :@%\n\t é✓]{0,12}", any::<String>(),]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(json_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn context() -> impl Strategy<Value = Context> {
    prop::collection::btree_map(json_string(), json(), 0..4)
        .prop_map(|m| Context::from_map(m.into_iter().collect()))
}

/// From 1970 to the end of year 9999, to the microsecond.
fn expiry() -> impl Strategy<Value = Expiry> {
    (0i64..253_402_300_800_000_000).prop_map(Expiry::from_micros)
}

fn tuple() -> impl Strategy<Value = Tuple> {
    (
        name(),
        id(),
        name(),
        subject(),
        prop::option::of((name(), context())),
        prop::option::of(expiry()),
    )
        .prop_map(|(n, i, r, s, condition, expiry)| {
            let mut tuple = Tuple::new(Object::new(n, i), r, s);
            if let Some((name, context)) = condition {
                tuple = tuple.with_condition(name, context);
            }
            if let Some(expiry) = expiry {
                tuple = tuple.with_expiry(expiry);
            }
            tuple
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn display_then_parse_is_the_identity(t in tuple()) {
        let text = t.to_string();
        // Whitespace only ever appears inside a context's JSON strings.
        prop_assert!(!t.key().to_string().chars().any(char::is_whitespace), "{text:?}");
        let back: Tuple = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back, &t);
        // The canonical text is a fixed point too.
        prop_assert_eq!(back.to_string(), text);
        prop_assert_eq!(t.subject.to_string().parse::<Subject>().unwrap(), t.subject.clone());
    }

    #[test]
    fn a_tuple_file_round_trips(ts in prop::collection::vec(tuple(), 0..8)) {
        let text: String = ts.iter().map(|t| format!("{t}\n// comment\n\n")).collect();
        let parsed = parse_tuple_file(&text).unwrap();
        let lines: Vec<usize> = parsed.iter().map(|(l, _)| *l).collect();
        let expected: Vec<usize> = (0..ts.len()).map(|i| 3 * i + 1).collect();
        prop_assert_eq!(lines, expected);
        let back: Vec<Tuple> = parsed.into_iter().map(|(_, t)| t).collect();
        prop_assert_eq!(back, ts);
    }

    #[test]
    fn suffixes_never_panic_and_columns_are_in_range(
        text in "doc:x#r@user:a[\\[\\]{}\":,a-z0-9 é-]{0,30}"
    ) {
        if let Err(e) = text.parse::<Tuple>() {
            let len = text.chars().count();
            prop_assert!(e.column() >= 1 && e.column() <= len + 1, "{text:?}: {e} at {}", e.column());
        }
    }

    #[test]
    fn parsing_never_panics_and_columns_are_in_range(text in "[a-z:#@%*0-9 é]{0,30}") {
        if let Err(e) = text.parse::<Tuple>() {
            let len = text.chars().count();
            prop_assert!(e.column() >= 1 && e.column() <= len + 1, "{text:?}: {e} at {}", e.column());
        }
    }
}

#[test]
fn a_space_inside_an_id_is_reported_where_it_is() {
    let e = "document:my doc#viewer@user:alice"
        .parse::<Tuple>()
        .unwrap_err();
    assert_eq!(e.column(), 12);
    assert_eq!(
        e.to_string(),
        "unencoded space in the object id; write it as `%20`"
    );
}

#[test]
fn a_missing_relation_separator_is_reported_after_the_object() {
    let e = "document:readme@user:alice".parse::<Tuple>().unwrap_err();
    assert_eq!(e.column(), 16);
    assert_eq!(e.to_string(), "expected `#` after the object");
}

#[test]
fn a_space_for_the_subject_separator_is_reported_as_a_missing_at() {
    let e = "doc:a#viewer user:ben".parse::<Tuple>().unwrap_err();
    assert_eq!(e.column(), 13);
    assert_eq!(e.to_string(), "expected `@` after the relation name");
    // Names are verbatim (`View` is a Keto relation), so the same holds.
    let e = "doc:a#View user:ben".parse::<Tuple>().unwrap_err();
    assert_eq!(e.column(), 11);
    assert_eq!(e.to_string(), "expected `@` after the relation name");
    // A name that is bad before any space is still reported as bad.
    let e = "doc:a#Vi`ew user:ben".parse::<Tuple>().unwrap_err();
    assert_eq!(e.column(), 7);
    assert!(
        e.to_string()
            .starts_with("invalid relation name `Vi`ew user`"),
        "{e}"
    );
}

#[test]
fn file_errors_carry_line_and_column() {
    let errors = parse_tuple_file("doc:a#viewer@user:x\n\ndoc:b#viewer@user:%zz\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column()), (3, 19));
    assert!(errors[0]
        .to_string()
        .starts_with("line 3, column 19: invalid percent-encoding `%zz`"));
}
