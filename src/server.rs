//! The server side: an acceptor that reads the ClientHello first (so that the
//! JS layer can pick a context by SNI, possibly asynchronously, and run
//! ALPNCallback), then a rustls server connection configured from the chosen
//! context, wrapped in the same `Engine` as a client connection.

use std::sync::Arc;

use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{Acceptor, ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

use crate::context::SecureContext;
use crate::engine::Engine;
use crate::error::TlsError;
use crate::verify::HandshakeVerifier;

/// What the ClientHello asked for, as the JS layer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloInfo {
    /// SNI, if the client sent one.
    pub servername: Option<String>,
    /// ALPN names offered, in the client's order.
    pub alpn_protocols: Vec<String>,
    /// The client asked for a stapled OCSP response (status_request).
    pub ocsp_requested: bool,
    /// The session the client hopes to resume (for 'resumeSession').
    pub session_id: Option<Vec<u8>>,
}

/// Server options that apply to one connection, chosen once the ClientHello is known.
#[derive(Debug, Default)]
pub struct AcceptOptions {
    /// The server's ALPN preference list (or the one protocol ALPNCallback chose).
    pub alpn_protocols: Vec<String>,
    /// ALPNCallback declined every protocol: refuse with no_application_protocol.
    pub alpn_reject: bool,
    /// A DER OCSP response to staple (from the server's 'OCSPRequest' handler).
    pub ocsp_response: Option<Vec<u8>>,
    pub request_cert: bool,
    /// Node's honorCipherOrder: our cipher order wins over the client's.
    pub honor_cipher_order: bool,
    /// The server has 'newSession'/'resumeSession' listeners: sessions live in
    /// the user's cache (stateful, no self-contained tickets).
    pub external_sessions: bool,
    /// What 'resumeSession' found for the offered session: `[id, data]`.
    pub resumed_session: Option<(Vec<u8>, Vec<u8>)>,
    pub reject_unauthorized: bool,
}

/// Reads bytes until a whole ClientHello has arrived.
#[derive(Default)]
pub struct ServerAcceptor {
    acceptor: Acceptor,
    /// The records read so far, for what rustls' ClientHello does not expose.
    hello_records: Vec<u8>,
    accepted: Option<rustls::server::Accepted>,
    failed: Option<TlsError>,
    /// The connection's first bytes, until they tell whether a client spoke
    /// plaintext HTTP to us (which OpenSSL, so Node, reports by name).
    head: Vec<u8>,
}

/// OpenSSL's verdict on a connection that opens with plaintext HTTP: an error
/// named for it and no alert (the client would not understand one).
fn plaintext_http(head: &[u8]) -> Option<TlsError> {
    if head.starts_with(b"CONNE") {
        return Some(TlsError::ssl("https proxy request"));
    }
    [b"GET ", b"POST", b"HEAD", b"PUT "]
        .iter()
        .any(|method| head.starts_with(*method))
        .then(|| TlsError::ssl("http request"))
}

