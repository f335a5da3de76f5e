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
pub mod api;
mod cli;
pub mod client;
pub mod diagnostics;
pub mod engine;
pub mod ir;
pub mod load;
pub mod server;
pub mod source;
pub mod store;
pub mod syntax;
pub mod tuple;
pub mod validation;

pub use engine::{Engine, EngineError, EngineOptions};
pub use store::{MemoryStore, Revision, SqliteStore, StoreError, TupleStore};
pub use tuple::{Object, Subject, Tuple};

pub use load::{compile, compile_source, Compilation};

/// Runs the `zanzi` command line; the binary's whole `main`.
pub fn run_cli() -> std::process::ExitCode {
    cli::run()
}
