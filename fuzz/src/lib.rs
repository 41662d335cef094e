//! What the fuzz targets share: fixed key material (fuzz/fixtures, made once
//! with openssl), contexts built from it once per process, and the ways an
//! input is cut into the calls the JS layer would make.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, UnixTime};
use wasm_tls::context::{ContextOptions, KeyInput, SecureContext};
use wasm_tls::engine::Engine;
use wasm_tls::error::TlsError;
use wasm_tls::server::{ClientHelloInfo, ServerAcceptor};

pub const CA_PEM: &str = include_str!("../fixtures/ca.pem");
pub const LEAF_PEM: &str = include_str!("../fixtures/leaf.pem");
pub const LEAF_KEY: &str = include_str!("../fixtures/leaf.key");
pub const RSA_PEM: &str = include_str!("../fixtures/rsa.pem");
pub const RSA_KEY: &str = include_str!("../fixtures/rsa.key");
pub const CRL_PEM: &str = include_str!("../fixtures/ca.crl");
pub const LEAF_DER: &[u8] = include_bytes!("../fixtures/leaf.crt.der");
/// The passphrase of every encrypted fixture.
pub const PASSPHRASE: &str = "fuzz";
/// Fixed server ticket keys, so that a captured resumption ClientHello stays
/// valid across runs and the fuzzer reaches ticket decryption and binders.
pub const TICKET_KEYS: [u8; 48] = [7; 48];

/// Separates the parts of a multi-part input (several certificates, ...).
pub const SEPARATOR: &[u8] = b"--8<--";

/// A fixed "now" (2027-01-15), so that a crash reproduces on any day.
pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000))
}

