//! The JS boundary: thin wrappers that move bytes and small plain objects.
//! Each call crosses once; byte arguments are borrowed views of JS memory
//! (one copy in), results are fresh Uint8Arrays (one copy out).

use std::sync::Arc;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::context;
use crate::engine::Engine;
use crate::error::TlsError;
use crate::js_values;
use crate::server::ServerAcceptor;

fn to_js_error(err: TlsError) -> JsValue {
    let e = js_sys::Error::new(&err.message);
    let _ = Reflect::set(&e, &"code".into(), &err.code.into());
    if let Some(library) = err.library {
        let _ = Reflect::set(&e, &"library".into(), &library.into());
    }
    if let Some(reason) = err.reason {
        let _ = Reflect::set(&e, &"reason".into(), &reason.into());
    }
    e.into()
}

/// `tls.createSecureContext()`'s native half.
#[wasm_bindgen]
pub struct SecureContext(Arc<context::SecureContext>);

#[wasm_bindgen]
impl SecureContext {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<SecureContext, JsValue> {
        let options = js_values::context_options(options).map_err(to_js_error)?;
        let ctx = context::SecureContext::new(&options).map_err(to_js_error)?;
        Ok(SecureContext(Arc::new(ctx)))
    }

    /// Our leaf certificate (DER), as an 'OCSPRequest' handler gets it.
    pub fn certificate(&self) -> Option<Uint8Array> {
        let key = self.0.certified_keys.first()?;
        key.cert.first().map(|c| Uint8Array::from(c.as_ref()))
    }

    /// The issuer of our leaf (DER): next in our chain, else a `ca` certificate.
    pub fn issuer(&self) -> Option<Uint8Array> {
        let key = self.0.certified_keys.first()?;
        let leaf = key.cert.first()?;
        let issuer = key.cert.get(1).or_else(|| {
            self.0
                .ca_certs
                .iter()
                .find(|ca| crate::certinfo::issued_by(leaf, ca))
        })?;
        Some(Uint8Array::from(issuer.as_ref()))
    }

    /// The 48-byte session ticket keys (server side).
    #[wasm_bindgen(js_name = getTicketKeys)]
    pub fn get_ticket_keys(&self) -> Result<Vec<u8>, JsValue> {
        let sessions = self.0.server_sessions().map_err(to_js_error)?;
        Ok(sessions.ticketer.get().to_vec())
    }

    #[wasm_bindgen(js_name = setTicketKeys)]
    pub fn set_ticket_keys(&self, keys: &[u8]) -> Result<(), JsValue> {
        let sessions = self.0.server_sessions().map_err(to_js_error)?;
        sessions.ticketer.set(keys).map_err(to_js_error)
    }
}

/// Flags returned by `receive`.
const HANDSHAKE_DONE: u32 = 1;
const PEER_CLOSED: u32 = 2;
/// From `opened`: the open jobs still out are void.
const REKEYED: u32 = 4;

fn flags(progress: crate::engine::Progress) -> u32 {
    let mut flags = 0;
    if progress.handshake_done {
        flags |= HANDSHAKE_DONE;
    }
    if progress.peer_closed {
        flags |= PEER_CLOSED;
    }
    if progress.rekeyed {
        flags |= REKEYED;
    }
    flags
}

/// One TLS connection.
#[wasm_bindgen]
pub struct TlsConnection {
    engine: Engine,
    plaintext: Vec<u8>,
    output: Vec<u8>,
}

#[wasm_bindgen]
impl TlsConnection {
    /// A client connection; its ClientHello is ready in `takeOutput()`.
    pub fn client(context: &SecureContext, options: JsValue) -> Result<TlsConnection, JsValue> {
        let options = js_values::connect_options(options).map_err(to_js_error)?;
        let engine = Engine::client(context.0.clone(), options).map_err(to_js_error)?;
        Ok(TlsConnection {
            engine,
            plaintext: Vec::new(),
            output: Vec::new(),
        })
    }

