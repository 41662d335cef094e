//! Cipher suite names as Node reports them: OpenSSL's name (`getCipher().name`)
//! and the IANA one (`standardName`).

use rustls::{CipherSuite, SupportedCipherSuite};

use crate::error::TlsError;

/// (rustls suite, OpenSSL name, IANA name) for every suite the ring provider offers.
const NAMES: &[(CipherSuite, &str, &str)] = &[
    (
        CipherSuite::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256",
    ),
    (
        CipherSuite::TLS13_AES_256_GCM_SHA384,
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_256_GCM_SHA384",
    ),
    (
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
    ),
    (
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

/// `(openssl_name, iana_name)` for a negotiated suite.
pub fn names(suite: CipherSuite) -> (&'static str, &'static str) {
    NAMES
        .iter()
        .find(|(s, _, _)| *s == suite)
        .map(|(_, openssl, iana)| (*openssl, *iana))
        .unwrap_or(("unknown", "unknown"))
}

/// The suites an OpenSSL cipher list (the `ciphers` option) selects, in its
/// order. As in Node, `TLS_*` names choose TLS 1.3 suites and the other words the
/// TLS 1.2 ones; a list that names no TLS 1.3 suite keeps all of them. Names may
/// be OpenSSL or IANA names, separated by `:`, `,` or spaces. OpenSSL selectors
/// (`DEFAULT`, `HIGH`, `ALL`, `ECDHE`) select every TLS 1.2 suite rustls has (all
/// are ECDHE with an AEAD); exclusions (`!x`, `-x`) and unknown words select
/// nothing, since nothing rustls offers is weak.
pub fn select(
    list: &str,
    available: &[SupportedCipherSuite],
) -> Result<Vec<SupportedCipherSuite>, TlsError> {
    let is13 = |s: &SupportedCipherSuite| matches!(s, SupportedCipherSuite::Tls13(_));
    let mut tls13: Vec<SupportedCipherSuite> = Vec::new();
    let mut tls12: Vec<SupportedCipherSuite> = Vec::new();
    fn push(list: &mut Vec<SupportedCipherSuite>, s: SupportedCipherSuite) {
        if !list.iter().any(|c| c.suite() == s.suite()) {
            list.push(s);
        }
    }
    for word in list.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        if word.starts_with(['!', '-', '+', '@']) {
            continue;
        }
        let upper = word.to_ascii_uppercase();
        if matches!(
            upper.as_str(),
            "DEFAULT" | "HIGH" | "ALL" | "ECDHE" | "EECDH"
        ) {
            for s in available.iter().filter(|s| !is13(s)) {
                push(&mut tls12, *s);
            }
            continue;
        }
        let named = NAMES
            .iter()
            .find(|(_, openssl, iana)| *openssl == word || *iana == word);
        if let Some(s) =
            named.and_then(|(suite, _, _)| available.iter().find(|s| s.suite() == *suite))
        {
            push(if is13(s) { &mut tls13 } else { &mut tls12 }, *s);
        }
    }
    if tls13.is_empty() && tls12.is_empty() {
        let mut e = TlsError::ssl("no cipher match");
        e.message.push_str(
            " (wasm-tls offers only ECDHE with AES-GCM or ChaCha20-Poly1305: no DHE, CBC, RC4 or PSK suites)",
        );
        return Err(e);
    }
    if tls13.is_empty() {
        tls13 = available.iter().filter(|s| is13(s)).copied().collect();
    }
    tls13.extend(tls12);
    Ok(tls13)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_like_openssl() {
        let all = rustls::crypto::ring::ALL_CIPHER_SUITES;
        let pick = |list: &str| -> Vec<&str> {
            select(list, all)
                .map(|v| v.iter().map(|s| names(s.suite()).0).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            pick("TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES128-GCM-SHA256:!aNULL:bogus"),
            [
                "TLS_CHACHA20_POLY1305_SHA256",
                "ECDHE-RSA-AES128-GCM-SHA256"
            ]
        );
        // Naming only TLS 1.2 suites keeps every TLS 1.3 suite, as OpenSSL does.
        assert_eq!(pick("ECDHE-RSA-AES256-GCM-SHA384").len(), 4);
        assert_eq!(pick("HIGH").len(), all.len());
        assert_eq!(
            select("RC4-MD5", all).err().map(|e| e.code),
            Some("ERR_SSL_NO_CIPHER_MATCH".to_string())
        );
    }
}
