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

pub use crate::server::secret::{ApiKey, MIN_KEY_BYTES};

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
