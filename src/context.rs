//! A secure context: what `tls.createSecureContext()` holds (trust anchors,
//! CRLs, our certificate and key, suites, groups, versions), shared by every
//! connection made from it.

use std::sync::{Arc, OnceLock};

use rustls::client::Resumption;
use rustls::crypto::{ring, CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};

use crate::ciphers;
use crate::error::TlsError;
use crate::keys;
use crate::roots::Roots;
use crate::tickets::TicketKeys;
use crate::verify::HandshakeVerifier;

/// A private key as Node accepts it: PEM with its own optional passphrase.
#[derive(Debug, Default)]
pub struct KeyInput {
    pub pem: String,
    pub passphrase: Option<String>,
}

/// A PKCS#12 file as Node accepts it: bytes with an optional passphrase.
#[derive(Debug, Default)]
pub struct PfxInput {
    pub buf: Vec<u8>,
    pub passphrase: Option<String>,
}

/// Options of `tls.createSecureContext()`, normalised by the JS layer
/// (PEM as strings, versions as Node spells them).
#[derive(Debug, Default)]
pub struct ContextOptions {
    /// PEM text, one or more certificates per string; replaces the Mozilla roots.
    pub ca: Option<Vec<String>>,
    /// Our certificate chains (PEM), paired in order with `key`.
    pub cert: Option<Vec<String>>,
    pub key: Option<Vec<KeyInput>>,
    pub pfx: Option<Vec<PfxInput>>,
    /// Used for keys that carry no passphrase of their own.
    pub passphrase: Option<String>,
    pub crl: Option<Vec<String>>,
    pub ciphers: Option<String>,
    pub ecdh_curve: Option<String>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    /// Server: 48 bytes of session ticket keys (random when absent).
    pub ticket_keys: Option<Vec<u8>>,
    /// Server: session lifetime in seconds (Node's default is 300).
    pub session_timeout: Option<u32>,
}

pub struct SecureContext {
    pub roots: Roots,
    /// The `ca` certificates in full, to complete a detailed peer chain as Node does.
    pub ca_certs: Vec<CertificateDer<'static>>,
    pub crls: Vec<webpki::CertRevocationList<'static>>,
    /// Our certificates with their keys (Node allows one per key type).
    pub certified_keys: Vec<Arc<CertifiedKey>>,
    client_cert_resolver: Arc<dyn rustls::client::ResolvesClientCert>,
    pub provider: Arc<CryptoProvider>,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// Server-side session state shared by every connection of this context:
    /// the session-id cache (TLS 1.2, stateful TLS 1.3 tickets) and the ticket keys.
    /// Made on first use, so client contexts never pay for them.
    server_sessions: OnceLock<ServerSessions>,
    ticket_keys: Option<Vec<u8>>,
    session_timeout: u32,
}

#[derive(Debug, Clone)]
pub struct ServerSessions {
    pub cache: Arc<dyn rustls::server::StoresServerSessions>,
    pub ticketer: Arc<TicketKeys>,
}

impl std::fmt::Debug for SecureContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureContext")
            .field("roots", &self.roots.len())
            .field("certified_keys", &self.certified_keys.len())
            .field("crls", &self.crls.len())
            .finish()
    }
}

/// ring, with record protection, our signatures and signature checks moved to
/// the host's native crypto where it has them.
#[cfg(target_arch = "wasm32")]
fn record_provider() -> CryptoProvider {
    crate::host::provider(ring::default_provider())
}

#[cfg(not(target_arch = "wasm32"))]
fn record_provider() -> CryptoProvider {
    ring::default_provider()
}

/// Node's protocol names, ordered; rustls speaks only the last two.
const VERSIONS: [&str; 5] = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

fn version_index(name: &str) -> Result<usize, TlsError> {
    VERSIONS.iter().position(|v| *v == name).ok_or_else(|| {
        TlsError::new(
            "ERR_TLS_INVALID_PROTOCOL_VERSION",
            format!("'{name}' is not a valid TLS protocol version"),
        )
    })
}

