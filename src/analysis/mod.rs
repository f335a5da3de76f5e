//! Analysis: name resolution and type checking of parsed files, then
//! lowering to the IR.
//!
//! Input: the parsed files of one schema. Output: every diagnostic, and the
//! compiled [`ir::Schema`] when there is no error. Names that failed to parse
//! or to resolve are silenced sentinels, so one mistake yields one diagnostic.

mod conditions;
mod errors;
mod rules;

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

use crate::diagnostics::{suggest, Diagnostic, ToDiagnostic};
use crate::ir::{self, graph, NamespaceId, RelationId};

use crate::source::{SourceMap, Span};
use crate::syntax::{ast, Parsed};
pub use errors::{AnalysisError, CycleStep, MemberContext, NameProblem};

pub use crate::syntax::{KEYWORDS, RESERVED};

/// A declared namespace.
struct NsInfo<'a, 'src> {
    name: ast::Ident<'src>,
    decl: &'a ast::Namespace<'src>,
    relations: Vec<RelationId>,
}

/// A declared relation or permission.
struct RelInfo<'a, 'src> {
    namespace: NamespaceId,
    name: ast::Ident<'src>,
    decl: &'a ast::Member<'src>,
}

/// The symbol tables of one schema.
struct Symbols<'a, 'src> {
    namespaces: Vec<NsInfo<'a, 'src>>,
    relations: Vec<RelInfo<'a, 'src>>,
    ns_by_name: HashMap<&'src str, NamespaceId>,
    rel_by_name: HashMap<(NamespaceId, &'src str), RelationId>,
    /// Names declared in parts that did not parse.
    broken: HashSet<&'src str>,
    sources: &'a SourceMap,
    /// Corrected spellings of invalid declared names, so that a reference
    /// spelt correctly resolves and the declaration's E0101 stands alone.
    ns_aliases: HashMap<String, NamespaceId>,
    rel_aliases: HashMap<(NamespaceId, String), RelationId>,
}

impl<'a, 'src> Symbols<'a, 'src> {
    fn source(&self, span: Span) -> &'a str {
        self.sources.slice(span)
    }

    /// A namespace by name (or by the corrected spelling of an invalid name).
    fn find_ns(&self, name: &str) -> Option<NamespaceId> {
        self.ns_by_name
            .get(name)
            .or_else(|| self.ns_aliases.get(name))
            .copied()
    }

    /// A relation or permission of `ns` by name (or corrected spelling).
    fn find_rel(&self, ns: NamespaceId, name: &str) -> Option<RelationId> {
        self.rel_by_name
            .get(&(ns, name))
            .or_else(|| self.rel_aliases.get(&(ns, name.to_owned())))
            .copied()
    }

    fn ns(&self, id: NamespaceId) -> Option<&NsInfo<'a, 'src>> {
        self.namespaces.get(id.0 as usize)
    }

    fn rel(&self, id: RelationId) -> Option<&RelInfo<'a, 'src>> {
        self.relations.get(id.0 as usize)
    }

    fn ns_name(&self, id: NamespaceId) -> &'src str {
        self.ns(id).map_or("?", |n| n.name.text)
    }

    /// `namespace#name`, for messages.
    fn qualified(&self, id: RelationId) -> String {
        self.rel(id).map_or_else(
            || "?".into(),
            |r| format!("{}#{}", self.ns_name(r.namespace), r.name.text),
        )
    }

    fn member_names(&self, ns: NamespaceId) -> impl Iterator<Item = &'src str> + '_ {
        self.ns(ns)
            .into_iter()
            .flat_map(|n| n.relations.iter())
            .filter_map(|&r| self.rel(r).map(|r| r.name.text))
    }

    fn is_permission(&self, id: RelationId) -> bool {
        self.rel(id)
            .is_some_and(|r| matches!(r.decl, ast::Member::Permission(_)))
    }
}

