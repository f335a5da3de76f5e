//! TLS on `zanzi serve`'s listeners and in the client: certificates made
//! here with rcgen (a private CA, server certificates for `localhost` and
//! 127.0.0.1), REST and gRPC over TLS, the CLI's `--ca-cert`, per-listener
//! certificates, and reloads (by the file watch and by SIGHUP) that new
//! connections see while open ones go on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName};
use support::grpc::{schema, settings, SCHEMA};
use zanzi::client::{Client, ClientError, Connection};
use zanzi::server::config::Settings;
use zanzi::server::{self, AppState, Running};
use zanzi::store::MemoryStore;

/// A certificate authority of the tests.
struct Authority {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Authority { cert, key }
    }

    /// A server certificate for `names`: (certificate PEM, key PEM, DER).
    fn issue(&self, names: &[&str]) -> Issued {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    fn write(&self, path: &Path) {
        std::fs::write(path, self.cert.pem()).unwrap();
    }
}

struct Issued {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Issued {
    /// Writes the certificate and key files (replacing them by rename, as
    /// certificate tools do).
    fn write(&self, cert: &Path, key: &Path) {
        for (path, text) in [(cert, &self.cert_pem), (key, &self.key_pem)] {
            let staged = path.with_extension("new");
            std::fs::write(&staged, text).unwrap();
            std::fs::rename(&staged, path).unwrap();
        }
    }
}

/// A directory with a CA and a `localhost` certificate in it.
struct Pki {
    dir: tempfile::TempDir,
    ca: Authority,
    server: Issued,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::new("zanzi test CA");
        ca.write(&dir.path().join("ca.pem"));
        let server = ca.issue(&["localhost", "127.0.0.1"]);
        server.write(&dir.path().join("cert.pem"), &dir.path().join("key.pem"));
        Pki { dir, ca, server }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ca_path(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// Settings serving TLS on every listener with the `localhost` certificate.
    fn settings(&self) -> Settings {
        let mut settings = settings();
        let (cert, key) = (self.path("cert.pem"), self.path("key.pem"));
        settings.tls.cert = Some(cert);
        settings.tls.key = Some(key);
        settings
    }
}

async fn start(settings: Settings) -> Result<Running, server::ServeError> {
    let state = Arc::new(AppState::new(
        settings,
        schema(SCHEMA),
        Arc::new(MemoryStore::new()),
    )?);
    server::start(state, std::future::pending()).await
}

/// A client configuration trusting the CA file (and the system's roots).
fn trusting(ca: &Path, alpn: zanzi::client::tls::Alpn) -> Arc<rustls::ClientConfig> {
    Arc::new(zanzi::client::tls::client_config(Some(ca), alpn).unwrap())
}

/// Does a TLS handshake with `addr` as `name`; returns the stream.
async fn handshake(
    addr: SocketAddr,
    name: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
}

/// The certificate a new connection to `addr` is served.
async fn served_certificate(addr: SocketAddr, name: &str, ca: &Path) -> CertificateDer<'static> {
    let stream = handshake(addr, name, trusting(ca, zanzi::client::tls::Alpn::Http1))
        .await
        .unwrap();
    let (_, connection) = stream.get_ref();
    connection.peer_certificates().unwrap()[0].clone()
}

/// Runs a blocking client call (the zanzi client has its own runtime).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn connection(read: String, ca: Option<PathBuf>) -> Connection {
    Connection {
        read: Some(read),
        ca_cert: ca,
        ..Connection::default()
    }
}

