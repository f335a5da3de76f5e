//! zanzi: a Zanzibar-style authorization system.
//!
//! The modules form layers, each importing only from those before it
//! (docs/architecture.md; `tests/layers.rs` checks it):
//!
//! - [`source`] and [`diagnostics`]: files, spans, and the one diagnostic
//!   type every stage reports with;
//! - [`ir`]: the compiled, serializable schema, the contract between the
//!   compiler and the engine;
//! - [`tuple`](mod@tuple): relation tuples, their text notation, and their validation
//!   against a schema;
//! - [`syntax`] (lexing, parsing, formatting) and [`analysis`] (name
//!   resolution, type checking, lowering): the compiler;
//! - [`foreign`]: Keto's, SpiceDB's and OpenFGA's schema languages read
//!   into the same syntax tree;
//! - [`load`]: schemas from files, the same way for every caller;
//! - [`store`]: tuples with revisions, in memory, in SQLite or in PostgreSQL;
//! - [`engine`]: checks, expands and lookups, interpreting the IR against a
//!   store snapshot;
//! - [`validation`]: validation files (a schema, tuples, assertions);
//! - [`api`]: the wire types and subject mapping every protocol shares;
//! - [`server`] (`zanzi serve`, embeddable) and [`client`] (the CLI's
//!   remote mode); the command line itself is behind [`run_cli`].
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
pub mod condition;
pub mod diagnostics;
pub mod engine;
pub mod foreign;
pub mod ir;
pub mod load;
pub mod server;
pub mod source;
pub mod store;
pub mod syntax;
pub mod tuple;
pub mod validation;

pub use engine::{Engine, EngineError, EngineOptions};
pub use store::{
    Maintenance, MemoryStore, PostgresStore, Reader, Revision, SchemaStore, SqliteStore, Store,
    StoreError, TupleStore,
};
pub use tuple::{Object, Subject, Tuple};

pub use load::{compile, compile_source, Compilation};

/// Runs the `zanzi` command line; the binary's whole `main`.
pub fn run_cli() -> std::process::ExitCode {
    cli::run()
}
