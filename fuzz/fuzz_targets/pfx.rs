//! PKCS#12 (`pfx`, with its passphrase) through `SecureContext::new`, as
//! `tls.createSecureContext({ pfx })` runs it in the wasm build.
//!
//! Input: [mode][bytes...]
//!   mode bit 0: no passphrase of its own ("fuzz" otherwise), bit 1: the
//!   context-wide `passphrase` is "fuzz"; bit 2: the bytes are the inner
//!   AuthenticatedSafe, wrapped here in a PFX whose MAC is valid, so that
//!   mutations get past the MAC check to the bags and their decryption.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_tls::context::{ContextOptions, PfxInput, SecureContext};
use wasm_tls_fuzz::{pfx_with_valid_mac, PASSPHRASE};

fuzz_target!(|data: &[u8]| {
    let [mode, bytes @ ..] = data else {
        return;
    };
    let buf = if mode & 4 != 0 {
        pfx_with_valid_mac(bytes)
    } else {
        bytes.to_vec()
    };
    let options = ContextOptions {
        pfx: Some(vec![PfxInput {
            buf,
            passphrase: (mode & 1 == 0).then(|| PASSPHRASE.to_string()),
        }]),
        passphrase: (mode & 2 != 0).then(|| PASSPHRASE.to_string()),
        ..Default::default()
    };
    let _ = SecureContext::new(&options);
});
