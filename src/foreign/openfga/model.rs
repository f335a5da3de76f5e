//! OpenFGA's JSON authorization model to zanzi's syntax tree.
//!
//! The JSON form is the tree the DSL compiles to (`TransformDSLToJSON`):
//! `type_definitions`, each with `relations` (usersets: `this`,
//! `computedUserset`, `tupleToUserset`, `union`, `intersection`,
//! `difference`) and `metadata.relations.*.directly_related_user_types`.
//! It is mapped exactly as the DSL is, so both forms of a model compile to
//! the same IR: a nested union is a parenthesised group, as `(a or b)` is.
//! Unknown members (`id`, `module`, `source_info`) are ignored, as OpenFGA
//! ignores them; a response of the API (`{"authorization_model": {…}}`) is
//! read through its wrapper.

use super::json::{self, Str, Value};
use super::MAX_DEPTH;
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Expr, Ident, Op, TypeRef};
use crate::syntax::Parsed;

/// A problem that has been reported.
struct Failed;

/// A relation's directly related types, each with its condition.
type Directs<'src> = Vec<(TypeRef<'src>, Option<ast::Traits<'src>>)>;

/// OpenFGA's `TYPE_NAME_…` parameter types and zanzi's names for them.
const PARAM_TYPES: &[(&str, &str)] = &[
    ("INT", "int"),
    ("UINT", "uint"),
    ("DOUBLE", "double"),
    ("BOOL", "bool"),
    ("STRING", "string"),
    ("BYTES", "bytes"),
    ("DURATION", "duration"),
    ("TIMESTAMP", "timestamp"),
    ("IPADDRESS", "ipaddress"),
    ("ANY", "any"),
    ("LIST", "list"),
    ("MAP", "map"),
];

struct Lowerer<'a, 'src> {
    diags: &'a mut Vec<Diagnostic>,
    broken: Vec<&'src str>,
}

/// Parses one JSON model.
pub fn parse<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    let Some(root) = json::read(file, src, diags) else {
        return Parsed::default();
    };
    let mut lowerer = Lowerer {
        diags,
        broken: Vec::new(),
    };
    let items = lowerer.model(&root);
    Parsed {
        ast: ast::File {
            items,
            module: None,
        },
        comments: Vec::new(),
        broken_names: lowerer.broken,
    }
}

/// The span of an object's opening brace (where a missing member is reported).
fn open_brace(value: &Value<'_>) -> Span {
    let s = value.span();
    Span::new(s.file, s.start, s.start.saturating_add(1).min(s.end))
}