fn protocol_versions(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static SupportedProtocolVersion>, TlsError> {
    let min = min.map(version_index).transpose()?.unwrap_or(3);
    let max = max.map(version_index).transpose()?.unwrap_or(4);
    let mut versions = Vec::new();
    if min <= 4 && max >= 4 {
        versions.push(&rustls::version::TLS13);
    }
    if min <= 3 && max >= 3 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        // Asking only for TLS 1.1 or older: rustls has none of them, and we will not
        // silently speak something newer than the caller allowed.
        let name = |i: usize| VERSIONS.get(i).copied().unwrap_or("?");
        return Err(TlsError::new(
            "ERR_TLS_INVALID_PROTOCOL_VERSION",
            format!(
                "no protocol version from {} to {} is supported: wasm-tls (rustls) speaks TLSv1.2 and TLSv1.3 only",
                name(min),
                name(max)
            ),
        ));
    }
    Ok(versions)
}

/// The key-exchange groups an `ecdhCurve` list names ('auto' or
/// colon-separated OpenSSL/NIST names), in its order.
fn kx_groups(
    list: &str,
    available: &[&'static dyn SupportedKxGroup],
) -> Result<Vec<&'static dyn SupportedKxGroup>, TlsError> {
    if list.eq_ignore_ascii_case("auto") {
        return Ok(available.to_vec());
    }
    let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
    for name in list.split(':') {
        let wanted = match name {
            "X25519" | "x25519" => rustls::NamedGroup::X25519,
            "P-256" | "prime256v1" | "secp256r1" => rustls::NamedGroup::secp256r1,
            "P-384" | "secp384r1" => rustls::NamedGroup::secp384r1,
            _ => return Err(curve_error()),
        };
        let group = available
            .iter()
            .find(|g| g.name() == wanted)
            .ok_or_else(curve_error)?;
        groups.push(*group);
    }
    if groups.is_empty() {
        return Err(curve_error());
    }
    Ok(groups)
}

fn curve_error() -> TlsError {
    TlsError::new("ERR_CRYPTO_OPERATION_FAILED", "Failed to set ECDH curve")
}

impl SecureContext {
    pub fn new(options: &ContextOptions) -> Result<Self, TlsError> {
        let base = record_provider();
        let mut ca_certs = Vec::new();
        let mut certified_keys = Vec::new();
        let mut pfx_certs = Vec::new();
        for input in options.pfx.iter().flatten() {
            let passphrase = input
                .passphrase
                .as_deref()
                .or(options.passphrase.as_deref());
            let pfx = keys::pfx(&input.buf, passphrase.unwrap_or_default())?;
            let certified = pfx_certified_key(pfx.key, pfx.chain, &base)?;
            let leaf = certified.cert.first().cloned();
            pfx_certs.extend(pfx.extra.into_iter().filter(|c| Some(c) != leaf.as_ref()));
            certified_keys.push(certified);
        }
        let mut own = match &options.ca {
            None => None,
            Some(pems) => {
                let mut store = RootCertStore::empty();
                for pem in pems {
                    for cert in keys::certificates(pem)? {
                        store.add(cert.clone()).map_err(|e| {
                            TlsError::new(
                                "ERR_TLS_INVALID_CA",
                                format!("unusable CA certificate: {e}"),
                            )
                        })?;
                        ca_certs.push(cert);
                    }
                }
                // `ca: []` would trust nothing at all (Node: silently); refuse it
                // as the empty string is refused, so the mistake shows at once.
                if ca_certs.is_empty() {
                    return Err(keys::no_start_line());
                }
                Some(store)
            }
        };

        let mut crls = Vec::new();
        for pem in options.crl.iter().flatten() {
            for der in keys::crls(pem)? {
                let crl = webpki::OwnedCertRevocationList::from_der(der.as_ref()).map_err(|e| {
                    TlsError::new("ERR_OSSL_X509_BAD_CRL", format!("unusable CRL: {e}"))
                })?;
                crls.push(webpki::CertRevocationList::from(crl));
            }
        }

        // As in Node, the other certificates in a pfx are trusted too.
        let mut extra = RootCertStore::empty();
        let store = own.as_mut().unwrap_or(&mut extra);
        for cert in pfx_certs {
            // A leaf among them is no trust anchor; skip what webpki refuses.
            if store.add(cert.clone()).is_ok() {
                ca_certs.push(cert);
            }
        }
        let roots = match own {
            Some(store) => Roots::Own(Arc::new(store)),
            None => Roots::default_set(extra),
        };
        let cipher_suites = match &options.ciphers {
            Some(list) => ciphers::select(list, &base.cipher_suites)?,
            None => base.cipher_suites.clone(),
        };
        let kx_groups = match &options.ecdh_curve {
            Some(list) => kx_groups(list, &base.kx_groups)?,
            None => base.kx_groups.clone(),
        };
        let provider = CryptoProvider {
            cipher_suites,
            kx_groups,
            ..base
        };

        certified_keys.extend(pem_certified_keys(options, &provider)?);
        let versions = protocol_versions(
            options.min_version.as_deref(),
            options.max_version.as_deref(),
        )?;
        Ok(SecureContext {
            roots,
            ca_certs,
            crls,
            client_cert_resolver: client_cert_resolver(&certified_keys),
            certified_keys,
            provider: Arc::new(provider),
            versions,
            server_sessions: OnceLock::new(),
            ticket_keys: options.ticket_keys.clone(),
            session_timeout: options.session_timeout.unwrap_or(300),
        })
    }

