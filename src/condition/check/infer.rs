//! Type inference over the `cel` crate's AST: every node's type, every error
//! found (independent ones together; a node already reported has the type
//! `Error`, which silences what would follow from it), and the parameters
//! the expression reads.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use cel::common::ast::{operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, LiteralValue};
use cel::common::ast::{SelectExpr, SourceInfo};
use cel::IdedExpr;

use super::functions::{self, Resolution};
use super::types::Type;
use super::{CelError, CelErrorKind};
use crate::diagnostics::suggest;

pub struct Inference<'a> {
    params: &'a BTreeMap<&'a str, Type>,
    source: &'a SourceInfo,
    /// The expression text, for spans.
    text: &'a str,
    /// Names bound by comprehensions, innermost last.
    scopes: Vec<(String, Type)>,
    pub used: BTreeSet<String>,
    pub errors: Vec<CelError>,
}

impl<'a> Inference<'a> {
    pub fn new(params: &'a BTreeMap<&'a str, Type>, source: &'a SourceInfo, text: &'a str) -> Self {
        Inference {
            params,
            source,
            text,
            scopes: Vec::new(),
            used: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    /// The byte span of a node's own token (the whole text for nodes a
    /// macro made up): an operator's symbol, a name.
    pub fn span(&self, node: &IdedExpr) -> Range<usize> {
        match self.source.offset_for(node.id) {
            Some((start, stop)) => byte_span(self.text, start, stop),
            None => 0..self.text.len(),
        }
    }

    /// The byte span of a node and everything under it: a whole call.
    fn full_span(&self, node: &IdedExpr) -> Range<usize> {
        let own = self
            .source
            .offset_for(node.id)
            .map(|(start, stop)| byte_span(self.text, start, stop));
        let children: Vec<&IdedExpr> = match &node.expr {
            Expr::Call(call) => call
                .target
                .as_deref()
                .into_iter()
                .chain(&call.args)
                .collect(),
            Expr::Select(select) => vec![&select.operand],
            Expr::List(list) => list.elements.iter().collect(),
            _ => Vec::new(),
        };
        let span = children
            .into_iter()
            .map(|child| self.full_span(child))
            .chain(own.clone())
            .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end))
            .unwrap_or(0..self.text.len());
        match (&node.expr, own) {
            // A function's own offset is its `(`: take in its name and `)`.
            (Expr::Call(call), Some(own)) if operator_symbol(&call.func_name).is_none() => {
                let name = call.func_name.as_str();
                let start = own
                    .start
                    .checked_sub(name.len())
                    .filter(|at| self.text.get(*at..own.start) == Some(name))
                    .filter(|_| call.target.is_none())
                    .unwrap_or(span.start);
                let rest = self.text.get(span.end..).unwrap_or_default();
                let end = match rest.trim_start().strip_prefix(')') {
                    Some(after) => self.text.len() - after.len(),
                    None => span.end,
                };
                start.min(span.start)..end
            }
            // A field's own offset is its `.`: take in the field's name.
            (Expr::Select(select), Some(own)) => {
                let rest = self.text.get(own.end..).unwrap_or_default();
                let end = match rest.trim_start().strip_prefix(select.field.as_str()) {
                    Some(after) => self.text.len() - after.len(),
                    None => span.end,
                };
                span.start..end.max(span.end)
            }
            _ => span,
        }
    }

    /// An error about a whole call.
    fn call_error(&mut self, node: &IdedExpr, message: String) -> Type {
        self.errors.push(CelError {
            span: self.full_span(node),
            kind: CelErrorKind::Type,
            message,
            help: None,
        });
        Type::Error
    }

    fn error(&mut self, node: &IdedExpr, message: String) -> Type {
        self.errors.push(CelError {
            span: self.full_span(node),
            kind: CelErrorKind::Type,
            message,
            help: None,
        });
        Type::Error
    }