    /// Feeds ciphertext; returns flags (1: handshake done now, 2: peer sent close_notify).
    /// Decrypted data waits in `takePlaintext()`, records to send in `takeOutput()`.
    pub fn receive(&mut self, data: &[u8]) -> Result<u32, JsValue> {
        let progress = self
            .engine
            .receive(data, &mut self.plaintext)
            .map_err(to_js_error)?;
        Ok(flags(progress))
    }

    /// After the handshake, hand record protection to the host when the suite's
    /// AEAD is in `aeads` (bit 0 AES-128-GCM, bit 1 AES-256-GCM; `js/record-jobs.js`).
    #[wasm_bindgen(js_name = setHostRecords)]
    pub fn set_host_records(&mut self, aeads: u32) {
        self.engine.set_host_records(aeads);
    }

    /// Whether the host protects the records now (then see `takeJobs`).
    #[wasm_bindgen(getter, js_name = hostRecords)]
    pub fn host_records(&self) -> bool {
        self.engine.host_records()
    }

    /// Whether the records may yet be handed to the host (then write in slices).
    #[wasm_bindgen(getter, js_name = willHandOver)]
    pub fn will_hand_over(&self) -> bool {
        self.engine.may_hand_over()
    }

    /// Jobs for the host since the last call (format in `src/records.rs`).
    #[wasm_bindgen(js_name = takeJobs)]
    pub fn take_jobs(&mut self) -> Option<Uint8Array> {
        self.engine.take_jobs(&mut self.output);
        take(&mut self.output)
    }

    /// The plaintext of the record the host opened, or undefined if it did not
    /// authenticate; returns `receive`'s flags. Data waits in `takePlaintext()`.
    pub fn opened(&mut self, plaintext: Option<Box<[u8]>>) -> Result<u32, JsValue> {
        let progress = self
            .engine
            .opened(plaintext.as_deref(), &mut self.plaintext)
            .map_err(to_js_error)?;
        Ok(flags(progress))
    }

    /// Bytes received with the last record rustls read before it handed over:
    /// the start of the host's stream.
    #[wasm_bindgen(js_name = takeReceived)]
    pub fn take_received(&mut self) -> Option<Uint8Array> {
        let mut received = self.engine.take_received();
        take(&mut received)
    }

    /// Frames the next record of the host's stream from its first bytes
    /// (`head`, up to 13) and how many have arrived: its whole length (0: more
    /// head needed); an OPEN job once all of it is there.
    pub fn frame(&mut self, head: &[u8], available: usize) -> Result<usize, JsValue> {
        self.engine.frame(head, available).map_err(to_js_error)
    }

    /// Seals `len` bytes of application data the host keeps (SEAL_DATA jobs).
    #[wasm_bindgen(js_name = writePlan)]
    pub fn write_plan(&mut self, len: usize) -> Result<(), JsValue> {
        self.engine.write_plan(len).map_err(to_js_error)
    }

    /// The host opened a record of `len` bytes of application data it keeps
    /// (as the OPEN job's hint allowed); returns `receive`'s flags.
    #[wasm_bindgen(js_name = openedData)]
    pub fn opened_data(&mut self, len: usize) -> Result<u32, JsValue> {
        let progress = self.engine.opened_data(len).map_err(to_js_error)?;
        Ok(flags(progress))
    }

    #[wasm_bindgen(js_name = takePlaintext)]
    pub fn take_plaintext(&mut self) -> Option<Uint8Array> {
        take(&mut self.plaintext)
    }

