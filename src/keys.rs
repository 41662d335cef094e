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
        crate::x509::Certificate::parse(&der).ok_or_else(no_start_line)?;
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
    encrypted: &[u8],
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let plain = match crate::pkcs::decrypt_key(encrypted, passphrase.ok_or_else(bad_decrypt)?) {
        Ok(plain) => plain,
        Err(crate::pkcs::Failure::Unreadable) => return Err(unsupported_key()),
        Err(crate::pkcs::Failure::Decrypt) => return Err(bad_decrypt()),
        Err(crate::pkcs::Failure::MemoryLimit) => {
            return Err(TlsError::openssl(
                "ERR_OSSL_EVP_MEMORY_LIMIT_EXCEEDED",
                "030000AC",
                "digital envelope routines",
                "memory limit exceeded",
            ))
        }
    };
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain)))
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
    const ID_RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    match key {
        PrivateKeyDer::Pkcs8(der) => {
            crate::pkcs::private_key_algorithm(der.secret_pkcs8_der()) == Some(ID_RSASSA_PSS)
        }
        _ => false,
    }
}

/// The DER of the first `ENCRYPTED PRIVATE KEY` block of PEM text.
fn encrypted_pem(pem: &str) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
    const END: &str = "-----END ENCRYPTED PRIVATE KEY-----";
    let (_, rest) = pem.split_once(BEGIN)?;
    let (body, _) = rest.split_once(END)?;
    base64_decode(body)
}

/// Standard base64 (RFC 4648) with padding; white space is skipped.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut padding) = (0u32, 0u32, 0usize);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return None,
        };
        if padding > 0 {
            return None; // data after padding
        }
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Whole quanta only, with as much padding as they need.
    let quantum_ok = match bits {
        0 => padding == 0,
        4 => padding == 2,
        2 => padding == 1,
        _ => false,
    };
    (quantum_ok && acc & ((1 << bits) - 1) == 0).then_some(out)
}

fn read_private_key(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Some(der) = as_der(pem) {
        return der_private_key(der, passphrase);
    }
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let der = encrypted_pem(pem).ok_or_else(bad_base64)?;
        if !crate::pkcs::is_encrypted_key(&der) {
            return Err(unsupported_key());
        }
        return decrypt_pkcs8(&der, passphrase);
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
    if crate::pkcs::is_encrypted_key(&der) {
        return decrypt_pkcs8(&der, passphrase);
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
    let (cert, _) = crate::x509::Certificate::parse(der)?;
    match cert.key_algorithm {
        // rsaEncryption, id-RSASSA-PSS
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 | 0x0a] => {
            Some(rustls::SignatureAlgorithm::RSA)
        }
        // id-ecPublicKey
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] => Some(rustls::SignatureAlgorithm::ECDSA),
        // id-Ed25519
        [0x2b, 0x65, 0x70] => Some(rustls::SignatureAlgorithm::ED25519),
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
pub fn pfx(der: &[u8], password: &str) -> Result<Pfx, TlsError> {
    use crate::pkcs::PfxError;
    let contents = crate::pkcs::read_pfx(der, password).map_err(|e| match e {
        PfxError::Decode => pfx_decode_error(),
        PfxError::Mac => mac_verify_failure(),
        PfxError::Unsupported(what) => unsupported_pfx(what),
    })?;
    let key =
        contents.keys.into_iter().next().ok_or_else(|| {
            TlsError::new("ERR_CRYPTO_PKCS12_PARSE_ERROR", "no private key in pfx")
        })?;
    let certs: Vec<CertificateDer<'static>> = contents
        .certs
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    Ok(Pfx {
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_follows_rfc4648() {
        for (text, bytes) in [
            ("", &b""[..]),
            ("Zg==", b"f"),
            ("Zm8=", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9v\nYmFy\n", b"foobar"),
            ("+/+/", &[0xfb, 0xff, 0xbf]),
        ] {
            assert_eq!(base64_decode(text).as_deref(), Some(bytes), "{text}");
        }
        for bad in ["Zg", "Zg=", "Zm9=", "Zg==Zg==", "Z!==", "Zh=="] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }
}
