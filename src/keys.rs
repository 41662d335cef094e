//! Key material from Node's options: PEM certificates, private keys (PKCS#8,
//! encrypted PKCS#8, PKCS#1, SEC1), certificate revocation lists. Errors carry
//! the codes and messages OpenSSL gives Node for the same input.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};

use crate::error::TlsError;

pub fn no_start_line() -> TlsError {
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

/// DER given where PEM is expected: the JS layer passes Buffers as Latin-1
/// text, so each char is one byte. PEM text never starts with a SEQUENCE tag.
fn as_der(input: &str) -> Option<Vec<u8>> {
    if !input.starts_with('\u{30}') || input.contains("-----BEGIN") {
        return None;
    }
    input
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// Every item of one kind in PEM text (at least one).
fn pem_items<T: PemObject>(pem: &str) -> Result<Vec<T>, TlsError> {
    let items = T::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad_base64())?;
    if items.is_empty() {
        return Err(no_start_line());
    }
    Ok(items)
}

/// Every certificate in PEM text (at least one), or one DER certificate.
pub fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    if let Some(der) = as_der(pem) {
        use x509_parser::prelude::{FromDer, X509Certificate};
        X509Certificate::from_der(&der).map_err(|_| no_start_line())?;
        return Ok(vec![CertificateDer::from(der)]);
    }
    pem_items(pem)
}

/// Every CRL in PEM text (at least one), or one DER CRL.
pub fn crls(pem: &str) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    if let Some(der) = as_der(pem) {
        return Ok(vec![CertificateRevocationListDer::from(der)]);
    }
    pem_items(pem)
}

fn bad_decrypt() -> TlsError {
    TlsError::openssl(
        "ERR_OSSL_BAD_DECRYPT",
        "1C800064",
        "Provider routines",
        "bad decrypt",
    )
}