impl ServerAcceptor {
    /// Feeds bytes; returns the ClientHello's content once it is complete.
    /// An error carries the alert to send in `alert` (ciphertext).
    pub fn receive(
        &mut self,
        mut data: &[u8],
        alert: &mut Vec<u8>,
    ) -> Result<Option<ClientHelloInfo>, TlsError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.head.len() < 5 {
            let take = (5 - self.head.len()).min(data.len());
            self.head
                .extend_from_slice(data.get(..take).unwrap_or_default());
            if let Some(err) = plaintext_http(&self.head) {
                return Err(self.fail(err));
            }
        }
        while !data.is_empty() && self.accepted.is_none() {
            let before = data;
            match self.acceptor.read_tls(&mut data) {
                Ok(0) => break,
                Ok(n) => {
                    if self.hello_records.len() < MAX_HELLO_RECORDS {
                        self.hello_records
                            .extend_from_slice(before.get(..n).unwrap_or_default());
                    }
                }
                Err(e) => {
                    return Err(self.fail(TlsError::new("ERR_SSL_INTERNAL_ERROR", e.to_string())))
                }
            }
            match self.acceptor.accept() {
                Ok(None) => {}
                Ok(Some(accepted)) => self.accepted = Some(accepted),
                Err((err, mut queued)) => {
                    let _ = queued.write(alert);
                    return Err(self.fail(err.into()));
                }
            }
        }
        if !data.is_empty() {
            // A client sends nothing after its ClientHello until the server answers.
            return Err(self.fail(TlsError::ssl("unexpected message")));
        }
        let Some(accepted) = &self.accepted else {
            return Ok(None); // read the records once, when the hello is whole
        };
        let extras = hello_extras(&self.hello_records);
        Ok(Some(accepted).map(|a| ClientHelloInfo {
            ocsp_requested: extras.ocsp_requested,
            // The session a client offers: a TLS 1.3 ticket identity, else a TLS 1.2 id.
            session_id: extras
                .psk_identities
                .into_iter()
                .next()
                .or(Some(extras.session_id).filter(|id| !id.is_empty())),
            ..hello_info(&a.client_hello())
        }))
    }

    fn fail(&mut self, err: TlsError) -> TlsError {
        self.failed = Some(err.clone());
        err
    }

    /// How many bytes still to come finish the last record read (0 if it
    /// ended on a record boundary); None if that cannot be told.
    fn unaligned_tail(&self) -> Option<usize> {
        if self.hello_records.len() >= MAX_HELLO_RECORDS {
            return None; // not all kept
        }
        let mut rest = self.hello_records.as_slice();
        while !rest.is_empty() {
            let &[_, _, _, hi, lo] = rest.first_chunk::<5>()?;
            let len = 5 + usize::from(u16::from_be_bytes([hi, lo]));
            match rest.get(len..) {
                Some(next) => rest = next,
                None => return Some(len - rest.len()),
            }
        }
        Some(0)
    }

    /// Continues the handshake with `context`; the server's flight is ready in
    /// the engine's `take_output`. On error, the alert is in `alert`.
    pub fn accept(
        &mut self,
        context: Arc<SecureContext>,
        options: &AcceptOptions,
        alert: &mut Vec<u8>,
    ) -> Result<Engine, TlsError> {
        let accepted = self
            .accepted
            .take()
            .ok_or_else(|| TlsError::new("ERR_TLS_INVALID_STATE", "no ClientHello to answer"))?;
        let ServerSetup {
            config,
            key_log,
            external,
        } = server_config(&context, options)?;
        match accepted.into_connection(Arc::new(config)) {
            Ok(conn) => Ok(Engine::from_server(
                conn,
                context,
                key_log,
                external,
                self.unaligned_tail(),
            )),
            Err((err, mut queued)) => {
                let _ = queued.write(alert);
                Err(self.fail(err.into()))
            }
        }
    }
}

/// Enough for any ClientHello rustls accepts.
const MAX_HELLO_RECORDS: usize = 64 * 1024;

/// What rustls' `ClientHello` does not expose: whether status_request (5) is
/// there, the legacy session id, and the pre_shared_key (41) identities.
#[derive(Debug, Default, PartialEq, Eq)]
struct HelloExtras {
    ocsp_requested: bool,
    session_id: Vec<u8>,
    psk_identities: Vec<Vec<u8>>,
}

