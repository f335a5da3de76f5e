//! Authentication of `zanzi serve`: preshared keys (every API, read only,
//! write only, rotation), JWTs against a JWKS, the open health endpoints,
//! and the CLI sending its token; REST and gRPC on every listener.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value};
use support::grpc::{settings, GrpcServer, SCHEMA};
use tonic::Code;
use zanzi::api::proto::keto::opl::v1alpha1 as opl;
use zanzi::api::proto::keto::relation_tuples::v1alpha2 as keto;
use zanzi::server::auth::ApiKey;
use zanzi::server::config::Settings;
use zanzi::store::MemoryStore;

const KEY_A: &str = "key-a-0123456789abcdef";
const KEY_B: &str = "key-b-0123456789abcdef";
const READ_KEY: &str = "read-only-0123456789";
const WRITE_KEY: &str = "write-only-0123456789";
const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "zanzi";

fn keys(list: &[&str]) -> Vec<ApiKey> {
    list.iter().map(|k| ApiKey::new(k).unwrap()).collect()
}

async fn start(settings: Settings) -> GrpcServer {
    GrpcServer::start_with(settings, SCHEMA, Arc::new(MemoryStore::new())).await
}

/// A REST request to `url`, with `authorization` as the header when given.
async fn rest(
    http: &reqwest::Client,
    method: &str,
    url: String,
    authorization: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = http.request(method.parse().unwrap(), url);
    if method != "GET" {
        request = request
            .header("content-type", "application/json")
            .body("[]");
    }
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

/// The REST endpoints of every listener: (name, method, URL).
fn rest_endpoints(server: &GrpcServer) -> Vec<(&'static str, &'static str, String)> {
    let r = &server.running;
    vec![
        (
            "read",
            "GET",
            format!("http://{}/relation-tuples?namespace=document", r.read),
        ),
        (
            "write",
            "PATCH",
            format!("http://{}/admin/relation-tuples", r.write),
        ),
        (
            "metrics",
            "GET",
            format!("http://{}/metrics/prometheus", r.metrics),
        ),
        (
            "syntax",
            "POST",
            format!("http://{}/opl/syntax/check", r.syntax),
        ),
    ]
}

fn with_auth<T>(message: T, authorization: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().unwrap());
    }
    request
}

