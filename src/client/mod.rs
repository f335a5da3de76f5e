//! A blocking HTTP client of the zanzi server, for the CLI's `--remote`
//! mode and `zanzi status`: checks, expands, listings and writes in zanzi's
//! own types ([`Tuple`], [`Subject`]), spoken over the Keto-compatible API.
//!
//! Subjects go out in typed form (`subject_id: "user:alice"`), which the
//! server maps without ambiguity. Bare IDs coming back are typed with the
//! server's schema (fetched once from `GET /zanzi/v1/schema`).
//!
//! A `grpc://HOST:PORT` URL speaks gRPC instead ([`grpc`]); the answers
//! are the same types. `https://` and `grpcs://` go over TLS ([`tls`]).

pub mod grpc;

pub mod lookup;

pub mod status;

pub mod tls;

pub mod watch;

use std::time::{Duration, Instant};

use serde::Deserialize;
use thiserror::Error;

use crate::api::keto::subjects::{tuple_to_keto_typed, typed_subject};
use crate::api::keto::Relationship;
use crate::engine::{ExpandTree, Explanation};
use crate::ir::{AllowedType, Schema};
use crate::store::TupleFilter;
use crate::tuple::{Object, Subject, Tuple};

/// How long a client waits between readiness probes (`zanzi status --block`).
pub const READY_POLL: Duration = Duration::from_millis(200);

/// Why a remote call failed.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the server answered {status}: {message}")]
    Api {
        status: u16,
        reason: String,
        message: String,
    },
    #[error("no {0} URL given")]
    NoUrl(&'static str),
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    #[error("the server was not ready within {0:?}")]
    Timeout(Duration),
    #[error("the server answered {code}: {message}")]
    Grpc { code: String, message: String },
    #[error("{0} is not available over gRPC; use the server's http:// URL")]
    NotOverGrpc(String),
    #[error("a server answers at {url} but it is not zanzi ({reason})")]
    NotZanzi { url: String, reason: String },
    /// 401 / `UNAUTHENTICATED`: the credential was missing or refused.
    #[error("the server refused the credential: {0}; pass --token or set ZANZI_TOKEN")]
    Unauthenticated(String),
    #[error("the token (--token, ZANZI_TOKEN) cannot be sent: it must be printable ASCII without spaces")]
    BadToken,
    #[error(
        "cannot verify the server's certificate ({url}): {reason}; pass --ca-cert FILE with the \
         CA that signed it"
    )]
    Certificate { url: String, reason: String },
    #[error("--ca-cert `{path}`: {reason}")]
    CaCert { path: String, reason: String },
}

/// The `Authorization` header value for `token`, marked sensitive so that
/// it is never logged or shown by `Debug`.
pub(crate) fn bearer(token: &str) -> Result<http::HeaderValue, ClientError> {
    let token = token.trim();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ClientError::BadToken);
    }
    let mut value = http::HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ClientError::BadToken)?;
    value.set_sensitive(true);
    Ok(value)
}

/// An HTTP client for the server at `urls` that sends `token` (if any)
/// with every request, and verifies an `https://` server against the
/// system's roots and `ca_cert`'s.
pub(crate) fn http_client(
    mut builder: reqwest::ClientBuilder,
    urls: &[&str],
    token: Option<&str>,
    ca_cert: Option<&std::path::Path>,
) -> Result<reqwest::Client, ClientError> {
    if urls.iter().any(|url| url.starts_with("https://")) {
        builder = builder.use_preconfigured_tls(tls::client_config(ca_cert, tls::Alpn::Http1)?);
    }
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        headers.insert(reqwest::header::AUTHORIZATION, bearer(token)?);
    }
    builder
        .default_headers(headers)
        .build()
        .map_err(|e| ClientError::Protocol(e.to_string()))
}

