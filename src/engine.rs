//! The sans-I/O connection: ciphertext in, plaintext out, plaintext in,
//! ciphertext out. It never does I/O, never sleeps and never panics; every
//! failure is a `TlsError` for this connection alone.

use std::io::{BufRead, ErrorKind, Write};
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConnection, Connection, ProtocolVersion};

use crate::ciphers;
use crate::context::SecureContext;
use crate::error::TlsError;
use crate::records::{Aead, HandshakeSecrets, HostRecords};
use crate::session::SessionCapture;
use crate::verify::{verify_chain, VerifyError};

/// Per-connection options of `tls.connect()`, normalised by the JS layer.
#[derive(Debug, Default)]
pub struct ConnectOptions {
    /// The name to send as SNI (Node sends none unless `servername` is given).
    pub servername: Option<String>,
    /// ALPN protocol names, most preferred first.
    pub alpn_protocols: Vec<String>,
    /// A session handle from `getSession()` / a `'session'` event, to resume.
    pub session: Option<Vec<u8>>,
}

/// `getCipher()`'s object.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// `opened` only: the open jobs still out are void (see `records`).
    pub rekeyed: bool,
}

/// Key log lines (NSS SSLKEYLOGFILE format, newline included) waiting for JS,
/// and the secrets the record layer needs if it leaves rustls (`records`).
#[derive(Default)]
pub struct KeyLogLines {
    lines: Mutex<Vec<String>>,
    secrets: Mutex<HandshakeSecrets>,
}

impl std::fmt::Debug for KeyLogLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyLogLines")
    }
}

impl rustls::KeyLog for KeyLogLines {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(format!("{label} {} {}\n", hex(client_random), hex(secret)));
        }
        if let Ok(mut secrets) = self.secrets.lock() {
            secrets.log(label, client_random, secret);
        }
    }
}

impl KeyLogLines {
    fn with_secrets(&self, f: impl FnOnce(&mut HandshakeSecrets)) {
        if let Ok(mut secrets) = self.secrets.lock() {
            f(&mut secrets);
        }
    }