/// Reads the extras from the records of a ClientHello rustls has already
/// accepted as well-formed; anything inconsistent just yields less.
fn hello_extras(records: &[u8]) -> HelloExtras {
    // Join the handshake records' fragments.
    let mut handshake = Vec::new();
    let mut rest = records;
    while let (Some(&22), Some(len)) = (rest.first(), be16(rest.get(3..5))) {
        let Some(fragment) = rest.get(5..5 + len) else {
            break;
        };
        handshake.extend_from_slice(fragment);
        rest = rest.get(5 + len..).unwrap_or_default();
    }
    let mut extras = HelloExtras::default();
    let mut parse = || -> Option<()> {
        // msg_type(1) length(3) version(2) random(32)
        let mut p = handshake.get(38..)?;
        let session_id = usize::from(*p.first()?);
        extras.session_id = p.get(1..1 + session_id)?.to_vec();
        p = p.get(1 + session_id..)?;
        let suites = be16(p.get(..2))?;
        p = p.get(2 + suites..)?;
        let compression = usize::from(*p.first()?);
        p = p.get(1 + compression..)?;
        let extensions = be16(p.get(..2))?;
        let mut exts = p.get(2..2 + extensions)?;
        while exts.len() >= 4 {
            let kind = be16(exts.get(..2))?;
            let len = be16(exts.get(2..4))?;
            let body = exts.get(4..4 + len)?;
            match kind {
                5 => extras.ocsp_requested = true,
                41 => {
                    // identities<7..2^16-1>: identity<1..2^16-1>, obfuscated_ticket_age(4)
                    let list_len = be16(body.get(..2))?;
                    let mut list = body.get(2..2 + list_len)?;
                    while list.len() >= 2 {
                        let id_len = be16(list.get(..2))?;
                        extras
                            .psk_identities
                            .push(list.get(2..2 + id_len)?.to_vec());
                        list = list.get(2 + id_len + 4..)?;
                    }
                }
                _ => {}
            }
            exts = exts.get(4 + len..)?;
        }
        Some(())
    };
    let _ = parse();
    extras
}

fn be16(bytes: Option<&[u8]>) -> Option<usize> {
    match bytes? {
        [a, b] => Some(usize::from(u16::from_be_bytes([*a, *b]))),
        _ => None,
    }
}

