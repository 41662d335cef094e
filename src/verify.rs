//! Certificate verification, Node-style. As in Node (where OpenSSL's verify
//! callback accepts everything and `onConnectSecure` decides), the handshake
//! itself only checks that the peer holds the key of the certificate it sent;
//! the chain is judged once the handshake is done, and the verdict carries
//! OpenSSL's code so the JS layer can set `authorized`/`authorizationError` and
//! honour `rejectUnauthorized`. No application data moves before that verdict.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use serde::Serialize;

/// OpenSSL's verification result, as Node exposes it (`err.code`, `err.message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyError {
    pub code: &'static str,
    pub message: &'static str,
}

impl VerifyError {
    const fn new(code: &'static str, message: &'static str) -> Self {
        VerifyError { code, message }
    }
}

/// Checks handshake signatures against the certificate's key; defers the chain.
#[derive(Debug)]
pub struct HandshakeVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl HandshakeVerifier {
    pub fn new(algorithms: WebPkiSupportedAlgorithms) -> Arc<Self> {
        Arc::new(HandshakeVerifier { algorithms })
    }
}

impl ServerCertVerifier for HandshakeVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        // Judged by `verify_chain` when the handshake completes (see module docs).
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Judges a server's chain (leaf first, as sent) against `roots`, returning
/// OpenSSL's code for the first problem, or `None` if it is trusted.
/// The host name is not checked here: Node does that in `checkServerIdentity`.
/// With `crls` (Node's `crl` option), as in Node every certificate in the chain
/// must be covered by a current CRL of its issuer.
pub fn verify_chain(
    chain: &[CertificateDer<'_>],
    roots: &RootCertStore,
    crls: &[webpki::CertRevocationList<'_>],
    now: UnixTime,
    algorithms: &WebPkiSupportedAlgorithms,
    usage: webpki::KeyUsage,
) -> Option<VerifyError> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Some(VerifyError::new(
            "UNABLE_TO_GET_ISSUER_CERT",
            "unable to get issuer certificate",
        ));
    };
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|b| {
            b.with_depth(webpki::RevocationCheckDepth::Chain)
                .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build()
        });
    let result = webpki::EndEntityCert::try_from(leaf).and_then(|ee| {
        ee.verify_for_usage(
            algorithms.all,
            &roots.roots,
            intermediates,
            now,
            usage,
            revocation,
            None,
        )
        .map(|_| ())
    });
    let err = result.err()?;
    if let Some(verdict) = leaf_is_trusted_itself(leaf, roots, now) {
        return verdict;
    }
    Some(openssl_code(&err, chain))
}

/// OpenSSL trusts a certificate that is itself in the trust store (the usual
/// way to trust a self-signed server: `ca: cert`), even one marked CA, which
/// webpki refuses as an end entity. Then only its validity period is judged.
/// Returns `None` when the leaf is not a trust anchor.
fn leaf_is_trusted_itself(
    leaf: &CertificateDer<'_>,
    roots: &RootCertStore,
    now: UnixTime,
) -> Option<Option<VerifyError>> {
    let anchor = webpki::anchor_from_trusted_cert(leaf).ok()?;
    roots.roots.iter().find(|root| {
        root.subject.as_ref() == anchor.subject.as_ref()
            && root.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
    })?;
    let info = crate::certinfo::validity(leaf).ok()?;
    let now = now.as_secs() as i64;
    Some(if now < info.0 {
        Some(VerifyError::new(
            "CERT_NOT_YET_VALID",
            "certificate is not yet valid",
        ))
    } else if now > info.1 {
        Some(VerifyError::new(
            "CERT_HAS_EXPIRED",
            "certificate has expired",
        ))
    } else {
        None
    })
}

fn self_issued(der: &CertificateDer<'_>) -> bool {
    crate::certinfo::describe(der)
        .map(|c| c.self_issued)
        .unwrap_or(false)
}

/// Maps webpki's verdict to the code OpenSSL's verifier reports for the same chain.
fn openssl_code(err: &webpki::Error, chain: &[CertificateDer<'_>]) -> VerifyError {
    use webpki::Error as E;
    match err {
        E::CertExpired { .. } => VerifyError::new("CERT_HAS_EXPIRED", "certificate has expired"),
        E::CertNotValidYet { .. } => {
            VerifyError::new("CERT_NOT_YET_VALID", "certificate is not yet valid")
        }
        E::CertRevoked => VerifyError::new("CERT_REVOKED", "certificate revoked"),
        #[allow(deprecated)]
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            VerifyError::new("INVALID_PURPOSE", "unsuitable certificate purpose")
        }
        E::InvalidSignatureForPublicKey => {
            VerifyError::new("CERT_SIGNATURE_FAILURE", "certificate signature failure")
        }
        E::PathLenConstraintViolated => {
            VerifyError::new("PATH_LENGTH_EXCEEDED", "path length constraint exceeded")
        }
        E::NameConstraintViolation => {
            VerifyError::new("PERMITTED_VIOLATION", "permitted subtree violation")
        }
        E::EndEntityUsedAsCa => VerifyError::new("INVALID_CA", "invalid CA certificate"),
        E::CrlExpired { .. } => VerifyError::new("CRL_HAS_EXPIRED", "CRL has expired"),
        E::UnknownRevocationStatus => {
            VerifyError::new("UNABLE_TO_GET_CRL", "unable to get certificate CRL")
        }
        // An unknown issuer, a CA certificate serving as the leaf (OpenSSL allows
        // that; what fails is the trust), or a chain webpki cannot build at all: OpenSSL tells
        // the cases apart by the shape of the chain that was sent.
        _ => {
            let leaf_self_issued = chain.first().is_some_and(self_issued);
            let top_self_issued = chain.last().is_some_and(self_issued);
            if chain.len() == 1 && leaf_self_issued {
                VerifyError::new("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
            } else if top_self_issued {
                VerifyError::new(
                    "SELF_SIGNED_CERT_IN_CHAIN",
                    "self-signed certificate in certificate chain",
                )
            } else if chain.len() == 1 {
                VerifyError::new(
                    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
                    "unable to verify the first certificate",
                )
            } else {
                VerifyError::new(
                    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
                    "unable to get local issuer certificate",
                )
            }
        }
    }
}
