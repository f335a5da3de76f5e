//! What analysis finds wrong, as data: each problem with its spans and the
//! names it is about. The words (message, labels, notes, help) are written
//! once, in [`ToDiagnostic::to_diagnostic`].

use crate::diagnostics::{codes, Applicability, Diagnostic, Edit, Label, ToDiagnostic};
use crate::source::Span;

/// A declared name that breaks the naming rules (E0101, E0102).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameProblem {
    Keyword,
    Reserved,
    /// `why` says which rule; `fixed` is the name corrected, if there is one.
    Invalid {
        why: String,
        fixed: Option<String>,
    },
    /// A verbatim name (backticks, or a foreign schema) that no tuple could hold.
    InvalidVerbatim {
        why: String,
    },
}

/// Where an unknown relation or permission was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberContext {
    /// `group#memebr` in a relation's types (E0107).
    SubjectSet,
    /// A name in a permission's expression (E0105).
    Expression,
}

/// One step of a dependency cycle: where it is and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleStep {
    pub span: Span,
    /// "`doc#view` excludes `doc#viewer`".
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnalysisError {
    /// E0101, E0102.
    BadName {
        name: String,
        span: Span,
        /// "namespace", "relation" or "permission".
        kind: &'static str,
        problem: NameProblem,
        /// The reserved words, for the note of [`NameProblem::Reserved`].
        reserved: &'static [&'static str],
    },
    /// E0103.
    DuplicateNamespace {
        name: String,
        span: Span,
        first: Span,
    },
    /// E0652: `extend type x` where no module defines `x`.
    UndefinedExtension {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// E0653: `type x` in two modules of one modular model.
    TypeInTwoModules {
        name: String,
        span: Span,
        module: String,
        first: Span,
        first_module: String,
    },
    /// E0104.
    DuplicateMember {
        name: String,
        namespace: String,
        span: Span,
        first: Span,
    },
    /// E0108.
    NoTypes { relation: String, span: Span },
    /// W0101.
    RepeatedType {
        /// The type as written: `user`, `user:*`, `group#member`.
        ty: String,
        relation: String,
        span: Span,
        first: Span,
    },
    /// E0106.
    UnknownNamespace {
        name: String,
        span: Span,
        suggestion: Option<String>,
        /// Every other use of the same unknown name: one cause, one error.
        also: Vec<Span>,
    },
    /// E0105, E0107.
    UnknownMember {
        name: String,
        span: Span,
        namespace: String,
        context: MemberContext,
        /// Where the namespace is declared.
        declared: Option<Span>,
        suggestion: Option<String>,
        /// The name is a namespace's (only said when there is no suggestion).
        names_a_namespace: bool,
    },
    /// E0005 without an operand before the operator (cannot come from the
    /// parser; kept short).
    AmbiguousPrecedence { op: Span },
    /// E0005.
    MixedOperators {
        op: &'static str,
        op_span: Span,
        previous: &'static str,
        previous_span: Span,
        /// The two groupings, as text, and the span the first one replaces.
        first_grouping: String,
        second_grouping: String,
        chain: Span,
    },
    /// E0006.
    ChainedExclusion {
        first: Span,
        second: Span,
        /// `a - (b | c)` and the span of `a - b - c` it replaces.
        union: String,
        chain: Span,
    },
    /// E0204.
    UnknownArrowFunction {
        name: String,
        span: Span,
        suggestion: Option<&'static str>,
    },
    /// E0201.
    ArrowOverPermission {
        name: String,
        span: Span,
        defined: Span,
        /// A relation of object types of the namespace to use instead.
        instead: Option<String>,
    },
    /// E0205.
    ArrowOverRewrite {
        name: String,
        span: Span,
        /// The relation's `= …`.
        rewrite: Span,
    },
    /// E0109.
    ThisOutsideRelation { span: Span, permission: String },
    /// W0102.
    RewriteWithoutThis { relation: String, span: Span },
    /// E0202.
    ArrowOverNonObjects {
        name: String,
        span: Span,
        /// Each type that cannot be followed, and whether it is a wildcard
        /// (else a subject set).
        bad: Vec<(Span, bool)>,
        /// For the first bad type: its namespace and its text.
        first_bad: Option<(String, String)>,
    },
    /// E0203.
    ArrowTargetMissing {
        target: String,
        span: Span,
        /// The namespaces the tupleset holds, in backticks.
        namespaces: Vec<String>,
        tupleset: String,
        tupleset_declared: Span,
        suggestion: Option<String>,
    },
    /// W0201.
    ArrowTargetMissingOnSome {
        target: String,
        span: Span,
        /// The namespaces without the target, in backticks.
        namespaces: Vec<String>,
        tupleset: String,
        /// The tupleset's types of those namespaces.
        types: Vec<Span>,
        all: bool,
    },
    /// E0302.
    ExclusionCycle {
        permission: String,
        /// The step out of `permission`, then the rest of the cycle.
        first: CycleStep,
        rest: Vec<CycleStep>,
        /// The permissions of the cycle, ending where it started.
        chain: Vec<String>,
    },
    /// E0301.
    ComputedCycle {
        permission: String,
        first: CycleStep,
        rest: Vec<CycleStep>,
        chain: Vec<String>,
        /// The name of a permission that uses itself directly.
        self_loop: Option<String>,
    },
}

