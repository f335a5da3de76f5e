//! Any bytes through the Ory Keto front end and zanzi's analysis: no panic,
//! every label inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (sources, compiled) = zanzi::compile_source("fuzz.keto.ts", &text);
    for d in &compiled.diagnostics {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            assert!(label.span.start <= label.span.end);
            assert!(label.span.end as usize <= text.len());
        }
    }
    let _ = zanzi::diagnostics::render_plain(&sources, &compiled.diagnostics);
});
