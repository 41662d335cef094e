//! The sans-I/O `Engine` driven against an in-memory rustls server: bytes are
//! pumped between the two in a loop, with no sockets. Certificates come from
//! rcgen (ECDSA P-256), so the TLS 1.2 suites in play are the ECDHE-ECDSA ones.

use std::io::{ErrorKind, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::ring as ring_provider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::version::{TLS12, TLS13};
use rustls::{
    CipherSuite, ServerConfig, ServerConnection, SupportedCipherSuite, SupportedProtocolVersion,
};
use wasm_tls::context::{ContextOptions, SecureContext};
use wasm_tls::engine::{ConnectOptions, Engine, Progress};
use wasm_tls::error::TlsError;

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

/// A certificate and the key it certifies.
struct Issued {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Issued {
    fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }
}

/// Parameters with a distinct subject (rcgen's default name is shared by every
/// certificate, which would make every one of them look self-issued).
fn params(common_name: &str, dns_names: &[&str]) -> CertificateParams {
    let names: Vec<String> = dns_names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("certificate parameters");
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, common_name);
    params.distinguished_name = subject;
    params
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = params(common_name, &[]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn leaf_params(common_name: &str) -> CertificateParams {
    params(common_name, &["localhost"])
}

fn self_signed(params: CertificateParams) -> Issued {
    let key = KeyPair::generate().expect("key pair");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    Issued { cert, key }
}

fn signed_by(params: CertificateParams, issuer: &Issued) -> Issued {
    let key = KeyPair::generate().expect("key pair");
    let cert = params
        .signed_by(&key, &issuer.cert, &issuer.key)
        .expect("signed certificate");
    Issued { cert, key }
}

/// The shared fixture: a CA and a "localhost" leaf it signed.
struct Pki {
    ca: Issued,
    leaf: Issued,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca = self_signed(ca_params("wasm-tls test CA"));
        let leaf = signed_by(leaf_params("localhost"), &ca);
        Pki { ca, leaf }
    })
}

// ---------------------------------------------------------------------------
// Server and client configuration
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct ServerSetup {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    versions: Vec<&'static SupportedProtocolVersion>,
    suites: Option<Vec<SupportedCipherSuite>>,
    alpn: Vec<Vec<u8>>,
    half_rtt: bool,
}

impl ServerSetup {
    /// A server presenting `chain` (leaf first) with the leaf's key.
    fn new(chain: &[&Issued]) -> Self {
        ServerSetup {
            chain: chain.iter().map(|c| c.der()).collect(),
            key: chain[0].key.serialize_der(),
            versions: vec![&TLS13, &TLS12],
            suites: None,
            alpn: Vec::new(),
            half_rtt: false,
        }
    }

    /// The fixture's leaf, alone.
    fn localhost() -> Self {
        ServerSetup::new(&[&pki().leaf])
    }

    fn versions(mut self, versions: &[&'static SupportedProtocolVersion]) -> Self {
        self.versions = versions.to_vec();
        self
    }

    fn suite(mut self, suite: CipherSuite) -> Self {
        let found = ring_provider::ALL_CIPHER_SUITES
            .iter()
            .find(|s| s.suite() == suite)
            .copied()
            .expect("suite offered by the ring provider");
        self.suites = Some(vec![found]);
        self
    }

    fn alpn(mut self, protocols: &[&str]) -> Self {
        self.alpn = protocols.iter().map(|p| p.as_bytes().to_vec()).collect();
        self
    }

    /// TLS 1.3: send data written before the handshake right after the server's Finished.
    fn half_rtt(mut self) -> Self {
        self.half_rtt = true;
        self
    }

    fn config(&self) -> Arc<ServerConfig> {
        let mut provider = ring_provider::default_provider();
        if let Some(suites) = &self.suites {
            provider.cipher_suites = suites.clone();
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&self.versions)
            .expect("server versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .expect("server certificate");
        config.alpn_protocols = self.alpn.clone();
        config.send_half_rtt_data = self.half_rtt;
        Arc::new(config)
    }
}

/// Context options trusting exactly `cas`.
fn trusting(cas: &[&Issued]) -> ContextOptions {
    ContextOptions {
        ca: Some(cas.iter().map(|c| c.pem()).collect()),
        ..Default::default()
    }
}

/// No `ca`: Mozilla's roots, handed to the engine as the JS side does (src/roots.rs).
fn mozilla_roots() -> ContextOptions {
    let anchors = wasm_tls::roots::encode_anchors(webpki_roots::TLS_SERVER_ROOTS).unwrap();
    wasm_tls::roots::set_default_roots(&anchors).unwrap();
    ContextOptions::default()
}

fn trusting_test_ca() -> ContextOptions {
    trusting(&[&pki().ca])
}

fn alpn(protocols: &[&str]) -> ConnectOptions {
    ConnectOptions {
        alpn_protocols: protocols.iter().map(|p| p.to_string()).collect(),
        ..Default::default()
    }
}

fn version_name(version: &SupportedProtocolVersion) -> &'static str {
    if version.version == TLS13.version {
        "TLSv1.3"
    } else {
        "TLSv1.2"
    }
}

fn engine(options: ContextOptions, connect: ConnectOptions) -> Engine {
    let context = SecureContext::new(&options).expect("secure context");
    match Engine::client(Arc::new(context), connect) {
        Ok(engine) => engine,
        Err(e) => panic!("Engine::client failed: {e}"),
    }
}

/// Deterministic, non-repeating-looking test data.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + seed * 13) % 251) as u8)
        .collect()
}

// ---------------------------------------------------------------------------
// The pump
// ---------------------------------------------------------------------------

/// An `Engine` client and a rustls server, wired together in memory.
struct Pair {
    client: Engine,
    server: ServerConnection,
    /// Plaintext the client has decrypted.
    client_plain: Vec<u8>,
    /// Plaintext the server has decrypted.
    server_plain: Vec<u8>,
    /// How many `receive` calls said `handshake_done`.
    handshake_reports: usize,
    server_error: Option<rustls::Error>,
    /// The server saw the client's close_notify.
    server_saw_close: bool,
}

impl Pair {
    fn new(options: ContextOptions, connect: ConnectOptions, server: &ServerSetup) -> Self {
        let mut server = ServerConnection::new(server.config()).expect("server connection");
        server.set_buffer_limit(None);
        Pair {
            client: engine(options, connect),
            server,
            client_plain: Vec::new(),
            server_plain: Vec::new(),
            handshake_reports: 0,
            server_error: None,
            server_saw_close: false,
        }
    }

