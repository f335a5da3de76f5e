//! The OpenFGA DSL (schema 1.1) to zanzi's syntax tree.
//!
//! The grammar is OpenFGA's (`OpenFGAParser.g4` in openfga/language): a
//! `model` / `schema 1.1` header (or `module NAME` in a module of a modular
//! model, where `extend type` may add relations to another module's type),
//! then `type` blocks with `relations` and
//! `define` lines, then `condition` blocks. Its expression rules are strict
//! and this parser keeps them: one kind of operator per group (`a or b and c`
//! and `a but not b but not c` are errors there, so they are here), and the
//! directly related types `[…]` only as the first operand. OpenFGA thus
//! never relies on precedence, and every group it writes in parentheses is
//! an [`ast::Expr::Paren`] here. Layout is looser than OpenFGA's only in
//! blanks (`or(a)` is read as `or (a)`), which changes no meaning.
//!
//! Errors recover per `define` line and per `type` block: a broken
//! definition becomes an [`ast::Member::Error`], so it yields one diagnostic.

use super::condition::condition;
use super::lexer::{lex, span, Tok, Token};
use super::{doc_above, MAX_DEPTH};
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Expr, Ident, Op, TypeRef};
use crate::syntax::Parsed;

/// Words that are keywords wherever a name could stand; OpenFGA's other
/// keywords (`model`, `type`, …) may name types and relations.
const NOT_NAMES: &[&str] = &[
    "and",
    "or",
    "from",
    "with",
    "define",
    "relations",
    "condition",
];

/// Schema versions this front end reads: 1.2 is 1.1 with module metadata.
const VERSIONS: &[&str] = &["1.1", "1.2"];

/// A problem that has been reported; the caller recovers.
struct Failed;

struct Parser<'a, 'src> {
    file: FileId,
    src: &'src str,
    toks: Vec<Token<'src>>,
    pos: usize,
    diags: &'a mut Vec<Diagnostic>,
    broken: Vec<&'src str>,
    /// The directly related types of the definition being read.
    direct: Option<(Vec<TypeRef<'src>>, Vec<Option<ast::Traits<'src>>>)>,
    /// The file's `module` name, when it is a module.
    module: Option<Ident<'src>>,
    /// The file starts with `module` (even one whose name did not parse).
    at_module_start: bool,
}

/// Parses one DSL file.
pub fn parse<'src>(file: FileId, src: &'src str, diags: &mut Vec<Diagnostic>) -> Parsed<'src> {
    let toks = lex(file, src, diags);
    let mut parser = Parser {
        file,
        src,
        toks,
        pos: 0,
        diags,
        broken: Vec::new(),
        direct: None,
        module: None,
        at_module_start: false,
    };
    let items = parser.file();
    Parsed {
        ast: ast::File {
            items,
            module: parser.module,
        },
        comments: Vec::new(),
        broken_names: parser.broken,
    }
}

