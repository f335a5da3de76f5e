//! Any bytes as an `Authorization` header: no panic; a token that is
//! accepted is a non-empty run of printable ASCII without spaces, taken
//! from the header itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = zanzi::server::auth::bearer_token(data) {
        assert!(!token.is_empty());
        assert!(token.bytes().all(|b| b.is_ascii_graphic()));
        let text = std::str::from_utf8(data).expect("an accepted header is ASCII");
        assert!(text.trim_end_matches(' ').ends_with(token));
        let scheme = text.trim_start_matches(' ').get(..6);
        assert!(scheme.is_some_and(|s| s.eq_ignore_ascii_case("bearer")));
    }
});
