//! zanzi: a Zanzibar-style authorization system.
//!
//! The pipeline, one module per stage: [`source`] text → [`syntax`] (lexing,
//! parsing, formatting) → [`analysis`] (name resolution, type checking) →
//! [`ir`] (the compiled, serializable schema the engine interprets).
//! [`diagnostics`] is shared by every stage; [`cli`] is the `zanzi` binary
//! and [`server`] is `zanzi serve`, the HTTP API.
//!
//! At run time: [`tuple`] is the data model and its text notation (with
//! write validation against a schema), [`store`] keeps tuples with revisions
//! (in memory or in SQLite), and [`engine`] answers checks, expands and
//! lookups by interpreting the IR against a store snapshot:
//!
//! ```
//! use zanzi::{Engine, MemoryStore, Tuple};
//!
//! let (_, compiled) = zanzi::compile_source(
//!     "doc.zanzi",
//!     "namespace user {}
//!      namespace doc { relation viewer: user  permission view = viewer }",
//! );
//! let schema = compiled.schema.expect("the schema compiles");
//! let store = MemoryStore::new();
//! let grant: Tuple = "doc:readme#viewer@user:alice".parse().expect("valid tuple");
//! let rev = zanzi::store::write_validated(&store, &schema, &[grant], &[]).expect("written");
//! let question: Tuple = "doc:readme#view@user:alice".parse().expect("valid tuple");
//! assert!(Engine::new(&schema, &store).check_tuple(&question, rev).expect("answered"));
//! ```

pub mod analysis;
pub mod cli;
pub mod diagnostics;
pub mod engine;
pub mod ir;
pub mod server;
pub mod source;
pub mod store;
pub mod syntax;
pub mod tuple;
pub mod validation;

pub use engine::{Engine, EngineError, EngineOptions};
pub use store::{
    Maintenance, MemoryStore, Reader, Revision, SchemaStore, SqliteStore, Store, StoreError,
    TupleStore,
};
pub use tuple::{Object, Subject, Tuple};

use diagnostics::Diagnostic;
use source::{FileId, SourceMap};

/// The result of compiling one schema.
#[derive(Debug)]
pub struct Compilation {
    /// Every diagnostic, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The compiled schema, when there was no error.
    pub schema: Option<ir::Schema>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles the given files of `sources` as one schema.
pub fn compile(sources: &SourceMap, files: &[FileId]) -> Compilation {
    let mut diags = Vec::new();
    let parsed: Vec<_> = files
        .iter()
        .map(|&file| syntax::parse(file, sources.text(file), &mut diags))
        .collect();
    let schema = analysis::analyze(sources, &parsed, &mut diags);
    let schema = schema.filter(|_| !diags.iter().any(Diagnostic::is_error));
    diagnostics::sort_and_dedup(&mut diags);
    Compilation {
        diagnostics: diags,
        schema,
    }
}

/// Compiles one source text (convenience for tests and embedding).
pub fn compile_source(name: &str, text: &str) -> (SourceMap, Compilation) {
    let mut sources = SourceMap::new();
    let file = sources.add(name, text);
    let compilation = compile(&sources, &[file]);
    (sources, compilation)
}
