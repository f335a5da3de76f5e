//! Finding and reading the files a command was given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::{miette, IntoDiagnostic, WrapErr};

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, SourceMap, Span};

/// Larger files are refused before reading (spans are 32-bit offsets).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// What the paths on a command line contain.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Schema files, grouped by the directory they are in.
    pub schema_dirs: BTreeMap<PathBuf, Vec<PathBuf>>,
    /// Validation files (`.yaml`, `.yml`).
    pub validation_files: Vec<PathBuf>,
}

impl Inputs {
    pub fn schema_files(&self) -> impl Iterator<Item = &PathBuf> {
        self.schema_dirs.values().flatten()
    }
}

fn is_schema(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zanzi")
}

fn is_validation(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

/// Expands files and directories (recursively, in name order).
pub fn discover(paths: &[PathBuf], with_validation: bool) -> miette::Result<Inputs> {
    let mut inputs = Inputs::default();
    for path in paths {
        let meta = std::fs::metadata(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read `{}`", path.display()))?;
        if meta.is_dir() {
            let before = inputs.schema_files().count() + inputs.validation_files.len();
            walk(path, with_validation, &mut inputs)?;
            let after = inputs.schema_files().count() + inputs.validation_files.len();
            if after == before {
                let what = if with_validation {
                    "`.zanzi` schema or `.yaml` validation files"
                } else {
                    "`.zanzi` schema files"
                };
                return Err(miette!("no {what} found in directory `{}`", path.display()));
            }
        } else if is_schema(path) {
            add_schema(path, &mut inputs);
        } else if with_validation && is_validation(path) {
            inputs.validation_files.push(path.clone());
        } else {
            // An explicitly named file is taken as a schema whatever its extension.
            add_schema(path, &mut inputs);
        }
    }
    Ok(inputs)
}

/// Files are grouped by directory and kept in name order, so that a schema
/// compiles the same (same IR hash) whatever order the paths were given in;
/// one file named twice (`a.zanzi`, `./a.zanzi`) is read once.
fn add_schema(path: &Path, inputs: &mut Inputs) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let same = |f: &PathBuf| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()) == canonical;
    if inputs.schema_dirs.values().flatten().any(same) {
        return;
    }
    let files = inputs.schema_dirs.entry(dir).or_default();
    let at = files.partition_point(|f| f.file_name() < path.file_name());
    files.insert(at, path.to_path_buf());
}

fn walk(dir: &Path, with_validation: bool, inputs: &mut Inputs) -> miette::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read directory `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n == "target");
            if !hidden {
                walk(&path, with_validation, inputs)?;
            }
        } else if is_schema(&path) {
            add_schema(&path, inputs);
        } else if with_validation && is_validation(&path) {
            inputs.validation_files.push(path);
        }
    }
    Ok(())
}

/// Reads a source file into the map. Bytes that are not UTF-8 are replaced
/// and reported (E0008) rather than refused, so the rest is still checked.
pub fn load(
    sources: &mut SourceMap,
    path: &Path,
    diags: &mut Vec<Diagnostic>,
) -> miette::Result<FileId> {
    let name = display_name(path);
    let bytes = read_bytes(path)?;
    Ok(add_bytes(sources, name, bytes, diags))
}

/// Adds raw bytes as a source, reporting invalid UTF-8 (E0008).
pub fn add_bytes(
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
            diags.push(
                Diagnostic::new(
                    codes::E0008,
                    "file is not valid UTF-8",
                    Label::new(
                        Span::new(file, at, at.saturating_add(3)),
                        "invalid bytes start here",
                    ),
                )
                .with_help("save the file as UTF-8"),
            );
            file
        }
    }
}

pub fn read_bytes(path: &Path) -> miette::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read `{}`", path.display()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(miette!(
            "`{}` is {} bytes; zanzi reads files of at most {} bytes",
            path.display(),
            meta.len(),
            MAX_FILE_BYTES
        ));
    }
    std::fs::read(path)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read `{}`", path.display()))
}

/// Paths are shown as given, with `/` separators.
pub fn display_name(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}
