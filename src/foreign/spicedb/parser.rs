//! Recursive descent over SpiceDB's tokens, following SpiceDB's own parser
//! (`pkg/schemadsl/parser/parser.go`) rule by rule, into zanzi's tree.
//!
//! Every error is reported once and the parser resumes at the next member
//! (`relation`, `permission`, `}`, a statement end) or the next definition;
//! what could not be read becomes an `Error` node and its name a broken
//! name, so that analysis stays silent about it.

use super::expr;
use super::lexer::{Tok, Token};
use crate::diagnostics::{codes, Applicability, Diagnostic, Edit, Label};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Ident, TypeRef};
use crate::syntax::Comment;

/// A problem already reported; the caller recovers.
pub(super) struct Reported;

pub(super) type PResult<T> = Result<T, Reported>;

/// The `use` flags SpiceDB's lexer turns on.
#[derive(Default)]
pub(super) struct Flags {
    /// `use self`: `self` is a keyword.
    pub(super) self_keyword: bool,
    /// `use expiration`: `with expiration` is allowed.
    pub(super) expiration: bool,
}

pub(super) struct Parser<'a, 'src> {
    pub(super) file: FileId,
    pub(super) src: &'src str,
    pub(super) toks: &'a [Tok<'src>],
    comments: &'a [Comment<'src>],
    pos: usize,
    pub(super) diags: &'a mut Vec<Diagnostic>,
    pub(super) broken: Vec<&'src str>,
    pub(super) flags: Flags,
    seen_definition: bool,
    /// `partial name { … }` blocks, inlined where `...name` appears.
    pub(super) partials: super::partials::Partials<'src>,
}

