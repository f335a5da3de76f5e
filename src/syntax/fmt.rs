//! The canonical formatter: one layout for every schema, every comment kept.
//!
//! Layout: two-space indentation, one blank line between namespaces, blank
//! lines between members kept (at most one), single spaces around operators,
//! arrows and parentheses as written. Comments are placed by position: a
//! comment on the same line after a member stays there; any other comment goes
//! on its own line before the next thing (comments inside an expression move
//! above it). Only files without syntax errors are formatted. A condition's
//! CEL expression keeps its text: it is re-indented (see [`cel_lines`]), and
//! stays on the condition's line when it was written on one line.

use super::ast::{
    ArrowForm, Condition, Expr, File, Ident, Item, Member, ParamType, Traits, TypeRef,
};
use super::Parsed;
use crate::source::Span;

/// Formats a parsed file. The caller checks there were no syntax errors.
pub fn format(parsed: &Parsed<'_>, src: &str) -> String {
    let mut f = Formatter {
        src,
        comments: &parsed.comments,
        next_comment: 0,
        out: String::new(),
        last_end: 0,
        docs_from_tree: false,
    };
    f.file(&parsed.ast);
    f.out
}

/// Formats a tree read from another language (`zanzi convert`): its doc
/// comments come from the tree, as `///` lines, and `src` is the foreign
/// text its spans point into (for the blank lines between members).
pub fn format_tree(parsed: &Parsed<'_>, src: &str) -> String {
    // Plain comments in zanzi's own forms are kept; doc comments come from
    // the tree, and comments in other forms (`#`) cannot be written as they are.
    let comments: Vec<_> = parsed
        .comments
        .iter()
        .filter(|c| {
            let text = c.text;
            (text.starts_with("//") && !text.starts_with("///"))
                || (text.starts_with("/*") && !text.starts_with("/**"))
        })
        .copied()
        .collect();
    let mut f = Formatter {
        src,
        comments: &comments,
        next_comment: 0,
        out: String::new(),
        last_end: 0,
        docs_from_tree: true,
    };
    f.file(&parsed.ast);
    f.out
}

/// Writes `name` bare when it can be, else between backticks.
pub fn write_name(out: &mut String, name: &str) {
    if super::is_plain_name(name) {
        out.push_str(name);
    } else {
        out.push('`');
        out.push_str(name);
        out.push('`');
    }
}

struct Formatter<'a, 'src> {
    src: &'a str,
    comments: &'a [super::Comment<'src>],
    next_comment: usize,
    out: String,
    /// Where the last thing written ended in the source.
    last_end: u32,
    /// Write each declaration's doc lines from the tree (the source is not zanzi's).
    docs_from_tree: bool,
}

impl Formatter<'_, '_> {
    fn file(&mut self, file: &File<'_>) {
        let mut first = true;
        for item in &file.items {
            // Items are always one blank line apart, whatever the source had.
            let ns = match item {
                Item::Namespace(ns) => ns,
                Item::Condition(c) => {
                    if !first {
                        self.out.push('\n');
                    }
                    first = false;
                    self.condition(c);
                    continue;
                }
                Item::Error(_) => continue,
            };
            if !first {
                self.out.push('\n');
            }
            first = false;
            self.leading_comments(ns.span.start, 0, false, true);
            self.docs(&ns.doc, 0);
            self.out.push_str("namespace ");
            self.name(ns.name);
            let body_end = ns.span.end.saturating_sub(1);
            let has_inner_comment = self
                .comments
                .get(self.next_comment)
                .is_some_and(|c| c.span.start < body_end);
            if ns.members.is_empty() && !has_inner_comment {
                self.out.push_str(" {}");
                self.last_end = ns.span.end;
                self.trailing_comment();
                self.out.push('\n');
                continue;
            }
            self.out.push_str(" {\n");
            // The header line counts as written, so a blank line after it is not kept.
            self.last_end = ns.name.span.end;
            let mut first_member = true;
            for member in &ns.members {
                let keep_blank = !first_member;
                first_member = false;
                self.leading_comments(member.span().start, 2, keep_blank, true);
                self.inner_comments(member.span(), 2);
                let doc = match member {
                    Member::Relation(r) => &r.doc[..],
                    Member::Permission(p) => &p.doc[..],
                    Member::Error(_) => &[],
                };
                self.docs(doc, 2);
                self.out.push_str("  ");
                self.member(member);
                self.last_end = member.span().end;
                self.trailing_comment();
                self.out.push('\n');
            }
            self.leading_comments(body_end, 2, !first_member, false);
            self.out.push('}');
            self.last_end = ns.span.end;
            self.trailing_comment();
            self.out.push('\n');
        }
        let end = u32::try_from(self.src.len()).unwrap_or(u32::MAX);
        self.leading_comments(end.saturating_add(1), 0, !first, false);
    }

