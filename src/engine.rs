//! The sans-I/O connection: ciphertext in, plaintext out, plaintext in,
//! ciphertext out. It never does I/O, never sleeps and never panics; every
//! failure is a `TlsError` for this connection alone.

use std::io::{BufRead, ErrorKind, Write};
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConnection, Connection, ProtocolVersion};
use serde::{Deserialize, Serialize};

use crate::ciphers;
use crate::context::SecureContext;
use crate::error::TlsError;
use crate::session::SessionCapture;
use crate::verify::{verify_chain, VerifyError};

/// Per-connection options of `tls.connect()`, normalised by the JS layer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectOptions {
    /// The name to send as SNI (Node sends none unless `servername` is given).
    pub servername: Option<String>,
    /// ALPN protocol names, most preferred first.
    #[serde(default)]
    pub alpn_protocols: Vec<String>,
    /// A session handle from `getSession()` / a `'session'` event, to resume.
    #[serde(default, with = "serde_bytes")]
    pub session: Option<Vec<u8>>,
}

/// `getCipher()`'s object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CipherInfo {
    pub name: &'static str,
    pub standard_name: &'static str,
    pub version: &'static str,
}

/// What a call to `receive` changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The handshake completed during this call (reported once).
    pub handshake_done: bool,
    /// The peer sent close_notify: no more plaintext will come.
    pub peer_closed: bool,
}

/// Key log lines (NSS SSLKEYLOGFILE format, newline included) waiting for JS.
#[derive(Debug, Default)]
pub struct KeyLogLines(Mutex<Vec<String>>);

impl rustls::KeyLog for KeyLogLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!("{label} {} {}\n", hex(client_random), hex(secret)));
        }
    }
}

/// `getEphemeralKeyInfo()`'s object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EphemeralKeyInfo {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'static str,
    pub size: u32,
}

/// Largest plaintext per record (TLS maximum; `setMaxSendFragment` lowers it).
pub const MAX_FRAGMENT: usize = 16 * 1024;

pub struct Engine {
    conn: Connection,
    is_server: bool,
    /// Client side: the session offered and those received.
    sessions: Option<Arc<SessionCapture>>,
    /// Server side with a user session cache: the sessions made, for 'newSession'.
    external_sessions: Option<Arc<crate::server::ExternalSessions>>,
    key_log: Arc<KeyLogLines>,
    max_fragment: usize,
    context: Arc<SecureContext>,
    handshake_reported: bool,
    peer_closed: bool,
    verify_error: Option<VerifyError>,
    failed: Option<TlsError>,
    /// See `take_output`.
    openssl_alert_for_missing_cert: bool,
    /// Client side: the OCSP response the server stapled.
    ocsp_response: Option<Vec<u8>>,
}

fn protocol_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "unknown",
    }
}

impl Engine {
    /// Starts a client handshake; its first flight is ready in `take_output`.
    pub fn client(context: Arc<SecureContext>, options: ConnectOptions) -> Result<Self, TlsError> {
        let alpn = options
            .alpn_protocols
            .into_iter()
            .map(String::into_bytes)
            .collect();
        // As in Node, SNI is sent only when `servername` is given (and is a name,
        // not an address: RFC 6066). The chain is judged apart from any name, so
        // the name rustls holds only keys its state.
        let server_name = match options.servername.as_deref() {
            Some(name) => ServerName::try_from(name)
                .map_err(|_| TlsError::invalid_arg(format!("invalid servername: {name:?}")))?
                .to_owned(),
            None => ServerName::try_from("localhost")
                .map_err(|_| TlsError::invalid_arg("invalid servername"))?,
        };
        let send_sni =
            options.servername.is_some() && matches!(server_name, ServerName::DnsName(_));
        let key_log = Arc::new(KeyLogLines::default());
        let mut config = context.client_config(alpn, send_sni)?;
        config.key_log = key_log.clone();
        let sessions = Arc::new(SessionCapture::offering(options.session.as_deref()));
        config.resumption = rustls::client::Resumption::store(sessions.clone());
        let config = Arc::new(config);
        let conn = ClientConnection::new(config, server_name).map_err(TlsError::from)?;
        Ok(Engine::new(
            conn.into(),
            Some(sessions),
            None,
            context,
            key_log,
        ))
    }

    /// A server connection that has read the ClientHello (see `server::ServerAcceptor`).
    pub fn from_server(
        conn: rustls::ServerConnection,
        context: Arc<SecureContext>,
        key_log: Arc<KeyLogLines>,
        external_sessions: Option<Arc<crate::server::ExternalSessions>>,
    ) -> Self {
        Engine::new(conn.into(), None, external_sessions, context, key_log)
    }

    fn new(
        mut conn: Connection,
        sessions: Option<Arc<SessionCapture>>,
        external_sessions: Option<Arc<crate::server::ExternalSessions>>,
        context: Arc<SecureContext>,
        key_log: Arc<KeyLogLines>,
    ) -> Self {
        // Backpressure is the JS layer's job: it drains output after every call.
        conn.set_buffer_limit(None);
        Engine {
            is_server: matches!(conn, Connection::Server(_)),
            conn,
            sessions,
            external_sessions,
            key_log,
            max_fragment: MAX_FRAGMENT,
            context,
            handshake_reported: false,
            peer_closed: false,
            verify_error: None,
            failed: None,
            openssl_alert_for_missing_cert: false,
            ocsp_response: None,
        }
    }