/// `a`, `a or b`, `a, b or c`.
pub(super) fn join_or(items: &[String]) -> String {
    join(items, "or")
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn join_and(items: &[String]) -> String {
    join(items, "and")
}

fn join(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

fn did_you_mean(d: Diagnostic, span: Span, suggestion: Option<&str>) -> Diagnostic {
    match suggestion {
        Some(best) => d.with_fix(
            format!("did you mean `{best}`?"),
            Edit::new(span, best, Applicability::MaybeIncorrect),
        ),
        None => d,
    }
}

fn with_steps(mut d: Diagnostic, rest: &[CycleStep]) -> Diagnostic {
    for step in rest {
        d = d.with_secondary(step.span, &step.text);
    }
    d
}

impl ToDiagnostic for AnalysisError {
    type Context<'a> = ();

    fn to_diagnostic(&self, (): ()) -> Diagnostic {
        match self {
            AnalysisError::BadName {
                name,
                span,
                kind,
                problem,
                reserved,
            } => match problem {
                NameProblem::Keyword => Diagnostic::new(
                    codes::E0102,
                    format!("`{name}` is a keyword and cannot name a {kind}"),
                    Label::new(*span, "keyword"),
                )
                .with_help("choose another name"),
                NameProblem::Reserved => Diagnostic::new(
                    codes::E0102,
                    format!("`{name}` is a reserved word and cannot name a {kind}"),
                    Label::new(*span, "reserved word"),
                )
                .with_note(format!(
                    "reserved words, some used by the language and some kept for later: {}",
                    reserved.join(", ")
                ))
                .with_help("choose another name"),
                NameProblem::InvalidVerbatim { why } => Diagnostic::new(
                    codes::E0101,
                    format!("invalid {kind} name `{name}`"),
                    Label::new(*span, why),
                )
                .with_note(
                    "a name kept verbatim may hold any character but `:`, `#`, `@`, `*`, \
                     backticks, whitespace and control characters, up to 254 bytes",
                ),
                NameProblem::Invalid { why, fixed } => {
                    let d = Diagnostic::new(
                        codes::E0101,
                        format!("invalid {kind} name `{name}`"),
                        Label::new(*span, why),
                    )
                    .with_note(
                        "names match `[a-z][a-z0-9_]*`, are at most 64 bytes and do not end in `_`",
                    );
                    match fixed {
                        // References are not renamed with it: a guess.
                        Some(fixed) => d.with_fix(
                            format!("write `{fixed}`"),
                            Edit::new(*span, fixed, Applicability::MaybeIncorrect),
                        ),
                        None => d,
                    }
                }
            },
            AnalysisError::DuplicateNamespace { name, span, first } => Diagnostic::new(
                codes::E0103,
                format!("namespace `{name}` is defined more than once"),
                Label::new(*span, "defined again here"),
            )
            .with_secondary(*first, "first defined here")
            .with_help("merge the two definitions, or rename one of them"),
            AnalysisError::UndefinedExtension {
                name,
                span,
                suggestion,
            } => {
                let d = Diagnostic::new(
                    codes::E0652,
                    format!("extended type `{name}` is not defined in any module"),
                    Label::new(*span, "no module defines this type"),
                )
                .with_note("`extend type` adds relations to a type another module defines");
                match suggestion {
                    Some(_) => did_you_mean(d, *span, suggestion.as_deref()),
                    None => d.with_help(format!(
                        "write `type {name}` instead of `extend type {name}` in one module, \
                         or list the module that defines it in `fga.mod`"
                    )),
                }
            }
            AnalysisError::TypeInTwoModules {
                name,
                span,
                module,
                first,
                first_module,
            } => Diagnostic::new(
                codes::E0653,
                if module == first_module {
                    format!("type `{name}` is defined twice in module `{module}`")
                } else {
                    format!("type `{name}` is defined in module `{first_module}` and again in `{module}`")
                },
                Label::new(*span, "defined again here"),
            )
            .with_secondary(*first, format!("first defined here, in module `{first_module}`"))
            .with_help(format!(
                "keep one `type {name}` and write `extend type {name}` in the other modules"
            )),
            AnalysisError::DuplicateMember {
                name,
                namespace,
                span,
                first,
            } => Diagnostic::new(
                codes::E0104,
                format!("`{name}` is defined more than once in namespace `{namespace}`"),
                Label::new(*span, "defined again here"),
            )
            .with_secondary(*first, "first defined here")
            .with_note("relations and permissions of a namespace share one set of names")
            .with_help("rename one of them"),
            AnalysisError::NoTypes { relation, span } => Diagnostic::new(
                codes::E0108,
                format!("relation `{relation}` has no types"),
                Label::new(*span, "no types listed after `:`"),
            )
            .with_help(format!(
                "list the subjects it may hold after `:`, e.g. `relation {relation}: user`"
            )),
            AnalysisError::RepeatedType {
                ty,
                relation,
                span,
                first,
            } => Diagnostic::new(
                codes::W0101,
                format!("type `{ty}` is listed twice in relation `{relation}`"),
                Label::new(*span, "listed again here"),
            )
            .with_secondary(*first, "first listed here")
            .with_help("remove the repeated type"),
            AnalysisError::UnknownNamespace {
                name,
                span,
                suggestion,
                also,
            } => {
                let mut d = Diagnostic::new(
                    codes::E0106,
                    format!("unknown namespace `{name}`"),
                    Label::new(*span, "no namespace has this name"),
                );
                for other in also {
                    d = d.with_secondary(*other, "also used here");
                }
                match suggestion {
                    Some(_) => did_you_mean(d, *span, suggestion.as_deref()),
                    None => d.with_help(format!("declare it: `namespace {name} {{}}`")),
                }
            }
            AnalysisError::UnknownMember {
                name,
                span,
                namespace,
                context,
                declared,
                suggestion,
                names_a_namespace,
            } => {
                let message = format!("unknown relation or permission `{name}` in `{namespace}`");
                let (code, label) = match context {
                    MemberContext::SubjectSet => (
                        codes::E0107,
                        format!("`{namespace}` has no relation or permission `{name}`"),
                    ),
                    MemberContext::Expression => (
                        codes::E0105,
                        format!("not defined in namespace `{namespace}`"),
                    ),
                };
                let mut d = Diagnostic::new(code, message, Label::new(*span, label));
                if let Some(declared) = declared {
                    d = d.with_secondary(*declared, "namespace declared here");
                }
                if suggestion.is_some() {
                    d = did_you_mean(d, *span, suggestion.as_deref());
                } else if *names_a_namespace {
                    d = d.with_note(format!(
                        "`{name}` is a namespace; an expression names relations and permissions of `{namespace}`"
                    ));
                }
                d
            }
            AnalysisError::AmbiguousPrecedence { op } => Diagnostic::new(
                codes::E0005,
                "ambiguous operator precedence",
                Label::new(*op, ""),
            ),
            AnalysisError::MixedOperators {
                op,
                op_span,
                previous,
                previous_span,
                first_grouping,
                second_grouping,
                chain,
            } => Diagnostic::new(
                codes::E0005,
                format!(
                    "ambiguous operator precedence: `{previous}` and `{op}` mixed without parentheses"
                ),
                Label::new(*op_span, format!("`{op}` here")),
            )
            .with_secondary(*previous_span, format!("after `{previous}` here"))
            .with_note("zanzi gives `|`, `&` and `-` no precedence over each other")
            // Of the two groupings, the edit takes the first: a guess.
            .with_fix(
                format!("add parentheses: `{first_grouping}` or `{second_grouping}`"),
                Edit::new(*chain, first_grouping, Applicability::MaybeIncorrect),
            ),
            AnalysisError::ChainedExclusion {
                first,
                second,
                union,
                chain,
            } => Diagnostic::new(
                codes::E0006,
                "`-` cannot be chained",
                Label::new(*second, "second `-`"),
            )
            .with_secondary(*first, "first `-`")
            // `a - b - c` means `a - (b | c)`: the edit keeps the meaning.
            .with_fix(
                format!("subtract a union: `{union}`"),
                Edit::new(*chain, union, Applicability::MachineApplicable),
            ),
            AnalysisError::UnknownArrowFunction {
                name,
                span,
                suggestion,
            } => {
                let d = Diagnostic::new(
                    codes::E0204,
                    format!("unknown arrow function `{name}`"),
                    Label::new(*span, "expected `any` or `all`"),
                )
                .with_note("`t.any(p)` is the union over the objects of `t` (same as `t->p`); `t.all(p)` their intersection");
                did_you_mean(d, *span, *suggestion)
            }
            AnalysisError::ArrowOverPermission {
                name,
                span,
                defined,
                instead,
            } => {
                let d = Diagnostic::new(
                    codes::E0201,
                    format!("arrow over permission `{name}`"),
                    Label::new(*span, "a permission, not a relation"),
                )
                .with_secondary(*defined, "defined as a permission here")
                .with_note("an arrow follows stored tuples, so its left side must be a relation");
                match instead {
                    Some(r) => d.with_help(format!("use a relation of object types, such as `{r}`")),
                    None => d,
                }
            }
            AnalysisError::ArrowOverRewrite {
                name,
                span,
                rewrite,
            } => Diagnostic::new(
                codes::E0205,
                format!("arrow over relation `{name}`, which has a rewrite"),
                Label::new(*span, "followed by this arrow"),
            )
            .with_secondary(*rewrite, "its set is computed here")
            .with_note(
                "an arrow follows the objects stored in its left side's own tuples; \
                 a relation with `= …` means more than its tuples",
            )
            .with_help(format!(
                "follow a relation that is only its tuples, or move `{name}`'s rewrite into a permission"
            )),
            AnalysisError::ThisOutsideRelation { span, permission } => Diagnostic::new(
                codes::E0109,
                format!("`this` in permission `{permission}`"),
                Label::new(*span, "a permission stores no tuples"),
            )
            .with_note("`this` is the set a relation's own tuples give, in the relation's `= …`")
            .with_help(format!(
                "declare a relation with types and use `this` in its rewrite: \
                 `relation {permission}: user = this | …`"
            )),
            AnalysisError::RewriteWithoutThis { relation, span } => Diagnostic::new(
                codes::W0102,
                format!("the tuples of relation `{relation}` are never read"),
                Label::new(*span, "this rewrite does not mention `this`"),
            )
            .with_note("tuples can be written to the relation, but no check, expand or lookup sees them")
            .with_help("add `this` to the rewrite (`= this | …`), or make it a permission"),
            AnalysisError::ArrowOverNonObjects {
                name,
                span,
                bad,
                first_bad,
            } => {
                let mut d = Diagnostic::new(
                    codes::E0202,
                    format!("arrow over relation `{name}`, whose types are not all plain objects"),
                    Label::new(*span, "followed by this arrow"),
                )
                .with_note("an arrow follows each object `ns:id` stored in the relation");
                for (type_span, wildcard) in bad {
                    let what = if *wildcard {
                        "a wildcard"
                    } else {
                        "a subject set"
                    };
                    d = d.with_secondary(*type_span, format!("{what} cannot be followed"));
                }
                if let Some((namespace, ty)) = first_bad {
                    d = d.with_help(format!(
                        "an arrow needs object types: write `{namespace}` instead of `{ty}` (in a relation of its own if `{ty}` is still needed)"
                    ));
                }
                d
            }
            AnalysisError::ArrowTargetMissing {
                target,
                span,
                namespaces,
                tupleset,
                tupleset_declared,
                suggestion,
            } => {
                let d = Diagnostic::new(
                    codes::E0203,
                    format!("`{target}` is not defined on {}", join_or(namespaces)),
                    Label::new(
                        *span,
                        format!("not a relation or permission of {}", join_or(namespaces)),
                    ),
                )
                .with_secondary(
                    *tupleset_declared,
                    format!("`{tupleset}` holds objects of {}", join_or(namespaces)),
                );
                did_you_mean(d, *span, suggestion.as_deref())
            }
            AnalysisError::ArrowTargetMissingOnSome {
                target,
                span,
                namespaces,
                tupleset,
                types,
                all,
            } => {
                let mut d = Diagnostic::new(
                    codes::W0201,
                    format!("`{target}` is not defined on {}", join_and(namespaces)),
                    Label::new(*span, format!("missing on {}", join_and(namespaces))),
                );
                let effect = if *all {
                    "an object of this type makes the `.all` empty"
                } else {
                    "objects of this type contribute nothing"
                };
                for type_span in types {
                    d = d.with_secondary(*type_span, effect);
                }
                d.with_help(format!(
                    "define `{target}` on {} or remove the type from `{tupleset}`",
                    join_and(namespaces)
                ))
            }
            AnalysisError::ExclusionCycle {
                permission,
                first,
                rest,
                chain,
            } => {
                let d = Diagnostic::new(
                    codes::E0302,
                    format!("permission `{permission}` depends on its own exclusion"),
                    Label::new(first.span, &first.text),
                );
                with_steps(d, rest)
                    .with_note(format!("the cycle: {}", chain.join(" → ")))
                    .with_note("a schema must be stratified: what a permission excludes may not depend on that permission")
                    .with_help("exclude a relation or a permission that does not lead back here")
            }
            AnalysisError::ComputedCycle {
                permission,
                first,
                rest,
                chain,
                self_loop,
            } => {
                let d = Diagnostic::new(
                    codes::E0301,
                    format!("permission `{permission}` depends on itself through computed names only"),
                    Label::new(first.span, &first.text),
                );
                with_steps(d, rest)
                    .with_note(format!("the cycle: {}", chain.join(" → ")))
                    .with_note("no stored tuple lies on this cycle, so evaluating it would never end")
                    .with_help(match self_loop {
                        Some(name) => format!("remove `{name}` from its own definition"),
                        None => "break the cycle: one of these permissions must not use the next"
                            .to_owned(),
                    })
            }
        }
    }
}
