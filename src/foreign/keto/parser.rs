//! Parsing OPL tokens: classes, `related` entries and `permits`, the subset of
//! TypeScript that Keto's own parser (`schema/parser.go`) accepts.
//!
//! Classes and relations go straight into zanzi's syntax tree; permission
//! bodies become an [`Expr`](super::expr::Expr) in Keto's terms, which [`super::lower`] turns
//! into zanzi's expressions. Recovery is per class, per `related` entry and
//! per permit: one mistake, one E0601, and the names declared in the broken
//! part are marked so that references to them are not reported again.

use super::expr::{BinOp, Expr};
use super::lexer::{Comment, Token};
use super::lower;
use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};
use crate::syntax::ast;

/// Parentheses and `!` nested deeper than this are refused, so that no later
/// stage can overflow its stack on hostile input.
const MAX_NESTING: usize = 64;

/// Operators in one permit: Keto's trees lean left, one level per operator,
/// and later stages walk them recursively.
const MAX_OPERATORS: usize = 1024;

/// A parse failure already reported.
struct Reported;

type PResult<T> = Result<T, Reported>;

pub struct Parser<'a, 'src> {
    file: FileId,
    src: &'src str,
    tokens: &'a [(Token<'src>, Span)],
    comments: &'a [Comment<'src>],
    pos: usize,
    diags: &'a mut Vec<Diagnostic>,
    pub broken_names: Vec<&'src str>,
    /// The end of the file has been reported as unexpected once (or the
    /// lexer reported why the file ends early): every enclosing block
    /// would report it again.
    eof_reported: bool,
    /// `&&` and `||` read in the current permit.
    operators: usize,
}

