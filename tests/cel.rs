//! Conditions' CEL: the type checker (every error with its span) and the
//! evaluator (every operator and function the checker offers evaluates).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use serde_json::{json, Map, Value as Json};
use zanzi::condition::check::{check_expression, CelError, CelErrorKind};
use zanzi::condition::eval::{Binding, Origin, Programs};
use zanzi::condition::{EvalError, Verdict};
use zanzi::ir::{Condition, ConditionId, Param};

/// The parameters most tests use, one per type.
const ALL: &[(&str, &str)] = &[
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
    ("ls", "list<string>"),
    ("m", "map<int>"),
];

fn context() -> Json {
    json!({
        "a": 5, "u": 7, "d": 2.5, "s": "hello", "b": "aGk=", "dur": "1h30m",
        "t": "2027-01-01T00:00:00Z", "ip": "10.1.2.3", "x": {"k": [1, "x"]},
        "l": [1, 2, 3], "ls": ["a", "b"], "m": {"x": 1, "y": 2}
    })
}

fn params(spec: &[(&str, &str)]) -> Vec<Param> {
    spec.iter()
        .map(|(name, ty)| Param {
            name: (*name).to_owned(),
            ty: ty.parse().unwrap(),
        })
        .collect()
}

fn object(json: Json) -> Map<String, Json> {
    match json {
        Json::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn condition(spec: &[(&str, &str)], expression: &str) -> Condition {
    Condition {
        name: "c".to_owned(),
        doc: None,
        params: params(spec),
        expression: expression.to_owned(),
    }
}

fn compile(spec: &[(&str, &str)], expression: &str) -> Programs {
    Programs::compile(&[condition(spec, expression)])
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

fn evaluate(
    spec: &[(&str, &str)],
    expression: &str,
    stored: Json,
    request: Json,
) -> Result<Verdict, EvalError> {
    compile(spec, expression).evaluate(ConditionId(0), &object(stored), &object(request))
}

fn errors(spec: &[(&str, &str)], expression: &str) -> Vec<CelError> {
    match check_expression(&params(spec), expression) {
        Ok(checked) => panic!("{expression} passed the check: {checked:?}"),
        Err(errors) => errors,
    }
}

/// The one error of `expression`: its span's text and its message.
fn error(spec: &[(&str, &str)], expression: &str) -> (String, String) {
    let found = errors(spec, expression);
    assert_eq!(found.len(), 1, "{expression}: {found:#?}");
    let e = &found[0];
    (expression[e.span.clone()].to_owned(), e.message.clone())
}

#[test]
fn every_operator_and_function_checks_and_evaluates_to_true() {
    let cases = [
        // Logic and comparisons.
        "!(a == 4) && (a == 5 || false)",
        "a > 4 ? true : false",
        "a == 5 && a != 6 && a < 6 && a <= 5 && a > 4 && a >= 5",
        "u > 6u && d < 3.0 && s < 'z' && b > b'a' && false < true",
        "dur > duration('1h') && t > timestamp('2026-12-31T00:00:00Z')",
        // Numbers compare across kinds, as in cel-go; arithmetic does not mix.
        "a < 7.5 && u > 6 && a == 5.0 && u == 7 && 2.5 == d",
        "a + 1 == 6 && a - 1 == 4 && a * 2 == 10 && a / 2 == 2 && a % 2 == 1 && -a == -5",
        "u + 1u == 8u && u - 1u == 6u && u * 2u == 14u && u / 2u == 3u && u % 2u == 1u",
        "d + 0.5 == 3.0 && d - 0.5 == 2.0 && d * 2.0 == 5.0 && d / 2.0 == 1.25 && -d == -2.5",
        "s + '!' == 'hello!' && b + b'!' == b'hi!' && l + [4] == [1, 2, 3, 4]",
        // Time.
        "t + dur == timestamp('2027-01-01T01:30:00Z') && dur + t == t + dur",
        "t - dur < t && t - t == duration('0s') && dur + dur == duration('3h') && dur - dur == duration('0s')",
        // Containers.
        "2 in l && !(5 in l) && 'x' in m && !('z' in m) && 'a' in ls",
        "l[0] == 1 && m['y'] == 2 && m.x == 1 && ls[1] == 'b'",
        "has(m.x) && !has(m.z)",
        "{'k': 1}['k'] == 1 && {'k': 1}.k == 1 && [1, 'x'][1] == 'x' && {1: 'one'}[1] == 'one'",
        // Sizes and strings.
        "size(s) == 5 && s.size() == 5 && size(b) == 2 && b.size() == 2",
        "size(l) == 3 && l.size() == 3 && size(m) == 2 && m.size() == 2",
        "s.contains('ell') && s.startsWith('he') && s.endsWith('lo')",
        "s.matches('^h.*o$') && matches(s, 'l+')",
        // Conversions.
        "int('12') == 12 && int(a) == 5 && int(u) == 7 && int(d) == 2 && int(t) == 1798761600",
        "uint(a) == 5u && uint('3') == 3u && uint(d) == 2u && uint(u) == 7u",
        "double(a) == 5.0 && double(u) == 7.0 && double('1.5') == 1.5 && double(d) == 2.5",
        "string(a) == '5' && string(u) == '7' && string(d) == '2.5' && string(true) == 'true'",
        "string(b) == 'hi' && string(s) == s && string(dur) == '5400s'",
        "string(t) == '2027-01-01T00:00:00Z'",
        "bytes(s) == b'hello' && bytes(b) == b && bool('true') && bool(true)",
        "duration('90s') == duration('1m30s') && duration(dur) == dur",
        "timestamp(t) == t && timestamp(0) < t && dyn(a) == 5",
        // Timestamps and durations.
        "t.getFullYear() == 2027 && t.getMonth() == 0 && t.getDayOfYear() == 0",
        "t.getDayOfMonth() == 0 && t.getDate() == 1 && t.getDayOfWeek() == 5",
        "t.getHours() == 0 && t.getMinutes() == 0 && t.getSeconds() == 0 && t.getMilliseconds() == 0",
        "t.getFullYear('America/New_York') == 2026 && t.getHours('+01:00') == 1",
        "t.getMonth('UTC') == 0 && t.getDayOfYear('UTC') == 0 && t.getDayOfMonth('UTC') == 0",
        "t.getDate('UTC') == 1 && t.getDayOfWeek('UTC') == 5 && t.getMinutes('UTC') == 0",
        "t.getSeconds('UTC') == 0 && t.getMilliseconds('UTC') == 0",
        "dur.getHours() == 1 && dur.getMinutes() == 90 && dur.getSeconds() == 5400",
        "dur.getMilliseconds() == 5400000",
        // Macros, with the iteration variable typed by the elements.
        "l.all(n, n > 0) && l.exists(n, n == 2) && l.exists_one(n, n == 3)",
        "l.map(n, n * 2) == [2, 4, 6] && l.filter(n, n > 1) == [2, 3] && l.map(n, n > 1, n * 10) == [20, 30]",
        "m.all(k, k in ['x', 'y']) && ls.exists(e, e.startsWith('a'))",
        "l.map(n, [n]).all(one, size(one) == 1)",
        // ipaddress.
        "ip.in_cidr('10.0.0.0/8') && !ip.in_cidr('192.168.0.0/16') && !ip.in_cidr('::/0')",
        "ip == ip",
        "ipaddress('10.1.2.3') == ip && ipaddress('10.1.2.3').in_cidr('10.0.0.0/8')",
        "!ipaddress('::1').in_cidr('10.0.0.0/8') && ipaddress('::1') == ipaddress('0:0::1') && ip != ipaddress('::1')",
        // any.
        "x.k[0] == 1 && size(x.k) == 2 && x.k[1] == 'x' && has(x.k)",
    ];
    for expression in cases {
        let checked = check_expression(&params(ALL), expression)
            .unwrap_or_else(|e| panic!("{expression}: {e:#?}"));
        assert!(!checked.used.is_empty() || !expression.contains('a'));
        assert_eq!(
            evaluate(ALL, expression, context(), json!({})),
            Ok(Verdict::True),
            "{expression}"
        );
    }
}

#[test]
fn ipv6_addresses_are_in_their_blocks() {
    let spec = &[("ip", "ipaddress"), ("cidr", "string")];
    let expression = "ip.in_cidr(cidr)";
    for (ip, cidr, inside) in [
        ("2001:db8::1", "2001:db8::/32", true),
        ("2001:db9::1", "2001:db8::/32", false),
        ("::1", "::/0", true),
        ("10.1.2.3", "0.0.0.0/0", true),
        ("10.1.2.3", "10.1.2.3/32", true),
        ("10.1.2.4", "10.1.2.3/32", false),
        ("10.1.2.3", "::/0", false),
    ] {
        let verdict = evaluate(spec, expression, json!({"ip": ip, "cidr": cidr}), json!({}));
        let expected = if inside {
            Verdict::True
        } else {
            Verdict::False
        };
        assert_eq!(verdict, Ok(expected), "{ip} in {cidr}");
    }
}

/// `ipaddress(string)`, as OpenFGA's CEL has it: checked as a conversion
/// from a string only, and a malformed address is an evaluation error.
#[test]
fn ipaddress_converts_a_string_as_openfga_does() {
    let spec = &[("s", "string"), ("cidr", "string")];
    let expression = "ipaddress(s).in_cidr(cidr)";
    for (s, cidr, expected) in [
        ("192.168.0.1", "192.168.0.0/16", Verdict::True),
        ("192.168.0.1", "10.0.0.0/8", Verdict::False),
        ("2001:db8::1", "2001:db8::/32", Verdict::True),
    ] {
        assert_eq!(
            evaluate(spec, expression, json!({"s": s, "cidr": cidr}), json!({})),
            Ok(expected),
            "{s} in {cidr}"
        );
    }
    for bad in [
        "10.1.2",
        "",
        "10.0.0.1/8",
        "010.0.0.1",
        "::1::",
        "localhost",
    ] {
        let message = eval_error(spec, expression, json!({"s": bad, "cidr": "10.0.0.0/8"}));
        assert!(
            message.contains(&format!("`{bad}` is no IPv4 or IPv6 address")),
            "{bad}: {message}"
        );
    }
    // A missing string is missing, as for any parameter.
    assert_eq!(
        evaluate(spec, expression, json!({"cidr": "10.0.0.0/8"}), json!({})),
        Ok(Verdict::Missing(BTreeSet::from(["s".to_owned()])))
    );
    for (expression, types) in [
        ("ipaddress(1).in_cidr('10.0.0.0/8')", "(int)"),
        ("ipaddress(ip).in_cidr('10.0.0.0/8')", "(ipaddress)"),
        ("ipaddress(l).in_cidr('10.0.0.0/8')", "(list<int>)"),
    ] {
        let (at, message) = error(ALL, expression);
        assert_eq!(
            (at.as_str(), message),
            (
                expression.split_once(".in_cidr").unwrap().0,
                format!("no overload of `ipaddress` for {types}")
            ),
            "{expression}"
        );
    }
    assert!(matches!(
        errors(ALL, "ipaddress('10.1.2.3')")[0].kind,
        CelErrorKind::NotBool
    ));
}

#[test]
fn the_examples_of_the_language_reference_evaluate() {
    let office = compile(
        &[("client_ip", "ipaddress"), ("cidr", "string")],
        "client_ip.in_cidr(cidr)",
    );
    let stored = object(json!({"cidr": "10.0.0.0/8"}));
    let inside = object(json!({"client_ip": "10.1.2.3"}));
    let outside = object(json!({"client_ip": "192.168.1.1"}));
    assert_eq!(
        office.evaluate(ConditionId(0), &stored, &inside),
        Ok(Verdict::True)
    );
    assert_eq!(
        office.evaluate(ConditionId(0), &stored, &outside),
        Ok(Verdict::False)
    );
    assert_eq!(
        office.evaluate(ConditionId(0), &stored, &Map::new()),
        Ok(Verdict::Missing(BTreeSet::from(["client_ip".to_owned()])))
    );

    let before = compile(
        &[("deadline", "timestamp"), ("now", "timestamp")],
        "now < deadline",
    );
    let stored = object(json!({"deadline": "2027-01-01T00:00:00Z"}));
    let early = object(json!({"now": "2026-12-31T23:59:59Z"}));
    let late = object(json!({"now": "2027-01-01T00:00:00Z"}));
    assert_eq!(
        before.evaluate(ConditionId(0), &stored, &early),
        Ok(Verdict::True)
    );
    assert_eq!(
        before.evaluate(ConditionId(0), &stored, &late),
        Ok(Verdict::False)
    );
}

#[test]
fn missing_names_every_used_parameter_without_a_value_and_no_other() {
    let spec = &[("a", "int"), ("b", "int"), ("c", "int"), ("unused", "int")];
    let verdict = evaluate(
        spec,
        "a == 1 || b == 2 || c == 3",
        json!({"b": 2}),
        json!({}),
    );
    assert_eq!(
        verdict,
        Ok(Verdict::Missing(BTreeSet::from([
            "a".to_owned(),
            "c".to_owned()
        ])))
    );
}

#[test]
fn the_stored_value_wins_over_the_request() {
    let spec = &[("cidr", "string"), ("ip", "ipaddress")];
    let programs = compile(spec, "ip.in_cidr(cidr)");
    let stored = object(json!({"cidr": "10.0.0.0/8"}));
    let request = object(json!({"cidr": "0.0.0.0/0", "ip": "192.168.1.1"}));
    assert_eq!(
        programs.evaluate(ConditionId(0), &stored, &request),
        Ok(Verdict::False)
    );
    assert_eq!(
        programs.explain(ConditionId(0), &stored, &request),
        Ok(vec![
            Binding {
                name: "cidr".to_owned(),
                value: json!("10.0.0.0/8"),
                origin: Origin::Tuple
            },
            Binding {
                name: "ip".to_owned(),
                value: json!("192.168.1.1"),
                origin: Origin::Request
            },
        ])
    );
}

#[test]
fn keys_that_are_no_parameter_are_ignored() {
    let verdict = evaluate(
        &[("a", "int")],
        "a == 1",
        json!({"zz": "x"}),
        json!({"a": 1, "q": 2}),
    );
    assert_eq!(verdict, Ok(Verdict::True));
}

/// The message of the evaluation error of `expression`.
fn eval_error(spec: &[(&str, &str)], expression: &str, request: Json) -> String {
    match evaluate(spec, expression, json!({}), request) {
        Err(e) => {
            assert_eq!(e.condition, "c");
            e.message
        }
        Ok(verdict) => panic!("{expression} gave {verdict:?}"),
    }
}

#[test]
fn evaluation_failures_are_errors_naming_the_problem() {
    let ip = &[("ip", "ipaddress"), ("cidr", "string")];
    for cidr in [
        "10.0.0.0",
        "10.0.0.0/33",
        "10.0.0/8",
        "::/129",
        "10.0.0.0/-1",
        "x/8",
        "",
    ] {
        let message = eval_error(
            ip,
            "ip.in_cidr(cidr)",
            json!({"ip": "10.1.2.3", "cidr": cidr}),
        );
        assert!(message.contains("is no CIDR block"), "{cidr}: {message}");
    }
    let message = eval_error(
        ip,
        "ip.in_cidr(cidr)",
        json!({"ip": "10.1.2", "cidr": "10.0.0.0/8"}),
    );
    assert!(
        message.contains("parameter `ip`") && message.contains("no IPv4 or IPv6"),
        "{message}"
    );

    let message = eval_error(&[("a", "int")], "a + 1 > 0", json!({"a": i64::MAX}));
    assert!(message.to_lowercase().contains("overflow"), "{message}");
    let message = eval_error(&[("a", "int")], "10 / a > 0", json!({"a": 0}));
    assert!(
        message.to_lowercase().contains("division by zero"),
        "{message}"
    );
    let message = eval_error(
        &[("m", "map<int>")],
        "m['nope'] > 0",
        json!({"m": {"k": 1}}),
    );
    assert!(message.contains("nope"), "{message}");
    let message = eval_error(&[("m", "map<int>")], "m.nope > 0", json!({"m": {"k": 1}}));
    assert!(message.contains("nope"), "{message}");
    let message = eval_error(&[("l", "list<int>")], "l[3] > 0", json!({"l": [1]}));
    assert!(message.contains("3"), "{message}");
    // `any` is checked at run time: no overload for what it turned out to be.
    let message = eval_error(&[("x", "any")], "x + 1 > 0", json!({"x": "text"}));
    assert!(
        message.contains("add") && message.contains("text"),
        "{message}"
    );
    // …and a result that is no bool.
    let message = eval_error(&[("x", "any")], "x", json!({"x": 3}));
    assert!(message.contains("not a bool"), "{message}");
}

#[test]
fn context_values_that_do_not_fit_their_type_are_errors_naming_the_parameter() {
    for (ty, value, expected) in [
        ("int", json!("1"), "expected an integer"),
        ("int", json!(1.5), "expected an integer"),
        ("uint", json!(-1), "non-negative"),
        ("bool", json!(1), "expected a bool"),
        ("bytes", json!("!!"), "no base64"),
        ("duration", json!("1 hour"), "no duration"),
        ("duration", json!("3000000h"), "duration range"),
        ("timestamp", json!("2027-01-01"), "no RFC 3339"),
        ("list<int>", json!([1, "two"]), "[1]: expected an integer"),
        (
            "map<int>",
            json!({"k": "v"}),
            "[\"k\"]: expected an integer",
        ),
    ] {
        let message = eval_error(&[("p", ty)], "p == p", json!({"p": value}));
        assert!(
            message.contains("parameter `p`") && message.contains(expected),
            "{ty} {value}: {message}"
        );
    }
}

#[test]
fn durations_read_go_syntax() {
    use zanzi::condition::eval::parse_duration;
    for (text, seconds, nanos) in [
        ("90s", 90, 0),
        ("1h30m", 5400, 0),
        ("1.5h", 5400, 0),
        ("-2m", -120, 0),
        ("0", 0, 0),
        ("1ms", 0, 1_000_000),
        ("2us", 0, 2_000),
        ("3µs", 0, 3_000),
        (".5s", 0, 500_000_000),
    ] {
        let d = parse_duration(text).unwrap();
        assert_eq!(
            (d.num_seconds(), d.subsec_nanos()),
            (seconds, nanos),
            "{text}"
        );
    }
    for bad in ["", "-", "1", "h", "1x", "1h 2m", "1.2.3s", "1hh"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_syntax_error_points_at_the_offending_token() {
    assert_eq!(
        errors(&[("a", "int")], "a == + ")[0].kind,
        CelErrorKind::Syntax
    );
    assert_eq!(error(&[("a", "int")], "a == = 1").0, "=");
    // Positions count bytes, whatever the characters before.
    let found = errors(&[("a", "string")], "'éé' == + ");
    assert_eq!(&"'éé' == + "[found[0].span.clone()], "+");
    let found = errors(&[], "1 == 1 é");
    assert_eq!(&"1 == 1 é"[found[0].span.clone()], "é");
}

#[test]
fn an_unknown_variable_is_named_with_a_suggestion() {
    let found = errors(
        &[("client_ip", "ipaddress")],
        "clinet_ip.in_cidr('10.0.0.0/8')",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].span, 0..9);
    assert_eq!(
        found[0].kind,
        CelErrorKind::UnknownVariable {
            name: "clinet_ip".to_owned(),
            suggestion: Some("client_ip".to_owned())
        }
    );
    assert_eq!(found[0].help.as_deref(), Some("did you mean `client_ip`?"));
}

#[test]
fn a_missing_overload_names_the_types() {
    let spec = ALL;
    assert_eq!(
        error(spec, "a + 'x' == 1"),
        (
            "a + 'x'".to_owned(),
            "no overload of `+` for (int, string)".to_owned()
        )
    );
    assert_eq!(
        error(spec, "size(a) == 1"),
        (
            "size(a)".to_owned(),
            "no overload of `size` for (int)".to_owned()
        )
    );
    assert_eq!(
        error(spec, "s.startsWith(1)"),
        (
            "s.startsWith(1)".to_owned(),
            "no overload of `startsWith` on string for (int)".to_owned()
        )
    );
    assert_eq!(
        error(spec, "ip.in_cidr(1)"),
        (
            "ip.in_cidr(1)".to_owned(),
            "no overload of `in_cidr` on ipaddress for (int)".to_owned()
        )
    );
    for (expression, types) in [
        ("dur + a == dur", "(duration, int)"),
        ("a < s", "(int, string)"),
        ("a + 1.0 > 0.0", "(int, double)"),
        ("d % 2.0 == 0.0", "(double, double)"),
        ("1 in m", "(int, map<int>)"),
        ("m[1] == 1", "(map<int>, int)"),
        ("l == ls", "(list<int>, list<string>)"),
        ("-u == u", "(uint)"),
        ("!a", "(int)"),
        ("t + t == t", "(timestamp, timestamp)"),
    ] {
        let (_, message) = error(spec, expression);
        assert!(message.ends_with(types), "{expression}: {message}");
    }
}

#[test]
fn other_type_errors_say_what_was_expected() {
    let spec = ALL;
    assert_eq!(
        error(spec, "a"),
        (
            "a".to_owned(),
            "a condition must be bool, and this expression is int".to_owned()
        )
    );
    assert_eq!(
        error(spec, "l.map(n, n)"),
        (
            "l.map(n, n)".to_owned(),
            "a condition must be bool, and this expression is list<int>".to_owned()
        )
    );
    assert_eq!(
        error(spec, "l.all(n, n + 1)"),
        (
            "n + 1".to_owned(),
            "the predicate of `all()` or `exists()` must be bool, and this is int".to_owned()
        )
    );
    assert_eq!(
        error(spec, "ls.all(e, e.startsWith(1))").1,
        "no overload of `startsWith` on string for (int)"
    );
    assert_eq!(
        error(spec, "l.all(n, n.startsWith('a'))").1,
        "no overload of `startsWith` on int for (string)"
    );
    assert_eq!(
        error(spec, "s.x == 1"),
        ("s.x".to_owned(), "string has no field `x`".to_owned())
    );
    assert_eq!(
        error(spec, "a ? true : false").1,
        "the condition of `? :` must be bool, and this is int"
    );
    assert_eq!(
        error(spec, "true ? 1 : 's'").1,
        "the branches of `? :` differ: int and string"
    );
    assert_eq!(
        error(spec, "a.all(n, true)").1,
        "only lists and maps can be iterated over, and this is int"
    );
    let (span, message) = error(spec, "s.lowerAscii() == s");
    assert_eq!(
        (span.as_str(), message.as_str()),
        ("s.lowerAscii()", "unknown method `lowerAscii`")
    );
    let found = errors(spec, "siz(s) == 1");
    assert_eq!(found[0].message, "unknown function `siz`");
    assert_eq!(found[0].help.as_deref(), Some("did you mean `size`?"));
    assert_eq!(&"siz(s) == 1"[found[0].span.clone()], "siz(s)");
    // Names that cel-go knows but conditions do not offer.
    assert_eq!(
        errors(spec, "type(a) == 'int'")[0].message,
        "unknown function `type`"
    );
    assert!(error(spec, "google.protobuf.Timestamp{} == t")
        .1
        .contains("message"));
}

#[test]
fn independent_errors_are_all_reported_and_cascades_are_not() {
    let found = errors(
        ALL,
        "clinet == 1 || a + 's' == 1 || foo() || (nope + 1) * 2 == 3",
    );
    let messages: Vec<&str> = found.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(found.len(), 4, "{messages:#?}");
    assert!(messages[0].contains("`clinet`"));
    assert!(messages[1].contains("(int, string)"));
    assert!(messages[2].contains("`foo`"));
    assert!(messages[3].contains("`nope`"));
}

#[test]
fn used_lists_parameters_and_not_names_bound_by_macros() {
    let spec = &[("l", "list<int>"), ("n", "int"), ("unused", "string")];
    let checked = check_expression(spec_params(spec).as_slice(), "l.exists(n, n > 1)").unwrap();
    assert_eq!(checked.used, BTreeSet::from(["l".to_owned()]));
    // A macro's variable shadows a parameter inside it only.
    let checked =
        check_expression(spec_params(spec).as_slice(), "l.exists(n, n > 1) && n > 0").unwrap();
    assert_eq!(
        checked.used,
        BTreeSet::from(["l".to_owned(), "n".to_owned()])
    );
}

fn spec_params(spec: &[(&str, &str)]) -> Vec<Param> {
    params(spec)
}

#[test]
fn programs_compile_each_condition_once_and_are_shareable() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Programs>();
    let programs = Programs::compile(&[
        condition(&[("a", "int")], "a > 1"),
        condition(&[("s", "string")], "s == 'x'"),
    ])
    .unwrap();
    let request = object(json!({"a": 2, "s": "y"}));
    assert_eq!(
        programs.evaluate(ConditionId(0), &Map::new(), &request),
        Ok(Verdict::True)
    );
    assert_eq!(
        programs.evaluate(ConditionId(1), &Map::new(), &request),
        Ok(Verdict::False)
    );
    assert!(programs
        .evaluate(ConditionId(2), &Map::new(), &request)
        .is_err());
    // An expression that does not check is refused, naming the condition.
    let refused = Programs::compile(&[condition(&[("a", "int")], "a + 'x'")])
        .err()
        .unwrap();
    assert_eq!(refused.condition, "c");
    assert!(
        refused.message.contains("no overload"),
        "{}",
        refused.message
    );
}

#[test]
fn long_and_deep_expressions_are_refused_without_overflowing_the_stack() {
    let spec = &[("a", "int")];
    let long = format!("a{} > 0", " + a".repeat(2000));
    assert!(error(spec, &long).1.contains("nests more than 64 deep"));
    let deep = format!("{}a{} > 0", "(".repeat(500), ")".repeat(500));
    assert!(error(spec, &deep).1.contains("nests too deep"));
    let huge = format!("a{} > 0", " + a".repeat(5000));
    assert!(error(spec, &huge).1.contains("longer than"));
    // On a small stack too: the check has its own.
    let handle = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || check_expression(&params(&[("a", "int")]), &long).is_err())
        .unwrap();
    assert!(handle.join().unwrap());
}

#[test]
fn deep_expressions_evaluate_on_a_small_stack() {
    // The deepest expression allowed, on a thread with little stack.
    let chain = format!("a{} > 0", " + a".repeat(60));
    let programs = compile(&[("a", "int")], &chain);
    let request = object(json!({"a": 1}));
    let verdict = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || programs.evaluate(ConditionId(0), &Map::new(), &request))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(verdict, Ok(Verdict::True));
}
