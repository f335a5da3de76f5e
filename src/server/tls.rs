//! TLS on the server's listeners (`tls_cert`/`tls_key`, or a listener's
//! own `read_tls_cert`/`read_tls_key`, …), with rustls on the ring provider.
//!
//! Certificates are read at start (a bad file stops the server) and again
//! on SIGHUP or when a file's modification time or size changes: each
//! listener's [`ReloadingCert`] hands every new handshake the certificate
//! it holds now, so a reload takes effect for new connections while open
//! ones go on with the one they started with. A reload that fails keeps
//! the old certificate and logs why. ALPN offers `h2` and `http/1.1`, so
//! gRPC and REST clients share a TLS port as they share a cleartext one.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use thiserror::Error;

use super::config::CertFiles;

/// How often certificate files are looked at for changes.
pub const RELOAD_POLL: Duration = Duration::from_secs(2);

/// Why a certificate could not be loaded; names the setting and the file.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("`{setting}` (`{path}`): {reason}")]
    File {
        setting: String,
        path: String,
        reason: String,
    },
    #[error("the private key of `{key_setting}` (`{key}`) does not fit the certificate of `{cert_setting}` (`{cert}`): {reason}")]
    Pair {
        cert_setting: String,
        cert: String,
        key_setting: String,
        key: String,
        reason: String,
    },
    #[error("TLS: {0}")]
    Config(String),
}

/// The modification time and size of a listener's two files: a change of
/// either means the files were replaced.
type Fingerprint = [(Option<SystemTime>, u64); 2];

fn fingerprint(files: &CertFiles) -> Fingerprint {
    let of =
        |path: &Path| std::fs::metadata(path).map_or((None, 0), |m| (m.modified().ok(), m.len()));
    [of(&files.cert), of(&files.key)]
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks a certificate chain and its private key.
pub fn load(files: &CertFiles) -> Result<CertifiedKey, TlsError> {
    let file_error = |setting: &str, path: &Path, reason: String| TlsError::File {
        setting: setting.to_owned(),
        path: path.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(&files.cert_setting, &files.cert, pem_reason(e)))?;
    if certs.is_empty() {
        return Err(file_error(
            &files.cert_setting,
            &files.cert,
            "no certificate in the file (expected PEM `-----BEGIN CERTIFICATE-----` blocks)"
                .to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        let reason = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no private key in the file (expected a PEM `-----BEGIN PRIVATE KEY-----` block)"
                    .to_owned()
            }
            e => pem_reason(e),
        };
        file_error(&files.key_setting, &files.key, reason)
    })?;
    CertifiedKey::from_der(certs, key, &provider()).map_err(|e| TlsError::Pair {
        cert_setting: files.cert_setting.clone(),
        cert: files.cert.display().to_string(),
        key_setting: files.key_setting.clone(),
        key: files.key.display().to_string(),
        reason: e.to_string(),
    })
}

fn pem_reason(error: rustls::pki_types::pem::Error) -> String {
    match error {
        rustls::pki_types::pem::Error::Io(e) => format!("cannot read it: {e}"),
        e => format!("not a valid PEM file: {e:?}"),
    }
}

/// A listener's certificate, replaced in place on reload.
#[derive(Debug)]
pub struct ReloadingCert {
    files: CertFiles,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files as last read, to tell whether they changed since.
    seen: Mutex<Fingerprint>,
}

impl ReloadingCert {
    /// Loads the certificate `files` name; an error stops the server.
    pub fn load(files: CertFiles) -> Result<ReloadingCert, TlsError> {
        let seen = fingerprint(&files);
        let key = load(&files)?;
        Ok(ReloadingCert {
            current: RwLock::new(Arc::new(key)),
            seen: Mutex::new(seen),
            files,
        })
    }

    pub fn files(&self) -> &CertFiles {
        &self.files
    }

    /// The certificate new handshakes get.
    pub fn current(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(key) => Arc::clone(&key),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Whether the files changed since they were last read.
    pub fn changed(&self) -> bool {
        let now = fingerprint(&self.files);
        match self.seen.lock() {
            Ok(seen) => *seen != now,
            Err(poisoned) => *poisoned.into_inner() != now,
        }
    }

    /// Reads the files again: on success new handshakes get the new
    /// certificate; on failure the old one stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        // Taken before reading, so that a file replaced meanwhile is read
        // again at the next look.
        let seen = fingerprint(&self.files);
        match self.seen.lock() {
            Ok(mut last) => *last = seen,
            Err(poisoned) => *poisoned.into_inner() = seen,
        }
        let key = Arc::new(load(&self.files)?);
        match self.current.write() {
            Ok(mut current) => *current = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
        Ok(())
    }

    /// Reloads and logs the outcome.
    fn reload_logged(&self) {
        match self.reload() {
            Ok(()) => tracing::info!(
                cert = %self.files.cert.display(),
                key = %self.files.key.display(),
                "reloaded the TLS certificate"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "cannot reload the TLS certificate; keeping the one in use"
            ),
        }
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The rustls configuration of a listener serving `cert`.
pub fn server_config(cert: Arc<ReloadingCert>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificates of the listeners, one per pair of files (listeners
/// sharing files share one).
#[derive(Debug, Default)]
pub struct Certificates(Vec<Arc<ReloadingCert>>);

impl Certificates {
    /// The certificate of `files`, loaded once however many listeners use it.
    pub fn get_or_load(&mut self, files: CertFiles) -> Result<Arc<ReloadingCert>, TlsError> {
        let same = |c: &&Arc<ReloadingCert>| c.files.cert == files.cert && c.files.key == files.key;
        if let Some(cert) = self.0.iter().find(same) {
            return Ok(Arc::clone(cert));
        }
        let cert = Arc::new(ReloadingCert::load(files)?);
        self.0.push(Arc::clone(&cert));
        Ok(cert)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reloads every certificate now (what SIGHUP does).
    pub fn reload_all(&self) {
        for cert in &self.0 {
            cert.reload_logged();
        }
    }

    /// Reloads the certificates whose files changed.
    pub fn reload_changed(&self) {
        for cert in self.0.iter().filter(|c| c.changed()) {
            cert.reload_logged();
        }
    }
}

/// Reloads certificates on SIGHUP, and when their files change (looked at
/// every [`RELOAD_POLL`]), until `stop` turns true.
pub async fn reload_loop(
    certificates: Arc<Certificates>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP; certificates reload only when their files change"))
        .ok();
    let mut ticker = tokio::time::interval(RELOAD_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let hung_up = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hung_up = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            _ = hung_up => {
                tracing::info!("SIGHUP: reloading the TLS certificates");
                certificates.reload_all();
            }
            _ = ticker.tick() => certificates.reload_changed(),
        }
    }
}
