//! Snapshot tokens ("zookies") and page tokens: opaque, bound to one store,
//! integrity-protected with HMAC-SHA256 under the server secret.
//!
//! A snapshot token is `zk1_` and the unpadded base64url of
//! `[1][store id: 16 bytes][revision: u64 big-endian][MAC: 16 bytes]`; a page
//! token is `pt1_` and the same over
//! `[1][store id][revision][query hash: 8 bytes][cursor bytes][MAC]`. The MAC
//! (HMAC-SHA256 truncated to 128 bits) covers everything before it, prefix
//! included, so a changed byte, a cut token or a token signed with another
//! secret is refused; a correctly signed token of another store (servers
//! sharing a secret) is refused by its store id. Decoding never panics and
//! names the problem.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use crate::store::Revision;

type HmacSha256 = Hmac<Sha256>;

const SNAPSHOT_PREFIX: &str = "zk1_";
const PAGE_PREFIX: &str = "pt1_";
const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
const STORE_LEN: usize = 16;

/// Signs and checks tokens for one store.
#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
    store: [u8; STORE_LEN],
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

/// What a page token holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageToken {
    pub revision: Revision,
    pub query_hash: [u8; 8],
    pub cursor: String,
}

impl TokenKeys {
    /// `store_id` is the store's id (hex of 16 bytes; anything else is hashed).
    pub fn new(secret: &[u8], store_id: &str) -> TokenKeys {
        let mut store = [0u8; STORE_LEN];
        let decoded: Option<Vec<u8>> = (store_id.len() == 2 * STORE_LEN)
            .then(|| {
                (0..STORE_LEN)
                    .map(|i| {
                        store_id
                            .get(2 * i..2 * i + 2)
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                    })
                    .collect()
            })
            .flatten();
        match decoded {
            Some(bytes) => store.copy_from_slice(&bytes),
            None => {
                let digest = Sha256::digest(store_id.as_bytes());
                store.copy_from_slice(digest.get(..STORE_LEN).unwrap_or(&[0; STORE_LEN]));
            }
        }
        TokenKeys {
            secret: secret.to_vec(),
            store,
        }
    }

    fn mac(&self, prefix: &str, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut out = [0u8; MAC_LEN];
        // HMAC accepts keys of any length.
        if let Ok(mut mac) = HmacSha256::new_from_slice(&self.secret) {
            mac.update(prefix.as_bytes());
            mac.update(payload);
            let full = mac.finalize().into_bytes();
            out.copy_from_slice(full.get(..MAC_LEN).unwrap_or(&[0; MAC_LEN]));
        }
        out
    }

