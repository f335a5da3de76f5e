//! Formatting never changes what a schema means, and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zanzi::source::SourceMap;

fn format(text: &str) -> Option<String> {
    let mut sources = SourceMap::new();
    let file = sources.add("f.zanzi", text);
    let mut diags = Vec::new();
    let parsed = zanzi::syntax::parse(file, text, &mut diags);
    (!diags.iter().any(|d| d.is_error())).then(|| zanzi::syntax::fmt::format(&parsed, text))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(once) = format(text) else { return };
    let twice = format(&once).expect("formatted output parses");
    assert_eq!(once, twice);
    let hash = |t: &str| zanzi::compile_source("f.zanzi", t).1.schema.map(|s| s.hash);
    assert_eq!(hash(text), hash(&once));
});
