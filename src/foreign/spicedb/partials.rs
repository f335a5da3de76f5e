//! SpiceDB partials (`use partial`): `partial name { … }` declares members
//! that `...name` copies into a definition, as SpiceDB's compiler does
//! (`translatePartialReference`). A partial may use other partials, in any
//! order, but not itself.

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::Span;
use crate::syntax::ast::{Expr, File, Ident, Item, Member};

/// Copies beyond this many members are refused: partials that use each
/// other twice over grow exponentially.
const MAX_INLINED: usize = 100_000;

#[derive(Debug, Default)]
pub(super) struct Partials<'src> {
    defined: Vec<(Ident<'src>, Vec<Member<'src>>)>,
    /// Each `...name`, by the span of the placeholder standing for it.
    references: Vec<(Span, Ident<'src>)>,
}

impl<'src> Partials<'src> {
    /// A placeholder for `...name`, replaced by [`Partials::inline`].
    pub(super) fn reference(&mut self, name: Ident<'src>, span: Span) -> Member<'src> {
        self.references.push((span, name));
        Member::Error(span)
    }

    pub(super) fn define(
        &mut self,
        name: Ident<'src>,
        members: Vec<Member<'src>>,
        diags: &mut Vec<Diagnostic>,
    ) {
        if let Some((first, _)) = self.defined.iter().find(|(n, _)| n.text == name.text) {
            diags.push(
                Diagnostic::new(
                    codes::E0630,
                    format!("partial `{}` is declared twice", name.text),
                    Label::new(name.span, "declared again here"),
                )
                .with_secondary(first.span, "first declared here")
                .with_help("rename or remove one of them"),
            );
            return;
        }
        self.defined.push((name, members));
    }

    /// Replaces every `...name` in the definitions of `file` with the
    /// partial's members.
    /// A definition that uses a partial which could not be inlined lacks its
    /// members: the names it uses but does not declare join `broken`, so
    /// analysis does not report them too.
    pub(super) fn inline(
        &self,
        file: &mut File<'src>,
        broken: &mut Vec<&'src str>,
        diags: &mut Vec<Diagnostic>,
    ) {
        if self.references.is_empty() {
            return;
        }
        let mut budget = MAX_INLINED;
        for item in &mut file.items {
            let Item::Namespace(ns) = item else {
                continue;
            };
            let members = std::mem::take(&mut ns.members);
            let before = diags.len();
            ns.members = self.expand(members, &mut Vec::new(), &mut budget, diags);
            if diags.len() > before {
                let declared: Vec<&str> = ns.members.iter().filter_map(member_name).collect();
                for member in &ns.members {
                    if let Member::Permission(p) = member {
                        used_names(&p.expr, &mut |name| {
                            if !declared.contains(&name) {
                                broken.push(name);
                            }
                        });
                    }
                }
            }
        }
    }

    fn expand(
        &self,
        members: Vec<Member<'src>>,
        stack: &mut Vec<&'src str>,
        budget: &mut usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Member<'src>> {
        let mut out = Vec::with_capacity(members.len());
        for member in members {
            let reference = match &member {
                Member::Error(span) => self.references.iter().find(|(s, _)| s == span),
                _ => None,
            };
            let Some((_, name)) = reference else {
                out.push(member);
                continue;
            };
            let Some((_, body)) = self.defined.iter().find(|(n, _)| n.text == name.text) else {
                diags.push(
                    Diagnostic::new(
                        codes::E0630,
                        format!("could not find partial `{}`", name.text),
                        Label::new(name.span, "no partial has this name"),
                    )
                    .with_help("declare it with `partial name { … }`"),
                );
                out.push(member);
                continue;
            };
            if stack.contains(&name.text) {
                diags.push(
                    Diagnostic::new(
                        codes::E0630,
                        format!("partial `{}` uses itself", name.text),
                        Label::new(name.span, "this reference closes a cycle"),
                    )
                    .with_note(format!(
                        "the cycle: {} -> {}",
                        stack.join(" -> "),
                        name.text
                    ))
                    .with_help("remove one reference of the cycle"),
                );
                out.push(member);
                continue;
            }
            if *budget < body.len() {
                diags.push(Diagnostic::new(
                    codes::E0630,
                    format!("partials expand to more than {MAX_INLINED} members"),
                    Label::new(name.span, "this reference is not expanded"),
                ));
                out.push(member);
                continue;
            }
            *budget -= body.len();
            stack.push(name.text);
            out.extend(self.expand(body.clone(), stack, budget, diags));
            stack.pop();
        }
        out
    }
}

fn member_name<'src>(member: &Member<'src>) -> Option<&'src str> {
    match member {
        Member::Relation(r) => Some(r.name.text),
        Member::Permission(p) => Some(p.name.text),
        Member::Error(_) => None,
    }
}

/// Every name an expression reads in its own definition.
fn used_names<'src>(expr: &Expr<'src>, out: &mut impl FnMut(&'src str)) {
    match expr {
        Expr::Name(name) => out(name.text),
        Expr::Arrow { tupleset, .. } => out(tupleset.text),
        Expr::Paren(inner, _) => used_names(inner, out),
        Expr::Chain { head, rest, .. } => {
            used_names(head, out);
            for (_, _, e) in rest {
                used_names(e, out);
            }
        }
        Expr::Nil(_) | Expr::This(_) | Expr::SelfObject(_) => {}
    }
}