/// Checks the files of one schema and compiles them.
pub fn analyze(
    sources: &SourceMap,
    files: &[Parsed<'_>],
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Schema> {
    let symbols = collect(sources, files, diags);
    let mut found = Vec::new();
    let conditions = conditions::Conditions::collect(files, &mut found);
    let mut checker = rules::MemberChecker::new(&symbols, conditions);
    let mut relations = Vec::with_capacity(symbols.relations.len());
    for (i, rel) in symbols.relations.iter().enumerate() {
        relations.push(checker.member(RelationId(i as u32), rel));
    }
    let (checked, edges, conditions) = checker.finish();
    found.extend(checked);
    cycles(&symbols, &edges, &mut found);
    let conditions = conditions.finish(&symbols.broken, &mut found);
    let failed = found.iter().any(Diagnostic::is_error);
    diags.extend(found);
    if failed {
        return None;
    }
    let namespaces = symbols
        .namespaces
        .iter()
        .map(|ns| ir::Namespace {
            name: ns.name.text.to_owned(),
            doc: doc(&ns.decl.doc),
            relations: ns.relations.clone(),
        })
        .collect();
    let relations = relations
        .into_iter()
        .zip(&symbols.relations)
        .map(|(kind, info)| {
            Some(ir::Relation {
                namespace: info.namespace,
                name: info.name.text.to_owned(),
                doc: match info.decl {
                    ast::Member::Relation(r) => doc(&r.doc),
                    ast::Member::Permission(p) => doc(&p.doc),
                    ast::Member::Error(_) => None,
                },
                kind: kind?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ir::Schema::assemble_with_conditions(
        namespaces,
        relations,
        conditions?,
    ))
}

fn doc(lines: &[&str]) -> Option<String> {
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Declares every namespace and member, reporting bad and duplicate names.
fn collect<'a, 'src>(
    sources: &'a SourceMap,
    files: &'a [Parsed<'src>],
    diags: &mut Vec<Diagnostic>,
) -> Symbols<'a, 'src> {
    let mut symbols = Symbols {
        sources,
        ns_aliases: HashMap::default(),
        rel_aliases: HashMap::default(),
        namespaces: Vec::new(),
        relations: Vec::new(),
        ns_by_name: HashMap::default(),
        rel_by_name: HashMap::default(),
        broken: files
            .iter()
            .flat_map(|f| f.broken_names.iter().copied())
            .collect(),
    };
    for (ns, members) in merged_declarations(files, &mut symbols.broken, diags) {
        check_declared_name(ns.name, "namespace", diags);
        let id = NamespaceId(symbols.namespaces.len() as u32);
        symbols.ns_by_name.insert(ns.name.text, id);
        // References spelt correctly resolve to the misspelt declaration, so
        // that its E0101 is the only diagnostic.
        if let Some(fixed) = corrected(ns.name.text) {
            symbols.ns_aliases.entry(fixed).or_insert(id);
        }
        let mut relations = Vec::new();
        for member in members {
            let (name, kind) = match member {
                ast::Member::Relation(r) => (r.name, "relation"),
                ast::Member::Permission(p) => (p.name, "permission"),
                ast::Member::Error(_) => continue,
            };
            check_declared_name(name, kind, diags);
            if let Some(&first) = symbols.rel_by_name.get(&(id, name.text)) {
                let first_span = symbols.rel(first).map_or(name.span, |r| r.name.span);
                let error = AnalysisError::DuplicateMember {
                    name: name.text.to_owned(),
                    namespace: ns.name.text.to_owned(),
                    span: name.span,
                    first: first_span,
                };
                diags.push(error.to_diagnostic(()));
                continue;
            }
            let rel = RelationId(symbols.relations.len() as u32);
            symbols.rel_by_name.insert((id, name.text), rel);
            if let Some(fixed) = corrected(name.text) {
                symbols.rel_aliases.entry((id, fixed)).or_insert(rel);
            }
            symbols.relations.push(RelInfo {
                namespace: id,
                name,
                decl: member,
            });
            relations.push(rel);
        }
        symbols.namespaces.push(NsInfo {
            name: ns.name,
            decl: ns,
            relations,
        });
    }
    symbols
}

/// Each namespace's definition with its members and those of its
/// extensions (OpenFGA's `extend type`, in file order), in the order the
/// definitions appear. A second definition is reported (E0103, or E0653
/// between modules) and skipped; so is an extension of a namespace nothing
/// defines (E0652), whose name then silences references to it.
fn merged_declarations<'a, 'src>(
    files: &'a [Parsed<'src>],
    broken: &mut HashSet<&'src str>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(&'a ast::Namespace<'src>, Vec<&'a ast::Member<'src>>)> {
    let declared = || {
        files.iter().flat_map(|file| {
            file.ast.items.iter().filter_map(move |item| match item {
                ast::Item::Namespace(ns) => Some((file.ast.module, ns)),
                ast::Item::Condition(_) | ast::Item::Error(_) => None,
            })
        })
    };
    let mut merged: Vec<(&'a ast::Namespace<'src>, Vec<&'a ast::Member<'src>>)> = Vec::new();
    let mut modules: Vec<Option<ast::Ident<'src>>> = Vec::new();
    let mut by_name: HashMap<&'src str, usize> = HashMap::default();
    for (module, ns) in declared().filter(|(_, ns)| !ns.extends) {
        if let Some(first) = by_name.get(ns.name.text).and_then(|&i| merged.get(i)) {
            let first_module = by_name.get(ns.name.text).and_then(|&i| modules.get(i));
            let error = match (first_module.copied().flatten(), module) {
                (Some(first_module), Some(module)) => AnalysisError::TypeInTwoModules {
                    name: ns.name.text.to_owned(),
                    span: ns.name.span,
                    module: module.text.to_owned(),
                    first: first.0.name.span,
                    first_module: first_module.text.to_owned(),
                },
                _ => AnalysisError::DuplicateNamespace {
                    name: ns.name.text.to_owned(),
                    span: ns.name.span,
                    first: first.0.name.span,
                },
            };
            diags.push(error.to_diagnostic(()));
            continue;
        }
        by_name.insert(ns.name.text, merged.len());
        merged.push((ns, ns.members.iter().collect()));
        modules.push(module);
    }
    let defined: Vec<&'src str> = merged.iter().map(|(ns, _)| ns.name.text).collect();
    for (_, ns) in declared().filter(|(_, ns)| ns.extends) {
        match by_name.get(ns.name.text).and_then(|&i| merged.get_mut(i)) {
            Some((_, members)) => members.extend(ns.members.iter()),
            None => {
                let error = AnalysisError::UndefinedExtension {
                    name: ns.name.text.to_owned(),
                    span: ns.name.span,
                    suggestion: suggest::closest(ns.name.text, defined.iter().copied())
                        .map(str::to_owned),
                };
                diags.push(error.to_diagnostic(()));
                broken.insert(ns.name.text);
            }
        }
    }
    merged
}

/// E0101 / E0102 for a name at its declaration.
fn check_declared_name(name: ast::Ident<'_>, kind: &'static str, diags: &mut Vec<Diagnostic>) {
    let problem = if name.verbatim {
        match crate::syntax::verbatim_name_problem(name.text) {
            Some(why) => NameProblem::InvalidVerbatim { why },
            None => return,
        }
    } else if KEYWORDS.contains(&name.text) {
        NameProblem::Keyword
    } else if RESERVED.contains(&name.text) {
        NameProblem::Reserved
    } else if let Some((why, fixed)) = suggest::identifier_problem(name.text) {
        NameProblem::Invalid { why, fixed }
    } else {
        return;
    };
    let error = AnalysisError::BadName {
        name: name.text.to_owned(),
        span: name.span,
        kind,
        problem,
        reserved: RESERVED,
    };
    diags.push(error.to_diagnostic(()));
}

/// The valid spelling of an invalid declared name, if there is one.
fn corrected(name: &str) -> Option<String> {
    suggest::identifier_problem(name).and_then(|(_, fixed)| fixed)
}

/// How one relation depends on another, for cycle reports; the words are
/// only put together when a cycle is reported.
fn edge_text(symbols: &Symbols<'_, '_>, edge: &graph::Edge<Span>) -> String {
    let from = symbols.qualified(edge.from);
    let to = symbols.qualified(edge.to);
    match (edge.kind, edge.negative) {
        (graph::EdgeKind::Computed, false) => format!("`{from}` uses `{to}`"),
        (graph::EdgeKind::Computed, true) => format!("`{from}` excludes `{to}`"),
        (graph::EdgeKind::Tupleset, _) => format!("`{from}` reads `{to}`"),
        (graph::EdgeKind::Arrow(through), negative) => {
            let verb = if negative { "excludes" } else { "follows" };
            let through = symbols.rel(through).map_or("?", |r| r.name.text);
            format!("`{from}` {verb} `{to}` through `{through}`")
        }
        (graph::EdgeKind::SubjectSet, _) => format!("`{from}` holds subject sets `{to}`"),
    }
}

/// Reports computed-only cycles (E0301) and negation through recursion (E0302).
fn cycles(symbols: &Symbols<'_, '_>, edges: &[graph::Edge<Span>], diags: &mut Vec<Diagnostic>) {
    let nodes = symbols.relations.len();
    let mut in_negative_cycle = HashSet::new();
    let step = |e: &graph::Edge<Span>| CycleStep {
        span: e.label,
        text: edge_text(symbols, e),
    };
    let chain = |cycle: &[&graph::Edge<Span>], name: &str| -> Vec<String> {
        cycle
            .iter()
            .map(|e| symbols.qualified(e.from))
            .chain([name.to_owned()])
            .collect()
    };
    for cycle in graph::negative_cycles(nodes, edges) {
        let Some(first) = cycle.first() else { continue };
        in_negative_cycle.extend(cycle.iter().map(|e| e.from));
        let permission = symbols.qualified(first.from);
        let error = AnalysisError::ExclusionCycle {
            chain: chain(&cycle, &permission),
            permission,
            first: step(first),
            rest: cycle.iter().skip(1).map(|e| step(e)).collect(),
        };
        diags.push(error.to_diagnostic(()));
    }
    for cycle in graph::computed_cycles(nodes, edges) {
        let Some(first) = cycle.first() else { continue };
        // `view = viewer - view` is reported once, as the exclusion it is.
        if cycle.iter().any(|e| in_negative_cycle.contains(&e.from)) {
            continue;
        }
        let permission = symbols.qualified(first.from);
        let self_loop = (cycle.len() == 1).then(|| {
            symbols
                .rel(first.from)
                .map_or("", |r| r.name.text)
                .to_owned()
        });
        let error = AnalysisError::ComputedCycle {
            chain: chain(&cycle, &permission),
            permission,
            first: step(first),
            rest: cycle.iter().skip(1).map(|e| step(e)).collect(),
            self_loop,
        };
        diags.push(error.to_diagnostic(()));
    }
}