/// The status codes of one gRPC call on each of the read, write and
/// syntax ports (`Ok` for a call that was answered, whatever it said).
async fn grpc_codes(server: &GrpcServer, authorization: Option<&str>) -> Vec<(&'static str, Code)> {
    let code = |result: Result<Code, tonic::Status>| match result {
        Ok(code) => code,
        Err(status) => status.code(),
    };
    let mut read = keto::read_service_client::ReadServiceClient::new(server.read.clone());
    let read = read
        .list_relation_tuples(with_auth(
            keto::ListRelationTuplesRequest {
                relation_query: Some(keto::RelationQuery {
                    namespace: Some("document".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            authorization,
        ))
        .await
        .map(|_| Code::Ok);
    let mut write = keto::write_service_client::WriteServiceClient::new(server.write.clone());
    let write = write
        .transact_relation_tuples(with_auth(
            keto::TransactRelationTuplesRequest::default(),
            authorization,
        ))
        .await
        .map(|_| Code::Ok);
    let mut syntax = opl::syntax_service_client::SyntaxServiceClient::new(server.syntax.clone());
    let syntax = syntax
        .check(with_auth(
            opl::CheckRequest {
                content: SCHEMA.as_bytes().to_vec(),
            },
            authorization,
        ))
        .await
        .map(|_| Code::Ok);
    vec![
        ("read", code(read)),
        ("write", code(write)),
        ("syntax", code(syntax)),
    ]
}

/// Every listener refuses `authorization` (REST 401 with Keto's body and
/// the challenge `expected_challenge`; gRPC `UNAUTHENTICATED`), saying
/// `says` and never repeating the credential.
async fn refused_everywhere(
    server: &GrpcServer,
    authorization: Option<&str>,
    expected_challenge: &str,
    says: &str,
) {
    for (name, method, url) in rest_endpoints(server) {
        let (status, challenge, body) = rest(&server.http, method, url, authorization).await;
        assert_eq!(status, 401, "{name} {authorization:?}: {body}");
        assert_eq!(challenge.as_deref(), Some(expected_challenge), "{name}");
        assert_eq!(body["error"]["code"], 401, "{body}");
        assert_eq!(body["error"]["status"], "Unauthorized", "{body}");
        assert_eq!(body["error"]["reason"], "unauthenticated", "{body}");
        assert!(body["error"]["request"].is_string(), "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
        if let Some(credential) = authorization
            .and_then(|a| a.split(' ').nth(1))
            .filter(|c| !c.is_empty())
        {
            assert!(!message.contains(credential), "{name} echoes it: {message}");
        }
    }
    for (name, code) in grpc_codes(server, authorization).await {
        assert_eq!(code, Code::Unauthenticated, "gRPC {name} {authorization:?}");
    }
}

/// Every listener answers `authorization` (neither 401 nor
/// `UNAUTHENTICATED`).
async fn accepted_everywhere(server: &GrpcServer, authorization: &str) {
    for (name, method, url) in rest_endpoints(server) {
        let (status, _, body) = rest(&server.http, method, url, Some(authorization)).await;
        assert!(status < 300, "{name}: {status} {body}");
    }
    for (name, code) in grpc_codes(server, Some(authorization)).await {
        assert_eq!(code, Code::Ok, "gRPC {name}");
    }
}

fn keyed() -> Settings {
    Settings {
        auth_keys: keys(&[KEY_A]),
        ..settings()
    }
}

#[tokio::test]
async fn every_listener_refuses_missing_wrong_and_malformed_credentials() {
    let server = start(keyed()).await;
    refused_everywhere(&server, None, "Bearer", "needs a credential").await;
    refused_everywhere(
        &server,
        Some("Bearer not-the-key-0123456789"),
        "Bearer error=\"invalid_token\"",
        "not a key this server accepts",
    )
    .await;
    refused_everywhere(
        &server,
        Some(&format!("Basic {KEY_A}")),
        "Bearer error=\"invalid_request\"",
        "must be `Bearer <token>`",
    )
    .await;
    refused_everywhere(
        &server,
        Some("Bearer "),
        "Bearer error=\"invalid_request\"",
        "no token",
    )
    .await;
    accepted_everywhere(&server, &format!("Bearer {KEY_A}")).await;
    accepted_everywhere(&server, &format!("bearer   {KEY_A}")).await;

    // Two Authorization headers.
    let (status, challenge, body) = {
        let response = server
            .http
            .get(server.rest_read("/relation-tuples?namespace=document"))
            .header("authorization", format!("Bearer {KEY_A}"))
            .header("authorization", format!("Bearer {KEY_A}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let challenge = response.headers().get("www-authenticate").cloned();
        (status, challenge, response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 401);
    assert_eq!(challenge.unwrap(), "Bearer error=\"invalid_request\"");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("several"));

    // Refusals are counted by reason.
    let response = server
        .http
        .get(format!(
            "http://{}/metrics/prometheus",
            server.running.metrics
        ))
        .header("authorization", format!("Bearer {KEY_A}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for reason in ["missing", "malformed", "unknown_key"] {
        assert!(
            text.contains(&format!("zanzi_auth_failures_total{{reason=\"{reason}\"}}")),
            "{reason}"
        );
    }
    assert!(!text.contains(KEY_A));
}

#[tokio::test]
async fn health_and_version_answer_without_a_credential() {
    let server = start(keyed()).await;
    let r = &server.running;
    for addr in [r.read, r.write, r.metrics, r.syntax] {
        for path in ["/health/alive", "/health/ready", "/version"] {
            let (status, _, body) =
                rest(&server.http, "GET", format!("http://{addr}{path}"), None).await;
            assert_eq!(status, 200, "{addr}{path}: {body}");
        }
        // Everything else is closed, unknown paths included.
        let (status, _, _) = rest(&server.http, "GET", format!("http://{addr}/nope"), None).await;
        assert_eq!(status, 401, "{addr}/nope");
    }
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    for channel in [&server.read, &server.write, &server.syntax] {
        let answer = HealthClient::new(channel.clone())
            .check(HealthCheckRequest::default())
            .await
            .unwrap();
        assert_eq!(answer.get_ref().status, 1, "SERVING");
        let version = keto::version_service_client::VersionServiceClient::new(channel.clone())
            .get_version(keto::GetVersionRequest::default())
            .await
            .unwrap();
        assert!(!version.get_ref().version.is_empty());
    }
}

#[tokio::test]
async fn a_key_rotated_in_keeps_old_clients_working_until_it_is_removed() {
    let both = start(Settings {
        auth_keys: keys(&[KEY_A, KEY_B]),
        ..settings()
    })
    .await;
    accepted_everywhere(&both, &format!("Bearer {KEY_A}")).await;
    accepted_everywhere(&both, &format!("Bearer {KEY_B}")).await;
    both.running.shutdown().await;

    let rotated = start(Settings {
        auth_keys: keys(&[KEY_B]),
        ..settings()
    })
    .await;
    refused_everywhere(
        &rotated,
        Some(&format!("Bearer {KEY_A}")),
        "Bearer error=\"invalid_token\"",
        "not a key this server accepts",
    )
    .await;
    accepted_everywhere(&rotated, &format!("Bearer {KEY_B}")).await;
}

#[tokio::test]
async fn read_keys_only_read_and_write_keys_only_write() {
    let server = start(Settings {
        auth_read_keys: keys(&[READ_KEY]),
        auth_write_keys: keys(&[WRITE_KEY]),
        ..settings()
    })
    .await;
    let outcome = |status: u16| status != 401;
    let mut seen = Vec::new();
    for key in [READ_KEY, WRITE_KEY] {
        let authorization = format!("Bearer {key}");
        for (name, method, url) in rest_endpoints(&server) {
            let (status, _, body) = rest(&server.http, method, url, Some(&authorization)).await;
            if status == 401 {
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains("valid on the"), "{message}");
            }
            seen.push((key, name, outcome(status)));
        }
        for (name, code) in grpc_codes(&server, Some(&authorization)).await {
            seen.push((key, name, code != Code::Unauthenticated));
        }
    }
    let expected = |key: &str, name: &str| {
        (key == READ_KEY && name == "read") || (key == WRITE_KEY && name == "write")
    };
    for (key, name, allowed) in seen {
        assert_eq!(allowed, expected(key, name), "{key} on {name}");
    }
}

/// An Ed25519 key, its JWKS, and signed tokens.
struct Issuer {
    key: jsonwebtoken::EncodingKey,
    jwks: Value,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Issuer {
    fn new(kid: &str) -> Issuer {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        Issuer {
            key: jsonwebtoken::EncodingKey::from_ed_der(&pair.serialize_der()),
            jwks: json!({ "keys": [{
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": kid, "x": b64(pair.public_key_raw()),
            }]}),
        }
    }

    fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

fn claims() -> Value {
    json!({ "sub": "svc", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600 })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn jwt_settings(jwks: &str) -> Settings {
    Settings {
        jwks: Some(jwks.to_owned()),
        jwt_issuer: Some(ISSUER.into()),
        jwt_audience: Some(AUDIENCE.into()),
        ..settings()
    }
}

#[tokio::test]
async fn jwts_signed_by_the_jwks_and_nothing_else() {
    let issuer = Issuer::new("k1");
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, issuer.jwks.to_string()).unwrap();
    let server = start(jwt_settings(&jwks.display().to_string())).await;
    let bearer = |token: &str| format!("Bearer {token}");
    let invalid = "Bearer error=\"invalid_token\"";

    accepted_everywhere(&server, &bearer(&issuer.sign("k1", &claims()))).await;
    // Within the leeway (60 s).
    let just_expired = with(claims(), "exp", json!(now() - 10));
    accepted_everywhere(&server, &bearer(&issuer.sign("k1", &just_expired))).await;

    let cases = [
        (
            issuer.sign("k1", &with(claims(), "exp", json!(now() - 600))),
            "has expired",
        ),
        (
            issuer.sign("k1", &with(claims(), "nbf", json!(now() + 600))),
            "not valid yet",
        ),
        (
            issuer.sign("k1", &with(claims(), "iss", json!("https://other.example"))),
            "issuer",
        ),
        (
            issuer.sign("k1", &with(claims(), "aud", json!("someone-else"))),
            "audience",
        ),
        (
            issuer.sign("k1", &with(claims(), "exp", json!("never"))),
            "`exp`",
        ),
        (
            issuer.sign(
                "k1",
                &json!({ "sub": "svc", "iss": ISSUER, "aud": AUDIENCE }),
            ),
            "no `exp` claim",
        ),
        (
            issuer.sign("k2", &claims()),
            "key id `k2` is not in the JWKS",
        ),
        // Signed by another key under the known key id.
        (Issuer::new("k1").sign("k1", &claims()), "signature"),
    ];
    for (token, says) in &cases {
        refused_everywhere(&server, Some(&bearer(token)), invalid, says).await;
    }

    // A tampered payload keeps the signature of the original.
    let token = issuer.sign("k1", &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = b64(with(claims(), "sub", json!("admin")).to_string().as_bytes());
    let tampered = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    refused_everywhere(&server, Some(&bearer(&tampered)), invalid, "signature").await;

    // `alg: none`, unsigned.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        b64(claims().to_string().as_bytes())
    );
    refused_everywhere(&server, Some(&bearer(&none)), invalid, "well-formed JWT").await;

    // HMAC, with the public key's `x` as the secret (the classic confusion).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    let secret = issuer.jwks["keys"][0]["x"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec();
    let hmac = jsonwebtoken::encode(
        &header,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .unwrap();
    refused_everywhere(&server, Some(&bearer(&hmac)), invalid, "HMAC").await;
}

/// A JWKS served over HTTP, whose keys the test replaces; counts fetches.
struct JwksServer {
    url: String,
    document: Arc<std::sync::Mutex<Value>>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
}

impl JwksServer {
    async fn start(document: Value) -> JwksServer {
        let document = Arc::new(std::sync::Mutex::new(document));
        let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (served, counted) = (document.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let (served, counted) = (served.clone(), counted.clone());
                async move {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    axum::Json(served.lock().unwrap().clone())
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        JwksServer {
            url,
            document,
            fetches,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_jwks_url_is_refetched_for_an_unknown_key_at_most_once_a_minute() {
    let first = Issuer::new("k1");
    let jwks = JwksServer::start(first.jwks.clone()).await;
    let server = start(jwt_settings(&jwks.url)).await;
    assert_eq!(jwks.fetches(), 1, "fetched at start");
    let read = |token: String| {
        let http = server.http.clone();
        let url = server.rest_read("/relation-tuples?namespace=document");
        async move {
            rest(&http, "GET", url, Some(&format!("Bearer {token}")))
                .await
                .0
        }
    };
    assert_eq!(read(first.sign("k1", &claims())).await, 200);
    assert_eq!(jwks.fetches(), 1, "a known key id needs no fetch");

    // The identity provider rotates in a second key.
    let second = Issuer::new("k2");
    let mut both = first.jwks.clone();
    both["keys"]
        .as_array_mut()
        .unwrap()
        .push(second.jwks["keys"][0].clone());
    *jwks.document.lock().unwrap() = both;
    assert_eq!(read(second.sign("k2", &claims())).await, 200);
    assert_eq!(jwks.fetches(), 2, "refetched for the unknown key id");

    // Made-up key ids do not make it fetch again within the minute.
    for kid in ["k3", "k4", "k5"] {
        assert_eq!(read(second.sign(kid, &claims())).await, 401);
    }
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_sends_its_token_from_the_flag_and_the_environment() {
    let server = start(keyed()).await;
    let read = format!("http://{}", server.running.read);
    let grpc_read = format!("grpc://{}", server.running.read);
    let write = format!("http://{}", server.running.write);
    let run = |args: Vec<String>, env_token: Option<&'static str>| {
        tokio::task::spawn_blocking(move || {
            let mut command = assert_cmd::Command::cargo_bin("zanzi").unwrap();
            command.env_remove("ZANZI_TOKEN").args(&args);
            if let Some(token) = env_token {
                command.env("ZANZI_TOKEN", token);
            }
            command.output().unwrap()
        })
    };
    let check = |remote: &str| {
        vec![
            "check".to_owned(),
            "--remote".to_owned(),
            remote.to_owned(),
            "document:d#view@user:alice".to_owned(),
        ]
    };
    for remote in [&read, &grpc_read] {
        // No token: a clear error, and the way out.
        let out = run(check(remote), None).await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{remote}: {stderr}");
        assert!(
            stderr.contains("the server refused the credential")
                && stderr.contains("pass --token or set ZANZI_TOKEN"),
            "{remote}: {stderr}"
        );
        // A wrong token: the same, never echoed.
        let mut args = check(remote);
        args.extend(["--token".to_owned(), "wrong-token-0123456789".to_owned()]);
        let out = run(args, None).await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("refused the credential"), "{stderr}");
        assert!(!stderr.contains("wrong-token-0123456789"), "{stderr}");
        // --token and ZANZI_TOKEN: answered (denied: exit 1).
        let mut args = check(remote);
        args.extend(["--token".to_owned(), KEY_A.to_owned()]);
        let out = run(args, None).await.unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{remote}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(check(remote), Some(KEY_A)).await.unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{remote}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A write, then zanzi status.
    let out = run(
        vec![
            "tuples".into(),
            "write".into(),
            "--write-remote".into(),
            write.clone(),
            "document:d#viewer@user:alice".into(),
        ],
        Some(KEY_A),
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(check(&read), Some(KEY_A)).await.unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = run(
        vec!["status".into(), "--remote".into(), read.clone()],
        Some(KEY_A),
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_open_server_beyond_loopback_warns_unless_told_it_is_meant() {
    use support::serve::Options;
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.zanzi");
    std::fs::write(&schema, SCHEMA).unwrap();
    let options = |extra: &[(&str, &str)]| {
        let mut options = Options::new(":memory:")
            .schema(&schema)
            .setting("HOST", "0.0.0.0");
        for (key, value) in extra {
            options = options.setting(key, value);
        }
        options
    };
    let open = options(&[]).start();
    assert!(open.log().contains("NO AUTHENTICATION"), "{}", open.log());
    drop(open);
    let meant = options(&[("INSECURE_NO_AUTH", "true")]).start();
    assert!(
        !meant.log().contains("NO AUTHENTICATION"),
        "{}",
        meant.log()
    );
    drop(meant);
    let keyed = options(&[("AUTH_KEYS", KEY_A)]).start();
    assert!(
        !keyed.log().contains("NO AUTHENTICATION"),
        "{}",
        keyed.log()
    );
    assert!(!keyed.log().contains(KEY_A), "the key is never logged");
}

#[test]
fn bad_key_settings_name_the_setting_and_never_the_key() {
    let output = assert_cmd::Command::cargo_bin("zanzi")
        .unwrap()
        .args(["serve", "--db", ":memory:", "--auth-key", "short-secret"])
        .env_remove("ZANZI_AUTH_KEYS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("--auth-key") && stderr.contains("auth_keys"),
        "{stderr}"
    );
    assert!(!stderr.contains("short-secret"), "{stderr}");
    let output = assert_cmd::Command::cargo_bin("zanzi")
        .unwrap()
        .args(["serve", "--db", ":memory:"])
        .env("ZANZI_AUTH_KEYS", format!("{KEY_A},,{KEY_B}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ZANZI_AUTH_KEYS") && stderr.contains("empty"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY_A), "{stderr}");
}

#[test]
fn the_served_document_lists_401_and_429_where_the_settings_make_them_possible() {
    let document = |settings: &Settings| -> Value {
        serde_json::to_value(zanzi::server::openapi::document_for(settings)).unwrap()
    };
    let answers = |doc: &Value, path: &str| doc["paths"][path]["get"]["responses"].clone();
    let open = document(&Settings::default());
    let mut guarded = Settings::default();
    guarded
        .apply("test", "auth_keys", "the-real-key-0123456789")
        .unwrap();
    guarded.apply("test", "rate_limit_per_sec", "5").unwrap();
    let guarded = document(&guarded);
    let check = "/relation-tuples/check";
    assert!(answers(&open, check).get("401").is_none(), "{open}");
    assert!(answers(&open, check).get("429").is_none(), "{open}");
    assert!(answers(&guarded, check).get("401").is_some());
    assert!(answers(&guarded, check).get("429").is_some());
    // Probes stay open and unlimited.
    let alive = answers(&guarded, "/health/alive");
    assert!(alive.get("200").is_some(), "{alive}");
    assert!(
        alive.get("401").is_none() && alive.get("429").is_none(),
        "{alive}"
    );
}