    /// The session cache and ticket keys of this context (server side).
    pub fn server_sessions(&self) -> Result<ServerSessions, TlsError> {
        if let Some(s) = self.server_sessions.get() {
            return Ok(s.clone());
        }
        let ticketer = TicketKeys::random(self.session_timeout)?;
        if let Some(keys) = &self.ticket_keys {
            ticketer.set(keys)?;
        }
        let sessions = ServerSessions {
            cache: rustls::server::ServerSessionMemoryCache::new(1024),
            ticketer: Arc::new(ticketer),
        };
        Ok(self.server_sessions.get_or_init(|| sessions).clone())
    }

    /// A client configuration for one connection.
    ///
    /// rustls resumes a session only under the very verifier and client-cert
    /// resolver (same `Arc`) that made it, so both are shared: the verifier by
    /// every connection of the instance, the resolver by the context (or, with
    /// no certificate, by every connection too). A Node user who passes
    /// `session` to a fresh `tls.connect` thus resumes as with OpenSSL.
    pub fn client_config(
        &self,
        alpn: Vec<Vec<u8>>,
        send_sni: bool,
    ) -> Result<ClientConfig, TlsError> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&self.versions)
            .map_err(|_| TlsError::ssl("no protocols available"))?
            .dangerous()
            .with_custom_certificate_verifier(shared_verifier(
                self.provider.signature_verification_algorithms,
            ))
            .with_client_cert_resolver(self.client_cert_resolver.clone());
        config.alpn_protocols = alpn;
        config.enable_sni = send_sni;
        // Node resumes only when given `session`; nothing is cached implicitly.
        config.resumption = Resumption::disabled();
        Ok(config)
    }
}

/// Pairs each key with the certificate whose public key is of the same type
/// (OpenSSL keeps one slot per key type, so Node matches by type, not position)
/// and checks that the two belong together.
fn pem_certified_keys(
    options: &ContextOptions,
    provider: &CryptoProvider,
) -> Result<Vec<Arc<CertifiedKey>>, TlsError> {
    let mut chains = Vec::new();
    for pem in options.cert.iter().flatten() {
        chains.push(keys::certificates(pem)?);
    }
    let mut out = Vec::new();
    for input in options.key.iter().flatten() {
        let passphrase = input
            .passphrase
            .as_deref()
            .or(options.passphrase.as_deref());
        let key_der = keys::private_key(&input.pem, passphrase)?;
        let key = provider
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| {
                TlsError::new("ERR_OSSL_UNSUPPORTED", format!("unusable private key: {e}"))
            })?;
        let algorithm = key.algorithm();
        // A key without a certificate of its type is accepted (Node too) and unused.
        let Some(chain) = chains.iter().find(|chain| {
            chain
                .first()
                .and_then(|leaf| keys::key_algorithm(leaf))
                .is_some_and(|a| a == algorithm)
        }) else {
            continue;
        };
        let certified = CertifiedKey::new(chain.clone(), key);
        certified.keys_match().map_err(|_| keys::key_mismatch())?;
        out.push(Arc::new(certified));
    }
    Ok(out)
}

/// One verifier per algorithm set (ring's, or the host's: see `record_provider`).
fn shared_verifier(algorithms: WebPkiSupportedAlgorithms) -> Arc<HandshakeVerifier> {
    static RING: OnceLock<Arc<HandshakeVerifier>> = OnceLock::new();
    static HOST: OnceLock<Arc<HandshakeVerifier>> = OnceLock::new();
    let ring = ring::default_provider().signature_verification_algorithms;
    let cell = match std::ptr::eq(algorithms.all, ring.all) {
        true => &RING,
        false => &HOST,
    };
    cell.get_or_init(|| HandshakeVerifier::new(algorithms))
        .clone()
}