    pub fn infer(&mut self, node: &IdedExpr) -> Type {
        match &node.expr {
            Expr::Literal(literal) => match literal {
                LiteralValue::Boolean(_) => Type::Bool,
                LiteralValue::Bytes(_) => Type::Bytes,
                LiteralValue::Double(_) => Type::Double,
                LiteralValue::Int(_) => Type::Int,
                LiteralValue::Null => Type::Null,
                LiteralValue::String(_) => Type::String,
                LiteralValue::UInt(_) => Type::Uint,
            },
            Expr::Ident(name) => self.ident(node, name),
            Expr::Select(select) => self.select(node, select),
            Expr::Call(call) => self.call(node, call),
            Expr::List(list) => {
                let mut item = Type::Dyn;
                for (i, element) in list.elements.iter().enumerate() {
                    let ty = self.infer(element);
                    item = if i == 0 { ty } else { item.join_or_dyn(&ty) };
                }
                Type::List(Box::new(item))
            }
            Expr::Map(map) => {
                let (mut key, mut value) = (Type::Dyn, Type::Dyn);
                for (i, entry) in map.entries.iter().enumerate() {
                    let EntryExpr::MapEntry(entry) = &entry.expr else {
                        return self.error(node, "a map entry needs a key".to_owned());
                    };
                    let k = self.infer(&entry.key);
                    let k = match k {
                        Type::Bool | Type::Int | Type::Uint | Type::String => k,
                        k if k.is_dynamic() => k,
                        k => self.error(
                            &entry.key,
                            format!("a map key must be bool, int, uint or string, not {k}"),
                        ),
                    };
                    let v = self.infer(&entry.value);
                    (key, value) = if i == 0 {
                        (k, v)
                    } else {
                        (key.join_or_dyn(&k), value.join_or_dyn(&v))
                    };
                }
                Type::Map(Box::new(key), Box::new(value))
            }
            Expr::Comprehension(comprehension) => self.comprehension(comprehension),
            Expr::Struct(structure) => self.error(
                node,
                format!(
                    "`{}{{…}}` builds a message, and conditions have no message types",
                    structure.type_name
                ),
            ),
            Expr::Unspecified => self.error(node, "not an expression".to_owned()),
        }
    }

    fn ident(&mut self, node: &IdedExpr, name: &str) -> Type {
        if let Some((_, ty)) = self.scopes.iter().rev().find(|(n, _)| n == name) {
            return ty.clone();
        }
        if let Some(ty) = self.params.get(name) {
            self.used.insert(name.to_owned());
            return ty.clone();
        }
        let candidates = self
            .params
            .keys()
            .copied()
            .chain(self.scopes.iter().map(|(n, _)| n.as_str()));
        let suggestion = suggest::closest(name, candidates).map(str::to_owned);
        self.errors.push(CelError {
            span: self.span(node),
            kind: CelErrorKind::UnknownVariable {
                name: name.to_owned(),
                suggestion: suggestion.clone(),
            },
            message: format!("unknown variable `{name}`: it is no parameter of the condition"),
            help: suggestion.map(|s| format!("did you mean `{s}`?")),
        });
        Type::Error
    }

    fn select(&mut self, node: &IdedExpr, select: &SelectExpr) -> Type {
        let operand = self.infer(&select.operand);
        let field = &select.field;
        match (&operand, select.test) {
            (t, true) if t.is_dynamic() => Type::Bool,
            (t, false) if t.is_dynamic() => Type::Dyn,
            (Type::Map(key, _), true) if key.join(&Type::String).is_some() => Type::Bool,
            (Type::Map(key, value), false) if key.join(&Type::String).is_some() => {
                (**value).clone()
            }
            (t, true) => self.error(
                node,
                format!("`has()` tests a field of a map, and this is {t}"),
            ),
            (t, false) => self.error(node, format!("{t} has no field `{field}`")),
        }
    }

    fn call(&mut self, node: &IdedExpr, call: &CallExpr) -> Type {
        if call.target.is_none() {
            if let Some(ty) = self.operator(node, call) {
                return ty;
            }
        }
        let target = call.target.as_deref().map(|t| self.infer(t));
        let mut args: Vec<Type> = target.into_iter().collect();
        args.extend(call.args.iter().map(|a| self.infer(a)));
        if args.contains(&Type::Error) {
            return Type::Error;
        }
        let member = call.target.is_some();
        let name = &call.func_name;
        match functions::resolve(name, member, &args) {
            Resolution::Result(ty) => ty,
            Resolution::NoOverload => {
                let (on, rest) = match (member, args.split_first()) {
                    (true, Some((target, rest))) => (format!(" on {target}"), rest),
                    _ => (String::new(), args.as_slice()),
                };
                let list = rest.iter().map(Type::to_string).collect::<Vec<_>>();
                self.call_error(
                    node,
                    format!("no overload of `{name}`{on} for ({})", list.join(", ")),
                )
            }
            Resolution::Unknown => {
                let what = if member { "method" } else { "function" };
                let help = suggest::closest(name, functions::names(member))
                    .map(|s| format!("did you mean `{s}`?"));
                self.errors.push(CelError {
                    span: self.full_span(node),
                    kind: CelErrorKind::Type,
                    message: format!("unknown {what} `{name}`"),
                    help,
                });
                Type::Error
            }
        }
    }

