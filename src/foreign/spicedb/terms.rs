//! Permission expressions: SpiceDB's grammar for them (`-` loosest, then
//! `&`, then `+`, then arrows), read into [`Node`]s that `expr::lower`
//! makes explicit.

use super::expr::{self, Node};
use super::lexer::Token;
use super::parser::{PResult, Parser, Reported};
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::syntax::ast::{ArrowForm, Expr, Op};

impl<'src> Parser<'_, 'src> {
    /// `-` binds loosest, then `&`, then `+` (see [`expr`]).
    pub(super) fn expression(&mut self, context: &str) -> PResult<Node<'src>> {
        self.chain(Op::Exclusion, context)
    }

    fn chain(&mut self, op: Op, context: &str) -> PResult<Node<'src>> {
        let token = match op {
            Op::Exclusion => Token::Minus,
            Op::Intersection => Token::Amp,
            Op::Union => Token::Plus,
        };
        let first = self.operand(op, context)?;
        let mut rest = Vec::new();
        while self.at(token) {
            let op_span = self.bump();
            let context = format!("after `{}`", expr::symbol(op));
            rest.push((op_span, self.operand(op, &context)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain {
                op,
                first: Box::new(first),
                rest,
            }
        })
    }

    fn operand(&mut self, op: Op, context: &str) -> PResult<Node<'src>> {
        match op {
            Op::Exclusion => self.chain(Op::Intersection, context),
            Op::Intersection => self.chain(Op::Union, context),
            Op::Union => self.term(context),
        }
    }

    /// A name, an arrow, `nil`, `self` or a parenthesized expression.
    fn term(&mut self, context: &str) -> PResult<Node<'src>> {
        match self.peek() {
            // With `use self`, the object itself as its own subject.
            Some(Token::Name("self")) if self.flags.self_keyword => {
                Ok(Node::Leaf(Expr::SelfObject(self.bump())))
            }
            Some(Token::Name(_)) => self.arrow(),
            Some(Token::Nil) => Ok(Node::Leaf(Expr::Nil(self.bump()))),
            Some(Token::LParen) => {
                let open = self.bump();
                let inner = self.expression("after `(`")?;
                match self.eat(Token::RParen) {
                    Some(close) => Ok(Node::Group(Box::new(inner), open.to(close))),
                    None => {
                        let message = format!("expected `)` to close `(`, found {}", self.found());
                        let span = self.peek_span();
                        self.diags.push(
                            Diagnostic::new(
                                codes::E0601,
                                message,
                                Label::new(span, "expected `)`"),
                            )
                            .with_secondary(open, "the parenthesis opens here"),
                        );
                        Err(Reported)
                    }
                }
            }
            _ => Err(self.expected("a relation or permission name, `nil` or `(`", context)),
        }
    }

    /// `name`, `name->target`, `name.any(target)`, `name.all(target)`.
    fn arrow(&mut self) -> PResult<Node<'src>> {
        let tupleset = self.name("a name", "")?;
        let mut result: Option<Expr<'src>> = None;
        while matches!(self.peek(), Some(Token::Arrow | Token::Dot)) {
            let op_span = self.peek_span();
            if result.is_some() {
                self.diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        "nested arrows are not supported",
                        Label::new(op_span, "an arrow after an arrow"),
                    )
                    .with_note(
                        "SpiceDB refuses `a->b->c` too (\"nested arrows not yet supported\")",
                    )
                    .with_help(
                        "give the middle step a permission of its own on the target definition",
                    ),
                );
                return Err(Reported);
            }
            let form = if self.eat(Token::Arrow).is_some() {
                ArrowForm::Arrow
            } else {
                self.bump();
                let function = self.name("`any` or `all`", "after `.`")?;
                if function.text != "any" && function.text != "all" {
                    self.diags.push(Diagnostic::new(
                        codes::E0601,
                        format!(
                            "expected `any` or `all` for arrow function, found `{}`",
                            function.text
                        ),
                        Label::new(function.span, "not an arrow function"),
                    ));
                    return Err(Reported);
                }
                self.expect(Token::LParen, &format!("after `.{}`", function.text))?;
                ArrowForm::Method(function)
            };
            let target = self.name("a relation or permission name", "after the arrow")?;
            if matches!(form, ArrowForm::Method(_)) {
                self.expect(Token::RParen, "after the arrow's target")?;
            }
            result = Some(Expr::Arrow {
                tupleset,
                form,
                target,
                span: tupleset.span.to(self.prev_span()),
            });
        }
        Ok(Node::Leaf(result.unwrap_or(Expr::Name(tupleset))))
    }
}
