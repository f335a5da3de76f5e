//! TLS, as libpq's URL parameters ask for it: `sslmode` and `sslrootcert`.
//!
//! - `disable`: plain connections.
//! - `prefer` (libpq's default): TLS when the server offers it, else plain;
//!   the certificate is not checked.
//! - `require`: TLS or no connection; the certificate is not checked,
//!   unless `sslrootcert` is given, which makes it `verify-ca` (as libpq).
//! - `verify-ca`: the certificate must chain to a root of `sslrootcert`.
//! - `verify-full`: that, and it must name the host connected to.
//!
//! `sslrootcert` is a PEM file of trusted roots; `system` (or leaving it
//! out under `verify-*`) means the system's trusted roots. rustls with the
//! ring provider does the TLS: no OpenSSL.
//!
//! The driver's URL parser knows only `disable|prefer|require` and no
//! `sslrootcert`, so [`TlsSettings::from_url`] takes both out of the URL
//! and leaves it the mode it knows.

use std::sync::Arc;

use postgres::{Client, Config, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::StoreError;

/// A TLS setting of the URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadTlsSetting(String);

fn bad(message: String) -> StoreError {
    StoreError::Backend(Box::new(BadTlsSetting(message)))
}

/// What `sslmode` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The TLS parameters of a URL, and the URL without those the driver does
/// not know.
pub(super) struct TlsSettings {
    mode: Mode,
    root_cert: Option<String>,
    /// The URL as the driver parses it.
    pub(super) url: String,
}

/// `%XX` escapes decoded (URL query values).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TlsSettings {
    /// Takes `sslmode` and `sslrootcert` out of `url`'s query.
    pub(super) fn from_url(url: &str) -> Result<TlsSettings, StoreError> {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, query),
            None => (url, ""),
        };
        let mut mode = None;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => {
                    mode = Some(match percent_decode(value).as_str() {
                        "disable" => Mode::Disable,
                        "prefer" => Mode::Prefer,
                        "require" => Mode::Require,
                        "verify-ca" => Mode::VerifyCa,
                        "verify-full" => Mode::VerifyFull,
                        other => {
                            return Err(bad(format!(
                                "sslmode `{other}` is not one of disable, prefer, require, \
                                 verify-ca, verify-full"
                            )))
                        }
                    })
                }
                "sslrootcert" => root_cert = Some(percent_decode(value)),
                _ => kept.push(pair),
            }
        }
        let mode = match (mode, &root_cert) {
            // libpq: a root certificate makes `require` check the chain.
            (Some(Mode::Require), Some(_)) => Mode::VerifyCa,
            (Some(mode), _) => mode,
            (None, _) => Mode::Prefer,
        };
        let driver_mode = match mode {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "require",
        };
        kept.push(match driver_mode {
            "disable" => "sslmode=disable",
            "prefer" => "sslmode=prefer",
            _ => "sslmode=require",
        });
        Ok(TlsSettings {
            mode,
            root_cert,
            url: format!("{base}?{}", kept.join("&")),
        })
    }

    /// The connector these settings ask for.
    pub(super) fn connector(&self) -> Result<Tls, StoreError> {
        if self.mode == Mode::Disable {
            return Ok(Tls(None));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(format!("TLS: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            Mode::Disable | Mode::Prefer | Mode::Require => Arc::new(Unchecked(provider)),
            Mode::VerifyCa | Mode::VerifyFull => {
                let roots = Arc::new(self.roots()?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| bad(format!("sslrootcert: {e}")))?;
                if self.mode == Mode::VerifyCa {
                    Arc::new(AnyName(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Tls(Some(MakeRustlsConnect::new(config))))
    }

    /// The trusted roots: `sslrootcert`'s, or the system's.
    fn roots(&self) -> Result<RootCertStore, StoreError> {
        let mut roots = RootCertStore::empty();
        match self.root_cert.as_deref() {
            Some(path) if path != "system" => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| bad(format!("sslrootcert `{path}`: {e}")))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(bad(format!("sslrootcert `{path}` holds no certificate")));
                }
            }
            _ => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(bad(
                        "no trusted root certificates on this system; give sslrootcert=FILE"
                            .to_owned(),
                    ));
                }
            }
        }
        Ok(roots)
    }
}

/// How to connect: plain, or through rustls.
#[derive(Clone)]
pub(super) struct Tls(Option<MakeRustlsConnect>);

impl Tls {
    /// One connection attempt.
    pub(super) fn connect(&self, config: &Config) -> Result<Client, StoreError> {
        Ok(match &self.0 {
            None => config.connect(NoTls)?,
            Some(tls) => config.connect(tls.clone())?,
        })
    }
}

/// `prefer` and `require` without roots: the connection is encrypted but
/// the server's certificate is not checked (libpq does the same); the
/// handshake's signatures still are.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain is checked, the host name is not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Whether a connection error is TLS's (a certificate refused, TLS not
/// offered by the server): the setting's fault, not the network's, so it
/// is not retried.
pub(super) fn is_tls_failure(error: &postgres::Error) -> bool {
    error
        .to_string()
        .starts_with("error performing TLS handshake")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_leave_the_url_as_the_driver_reads_it() {
        let settings = TlsSettings::from_url(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(settings.mode, Mode::VerifyFull);
        assert_eq!(settings.root_cert.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(
            settings.url,
            "postgres://u@h/db?connect_timeout=3&sslmode=require"
        );
        let plain = TlsSettings::from_url("postgres://u@h/db").unwrap();
        assert_eq!(plain.mode, Mode::Prefer);
        let ca = TlsSettings::from_url("postgres://u@h/db?sslmode=require&sslrootcert=a.pem");
        assert_eq!(ca.unwrap().mode, Mode::VerifyCa);
        assert!(TlsSettings::from_url("postgres://u@h/db?sslmode=allow").is_err());
    }
}
