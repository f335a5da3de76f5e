//! Conditions: their declarations across all files of a schema, their
//! parameters, their CEL expressions (checked by [`crate::condition::check`])
//! and their uses in relation types (`with NAME`).
//!
//! A condition with a mistake in it is still declared, so that `with NAME`
//! resolves and says nothing more; it is never reported as unused either.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use super::check_declared_name;
use crate::condition::check::{check_expression, CelError, CelErrorKind};
use crate::diagnostics::suggest::closest;
use crate::diagnostics::{codes, Applicability, Diagnostic, Edit, Label, ToDiagnostic};
use crate::ir::{self, ConditionId};
use crate::source::Span;
use crate::syntax::{ast, fmt::cel_expression, Parsed};

/// Names a condition may not have: the words that follow `with` as keywords.
const TRAIT_KEYWORDS: &[&str] = &["expiration", "and"];

/// One declared condition.
struct Declared<'a, 'src> {
    decl: &'a ast::Condition<'src>,
    /// The parameters, lowered; `None` when one of them is wrong.
    params: Option<Vec<ir::Param>>,
    /// A mistake was reported in it: it is not lowered, and not reported as unused.
    broken: bool,
    used: bool,
}

/// The conditions of one schema, by name and by [`ConditionId`].
#[derive(Default)]
pub(super) struct Conditions<'a, 'src> {
    declared: Vec<Declared<'a, 'src>>,
    by_name: HashMap<&'src str, ConditionId>,
}