    /// The operators: `None` if `call` is no operator.
    fn operator(&mut self, node: &IdedExpr, call: &CallExpr) -> Option<Type> {
        let name = call.func_name.as_str();
        let symbol = operator_symbol(name)?;
        let args: Vec<(Type, &IdedExpr)> = call.args.iter().map(|a| (self.infer(a), a)).collect();
        if args.iter().any(|(t, _)| *t == Type::Error) {
            return Some(Type::Error);
        }
        let no_overload = |this: &mut Self| {
            let list = args.iter().map(|(t, _)| t.to_string()).collect::<Vec<_>>();
            this.call_error(
                node,
                format!("no overload of `{symbol}` for ({})", list.join(", ")),
            )
        };
        let ty = match (name, args.as_slice()) {
            (operators::LOGICAL_AND | operators::LOGICAL_OR, [(a, an), (b, bn)]) => {
                // `all()` and `exists()` expand to `@result && predicate`.
                let what = if is_accumulator(an) {
                    "the predicate of `all()` or `exists()`".to_owned()
                } else {
                    format!("an operand of `{symbol}`")
                };
                for (t, n) in [(a, an), (b, bn)] {
                    if !(t.is_dynamic() || *t == Type::Bool) {
                        self.error(n, format!("{what} must be bool, and this is {t}"));
                    }
                }
                Type::Bool
            }
            (operators::LOGICAL_NOT, [(a, _)]) if *a == Type::Bool || a.is_dynamic() => Type::Bool,
            (operators::NOT_STRICTLY_FALSE, [_]) => Type::Bool,
            (operators::NEGATE, [(a, _)]) if matches!(a, Type::Int | Type::Double) => a.clone(),
            (operators::NEGATE, [(a, _)]) if a.is_dynamic() => Type::Dyn,
            (operators::CONDITIONAL, [(c, cn), (a, _), (b, bn)]) => {
                // `filter()` and `exists_one()` expand to
                // `predicate ? … : @result`.
                let what = if is_accumulator(bn) {
                    "the predicate of `filter()` or `exists_one()`"
                } else {
                    "the condition of `? :`"
                };
                if !(c.is_dynamic() || *c == Type::Bool) {
                    self.error(cn, format!("{what} must be bool, and this is {c}"));
                }
                match a.join(b) {
                    Some(t) => t,
                    None => {
                        self.call_error(node, format!("the branches of `? :` differ: {a} and {b}"))
                    }
                }
            }
            (operators::EQUALS | operators::NOT_EQUALS, [(a, _), (b, _)])
                if a.comparable_for_equality(b) =>
            {
                Type::Bool
            }
            (
                operators::LESS
                | operators::LESS_EQUALS
                | operators::GREATER
                | operators::GREATER_EQUALS,
                [(a, _), (b, _)],
            ) if a.orderable(b) => Type::Bool,
            (
                operators::ADD
                | operators::SUBSTRACT
                | operators::MULTIPLY
                | operators::DIVIDE
                | operators::MODULO,
                [(a, _), (b, _)],
            ) => match arithmetic(name, a, b) {
                Some(t) => t,
                None => no_overload(self),
            },
            (operators::IN, [(a, _), (b, _)]) => {
                let fits = match b {
                    Type::List(item) => a.comparable_for_equality(item),
                    Type::Map(key, _) => a.comparable_for_equality(key),
                    b => b.is_dynamic(),
                };
                if fits {
                    Type::Bool
                } else {
                    no_overload(self)
                }
            }
            (operators::INDEX, [(a, _), (i, _)]) => match a {
                Type::List(item) if matches!(i, Type::Int | Type::Uint) || i.is_dynamic() => {
                    (**item).clone()
                }
                Type::Map(key, value) if key.comparable_for_equality(i) => (**value).clone(),
                a if a.is_dynamic() => Type::Dyn,
                _ => no_overload(self),
            },
            _ => no_overload(self),
        };
        Some(ty)
    }

    fn comprehension(&mut self, c: &ComprehensionExpr) -> Type {
        let range = self.infer(&c.iter_range);
        let (first, second) = match &range {
            Type::List(item) => (Type::Int, (**item).clone()),
            Type::Map(key, value) => ((**key).clone(), (**value).clone()),
            t if t.is_dynamic() => (Type::Dyn, Type::Dyn),
            t => {
                let t = t.clone();
                self.error(
                    &c.iter_range,
                    format!("only lists and maps can be iterated over, and this is {t}"),
                );
                (Type::Error, Type::Error)
            }
        };
        // One variable: a list's element or a map's key; two: index or key,
        // then element or value.
        let bound = self.scopes.len();
        match &c.iter_var2 {
            None => {
                let item = if matches!(range, Type::List(_)) {
                    second
                } else {
                    first
                };
                self.scopes.push((c.iter_var.clone(), item));
            }
            Some(var2) => {
                self.scopes.push((c.iter_var.clone(), first));
                self.scopes.push((var2.clone(), second));
            }
        }
        let init = self.infer(&c.accu_init);
        self.scopes.push((c.accu_var.clone(), init.clone()));
        self.infer(&c.loop_cond);
        let step = self.infer(&c.loop_step);
        let accu = init.join(&step).unwrap_or(Type::Dyn);
        self.scopes.truncate(bound);
        self.scopes.push((c.accu_var.clone(), accu));
        let result = self.infer(&c.result);
        self.scopes.truncate(bound);
        result
    }
}