/// Decrypts an encrypted PKCS#8 key (DER); a missing or wrong passphrase is
/// OpenSSL's "bad decrypt".
fn decrypt_pkcs8(
    encrypted: pkcs8::EncryptedPrivateKeyInfo<'_>,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let plain = encrypted
        .decrypt(passphrase.ok_or_else(bad_decrypt)?)
        .map_err(|_| bad_decrypt())?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

/// The first private key in PEM text, decrypted with `passphrase` if it is an
/// encrypted PKCS#8 key.
pub fn private_key(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let key = read_private_key(pem, passphrase)?;
    if is_rsassa_pss(&key) {
        let mut e = unsupported_key();
        e.message.push_str(
            " (an RSASSA-PSS key: rustls signs with RSA keys of type rsaEncryption only, using PSS where TLS asks for it; make the key with `openssl genpkey -algorithm RSA`)",
        );
        return Err(e);
    }
    Ok(key)
}

/// Whether a PKCS#8 key is an RSASSA-PSS key (id-RSASSA-PSS, 1.2.840.113549.1.1.10).
fn is_rsassa_pss(key: &PrivateKeyDer<'_>) -> bool {
    const ID_RSASSA_PSS: pkcs8::ObjectIdentifier =
        pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    match key {
        PrivateKeyDer::Pkcs8(der) => pkcs8::PrivateKeyInfo::try_from(der.secret_pkcs8_der())
            .is_ok_and(|info| info.algorithm.oid == ID_RSASSA_PSS),
        _ => false,
    }
}

fn read_private_key(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Some(der) = as_der(pem) {
        return der_private_key(der, passphrase);
    }
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let (_, doc) = pkcs8::SecretDocument::from_pem(pem).map_err(|_| bad_base64())?;
        let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
            .map_err(|_| unsupported_key())?;
        return decrypt_pkcs8(encrypted, passphrase);
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

/// A DER key: PKCS#8 (encrypted or not), PKCS#1 or SEC1.
fn der_private_key(
    der: Vec<u8>,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Ok(encrypted) = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()) {
        return decrypt_pkcs8(encrypted, passphrase);
    }
    PrivateKeyDer::try_from(der).map_err(|_| unsupported_key())
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

/// What a PKCS#12 file (Node's `pfx`) holds: our key, and its certificates
/// (ours among them; Node also trusts the others).
pub struct Pfx {
    pub key: PrivateKeyDer<'static>,
    pub chain: Vec<CertificateDer<'static>>,
    pub extra: Vec<CertificateDer<'static>>,
}

fn mac_verify_failure() -> TlsError {
    // Node reports a wrong password this way (OpenSSL's PKCS12_parse).
    TlsError::new("ERR_CRYPTO_PKCS12_MAC_VERIFY_FAILURE", "mac verify failure")
}

fn pfx_decode_error() -> TlsError {
    TlsError::new("ERR_CRYPTO_PKCS12_PARSE_ERROR", "not enough data")
}

/// Reads a PKCS#12 file as OpenSSL 3 writes it by default (PBES2 with
/// PBKDF2 and AES, SHA-256 MAC). The MAC is checked first, so a wrong
/// password is "mac verify failure", as in Node. The legacy RC2/3DES
/// PKCS#12 encryptions are refused with a way out.
pub fn pfx(der_bytes: &[u8], password: &str) -> Result<Pfx, TlsError> {
    use pkcs12::cert_type::CertBag;
    use pkcs12::pfx::Pfx as PfxAsn1;
    use pkcs12::safe_bag::SafeContents;
    use pkcs8::der::asn1::{AnyRef, OctetString};
    use pkcs8::der::{Decode, Encode};

    let pfx = PfxAsn1::from_der(der_bytes).map_err(|_| pfx_decode_error())?;
    let data_of = |info: &cms::content_info::ContentInfo| -> Result<Vec<u8>, TlsError> {
        let octets: OctetString = info.content.decode_as().map_err(|_| pfx_decode_error())?;
        Ok(octets.as_bytes().to_vec())
    };
    if pfx.auth_safe.content_type != pkcs8::der::oid::db::rfc5911::ID_DATA {
        return Err(unsupported_pfx("public-key integrity mode"));
    }
    let auth_safe = data_of(&pfx.auth_safe)?;

    let mac = pfx.mac_data.as_ref().ok_or_else(mac_verify_failure)?;
    if mac.mac.algorithm.oid != pkcs8::der::oid::db::rfc5912::ID_SHA_256 {
        return Err(unsupported_pfx("MAC digest other than SHA-256"));
    }
    let mac_key = pkcs12::kdf::derive_key_utf8::<sha2::Sha256>(
        password,
        mac.mac_salt.as_bytes(),
        pkcs12::kdf::Pkcs12KeyType::Mac,
        mac.iterations,
        32,
    )
    .map_err(|_| mac_verify_failure())?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &mac_key);
    ring::hmac::verify(&key, &auth_safe, mac.mac.digest.as_bytes())
        .map_err(|_| mac_verify_failure())?;

    let infos = Vec::<cms::content_info::ContentInfo>::from_der(&auth_safe)
        .map_err(|_| pfx_decode_error())?;
    let mut certs = Vec::new();
    let mut keys = Vec::new();
    for info in &infos {
        let contents = if info.content_type == pkcs8::der::oid::db::rfc5911::ID_DATA {
            data_of(info)?
        } else if info.content_type == pkcs8::der::oid::db::rfc5911::ID_ENCRYPTED_DATA {
            let encrypted: cms::encrypted_data::EncryptedData =
                info.content.decode_as().map_err(|_| pfx_decode_error())?;
            let algorithm = encrypted
                .enc_content_info
                .content_enc_alg
                .to_der()
                .map_err(|_| pfx_decode_error())?;
            let scheme = pkcs8::pkcs5::EncryptionScheme::from_der(&algorithm)
                .map_err(|_| unsupported_pfx("legacy PKCS#12 encryption"))?;
            let ciphertext = encrypted
                .enc_content_info
                .encrypted_content
                .as_ref()
                .ok_or_else(pfx_decode_error)?;
            scheme
                .decrypt(password, ciphertext.as_bytes())
                .map_err(|_| mac_verify_failure())?
        } else {
            continue;
        };
        let bags = SafeContents::from_der(&contents).map_err(|_| pfx_decode_error())?;
        for bag in bags {
            let inner = AnyRef::from_der(&bag.bag_value).map_err(|_| pfx_decode_error())?;
            let inner = inner.value();
            if bag.bag_id == pkcs12::PKCS_12_CERT_BAG_OID {
                let cert = CertBag::from_der(inner).map_err(|_| pfx_decode_error())?;
                if cert.cert_id == pkcs12::PKCS_12_X509_CERT_OID {
                    certs.push(CertificateDer::from(cert.cert_value.as_bytes().to_vec()));
                }
            } else if bag.bag_id == pkcs12::PKCS_12_PKCS8_KEY_BAG_OID {
                let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(inner)
                    .map_err(|_| pfx_decode_error())?;
                let plain = encrypted
                    .decrypt(password)
                    .map_err(|_| unsupported_pfx("legacy PKCS#12 key encryption"))?;
                keys.push(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                    plain.as_bytes().to_vec(),
                )));
            } else if bag.bag_id == pkcs12::PKCS_12_KEY_BAG_OID {
                keys.push(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                    inner.to_vec(),
                )));
            }
        }
    }
    let key = keys
        .into_iter()
        .next()
        .ok_or_else(|| TlsError::new("ERR_CRYPTO_PKCS12_PARSE_ERROR", "no private key in pfx"))?;
    Ok(Pfx {
        key,
        chain: certs.clone(),
        extra: certs,
    })
}

fn unsupported_pfx(what: &str) -> TlsError {
    let mut e = unsupported_key();
    e.message.push_str(&format!(
        " ({what} in pfx: re-export it with `openssl pkcs12 -export` from OpenSSL 3, which uses AES and SHA-256)"
    ));
    e
}
