//! TLS for `https://` and `grpcs://` remotes: rustls on the ring provider,
//! trusting the system's roots and the certificates of `--ca-cert`
//! (`ZANZI_CA_CERT`), so that a server with a private CA needs no change
//! to the system's trust store.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore};

use super::ClientError;

/// What a connection offers in ALPN: HTTP/1.1 for REST (the client speaks
/// no HTTP/2 there), `h2` for gRPC.
#[derive(Clone, Copy, Debug)]
pub enum Alpn {
    Http1,
    H2,
}

/// The trusted roots: the system's, plus every certificate in `ca_cert`.
pub fn roots(ca_cert: Option<&Path>) -> Result<RootCertStore, ClientError> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are skipped: --ca-cert may be all
    // that is needed.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(path) = ca_cert {
        let ca_error = |reason: String| ClientError::CaCert {
            path: path.display().to_string(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| match e {
                rustls::pki_types::pem::Error::Io(e) => ca_error(format!("cannot read it: {e}")),
                e => ca_error(format!("not a valid PEM file: {e:?}")),
            })?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(ca_error(
                "no certificate in the file (expected PEM `-----BEGIN CERTIFICATE-----` blocks)"
                    .to_owned(),
            ));
        }
    }
    Ok(roots)
}

/// A client configuration trusting [`roots`], offering `alpn`.
pub fn client_config(ca_cert: Option<&Path>, alpn: Alpn) -> Result<ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Protocol(format!("TLS: {e}")))?
        .with_root_certificates(roots(ca_cert)?)
        .with_no_client_auth();
    config.alpn_protocols = match alpn {
        Alpn::Http1 => vec![b"http/1.1".to_vec()],
        Alpn::H2 => vec![b"h2".to_vec()],
    };
    Ok(config)
}

/// Why the server's certificate was refused, if that is what `error` (or
/// an error under it) says.
pub fn certificate_problem(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(rustls::Error::InvalidCertificate(problem)) =
            error.downcast_ref::<rustls::Error>()
        {
            return Some(describe(problem));
        }
        // An I/O error shows the error it wraps only through `get_ref`.
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(problem) = certificate_problem(inner) {
                return Some(problem);
            }
        }
        next = error.source();
    }
    None
}

fn describe(problem: &CertificateError) -> String {
    match problem {
        CertificateError::UnknownIssuer => {
            "it is not signed by an authority this client trusts".to_owned()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it is not valid for this host name".to_owned()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".to_owned()
        }
        other => format!("{other:?}"),
    }
}

/// The name a certificate must be valid for: the URL's host.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|e| format!("`{host}` is not a host name: {e}"))
}
