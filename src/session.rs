//! Client sessions for Node's `session` option, `'session'` events and
//! `getSession()`. rustls keeps session state opaque (it has no encoding for
//! it), so the Buffer a user sees is a handle to state held in this wasm
//! instance: it resumes within the same process, never across processes.
//! A TLS 1.3 ticket is used at most once (RFC 8446 C.4); each resumed
//! connection brings fresh tickets.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::NamedGroup;

enum SessionValue {
    Tls12(Tls12ClientSessionValue),
    Tls13(Tls13ClientSessionValue),
}

/// Sessions kept per instance; the oldest go first.
const MAX_SESSIONS: usize = 1024;
const MAGIC: &[u8; 8] = b"wasmtls1";

static SESSIONS: Mutex<VecDeque<(u64, SessionValue)>> = Mutex::new(VecDeque::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn remember(value: SessionValue) -> Vec<u8> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut sessions) = SESSIONS.lock() {
        if sessions.len() >= MAX_SESSIONS {
            sessions.pop_front();
        }
        sessions.push_back((id, value));
    }
    let mut handle = MAGIC.to_vec();
    handle.extend_from_slice(&id.to_be_bytes());
    handle
}

/// The session a handle names: TLS 1.3 tickets are taken, TLS 1.2 sessions copied.
fn recall(handle: &[u8]) -> Option<SessionValue> {
    let id = handle.strip_prefix(MAGIC.as_slice())?;
    let id = u64::from_be_bytes(id.try_into().ok()?);
    let mut sessions = SESSIONS.lock().ok()?;
    let pos = sessions.iter().position(|(i, _)| *i == id)?;
    match sessions.get(pos)? {
        (_, SessionValue::Tls12(v)) => Some(SessionValue::Tls12(v.clone())),
        (_, SessionValue::Tls13(_)) => sessions.remove(pos).map(|(_, v)| v),
    }
}

/// One connection's session store: offers the session given in options and
/// collects the new ones the server hands out.
#[derive(Default)]
pub struct SessionCapture {
    offered: Mutex<Option<SessionValue>>,
    kx_hint: Mutex<Option<NamedGroup>>,
    captured: Mutex<Vec<Vec<u8>>>,
    /// Sessions captured so far, taken or not.
    count: AtomicU64,
}

impl std::fmt::Debug for SessionCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCapture")
    }
}

impl SessionCapture {
    pub fn offering(handle: Option<&[u8]>) -> Self {
        SessionCapture {
            offered: Mutex::new(handle.and_then(recall)),
            ..Default::default()
        }
    }

    /// Handles of sessions received since the last call.
    pub fn take_new(&self) -> Vec<Vec<u8>> {
        self.captured
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// How many sessions the server has given so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn capture(&self, value: SessionValue) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let handle = remember(value);
        if let Ok(mut c) = self.captured.lock() {
            c.push(handle);
        }
    }
}

impl ClientSessionStore for SessionCapture {
    fn set_kx_hint(&self, _server_name: ServerName<'static>, group: NamedGroup) {
        if let Ok(mut h) = self.kx_hint.lock() {
            *h = Some(group);
        }
    }

    fn kx_hint(&self, _server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.kx_hint.lock().ok().and_then(|h| *h)
    }

    fn set_tls12_session(&self, _server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.capture(SessionValue::Tls12(value));
    }

    fn tls12_session(&self, _server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        match self.offered.lock().ok()?.as_ref()? {
            SessionValue::Tls12(v) => Some(v.clone()),
            SessionValue::Tls13(_) => None,
        }
    }

    fn remove_tls12_session(&self, _server_name: &ServerName<'static>) {
        if let Ok(mut offered) = self.offered.lock() {
            if matches!(*offered, Some(SessionValue::Tls12(_))) {
                *offered = None;
            }
        }
    }

    fn insert_tls13_ticket(
        &self,
        _server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.capture(SessionValue::Tls13(value));
    }

    fn take_tls13_ticket(
        &self,
        _server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        let mut offered = self.offered.lock().ok()?;
        match offered.take()? {
            SessionValue::Tls13(v) => Some(v),
            other => {
                *offered = Some(other);
                None
            }
        }
    }
}