impl<'a, 'src> Parser<'a, 'src> {
    pub fn new(
        file: FileId,
        src: &'src str,
        tokens: &'a [(Token<'src>, Span)],
        comments: &'a [Comment<'src>],
        truncated: bool,
        diags: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Parser {
            file,
            src,
            tokens,
            comments,
            pos: 0,
            diags,
            broken_names: Vec::new(),
            eof_reported: truncated,
            operators: 0,
        }
    }

    // ---- Token access -------------------------------------------------

    fn peek(&self) -> Option<Token<'src>> {
        self.tokens.get(self.pos).map(|(t, _)| *t)
    }

    fn peek_at(&self, ahead: usize) -> Option<Token<'src>> {
        self.tokens.get(self.pos + ahead).map(|(t, _)| *t)
    }

    /// The span of the current token, or an empty span at the end of the file.
    fn here(&self) -> Span {
        match self.tokens.get(self.pos) {
            Some((_, span)) => *span,
            None => {
                let end = crate::source::offset(self.src.len());
                Span::new(self.file, end, end)
            }
        }
    }

    fn prev_end(&self) -> Span {
        match self.pos.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some((_, span)) => *span,
            None => Span::new(self.file, 0, 0),
        }
    }

    fn bump(&mut self) -> Span {
        let span = self.here();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        span
    }

    fn at(&self, token: Token<'_>) -> bool {
        self.peek().is_some_and(|t| same_kind(t, token))
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w == word)
    }

    fn eat(&mut self, token: Token<'_>) -> bool {
        let found = self.at(token);
        if found {
            self.bump();
        }
        found
    }

    /// Reports what was found where `expected` was.
    fn unexpected(&mut self, expected: &str) -> Reported {
        let found = match self.peek() {
            Some(token) => token.describe(),
            None if self.eof_reported => return Reported,
            None => {
                self.eof_reported = true;
                "end of file".to_owned()
            }
        };
        let span = self.here();
        self.diags.push(Diagnostic::new(
            codes::E0601,
            format!("expected {expected}, found {found}"),
            Label::new(span, format!("expected {expected}")),
        ));
        Reported
    }

    fn expect(&mut self, token: Token<'_>) -> PResult<Span> {
        if self.at(token) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&format!("`{}`", token.punctuation())))
        }
    }

    fn expect_word(&mut self, word: &str) -> PResult<Span> {
        if self.at_word(word) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(&format!("`{word}`")))
        }
    }

    /// An identifier, kept verbatim.
    fn ident(&mut self, what: &str) -> PResult<ast::Ident<'src>> {
        match self.peek() {
            Some(Token::Ident(text)) => Ok(ast::Ident::verbatim(text, self.bump())),
            _ => Err(self.unexpected(what)),
        }
    }

    /// An identifier or a string literal (the name is the text inside the quotes).
    fn name(&mut self, what: &str) -> PResult<ast::Ident<'src>> {
        match self.peek() {
            Some(Token::Str(text)) => {
                let span = self.bump();
                Ok(ast::Ident::verbatim(text, self.inside_quotes(span)))
            }
            _ => self.ident(what),
        }
    }

    fn inside_quotes(&self, span: Span) -> Span {
        Span::new(
            self.file,
            span.start.saturating_add(1).min(span.end),
            span.end.saturating_sub(1).max(span.start),
        )
    }

    /// The JSDoc of the item starting at the current token.
    fn doc(&self) -> Vec<&'src str> {
        self.comments
            .iter()
            .filter(|c| c.next_token == self.pos)
            .filter_map(Comment::doc_lines)
            .next_back()
            .unwrap_or_default()
    }

    /// Skips to a token at bracket depth 0 (relative to here) for which
    /// `stop` holds, never past a `}` that closes the enclosing block.
    fn recover(&mut self, stop: impl Fn(&Self) -> bool) {
        let mut depth = 0usize;
        while let Some(token) = self.peek() {
            if depth == 0 && (stop(self) || token == Token::RBrace) {
                return;
            }
            match token {
                Token::LBrace | Token::LParen | Token::LBracket => depth += 1,
                Token::RBrace | Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    // ---- Top level ----------------------------------------------------

    pub fn file(&mut self) -> ast::File<'src> {
        let mut items = Vec::new();
        while let Some(token) = self.peek() {
            match token {
                Token::Ident("class") => items.push(self.class()),
                Token::Ident("import") => self.import(),
                Token::Ident("export") | Token::Semicolon => {
                    self.bump();
                }
                _ => {
                    let start = self.here();
                    self.unexpected("`class` or `import`");
                    self.bump();
                    while self.peek().is_some() && !self.at_word("class") {
                        self.bump();
                    }
                    items.push(ast::Item::Error(start.to(self.prev_end())));
                }
            }
        }
        ast::File {
            items,
            module: None,
        }
    }

    /// `import … from "…"`: nothing zanzi needs; Keto skips it too.
    fn import(&mut self) {
        self.bump();
        while let Some(token) = self.peek() {
            if matches!(token, Token::Str(_)) {
                self.bump();
                self.eat(Token::Semicolon);
                return;
            }
            if token == Token::Ident("class") {
                return;
            }
            self.bump();
        }
    }

    /// `class NAME implements Namespace { … }`
    fn class(&mut self) -> ast::Item<'src> {
        let doc = self.doc();
        let start = self.bump();
        let name = match self.ident("the class name") {
            Ok(name) => name,
            Err(Reported) => {
                self.skip_class_rest();
                return ast::Item::Error(start.to(self.prev_end()));
            }
        };
        let header = self
            .expect_word("implements")
            .and_then(|_| self.expect_word("Namespace"))
            .and_then(|_| self.expect(Token::LBrace));
        let Ok(open) = header else {
            self.broken_names.push(name.text);
            self.skip_class_rest();
            return ast::Item::Error(start.to(self.prev_end()));
        };
        let mut members = Vec::new();
        loop {
            match self.peek() {
                None if self.eof_reported => break,
                None => {
                    self.eof_reported = true;
                    let at = self.here();
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0601,
                            format!(
                                "expected `}}` closing class `{}`, found end of file",
                                name.text
                            ),
                            Label::new(at, "the file ends inside the class"),
                        )
                        .with_secondary(open, "the class body opens here"),
                    );
                    break;
                }
                Some(Token::RBrace) => {
                    self.bump();
                    break;
                }
                Some(Token::Semicolon) => {
                    self.bump();
                }
                Some(Token::Ident("related")) => self.related(&mut members),
                Some(Token::Ident("permits")) => self.permits(&mut members),
                Some(Token::Ident("class")) => {
                    let at = self.here();
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0601,
                            format!("expected `}}` closing class `{}`, found `class`", name.text),
                            Label::new(at, "a new class starts before this one is closed"),
                        )
                        .with_secondary(open, "the class body opens here")
                        .with_help("add the missing `}`"),
                    );
                    break;
                }
                Some(_) => {
                    let from = self.here();
                    self.unexpected("`related`, `permits` or `}`");
                    self.bump();
                    self.recover(|p| {
                        p.at_word("related") || p.at_word("permits") || p.at_word("class")
                    });
                    members.push(ast::Member::Error(from.to(self.prev_end())));
                }
            }
        }
        ast::Item::Namespace(ast::Namespace {
            doc,
            name,
            members,
            extends: false,
            span: start.to(self.prev_end()),
        })
    }

    /// After a broken class header: past the body if it has one (its names
    /// are broken), else to the next class.
    fn skip_class_rest(&mut self) {
        while let Some(token) = self.peek() {
            match token {
                Token::Ident("class") => return,
                Token::LBrace => {
                    self.bump();
                    let mut depth = 1usize;
                    while let Some(token) = self.peek() {
                        match token {
                            Token::LBrace => depth += 1,
                            Token::RBrace => depth -= 1,
                            Token::Ident("class") if depth == 1 => return,
                            _ => {}
                        }
                        // A name followed by `:` declares a relation or permit.
                        let declares = self.peek_at(1) == Some(Token::Colon)
                            && !(token == Token::Ident("related")
                                && self.peek_at(2) == Some(Token::LBrace));
                        if let (Token::Ident(name) | Token::Str(name), true) = (token, declares) {
                            self.broken_names.push(name);
                        }
                        self.bump();
                        if depth == 0 {
                            return;
                        }
                    }
                    return;
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    // ---- related ------------------------------------------------------

    /// `related: { name: Type[]; … }`
    fn related(&mut self, members: &mut Vec<ast::Member<'src>>) {
        let start = self.bump();
        if self
            .expect(Token::Colon)
            .and_then(|_| self.expect(Token::LBrace))
            .is_err()
        {
            self.recover(|p| p.at_word("permits") || p.at_word("class"));
            members.push(ast::Member::Error(start.to(self.prev_end())));
            return;
        }
        loop {
            match self.peek() {
                None => {
                    self.unexpected("`}` closing `related`");
                    return;
                }
                Some(Token::RBrace) => {
                    self.bump();
                    return;
                }
                Some(Token::Semicolon | Token::Comma) => {
                    self.bump();
                }
                Some(Token::Ident("permits" | "class"))
                    if self.peek_at(1) != Some(Token::Colon) =>
                {
                    self.unexpected("`}` closing `related`");
                    return;
                }
                Some(_) => {
                    let from = self.here();
                    let doc = self.doc();
                    let name = match self.peek() {
                        Some(Token::Ident(text) | Token::Str(text)) => Some(text),
                        _ => None,
                    };
                    match self.relation(doc) {
                        Ok(relation) => members.push(ast::Member::Relation(relation)),
                        Err(Reported) => {
                            self.broken_names.extend(name);
                            self.recover(|p| {
                                (matches!(p.peek(), Some(Token::Ident(_) | Token::Str(_)))
                                    && p.peek_at(1) == Some(Token::Colon))
                                    || p.at_word("class")
                                    || (p.at_word("permits") && p.peek_at(1) == Some(Token::Assign))
                            });
                            members.push(ast::Member::Error(from.to(self.prev_end())));
                        }
                    }
                }
            }
        }
    }

    /// `name: User[]`, `name: (User | SubjectSet<Group, "members">)[]`,
    /// `name: Array<User | Group>`, `name: SubjectSet<Group, "members">[]`.
    fn relation(&mut self, doc: Vec<&'src str>) -> PResult<ast::Relation<'src>> {
        let name = self.name("a relation name")?;
        self.expect(Token::Colon)?;
        let mut types = Vec::new();
        if self.at_word("Array") {
            self.bump();
            self.expect(Token::Less)?;
            self.type_union(&mut types, Token::Greater)?;
        } else if self.eat(Token::LParen) {
            self.type_union(&mut types, Token::RParen)?;
            self.array_brackets()?;
        } else {
            types.push(self.type_ref()?);
            self.array_brackets()?;
        }
        Ok(ast::Relation {
            doc,
            name,
            types,
            traits: Vec::new(),
            rewrite: None,
            span: name.span.to(self.prev_end()),
        })
    }

    fn array_brackets(&mut self) -> PResult<()> {
        if !self.at(Token::LBracket) {
            // Said right after the type: what comes next is often the next entry.
            let after = self.prev_end();
            let at = Span::new(self.file, after.end, after.end);
            let found = self
                .peek()
                .map_or("end of file".to_owned(), |t| t.describe());
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    format!("expected `[]` after the type, found {found}"),
                    Label::new(at, "expected `[]`"),
                )
                .with_help("relation types are arrays: `User[]`, `(User | Group)[]`"),
            );
            return Err(Reported);
        }
        self.bump();
        self.expect(Token::RBracket)?;
        Ok(())
    }

    fn type_union(&mut self, types: &mut Vec<ast::TypeRef<'src>>, end: Token<'_>) -> PResult<()> {
        loop {
            types.push(self.type_ref()?);
            if self.eat(end) {
                return Ok(());
            }
            if !self.eat(Token::Pipe) {
                return Err(self.unexpected(&format!("`|` or `{}`", end.punctuation())));
            }
        }
    }

    /// `User` or `SubjectSet<Group, "members">`.
    fn type_ref(&mut self) -> PResult<ast::TypeRef<'src>> {
        if self.at_word("SubjectSet") && self.peek_at(1) == Some(Token::Less) {
            self.bump();
            self.bump();
            let ns = self.ident("a class name")?;
            self.expect(Token::Comma)?;
            let rel = self.name("a relation name in quotes")?;
            self.expect(Token::Greater)?;
            return Ok(ast::TypeRef::SubjectSet(ns, rel));
        }
        Ok(ast::TypeRef::Object(self.ident("a class name")?))
    }

    // ---- permits ------------------------------------------------------

    /// `permits = { name: (ctx: Context): boolean => EXPR, … }`
    fn permits(&mut self, members: &mut Vec<ast::Member<'src>>) {
        let start = self.bump();
        if self
            .expect(Token::Assign)
            .and_then(|_| self.expect(Token::LBrace))
            .is_err()
        {
            self.recover(|p| p.at_word("related") || p.at_word("class"));
            members.push(ast::Member::Error(start.to(self.prev_end())));
            return;
        }
        loop {
            match self.peek() {
                None => {
                    self.unexpected("`}` closing `permits`");
                    return;
                }
                Some(Token::RBrace) => {
                    self.bump();
                    return;
                }
                Some(Token::Comma | Token::Semicolon) => {
                    self.bump();
                }
                Some(_) => {
                    let from = self.here();
                    let doc = self.doc();
                    let name = match self.peek() {
                        Some(Token::Ident(text) | Token::Str(text)) => Some(text),
                        _ => None,
                    };
                    let permit = self.permit(doc).and_then(|permit| {
                        let end = self.at(Token::Comma)
                            || self.at(Token::RBrace)
                            || self.at_word("class");
                        if end || self.peek().is_none() {
                            Ok(permit)
                        } else {
                            Err(self.unexpected("`,` or `}` after the permission"))
                        }
                    });
                    match permit {
                        Ok(Some(permission)) => members.push(ast::Member::Permission(permission)),
                        Ok(None) => {
                            // Read, but with no zanzi meaning (reported by `lower`).
                            self.broken_names.extend(name);
                            members.push(ast::Member::Error(from.to(self.prev_end())));
                        }
                        Err(Reported) => {
                            self.broken_names.extend(name);
                            self.recover(|p| p.at(Token::Comma) || p.at_word("class"));
                            members.push(ast::Member::Error(from.to(self.prev_end())));
                        }
                    }
                }
            }
        }
    }

    /// One permit; `Ok(None)` when it parsed but has no zanzi meaning.
    fn permit(&mut self, doc: Vec<&'src str>) -> PResult<Option<ast::Permission<'src>>> {
        let name = self.name("a permission name")?;
        self.expect(Token::Colon)?;
        self.expect(Token::LParen)?;
        self.expect_word("ctx")?;
        if self.eat(Token::Colon) {
            self.expect_word("Context")?;
        }
        self.expect(Token::RParen)?;
        if self.eat(Token::Colon) {
            self.expect_word("boolean")?;
        }
        self.expect(Token::FatArrow)?;
        if self.at(Token::LBrace) {
            let span = self.here();
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    "expected a permission expression, found `{`",
                    Label::new(span, "a function body in braces"),
                )
                .with_help("Keto accepts only an expression after `=>`: `(ctx: Context): boolean => this.related.…`"),
            );
            return Err(Reported);
        }
        self.operators = 0;
        let expr = self.expr("this", 0)?;
        let Some(expr) = lower::permission(&expr, self.src, self.diags) else {
            return Ok(None);
        };
        Ok(Some(ast::Permission {
            doc,
            name,
            expr,
            span: name.span.to(self.prev_end()),
        }))
    }

    /// Operands joined by `&&` and `||`, left to right as Keto reads them.
    fn expr(&mut self, recv: &'src str, depth: usize) -> PResult<Expr<'src>> {
        let mut lhs = self.operand(recv, depth)?;
        loop {
            let op = match self.peek() {
                Some(Token::AndAnd) => BinOp::And,
                Some(Token::OrOr) => BinOp::Or,
                _ => return Ok(lhs),
            };
            let op_span = self.bump();
            self.operators += 1;
            if self.operators > MAX_OPERATORS {
                self.diags.push(Diagnostic::new(
                    codes::E0601,
                    format!("expression too long (at most {MAX_OPERATORS} `&&` and `||` in one permission)"),
                    Label::new(op_span, "one too many"),
                ));
                return Err(Reported);
            }
            let rhs = self.operand(recv, depth)?;
            let span = lhs.span().to(rhs.span());
            lhs = Expr::Binary {
                op,
                op_span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
    }

    fn nested(&mut self, depth: usize) -> PResult<usize> {
        if depth >= MAX_NESTING {
            let span = self.here();
            self.diags.push(Diagnostic::new(
                codes::E0601,
                format!(
                    "expression nested too deeply (at most {MAX_NESTING} levels of `(` and `!`)"
                ),
                Label::new(span, "too deep"),
            ));
            return Err(Reported);
        }
        Ok(depth + 1)
    }

    /// `( EXPR )`, `!OPERAND` or a term.
    fn operand(&mut self, recv: &'src str, depth: usize) -> PResult<Expr<'src>> {
        match self.peek() {
            Some(Token::LParen) => {
                let depth = self.nested(depth)?;
                let open = self.bump();
                let inner = self.expr(recv, depth)?;
                let close = self.expect(Token::RParen)?;
                Ok(Expr::Paren(Box::new(inner), open.to(close)))
            }
            Some(Token::Bang) => {
                let depth = self.nested(depth)?;
                let bang = self.bump();
                let inner = self.operand(recv, depth)?;
                let span = bang.to(inner.span());
                Ok(Expr::Not {
                    bang,
                    inner: Box::new(inner),
                    span,
                })
            }
            _ => self.term(recv, depth),
        }
    }

    /// `.name` or `["name"]`.
    fn property(&mut self, what: &str) -> PResult<ast::Ident<'src>> {
        if self.eat(Token::LBracket) {
            let name = match self.peek() {
                Some(Token::Str(_)) => self.name(what)?,
                _ => return Err(self.unexpected(&format!("{what} in quotes"))),
            };
            self.expect(Token::RBracket)?;
            return Ok(name);
        }
        self.expect(Token::Dot)?;
        self.name(what)
    }

    /// `RECV.related.R.includes(ctx.subject)`, `RECV.permits.P(ctx)` or
    /// `RECV.related.R.traverse((x) => …)`.
    fn term(&mut self, recv: &'src str, depth: usize) -> PResult<Expr<'src>> {
        let start = self.here();
        match self.peek() {
            Some(Token::Ident(word)) if word == recv => {
                self.bump();
            }
            _ => {
                let expected = if recv == "this" {
                    "`this.related` or `this.permits`".to_owned()
                } else {
                    format!(
                        "`{recv}.related` or `{recv}.permits` (`{recv}` is the traversed object)"
                    )
                };
                return Err(self.unexpected(&expected));
            }
        }
        self.expect(Token::Dot)?;
        match self.peek() {
            Some(Token::Ident("related")) => {
                self.bump();
                let rel = self.property("a relation name")?;
                self.expect(Token::Dot)?;
                match self.peek() {
                    Some(Token::Ident("includes")) => {
                        self.bump();
                        self.expect(Token::LParen)?;
                        self.expect_word("ctx")?;
                        self.expect(Token::Dot)?;
                        self.expect_word("subject")?;
                        self.eat(Token::Comma);
                        self.expect(Token::RParen)?;
                        Ok(Expr::Includes {
                            rel,
                            span: start.to(self.prev_end()),
                        })
                    }
                    Some(Token::Ident("traverse")) => {
                        self.bump();
                        let depth = self.nested(depth)?;
                        self.expect(Token::LParen)?;
                        let var = if self.eat(Token::LParen) {
                            let var = self.ident("the parameter name")?;
                            self.expect(Token::RParen)?;
                            var
                        } else {
                            self.ident("the parameter name")?
                        };
                        self.expect(Token::FatArrow)?;
                        let body = self.expr(var.text, depth)?;
                        self.eat(Token::Comma);
                        self.expect(Token::RParen)?;
                        Ok(Expr::Traverse {
                            rel,
                            body: Box::new(body),
                            span: start.to(self.prev_end()),
                        })
                    }
                    _ => Err(self.unexpected("`includes` or `traverse`")),
                }
            }
            Some(Token::Ident("permits")) => {
                self.bump();
                let perm = self.property("a permission name")?;
                self.expect(Token::LParen)?;
                self.expect_word("ctx")?;
                self.expect(Token::RParen)?;
                Ok(Expr::Permits {
                    perm,
                    span: start.to(self.prev_end()),
                })
            }
            _ => Err(self.unexpected("`related` or `permits`")),
        }
    }
}

/// Same variant, ignoring the text of identifiers and strings.
fn same_kind(a: Token<'_>, b: Token<'_>) -> bool {
    std::mem::discriminant(&a) == std::mem::discriminant(&b)
}