    fn client_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.client.take_output(&mut out);
        out
    }

    fn server_output(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.server.wants_write() {
            if self.server.write_tls(&mut out).expect("server write_tls") == 0 {
                break;
            }
        }
        out
    }

    /// Feeds the server; a server error is recorded (its alert stays queued).
    fn feed_server(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.server_error.is_none() && !self.server_saw_close {
            if self.server.read_tls(&mut bytes).expect("server read_tls") == 0 {
                break;
            }
            if let Err(e) = self.server.process_new_packets() {
                self.server_error = Some(e);
                return;
            }
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match self.server.reader().read(&mut chunk) {
                    Ok(0) => {
                        self.server_saw_close = true;
                        break;
                    }
                    Ok(n) => self.server_plain.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("server read: {e}"),
                }
            }
        }
    }

    fn feed_client(&mut self, bytes: &[u8]) -> Result<Progress, TlsError> {
        let before = self.client_plain.len();
        let progress = self.client.receive(bytes, &mut self.client_plain)?;
        if progress.handshake_done {
            self.handshake_reports += 1;
        }
        assert!(
            self.client_plain.len() == before || self.handshake_reports == 1,
            "plaintext delivered before handshake_done"
        );
        Ok(progress)
    }

    /// Moves bytes both ways until neither side has anything to send.
    fn pump(&mut self) -> Result<(), TlsError> {
        for _ in 0..1000 {
            let from_client = self.client_output();
            self.feed_server(&from_client);
            let from_server = self.server_output();
            if !from_server.is_empty() {
                self.feed_client(&from_server)?;
            }
            if from_client.is_empty() && from_server.is_empty() {
                return Ok(());
            }
        }
        panic!("the connection never went quiet");
    }

    /// Pumps and insists the handshake completed on both sides.
    fn handshake(&mut self) {
        if let Err(e) = self.pump() {
            panic!("handshake failed: {e}");
        }
        assert!(!self.client.is_handshaking(), "client still handshaking");
        assert!(!self.server.is_handshaking(), "server still handshaking");
        assert_eq!(self.handshake_reports, 1);
        assert!(self.server_error.is_none(), "{:?}", self.server_error);
    }

    /// The client's ClientHello goes to the server; the server's first flight
    /// comes back, not yet given to the client.
    fn first_server_flight(&mut self) -> Vec<u8> {
        let hello = self.client_output();
        assert!(!hello.is_empty(), "client sent no ClientHello");
        self.feed_server(&hello);
        assert!(self.server_error.is_none(), "{:?}", self.server_error);
        let flight = self.server_output();
        assert!(!flight.is_empty(), "server sent no first flight");
        flight
    }

    fn server_write(&mut self, data: &[u8]) {
        self.server.writer().write_all(data).expect("server write");
    }

    fn client_write(&mut self, data: &[u8]) {
        if let Err(e) = self.client.write(data) {
            panic!("client write failed: {e}");
        }
    }
}

/// Runs the handshake against `server` and returns the client's error code.
fn handshake_error(
    options: ContextOptions,
    connect: ConnectOptions,
    server: &ServerSetup,
) -> String {
    let mut pair = Pair::new(options, connect, server);
    match pair.pump() {
        Ok(()) => panic!(
            "handshake unexpectedly succeeded ({:?}; server error {:?})",
            pair.client.protocol(),
            pair.server_error
        ),
        Err(e) => {
            assert_eq!(pair.handshake_reports, 0);
            e.code
        }
    }
}

// ---------------------------------------------------------------------------
// 1. Handshake
// ---------------------------------------------------------------------------

