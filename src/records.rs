//! The record layer after the handshake, for hosts whose AEAD is asynchronous
//! (WebCrypto in browsers and workers), which cannot sit under rustls'
//! synchronous record layer. rustls made the traffic keys; from then on this
//! module frames records, counts sequence numbers and makes every nonce and
//! AAD (RFC 8446 §5.2-5.3, RFC 5288 §3), and the host only seals and opens.
//!
//! Sans-I/O like the rest of the engine: calls emit *jobs* into a byte stream
//! (`take_jobs`) that the host runs in order:
//!
//! ```text
//! KEY       (1): direction u8 (0 send, 1 receive), algorithm u8, length u8, key
//! SEAL      (2): nonce [12], aad length u8, aad, prefix length u8, prefix, length u32 LE, plaintext
//!                -> the host writes prefix || ciphertext || tag to the transport
//! SEAL_DATA (4): nonce [12], aad length u8, aad, prefix length u8, prefix, length u32 LE,
//!                suffix length u8, suffix: as SEAL, the plaintext being the next `length`
//!                bytes of the data given to `write_plan`, then the suffix
//! OPEN      (3): nonce [12], aad length u8, aad, skip u8, length u32 LE, hint u8: the
//!                next record of the stream (`length` bytes, header included, framed by
//!                `frame`) holds ciphertext || tag from byte `skip` on
//!                -> the host hands the plaintext to `opened`, or, as `hint` allows,
//!                just its length to `opened_data`; or it calls `open_failed`
//! ```
//!
//! Bulk data never crosses into the engine: the host keeps the bytes, the
//! engine decides what is done with them. A KEY job replaces that
//! direction's key for the jobs after it. A KeyUpdate in a record being
//! opened (`Opened::rekeyed`) voids the open jobs for the records after it:
//! the host frames them again under the new key.

use std::collections::VecDeque;

use ring::{digest, hkdf, hmac};
use rustls::crypto::cipher::{make_tls12_aad, make_tls13_aad, AeadKey, Iv, Nonce, NONCE_LEN};
use rustls::{
    AlertDescription, CipherSuite, ConnectionTrafficSecrets, ContentType, Error, ExtractedSecrets,
    InvalidMessage, PeerMisbehaved, ProtocolVersion,
};

use crate::error::TlsError;

const KEY: u8 = 1;
const SEAL: u8 = 2;
const OPEN: u8 = 3;
const SEAL_DATA: u8 = 4;

/// OPEN hints: what the host may do with a plaintext without handing it over.
/// TLS 1.3: if its last byte is 23 (application data, unpadded), pass its
/// length less one to `opened_data` and keep the rest as data.
const HINT_TLS13: u8 = 1;
/// TLS 1.2 application data: all of it is data; pass its length to `opened_data`.
const HINT_DATA: u8 = 0;
/// Anything else: hand the whole plaintext to `opened`.
const HINT_WHOLE: u8 = 2;

const HEADER_LEN: usize = 5;
const TAG_LEN: usize = 16;
/// TLS 1.2 AES-GCM carries the last 8 nonce bytes in each record.
const EXPLICIT_NONCE_LEN: usize = 8;
const MAX_PLAINTEXT: usize = 16 * 1024;
/// The largest ciphertext a peer may send: RFC 8446 §5.2's in TLS 1.3, OpenSSL's
/// in TLS 1.2 (Node refuses past 2^14 + 320, short of RFC 5246's 2^14 + 2048).
const MAX_CIPHERTEXT_TLS13: usize = MAX_PLAINTEXT + 256;
const MAX_CIPHERTEXT_TLS12: usize = MAX_PLAINTEXT + 320;
/// Past this, OpenSSL's read buffer cannot hold the record at all, and Node
/// says "packet length too long" rather than "encrypted length too long".
const MAX_RECORD_OPENSSL_READS: usize = MAX_CIPHERTEXT_TLS12 + 3;
/// Records sealed under one AES-GCM key before TLS 1.3 moves to the next
/// (RFC 8446 §5.5 allows 2^24.5); a TLS 1.2 connection ends there instead.
const KEY_UPDATE_AT: u64 = 1 << 24;
/// Handshake messages after the handshake are small; anything bigger is hostile.
const MAX_POST_HANDSHAKE_MESSAGE: usize = 64 * 1024;

const HANDSHAKE_NEW_SESSION_TICKET: u8 = 4;
const HANDSHAKE_HELLO_REQUEST: u8 = 0;
const HANDSHAKE_KEY_UPDATE: u8 = 24;