fn zanzi() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_zanzi"));
    for (name, _) in std::env::vars() {
        if name.starts_with("ZANZI_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs the CLI off the runtime's threads: (success, stdout, stderr).
async fn run_cli(mut command: std::process::Command) -> (bool, String, String) {
    let output = blocking(move || command.output().unwrap()).await;
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_over_https_works_with_the_ca_and_is_refused_without() {
    let pki = Pki::new();
    let running = start(pki.settings()).await.unwrap();
    let url = format!("https://localhost:{}", running.read.port());

    let http = reqwest::Client::builder()
        .use_preconfigured_tls(
            zanzi::client::tls::client_config(
                Some(&pki.ca_path()),
                zanzi::client::tls::Alpn::Http1,
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let answer = http
        .get(format!("{url}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let trusted = connection(url.clone(), Some(pki.ca_path()));
    blocking(move || zanzi::client::status(&trusted, false, Duration::ZERO))
        .await
        .unwrap();

    let untrusted = connection(url.clone(), None);
    let error = blocking(move || zanzi::client::status(&untrusted, false, Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Certificate { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("cannot verify the server's certificate")
            && message.contains("pass --ca-cert FILE with the CA that signed it"),
        "{message}"
    );

    // Another CA is no better than none.
    let stranger = Authority::new("stranger CA");
    stranger.write(&pki.path("stranger.pem"));
    let wrong = connection(url, Some(pki.path("stranger.pem")));
    let error = blocking(move || zanzi::client::status(&wrong, false, Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Certificate { .. }),
        "{error:?}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_works_with_tonic_and_the_zanzi_client() {
    let pki = Pki::new();
    let running = start(pki.settings()).await.unwrap();

    // A plain tonic channel over a rustls stream: the port speaks HTTP/2
    // after ALPN chose `h2`.
    let config = trusting(&pki.ca_path(), zanzi::client::tls::Alpn::H2);
    let addr = running.read;
    let connector = tower::service_fn(move |_: http::Uri| {
        let config = Arc::clone(&config);
        async move {
            let stream = handshake(addr, "localhost", config).await?;
            assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    });
    let channel =
        tonic::transport::Endpoint::from_shared(format!("https://localhost:{}", addr.port()))
            .unwrap()
            .connect_with_connector(connector)
            .await
            .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let answer = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        answer.get_ref().status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // The zanzi client over grpcs://: a write, then a check that sees it.
    let read = format!("grpcs://localhost:{}", running.read.port());
    let write = format!("grpcs://127.0.0.1:{}", running.write.port());
    let ca = pki.ca_path();
    let allowed = blocking(move || {
        let client = Client::connect(&Connection {
            read: Some(read),
            write: Some(write),
            ca_cert: Some(ca),
            ..Connection::default()
        })
        .unwrap();
        let tuple: zanzi::Tuple = "document:readme#viewer@user:alice".parse().unwrap();
        client.write(&[tuple], &[]).unwrap();
        let question: zanzi::Tuple = "document:readme#view@user:alice".parse().unwrap();
        client
            .check(
                &question,
                &zanzi::client::ReadOptions {
                    consistency: Some("fully_consistent".into()),
                    ..Default::default()
                },
            )
            .unwrap()
            .allowed
    })
    .await;
    assert!(allowed);

    // Without the CA: the certificate error, over gRPC too.
    let untrusted = connection(format!("grpcs://localhost:{}", running.read.port()), None);
    let error = blocking(move || zanzi::client::status(&untrusted, false, Duration::ZERO))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Certificate { .. }),
        "{error:?}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_trusts_ca_cert_from_the_flag_or_the_environment() {
    let pki = Pki::new();
    let running = start(pki.settings()).await.unwrap();
    let https = format!("https://localhost:{}", running.read.port());
    let grpcs = format!("grpcs://localhost:{}", running.read.port());

    for remote in [&https, &grpcs] {
        let mut flag = zanzi();
        flag.args(["status", "--remote", remote, "--ca-cert"])
            .arg(pki.ca_path());
        let (ok, stdout, stderr) = run_cli(flag).await;
        assert!(ok, "{remote}: {stdout}{stderr}");
        assert!(stdout.contains("ready"), "{stdout}");

        let mut variable = zanzi();
        variable
            .args(["status", "--remote", remote])
            .env("ZANZI_CA_CERT", pki.ca_path());
        let (ok, stdout, stderr) = run_cli(variable).await;
        assert!(ok, "{remote}: {stdout}{stderr}");

        let mut without = zanzi();
        without.args(["status", "--remote", remote]);
        let (ok, _, stderr) = run_cli(without).await;
        assert!(!ok);
        assert!(
            stderr.contains("cannot verify the server's certificate")
                && stderr.contains("--ca-cert FILE"),
            "{remote}: {stderr}"
        );
    }

    // A check through the CLI over grpcs://: denied (exit 1), answered.
    let mut check = zanzi();
    check
        .args(["check", "--remote", &grpcs, "--ca-cert"])
        .arg(pki.ca_path())
        .arg("document:readme#view@user:bob");
    let (ok, stdout, stderr) = run_cli(check).await;
    assert!(!ok);
    assert!(stdout.contains("denied"), "{stdout}{stderr}");

    let mut missing = zanzi();
    missing
        .args(["status", "--remote", &https, "--ca-cert"])
        .arg(pki.path("nowhere.pem"));
    let (ok, _, stderr) = run_cli(missing).await;
    assert!(!ok);
    assert!(
        stderr.contains("--ca-cert") && stderr.contains("nowhere.pem"),
        "{stderr}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_and_silent_clients_get_nothing_and_hold_up_nothing() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let pki = Pki::new();
    let running = start(pki.settings()).await.unwrap();
    let mut tcp = tokio::net::TcpStream::connect(running.read).await.unwrap();
    tcp.write_all(b"GET /health/alive HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server neither answered nor closed");
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/"),
        "answered in the clear: {answer:?}"
    );
    let error = reqwest::get(format!("http://{}/health/alive", running.read))
        .await
        .unwrap_err();
    assert!(error.is_request() || error.is_connect(), "{error:?}");

    // A client that connects and never says hello holds up neither other
    // connections nor the shutdown.
    let _silent = tokio::net::TcpStream::connect(running.read).await.unwrap();
    let served = tokio::time::timeout(
        Duration::from_secs(5),
        served_certificate(running.read, "localhost", &pki.ca_path()),
    )
    .await
    .expect("a handshake waited for a silent client's");
    assert_eq!(served, pki.server.der);
    tokio::time::timeout(Duration::from_secs(5), running.shutdown())
        .await
        .expect("the shutdown waited for a silent client's handshake");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_serve_their_own_certificates() {
    let pki = Pki::new();
    let read = pki.ca.issue(&["read.zanzi.test"]);
    let write = pki.ca.issue(&["write.zanzi.test"]);
    read.write(&pki.path("read.pem"), &pki.path("read.key"));
    write.write(&pki.path("write.pem"), &pki.path("write.key"));
    let mut settings = settings();
    for (key, file) in [
        ("read_tls_cert", "read.pem"),
        ("read_tls_key", "read.key"),
        ("write_tls_cert", "write.pem"),
        ("write_tls_key", "write.key"),
        ("syntax_tls_cert", "cert.pem"),
        ("syntax_tls_key", "key.pem"),
    ] {
        let path = pki.path(file);
        settings.apply("test", key, path.to_str().unwrap()).unwrap();
    }
    let running = start(settings).await.unwrap();
    let ca = pki.ca_path();
    assert_eq!(
        served_certificate(running.read, "read.zanzi.test", &ca).await,
        read.der
    );
    assert_eq!(
        served_certificate(running.write, "write.zanzi.test", &ca).await,
        write.der
    );
    assert_eq!(
        served_certificate(running.syntax, "localhost", &ca).await,
        pki.server.der
    );
    // The read certificate is not valid for the write listener's name.
    let config = trusting(&ca, zanzi::client::tls::Alpn::Http1);
    let error = handshake(running.read, "write.zanzi.test", config)
        .await
        .unwrap_err();
    assert!(
        zanzi::client::tls::certificate_problem(&error).is_some(),
        "{error:?}"
    );
    // Metrics has no certificate: cleartext.
    let metrics = reqwest::get(format!("http://{}/health/alive", running.metrics))
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    running.shutdown().await;
}

/// Waits until new connections to `addr` are served `expected`.
async fn wait_for_certificate(addr: SocketAddr, ca: &Path, expected: &CertificateDer<'static>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let stream = handshake(
            addr,
            "localhost",
            trusting(ca, zanzi::client::tls::Alpn::Http1),
        )
        .await;
        if let Ok(stream) = stream {
            if stream.get_ref().1.peer_certificates().unwrap()[0] == *expected {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_files_are_served_to_new_connections_and_open_ones_go_on() {
    let pki = Pki::new();
    let running = start(pki.settings()).await.unwrap();

    // A kept-alive HTTP/1.1 connection, opened on the old certificate.
    let stream = handshake(
        running.read,
        "localhost",
        trusting(&pki.ca_path(), zanzi::client::tls::Alpn::Http1),
    )
    .await
    .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = || {
        http::Request::get("/health/alive")
            .header("host", "localhost")
            .body(http_body_util::Empty::<&'static [u8]>::new())
            .unwrap()
    };
    assert_eq!(sender.send_request(request()).await.unwrap().status(), 200);

    // New files, from another CA: the file watch picks them up.
    let other_ca = Authority::new("next CA");
    other_ca.write(&pki.path("next-ca.pem"));
    let next = other_ca.issue(&["localhost"]);
    next.write(&pki.path("cert.pem"), &pki.path("key.pem"));
    wait_for_certificate(running.read, &pki.path("next-ca.pem"), &next.der).await;
    assert_eq!(
        served_certificate(running.write, "localhost", &pki.path("next-ca.pem")).await,
        next.der
    );

    // The connection opened before still answers.
    assert_eq!(sender.send_request(request()).await.unwrap().status(), 200);

    // A broken file is not taken: the last good certificate stays.
    std::fs::write(
        pki.path("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n",
    )
    .unwrap();
    running.reload_tls();
    tokio::time::sleep(zanzi::server::tls::RELOAD_POLL * 2).await;
    assert_eq!(
        served_certificate(running.read, "localhost", &pki.path("next-ca.pem")).await,
        next.der
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_certificate_at_start_is_an_error_naming_the_setting_and_file() {
    let pki = Pki::new();
    std::fs::write(pki.path("bad.pem"), "not a certificate").unwrap();
    let mut settings = pki.settings();
    settings.tls.cert = Some(pki.path("bad.pem"));
    let error = start(settings).await.unwrap_err().to_string();
    assert!(
        error.contains("`tls_cert`") && error.contains("bad.pem"),
        "{error}"
    );

    let mut settings = pki.settings();
    settings
        .apply(
            "test",
            "write_tls_key",
            pki.path("missing.key").to_str().unwrap(),
        )
        .unwrap();
    settings
        .apply(
            "test",
            "write_tls_cert",
            pki.path("cert.pem").to_str().unwrap(),
        )
        .unwrap();
    let error = start(settings).await.unwrap_err().to_string();
    assert!(
        error.contains("`write_tls_key`") && error.contains("missing.key"),
        "{error}"
    );

    // A key that is not the certificate's.
    let other = pki.ca.issue(&["localhost"]);
    std::fs::write(pki.path("other.key"), &other.key_pem).unwrap();
    let mut settings = pki.settings();
    settings.tls.key = Some(pki.path("other.key"));
    let error = start(settings).await.unwrap_err().to_string();
    assert!(
        error.contains("`tls_key`") && error.contains("does not fit"),
        "{error}"
    );

    // A certificate without its key.
    let mut settings = pki.settings();
    settings.apply("test", "read_tls_cert", "read.pem").unwrap();
    let error = settings.check().unwrap_err().to_string();
    assert!(
        error.contains("`read_tls_cert`") && error.contains("`read_tls_key`"),
        "{error}"
    );
}

/// Reads the listeners' addresses from a `zanzi serve --log-format json`'s
/// "zanzi serving" line.
fn serving_line(
    stderr: std::process::ChildStderr,
) -> (
    serde_json::Value,
    std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
) {
    use std::io::BufRead as _;
    let mut lines = std::io::BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let record: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if record["fields"]["message"] == "zanzi serving" {
            return (record, lines);
        }
    }
    panic!("the server stopped before serving");
}

/// Kills the server process when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zanzi_serve_takes_tls_flags_and_reloads_on_sighup() {
    let pki = Pki::new();
    std::fs::write(pki.path("schema.zanzi"), SCHEMA).unwrap();
    let mut command = zanzi();
    command
        .args(["serve", "--db", ":memory:", "--log-format", "json"])
        .args([
            "--read-port",
            "0",
            "--write-port",
            "0",
            "--metrics-port",
            "0",
            "--syntax-port",
            "0",
        ])
        .arg("--schema")
        .arg(pki.path("schema.zanzi"))
        .arg("--tls-cert")
        .arg(pki.path("cert.pem"))
        .arg("--tls-key")
        .arg(pki.path("key.pem"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = Killed(command.spawn().unwrap());
    let stderr = child.0.stderr.take().unwrap();
    let (record, rest) = blocking(move || serving_line(stderr)).await;
    // Keep draining the log so that the server never blocks on it.
    let (log_tx, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in rest.map_while(Result::ok) {
            let _ = log_tx.send(line);
        }
    });
    let read: SocketAddr = record["fields"]["read"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        served_certificate(read, "localhost", &pki.ca_path()).await,
        pki.server.der
    );

    let next = pki.ca.issue(&["localhost"]);
    next.write(&pki.path("cert.pem"), &pki.path("key.pem"));
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    // The reload is the signal's, not the file watch's.
    let signalled = blocking(move || {
        std::iter::from_fn(|| log.recv_timeout(Duration::from_secs(15)).ok())
            .any(|line| line.contains("SIGHUP: reloading"))
    })
    .await;
    assert!(signalled, "no reload on SIGHUP");
    wait_for_certificate(read, &pki.ca_path(), &next.der).await;
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "SIGHUP must reload, not stop the server"
    );

    // A bad PEM at start: no server, a message naming the setting.
    std::fs::write(pki.path("bad.pem"), "garbage").unwrap();
    let mut bad = zanzi();
    bad.args([
        "serve",
        "--db",
        ":memory:",
        "--read-port",
        "0",
        "--write-port",
        "0",
    ])
    .args(["--metrics-port", "0", "--syntax-port", "0"])
    .arg("--schema")
    .arg(pki.path("schema.zanzi"))
    .arg("--tls-cert")
    .arg(pki.path("bad.pem"))
    .arg("--tls-key")
    .arg(pki.path("key.pem"));
    let (ok, _, stderr) = run_cli(bad).await;
    assert!(!ok);
    assert!(
        stderr.contains("tls_cert") && stderr.contains("bad.pem"),
        "{stderr}"
    );

    let mut half = zanzi();
    half.args(["serve", "--db", ":memory:", "--tls-cert"])
        .arg(pki.path("cert.pem"));
    let (ok, _, stderr) = run_cli(half).await;
    assert!(!ok);
    assert!(
        stderr.contains("`tls_cert`") && stderr.contains("`tls_key`"),
        "{stderr}"
    );
}
