//! A schema's conditions compiled once (parsed and type-checked) and
//! evaluated per tuple and request: parameters from the tuple's stored
//! context first, then the request's; a [`Verdict::Missing`] when a
//! parameter the expression uses has no value; an [`EvalError`] when the
//! evaluation fails.

mod ip;
mod json;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use cel::common::types::{CelBool, STRING_TYPE};
use cel::{Context, Env, IdedExpr, Value};
use serde_json::{Map, Value as Json};

use super::check::check_parsed;
use super::{EvalError, Verdict};
use crate::ir::{Condition, ConditionId, Param};

pub use ip::IpAddress;
pub use json::parse_duration;

/// Every condition of a schema, ready to evaluate. Cheap to share: put it in
/// an `Arc`.
pub struct Programs {
    env: Arc<Env>,
    /// By [`ConditionId`].
    programs: Vec<Program>,
    /// Stored contexts parsed, by their canonical text: many tuples share
    /// one (the same CIDR, the same deadline), and parsing one costs more
    /// than evaluating the condition.
    parsed: Mutex<FxHashMap<Box<str>, Parameters>>,
}

/// A context's parameters, shared.
type Parameters = Arc<Map<String, Json>>;

/// Parsed stored contexts kept before the cache starts over.
const PARSED_CONTEXTS: usize = 4096;

struct Program {
    name: String,
    params: Vec<Param>,
    /// The parameters the expression reads.
    used: BTreeSet<String>,
    ast: IdedExpr,
    /// The stack its evaluation may need.
    stack: usize,
}

/// The `cel` crate's interpreter recurses once per level of the AST, with
/// frames of up to ~40 KiB in a debug build: an evaluation runs where at
/// least this much stack is left, moving to a fresh segment otherwise.
const STACK_BASE: usize = 128 * 1024;
const STACK_PER_LEVEL: usize = 64 * 1024;

/// Where a parameter's value came from, for `--explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The tuple's stored context.
    Tuple,
    /// The request's context.
    Request,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Tuple => "tuple",
            Origin::Request => "request",
        }
    }
}

/// A parameter the expression used, its value and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub name: String,
    pub value: Json,
    pub origin: Origin,
}

impl Programs {
    /// Checks and compiles every condition, in order (a condition's index is
    /// its [`ConditionId`]).
    pub fn compile(conditions: &[Condition]) -> Result<Programs, EvalError> {
        let env = environment().map_err(|e| EvalError {
            condition: "*".to_owned(),
            message: format!("the CEL environment: {e}"),
        })?;
        let programs = conditions
            .iter()
            .map(|condition| {
                let parsed =
                    check_parsed(&condition.params, &condition.expression).map_err(|errors| {
                        EvalError {
                            condition: condition.name.clone(),
                            message: errors
                                .iter()
                                .map(|e| e.message.as_str())
                                .collect::<Vec<_>>()
                                .join("; "),
                        }
                    })?;
                Ok(Program {
                    name: condition.name.clone(),
                    params: condition.params.clone(),
                    used: parsed.checked.used,
                    ast: parsed.ast,
                    stack: STACK_BASE + parsed.depth * STACK_PER_LEVEL,
                })
            })
            .collect::<Result<Vec<_>, EvalError>>()?;
        Ok(Programs {
            env: Arc::new(env),
            programs,
            parsed: Mutex::default(),
        })
    }

    /// A tuple's stored context (its canonical JSON text) as parameters,
    /// parsed once. Text that is no JSON object gives no parameters (a
    /// store checks contexts when they are written).
    pub fn stored_context(&self, text: &str) -> Parameters {
        let parse = || match serde_json::from_str(text) {
            Ok(Json::Object(map)) => Arc::new(map),
            _ => Parameters::default(),
        };
        if text == "{}" {
            return Parameters::default();
        }
        // A poisoned cache is only a cache: parse without it.
        let Ok(mut parsed) = self.parsed.lock() else {
            return parse();
        };
        if let Some(map) = parsed.get(text) {
            return Arc::clone(map);
        }
        if parsed.len() >= PARSED_CONTEXTS {
            parsed.clear();
        }
        let map = parse();
        parsed.insert(text.into(), Arc::clone(&map));
        map
    }

    /// The parameters condition `id` reads, sorted.
    pub fn used(&self, id: ConditionId) -> Option<&BTreeSet<String>> {
        self.programs.get(id.0 as usize).map(|p| &p.used)
    }

