//! Record protection by the host's native AEADs (`js/host-crypto.js`: node:crypto
//! in Node, Deno and Bun), with rustls still running the record layer: it
//! derives the keys, counts sequence numbers and frames records; we only seal
//! and open, with nonces made exactly as RFC 8446 §5.3 / RFC 5288 §3 say
//! (`Nonce::new(iv, seq)`). ring in wasm stays the fallback, chosen per
//! algorithm when a secure context is made. Handshake signatures by our own
//! key go the same way (a node:crypto KeyObject made from the same DER).

use std::sync::{Arc, OnceLock};

use rustls::crypto::cipher::{
    make_tls12_aad, make_tls13_aad, AeadKey, InboundOpaqueMessage, InboundPlainMessage, Iv,
    KeyBlockShape, MessageDecrypter, MessageEncrypter, Nonce, OutboundOpaqueMessage,
    OutboundPlainMessage, PrefixedPayload, Tls12AeadAlgorithm, Tls13AeadAlgorithm,
    UnsupportedOperationError, NONCE_LEN,
};
use rustls::crypto::{CryptoProvider, KeyProvider, WebPkiSupportedAlgorithms};

use crate::records::Aead;
use rustls::pki_types::{
    AlgorithmIdentifier, InvalidSignature, PrivateKeyDer, SignatureVerificationAlgorithm,
    SubjectPublicKeyInfoDer,
};
use rustls::sign::{Signer, SigningKey};
use rustls::{
    ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion, SignatureAlgorithm,
    SignatureScheme, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/host-crypto.js")]
extern "C" {
    #[wasm_bindgen(js_name = hostCrypto)]
    fn host_crypto() -> u32;
    #[wasm_bindgen(js_name = hostKey)]
    fn host_key(key: &[u8]) -> u32;
    #[wasm_bindgen(js_name = hostKeyDrop)]
    fn host_key_drop(id: u32);
    #[wasm_bindgen(js_name = hostSeal)]
    fn host_seal(
        alg: u32,
        id: u32,
        nonce: &[u8],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8],
    ) -> bool;
    #[wasm_bindgen(js_name = hostSignKey)]
    fn host_sign_key(der: &[u8], kind: u32) -> i32;
    #[wasm_bindgen(js_name = hostSignKeyDrop)]
    fn host_sign_key_drop(id: i32);
    #[wasm_bindgen(js_name = hostSign)]
    fn host_sign(id: i32, scheme: u16, message: &[u8]) -> Option<Vec<u8>>;
    #[wasm_bindgen(js_name = hostVerify)]
    fn host_verify(
        kind: u32,
        hash: u32,
        min_bits: u32,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> bool;
    #[wasm_bindgen(js_name = hostOpen)]
    fn host_open(alg: u32, id: u32, nonce: &[u8], aad: &[u8], data: &mut [u8], tag: &[u8]) -> bool;
}

/// `hostCrypto()` bits: making handshake signatures, checking signatures, and
/// AES-GCM records handed to the host after the handshake (`records`).
const SIGN: u32 = 8;
const VERIFY: u32 = 16;
const RECORDS_AES: u32 = 32;
const TAG_LEN: usize = 16;
const MAX_FRAGMENT_LEN: usize = 16384;

/// One traffic key, held by the JS side (a copy made once), zeroed and freed on drop.
struct HostKey {
    alg: Aead,
    id: u32,
}

impl HostKey {
    fn new(alg: Aead, key: &AeadKey) -> HostKey {
        HostKey {
            alg,
            id: host_key(key.as_ref()),
        }
    }

    /// Encrypts `buf[..len - 16]` in place, the tag going to the last 16 bytes.
    fn seal(&self, nonce: &Nonce, aad: &[u8], buf: &mut [u8]) -> Result<(), Error> {
        let at = buf.len().checked_sub(TAG_LEN).ok_or(Error::EncryptError)?;
        let (data, tag) = buf.split_at_mut_checked(at).ok_or(Error::EncryptError)?;
        match host_seal(self.alg as u32, self.id, &nonce.0, aad, data, tag) {
            true => Ok(()),
            false => Err(Error::EncryptError),
        }
    }

    /// Checks the tag at the end of `buf` and decrypts the rest in place; returns its length.
    fn open(&self, nonce: &Nonce, aad: &[u8], buf: &mut [u8]) -> Result<usize, Error> {
        let at = buf.len().checked_sub(TAG_LEN).ok_or(Error::DecryptError)?;
        let (data, tag) = buf.split_at_mut_checked(at).ok_or(Error::DecryptError)?;
        match host_open(self.alg as u32, self.id, &nonce.0, aad, data, tag) {
            true => Ok(at),
            false => Err(Error::DecryptError),
        }
    }
}

impl Drop for HostKey {
    fn drop(&mut self) {
        host_key_drop(self.id);
    }
}

/// An `Iv` from bytes rustls sized by our key block shape.
fn iv_of(parts: &[&[u8]]) -> Iv {
    Iv::new(nonce_bytes(parts))
}

/// 12 bytes, concatenated (rustls sizes the parts by our key block shape).
fn nonce_bytes(parts: &[&[u8]]) -> [u8; NONCE_LEN] {
    let mut iv = [0u8; NONCE_LEN];
    let mut at = 0;
    for part in parts {
        for b in part.iter() {
            if let Some(slot) = iv.get_mut(at) {
                *slot = *b;
            }
            at += 1;
        }
    }
    iv
}

// --- TLS 1.3 ---------------------------------------------------------------

struct Tls13Aead(Aead);

struct Tls13Cipher {
    key: HostKey,
    iv: Iv,
}

impl Tls13AeadAlgorithm for Tls13Aead {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        let key = HostKey::new(self.0, &key);
        Box::new(Tls13Cipher { key, iv })
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        let key = HostKey::new(self.0, &key);
        Box::new(Tls13Cipher { key, iv })
    }

    fn key_len(&self) -> usize {
        self.0.key_len()
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(self.0.secrets(key, iv))
    }
}

