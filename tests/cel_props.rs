//! Properties of conditions' CEL: the check never panics, whatever the text,
//! and whatever it accepts evaluates without panicking on any context of the
//! declared types.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};
use zanzi::condition::check::check_expression;
use zanzi::condition::eval::Programs;
use zanzi::ir::{Condition, ConditionId, Param};

const PARAMS: &[(&str, &str)] = &[
    ("a", "int"),
    ("u", "uint"),
    ("d", "double"),
    ("s", "string"),
    ("b", "bytes"),
    ("dur", "duration"),
    ("t", "timestamp"),
    ("ip", "ipaddress"),
    ("x", "any"),
    ("l", "list<int>"),
    ("m", "map<string>"),
];

fn params() -> Vec<Param> {
    PARAMS
        .iter()
        .map(|(name, ty)| Param {
            name: (*name).to_owned(),
            ty: ty.parse().unwrap(),
        })
        .collect()
}

/// Pieces of CEL, well-formed or nearly.
fn expression() -> impl Strategy<Value = String> {
    let atom = prop_oneof![prop::sample::select(vec![
        "a",
        "u",
        "d",
        "s",
        "b",
        "dur",
        "t",
        "ip",
        "x",
        "l",
        "m",
        "v",
        "nope",
        "1",
        "0",
        "-1",
        "2u",
        "0u",
        "1.5",
        "0.0",
        "'x'",
        "''",
        "b'y'",
        "true",
        "false",
        "null",
        "[1, 2]",
        "[]",
        "{'k': 1}",
        "{}",
        "9223372036854775807",
        "'10.0.0.0/8'",
        "'::/0'",
        "duration('1h')",
        "timestamp('2027-01-01T00:00:00Z')",
        "'.*'",
        "'('",
    ])
    .prop_map(str::to_owned),];
    atom.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in",
                ]),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            (prop::sample::select(vec!["!", "-"]), inner.clone())
                .prop_map(|(op, e)| format!("{op}({e})")),
            (
                prop::sample::select(vec![
                    "size",
                    "int",
                    "uint",
                    "double",
                    "string",
                    "bytes",
                    "bool",
                    "duration",
                    "timestamp",
                    "dyn",
                    "matches",
                    "ipaddress",
                ]),
                inner.clone()
            )
                .prop_map(|(f, e)| format!("{f}({e})")),
            (
                inner.clone(),
                prop::sample::select(vec![
                    "contains",
                    "startsWith",
                    "endsWith",
                    "matches",
                    "in_cidr",
                    "getHours",
                    "getFullYear",
                    "getDayOfYear",
                    "size",
                ]),
                prop::option::of(inner.clone())
            )
                .prop_map(|(t, f, a)| format!("({t}).{f}({})", a.unwrap_or_default())),
            (
                inner.clone(),
                prop::sample::select(vec!["all", "exists", "exists_one", "map", "filter"]),
                inner.clone()
            )
                .prop_map(|(t, f, body)| format!("({t}).{f}(v, {body})")),
            (inner.clone(), inner.clone()).prop_map(|(e, i)| format!("({e})[{i}]")),
            inner.clone().prop_map(|e| format!("({e}).k")),
            inner.clone().prop_map(|e| format!("has(({e}).k)")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("[{a}, {b}]")),
        ]
    })
}

fn pick(items: &[&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items.to_vec())
        .prop_map(str::to_owned)
        .boxed()
}

/// Well-typed `int` expressions (the values may still overflow or divide
/// by zero: that is the point).
fn int_expression() -> BoxedStrategy<String> {
    let atom = pick(&[
        "a",
        "1",
        "0",
        "-1",
        "9223372036854775807",
        "size(s)",
        "size(l)",
        "int(d)",
        "int(s)",
        "dur.getHours()",
        "t.getFullYear()",
        "t.getDayOfYear('Europe/Paris')",
        "int(u)",
        "l[0]",
        "int(t)",
        "size(m)",
        "b.size()",
        "x",
    ]);
    atom.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                pick(&["+", "-", "*", "/", "%"]),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            inner.clone().prop_map(|e| format!("-({e})")),
            (inner.clone(), inner.clone()).prop_map(|(e, i)| format!("[{e}, 2][{i}]")),
            inner.prop_map(|e| format!("l.map(v, v + {e}).size()")),
        ]
    })
    .boxed()
}

fn string_expression() -> BoxedStrategy<String> {
    prop_oneof![
        pick(&[
            "s",
            "'x'",
            "''",
            "'10.0.0.0/8'",
            "'::/0'",
            "'10.1.2.3'",
            "'::1'",
            "m.k",
            "m['k']",
            "'('",
            "x"
        ]),
        int_expression().prop_map(|e| format!("string({e})")),
        pick(&[
            "string(d)",
            "string(t)",
            "string(dur)",
            "string(b)",
            "(s + s)"
        ]),
    ]
    .boxed()
}

