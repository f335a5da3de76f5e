//! JWTs signed by a key of a JWKS (a file read at start, or a URL fetched
//! at start and again when a token names a key id it does not know, at
//! most once a minute, so that an identity provider's key rotation is
//! picked up without letting tokens with made-up key ids hammer it).
//!
//! Only asymmetric keys count (RSA, EC, Ed25519): a JWKS is public, so an
//! HMAC key in it would let anyone sign. `alg: none` is not an algorithm
//! to [`jsonwebtoken`]; such a token fails to parse. `exp` is required and
//! checked, `nbf` checked when present, both with the configured leeway;
//! `iss` and `aud` are required and checked when configured.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};

use super::{AuthError, Refusal};

/// The shortest time between two fetches of a JWKS URL.
const REFETCH_EVERY: Duration = Duration::from_secs(60);

/// How long a fetch of the JWKS may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the JWKS comes from.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Url(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Url(url) => f.write_str(url),
        }
    }
}

/// One usable key of the JWKS.
struct VerifyingKey {
    kid: Option<String>,
    key: DecodingKey,
    /// The algorithms it may verify: the JWK's `alg`, or those of its type.
    algorithms: Vec<Algorithm>,
}

/// What a JWT must satisfy besides its signature.
#[derive(Clone, Debug)]
pub struct Expectations {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Duration,
}

/// Verifies JWTs against a JWKS.
pub struct JwtVerifier {
    source: Source,
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    expect: Expectations,
    /// When the URL was last fetched; held while fetching, so that one
    /// request fetches and the others wait for its answer.
    fetched: tokio::sync::Mutex<Option<Instant>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("source", &self.source)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier of the JWKS at `location` (a path, or an http(s) URL):
    /// a file is read now, a URL fetched by [`JwtVerifier::prepare`].
    pub fn new(location: &str, expect: Expectations) -> Result<JwtVerifier, AuthError> {
        let source = if location.starts_with("https://") || location.starts_with("http://") {
            Source::Url(location.to_owned())
        } else {
            Source::File(PathBuf::from(location))
        };
        let keys = match &source {
            Source::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| AuthError::Jwks {
                    location: location.to_owned(),
                    reason: e.to_string(),
                })?;
                parse_jwks(location, &text)?
            }
            Source::Url(_) => Vec::new(),
        };
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| AuthError::Jwks {
                location: location.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(JwtVerifier {
            source,
            keys: RwLock::new(Arc::new(keys)),
            expect,
            fetched: tokio::sync::Mutex::new(None),
            http,
        })
    }

    /// Fetches a JWKS URL (once, at start).
    pub async fn prepare(&self) -> Result<(), AuthError> {
        if let Source::Url(url) = &self.source {
            // Not counted as a refetch: a key rotated in just after the
            // start is fetched at once.
            let _fetching = self.fetched.lock().await;
            let keys = self.fetch(url).await?;
            tracing::info!(jwks = %url, keys = keys.len(), "fetched the JWKS");
            self.replace(keys);
        }
        Ok(())
    }

    async fn fetch(&self, url: &str) -> Result<Vec<VerifyingKey>, AuthError> {
        let failed = |reason: String| AuthError::Jwks {
            location: url.to_owned(),
            reason,
        };
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("answered {}", response.status())));
        }
        let text = response.text().await.map_err(|e| failed(e.to_string()))?;
        parse_jwks(url, &text)
    }

    fn current(&self) -> Arc<Vec<VerifyingKey>> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, keys: Vec<VerifyingKey>) {
        let keys = Arc::new(keys);
        match self.keys.write() {
            Ok(mut current) => *current = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// Refetches a JWKS URL for a key id it lacks, unless fetched within
    /// the last minute; whether the keys were refreshed.
    async fn refetch(&self) -> bool {
        let Source::Url(url) = &self.source else {
            return false;
        };
        let mut fetched = self.fetched.lock().await;
        if fetched.is_some_and(|at| at.elapsed() < REFETCH_EVERY) {
            return false;
        }
        *fetched = Some(Instant::now());
        match self.fetch(url).await {
            Ok(keys) => {
                tracing::info!(jwks = %url, keys = keys.len(), "refetched the JWKS for an unknown key id");
                self.replace(keys);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot refetch the JWKS; keeping the keys it had");
                false
            }
        }
    }

    /// Checks `token`'s signature and claims.
    pub async fn verify(&self, token: &str) -> Result<(), Refusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            Refusal::invalid(
                "malformed_jwt",
                "the bearer token is neither a configured key nor a well-formed JWT",
            )
        })?;
        if AlgorithmFamily::Hmac.algorithms().contains(&header.alg) {
            return Err(Refusal::invalid(
                "bad_algorithm",
                format!(
                    "the JWT is signed with {:?}; HMAC-signed JWTs are not accepted, only keys \
                     of the JWKS (RSA, EC, Ed25519)",
                    header.alg
                ),
            ));
        }
        let mut keys = self.current();
        let usable = |keys: &[VerifyingKey]| {
            keys.iter()
                .any(|k| header.kid.is_none() || k.kid.as_deref() == header.kid.as_deref())
        };
        if !usable(&keys) && self.refetch().await {
            keys = self.current();
        }
        if !usable(&keys) {
            let kid: String = header
                .kid
                .as_deref()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_graphic)
                .take(64)
                .collect();
            return Err(Refusal::invalid(
                "unknown_kid",
                format!("the JWT's key id `{kid}` is not in the JWKS"),
            ));
        }
        let mut last = None;
        for key in keys
            .iter()
            .filter(|k| header.kid.is_none() || k.kid.as_deref() == header.kid.as_deref())
        {
            if !key.algorithms.contains(&header.alg) {
                last = Some(Refusal::invalid(
                    "bad_algorithm",
                    format!(
                        "the JWT's algorithm {:?} does not fit its key (which signs with {:?})",
                        header.alg, key.algorithms
                    ),
                ));
                continue;
            }
            match jsonwebtoken::decode::<serde_json::Value>(
                token,
                &key.key,
                &self.validation(header.alg),
            ) {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(refusal(e.kind())),
            }
        }
        Err(last.unwrap_or_else(|| {
            Refusal::invalid("bad_signature", "no key of the JWKS verifies the JWT")
        }))
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.expect.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match &self.expect.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.expect.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

