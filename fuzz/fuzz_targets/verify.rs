//! The verifier entry the engine calls after every handshake: `verify_chain`
//! over arbitrary certificate DERs (the peer's chain as sent), with the
//! fixture CA as trust anchor, or with the first DER as the `ca` option.
//!
//! Input: [mode][DER certificates separated by "--8<--"]
//!   mode bit 0: first DER becomes the CA (through SecureContext::new), bit 1:
//!   client-auth usage (server side) instead of server-auth, bit 2: the
//!   fixture CRL applies.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rustls::pki_types::CertificateDer;
use wasm_tls::context::{ContextOptions, SecureContext};
use wasm_tls_fuzz::{latin1, parts, verify, CA_PEM, CRL_PEM};

fn fixture(with_crl: bool) -> Arc<SecureContext> {
    static CONTEXTS: OnceLock<[Arc<SecureContext>; 2]> = OnceLock::new();
    let make = |crl: bool| {
        let options = ContextOptions {
            ca: Some(vec![CA_PEM.into()]),
            crl: crl.then(|| vec![CRL_PEM.into()]),
            ..Default::default()
        };
        Arc::new(SecureContext::new(&options).expect("fixture context"))
    };
    CONTEXTS.get_or_init(|| [make(false), make(true)])[usize::from(with_crl)].clone()
}

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else {
        return;
    };
    let mut ders = parts(rest);
    let ctx = if mode & 1 != 0 && ders.len() > 1 {
        let ca = ders.remove(0);
        let options = ContextOptions {
            ca: Some(vec![latin1(ca)]),
            crl: (mode & 4 != 0).then(|| vec![CRL_PEM.into()]),
            ..Default::default()
        };
        match SecureContext::new(&options) {
            Ok(ctx) => Arc::new(ctx),
            Err(_) => return,
        }
    } else {
        fixture(mode & 4 != 0)
    };
    let chain: Vec<CertificateDer<'_>> = ders.into_iter().map(CertificateDer::from).collect();
    let usage = if mode & 2 != 0 {
        webpki::KeyUsage::client_auth()
    } else {
        webpki::KeyUsage::server_auth()
    };
    verify(&ctx, &chain, &ctx.crls, usage);
    let sent: Vec<&[u8]> = chain.iter().map(|c| c.as_ref()).collect();
    let store: Vec<&[u8]> = ctx.ca_certs.iter().map(|c| c.as_ref()).collect();
    let _ = wasm_tls::certinfo::detailed_chain(&sent, &store);
});
