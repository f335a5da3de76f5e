//! The static rules (docs/language.md, "Static rules") for one member at a time: names,
//! types, operator use and arrows. Produces the IR of each member and the
//! dependency edges for the cycle rules.

use super::conditions::Conditions;
use super::errors::{AnalysisError, MemberContext};
use super::{RelInfo, Symbols};
use crate::diagnostics::suggest::closest;
use crate::diagnostics::{Diagnostic, ToDiagnostic};
use crate::ir::graph::{Edge, EdgeKind};
use crate::ir::{self, derived, ArrowMode, NamespaceId, RelationId, Rewrite};
use crate::source::Span;
use crate::syntax::ast::{self, ArrowForm, Expr, Op, TypeRef};

/// Applies the static rules to each member of one schema in turn, collecting
/// the diagnostics and the dependency edges the cycle rules need.
pub(super) struct MemberChecker<'s, 'a, 'src> {
    symbols: &'s Symbols<'a, 'src>,
    diags: Vec<Diagnostic>,
    /// Labelled with where the dependency is written.
    edges: Vec<Edge<Span>>,
    /// The permission (or relation rewrite) whose expression is being checked.
    defining: Option<(RelationId, &'src str)>,
    /// The expression being checked is a relation's rewrite, where `this` may stand.
    in_relation: bool,
    /// Unknown namespaces by name, in order of first use, with every use:
    /// reported once each in [`MemberChecker::finish`].
    unknown_namespaces: Vec<(&'src str, Vec<Span>, Option<String>)>,
    /// The conditions `with NAME` names; each marked used as it resolves.
    conditions: Conditions<'a, 'src>,
}

impl<'s, 'a, 'src> MemberChecker<'s, 'a, 'src> {
    pub fn new(symbols: &'s Symbols<'a, 'src>, conditions: Conditions<'a, 'src>) -> Self {
        MemberChecker {
            symbols,
            conditions,
            diags: Vec::new(),
            edges: Vec::new(),
            defining: None,
            in_relation: false,
            unknown_namespaces: Vec::new(),
        }
    }

    pub fn finish(mut self) -> (Vec<Diagnostic>, Vec<Edge<Span>>, Conditions<'a, 'src>) {
        for (name, spans, suggestion) in std::mem::take(&mut self.unknown_namespaces) {
            let mut spans = spans.into_iter();
            let Some(span) = spans.next() else { continue };
            self.report(AnalysisError::UnknownNamespace {
                name: name.to_owned(),
                span,
                suggestion,
                also: spans.collect(),
            });
        }
        (self.diags, self.edges, self.conditions)
    }

    /// Records the dependency edges of `rewrite`, a lowered part of `from`,
    /// each labelled with the span `span_of` gives for its kind. Called per
    /// part rather than per permission so that a permission with a mistake
    /// elsewhere still has its cycles reported.
    fn add_edges(
        &mut self,
        from: RelationId,
        rewrite: &Rewrite,
        negative: bool,
        span_of: impl Fn(EdgeKind) -> Span,
    ) {
        let mut found = Vec::new();
        derived::rewrite_edges(from, rewrite, negative, &mut found);
        self.edges.extend(found.into_iter().map(|e| {
            let span = span_of(e.kind);
            e.labelled(span)
        }));
    }

    fn report(&mut self, error: AnalysisError) {
        self.diags.push(error.to_diagnostic(()));
    }

    /// Checks one member; `None` when it cannot be compiled.
    pub fn member(&mut self, id: RelationId, info: &RelInfo<'a, 'src>) -> Option<ir::RelationKind> {
        match info.decl {
            ast::Member::Relation(r) => self.relation(id, info.namespace, r),
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

    fn relation(
        &mut self,
        id: RelationId,
        ns: NamespaceId,
        r: &ast::Relation<'src>,
    ) -> Option<ir::RelationKind> {
        if r.types.is_empty() {
            self.report(AnalysisError::NoTypes {
                relation: r.name.text.to_owned(),
                span: r.name.span,
            });
            return None;
        }
        let mut types = Vec::new();
        let mut with_traits = Vec::new();
        let mut ok = true;
        let type_edges_from = self.edges.len();
        for (i, t) in r.types.iter().enumerate() {
            let traits = r.traits_of(i);
            let repeated = (0..i).find(|&j| {
                r.types
                    .get(j)
                    .is_some_and(|b| same_type(b, t) && same_traits(r.traits_of(j), traits))
            });
            if let Some(first) = repeated.and_then(|j| r.types.get(j)) {
                let first_traits = repeated.and_then(|j| r.traits_of(j));
                self.report(AnalysisError::RepeatedType {
                    ty: format!("{}{}", type_text(t), traits_text(traits)),
                    relation: r.name.text.to_owned(),
                    span: traits.map_or(t.span(), |tr| t.span().to(tr.span)),
                    first: first_traits.map_or(first.span(), |tr| first.span().to(tr.span)),
                });
                continue;
            }
            // Resolved even when the type is wrong, so each mistake is reported.
            let condition = match traits.and_then(|tr| tr.condition) {
                Some(name) => {
                    let silenced = self.symbols.broken.contains(name.text);
                    match self.conditions.resolve(name, silenced, &mut self.diags) {
                        Some(condition) => Some(condition),
                        None => {
                            ok = false;
                            None
                        }
                    }
                }
                None => None,
            };
            let Some(allowed) = self.allowed_type(id, t) else {
                ok = false;
                continue;
            };
            match traits {
                None => types.push(allowed),
                Some(tr) => {
                    // An expiry is allowed, not required: the plain type too.
                    if tr.condition.is_none() {
                        types.push(allowed);
                    }
                    with_traits.push(ir::TraitedType {
                        base: allowed,
                        condition,
                        expiration: tr.expiration.is_some(),
                    });
                }
            }
        }
        // `user | user with expiration` lists the plain `user` twice.
        let mut seen = std::collections::HashSet::new();
        types.retain(|t| seen.insert(*t));
        let type_edges_to = self.edges.len();
        let rewrite = match &r.rewrite {
            None => None,
            Some(expr) => {
                self.defining = Some((id, r.name.text));
                self.in_relation = true;
                let lowered = self.expr(id, ns, expr, false);
                self.defining = None;
                self.in_relation = false;
                let lowered = flatten(lowered?);
                // The subject-set types are read where `this` stands, with its polarity.
                let (kept, subtracted) = derived::this_polarity(Some(&lowered));
                if !kept && !subtracted {
                    self.report(AnalysisError::RewriteWithoutThis {
                        relation: r.name.text.to_owned(),
                        span: expr.span(),
                    });
                }
                let type_edges: Vec<_> = self.edges.drain(type_edges_from..type_edges_to).collect();
                for edge in type_edges {
                    if subtracted {
                        self.edges.push(Edge {
                            negative: true,
                            ..edge.clone()
                        });
                    }
                    if kept {
                        self.edges.push(edge);
                    }
                }
                Some(lowered)
            }
        };
        ok.then_some(ir::RelationKind::Relation {
            types,
            with_traits,
            rewrite,
        })
    }

    fn allowed_type(&mut self, from: RelationId, t: &TypeRef<'src>) -> Option<ir::AllowedType> {
        let namespace = self.resolve_namespace(t.namespace())?;
        match t {
            TypeRef::Object(_) => Some(ir::AllowedType::Object { namespace }),
            TypeRef::Wildcard(..) => Some(ir::AllowedType::Wildcard { namespace }),
            TypeRef::SubjectSet(_, name) => {
                let relation = self.resolve_in(namespace, *name, TypeContext::SubjectSet)?;
                let allowed = ir::AllowedType::SubjectSet {
                    namespace,
                    relation,
                };
                let edge = derived::type_edge(from, allowed).map(|e| e.labelled(t.span()));
                self.edges.extend(edge);
                Some(allowed)
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
        if let Some((_, spans, _)) = self
            .unknown_namespaces
            .iter_mut()
            .find(|(unknown, _, _)| *unknown == name.text)
        {
            spans.push(name.span);
            return None;
        }
        let known = self.symbols.namespaces.iter().map(|n| n.name.text);
        let suggestion = closest(name.text, known).map(str::to_owned);
        self.unknown_namespaces
            .push((name.text, vec![name.span], suggestion));
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
        let namespace = self.symbols.ns_name(ns).to_owned();
        // Never suggest the permission being defined: that would be a cycle.
        let candidates = self
            .symbols
            .member_names(ns)
            .filter(|c| Some(*c) != self.defining.map(|(_, name)| name));
        let suggestion = closest(name.text, candidates).map(str::to_owned);
        let context = match context {
            TypeContext::SubjectSet => MemberContext::SubjectSet,
            TypeContext::Expression => MemberContext::Expression,
        };
        self.report(AnalysisError::UnknownMember {
            name: name.text.to_owned(),
            span: name.span,
            namespace,
            context,
            declared: self.symbols.ns(ns).map(|decl| decl.name.span),
            suggestion,
            names_a_namespace: context == MemberContext::Expression
                && self.symbols.ns_by_name.contains_key(name.text),
        });
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
                let rewrite = Rewrite::Computed { relation };
                self.add_edges(from, &rewrite, negative, |_| name.span);
                Some(rewrite)
            }
            Expr::Paren(inner, _) => self.expr(from, ns, inner, negative),
            Expr::Nil(_) => Some(Rewrite::Nil),
            Expr::SelfObject(_) => Some(Rewrite::SelfObject),
            Expr::This(span) => {
                if self.in_relation {
                    Some(Rewrite::This)
                } else {
                    self.report(AnalysisError::ThisOutsideRelation {
                        span: *span,
                        permission: self
                            .defining
                            .map_or(String::new(), |(_, name)| name.to_owned()),
                    });
                    None
                }
            }
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
            let error = self.mixed_operators(head, rest, k, *op, *op_span, span);
            self.report(error);
            shape_ok = false;
        } else if first_op == Op::Exclusion && rest.len() > 1 {
            let error = self.chained_exclusion(head, rest);
            self.report(error);
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
    ) -> AnalysisError {
        let Some(previous) = k.checked_sub(1).and_then(|i| rest.get(i)) else {
            return AnalysisError::AmbiguousPrecedence { op: op_span };
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
        AnalysisError::MixedOperators {
            op: op.symbol(),
            op_span,
            previous: previous.0.symbol(),
            previous_span: previous.1,
            first_grouping: first_alt,
            second_grouping: second_alt,
            chain: Span::new(chain.file, left_start.start, chain.end),
        }
    }

    fn chained_exclusion(
        &self,
        head: &Expr<'src>,
        rest: &[(Op, Span, Expr<'src>)],
    ) -> AnalysisError {
        let subtracted: Vec<String> = rest.iter().map(|r| self.source_text(r.2.span())).collect();
        let second = rest.get(1).map_or(head.span(), |r| r.1);
        let first = rest.first().map_or(head.span(), |r| r.1);
        let union = format!(
            "{} - ({})",
            self.source_text(head.span()),
            subtracted.join(" | ")
        );
        let chain = Span::new(
            head.span().file,
            head.span().start,
            rest.last().map_or(head.span().end, |r| r.2.span().end),
        );
        AnalysisError::ChainedExclusion {
            first,
            second,
            union,
            chain,
        }
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
                let synonym = match m.text {
                    "every" | "each" | "forall" | "for_all" => Some("all"),
                    "some" | "exists" | "one" => Some("any"),
                    other => closest(other, ["any", "all"]),
                };
                self.report(AnalysisError::UnknownArrowFunction {
                    name: m.text.to_owned(),
                    span: m.span,
                    suggestion: synonym,
                });
                None
            }
        };
        let tupleset_id = self.resolve_in(ns, tupleset, TypeContext::Expression)?;
        let info = self.symbols.rel(tupleset_id)?;
        let relation = match info.decl {
            ast::Member::Relation(r) => r,
            _ => {
                let instead = self.object_relations(ns).next().map(|r| r.to_string());
                self.report(AnalysisError::ArrowOverPermission {
                    name: tupleset.text.to_owned(),
                    span: tupleset.span,
                    defined: info.name.span,
                    instead,
                });
                return None;
            }
        };
        if let Some(rewrite) = &relation.rewrite {
            self.report(AnalysisError::ArrowOverRewrite {
                name: tupleset.text.to_owned(),
                span: tupleset.span,
                rewrite: rewrite.span(),
            });
            return None;
        }
        let bad: Vec<&TypeRef<'src>> = relation
            .types
            .iter()
            .filter(|t| !matches!(t, TypeRef::Object(_)))
            .collect();
        if !bad.is_empty() {
            self.report(AnalysisError::ArrowOverNonObjects {
                name: tupleset.text.to_owned(),
                span: tupleset.span,
                bad: bad
                    .iter()
                    .map(|t| (t.span(), matches!(t, TypeRef::Wildcard(..))))
                    .collect(),
                first_bad: bad
                    .first()
                    .map(|t| (t.namespace().text.to_owned(), type_text(t))),
            });
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
            let candidates: Vec<&str> = missing
                .iter()
                .flat_map(|(m, _)| self.symbols.member_names(*m))
                .collect();
            let suggestion = closest(target.text, candidates).map(str::to_owned);
            self.report(AnalysisError::ArrowTargetMissing {
                target: target.text.to_owned(),
                span: target.span,
                namespaces: names,
                tupleset: tupleset.text.to_owned(),
                tupleset_declared: info.name.span,
                suggestion,
            });
            return None;
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing
                .iter()
                .map(|(m, _)| format!("`{}`", self.symbols.ns_name(*m)))
                .collect();
            self.report(AnalysisError::ArrowTargetMissingOnSome {
                target: target.text.to_owned(),
                span: target.span,
                namespaces: names,
                tupleset: tupleset.text.to_owned(),
                types: missing.iter().map(|&(_, type_span)| type_span).collect(),
                all: matches!(mode, Some(ArrowMode::All)),
            });
        }
        let rewrite = Rewrite::Arrow {
            tupleset: tupleset_id,
            target_name: target.text.to_owned(),
            targets,
            mode: mode?,
        };
        self.add_edges(from, &rewrite, negative, |kind| match kind {
            EdgeKind::Tupleset => tupleset.span,
            _ => span,
        });
        Some(rewrite)
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

fn same_traits<'src>(a: Option<ast::Traits<'src>>, b: Option<ast::Traits<'src>>) -> bool {
    fn key<'src>(t: Option<ast::Traits<'src>>) -> Option<(Option<&'src str>, bool)> {
        t.map(|t| (t.condition.map(|c| c.text), t.expiration.is_some()))
    }
    key(a) == key(b)
}

/// ` with c and expiration`, as written after a type; empty without traits.
fn traits_text(traits: Option<ast::Traits<'_>>) -> String {
    match traits {
        None => String::new(),
        Some(ast::Traits {
            condition: Some(c),
            expiration: Some(_),
            ..
        }) => format!(" with {} and expiration", c.text),
        Some(ast::Traits {
            condition: Some(c), ..
        }) => format!(" with {}", c.text),
        Some(_) => " with expiration".to_owned(),
    }
}

fn type_text(t: &TypeRef<'_>) -> String {
    match t {
        TypeRef::Object(ns) => ns.text.to_owned(),
        TypeRef::Wildcard(ns, _) => format!("{}:*", ns.text),
        TypeRef::SubjectSet(ns, rel) => format!("{}#{}", ns.text, rel.text),
    }
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
