//! Snapshot tokens ("zookies") and page tokens: opaque, bound to one store
//! and to one history of it, integrity-protected with HMAC-SHA256 under
//! the server secret.
//!
//! A snapshot token is `zk2_` and the unpadded base64url of
//! `[2][store id: 16 bytes][revision: u64 big-endian][history: 16 bytes][MAC: 16 bytes]`;
//! a page token is `pt2_` and the same over
//! `[2][store id][revision][history][query hash: 8 bytes][cursor bytes][MAC]`.
//! The history is the first 16 bytes of the revision's history chain
//! ([`crate::store::history`]), all zeros when the store does not know it:
//! a copy of the store that diverged (a restored backup, a copied file)
//! has the same store id but another chain at the same revision, and the
//! server refuses the token ([`AppState::check_history`](super::AppState::check_history)).
//! The MAC (HMAC-SHA256 truncated to 128 bits) covers everything before it,
//! prefix included, so a changed byte, a cut token or a token signed with
//! another secret is refused; a correctly signed token of another store
//! (servers sharing a secret) is refused by its store id. Decoding never
//! panics and names the problem.
//!
//! Version 1 tokens (`zk1_`, `pt1_`: the same without the history), issued
//! before tokens named their history, are still accepted, with the store
//! and the MAC checked and the history not (there is none to check).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use crate::store::history::Chain;
use crate::store::Revision;

type HmacSha256 = Hmac<Sha256>;

const SNAPSHOT_PREFIX: &str = "zk2_";
const PAGE_PREFIX: &str = "pt2_";
const VERSION: u8 = 2;
const SNAPSHOT_PREFIX_V1: &str = "zk1_";
const PAGE_PREFIX_V1: &str = "pt1_";
const VERSION_1: u8 = 1;
const MAC_LEN: usize = 16;
const STORE_LEN: usize = 16;
const HISTORY_LEN: usize = 16;

/// What a token names of its revision's history chain: its first 16
/// bytes, all zeros when the issuing store did not know the chain.
pub type HistoryTag = [u8; HISTORY_LEN];

/// The tag of a chain (zeros when unknown).
pub fn history_tag(chain: Option<&Chain>) -> HistoryTag {
    let mut tag = [0u8; HISTORY_LEN];
    if let Some(prefix) = chain.and_then(|c| c.get(..HISTORY_LEN)) {
        tag.copy_from_slice(prefix);
    }
    tag
}

/// The tag of a chain the issuing store did not know: not checked.
pub const UNKNOWN_HISTORY: HistoryTag = [0; HISTORY_LEN];

/// Signs and checks tokens for one store.
#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
    /// A secret whose tokens are accepted too (a rotation under way).
    previous: Option<Vec<u8>>,
    store: [u8; STORE_LEN],
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").finish_non_exhaustive()
    }
}

/// What a snapshot token holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotToken {
    pub revision: Revision,
    /// `None` for a version 1 token, which names no history.
    pub history: Option<HistoryTag>,
}

/// A revision alone, as a token that names no history (tests, embedding).
impl From<Revision> for SnapshotToken {
    fn from(revision: Revision) -> SnapshotToken {
        SnapshotToken {
            revision,
            history: None,
        }
    }
}

/// What a page token holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageToken {
    pub revision: Revision,
    /// As [`SnapshotToken::history`].
    pub history: Option<HistoryTag>,
    pub query_hash: [u8; 8],
    pub cursor: String,
}