/// Sends no certificate (shared, see `client_config`).
#[derive(Debug)]
struct NoClientCert;

impl rustls::client::ResolvesClientCert for NoClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        None
    }

    fn has_certs(&self) -> bool {
        false
    }
}

/// Resolvers of recent client certificates, so that a `session` made by one
/// `tls.connect({ cert, key })` resumes in the next with the same certificate
/// (rustls requires the very same resolver). The chain names the key pair:
/// `keys_match` has tied the key to the leaf's public key.
const SHARED_CLIENT_CERTS: usize = 64;

fn client_cert_resolver(keys: &[Arc<CertifiedKey>]) -> Arc<dyn rustls::client::ResolvesClientCert> {
    static NONE: OnceLock<Arc<NoClientCert>> = OnceLock::new();
    static RECENT: std::sync::Mutex<Vec<Arc<ClientCert>>> = std::sync::Mutex::new(Vec::new());
    let Some(key) = keys.first() else {
        return NONE.get_or_init(|| Arc::new(NoClientCert)).clone();
    };
    let Ok(mut recent) = RECENT.lock() else {
        return Arc::new(ClientCert(key.clone()));
    };
    if let Some(shared) = recent.iter().find(|r| r.0.cert == key.cert) {
        return shared.clone();
    }
    if recent.len() >= SHARED_CLIENT_CERTS {
        recent.remove(0);
    }
    let resolver = Arc::new(ClientCert(key.clone()));
    recent.push(resolver.clone());
    resolver
}

/// The certificate in a pfx that belongs to its key leads the chain.
fn pfx_certified_key(
    key_der: rustls::pki_types::PrivateKeyDer<'static>,
    certs: Vec<CertificateDer<'static>>,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| {
            TlsError::new(
                "ERR_OSSL_UNSUPPORTED",
                format!("unusable private key in pfx: {e}"),
            )
        })?;
    for (i, leaf) in certs.iter().enumerate() {
        let mut chain = vec![leaf.clone()];
        chain.extend(
            certs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c.clone()),
        );
        let certified = CertifiedKey::new(chain, key.clone());
        if certified.keys_match().is_ok() {
            return Ok(Arc::new(certified));
        }
    }
    Err(keys::key_mismatch())
}

/// Offers our certificate whenever a server asks (Node sends it regardless of the
/// CA names the server lists).
#[derive(Debug)]
struct ClientCert(Arc<CertifiedKey>);

impl rustls::client::ResolvesClientCert for ClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.0.key.choose_scheme(sigschemes).map(|_| self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_node_names() {
        assert_eq!(protocol_versions(None, None).unwrap().len(), 2);
        assert_eq!(
            protocol_versions(Some("TLSv1.3"), None).unwrap(),
            vec![&rustls::version::TLS13]
        );
        assert_eq!(
            protocol_versions(Some("TLSv1"), Some("TLSv1.2")).unwrap(),
            vec![&rustls::version::TLS12]
        );
        let err = protocol_versions(None, Some("TLSv1.1")).unwrap_err();
        assert_eq!(err.code, "ERR_TLS_INVALID_PROTOCOL_VERSION");
        let err = protocol_versions(Some("TLSv9"), None).unwrap_err();
        assert_eq!(err.message, "'TLSv9' is not a valid TLS protocol version");
    }

    #[test]
    fn bad_ca_is_an_error() {
        let bad = ContextOptions {
            ca: Some(vec!["not a certificate".into()]),
            ..Default::default()
        };
        assert_eq!(
            SecureContext::new(&bad).unwrap_err().code,
            "ERR_OSSL_PEM_NO_START_LINE"
        );
    }

    #[test]
    fn curves_by_name() {
        let all = ring::default_provider().kx_groups;
        assert_eq!(kx_groups("auto", &all).unwrap().len(), all.len());
        let picked = kx_groups("P-384:X25519", &all).unwrap();
        assert_eq!(picked[0].name(), rustls::NamedGroup::secp384r1);
        assert_eq!(
            kx_groups("bogus", &all).unwrap_err().code,
            "ERR_CRYPTO_OPERATION_FAILED"
        );
    }
}
