//! A secure context: what `tls.createSecureContext()` holds (trust anchors,
//! suites, versions), shared by every connection made from it.

use std::sync::{Arc, OnceLock};

use rustls::client::Resumption;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use serde::Deserialize;

use crate::ciphers;
use crate::error::TlsError;
use crate::verify::HandshakeVerifier;

/// Options of `tls.createSecureContext()`, normalised by the JS layer
/// (PEM as strings, versions as Node spells them).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextOptions {
    /// PEM text, one or more certificates per string; replaces the Mozilla roots.
    pub ca: Option<Vec<String>>,
    pub ciphers: Option<String>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
}

#[derive(Debug)]
pub struct SecureContext {
    pub roots: Arc<RootCertStore>,
    /// The `ca` certificates in full, to complete a detailed peer chain as Node does.
    pub ca_certs: Vec<CertificateDer<'static>>,
    pub provider: Arc<CryptoProvider>,
    pub versions: Vec<&'static SupportedProtocolVersion>,
}

/// The Mozilla set, built once per instance.
fn default_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        })
        .clone()
}

/// Node's protocol names, ordered; rustls speaks only the last two.
const VERSIONS: [&str; 5] = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

fn version_index(name: &str) -> Result<usize, TlsError> {
    VERSIONS.iter().position(|v| *v == name).ok_or_else(|| {
        TlsError::new(
            "ERR_TLS_INVALID_PROTOCOL_VERSION",
            format!("'{name}' is not a valid TLS protocol version"),
        )
    })
}

fn protocol_versions(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
    let min = min.map(version_index).transpose()?.unwrap_or(3);
    let max = max.map(version_index).transpose()?.unwrap_or(4);
    let mut versions = Vec::new();
    if min <= 4 && max >= 4 {
        versions.push(&rustls::version::TLS13);
    }
    if min <= 3 && max >= 3 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        // Asking only for TLS 1.1 or older: rustls has none of them, and we will not
        // silently speak something newer than the caller allowed.
        return Err(TlsError::new(
            "ERR_TLS_INVALID_PROTOCOL_VERSION",
            format!(
                "no protocol version from {} to {} is supported: wasm-tls (rustls) speaks TLSv1.2 and TLSv1.3 only",
                VERSIONS[min.min(4)],
                VERSIONS[max.min(4)]
            ),
        ));
    }
    Ok(versions)
}

/// Parses PEM text holding one or more certificates.
pub fn parse_pem_certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::new("ERR_OSSL_PEM_BAD_BASE64_DECODE", format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::new(
            "ERR_OSSL_PEM_NO_START_LINE",
            "no certificate found in PEM (expected -----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

impl SecureContext {
    pub fn new(options: &ContextOptions) -> Result<Self, TlsError> {
        let mut ca_certs = Vec::new();
        let roots = match &options.ca {
            None => default_roots(),
            Some(pems) => {
                let mut store = RootCertStore::empty();
                for pem in pems {
                    for cert in parse_pem_certificates(pem)? {
                        store.add(cert.clone()).map_err(|e| {
                            TlsError::new(
                                "ERR_TLS_INVALID_CA",
                                format!("unusable CA certificate: {e}"),
                            )
                        })?;
                        ca_certs.push(cert);
                    }
                }
                Arc::new(store)
            }
        };
        let base = ring::default_provider();
        let cipher_suites = match &options.ciphers {
            Some(list) => ciphers::select(list, &base.cipher_suites)?,
            None => base.cipher_suites.clone(),
        };
        let versions = protocol_versions(
            options.min_version.as_deref(),
            options.max_version.as_deref(),
        )?;
        Ok(SecureContext {
            roots,
            ca_certs,
            provider: Arc::new(CryptoProvider {
                cipher_suites,
                ..base
            }),
            versions,
        })
    }

    /// A client configuration for one connection.
    pub fn client_config(
        &self,
        alpn: Vec<Vec<u8>>,
        send_sni: bool,
    ) -> Result<Arc<ClientConfig>, TlsError> {
        let verifier = HandshakeVerifier::new(self.provider.signature_verification_algorithms);
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(|_| TlsError::ssl("no protocols available"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = alpn;
        config.enable_sni = send_sni;
        // Node resumes only when given `session`; nothing is cached implicitly.
        config.resumption = Resumption::disabled();
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_node_names() {
        assert_eq!(protocol_versions(None, None).unwrap().len(), 2);
        assert_eq!(
            protocol_versions(Some("TLSv1.3"), None).unwrap(),
            vec![&rustls::version::TLS13]
        );
        assert_eq!(
            protocol_versions(Some("TLSv1"), Some("TLSv1.2")).unwrap(),
            vec![&rustls::version::TLS12]
        );
        let err = protocol_versions(None, Some("TLSv1.1")).unwrap_err();
        assert_eq!(err.code, "ERR_TLS_INVALID_PROTOCOL_VERSION");
        let err = protocol_versions(Some("TLSv9"), None).unwrap_err();
        assert_eq!(err.message, "'TLSv9' is not a valid TLS protocol version");
    }

    #[test]
    fn bad_ca_is_an_error() {
        let bad = ContextOptions {
            ca: Some(vec!["not a certificate".into()]),
            ..Default::default()
        };
        assert_eq!(
            SecureContext::new(&bad).unwrap_err().code,
            "ERR_OSSL_PEM_NO_START_LINE"
        );
    }
}