/// The AEADs a host runs, by the number its JS knows them by (`js/record-jobs.js`,
/// `js/host-crypto.js`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Aead {
    Aes128Gcm = 0,
    Aes256Gcm = 1,
    Chacha20Poly1305 = 2,
}

impl Aead {
    /// The AEAD of a TLS 1.3 or 1.2 suite rustls offers.
    pub fn of(suite: CipherSuite) -> Option<Aead> {
        use CipherSuite::*;
        match suite {
            TLS13_AES_128_GCM_SHA256
            | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => Some(Aead::Aes128Gcm),
            TLS13_AES_256_GCM_SHA384
            | TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => Some(Aead::Aes256Gcm),
            TLS13_CHACHA20_POLY1305_SHA256
            | TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            | TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => Some(Aead::Chacha20Poly1305),
            _ => None,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::Chacha20Poly1305 => 32,
        }
    }

    /// Key and IV in rustls' form.
    pub fn secrets(self, key: AeadKey, iv: Iv) -> ConnectionTrafficSecrets {
        match self {
            Aead::Aes128Gcm => ConnectionTrafficSecrets::Aes128Gcm { key, iv },
            Aead::Aes256Gcm => ConnectionTrafficSecrets::Aes256Gcm { key, iv },
            Aead::Chacha20Poly1305 => ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv },
        }
    }

    /// Nonce bytes a TLS 1.2 record carries: 8 for AES-GCM (RFC 5288 §3),
    /// none for ChaCha20-Poly1305 (RFC 7905).
    pub fn tls12_explicit_nonce_len(self) -> usize {
        match self {
            Aead::Chacha20Poly1305 => 0,
            Aead::Aes128Gcm | Aead::Aes256Gcm => EXPLICIT_NONCE_LEN,
        }
    }

    /// The suite's hash: SHA-384 for AES-256-GCM, SHA-256 for the others (TLS 1.2 and 1.3).
    fn sha384(self) -> bool {
        self == Aead::Aes256Gcm
    }

    fn hkdf(self) -> hkdf::Algorithm {
        if self.sha384() {
            hkdf::HKDF_SHA384
        } else {
            hkdf::HKDF_SHA256
        }
    }
}

/// Secrets the key log saw during the handshake, needed after it: TLS 1.3
/// traffic secrets (key updates) and the exporter secret; the TLS 1.2 master
/// secret with both randoms (RFC 5705 exporter).
#[derive(Default)]
pub struct HandshakeSecrets {
    pub client_random: Vec<u8>,
    pub server_random: Vec<u8>,
    pub master_secret: Vec<u8>,
    pub client_traffic: Vec<u8>,
    pub server_traffic: Vec<u8>,
    pub exporter: Vec<u8>,
}

impl Drop for HandshakeSecrets {
    fn drop(&mut self) {
        for secret in [
            &mut self.master_secret,
            &mut self.client_traffic,
            &mut self.server_traffic,
            &mut self.exporter,
        ] {
            secret.fill(0);
        }
    }
}

impl HandshakeSecrets {
    /// Takes what `rustls::KeyLog` hands over.
    pub fn log(&mut self, label: &str, client_random: &[u8], secret: &[u8]) {
        let slot = match label {
            "CLIENT_RANDOM" => &mut self.master_secret,
            "CLIENT_TRAFFIC_SECRET_0" => &mut self.client_traffic,
            "SERVER_TRAFFIC_SECRET_0" => &mut self.server_traffic,
            "EXPORTER_SECRET" => &mut self.exporter,
            _ => return,
        };
        slot.fill(0);
        *slot = secret.to_vec();
        self.client_random = client_random.to_vec();
    }

    /// Notes the ServerHello's random from plaintext handshake records (either
    /// direction), which the TLS 1.2 exporter needs and rustls does not expose.
    pub fn sniff_server_random(&mut self, records: &[u8]) {
        if !self.server_random.is_empty() {
            return;
        }
        let mut rest = records;
        while let Some((&[kind, _, _, hi, lo], body)) = rest.split_first_chunk::<HEADER_LEN>() {
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let Some((record, next)) = body.split_at_checked(len) else {
                return;
            };
            // ContentType handshake, HandshakeType server_hello (2), then
            // length (3), legacy_version (2), random (32).
            if kind == 22 && record.first() == Some(&2) {
                if let Some(random) = record.get(6..38) {
                    self.server_random = random.to_vec();
                }
                return;
            }
            rest = next;
        }
    }
}

/// One direction's key schedule position.
struct Direction {
    iv: Iv,
    seq: u64,
    /// TLS 1.3: the current traffic secret, for the next key update.
    secret: Vec<u8>,
}