    /// Encrypts application data into records (collect them with `takeOutput()`);
    /// returns how many bytes it took: fewer only if the records were handed
    /// to the host on the way (`hostRecords`), which then has the rest.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, JsValue> {
        self.engine.write(data).map_err(to_js_error)
    }

    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Option<Uint8Array> {
        self.engine.take_output(&mut self.output);
        take(&mut self.output)
    }

    /// Queues close_notify.
    pub fn close(&mut self) {
        self.engine.close();
    }

    #[wasm_bindgen(getter, js_name = isHandshaking)]
    pub fn is_handshaking(&self) -> bool {
        self.engine.is_handshaking()
    }

    pub fn protocol(&self) -> Option<String> {
        self.engine.protocol().map(str::to_string)
    }

    pub fn cipher(&self) -> JsValue {
        self.engine
            .cipher()
            .map_or(JsValue::NULL, |c| js_values::cipher_info(&c))
    }

    /// Whether records go through the host's native AEAD (`js/host-crypto.js`) rather than ring.
    #[wasm_bindgen(getter, js_name = hostCrypto)]
    pub fn host_crypto(&self) -> bool {
        self.engine.host_crypto()
    }

    #[wasm_bindgen(js_name = alpnProtocol)]
    pub fn alpn_protocol(&self) -> Option<String> {
        self.engine
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The peer's chain, leaf first, DER: as sent, or with `to_root` completed
    /// by the trusted CA certificate that issued it.
    #[wasm_bindgen(js_name = peerCertificates)]
    pub fn peer_certificates(&self, to_root: bool) -> Array {
        let chain: Vec<&[u8]> = if to_root {
            self.engine.peer_chain_to_root()
        } else {
            self.engine
                .peer_certificates()
                .iter()
                .map(|c| c.as_ref())
                .collect()
        };
        chain
            .into_iter()
            .map(|c| JsValue::from(Uint8Array::from(c)))
            .collect()
    }

    /// The SNI the client sent (server side).
    pub fn servername(&self) -> Option<String> {
        self.engine.servername().map(str::to_string)
    }

    /// Session handles received since the last call, for 'session' events.
    #[wasm_bindgen(js_name = takeNewSessions)]
    pub fn take_new_sessions(&self) -> Array {
        self.engine
            .take_new_sessions()
            .iter()
            .map(|h| JsValue::from(Uint8Array::from(h.as_slice())))
            .collect()
    }

    /// The OCSP response the server stapled, for 'OCSPResponse'.
    #[wasm_bindgen(js_name = ocspResponse)]
    pub fn ocsp_response(&self) -> Option<Uint8Array> {
        self.engine.ocsp_response().map(Uint8Array::from)
    }

    /// Server sessions made since the last call: `[id, data, id, data, ...]`.
    #[wasm_bindgen(js_name = takeNewServerSessions)]
    pub fn take_new_server_sessions(&self) -> Array {
        self.engine
            .take_new_server_sessions()
            .iter()
            .flat_map(|(id, data)| [id, data])
            .map(|b| JsValue::from(Uint8Array::from(b.as_slice())))
            .collect()
    }

    #[wasm_bindgen(js_name = isSessionReused)]
    pub fn is_session_reused(&self) -> bool {
        self.engine.is_session_reused()
    }

    /// Our certificate (DER), for `getCertificate()`.
    #[wasm_bindgen(js_name = localCertificate)]
    pub fn local_certificate(&self) -> Option<Uint8Array> {
        self.engine.local_certificate().map(Uint8Array::from)
    }

    /// Key log lines (NSS format) since the last call, for 'keylog' events.
    #[wasm_bindgen(js_name = takeKeyLog)]
    pub fn take_key_log(&mut self) -> Vec<String> {
        self.engine.take_key_log()
    }

    #[wasm_bindgen(js_name = setMaxSendFragment)]
    pub fn set_max_send_fragment(&mut self, size: usize) -> bool {
        self.engine.set_max_fragment(size)
    }

    #[wasm_bindgen(js_name = exportKeyingMaterial)]
    pub fn export_keying_material(
        &self,
        length: usize,
        label: &[u8],
        context: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, JsValue> {
        self.engine
            .export_keying_material(length, label, context.as_deref())
            .map_err(to_js_error)
    }

    #[wasm_bindgen(js_name = ephemeralKeyInfo)]
    pub fn ephemeral_key_info(&self) -> JsValue {
        self.engine
            .ephemeral_key_info()
            .map_or(JsValue::NULL, |i| js_values::ephemeral_key_info(&i))
    }

    /// `{ code, message }` from OpenSSL's vocabulary, or null if the chain is trusted.
    #[wasm_bindgen(js_name = verifyError)]
    pub fn verify_error(&self) -> JsValue {
        self.engine
            .verify_error()
            .map_or(JsValue::NULL, js_values::verify_error)
    }
}

/// The server side before a context is chosen: reads the ClientHello.
#[wasm_bindgen]
#[derive(Default)]
pub struct TlsAcceptor {
    acceptor: ServerAcceptor,
    alert: Vec<u8>,
}

#[wasm_bindgen]
impl TlsAcceptor {
    #[wasm_bindgen(constructor)]
    pub fn new() -> TlsAcceptor {
        TlsAcceptor::default()
    }

    /// Feeds ciphertext; returns `{ servername, alpnProtocols }` once the whole
    /// ClientHello is in, else null. On error, `takeOutput()` holds the alert.
    pub fn receive(&mut self, data: &[u8]) -> Result<JsValue, JsValue> {
        let hello = self
            .acceptor
            .receive(data, &mut self.alert)
            .map_err(to_js_error)?;
        Ok(hello.map_or(JsValue::NULL, |h| js_values::client_hello_info(&h)))
    }

    /// Answers the ClientHello with `context`; the connection carries on from there.
    pub fn accept(
        &mut self,
        context: &SecureContext,
        options: JsValue,
    ) -> Result<TlsConnection, JsValue> {
        let options = js_values::accept_options(options).map_err(to_js_error)?;
        let engine = self
            .acceptor
            .accept(context.0.clone(), &options, &mut self.alert)
            .map_err(to_js_error)?;
        Ok(TlsConnection {
            engine,
            plaintext: Vec::new(),
            output: Vec::new(),
        })
    }

    /// An alert to send after a failed `receive` or `accept`.
    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Option<Uint8Array> {
        take(&mut self.alert)
    }
}

/// Moves a buffer's contents into a new Uint8Array, keeping its capacity for reuse.
fn take(buf: &mut Vec<u8>) -> Option<Uint8Array> {
    if buf.is_empty() {
        return None;
    }
    let out = Uint8Array::from(buf.as_slice());
    buf.clear();
    Some(out)
}

/// Node's detailed chain for `sent` (leaf first) with issuers looked up in `store`.
#[wasm_bindgen(js_name = detailedChain)]
pub fn detailed_chain(sent: Vec<Uint8Array>, store: Vec<Uint8Array>) -> Array {
    let sent: Vec<Vec<u8>> = sent.iter().map(Uint8Array::to_vec).collect();
    let store: Vec<Vec<u8>> = store.iter().map(Uint8Array::to_vec).collect();
    let sent_refs: Vec<&[u8]> = sent.iter().map(Vec::as_slice).collect();
    let store_refs: Vec<&[u8]> = store.iter().map(Vec::as_slice).collect();
    crate::certinfo::detailed_chain(&sent_refs, &store_refs)
        .into_iter()
        .map(|c| JsValue::from(Uint8Array::from(c)))
        .collect()
}

/// Node's certificate fields for one DER certificate (see `certinfo`).
#[wasm_bindgen(js_name = describeCertificate)]
pub fn describe_certificate(der: &[u8]) -> Result<JsValue, JsValue> {
    crate::certinfo::describe(der)
        .map(|info| js_values::cert_info(&info))
        .map_err(to_js_error)
}

/// OpenSSL names of the cipher suites this build can negotiate.
#[wasm_bindgen(js_name = supportedCiphers)]
pub fn supported_ciphers() -> Vec<String> {
    rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .map(|s| crate::ciphers::names(s.suite()).0.to_string())
        .collect()
}

/// Traps the instance on purpose, to test that a trap loses only the
/// connections in it (scripts/patch-glue.mjs, js/trap.js). Only in builds
/// with the `trap-hook` feature, which scripts/build.sh never enables.
#[cfg(feature = "trap-hook")]
#[wasm_bindgen(js_name = trapForTests)]
pub fn trap_for_tests() {
    core::arch::wasm32::unreachable()
}
