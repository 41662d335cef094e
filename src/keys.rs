//! Key material from Node's options: PEM certificates, private keys (PKCS#8,
//! encrypted PKCS#8, PKCS#1, SEC1), certificate revocation lists. Errors carry
//! the codes and messages OpenSSL gives Node for the same input.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};

use crate::error::TlsError;

fn no_start_line() -> TlsError {
    TlsError::openssl(
        "ERR_OSSL_PEM_NO_START_LINE",
        "0480006C",
        "PEM routines",
        "no start line",
    )
}

fn bad_base64() -> TlsError {
    TlsError::openssl(
        "ERR_OSSL_PEM_BAD_BASE64_DECODE",
        "04800064",
        "PEM routines",
        "bad base64 decode",
    )
}

/// Every certificate in PEM text (at least one).
pub fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad_base64())?;
    if certs.is_empty() {
        return Err(no_start_line());
    }
    Ok(certs)
}

/// Every CRL in PEM text (at least one).
pub fn crls(pem: &str) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let crls = CertificateRevocationListDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad_base64())?;
    if crls.is_empty() {
        return Err(no_start_line());
    }
    Ok(crls)
}

/// The first private key in PEM text, decrypted with `passphrase` if it is an
/// encrypted PKCS#8 key.
pub fn private_key(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let bad_decrypt = || {
            TlsError::openssl(
                "ERR_OSSL_BAD_DECRYPT",
                "1C800064",
                "Provider routines",
                "bad decrypt",
            )
        };
        let passphrase = passphrase.ok_or_else(bad_decrypt)?;
        let (_, doc) = pkcs8::SecretDocument::from_pem(pem).map_err(|_| bad_base64())?;
        let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(|_| unsupported_key())?;
        let plain = encrypted.decrypt(passphrase).map_err(|_| bad_decrypt())?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            plain.as_bytes().to_vec(),
        )));
    }
    if pem.contains("Proc-Type: 4,ENCRYPTED") {
        // OpenSSL's legacy PEM encryption (MD5-derived keys) is not supported.
        let mut e = unsupported_key();
        e.message.push_str(
            " (legacy encrypted PEM key: convert it with `openssl pkcs8 -topk8` to an encrypted PKCS#8 key)",
        );
        return Err(e);
    }
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => unsupported_key(),
        _ => bad_base64(),
    })
}

fn unsupported_key() -> TlsError {
    TlsError::openssl(
        "ERR_OSSL_UNSUPPORTED",
        "1E08010C",
        "DECODER routines",
        "unsupported",
    )
}

/// OpenSSL's complaint when a certificate and key do not belong together.
pub fn key_mismatch() -> TlsError {
    TlsError::openssl(
        "ERR_OSSL_X509_KEY_VALUES_MISMATCH",
        "05800074",
        "x509 certificate routines",
        "key values mismatch",
    )
}

/// The family of a certificate's public key, in rustls' terms.
pub fn key_algorithm(der: &[u8]) -> Option<rustls::SignatureAlgorithm> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    match cert
        .public_key()
        .algorithm
        .algorithm
        .to_id_string()
        .as_str()
    {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => Some(rustls::SignatureAlgorithm::RSA),
        "1.2.840.10045.2.1" => Some(rustls::SignatureAlgorithm::ECDSA),
        "1.3.101.112" => Some(rustls::SignatureAlgorithm::ED25519),
        _ => None,
    }
}