impl<'src> Lowerer<'_, 'src> {
    fn error(&mut self, at: Span, message: impl Into<String>, label: &str) -> Failed {
        self.diags.push(Diagnostic::new(
            codes::E0601,
            message,
            Label::new(at, label),
        ));
        Failed
    }

    /// Member `key` of `object`, required to exist.
    fn member<'v>(
        &mut self,
        object: &'v Value<'src>,
        key: &str,
        owner: &str,
    ) -> Result<&'v Value<'src>, Failed> {
        match object.get(key) {
            Some(v) => Ok(v),
            None => Err(self.error(
                open_brace(object),
                format!("{owner} has no `{key}`"),
                &format!("`{key}` missing here"),
            )),
        }
    }

    fn expect_object(&mut self, value: &Value<'src>, what: &str) -> Result<(), Failed> {
        match value {
            Value::Object(..) => Ok(()),
            other => Err(self.error(
                other.span(),
                format!("expected an object for {what}, found {}", other.kind()),
                "expected an object",
            )),
        }
    }

    /// A name from a JSON string, kept verbatim.
    fn name(&mut self, value: &Value<'src>, what: &str) -> Result<Ident<'src>, Failed> {
        match value {
            Value::String(s) => self.name_of(*s),
            other => Err(self.error(
                other.span(),
                format!("expected a string for {what}, found {}", other.kind()),
                "expected a string",
            )),
        }
    }

    fn name_of(&mut self, s: Str<'src>) -> Result<Ident<'src>, Failed> {
        if s.escaped {
            return Err(self.error(
                s.span,
                "names with escapes are not supported",
                "write this name without `\\` escapes",
            ));
        }
        Ok(Ident::verbatim(s.raw, s.span))
    }

    fn model(&mut self, root: &Value<'src>) -> Vec<ast::Item<'src>> {
        let root = match root.get("authorization_model") {
            Some(inner) if root.get("type_definitions").is_none() => inner,
            _ => root,
        };
        if self.expect_object(root, "an OpenFGA model").is_err() {
            return Vec::new();
        }
        self.schema_version(root);
        let mut conditions = Vec::new();
        if let Some(Value::Object(entries, _)) = root.get("conditions") {
            for (name, condition) in entries {
                match self.condition(*name, condition) {
                    Some(c) => conditions.push(ast::Item::Condition(c)),
                    None => self.broken.push(name.raw),
                }
            }
        }
        // OpenFGA's transformer writes a model without types as no member.
        let types = match root.get("type_definitions") {
            None | Some(Value::Scalar("null", _)) => return conditions,
            Some(Value::Array(types, _)) => types,
            Some(other) => {
                let kind = other.kind();
                self.error(
                    other.span(),
                    format!("expected an array for `type_definitions`, found {kind}"),
                    "expected an array",
                );
                return conditions;
            }
        };
        let mut items: Vec<_> = types
            .iter()
            .map(|ty| match self.type_def(ty) {
                Ok(ns) => ast::Item::Namespace(ns),
                Err(Failed) => ast::Item::Error(ty.span()),
            })
            .collect();
        items.extend(conditions);
        items
    }

    /// `conditions.NAME`: `{"name", "expression", "parameters": {"p":
    /// {"type_name": "TYPE_NAME_INT", "generic_types": […]}}}`, as zanzi's
    /// condition; `None` after reporting what is wrong.
    fn condition(&mut self, key: Str<'src>, value: &Value<'src>) -> Option<ast::Condition<'src>> {
        self.expect_object(value, "a condition").ok()?;
        let expression = match value.get("expression") {
            Some(Value::String(e)) => *e,
            _ => {
                self.error(
                    key.span,
                    format!("condition `{}` has no `expression` string", key.raw),
                    "this condition",
                );
                return None;
            }
        };
        // Escapes are decoded; CEL's errors then point at what is written.
        let (body, body_offsets) = if expression.escaped {
            let decoded = json::decode(expression, self.diags)?;
            (decoded.text.into(), Some(decoded.offsets))
        } else {
            (expression.raw.into(), None)
        };
        let mut params = Vec::new();
        if let Some(Value::Object(entries, _)) = value.get("parameters") {
            for (name, ty) in entries {
                let ty = self.param_type(ty, 0)?;
                params.push(ast::Param {
                    name: Ident::verbatim(name.raw, name.span),
                    ty,
                });
            }
        }
        Some(ast::Condition {
            doc: Vec::new(),
            name: Ident::verbatim(key.raw, key.span),
            params,
            body,
            body_span: expression.span,
            body_offsets,
            span: key.span.to(value.span()),
        })
    }

    /// `{"type_name": "TYPE_NAME_LIST", "generic_types": [{"type_name": "TYPE_NAME_INT"}]}`.
    fn param_type(&mut self, value: &Value<'src>, depth: usize) -> Option<ast::ParamType<'src>> {
        let Some(Value::String(type_name)) = value.get("type_name") else {
            self.error(
                value.span(),
                "a condition parameter needs a `type_name`".to_owned(),
                "no `type_name` here",
            );
            return None;
        };
        let lower = type_name
            .raw
            .strip_prefix("TYPE_NAME_")
            .unwrap_or(type_name.raw);
        let name = PARAM_TYPES
            .iter()
            .find(|(json, _)| *json == lower)
            .map_or(lower, |(_, zanzi)| zanzi);
        let ident = Ident::verbatim(name, type_name.span);
        if !matches!(name, "list" | "map") {
            return Some(ast::ParamType::Name(ident));
        }
        let arg = match value.get("generic_types") {
            Some(Value::Array(args, _)) if depth < MAX_DEPTH => args.first(),
            _ => None,
        };
        let Some(arg) = arg else {
            return Some(ast::ParamType::Name(ident));
        };
        Some(ast::ParamType::Generic {
            name: ident,
            arg: Box::new(self.param_type(arg, depth + 1)?),
            span: value.span(),
        })
    }

    fn schema_version(&mut self, root: &Value<'src>) {
        match root.get("schema_version") {
            Some(Value::String(v)) if matches!(v.raw, "1.1" | "1.2") => {}
            Some(Value::String(v)) => self.diags.push(
                Diagnostic::new(
                    codes::E0650,
                    format!("OpenFGA schema `{}` is not supported", v.raw),
                    Label::new(v.span, "zanzi reads schema 1.1"),
                )
                .with_help("write the model in schema 1.1"),
            ),
            Some(other) => {
                let kind = other.kind();
                self.error(
                    other.span(),
                    format!("expected a string for `schema_version`, found {kind}"),
                    "expected a string such as \"1.1\"",
                );
            }
            None => {
                self.error(
                    open_brace(root),
                    "the model has no `schema_version`",
                    "add `\"schema_version\": \"1.1\"`",
                );
            }
        }
    }

    fn type_def(&mut self, ty: &Value<'src>) -> Result<ast::Namespace<'src>, Failed> {
        self.expect_object(ty, "a type definition")?;
        let name_value = self.member(ty, "type", "a type definition")?;
        let name = self.name(name_value, "`type`")?;
        let directs = self.directly_related(ty);
        let mut members = Vec::new();
        match ty.get("relations") {
            None | Some(Value::Scalar("null", _)) => {}
            Some(Value::Object(relations, _)) => {
                for (key, userset) in relations {
                    members.push(self.relation(*key, userset, &directs));
                }
            }
            Some(other) => {
                self.broken.push(name.text);
                let kind = other.kind();
                return Err(self.error(
                    other.span(),
                    format!("expected an object for `relations`, found {kind}"),
                    "expected an object",
                ));
            }
        }
        Ok(ast::Namespace {
            doc: Vec::new(),
            name,
            members,
            extends: false,
            span: ty.span(),
        })
    }

    /// `metadata.relations.NAME.directly_related_user_types` of a type, by
    /// relation name (a broken list is reported and left out).
    fn directly_related(&mut self, ty: &Value<'src>) -> Vec<(&'src str, Directs<'src>)> {
        let Some(Value::Object(relations, _)) = ty.get("metadata").and_then(|m| m.get("relations"))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, meta) in relations {
            let Some(list) = meta.get("directly_related_user_types") else {
                continue;
            };
            let Value::Array(entries, _) = list else {
                let kind = list.kind();
                self.error(
                    list.span(),
                    format!("expected an array for `directly_related_user_types`, found {kind}"),
                    "expected an array",
                );
                continue;
            };
            let types = entries
                .iter()
                .filter_map(|entry| {
                    let traits = match entry.get("condition") {
                        Some(Value::String(c)) if !c.raw.is_empty() => Some(ast::Traits {
                            condition: Some(Ident::verbatim(c.raw, c.span)),
                            expiration: None,
                            span: c.span,
                        }),
                        _ => None,
                    };
                    Some((self.type_ref(entry).ok()?, traits))
                })
                .collect();
            out.push((key.raw, types));
        }
        out
    }

    /// `{"type": "group", "relation": "member"}`, `{"type": "user", "wildcard": {}}`.
    fn type_ref(&mut self, entry: &Value<'src>) -> Result<TypeRef<'src>, Failed> {
        self.expect_object(entry, "a directly related type")?;
        let ty_value = self.member(entry, "type", "a directly related type")?;
        let ty = self.name(ty_value, "`type`")?;
        if entry.get("wildcard").is_some() {
            return Ok(TypeRef::Wildcard(ty, entry.span()));
        }
        match entry.get("relation") {
            Some(Value::String(relation)) if !relation.raw.is_empty() => {
                Ok(TypeRef::SubjectSet(ty, self.name_of(*relation)?))
            }
            _ => Ok(TypeRef::Object(ty)),
        }
    }

    fn relation(
        &mut self,
        key: Str<'src>,
        userset: &Value<'src>,
        directs: &[(&'src str, Directs<'src>)],
    ) -> ast::Member<'src> {
        let whole = key.span.to(userset.span());
        let Ok(name) = self.name_of(key) else {
            return ast::Member::Error(whole);
        };
        let mut this = false;
        let Ok(expr) = self.userset(userset, 0, &mut this) else {
            self.broken.push(name.text);
            return ast::Member::Error(whole);
        };
        if !this {
            return ast::Member::Permission(ast::Permission {
                doc: Vec::new(),
                name,
                expr,
                span: whole,
            });
        }
        let (types, mut traits): (Vec<_>, Vec<_>) = directs
            .iter()
            .find(|(n, _)| *n == key.raw)
            .map(|(_, types)| types.iter().copied().unzip())
            .unwrap_or_default();
        if traits.iter().all(Option::is_none) {
            traits.clear();
        }
        let rewrite = match expr {
            Expr::This(_) => None,
            expr => Some(expr),
        };
        ast::Member::Relation(ast::Relation {
            doc: Vec::new(),
            name,
            types,
            traits,
            rewrite,
            span: whole,
        })
    }

    /// One userset; `this` notes whether the relation's own tuples are read.
    fn userset(
        &mut self,
        value: &Value<'src>,
        depth: usize,
        this: &mut bool,
    ) -> Result<Expr<'src>, Failed> {
        if depth > MAX_DEPTH {
            return Err(self.error(
                value.span(),
                format!("usersets nested more than {MAX_DEPTH} deep"),
                "too deep",
            ));
        }
        self.expect_object(value, "a userset")?;
        let Value::Object(members, object_span) = value else {
            return Err(Failed);
        };
        let known: Vec<&(Str<'src>, Value<'src>)> = members
            .iter()
            .filter(|(k, v)| {
                matches!(
                    k.raw,
                    "this"
                        | "computedUserset"
                        | "tupleToUserset"
                        | "union"
                        | "intersection"
                        | "difference"
                ) && !matches!(v, Value::Scalar("null", _))
            })
            .collect();
        let [(key, inner)] = known.as_slice() else {
            let message = if known.is_empty() {
                "expected a userset: one of `this`, `computedUserset`, `tupleToUserset`, `union`, `intersection`, `difference`"
            } else {
                "a userset has exactly one of `this`, `computedUserset`, `tupleToUserset`, `union`, `intersection`, `difference`"
            };
            return Err(self.error(open_brace(value), message, "this userset"));
        };
        match key.raw {
            "this" => {
                *this = true;
                Ok(Expr::This(*object_span))
            }
            "computedUserset" => Ok(Expr::Name(self.relation_ref(inner, "`computedUserset`")?)),
            "tupleToUserset" => {
                let tupleset = self.member(inner, "tupleset", "`tupleToUserset`")?;
                let tupleset = self.relation_ref(tupleset, "`tupleset`")?;
                let target = self.member(inner, "computedUserset", "`tupleToUserset`")?;
                let target = self.relation_ref(target, "`computedUserset`")?;
                Ok(Expr::Arrow {
                    tupleset,
                    form: ast::ArrowForm::Arrow,
                    target,
                    span: *object_span,
                })
            }
            "difference" => {
                let base = self.member(inner, "base", "`difference`")?;
                let base = self.userset(base, depth + 1, this)?;
                let subtract = self.member(inner, "subtract", "`difference`")?;
                let subtract = self.userset(subtract, depth + 1, this)?;
                Ok(Expr::Chain {
                    head: Box::new(grouped(base)),
                    rest: vec![(Op::Exclusion, key.span, grouped(subtract))],
                    span: *object_span,
                })
            }
            _ => {
                let op = if key.raw == "union" {
                    Op::Union
                } else {
                    Op::Intersection
                };
                let what = format!("`{}`", key.raw);
                let children = match self.member(inner, "child", &what)? {
                    Value::Array(children, _) => children,
                    other => {
                        let kind = other.kind();
                        return Err(self.error(
                            other.span(),
                            format!("expected an array for `child`, found {kind}"),
                            "expected an array",
                        ));
                    }
                };
                let mut exprs = Vec::new();
                for child in children {
                    exprs.push(grouped(self.userset(child, depth + 1, this)?));
                }
                let mut exprs = exprs.into_iter();
                let Some(head) = exprs.next() else {
                    return Err(self.error(key.span, format!("{what} has no children"), "empty"));
                };
                let rest: Vec<_> = exprs.map(|e| (op, key.span, e)).collect();
                if rest.is_empty() {
                    return Ok(ungrouped(head));
                }
                Ok(Expr::Chain {
                    head: Box::new(head),
                    rest,
                    span: *object_span,
                })
            }
        }
    }

    /// `{"object": "", "relation": "viewer"}`: the relation's name.
    fn relation_ref(&mut self, value: &Value<'src>, what: &str) -> Result<Ident<'src>, Failed> {
        self.expect_object(value, what)?;
        let relation = self.member(value, "relation", what)?;
        self.name(relation, "`relation`")
    }
}

/// An operand of a chain: a chain itself is put in parentheses.
fn grouped(expr: Expr<'_>) -> Expr<'_> {
    match expr {
        Expr::Chain { span, .. } => Expr::Paren(Box::new(expr), span),
        other => other,
    }
}

fn ungrouped(expr: Expr<'_>) -> Expr<'_> {
    match expr {
        Expr::Paren(inner, _) => *inner,
        other => other,
    }
}
