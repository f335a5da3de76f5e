//! The TLS settings: every listener's certificate (`tls_cert`, `tls_key`)
//! and each listener's own (`read_tls_cert`, …), paired up at
//! [`Settings::check`].

use std::path::PathBuf;

use super::{ConfigError, Settings};

/// One of the server's four listeners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Read,
    Write,
    Metrics,
    Syntax,
}

impl Listener {
    pub const ALL: [Listener; 4] = [
        Listener::Read,
        Listener::Write,
        Listener::Metrics,
        Listener::Syntax,
    ];

    /// The name its settings start with (`read_port`, `read_tls_cert`).
    pub fn name(self) -> &'static str {
        match self {
            Listener::Read => "read",
            Listener::Write => "write",
            Listener::Metrics => "metrics",
            Listener::Syntax => "syntax",
        }
    }
}

/// A certificate chain and private key (PEM files) as set, either possibly
/// missing until [`Settings::check`] pairs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsPair {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// The certificate files a listener serves TLS with, and the settings that
/// named them (errors at start and at reload name both).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_setting: String,
    pub key_setting: String,
}

impl Settings {
    /// `listener`'s own certificate settings.
    fn listener_tls(&self, listener: Listener) -> &TlsPair {
        let [read, write, metrics, syntax] = &self.listener_tls;
        match listener {
            Listener::Read => read,
            Listener::Write => write,
            Listener::Metrics => metrics,
            Listener::Syntax => syntax,
        }
    }

    pub(super) fn listener_tls_mut(&mut self, listener: Listener) -> &mut TlsPair {
        let [read, write, metrics, syntax] = &mut self.listener_tls;
        match listener {
            Listener::Read => read,
            Listener::Write => write,
            Listener::Metrics => metrics,
            Listener::Syntax => syntax,
        }
    }

    /// The certificate `listener` serves TLS with: its own
    /// (`read_tls_cert`, `read_tls_key`) if either is set, else every
    /// listener's (`tls_cert`, `tls_key`); `None`: cleartext.
    pub fn listener_cert(&self, listener: Listener) -> Result<Option<CertFiles>, ConfigError> {
        let (pair, prefix) = match self.listener_tls(listener) {
            TlsPair {
                cert: None,
                key: None,
            } => (&self.tls, String::new()),
            own => (own, format!("{}_", listener.name())),
        };
        let cert_setting = format!("{prefix}tls_cert");
        let key_setting = format!("{prefix}tls_key");
        match (&pair.cert, &pair.key) {
            (Some(cert), Some(key)) => Ok(Some(CertFiles {
                cert: cert.clone(),
                key: key.clone(),
                cert_setting,
                key_setting,
            })),
            (Some(_), None) => Err(ConfigError::TlsHalf {
                set: cert_setting,
                missing: key_setting,
            }),
            (None, Some(_)) => Err(ConfigError::TlsHalf {
                set: key_setting,
                missing: cert_setting,
            }),
            (None, None) => Ok(None),
        }
    }
}

/// The listener and whether it is the key, of a per-listener TLS setting
/// (`write_tls_key`: write, key).
pub(super) fn tls_setting(key: &str) -> Option<(Listener, bool)> {
    Listener::ALL
        .into_iter()
        .find_map(|listener| match key.strip_prefix(listener.name())? {
            "_tls_cert" => Some((listener, false)),
            "_tls_key" => Some((listener, true)),
            _ => None,
        })
}
