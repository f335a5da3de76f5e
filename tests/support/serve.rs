//! Real `zanzi serve` processes for tests, a small blocking HTTP client to
//! talk to them, and Keto-API helpers (grant, revoke, check, list) over a
//! one-namespace schema ([`SCHEMA`]).
//!
//! A [`Server`] is the binary cargo built, started on free ports (port 0)
//! with JSON logs; its listeners are read from the "zanzi serving" log line,
//! and it is killed when dropped, so a failing test leaves no process
//! behind. Its log keeps being drained (a full pipe would stall the server)
//! and the last lines are kept for failure messages.

#![allow(
    dead_code,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

/// How long a server may take to announce its listeners.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Log lines kept for failure messages.
const KEPT_LINES: usize = 200;

/// A running `zanzi serve`, killed (SIGKILL) and reaped on drop.
pub struct Server {
    child: Child,
    /// `http://host:port` of the read API.
    pub read: String,
    /// `http://host:port` of the write API.
    pub write: String,
    log: Arc<Mutex<VecDeque<String>>>,
}

/// How to start a server: `zanzi serve --db DB [--schema FILE]` with
/// `ZANZI_*` settings in the environment.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub db: String,
    pub schema: Option<std::path::PathBuf>,
    /// Settings as `ZANZI_<KEY>` variables: (`KEY`, value), e.g. `("SECRET", "s")`.
    pub settings: Vec<(String, String)>,
}

impl Options {
    pub fn new(db: &str) -> Options {
        Options {
            db: db.to_owned(),
            ..Options::default()
        }
    }

    pub fn schema(mut self, path: &Path) -> Options {
        self.schema = Some(path.to_owned());
        self
    }

    /// A server setting, passed as the variable `ZANZI_<KEY>`.
    pub fn setting(mut self, key: &str, value: &str) -> Options {
        self.settings
            .push((key.to_ascii_uppercase(), value.to_owned()));
        self
    }

    /// The token secret: servers sharing it (and a database) accept each
    /// other's snapshot tokens.
    pub fn secret(self, secret: &str) -> Options {
        self.setting("SECRET", secret)
    }

    pub fn start(&self) -> Server {
        Server::start(self)
    }
}

impl Server {
    pub fn start(options: &Options) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_zanzi"));
        command.args(["serve", "--log-format", "json", "--db", &options.db]);
        if let Some(schema) = &options.schema {
            command.arg("--schema").arg(schema);
        }
        command
            .args(["--read-port", "0", "--write-port", "0"])
            .args(["--metrics-port", "0", "--syntax-port", "0"]);
        // Only the settings asked for: none from the environment of the tests.
        for (name, _) in std::env::vars() {
            if name.starts_with("ZANZI_") {
                command.env_remove(name);
            }
        }
        for (key, value) in &options.settings {
            command.env(format!("ZANZI_{key}"), value);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start zanzi serve");
        let stderr = child.stderr.take().expect("the server's stderr");
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut announced = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(listeners) = announced.as_ref().and_then(|_| listeners(&line)) {
                    if let Some(tx) = announced.take() {
                        let _ = tx.send(listeners);
                    }
                }
                let mut kept = kept.lock().unwrap();
                if kept.len() == KEPT_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let mut server = Server {
            child,
            read: String::new(),
            write: String::new(),
            log,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok((read, write)) => {
                server.read = read;
                server.write = write;
            }
            Err(_) => panic!(
                "zanzi serve --db {} did not announce its listeners within {START_TIMEOUT:?} \
                 (exit: {:?}); its log:\n{}",
                options.db,
                server.child.try_wait(),
                server.log()
            ),
        }
        server.wait_ready();
        server
    }

    /// Polls `/health/ready` until it answers 200.
    pub fn wait_ready(&self) {
        let http = Http::new();
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(r) = http.try_request("GET", &format!("{}/health/ready", self.read), None) {
                if r.status == 200 {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server at {} never became ready; its log:\n{}",
                self.read,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines the server logged.
    pub fn log(&self) -> String {
        let kept = self.log.lock().unwrap();
        kept.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The read and write URLs of a "zanzi serving" log line.
fn listeners(line: &str) -> Option<(String, String)> {
    let record: serde_json::Value = serde_json::from_str(line).ok()?;
    if record["fields"]["message"] != "zanzi serving" {
        return None;
    }
    let url = |name: &str| {
        record["fields"][name]
            .as_str()
            .map(|addr| format!("http://{addr}"))
    };
    Some((url("read")?, url("write")?))
}

/// The runtime behind every [`Http`]; `block_on` may be called from many
/// threads at once.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// An answer: status, the snapshot token header, and the JSON body (Null
/// when empty or not JSON).
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub snaptoken: Option<String>,
    pub body: serde_json::Value,
}

impl Answer {
    /// The snapshot token, from the header or else the body.
    pub fn token(&self) -> String {
        self.snaptoken
            .clone()
            .or_else(|| self.body["snaptoken"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("an answer without a snapshot token: {self:?}"))
    }

    /// The error's `reason`, if the body is an error.
    pub fn reason(&self) -> Option<&str> {
        self.body["error"]["reason"].as_str()
    }
}

/// A blocking HTTP client.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Default for Http {
    fn default() -> Self {
        Http::new()
    }
}

impl Http {
    pub fn new() -> Http {
        Http::with_timeout(Duration::from_secs(120))
    }

    /// A client whose every request gives up after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Http {
        Http {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .expect("an HTTP client"),
        }
    }

    /// `method url` with an optional JSON body; a transport error (refused,
    /// reset, timed out) is `Err`.
    pub fn try_request(
        &self,
        method: &str,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, reqwest::Error> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.client.request(method, url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).expect("JSON"));
        }
        runtime().block_on(async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let snaptoken = response
                .headers()
                .get(zanzi::server::SNAPTOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            let bytes = response.bytes().await?;
            let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            Ok(Answer {
                status,
                snaptoken,
                body,
            })
        })
    }

    /// [`Http::try_request`] that panics on a transport error.
    pub fn request(&self, method: &str, url: &str, body: Option<&serde_json::Value>) -> Answer {
        self.try_request(method, url, body)
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"))
    }

    pub fn get(&self, url: &str) -> Answer {
        self.request("GET", url, None)
    }
}

/// `pairs` as a URL query string.
pub fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("a query string")
}