impl MessageEncrypter for Tls13Cipher {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        payload.extend_from_chunks(&msg.payload);
        payload.extend_from_slice(&msg.typ.to_array());
        payload.extend_from_slice(&[0; TAG_LEN]);
        let nonce = Nonce::new(&self.iv, seq);
        self.key
            .seal(&nonce, &make_tls13_aad(total_len), payload.as_mut())?;
        // RFC 8446 §5.2: the outer type and version are fixed.
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            ProtocolVersion::TLSv1_2,
            payload,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl MessageDecrypter for Tls13Cipher {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let nonce = Nonce::new(&self.iv, seq);
        let aad = make_tls13_aad(payload.len());
        let plain_len = self.key.open(&nonce, &aad, payload)?;
        payload.truncate(plain_len);
        msg.into_tls13_unpadded_message()
    }
}

// --- TLS 1.2 ---------------------------------------------------------------

struct Tls12Aead(Aead);

/// AES-GCM (RFC 5288): nonce = 4-byte salt from the key block ‖ 8 explicit
/// bytes sent in the record; ours are the key block's 8 bytes XOR the sequence
/// number, as rustls' own providers make them (never repeated under one key).
/// ChaCha20-Poly1305 (RFC 7905): nonce = IV XOR sequence number, nothing sent.
struct Tls12Cipher {
    key: HostKey,
    iv: Iv,
    /// How many nonce bytes each record carries: 8 for AES-GCM, 0 for ChaCha.
    explicit: usize,
}

impl Tls12AeadAlgorithm for Tls12Aead {
    fn encrypter(&self, key: AeadKey, iv: &[u8], extra: &[u8]) -> Box<dyn MessageEncrypter> {
        Box::new(Tls12Cipher {
            key: HostKey::new(self.0, &key),
            iv: iv_of(&[iv, extra]),
            explicit: self.0.tls12_explicit_nonce_len(),
        })
    }

    fn decrypter(&self, key: AeadKey, iv: &[u8]) -> Box<dyn MessageDecrypter> {
        // For AES-GCM only the 4-byte salt: the rest of each nonce comes with its record.
        Box::new(Tls12Cipher {
            key: HostKey::new(self.0, &key),
            iv: iv_of(&[iv]),
            explicit: self.0.tls12_explicit_nonce_len(),
        })
    }

    fn key_block_shape(&self) -> KeyBlockShape {
        KeyBlockShape {
            enc_key_len: self.0.key_len(),
            fixed_iv_len: NONCE_LEN - self.0.tls12_explicit_nonce_len(),
            explicit_nonce_len: self.0.tls12_explicit_nonce_len(),
        }
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: &[u8],
        explicit: &[u8],
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok(self.0.secrets(key, iv_of(&[iv, explicit])))
    }
}

