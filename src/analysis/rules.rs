//! The static rules (docs/language.md, "Static rules") for one member at a time: names,
//! types, operator use and arrows. Produces the IR of each member and the
//! dependency edges for the cycle rules.

use super::{EdgeKind, EdgeLabel, RelInfo, Symbols, KEYWORDS, RESERVED};
use crate::diagnostics::suggest::{closest, identifier_problem};
use crate::diagnostics::{codes, Applicability, Diagnostic, Edit, Label};
use crate::ir::{self, graph::Edge, ArrowMode, NamespaceId, RelationId, Rewrite};
use crate::source::Span;
use crate::syntax::ast::{self, ArrowForm, Expr, Op, TypeRef};

/// E0101 / E0102 for a name at its declaration.
pub(super) fn check_declared_name(name: ast::Ident<'_>, kind: &str, diags: &mut Vec<Diagnostic>) {
    if KEYWORDS.contains(&name.text) {
        diags.push(
            Diagnostic::new(
                codes::E0102,
                format!("`{}` is a keyword and cannot name a {kind}", name.text),
                Label::new(name.span, "keyword"),
            )
            .with_help("choose another name"),
        );
    } else if RESERVED.contains(&name.text) {
        diags.push(
            Diagnostic::new(
                codes::E0102,
                format!(
                    "`{}` is a reserved word and cannot name a {kind}",
                    name.text
                ),
                Label::new(name.span, "reserved word"),
            )
            .with_note(format!(
                "reserved words, some used by the language and some kept for later: {}",
                RESERVED.join(", ")
            ))
            .with_help("choose another name"),
        );
    } else if let Some((why, fixed)) = identifier_problem(name.text) {
        let mut d = Diagnostic::new(
            codes::E0101,
            format!("invalid {kind} name `{}`", name.text),
            Label::new(name.span, why),
        )
        .with_note("names match `[a-z][a-z0-9_]*`, are at most 64 bytes and do not end in `_`");
        if let Some(fixed) = fixed {
            let edit = Edit::new(name.span, &fixed, Applicability::MaybeIncorrect);
            d = d.with_fix(format!("write `{fixed}`"), edit);
        }
        diags.push(d);
    }
}

pub(super) struct Checker<'s, 'a, 'src> {
    symbols: &'s Symbols<'a, 'src>,
    diags: Vec<Diagnostic>,
    edges: Vec<Edge<EdgeLabel>>,
    /// The permission whose expression is being checked.
    defining: Option<(RelationId, &'src str)>,
}

impl<'s, 'a, 'src> Checker<'s, 'a, 'src> {
    pub fn new(symbols: &'s Symbols<'a, 'src>) -> Self {
        Checker {
            symbols,
            diags: Vec::new(),
            edges: Vec::new(),
            defining: None,
        }
    }

    pub fn finish(self) -> (Vec<Diagnostic>, Vec<Edge<EdgeLabel>>) {
        (self.diags, self.edges)
    }

    /// Checks one member; `None` when it cannot be compiled.
    pub fn member(&mut self, id: RelationId, info: &RelInfo<'a, 'src>) -> Option<ir::RelationKind> {
        match info.decl {
            ast::Member::Relation(r) => self.relation(id, r),
            ast::Member::Permission(p) => {
                self.defining = Some((id, p.name.text));
                let rewrite = self.expr(id, info.namespace, &p.expr, false);
                self.defining = None;
                Some(ir::RelationKind::Permission {
                    rewrite: flatten(rewrite?),
                })
            }
            ast::Member::Error(_) => None,
        }
    }