impl ClientError {
    /// A failure to reach `url`: a refused server certificate says so.
    pub fn unreachable(url: &str, error: &(dyn std::error::Error + 'static)) -> ClientError {
        match tls::certificate_problem(error) {
            Some(reason) => ClientError::Certificate {
                url: url.to_owned(),
                reason,
            },
            None => ClientError::Unreachable {
                url: url.to_owned(),
                reason: error.to_string(),
            },
        }
    }
}

/// How the client reaches one of the server's APIs, by the URL's scheme.
#[derive(Debug)]
enum Transport {
    Http(String),
    /// Boxed: a channel with its credential is large beside a URL.
    Grpc(Box<grpc::Remote>),
}

/// The consistency of a remote read.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// `minimize_latency`, `at_least_as_fresh`, `at_exact_snapshot`, `fully_consistent`.
    pub consistency: Option<String>,
    pub snaptoken: Option<String>,
    pub max_depth: Option<u32>,
    /// Values for conditions' parameters, sent with checks and lookups.
    pub context: serde_json::Map<String, serde_json::Value>,
    /// Tuples that hold for the request only, sent with checks and lookups.
    pub contextual_tuples: Vec<Tuple>,
}

impl ReadOptions {
    /// The contextual tuples in Keto's relationship shape (REST).
    fn keto_contextual_tuples(&self) -> Vec<crate::api::keto::Relationship> {
        self.contextual_tuples
            .iter()
            .map(tuple_to_keto_typed)
            .collect()
    }

    /// The context as JSON text (gRPC); empty when there is none.
    fn context_text(&self) -> String {
        if self.context.is_empty() {
            String::new()
        } else {
            serde_json::Value::Object(self.context.clone()).to_string()
        }
    }

    fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(c) = &self.consistency {
            q.push(("consistency".into(), c.clone()));
        }
        if let Some(t) = &self.snaptoken {
            q.push(("snaptoken".into(), t.clone()));
        }
        if let Some(d) = self.max_depth {
            q.push(("max-depth".into(), d.to_string()));
        }
        q
    }
}

/// One page of objects a subject reaches.
#[derive(Clone, Debug, Deserialize)]
pub struct ResourcesPage {
    /// Raw IDs, sorted.
    pub object_ids: Vec<String>,
    /// Objects whose answer depends on missing parameters.
    #[serde(default)]
    pub conditional: Vec<crate::api::native::ConditionalId>,
    /// `""` on the last page.
    pub next_page_token: String,
    pub snaptoken: String,
}

/// The subjects of one namespace in a userset.
#[derive(Clone, Debug, Deserialize)]
pub struct SubjectsAnswer {
    /// Raw IDs, sorted.
    pub subject_ids: Vec<String>,
    /// Every subject of the namespace is in the set, except `excluded`.
    pub wildcard: bool,
    pub excluded: Vec<String>,
    /// Subjects whose membership depends on missing parameters.
    #[serde(default)]
    pub conditional: Vec<crate::api::native::ConditionalId>,
    /// Set when the wildcard depends on these missing parameters.
    #[serde(default)]
    pub wildcard_missing: Option<Vec<String>>,
    pub snaptoken: String,
}

/// A check's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckAnswer {
    /// Whether access is granted (never when conditional).
    pub allowed: bool,
    /// Allowed, denied, or conditional on missing parameters.
    pub decision: crate::engine::Decision,
    pub snaptoken: String,
}

/// One page of a listing.
#[derive(Clone, Debug)]
pub struct ListPage {
    pub tuples: Vec<Tuple>,
    /// `""` on the last page.
    pub next_page_token: String,
    /// The snapshot the page was read at.
    pub snaptoken: String,
}

/// Where a client finds a server and how it speaks to it: the CLI's
/// `--remote`, `--write-remote`, `--token` and `--ca-cert` (or a named
/// context holding them).
#[derive(Clone, Default)]
pub struct Connection {
    /// The read API's URL.
    pub read: Option<String>,
    /// The write API's URL.
    pub write: Option<String>,
    /// The credential sent with every request (a preshared key or a JWT).
    pub token: Option<String>,
    /// A PEM file of the certificate authority that signed the server's
    /// certificate, trusted beside the system's roots.
    pub ca_cert: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Connection {
    /// Never shows the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("read", &self.read)
            .field("write", &self.write)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

/// A client of one server (read URL, write URL).
pub struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    read: Option<Transport>,
    write: Option<Transport>,
    schema: std::sync::OnceLock<Schema>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("read", &self.read)
            .field("write", &self.write)
            .finish_non_exhaustive()
    }
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

impl Client {
    /// A client of the read and write URLs, with no credential.
    pub fn new(read: Option<&str>, write: Option<&str>) -> Result<Client, ClientError> {
        Client::connect(&Connection {
            read: read.map(str::to_owned),
            write: write.map(str::to_owned),
            ..Connection::default()
        })
    }

