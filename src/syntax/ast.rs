//! The surface syntax tree: exactly what was written, with a span on every node.
//!
//! Trees are tolerant: a member that failed to parse is an explicit `Error`
//! node, and expressions keep operator chains flat (`a | b & c` is one chain)
//! so that analysis can reject mixed operators precisely (E0005).

use crate::source::Span;

/// A name as written (possibly invalid: analysis checks the spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ident<'src> {
    /// The name itself, without quotes.
    pub text: &'src str,
    pub span: Span,
    /// Written between backticks (`` `File` ``), or read from a foreign schema:
    /// the name is kept exactly as spelled, so analysis checks it against the
    /// verbatim rule (no `:#@`, whitespace or control characters) instead of
    /// zanzi's `[a-z][a-z0-9_]*` (E0101).
    pub verbatim: bool,
}

impl<'src> Ident<'src> {
    /// A name spelled as zanzi spells names.
    pub fn plain(text: &'src str, span: Span) -> Self {
        Ident {
            text,
            span,
            verbatim: false,
        }
    }

    /// A name kept exactly as written (backticks, or a foreign schema).
    pub fn verbatim(text: &'src str, span: Span) -> Self {
        Ident {
            text,
            span,
            verbatim: true,
        }
    }
}

/// All namespaces of one file, in order.
#[derive(Clone, Debug, Default)]
pub struct File<'src> {
    pub items: Vec<Item<'src>>,
    /// The module this file is, in a modular model (OpenFGA's `module core`):
    /// only modules may extend a namespace defined in another file.
    pub module: Option<Ident<'src>>,
}

#[derive(Clone, Debug)]
pub enum Item<'src> {
    Namespace(Namespace<'src>),
    Condition(Condition<'src>),
    /// Something at the top level that did not parse.
    Error(Span),
}

impl Item<'_> {
    pub fn span(&self) -> Span {
        match self {
            Item::Namespace(ns) => ns.span,
            Item::Condition(c) => c.span,
            Item::Error(span) => *span,
        }
    }
}

/// `condition NAME(param: type, …) { CEL }`.
#[derive(Clone, Debug)]
pub struct Condition<'src> {
    pub doc: Vec<&'src str>,
    pub name: Ident<'src>,
    pub params: Vec<Param<'src>>,
    /// The CEL text between the braces, exactly as written (decoded when
    /// it was written as a JSON string with escapes).
    pub body: std::borrow::Cow<'src, str>,
    /// Where `body` is, so that CEL's errors point into the file.
    pub body_span: Span,
    /// For a decoded `body`, the file offset of each of its bytes and of
    /// its end; `None` when `body` is the text at `body_span`.
    pub body_offsets: Option<Vec<u32>>,
    pub span: Span,
}

/// `name: type`, a condition's parameter.
#[derive(Clone, Debug)]
pub struct Param<'src> {
    pub name: Ident<'src>,
    pub ty: ParamType<'src>,
}

/// A parameter's type as written; analysis checks the names (`strng`, `list` without `<…>`).
#[derive(Clone, Debug)]
pub enum ParamType<'src> {
    /// `string`
    Name(Ident<'src>),
    /// `list<string>`; the span covers the whole type.
    Generic {
        name: Ident<'src>,
        arg: Box<ParamType<'src>>,
        span: Span,
    },
}

impl ParamType<'_> {
    pub fn span(&self) -> Span {
        match self {
            ParamType::Name(name) => name.span,
            ParamType::Generic { span, .. } => *span,
        }
    }
}

/// `with NAME`, `with expiration`, `with NAME and expiration` after a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traits<'src> {
    pub condition: Option<Ident<'src>>,
    /// The `expiration` keyword, when written.
    pub expiration: Option<Span>,
    /// From `with` to the end.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Namespace<'src> {
    pub doc: Vec<&'src str>,
    pub name: Ident<'src>,
    pub members: Vec<Member<'src>>,
    /// Adds members to a namespace defined elsewhere in the same schema
    /// (OpenFGA's `extend type`) instead of defining it: analysis merges it
    /// into that definition.
    pub extends: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Member<'src> {
    Relation(Relation<'src>),
    Permission(Permission<'src>),
    Error(Span),
}

impl Member<'_> {
    pub fn span(&self) -> Span {
        match self {
            Member::Relation(r) => r.span,
            Member::Permission(p) => p.span,
            Member::Error(span) => *span,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Relation<'src> {
    pub doc: Vec<&'src str>,
    pub name: Ident<'src>,
    /// Empty when the relation lists no types (E0108).
    pub types: Vec<TypeRef<'src>>,
    /// The traits of each type, in the order of `types`; empty when no
    /// type has any (and always so in schemas read from other languages).
    pub traits: Vec<Option<Traits<'src>>>,
    /// `= expr` after the types: the relation then means this expression, in
    /// which `this` is its own tuples (`relation viewer: user = this | owner`).
    pub rewrite: Option<Expr<'src>>,
    pub span: Span,
}

/// One allowed subject type of a relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeRef<'src> {
    /// `user`
    Object(Ident<'src>),
    /// `user:*`; the span covers the whole type.
    Wildcard(Ident<'src>, Span),
    /// `group#member`
    SubjectSet(Ident<'src>, Ident<'src>),
}

impl<'src> TypeRef<'src> {
    pub fn namespace(&self) -> Ident<'src> {
        match self {
            TypeRef::Object(ns) | TypeRef::Wildcard(ns, _) | TypeRef::SubjectSet(ns, _) => *ns,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            TypeRef::Object(ns) => ns.span,
            TypeRef::Wildcard(_, span) => *span,
            TypeRef::SubjectSet(ns, rel) => ns.span.to(rel.span),
        }
    }
}

impl<'src> Relation<'src> {
    /// The traits written after the `i`th type, if any.
    pub fn traits_of(&self, i: usize) -> Option<Traits<'src>> {
        self.traits.get(i).copied().flatten()
    }
}

#[derive(Clone, Debug)]
pub struct Permission<'src> {
    pub doc: Vec<&'src str>,
    pub name: Ident<'src>,
    pub expr: Expr<'src>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Union,
    Intersection,
    Exclusion,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Union => "|",
            Op::Intersection => "&",
            Op::Exclusion => "-",
        }
    }
}

/// How an arrow was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowForm<'src> {
    /// `t->p`
    Arrow,
    /// `t.name(p)`; analysis accepts only `any` and `all` (E0204).
    Method(Ident<'src>),
}

#[derive(Clone, Debug)]
pub enum Expr<'src> {
    /// A relation or permission of this namespace.
    Name(Ident<'src>),
    Arrow {
        tupleset: Ident<'src>,
        form: ArrowForm<'src>,
        target: Ident<'src>,
        span: Span,
    },
    Paren(Box<Expr<'src>>, Span),
    /// `nil`: the empty set.
    Nil(Span),
    /// `this`: the tuples stored in the relation being defined (only in a
    /// relation's rewrite).
    This(Span),
    /// `self`: the object itself, as a subject (SpiceDB's `self`).
    SelfObject(Span),
    /// `head op term op term …`, flat as written.
    Chain {
        head: Box<Expr<'src>>,
        rest: Vec<(Op, Span, Expr<'src>)>,
        span: Span,
    },
}

impl Expr<'_> {
    pub fn span(&self) -> Span {
        match self {
            Expr::Name(name) => name.span,
            Expr::Nil(span) | Expr::This(span) | Expr::SelfObject(span) => *span,
            Expr::Arrow { span, .. } | Expr::Paren(_, span) | Expr::Chain { span, .. } => *span,
        }
    }
}
