//! Lowering a permit's body from Keto's terms to zanzi's expressions.
//!
//! - `includes` and `permits` name a relation or permission; `traverse` is an
//!   arrow, and a traverse body that is a union distributes over it
//!   (`R.traverse(x => A || B)` is `R->A | R->B`, since an arrow is a union
//!   over the traversed objects).
//! - `a && !b` is the exclusion `a - b`; a negation anywhere else asks for
//!   "everyone not in b", which zanzi cannot enumerate (E0603).
//! - Keto reads `&&` and `||` strictly left to right (`parsePermissionExpressions`
//!   builds the tree as it goes), so `a || b && c` is `(a || b) && c`, unlike
//!   TypeScript. The grouping is made explicit with parentheses; where it was
//!   implicit, W0601 says how it was read.

use super::expr::{BinOp, Expr};
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::foreign::Dialect;
use crate::source::Span;
use crate::syntax::ast;

/// A permit's expression in zanzi's terms, or `None` when part of it has no
/// zanzi meaning (reported).
pub fn permission<'src>(
    expr: &Expr<'src>,
    src: &'src str,
    diags: &mut Vec<Diagnostic>,
) -> Option<ast::Expr<'src>> {
    let mut lower = Lower {
        src,
        diags,
        failed: false,
    };
    let out = lower.expr(expr);
    (!lower.failed).then_some(out).flatten()
}

struct Lower<'a, 'src> {
    src: &'src str,
    diags: &'a mut Vec<Diagnostic>,
    failed: bool,
}