fn check_handshake(
    version: &'static SupportedProtocolVersion,
    suite: CipherSuite,
    names: (&str, &str),
) {
    let server = ServerSetup::localhost()
        .versions(&[version])
        .suite(suite)
        .alpn(&["h2", "http/1.1"]);
    let mut pair = Pair::new(trusting_test_ca(), alpn(&["http/1.1"]), &server);

    assert_eq!(pair.client.protocol(), None);
    assert_eq!(pair.client.cipher(), None);
    assert!(pair.client.is_handshaking());

    pair.handshake();

    let protocol = version_name(version);
    assert_eq!(pair.client.protocol(), Some(protocol));
    let cipher = pair.client.cipher().expect("negotiated cipher");
    assert_eq!(cipher.name, names.0);
    assert_eq!(cipher.standard_name, names.1);
    assert_eq!(cipher.version, protocol);
    assert_eq!(pair.client.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(pair.server.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(pair.client.verify_error(), None);
    assert_eq!(pair.client.peer_certificates(), &[pki().leaf.der()][..]);

    // Traffic after the handshake never reports it again.
    pair.server_write(b"ping");
    pair.pump().expect("data");
    pair.client_write(b"pong");
    pair.pump().expect("data");
    assert_eq!(pair.client_plain, b"ping");
    assert_eq!(pair.server_plain, b"pong");
    assert_eq!(pair.handshake_reports, 1);
}

#[test]
fn tls13_handshake_reports_protocol_cipher_alpn_and_trust() {
    check_handshake(
        &TLS13,
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
        ),
    );
}

#[test]
fn tls12_handshake_reports_protocol_cipher_alpn_and_trust() {
    check_handshake(
        &TLS12,
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
    );
}

#[test]
fn every_ecdsa_suite_is_named_like_openssl() {
    let table: [(&'static SupportedProtocolVersion, CipherSuite, &str, &str); 6] = [
        (
            &TLS13,
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_128_GCM_SHA256",
        ),
        (
            &TLS13,
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_256_GCM_SHA384",
        ),
        (
            &TLS13,
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
        ),
        (
            &TLS12,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            &TLS12,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ),
        (
            &TLS12,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
    ];
    for (version, suite, name, standard_name) in table {
        let server = ServerSetup::localhost().versions(&[version]).suite(suite);
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        pair.handshake();
        let cipher = pair.client.cipher().expect("cipher");
        assert_eq!(
            (cipher.name, cipher.standard_name, cipher.version),
            (name, standard_name, version_name(version)),
            "{suite:?}"
        );
    }
}

#[test]
fn ciphers_option_chooses_the_negotiated_suite() {
    let options = ContextOptions {
        ciphers: Some("ECDHE-ECDSA-CHACHA20-POLY1305".into()),
        max_version: Some("TLSv1.2".into()),
        ..trusting_test_ca()
    };
    let mut pair = Pair::new(
        options,
        ConnectOptions::default(),
        &ServerSetup::localhost(),
    );
    pair.handshake();
    assert_eq!(pair.client.protocol(), Some("TLSv1.2"));
    assert_eq!(
        pair.client.cipher().map(|c| c.name),
        Some("ECDHE-ECDSA-CHACHA20-POLY1305")
    );
}

#[test]
fn default_handshake_is_tls13_without_alpn() {
    // No ALPN offered by the client: none negotiated even though the server has some.
    let server = ServerSetup::localhost().alpn(&["h2"]);
    let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
    pair.handshake();
    assert_eq!(pair.client.protocol(), Some("TLSv1.3"));
    assert_eq!(pair.client.alpn_protocol(), None);
    assert_eq!(pair.client.verify_error(), None);
}

#[test]
fn sni_is_sent_only_when_servername_is_given() {
    let connect = ConnectOptions {
        servername: Some("example.test".into()),
        ..Default::default()
    };
    let mut pair = Pair::new(trusting_test_ca(), connect, &ServerSetup::localhost());
    pair.handshake();
    assert_eq!(pair.server.server_name(), Some("example.test"));

    let mut pair = Pair::new(
        trusting_test_ca(),
        ConnectOptions::default(),
        &ServerSetup::localhost(),
    );
    pair.handshake();
    assert_eq!(pair.server.server_name(), None);

    // An address is not a host name: no SNI (RFC 6066), as in Node.
    let connect = ConnectOptions {
        servername: Some("127.0.0.1".into()),
        ..Default::default()
    };
    let mut pair = Pair::new(trusting_test_ca(), connect, &ServerSetup::localhost());
    pair.handshake();
    assert_eq!(pair.server.server_name(), None);
}

#[test]
fn handshake_done_is_reported_once_when_bytes_arrive_one_by_one() {
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::localhost().versions(&[version]);
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        for _ in 0..10 {
            let from_client = pair.client_output();
            pair.feed_server(&from_client);
            let from_server = pair.server_output();
            for byte in &from_server {
                pair.feed_client(std::slice::from_ref(byte))
                    .expect("byte-by-byte delivery");
            }
            if from_client.is_empty() && from_server.is_empty() {
                break;
            }
        }
        assert!(!pair.client.is_handshaking());
        assert_eq!(pair.handshake_reports, 1, "{}", version_name(version));
        assert_eq!(pair.client.verify_error(), None);
    }
}

// ---------------------------------------------------------------------------
// 2. Application data and closure
// ---------------------------------------------------------------------------

#[test]
fn one_mebibyte_each_way_in_one_write() {
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::localhost().versions(&[version]);
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        pair.handshake();

        let up = pattern(1 << 20, 1);
        pair.client_write(&up);
        pair.pump().expect("client to server");
        assert!(pair.server_plain == up, "server received different bytes");

        let down = pattern(1 << 20, 2);
        pair.server_write(&down);
        // All of it arrives in a single `receive` call.
        let wire = pair.server_output();
        assert!(wire.len() > down.len());
        pair.feed_client(&wire).expect("server to client");
        assert!(pair.client_plain == down, "client received different bytes");
        assert_eq!(pair.handshake_reports, 1);
    }
}

#[test]
fn many_small_writes_both_ways() {
    let server = ServerSetup::localhost();
    let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
    pair.handshake();

    let mut up = Vec::new();
    let mut down = Vec::new();
    for i in 0..2000 {
        let len = 1 + i % 97;
        let chunk = pattern(len, i);
        pair.client_write(&chunk);
        up.extend_from_slice(&chunk);
        let chunk = pattern(len, i + 5000);
        pair.server_write(&chunk);
        down.extend_from_slice(&chunk);
        // Sometimes deliver at once, sometimes let records pile up.
        if i % 7 == 0 {
            pair.pump().expect("pump");
        }
    }
    pair.pump().expect("pump");
    assert!(pair.server_plain == up, "server received different bytes");
    assert!(pair.client_plain == down, "client received different bytes");
    assert_eq!(pair.handshake_reports, 1);
}

#[test]
fn server_close_notify_reports_peer_closed() {
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::localhost().versions(&[version]);
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        pair.handshake();

        pair.server_write(b"last words");
        pair.server.send_close_notify();
        let wire = pair.server_output();
        let progress = pair.feed_client(&wire).expect("close_notify");
        assert!(progress.peer_closed);
        assert!(!progress.handshake_done);
        assert_eq!(pair.client_plain, b"last words");

        // Still reported by later calls.
        let progress = pair.feed_client(&[]).expect("after close");
        assert!(progress.peer_closed);

        // The client answers with its own close_notify.
        pair.client.close();
        pair.pump().expect("client close");
        assert!(pair.server_saw_close);
    }
}

#[test]
fn half_rtt_data_arrives_with_handshake_done() {
    let server = ServerSetup::localhost().versions(&[&TLS13]).half_rtt();
    let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
    pair.server_write(b"220 banner\r\n");
    let flight = pair.first_server_flight();
    let progress = pair
        .feed_client(&flight)
        .expect("flight with half-RTT data");
    assert!(progress.handshake_done);
    assert_eq!(pair.client_plain, b"220 banner\r\n");
    pair.handshake();
}

#[test]
fn key_update_from_server_keeps_data_flowing() {
    let server = ServerSetup::localhost().versions(&[&TLS13]);
    let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
    pair.handshake();
    for round in 0..3 {
        pair.server.refresh_traffic_keys().expect("key update");
        let down = pattern(5000, round);
        pair.server_write(&down);
        pair.pump().expect("after key update");
        let up = pattern(3000, round + 10);
        pair.client_write(&up);
        pair.pump().expect("after key update");
        assert!(pair.client_plain.ends_with(&down));
        assert!(pair.server_plain.ends_with(&up));
    }
    assert_eq!(pair.handshake_reports, 1);
}

#[test]
fn unauthenticated_close_notify_during_handshake_is_ignored() {
    let mut pair = Pair::new(
        trusting_test_ca(),
        ConnectOptions::default(),
        &ServerSetup::localhost(),
    );
    let _ = pair.first_server_flight();
    // A plaintext warning-level close_notify instead of the server's flight:
    // rustls only honours close_notify once application data may flow, so the
    // handshake just goes on waiting (the transport's EOF will end it).
    let progress = pair
        .feed_client(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00])
        .expect("close_notify is not an error");
    assert_eq!(progress, Progress::default());
    assert!(pair.client.is_handshaking());
    assert_eq!(pair.client.verify_error(), None);
}

/// Runs `f` on another thread; fails if it does not return within `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("did not return within {secs}s (hang)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("panicked on the worker thread"),
    }
}

/// A connection whose server has sent "bye" and close_notify, not yet delivered.
fn closing_pair() -> (Pair, Vec<u8>) {
    let mut pair = Pair::new(
        trusting_test_ca(),
        ConnectOptions::default(),
        &ServerSetup::localhost(),
    );
    pair.handshake();
    pair.server_write(b"bye");
    pair.server.send_close_notify();
    let wire = pair.server_output();
    (pair, wire)
}