    fn condition(&mut self, c: &Condition<'_>) {
        self.leading_comments(c.span.start, 0, false, true);
        self.inner_comments(Span::new(c.span.file, c.span.start, c.body_span.start), 0);
        self.docs(&c.doc, 0);
        self.out.push_str("condition ");
        self.name(c.name);
        self.out.push('(');
        for (i, param) in c.params.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.name(param.name);
            self.out.push_str(": ");
            self.param_type(&param.ty);
        }
        self.out.push_str(") {");
        let Some(lines) = cel_lines(&c.body) else {
            self.out.push_str(&c.body);
            self.out.push('}');
            self.last_end = c.span.end;
            self.trailing_comment();
            self.out.push('\n');
            return;
        };
        if c.body.contains('\n') {
            self.out.push('\n');
            for line in lines {
                if !line.is_empty() {
                    self.out.push_str("  ");
                }
                self.out.push_str(line);
                self.out.push('\n');
            }
        } else {
            for line in lines {
                self.out.push(' ');
                self.out.push_str(line);
            }
            self.out.push(' ');
        }
        self.out.push('}');
        self.last_end = c.span.end;
        self.trailing_comment();
        self.out.push('\n');
    }

    fn param_type(&mut self, ty: &ParamType<'_>) {
        match ty {
            ParamType::Name(name) => self.name(*name),
            ParamType::Generic { name, arg, .. } => {
                self.name(*name);
                self.out.push('<');
                self.param_type(arg);
                self.out.push('>');
            }
        }
    }

    fn traits(&mut self, traits: Traits<'_>) {
        self.out.push_str(" with ");
        if let Some(condition) = traits.condition {
            self.name(condition);
            if traits.expiration.is_some() {
                self.out.push_str(" and ");
            }
        }
        if traits.expiration.is_some() {
            self.out.push_str("expiration");
        }
    }

    /// Doc lines from the tree, when the source's own comments are not zanzi's.
    fn docs(&mut self, doc: &[&str], indent: usize) {
        if !self.docs_from_tree {
            return;
        }
        for line in doc {
            let line = line.trim_end();
            let text = if line.is_empty() {
                "///".to_owned()
            } else {
                format!("/// {line}")
            };
            self.comment_line(&text, indent);
        }
    }

    /// Writes the comments that start before `before`, each on its own line.
    /// `item_follows` is false before a closing `}` or the end of the file,
    /// where no blank line is kept.
    fn leading_comments(
        &mut self,
        before: u32,
        indent: usize,
        keep_blank: bool,
        item_follows: bool,
    ) {
        let mut keep_blank = keep_blank;
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start >= before {
                break;
            }
            if keep_blank && self.blank_line_between(self.last_end, comment.span.start) {
                self.out.push('\n');
            }
            keep_blank = true;
            self.comment_line(comment.text, indent);
            self.last_end = comment.span.end;
            self.next_comment += 1;
        }
        if item_follows && keep_blank && self.blank_line_between(self.last_end, before) {
            self.out.push('\n');
        }
    }

    /// Comments inside a member's span move above it. A `///` there
    /// documents nothing (W0001); it becomes a plain `//` comment, or it
    /// would start documenting the member.
    fn inner_comments(&mut self, span: Span, indent: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start >= span.end {
                break;
            }
            if comment.doc {
                let plain = format!("//{}", comment.text.trim_start_matches('/'));
                self.comment_line(&plain, indent);
            } else {
                self.comment_line(comment.text, indent);
            }
            self.next_comment += 1;
        }
    }

    /// A comment that starts on the line where the last thing ended stays there.
    fn trailing_comment(&mut self) {
        let Some(comment) = self.comments.get(self.next_comment) else {
            return;
        };
        let gap = self
            .src
            .get(self.last_end as usize..comment.span.start as usize)
            .unwrap_or("\n");
        if !gap.contains('\n') && !comment.text.contains('\n') {
            self.out.push(' ');
            self.out.push_str(comment.text.trim_end());
            self.last_end = comment.span.end;
            self.next_comment += 1;
        }
    }

    fn comment_line(&mut self, text: &str, indent: usize) {
        for _ in 0..indent {
            self.out.push(' ');
        }
        self.out.push_str(text.trim_end());
        self.out.push('\n');
    }

    fn blank_line_between(&self, from: u32, to: u32) -> bool {
        let gap = self
            .src
            .get(from as usize..(to as usize).min(self.src.len()))
            .unwrap_or("");
        gap.matches('\n').count() >= 2
    }

    fn member(&mut self, member: &Member<'_>) {
        match member {
            Member::Relation(r) => {
                self.out.push_str("relation ");
                self.name(r.name);
                self.out.push(':');
                for (i, t) in r.types.iter().enumerate() {
                    self.out.push_str(if i == 0 { " " } else { " | " });
                    match t {
                        TypeRef::Object(ns) => self.name(*ns),
                        TypeRef::Wildcard(ns, _) => {
                            self.name(*ns);
                            self.out.push_str(":*");
                        }
                        TypeRef::SubjectSet(ns, rel) => {
                            self.name(*ns);
                            self.out.push('#');
                            self.name(*rel);
                        }
                    }
                    if let Some(traits) = r.traits_of(i) {
                        self.traits(traits);
                    }
                }
                if let Some(rewrite) = &r.rewrite {
                    self.out.push_str(" = ");
                    self.expr(rewrite);
                }
            }
            Member::Permission(p) => {
                self.out.push_str("permission ");
                self.name(p.name);
                self.out.push_str(" = ");
                self.expr(&p.expr);
            }
            // Files with syntax errors are never formatted; keep the text as written.
            Member::Error(span) => self
                .out
                .push_str(self.src.get(span.range()).unwrap_or("").trim()),
        }
    }

    /// A name: as written when it was bare (a misspelt name stays misspelt,
    /// for analysis to report), between backticks when a verbatim name needs them.
    fn name(&mut self, name: Ident<'_>) {
        if name.verbatim {
            write_name(&mut self.out, name.text);
        } else {
            self.out.push_str(name.text);
        }
    }

    fn expr(&mut self, expr: &Expr<'_>) {
        match expr {
            Expr::Name(name) => self.name(*name),
            Expr::Nil(_) => self.out.push_str("nil"),
            Expr::This(_) => self.out.push_str("this"),
            Expr::SelfObject(_) => self.out.push_str("self"),
            Expr::Arrow {
                tupleset,
                form,
                target,
                ..
            } => {
                self.name(*tupleset);
                match form {
                    ArrowForm::Arrow => {
                        self.out.push_str("->");
                        self.name(*target);
                    }
                    ArrowForm::Method(method) => {
                        self.out.push('.');
                        self.out.push_str(method.text);
                        self.out.push('(');
                        self.name(*target);
                        self.out.push(')');
                    }
                }
            }
            Expr::Paren(inner, _) => {
                self.out.push('(');
                self.expr(inner);
                self.out.push(')');
            }
            Expr::Chain { head, rest, .. } => {
                self.expr(head);
                for (op, _, term) in rest {
                    self.out.push(' ');
                    self.out.push_str(op.symbol());
                    self.out.push(' ');
                    self.expr(term);
                }
            }
        }
    }
}

/// A condition's CEL text as lines without the indentation they share, and
/// without blank lines around them: what the formatter indents anew and what
/// the IR keeps, so that formatting never changes a schema's hash. `None`
/// for a text with a multi-line string literal (`'''`, `"""`), whose
/// spacing is part of the string: it is kept exactly as written.
pub fn cel_lines(body: &str) -> Option<Vec<&str>> {
    if body.contains("'''") || body.contains("\"\"\"") {
        return None;
    }
    let mut lines: Vec<&str> = body.lines().map(str::trim_end).collect();
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.bytes().take_while(|b| matches!(b, b' ' | b'\t')).count())
        .min()
        .unwrap_or(0);
    Some(
        lines
            .into_iter()
            .map(|l| l.get(indent..).unwrap_or(""))
            .collect(),
    )
}

/// The IR's form of a condition's expression (see [`cel_lines`]).
pub fn cel_expression(body: &str) -> String {
    match cel_lines(body) {
        Some(lines) => lines.join("\n"),
        None => body.trim().to_owned(),
    }
}