impl Drop for Direction {
    fn drop(&mut self) {
        self.secret.fill(0);
    }
}

/// What `opened` learned.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Opened {
    /// The peer sent close_notify: nothing more will be read.
    pub peer_closed: bool,
    /// The receiving key changed: the open jobs still out are void (new ones follow).
    pub rekeyed: bool,
}

pub struct HostRecords {
    aead: Aead,
    tls13: bool,
    is_client: bool,
    tx: Direction,
    rx: Direction,
    secrets: HandshakeSecrets,
    /// Outer types of the records with the host, in order.
    opening: VecDeque<ContentType>,
    rekeyed: bool,
    /// TLS 1.3 handshake messages split across records.
    handshake: Vec<u8>,
    jobs: Vec<u8>,
    max_fragment: usize,
    peer_closed: bool,
    /// We have sent close_notify or a fatal alert: nothing more is sealed.
    sent_close: bool,
}

fn traffic_key(secrets: &ConnectionTrafficSecrets) -> Option<(Aead, &[u8], &Iv)> {
    match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv } => {
            Some((Aead::Aes128Gcm, key.as_ref(), iv))
        }
        ConnectionTrafficSecrets::Aes256Gcm { key, iv } => {
            Some((Aead::Aes256Gcm, key.as_ref(), iv))
        }
        ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
            Some((Aead::Chacha20Poly1305, key.as_ref(), iv))
        }
        _ => None,
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1).
fn expand_label(aead: Aead, secret: &[u8], label: &[u8], context: &[u8], out: &mut [u8]) -> bool {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let (Ok(len), Ok(label_len), Ok(context_len)) = (
        u16::try_from(out.len()),
        u8::try_from(label.len() + 6),
        u8::try_from(context.len()),
    ) else {
        return false;
    };
    let len = len.to_be_bytes();
    let info: [&[u8]; 6] = [
        &len,
        &[label_len],
        b"tls13 ",
        label,
        &[context_len],
        context,
    ];
    let prk = hkdf::Prk::new_less_safe(aead.hkdf(), secret);
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .is_ok()
}

/// The AEAD key and IV of a TLS 1.3 traffic secret (RFC 8446 §7.3).
fn tls13_key_iv(aead: Aead, secret: &[u8]) -> Option<(Vec<u8>, Iv)> {
    let mut key = vec![0u8; aead.key_len()];
    let mut iv = [0u8; NONCE_LEN];
    (expand_label(aead, secret, b"key", &[], &mut key)
        && expand_label(aead, secret, b"iv", &[], &mut iv))
    .then(|| (key, Iv::new(iv)))
}

/// The AES-256-GCM key and IV a TLS 1.3 SHA-384 traffic secret gives, in
/// rustls' form (for the fuzz target: rustls can make a 32-byte key only).
pub fn tls13_aes256_keys(secret: &[u8]) -> Option<ConnectionTrafficSecrets> {
    let (key, iv) = tls13_key_iv(Aead::Aes256Gcm, secret)?;
    let key: [u8; 32] = key.try_into().ok()?;
    Some(ConnectionTrafficSecrets::Aes256Gcm {
        key: key.into(),
        iv,
    })
}

/// Key updates rustls may have applied before handing over: a handful at most
/// (it hands over within a few records of the handshake).
const MAX_GENERATIONS: usize = 64;

/// The traffic secret, `logged` or one of its later generations (RFC 8446
/// §7.2), that gives `key` and `iv`.
fn current_generation(aead: Aead, logged: &[u8], key: &[u8], iv: &Iv) -> Result<Vec<u8>, TlsError> {
    let mut secret = logged.to_vec();
    for _ in 0..MAX_GENERATIONS {
        if tls13_key_iv(aead, &secret).is_some_and(|(k, i)| k == key && i.as_ref() == iv.as_ref()) {
            return Ok(secret);
        }
        let mut next = vec![0u8; secret.len()];
        if secret.is_empty() || !expand_label(aead, &secret, b"traffic upd", &[], &mut next) {
            break;
        }
        secret.fill(0);
        secret = next;
    }
    secret.fill(0);
    Err(internal(
        "the traffic keys do not follow from the logged secrets",
    ))
}

/// Nonce bytes each record carries (TLS 1.3 records none).
fn explicit_len(tls13: bool, aead: Aead) -> usize {
    match tls13 {
        true => 0,
        false => aead.tls12_explicit_nonce_len(),
    }
}

/// A record header refused after the handshake: the alert OpenSSL sends and
/// the reason Node reports.
#[derive(Debug, PartialEq)]
pub struct HeaderFault {
    pub alert: AlertDescription,
    pub reason: &'static str,
}