/// Well-typed conditions.
fn bool_expression() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        pick(&[
            "true",
            "false",
            "has(m.k)",
            "'k' in m",
            "t < t + dur",
            "t - dur < t",
            "dur > duration('1h')",
            "t - t == dur",
            "u > 0u",
            "u + u > u",
            "d < 1.5",
            "d / 0.0 > d",
            "b == bytes(s)",
            "x == 1",
            "x",
            "ip == ip",
            "l == [1]",
            "timestamp(s) < t",
            "duration(s) < dur",
            "double(s) > d",
            "uint(a) > u",
        ]),
        (
            int_expression(),
            pick(&["==", "!=", "<", "<=", ">", ">="]),
            int_expression()
        )
            .prop_map(|(l, op, r)| format!("{l} {op} {r}")),
        (
            int_expression(),
            pick(&["<", "=="]),
            pick(&["d", "u", "1.5", "2u"])
        )
            .prop_map(|(l, op, r)| format!("{l} {op} {r}")),
        (
            string_expression(),
            pick(&["contains", "startsWith", "endsWith", "matches"]),
            string_expression()
        )
            .prop_map(|(t, f, a)| format!("({t}).{f}({a})")),
        string_expression().prop_map(|c| format!("ip.in_cidr({c})")),
        (string_expression(), string_expression())
            .prop_map(|(a, c)| format!("ipaddress({a}).in_cidr({c})")),
        string_expression().prop_map(|a| format!("ipaddress({a}) == ip")),
        int_expression().prop_map(|e| format!("{e} in l")),
        (pick(&["all", "exists", "exists_one"]), int_expression())
            .prop_map(|(f, e)| format!("l.{f}(v, v < {e})")),
        int_expression().prop_map(|e| format!("l.filter(v, v > {e}).size() > 0")),
        int_expression().prop_map(|e| format!("m.exists(k, m[k].size() == {e})")),
    ]
    .prop_map(|leaf| format!("({leaf})"));
    leaf.prop_recursive(3, 24, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                pick(&["&&", "||", "==", "!="]),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            inner.clone().prop_map(|e| format!("!({e})")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
    .boxed()
}

fn value_of(ty: &str) -> BoxedStrategy<Json> {
    match ty {
        "int" => prop_oneof![any::<i64>(), -3i64..3]
            .prop_map(Json::from)
            .boxed(),
        "uint" => prop_oneof![any::<u64>(), 0u64..3]
            .prop_map(Json::from)
            .boxed(),
        "double" => prop_oneof![
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
            -2.0..2.0
        ]
        .prop_map(Json::from)
        .boxed(),
        "string" => prop_oneof![
            "[a-z0-9./:()*]{0,8}",
            Just("10.0.0.0/8".to_owned()),
            Just("x".to_owned())
        ]
        .prop_map(Json::from)
        .boxed(),
        "bytes" => prop::sample::select(vec!["", "aGk=", "/w=="])
            .prop_map(Json::from)
            .boxed(),
        "duration" => {
            prop::sample::select(vec!["0", "1h", "-90m", "1.5s", "2562047h", "-2562047h"])
                .prop_map(Json::from)
                .boxed()
        }
        "timestamp" => prop::sample::select(vec![
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2027-01-01T00:00:00+14:00",
        ])
        .prop_map(Json::from)
        .boxed(),
        "ipaddress" => prop::sample::select(vec!["10.1.2.3", "::1", "255.255.255.255"])
            .prop_map(Json::from)
            .boxed(),
        "list<int>" => prop::collection::vec(any::<i64>(), 0..3)
            .prop_map(|v| json!(v))
            .boxed(),
        "map<string>" => prop::collection::btree_map("[a-z]{1,2}", "[a-z]{0,2}", 0..3)
            .prop_map(|m| json!(m))
            .boxed(),
        _ => prop_oneof![
            Just(json!(null)),
            Just(json!(1)),
            Just(json!("x")),
            Just(json!([1, "x"])),
            Just(json!({"k": 1})),
            Just(json!(1.5)),
        ]
        .boxed(),
    }
}

/// A context with every parameter.
fn full_context() -> impl Strategy<Value = Map<String, Json>> {
    let entries: Vec<_> = PARAMS
        .iter()
        .map(|(name, ty)| value_of(ty).prop_map(move |v| ((*name).to_owned(), v)))
        .collect();
    entries.prop_map(|entries| entries.into_iter().collect())
}

/// A context: some parameters, each with a value of its type.
fn context() -> impl Strategy<Value = Map<String, Json>> {
    let entries: Vec<_> = PARAMS
        .iter()
        .map(|(name, ty)| prop::option::of(value_of(ty)).prop_map(move |v| (*name, v)))
        .collect();
    entries.prop_map(|entries| {
        entries
            .into_iter()
            .filter_map(|(name, v)| v.map(|v| (name.to_owned(), v)))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_check_never_panics_on_any_text(text in "\\PC{0,60}") {
        let _ = check_expression(&params(), &text);
    }

    #[test]
    fn the_check_never_panics_on_cel_like_text(text in "[a-z0-9 .,()\\[\\]{}'\"+*/%<>=!&|?:-]{0,60}") {
        let _ = check_expression(&params(), &text);
    }

    #[test]
    fn well_typed_conditions_check_and_evaluate_without_panicking(
        expression in bool_expression(),
        stored in context(),
        request in prop_oneof![3 => full_context(), 1 => context()],
    ) {
        let checked = check_expression(&params(), &expression);
        prop_assert!(checked.is_ok(), "{expression}: {checked:?}");
        let condition = Condition {
            name: "c".to_owned(),
            doc: None,
            params: params(),
            expression: expression.clone(),
        };
        let programs = Programs::compile(&[condition]).unwrap();
        let _ = programs.evaluate(ConditionId(0), &stored, &request);
    }

    #[test]
    fn what_the_check_accepts_evaluates_without_panicking(
        expression in expression(),
        stored in context(),
        request in context(),
    ) {
        let full = format!("({expression}) == true || ({expression}) == false || {expression}");
        for text in [expression.as_str(), full.as_str()] {
            if check_expression(&params(), text).is_err() {
                continue;
            }
            let condition = Condition {
                name: "c".to_owned(),
                doc: None,
                params: params(),
                expression: text.to_owned(),
            };
            let programs = Programs::compile(&[condition]).unwrap();
            let _ = programs.evaluate(ConditionId(0), &stored, &request);
        }
    }
}