    fn seal(&self, prefix: &str, mut payload: Vec<u8>) -> String {
        let mac = self.mac(prefix, &payload);
        payload.extend_from_slice(&mac);
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(payload))
    }

    /// Checks prefix, encoding, MAC, version and store; returns the bytes
    /// after the store id.
    fn open(&self, what: &str, prefix: &str, token: &str) -> Result<Vec<u8>, ApiError> {
        self.open_checked(what, prefix, token, true)
    }

    /// [`TokenKeys::open`], with the MAC checked only when `verify`.
    fn open_checked(
        &self,
        what: &str,
        prefix: &str,
        token: &str,
        verify: bool,
    ) -> Result<Vec<u8>, ApiError> {
        let reason = if prefix == SNAPSHOT_PREFIX {
            "invalid_snaptoken"
        } else {
            "invalid_page_token"
        };
        let bad = |message: String| ApiError::bad_request(reason, message);
        let body = token.strip_prefix(prefix).ok_or_else(|| {
            bad(format!(
                "malformed {what}: it must start with `{prefix}` (tokens are opaque: pass back exactly what the server gave)"
            ))
        })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad(format!("malformed {what}: not valid base64url")))?;
        if bytes.len() < 1 + STORE_LEN + 8 + MAC_LEN {
            return Err(bad(format!("malformed {what}: too short (truncated?)")));
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        // Constant-time comparison through the hmac crate.
        let valid = HmacSha256::new_from_slice(&self.secret)
            .map(|mut m| {
                m.update(prefix.as_bytes());
                m.update(payload);
                m.verify_truncated_left(mac).is_ok()
            })
            .unwrap_or(false);
        if verify && !valid {
            return Err(bad(format!(
                "{what} failed its integrity check: it was altered, truncated, or issued by a server with another secret"
            )));
        }
        let (version, rest) = payload
            .split_first()
            .ok_or_else(|| bad(format!("malformed {what}")))?;
        if *version != VERSION {
            return Err(bad(format!("unsupported {what} version {version}")));
        }
        let (store, rest) = rest.split_at(STORE_LEN);
        if store != self.store {
            return Err(bad(format!(
                "{what} belongs to another store: it was issued for different data"
            )));
        }
        Ok(rest.to_vec())
    }

    pub fn snapshot(&self, revision: Revision) -> String {
        let mut payload = Vec::with_capacity(1 + STORE_LEN + 8);
        payload.push(VERSION);
        payload.extend_from_slice(&self.store);
        payload.extend_from_slice(&revision.0.to_be_bytes());
        self.seal(SNAPSHOT_PREFIX, payload)
    }

    pub fn parse_snapshot(&self, token: &str) -> Result<Revision, ApiError> {
        self.snapshot_revision(token, true)
    }

    /// The revision of a snapshot token of this store, without checking
    /// that a server with this secret issued it: for a local command that
    /// only starts reading there (`zanzi tuples watch --since`), which
    /// does not know the servers' secret. Never use it to grant a read.
    pub fn peek_snapshot(&self, token: &str) -> Result<Revision, ApiError> {
        self.snapshot_revision(token, false)
    }

    fn snapshot_revision(&self, token: &str, verify: bool) -> Result<Revision, ApiError> {
        let rest = self.open_checked("snapshot token", SNAPSHOT_PREFIX, token, verify)?;
        let bytes: [u8; 8] = rest.as_slice().try_into().map_err(|_| {
            ApiError::bad_request(
                "invalid_snaptoken",
                "malformed snapshot token: wrong length",
            )
        })?;
        Ok(Revision(u64::from_be_bytes(bytes)))
    }

    pub fn page(&self, token: &PageToken) -> String {
        let mut payload = Vec::with_capacity(1 + STORE_LEN + 16 + token.cursor.len());
        payload.push(VERSION);
        payload.extend_from_slice(&self.store);
        payload.extend_from_slice(&token.revision.0.to_be_bytes());
        payload.extend_from_slice(&token.query_hash);
        payload.extend_from_slice(token.cursor.as_bytes());
        self.seal(PAGE_PREFIX, payload)
    }

    pub fn parse_page(&self, token: &str) -> Result<PageToken, ApiError> {
        let rest = self.open("page token", PAGE_PREFIX, token)?;
        let malformed =
            || ApiError::bad_request("invalid_page_token", "malformed page token: wrong length");
        if rest.len() < 16 {
            return Err(malformed());
        }
        let (revision, rest) = rest.split_at(8);
        let (hash, cursor) = rest.split_at(8);
        Ok(PageToken {
            revision: Revision(u64::from_be_bytes(
                revision.try_into().map_err(|_| malformed())?,
            )),
            query_hash: hash.try_into().map_err(|_| malformed())?,
            cursor: String::from_utf8(cursor.to_vec()).map_err(|_| malformed())?,
        })
    }
}

/// The first 8 bytes of SHA-256 of `text`: binds a page token to its query.
pub fn query_hash(text: &str) -> [u8; 8] {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let keys = TokenKeys::new(b"secret", "00112233445566778899aabbccddeeff");
        let token = keys.snapshot(Revision(42));
        assert_eq!(keys.parse_snapshot(&token).unwrap(), Revision(42));
        let cut = token.get(..token.len() - 3).unwrap();
        assert!(keys.parse_snapshot(cut).is_err());
        let other = TokenKeys::new(b"other", "00112233445566778899aabbccddeeff");
        assert!(other
            .parse_snapshot(&token)
            .unwrap_err()
            .message
            .contains("integrity"));
        let foreign = TokenKeys::new(b"secret", "ffffffffffffffffffffffffffffffff");
        assert!(foreign
            .parse_snapshot(&token)
            .unwrap_err()
            .message
            .contains("another store"));
        let page = PageToken {
            revision: Revision(7),
            query_hash: query_hash("q"),
            cursor: "123".into(),
        };
        assert_eq!(keys.parse_page(&keys.page(&page)).unwrap(), page);
        assert!(keys.parse_page(&token).is_err());

        // Peeking skips only the MAC: the store is still checked.
        assert_eq!(other.peek_snapshot(&token).unwrap(), Revision(42));
        assert!(foreign.peek_snapshot(&token).is_err());
        assert!(keys.peek_snapshot(cut).is_err());
    }
}
