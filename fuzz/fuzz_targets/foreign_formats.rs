//! The peers' tuple formats and validation files never panic, and every
//! place they report lies inside the text: SpiceDB relationship lines,
//! OpenFGA tuple files (YAML/JSON list, JSON lines, CSV), Keto's JSON, and
//! zed and fga validation files run through `zanzi::validation::run`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zanzi::source::SourceMap;
use zanzi::tuple::foreign;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let inside = |at: &std::ops::Range<usize>| at.start <= at.end && at.end <= text.len();
    for line in text.lines() {
        if let Err(e) = foreign::parse_spicedb(line) {
            assert!(e.at.end <= line.len());
        }
    }
    for items in [
        foreign::parse_openfga_list(&text),
        Ok(foreign::parse_openfga_jsonl(&text)),
        foreign::parse_openfga_csv(&text),
    ] {
        match items {
            Ok(items) => assert!(items.iter().all(|i| inside(&i.at))),
            Err(e) => assert!(inside(&e.at)),
        }
    }
    if let Err(e) = foreign::parse_keto_json(&text) {
        assert!(inside(&e.at));
    }
    // As a zed and as an fga validation file (the first bytes choose).
    let yaml = match data.first() {
        Some(b) if b % 2 == 0 => format!("relationships: |\n  {}\n{text}", text.replace('\n', "\n  ")),
        _ => format!("tests: []\n{text}"),
    };
    let mut sources = SourceMap::new();
    let file = sources.add("fuzz.yaml", yaml.as_str());
    let report = zanzi::validation::run(&mut sources, file, std::path::Path::new("/nonexistent"));
    for d in &report.diagnostics {
        let span = d.primary.span;
        assert!(span.start <= span.end && (span.end as usize) <= sources.text(span.file).len());
    }
});