fn hello_info(hello: &ClientHello<'_>) -> ClientHelloInfo {
    ClientHelloInfo {
        ocsp_requested: false,
        session_id: None,
        servername: hello.server_name().map(str::to_string),
        alpn_protocols: hello
            .alpn()
            .map(|names| {
                names
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// An ALPN name no client offers: setting it alone makes rustls refuse with
/// no_application_protocol, which is what Node does when ALPNCallback declines.
const NO_PROTOCOL: &[u8] = b"\0wasm-tls: no protocol";

/// A server config with the per-connection pieces the engine keeps hold of.
struct ServerSetup {
    config: ServerConfig,
    key_log: Arc<crate::engine::KeyLogLines>,
    external: Option<Arc<ExternalSessions>>,
}

fn server_config(
    context: &SecureContext,
    options: &AcceptOptions,
) -> Result<ServerSetup, TlsError> {
    let mut external = None;
    let builder = ServerConfig::builder_with_provider(context.provider.clone())
        .with_protocol_versions(&context.versions)
        .map_err(|_| TlsError::ssl("no protocols available"))?;
    let builder = if options.request_cert {
        let hints = context
            .roots
            .roots
            .iter()
            // A trust anchor keeps the Name without its SEQUENCE header; TLS wants it whole.
            .map(|ta| DistinguishedName::in_sequence(ta.subject.as_ref()))
            .collect();
        builder.with_client_cert_verifier(Arc::new(ClientAuth {
            mandatory: options.reject_unauthorized,
            hints,
            signatures: HandshakeVerifier::new(context.provider.signature_verification_algorithms),
        }))
    } else {
        builder.with_no_client_auth()
    };
    let keys = match &options.ocsp_response {
        // Stapled with whichever certificate is served, as OpenSSL does.
        Some(response) => context
            .certified_keys
            .iter()
            .map(|k| {
                let mut k = (**k).clone();
                k.ocsp = Some(response.clone());
                Arc::new(k)
            })
            .collect(),
        None => context.certified_keys.clone(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(CertByKeyType(keys)));
    config.alpn_protocols = if options.alpn_reject {
        vec![NO_PROTOCOL.to_vec()]
    } else {
        options
            .alpn_protocols
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect()
    };
    if options.external_sessions {
        let store = ExternalSessions::default();
        if let Some((id, data)) = &options.resumed_session {
            if let Ok(mut found) = store.found.lock() {
                *found = Some((id.to_vec(), data.to_vec()));
            }
        }
        let store = Arc::new(store);
        config.session_storage = store.clone();
        // Without a ticketer rustls issues stateful TLS 1.3 tickets from the store.
        config.ticketer = Arc::new(NoTickets);
        external = Some(store);
    } else {
        let sessions = context.server_sessions()?;
        config.session_storage = sessions.cache;
        config.ticketer = sessions.ticketer;
    }
    let key_log = Arc::new(crate::engine::KeyLogLines::default());
    config.key_log = key_log.clone();
    // The record layer may be handed to the host after the handshake (`records`).
    config.enable_secret_extraction = true;
    config.ignore_client_order = options.honor_cipher_order;
    Ok(ServerSetup {
        config,
        key_log,
        external,
    })
}

/// A server session store backed by the user's cache (Node's 'newSession' and
/// 'resumeSession'): rustls asks synchronously, so the session the client
/// offers is looked up before the handshake goes on, and new sessions are
/// collected for 'newSession' events.
#[derive(Debug, Default)]
pub struct ExternalSessions {
    found: std::sync::Mutex<Option<(Vec<u8>, Vec<u8>)>>,
    new: std::sync::Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl ExternalSessions {
    /// `(id, data)` of sessions made since the last call.
    pub fn take_new(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.new
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }
}

impl rustls::server::StoresServerSessions for ExternalSessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.new.lock().map(|mut n| n.push((key, value))).is_ok()
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let found = self.found.lock().ok()?;
        found
            .as_ref()
            .filter(|(id, _)| id.as_slice() == key)
            .map(|(_, data)| data.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut found = self.found.lock().ok()?;
        match found.take() {
            Some((id, data)) if id.as_slice() == key => Some(data),
            other => {
                *found = other;
                None
            }
        }
    }

    fn can_cache(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct NoTickets;

impl rustls::server::ProducesTickets for NoTickets {
    fn enabled(&self) -> bool {
        false
    }
    fn lifetime(&self) -> u32 {
        0
    }
    fn encrypt(&self, _plain: &[u8]) -> Option<Vec<u8>> {
        None
    }
    fn decrypt(&self, _cipher: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// Serves the first of our certificates whose key can sign with a scheme the
/// client accepts: RSA and EC side by side, as OpenSSL does.
#[derive(Debug)]
struct CertByKeyType(Vec<Arc<CertifiedKey>>);

impl ResolvesServerCert for CertByKeyType {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let schemes = hello.signature_schemes();
        // A TLS 1.2 client offering only ECDHE-RSA suites needs the RSA
        // certificate even if it could check an ECDSA signature (as OpenSSL
        // chooses); TLS 1.3 suites go with any key.
        let suites: Vec<rustls::SupportedCipherSuite> = hello
            .cipher_suites()
            .iter()
            .filter_map(|id| {
                rustls::crypto::ring::ALL_CIPHER_SUITES
                    .iter()
                    .find(|s| s.suite() == *id)
                    .copied()
            })
            .collect();
        let signs = |k: &&Arc<CertifiedKey>| k.key.choose_scheme(schemes).is_some();
        let suits = |k: &&Arc<CertifiedKey>| {
            suites
                .iter()
                .any(|s| s.usable_for_signature_algorithm(k.key.algorithm()))
        };
        self.0
            .iter()
            .find(|k| signs(k) && suits(k))
            .or_else(|| self.0.iter().find(signs))
            .cloned()
    }
}

/// Asks for a client certificate. As with the server's chain on the client
/// side, the chain is judged after the handshake (`authorized`,
/// `authorizationError`); handshake signatures are checked here. With
/// `rejectUnauthorized`, a missing certificate fails the handshake (OpenSSL's
/// SSL_VERIFY_FAIL_IF_NO_PEER_CERT, as Node sets it).
#[derive(Debug)]
struct ClientAuth {
    mandatory: bool,
    hints: Vec<DistinguishedName>,
    signatures: Arc<HandshakeVerifier>,
}

impl ClientCertVerifier for ClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
        use rustls::client::danger::ServerCertVerifier;
        self.signatures.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
        use rustls::client::danger::ServerCertVerifier;
        self.signatures.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        use rustls::client::danger::ServerCertVerifier;
        self.signatures.supported_verify_schemes()
    }
}