    /// Session handles the server gave us since the last call (client side).
    pub fn take_new_sessions(&self) -> Vec<Vec<u8>> {
        self.sessions
            .as_ref()
            .map(|s| s.take_new())
            .unwrap_or_default()
    }

    /// `(id, data)` of server sessions made since the last call, for 'newSession'.
    pub fn take_new_server_sessions(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.external_sessions
            .as_ref()
            .map(|s| s.take_new())
            .unwrap_or_default()
    }

    pub fn is_session_reused(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// The OCSP response the server stapled (client side).
    pub fn ocsp_response(&self) -> Option<&[u8]> {
        self.ocsp_response.as_deref()
    }

    pub fn is_server(&self) -> bool {
        self.is_server
    }

    /// The SNI the client sent (server side).
    pub fn servername(&self) -> Option<&str> {
        match &self.conn {
            Connection::Server(s) => s.server_name(),
            Connection::Client(_) => None,
        }
    }

    /// Feeds bytes from the transport; decrypted application data is appended to `plaintext`.
    pub fn receive(
        &mut self,
        mut data: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<Progress, TlsError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut progress = Progress::default();
        // At least one pass, even for no bytes: records that came behind the
        // ClientHello wait in rustls, and are judged now rather than at the next read.
        // (read_tls is not called without bytes: rustls takes a 0-byte read as EOF.)
        let mut first = true;
        while first || !data.is_empty() {
            first = false;
            if !data.is_empty() {
                match self.conn.read_tls(&mut data) {
                    // rustls takes nothing once close_notify has arrived: what follows
                    // it is ignored (RFC 8446, 6.1), and must not spin this loop.
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        return Err(
                            self.fail(TlsError::new("ERR_SSL_INTERNAL_ERROR", e.to_string()))
                        )
                    }
                }
            }
            let processed = self.conn.process_new_packets();
            if let Some(ocsp) = crate::verify::take_stapled_ocsp() {
                self.ocsp_response = Some(ocsp);
            }
            if let Err(e) = processed {
                self.openssl_alert_for_missing_cert =
                    matches!(e, rustls::Error::NoCertificatesPresented)
                        && self.conn.protocol_version() == Some(ProtocolVersion::TLSv1_2);
                // Records before the bad one were decrypted: hand their data over
                // first, as OpenSSL does, so the application gets all the peer sent.
                let _ = self.drain_plaintext(plaintext);
                let err = self.record_error(e);
                return Err(self.fail(err));
            }
            self.drain_plaintext(plaintext)?;
        }
        if !self.handshake_reported && !self.conn.is_handshaking() {
            self.handshake_reported = true;
            progress.handshake_done = true;
            self.verify_error = self.judge_peer_chain();
        }
        progress.peer_closed = self.peer_closed;
        Ok(progress)
    }

