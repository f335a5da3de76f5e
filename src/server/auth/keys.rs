//! Preshared API keys: which keys are valid where, and the comparison of a
//! presented token with every configured key in constant time.
//!
//! Keys are kept as SHA-256 digests and a candidate's digest is compared
//! with each of them ([`subtle`]), all of them every time: neither the
//! time taken nor the order of the keys tells an attacker how much of a
//! guess was right, or which key it came close to. Several keys may be
//! valid at once, which is how a key is rotated.

use sha2::{Digest as _, Sha256};
use subtle::{Choice, ConstantTimeEq as _};

/// The shortest key accepted, in bytes: 16 random bytes are beyond
/// guessing; shorter keys are passwords.
pub const MIN_KEY_BYTES: usize = 16;

/// A configured key: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// A key as written in a setting, checked; the error says what is
    /// wrong without repeating the key.
    pub fn new(text: &str) -> Result<ApiKey, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a key is empty (a stray comma, or an empty value?)".into());
        }
        if !text.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            return Err(
                "a key may hold only printable ASCII without spaces or commas (it travels in \
                 an `Authorization: Bearer` header)"
                    .into(),
            );
        }
        if text.len() < MIN_KEY_BYTES {
            return Err(format!(
                "a key is {} bytes long; keys must be at least {MIN_KEY_BYTES} (generate one \
                 with `openssl rand -hex 32`)",
                text.len()
            ));
        }
        Ok(ApiKey(text.to_owned()))
    }

    /// The key itself, to send or compare.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Where a key is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyScope {
    /// Every API (`auth_keys`, `auth_keys_file`).
    Every,
    /// The read API only (`auth_read_keys`).
    Read,
    /// The write API only (`auth_write_keys`).
    Write,
}

/// Where a presented token matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Matched {
    pub every: bool,
    pub read: bool,
    pub write: bool,
}

impl Matched {
    pub fn any(self) -> bool {
        self.every || self.read || self.write
    }
}

/// The configured keys, as digests.
#[derive(Default)]
pub struct PresharedKeys {
    keys: Vec<([u8; 32], KeyScope)>,
}

impl std::fmt::Debug for PresharedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresharedKeys")
            .field("count", &self.keys.len())
            .finish()
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl PresharedKeys {
    pub fn add(&mut self, key: &ApiKey, scope: KeyScope) {
        self.keys.push((digest(key.expose()), scope));
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Where `candidate` is valid, comparing it with every key.
    pub fn find(&self, candidate: &str) -> Matched {
        let presented = digest(candidate);
        let (mut every, mut read, mut write) = (Choice::from(0), Choice::from(0), Choice::from(0));
        for (key, scope) in &self.keys {
            let equal = key.ct_eq(&presented);
            match scope {
                KeyScope::Every => every |= equal,
                KeyScope::Read => read |= equal,
                KeyScope::Write => write |= equal,
            }
        }
        Matched {
            every: every.into(),
            read: read.into(),
            write: write.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_never_shown() {
        let key = ApiKey::new("0123456789abcdef").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        for bad in [
            "",
            "   ",
            "short",
            "has a space in it!",
            "comma,comma,comma",
            "clé-clé-clé-clé-clé",
        ] {
            let error = ApiKey::new(bad).unwrap_err();
            assert!(!error.contains(bad) || bad.trim().is_empty(), "{error}");
        }
    }

    #[test]
    fn every_key_is_valid_where_its_scope_says() {
        let mut keys = PresharedKeys::default();
        let every = ApiKey::new("every-every-every-1").unwrap();
        let read = ApiKey::new("read-read-read-read-1").unwrap();
        let write = ApiKey::new("write-write-write-1").unwrap();
        keys.add(&every, KeyScope::Every);
        keys.add(&read, KeyScope::Read);
        keys.add(&write, KeyScope::Write);
        assert_eq!(
            keys.find(every.expose()),
            Matched {
                every: true,
                read: false,
                write: false
            }
        );
        assert_eq!(
            keys.find(read.expose()),
            Matched {
                every: false,
                read: true,
                write: false
            }
        );
        assert!(keys.find(write.expose()).write);
        assert!(!keys.find("every-every-every-2").any());
        assert!(!keys.find("").any());
    }
}
