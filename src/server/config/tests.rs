//! The settings read from every layer, and their errors.

use super::*;

#[test]
fn cache_sizes_read_as_people_write_them() {
    for (text, size) in [
        ("full", CacheSize::Full),
        ("off", CacheSize::Off),
        ("0", CacheSize::Off),
        ("256MiB", CacheSize::Bytes(256 << 20)),
        ("1GiB", CacheSize::Bytes(1 << 30)),
        ("512 MB", CacheSize::Bytes(512_000_000)),
        ("4096", CacheSize::Bytes(4096)),
    ] {
        assert_eq!(text.parse::<CacheSize>(), Ok(size), "{text}");
    }
    for bad in ["", "lots", "12XB", "-1", "99999999999999999999GiB"] {
        assert!(bad.parse::<CacheSize>().is_err(), "{bad}");
    }
    let mut s = Settings::default();
    assert_eq!(s.effective_cache(), CacheSize::Full);
    s.db = "postgres://u@h/db".into();
    assert_eq!(s.effective_cache(), CacheSize::Bytes(DEFAULT_CACHE_BYTES));
    s.apply("--no-cache", "cache_tuples", "false").unwrap();
    assert_eq!(s.effective_cache(), CacheSize::Off);
    let error = s
        .apply("ZANZI_CACHE_SIZE", "cache_size", "12XB")
        .unwrap_err();
    assert!(error.to_string().contains("`cache_size`"), "{error}");
}

#[test]
fn layers_apply_in_order_and_errors_name_the_key() {
    let mut s = Settings::default();
    s.apply_yaml(
        "zanzi.yaml",
        "max_depth: 8\ndb: ':memory:'\nlog_format: json\n",
    )
    .unwrap();
    s.apply_env([("ZANZI_MAX_DEPTH".to_owned(), "9".to_owned())])
        .unwrap();
    assert_eq!((s.max_depth, s.db.as_str()), (9, ":memory:"));
    assert_eq!(s.log_format, LogFormat::Json);
    // The command line's own variables are neither settings nor warned about.
    let ignored = s
        .apply_env([
            ("ZANZI_READ_REMOTE".to_owned(), "http://x".to_owned()),
            ("ZANZI_MAX_DEPT".to_owned(), "3".to_owned()),
        ])
        .unwrap();
    assert_eq!(ignored, ["ZANZI_MAX_DEPT"]);
    let err = s.apply_yaml("zanzi.yaml", "max_dept: 3").unwrap_err();
    assert!(err.to_string().contains("unknown setting `max_dept`"));
    assert!(
        err.to_string().contains("did you mean `max_depth`?"),
        "{err}"
    );
    let err = s
        .apply_env([("ZANZI_READ_PORT".to_owned(), "x".to_owned())])
        .unwrap_err();
    assert!(err.to_string().contains("ZANZI_READ_PORT"));
}

#[test]
fn credentials_come_from_every_layer_and_errors_never_show_a_key() {
    let mut s = Settings::default();
    s.apply_yaml(
        "zanzi.yaml",
        "auth_keys:\n  - key-one-0123456789\n  - key-two-0123456789\njwks: /etc/jwks.json\n",
    )
    .unwrap();
    assert_eq!(s.auth_keys.len(), 2);
    assert_eq!(s.jwks.as_deref(), Some("/etc/jwks.json"));
    s.apply_env([(
        "ZANZI_AUTH_READ_KEYS".to_owned(),
        "reader-0123456789ab, reader-0123456789cd".to_owned(),
    )])
    .unwrap();
    assert_eq!(s.auth_read_keys.len(), 2);
    for (value, says) in [
        (
            "key-one-0123456789,,key-two-0123456789",
            "key 2: a key is empty",
        ),
        ("tiny-secret", "at least 16"),
        ("", "empty"),
    ] {
        let err = s
            .apply("environment variable ZANZI_AUTH_KEYS", "auth_keys", value)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ZANZI_AUTH_KEYS") && err.contains("`auth_keys`"),
            "{err}"
        );
        assert!(err.contains(says), "{err}");
        assert!(
            !err.contains("tiny-secret") && !err.contains("key-one"),
            "{err}"
        );
    }
    let err = s
        .apply_yaml("zanzi.yaml", "auth_write_keys:\n  - 12\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`auth_write_keys`"), "{err}");
    s.apply("--jwt-leeway-secs", "jwt_leeway_secs", "300")
        .unwrap();
    assert_eq!(s.jwt_leeway, Duration::from_secs(300));
    let err = s
        .apply("--jwt-leeway-secs", "jwt_leeway_secs", "301")
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most 300"), "{err}");
    s.check().unwrap();
    s.apply("--insecure-no-auth", "insecure_no_auth", "true")
        .unwrap();
    let err = s.check().unwrap_err().to_string();
    assert!(err.contains("auth_keys, auth_read_keys, jwks"), "{err}");
}