    fn drain_plaintext(&mut self, out: &mut Vec<u8>) -> Result<(), TlsError> {
        // Straight from rustls' buffer, one copy.
        let mut reader = self.conn.reader();
        loop {
            match reader.fill_buf() {
                Ok([]) => {
                    self.peer_closed = true;
                    return Ok(());
                }
                Ok(chunk) => {
                    let n = chunk.len();
                    out.extend_from_slice(chunk);
                    reader.consume(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // UnexpectedEof only follows a transport EOF, which we never feed.
                Err(e) => return Err(self.fail(TlsError::new("ECONNRESET", e.to_string()))),
            }
        }
    }

    fn fail(&mut self, err: TlsError) -> TlsError {
        self.failed = Some(err.clone());
        err
    }

    fn judge_peer_chain(&self) -> Option<VerifyError> {
        let chain: &[CertificateDer<'static>] = self.conn.peer_certificates().unwrap_or_default();
        let now = UnixTime::now();
        let usage = if self.is_server {
            webpki::KeyUsage::client_auth()
        } else {
            webpki::KeyUsage::server_auth()
        };
        verify_chain(
            chain,
            &self.context.roots,
            &self.context.ca_certs,
            &self.context.crls,
            now,
            &self.context.provider.signature_verification_algorithms,
            usage,
        )
    }

    /// Encrypts application data. The JS layer only writes after the handshake
    /// has been verified, so nothing reaches an unverified peer.
    pub fn write(&mut self, data: &[u8]) -> Result<(), TlsError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        // Each writer call seals its data into records of at most `max_fragment`.
        for piece in data.chunks(self.max_fragment) {
            self.conn
                .writer()
                .write_all(piece)
                .map_err(|e| TlsError::new("ERR_SSL_INTERNAL_ERROR", e.to_string()))?;
        }
        Ok(())
    }

    /// `setMaxSendFragment`: Node's range is 512..=16384.
    pub fn set_max_fragment(&mut self, size: usize) -> bool {
        if !(512..=MAX_FRAGMENT).contains(&size) {
            return false;
        }
        self.max_fragment = size;
        true
    }

    /// Key log lines produced since the last call.
    pub fn take_key_log(&mut self) -> Vec<String> {
        self.key_log
            .0
            .lock()
            .map(|mut lines| std::mem::take(&mut *lines))
            .unwrap_or_default()
    }

    /// RFC 5705 / RFC 8446 exporter (`exportKeyingMaterial`).
    pub fn export_keying_material(
        &self,
        length: usize,
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<Vec<u8>, TlsError> {
        // Any length JS allows must end in an error, not an allocation abort.
        let mut out = Vec::new();
        out.try_reserve_exact(length)
            .map_err(|e| TlsError::new("ERR_OUT_OF_MEMORY", e.to_string()))?;
        out.resize(length, 0);
        self.conn
            .export_keying_material(out, label, context)
            .map_err(|e| TlsError::new("ERR_TLS_EXPORT_KEYING_MATERIAL", e.to_string()))
    }

    /// The group of the (EC)DHE exchange, in Node's terms.
    pub fn ephemeral_key_info(&self) -> Option<EphemeralKeyInfo> {
        if self.is_server {
            return None; // Node: only on a client socket
        }
        let group = self.conn.negotiated_key_exchange_group()?.name();
        let (name, size) = match group {
            rustls::NamedGroup::X25519 => ("X25519", 253),
            rustls::NamedGroup::secp256r1 => ("prime256v1", 256),
            rustls::NamedGroup::secp384r1 => ("secp384r1", 384),
            rustls::NamedGroup::secp521r1 => ("secp521r1", 521),
            _ => ("unknown", 0),
        };
        Some(EphemeralKeyInfo {
            kind: "ECDH",
            name,
            size,
        })
    }

    /// Moves pending ciphertext (handshake, records, alerts) into `out`.
    pub fn take_output(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        while self.conn.wants_write() {
            match self.conn.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if std::mem::take(&mut self.openssl_alert_for_missing_cert) {
            // A TLS 1.2 client that sent no certificate to a server that requires
            // one: rustls alerts certificate_required (a TLS 1.3 alert), OpenSSL
            // handshake_failure, which is what Node's clients report. The alert
            // is still a plaintext record here (no ChangeCipherSpec yet).
            const CERTIFICATE_REQUIRED: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 116];
            if let Some(tail) = out.get_mut(start..) {
                if let Some(pos) = tail.windows(7).position(|w| w == CERTIFICATE_REQUIRED) {
                    if let Some(byte) = tail.get_mut(pos + 6) {
                        *byte = u8::from(rustls::AlertDescription::HandshakeFailure);
                    }
                }
            }
        }
    }

    /// Queues close_notify.
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }

    /// OpenSSL's wording for a record that fails authentication depends on the
    /// cipher: TLS 1.2 AES-GCM says "cipher operation failed" (checked against node:tls).
    fn record_error(&self, e: rustls::Error) -> TlsError {
        let tls12_gcm = self.conn.negotiated_cipher_suite().is_some_and(|s| {
            s.version().version == ProtocolVersion::TLSv1_2
                && ciphers::names(s.suite()).0.contains("-GCM-")
        });
        match e {
            rustls::Error::DecryptError if tls12_gcm => TlsError::ssl("cipher operation failed"),
            e => e.into(),
        }
    }

    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    pub fn protocol(&self) -> Option<&'static str> {
        self.conn.protocol_version().map(protocol_name)
    }

    pub fn cipher(&self) -> Option<CipherInfo> {
        let suite = self.conn.negotiated_cipher_suite()?;
        let (name, standard_name) = ciphers::names(suite.suite());
        Some(CipherInfo {
            name,
            standard_name,
            version: protocol_name(suite.version().version),
        })
    }

    /// Whether the negotiated suite's records are protected by the host's crypto.
    #[cfg(target_arch = "wasm32")]
    pub fn host_crypto(&self) -> bool {
        self.conn
            .negotiated_cipher_suite()
            .is_some_and(crate::host::is_host_suite)
    }

    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        self.conn.peer_certificates().unwrap_or_default()
    }

    /// Our own certificate (the leaf we present), if we have one.
    pub fn local_certificate(&self) -> Option<&[u8]> {
        let key = self.context.certified_keys.first()?;
        key.cert.first().map(|c| c.as_ref())
    }

    /// The detailed chain as Node builds it: from the leaf, each issuer found
    /// among the certificates sent or the trusted `ca` certificates.
    pub fn peer_chain_to_root(&self) -> Vec<&[u8]> {
        let sent: Vec<&[u8]> = self
            .peer_certificates()
            .iter()
            .map(|c| c.as_ref())
            .collect();
        let store: Vec<&[u8]> = self.context.ca_certs.iter().map(|c| c.as_ref()).collect();
        crate::certinfo::detailed_chain(&sent, &store)
    }

    /// OpenSSL's verdict on the peer's chain, once the handshake is done.
    pub fn verify_error(&self) -> Option<&VerifyError> {
        self.verify_error.as_ref()
    }
}
