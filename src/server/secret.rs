//! The secrets the settings hold: the token secret (the HMAC key of
//! snapshot and page tokens) and the API keys ([`ApiKey`]).
//!
//! It never shows in logs, metrics, `Debug` output or errors: [`Secret`]
//! prints as `<redacted>`. It comes from `secret_file` (a file holding it,
//! the way to hand it to a server in production), or `secret` in the
//! config file or `ZANZI_SECRET`; there is no flag carrying it, since
//! process listings show flags.
//!
//! Servers sharing a database must share the secret, or a token one of
//! them issued is refused by the others. A fingerprint of the secret
//! (never the secret) is stored in the database ([`fingerprint`]); a server
//! whose secret has another fingerprint refuses to start. `secret_previous`
//! rotates it without downtime: a server accepts tokens signed with either
//! secret, signs with `secret`, and moves the stored fingerprint from the
//! previous secret's to its own (see `docs/operations.md`).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::store::{StoreError, TupleStore};

/// A token secret; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret(text.to_owned())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret(text)
    }
}

impl Secret {
    /// The key bytes, for signing.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret in `path`: the file's content without one trailing
    /// newline. An unreadable or empty file is an error saying why (the
    /// settings add the setting's name and the path); the content is
    /// never in it.
    pub fn from_file(path: &str) -> Result<Secret, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret file: {e}"))?;
        let text = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text);
        if text.is_empty() {
            return Err("the secret file is empty".to_owned());
        }
        Ok(Secret(text.to_owned()))
    }
}

/// The fingerprint of `secret` for the store `store_id`: the first 16
/// bytes of HMAC-SHA256(secret, "zanzi secret fingerprint" || store id),
/// in hex. Tells secrets apart without revealing them.
pub fn fingerprint(secret: &Secret, store_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose()) else {
        return String::new();
    };
    mac.update(b"zanzi secret fingerprint");
    mac.update(store_id.as_bytes());
    let full = mac.finalize().into_bytes();
    full.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Why the secret does not let the server start.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error(
        "a server on PostgreSQL (`{db}`) needs a token secret: set `secret_file` (a file \
         holding it), or `secret` in the config file, or `ZANZI_SECRET`. Without one each \
         server signs snapshot and page tokens with a random key of its own, and the other \
         servers sharing the database would refuse its tokens"
    )]
    Required { db: String },
    #[error(
        "this server's token secret differs from the one the other servers of this database \
         sign with (its fingerprint is not the one stored in the database): their snapshot \
         and page tokens would not verify here, nor this server's there. Start it with the \
         same `secret`; to rotate the secret, start each server with the new `secret` and \
         the old one as `secret_previous`, and once every server runs with the new one, \
         remove `secret_previous`"
    )]
    Mismatch,
    #[error("cannot read or store the secret's fingerprint: {0}")]
    Store(#[from] StoreError),
}

/// Checks `secret` (and `previous`) against the fingerprint stored in
/// `store`, and stores this server's own when there is none or when the
/// stored one is `previous`'s (a rotation moving on).
pub fn check_fingerprint(
    store: &dyn TupleStore,
    store_id: &str,
    secret: &Secret,
    previous: Option<&Secret>,
) -> Result<(), SecretError> {
    let mine = fingerprint(secret, store_id);
    match store.secret_fingerprint()? {
        Some(stored) if stored == mine => Ok(()),
        Some(stored) if previous.is_some_and(|p| fingerprint(p, store_id) == stored) => {
            tracing::info!(
                "the database's servers signed with this server's `secret_previous`; \
                 recording that they now sign with its `secret`"
            );
            store.set_secret_fingerprint(&mine)?;
            Ok(())
        }
        Some(_) => Err(SecretError::Mismatch),
        None => {
            store.set_secret_fingerprint(&mine)?;
            Ok(())
        }
    }
}

/// API keys are secrets the settings hold too (see `server::auth`); the
/// type lives here so that the settings need not import the authentication.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn secrets_never_show_and_files_lose_one_newline() {
        let secret = Secret::from("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "hunter2\n\n").unwrap();
        let read = Secret::from_file(path.to_str().unwrap());
        assert_eq!(read.unwrap().expose(), b"hunter2\n");
        std::fs::write(&path, "\n").unwrap();
        let error = Secret::from_file(path.to_str().unwrap()).unwrap_err();
        assert!(error.contains("empty"), "{error}");
        let missing = dir.path().join("missing");
        let error = Secret::from_file(missing.to_str().unwrap()).unwrap_err();
        assert!(error.contains("cannot read"), "{error}");
    }

    #[test]
    fn the_stored_fingerprint_admits_one_secret_and_rotates() {
        let store = MemoryStore::new();
        let id = store.store_id().unwrap();
        let (old, new) = (Secret::from("old"), Secret::from("new"));
        check_fingerprint(&store, &id, &old, None).unwrap();
        let stored = store.secret_fingerprint().unwrap().unwrap();
        assert!(!stored.contains("old"));
        assert_eq!(stored.len(), 32);
        check_fingerprint(&store, &id, &old, None).unwrap();
        assert!(matches!(
            check_fingerprint(&store, &id, &new, None),
            Err(SecretError::Mismatch)
        ));
        // Rolling: the new secret with the old as previous moves it on…
        check_fingerprint(&store, &id, &new, Some(&old)).unwrap();
        check_fingerprint(&store, &id, &new, None).unwrap();
        // …after which the old secret alone is refused.
        assert!(check_fingerprint(&store, &id, &old, None).is_err());
    }
}