#[test]
fn tls_files_pair_up_per_listener_or_for_all() {
    let mut s = Settings::default();
    for listener in Listener::ALL {
        assert_eq!(s.listener_cert(listener).unwrap(), None);
    }
    s.apply_yaml("zanzi.yaml", "tls_cert: all.pem\ntls_key: all.key\n")
        .unwrap();
    s.apply_env([
        ("ZANZI_WRITE_TLS_CERT".to_owned(), "write.pem".to_owned()),
        ("ZANZI_WRITE_TLS_KEY".to_owned(), "write.key".to_owned()),
    ])
    .unwrap();
    s.check().unwrap();
    let read = s.listener_cert(Listener::Read).unwrap().unwrap();
    assert_eq!(
        (read.cert.to_str(), read.cert_setting.as_str()),
        (Some("all.pem"), "tls_cert")
    );
    let write = s.listener_cert(Listener::Write).unwrap().unwrap();
    assert_eq!(
        (write.key.to_str(), write.key_setting.as_str()),
        (Some("write.key"), "write_tls_key")
    );
    // A listener's own certificate without its own key is a mistake,
    // not a mix with every listener's key.
    s.apply("--x", "metrics_tls_cert", "metrics.pem").unwrap();
    let err = s.check().unwrap_err().to_string();
    assert!(
        err.contains("`metrics_tls_cert` is set but `metrics_tls_key` is not"),
        "{err}"
    );
    // Empty takes a file back.
    s.apply("--x", "metrics_tls_cert", "").unwrap();
    s.apply("--x", "tls_key", "").unwrap();
    let err = s.check().unwrap_err().to_string();
    assert!(
        err.contains("`tls_cert` is set but `tls_key` is not"),
        "{err}"
    );
}

#[test]
fn read_replicas_come_from_every_layer_and_need_postgres() {
    let mut s = Settings::default();
    s.apply_yaml(
        "zanzi.yaml",
        "db: postgres://p/db\ndb_read_replicas:\n  - postgres://r1/db\n  - postgres://r2/db\n",
    )
    .unwrap();
    assert_eq!(s.db_read_replicas, ["postgres://r1/db", "postgres://r2/db"]);
    s.apply_env([(
        "ZANZI_DB_READ_REPLICAS".to_owned(),
        "postgres://a/db, postgres://h1:1,h2:2/db".to_owned(),
    )])
    .unwrap();
    assert_eq!(
        s.db_read_replicas,
        ["postgres://a/db", "postgres://h1:1,h2:2/db"]
    );
    s.check().unwrap();
    let err = s
        .apply("--db-read-replica", "db_read_replicas", "replica.db")
        .unwrap_err();
    assert!(err.to_string().contains("db_read_replicas"), "{err}");
    s.apply("--db", "db", "zanzi.db").unwrap();
    let err = s.check().unwrap_err().to_string();
    assert!(err.contains("needs a PostgreSQL `db`"), "{err}");
    s.apply("env", "db_read_replicas", "").unwrap();
    s.check().unwrap();
}