#[test]
fn bytes_after_close_notify_are_ignored() {
    // RFC 8446 6.1: "Any data received after a closure alert has been received
    // MUST be ignored." (rustls discards it; the engine must return.)
    let junk = b"\x17\x03\x03\x00\x05hello".to_vec();

    // In a later call.
    let later = junk.clone();
    let (plain, progress) = within(10, move || {
        let (mut pair, wire) = closing_pair();
        assert!(pair.feed_client(&wire).expect("close_notify").peer_closed);
        let progress = pair.feed_client(&later).map_err(|e| e.code);
        (pair.client_plain, progress)
    });
    assert_eq!(plain, b"bye");
    assert!(progress.expect("ignored").peer_closed);

    // In the same call, more than rustls reads at once (4 KiB) after it.
    let (plain, progress) = within(10, move || {
        let (mut pair, mut wire) = closing_pair();
        for _ in 0..1000 {
            wire.extend_from_slice(&junk);
        }
        let progress = pair.feed_client(&wire).map_err(|e| e.code);
        (pair.client_plain, progress)
    });
    assert_eq!(plain, b"bye");
    assert!(progress.expect("ignored").peer_closed);
}

// ---------------------------------------------------------------------------
// 3. Verification codes
// ---------------------------------------------------------------------------

/// The client's verdict on `chain` (leaf first, sent as is), for TLS 1.3 and 1.2 alike.
fn verdict(options: impl Fn() -> ContextOptions, chain: &[&Issued]) -> Option<&'static str> {
    let mut codes = Vec::new();
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::new(chain).versions(&[version]);
        let mut pair = Pair::new(options(), ConnectOptions::default(), &server);
        // The handshake itself succeeds whatever the chain: the verdict is separate.
        pair.handshake();
        codes.push(pair.client.verify_error().map(|e| e.code));
    }
    assert_eq!(codes[0], codes[1], "TLS 1.3 and TLS 1.2 disagree");
    codes[0]
}

#[test]
fn trusted_ca_verifies() {
    assert_eq!(verdict(trusting_test_ca, &[&pki().leaf]), None);
    // The root sent along as well makes no difference.
    assert_eq!(verdict(trusting_test_ca, &[&pki().leaf, &pki().ca]), None);
}

#[test]
fn self_signed_leaf_with_default_roots_is_depth_zero_self_signed() {
    let leaf = self_signed(leaf_params("self-signed localhost"));
    assert_eq!(
        verdict(mozilla_roots, &[&leaf]),
        Some("DEPTH_ZERO_SELF_SIGNED_CERT")
    );
}

