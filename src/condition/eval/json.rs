//! A context value, as JSON, turned into the CEL value of its parameter's
//! declared type (the JSON forms of docs/language.md: a duration as `"1h30m"`,
//! a timestamp as RFC 3339, bytes as base64, an address as text).

use std::collections::HashMap;

use base64::Engine as _;
use cel::common::types::{
    CelBool, CelBytes, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull,
    CelString, CelTimestamp, CelUInt,
};
use cel::common::value::Val;
use serde_json::Value as Json;

use super::ip;
use crate::ir::ParamType;

/// The CEL value of `json` as a `ty`, or what does not fit (naming the
/// place inside `json` where it is not at the top).
pub fn to_cel(ty: &ParamType, json: &Json) -> Result<Box<dyn Val>, String> {
    let expected = |what: &str| format!("expected {what}, found {}", describe(json));
    Ok(match ty {
        ParamType::Bool => Box::new(CelBool::from(
            json.as_bool().ok_or_else(|| expected("a bool"))?,
        )),
        ParamType::Int => Box::new(CelInt::from(
            json.as_i64().ok_or_else(|| expected("an integer (int)"))?,
        )),
        ParamType::Uint => Box::new(CelUInt::from(
            json.as_u64()
                .ok_or_else(|| expected("a non-negative integer (uint)"))?,
        )),
        ParamType::Double => Box::new(CelDouble::from(
            json.as_f64().ok_or_else(|| expected("a number"))?,
        )),
        ParamType::String => Box::new(CelString::from(
            json.as_str()
                .ok_or_else(|| expected("a string"))?
                .to_owned(),
        )),
        ParamType::Bytes => {
            let text = json.as_str().ok_or_else(|| expected("a base64 string"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("`{text}` is no base64: {e}"))?;
            Box::new(CelBytes::from(bytes))
        }
        ParamType::Duration => {
            let text = json.as_str().ok_or_else(|| expected("a duration string"))?;
            Box::new(CelDuration::from(parse_duration(text)?))
        }
        ParamType::Timestamp => {
            let text = json
                .as_str()
                .ok_or_else(|| expected("an RFC 3339 timestamp"))?;
            let at = chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|e| format!("`{text}` is no RFC 3339 timestamp: {e}"))?;
            Box::new(CelTimestamp::from(at))
        }
        ParamType::IpAddress => {
            let text = json
                .as_str()
                .ok_or_else(|| expected("an IP address string"))?;
            Box::new(ip::parse(text)?)
        }
        ParamType::Any => any(json),
        ParamType::List(item) => {
            let items = json.as_array().ok_or_else(|| expected("a list"))?;
            let items = items
                .iter()
                .enumerate()
                .map(|(i, v)| to_cel(item, v).map_err(|e| format!("[{i}]: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            Box::new(CelList::from(items))
        }
        ParamType::Map(value) => {
            let entries = json.as_object().ok_or_else(|| expected("a map (object)"))?;
            let map = entries
                .iter()
                .map(|(k, v)| {
                    let v = to_cel(value, v).map_err(|e| format!("[{k:?}]: {e}"))?;
                    Ok((CelMapKey::from(k.clone()), v))
                })
                .collect::<Result<HashMap<_, _>, String>>()?;
            Box::new(CelMap::from(map))
        }
    })
}

/// An `any` value: JSON's own types (integers as `int`, or `uint` beyond
/// it; other numbers as `double`).
fn any(json: &Json) -> Box<dyn Val> {
    match json {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(s) => Box::new(CelString::from(s.clone())),
        Json::Array(items) => Box::new(CelList::from(items.iter().map(any).collect::<Vec<_>>())),
        Json::Object(entries) => Box::new(CelMap::from(
            entries
                .iter()
                .map(|(k, v)| (CelMapKey::from(k.clone()), any(v)))
                .collect::<HashMap<_, _>>(),
        )),
    }
}

fn describe(json: &Json) -> String {
    let text = json.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("`{}…`", text.get(..cut).unwrap_or_default()),
        None => format!("`{text}`"),
    }
}

/// The duration range of the `cel` crate (and cel-go): an `i64` of
/// nanoseconds, about ±292 years.
const MAX_DURATION_NANOS: i128 = i64::MAX as i128;

/// A duration in Go's syntax, as CEL's `duration()` reads it: a sign, then
/// one or more decimal numbers with a unit (`h m s ms us µs ns`), or `0`.
pub fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    let malformed = || format!("`{text}` is no duration (like `90s`, `1h30m` or `1.5h`)");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(chrono::Duration::zero());
    }
    if rest.is_empty() {
        return Err(malformed());
    }
    let mut nanos: i128 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(malformed)?;
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(malformed()),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(malformed());
        }
        let too_long = || format!("`{text}` is out of the duration range (about ±292 years)");
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| too_long())?
        };
        let mut part = whole.checked_mul(unit).ok_or_else(too_long)?;
        let mut scale = unit;
        for digit in fraction.bytes().take(18) {
            scale /= 10;
            part = part
                .checked_add(i128::from(digit - b'0') * scale)
                .ok_or_else(too_long)?;
        }
        nanos = nanos.checked_add(part).ok_or_else(too_long)?;
        if nanos > MAX_DURATION_NANOS {
            return Err(too_long());
        }
        rest = after;
    }
    let nanos = if negative { -nanos } else { nanos };
    let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| malformed())?;
    let subsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).map_err(|_| malformed())?;
    chrono::Duration::new(seconds, subsec).ok_or_else(malformed)
}