/// A failed verification as the client is told it.
fn refusal(kind: &jsonwebtoken::errors::ErrorKind) -> Refusal {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => Refusal::invalid("expired", "the JWT has expired (`exp`)"),
        K::ImmatureSignature => {
            Refusal::invalid("not_yet_valid", "the JWT is not valid yet (`nbf`)")
        }
        K::InvalidIssuer => Refusal::invalid(
            "wrong_issuer",
            "the JWT's issuer (`iss`) is not the configured one",
        ),
        K::InvalidAudience => Refusal::invalid(
            "wrong_audience",
            "the JWT's audience (`aud`) is not the configured one",
        ),
        K::InvalidSignature => {
            Refusal::invalid("bad_signature", "the JWT's signature does not verify")
        }
        K::MissingRequiredClaim(claim) => {
            Refusal::invalid("missing_claim", format!("the JWT has no `{claim}` claim"))
        }
        K::InvalidClaimFormat(claim) => Refusal::invalid(
            "malformed_jwt",
            format!("the JWT's `{claim}` claim has the wrong type"),
        ),
        K::InvalidAlgorithm => {
            Refusal::invalid("bad_algorithm", "the JWT's algorithm does not fit its key")
        }
        _ => Refusal::invalid("malformed_jwt", "the JWT is malformed"),
    }
}

/// The usable keys of a JWKS document; keys that cannot verify (HMAC,
/// unknown types, encryption keys) are skipped with a warning. A JWKS with
/// no usable key is an error.
fn parse_jwks(source: &str, text: &str) -> Result<Vec<VerifyingKey>, AuthError> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let failed = |reason: String| AuthError::Jwks {
        location: source.to_owned(),
        reason,
    };
    let document: Document =
        serde_json::from_str(text).map_err(|e| failed(format!("not a JWKS: {e}")))?;
    let mut keys = Vec::new();
    for (index, value) in document.keys.into_iter().enumerate() {
        match verifying_key(value) {
            Ok(key) => keys.push(key),
            Err(why) => {
                tracing::warn!(jwks = source, key = index, reason = %why, "skipping a key of the JWKS")
            }
        }
    }
    if keys.is_empty() {
        return Err(failed(
            "no usable signing key (RSA, EC P-256/P-384 or Ed25519)".into(),
        ));
    }
    Ok(keys)
}

fn verifying_key(value: serde_json::Value) -> Result<VerifyingKey, String> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|e| format!("not a JWK: {e}"))?;
    let family_algorithms: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => AlgorithmFamily::Rsa.algorithms().to_vec(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return Err(format!("unsupported curve {:?}", ec.curve)),
        },
        AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric (HMAC) key; a JWKS must hold public keys".into())
        }
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family_algorithms,
        Some(alg) => {
            let alg: Algorithm = alg
                .to_string()
                .parse()
                .map_err(|_| format!("`alg` {alg} is not a signing algorithm"))?;
            if !family_algorithms.contains(&alg) {
                return Err(format!("`alg` {alg:?} does not fit the key's type"));
            }
            vec![alg]
        }
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("unusable key: {e}"))?;
    Ok(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        key,
        algorithms,
    })
}
