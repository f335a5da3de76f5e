//! The `Authorization` header (and gRPC's `authorization` metadata):
//! `Bearer <token>`, the scheme in any case, one space or more before the
//! token. Every refusal says what was wrong without echoing the header,
//! which may hold a secret sent under the wrong scheme.

use thiserror::Error;

/// Why an `Authorization` header was refused.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("several `Authorization` headers; send exactly one")]
    Several,
    #[error("the `Authorization` header is not printable ASCII")]
    NotAscii,
    #[error("the `Authorization` header must be `Bearer <token>`; no other scheme is accepted")]
    WrongScheme,
    #[error("the `Authorization` header has no token after `Bearer`")]
    EmptyToken,
    #[error("the `Authorization` header's token contains a space")]
    SpaceInToken,
}

/// The token of one `Authorization` header value.
pub fn bearer_token(value: &[u8]) -> Result<&str, HeaderError> {
    if !value.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Err(HeaderError::NotAscii);
    }
    let text = std::str::from_utf8(value).map_err(|_| HeaderError::NotAscii)?;
    let text = text.trim_matches(' ');
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(HeaderError::WrongScheme);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(HeaderError::EmptyToken);
    }
    if token.contains(' ') {
        return Err(HeaderError::SpaceInToken);
    }
    Ok(token)
}

/// The bearer token of a request's headers (or a call's metadata):
/// `None` when there is no `Authorization` header.
pub fn from_headers(headers: &http::HeaderMap) -> Result<Option<&str>, HeaderError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(HeaderError::Several);
    }
    bearer_token(value.as_bytes()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bearer_tokens_and_what_is_refused() {
        assert_eq!(bearer_token(b"Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token(b"bearer   abc"), Ok("abc"));
        assert_eq!(bearer_token(b"BEARER a.b.c"), Ok("a.b.c"));
        assert_eq!(
            bearer_token(b"Basic dXNlcjpwYXNz"),
            Err(HeaderError::WrongScheme)
        );
        assert_eq!(
            bearer_token(b"secret-key-sent-bare"),
            Err(HeaderError::WrongScheme)
        );
        assert_eq!(bearer_token(b"Bearer"), Err(HeaderError::EmptyToken));
        assert_eq!(bearer_token(b"Bearer    "), Err(HeaderError::EmptyToken));
        assert_eq!(bearer_token(b"Bearer a b"), Err(HeaderError::SpaceInToken));
        assert_eq!(bearer_token(b"Bearer\tabc"), Err(HeaderError::NotAscii));
        assert_eq!(
            bearer_token("Bearer clé".as_bytes()),
            Err(HeaderError::NotAscii)
        );
        assert_eq!(bearer_token(b""), Err(HeaderError::WrongScheme));
    }

    #[test]
    fn one_header_only() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(from_headers(&headers), Ok(None));
        headers.append(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer one"),
        );
        assert_eq!(from_headers(&headers), Ok(Some("one")));
        headers.append(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer two"),
        );
        assert_eq!(from_headers(&headers), Err(HeaderError::Several));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = bearer_token(&bytes);
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,64}") {
            let _ = bearer_token(text.as_bytes());
        }

        #[test]
        fn bearer_tokens_round_trip(
            token in "[!-~]{1,64}",
            upper in proptest::collection::vec(any::<bool>(), 6),
            spaces in 1usize..4,
        ) {
            let scheme: String = "bearer"
                .chars()
                .zip(upper)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            let header = format!("{scheme}{}{token}", " ".repeat(spaces));
            prop_assert_eq!(bearer_token(header.as_bytes()), Ok(token.as_str()));
        }
    }
}
