//! An OpenFGA DSL `condition NAME(p: type, …) { cel }` block as a zanzi
//! condition. The lexer hands the block over whole (its CEL is not OpenFGA's
//! tokens); this reads its header and keeps the body as written, which
//! zanzi's analysis then checks as CEL, with spans into the model file.

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Ident};

/// The condition `block` (from `condition` to its closing `}`) whose name is
/// at `name`; `None` after reporting what is wrong with its header.
pub(super) fn condition<'src>(
    file: FileId,
    src: &'src str,
    block: Span,
    name: Span,
    doc: Vec<&'src str>,
    diags: &mut Vec<Diagnostic>,
) -> Option<ast::Condition<'src>> {
    let mut reader = Reader {
        file,
        src,
        at: name.end as usize,
        end: block.end as usize,
        diags,
    };
    let name_text = src.get(name.range()).unwrap_or_default();
    if name_text.is_empty() {
        return reader.fail(name, "expected a condition name after `condition`");
    }
    reader.expect('(', "after the condition name")?;
    let mut params = Vec::new();
    loop {
        reader.skip_space();
        if reader.eat(')') {
            break;
        }
        let param = reader.word("a parameter name")?;
        reader.expect(':', "after the parameter name")?;
        let ty = reader.param_type()?;
        params.push(ast::Param { name: param, ty });
        reader.skip_space();
        if !reader.eat(',') {
            reader.expect(')', "after the parameters")?;
            break;
        }
    }
    reader.expect('{', "to open the condition's expression")?;
    let body_start = reader.at;
    let closed = src
        .get(..reader.end)
        .is_some_and(|text| text.ends_with('}'))
        && reader.end > body_start;
    if !closed {
        let at = Span::new(file, block.end, block.end);
        return reader.fail(at, "expected `}` to close the condition, found end of file");
    }
    let body_span = Span::new(file, offset(body_start), offset(reader.end - 1));
    Some(ast::Condition {
        doc,
        name: Ident::verbatim(name_text, name),
        params,
        body: src.get(body_span.range()).unwrap_or_default().into(),
        body_span,
        body_offsets: None,
        span: block,
    })
}

fn offset(at: usize) -> u32 {
    crate::source::offset(at)
}

struct Reader<'a, 'src> {
    file: FileId,
    src: &'src str,
    at: usize,
    end: usize,
    diags: &'a mut Vec<Diagnostic>,
}

impl<'src> Reader<'_, 'src> {
    fn rest(&self) -> &'src str {
        self.src.get(self.at..self.end).unwrap_or_default()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn here(&self) -> Span {
        let next = self.rest().chars().next().map_or(0, char::len_utf8);
        Span::new(self.file, offset(self.at), offset(self.at + next))
    }

    fn found(&self) -> String {
        self.rest()
            .chars()
            .next()
            .map_or_else(|| "end of the condition".to_owned(), |c| format!("`{c}`"))
    }

    fn fail<T>(&mut self, span: Span, message: &str) -> Option<T> {
        self.diags.push(Diagnostic::new(
            codes::E0601,
            message.to_owned(),
            Label::new(span, "here"),
        ));
        None
    }

    fn expect(&mut self, c: char, context: &str) -> Option<()> {
        if self.eat(c) {
            return Some(());
        }
        let message = format!("expected `{c}` {context}, found {}", self.found());
        let span = self.here();
        self.fail(span, &message)
    }

    fn word(&mut self, what: &str) -> Option<Ident<'src>> {
        self.skip_space();
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            let message = format!("expected {what}, found {}", self.found());
            let span = self.here();
            return self.fail(span, &message);
        }
        let span = Span::new(self.file, offset(self.at), offset(self.at + len));
        self.at += len;
        Some(Ident::verbatim(rest.get(..len).unwrap_or_default(), span))
    }

    /// `int`, `list<string>`, `map<list<int>>`.
    fn param_type(&mut self) -> Option<ast::ParamType<'src>> {
        let name = self.word("a parameter type")?;
        if !self.eat('<') {
            return Some(ast::ParamType::Name(name));
        }
        let arg = self.param_type()?;
        self.expect('>', &format!("to close `{}<`", name.text))?;
        Some(ast::ParamType::Generic {
            name,
            arg: Box::new(arg),
            span: Span::new(self.file, name.span.start, offset(self.at)),
        })
    }
}