impl MessageEncrypter for Tls12Cipher {
    fn encrypt(
        &mut self,
        msg: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(msg.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        let nonce = Nonce::new(&self.iv, seq);
        let aad = make_tls12_aad(seq, msg.typ, msg.version, msg.payload.len());
        let sent = nonce.0.get(NONCE_LEN - self.explicit..);
        payload.extend_from_slice(sent.ok_or(Error::EncryptError)?);
        payload.extend_from_chunks(&msg.payload);
        payload.extend_from_slice(&[0; TAG_LEN]);
        let sealed = payload.as_mut().get_mut(self.explicit..);
        self.key
            .seal(&nonce, &aad, sealed.ok_or(Error::EncryptError)?)?;
        Ok(OutboundOpaqueMessage::new(msg.typ, msg.version, payload))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + self.explicit + TAG_LEN
    }
}

impl MessageDecrypter for Tls12Cipher {
    fn decrypt<'a>(
        &mut self,
        mut msg: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut msg.payload;
        let (sent, sealed) = payload
            .split_at_mut_checked(self.explicit)
            .ok_or(Error::DecryptError)?;
        let plain = sealed
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::DecryptError)?;
        let nonce = match self.explicit {
            0 => Nonce::new(&self.iv, seq),
            n => {
                let salt = self.iv.as_ref().get(..NONCE_LEN - n);
                Nonce(nonce_bytes(&[salt.ok_or(Error::DecryptError)?, sent]))
            }
        };
        let aad = make_tls12_aad(seq, msg.typ, msg.version, plain);
        self.key.open(&nonce, &aad, sealed)?;
        if plain > MAX_FRAGMENT_LEN {
            return Err(Error::PeerSentOversizedRecord);
        }
        Ok(msg.into_plain_message_range(self.explicit..self.explicit + plain))
    }
}

// --- the provider ------------------------------------------------------------

static AEADS_13: [Tls13Aead; 3] = [
    Tls13Aead(Aead::Aes128Gcm),
    Tls13Aead(Aead::Aes256Gcm),
    Tls13Aead(Aead::Chacha20Poly1305),
];
static AEADS_12: [Tls12Aead; 3] = [
    Tls12Aead(Aead::Aes128Gcm),
    Tls12Aead(Aead::Aes256Gcm),
    Tls12Aead(Aead::Chacha20Poly1305),
];

/// ring's suites with their AEADs swapped for the host's (made once).
fn host_suites() -> &'static [SupportedCipherSuite] {
    static SUITES: OnceLock<Vec<SupportedCipherSuite>> = OnceLock::new();
    SUITES.get_or_init(|| {
        rustls::crypto::ring::ALL_CIPHER_SUITES
            .iter()
            .map(|s| swap_aead(*s))
            .collect()
    })
}

fn swap_aead(suite: SupportedCipherSuite) -> SupportedCipherSuite {
    let Some(alg) = Aead::of(suite.suite()) else {
        return suite;
    };
    let index = alg as usize;
    match suite {
        SupportedCipherSuite::Tls13(s) => match AEADS_13.get(index) {
            Some(aead) => SupportedCipherSuite::Tls13(Box::leak(Box::new(Tls13CipherSuite {
                common: rustls::crypto::CipherSuiteCommon {
                    suite: s.common.suite,
                    hash_provider: s.common.hash_provider,
                    confidentiality_limit: s.common.confidentiality_limit,
                },
                hkdf_provider: s.hkdf_provider,
                aead_alg: aead,
                quic: s.quic,
            }))),
            None => suite,
        },
        SupportedCipherSuite::Tls12(s) => match AEADS_12.get(index) {
            Some(aead) => SupportedCipherSuite::Tls12(Box::leak(Box::new(Tls12CipherSuite {
                common: rustls::crypto::CipherSuiteCommon {
                    suite: s.common.suite,
                    hash_provider: s.common.hash_provider,
                    confidentiality_limit: s.common.confidentiality_limit,
                },
                prf_provider: s.prf_provider,
                kx: s.kx,
                sign: s.sign,
                aead_alg: aead,
            }))),
            None => suite,
        },
    }
}

