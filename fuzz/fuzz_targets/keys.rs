//! PEM/DER certificates and private keys (PKCS#8, encrypted PKCS#8 with a
//! passphrase, PKCS#1, SEC1) as `tls.createSecureContext({ cert, key, ca,
//! passphrase })` hands them over: `SecureContext::new` (what the wasm
//! constructor calls), and the `keys` readers below it.
//!
//! Input: [mode][text...]; the text reaches Rust as the JS layer passes it:
//! a Buffer as Latin-1, a string as UTF-8 (mode bit 0).
//!   mode bits 1-2: the text is the key (passphrase "fuzz", none, or the
//!   text after the first NUL), the certificate (with the fixture key),
//!   or the CA list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_tls::context::{ContextOptions, KeyInput, SecureContext};
use wasm_tls::keys;
use wasm_tls_fuzz::{option_text, LEAF_KEY, LEAF_PEM, PASSPHRASE};

fuzz_target!(|data: &[u8]| {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let text = option_text(*mode, bytes);
    let options = match (mode >> 1) & 3 {
        0 | 1 => {
            let (pem, passphrase) = if mode & 2 == 0 {
                (text.clone(), Some(PASSPHRASE.to_string()))
            } else {
                match text.split_once('\0') {
                    Some((pem, pass)) => (pem.to_string(), Some(pass.to_string())),
                    None => (text.clone(), None),
                }
            };
            let _ = keys::private_key(&pem, passphrase.as_deref());
            ContextOptions {
                cert: Some(vec![LEAF_PEM.into()]),
                key: Some(vec![KeyInput { pem, passphrase }]),
                ..Default::default()
            }
        }
        2 => {
            if let Ok(certs) = keys::certificates(&text) {
                for der in &certs {
                    let _ = keys::key_algorithm(der.as_ref());
                }
            }
            ContextOptions {
                cert: Some(vec![text]),
                key: Some(vec![KeyInput {
                    pem: LEAF_KEY.into(),
                    passphrase: None,
                }]),
                ..Default::default()
            }
        }
        _ => ContextOptions {
            ca: Some(vec![text]),
            ..Default::default()
        },
    };
    let _ = SecureContext::new(&options);
});
