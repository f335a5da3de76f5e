//! PLACEHOLDER (not committed): evaluates `x` for a bool parameter x, `true`, `false`.
use super::{EvalError, Verdict};
use crate::ir::{Condition, ConditionId};
use serde_json::{Map, Value};

pub struct Programs {
    conditions: Vec<Condition>,
}

impl Programs {
    pub fn compile(conditions: &[Condition]) -> Result<Programs, EvalError> {
        Ok(Programs {
            conditions: conditions.to_vec(),
        })
    }
    pub fn evaluate(
        &self,
        id: ConditionId,
        stored: &Map<String, Value>,
        request: &Map<String, Value>,
    ) -> Result<Verdict, EvalError> {
        let Some(c) = self.conditions.get(id.0 as usize) else {
            return Err(EvalError {
                condition: "?".into(),
                message: "no".into(),
            });
        };
        let e = c.expression.trim();
        match e {
            "true" => return Ok(Verdict::True),
            "false" => return Ok(Verdict::False),
            _ => {}
        }
        let mut missing = std::collections::BTreeSet::new();
        let mut all = true;
        for name in e.split("&&").map(str::trim) {
            match stored.get(name).or_else(|| request.get(name)) {
                Some(Value::Bool(b)) => all &= *b,
                Some(_) => {
                    return Err(EvalError {
                        condition: c.name.clone(),
                        message: format!("`{name}` is not a bool"),
                    })
                }
                None => {
                    missing.insert(name.to_owned());
                }
            }
        }
        if !missing.is_empty() {
            return Ok(Verdict::Missing(missing));
        }
        Ok(if all { Verdict::True } else { Verdict::False })
    }
}