    /// A client of the server `connection` describes.
    pub fn connect(connection: &Connection) -> Result<Client, ClientError> {
        let (read, write) = (connection.read.as_deref(), connection.write.as_deref());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let token = connection.token.as_deref();
        let urls: Vec<&str> = [read, write].into_iter().flatten().collect();
        let http = http_client(
            reqwest::Client::builder().timeout(Duration::from_secs(30)),
            &urls,
            token,
            connection.ca_cert.as_deref(),
        )?;
        let transport = |url: &str| {
            if url.starts_with(grpc::SCHEME) || url.starts_with(grpc::TLS_SCHEME) {
                grpc::Remote::new(url, &runtime, token, connection.ca_cert.as_deref())
                    .map(|remote| Transport::Grpc(Box::new(remote)))
            } else {
                Ok(Transport::Http(trim(url)))
            }
        };
        Ok(Client {
            read: read.map(transport).transpose()?,
            write: write.map(transport).transpose()?,
            runtime,
            http,
            schema: std::sync::OnceLock::new(),
        })
    }

    /// The read API over gRPC, if that is how it is reached.
    fn grpc_read(&self) -> Option<&grpc::Remote> {
        match &self.read {
            Some(Transport::Grpc(remote)) => Some(remote.as_ref()),
            _ => None,
        }
    }

    fn grpc_write(&self) -> Option<&grpc::Remote> {
        match &self.write {
            Some(Transport::Grpc(remote)) => Some(remote.as_ref()),
            _ => None,
        }
    }

    fn read_url(&self) -> Result<&str, ClientError> {
        match &self.read {
            Some(Transport::Http(url)) => Ok(url),
            Some(Transport::Grpc(_)) => Err(ClientError::NotOverGrpc("this request".into())),
            None => Err(ClientError::NoUrl("read (--remote)")),
        }
    }

    fn write_url(&self) -> Result<&str, ClientError> {
        match &self.write {
            Some(Transport::Http(url)) => Ok(url),
            Some(Transport::Grpc(_)) => Err(ClientError::NotOverGrpc("this request".into())),
            None => Err(ClientError::NoUrl("write (--write-remote)")),
        }
    }