impl<'src> Parser<'_, 'src> {
    fn peek(&self) -> Option<Token<'src>> {
        self.toks.get(self.pos).copied()
    }

    fn peek_tok(&self) -> Option<Tok<'src>> {
        self.peek().map(|t| t.tok)
    }

    fn bump(&mut self) -> Option<Token<'src>> {
        let token = self.peek();
        self.pos += 1;
        token
    }

    fn at_word(&self, word: &str) -> bool {
        self.peek_tok() == Some(Tok::Word(word))
    }

    fn skip_newlines(&mut self) {
        while self.peek_tok() == Some(Tok::Newline) {
            self.pos += 1;
        }
    }

    /// The end of the last token read, for spans.
    fn last_end(&self) -> u32 {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.span.end)
    }

    fn eof_span(&self) -> Span {
        span(self.file, self.src.len(), self.src.len())
    }

    /// Reports that `expected` was expected at the next token (nothing
    /// when that token is a bad character, which the lexer reported).
    fn expected(&mut self, expected: &str) -> Failed {
        let (found, at) = match self.peek() {
            Some(Token { tok: Tok::Bad, .. }) => return Failed,
            Some(t) => (t.tok.describe(), t.span),
            None => ("the end of the file".to_owned(), self.eof_span()),
        };
        self.diags.push(Diagnostic::new(
            codes::E0601,
            format!("expected {expected}, found {found}"),
            Label::new(at, format!("expected {expected}")),
        ));
        Failed
    }

    fn expect(&mut self, tok: Tok<'src>, expected: &str) -> Result<Token<'src>, Failed> {
        match self.peek() {
            Some(t) if t.tok == tok => {
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.expected(expected)),
        }
    }

    fn expect_line_end(&mut self, expected: &str) -> Result<(), Failed> {
        match self.peek_tok() {
            None => Ok(()),
            Some(Tok::Newline) => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.expected(expected)),
        }
    }

    /// Skips to the next line that starts with one of `stops` (or a
    /// `condition` block), returning the end of the last token skipped.
    fn recover(&mut self, stops: &[&str]) -> u32 {
        let mut end = self.last_end();
        let line_start =
            self.pos == 0 || self.toks.get(self.pos - 1).map(|t| t.tok) == Some(Tok::Newline);
        if let Some(Tok::Word(w)) = self.peek_tok().filter(|_| line_start) {
            if stops.contains(&w) {
                return end;
            }
        }
        while let Some(t) = self.peek() {
            if t.tok == Tok::Newline {
                let next = self.toks.get(self.pos + 1).map(|t| t.tok);
                let stop = match next {
                    Some(Tok::Word(w)) => stops.contains(&w),
                    Some(Tok::Condition(_)) | None => true,
                    _ => false,
                };
                if stop {
                    self.pos += 1;
                    return end;
                }
            } else {
                end = t.span.end;
            }
            self.pos += 1;
        }
        end
    }

    /// A type or relation name (kept verbatim).
    fn name(&mut self, what: &str) -> Result<Ident<'src>, Failed> {
        match self.peek() {
            Some(Token {
                tok: Tok::Word(w),
                span,
            }) if !NOT_NAMES.contains(&w)
                && w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') =>
            {
                self.pos += 1;
                Ok(Ident::verbatim(w, span))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn file(&mut self) -> Vec<ast::Item<'src>> {
        self.skip_newlines();
        let mut items = Vec::new();
        if self.at_word("module") {
            self.module = self.module_header();
            if self.module.is_none() {
                let start = self.peek().map_or(0, |t| t.span.start);
                let end = self.recover(&["type", "extend"]);
                items.push(ast::Item::Error(Span::new(
                    self.file,
                    start,
                    end.max(start),
                )));
            }
        } else if self.header().is_err() {
            let start = self.peek().map_or(0, |t| t.span.start);
            let end = self.recover(&["type", "extend"]);
            items.push(ast::Item::Error(Span::new(
                self.file,
                start,
                end.max(start),
            )));
        }
        let in_module = self.at_module_start || self.module.is_some();
        loop {
            self.skip_newlines();
            let Some(t) = self.peek() else { break };
            match t.tok {
                Tok::Word("type") => items.push(self.type_def(false)),
                Tok::Word("extend") if in_module => {
                    self.pos += 1;
                    if self.at_word("type") {
                        items.push(self.type_def(true));
                    } else {
                        let _ = self.expected("`type` after `extend`");
                        let end = self.recover(&["type", "extend"]);
                        items.push(ast::Item::Error(Span::new(self.file, t.span.start, end)));
                    }
                }
                Tok::Word("extend") => {
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0601,
                            "`extend` can only be used in a modular model",
                            Label::new(t.span, "this file is a whole model, not a module"),
                        )
                        .with_help("define the relations in the type's own `type` block"),
                    );
                    self.pos += 1;
                    if self.at_word("type") {
                        items.push(self.type_def(false));
                    } else {
                        self.recover(&["type", "extend"]);
                    }
                }
                Tok::Condition(name) => {
                    self.pos += 1;
                    let doc = doc_above(self.src, t.span.start);
                    match condition(self.file, self.src, t.span, name, doc, self.diags) {
                        Some(c) => items.push(ast::Item::Condition(c)),
                        None => {
                            self.broken
                                .push(self.src.get(name.range()).unwrap_or_default());
                            items.push(ast::Item::Error(t.span));
                        }
                    }
                }
                Tok::Word("module") => {
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0651,
                            "`module` can only start a file",
                            Label::new(t.span, "a module header after the start of the file"),
                        )
                        .with_note(
                            "each module of a modular model is its own file, listed in `fga.mod`",
                        )
                        .with_help(
                            "move this module to a file of its own and list it in `fga.mod`",
                        ),
                    );
                    let end = self.recover(&["type", "extend"]);
                    items.push(ast::Item::Error(Span::new(self.file, t.span.start, end)));
                }
                _ => {
                    let _ = self.expected("`type` or `condition`");
                    let end = self.recover(&["type", "extend"]);
                    items.push(ast::Item::Error(Span::new(self.file, t.span.start, end)));
                }
            }
        }
        items
    }

    /// `module NAME`: the file is one module of a modular model (`fga.mod`).
    fn module_header(&mut self) -> Option<Ident<'src>> {
        self.at_module_start = true;
        self.pos += 1;
        let name = self.name("a module name after `module`").ok()?;
        self.expect_line_end("the end of the line after the module name")
            .ok()?;
        Some(name)
    }

    /// `model` / `schema 1.1`.
    fn header(&mut self) -> Result<(), Failed> {
        if !self.at_word("model") {
            let failed =
                self.expected("`model` (an OpenFGA model starts with `model` and `schema 1.1`)");
            return Err(failed);
        }
        self.pos += 1;
        self.skip_newlines();
        if !self.at_word("schema") {
            return Err(self.expected("`schema` after `model`"));
        }
        self.pos += 1;
        match self.peek() {
            Some(Token {
                tok: Tok::Word(version),
                span,
            }) if is_version(version) => {
                self.pos += 1;
                if !VERSIONS.contains(&version) {
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0650,
                            format!("OpenFGA schema `{version}` is not supported"),
                            Label::new(span, "zanzi reads schema 1.1"),
                        )
                        .with_help(
                            "write the model in schema 1.1 (`define viewer: [user] or editor`); \
                             the `fga` CLI and the OpenFGA playground convert 1.0 models",
                        ),
                    );
                }
            }
            _ => return Err(self.expected("a schema version such as `1.1`")),
        }
        self.expect_line_end("the end of the line after the schema version")
    }

    /// `type NAME` with its `relations` block (`extend type NAME` in a
    /// module, with `extends`).
    fn type_def(&mut self, extends: bool) -> ast::Item<'src> {
        let keyword = self.bump().map_or(self.eof_span(), |t| t.span);
        let doc = doc_above(self.src, keyword.start);
        let name = match self.name("a type name") {
            Ok(name) => name,
            Err(Failed) => {
                let end = self.recover(&["type", "extend"]);
                return ast::Item::Error(Span::new(self.file, keyword.start, end));
            }
        };
        if self
            .expect_line_end("the end of the line after the type name")
            .is_err()
        {
            self.broken.push(name.text);
            let end = self.recover(&["type", "extend"]);
            return ast::Item::Error(Span::new(self.file, keyword.start, end));
        }
        let mut members = Vec::new();
        self.skip_newlines();
        if self.at_word("relations") {
            let relations = self.bump().map_or(self.eof_span(), |t| t.span);
            if self
                .expect_line_end("the end of the line after `relations`")
                .is_err()
            {
                self.recover(&["define", "type", "extend"]);
            }
            self.skip_newlines();
            if !self.at_word("define") {
                self.diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        "`relations` must be followed by at least one `define`",
                        Label::new(relations, "no relation is defined here"),
                    )
                    .with_help("remove the `relations` line, or define a relation under it"),
                );
            }
        } else if let Some(t) = self.peek().filter(|t| t.tok == Tok::Word("define")) {
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    "expected `relations` before the first `define`",
                    Label::new(t.span, "`define` needs a `relations` line above it"),
                )
                .with_help(format!(
                    "add a line `  relations` after `type {}`",
                    name.text
                )),
            );
        }
        loop {
            self.skip_newlines();
            if !self.at_word("define") {
                break;
            }
            members.push(self.relation());
        }
        let end = members.last().map_or(name.span, ast::Member::span);
        ast::Item::Namespace(ast::Namespace {
            doc,
            name,
            members,
            extends,
            span: keyword.to(end),
        })
    }

    /// `define NAME: EXPR` up to the end of its line.
    fn relation(&mut self) -> ast::Member<'src> {
        let keyword = self.bump().map_or(self.eof_span(), |t| t.span);
        let doc = doc_above(self.src, keyword.start);
        self.direct = None;
        let mut name = None;
        let parsed: Result<_, Failed> = (|| {
            let n = self.name("a relation name")?;
            name = Some(n);
            self.expect(Tok::Colon, "`:` after the relation name")?;
            let expr = self.expr(true, 0)?;
            self.expect_line_end("the end of the definition")?;
            Ok((n, expr))
        })();
        let Ok((name, expr)) = parsed else {
            if let Some(name) = name {
                self.broken.push(name.text);
            }
            let end = self.recover(&["define", "type", "extend", "relations"]);
            return ast::Member::Error(Span::new(self.file, keyword.start, end.max(keyword.end)));
        };
        let span = keyword.to(expr.span());
        match (self.direct.take(), expr) {
            (Some((types, traits)), Expr::This(_)) => ast::Member::Relation(ast::Relation {
                doc,
                name,
                types,
                traits,
                rewrite: None,
                span,
            }),
            (Some((types, traits)), expr) => ast::Member::Relation(ast::Relation {
                doc,
                name,
                types,
                traits,
                rewrite: Some(expr),
                span,
            }),
            (None, expr) => ast::Member::Permission(ast::Permission {
                doc,
                name,
                expr,
                span,
            }),
        }
    }

    /// One group: operands joined by one kind of operator.
    fn expr(&mut self, allow_direct: bool, depth: usize) -> Result<Expr<'src>, Failed> {
        let head = self.operand(allow_direct, depth)?;
        let mut rest: Vec<(Op, Span, Expr<'src>)> = Vec::new();
        while let Some(t) = self.peek() {
            let op = match t.tok {
                Tok::Word("or") => Op::Union,
                Tok::Word("and") => Op::Intersection,
                Tok::ButNot => Op::Exclusion,
                _ => break,
            };
            if let Some((first, first_span, _)) = rest.first() {
                if *first != op || op == Op::Exclusion {
                    let (first, first_span) = (*first, *first_span);
                    return Err(self.mixed(&head, first, first_span, op, t.span));
                }
            }
            self.pos += 1;
            let operand = self.operand(false, depth)?;
            rest.push((op, t.span, operand));
        }
        let Some(last) = rest.last().map(|(_, _, e)| e.span()) else {
            return Ok(head);
        };
        let span = head.span().to(last);
        Ok(Expr::Chain {
            head: Box::new(head),
            rest,
            span,
        })
    }

    /// OpenFGA's grammar allows one kind of operator per group, and one `but not`.
    fn mixed(
        &mut self,
        head: &Expr<'src>,
        first: Op,
        first_span: Span,
        op: Op,
        at: Span,
    ) -> Failed {
        let word = |op: Op| match op {
            Op::Union => "or",
            Op::Intersection => "and",
            Op::Exclusion => "but not",
        };
        let left = self
            .src
            .get(head.span().range().start..at.range().start)
            .unwrap_or_default()
            .trim_end();
        let line_rest = self
            .src
            .get(at.range().end..)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default();
        let right = line_rest.split(" #").next().unwrap_or_default().trim();
        let message = if first == op {
            "`but not` cannot follow `but not` without parentheses".to_owned()
        } else {
            format!(
                "`{}` and `{}` cannot be mixed without parentheses",
                word(first),
                word(op)
            )
        };
        self.diags.push(
            Diagnostic::new(
                codes::E0601,
                message,
                Label::new(at, "OpenFGA reads one kind of operator per group"),
            )
            .with_secondary(first_span, "the group's operator")
            .with_help(format!(
                "say which applies first with parentheses, e.g. `({left}) {} {right}`",
                word(op)
            )),
        );
        Failed
    }

    /// A name, `x from y`, `[types]` (first only) or a parenthesised group.
    fn operand(&mut self, allow_direct: bool, depth: usize) -> Result<Expr<'src>, Failed> {
        let Some(t) = self.peek() else {
            return Err(self.expected("a relation name, `[` or `(`"));
        };
        match t.tok {
            Tok::LBracket if allow_direct && self.direct.is_none() => self.direct_types(),
            Tok::LBracket => {
                self.diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        "the directly related types `[…]` can only start a definition",
                        Label::new(t.span, "not allowed here"),
                    )
                    .with_help(
                        "move the `[…]` list to the front: `define viewer: [user] or editor`",
                    ),
                );
                Err(Failed)
            }
            Tok::LParen => {
                if depth >= MAX_DEPTH {
                    self.diags.push(Diagnostic::new(
                        codes::E0601,
                        format!("parentheses are nested more than {MAX_DEPTH} deep"),
                        Label::new(t.span, "too deep"),
                    ));
                    return Err(Failed);
                }
                self.pos += 1;
                let inner = self.expr(allow_direct, depth + 1)?;
                let close =
                    self.expect(Tok::RParen, "`)` or an operator (`or`, `and`, `but not`)")?;
                Ok(Expr::Paren(Box::new(inner), t.span.to(close.span)))
            }
            _ => {
                let target = self.name("a relation name, `[` or `(`")?;
                if !self.at_word("from") {
                    return Ok(Expr::Name(target));
                }
                self.pos += 1;
                let tupleset = self.name("a relation name after `from`")?;
                Ok(Expr::Arrow {
                    tupleset,
                    form: ast::ArrowForm::Arrow,
                    target,
                    span: target.span.to(tupleset.span),
                })
            }
        }
    }

    /// `[user, user:*, group#member, user with cond]`, read as `this`.
    fn direct_types(&mut self) -> Result<Expr<'src>, Failed> {
        let open = self.bump().map_or(self.eof_span(), |t| t.span);
        let mut types: Vec<TypeRef<'src>> = Vec::new();
        let mut traits: Vec<Option<ast::Traits<'src>>> = Vec::new();
        loop {
            self.skip_newlines();
            let ty = self.name("a type")?;
            let type_ref = match self.peek_tok() {
                Some(Tok::Colon) => {
                    self.pos += 1;
                    let star = self.expect(Tok::Star, "`*` after `:` (a wildcard is `type:*`)")?;
                    TypeRef::Wildcard(ty, ty.span.to(star.span))
                }
                Some(Tok::Hash) => {
                    self.pos += 1;
                    TypeRef::SubjectSet(ty, self.name("a relation name after `#`")?)
                }
                _ => TypeRef::Object(ty),
            };
            let mut with_traits = None;
            if let Some(with) = self.peek().filter(|t| t.tok == Tok::Word("with")) {
                self.pos += 1;
                let condition = self.name("a condition name after `with`")?;
                with_traits = Some(ast::Traits {
                    condition: Some(condition),
                    expiration: None,
                    span: with.span.to(condition.span),
                });
            }
            types.push(type_ref);
            traits.push(with_traits);
            self.skip_newlines();
            match self.peek_tok() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::RBracket) => break,
                // A line that starts a new definition: the list was left open.
                None | Some(Tok::Condition(_)) => return Err(self.unclosed(open)),
                Some(Tok::Word("define" | "type" | "extend" | "relations")) => {
                    return Err(self.unclosed(open))
                }
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
        let close = self.bump().map_or(self.eof_span(), |t| t.span);
        if traits.iter().all(Option::is_none) {
            traits.clear();
        }
        self.direct = Some((types, traits));
        Ok(Expr::This(open.to(close)))
    }
}

impl Parser<'_, '_> {
    fn unclosed(&mut self, open: Span) -> Failed {
        self.diags.push(
            Diagnostic::new(
                codes::E0601,
                "`[` is not closed",
                Label::new(open, "this list of types has no `]`"),
            )
            .with_help("end the list with `]`"),
        );
        Failed
    }
}

/// `1.1`: digits, a dot, digits.
fn is_version(word: &str) -> bool {
    word.split_once('.').is_some_and(|(major, minor)| {
        [major, minor]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    })
}
