//! A permit's body in Keto's own terms, between the parser that reads it
//! and [`super::lower`], which turns it into zanzi's expressions.

use crate::source::Span;
use crate::syntax::ast;

/// `&&` or `||`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

/// A permission expression as Keto reads it: `&&` and `||` left to right
/// with no precedence between them (Keto's `parsePermissionExpressions`).
#[derive(Clone, Debug)]
pub enum Expr<'src> {
    /// `RECV.related.R.includes(ctx.subject)`, where RECV is `this` or, in
    /// a traverse body, its parameter.
    Includes {
        rel: ast::Ident<'src>,
        span: Span,
    },
    /// `RECV.permits.P(ctx)`
    Permits {
        perm: ast::Ident<'src>,
        span: Span,
    },
    /// `RECV.related.R.traverse((x) => BODY)`; the body's receiver is `x`.
    Traverse {
        rel: ast::Ident<'src>,
        body: Box<Expr<'src>>,
        span: Span,
    },
    Not {
        bang: Span,
        inner: Box<Expr<'src>>,
        span: Span,
    },
    Paren(Box<Expr<'src>>, Span),
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr<'src>>,
        rhs: Box<Expr<'src>>,
        span: Span,
    },
}

impl Expr<'_> {
    pub fn span(&self) -> Span {
        match self {
            Expr::Includes { span, .. }
            | Expr::Permits { span, .. }
            | Expr::Traverse { span, .. }
            | Expr::Not { span, .. }
            | Expr::Paren(_, span)
            | Expr::Binary { span, .. } => *span,
        }
    }
}
