//! CRLs (PEM or DER, Node's `crl` option), read as `SecureContext::new` reads
//! them (`keys::crls`, then webpki's parse), then used: the fixture chain is
//! verified against the fixture CA under them.
//!
//! Input: [mode][crl text...]; mode bit 0: Latin-1 (a Buffer) or UTF-8 (a
//! string); bit 1: the chain carries the CA certificate too; bit 2: client
//! usage (server side) instead of server usage.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rustls::pki_types::CertificateDer;
use wasm_tls::context::{ContextOptions, SecureContext};
use wasm_tls::keys;
use wasm_tls_fuzz::{option_text, verify, CA_PEM, LEAF_PEM};

/// The CA context and the chain it is asked about, built once.
fn fixture() -> &'static (SecureContext, Vec<CertificateDer<'static>>) {
    static FIXTURE: OnceLock<(SecureContext, Vec<CertificateDer<'static>>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let options = ContextOptions {
            ca: Some(vec![CA_PEM.into()]),
            ..Default::default()
        };
        let ctx = SecureContext::new(&options).expect("fixture context");
        let chain = keys::certificates(LEAF_PEM).expect("fixture leaf");
        (ctx, chain)
    })
}

fuzz_target!(|data: &[u8]| {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let text = option_text(*mode, bytes);
    let Ok(ders) = keys::crls(&text) else {
        return;
    };
    let mut crls = Vec::new();
    for der in ders {
        match webpki::OwnedCertRevocationList::from_der(der.as_ref()) {
            Ok(crl) => crls.push(webpki::CertRevocationList::from(crl)),
            Err(_) => return,
        }
    }
    let (ctx, leaf) = fixture();
    let mut chain = leaf.clone();
    if mode & 2 != 0 {
        chain.extend(ctx.ca_certs.iter().cloned());
    }
    let usage = if mode & 4 != 0 {
        webpki::KeyUsage::client_auth()
    } else {
        webpki::KeyUsage::server_auth()
    };
    verify(ctx, &chain, &crls, usage);
});
