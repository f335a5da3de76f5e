//! Tests of the JSON forms of parameter values and of context checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::json;

use super::*;
use crate::ir::Param;

fn ty(text: &str) -> ParamType {
    text.parse().unwrap()
}

fn accepts(t: &str, value: Value) {
    assert_eq!(check_value(&ty(t), &value), Ok(()), "{t} {value}");
}

fn refuses(t: &str, value: Value) -> String {
    check_value(&ty(t), &value).expect_err(&format!("{t} accepted {value}"))
}

#[test]
fn scalars_accept_their_json_form_and_refuse_others() {
    accepts("bool", json!(true));
    assert_eq!(
        refuses("bool", json!("true")),
        "expected `true` or `false`, found `\"true\"`"
    );
    accepts("int", json!(-5));
    accepts("int", json!(i64::MAX));
    assert!(refuses("int", json!(u64::MAX)).starts_with("expected an integer"));
    assert!(refuses("int", json!(1.5)).ends_with("found `1.5`"));
    accepts("uint", json!(u64::MAX));
    assert!(refuses("uint", json!(-1)).contains("between 0 and"));
    accepts("double", json!(1.5));
    accepts("double", json!(3));
    assert_eq!(
        refuses("double", json!("1.5")),
        "expected a number, found `\"1.5\"`"
    );
    accepts("string", json!(""));
    assert_eq!(
        refuses("string", json!(null)),
        "expected a string, found `null`"
    );
    accepts("any", json!({"x": [1, null]}));
}

#[test]
fn bytes_are_padded_standard_base64() {
    accepts("bytes", json!("aGVsbG8="));
    accepts("bytes", json!(""));
    assert!(refuses("bytes", json!("aGVsbG8")).starts_with("expected a base64 string"));
    assert!(refuses("bytes", json!("a-_b")).starts_with("expected a base64 string"));
    refuses("bytes", json!([104]));
}

#[test]
fn durations_follow_cel_syntax() {
    for text in [
        "90s", "1h30m", "1.5h", "-2m", "0", "300ms", "1us", "1µs", "2ns", ".5s",
    ] {
        accepts("duration", json!(text));
    }
    assert_eq!(
        parse_duration("1h30m").unwrap(),
        chrono::TimeDelta::minutes(90)
    );
    assert_eq!(
        parse_duration("1.5h").unwrap(),
        chrono::TimeDelta::minutes(90)
    );
    assert_eq!(
        parse_duration("-2m").unwrap(),
        chrono::TimeDelta::minutes(-2)
    );
    for text in ["", "90", "1d", "h", "1h 30m", "--1s", "1.s.5", "."] {
        assert!(parse_duration(text).is_err(), "{text:?}");
    }
    assert_eq!(
        refuses("duration", json!(90)),
        "expected a duration such as `\"90s\"` or `\"1h30m\"`, found `90`"
    );
}

#[test]
fn timestamps_are_rfc_3339() {
    accepts("timestamp", json!("2027-01-01T00:00:00Z"));
    accepts("timestamp", json!("2027-01-01T01:00:00.5+01:00"));
    assert_eq!(
        refuses("timestamp", json!("tomorrow")),
        "expected an RFC 3339 timestamp, found `\"tomorrow\"`"
    );
    refuses("timestamp", json!("2027-01-01"));
}

#[test]
fn ip_addresses_are_v4_or_v6() {
    accepts("ipaddress", json!("10.1.2.3"));
    accepts("ipaddress", json!("::1"));
    accepts("ipaddress", json!("2001:db8::8a2e:370:7334"));
    assert_eq!(
        refuses("ipaddress", json!("10.0.0.0/8")),
        "expected an IPv4 or IPv6 address, found `\"10.0.0.0/8\"`"
    );
    refuses("ipaddress", json!("300.1.1.1"));
}

#[test]
fn lists_and_maps_name_the_path_to_a_bad_item() {
    accepts("list<int>", json!([1, 2]));
    accepts("list<list<string>>", json!([["a"], []]));
    assert_eq!(
        refuses("list<int>", json!([1, "2"])),
        "at [1]: expected an integer between -2^63 and 2^63-1, found `\"2\"`"
    );
    assert_eq!(
        refuses("list<int>", json!({"a": 1})),
        "expected a list of `int`, found `{\"a\":1}`"
    );
    accepts("map<bool>", json!({"a": true}));
    assert_eq!(
        refuses("map<list<ipaddress>>", json!({"office": ["10.0.0.1", "x"]})),
        "at [\"office\"][1]: expected an IPv4 or IPv6 address, found `\"x\"`"
    );
    assert!(refuses("map<int>", json!([1])).starts_with("expected a map of `int`"));
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(100);
    let message = refuses("int", json!(long));
    assert!(message.ends_with("…`"), "{message}");
    assert!(message.len() < 120, "{message}");
}

fn office_network() -> Condition {
    Condition {
        name: "office_network".to_owned(),
        doc: None,
        params: vec![
            Param {
                name: "client_ip".to_owned(),
                ty: ParamType::IpAddress,
            },
            Param {
                name: "cidr".to_owned(),
                ty: ParamType::String,
            },
        ],
        expression: "client_ip.in_cidr(cidr)".to_owned(),
    }
}

fn context(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

#[test]
fn a_context_is_checked_key_by_key() {
    let condition = office_network();
    assert_eq!(check_context(&condition, &context(json!({}))), Ok(()));
    assert_eq!(
        check_context(&condition, &context(json!({"cidr": "10.0.0.0/8"}))),
        Ok(())
    );
    let error = check_context(&condition, &context(json!({"clientip": "10.1.2.3"}))).unwrap_err();
    assert_eq!(error.key, "clientip");
    assert_eq!(
        error.to_string(),
        "condition `office_network` has no parameter `clientip` (its parameters are \
         `client_ip`, `cidr`); did you mean `client_ip`?"
    );
    let error = check_context(&condition, &context(json!({"client_ip": 10}))).unwrap_err();
    assert_eq!(error.key, "client_ip");
    assert_eq!(
        error.to_string(),
        "parameter `client_ip` of condition `office_network` has type `ipaddress`: \
         expected an IPv4 or IPv6 address, found `10`"
    );
}
