//! Records from a server, as a client Engine (`TlsConnection.client` in the
//! wasm build) receives them after its ClientHello. Seeds are captured server
//! flights (TLS 1.2 and 1.3, HelloRetryRequest, CertificateRequest, OCSP,
//! ALPN, tickets), so mutations reach deep into the handshake.
//!
//! Input: [flags][piece size][server bytes...]
//!   flags bits 0-2: client context (versions, client certificate),
//!   bit 3: ALPN offered, bit 4: servername sent, bit 5: a session handle
//!   (bytes 2..18 of the input) offered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_tls::engine::{ConnectOptions, Engine};
use wasm_tls_fuzz::{client_context, deliveries, feed};

fuzz_target!(|data: &[u8]| {
    let [flags, piece, stream @ ..] = data else {
        return;
    };
    let options = ConnectOptions {
        servername: (flags & 16 != 0).then(|| "localhost".to_string()),
        alpn_protocols: if flags & 8 != 0 {
            vec!["h2".into(), "http/1.1".into()]
        } else {
            Vec::new()
        },
        session: (flags & 32 != 0).then(|| stream.iter().take(16).copied().collect()),
    };
    let Ok(mut engine) = Engine::client(client_context(*flags), options) else {
        return;
    };
    feed(&mut engine, deliveries(stream, *piece));
});
