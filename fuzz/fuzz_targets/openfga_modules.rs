//! Any bytes as an OpenFGA modular model: the first part as an `fga.mod`,
//! the rest (split at NUL bytes) as module files compiled as one schema.
//! No panic, every span inside its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zanzi::source::{FileId, SourceMap};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let manifest = parts.next().unwrap_or_default();
    let mut diags = Vec::new();
    let _ = zanzi::foreign::openfga::modfile::parse(FileId(0), manifest, &mut diags);
    for d in &diags {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            assert!(label.span.start <= label.span.end);
            assert!(label.span.end as usize <= manifest.len());
        }
    }
    let mut sources = SourceMap::new();
    let files: Vec<FileId> = parts
        .enumerate()
        .map(|(i, module)| sources.add(format!("m{i}.fga"), module))
        .collect();
    let compiled = zanzi::compile(&sources, &files);
    for d in &compiled.diagnostics {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            assert!(label.span.start <= label.span.end);
            assert!(label.span.end as usize <= sources.text(label.span.file).len());
        }
    }
    let _ = zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics);
});