impl<'a, 'src> Conditions<'a, 'src> {
    /// Declares and checks every condition of `files`, in file order.
    pub fn collect(files: &'a [Parsed<'src>], diags: &mut Vec<Diagnostic>) -> Self {
        let mut conditions = Conditions::default();
        let decls = files
            .iter()
            .flat_map(|f| &f.ast.items)
            .filter_map(|item| match item {
                ast::Item::Condition(c) => Some(c),
                ast::Item::Namespace(_) | ast::Item::Error(_) => None,
            });
        for decl in decls {
            let name = decl.name;
            let errors_before = diags.len();
            check_declared_name(name, "condition", diags);
            if TRAIT_KEYWORDS.contains(&name.text) {
                diags.push(
                    ConditionError::TraitKeywordName {
                        name: name.text.to_owned(),
                        span: name.span,
                    }
                    .to_diagnostic(()),
                );
            }
            if let Some(first) = conditions.find(name.text) {
                diags.push(
                    ConditionError::Duplicate {
                        name: name.text.to_owned(),
                        span: name.span,
                        first: first.decl.name.span,
                    }
                    .to_diagnostic(()),
                );
                continue;
            }
            let params = params(decl, diags);
            if let Some(params) = &params {
                check_body(decl, params, diags);
            }
            let broken = diags
                .get(errors_before..)
                .unwrap_or_default()
                .iter()
                .any(Diagnostic::is_error);
            let id = ConditionId(u32::try_from(conditions.declared.len()).unwrap_or(u32::MAX));
            conditions.by_name.insert(name.text, id);
            conditions.declared.push(Declared {
                decl,
                params,
                broken,
                used: false,
            });
        }
        conditions
    }

    fn find(&self, name: &str) -> Option<&Declared<'a, 'src>> {
        let id = self.by_name.get(name)?;
        self.declared.get(id.0 as usize)
    }

    /// Resolves `with NAME`: the condition, or `None` after reporting an
    /// unknown name (unless `silenced`: declared in a part that did not parse).
    pub fn resolve(
        &mut self,
        name: ast::Ident<'src>,
        silenced: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<ConditionId> {
        if let Some(&id) = self.by_name.get(name.text) {
            if let Some(declared) = self.declared.get_mut(id.0 as usize) {
                declared.used = true;
            }
            return Some(id);
        }
        if !silenced {
            let known = self.declared.iter().map(|d| d.decl.name.text);
            diags.push(
                ConditionError::Unknown {
                    name: name.text.to_owned(),
                    span: name.span,
                    suggestion: closest(name.text, known).map(str::to_owned),
                    any_declared: !self.declared.is_empty(),
                }
                .to_diagnostic(()),
            );
        }
        None
    }

    /// Warns about conditions that no relation type uses (W0141), unless a
    /// part that did not parse names them (`silenced`), then lowers them;
    /// `None` when one of them is broken.
    pub fn finish(
        self,
        silenced: &HashSet<&str>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Vec<ir::Condition>> {
        let unused = self
            .declared
            .iter()
            .filter(|d| !d.used && !d.broken && !silenced.contains(d.decl.name.text));
        for declared in unused {
            diags.push(
                ConditionError::Unused {
                    name: declared.decl.name.text.to_owned(),
                    span: declared.decl.name.span,
                }
                .to_diagnostic(()),
            );
        }
        self.declared
            .into_iter()
            .map(|declared| {
                if declared.broken {
                    return None;
                }
                Some(ir::Condition {
                    name: declared.decl.name.text.to_owned(),
                    doc: (!declared.decl.doc.is_empty()).then(|| declared.decl.doc.join("\n")),
                    params: declared.params?,
                    expression: cel_expression(&declared.decl.body),
                })
            })
            .collect()
    }
}

/// The condition's parameters, lowered; `None` after reporting a wrong one.
fn params(decl: &ast::Condition<'_>, diags: &mut Vec<Diagnostic>) -> Option<Vec<ir::Param>> {
    let mut lowered = Vec::new();
    let mut ok = true;
    for (i, param) in decl.params.iter().enumerate() {
        check_declared_name(param.name, "parameter", diags);
        let earlier = decl.params.get(..i).unwrap_or_default();
        if let Some(first) = earlier.iter().find(|p| p.name.text == param.name.text) {
            diags.push(
                ConditionError::DuplicateParam {
                    name: param.name.text.to_owned(),
                    condition: decl.name.text.to_owned(),
                    span: param.name.span,
                    first: first.name.span,
                }
                .to_diagnostic(()),
            );
            ok = false;
            continue;
        }
        match param_type(&param.ty, diags) {
            Some(ty) => lowered.push(ir::Param {
                name: param.name.text.to_owned(),
                ty,
            }),
            None => ok = false,
        }
    }
    ok.then_some(lowered)
}

/// Resolves a written parameter type, reporting an unknown one (E0143).
fn param_type(ty: &ast::ParamType<'_>, diags: &mut Vec<Diagnostic>) -> Option<ir::ParamType> {
    let generic = |name: &str| matches!(name, "list" | "map");
    let problem = match ty {
        ast::ParamType::Name(name) => match ir::ParamType::scalar(name.text) {
            Some(scalar) => return Some(scalar),
            None if generic(name.text) => TypeProblem::NeedsArgument,
            None => TypeProblem::Unknown,
        },
        ast::ParamType::Generic { name, arg, .. } if generic(name.text) => {
            let arg = Box::new(param_type(arg, diags)?);
            return Some(if name.text == "list" {
                ir::ParamType::List(arg)
            } else {
                ir::ParamType::Map(arg)
            });
        }
        ast::ParamType::Generic { name, .. } if ir::ParamType::scalar(name.text).is_some() => {
            TypeProblem::TakesNoArgument
        }
        ast::ParamType::Generic { .. } => TypeProblem::Unknown,
    };
    let name = match ty {
        ast::ParamType::Name(name) | ast::ParamType::Generic { name, .. } => name,
    };
    diags.push(
        ConditionError::UnknownParamType {
            name: name.text.to_owned(),
            span: name.span,
            whole: ty.span(),
            problem,
            suggestion: closest(name.text, ir::ParamType::NAMES.iter().copied()).map(str::to_owned),
        }
        .to_diagnostic(()),
    );
    None
}

/// Checks the expression; its errors point into the file, and each
/// parameter it never uses is a warning (W0140).
fn check_body(decl: &ast::Condition<'_>, params: &[ir::Param], diags: &mut Vec<Diagnostic>) {
    match check_expression(params, &decl.body) {
        Ok(checked) => {
            for param in &decl.params {
                if !checked.used.contains(param.name.text) {
                    diags.push(
                        ConditionError::UnusedParam {
                            name: param.name.text.to_owned(),
                            condition: decl.name.text.to_owned(),
                            span: param.name.span,
                        }
                        .to_diagnostic(()),
                    );
                }
            }
        }
        Err(errors) => {
            // After CEL's parser stops, what it says next is mostly about that.
            let mut syntax_reported = false;
            for error in errors {
                let syntax = error.kind == CelErrorKind::Syntax;
                if !(syntax && syntax_reported) {
                    diags.push(cel_diagnostic(decl, &error));
                }
                syntax_reported |= syntax;
            }
        }
    }
}

/// A CEL error as a diagnostic, its span moved from the expression to the file.
fn cel_diagnostic(decl: &ast::Condition<'_>, error: &CelError) -> Diagnostic {
    let body = decl.body_span;
    let at = |offset: usize| match &decl.body_offsets {
        // A decoded body: each byte knows where it is written.
        Some(offsets) => offsets.get(offset).copied().unwrap_or(body.end),
        None => {
            let offset = u32::try_from(offset).unwrap_or(u32::MAX);
            body.start.saturating_add(offset).min(body.end)
        }
    };
    let mut span = Span::new(body.file, at(error.span.start), at(error.span.end));
    if span.start == span.end && span.end < body.end {
        span.end += 1;
    }
    ConditionError::Cel {
        condition: decl.name.text.to_owned(),
        span,
        kind: error.kind.clone(),
        message: error.message.clone(),
        help: error.help.clone(),
    }
    .to_diagnostic(())
}

/// Why a parameter type is wrong (E0143).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeProblem {
    Unknown,
    /// `list` or `map` without `<…>`.
    NeedsArgument,
    /// `string<int>`.
    TakesNoArgument,
}

