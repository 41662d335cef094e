//! The trust anchors of a context: its own (`ca`), or Mozilla's.
//!
//! Mozilla's set (webpki-roots) is not compiled into the wasm, where it would
//! weigh on every user (~47 KB of the gzipped module). It is generated into
//! `pkg/root-anchors.js` (examples/gen_root_certificates.rs) and handed over
//! once per instance with [`set_default_roots`] by the JS side, before a
//! context that trusts it judges a chain (see js/root-anchors.js).
//!
//! A context without `ca` reads the set when it judges, not when it is made,
//! so the set may arrive after `createSecureContext`. Should a chain be judged
//! before it has arrived, the verdict is a failure saying so, never a chain
//! trusted or refused on an empty set without explanation.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::{Der, TrustAnchor};
use rustls::RootCertStore;

use crate::error::TlsError;

/// Mozilla's set, once handed over.
static DEFAULT: OnceLock<RootCertStore> = OnceLock::new();

/// What a context trusts.
#[derive(Debug, Clone)]
pub enum Roots {
    /// The `ca` option (and, with it, the other certificates of a pfx).
    Own(Arc<RootCertStore>),
    /// Mozilla's set, and `extra` (the other certificates of a pfx).
    Default {
        extra: Arc<RootCertStore>,
        with_default: Arc<OnceLock<RootCertStore>>,
    },
}

impl Roots {
    pub fn default_set(extra: RootCertStore) -> Self {
        Roots::Default {
            extra: Arc::new(extra),
            with_default: Arc::new(OnceLock::new()),
        }
    }

    /// Whether these roots are Mozilla's and they have not been handed over yet.
    pub fn default_missing(&self) -> bool {
        matches!(self, Roots::Default { .. }) && DEFAULT.get().is_none()
    }
}

impl Deref for Roots {
    type Target = RootCertStore;

    fn deref(&self) -> &RootCertStore {
        match self {
            Roots::Own(store) => store,
            Roots::Default {
                extra,
                with_default,
            } => match DEFAULT.get() {
                None => extra,
                Some(default) if extra.is_empty() => default,
                Some(default) => with_default.get_or_init(|| RootCertStore {
                    roots: default.roots.iter().chain(&extra.roots).cloned().collect(),
                }),
            },
        }
    }
}

/// Takes Mozilla's set in the form of `pkg/root-anchors.js` (decoded from
/// base64): for each trust anchor, its subject, its SubjectPublicKeyInfo and
/// its name constraints (empty when it has none), each preceded by its length
/// as two bytes, big-endian. The first set handed over stays; returns how
/// many anchors it has.
pub fn set_default_roots(data: &[u8]) -> Result<usize, TlsError> {
    if let Some(store) = DEFAULT.get() {
        return Ok(store.len());
    }
    let roots = parse_anchors(data).ok_or_else(|| {
        TlsError::new(
            "ERR_WASM_TLS_ROOT_CERTIFICATES_UNAVAILABLE",
            "the default root certificates are malformed",
        )
    })?;
    Ok(DEFAULT.get_or_init(|| RootCertStore { roots }).len())
}

fn parse_anchors(mut data: &[u8]) -> Option<Vec<TrustAnchor<'static>>> {
    let mut field = || -> Option<Vec<u8>> {
        let (len, rest) = data.split_first_chunk::<2>()?;
        let (value, rest) = rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))?;
        data = rest;
        Some(value.to_vec())
    };
    let mut anchors = Vec::new();
    while let Some(subject) = field() {
        let spki = field()?;
        let constraints = field()?;
        anchors.push(TrustAnchor {
            subject: Der::from(subject),
            subject_public_key_info: Der::from(spki),
            name_constraints: (!constraints.is_empty()).then(|| Der::from(constraints)),
        });
    }
    (data.is_empty() && !anchors.is_empty()).then_some(anchors)
}

/// `setDefaultRoots(bytes)`: see [`set_default_roots`].
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = setDefaultRoots)]
pub fn set_default_roots_js(data: &[u8]) -> Result<usize, wasm_bindgen::JsValue> {
    set_default_roots(data).map_err(|e| wasm_bindgen::JsValue::from_str(&e.message))
}

/// The encoding `set_default_roots` reads (examples/gen_root_certificates.rs, tests).
pub fn encode_anchors(anchors: &[TrustAnchor<'_>]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for anchor in anchors {
        let constraints = anchor
            .name_constraints
            .as_ref()
            .map_or(&[][..], |c| c.as_ref());
        for field in [
            anchor.subject.as_ref(),
            anchor.subject_public_key_info.as_ref(),
            constraints,
        ] {
            out.extend(u16::try_from(field.len()).ok()?.to_be_bytes());
            out.extend(field);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_round_trip() {
        let anchors = webpki_roots::TLS_SERVER_ROOTS;
        let data = encode_anchors(anchors).unwrap();
        let parsed = parse_anchors(&data).unwrap();
        assert_eq!(parsed.len(), anchors.len());
        assert!(parsed.iter().any(|a| a.name_constraints.is_some()));
        for (a, b) in parsed.iter().zip(anchors) {
            assert_eq!(a.subject.as_ref(), b.subject.as_ref());
            assert_eq!(
                a.subject_public_key_info.as_ref(),
                b.subject_public_key_info.as_ref()
            );
            assert_eq!(
                a.name_constraints.as_ref().map(|c| c.as_ref()),
                b.name_constraints.as_ref().map(|c| c.as_ref())
            );
        }
        assert!(parse_anchors(&data[..data.len() - 1]).is_none());
        assert!(parse_anchors(&[]).is_none());
    }
}
