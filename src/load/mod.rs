//! Getting a schema from files: finding them, reading them, and compiling
//! them, the same way for every command, the server and validation files.
//!
//! A schema path is a compiled IR file (`.json`), a `.zanzi` source file, an
//! OpenFGA `fga.mod` (its modules, in its order, form one schema), or a
//! directory whose `.zanzi` files (recursively, in name order, hidden
//! folders and `target` skipped) form one schema; an `fga.mod` met on the
//! way is a schema of its own, and the modules it lists are not read again. Files larger than
//! [`Limits::max_file_bytes`] are refused before they are read; bytes that
//! are not UTF-8 are replaced and reported as a diagnostic (E0008), so the
//! rest of the schema is still checked. The kind of a file is decided by
//! [`SourceKind::of`]: the one place a new front end plugs in.

pub mod convert;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::diagnostics::{self, codes, Diagnostic, Label, ToDiagnostic};
use crate::foreign::openfga::modfile;
use crate::ir::{IrError, Schema};
use crate::source::{FileId, SourceMap, Span};
use crate::{analysis, foreign, syntax};

/// How much a loader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Larger files are refused before reading (spans are 32-bit offsets).
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 1 << 30,
        }
    }
}

/// Why files could not be read. Problems inside a file that was read are
/// diagnostics, not errors.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read directory `{path}`")]
    ReadDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is {size} bytes; zanzi reads files of at most {max} bytes")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("no {what} found in directory `{path}`")]
    NoFiles { path: String, what: &'static str },
    #[error("`{path}` is not UTF-8")]
    NotUtf8 { path: String },
    #[error("cannot load the schema `{path}`")]
    CompiledSchema {
        path: String,
        #[source]
        source: IrError,
    },
}

impl LoadError {
    /// The error with its cause on one line, for messages that are not
    /// rendered as a chain.
    pub fn with_cause(&self) -> String {
        diagnostics::with_causes(self)
    }
}

/// A problem in a file that was read, reported as a diagnostic so that the
/// rest of the schema is still checked (unlike a [`LoadError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadDiagnostic {
    /// Bytes that are not UTF-8, replaced in the kept text; `span` covers the
    /// first replacement character.
    NotUtf8 { span: Span },
}

impl ToDiagnostic for LoadDiagnostic {
    type Context<'a> = ();

    fn to_diagnostic(&self, (): ()) -> Diagnostic {
        match self {
            LoadDiagnostic::NotUtf8 { span } => Diagnostic::new(
                codes::E0008,
                "file is not valid UTF-8",
                Label::new(*span, "invalid bytes start here"),
            )
            .with_help("save the file as UTF-8"),
        }
    }
}

/// What a file holds, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// zanzi namespace language.
    Zanzi,
    /// A compiled schema, as `zanzi compile` writes it.
    CompiledIr,
    /// A validation file: a schema, tuples and assertions.
    Validation,
    /// A schema in a foreign language (Keto OPL, SpiceDB, OpenFGA): see
    /// [`foreign::Dialect::of_file`].
    Foreign,
}

impl SourceKind {
    /// The kind of `path` by its extension, `None` for files a directory
    /// walk passes over.
    pub fn of(path: &Path) -> Option<SourceKind> {
        match path.extension().and_then(|e| e.to_str())? {
            "zanzi" => Some(SourceKind::Zanzi),
            "zed" | "fga" | "ts" => Some(SourceKind::Foreign),
            "json" => Some(SourceKind::CompiledIr),
            "yaml" | "yml" => Some(SourceKind::Validation),
            _ => None,
        }
    }
}

/// What the paths on a command line contain.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Schema source files, grouped by the directory they are in.
    pub schema_dirs: BTreeMap<PathBuf, Vec<PathBuf>>,
    /// Validation files (`.yaml`, `.yml`).
    pub validation_files: Vec<PathBuf>,
}

impl Inputs {
    pub fn schema_files(&self) -> impl Iterator<Item = &PathBuf> {
        self.schema_dirs.values().flatten()
    }

    fn count(&self) -> usize {
        self.schema_files().count() + self.validation_files.len()
    }
}

/// Expands files and directories into schema sources (and, with
/// `with_validation`, validation files). A file named explicitly is taken
/// as a schema source whatever its extension; a directory without any is
/// an error.
pub fn discover(paths: &[PathBuf], with_validation: bool) -> Result<Inputs, LoadError> {
    let mut inputs = Inputs::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| LoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            let before = inputs.count();
            walk(path, with_validation, &mut inputs, &mut HashSet::new())?;
            if inputs.count() == before {
                return Err(LoadError::NoFiles {
                    path: path.display().to_string(),
                    what: if with_validation {
                        "`.zanzi` schema or `.yaml` validation files"
                    } else {
                        "`.zanzi` schema files"
                    },
                });
            }
        } else if with_validation && SourceKind::of(path) == Some(SourceKind::Validation) {
            inputs.validation_files.push(path.clone());
        } else {
            add_schema(path, &mut inputs);
        }
    }
    Ok(inputs)
}