/// `base` with each suite whose AEAD the host has natively switched to it, and
/// our keys signing through the host; unchanged where the host has none
/// (browsers, workerd) or it is switched off.
pub fn provider(base: CryptoProvider) -> CryptoProvider {
    let mask = host_crypto();
    let base = chacha_first_without_native_aes(base, mask);
    let mask = mask & !RECORDS_AES;
    if mask == 0 {
        return base;
    }
    let native = |s: &SupportedCipherSuite| {
        Aead::of(s.suite()).is_some_and(|alg| mask & (1 << alg as u32) != 0)
    };
    let cipher_suites = base
        .cipher_suites
        .iter()
        .map(
            |s| match host_suites().iter().find(|h| h.suite() == s.suite()) {
                Some(h) if native(s) => *h,
                _ => *s,
            },
        )
        .collect();
    let key_provider: &'static dyn KeyProvider = match mask & SIGN {
        0 => base.key_provider,
        _ => &HostKeys,
    };
    let signature_verification_algorithms = match mask & VERIFY {
        0 => base.signature_verification_algorithms,
        _ => host_verification(base.signature_verification_algorithms),
    };
    CryptoProvider {
        cipher_suites,
        key_provider,
        signature_verification_algorithms,
        ..base
    }
}

// --- signature verification ---------------------------------------------------

/// One of webpki's ring algorithms, checked by the host. The host's "valid" is
/// final; anything else (a bad signature, a key it cannot load, an RSA key
/// outside the algorithm's size range) is decided by ring, so failures and
/// their errors stay exactly ring's.
#[derive(Debug)]
struct HostVerify {
    ring: &'static dyn SignatureVerificationAlgorithm,
    /// For `hostVerify`: 0 RSA PKCS#1 v1.5, 1 RSA-PSS, 2 ECDSA P-256, 3 ECDSA P-384, 4 Ed25519.
    kind: u32,
    /// 0 SHA-256, 1 SHA-384, 2 SHA-512, 3 none (Ed25519).
    hash: u32,
    /// RSA: the smallest modulus ring's algorithm accepts.
    min_bits: u32,
}

impl SignatureVerificationAlgorithm for HostVerify {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        if host_verify(
            self.kind,
            self.hash,
            self.min_bits,
            public_key,
            message,
            signature,
        ) {
            return Ok(());
        }
        self.ring.verify_signature(public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.ring.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.ring.signature_alg_id()
    }
}