impl HeaderFault {
    fn new(alert: AlertDescription, reason: &'static str) -> Self {
        HeaderFault { alert, reason }
    }
}

/// Judges the header of a record that follows the handshake as OpenSSL 3's
/// record layer does (Node's), in its order, so that a header with several
/// faults gets Node's error (measured in tests/js/hostile.test.js). Returns the
/// record's length. In TLS 1.2 the content type is judged after decryption,
/// as OpenSSL does.
pub fn judge_header(header: [u8; HEADER_LEN], tls13: bool) -> Result<usize, HeaderFault> {
    use AlertDescription as A;
    let [kind, major, minor, hi, lo] = header;
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let fault = |alert, reason| Err(HeaderFault::new(alert, reason));
    if major != 3 {
        return fault(A::ProtocolVersion, "wrong version number");
    }
    if tls13 {
        // Only application data follows a TLS 1.3 handshake (RFC 8446 §5);
        // OpenSSL says so before it looks at the version.
        if kind != u8::from(ContentType::ApplicationData) {
            return fault(A::UnexpectedMessage, "bad record type");
        }
        if minor != 3 {
            return fault(A::DecodeError, "wrong version number");
        }
    } else if minor != 3 {
        return fault(A::ProtocolVersion, "wrong version number");
    }
    let max = if tls13 {
        MAX_CIPHERTEXT_TLS13
    } else {
        MAX_CIPHERTEXT_TLS12
    };
    if len > MAX_RECORD_OPENSSL_READS {
        return fault(A::RecordOverflow, "packet length too long");
    }
    if len > max {
        return fault(A::RecordOverflow, "encrypted length too long");
    }
    Ok(len)
}

fn internal(message: &str) -> TlsError {
    TlsError::new("ERR_SSL_INTERNAL_ERROR", message)
}

impl HostRecords {
    /// Takes over from rustls. TLS 1.3: each direction's traffic secret is the
    /// logged one or a later generation of it (rustls may have seen key updates
    /// before handing over); the one whose key and IV rustls was using is kept.
    pub fn new(
        extracted: ExtractedSecrets,
        version: ProtocolVersion,
        is_client: bool,
        secrets: HandshakeSecrets,
    ) -> Result<HostRecords, TlsError> {
        let tls13 = version == ProtocolVersion::TLSv1_3;
        let (tx_seq, tx) = &extracted.tx;
        let (rx_seq, rx) = &extracted.rx;
        let (aead, tx_key, tx_iv) =
            traffic_key(tx).ok_or_else(|| internal("not an AES-GCM suite"))?;
        let (_, rx_key, rx_iv) = traffic_key(rx).ok_or_else(|| internal("not an AES-GCM suite"))?;
        let (tx_logged, rx_logged) = match is_client {
            true => (&secrets.client_traffic, &secrets.server_traffic),
            false => (&secrets.server_traffic, &secrets.client_traffic),
        };
        let (tx_secret, rx_secret) = match tls13 {
            false => (Vec::new(), Vec::new()),
            true => (
                current_generation(aead, tx_logged, tx_key, tx_iv)?,
                current_generation(aead, rx_logged, rx_key, rx_iv)?,
            ),
        };
        let mut records = HostRecords {
            aead,
            tls13,
            is_client,
            tx: Direction {
                iv: Iv::new([0; NONCE_LEN]),
                seq: *tx_seq,
                secret: tx_secret,
            },
            rx: Direction {
                iv: Iv::new([0; NONCE_LEN]),
                seq: *rx_seq,
                secret: rx_secret,
            },
            secrets,
            opening: VecDeque::new(),
            rekeyed: false,
            handshake: Vec::new(),
            jobs: Vec::new(),
            max_fragment: MAX_PLAINTEXT,
            peer_closed: false,
            sent_close: false,
        };
        records.set_key(0, tx_key, tx_iv.as_ref());
        records.set_key(1, rx_key, rx_iv.as_ref());
        Ok(records)
    }

    pub fn set_max_fragment(&mut self, size: usize) {
        self.max_fragment = size.clamp(1, MAX_PLAINTEXT);
    }

    /// A KEY job, and the direction's new IV and sequence start.
    fn set_key(&mut self, direction: u8, key: &[u8], iv: &[u8]) {
        let mut fixed = [0u8; NONCE_LEN];
        for (slot, b) in fixed.iter_mut().zip(iv) {
            *slot = *b;
        }
        let d = if direction == 0 {
            &mut self.tx
        } else {
            &mut self.rx
        };
        d.iv = Iv::new(fixed);
        self.jobs
            .extend_from_slice(&[KEY, direction, self.aead as u8, key.len() as u8]);
        self.jobs.extend_from_slice(key);
    }

