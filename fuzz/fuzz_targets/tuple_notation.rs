//! Any text as a tuple in the notation, suffixes included: no panic, and a
//! tuple that parses prints back to text that parses to the same tuple.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zanzi::tuple::Tuple;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tuple) = text.parse::<Tuple>() {
        let printed = tuple.to_string();
        let again: Tuple = printed.parse().expect("printed tuples parse");
        assert_eq!(again, tuple);
    }
});