impl<'a, 'src> Parser<'a, 'src> {
    pub(super) fn new(
        file: FileId,
        src: &'src str,
        toks: &'a [Tok<'src>],
        comments: &'a [Comment<'src>],
        diags: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Parser {
            file,
            src,
            toks,
            comments,
            pos: 0,
            diags,
            broken: Vec::new(),
            flags: Flags::default(),
            seen_definition: false,
            partials: super::partials::Partials::default(),
        }
    }

    // ----- token access -----

    pub(super) fn peek(&self) -> Option<Token<'src>> {
        self.toks.get(self.pos).map(|t| t.token)
    }

    pub(super) fn peek_span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or_else(|| self.eof(), |t| t.span)
    }

    /// Where the file ends, trailing blank lines aside.
    fn eof(&self) -> Span {
        let end = crate::source::offset(self.src.trim_end().len());
        Span::new(self.file, end, end)
    }

    /// The end of the last token taken, for spans.
    pub(super) fn prev_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or_else(|| self.eof(), |t| t.span)
    }

    pub(super) fn bump(&mut self) -> Span {
        let span = self.peek_span();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        span
    }

    pub(super) fn at(&self, token: Token<'_>) -> bool {
        self.peek() == Some(token)
    }

    fn at_name(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(name)) if name == word)
    }

    pub(super) fn eat(&mut self, token: Token<'_>) -> Option<Span> {
        self.at(token).then(|| self.bump())
    }

    pub(super) fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "end of file".to_owned(), |t| t.describe())
    }

    fn text(&self, span: Span) -> &'src str {
        self.src.get(span.range()).unwrap_or("")
    }

    /// Reports "expected X, found Y" at the current token, or at the end
    /// of the previous line when the current token starts another line
    /// (`viewer +` then a new member: the `+` lacks its operand).
    pub(super) fn expected(&mut self, what: &str, context: &str) -> Reported {
        let message = format!("expected {what} {context}, found {}", self.found());
        let mut span = self.peek_span();
        if self.pos > 0 {
            let prev_end = self.prev_span().end;
            let between = self.src.get(prev_end as usize..span.start as usize);
            if between.is_some_and(|b| b.contains(['\n', '\r'])) {
                span = Span::new(self.file, prev_end, prev_end);
            }
        }
        self.diags.push(Diagnostic::new(
            codes::E0601,
            message,
            Label::new(span, format!("expected {what}")),
        ));
        Reported
    }

    /// Gives the error just reported a fix: `mark` written after `name`.
    fn insert_after(&mut self, name: Ident<'_>, mark: &str, reported: Reported) -> Reported {
        let at = Span::new(self.file, name.span.end, name.span.end);
        if let Some(last) = self.diags.last_mut() {
            let help = format!("write `{}{mark}`", name.text);
            let edit = Edit::new(at, mark, Applicability::MachineApplicable);
            *last = last.clone().with_fix(help, edit);
        }
        reported
    }

    pub(super) fn expect(&mut self, token: Token<'_>, context: &str) -> PResult<Span> {
        match self.eat(token) {
            Some(span) => Ok(span),
            None => Err(self.expected(&token.describe(), context)),
        }
    }

    pub(super) fn name(&mut self, what: &str, context: &str) -> PResult<Ident<'src>> {
        match self.peek() {
            Some(Token::Name(name)) => Ok(Ident::verbatim(name, self.bump())),
            _ => Err(self.expected(what, context)),
        }
    }

    /// Skips to where the next statement can start, without taking it.
    fn recover_member(&mut self) {
        while let Some(token) = self.peek() {
            match token {
                Token::End
                | Token::Semicolon
                | Token::RBrace
                | Token::Relation
                | Token::Permission
                | Token::Definition
                | Token::Caveat
                | Token::Ellipsis => return,
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// Skips a `{ … }` block with its nested blocks, the opening brace
    /// being the current token. `false` when the file ended first.
    fn skip_block(&mut self) -> bool {
        let mut depth = 0usize;
        while let Some(token) = self.peek() {
            self.bump();
            match token {
                Token::LBrace => depth += 1,
                Token::RBrace => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// The doc lines of `/** … */` and `///` comments between the previous
    /// token and the current one.
    fn docs(&self) -> Vec<&'src str> {
        let start = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(0, |t| t.span.end);
        let end = self.peek_span().start;
        let first = self.comments.partition_point(|c| c.span.start < start);
        let mut lines = Vec::new();
        for comment in self.comments.get(first..).unwrap_or_default() {
            if comment.span.start >= end {
                break;
            }
            if comment.doc {
                lines.extend(doc_lines(comment.text));
            }
        }
        lines
    }

    // ----- the file -----

    pub(super) fn file(&mut self) -> ast::File<'src> {
        let mut items = Vec::new();
        loop {
            while self.eat(Token::End).is_some() || self.eat(Token::Semicolon).is_some() {}
            match self.peek() {
                None => break,
                Some(Token::Name("use")) => self.use_flag(),
                Some(Token::Definition) => {
                    self.seen_definition = true;
                    items.push(self.definition());
                }
                Some(Token::Caveat) => {
                    self.seen_definition = true;
                    items.push(self.caveat());
                }
                Some(Token::Name("import")) => self.import(),
                Some(Token::Name("partial")) => self.partial(),
                Some(_) => {
                    let start = self.peek_span();
                    self.expected(
                        "`definition`, `caveat` or `use`",
                        "at the top level of the schema",
                    );
                    self.bump();
                    while !matches!(
                        self.peek(),
                        None | Some(Token::Definition | Token::Caveat | Token::Name("use"))
                    ) {
                        self.bump();
                    }
                    items.push(ast::Item::Error(start.to(self.prev_span())));
                }
            }
        }
        ast::File {
            items,
            module: None,
        }
    }

    /// `use expiration`, `use self`, …: SpiceDB's language switches.
    fn use_flag(&mut self) {
        let start = self.bump();
        let flag = match self.peek() {
            Some(Token::Name(name)) => name,
            Some(Token::With) => "with",
            Some(Token::Nil) => "nil",
            _ => {
                self.expected("a flag name", "after `use`");
                self.recover_member();
                return;
            }
        };
        let flag_span = self.bump();
        let span = start.to(flag_span);
        match flag {
            "expiration" => self.flags.expiration = true,
            "self" => self.flags.self_keyword = true,
            // Permission type annotations only check; partials are inlined.
            "typechecking" | "partial" | "import" => {}
            other => {
                self.diags.push(
                    Diagnostic::new(
                        codes::E0601,
                        format!("unknown use flag `{other}`"),
                        Label::new(flag_span, "SpiceDB has no such flag"),
                    )
                    .with_note("the flags are expiration, import, partial, self and typechecking"),
                );
                return;
            }
        }
        if self.seen_definition {
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    "`use` must come before any definition",
                    Label::new(span, "after a definition or caveat"),
                )
                .with_help("move it to the top of the file"),
            );
        }
    }

    /// `import "file.zed"`.
    fn import(&mut self) {
        let start = self.bump();
        let end = match self.peek() {
            Some(Token::Str(_)) => self.bump(),
            _ => {
                self.expected("a quoted file path", "after `import`");
                self.recover_member();
                return;
            }
        };
        self.diags.push(
            Diagnostic::new(
                codes::E0602,
                "`import` is not supported yet",
                Label::new(start.to(end), "imports another schema file"),
            )
            .with_help("give zanzi the directory that holds every file of the schema"),
        );
    }

    /// `caveat name(p type, …) { cel }`: a zanzi condition. The body is
    /// kept as written (zanzi checks it as CEL); SpiceDB's parameter types
    /// are zanzi's.
    fn caveat(&mut self) -> ast::Item<'src> {
        let doc = self.docs();
        let start = self.bump();
        let mut name = None;
        match self.caveat_rest(doc, start, &mut name) {
            Ok(item) => item,
            Err(Reported) => self.broken_definition(start, name),
        }
    }

    fn caveat_rest(
        &mut self,
        doc: Vec<&'src str>,
        start: Span,
        name_out: &mut Option<Ident<'src>>,
    ) -> PResult<ast::Item<'src>> {
        let name = self.type_path("a caveat name", "after `caveat`")?;
        *name_out = Some(name);
        self.expect(Token::LParen, &format!("after caveat name `{}`", name.text))?;
        let mut params = Vec::new();
        loop {
            self.skip_ends();
            if self.eat(Token::RParen).is_some() {
                break;
            }
            let param = self.name("a parameter name", "in the caveat's parameters")?;
            let ty = self.caveat_type()?;
            params.push(ast::Param { name: param, ty });
            self.skip_ends();
            if self.eat(Token::Comma).is_none() {
                self.skip_ends();
                self.expect(Token::RParen, "after the caveat's parameters")?;
                break;
            }
        }
        self.skip_ends();
        if !self.at(Token::LBrace) {
            return Err(self.expected("`{`", "to open the caveat's body"));
        }
        let open = self.peek_span();
        if !self.skip_block() {
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    "expected `}` to close the caveat, found end of file",
                    Label::new(self.eof(), "the file ends here"),
                )
                .with_secondary(open, "the caveat's body opens here"),
            );
            self.broken.push(name.text);
            return Ok(ast::Item::Error(start.to(self.prev_span())));
        }
        let close = self.prev_span();
        let body_span = Span::new(self.file, open.end, close.start);
        Ok(ast::Item::Condition(ast::Condition {
            doc,
            name,
            params,
            body: self.text(body_span).into(),
            body_span,
            body_offsets: None,
            span: start.to(close),
        }))
    }

    /// A caveat parameter's type: `int`, `list<string>`, `map<list<int>>`.
    fn caveat_type(&mut self) -> PResult<ast::ParamType<'src>> {
        let name = self.name("a parameter type", "after the parameter name")?;
        if !self.at(Token::Cel("<")) {
            return Ok(ast::ParamType::Name(name));
        }
        self.bump();
        let arg = self.caveat_type()?;
        if !self.at(Token::Cel(">")) {
            return Err(self.expected("`>`", &format!("to close `{}<`", name.text)));
        }
        let close = self.bump();
        Ok(ast::ParamType::Generic {
            name,
            arg: Box::new(arg),
            span: name.span.to(close),
        })
    }

    fn skip_ends(&mut self) {
        while self.eat(Token::End).is_some() {}
    }

    /// `a` or `prefix/a`: one verbatim name, the whole path.
    pub(super) fn type_path(&mut self, what: &str, context: &str) -> PResult<Ident<'src>> {
        let first = self.name(what, context)?;
        let mut span = first.span;
        while self.at(Token::Slash) {
            self.bump();
            span = span.to(self.name("a name", "after `/`")?.span);
        }
        let text = self.text(span);
        if text.chars().any(char::is_whitespace) || text.contains("/*") {
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    format!("spaces inside the type name `{text}`"),
                    Label::new(span, "write the prefixed name in one piece"),
                )
                .with_help("remove the spaces around `/`"),
            );
            return Err(Reported);
        }
        Ok(Ident::verbatim(text, span))
    }

    /// `definition name { members }`.
    fn definition(&mut self) -> ast::Item<'src> {
        let doc = self.docs();
        let start = self.bump();
        let name = match self.type_path("a definition name", "after `definition`") {
            Ok(name) => name,
            Err(Reported) => return self.broken_definition(start, None),
        };
        if self
            .expect(Token::LBrace, "after the definition name")
            .is_err()
        {
            return self.broken_definition(start, Some(name));
        }
        let members = self.members(name, false);
        ast::Item::Namespace(ast::Namespace {
            doc,
            name,
            members,
            extends: false,
            span: start.to(self.prev_span()),
        })
    }

    /// Skips what is left of a definition whose head did not parse.
    fn broken_definition(&mut self, start: Span, name: Option<Ident<'src>>) -> ast::Item<'src> {
        if let Some(name) = name {
            self.broken.push(name.text);
        }
        while !matches!(
            self.peek(),
            None | Some(Token::LBrace | Token::Definition | Token::Caveat)
        ) {
            self.bump();
        }
        if self.at(Token::LBrace) {
            self.skip_block();
        }
        ast::Item::Error(start.to(self.prev_span()))
    }

    /// The members of a definition or partial, through its `}`.
    pub(super) fn members(&mut self, owner: Ident<'src>, partial: bool) -> Vec<ast::Member<'src>> {
        let kind = if partial { "partial" } else { "definition" };
        let mut members = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0601,
                            format!(
                                "expected `}}` to close {kind} `{}`, found end of file",
                                owner.text
                            ),
                            Label::new(self.eof(), "the file ends here"),
                        )
                        .with_secondary(owner.span, format!("the {kind} opens here"))
                        .with_help("add `}`"),
                    );
                    return members;
                }
                Some(Token::RBrace) => {
                    self.bump();
                    return members;
                }
                Some(Token::End | Token::Semicolon) => {
                    self.bump();
                }
                Some(Token::Definition | Token::Caveat) => {
                    self.diags.push(
                        Diagnostic::new(
                            codes::E0601,
                            format!(
                                "expected `}}` to close {kind} `{}`, found {}",
                                owner.text,
                                self.found()
                            ),
                            Label::new(self.peek_span(), "the next one starts here"),
                        )
                        .with_secondary(owner.span, format!("the {kind} opens here"))
                        .with_help("add `}` before it"),
                    );
                    return members;
                }
                Some(Token::Ellipsis) => {
                    let start = self.bump();
                    match self.name("a partial name", "after `...`") {
                        Ok(name) => {
                            members.push(self.partials.reference(name, start.to(name.span)));
                            self.end_of_statement(&mut members, "partial reference");
                        }
                        Err(Reported) => {
                            self.recover_member();
                            members.push(ast::Member::Error(start.to(self.prev_span())));
                        }
                    }
                }
                Some(Token::Relation | Token::Permission) => {
                    let relation = self.at(Token::Relation);
                    let start = self.peek_span();
                    let mut name = None;
                    let parsed = if relation {
                        self.relation(&mut name)
                    } else {
                        self.permission(&mut name)
                    };
                    match parsed {
                        Ok(member) => {
                            members.push(member);
                            let what = if relation { "relation" } else { "permission" };
                            self.end_of_statement(&mut members, what);
                        }
                        Err(Reported) => {
                            self.recover_member();
                            if let Some(name) = name {
                                self.broken.push(name);
                            }
                            members.push(ast::Member::Error(start.to(self.prev_span())));
                        }
                    }
                }
                Some(_) => {
                    let start = self.peek_span();
                    self.expected(
                        "`relation`, `permission` or `}`",
                        &format!("in {kind} `{}`", owner.text),
                    );
                    self.bump();
                    self.recover_member();
                    members.push(ast::Member::Error(start.to(self.prev_span())));
                }
            }
        }
    }

    /// After a member: a statement end (a newline, `;`), or the end of the
    /// file. SpiceDB refuses anything else, `}` included.
    fn end_of_statement(&mut self, members: &mut Vec<ast::Member<'src>>, what: &str) {
        match self.peek() {
            None | Some(Token::End | Token::Semicolon) => {}
            Some(token) => {
                let mut diag = Diagnostic::new(
                    codes::E0601,
                    format!(
                        "expected end of statement after the {what}, found {}",
                        self.found()
                    ),
                    Label::new(self.peek_span(), "expected a new line here"),
                );
                if token == Token::RBrace {
                    diag = diag.with_help("put `}` on a line of its own");
                    self.diags.push(diag);
                    return;
                }
                let after_ellipsis = self
                    .pos
                    .checked_sub(1)
                    .and_then(|i| self.toks.get(i))
                    .is_some_and(|t| t.token == Token::Ellipsis);
                if after_ellipsis {
                    // SpiceDB's lexer ends no statement at a newline after `...`.
                    diag = diag
                        .with_note("in SpiceDB a line ending in `...` does not end the statement")
                        .with_help("write the type without `#...`, or end the line with `;`");
                }
                self.diags.push(diag);
                // The member read so far may not be what was meant.
                if let Some(last) = members.pop() {
                    let name = match &last {
                        ast::Member::Relation(r) => Some(r.name.text),
                        ast::Member::Permission(p) => Some(p.name.text),
                        ast::Member::Error(_) => None,
                    };
                    self.broken.extend(name);
                    self.recover_member();
                    members.push(ast::Member::Error(last.span().to(self.prev_span())));
                }
            }
        }
    }

    /// `relation name: type | type …`.
    fn relation(&mut self, name_out: &mut Option<&'src str>) -> PResult<ast::Member<'src>> {
        let doc = self.docs();
        let start = self.bump();
        let name = self.name("a relation name", "after `relation`")?;
        *name_out = Some(name.text);
        self.expect(
            Token::Colon,
            &format!("after relation name `{}`", name.text),
        )
        .map_err(|r| self.insert_after(name, ":", r))?;
        let (first, first_traits) = self.type_ref("after `:`")?;
        let mut types = vec![first];
        let mut traits = vec![first_traits];
        while self.eat(Token::Pipe).is_some() {
            let (ty, with) = self.type_ref("after `|`")?;
            types.push(ty);
            traits.push(with);
        }
        if traits.iter().all(Option::is_none) {
            traits.clear();
        }
        Ok(ast::Member::Relation(ast::Relation {
            doc,
            name,
            types,
            traits,
            rewrite: None,
            span: start.to(self.prev_span()),
        }))
    }

    /// `ns`, `ns:*`, `ns#rel`, `ns#...`, each optionally `with …`.
    fn type_ref(&mut self, context: &str) -> PResult<(TypeRef<'src>, Option<ast::Traits<'src>>)> {
        let ns = self.type_path("a type", context)?;
        let type_ref = if self.eat(Token::Colon).is_some() {
            let star = self.expect(Token::Star, &format!("after `{}:`", ns.text))?;
            TypeRef::Wildcard(ns, ns.span.to(star))
        } else if self.eat(Token::Hash).is_some() {
            match self.peek() {
                Some(Token::Name(rel)) => {
                    TypeRef::SubjectSet(ns, Ident::verbatim(rel, self.bump()))
                }
                // `ns#...` is the object itself, as plain `ns` is.
                Some(Token::Ellipsis) => {
                    self.bump();
                    TypeRef::Object(ns)
                }
                _ => {
                    return Err(
                        self.expected("a relation name or `...`", &format!("after `{}#`", ns.text))
                    )
                }
            }
        } else {
            TypeRef::Object(ns)
        };
        let traits = if self.at(Token::With) {
            Some(self.with_clause()?)
        } else {
            None
        };
        Ok((type_ref, traits))
    }

    /// `with caveat`, `with expiration`, `with caveat and expiration`: the
    /// type's traits. SpiceDB allows `expiration` only after `use expiration`.
    fn with_clause(&mut self) -> PResult<ast::Traits<'src>> {
        let start = self.bump();
        let mut condition = None;
        let mut expiration = None;
        if self.at_name("expiration") {
            expiration = Some(self.bump());
        } else {
            condition = Some(self.type_path("a caveat name or `expiration`", "after `with`")?);
            if self.at_name("and") {
                self.bump();
                if !self.at_name("expiration") {
                    return Err(self.expected("`expiration`", "after `and`"));
                }
                expiration = Some(self.bump());
            }
        }
        if let Some(at) = expiration.filter(|_| !self.flags.expiration) {
            self.diags.push(
                Diagnostic::new(
                    codes::E0601,
                    "`with expiration` needs `use expiration`",
                    Label::new(at, "expiring relationships are not turned on"),
                )
                .with_help("add `use expiration` at the top of the schema, as SpiceDB requires"),
            );
        }
        Ok(ast::Traits {
            condition,
            expiration,
            span: start.to(self.prev_span()),
        })
    }

    /// `permission name = expr`, optionally `permission name: t | u = expr`.
    fn permission(&mut self, name_out: &mut Option<&'src str>) -> PResult<ast::Member<'src>> {
        let doc = self.docs();
        let start = self.bump();
        let name = self.name("a permission name", "after `permission`")?;
        *name_out = Some(name.text);
        // A type annotation (`use typechecking`) only checks: skipped.
        if self.eat(Token::Colon).is_some() {
            self.name("a type", "in the permission's type annotation")?;
            while self.eat(Token::Pipe).is_some() {
                self.name("a type", "after `|` in the type annotation")?;
            }
        }
        self.expect(Token::Eq, &format!("after permission name `{}`", name.text))
            .map_err(|r| self.insert_after(name, " =", r))?;
        let node = self.expression("after `=`")?;
        let expr = expr::lower(node, self.src, self.diags).ok_or(Reported)?;
        Ok(ast::Member::Permission(ast::Permission {
            doc,
            name,
            expr,
            span: start.to(self.prev_span()),
        }))
    }

    /// `partial name { members }`.
    fn partial(&mut self) {
        let start = self.bump();
        let name = match self.type_path("a partial name", "after `partial`") {
            Ok(name) => name,
            Err(Reported) => {
                self.broken_definition(start, None);
                return;
            }
        };
        if self
            .expect(Token::LBrace, "after the partial name")
            .is_err()
        {
            self.broken_definition(start, Some(name));
            return;
        }
        let members = self.members(name, true);
        self.partials.define(name, members, self.diags);
    }
}

/// The lines of a doc comment without its markers: `/**`, `*/`, a leading
/// `*` and one space, or `///` and one space; blank first and last lines
/// dropped.
fn doc_lines(text: &str) -> Vec<&str> {
    if let Some(line) = text.strip_prefix("///") {
        return vec![line.strip_prefix(' ').unwrap_or(line).trim_end()];
    }
    let inner = text
        .strip_prefix("/**")
        .and_then(|t| t.strip_suffix("*/"))
        .unwrap_or("");
    let mut lines: Vec<&str> = inner
        .lines()
        .map(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix('*').unwrap_or(line);
            line.strip_prefix(' ').unwrap_or(line).trim_end()
        })
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let leading = lines.iter().take_while(|l| l.is_empty()).count();
    lines.drain(..leading);
    lines
}

#[cfg(test)]
mod tests {
    use super::doc_lines;

    #[test]
    fn doc_lines_lose_their_markers() {
        assert_eq!(
            doc_lines("/**\n * user represents a user\n *   indented\n */"),
            vec!["user represents a user", "  indented"]
        );
        assert_eq!(doc_lines("/** one line */"), vec!["one line"]);
        assert_eq!(doc_lines("/// a doc  "), vec!["a doc"]);
    }
}
