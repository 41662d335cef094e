//! Writes the data behind `tls.rootCertificates`: the whole Mozilla root
//! certificates (from `webpki-root-certs`, a dev-dependency, so they never
//! reach the wasm) as PEM strings shaped like Node's.
//!
//! Usage: `gen_root_certificates [OUT_DIR]` (default `pkg`). Writes
//!
//! - `OUT_DIR/root-certificates.js`: an ES module, `export default` a frozen
//!   array of PEM strings and `export const count` (webpki-roots' number of
//!   trust anchors), for bundlers and browsers;
//! - `OUT_DIR/root-certificates.json`: the same array, read on first access
//!   where the runtime has a synchronous file system (Node, Deno, Bun);
//! - `OUT_DIR/root-anchors.js`: an ES module, `export default` webpki-roots'
//!   trust anchors (subject, public key, name constraints) in base64, in the
//!   form `wasm_tls::roots::set_default_roots` reads: what a context without
//!   `ca` trusts, loaded apart from the wasm (js/root-anchors.js).
//!
//! It refuses to write anything unless the certificates are, as a set, exactly
//! the trust anchors of `webpki_roots::TLS_SERVER_ROOTS` (same subject and
//! public key, one for one): the two crates must be kept at the same version.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Node prints root certificates with 72 base64 characters a line and no
/// newline after the END line (`require('node:tls').rootCertificates[0]`).
const LINE: usize = 72;

fn base64(der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn pem(der: &[u8]) -> String {
    let b64 = base64(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----");
    out
}

/// A JSON string literal, which is also a valid JS string literal here (PEM is
/// ASCII without quotes or backslashes; `\n` is the only escape needed).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 40);
    out.push('"');
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => panic!("unexpected character {c:?} in PEM"),
        }
    }
    out.push('"');
    out
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

type AnchorKey = (Vec<u8>, Vec<u8>);

fn check_same_set_as_webpki_roots(
    certs: &[rustls_pki_types::CertificateDer<'static>],
) -> Result<(), String> {
    let mut ours = BTreeSet::<AnchorKey>::new();
    for (i, cert) in certs.iter().enumerate() {
        let anchor = webpki::anchor_from_trusted_cert(cert)
            .map_err(|e| format!("certificate #{i} is not a usable trust anchor: {e:?}"))?;
        let key = (
            anchor.subject.as_ref().to_vec(),
            anchor.subject_public_key_info.as_ref().to_vec(),
        );
        if !ours.insert(key) {
            return Err(format!("certificate #{i} is a duplicate"));
        }
    }
    let theirs: BTreeSet<AnchorKey> = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .map(|a| {
            (
                a.subject.as_ref().to_vec(),
                a.subject_public_key_info.as_ref().to_vec(),
            )
        })
        .collect();
    if ours != theirs || certs.len() != webpki_roots::TLS_SERVER_ROOTS.len() {
        return Err(format!(
            "webpki-root-certs ({} certificates, {} not in webpki-roots) and webpki-roots \
             ({} anchors, {} not in webpki-root-certs) differ: keep both crates at the same \
             version in Cargo.lock (cargo update -p webpki-root-certs --precise <webpki-roots' version>)",
            certs.len(),
            ours.difference(&theirs).count(),
            webpki_roots::TLS_SERVER_ROOTS.len(),
            theirs.difference(&ours).count(),
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let out_dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "pkg".into()));
    let certs = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
    if let Err(e) = check_same_set_as_webpki_roots(certs) {
        eprintln!("gen_root_certificates: {e}");
        return ExitCode::FAILURE;
    }
    let literals: Vec<String> = certs.iter().map(|c| quoted(&pem(c))).collect();
    let count = webpki_roots::TLS_SERVER_ROOTS.len();

    let js = format!(
        "// Generated by examples/gen_root_certificates.rs from the crate webpki-root-certs: \
         do not edit.\n// Mozilla's root certificates, exactly the trust anchors of webpki-roots, \
         as PEM like node:tls.rootCertificates.\nexport const count = {count};\n\
         export default Object.freeze([\n{}\n]);\n",
        literals.join(",\n")
    );
    let json = format!("[\n{}\n]\n", literals.join(",\n"));
    let Some(anchors) = wasm_tls::roots::encode_anchors(webpki_roots::TLS_SERVER_ROOTS) else {
        eprintln!("gen_root_certificates: a trust anchor field is over 64 KB");
        return ExitCode::FAILURE;
    };
    let anchors_js = format!(
        "// Generated by examples/gen_root_certificates.rs from the crate webpki-roots: do not edit.\n\
         // Mozilla's trust anchors for the engine (src/roots.rs reads them; js/root-anchors.js loads them).\n\
         export const count = {count};\nexport default \"{}\";\n",
        base64(&anchors)
    );

    let result = std::fs::create_dir_all(&out_dir)
        .and_then(|()| write_atomically(&out_dir.join("root-certificates.json"), &json))
        .and_then(|()| write_atomically(&out_dir.join("root-certificates.js"), &js))
        .and_then(|()| write_atomically(&out_dir.join("root-anchors.js"), &anchors_js));
    if let Err(e) = result {
        eprintln!(
            "gen_root_certificates: writing to {}: {e}",
            out_dir.display()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn pem_lines_are_72_characters() {
        let p = pem(&[0u8; 100]);
        let lines: Vec<&str> = p.split('\n').collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 72);
        assert_eq!(lines[2].len(), 136 - 72);
        assert_eq!(lines[3], "-----END CERTIFICATE-----");
    }

    #[test]
    fn certificates_match_webpki_roots() {
        check_same_set_as_webpki_roots(webpki_root_certs::TLS_SERVER_ROOT_CERTS).unwrap();
    }
}