/// Files are grouped by directory and kept in name order, so that a schema
/// compiles the same (same IR hash) whatever order the paths were given in;
/// one file named twice (`a.zanzi`, `./a.zanzi`) is read once.
fn add_schema(path: &Path, inputs: &mut Inputs) {
    // A modular model is a schema of its own, whatever lies next to it.
    let dir = if modfile::is_mod_file(path) {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let same = |f: &PathBuf| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()) == canonical;
    if inputs.schema_dirs.values().flatten().any(same) {
        return;
    }
    let files = inputs.schema_dirs.entry(dir).or_default();
    let at = files.partition_point(|f| f.file_name() < path.file_name());
    files.insert(at, path.to_path_buf());
}

/// `modules` holds the files an `fga.mod` found on the way lists: they are
/// read through it, as one modular model, not as schemas of their own.
fn walk(
    dir: &Path,
    with_validation: bool,
    inputs: &mut Inputs,
    modules: &mut HashSet<PathBuf>,
) -> Result<(), LoadError> {
    let read_dir_error = |source| LoadError::ReadDir {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_dir_error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for manifest in entries
        .iter()
        .filter(|p| modfile::is_mod_file(p) && p.is_file())
    {
        modules.extend(listed_modules(manifest));
        add_schema(manifest, inputs);
    }
    for path in entries {
        if path.is_dir() {
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n == "target");
            if !hidden {
                walk(&path, with_validation, inputs, modules)?;
            }
            continue;
        }
        match SourceKind::of(&path) {
            _ if modules.contains(&canonical(&path)) => {}
            Some(SourceKind::Zanzi) => add_schema(&path, inputs),
            // Any TypeScript is not a schema: only `*.keto.ts` files are walked into.
            Some(SourceKind::Foreign)
                if !path.to_string_lossy().ends_with(".ts")
                    || path.to_string_lossy().ends_with(".keto.ts") =>
            {
                add_schema(&path, inputs)
            }
            Some(SourceKind::Validation) if with_validation && !plainly_not_validation(&path) => {
                inputs.validation_files.push(path)
            }
            _ => {}
        }
    }
    Ok(())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The module files an `fga.mod` lists (its problems are reported when it
/// is compiled, not here).
fn listed_modules(manifest: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let dir = manifest.parent().unwrap_or(Path::new(""));
    let mut ignored = Vec::new();
    modfile::parse(FileId::default(), &text, &mut ignored)
        .into_iter()
        .map(|entry| canonical(&dir.join(entry.path)))
        .collect()
}

/// A YAML file whose top level is a list, such as a tuple file next to
/// OpenFGA store tests: no validation file is a list, so a directory walk
/// passes it over (a file named explicitly is still read and reported).
fn plainly_not_validation(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines()
        .map(str::trim_end)
        .find(|l| {
            let l = l.trim_start();
            !l.is_empty() && !l.starts_with('#') && !l.starts_with("---") && !l.starts_with('%')
        })
        .is_some_and(|l| l == "-" || l.starts_with("- ") || l.starts_with('['))
}

/// Reads a whole file, refusing one larger than the limit before reading.
pub fn read_bytes(path: &Path, limits: &Limits) -> Result<Vec<u8>, LoadError> {
    let read_error = |source| LoadError::Read {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if meta.len() > limits.max_file_bytes {
        return Err(LoadError::TooLarge {
            path: path.display().to_string(),
            size: meta.len(),
            max: limits.max_file_bytes,
        });
    }
    std::fs::read(path).map_err(read_error)
}

/// Reads a source file into the map; bytes that are not UTF-8 are replaced
/// and reported (E0008) rather than refused.
pub fn read_source(
    sources: &mut SourceMap,
    path: &Path,
    limits: &Limits,
    diags: &mut Vec<Diagnostic>,
) -> Result<FileId, LoadError> {
    let bytes = read_bytes(path, limits)?;
    Ok(add_source_bytes(sources, display_name(path), bytes, diags))
}

/// Adds raw bytes as a source, reporting invalid UTF-8 (E0008).
pub fn add_source_bytes(
    sources: &mut SourceMap,
    name: String,
    bytes: Vec<u8>,
    diags: &mut Vec<Diagnostic>,
) -> FileId {
    match String::from_utf8(bytes) {
        Ok(text) => sources.add(name, text),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let file = sources.add(name, text);
            let at = u32::try_from(valid).unwrap_or(u32::MAX);
            // The replacement character is three bytes long in the text we keep.
            let problem = LoadDiagnostic::NotUtf8 {
                span: Span::new(file, at, at.saturating_add(3)),
            };
            diags.push(problem.to_diagnostic(()));
            file
        }
    }
}

/// Paths are shown as given, with `/` separators.
pub fn display_name(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The result of compiling one schema.
#[derive(Debug)]
pub struct Compilation {
    /// Every diagnostic, warnings included, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The compiled schema, when there was no error.
    pub schema: Option<Schema>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles the given files of `sources` as one schema.
pub fn compile(sources: &SourceMap, files: &[FileId]) -> Compilation {
    compile_as(sources, files, None)
}

/// Compiles the given files as one schema in `dialect` (`None`: each in
/// the language its name says), for schemas whose file name does not tell,
/// such as one written inline in a foreign validation file.
pub fn compile_as(
    sources: &SourceMap,
    files: &[FileId],
    dialect: Option<foreign::Dialect>,
) -> Compilation {
    let mut diags = Vec::new();
    let parsed: Vec<_> = files
        .iter()
        .map(|&file| {
            let text = sources.text(file);
            let named = || foreign::Dialect::of_file(Path::new(sources.name(file)), Some(text));
            match dialect.or_else(named) {
                Some(dialect) => foreign::parse(dialect, file, text, &mut diags),
                None => syntax::parse(file, text, &mut diags),
            }
        })
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

/// Reads `files` into `sources` and compiles them as one schema; read
/// problems (E0008) are among the diagnostics.
pub fn compile_files(
    sources: &mut SourceMap,
    files: &[PathBuf],
    limits: &Limits,
) -> Result<Compilation, LoadError> {
    let mut read_diags = Vec::new();
    let mut ids = Vec::new();
    for path in files {
        if modfile::is_mod_file(path) {
            ids.extend(read_modules(sources, path, limits, &mut read_diags)?);
        } else {
            ids.push(read_source(sources, path, limits, &mut read_diags)?);
        }
    }
    let mut compilation = compile(sources, &ids);
    if read_diags.iter().any(Diagnostic::is_error) {
        compilation.schema = None;
    }
    compilation.diagnostics.extend(read_diags);
    diagnostics::sort_and_dedup(&mut compilation.diagnostics);
    Ok(compilation)
}

/// Reads an `fga.mod` and the module files it lists, in its order; the
/// manifest is among the sources (for its diagnostics) but not returned,
/// as it is not a schema file. A module that cannot be read is reported on
/// its line of the manifest (E0655).
fn read_modules(
    sources: &mut SourceMap,
    manifest: &Path,
    limits: &Limits,
    diags: &mut Vec<Diagnostic>,
) -> Result<Vec<FileId>, LoadError> {
    let id = read_source(sources, manifest, limits, diags)?;
    let entries = modfile::parse(id, sources.text(id), diags);
    let dir = manifest.parent().unwrap_or(Path::new(""));
    let mut ids = Vec::new();
    for entry in entries {
        match read_source(sources, &dir.join(&entry.path), limits, diags) {
            Ok(module) => ids.push(module),
            Err(err) => {
                let reason = match &err {
                    LoadError::Read { source, .. } => source.to_string(),
                    other => other.with_cause(),
                };
                diags.push(modfile::unreadable(&entry, &reason));
            }
        }
    }
    Ok(ids)
}

/// Loads the schema at `path` (compiled IR, a source file, or a directory
/// of sources), adding its sources to `sources`.
pub fn load_schema_into(
    sources: &mut SourceMap,
    path: &Path,
    limits: &Limits,
) -> Result<Compilation, LoadError> {
    if SourceKind::of(path) == Some(SourceKind::CompiledIr) && !path.is_dir() {
        let bytes = read_bytes(path, limits)?;
        let text = String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 {
            path: display_name(path),
        })?;
        if foreign::Dialect::of_file(path, Some(&text)).is_some() {
            let file = sources.add(display_name(path), text);
            return Ok(compile(sources, &[file]));
        }
        let schema = Schema::from_json(&text).map_err(|source| LoadError::CompiledSchema {
            path: display_name(path),
            source,
        })?;
        return Ok(Compilation {
            diagnostics: Vec::new(),
            schema: Some(schema),
        });
    }
    let found = discover(&[path.to_path_buf()], false)?;
    let files: Vec<PathBuf> = found.schema_files().cloned().collect();
    compile_files(sources, &files, limits)
}

/// Loads the schema at `path` into a new source map: see [`load_schema_into`].
pub fn load_schema(path: &Path, limits: &Limits) -> Result<(SourceMap, Compilation), LoadError> {
    let mut sources = SourceMap::new();
    let compilation = load_schema_into(&mut sources, path, limits)?;
    Ok((sources, compilation))
}