/// How deep `root` nests, counted without recursion (so that an expression
/// too deep for the checker and the evaluator is refused before either runs).
pub fn depth(root: &IdedExpr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(root, 1)];
    while let Some((node, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        let children: Vec<&IdedExpr> = match &node.expr {
            Expr::Call(call) => call
                .target
                .as_deref()
                .into_iter()
                .chain(&call.args)
                .collect(),
            Expr::Select(select) => vec![&select.operand],
            Expr::List(list) => list.elements.iter().collect(),
            Expr::Map(map) => map
                .entries
                .iter()
                .flat_map(|entry| match &entry.expr {
                    EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
                    EntryExpr::StructField(field) => vec![&field.value],
                })
                .collect(),
            Expr::Struct(structure) => structure
                .entries
                .iter()
                .flat_map(|entry| match &entry.expr {
                    EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
                    EntryExpr::StructField(field) => vec![&field.value],
                })
                .collect(),
            Expr::Comprehension(c) => vec![
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ],
            Expr::Literal(_) | Expr::Ident(_) | Expr::Unspecified => Vec::new(),
        };
        pending.extend(children.into_iter().map(|child| (child, depth + 1)));
    }
    deepest
}

/// The accumulator a macro's expansion names.
fn is_accumulator(node: &IdedExpr) -> bool {
    matches!(&node.expr, Expr::Ident(name) if name.starts_with('@'))
}

/// `+ - * / %` on `a` and `b`, as CEL overloads them.
fn arithmetic(operator: &str, a: &Type, b: &Type) -> Option<Type> {
    use Type as T;
    let adds = operator == operators::ADD;
    if a.is_dynamic() || b.is_dynamic() {
        let known = if a.is_dynamic() { b } else { a };
        return match known {
            t if t.is_dynamic() => Some(T::Dyn),
            T::Int | T::Uint => Some(known.clone()),
            T::Double if operator != operators::MODULO => Some(T::Double),
            T::String | T::Bytes | T::List(_) if adds => Some(known.clone()),
            T::Timestamp | T::Duration if adds || operator == operators::SUBSTRACT => Some(T::Dyn),
            _ => None,
        };
    }
    let numeric_same = a == b && a.is_numeric();
    match operator {
        operators::ADD => match (a, b) {
            _ if numeric_same => Some(a.clone()),
            (T::String, T::String) | (T::Bytes, T::Bytes) | (T::Duration, T::Duration) => {
                Some(a.clone())
            }
            (T::List(_), T::List(_)) => a.join(b),
            (T::Timestamp, T::Duration) | (T::Duration, T::Timestamp) => Some(T::Timestamp),
            _ => None,
        },
        operators::SUBSTRACT => match (a, b) {
            _ if numeric_same => Some(a.clone()),
            (T::Duration, T::Duration) | (T::Timestamp, T::Timestamp) => Some(T::Duration),
            (T::Timestamp, T::Duration) => Some(T::Timestamp),
            _ => None,
        },
        operators::MULTIPLY | operators::DIVIDE => numeric_same.then(|| a.clone()),
        operators::MODULO => (a == b && matches!(a, T::Int | T::Uint)).then(|| a.clone()),
        _ => None,
    }
}

/// How an operator is written, for messages; `None` for a function.
fn operator_symbol(name: &str) -> Option<&'static str> {
    Some(match name {
        operators::LOGICAL_AND => "&&",
        operators::LOGICAL_OR => "||",
        operators::LOGICAL_NOT => "!",
        operators::NOT_STRICTLY_FALSE => "@not_strictly_false",
        operators::NEGATE => "-",
        operators::CONDITIONAL => "? :",
        operators::EQUALS => "==",
        operators::NOT_EQUALS => "!=",
        operators::LESS => "<",
        operators::LESS_EQUALS => "<=",
        operators::GREATER => ">",
        operators::GREATER_EQUALS => ">=",
        operators::ADD => "+",
        operators::SUBSTRACT => "-",
        operators::MULTIPLY => "*",
        operators::DIVIDE => "/",
        operators::MODULO => "%",
        operators::IN => "in",
        operators::INDEX => "[]",
        operators::OPT_INDEX => "[?]",
        operators::OPT_SELECT => ".?",
        _ => return None,
    })
}

/// The bytes `start..=stop` (the parser's offsets; `stop` is in the last
/// character), widened to whole characters and never empty unless the text is.
pub fn byte_span(text: &str, start: u32, stop: u32) -> Range<usize> {
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
    let stop = usize::try_from(stop).unwrap_or(usize::MAX).max(start);
    let start = (0..=start)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let end = (stop + 1..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    start..end.max(start)
}