    fn take_secrets(&self) -> HandshakeSecrets {
        self.secrets
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// What the queries of a connection answer once rustls has handed its
/// records over (`HostRecords`), kept from the moment it did.
struct Facts {
    protocol: Option<ProtocolVersion>,
    suite: Option<rustls::SupportedCipherSuite>,
    alpn: Option<Vec<u8>>,
    peer_certificates: Vec<CertificateDer<'static>>,
    resumed: bool,
    servername: Option<String>,
    group: Option<rustls::NamedGroup>,
}

impl Facts {
    fn of(conn: &Connection) -> Facts {
        Facts {
            protocol: conn.protocol_version(),
            suite: conn.negotiated_cipher_suite(),
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            peer_certificates: conn.peer_certificates().unwrap_or_default().to_vec(),
            resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            servername: match conn {
                Connection::Server(s) => s.server_name().map(str::to_string),
                Connection::Client(_) => None,
            },
            group: conn.negotiated_key_exchange_group().map(|g| g.name()),
        }
    }
}

/// Who protects records: rustls (the handshake, and always where the host's
/// AEAD is synchronous or absent), or, after the handshake, the host's
/// asynchronous AEAD with `HostRecords` framing.
enum Layer {
    Rustls(Box<Connection>),
    Host(Box<HostRecords>, Box<Facts>),
    /// Only while handing over.
    Gone,
}

/// Records are handed over once data flows: after this many records either
/// way (a connection that only shakes hands, or exchanges a line, never pays
/// for the handover).
const RECORDS_BEFORE_HANDOVER: u32 = 4;
/// A TLS 1.3 client also waits until rustls has stored the server's tickets
/// (OpenSSL and rustls servers send two, not always before their first data),
/// or this many records either way without them.
const CLIENT_TICKETS_BEFORE_HANDOVER: u64 = 2;
const CLIENT_RECORDS_BEFORE_HANDOVER: u32 = 16;

/// `getEphemeralKeyInfo()`'s object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EphemeralKeyInfo {
    pub kind: &'static str,
    pub name: &'static str,
    pub size: u32,
}

/// Largest plaintext per record (TLS maximum; `setMaxSendFragment` lowers it).
pub const MAX_FRAGMENT: usize = 16 * 1024;

pub struct Engine {
    layer: Layer,
    /// Bit i: hand records over to the host after the handshake when the suite's
    /// AEAD is `records::Aead` number i (0: never).
    host_aeads: u32,
    /// Received bytes not yet given to rustls: it gets whole records, so that
    /// it holds no part of one when it hands over.
    pending: Vec<u8>,
    /// Bytes to pass straight on before `pending` is at a record boundary
    /// again (the server's acceptor may have read part of one); None: unknown,
    /// so never hand over.
    unaligned: Option<usize>,
    records_after_handshake: u32,
    records_written: u32,
    /// Records rustls sealed before it handed over, not yet taken.
    sealed_by_rustls: Vec<u8>,
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

/// What starts `bytes`, for feeding rustls whole records.
enum Head {
    /// A whole record of this length.
    Whole(usize),
    /// Part of one: wait for the rest.
    Partial,
    /// Not a record (junk, or longer than any): rustls must see it now, to say so.
    Junk,
}

fn head(bytes: &[u8]) -> Head {
    let Some(&[kind, _, _, hi, lo]) = bytes.first_chunk::<5>() else {
        return Head::Partial;
    };
    let len = 5 + usize::from(u16::from_be_bytes([hi, lo]));
    if !(20..=24).contains(&kind) || len > 5 + 16384 + 2048 {
        Head::Junk
    } else if bytes.len() >= len {
        Head::Whole(len)
    } else {
        Head::Partial
    }
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
                .map_err(|_| TlsError::invalid_arg(format!("invalid servername: '{name}'")))?
                .to_owned(),
            None => ServerName::try_from("localhost")
                .map_err(|_| TlsError::invalid_arg("invalid servername"))?,
        };
        let send_sni =
            options.servername.is_some() && matches!(server_name, ServerName::DnsName(_));
        let key_log = Arc::new(KeyLogLines::default());
        let mut config = context.client_config(alpn, send_sni)?;
        config.key_log = key_log.clone();
        // The record layer may be handed to the host after the handshake (`records`).
        config.enable_secret_extraction = true;
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
            Some(0),
        ))
    }

    /// A server connection that has read the ClientHello (see `server::ServerAcceptor`).
    /// `unaligned`: how many bytes finish the record the acceptor read part of
    /// (None if it cannot tell).
    pub fn from_server(
        conn: rustls::ServerConnection,
        context: Arc<SecureContext>,
        key_log: Arc<KeyLogLines>,
        external_sessions: Option<Arc<crate::server::ExternalSessions>>,
        unaligned: Option<usize>,
    ) -> Self {
        Engine::new(
            conn.into(),
            None,
            external_sessions,
            context,
            key_log,
            unaligned,
        )
    }

    fn new(
        mut conn: Connection,
        sessions: Option<Arc<SessionCapture>>,
        external_sessions: Option<Arc<crate::server::ExternalSessions>>,
        context: Arc<SecureContext>,
        key_log: Arc<KeyLogLines>,
        unaligned: Option<usize>,
    ) -> Self {
        // Backpressure is the JS layer's job: it drains output after every call.
        conn.set_buffer_limit(None);
        Engine {
            is_server: matches!(conn, Connection::Server(_)),
            layer: Layer::Rustls(Box::new(conn)),
            host_aeads: 0,
            pending: Vec::new(),
            unaligned,
            records_after_handshake: 0,
            records_written: 0,
            sealed_by_rustls: Vec::new(),
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

    /// Answers from rustls, or from what it left when it handed over.
    fn query<'a, T: Default>(
        &'a self,
        conn: impl FnOnce(&'a Connection) -> T,
        facts: impl FnOnce(&'a Facts) -> T,
    ) -> T {
        match &self.layer {
            Layer::Rustls(c) => conn(c),
            Layer::Host(_, f) => facts(f),
            Layer::Gone => T::default(),
        }
    }

    pub fn is_session_reused(&self) -> bool {
        self.query(
            |c| c.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            |f| f.resumed,
        )
    }

    /// Records to be protected by the host's AEAD after the handshake (bit i:
    /// `records::Aead` i). Set before any data moves.
    pub fn set_host_records(&mut self, aeads: u32) {
        self.host_aeads = aeads;
    }

    /// Whether the records may yet be handed to the host.
    pub fn may_hand_over(&self) -> bool {
        self.host_aeads != 0 && matches!(self.layer, Layer::Rustls(_))
    }

    /// Whether the host now seals and opens every record (see `take_jobs`).
    pub fn host_records(&self) -> bool {
        matches!(self.layer, Layer::Host(..))
    }

    /// Jobs for the host (see `records`), once it protects the records.
    pub fn take_jobs(&mut self, out: &mut Vec<u8>) {
        if let Layer::Host(records, _) = &mut self.layer {
            records.take_jobs(out);
        }
    }

    /// Received bytes rustls did not get because it handed over first: the
    /// host's, to frame (`frame`).
    pub fn take_received(&mut self) -> Vec<u8> {
        match &self.layer {
            Layer::Host(..) => std::mem::take(&mut self.pending),
            _ => Vec::new(),
        }
    }

    /// The host's record layer, unless the connection failed or rustls still has it.
    fn host(&mut self) -> Result<&mut HostRecords, TlsError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match &mut self.layer {
            Layer::Host(records, _) => Ok(records),
            _ => Err(TlsError::new(
                "ERR_TLS_INVALID_STATE",
                "records are with rustls",
            )),
        }
    }

    /// See `HostRecords::frame`.
    pub fn frame(&mut self, head: &[u8], available: usize) -> Result<usize, TlsError> {
        let framed = self.host()?.frame(head, available);
        framed.map_err(|e| self.fail(e))
    }

    /// See `HostRecords::write_plan`.
    pub fn write_plan(&mut self, len: usize) -> Result<(), TlsError> {
        self.host()?.write_plan(len)
    }

    /// See `HostRecords::opened_data`.
    pub fn opened_data(&mut self, len: usize) -> Result<Progress, TlsError> {
        self.with_opened(|records, _| records.opened_data(len), &mut Vec::new())
    }

    /// The plaintext of the record the host opened (`None`: it failed to).
    pub fn opened(
        &mut self,
        plaintext: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) -> Result<Progress, TlsError> {
        self.with_opened(
            |records, out| match plaintext {
                Some(plaintext) => records.opened(plaintext, out),
                None => records.open_failed(),
            },
            out,
        )
    }

    fn with_opened(
        &mut self,
        f: impl FnOnce(&mut HostRecords, &mut Vec<u8>) -> Result<crate::records::Opened, TlsError>,
        out: &mut Vec<u8>,
    ) -> Result<Progress, TlsError> {
        let opened = f(self.host()?, out);
        match opened {
            Ok(opened) => {
                self.peer_closed |= opened.peer_closed;
                Ok(Progress {
                    handshake_done: false,
                    peer_closed: self.peer_closed,
                    rekeyed: opened.rekeyed,
                })
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Gives the records to the host if the connection is ready to: the
    /// handshake over, nothing of rustls' left to send or to read, and every
    /// secret the rest of the connection needs at hand.
    fn hand_over(&mut self) -> Result<(), TlsError> {
        let Layer::Rustls(conn) = &self.layer else {
            return Ok(());
        };
        if self.host_aeads == 0 {
            return Ok(()); // called per record written: nothing to look at
        }
        let aead = match conn.negotiated_cipher_suite().map(|s| Aead::of(s.suite())) {
            Some(Some(aead)) => aead as u32,
            Some(None) => {
                self.host_aeads = 0; // not one the host does: rustls keeps the records
                return Ok(());
            }
            None => return Ok(()),
        };
        let tls13 = conn.protocol_version() == Some(ProtocolVersion::TLSv1_3);
        let tickets = self.sessions.as_ref().map_or(0, |s| s.count());
        let records = self
            .records_after_handshake
            .saturating_add(self.records_written);
        let client_waits = !self.is_server
            && tls13
            && tickets < CLIENT_TICKETS_BEFORE_HANDOVER
            && self.records_after_handshake < CLIENT_RECORDS_BEFORE_HANDOVER
            && self.records_written < CLIENT_RECORDS_BEFORE_HANDOVER;
        let waits = client_waits || records < RECORDS_BEFORE_HANDOVER;
        if self.host_aeads & (1 << aead) == 0
            || conn.is_handshaking()
            || self.unaligned != Some(0)
            || self.peer_closed
            || waits
        {
            return Ok(());
        }
        // What rustls has sealed leaves first (take_output); it must hold none.
        if let Layer::Rustls(conn) = &mut self.layer {
            while conn.wants_write() {
                match conn.write_tls(&mut self.sealed_by_rustls) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
        let is_client = !self.is_server;
        let secrets = self.key_log.take_secrets();
        let ready = if tls13 {
            !secrets.exporter.is_empty()
                && !secrets.client_traffic.is_empty()
                && !secrets.server_traffic.is_empty()
        } else {
            secrets.master_secret.len() == 48 && secrets.server_random.len() == 32
        };
        if !ready {
            self.host_aeads = 0; // it will not get better: rustls keeps the records
            return Ok(());
        }
        let Layer::Rustls(conn) = std::mem::replace(&mut self.layer, Layer::Gone) else {
            return Ok(());
        };
        let facts = Facts::of(&conn);
        let version = facts.protocol.unwrap_or(ProtocolVersion::TLSv1_3);
        let extracted = conn
            .dangerous_extract_secrets()
            .map_err(|e| self.fail(TlsError::new("ERR_SSL_INTERNAL_ERROR", e.to_string())))?;
        let mut records =
            HostRecords::new(extracted, version, is_client, secrets).map_err(|e| self.fail(e))?;
        records.set_max_fragment(self.max_fragment);
        self.layer = Layer::Host(Box::new(records), Box::new(facts));
        Ok(())
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
        self.query(
            |c| match c {
                Connection::Server(s) => s.server_name(),
                Connection::Client(_) => None,
            },
            |f| f.servername.as_deref(),
        )
    }

    /// Feeds bytes from the transport; decrypted application data is appended
    /// to `plaintext` (once the host protects records: see `take_jobs`).
    pub fn receive(&mut self, data: &[u8], plaintext: &mut Vec<u8>) -> Result<Progress, TlsError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if let Layer::Host(..) = &self.layer {
            return Err(TlsError::new(
                "ERR_TLS_INVALID_STATE",
                "records are with the host",
            ));
        }
        if self.host_aeads == 0 || self.unaligned.is_none() {
            if self.pending.is_empty() {
                return self.receive_rustls(data, plaintext);
            }
            // Whole records are no longer needed: what waited goes first.
            let mut bytes = std::mem::take(&mut self.pending);
            bytes.extend_from_slice(data);
            return self.receive_rustls(&bytes, plaintext);
        }
        // Whole records only, each followed by a look at whether to hand over.
        self.pending.extend_from_slice(data);
        let mut progress = Progress::default();
        let mut fed = false;
        loop {
            if self.unaligned == Some(0) && !self.is_handshaking() {
                self.judge_next_header()?;
            }
            let len = match self.unaligned {
                Some(0) => match head(&self.pending) {
                    Head::Whole(len) => Some(len),
                    Head::Partial => None,
                    Head::Junk => {
                        self.unaligned = None; // never aligned again: rustls keeps the records
                        Some(self.pending.len())
                    }
                },
                Some(n) => Some(n.min(self.pending.len())).filter(|&n| n > 0),
                None => Some(self.pending.len()).filter(|&n| n > 0),
            };
            let Some(len) = len else {
                break;
            };
            let piece: Vec<u8> = self.pending.drain(..len).collect();
            if let Some(n) = &mut self.unaligned {
                *n = n.saturating_sub(len);
            }
            let was_handshaking = self.is_handshaking();
            let step = self.receive_rustls(&piece, plaintext)?;
            fed = true;
            progress.handshake_done |= step.handshake_done;
            progress.peer_closed |= step.peer_closed;
            if !was_handshaking {
                self.records_after_handshake = self.records_after_handshake.saturating_add(1);
            }
            self.hand_over()?;
            if let Layer::Host(..) = &self.layer {
                break; // the rest is the host's (take_received)
            }
        }
        if !fed {
            return self.receive_rustls(&[], plaintext);
        }
        Ok(progress)
    }

    /// Refuses the next record, before rustls reads it, if OpenSSL would
    /// refuse its header after the handshake: rustls' checks differ in order
    /// and in kind, and once records are with the host `HostRecords` judges
    /// them the same way.
    fn judge_next_header(&mut self) -> Result<(), TlsError> {
        let Some(&header) = self.pending.first_chunk::<5>() else {
            return Ok(());
        };
        let tls13 =
            self.query(|c| c.protocol_version(), |f| f.protocol) == Some(ProtocolVersion::TLSv1_3);
        match crate::records::judge_header(header, tls13) {
            Ok(_) => Ok(()),
            // rustls cannot be made to send OpenSSL's alert: the peer sees the connection close.
            Err(fault) => Err(self.fail(TlsError::ssl(fault.reason))),
        }
    }

    fn receive_rustls(
        &mut self,
        mut data: &[u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<Progress, TlsError> {
        if self.is_handshaking() && !self.is_server {
            self.key_log.with_secrets(|s| s.sniff_server_random(data));
        }
        let mut progress = Progress::default();
        // At least one pass, even for no bytes: records that came behind the
        // ClientHello wait in rustls, and are judged now rather than at the next read.
        // (read_tls is not called without bytes: rustls takes a 0-byte read as EOF.)
        let mut first = true;
        while first || !data.is_empty() {
            first = false;
            let Layer::Rustls(conn) = &mut self.layer else {
                return Err(TlsError::new(
                    "ERR_TLS_INVALID_STATE",
                    "records are with the host",
                ));
            };
            if !data.is_empty() {
                match conn.read_tls(&mut data) {
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
            let processed = conn.process_new_packets();
            let tls12 = conn.protocol_version() == Some(ProtocolVersion::TLSv1_2);
            if let Some(ocsp) = crate::verify::take_stapled_ocsp() {
                self.ocsp_response = Some(ocsp);
            }
            if let Err(e) = processed {
                self.openssl_alert_for_missing_cert =
                    matches!(e, rustls::Error::NoCertificatesPresented) && tls12;
                // Records before the bad one were decrypted: hand their data over
                // first, as OpenSSL does, so the application gets all the peer sent.
                let _ = self.drain_plaintext(plaintext);
                let err = self.record_error(e);
                return Err(self.fail(err));
            }
            self.drain_plaintext(plaintext)?;
        }
        if !self.handshake_reported && !self.is_handshaking() {
            self.handshake_reported = true;
            progress.handshake_done = true;
            self.verify_error = self.judge_peer_chain();
        }
        progress.peer_closed = self.peer_closed;
        Ok(progress)
    }

    fn drain_plaintext(&mut self, out: &mut Vec<u8>) -> Result<(), TlsError> {
        // Straight from rustls' buffer, one copy.
        let Layer::Rustls(conn) = &mut self.layer else {
            return Ok(());
        };
        let mut reader = conn.reader();
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
        let chain = self.peer_certificates();
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

    /// Encrypts application data, returning how much it took: all of it,
    /// unless the records were handed to the host on the way (then the rest
    /// is the host's to write, see `write_plan`). The JS layer only writes
    /// after the handshake has been verified, so nothing reaches an unverified peer.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, TlsError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        // Each writer call seals its data into records of at most `max_fragment`;
        // the records may be handed over between two of them.
        let mut rest = data;
        while !rest.is_empty() {
            self.hand_over()?;
            let Layer::Rustls(conn) = &mut self.layer else {
                return Ok(data.len() - rest.len());
            };
            let (piece, next) = rest.split_at(self.max_fragment.min(rest.len()));
            rest = next;
            conn.writer()
                .write_all(piece)
                .map_err(|e| TlsError::new("ERR_SSL_INTERNAL_ERROR", e.to_string()))?;
            if !conn.is_handshaking() {
                self.records_written = self.records_written.saturating_add(1);
            }
        }
        Ok(data.len())
    }

    /// `setMaxSendFragment`: Node's range is 512..=16384.
    pub fn set_max_fragment(&mut self, size: usize) -> bool {
        if !(512..=MAX_FRAGMENT).contains(&size) {
            return false;
        }
        self.max_fragment = size;
        if let Layer::Host(records, _) = &mut self.layer {
            records.set_max_fragment(size);
        }
        true
    }

    /// Key log lines produced since the last call.
    pub fn take_key_log(&mut self) -> Vec<String> {
        self.key_log
            .lines
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
        match &self.layer {
            Layer::Rustls(conn) => conn
                .export_keying_material(out, label, context)
                .map_err(|e| TlsError::new("ERR_TLS_EXPORT_KEYING_MATERIAL", e.to_string())),
            Layer::Host(records, _) => {
                records.export_keying_material(&mut out, label, context)?;
                Ok(out)
            }
            Layer::Gone => Err(TlsError::new("ERR_TLS_INVALID_STATE", "no record layer")),
        }
    }

    /// The group of the (EC)DHE exchange, in Node's terms.
    pub fn ephemeral_key_info(&self) -> Option<EphemeralKeyInfo> {
        if self.is_server {
            return None; // Node: only on a client socket
        }
        let group = self.query(
            |c| c.negotiated_key_exchange_group().map(|g| g.name()),
            |f| f.group,
        )?;
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
        out.append(&mut self.sealed_by_rustls);
        let start = out.len();
        let Layer::Rustls(conn) = &mut self.layer else {
            return;
        };
        while conn.wants_write() {
            match conn.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if self.is_server && !self.handshake_reported {
            if let Some(flight) = out.get(start..) {
                self.key_log.with_secrets(|s| s.sniff_server_random(flight));
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
        match &mut self.layer {
            Layer::Rustls(conn) => conn.send_close_notify(),
            Layer::Host(records, _) => records.close(),
            Layer::Gone => {}
        }
    }

    /// OpenSSL's wording for a record that fails authentication depends on the
    /// cipher: TLS 1.2 AES-GCM says "cipher operation failed" (checked against node:tls).
    fn record_error(&self, e: rustls::Error) -> TlsError {
        let tls12_gcm = self.cipher_suite().is_some_and(|s| {
            s.version().version == ProtocolVersion::TLSv1_2
                && ciphers::names(s.suite()).0.contains("-GCM-")
        });
        match e {
            rustls::Error::DecryptError if tls12_gcm => TlsError::ssl("cipher operation failed"),
            e => e.into(),
        }
    }

    pub fn is_handshaking(&self) -> bool {
        self.query(|c| c.is_handshaking(), |_| false)
    }

    pub fn protocol(&self) -> Option<&'static str> {
        self.query(|c| c.protocol_version(), |f| f.protocol)
            .map(protocol_name)
    }

    fn cipher_suite(&self) -> Option<rustls::SupportedCipherSuite> {
        self.query(|c| c.negotiated_cipher_suite(), |f| f.suite)
    }

    pub fn cipher(&self) -> Option<CipherInfo> {
        let suite = self.cipher_suite()?;
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
        self.cipher_suite().is_some_and(crate::host::is_host_suite)
    }

    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.query(|c| c.alpn_protocol(), |f| f.alpn.as_deref())
    }

    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        self.query(
            |c| c.peer_certificates().unwrap_or_default(),
            |f| &f.peer_certificates,
        )
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