/// What is wrong with a condition or its use, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConditionError {
    /// E0140.
    Unknown {
        name: String,
        span: Span,
        suggestion: Option<String>,
        any_declared: bool,
    },
    /// E0141.
    Duplicate {
        name: String,
        span: Span,
        first: Span,
    },
    /// E0142.
    TraitKeywordName { name: String, span: Span },
    /// E0143.
    UnknownParamType {
        name: String,
        span: Span,
        /// The whole type, `list<strng>` for `list`.
        whole: Span,
        problem: TypeProblem,
        suggestion: Option<String>,
    },
    /// E0144.
    DuplicateParam {
        name: String,
        condition: String,
        span: Span,
        first: Span,
    },
    /// E0145 to E0148, by kind.
    Cel {
        condition: String,
        span: Span,
        kind: CelErrorKind,
        message: String,
        help: Option<String>,
    },
    /// W0140.
    UnusedParam {
        name: String,
        condition: String,
        span: Span,
    },
    /// W0141.
    Unused { name: String, span: Span },
}

impl ToDiagnostic for ConditionError {
    type Context<'a> = ();

    fn to_diagnostic(&self, (): ()) -> Diagnostic {
        match self {
            ConditionError::Unknown {
                name,
                span,
                suggestion,
                any_declared,
            } => {
                let d = Diagnostic::new(
                    codes::E0140,
                    format!("unknown condition `{name}`"),
                    Label::new(*span, "no condition has this name"),
                );
                match suggestion {
                    Some(best) => d.with_fix(
                        format!("did you mean `{best}`?"),
                        Edit::new(*span, best, Applicability::MaybeIncorrect),
                    ),
                    None if *any_declared => d.with_help(format!(
                        "declare it: `condition {name}(…) {{ … }}` beside the namespaces"
                    )),
                    None => d.with_help(format!(
                        "declare it: `condition {name}(…) {{ … }}` beside the namespaces \
                         (no condition is declared yet)"
                    )),
                }
            }
            ConditionError::Duplicate { name, span, first } => Diagnostic::new(
                codes::E0141,
                format!("condition `{name}` is declared more than once"),
                Label::new(*span, "declared again here"),
            )
            .with_secondary(*first, "first declared here")
            .with_help("remove one of them, or rename it"),
            ConditionError::TraitKeywordName { name, span } => Diagnostic::new(
                codes::E0142,
                format!("a condition cannot be named `{name}`"),
                Label::new(*span, format!("`{name}` is a keyword after `with`")),
            )
            .with_note(
                "`with expiration` and `with NAME and expiration` read these words as keywords",
            )
            .with_help("choose another name"),
            ConditionError::UnknownParamType {
                name,
                span,
                whole,
                problem,
                suggestion,
            } => match problem {
                TypeProblem::Unknown => {
                    let d = Diagnostic::new(
                        codes::E0143,
                        format!("unknown parameter type `{name}`"),
                        Label::new(*span, "no parameter type has this name"),
                    )
                    .with_note(format!(
                        "the parameter types are {}, `list<T>` and `map<T>`",
                        ir::ParamType::NAMES
                            .iter()
                            .filter(|n| !matches!(**n, "list" | "map"))
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    match suggestion {
                        Some(best) => d.with_fix(
                            format!("did you mean `{best}`?"),
                            Edit::new(*span, best, Applicability::MaybeIncorrect),
                        ),
                        None => d,
                    }
                }
                TypeProblem::NeedsArgument => Diagnostic::new(
                    codes::E0143,
                    format!("parameter type `{name}` needs an element type"),
                    Label::new(*span, format!("`{name}` of what?")),
                )
                .with_fix(
                    format!("name the type of its elements, e.g. `{name}<string>`"),
                    Edit::new(
                        *whole,
                        format!("{name}<string>"),
                        Applicability::MaybeIncorrect,
                    ),
                ),
                TypeProblem::TakesNoArgument => Diagnostic::new(
                    codes::E0143,
                    format!("parameter type `{name}` takes no element type"),
                    Label::new(*whole, "only `list` and `map` take one"),
                )
                .with_fix(
                    format!("write `{name}`"),
                    Edit::new(*whole, name.as_str(), Applicability::MaybeIncorrect),
                ),
            },
            ConditionError::DuplicateParam {
                name,
                condition,
                span,
                first,
            } => Diagnostic::new(
                codes::E0144,
                format!("parameter `{name}` of condition `{condition}` is declared twice"),
                Label::new(*span, "declared again here"),
            )
            .with_secondary(*first, "first declared here")
            .with_help("remove one of them, or rename it"),
            ConditionError::Cel {
                condition,
                span,
                kind,
                message,
                help,
            } => {
                let mut expecting = None;
                let (code, text, label) = match kind {
                    CelErrorKind::Syntax => {
                        // CEL's parser says "Syntax error: mismatched input 'and'
                        // expecting {…}": the list goes to a note.
                        let message = message.strip_prefix("Syntax error: ").unwrap_or(message);
                        let (what, expected) = message
                            .split_once(" expecting ")
                            .map_or((message, None), |(w, e)| (w, Some(e)));
                        expecting = expected.map(|e| format!("CEL expected {e}"));
                        (
                            codes::E0145,
                            format!("syntax error in the expression of condition `{condition}`"),
                            what.replace('\n', "\\n"),
                        )
                    }
                    CelErrorKind::UnknownVariable { name, .. } => (
                        codes::E0146,
                        format!("unknown variable `{name}` in condition `{condition}`"),
                        "not a parameter of the condition".to_owned(),
                    ),
                    CelErrorKind::Type => (
                        codes::E0147,
                        format!("type error in condition `{condition}`"),
                        message.clone(),
                    ),
                    CelErrorKind::NotBool => (
                        codes::E0148,
                        format!("condition `{condition}` is not a `bool` expression"),
                        message.clone(),
                    ),
                };
                let mut d = Diagnostic::new(code, text, Label::new(*span, label));
                if let Some(expecting) = expecting {
                    d = d.with_note(expecting);
                }
                if let CelErrorKind::UnknownVariable {
                    suggestion: Some(best),
                    ..
                } = kind
                {
                    d = d.with_fix(
                        format!("did you mean `{best}`?"),
                        Edit::new(*span, best, Applicability::MaybeIncorrect),
                    );
                } else if let CelErrorKind::UnknownVariable { name, .. } = kind {
                    d = d.with_help(format!(
                        "declare it as a parameter: `{condition}(…, {name}: TYPE)`"
                    ));
                } else if let Some(help) = help {
                    d = d.with_help(help);
                }
                d
            }
            ConditionError::UnusedParam {
                name,
                condition,
                span,
            } => Diagnostic::new(
                codes::W0140,
                format!("parameter `{name}` of condition `{condition}` is never used"),
                Label::new(*span, "not used by the expression"),
            )
            .with_help("use it in the expression, or remove it"),
            ConditionError::Unused { name, span } => Diagnostic::new(
                codes::W0141,
                format!("condition `{name}` is never used"),
                Label::new(*span, "no relation type names it"),
            )
            .with_help(format!(
                "use it in a relation's types (`relation viewer: user with {name}`), or remove it"
            )),
        }
    }
}
