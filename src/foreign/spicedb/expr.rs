//! Permission expressions: SpiceDB's precedence made explicit.
//!
//! SpiceDB's parser (`pkg/schemadsl/parser/parser.go`,
//! `ComputeExpressionOperators` wrapped innermost-last) binds `+` tightest,
//! then `&`, then `-`, each left-associative, with arrows tighter than all
//! three: `a + b - c` is `(a + b) - c`, `a - b + c` is `a - (b + c)` and
//! `a - b - c` is `(a - b) - c`. The parser builds [`Node`]s (one n-ary
//! chain per operator level, so long unions stay flat); [`lower`] turns them
//! into zanzi's tree, where a chain holds one operator and `-` never chains,
//! adding the parentheses SpiceDB implies and warning W0601 where the
//! source relied on them.

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::Span;
use crate::syntax::ast::{Expr, Op};
use crate::syntax::lexer::MAX_NESTING;

/// An expression as SpiceDB groups it.
#[derive(Debug)]
pub(super) enum Node<'src> {
    /// A name, an arrow or `nil`.
    Leaf(Expr<'src>),
    /// `( … )` as written; the span covers the parentheses.
    Group(Box<Node<'src>>, Span),
    /// `first op x op y …`, all one operator.
    Chain {
        op: Op,
        first: Box<Node<'src>>,
        rest: Vec<(Span, Node<'src>)>,
    },
}

impl Node<'_> {
    pub(super) fn span(&self) -> Span {
        match self {
            Node::Leaf(expr) => expr.span(),
            Node::Group(_, span) => *span,
            Node::Chain { first, rest, .. } => rest
                .last()
                .map_or(first.span(), |(_, last)| first.span().to(last.span())),
        }
    }
}

/// SpiceDB's spelling of an operator.
pub(super) fn symbol(op: Op) -> &'static str {
    match op {
        Op::Union => "+",
        Op::Intersection => "&",
        Op::Exclusion => "-",
    }
}

/// Lowers a parsed expression to zanzi's tree. `None` when an exclusion
/// chain is too long to nest (E0007, reported).
pub(super) fn lower<'src>(
    node: Node<'src>,
    src: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Expr<'src>> {
    match node {
        Node::Leaf(expr) => Some(expr),
        Node::Group(inner, span) => Some(Expr::Paren(Box::new(lower(*inner, src, diags)?), span)),
        Node::Chain { .. } => {
            let note = precedence_note(&node, src);
            let first_op = first_operator(&node);
            let mut implicit = false;
            let expr = lower_chain(node, src, diags, &mut implicit)?;
            if let (true, Some((op_span, label))) = (implicit, first_op) {
                diags.push(
                    Diagnostic::new(
                        codes::W0601,
                        "this SpiceDB schema expression relies on operator precedence",
                        Label::new(op_span, label),
                    )
                    .with_note(format!("read as `{note}`"))
                    .with_help("`zanzi convert` writes the parentheses"),
                );
            }
            Some(expr)
        }
    }
}

/// Lowers one region of operators not separated by written parentheses;
/// sets `implicit` when it had to add parentheses.
fn lower_chain<'src>(
    node: Node<'src>,
    src: &str,
    diags: &mut Vec<Diagnostic>,
    implicit: &mut bool,
) -> Option<Expr<'src>> {
    let Node::Chain { op, first, rest } = node else {
        return lower(node, src, diags);
    };
    if op == Op::Exclusion && rest.len() > MAX_NESTING {
        let span = rest.get(MAX_NESTING).map_or(first.span(), |(s, _)| *s);
        diags.push(
            Diagnostic::new(
                codes::E0007,
                "expression nested too deeply",
                Label::new(span, format!("more than {MAX_NESTING} chained `-`")),
            )
            .with_help("split the expression into several permissions"),
        );
        return None;
    }
    let operand = |node: Node<'src>, diags: &mut Vec<Diagnostic>, implicit: &mut bool| {
        if matches!(node, Node::Chain { .. }) {
            *implicit = true;
            let span = node.span();
            Some(Expr::Paren(
                Box::new(lower_chain(node, src, diags, implicit)?),
                span,
            ))
        } else {
            lower(node, src, diags)
        }
    };
    let head_span = first.span();
    let head = operand(*first, diags, implicit)?;
    if op != Op::Exclusion {
        let mut terms = Vec::with_capacity(rest.len());
        let mut span = head_span;
        for (op_span, node) in rest {
            span = span.to(node.span());
            terms.push((op, op_span, operand(node, diags, implicit)?));
        }
        return Some(Expr::Chain {
            head: Box::new(head),
            rest: terms,
            span,
        });
    }
    // `a - b - c` is `(a - b) - c`: each step but the last is parenthesized.
    let count = rest.len();
    let mut acc = head;
    let mut span = head_span;
    for (i, (op_span, node)) in rest.into_iter().enumerate() {
        span = span.to(node.span());
        let right = operand(node, diags, implicit)?;
        acc = Expr::Chain {
            head: Box::new(acc),
            rest: vec![(Op::Exclusion, op_span, right)],
            span,
        };
        if i + 1 < count {
            *implicit = true;
            acc = Expr::Paren(Box::new(acc), span);
        }
    }
    Some(acc)
}

/// Where to point a W0601 and what to say there: the first operator of the
/// region, or for a chained `-`, the second `-`.
fn first_operator(node: &Node<'_>) -> Option<(Span, String)> {
    let Node::Chain { op, first, rest } = node else {
        return None;
    };
    if *op == Op::Exclusion && rest.len() > 1 {
        let (span, _) = rest.get(1)?;
        return Some((*span, "SpiceDB groups chained `-` from the left".to_owned()));
    }
    let (span, _) = rest.first()?;
    let inner = std::iter::once(&**first)
        .chain(rest.iter().map(|(_, n)| n))
        .find_map(|n| match n {
            Node::Chain { op, .. } => Some(*op),
            _ => None,
        })
        .unwrap_or(*op);
    Some((
        *span,
        format!(
            "`{}` applies after `{}`: SpiceDB applies `+`, then `&`, then `-`",
            symbol(*op),
            symbol(inner)
        ),
    ))
}

/// The region written with every parenthesis SpiceDB implies:
/// `(a + b) - c`.
fn precedence_note(node: &Node<'_>, src: &str) -> String {
    match node {
        Node::Leaf(expr) => src.get(expr.span().range()).unwrap_or("").to_owned(),
        Node::Group(inner, _) => format!("({})", precedence_note(inner, src)),
        Node::Chain { op, first, rest } => {
            let part = |n: &Node<'_>| match n {
                Node::Chain { .. } => format!("({})", precedence_note(n, src)),
                _ => precedence_note(n, src),
            };
            let mut out = part(first);
            for (i, (_, n)) in rest.iter().enumerate() {
                if *op == Op::Exclusion && i > 0 {
                    out = format!("({out})");
                }
                out = format!("{out} {} {}", symbol(*op), part(n));
            }
            out
        }
    }
}