impl PageToken {
    /// The snapshot the page was read at.
    pub fn snapshot(&self) -> SnapshotToken {
        SnapshotToken {
            revision: self.revision,
            history: self.history,
        }
    }
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
            previous: None,
            store,
        }
    }

    /// Also accepts tokens signed with `previous` (never signs with it).
    pub fn accepting(mut self, previous: &[u8]) -> TokenKeys {
        self.previous = Some(previous.to_vec());
        self
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

    /// Whether `mac` is the MAC of `payload` under the secret or the
    /// previous one (constant-time comparison through the hmac crate).
    fn verifies(&self, prefix: &str, payload: &[u8], mac: &[u8]) -> bool {
        let under = |key: &[u8]| {
            HmacSha256::new_from_slice(key)
                .map(|mut m| {
                    m.update(prefix.as_bytes());
                    m.update(payload);
                    m.verify_truncated_left(mac).is_ok()
                })
                .unwrap_or(false)
        };
        under(&self.secret) || self.previous.as_deref().is_some_and(under)
    }

    /// Checks prefix, encoding, MAC (when `verify`), version and store;
    /// returns the token's version and the bytes after the store id.
    /// `prefixes` are the current prefix and version 1's.
    fn open_checked(
        &self,
        what: &str,
        prefixes: [&str; 2],
        token: &str,
        verify: bool,
    ) -> Result<(u8, Vec<u8>), ApiError> {
        let [current, old] = prefixes;
        let reason = if current == SNAPSHOT_PREFIX {
            "invalid_snaptoken"
        } else {
            "invalid_page_token"
        };
        let bad = |message: String| ApiError::bad_request(reason, message);
        let (prefix, expected, body) = match token.strip_prefix(current) {
            Some(body) => (current, VERSION, body),
            None => match token.strip_prefix(old) {
                Some(body) => (old, VERSION_1, body),
                None => {
                    return Err(bad(format!(
                        "malformed {what}: it must start with `{current}` (tokens are opaque: \
                         pass back exactly what the server gave)"
                    )))
                }
            },
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad(format!("malformed {what}: not valid base64url")))?;
        if bytes.len() < 1 + STORE_LEN + 8 + MAC_LEN {
            return Err(bad(format!("malformed {what}: too short (truncated?)")));
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        if verify && !self.verifies(prefix, payload, mac) {
            return Err(bad(format!(
                "{what} failed its integrity check: it was altered, truncated, or issued by a server with another secret"
            )));
        }
        let (version, rest) = payload
            .split_first()
            .ok_or_else(|| bad(format!("malformed {what}")))?;
        if *version != expected {
            return Err(bad(format!("unsupported {what} version {version}")));
        }
        let (store, rest) = rest.split_at(STORE_LEN);
        if store != self.store {
            return Err(bad(format!(
                "{what} belongs to another store: it was issued for different data"
            )));
        }
        Ok((*version, rest.to_vec()))
    }

    /// A snapshot token for `revision`, whose history chain has `history`.
    pub fn snapshot(&self, revision: Revision, history: HistoryTag) -> String {
        let mut payload = Vec::with_capacity(1 + STORE_LEN + 8 + HISTORY_LEN);
        payload.push(VERSION);
        payload.extend_from_slice(&self.store);
        payload.extend_from_slice(&revision.0.to_be_bytes());
        payload.extend_from_slice(&history);
        self.seal(SNAPSHOT_PREFIX, payload)
    }

    /// A snapshot token's revision and history, its MAC and store checked;
    /// its history is checked against the store's by
    /// [`AppState::check_history`](super::AppState::check_history).
    pub fn parse_snapshot(&self, token: &str) -> Result<SnapshotToken, ApiError> {
        self.snapshot_token(token, true)
    }

    /// The revision of a snapshot token of this store, without checking
    /// that a server with this secret issued it: for a local command that
    /// only starts reading there (`zanzi tuples watch --since`), which
    /// does not know the servers' secret. Never use it to grant a read.
    pub fn peek_snapshot(&self, token: &str) -> Result<Revision, ApiError> {
        Ok(self.snapshot_token(token, false)?.revision)
    }

    fn snapshot_token(&self, token: &str, verify: bool) -> Result<SnapshotToken, ApiError> {
        let prefixes = [SNAPSHOT_PREFIX, SNAPSHOT_PREFIX_V1];
        let (version, rest) = self.open_checked("snapshot token", prefixes, token, verify)?;
        let malformed = || {
            ApiError::bad_request(
                "invalid_snaptoken",
                "malformed snapshot token: wrong length",
            )
        };
        let (revision, history) = split_history(&rest, version).ok_or_else(malformed)?;
        if !history.1.is_empty() {
            return Err(malformed());
        }
        Ok(SnapshotToken {
            revision,
            history: history.0,
        })
    }

    pub fn page(&self, token: &PageToken) -> String {
        let mut payload = Vec::with_capacity(1 + STORE_LEN + 16 + HISTORY_LEN + token.cursor.len());
        payload.push(VERSION);
        payload.extend_from_slice(&self.store);
        payload.extend_from_slice(&token.revision.0.to_be_bytes());
        payload.extend_from_slice(&token.history.unwrap_or(UNKNOWN_HISTORY));
        payload.extend_from_slice(&token.query_hash);
        payload.extend_from_slice(token.cursor.as_bytes());
        self.seal(PAGE_PREFIX, payload)
    }

    pub fn parse_page(&self, token: &str) -> Result<PageToken, ApiError> {
        let prefixes = [PAGE_PREFIX, PAGE_PREFIX_V1];
        let (version, rest) = self.open_checked("page token", prefixes, token, true)?;
        let malformed =
            || ApiError::bad_request("invalid_page_token", "malformed page token: wrong length");
        let (revision, (history, rest)) = split_history(&rest, version).ok_or_else(malformed)?;
        if rest.len() < 8 {
            return Err(malformed());
        }
        let (hash, cursor) = rest.split_at(8);
        Ok(PageToken {
            revision,
            history,
            query_hash: hash.try_into().map_err(|_| malformed())?,
            cursor: String::from_utf8(cursor.to_vec()).map_err(|_| malformed())?,
        })
    }
}

/// The revision and, in a version 2 token, the history tag at the start
/// of `rest`, and what follows them; `None` when too short.
#[allow(clippy::type_complexity)]
fn split_history(rest: &[u8], version: u8) -> Option<(Revision, (Option<HistoryTag>, &[u8]))> {
    let (revision, rest) = (rest.get(..8)?, rest.get(8..)?);
    let revision = Revision(u64::from_be_bytes(revision.try_into().ok()?));
    if version == VERSION_1 {
        return Some((revision, (None, rest)));
    }
    let (history, rest) = (rest.get(..HISTORY_LEN)?, rest.get(HISTORY_LEN..)?);
    Some((revision, (Some(history.try_into().ok()?), rest)))
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
        let tag = [7u8; 16];
        let token = keys.snapshot(Revision(42), tag);
        assert!(token.starts_with("zk2_"));
        assert_eq!(
            keys.parse_snapshot(&token).unwrap(),
            SnapshotToken {
                revision: Revision(42),
                history: Some(tag)
            }
        );
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
            history: Some(tag),
            query_hash: query_hash("q"),
            cursor: "123".into(),
        };
        assert_eq!(keys.parse_page(&keys.page(&page)).unwrap(), page);
        assert!(keys.parse_page(&token).is_err());

        // Peeking skips only the MAC: the store is still checked.
        assert_eq!(other.peek_snapshot(&token).unwrap(), Revision(42));
        assert!(foreign.peek_snapshot(&token).is_err());
        assert!(keys.peek_snapshot(cut).is_err());

        // A rotation: tokens of the previous secret are accepted, and
        // signed with the new one.
        let rotated =
            TokenKeys::new(b"new", "00112233445566778899aabbccddeeff").accepting(b"secret");
        assert_eq!(
            rotated.parse_snapshot(&token).unwrap().revision,
            Revision(42)
        );
        let fresh = rotated.snapshot(Revision(43), tag);
        assert!(keys.parse_snapshot(&fresh).is_err());
    }

    /// A version 1 token, as servers issued them before tokens named their
    /// history: accepted, with no history to check.
    #[test]
    fn version_1_tokens_are_accepted_without_a_history() {
        let keys = TokenKeys::new(b"secret", "00112233445566778899aabbccddeeff");
        let mut payload = vec![1u8];
        payload.extend_from_slice(&keys.store);
        payload.extend_from_slice(&9u64.to_be_bytes());
        let token = keys.seal("zk1_", payload.clone());
        assert_eq!(
            keys.parse_snapshot(&token).unwrap(),
            SnapshotToken {
                revision: Revision(9),
                history: None
            }
        );
        // The version byte must match the prefix (the MAC covers both).
        let mismatched = keys.seal("zk2_", payload);
        assert!(keys.parse_snapshot(&mismatched).is_err());
        let mut page = vec![1u8];
        page.extend_from_slice(&keys.store);
        page.extend_from_slice(&9u64.to_be_bytes());
        page.extend_from_slice(&query_hash("q"));
        page.extend_from_slice(b"17");
        let page = keys.parse_page(&keys.seal("pt1_", page)).unwrap();
        assert_eq!(
            (page.revision, page.history, page.cursor.as_str()),
            (Revision(9), None, "17")
        );
    }
}