/// Bytes as the JS layer hands a Buffer to a PEM option: Latin-1 text.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A PEM option as it reaches Rust: a Buffer (Latin-1) when bit 0 of `mode`
/// is clear, else a JS string (UTF-8).
pub fn option_text(mode: u8, bytes: &[u8]) -> String {
    if mode & 1 == 0 {
        latin1(bytes)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `verify_chain` as the engine calls it, with `ctx`'s trust and algorithms.
pub fn verify(
    ctx: &SecureContext,
    chain: &[CertificateDer<'_>],
    crls: &[webpki::CertRevocationList<'_>],
    usage: webpki::KeyUsage,
) {
    let _ = wasm_tls::verify::verify_chain(
        chain,
        &ctx.roots,
        &ctx.ca_certs,
        crls,
        now(),
        &ctx.provider.signature_verification_algorithms,
        usage,
    );
}

/// Splits `data` at every `SEPARATOR`.
pub fn parts(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        out.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    out.push(rest);
    out
}

/// Cuts a byte stream as a transport might deliver it: whole TLS records
/// (by their length headers; a bad header just makes an odd cut), each in
/// pieces of `piece` bytes when `piece` is not 0.
pub fn deliveries(data: &[u8], piece: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let len = match rest.get(3..5) {
            Some(&[hi, lo]) => 5 + usize::from(u16::from_be_bytes([hi, lo])),
            _ => rest.len(),
        };
        let (record, tail) = rest.split_at(len.min(rest.len()));
        if piece == 0 {
            out.push(record);
        } else {
            out.extend(record.chunks(usize::from(piece)));
        }
        rest = tail;
    }
    out
}

fn context(options: ContextOptions) -> Arc<SecureContext> {
    match SecureContext::new(&options) {
        Ok(ctx) => Arc::new(ctx),
        Err(e) => panic!("fixture context: {e:?}"),
    }
}

fn versions(options: &mut ContextOptions, which: u8) {
    match which & 3 {
        1 => options.max_version = Some("TLSv1.2".into()),
        2 => options.min_version = Some("TLSv1.3".into()),
        _ => {}
    }
}

/// Client contexts trusting the fixture CA: index bits 0-1 pick the versions
/// (both, 1.2 only, 1.3 only), bit 2 adds a client certificate.
pub fn client_context(index: u8) -> Arc<SecureContext> {
    static CONTEXTS: OnceLock<Vec<Arc<SecureContext>>> = OnceLock::new();
    let all = CONTEXTS.get_or_init(|| {
        (0..8u8)
            .map(|i| {
                let mut options = ContextOptions {
                    ca: Some(vec![CA_PEM.into()]),
                    ..Default::default()
                };
                versions(&mut options, i);
                if i & 4 != 0 {
                    options.cert = Some(vec![LEAF_PEM.into()]);
                    options.key = Some(vec![KeyInput {
                        pem: LEAF_KEY.into(),
                        passphrase: None,
                    }]);
                }
                context(options)
            })
            .collect()
    });
    all[usize::from(index & 7)].clone()
}

/// Server contexts: index bits 0-1 pick the versions, bit 2 adds the RSA
/// certificate before the ECDSA one. Each trusts the fixture CA for client
/// certificates and has fixed ticket keys.
pub fn server_context(index: u8) -> Arc<SecureContext> {
    static CONTEXTS: OnceLock<Vec<Arc<SecureContext>>> = OnceLock::new();
    let all = CONTEXTS.get_or_init(|| {
        (0..8u8)
            .map(|i| {
                let mut cert = vec![format!("{LEAF_PEM}{CA_PEM}")];
                let mut key = vec![KeyInput {
                    pem: LEAF_KEY.into(),
                    passphrase: None,
                }];
                if i & 4 != 0 {
                    // First, so that it is served whenever the client takes RSA.
                    cert.insert(0, RSA_PEM.into());
                    key.insert(
                        0,
                        KeyInput {
                            pem: RSA_KEY.into(),
                            passphrase: None,
                        },
                    );
                }
                let mut options = ContextOptions {
                    ca: Some(vec![CA_PEM.into()]),
                    cert: Some(cert),
                    key: Some(key),
                    ticket_keys: Some(TICKET_KEYS.to_vec()),
                    ..Default::default()
                };
                versions(&mut options, i);
                context(options)
            })
            .collect()
    });
    all[usize::from(index & 7)].clone()
}

/// Feeds deliveries to the ClientHello acceptor until the hello is whole
/// (`Ok(None)`: the stream ended first). The rest is left in `chunks`.
pub fn read_hello<'a>(
    acceptor: &mut ServerAcceptor,
    alert: &mut Vec<u8>,
    chunks: &mut impl Iterator<Item = &'a [u8]>,
) -> Result<Option<ClientHelloInfo>, TlsError> {
    for chunk in chunks {
        if let Some(hello) = acceptor.receive(chunk, alert)? {
            return Ok(Some(hello));
        }
    }
    Ok(None)
}

/// Feeds the peer's bytes as the JS layer does (sending what the engine
/// writes back), then reads the connection once its handshake is done.
pub fn feed<'a>(engine: &mut Engine, chunks: impl IntoIterator<Item = &'a [u8]>) {
    let mut out = Vec::new();
    engine.take_output(&mut out);
    let mut plaintext = Vec::new();
    for chunk in chunks {
        let result = engine.receive(chunk, &mut plaintext);
        out.clear();
        engine.take_output(&mut out);
        match result {
            Ok(progress) if progress.handshake_done => after_handshake(engine),
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// What the JS layer reads from a connection once its handshake is done,
/// then a write and a close: every call must hold up whatever the peer sent.
pub fn after_handshake(engine: &mut Engine) {
    let _ = engine.protocol();
    let _ = engine.cipher();
    let _ = engine.alpn_protocol();
    let _ = engine.servername();
    let _ = engine.verify_error();
    let _ = engine.ephemeral_key_info();
    let _ = engine.ocsp_response();
    let _ = engine.is_session_reused();
    let _ = engine.local_certificate();
    let _ = engine.take_new_sessions();
    let _ = engine.take_new_server_sessions();
    let _ = engine.take_key_log();
    let _ = engine.export_keying_material(32, b"EXPERIMENTAL label", Some(b"ctx"));
    for der in engine.peer_certificates() {
        describe(der.as_ref());
    }
    for der in engine.peer_chain_to_root() {
        describe(der);
    }
    let _ = engine.write(b"GET / HTTP/1.0\r\n\r\n");
    engine.close();
    let mut out = Vec::new();
    engine.take_output(&mut out);
}

/// `describeCertificate` as the wasm build runs it: every field, then each formatted.
pub fn describe(der: &[u8]) {
    if let Ok(info) = wasm_tls::certinfo::describe(der) {
        let _ = format!("{info:?}");
    }
}

/// A PFX around `auth_safe` with a SHA-256 MAC under "fuzz" (1 iteration).
pub fn pfx_with_valid_mac(auth_safe: &[u8]) -> Vec<u8> {
    use der::asn1::{Null, OctetString};
    use der::oid::db::{rfc5911::ID_DATA, rfc5912::ID_SHA_256};
    use der::{Any, Encode};
    use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};

    let salt = [1u8; 8];
    let encode = || -> Option<Vec<u8>> {
        let key = derive_key_utf8::<sha2::Sha256>(PASSPHRASE, &salt, Pkcs12KeyType::Mac, 1, 32);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key.ok()?);
        let mac = ring::hmac::sign(&key, auth_safe);
        let pfx = pkcs12::pfx::Pfx {
            version: pkcs12::pfx::Version::V3,
            auth_safe: cms::content_info::ContentInfo {
                content_type: ID_DATA,
                content: Any::encode_from(&OctetString::new(auth_safe).ok()?).ok()?,
            },
            mac_data: Some(pkcs12::mac_data::MacData {
                mac: pkcs12::digest_info::DigestInfo {
                    algorithm: spki::AlgorithmIdentifierOwned {
                        oid: ID_SHA_256,
                        parameters: Some(Any::from(Null)),
                    },
                    digest: OctetString::new(mac.as_ref()).ok()?,
                },
                mac_salt: OctetString::new(salt).ok()?,
                iterations: 1,
            }),
        };
        pfx.to_der().ok()
    };
    encode().unwrap_or_default()
}