// ---------------------------------------------------------------------------
// Keto's REST API over one small schema: `doc` objects with a `viewer`
// relation of `user`s and a `view` permission.

pub const SCHEMA: &str =
    "namespace user {}\nnamespace doc { relation viewer: user  permission view = viewer }\n";

pub const SECRET: &str = "replicas share this secret";

/// The schema in a file that lives as long as the returned directory.
pub fn schema_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.zanzi");
    std::fs::write(&path, SCHEMA).unwrap();
    (dir, path)
}

/// Three servers on `db` with one secret; the first creates the layout and
/// stores the schema before the others start.
pub fn replicas(db: &str, schema: &std::path::Path, settings: &[(&str, &str)]) -> [Server; 3] {
    let mut options = Options::new(db).schema(schema).secret(SECRET);
    for (key, value) in settings {
        options = options.setting(key, value);
    }
    let a = options.start();
    let (b, c) = std::thread::scope(|s| {
        let b = s.spawn(|| options.start());
        let c = s.spawn(|| options.start());
        (b.join().unwrap(), c.join().unwrap())
    });
    [a, b, c]
}

/// The revision inside a snapshot token: `zk2_` + base64url of
/// `[version][store id: 16][revision: 8][history: 16][MAC: 16]` (`src/server/zookie.rs`).
pub fn revision(token: &str) -> u64 {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.strip_prefix("zk2_").unwrap())
        .unwrap();
    u64::from_be_bytes(bytes[17..25].try_into().unwrap())
}

/// Writes `doc:OBJECT#viewer@user:SUBJECT` through `server`; its token.
pub fn grant(http: &Http, server: &Server, object: &str, subject: &str) -> String {
    let answer = try_grant(http, server, object, subject).unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");
    answer.token()
}

pub fn try_grant(
    http: &Http,
    server: &Server,
    object: &str,
    subject: &str,
) -> Result<Answer, reqwest::Error> {
    http.try_request(
        "PUT",
        &format!("{}/admin/relation-tuples", server.write),
        Some(
            &json!({"namespace": "doc", "object": object, "relation": "viewer",
                     "subject_id": format!("user:{subject}")}),
        ),
    )
}

/// Deletes `doc:OBJECT#viewer@user:SUBJECT` through `server` (a PATCH of one
/// delete); its token.
pub fn revoke(http: &Http, server: &Server, object: &str, subject: &str) -> String {
    let answer = http.request(
        "PATCH",
        &format!("{}/admin/relation-tuples", server.write),
        Some(&json!([{"action": "delete", "relation_tuple": {
            "namespace": "doc", "object": object, "relation": "viewer",
            "subject_id": format!("user:{subject}")}}])),
    );
    assert_eq!(answer.status, 204, "{answer:?}");
    answer.token()
}

/// Asks `server` whether `user:SUBJECT` may view `doc:OBJECT`, with the
/// given `consistency`/`snaptoken` parameters.
pub fn check(
    http: &Http,
    server: &Server,
    object: &str,
    subject: &str,
    consistency: &[(&str, &str)],
) -> Answer {
    let subject = format!("user:{subject}");
    let mut params = vec![
        ("namespace", "doc"),
        ("object", object),
        ("relation", "view"),
        ("subject_id", subject.as_str()),
    ];
    params.extend_from_slice(consistency);
    http.get(&format!(
        "{}/relation-tuples/check/openapi?{}",
        server.read,
        query(&params)
    ))
}

/// Whether the check was answered 200 and allowed.
pub fn allowed(answer: &Answer) -> bool {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["allowed"].as_bool().unwrap()
}

/// The subjects (without `user:`) of `doc:OBJECT#viewer` at the snapshot
/// chosen by `consistency`, every page read at the first page's revision;
/// and that revision's token.
pub fn list(
    http: &Http,
    server: &Server,
    object: &str,
    page_size: usize,
    consistency: &[(&str, &str)],
) -> (Vec<String>, String) {
    let page_size = page_size.to_string();
    let mut subjects = Vec::new();
    let mut page_token = String::new();
    let mut snapshot = None;
    loop {
        let mut params = vec![
            ("namespace", "doc"),
            ("object", object),
            ("relation", "viewer"),
            ("page_size", &page_size),
        ];
        if page_token.is_empty() {
            params.extend_from_slice(consistency);
        } else {
            params.push(("page_token", &page_token));
        }
        let answer = http.get(&format!(
            "{}/relation-tuples?{}",
            server.read,
            query(&params)
        ));
        assert_eq!(answer.status, 200, "{answer:?}");
        let token = answer.token();
        match &snapshot {
            None => snapshot = Some(token),
            Some(first) => assert_eq!(
                revision(first),
                revision(&token),
                "a page of one listing read another snapshot"
            ),
        }
        for tuple in answer.body["relation_tuples"].as_array().unwrap() {
            let id = tuple["subject_id"].as_str().unwrap();
            subjects.push(id.strip_prefix("user:").unwrap_or(id).to_owned());
        }
        page_token = answer.body["next_page_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if page_token.is_empty() {
            return (subjects, snapshot.unwrap());
        }
    }
}