    fn relation(&mut self, id: RelationId, r: &ast::Relation<'src>) -> Option<ir::RelationKind> {
        if r.types.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    codes::E0108,
                    format!("relation `{}` has no types", r.name.text),
                    Label::new(r.name.span, "no types listed after `:`"),
                )
                .with_help(format!(
                    "list the subjects it may hold after `:`, e.g. `relation {}: user`",
                    r.name.text
                )),
            );
            return None;
        }
        let mut types = Vec::new();
        let mut ok = true;
        for (i, t) in r.types.iter().enumerate() {
            if let Some(first) = r
                .types
                .get(..i)
                .and_then(|before| before.iter().find(|b| same_type(b, t)))
            {
                self.diags.push(
                    Diagnostic::new(
                        codes::W0101,
                        format!(
                            "type `{}` is listed twice in relation `{}`",
                            type_text(t),
                            r.name.text
                        ),
                        Label::new(t.span(), "listed again here"),
                    )
                    .with_secondary(first.span(), "first listed here")
                    .with_help("remove the repeated type"),
                );
                continue;
            }
            match self.allowed_type(id, t) {
                Some(allowed) => types.push(allowed),
                None => ok = false,
            }
        }
        ok.then_some(ir::RelationKind::Relation { types })
    }

    fn allowed_type(&mut self, from: RelationId, t: &TypeRef<'src>) -> Option<ir::AllowedType> {
        let namespace = self.resolve_namespace(t.namespace())?;
        match t {
            TypeRef::Object(_) => Some(ir::AllowedType::Object { namespace }),
            TypeRef::Wildcard(..) => Some(ir::AllowedType::Wildcard { namespace }),
            TypeRef::SubjectSet(_, name) => {
                let relation = self.resolve_in(namespace, *name, TypeContext::SubjectSet)?;
                self.edges.push(Edge {
                    from,
                    to: relation,
                    computed: false,
                    negative: false,
                    label: EdgeLabel {
                        span: t.span(),
                        kind: EdgeKind::SubjectSet,
                    },
                });
                Some(ir::AllowedType::SubjectSet {
                    namespace,
                    relation,
                })
            }
        }
    }

    fn resolve_namespace(&mut self, name: ast::Ident<'src>) -> Option<NamespaceId> {
        if let Some(id) = self.symbols.find_ns(name.text) {
            return Some(id);
        }
        if self.symbols.broken.contains(name.text) {
            return None;
        }
        let known = self.symbols.namespaces.iter().map(|n| n.name.text);
        let mut d = Diagnostic::new(
            codes::E0106,
            format!("unknown namespace `{}`", name.text),
            Label::new(name.span, "no namespace has this name"),
        );
        if let Some(best) = closest(name.text, known) {
            let edit = Edit::new(name.span, best, Applicability::MaybeIncorrect);
            d = d.with_fix(format!("did you mean `{best}`?"), edit);
        } else {
            d = d.with_help(format!("declare it: `namespace {} {{}}`", name.text));
        }
        self.diags.push(d);
        None
    }

    /// Resolves a relation or permission of `ns` named in a type or an expression.
    fn resolve_in(
        &mut self,
        ns: NamespaceId,
        name: ast::Ident<'src>,
        context: TypeContext,
    ) -> Option<RelationId> {
        if let Some(id) = self.symbols.find_rel(ns, name.text) {
            return Some(id);
        }
        if self.symbols.broken.contains(name.text) {
            return None;
        }
        let ns_name = self.symbols.ns_name(ns);
        let (code, message, label) = match context {
            TypeContext::SubjectSet => (
                codes::E0107,
                format!(
                    "unknown relation or permission `{}` in `{ns_name}`",
                    name.text
                ),
                format!("`{ns_name}` has no relation or permission `{}`", name.text),
            ),
            TypeContext::Expression => (
                codes::E0105,
                format!(
                    "unknown relation or permission `{}` in `{ns_name}`",
                    name.text
                ),
                format!("not defined in namespace `{ns_name}`"),
            ),
        };
        let mut d = Diagnostic::new(code, message, Label::new(name.span, label));
        if let Some(decl) = self.symbols.ns(ns) {
            d = d.with_secondary(decl.name.span, "namespace declared here");
        }
        // Never suggest the permission being defined: that would be a cycle.
        let candidates = self
            .symbols
            .member_names(ns)
            .filter(|c| Some(*c) != self.defining.map(|(_, name)| name));
        if let Some(best) = closest(name.text, candidates) {
            let edit = Edit::new(name.span, best, Applicability::MaybeIncorrect);
            d = d.with_fix(format!("did you mean `{best}`?"), edit);
        } else if context == TypeContext::Expression
            && self.symbols.ns_by_name.contains_key(name.text)
        {
            d = d.with_note(format!(
                "`{}` is a namespace; an expression names relations and permissions of `{ns_name}`",
                name.text
            ));
        }
        self.diags.push(d);
        None
    }

    /// Checks and lowers an expression; `None` when any part is wrong.
    fn expr(
        &mut self,
        from: RelationId,
        ns: NamespaceId,
        expr: &Expr<'src>,
        negative: bool,
    ) -> Option<Rewrite> {
        match expr {
            Expr::Name(name) => {
                let relation = self.resolve_in(ns, *name, TypeContext::Expression)?;
                self.edges.push(Edge {
                    from,
                    to: relation,
                    computed: true,
                    negative,
                    label: EdgeLabel {
                        span: name.span,
                        kind: EdgeKind::Computed,
                    },
                });
                Some(Rewrite::Computed { relation })
            }
            Expr::Paren(inner, _) => self.expr(from, ns, inner, negative),
            Expr::Arrow {
                tupleset,
                form,
                target,
                span,
            } => self.arrow(from, ns, *tupleset, *form, *target, *span, negative),
            Expr::Chain { head, rest, span } => self.chain(from, ns, head, rest, *span, negative),
        }
    }

    fn chain(
        &mut self,
        from: RelationId,
        ns: NamespaceId,
        head: &Expr<'src>,
        rest: &[(Op, Span, Expr<'src>)],
        span: Span,
        negative: bool,
    ) -> Option<Rewrite> {
        let first_op = rest.first().map(|r| r.0)?;
        let mut shape_ok = true;
        if let Some((k, (op, op_span, _))) = rest.iter().enumerate().find(|(_, r)| r.0 != first_op)
        {
            self.diags
                .push(self.mixed_operators(head, rest, k, *op, *op_span, span));
            shape_ok = false;
        } else if first_op == Op::Exclusion && rest.len() > 1 {
            self.diags.push(self.chained_exclusion(head, rest));
            shape_ok = false;
        }
        // Keep checking the operands: their mistakes are separate ones.
        let head_negative = negative;
        let mut parts = vec![self.expr(from, ns, head, head_negative)];
        for (op, _, term) in rest {
            parts.push(self.expr(from, ns, term, negative || *op == Op::Exclusion));
        }
        let parts: Option<Vec<Rewrite>> = parts.into_iter().collect();
        let mut parts = parts.filter(|_| shape_ok)?;
        Some(match first_op {
            Op::Union => Rewrite::Union { children: parts },
            Op::Intersection => Rewrite::Intersection { children: parts },
            Op::Exclusion => {
                let subtract = parts.pop()?;
                let base = parts.pop()?;
                Rewrite::Exclusion {
                    base: Box::new(base),
                    subtract: Box::new(subtract),
                }
            }
        })
    }

    fn source_text(&self, span: Span) -> String {
        self.symbols
            .source(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn mixed_operators(
        &self,
        head: &Expr<'src>,
        rest: &[(Op, Span, Expr<'src>)],
        k: usize,
        op: Op,
        op_span: Span,
        chain: Span,
    ) -> Diagnostic {
        let Some(previous) = k.checked_sub(1).and_then(|i| rest.get(i)) else {
            return Diagnostic::new(
                codes::E0005,
                "ambiguous operator precedence",
                Label::new(op_span, ""),
            );
        };
        // Text of the operands before and after the offending operator.
        let left_start = head.span();
        let before = Span::new(chain.file, left_start.start, previous.2.span().end);
        let last_left = previous.2.span();
        let after = Span::new(
            chain.file,
            rest.get(k).map_or(op_span.end, |r| r.2.span().start),
            chain.end,
        );
        let lead = Span::new(chain.file, left_start.start, last_left.start);
        let first_alt = format!(
            "({}) {} {}",
            self.source_text(before),
            op.symbol(),
            self.source_text(after)
        );
        let second_alt = format!(
            "{}({} {} {})",
            self.symbols.source(lead),
            self.source_text(last_left),
            op.symbol(),
            self.source_text(after)
        );
        Diagnostic::new(
            codes::E0005,
            format!(
                "ambiguous operator precedence: `{}` and `{}` mixed without parentheses",
                previous.0.symbol(),
                op.symbol()
            ),
            Label::new(op_span, format!("`{}` here", op.symbol())),
        )
        .with_secondary(previous.1, format!("after `{}` here", previous.0.symbol()))
        .with_note("zanzi gives `|`, `&` and `-` no precedence over each other")
        // Of the two groupings, the edit takes the first: a guess.
        .with_fix(
            format!("add parentheses: `{first_alt}` or `{second_alt}`"),
            Edit::new(
                Span::new(chain.file, left_start.start, chain.end),
                first_alt,
                Applicability::MaybeIncorrect,
            ),
        )
    }

    fn chained_exclusion(&self, head: &Expr<'src>, rest: &[(Op, Span, Expr<'src>)]) -> Diagnostic {
        let subtracted: Vec<String> = rest.iter().map(|r| self.source_text(r.2.span())).collect();
        let second = rest.get(1).map_or(head.span(), |r| r.1);
        let first = rest.first().map_or(head.span(), |r| r.1);
        let d = Diagnostic::new(
            codes::E0006,
            "`-` cannot be chained",
            Label::new(second, "second `-`"),
        )
        .with_secondary(first, "first `-`");
        // `a - b - c` means `a - (b | c)`: the edit keeps the meaning.
        let union = format!(
            "{} - ({})",
            self.source_text(head.span()),
            subtracted.join(" | ")
        );
        let whole = Span::new(
            head.span().file,
            head.span().start,
            rest.last().map_or(head.span().end, |r| r.2.span().end),
        );
        d.with_fix(
            format!("subtract a union: `{union}`"),
            Edit::new(whole, union, Applicability::MachineApplicable),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn arrow(
        &mut self,
        from: RelationId,
        ns: NamespaceId,
        tupleset: ast::Ident<'src>,
        form: ArrowForm<'src>,
        target: ast::Ident<'src>,
        span: Span,
        negative: bool,
    ) -> Option<Rewrite> {
        let mode = match form {
            ArrowForm::Arrow => Some(ArrowMode::Any),
            ArrowForm::Method(m) if m.text == "any" => Some(ArrowMode::Any),
            ArrowForm::Method(m) if m.text == "all" => Some(ArrowMode::All),
            ArrowForm::Method(m) => {
                let mut d = Diagnostic::new(
                    codes::E0204,
                    format!("unknown arrow function `{}`", m.text),
                    Label::new(m.span, "expected `any` or `all`"),
                )
                .with_note("`t.any(p)` is the union over the objects of `t` (same as `t->p`); `t.all(p)` their intersection");
                let synonym = match m.text {
                    "every" | "each" | "forall" | "for_all" => Some("all"),
                    "some" | "exists" | "one" => Some("any"),
                    other => closest(other, ["any", "all"]),
                };
                if let Some(best) = synonym {
                    let edit = Edit::new(m.span, best, Applicability::MaybeIncorrect);
                    d = d.with_fix(format!("did you mean `{best}`?"), edit);
                }
                self.diags.push(d);
                None
            }
        };
        let tupleset_id = self.resolve_in(ns, tupleset, TypeContext::Expression)?;
        let info = self.symbols.rel(tupleset_id)?;
        let relation = match info.decl {
            ast::Member::Relation(r) => r,
            _ => {
                let mut d = Diagnostic::new(
                    codes::E0201,
                    format!("arrow over permission `{}`", tupleset.text),
                    Label::new(tupleset.span, "a permission, not a relation"),
                )
                .with_secondary(info.name.span, "defined as a permission here")
                .with_note("an arrow follows stored tuples, so its left side must be a relation");
                if let Some(r) = self.object_relations(ns).next() {
                    d = d.with_help(format!("use a relation of object types, such as `{r}`"));
                }
                self.diags.push(d);
                return None;
            }
        };
        let bad: Vec<&TypeRef<'src>> = relation
            .types
            .iter()
            .filter(|t| !matches!(t, TypeRef::Object(_)))
            .collect();
        if !bad.is_empty() {
            let mut d = Diagnostic::new(
                codes::E0202,
                format!(
                    "arrow over relation `{}`, whose types are not all plain objects",
                    tupleset.text
                ),
                Label::new(tupleset.span, "followed by this arrow"),
            )
            .with_note("an arrow follows each object `ns:id` stored in the relation");
            for t in &bad {
                let what = if matches!(t, TypeRef::Wildcard(..)) {
                    "a wildcard"
                } else {
                    "a subject set"
                };
                d = d.with_secondary(t.span(), format!("{what} cannot be followed"));
            }
            if let Some(t) = bad.first() {
                d = d.with_help(format!(
                    "an arrow needs object types: write `{}` instead of `{}` (in a relation of its own if `{}` is still needed)",
                    t.namespace().text,
                    type_text(t),
                    type_text(t),
                ));
            }
            self.diags.push(d);
            return None;
        }
        // Namespaces of the tupleset's types; unresolved ones were reported already.
        let namespaces: Vec<(NamespaceId, Span)> = relation
            .types
            .iter()
            .filter_map(|t| Some((self.symbols.find_ns(t.namespace().text)?, t.span())))
            .collect();
        let mut targets = Vec::new();
        let mut missing = Vec::new();
        for &(m, type_span) in &namespaces {
            match self.symbols.find_rel(m, target.text) {
                Some(rel) => targets.push(ir::ArrowTarget {
                    namespace: m,
                    relation: rel,
                }),
                None => missing.push((m, type_span)),
            }
        }
        if targets.is_empty() {
            if namespaces.is_empty() || self.symbols.broken.contains(target.text) {
                return None;
            }
            let names: Vec<String> = missing
                .iter()
                .map(|(m, _)| format!("`{}`", self.symbols.ns_name(*m)))
                .collect();
            let mut d = Diagnostic::new(
                codes::E0203,
                format!("`{}` is not defined on {}", target.text, join_or(&names)),
                Label::new(
                    target.span,
                    format!("not a relation or permission of {}", join_or(&names)),
                ),
            )
            .with_secondary(
                info.name.span,
                format!("`{}` holds objects of {}", tupleset.text, join_or(&names)),
            );
            let candidates: Vec<&str> = missing
                .iter()
                .flat_map(|(m, _)| self.symbols.member_names(*m))
                .collect();
            if let Some(best) = closest(target.text, candidates) {
                d = d.with_help(format!("did you mean `{best}`?"));
            }
            self.diags.push(d);
            return None;
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .map(|(m, _)| format!("`{}`", self.symbols.ns_name(*m)))
                .collect();
            let mut d = Diagnostic::new(
                codes::W0201,
                format!("`{}` is not defined on {}", target.text, join_and(&names)),
                Label::new(target.span, format!("missing on {}", join_and(&names))),
            );
            for (_, type_span) in &missing {
                let effect = match mode {
                    Some(ArrowMode::All) => "an object of this type makes the `.all` empty",
                    _ => "objects of this type contribute nothing",
                };
                d = d.with_secondary(*type_span, effect);
            }
            self.diags.push(d.with_help(format!(
                "define `{}` on {} or remove the type from `{}`",
                target.text,
                join_and(&names),
                tupleset.text
            )));
        }
        let mode = mode?;
        self.edges.push(Edge {
            from,
            to: tupleset_id,
            computed: true,
            negative,
            label: EdgeLabel {
                span: tupleset.span,
                kind: EdgeKind::Tupleset,
            },
        });
        for t in &targets {
            self.edges.push(Edge {
                from,
                to: t.relation,
                computed: false,
                negative,
                label: EdgeLabel {
                    span,
                    kind: EdgeKind::Arrow(tupleset_id),
                },
            });
        }
        Some(Rewrite::Arrow {
            tupleset: tupleset_id,
            target_name: target.text.to_owned(),
            targets,
            mode,
        })
    }

    /// Relations of `ns` that an arrow could follow, for help lines.
    fn object_relations(&self, ns: NamespaceId) -> impl Iterator<Item = &'src str> + '_ {
        self.symbols
            .ns(ns)
            .into_iter()
            .flat_map(|n| n.relations.iter())
            .filter(|&&r| !self.symbols.is_permission(r))
            .filter_map(|&r| {
                let info = self.symbols.rel(r)?;
                match info.decl {
                    ast::Member::Relation(rel)
                        if rel.types.iter().all(|t| matches!(t, TypeRef::Object(_))) =>
                    {
                        Some(info.name.text)
                    }
                    _ => None,
                }
            })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TypeContext {
    SubjectSet,
    Expression,
}

fn same_type(a: &TypeRef<'_>, b: &TypeRef<'_>) -> bool {
    match (a, b) {
        (TypeRef::Object(x), TypeRef::Object(y)) => x.text == y.text,
        (TypeRef::Wildcard(x, _), TypeRef::Wildcard(y, _)) => x.text == y.text,
        (TypeRef::SubjectSet(x, r), TypeRef::SubjectSet(y, s)) => {
            x.text == y.text && r.text == s.text
        }
        _ => false,
    }
}

fn type_text(t: &TypeRef<'_>) -> String {
    match t {
        TypeRef::Object(ns) => ns.text.to_owned(),
        TypeRef::Wildcard(ns, _) => format!("{}:*", ns.text),
        TypeRef::SubjectSet(ns, rel) => format!("{}#{}", ns.text, rel.text),
    }
}

fn join_with(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

fn join_or(items: &[String]) -> String {
    join_with(items, "or")
}

fn join_and(items: &[String]) -> String {
    join_with(items, "and")
}

/// Merges nested unions into one union (and intersections likewise), so that
/// redundant parentheses do not change the IR.
fn flatten(rewrite: Rewrite) -> Rewrite {
    match rewrite {
        Rewrite::Union { children } => Rewrite::Union {
            children: children
                .into_iter()
                .map(flatten)
                .flat_map(|c| match c {
                    Rewrite::Union { children } => children,
                    other => vec![other],
                })
                .collect(),
        },
        Rewrite::Intersection { children } => Rewrite::Intersection {
            children: children
                .into_iter()
                .map(flatten)
                .flat_map(|c| match c {
                    Rewrite::Intersection { children } => children,
                    other => vec![other],
                })
                .collect(),
        },
        Rewrite::Exclusion { base, subtract } => Rewrite::Exclusion {
            base: Box::new(flatten(*base)),
            subtract: Box::new(flatten(*subtract)),
        },
        other => other,
    }
}