    fn program(&self, id: ConditionId) -> Result<&Program, EvalError> {
        self.programs.get(id.0 as usize).ok_or_else(|| EvalError {
            condition: format!("#{}", id.0),
            message: "the schema has no such condition".to_owned(),
        })
    }

    /// What condition `id` says with these contexts: `stored` (the tuple's)
    /// wins over `request` for a parameter both give. Keys that are no
    /// parameter are ignored (they were refused when written or received).
    pub fn evaluate(
        &self,
        id: ConditionId,
        stored: &Map<String, Json>,
        request: &Map<String, Json>,
    ) -> Result<Verdict, EvalError> {
        let program = self.program(id)?;
        let fail = |message: String| EvalError {
            condition: program.name.clone(),
            message,
        };
        let mut bound = Bound(Vec::with_capacity(program.used.len()));
        let mut missing = BTreeSet::new();
        for name in &program.used {
            let Some((value, _)) = lookup(name, stored, request) else {
                missing.insert(name.clone());
                continue;
            };
            let param = program
                .params
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| fail(format!("`{name}` is no parameter")))?;
            let value = json::to_cel(&param.ty, value)
                .map_err(|e| fail(format!("parameter `{name}` ({}): {e}", param.ty)))?;
            bound.0.push((name.as_str(), value));
        }
        if !missing.is_empty() {
            return Ok(Verdict::Missing(missing));
        }
        let mut context = Context::with_env(Arc::clone(&self.env));
        context.set_variable_resolver(&bound);
        let outcome = stacker::maybe_grow(program.stack, 2 * program.stack, || {
            let result = Value::resolve_val(&program.ast, &context).map_err(|e| e.to_string())?;
            match result.downcast_ref::<CelBool>() {
                Some(b) => Ok(*b.inner()),
                None => Err(format!(
                    "the expression gave a {}, not a bool",
                    result.get_type().name()
                )),
            }
        });
        match outcome {
            Ok(true) => Ok(Verdict::True),
            Ok(false) => Ok(Verdict::False),
            Err(message) => Err(fail(message)),
        }
    }

    /// For `--explain`: each parameter condition `id` reads that has a value,
    /// the value and where it came from (sorted by name).
    pub fn explain(
        &self,
        id: ConditionId,
        stored: &Map<String, Json>,
        request: &Map<String, Json>,
    ) -> Result<Vec<Binding>, EvalError> {
        let program = self.program(id)?;
        Ok(program
            .used
            .iter()
            .filter_map(|name| {
                lookup(name, stored, request).map(|(value, origin)| Binding {
                    name: name.clone(),
                    value: value.clone(),
                    origin,
                })
            })
            .collect())
    }
}

/// The parameters of one evaluation, looked up by the interpreter where
/// the expression names them (a few: a list beats building a map).
struct Bound<'a>(Vec<(&'a str, Box<dyn cel::common::value::Val>)>);

impl cel::context::VariableResolver for Bound<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<cel::common::value::CowVal<'b, 'b>> {
        self.0
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, value)| cel::common::value::CowVal::Borrowed(&**value))
    }
}

/// CEL's standard library, with the `ipaddress` type, its conversion from
/// a string and its `in_cidr`; without the optional syntax, which
/// conditions do not offer.
fn environment() -> Result<Env, cel::DeclarationError> {
    let mut env = Env::stdlib().with_optional_support(false);
    env.add_type(ip::IP_ADDRESS_TYPE.to_owned())?;
    env.add_overload(
        "ipaddress",
        "string_to_ipaddress",
        vec![STRING_TYPE],
        ip::from_string,
    )?;
    env.add_member_overload(
        "in_cidr",
        "ipaddress_in_cidr_string",
        ip::IP_ADDRESS_TYPE.to_owned(),
        vec![STRING_TYPE],
        ip::in_cidr,
    )?;
    Ok(env)
}

/// The value of `name`: the tuple's if it has one, else the request's.
fn lookup<'a>(
    name: &str,
    stored: &'a Map<String, Json>,
    request: &'a Map<String, Json>,
) -> Option<(&'a Json, Origin)> {
    stored
        .get(name)
        .map(|v| (v, Origin::Tuple))
        .or_else(|| request.get(name).map(|v| (v, Origin::Request)))
}
