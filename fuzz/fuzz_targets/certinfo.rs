//! Certificate to object: `describeCertificate` (getPeerCertificate's
//! fields, serialized as the wasm build does) and `detailedChain`, plus the
//! issuer and validity readers the context and engine use on the same DER.
//!
//! Input: DER certificates separated by "--8<--"; the first half is the chain
//! as sent, the rest the store its issuers are looked up in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_tls::certinfo;
use wasm_tls_fuzz::{describe, parts};

fuzz_target!(|data: &[u8]| {
    let ders = parts(data);
    for der in &ders {
        describe(der);
        let _ = certinfo::validity(der);
    }
    if let [first, second, ..] = ders.as_slice() {
        let _ = certinfo::issued_by(first, second);
        let _ = certinfo::issued_by(second, first);
    }
    let (sent, store) = ders.split_at(ders.len().div_ceil(2));
    let _ = certinfo::detailed_chain(sent, store);
});
