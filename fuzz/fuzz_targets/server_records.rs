//! Records from a client, as the server side receives them: the ClientHello
//! acceptor (`TlsAcceptor` in the wasm build: rustls' Acceptor plus our own
//! read of status_request, session id and PSK identities), then `accept`
//! with a context and options, then the Engine for the rest of the flight.
//! Seeds are captured client flights, including a TLS 1.3 resumption whose
//! ticket the fixed ticket keys decrypt.
//!
//! Input: [flags][more flags][piece size][client bytes...]
//!   flags bits 0-2: server context (versions, RSA certificate too),
//!   bit 3: requestCert, bit 4: rejectUnauthorized, bit 5: honorCipherOrder,
//!   bit 6: external session cache, bit 7: ALPN list;
//!   more flags bit 0: ALPNCallback refused, bit 1: an OCSP response to
//!   staple, bit 2: 'resumeSession' found the offered session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_tls::server::{AcceptOptions, ServerAcceptor};
use wasm_tls_fuzz::{deliveries, feed, read_hello, server_context};

fuzz_target!(|data: &[u8]| {
    let [flags, more, piece, stream @ ..] = data else {
        return;
    };
    let mut acceptor = ServerAcceptor::default();
    let mut alert = Vec::new();
    let mut chunks = deliveries(stream, *piece).into_iter();
    let Ok(Some(hello)) = read_hello(&mut acceptor, &mut alert, &mut chunks) else {
        return;
    };
    let _ = format!("{hello:?}");
    let options = AcceptOptions {
        alpn_protocols: if flags & 128 != 0 {
            vec!["http/1.1".into(), "h2".into()]
        } else {
            Vec::new()
        },
        alpn_reject: more & 1 != 0,
        ocsp_response: (more & 2 != 0).then(|| b"\x30\x03\x0a\x01\x00".to_vec()),
        request_cert: flags & 8 != 0,
        honor_cipher_order: flags & 32 != 0,
        external_sessions: flags & 64 != 0,
        resumed_session: (more & 4 != 0)
            .then(|| hello.session_id.clone())
            .flatten()
            .map(|id| {
                (
                    id.into(),
                    stream
                        .iter()
                        .rev()
                        .take(64)
                        .copied()
                        .collect::<Vec<u8>>()
                        .into(),
                )
            }),
        reject_unauthorized: flags & 16 != 0,
    };
    let Ok(mut engine) = acceptor.accept(server_context(*flags), &options, &mut alert) else {
        return;
    };
    feed(&mut engine, chunks);
});