/// `ring`'s algorithm set with each algorithm the host can check wrapped (made once).
fn host_verification(ring: WebPkiSupportedAlgorithms) -> WebPkiSupportedAlgorithms {
    static HOST: OnceLock<WebPkiSupportedAlgorithms> = OnceLock::new();
    *HOST.get_or_init(|| {
        use webpki::ring as w;
        // ring's algorithms are told apart by their identifiers (their addresses
        // differ from crate to crate).
        let table: [(&'static dyn SignatureVerificationAlgorithm, u32, u32, u32); 14] = [
            (w::RSA_PKCS1_2048_8192_SHA256, 0, 0, 2048),
            (w::RSA_PKCS1_2048_8192_SHA384, 0, 1, 2048),
            (w::RSA_PKCS1_2048_8192_SHA512, 0, 2, 2048),
            (w::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS, 0, 0, 2048),
            (w::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS, 0, 1, 2048),
            (w::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS, 0, 2, 2048),
            (w::RSA_PSS_2048_8192_SHA256_LEGACY_KEY, 1, 0, 2048),
            (w::RSA_PSS_2048_8192_SHA384_LEGACY_KEY, 1, 1, 2048),
            (w::RSA_PSS_2048_8192_SHA512_LEGACY_KEY, 1, 2, 2048),
            (w::ECDSA_P256_SHA256, 2, 0, 0),
            (w::ECDSA_P256_SHA384, 2, 1, 0),
            (w::ECDSA_P384_SHA256, 3, 0, 0),
            (w::ECDSA_P384_SHA384, 3, 1, 0),
            (w::ED25519, 4, 3, 0),
        ];
        type Alg = &'static dyn SignatureVerificationAlgorithm;
        let same = |a: &Alg, b: &Alg| {
            a.public_key_alg_id() == b.public_key_alg_id()
                && a.signature_alg_id() == b.signature_alg_id()
        };
        let all: Vec<Alg> = ring
            .all
            .iter()
            .map(|alg| match table.iter().find(|(r, ..)| same(r, alg)) {
                Some(&(_, kind, hash, min_bits)) => {
                    let host: Alg = Box::leak(Box::new(HostVerify {
                        ring: *alg,
                        kind,
                        hash,
                        min_bits,
                    }));
                    host
                }
                None => *alg,
            })
            .collect();
        // The per-scheme lists reuse the wrapped algorithms of `all`.
        let mapping: Vec<(SignatureScheme, &'static [Alg])> = ring
            .mapping
            .iter()
            .map(|(scheme, algs)| {
                let algs: Vec<Alg> = algs
                    .iter()
                    .map(|a| *all.iter().find(|h| same(h, a)).unwrap_or(a))
                    .collect();
                let algs: &'static [Alg] = Box::leak(algs.into_boxed_slice());
                (*scheme, algs)
            })
            .collect();
        WebPkiSupportedAlgorithms {
            all: Box::leak(all.into_boxed_slice()),
            mapping: Box::leak(mapping.into_boxed_slice()),
        }
    })
}

/// Where AES-GCM would run in wasm after the handshake too (no constant-time
/// AES instructions there, and no WebCrypto to hand records to),
/// ChaCha20-Poly1305 is about 3 times faster, so it leads each version's
/// suites (a peer that honours our order picks it). An explicit `ciphers`
/// list keeps its own order.
fn chacha_first_without_native_aes(mut base: CryptoProvider, mask: u32) -> CryptoProvider {
    let aes = (1 << Aead::Aes128Gcm as u32) | (1 << Aead::Aes256Gcm as u32) | RECORDS_AES;
    if mask & aes == 0 {
        base.cipher_suites.sort_by_key(|s| {
            (
                matches!(s, SupportedCipherSuite::Tls12(_)),
                Aead::of(s.suite()) != Some(Aead::Chacha20Poly1305),
            )
        });
    }
    base
}

// --- handshake signatures -----------------------------------------------------

/// Loads keys as ring does (same checks, same schemes), then signs through the host.
#[derive(Debug)]
struct HostKeys;

impl KeyProvider for HostKeys {
    fn load_private_key(&self, der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, Error> {
        let kind = match &der {
            PrivateKeyDer::Pkcs1(_) => 0,
            PrivateKeyDer::Sec1(_) => 1,
            _ => 2,
        };
        let id = host_sign_key(der.secret_der(), kind);
        let ring = rustls::crypto::ring::default_provider()
            .key_provider
            .load_private_key(der)?;
        if id < 0 {
            return Ok(ring);
        }
        Ok(Arc::new(HostSigningKey {
            ring,
            id: Arc::new(SignKeyId(id)),
        }))
    }
}

#[derive(Debug)]
struct SignKeyId(i32);

impl Drop for SignKeyId {
    fn drop(&mut self) {
        host_sign_key_drop(self.0);
    }
}

#[derive(Debug)]
struct HostSigningKey {
    ring: Arc<dyn SigningKey>,
    id: Arc<SignKeyId>,
}

impl SigningKey for HostSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let ring = self.ring.choose_scheme(offered)?;
        Some(Box::new(HostSigner {
            id: self.id.clone(),
            ring,
        }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.ring.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.ring.algorithm()
    }
}

/// Signs with the scheme ring chose; ring signs whatever the host cannot.
#[derive(Debug)]
struct HostSigner {
    id: Arc<SignKeyId>,
    ring: Box<dyn Signer>,
}

impl Signer for HostSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match host_sign(self.id.0, u16::from(self.ring.scheme()), message) {
            Some(signature) => Ok(signature),
            None => self.ring.sign(message),
        }
    }

    fn scheme(&self) -> SignatureScheme {
        self.ring.scheme()
    }
}

/// Whether records under `suite` are protected by the host.
pub fn is_host_suite(suite: SupportedCipherSuite) -> bool {
    host_suites().iter().any(|h| match (h, suite) {
        (SupportedCipherSuite::Tls13(a), SupportedCipherSuite::Tls13(b)) => std::ptr::eq(*a, b),
        (SupportedCipherSuite::Tls12(a), SupportedCipherSuite::Tls12(b)) => std::ptr::eq(*a, b),
        _ => false,
    })
}
