//! Mozilla's roots arrive after the context that trusts them (src/roots.rs):
//! a chain judged before they arrive fails saying so; once they are here, the
//! same context judges with them. Its own test binary, so that no other test
//! has handed the roots over first.

use rustls::crypto::ring::default_provider;
use rustls::pki_types::{CertificateDer, UnixTime};
use wasm_tls::context::{ContextOptions, SecureContext};
use wasm_tls::roots::{encode_anchors, set_default_roots};
use wasm_tls::verify::verify_chain;

#[test]
fn default_roots_are_read_when_a_chain_is_judged() {
    let context = SecureContext::new(&ContextOptions::default()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let leaf = CertificateDer::from(params.self_signed(&key).unwrap().der().to_vec());
    let judge = || {
        verify_chain(
            std::slice::from_ref(&leaf),
            &context.roots,
            &context.ca_certs,
            &context.crls,
            UnixTime::now(),
            &default_provider().signature_verification_algorithms,
            webpki::KeyUsage::server_auth(),
        )
    };

    assert!(context.roots.default_missing());
    let early = judge().unwrap();
    assert_eq!(early.code, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
    assert!(early
        .message
        .contains("default root certificates were not loaded"));

    let anchors = encode_anchors(webpki_roots::TLS_SERVER_ROOTS).unwrap();
    assert_eq!(
        set_default_roots(&anchors).unwrap(),
        webpki_roots::TLS_SERVER_ROOTS.len()
    );
    assert!(!context.roots.default_missing());
    assert_eq!(context.roots.len(), webpki_roots::TLS_SERVER_ROOTS.len());
    assert_eq!(judge().unwrap().code, "DEPTH_ZERO_SELF_SIGNED_CERT");
    // What was handed over first stays.
    assert!(set_default_roots(&anchors[..anchors.len() / 2]).is_ok());
    assert_eq!(context.roots.len(), webpki_roots::TLS_SERVER_ROOTS.len());
}
