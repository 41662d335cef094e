//! Encrypted PKCS#8 keys as `openssl pkcs8 -topk8` writes them, read by
//! `keys::private_key` (src/pkcs.rs): each PBES2 variant OpenSSL 3 offers,
//! and the refusals, with the codes Node gives.

use std::io::Write;
use std::process::{Command, Stdio};

use wasm_tls::keys::private_key;

/// `openssl pkcs8 -topk8 <args> -passout pass:pw` over `pem`.
fn encrypt(pem: &str, args: &[&str]) -> String {
    let mut child = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-passout", "pass:pw"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(pem.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl pkcs8 {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pbes2_variants_decrypt_and_refusals_match_node() {
    let key = rcgen::KeyPair::generate().unwrap();
    let plain = key.serialize_der();
    for args in [
        &["-v2", "aes-256-cbc"][..],
        &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512"],
        &["-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA224"],
        &[
            "-v2",
            "aes-256-cbc",
            "-v2prf",
            "hmacWithSHA384",
            "-iter",
            "1",
        ],
        &["-scrypt"],
    ] {
        let encrypted = encrypt(&key.serialize_pem(), args);
        let der = private_key(&encrypted, Some("pw")).unwrap();
        assert_eq!(der.secret_der(), plain.as_slice(), "{args:?}");
        let wrong = private_key(&encrypted, Some("wrong")).unwrap_err();
        assert_eq!(wrong.code, "ERR_OSSL_BAD_DECRYPT", "{args:?}");
        let missing = private_key(&encrypted, None).unwrap_err();
        assert_eq!(missing.code, "ERR_OSSL_BAD_DECRYPT", "{args:?}");
    }
    // A SHA-1 PRF is recognised and refused; DES is not recognised.
    let sha1 = encrypt(
        &key.serialize_pem(),
        &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"],
    );
    assert_eq!(
        private_key(&sha1, Some("pw")).unwrap_err().code,
        "ERR_OSSL_BAD_DECRYPT"
    );
    let des3 = encrypt(&key.serialize_pem(), &["-v2", "des3"]);
    assert_eq!(
        private_key(&des3, Some("pw")).unwrap_err().code,
        "ERR_OSSL_UNSUPPORTED"
    );
    // Broken base64 in the block.
    let broken = sha1.replacen('A', "*", 1);
    assert_eq!(
        private_key(&broken, Some("pw")).unwrap_err().code,
        "ERR_OSSL_PEM_BAD_BASE64_DECODE"
    );
}
