//! Any text as a condition's CEL expression, checked against a fixed set of
//! parameters and, when accepted, evaluated with a context built from the
//! same bytes: no panic, no stack overflow; an accepted expression uses
//! only declared parameters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zanzi::condition::check::check_expression;
use zanzi::condition::eval::Programs;
use zanzi::ir::{Condition, ConditionId, Param, ParamType};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let params = vec![
        Param { name: "a".into(), ty: ParamType::Int },
        Param { name: "s".into(), ty: ParamType::String },
        Param { name: "ip".into(), ty: ParamType::IpAddress },
        Param { name: "l".into(), ty: ParamType::List(Box::new(ParamType::Int)) },
        Param { name: "m".into(), ty: ParamType::Map(Box::new(ParamType::Any)) },
    ];
    let Ok(checked) = check_expression(&params, text) else {
        return;
    };
    assert!(checked.used.iter().all(|u| params.iter().any(|p| &p.name == u)));
    let condition = Condition {
        name: "fuzzed".into(),
        doc: None,
        params,
        expression: text.to_owned(),
    };
    let Ok(programs) = Programs::compile(&[condition]) else {
        return;
    };
    let context = serde_json::json!({
        "a": data.len() as i64 - 7,
        "s": text.chars().take(8).collect::<String>(),
        "ip": "10.1.2.3",
        "l": [1, 2, data.first().copied().unwrap_or(0)],
        "m": {"k": "v"},
    });
    let serde_json::Value::Object(context) = context else {
        return;
    };
    let _ = programs.evaluate(ConditionId(0), &serde_json::Map::new(), &context);
});