#[test]
fn leaf_from_unknown_ca_is_unable_to_verify_leaf_signature() {
    let unknown = self_signed(ca_params("unknown CA"));
    let leaf = signed_by(leaf_params("localhost"), &unknown);
    assert_eq!(
        verdict(trusting_test_ca, &[&leaf]),
        Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
    assert_eq!(
        verdict(mozilla_roots, &[&leaf]),
        Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
}

#[test]
fn leaf_and_intermediate_without_known_root_is_unable_to_get_issuer_locally() {
    let root = self_signed(ca_params("unknown root"));
    let intermediate = signed_by(ca_params("intermediate"), &root);
    let leaf = signed_by(leaf_params("localhost"), &intermediate);
    assert_eq!(
        verdict(trusting_test_ca, &[&leaf, &intermediate]),
        Some("UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
    );
}

#[test]
fn full_chain_with_untrusted_root_is_self_signed_in_chain() {
    let root = self_signed(ca_params("untrusted root"));
    let intermediate = signed_by(ca_params("intermediate"), &root);
    let leaf = signed_by(leaf_params("localhost"), &intermediate);
    assert_eq!(
        verdict(trusting_test_ca, &[&leaf, &intermediate, &root]),
        Some("SELF_SIGNED_CERT_IN_CHAIN")
    );
}

#[test]
fn chain_through_intermediate_to_trusted_root_verifies() {
    let root = self_signed(ca_params("trusted root"));
    let intermediate = signed_by(ca_params("intermediate"), &root);
    let leaf = signed_by(leaf_params("localhost"), &intermediate);
    let trust_root = || trusting(&[&root]);
    assert_eq!(verdict(trust_root, &[&leaf, &intermediate]), None);
    assert_eq!(verdict(trust_root, &[&leaf, &intermediate, &root]), None);
    // Without the intermediate, OpenSSL cannot verify the (only) certificate.
    assert_eq!(
        verdict(trust_root, &[&leaf]),
        Some("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    );
}

#[test]
fn expired_leaf_is_cert_has_expired() {
    let mut params = leaf_params("expired localhost");
    params.not_before = date_time_ymd(2000, 1, 1);
    params.not_after = date_time_ymd(2001, 1, 1);
    let leaf = signed_by(params, &pki().ca);
    assert_eq!(
        verdict(trusting_test_ca, &[&leaf]),
        Some("CERT_HAS_EXPIRED")
    );
}

#[test]
fn not_yet_valid_leaf_is_cert_not_yet_valid() {
    let mut params = leaf_params("future localhost");
    params.not_before = date_time_ymd(2090, 1, 1);
    params.not_after = date_time_ymd(2091, 1, 1);
    let leaf = signed_by(params, &pki().ca);
    assert_eq!(
        verdict(trusting_test_ca, &[&leaf]),
        Some("CERT_NOT_YET_VALID")
    );
}

#[test]
fn client_auth_only_leaf_is_invalid_purpose() {
    let mut params = leaf_params("client-only localhost");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = signed_by(params, &pki().ca);
    assert_eq!(verdict(trusting_test_ca, &[&leaf]), Some("INVALID_PURPOSE"));
}

#[test]
fn self_signed_ca_trusted_as_itself_verifies() {
    let mut params = ca_params("self-signed CA localhost");
    params.subject_alt_names = leaf_params("x").subject_alt_names;
    let cert = self_signed(params);
    let pem = cert.pem();
    let trust_itself = || ContextOptions {
        ca: Some(vec![pem.clone()]),
        ..Default::default()
    };
    assert_eq!(verdict(trust_itself, &[&cert]), None);
    // Not trusted, it is simply self-signed.
    assert_eq!(
        verdict(trusting_test_ca, &[&cert]),
        Some("DEPTH_ZERO_SELF_SIGNED_CERT")
    );
}

#[test]
fn self_signed_leaf_trusted_as_itself_verifies() {
    let cert = self_signed(leaf_params("self-signed localhost"));
    let pem = cert.pem();
    let trust_itself = || ContextOptions {
        ca: Some(vec![pem.clone()]),
        ..Default::default()
    };
    assert_eq!(verdict(trust_itself, &[&cert]), None);
}

#[test]
fn expired_self_signed_ca_trusted_as_itself_is_cert_has_expired() {
    let mut params = ca_params("expired self-signed CA");
    params.not_before = date_time_ymd(2000, 1, 1);
    params.not_after = date_time_ymd(2001, 1, 1);
    let cert = self_signed(params);
    let pem = cert.pem();
    let trust_itself = || ContextOptions {
        ca: Some(vec![pem.clone()]),
        ..Default::default()
    };
    assert_eq!(verdict(trust_itself, &[&cert]), Some("CERT_HAS_EXPIRED"));
}

#[test]
fn ca_option_accepts_several_certificates_in_one_pem_string() {
    let other = self_signed(ca_params("another CA"));
    let bundle = format!("{}{}", other.pem(), pki().ca.pem());
    let options = || ContextOptions {
        ca: Some(vec![bundle.clone()]),
        ..Default::default()
    };
    assert_eq!(verdict(options, &[&pki().leaf]), None);
}

// ---------------------------------------------------------------------------
// 4. Bad input
// ---------------------------------------------------------------------------

#[test]
fn junk_bytes_are_wrong_version_number_and_the_error_sticks() {
    let mut client = engine(trusting_test_ca(), ConnectOptions::default());
    let mut out = Vec::new();
    client.take_output(&mut out);
    assert!(!out.is_empty(), "no ClientHello");

    let mut plain = Vec::new();
    let err = client
        .receive(b"HTTP/1.1 400 Bad Request\r\n\r\n", &mut plain)
        .expect_err("junk must fail");
    assert_eq!(err.code, "ERR_SSL_WRONG_VERSION_NUMBER");
    assert_eq!(err.reason.as_deref(), Some("wrong version number"));

    // Whatever comes next, the same error comes back.
    let again = client
        .receive(b"\x16\x03\x03\x00\x00", &mut plain)
        .expect_err("still failed");
    assert_eq!(again, err);
    let again = client.receive(&[], &mut plain).expect_err("still failed");
    assert_eq!(again, err);
    let write = client.write(b"data").expect_err("write after failure");
    assert_eq!(write, err);
    assert!(plain.is_empty());
    // Draining output after the failure (an alert, perhaps) is fine.
    out.clear();
    client.take_output(&mut out);
}

#[test]
fn truncated_server_flight_is_incomplete_at_every_offset() {
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::localhost().versions(&[version]);
        let mut cut = 0;
        loop {
            // A fresh handshake each time (flights differ by a byte or two as
            // ECDSA signatures do).
            let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
            let flight = pair.first_server_flight();
            if cut >= flight.len() {
                break;
            }
            let progress = pair
                .feed_client(&flight[..cut])
                .unwrap_or_else(|e| panic!("{version:?} cut at {cut}: {e}"));
            assert!(!progress.handshake_done, "cut at {cut}");
            assert!(pair.client.is_handshaking(), "cut at {cut}");
            // The rest of the flight completes it.
            pair.feed_client(&flight[cut..])
                .unwrap_or_else(|e| panic!("{version:?} rest after {cut}: {e}"));
            pair.handshake();
            assert_eq!(pair.client.verify_error(), None);
            cut += 1;
        }
    }
}

/// What garbling each byte of a flight led to.
#[derive(Debug, Default)]
struct Outcomes {
    /// The garbled flight itself was refused.
    errors: usize,
    /// Refused later (e.g. the server's alert after Finished did not match).
    later_errors: usize,
    /// Waiting for bytes that will never come (e.g. a longer record length).
    incomplete: usize,
    /// Completed handshakes despite the change, where TLS says the byte is ignored.
    ignored: Vec<usize>,
    /// Completed handshakes despite a change that should have been noticed.
    unnoticed: Vec<usize>,
}

/// Offsets in `flight` whose change a client may not notice: the legacy
/// version of every record header (RFC 8446 5.1: "MUST be ignored for all
/// purposes") and, for TLS 1.3 protected records, the outer content type,
/// which rustls does not authenticate (its AEAD additional data is built from
/// constants, `make_tls13_aad`). Those are rustls' choices, not the engine's.
fn ignorable_offsets(flight: &[u8], version: &SupportedProtocolVersion) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at + 5 <= flight.len() {
        offsets.extend([at + 1, at + 2]);
        if version.version == TLS13.version && flight[at] == 0x17 {
            offsets.push(at);
        }
        let len = u16::from_be_bytes([flight[at + 3], flight[at + 4]]) as usize;
        at += 5 + len;
    }
    offsets
}

/// Runs one fresh handshake per offset of the server's first flight, with
/// that byte XORed with `mask`, and collects what happened.
fn garble_first_flight(version: &'static SupportedProtocolVersion, mask: u8) -> Outcomes {
    let server = ServerSetup::localhost().versions(&[version]);
    let mut outcomes = Outcomes::default();
    let mut offset = 0;
    loop {
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        let mut flight = pair.first_server_flight();
        if offset >= flight.len() {
            break;
        }
        let ignorable = ignorable_offsets(&flight, version).contains(&offset);
        flight[offset] ^= mask;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let first = pair.feed_client(&flight);
            if let Err(err) = &first {
                assert!(err.code.starts_with("ERR_SSL_"), "{err:?}");
                let again = pair.feed_client(b"\x15\x03\x03\x00\x02\x01\x00");
                assert_eq!(again.as_ref().err(), Some(err), "error did not stick");
            }
            // Whatever happened, the rest of the exchange must not panic either.
            let rest = pair.pump();
            (first.map(|_| ()), rest)
        }));
        let Ok((first, rest)) = result else {
            panic!("{version:?}: panic with byte {offset} ^ {mask:#04x}");
        };
        match (first, rest) {
            (Err(_), _) => outcomes.errors += 1,
            (Ok(()), Err(_)) => outcomes.later_errors += 1,
            (Ok(()), Ok(())) if pair.client.is_handshaking() => outcomes.incomplete += 1,
            (Ok(()), Ok(())) if ignorable => outcomes.ignored.push(offset),
            (Ok(()), Ok(())) => outcomes.unnoticed.push(offset),
        }
        offset += 1;
    }
    outcomes
}

#[test]
fn garbled_server_flight_never_panics() {
    for version in [&TLS13, &TLS12] {
        for mask in [0x01, 0x80, 0xff] {
            let outcomes = garble_first_flight(version, mask);
            assert!(outcomes.errors > 0, "{outcomes:?}");
            assert!(
                outcomes.unnoticed.is_empty(),
                "{version:?} ^ {mask:#04x}: changes went unnoticed: {outcomes:?}"
            );
        }
    }
}

