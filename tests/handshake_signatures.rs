//! Handshake signatures made with keys that webpki refuses: X.509 v1
//! certificates and RSA keys under 2048 bits. Node (OpenSSL) completes such
//! handshakes and leaves the verdict to the chain check, so `HandshakeVerifier`
//! must check their signatures itself, by the same rules.
//!
//! Keys, certificates and signatures come from the `openssl` CLI: a signer we
//! did not write. The verifier is called directly with signatures OpenSSL made,
//! and whole handshakes run against a rustls server in memory (for keys ring
//! can sign with) and against `openssl s_server` over loopback TCP (for RSA
//! keys under 2048 bits, which ring will not sign with).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::ring as ring_provider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::version::{TLS12, TLS13};
use rustls::{
    CertificateError, DigitallySignedStruct, Error, PeerMisbehaved, ServerConfig, ServerConnection,
    SignatureScheme, SupportedProtocolVersion,
};
use wasm_tls::context::{ContextOptions, SecureContext};
use wasm_tls::engine::{ConnectOptions, Engine};
use wasm_tls::verify::HandshakeVerifier;

// ---------------------------------------------------------------------------
// openssl CLI
// ---------------------------------------------------------------------------

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wasm-tls-hs-{}-{}-{name}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl args...` in `dir`; its stdout, or a panic with its stderr.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[derive(Clone, Copy, PartialEq)]
enum Version {
    /// `openssl x509 -req` with no extensions: an X.509 v1 certificate.
    V1,
    /// `openssl req -x509` with a subjectAltName: v3.
    V3,
}

/// A key, a self-signed certificate for "localhost" that carries it, and a
/// directory to sign in.
struct Fixture {
    dir: Scratch,
    cert: CertificateDer<'static>,
    /// PKCS#8 DER.
    key: Vec<u8>,
}

impl Fixture {
    /// `algorithm` and `options` as `openssl genpkey` takes them.
    fn new(name: &str, algorithm: &str, options: &[&str], version: Version) -> Self {
        let dir = Scratch::new(name);
        let mut args = vec!["genpkey", "-algorithm", algorithm, "-out", "key.pem"];
        for option in options {
            args.extend(["-pkeyopt", option]);
        }
        openssl(&dir.0, &args);
        match version {
            Version::V1 => {
                openssl(
                    &dir.0,
                    &[
                        "req",
                        "-new",
                        "-key",
                        "key.pem",
                        "-subj",
                        "/CN=localhost",
                        "-out",
                        "cert.csr",
                    ],
                );
                openssl(
                    &dir.0,
                    &[
                        "x509", "-req", "-in", "cert.csr", "-signkey", "key.pem", "-days", "30",
                        "-outform", "DER", "-out", "cert.der",
                    ],
                );
            }
            Version::V3 => {
                openssl(
                    &dir.0,
                    &[
                        "req",
                        "-x509",
                        "-key",
                        "key.pem",
                        "-subj",
                        "/CN=localhost",
                        "-addext",
                        "subjectAltName=DNS:localhost",
                        "-days",
                        "30",
                        "-outform",
                        "DER",
                        "-out",
                        "cert.der",
                    ],
                );
            }
        }
        openssl(
            &dir.0,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out",
                "key.der",
            ],
        );
        let text = openssl(
            &dir.0,
            &[
                "x509", "-inform", "DER", "-in", "cert.der", "-noout", "-text",
            ],
        );
        let expected = match version {
            Version::V1 => "Version: 1 (0x0)",
            Version::V3 => "Version: 3 (0x2)",
        };
        assert!(text.contains(expected), "{name}: not {expected}:\n{text}");
        let cert = std::fs::read(dir.path("cert.der")).expect("cert.der");
        let key = std::fs::read(dir.path("key.der")).expect("key.der");
        Fixture {
            dir,
            cert: CertificateDer::from(cert),
            key,
        }
    }

    /// OpenSSL's signature over `message` with this key: `openssl dgst`
    /// (`digest`, plus `sigopts` for RSA padding), or `pkeyutl` for Ed25519.
    fn sign(&self, message: &[u8], digest: Option<&str>, sigopts: &[&str]) -> Vec<u8> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let (msg, sig) = (format!("msg{n}"), format!("sig{n}"));
        std::fs::write(self.dir.path(&msg), message).expect("message file");
        match digest {
            Some(digest) => {
                let digest = format!("-{digest}");
                let mut args = vec!["dgst", digest.as_str(), "-sign", "key.pem"];
                for option in sigopts {
                    args.extend(["-sigopt", option]);
                }
                args.extend(["-out", sig.as_str(), msg.as_str()]);
                openssl(&self.dir.0, &args);
            }
            None => {
                openssl(
                    &self.dir.0,
                    &[
                        "pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", &msg, "-out",
                        &sig,
                    ],
                );
            }
        }
        std::fs::read(self.dir.path(&sig)).expect("signature file")
    }

    fn sign_pss(&self, message: &[u8], digest: &str) -> Vec<u8> {
        self.sign(
            message,
            Some(digest),
            &["rsa_padding_mode:pss", "rsa_pss_saltlen:digest"],
        )
    }

    fn sign_pkcs1(&self, message: &[u8], digest: &str) -> Vec<u8> {
        self.sign(message, Some(digest), &[])
    }
}

fn p256_v1() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("p256-v1", "EC", &["ec_paramgen_curve:P-256"], Version::V1))
}

fn p384_v1() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("p384-v1", "EC", &["ec_paramgen_curve:P-384"], Version::V1))
}

fn ed25519_v1() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("ed25519-v1", "ED25519", &[], Version::V1))
}

fn rsa2048_v1() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("rsa2048-v1", "RSA", &["rsa_keygen_bits:2048"], Version::V1))
}

fn rsa1024() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("rsa1024", "RSA", &["rsa_keygen_bits:1024"], Version::V3))
}

/// Another 1024-bit key, to sign with the wrong one.
fn rsa1024_other() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        Fixture::new(
            "rsa1024-other",
            "RSA",
            &["rsa_keygen_bits:1024"],
            Version::V3,
        )
    })
}

/// 1032 bits: a modulus whose length is not a multiple of 64 or 8 bytes' worth
/// of the usual sizes, and a v1 certificate too.
fn rsa1032_v1() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("rsa1032-v1", "RSA", &["rsa_keygen_bits:1032"], Version::V1))
}

fn rsa512() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("rsa512", "RSA", &["rsa_keygen_bits:512"], Version::V3))
}

/// A v3 P-256 certificate webpki reads: the fallback must not be needed.
fn p256_v3() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture::new("p256-v3", "EC", &["ec_paramgen_curve:P-256"], Version::V3))
}

// ---------------------------------------------------------------------------
// The verifier, called directly
// ---------------------------------------------------------------------------

/// Something like a TLS 1.3 CertificateVerify input (RFC 8446, 4.4.3).
fn message() -> Vec<u8> {
    let mut m = vec![0x20u8; 64];
    m.extend_from_slice(b"TLS 1.3, server CertificateVerify\0");
    m.extend((0u8..48).map(|i| i.wrapping_mul(37)));
    m
}

/// A DigitallySignedStruct as it comes off the wire (RFC 8446, 4.4.3).
fn dss(scheme: SignatureScheme, sig: &[u8]) -> DigitallySignedStruct {
    use rustls::internal::msgs::codec::Codec;
    let mut wire = u16::from(scheme).to_be_bytes().to_vec();
    wire.extend_from_slice(&u16::try_from(sig.len()).expect("short").to_be_bytes());
    wire.extend_from_slice(sig);
    DigitallySignedStruct::read_bytes(&wire).expect("DigitallySignedStruct")
}

fn verifier() -> Arc<HandshakeVerifier> {
    HandshakeVerifier::new(ring_provider::default_provider().signature_verification_algorithms)
}

fn tls13(f: &Fixture, scheme: SignatureScheme, message: &[u8], sig: &[u8]) -> Result<(), Error> {
    let dss = dss(scheme, sig);
    verifier()
        .verify_tls13_signature(message, &f.cert, &dss)
        .map(|_| ())
}

fn tls12(f: &Fixture, scheme: SignatureScheme, message: &[u8], sig: &[u8]) -> Result<(), Error> {
    let dss = dss(scheme, sig);
    verifier()
        .verify_tls12_signature(message, &f.cert, &dss)
        .map(|_| ())
}

/// rustls' own check (webpki) refuses this certificate's key, so the verifier's
/// fallback is what is being tested.
fn webpki_refuses(f: &Fixture, scheme: SignatureScheme, tls13: bool, sig: &[u8]) {
    let dss = dss(scheme, sig);
    let algs = ring_provider::default_provider().signature_verification_algorithms;
    let result = if tls13 {
        rustls::crypto::verify_tls13_signature(&message(), &f.cert, &dss, &algs).map(|_| ())
    } else {
        rustls::crypto::verify_tls12_signature(&message(), &f.cert, &dss, &algs).map(|_| ())
    };
    assert!(result.is_err(), "webpki accepted it: no fallback needed");
}

fn flip(sig: &[u8], byte: usize) -> Vec<u8> {
    let mut sig = sig.to_vec();
    let i = byte % sig.len();
    sig[i] ^= 0x01;
    sig
}

fn assert_bad_signature(result: Result<(), Error>, what: &str) {
    match result {
        Err(Error::InvalidCertificate(CertificateError::BadSignature)) => {}
        other => panic!("{what}: expected BadSignature, got {other:?}"),
    }
}

fn assert_wrong_key_type(result: Result<(), Error>, what: &str) {
    match result {
        Err(Error::InvalidCertificate(
            CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        )) => {}
        other => panic!("{what}: expected a key-type mismatch, got {other:?}"),
    }
}

fn assert_unadvertised(result: Result<(), Error>, what: &str) {
    match result {
        Err(Error::PeerMisbehaved(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)) => {}
        other => panic!("{what}: expected an unadvertised scheme, got {other:?}"),
    }
}

#[test]
fn v1_p256_signatures() {
    let f = p256_v1();
    let m = message();
    let sig = f.sign(&m, Some("sha256"), &[]);
    webpki_refuses(f, SignatureScheme::ECDSA_NISTP256_SHA256, true, &sig);
    tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &sig).expect("TLS 1.3, P-256");
    tls12(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &sig).expect("TLS 1.2, P-256");
    for byte in [0, 7, 40, 70] {
        assert_bad_signature(
            tls13(
                f,
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &m,
                &flip(&sig, byte),
            ),
            "flipped bit, TLS 1.3",
        );
        assert_bad_signature(
            tls12(
                f,
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &m,
                &flip(&sig, byte),
            ),
            "flipped bit, TLS 1.2",
        );
    }
    // The right signature over another message.
    let mut other = m.clone();
    other[70] ^= 0x80;
    assert_bad_signature(
        tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &other, &sig),
        "other message",
    );
    // A P-256 key with the P-384 scheme: TLS 1.3 binds the curve.
    let sig384 = f.sign(&m, Some("sha384"), &[]);
    assert_wrong_key_type(
        tls13(f, SignatureScheme::ECDSA_NISTP384_SHA384, &m, &sig384),
        "P-256 key, ECDSA_NISTP384_SHA384 in TLS 1.3",
    );
    // TLS 1.2 does not (as rustls): P-256 with SHA-384 is fine there.
    tls12(f, SignatureScheme::ECDSA_NISTP384_SHA384, &m, &sig384).expect("TLS 1.2, P-256 SHA-384");
    // Wrong key type: RSA and Ed25519 schemes over an EC key.
    assert_wrong_key_type(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &sig),
        "EC key, RSA-PSS",
    );
    assert_wrong_key_type(
        tls12(f, SignatureScheme::RSA_PKCS1_SHA256, &m, &sig),
        "EC key, PKCS#1",
    );
    assert_wrong_key_type(
        tls13(f, SignatureScheme::ED25519, &m, &sig),
        "EC key, Ed25519",
    );
}

#[test]
fn v1_p384_signatures() {
    let f = p384_v1();
    let m = message();
    let sig = f.sign(&m, Some("sha384"), &[]);
    webpki_refuses(f, SignatureScheme::ECDSA_NISTP384_SHA384, true, &sig);
    tls13(f, SignatureScheme::ECDSA_NISTP384_SHA384, &m, &sig).expect("TLS 1.3, P-384");
    tls12(f, SignatureScheme::ECDSA_NISTP384_SHA384, &m, &sig).expect("TLS 1.2, P-384");
    assert_bad_signature(
        tls13(
            f,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &m,
            &flip(&sig, 30),
        ),
        "flipped bit",
    );
    let sig256 = f.sign(&m, Some("sha256"), &[]);
    assert_wrong_key_type(
        tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &sig256),
        "P-384 key, ECDSA_NISTP256_SHA256 in TLS 1.3",
    );
    tls12(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &sig256).expect("TLS 1.2, P-384 SHA-256");
    // A SHA-256 signature claimed as SHA-384.
    assert_bad_signature(
        tls12(f, SignatureScheme::ECDSA_NISTP384_SHA384, &m, &sig256),
        "wrong hash",
    );
}

#[test]
fn v1_ed25519_signatures() {
    let f = ed25519_v1();
    let m = message();
    let sig = f.sign(&m, None, &[]);
    webpki_refuses(f, SignatureScheme::ED25519, true, &sig);
    tls13(f, SignatureScheme::ED25519, &m, &sig).expect("TLS 1.3, Ed25519");
    tls12(f, SignatureScheme::ED25519, &m, &sig).expect("TLS 1.2, Ed25519");
    assert_bad_signature(
        tls13(f, SignatureScheme::ED25519, &m, &flip(&sig, 3)),
        "flipped bit",
    );
    assert_bad_signature(
        tls13(f, SignatureScheme::ED25519, &m, &flip(&sig, 60)),
        "flipped bit",
    );
    assert_wrong_key_type(
        tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &sig),
        "Ed25519 key, ECDSA",
    );
}

#[test]
fn v1_rsa2048_signatures() {
    let f = rsa2048_v1();
    let m = message();
    let pss = f.sign_pss(&m, "sha256");
    let pkcs1 = f.sign_pkcs1(&m, "sha256");
    webpki_refuses(f, SignatureScheme::RSA_PSS_SHA256, true, &pss);
    tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &pss).expect("TLS 1.3, RSA-PSS");
    tls12(f, SignatureScheme::RSA_PSS_SHA256, &m, &pss).expect("TLS 1.2, RSA-PSS");
    tls12(f, SignatureScheme::RSA_PKCS1_SHA256, &m, &pkcs1).expect("TLS 1.2, PKCS#1");
    for (scheme, digest) in [
        (SignatureScheme::RSA_PSS_SHA384, "sha384"),
        (SignatureScheme::RSA_PSS_SHA512, "sha512"),
    ] {
        tls13(f, scheme, &m, &f.sign_pss(&m, digest)).expect("TLS 1.3, RSA-PSS");
    }
    // No PKCS#1 in TLS 1.3, even with a good signature.
    assert_unadvertised(
        tls13(f, SignatureScheme::RSA_PKCS1_SHA256, &m, &pkcs1),
        "PKCS#1 in TLS 1.3",
    );
    // Each padding under the other's name.
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &pkcs1),
        "PKCS#1 signature as PSS",
    );
    assert_bad_signature(
        tls12(f, SignatureScheme::RSA_PKCS1_SHA256, &m, &pss),
        "PSS signature as PKCS#1",
    );
    for byte in [0, 100, 255] {
        assert_bad_signature(
            tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &flip(&pss, byte)),
            "flipped bit, PSS",
        );
        assert_bad_signature(
            tls12(
                f,
                SignatureScheme::RSA_PKCS1_SHA256,
                &m,
                &flip(&pkcs1, byte),
            ),
            "flipped bit, PKCS#1",
        );
    }
    assert_wrong_key_type(
        tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &pss),
        "RSA key, ECDSA",
    );
}

#[test]
fn rsa1024_signatures() {
    let f = rsa1024();
    let m = message();
    // PKCS#1 with every hash.
    for (digest, scheme) in [
        ("sha256", SignatureScheme::RSA_PKCS1_SHA256),
        ("sha384", SignatureScheme::RSA_PKCS1_SHA384),
        ("sha512", SignatureScheme::RSA_PKCS1_SHA512),
    ] {
        let pkcs1 = f.sign_pkcs1(&m, digest);
        webpki_refuses(f, scheme, false, &pkcs1);
        tls12(f, scheme, &m, &pkcs1).expect("TLS 1.2, PKCS#1, 1024 bits");
        assert_unadvertised(tls13(f, scheme, &m, &pkcs1), "PKCS#1 in TLS 1.3");
        for byte in [0, 1, 64, 127] {
            assert_bad_signature(
                tls12(f, scheme, &m, &flip(&pkcs1, byte)),
                "flipped bit, PKCS#1",
            );
        }
    }
    // PSS-SHA512 cannot fit in 1024 bits (a 64-byte hash and a 64-byte salt):
    // only SHA-256 and SHA-384 here.
    let schemes = [
        (
            "sha256",
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA256,
        ),
        (
            "sha384",
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PKCS1_SHA384,
        ),
    ];
    for (digest, pss_scheme, pkcs1_scheme) in schemes {
        let pss = f.sign_pss(&m, digest);
        let pkcs1 = f.sign_pkcs1(&m, digest);
        webpki_refuses(f, pss_scheme, true, &pss);
        webpki_refuses(f, pkcs1_scheme, false, &pkcs1);
        tls13(f, pss_scheme, &m, &pss).expect("TLS 1.3, RSA-PSS, 1024 bits");
        tls12(f, pss_scheme, &m, &pss).expect("TLS 1.2, RSA-PSS, 1024 bits");
        tls12(f, pkcs1_scheme, &m, &pkcs1).expect("TLS 1.2, PKCS#1, 1024 bits");
        assert_unadvertised(tls13(f, pkcs1_scheme, &m, &pkcs1), "PKCS#1 in TLS 1.3");
        assert_bad_signature(tls13(f, pss_scheme, &m, &pkcs1), "PKCS#1 signature as PSS");
        assert_bad_signature(tls12(f, pkcs1_scheme, &m, &pss), "PSS signature as PKCS#1");
        // Every byte of the signature matters, the leading ones too.
        for byte in [0, 1, 2, 63, 64, 126, 127] {
            assert_bad_signature(
                tls13(f, pss_scheme, &m, &flip(&pss, byte)),
                "flipped bit, PSS",
            );
            assert_bad_signature(
                tls12(f, pkcs1_scheme, &m, &flip(&pkcs1, byte)),
                "flipped bit, PKCS#1",
            );
        }
        let mut other = m.clone();
        other[0] ^= 0x01;
        assert_bad_signature(tls13(f, pss_scheme, &other, &pss), "other message, PSS");
        assert_bad_signature(
            tls12(f, pkcs1_scheme, &other, &pkcs1),
            "other message, PKCS#1",
        );
        assert_wrong_key_type(
            tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &pss),
            "RSA key, ECDSA",
        );
        assert_wrong_key_type(
            tls12(f, SignatureScheme::ED25519, &m, &pss),
            "RSA key, Ed25519",
        );
    }
    // The hash named by the scheme is the one checked.
    let pss256 = f.sign_pss(&m, "sha256");
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA384, &m, &pss256),
        "SHA-256 signature as RSA_PSS_SHA384",
    );
    let pkcs1_256 = f.sign_pkcs1(&m, "sha256");
    assert_bad_signature(
        tls12(f, SignatureScheme::RSA_PKCS1_SHA512, &m, &pkcs1_256),
        "SHA-256 signature as RSA_PKCS1_SHA512",
    );
    // TLS 1.3 wants the salt as long as the hash (RFC 8446, 4.2.3), as ring does.
    let short_salt = f.sign(
        &m,
        Some("sha256"),
        &["rsa_padding_mode:pss", "rsa_pss_saltlen:20"],
    );
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &short_salt),
        "PSS with a 20-byte salt",
    );
    // MGF1 must use the scheme's hash.
    let other_mgf = f.sign(
        &m,
        Some("sha256"),
        &[
            "rsa_padding_mode:pss",
            "rsa_pss_saltlen:digest",
            "rsa_mgf1_md:sha1",
        ],
    );
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &other_mgf),
        "PSS with MGF1-SHA1",
    );
    // Another key's signature.
    let other_key = rsa1024_other().sign_pss(&m, "sha256");
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &other_key),
        "another key's signature",
    );
    // A signature shorter or longer than the modulus.
    let pss = f.sign_pss(&m, "sha256");
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &pss[1..]),
        "truncated",
    );
    let mut padded = vec![0u8];
    padded.extend_from_slice(&pss);
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &padded),
        "zero-padded",
    );
    assert_bad_signature(tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &[]), "empty");
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &[0xff; 128]),
        "all ones (above the modulus)",
    );
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA256, &m, &[0; 128]),
        "zero",
    );
    // PSS-SHA512 does not fit a 1024-bit key: refused, whatever the signature.
    for sig in [&pss, &[0x01; 128][..], &[0xbc; 128][..]] {
        assert_bad_signature(
            tls13(f, SignatureScheme::RSA_PSS_SHA512, &m, sig),
            "RSA_PSS_SHA512 with 1024 bits",
        );
    }
    // Not advertised at all.
    assert_unadvertised(
        tls12(f, SignatureScheme::RSA_PKCS1_SHA1, &m, &pkcs1_256),
        "RSA_PKCS1_SHA1",
    );
}

#[test]
fn rsa1032_v1_signatures() {
    let f = rsa1032_v1();
    let m = message();
    let pss = f.sign_pss(&m, "sha384");
    let pkcs1 = f.sign_pkcs1(&m, "sha384");
    tls13(f, SignatureScheme::RSA_PSS_SHA384, &m, &pss).expect("TLS 1.3, RSA-PSS, 1032 bits");
    tls12(f, SignatureScheme::RSA_PKCS1_SHA384, &m, &pkcs1).expect("TLS 1.2, PKCS#1, 1032 bits");
    assert_bad_signature(
        tls13(f, SignatureScheme::RSA_PSS_SHA384, &m, &flip(&pss, 0)),
        "flipped bit",
    );
}

#[test]
fn rsa_under_1024_bits_is_refused() {
    let f = rsa512();
    let m = message();
    // (PSS with SHA-256 and its 32-byte salt does not fit in 512 bits.)
    let pkcs1 = f.sign_pkcs1(&m, "sha256");
    assert_bad_signature(
        tls12(f, SignatureScheme::RSA_PKCS1_SHA256, &m, &pkcs1),
        "512-bit RSA, PKCS#1",
    );
}

#[test]
fn webpki_certificates_take_rustls_path_unchanged() {
    let f = p256_v3();
    let m = message();
    let sig = f.sign(&m, Some("sha256"), &[]);
    tls13(f, SignatureScheme::ECDSA_NISTP256_SHA256, &m, &sig).expect("v3 P-256");
    assert_bad_signature(
        tls13(
            f,
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &m,
            &flip(&sig, 20),
        ),
        "flipped bit",
    );
    assert_unadvertised(
        tls13(f, SignatureScheme::RSA_PKCS1_SHA256, &m, &sig),
        "PKCS#1 in TLS 1.3",
    );
}

/// Damaged certificates: never a panic, and a signature never verifies with a
/// key that is not the one it was made with. Every byte of the certificate is
/// corrupted in turn; where the byte lies inside the key (its
/// SubjectPublicKeyInfo), the signature must be refused. Elsewhere (the
/// subject, the certificate's own signature...) either verdict is fine: the
/// key is intact.
fn damaged_certificates(f: &Fixture, scheme: SignatureScheme, sig: &[u8], tls13_ok: bool) {
    let m = message();
    let dss = dss(scheme, sig);
    let v = verifier();
    let good = f.cert.as_ref().to_vec();
    let spki = spki_of(&good).expect("the good certificate's key");
    let at = good
        .windows(spki.len())
        .position(|w| w == spki.as_slice())
        .expect("the key inside the certificate");
    let key_bytes = at..at + spki.len();
    let check = |input: Vec<u8>, inside_key: bool, what: &str| {
        let cert = CertificateDer::from(input);
        let r13 = v.verify_tls13_signature(&m, &cert, &dss);
        let r12 = v.verify_tls12_signature(&m, &cert, &dss);
        if inside_key {
            assert!(r13.is_err(), "TLS 1.3 accepted a damaged key ({what})");
            assert!(r12.is_err(), "TLS 1.2 accepted a damaged key ({what})");
        }
        if !tls13_ok {
            assert!(r13.is_err(), "TLS 1.3 accepted {what}");
        }
    };
    for input in [Vec::new(), vec![0x30], vec![0x30, 0x00], vec![0xff; 64]] {
        check(input, true, "garbage");
    }
    for cut in 0..good.len() {
        // Cut inside the key: the key is gone.
        check(good[..cut].to_vec(), cut < key_bytes.end, "a truncation");
    }
    for i in 0..good.len() {
        for mask in [0x01, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= mask;
            check(
                bad,
                key_bytes.contains(&i),
                &format!("byte {i} ^ {mask:#x}"),
            );
        }
    }
}

#[test]
fn damaged_v1_certificates() {
    let m = message();
    let f = p256_v1();
    let sig = f.sign(&m, Some("sha256"), &[]);
    damaged_certificates(f, SignatureScheme::ECDSA_NISTP256_SHA256, &sig, true);
    let f = rsa2048_v1();
    let sig = f.sign_pkcs1(&m, "sha256");
    damaged_certificates(f, SignatureScheme::RSA_PKCS1_SHA256, &sig, false);
}

#[test]
fn damaged_rsa1024_certificates() {
    let m = message();
    let f = rsa1024();
    let sig = f.sign_pss(&m, "sha256");
    damaged_certificates(f, SignatureScheme::RSA_PSS_SHA256, &sig, true);
    let sig = f.sign_pkcs1(&m, "sha256");
    damaged_certificates(f, SignatureScheme::RSA_PKCS1_SHA256, &sig, false);
}

/// The 1024-bit certificate relabelled as X.509 v2 (its version INTEGER
/// 2 -> 1), which webpki reads neither as an end entity nor as a trust anchor:
/// the key then comes from the engine's own reading (src/x509.rs).
fn relabelled_v2(f: &Fixture) -> CertificateDer<'static> {
    let mut der = f.cert.as_ref().to_vec();
    let version = [0xa0, 0x03, 0x02, 0x01, 0x02];
    let at = der
        .windows(version.len())
        .position(|w| w == version)
        .expect("a v3 version field");
    der[at + 4] = 0x01;
    CertificateDer::from(der)
}

#[test]
fn certificates_only_our_parser_reads() {
    let f = rsa1024();
    let m = message();
    let v2 = relabelled_v2(f);
    assert!(webpki::EndEntityCert::try_from(&v2).is_err());
    assert!(webpki::anchor_from_trusted_cert(&v2).is_err());
    assert!(spki_of(v2.as_ref()).is_some(), "our parser reads it");
    let v = verifier();
    let pss = f.sign_pss(&m, "sha256");
    let pkcs1 = f.sign_pkcs1(&m, "sha256");
    let scheme13 = dss(SignatureScheme::RSA_PSS_SHA256, &pss);
    let scheme12 = dss(SignatureScheme::RSA_PKCS1_SHA256, &pkcs1);
    v.verify_tls13_signature(&m, &v2, &scheme13)
        .expect("TLS 1.3, v2 certificate");
    v.verify_tls12_signature(&m, &v2, &scheme12)
        .expect("TLS 1.2, v2 certificate");
    let bad = dss(SignatureScheme::RSA_PSS_SHA256, &flip(&pss, 5));
    assert!(v.verify_tls13_signature(&m, &v2, &bad).is_err());
    // Bytes after the certificate: OpenSSL refuses them ("cert length
    // mismatch"), webpki too, and so does the fallback.
    for cert in [&v2, &f.cert, &p256_v1().cert] {
        let mut trailing = cert.as_ref().to_vec();
        trailing.push(0);
        let trailing = CertificateDer::from(trailing);
        assert!(v.verify_tls13_signature(&m, &trailing, &scheme13).is_err());
        assert!(v.verify_tls12_signature(&m, &trailing, &scheme12).is_err());
    }
    let ec_sig = p256_v1().sign(&m, Some("sha256"), &[]);
    let mut trailing = p256_v1().cert.as_ref().to_vec();
    trailing.push(0);
    let result = v.verify_tls13_signature(
        &m,
        &CertificateDer::from(trailing),
        &dss(SignatureScheme::ECDSA_NISTP256_SHA256, &ec_sig),
    );
    assert!(result.is_err(), "a v1 certificate with a trailing byte");
}

fn spki_of(der: &[u8]) -> Option<Vec<u8>> {
    let (cert, _) = wasm_tls::x509::Certificate::parse(der)?;
    Some(cert.spki.to_vec())
}

// ---------------------------------------------------------------------------
// Whole handshakes: a rustls server in memory
// ---------------------------------------------------------------------------

fn client() -> Engine {
    // No `ca`: Mozilla's roots, handed to the engine as the JS side does (src/roots.rs).
    let anchors = wasm_tls::roots::encode_anchors(webpki_roots::TLS_SERVER_ROOTS).expect("anchors");
    wasm_tls::roots::set_default_roots(&anchors).expect("default roots");
    let context = SecureContext::new(&ContextOptions::default()).expect("secure context");
    match Engine::client(
        Arc::new(context),
        ConnectOptions {
            servername: Some("localhost".into()),
            ..Default::default()
        },
    ) {
        Ok(engine) => engine,
        Err(e) => panic!("Engine::client: {e}"),
    }
}

/// Always this certificate. (`with_single_cert` would check it against the
/// key through webpki, which refuses v1 certificates.)
#[derive(Debug)]
struct Always(Arc<CertifiedKey>);

impl ResolvesServerCert for Always {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn rustls_server(f: &Fixture, version: &'static SupportedProtocolVersion) -> ServerConnection {
    let provider = Arc::new(ring_provider::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(f.key.clone()));
    let signer = provider
        .key_provider
        .load_private_key(key)
        .expect("ring signing key");
    let certified = Arc::new(CertifiedKey::new(vec![f.cert.clone()], signer));
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .expect("versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Always(certified)));
    ServerConnection::new(Arc::new(config)).expect("server connection")
}

/// Runs a handshake in memory; the client's error, if it failed.
fn handshake_in_memory(
    f: &Fixture,
    version: &'static SupportedProtocolVersion,
) -> Result<Engine, String> {
    let mut client = client();
    let mut server = rustls_server(f, version);
    let mut plain = Vec::new();
    for _ in 0..100 {
        let mut to_server = Vec::new();
        client.take_output(&mut to_server);
        let mut input = to_server.as_slice();
        while !input.is_empty() {
            server.read_tls(&mut input).expect("server read_tls");
            if let Err(e) = server.process_new_packets() {
                return Err(format!("server: {e}"));
            }
        }
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).expect("server write_tls");
        }
        if !to_client.is_empty() {
            client
                .receive(&to_client, &mut plain)
                .map_err(|e| format!("client: {e}"))?;
        }
        if to_server.is_empty() && to_client.is_empty() {
            break;
        }
    }
    if client.is_handshaking() || server.is_handshaking() {
        return Err("handshake did not complete".into());
    }
    server
        .writer()
        .write_all(b"over the handshake")
        .expect("server write");
    let mut to_client = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut to_client).expect("server write_tls");
    }
    client
        .receive(&to_client, &mut plain)
        .map_err(|e| format!("client: {e}"))?;
    assert_eq!(plain, b"over the handshake");
    Ok(client)
}

fn expect_self_signed(client: &Engine, what: &str) {
    let code = client.verify_error().map(|e| e.code);
    assert_eq!(
        code,
        Some("DEPTH_ZERO_SELF_SIGNED_CERT"),
        "{what}: the chain verdict"
    );
}

#[test]
fn v1_certificates_complete_handshakes_in_memory() {
    for (name, f) in [
        ("P-256 v1", p256_v1()),
        ("P-384 v1", p384_v1()),
        ("Ed25519 v1", ed25519_v1()),
        ("RSA-2048 v1", rsa2048_v1()),
    ] {
        for version in [&TLS13, &TLS12] {
            let what = format!("{name}, {:?}", version.version);
            let client = handshake_in_memory(f, version).unwrap_or_else(|e| panic!("{what}: {e}"));
            expect_self_signed(&client, &what);
            assert_eq!(client.peer_certificates(), std::slice::from_ref(&f.cert));
        }
    }
}

// ---------------------------------------------------------------------------
// Whole handshakes: openssl s_server over loopback TCP
// ---------------------------------------------------------------------------

/// An `openssl s_server -rev` for one connection, killed when dropped.
struct SServer {
    child: Child,
    port: u16,
}

impl SServer {
    fn start(f: &Fixture, args: &[&str]) -> Self {
        let mut child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                "127.0.0.1:0",
                "-naccept",
                "1",
                "-rev",
                "-cert",
                "cert.der",
                "-certform",
                "DER",
                "-key",
                "key.pem",
                // Debian's default (level 2) refuses RSA keys under 2048 bits.
                "-cipher",
                "DEFAULT:@SECLEVEL=0",
            ])
            .args(args)
            .current_dir(&f.dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let stdout = child.stdout.take().expect("s_server stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => {
                    let _ = child.kill();
                    panic!("s_server exited before ACCEPT");
                }
            };
            if let Some(addr) = line.strip_prefix("ACCEPT ") {
                let port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
                break port.expect("s_server's port");
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        SServer { child, port }
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Handshakes with s_server, sends a line and reads it back reversed.
fn handshake_with_s_server(f: &Fixture, args: &[&str]) -> Result<Engine, String> {
    let server = SServer::start(f, args);
    let mut tcp = TcpStream::connect(("127.0.0.1", server.port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let mut client = client();
    let mut plain = Vec::new();
    let mut sent_line = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 16 * 1024];
    while Instant::now() < deadline {
        let mut out = Vec::new();
        client.take_output(&mut out);
        tcp.write_all(&out).map_err(|e| e.to_string())?;
        if !client.is_handshaking() && !sent_line {
            client
                .write(b"wasm-tls\n")
                .map_err(|e| format!("client write: {e}"))?;
            sent_line = true;
            continue;
        }
        if plain.windows(8).any(|w| w == b"slt-msaw") {
            return Ok(client);
        }
        match tcp.read(&mut buf) {
            Ok(0) => return Err("s_server closed the connection".into()),
            Ok(n) => {
                client
                    .receive(&buf[..n], &mut plain)
                    .map_err(|e| format!("client: {e}"))?;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "no echo from s_server (handshaking: {})",
        client.is_handshaking()
    ))
}

#[test]
fn rsa1024_handshakes_with_openssl_s_server() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "TLS 1.3, RSA-PSS SHA-256",
            &["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"],
        ),
        (
            "TLS 1.3, RSA-PSS SHA-384",
            &["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha384"],
        ),
        (
            "TLS 1.2, PKCS#1 SHA-256",
            &["-tls1_2", "-sigalgs", "RSA+SHA256"],
        ),
        (
            "TLS 1.2, PKCS#1 SHA-512",
            &["-tls1_2", "-sigalgs", "RSA+SHA512"],
        ),
        (
            "TLS 1.2, RSA-PSS SHA-256",
            &["-tls1_2", "-sigalgs", "rsa_pss_rsae_sha256"],
        ),
    ];
    for (what, args) in cases {
        let client =
            handshake_with_s_server(rsa1024(), args).unwrap_or_else(|e| panic!("{what}: {e}"));
        expect_self_signed(&client, what);
    }
    // And a v1 certificate with a small key.
    let client = handshake_with_s_server(rsa1032_v1(), &["-tls1_3"])
        .unwrap_or_else(|e| panic!("RSA-1032 v1, TLS 1.3: {e}"));
    expect_self_signed(&client, "RSA-1032 v1");
}