    /// Moves the jobs emitted so far into `out`.
    pub fn take_jobs(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.jobs);
    }

    /// Seals `len` bytes of application data the host keeps (SEAL_DATA jobs).
    pub fn write_plan(&mut self, mut len: usize) -> Result<(), TlsError> {
        self.check_open()?;
        while len > 0 {
            let piece = len.min(self.max_fragment);
            self.seal(ContentType::ApplicationData, None, piece)?;
            len -= piece;
        }
        Ok(())
    }

    fn check_open(&self) -> Result<(), TlsError> {
        match self.sent_close {
            true => Err(TlsError::new(
                "ERR_SSL_PROTOCOL_ERROR",
                "write after close_notify",
            )),
            false => Ok(()),
        }
    }

    /// Queues close_notify (once).
    pub fn close(&mut self) {
        if !self.sent_close {
            let _ = self.seal_own(
                ContentType::Alert,
                &[1, u8::from(AlertDescription::CloseNotify)],
            );
            self.sent_close = true;
        }
    }

    fn seal_own(&mut self, kind: ContentType, plaintext: &[u8]) -> Result<(), TlsError> {
        self.seal(kind, Some(plaintext), plaintext.len())
    }

    /// A SEAL job for `inline`, or a SEAL_DATA job for `len` bytes the host
    /// has; first a key update if this key has sealed enough.
    fn seal(
        &mut self,
        kind: ContentType,
        inline: Option<&[u8]>,
        len: usize,
    ) -> Result<(), TlsError> {
        if self.tx.seq >= KEY_UPDATE_AT {
            if !self.tls13 {
                return Err(TlsError::ssl("too many records under one key"));
            }
            self.send_key_update(false)?;
        }
        self.seal_now(kind, inline, len);
        Ok(())
    }

    fn seal_now(&mut self, kind: ContentType, inline: Option<&[u8]>, len: usize) {
        let seq = self.tx.seq;
        self.tx.seq += 1;
        let nonce = Nonce::new(&self.tx.iv, seq).0;
        let jobs = &mut self.jobs;
        jobs.push(if inline.is_some() { SEAL } else { SEAL_DATA });
        jobs.extend_from_slice(&nonce);
        // TLS 1.3: the real type goes inside, after the data (RFC 8446 §5.2); no padding.
        let inner_type = [u8::from(kind)];
        let suffix: &[u8] = if self.tls13 { &inner_type } else { &[] };
        if self.tls13 {
            let header = make_tls13_aad(len + 1 + TAG_LEN);
            jobs.push(header.len() as u8);
            jobs.extend_from_slice(&header);
            jobs.push(header.len() as u8);
            jobs.extend_from_slice(&header);
        } else {
            let explicit = explicit_len(self.tls13, self.aead);
            let aad = make_tls12_aad(seq, kind, ProtocolVersion::TLSv1_2, len);
            let record_len = (explicit + len + TAG_LEN) as u16;
            jobs.push(aad.len() as u8);
            jobs.extend_from_slice(&aad);
            jobs.push((HEADER_LEN + explicit) as u8);
            jobs.extend_from_slice(&[u8::from(kind), 3, 3]);
            jobs.extend_from_slice(&record_len.to_be_bytes());
            jobs.extend_from_slice(nonce.get(NONCE_LEN - explicit..).unwrap_or_default());
        }
        match inline {
            Some(plaintext) => {
                jobs.extend_from_slice(&((plaintext.len() + suffix.len()) as u32).to_le_bytes());
                jobs.extend_from_slice(plaintext);
                jobs.extend_from_slice(suffix);
            }
            None => {
                jobs.extend_from_slice(&(len as u32).to_le_bytes());
                jobs.push(suffix.len() as u8);
                jobs.extend_from_slice(suffix);
            }
        }
    }

    /// A fatal alert to the peer (best effort: sealed like any record), and the error.
    fn fatal(&mut self, alert: AlertDescription, err: Error) -> TlsError {
        self.send_fatal_alert(alert);
        match err {
            // OpenSSL's wording for TLS 1.2 AES-GCM (the engine's record_error says the same).
            Error::DecryptError if !self.tls13 && self.aead != Aead::Chacha20Poly1305 => {
                TlsError::ssl("cipher operation failed")
            }
            err => err.into(),
        }
    }

    fn send_fatal_alert(&mut self, alert: AlertDescription) {
        if !self.sent_close {
            let _ = self.seal_own(ContentType::Alert, &[2, u8::from(alert)]);
            self.sent_close = true;
        }
    }

    /// Sends KeyUpdate and moves our sending key on (RFC 8446 §4.6.3).
    fn send_key_update(&mut self, request_peer: bool) -> Result<(), TlsError> {
        let message = [HANDSHAKE_KEY_UPDATE, 0, 0, 1, u8::from(request_peer)];
        // Under the current key, whose count may be at the limit (2^24 is well
        // within AES-GCM's 2^24.5): the update is its last record.
        self.seal_now(ContentType::Handshake, Some(&message), message.len());
        self.next_key(0)
    }

    fn next_key(&mut self, direction: u8) -> Result<(), TlsError> {
        let aead = self.aead;
        let d = if direction == 0 {
            &mut self.tx
        } else {
            &mut self.rx
        };
        let mut next = vec![0u8; d.secret.len()];
        if d.secret.is_empty() || !expand_label(aead, &d.secret, b"traffic upd", &[], &mut next) {
            return Err(internal("key update failed"));
        }
        d.secret.fill(0);
        d.secret = next;
        d.seq = 0;
        let (key, iv) =
            tls13_key_iv(aead, &d.secret).ok_or_else(|| internal("key update failed"))?;
        self.set_key(direction, &key, iv.as_ref());
        Ok(())
    }

    /// Frames the next record of the stream, whose first bytes are `head` (up
    /// to 13: TLS 1.2 needs the explicit nonce after the header) and of which
    /// `available` bytes have arrived. Returns its whole length, 0 if `head` is
    /// too short to tell; the OPEN job is emitted once all of it has arrived.
    pub fn frame(&mut self, head: &[u8], available: usize) -> Result<usize, TlsError> {
        match self.frame_next(head, available) {
            Ok(len) => Ok(len),
            // Judged once the records before it are open: one may be close_notify,
            // after which anything is ignored (RFC 8446 §6.1), and their data is the peer's.
            Err(_) if !self.opening.is_empty() => Ok(0),
            Err(fault) => {
                self.send_fatal_alert(fault.alert);
                Err(TlsError::ssl(fault.reason))
            }
        }
    }

    fn frame_next(&mut self, head: &[u8], available: usize) -> Result<usize, HeaderFault> {
        if self.peer_closed {
            return Ok(0); // what follows close_notify is ignored (RFC 8446 §6.1)
        }
        let explicit = explicit_len(self.tls13, self.aead);
        let Some(&header) = head.first_chunk::<HEADER_LEN>() else {
            return Ok(0);
        };
        let len = judge_header(header, self.tls13)?;
        let kind = ContentType::from(header[0]);
        if len < explicit + TAG_LEN + usize::from(self.tls13) {
            // Too short to hold a tag, for OpenSSL's AES-GCM too short for its AAD.
            let reason = match (self.tls13, self.aead) {
                (false, Aead::Aes128Gcm | Aead::Aes256Gcm) => "invalid aad",
                _ => "decryption failed or bad record mac",
            };
            return Err(HeaderFault::new(AlertDescription::BadRecordMac, reason));
        }
        let Some(explicit_nonce) = head.get(HEADER_LEN..HEADER_LEN + explicit) else {
            return Ok(0);
        };
        let whole = HEADER_LEN + len;
        if available < whole {
            return Ok(whole);
        }
        let seq = self.rx.seq;
        self.rx.seq += 1;
        let mut nonce = Nonce::new(&self.rx.iv, seq).0;
        let jobs = &mut self.jobs;
        jobs.push(OPEN);
        let hint = if self.tls13 {
            jobs.extend_from_slice(&nonce);
            jobs.push(HEADER_LEN as u8);
            jobs.extend_from_slice(&header);
            HINT_TLS13
        } else {
            // The sender chose the explicit part (RFC 5288 §3).
            for (slot, b) in nonce
                .iter_mut()
                .skip(NONCE_LEN - EXPLICIT_NONCE_LEN)
                .zip(explicit_nonce)
            {
                *slot = *b;
            }
            let aad = make_tls12_aad(
                seq,
                kind,
                ProtocolVersion::TLSv1_2,
                len - explicit - TAG_LEN,
            );
            jobs.extend_from_slice(&nonce);
            jobs.push(aad.len() as u8);
            jobs.extend_from_slice(&aad);
            if kind == ContentType::ApplicationData {
                HINT_DATA
            } else {
                HINT_WHOLE
            }
        };
        jobs.push((HEADER_LEN + explicit) as u8);
        jobs.extend_from_slice(&(whole as u32).to_le_bytes());
        jobs.push(hint);
        self.opening.push_back(kind);
        Ok(whole)
    }

    /// The host could not authenticate the record it was given.
    pub fn open_failed(&mut self) -> Result<Opened, TlsError> {
        if self.peer_closed {
            return Ok(self.after_close()); // a record after close_notify is ignored, whatever it holds
        }
        self.opening.clear();
        self.peer_closed = true; // nothing after a bad record is read
        Err(self.fatal(AlertDescription::BadRecordMac, Error::DecryptError))
    }

    /// A record the host had framed before close_notify was opened: ignored.
    fn after_close(&mut self) -> Opened {
        self.opening.pop_front();
        Opened {
            peer_closed: true,
            rekeyed: false,
        }
    }

    /// The record the host opened held `len` bytes of application data, which
    /// it keeps (as the OPEN job's hint allowed).
    pub fn opened_data(&mut self, len: usize) -> Result<Opened, TlsError> {
        if self.peer_closed {
            return Ok(self.after_close());
        }
        if self.opening.pop_front().is_none() {
            return Err(internal("no record was being opened"));
        }
        if len > MAX_PLAINTEXT {
            return Err(self.fatal(
                AlertDescription::RecordOverflow,
                Error::PeerSentOversizedRecord,
            ));
        }
        Ok(Opened {
            peer_closed: self.peer_closed,
            rekeyed: false,
        })
    }

    /// The plaintext of the record the host opened: application data goes to
    /// `out`; alerts and post-handshake messages are handled here.
    pub fn opened(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<Opened, TlsError> {
        if self.peer_closed {
            return Ok(self.after_close());
        }
        let Some(outer) = self.opening.pop_front() else {
            return Err(internal("no record was being opened"));
        };
        let (kind, content) = if self.tls13 {
            // Content, then its type, then zero padding (RFC 8446 §5.4).
            match plaintext
                .iter()
                .rposition(|&b| b != 0)
                .and_then(|at| plaintext.split_at_checked(at))
            {
                Some((content, [kind, ..])) => (ContentType::from(*kind), content),
                _ => {
                    return Err(self.fatal(
                        AlertDescription::UnexpectedMessage,
                        PeerMisbehaved::IllegalTlsInnerPlaintext.into(),
                    ))
                }
            }
        } else {
            (outer, plaintext)
        };
        if content.len() > MAX_PLAINTEXT {
            return Err(self.fatal(
                AlertDescription::RecordOverflow,
                Error::PeerSentOversizedRecord,
            ));
        }
        match kind {
            ContentType::ApplicationData => out.extend_from_slice(content),
            ContentType::Alert => self.alert(content)?,
            ContentType::Handshake => self.handshake_message(content)?,
            other => {
                return Err(self.fatal(
                    AlertDescription::UnexpectedMessage,
                    Error::InappropriateMessage {
                        expect_types: vec![ContentType::ApplicationData],
                        got_type: other,
                    },
                ))
            }
        }
        let rekeyed = std::mem::take(&mut self.rekeyed);
        if rekeyed {
            // What went out after the KeyUpdate was under the old key: the host frames it again.
            self.opening.clear();
        }
        Ok(Opened {
            peer_closed: self.peer_closed,
            rekeyed,
        })
    }

    fn alert(&mut self, content: &[u8]) -> Result<(), TlsError> {
        let &[level, description] = content else {
            return Err(self.fatal(
                AlertDescription::DecodeError,
                InvalidMessage::MessageTooShort.into(),
            ));
        };
        let description = AlertDescription::from(description);
        if description == AlertDescription::CloseNotify {
            self.peer_closed = true;
            self.opening.clear();
            return Ok(());
        }
        // TLS 1.2 warnings are ignored (as rustls does); user_canceled too, in either.
        if description == AlertDescription::UserCanceled || (!self.tls13 && level == 1) {
            return Ok(());
        }
        self.peer_closed = true;
        self.sent_close = true; // no reply to a fatal alert
        Err(Error::AlertReceived(description).into())
    }

    fn handshake_message(&mut self, content: &[u8]) -> Result<(), TlsError> {
        if !self.tls13 {
            // TLS 1.2 renegotiation is refused as rustls refuses it: a
            // HelloRequest gets a no_renegotiation warning, anything else is fatal.
            if self.is_client && content.first() == Some(&HANDSHAKE_HELLO_REQUEST) {
                return self.seal_own(
                    ContentType::Alert,
                    &[1, u8::from(AlertDescription::NoRenegotiation)],
                );
            }
            return Err(self.fatal(
                AlertDescription::UnexpectedMessage,
                Error::InappropriateHandshakeMessage {
                    expect_types: vec![],
                    got_type: rustls::HandshakeType::from(content.first().copied().unwrap_or(0)),
                },
            ));
        }
        self.handshake.extend_from_slice(content);
        while let Some(&[kind, a, b, c]) = self.handshake.get(..4) {
            let len = u32::from_be_bytes([0, a, b, c]) as usize;
            if len > MAX_POST_HANDSHAKE_MESSAGE {
                return Err(self.fatal(
                    AlertDescription::DecodeError,
                    InvalidMessage::MessageTooLarge.into(),
                ));
            }
            let Some(body) = self.handshake.get(4..4 + len) else {
                break;
            };
            match (kind, body) {
                // A later ticket (rustls stored those that came before the
                // switch): not kept, which a client may always do (RFC 8446 §4.6.1).
                (HANDSHAKE_NEW_SESSION_TICKET, _) if self.is_client => {}
                // A key update must end its record (RFC 8446 §5.1).
                (HANDSHAKE_KEY_UPDATE, &[_]) if self.handshake.len() > 4 + len => {
                    return Err(self.fatal(
                        AlertDescription::UnexpectedMessage,
                        PeerMisbehaved::KeyEpochWithPendingFragment.into(),
                    ));
                }
                (HANDSHAKE_KEY_UPDATE, &[request]) if request <= 1 => {
                    self.next_key(1)?;
                    self.rekeyed = true;
                    if request == 1 && !self.sent_close {
                        self.send_key_update(false)?;
                    }
                }
                (HANDSHAKE_KEY_UPDATE, _) => {
                    return Err(self.fatal(
                        AlertDescription::IllegalParameter,
                        InvalidMessage::InvalidKeyUpdate.into(),
                    ))
                }
                (other, _) => {
                    return Err(self.fatal(
                        AlertDescription::UnexpectedMessage,
                        Error::InappropriateHandshakeMessage {
                            expect_types: vec![],
                            got_type: rustls::HandshakeType::from(other),
                        },
                    ))
                }
            }
            self.handshake.drain(..4 + len);
        }
        Ok(())
    }

    /// RFC 5705 / RFC 8446 §7.5 exporter, from the secrets kept at the switch.
    pub fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &[u8],
        context: Option<&[u8]>,
    ) -> Result<(), TlsError> {
        let failed = || TlsError::new("ERR_TLS_EXPORT_KEYING_MATERIAL", "exporter failed");
        if self.tls13 {
            let hash = match self.aead.sha384() {
                true => &digest::SHA384,
                false => &digest::SHA256,
            };
            let mut derived = vec![0u8; hash.output_len()];
            let empty = digest::digest(hash, &[]);
            let context_hash = digest::digest(hash, context.unwrap_or_default());
            let ok =
                expand_label(
                    self.aead,
                    &self.secrets.exporter,
                    label,
                    empty.as_ref(),
                    &mut derived,
                ) && expand_label(self.aead, &derived, b"exporter", context_hash.as_ref(), out);
            derived.fill(0);
            return ok.then_some(()).ok_or_else(failed);
        }
        let mut seed = Vec::with_capacity(label.len() + 66 + context.map_or(0, <[u8]>::len));
        seed.extend_from_slice(label);
        seed.extend_from_slice(&self.secrets.client_random);
        seed.extend_from_slice(&self.secrets.server_random);
        if let Some(context) = context {
            let len = u16::try_from(context.len()).map_err(|_| failed())?;
            seed.extend_from_slice(&len.to_be_bytes());
            seed.extend_from_slice(context);
        }
        let algorithm = match self.aead.sha384() {
            true => hmac::HMAC_SHA384,
            false => hmac::HMAC_SHA256,
        };
        tls12_prf(algorithm, &self.secrets.master_secret, &seed, out);
        Ok(())
    }
}

/// The TLS 1.2 PRF, P_hash (RFC 5246 §5); `seed` already holds the label.
fn tls12_prf(algorithm: hmac::Algorithm, secret: &[u8], seed: &[u8], out: &mut [u8]) {
    let key = hmac::Key::new(algorithm, secret);
    let mut a = hmac::sign(&key, seed);
    for chunk in out.chunks_mut(algorithm.digest_algorithm().output_len()) {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(seed);
        let block = ctx.sign();
        for (slot, b) in chunk.iter_mut().zip(block.as_ref()) {
            *slot = *b;
        }
        a = hmac::sign(&key, a.as_ref());
    }
}