impl<'src> Lower<'_, 'src> {
    fn fail(&mut self, diagnostic: Diagnostic) -> Option<ast::Expr<'src>> {
        self.diags.push(diagnostic);
        self.failed = true;
        None
    }

    fn expr(&mut self, expr: &Expr<'src>) -> Option<ast::Expr<'src>> {
        match expr {
            Expr::Includes { rel, .. } => Some(ast::Expr::Name(*rel)),
            Expr::Permits { perm, .. } => Some(ast::Expr::Name(*perm)),
            Expr::Traverse {
                rel, body, span, ..
            } => self.traverse(*rel, body, *span),
            Expr::Paren(inner, span) => {
                let inner = self.expr(inner)?;
                Some(ast::Expr::Paren(Box::new(inner), *span))
            }
            Expr::Not { bang, inner, .. } => {
                let (full, short) = (
                    render(inner, self.src, false),
                    render(inner, self.src, true),
                );
                self.fail(lone_negation(*bang, &full, &short))
            }
            Expr::Binary { .. } => self.binary(expr, true),
        }
    }

    /// An operator region; `top` when it is not itself an operand of a
    /// region (one warning per region).
    fn binary(&mut self, expr: &Expr<'src>, top: bool) -> Option<ast::Expr<'src>> {
        let Expr::Binary {
            op, op_span, span, ..
        } = expr
        else {
            return self.expr(expr);
        };
        if top {
            if let Some(grouping) = implicit_grouping(expr, self.src) {
                self.diags
                    .push(precedence_warning(*op_span, &grouping, reorders(expr)));
            }
        }
        let mut operands = Vec::new();
        flatten(expr, *op, &mut operands);
        match op {
            BinOp::Or => self.union(&operands, *span),
            BinOp::And => self.intersection(&operands, *span),
        }
    }

    /// An operand of a chain: a chain inside is put in parentheses.
    fn operand(&mut self, expr: &Expr<'src>) -> Option<ast::Expr<'src>> {
        let lowered = self.binary(expr, false)?;
        Some(grouped(lowered))
    }

    fn union(&mut self, operands: &[(Span, &Expr<'src>)], span: Span) -> Option<ast::Expr<'src>> {
        let mut lowered = Vec::new();
        for (op_span, operand) in operands {
            lowered.push((*op_span, self.operand(operand)));
        }
        chain(ast::Op::Union, lowered, span)
    }

    /// `a && b && !c && !d` is `(a & b) - (c | d)`.
    fn intersection(
        &mut self,
        operands: &[(Span, &Expr<'src>)],
        span: Span,
    ) -> Option<ast::Expr<'src>> {
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        for (op_span, operand) in operands {
            match negation(operand) {
                Some((bang, inner)) => negative.push((*op_span, bang, inner)),
                None => positive.push((*op_span, self.operand(operand))),
            }
        }
        let Some(&(_, first_bang, first_negated)) = negative.first() else {
            return chain(ast::Op::Intersection, positive, span);
        };
        if positive.is_empty() {
            let inner = self.src.get(first_negated.span().range()).unwrap_or("x");
            return self.fail(
                Diagnostic::new(
                    codes::E0603,
                    "a negation needs something to subtract from",
                    Label::new(first_bang, "every operand of this `&&` is negated"),
                )
                .with_note("`!a && !b` grants everyone who is in neither set: a set no tuple lists")
                .with_help(format!(
                    "subtract from a set that is granted: `this.related.viewers.includes(ctx.subject) && !{inner}`"
                )),
            );
        }
        let negative: Vec<_> = negative
            .iter()
            .map(|(op_span, _, inner)| (*op_span, self.operand(inner)))
            .collect();
        let head = if positive.len() == 1 {
            positive.into_iter().next().and_then(|(_, e)| e)
        } else {
            chain(ast::Op::Intersection, positive, span).map(grouped)
        };
        let tail = if negative.len() == 1 {
            negative.into_iter().next().and_then(|(_, e)| e)
        } else {
            chain(ast::Op::Union, negative, span).map(grouped)
        };
        let (head, tail) = (head?, tail?);
        let span = head.span().to(tail.span());
        Some(ast::Expr::Chain {
            head: Box::new(head),
            rest: vec![(ast::Op::Exclusion, first_bang, tail)],
            span,
        })
    }

    /// `this.related.R.traverse((x) => BODY)`: one arrow per term of a union body.
    fn traverse(
        &mut self,
        tupleset: ast::Ident<'src>,
        body: &Expr<'src>,
        span: Span,
    ) -> Option<ast::Expr<'src>> {
        let mut terms = Vec::new();
        self.traverse_terms(tupleset, body, &mut terms);
        let arrow = |(target, term_span): (ast::Ident<'src>, Span)| ast::Expr::Arrow {
            tupleset,
            form: ast::ArrowForm::Arrow,
            target,
            span: term_span,
        };
        match terms.len() {
            0 => None,
            1 => terms
                .into_iter()
                .next()
                .map(|(target, _)| arrow((target, span))),
            _ => chain(
                ast::Op::Union,
                terms.into_iter().map(|t| (t.1, Some(arrow(t)))).collect(),
                span,
            ),
        }
    }

    fn traverse_terms(
        &mut self,
        tupleset: ast::Ident<'src>,
        body: &Expr<'src>,
        out: &mut Vec<(ast::Ident<'src>, Span)>,
    ) {
        let rel = tupleset.text;
        match body {
            Expr::Includes {
                rel: target, span, ..
            }
            | Expr::Permits {
                perm: target, span, ..
            } => {
                out.push((*target, *span));
            }
            Expr::Paren(inner, _) => self.traverse_terms(tupleset, inner, out),
            Expr::Binary {
                op: BinOp::Or,
                lhs,
                rhs,
                ..
            } => {
                self.traverse_terms(tupleset, lhs, out);
                self.traverse_terms(tupleset, rhs, out);
            }
            Expr::Binary {
                op: BinOp::And,
                op_span,
                ..
            } => {
                self.fail(
                    Diagnostic::new(
                        codes::E0603,
                        "`&&` inside `traverse` has no zanzi meaning",
                        Label::new(*op_span, "both sides must hold for the same traversed object"),
                    )
                    .with_note("zanzi's arrow asks one question of each traversed object")
                    .with_help(format!(
                        "give the traversed class a permission that is the `&&` and traverse to it, \
                         or write `this.related.{rel}.traverse(…) && this.related.{rel}.traverse(…)` \
                         (which may be satisfied by two different objects)"
                    )),
                );
            }
            Expr::Not { bang, .. } => {
                self.fail(
                    Diagnostic::new(
                        codes::E0603,
                        "`!` inside `traverse` has no zanzi meaning",
                        Label::new(*bang, "a negation for each traversed object"),
                    )
                    .with_help(format!(
                        "give the traversed class a permission `a && !b` and traverse to it: \
                         `this.related.{rel}.traverse((x) => x.permits.p(ctx))`"
                    )),
                );
            }
            Expr::Traverse { span, .. } => {
                self.fail(
                    Diagnostic::new(
                        codes::E0603,
                        "a `traverse` inside a `traverse` has no zanzi meaning",
                        Label::new(*span, "an arrow can only end in a relation or permission"),
                    )
                    .with_help(
                        "give the traversed class a permission with the inner `traverse`, \
                         and call it: `x.permits.p(ctx)`",
                    ),
                );
            }
        }
    }
}

/// Chains with an operand that failed are `None` (the failure is reported).
fn chain<'src>(
    op: ast::Op,
    operands: Vec<(Span, Option<ast::Expr<'src>>)>,
    span: Span,
) -> Option<ast::Expr<'src>> {
    let mut operands = operands.into_iter();
    let (_, head) = operands.next()?;
    let mut rest = Vec::new();
    let mut failed = head.is_none();
    for (op_span, operand) in operands {
        match operand {
            Some(e) => rest.push((op, op_span, e)),
            None => failed = true,
        }
    }
    let head = head?;
    if failed {
        return None;
    }
    if rest.is_empty() {
        return Some(head);
    }
    Some(ast::Expr::Chain {
        head: Box::new(head),
        rest,
        span,
    })
}

/// A chain becomes `( chain )`, so that it can be an operand of another.
fn grouped(expr: ast::Expr<'_>) -> ast::Expr<'_> {
    match expr {
        ast::Expr::Chain { span, .. } => ast::Expr::Paren(Box::new(expr), span),
        other => other,
    }
}

/// The operands of the same-operator region of `expr`, each with the span of
/// the operator before it (the first with its own span). Keto's trees lean
/// left: the right side of an operator is always a single operand.
fn flatten<'e, 'src>(expr: &'e Expr<'src>, op: BinOp, out: &mut Vec<(Span, &'e Expr<'src>)>) {
    match expr {
        Expr::Binary {
            op: o,
            op_span,
            lhs,
            rhs,
            ..
        } if *o == op => {
            flatten(lhs, op, out);
            out.push((*op_span, rhs));
        }
        other => out.push((other.span(), other)),
    }
}

/// `!x` or `(!x)`: the `!` and `x`.
fn negation<'e, 'src>(expr: &'e Expr<'src>) -> Option<(Span, &'e Expr<'src>)> {
    match expr {
        Expr::Not { bang, inner, .. } => Some((*bang, inner)),
        Expr::Paren(inner, _) => negation(inner),
        _ => None,
    }
}

fn lone_negation(bang: Span, inner: &str, short: &str) -> Diagnostic {
    Diagnostic::new(
        codes::E0603,
        "a negation outside `&&` has no zanzi meaning",
        Label::new(bang, "this grants everyone who is not in the set"),
    )
    .with_note("zanzi, like Zanzibar, only subtracts from a set that is already granted")
    .with_help(format!(
        "write it as `a && !{inner}`, which reads as `a - {short}`"
    ))
}

/// The grouping of a region that mixes `&&` and `||` without parentheses,
/// in OPL syntax with the parentheses Keto's reading implies.
fn implicit_grouping(expr: &Expr<'_>, src: &str) -> Option<String> {
    if !mixes(expr) {
        return None;
    }
    let full = render(expr, src, false);
    Some(if full.len() <= 100 {
        full
    } else {
        render(expr, src, true)
    })
}

/// Whether the operator region at `expr` holds both `&&` and `||`.
fn mixes(expr: &Expr<'_>) -> bool {
    fn ops(expr: &Expr<'_>, and: &mut bool, or: &mut bool) {
        if let Expr::Binary { op, lhs, rhs, .. } = expr {
            match op {
                BinOp::And => *and = true,
                BinOp::Or => *or = true,
            }
            ops(lhs, and, or);
            ops(rhs, and, or);
        }
    }
    let (mut and, mut or) = (false, false);
    ops(expr, &mut and, &mut or);
    and && or
}

/// Whether Keto's left-to-right reading differs from TypeScript's (where
/// `&&` binds tighter): some `||` is the left side of an `&&`.
fn reorders(expr: &Expr<'_>) -> bool {
    match expr {
        Expr::Binary { op, lhs, .. } => {
            (*op == BinOp::And && matches!(**lhs, Expr::Binary { op: BinOp::Or, .. }))
                || reorders(lhs)
        }
        _ => false,
    }
}

/// OPL text with explicit parentheses; `short` names terms by what they
/// name (`viewers`, `parents.traverse(…)`) to keep long notes readable.
fn render(expr: &Expr<'_>, src: &str, short: bool) -> String {
    match expr {
        Expr::Binary { op, lhs, rhs, .. } => {
            let side = |e: &Expr<'_>| match e {
                Expr::Binary { op: o, .. } if o != op => format!("({})", render(e, src, short)),
                _ => render(e, src, short),
            };
            format!("{} {} {}", side(lhs), op.symbol(), side(rhs))
        }
        Expr::Not { inner, .. } => format!("!{}", render(inner, src, short)),
        Expr::Paren(inner, _) if short => format!("({})", render(inner, src, short)),
        Expr::Includes { rel, .. } if short => rel.text.to_owned(),
        Expr::Permits { perm, .. } if short => format!("{}(ctx)", perm.text),
        Expr::Traverse { rel, .. } if short => format!("{}.traverse(…)", rel.text),
        other => src
            .get(other.span().range())
            .unwrap_or("…")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn precedence_warning(op_span: Span, grouping: &str, reorders: bool) -> Diagnostic {
    let mut diagnostic = Diagnostic::new(
        codes::W0601,
        format!(
            "this {} expression relies on operator precedence",
            Dialect::Keto.title()
        ),
        Label::new(op_span, "`&&` and `||` mix here without parentheses"),
    )
    .with_note(format!("read as `{grouping}`"));
    if reorders {
        diagnostic = diagnostic.with_note(
            "Keto reads `&&` and `||` from left to right; TypeScript would read `&&` first",
        );
    }
    diagnostic.with_help("`zanzi convert` writes the parentheses")
}