#[test]
fn server_alerts_map_to_openssl_alert_codes() {
    let table = [
        (40u8, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"),
        (48, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA"),
        (70, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION"),
        (80, "ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR"),
        (112, "ERR_SSL_TLSV1_ALERT_UNRECOGNIZED_NAME"),
    ];
    for (description, code) in table {
        let mut pair = Pair::new(
            trusting_test_ca(),
            ConnectOptions::default(),
            &ServerSetup::localhost(),
        );
        let _ = pair.first_server_flight();
        // A plaintext fatal alert instead of the server's flight.
        let alert = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description];
        let err = pair.feed_client(&alert).expect_err("alert must fail");
        assert_eq!(err.code, code);
        assert_eq!(pair.feed_client(&[]).expect_err("sticks"), err);
    }
}

#[test]
fn no_shared_cipher_is_handshake_failure_alert() {
    // The client offers only an RSA suite; the server has an ECDSA key.
    let options = ContextOptions {
        ciphers: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
        max_version: Some("TLSv1.2".into()),
        ..trusting_test_ca()
    };
    let code = handshake_error(
        options,
        ConnectOptions::default(),
        &ServerSetup::localhost(),
    );
    assert_eq!(code, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
}

#[test]
fn alert_after_handshake_is_reported() {
    // A record the server cannot decrypt makes it send bad_record_mac.
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::localhost().versions(&[version]);
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        pair.handshake();
        pair.client_write(b"hello");
        let mut record = pair.client_output();
        let last = record.len() - 1;
        record[last] ^= 1;
        pair.feed_server(&record);
        assert!(pair.server_error.is_some());
        let alert = pair.server_output();
        let err = pair.feed_client(&alert).expect_err("alert must fail");
        assert_eq!(err.code, "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC");
    }
}

#[test]
fn alpn_mismatch_is_no_application_protocol_alert() {
    for version in [&TLS13, &TLS12] {
        let server = ServerSetup::localhost().versions(&[version]).alpn(&["h2"]);
        let code = handshake_error(trusting_test_ca(), alpn(&["http/1.1"]), &server);
        assert_eq!(code, "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
    }
}

// ---------------------------------------------------------------------------
// 5. Option errors
// ---------------------------------------------------------------------------

#[test]
fn bad_ca_pem_is_pem_no_start_line() {
    let options = ContextOptions {
        ca: Some(vec!["this is not PEM".into()]),
        ..Default::default()
    };
    let err = SecureContext::new(&options).expect_err("bad ca");
    assert_eq!(err.code, "ERR_OSSL_PEM_NO_START_LINE");
}

#[test]
fn unknown_cipher_list_is_no_cipher_match() {
    let options = ContextOptions {
        ciphers: Some("RC4-MD5".into()),
        ..Default::default()
    };
    let err = SecureContext::new(&options).expect_err("bad ciphers");
    assert_eq!(err.code, "ERR_SSL_NO_CIPHER_MATCH");
}

#[test]
fn invalid_servername_is_invalid_arg() {
    let context = Arc::new(SecureContext::new(&ContextOptions::default()).expect("context"));
    let connect = ConnectOptions {
        servername: Some("not a host name!".into()),
        ..Default::default()
    };
    let err = Engine::client(context, connect)
        .err()
        .expect("bad servername");
    assert_eq!(err.code, "ERR_INVALID_ARG_VALUE");
}

#[test]
fn min_tls13_against_tls12_server_is_protocol_version_alert() {
    let options = ContextOptions {
        min_version: Some("TLSv1.3".into()),
        ..trusting_test_ca()
    };
    let server = ServerSetup::localhost().versions(&[&TLS12]);
    let code = handshake_error(options, ConnectOptions::default(), &server);
    assert_eq!(code, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
}

#[test]
fn max_tls12_against_tls13_server_is_protocol_version_alert() {
    let options = ContextOptions {
        max_version: Some("TLSv1.2".into()),
        ..trusting_test_ca()
    };
    let server = ServerSetup::localhost().versions(&[&TLS13]);
    let code = handshake_error(options, ConnectOptions::default(), &server);
    assert_eq!(code, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
}

// ---------------------------------------------------------------------------
// Records handed to the host after the handshake (src/records.rs), with the
// host played here by ring, as js/record-jobs.js plays it with WebCrypto.
// ---------------------------------------------------------------------------

mod host_records {
    use super::*;
    use ring::aead::{
        Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305,
    };
    use std::collections::VecDeque;

    const REKEY_SEEN: u32 = 1;

    /// An open job, held back so several are out at once (as with WebCrypto).
    struct Open {
        key: Vec<u8>,
        nonce: [u8; 12],
        aad: Vec<u8>,
        record: Vec<u8>,
        skip: usize,
        hint: u8,
    }

    /// The host's side of one engine: keys, received bytes, jobs out.
    #[derive(Default)]
    struct Host {
        keys: [Vec<u8>; 2],
        queue: Vec<u8>,
        opens: VecDeque<Open>,
        plain: Vec<u8>,
        flags: u32,
    }

    /// `raw` is [algorithm, key...] (src/records.rs `Aead` numbers).
    fn key(raw: &[u8]) -> LessSafeKey {
        let alg = match raw[0] {
            0 => &AES_128_GCM,
            1 => &AES_256_GCM,
            _ => &CHACHA20_POLY1305,
        };
        LessSafeKey::new(UnboundKey::new(alg, &raw[1..]).expect("AEAD key"))
    }

    struct Reader<'a>(&'a [u8]);
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> &'a [u8] {
            let (head, rest) = self.0.split_at(n);
            self.0 = rest;
            head
        }
        fn u8(&mut self) -> u8 {
            self.take(1)[0]
        }
        fn u32(&mut self) -> usize {
            u32::from_le_bytes(self.take(4).try_into().unwrap()) as usize
        }
    }

    impl Host {
        /// Runs the engine's jobs; sealed records go to `wire`, `data` feeds SEAL_DATA.
        fn run(&mut self, engine: &mut Engine, data: &[u8], wire: &mut Vec<u8>) {
            let mut jobs = Vec::new();
            engine.take_jobs(&mut jobs);
            let mut r = Reader(&jobs);
            let mut data_at = 0;
            while !r.0.is_empty() {
                match r.u8() {
                    1 => {
                        let direction = r.u8() as usize;
                        let alg = r.u8();
                        let len = r.u8() as usize;
                        self.keys[direction] = [&[alg], r.take(len)].concat();
                    }
                    kind @ (2 | 4) => {
                        let nonce: [u8; 12] = r.take(12).try_into().unwrap();
                        let aad_len = r.u8() as usize;
                        let aad = r.take(aad_len).to_vec();
                        let prefix_len = r.u8() as usize;
                        let prefix = r.take(prefix_len).to_vec();
                        let len = r.u32();
                        let mut plaintext = if kind == 2 {
                            r.take(len).to_vec()
                        } else {
                            let piece = data[data_at..data_at + len].to_vec();
                            data_at += len;
                            let suffix_len = r.u8() as usize;
                            [piece, r.take(suffix_len).to_vec()].concat()
                        };
                        key(&self.keys[0])
                            .seal_in_place_append_tag(
                                Nonce::assume_unique_for_key(nonce),
                                Aad::from(&aad),
                                &mut plaintext,
                            )
                            .expect("seal");
                        wire.extend_from_slice(&prefix);
                        wire.extend_from_slice(&plaintext);
                    }
                    3 => {
                        let nonce: [u8; 12] = r.take(12).try_into().unwrap();
                        let aad_len = r.u8() as usize;
                        let aad = r.take(aad_len).to_vec();
                        let skip = r.u8() as usize;
                        let len = r.u32();
                        let hint = r.u8();
                        let record: Vec<u8> = self.queue.drain(..len).collect();
                        self.opens.push_back(Open {
                            key: self.keys[1].clone(),
                            nonce,
                            aad,
                            record,
                            skip,
                            hint,
                        });
                    }
                    other => panic!("unknown job {other}"),
                }
            }
            assert_eq!(data_at, data.len(), "SEAL_DATA jobs took all the data");
        }

        /// Frames up to 8 records, then opens them in order, as the JS host does.
        fn receive(
            &mut self,
            engine: &mut Engine,
            bytes: &[u8],
            wire: &mut Vec<u8>,
        ) -> Result<(), TlsError> {
            self.queue.extend_from_slice(bytes);
            loop {
                while self.opens.len() < 8 {
                    let head = &self.queue[..self.queue.len().min(13)];
                    let whole = engine.frame(head, self.queue.len())?;
                    if whole == 0 || whole > self.queue.len() {
                        break;
                    }
                    self.run(engine, &[], wire);
                }
                let Some(open) = self.opens.pop_front() else {
                    return Ok(());
                };
                let mut body = open.record[open.skip..].to_vec();
                let opened = key(&open.key)
                    .open_in_place(
                        Nonce::assume_unique_for_key(open.nonce),
                        Aad::from(&open.aad),
                        &mut body,
                    )
                    .map(|p| p.to_vec());
                let progress = match opened {
                    Err(_) => engine.opened(None, &mut self.plain)?,
                    Ok(p) if open.hint == 0 => {
                        self.plain.extend_from_slice(&p);
                        engine.opened_data(p.len())?
                    }
                    Ok(p) if open.hint == 1 && p.last() == Some(&23) => {
                        self.plain.extend_from_slice(&p[..p.len() - 1]);
                        engine.opened_data(p.len() - 1)?
                    }
                    Ok(p) => engine.opened(Some(&p), &mut self.plain)?,
                };
                if progress.rekeyed {
                    self.flags |= REKEY_SEEN;
                    // Framed under the old key: back to the front of the queue, in order.
                    let stale: Vec<u8> = self.opens.drain(..).flat_map(|o| o.record).collect();
                    self.queue.splice(0..0, stale);
                }
                self.run(engine, &[], wire);
                if progress.peer_closed {
                    return Ok(());
                }
            }
        }
    }

    /// The Pair's client, with its records handed to `Host` once the engine does.
    struct HostPair {
        pair: Pair,
        host: Host,
        /// Records the client's host sealed, not yet given to the server.
        wire: Vec<u8>,
    }

    impl HostPair {
        fn new(server: &ServerSetup) -> Self {
            let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), server);
            pair.client.set_host_records(0b111);
            HostPair {
                pair,
                host: Host::default(),
                wire: Vec::new(),
            }
        }

        fn client_write(&mut self, data: &[u8]) {
            let taken = if self.pair.client.host_records() {
                0
            } else {
                self.pair.client.write(data).expect("write")
            };
            if taken < data.len() {
                let rest = &data[taken..];
                self.pair.client.write_plan(rest.len()).expect("write_plan");
                self.host.run(&mut self.pair.client, rest, &mut self.wire);
            }
        }

        fn pump(&mut self) -> Result<(), TlsError> {
            for _ in 0..1000 {
                let mut from_client = self.pair.client_output();
                self.host.run(&mut self.pair.client, &[], &mut self.wire);
                from_client.append(&mut self.wire);
                self.pair.feed_server(&from_client);
                let from_server = self.pair.server_output();
                if !from_server.is_empty() {
                    if self.pair.client.host_records() {
                        self.host
                            .receive(&mut self.pair.client, &from_server, &mut self.wire)?;
                    } else {
                        self.pair.feed_client(&from_server)?;
                        if self.pair.client.host_records() {
                            let received = self.pair.client.take_received();
                            self.host.run(&mut self.pair.client, &[], &mut self.wire);
                            self.host
                                .receive(&mut self.pair.client, &received, &mut self.wire)?;
                        }
                    }
                }
                if from_client.is_empty() && from_server.is_empty() && self.wire.is_empty() {
                    return Ok(());
                }
            }
            panic!("the connection never went quiet");
        }

        /// Everything the client has read, whoever decrypted it.
        fn client_plain(&self) -> Vec<u8> {
            [self.pair.client_plain.clone(), self.host.plain.clone()].concat()
        }
    }

    fn transfer_both_ways(server: ServerSetup) -> HostPair {
        let mut p = HostPair::new(&server);
        p.pump().expect("handshake");
        let mut down = Vec::new();
        let mut up = Vec::new();
        for round in 0..6 {
            let d = pattern(40_000 + round * 1000, round);
            p.pair.server_write(&d);
            down.extend_from_slice(&d);
            let u = pattern(70_000 + round, round + 50);
            p.client_write(&u);
            up.extend_from_slice(&u);
            p.pump().expect("transfer");
        }
        assert!(
            p.pair.client.host_records(),
            "the client handed its records over"
        );
        assert_eq!(p.client_plain(), down);
        assert_eq!(p.pair.server_plain, up);
        assert!(p.pair.server_error.is_none(), "{:?}", p.pair.server_error);
        p
    }

    #[test]
    fn every_suite_moves_data_both_ways_and_exports_like_rustls() {
        for (version, suite) in [
            (&TLS13, CipherSuite::TLS13_AES_128_GCM_SHA256),
            (&TLS13, CipherSuite::TLS13_AES_256_GCM_SHA384),
            (&TLS13, CipherSuite::TLS13_CHACHA20_POLY1305_SHA256),
            (&TLS12, CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
            (&TLS12, CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
            (
                &TLS12,
                CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            ),
        ] {
            let p = transfer_both_ways(ServerSetup::localhost().versions(&[version]).suite(suite));
            assert_eq!(p.pair.client.protocol(), Some(version_name(version)));
            for context in [None, Some(&b"context"[..])] {
                let ours = p
                    .pair
                    .client
                    .export_keying_material(40, b"EXPERIMENTAL-x", context)
                    .expect("exporter");
                let theirs = p
                    .pair
                    .server
                    .export_keying_material(vec![0; 40], b"EXPERIMENTAL-x", context)
                    .expect("exporter");
                assert_eq!(ours, theirs, "{suite:?} exporter, context {context:?}");
            }
        }
    }

    #[test]
    fn chacha20_stays_with_rustls_where_the_host_has_no_chacha20() {
        let server = ServerSetup::localhost()
            .versions(&[&TLS13])
            .suite(CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
        let mut p = HostPair::new(&server);
        p.pair.client.set_host_records(0b11); // WebCrypto: AES-GCM only
        p.pump().expect("handshake");
        p.pair.server_write(b"hello");
        p.client_write(&pattern(100_000, 1));
        p.pump().expect("transfer");
        assert!(!p.pair.client.host_records());
        assert_eq!(p.client_plain(), b"hello");
    }

    #[test]
    fn key_updates_both_ways_with_records_in_flight() {
        let server = ServerSetup::localhost().versions(&[&TLS13]);
        let mut p = transfer_both_ways(server);
        let mut down = p.client_plain();
        for round in 0..3 {
            // Records before and after the KeyUpdate arrive together: those after
            // it were framed under the old key and are framed again.
            let before = pattern(50_000, round);
            p.pair.server_write(&before);
            p.pair.server.refresh_traffic_keys().expect("key update");
            let after = pattern(60_000, round + 7);
            p.pair.server_write(&after);
            p.pump().expect("after the key update");
            down.extend_from_slice(&before);
            down.extend_from_slice(&after);
            let up = pattern(30_000, round + 3);
            p.client_write(&up);
            p.pump().expect("our records after our own key update");
            assert!(p.pair.server_plain.ends_with(&up));
        }
        assert_eq!(p.client_plain(), down);
        assert_eq!(p.host.flags & REKEY_SEEN, REKEY_SEEN);
        assert!(p.pair.server_error.is_none(), "{:?}", p.pair.server_error);
    }

    #[test]
    fn key_updates_rustls_saw_before_handing_over_are_followed() {
        let server = ServerSetup::localhost().versions(&[&TLS13]);
        let mut p = HostPair::new(&server);
        p.pump().expect("handshake");
        // Under rustls still (no data yet): both sides move to their next keys.
        p.pair.server.refresh_traffic_keys().expect("key update");
        p.pump().expect("key update under rustls");
        assert!(!p.pair.client.host_records());
        let down = pattern(200_000, 4);
        p.pair.server_write(&down);
        let up = pattern(150_000, 5);
        p.client_write(&up);
        p.pump().expect("after the handover");
        assert!(
            p.pair.client.host_records(),
            "handed over with updated keys"
        );
        assert_eq!(p.client_plain(), down);
        assert_eq!(p.pair.server_plain, up);
        assert!(p.pair.server_error.is_none(), "{:?}", p.pair.server_error);
    }

    #[test]
    fn close_notify_both_ways() {
        let mut p = transfer_both_ways(
            ServerSetup::localhost()
                .versions(&[&TLS12])
                .suite(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        );
        p.pair.client.close();
        p.pair.server.send_close_notify();
        p.pump().expect("close");
        assert!(p.pair.server_saw_close);
        assert!(p.host.opens.is_empty());
        // Writing after our close_notify is an error, not a record.
        assert!(p.pair.client.write_plan(10).is_err());
    }

    #[test]
    fn a_tampered_record_is_bad_record_mac_and_an_alert() {
        let mut p = transfer_both_ways(ServerSetup::localhost().versions(&[&TLS13]));
        p.pair.server_write(&pattern(1000, 9));
        let mut records = p.pair.server_output();
        let last = records.len() - 20;
        records[last] ^= 1;
        let err = p
            .host
            .receive(&mut p.pair.client, &records, &mut p.wire)
            .expect_err("tampered");
        assert_eq!(err.code, "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC");
        // The alert is sealed and sent; the server reads bad_record_mac.
        p.host.run(&mut p.pair.client, &[], &mut p.wire);
        let alert = std::mem::take(&mut p.wire);
        assert!(!alert.is_empty(), "an alert was sealed");
        p.pair.feed_server(&alert);
        assert!(
            matches!(
                p.pair.server_error,
                Some(rustls::Error::AlertReceived(
                    rustls::AlertDescription::BadRecordMac
                ))
            ),
            "{:?}",
            p.pair.server_error
        );
    }

    #[test]
    fn junk_after_the_handover_is_an_error_not_a_panic() {
        for junk in [
            &[0x17, 0x03, 0x03, 0xff, 0xff][..],
            &[0x16, 0x03, 0x03, 0, 20],
            &[0x17, 0x03, 0x01, 0, 40],
            &[0x17, 0x03, 0x03, 0, 3, 1, 2, 3],
            &[99, 3, 3, 0, 1, 0],
        ] {
            let mut p = transfer_both_ways(ServerSetup::localhost().versions(&[&TLS13]));
            let mut bytes = junk.to_vec();
            bytes.resize(bytes.len() + 64, 0);
            assert!(
                p.host
                    .receive(&mut p.pair.client, &bytes, &mut p.wire)
                    .is_err(),
                "{junk:?}"
            );
        }
    }
}

#[test]
fn host_records_tls13_client_keeps_the_tickets_before_handing_over() {
    let server = ServerSetup::localhost().versions(&[&TLS13]);
    let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
    pair.client.set_host_records(0b11);
    pair.handshake(); // the server's tickets come after its handshake
    assert!(
        !pair.client.host_records(),
        "no data yet: nothing handed over"
    );
    pair.server_write(&pattern(100_000, 3));
    let records = pair.server_output();
    pair.feed_client(&records).expect("data");
    assert!(pair.client.host_records(), "handed over once data flowed");
    assert!(
        !pair.client.take_new_sessions().is_empty(),
        "the tickets rustls read are kept"
    );
}

/// Before the records are handed over rustls reads them, but a header Node
/// refuses gets Node's error all the same (`HostRecords` judges them after).
#[test]
fn host_records_headers_are_judged_as_openssl_does_before_the_handover() {
    let cases: [(&'static SupportedProtocolVersion, [u8; 3], &str); 4] = [
        // TLS 1.3: the type is judged before the version.
        (&TLS13, [22, 3, 1], "ERR_SSL_BAD_RECORD_TYPE"),
        (&TLS13, [23, 3, 1], "ERR_SSL_WRONG_VERSION_NUMBER"),
        (&TLS12, [22, 3, 1], "ERR_SSL_WRONG_VERSION_NUMBER"),
        (&TLS12, [99, 5, 5], "ERR_SSL_WRONG_VERSION_NUMBER"),
    ];
    for (version, [kind, major, minor], code) in cases {
        let server = ServerSetup::localhost().versions(&[version]);
        let mut pair = Pair::new(trusting_test_ca(), ConnectOptions::default(), &server);
        pair.client.set_host_records(0b11);
        pair.handshake();
        assert!(!pair.client.host_records(), "still with rustls");
        pair.server_write(b"before");
        let mut bytes = pair.server_output();
        bytes.extend_from_slice(&[kind, major, minor, 0, 30]);
        bytes.extend_from_slice(&[5; 30]);
        let err = pair.feed_client(&bytes).expect_err("refused");
        assert_eq!(
            (version.version, err.code.as_str()),
            (version.version, code)
        );
        assert_eq!(pair.client_plain, b"before", "the data before it arrives");
    }
}
