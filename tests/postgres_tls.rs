//! TLS to PostgreSQL as the `--db` URL asks for it (`sslmode`,
//! `sslrootcert`), against a throwaway cluster with `ssl=on` and a
//! self-signed certificate made here, and the plain cluster of
//! `support/postgres.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use support::postgres::Cluster;
use zanzi::store::{PostgresStore, Revision, StoreError, TupleStore};
use zanzi::tuple::Tuple;

/// A cluster serving TLS with a certificate for 127.0.0.1 and `localhost`,
/// and that certificate's PEM file (its own root).
struct Secure {
    cluster: Cluster,
    root: PathBuf,
    /// Another self-signed certificate, which did not sign the server's.
    stranger: PathBuf,
    _dir: tempfile::TempDir,
}

fn secure() -> &'static Secure {
    static SECURE: OnceLock<Secure> = OnceLock::new();
    SECURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let server = rcgen::generate_simple_self_signed(names).unwrap();
        let stranger = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let root = dir.path().join("root.pem");
        std::fs::write(&root, server.cert.pem()).unwrap();
        let stranger_path = dir.path().join("stranger.pem");
        std::fs::write(&stranger_path, stranger.cert.pem()).unwrap();
        let cluster = Cluster::start_with(|cluster_dir: &Path| {
            let cert = cluster_dir.join("server.crt");
            let key = cluster_dir.join("server.key");
            std::fs::write(&cert, server.cert.pem()).unwrap();
            std::fs::write(&key, server.key_pair.serialize_pem()).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
            vec![
                "ssl=on".to_owned(),
                format!("ssl_cert_file={}", cert.display()),
                format!("ssl_key_file={}", key.display()),
            ]
        });
        Secure {
            cluster,
            root,
            stranger: stranger_path,
            _dir: dir,
        }
    })
}

fn t(text: &str) -> Tuple {
    text.parse().unwrap()
}

/// How many connections to the database of `url` use TLS, as the server
/// sees them.
fn tls_connections(cluster: &Cluster, url: &str) -> i64 {
    let name = url.split('?').next().unwrap().rsplit('/').next().unwrap();
    let mut admin = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).unwrap();
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
             WHERE ssl AND datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0)
}

/// Writes and reads one tuple through a store at `url`.
fn round_trip(url: &str) -> PostgresStore {
    let store = PostgresStore::connect(url).unwrap();
    let tuple = t("doc:1#viewer@user:alice");
    let revision = store.write(std::slice::from_ref(&tuple), &[]).unwrap();
    assert_eq!(revision, Revision(1));
    assert!(store.snapshot(revision).unwrap().contains(&tuple).unwrap());
    store
}

#[test]
fn verify_full_with_the_servers_root_connects_over_tls() {
    let secure = secure();
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        secure.cluster.database(),
        secure.root.display()
    );
    let store = round_trip(&url);
    assert!(tls_connections(&secure.cluster, &url) >= 1);
    drop(store);
}

#[test]
fn require_and_prefer_connect_over_tls_without_checking_the_certificate() {
    let secure = secure();
    for mode in ["require", "prefer"] {
        let url = format!("{}?sslmode={mode}", secure.cluster.database());
        let store = round_trip(&url);
        assert!(tls_connections(&secure.cluster, &url) >= 1, "{mode}");
        drop(store);
    }
}

#[test]
fn verify_ca_ignores_the_host_name_and_verify_full_does_not() {
    let secure = secure();
    let database = secure.cluster.database();
    let name = database.rsplit('/').next().unwrap();
    // The certificate names 127.0.0.1 and localhost, not db.example.
    let at = |mode: &str| {
        format!(
            "postgres://postgres@db.example:{}/{name}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={}",
            secure.cluster.port(),
            secure.root.display()
        )
    };
    round_trip(&at("verify-ca"));
    let refused = PostgresStore::connect(&at("verify-full")).unwrap_err();
    assert!(matches!(refused, StoreError::Backend(_)), "{refused}");
    assert!(refused.to_string().contains("TLS"), "{refused}");
}

#[test]
fn a_certificate_from_another_root_is_refused() {
    let secure = secure();
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        secure.cluster.database(),
        secure.stranger.display()
    );
    let refused = PostgresStore::connect(&url).unwrap_err();
    assert!(matches!(refused, StoreError::Backend(_)), "{refused}");
    assert!(refused.to_string().contains("certificate"), "{refused}");
}

#[test]
fn require_against_a_server_without_tls_is_one_line_exit_2() {
    let url = format!("{}?sslmode=require", support::postgres::database());
    let output = Command::cargo_bin("zanzi")
        .unwrap()
        .env_remove("ZANZI_DB")
        .args(["tuples", "list", "--db", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("--db `"), "{stderr}");
    assert!(lines[0].contains("server does not support TLS"), "{stderr}");
    // prefer falls back to a plain connection.
    let plain = format!("{}?sslmode=prefer", support::postgres::database());
    round_trip(&plain);
}

#[test]
fn a_bad_tls_setting_is_refused() {
    let url = format!("{}?sslmode=sometimes", support::postgres::database());
    let refused = PostgresStore::connect(&url).unwrap_err();
    assert!(
        refused.to_string().contains("sslmode `sometimes`"),
        "{refused}"
    );
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert=/no/such/root.pem",
        support::postgres::database()
    );
    let refused = PostgresStore::connect(&url).unwrap_err();
    assert!(
        refused.to_string().contains("/no/such/root.pem"),
        "{refused}"
    );
}