    /// Sends a request; an error status becomes [`ClientError::Api`].
    fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), ClientError> {
        self.runtime.block_on(async {
            let response = request
                .send()
                .await
                .map_err(|e| ClientError::unreachable(url, &e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| ClientError::Protocol(e.to_string()))?
                .to_vec();
            Ok((status, headers, body))
        })
    }

    fn api_error(status: u16, body: &[u8]) -> ClientError {
        let error = Client::api_body_error(status, body);
        match error {
            ClientError::Api {
                status: 401,
                message,
                ..
            } => ClientError::Unauthenticated(message),
            error => error,
        }
    }

    fn api_body_error(status: u16, body: &[u8]) -> ClientError {
        #[derive(Deserialize)]
        struct Body {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default)]
            message: String,
            #[serde(default)]
            reason: String,
        }
        match serde_json::from_slice::<Body>(body) {
            Ok(b) => ClientError::Api {
                status,
                reason: b.error.reason,
                message: b.error.message,
            },
            Err(_) => ClientError::Api {
                status,
                reason: String::new(),
                message: String::from_utf8_lossy(body).into_owned(),
            },
        }
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
        ok: &[u16],
    ) -> Result<T, ClientError> {
        let (status, _, body) = self.send(request, url)?;
        if !ok.contains(&status) {
            return Err(Client::api_error(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Whether the server is ready; with `block`, waits up to `timeout`.
    pub fn status(&self, block: bool, timeout: Duration) -> Result<(), ClientError> {
        let started = Instant::now();
        loop {
            match self.probe_ready() {
                Ok(()) => return Ok(()),
                Err(e) if !block => return Err(e),
                Err(_) => {}
            }
            if started.elapsed() >= timeout {
                return Err(ClientError::Timeout(timeout));
            }
            std::thread::sleep(READY_POLL);
        }
    }

    /// The server's schema (fetched once).
    pub fn schema(&self) -> Result<&Schema, ClientError> {
        if let Some(schema) = self.schema.get() {
            return Ok(schema);
        }
        #[derive(Deserialize)]
        struct Answer {
            ir: serde_json::Value,
        }
        let ir = match self.grpc_read() {
            Some(remote) => remote.schema_json(&self.runtime)?,
            None => {
                let url = format!("{}/zanzi/v1/schema", self.read_url()?);
                let answer: Answer = self.json(self.http.get(&url), &url, &[200])?;
                answer.ir.to_string()
            }
        };
        let schema = Schema::from_json(&ir)
            .map_err(|e| ClientError::Protocol(format!("the server's schema: {e}")))?;
        Ok(self.schema.get_or_init(|| schema))
    }

    /// `GET /relation-tuples/check/openapi`.
    pub fn check(
        &self,
        question: &Tuple,
        options: &ReadOptions,
    ) -> Result<CheckAnswer, ClientError> {
        if let Some(remote) = self.grpc_read() {
            return remote.check(&self.runtime, question, options);
        }
        let url = format!("{}/zanzi/v1/check", self.read_url()?);
        let body = serde_json::json!({
            "tuple": question.to_string(),
            "max_depth": options.max_depth,
            "consistency": options.consistency,
            "snaptoken": options.snaptoken,
            "context": options.context,
            "contextual_tuples": options.keto_contextual_tuples(),
        });
        let answer: crate::api::native::ZanziCheckResult =
            self.json(self.http.post(&url).json(&body), &url, &[200])?;
        use crate::api::native::DecisionName;
        let decision = match answer.decision {
            DecisionName::Allowed => crate::engine::Decision::Allowed,
            DecisionName::Denied => crate::engine::Decision::Denied,
            DecisionName::Conditional => crate::engine::Decision::Conditional {
                missing: answer.missing,
            },
        };
        Ok(CheckAnswer {
            allowed: decision.is_allowed(),
            decision,
            snaptoken: answer.snaptoken,
        })
    }

    /// `POST /zanzi/v1/check/explain`: the check with its derivation, and
    /// the snapshot token it was answered at.
    pub fn explain(
        &self,
        question: &Tuple,
        options: &ReadOptions,
    ) -> Result<(Explanation, String), ClientError> {
        if let Some(remote) = self.grpc_read() {
            return remote.explain(&self.runtime, question, options);
        }
        #[derive(Deserialize)]
        struct Answer {
            explanation: Explanation,
            snaptoken: String,
        }
        let url = format!("{}/zanzi/v1/check/explain", self.read_url()?);
        let body = serde_json::json!({
            "tuple": question.to_string(),
            "max_depth": options.max_depth,
            "consistency": options.consistency,
            "snaptoken": options.snaptoken,
            "context": options.context,
            "contextual_tuples": options.keto_contextual_tuples(),
        });
        let answer: Answer = self.deep_json(self.http.post(&url).json(&body), &url)?;
        Ok((answer.explanation, answer.snaptoken))
    }

    /// `POST /zanzi/v1/expand`: zanzi's expand tree, and the snapshot token
    /// it was read at.
    pub fn expand_tree(
        &self,
        object: &Object,
        relation: &str,
        options: &ReadOptions,
    ) -> Result<(ExpandTree, String), ClientError> {
        if self.grpc_read().is_some() {
            return Err(ClientError::NotOverGrpc("zanzi's expand tree".into()));
        }
        #[derive(Deserialize)]
        struct Answer {
            tree: ExpandTree,
            snaptoken: String,
        }
        let url = format!("{}/zanzi/v1/expand", self.read_url()?);
        let body = serde_json::json!({
            "userset": format!("{object}#{relation}"),
            "max_depth": options.max_depth,
            "consistency": options.consistency,
            "snaptoken": options.snaptoken,
        });
        let answer: Answer = self.deep_json(self.http.post(&url).json(&body), &url)?;
        Ok((answer.tree, answer.snaptoken))
    }

    /// A 200 answer holding a tree as deep as the data: read without
    /// serde_json's recursion limit, on a growing stack.
    fn deep_json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<T, ClientError> {
        let (status, _, bytes) = self.send(request, url)?;
        if status != 200 {
            return Err(Client::api_error(status, &bytes));
        }
        crate::engine::grow_stack(|| {
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            de.disable_recursion_limit();
            T::deserialize(&mut de)
        })
        .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// `GET /relation-tuples/expand`: Keto's tree, as JSON.
    pub fn expand(
        &self,
        object: &Object,
        relation: &str,
        options: &ReadOptions,
    ) -> Result<serde_json::Value, ClientError> {
        if self.grpc_read().is_some() {
            return Err(ClientError::NotOverGrpc(
                "Keto's expand tree as JSON".into(),
            ));
        }
        let url = format!("{}/relation-tuples/expand", self.read_url()?);
        let mut query = vec![
            ("namespace".to_owned(), object.namespace.clone()),
            ("object".to_owned(), object.id.clone()),
            ("relation".to_owned(), relation.to_owned()),
        ];
        query.extend(options.query());
        self.json(self.http.get(&url).query(&query), &url, &[200])
    }

    /// Every tuple matching `filter` (all pages, one snapshot); returns the
    /// tuples and the snapshot token.
    pub fn list(
        &self,
        filter: &TupleFilter,
        options: &ReadOptions,
    ) -> Result<(Vec<Tuple>, String), ClientError> {
        let mut tuples = Vec::new();
        let snaptoken = self.for_each_page(filter, options, 1000, |page| {
            tuples.extend_from_slice(page);
            Ok::<(), ClientError>(())
        })?;
        Ok((tuples, snaptoken))
    }

    /// Every page of `GET /relation-tuples` in turn, `page_size` tuples a
    /// page, all at the first page's snapshot (page tokens carry it);
    /// returns its snapshot token. An error from `visit` stops the listing.
    pub fn for_each_page<E: From<ClientError>>(
        &self,
        filter: &TupleFilter,
        options: &ReadOptions,
        page_size: u64,
        mut visit: impl FnMut(&[Tuple]) -> Result<(), E>,
    ) -> Result<String, E> {
        let mut token = None;
        let mut snaptoken = None;
        loop {
            let page = self.list_page(filter, options, page_size, token.as_deref())?;
            visit(&page.tuples)?;
            let snaptoken = snaptoken.get_or_insert(page.snaptoken);
            if page.next_page_token.is_empty() {
                return Ok(std::mem::take(snaptoken));
            }
            token = Some(page.next_page_token);
        }
    }

    /// One page of `GET /relation-tuples`, continuing after `page_token`.
    pub fn list_page(
        &self,
        filter: &TupleFilter,
        options: &ReadOptions,
        page_size: u64,
        page_token: Option<&str>,
    ) -> Result<ListPage, ClientError> {
        if let Some(remote) = self.grpc_read() {
            let (relationships, mut page) =
                remote.list_page(&self.runtime, filter, options, page_size, page_token)?;
            page.tuples = relationships
                .iter()
                .map(|rel| self.from_keto(rel))
                .collect::<Result<_, _>>()?;
            return Ok(page);
        }
        #[derive(Deserialize)]
        struct Page {
            relation_tuples: Vec<Relationship>,
            next_page_token: String,
            #[serde(default)]
            snaptoken: String,
        }
        let url = format!("{}/relation-tuples", self.read_url()?);
        let mut query = filter_query(filter);
        query.extend(options.query());
        query.push(("page_size".into(), page_size.to_string()));
        if let Some(token) = page_token {
            query.push(("page_token".into(), token.to_owned()));
        }
        let page: Page = self.json(self.http.get(&url).query(&query), &url, &[200])?;
        let tuples = page
            .relation_tuples
            .iter()
            .map(|rel| self.from_keto(rel))
            .collect::<Result<_, _>>()?;
        Ok(ListPage {
            tuples,
            next_page_token: page.next_page_token,
            snaptoken: page.snaptoken,
        })
    }

    /// `PATCH /admin/relation-tuples`: inserts and deletes in one
    /// transaction; returns the snapshot token of the write.
    pub fn write(&self, inserts: &[Tuple], deletes: &[Tuple]) -> Result<String, ClientError> {
        if let Some(remote) = self.grpc_write() {
            return remote.write(&self.runtime, inserts, deletes);
        }
        let url = format!("{}/admin/relation-tuples", self.write_url()?);
        let deltas: Vec<serde_json::Value> = inserts
            .iter()
            .map(|t| ("insert", t))
            .chain(deletes.iter().map(|t| ("delete", t)))
            .map(
                |(action, t)| serde_json::json!({ "action": action, "relation_tuple": tuple_to_keto_typed(t) }),
            )
            .collect();
        let (status, headers, body) = self.send(self.http.patch(&url).json(&deltas), &url)?;
        if status != 204 {
            return Err(Client::api_error(status, &body));
        }
        Ok(snaptoken_header(&headers))
    }

    /// `DELETE /admin/relation-tuples`: every tuple matching `filter`
    /// (`namespace` is required).
    pub fn delete_matching(&self, filter: &TupleFilter) -> Result<String, ClientError> {
        if let Some(remote) = self.grpc_write() {
            return remote.delete_matching(&self.runtime, filter);
        }
        let url = format!("{}/admin/relation-tuples", self.write_url()?);
        let query = filter_query(filter);
        let (status, headers, body) = self.send(self.http.delete(&url).query(&query), &url)?;
        if status != 204 {
            return Err(Client::api_error(status, &body));
        }
        Ok(snaptoken_header(&headers))
    }

    /// A relationship from the server as a tuple (typing bare IDs with the
    /// server's schema).
    pub fn from_keto(&self, rel: &Relationship) -> Result<Tuple, ClientError> {
        let subject = match (&rel.subject_id, &rel.subject_set) {
            (_, Some(set)) if set.relation.is_empty() => {
                Subject::object(set.namespace.clone(), set.object.clone())
            }
            (_, Some(set)) => Subject::set(
                set.namespace.clone(),
                set.object.clone(),
                set.relation.clone(),
            ),
            (Some(id), None) => {
                let schema = self.schema()?;
                match id.split_once(':') {
                    Some((ns, rest)) if schema.namespace_id(ns).is_some() => {
                        if rest == "*" {
                            Subject::wildcard(ns)
                        } else {
                            Subject::object(ns, rest)
                        }
                    }
                    _ => {
                        let ns = schema
                            .namespace_id(&rel.namespace)
                            .and_then(|ns| schema.relation_id(ns, &rel.relation))
                            .and_then(|r| schema.relation(r))
                            .and_then(|r| {
                                r.allowed().iter().find_map(|t| match t {
                                    AllowedType::Object { namespace } => Some(*namespace),
                                    _ => None,
                                })
                            })
                            .and_then(|ns| schema.namespace(ns))
                            .map(|n| n.name.clone())
                            .ok_or_else(|| {
                                ClientError::Protocol(format!("cannot type the subject `{id}`"))
                            })?;
                        Subject::object(ns, id.clone())
                    }
                }
            }
            (None, None) => {
                return Err(ClientError::Protocol(
                    "a relationship without a subject".into(),
                ))
            }
        };
        let mut tuple = Tuple::new(
            Object::new(rel.namespace.clone(), rel.object.clone()),
            rel.relation.clone(),
            subject,
        );
        tuple.condition = rel.condition.clone().map(Box::new);
        tuple.expires_at = rel.expires_at;
        Ok(tuple)
    }
}

fn snaptoken_header(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get(crate::api::SNAPTOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn filter_query(filter: &TupleFilter) -> Vec<(String, String)> {
    let mut q = Vec::new();
    if let Some(ns) = &filter.namespace {
        q.push(("namespace".into(), ns.clone()));
    }
    if let Some(id) = &filter.object_id {
        q.push(("object".into(), id.clone()));
    }
    if let Some(rel) = &filter.relation {
        q.push(("relation".into(), rel.clone()));
    }
    if let Some(subject) = &filter.subject {
        let (subject_id, subject_set) = typed_subject(subject);
        if let Some(id) = subject_id {
            q.push(("subject_id".into(), id));
        }
        if let Some(set) = subject_set {
            q.push(("subject_set.namespace".into(), set.namespace));
            q.push(("subject_set.object".into(), set.object));
            q.push(("subject_set.relation".into(), set.relation));
        }
    }
    q
}

/// `zanzi status`: see [`Client::status`]; `connection` names the read API.
pub fn status(connection: &Connection, block: bool, timeout: Duration) -> Result<(), ClientError> {
    Client::connect(connection)?.status(block, timeout)
}
