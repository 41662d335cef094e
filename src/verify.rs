//! Certificate verification, Node-style. As in Node (where OpenSSL's verify
//! callback accepts everything and `onConnectSecure` decides), the handshake
//! itself only checks that the peer holds the key of the certificate it sent;
//! the chain is judged once the handshake is done, and the verdict carries
//! OpenSSL's code so the JS layer can set `authorized`/`authorizationError` and
//! honour `rejectUnauthorized`. No application data moves before that verdict.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, ServerName,
    SignatureVerificationAlgorithm, SubjectPublicKeyInfoDer, UnixTime,
};
use rustls::{
    CertificateError, DigitallySignedStruct, Error, PeerMisbehaved, RootCertStore, SignatureScheme,
};

use crate::roots::Roots;

mod openssl;

/// OpenSSL's verification result, as Node exposes it (`err.code`, `err.message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub code: &'static str,
    pub message: &'static str,
}

impl VerifyError {
    const fn new(code: &'static str, message: &'static str) -> Self {
        VerifyError { code, message }
    }
}

thread_local! {
    /// The OCSP response stapled to the certificate being verified. rustls hands
    /// it only to the verifier, which is shared by every connection (resumption
    /// needs the same verifier), so the engine collects it from here right after
    /// the `process_new_packets` call that verified the certificate: same thread,
    /// same call.
    static STAPLED_OCSP: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// Takes the OCSP response stapled during the last certificate verification on this thread.
pub fn take_stapled_ocsp() -> Option<Vec<u8>> {
    STAPLED_OCSP.with(|slot| slot.take())
}

/// Checks handshake signatures against the certificate's key; defers the chain.
///
/// rustls checks them through webpki, which refuses some certificates outright
/// (X.509 v1, unknown critical extensions, ...) and, with ring, RSA keys under
/// 2048 bits. OpenSSL accepts such certificates in the handshake and leaves the
/// verdict on them to the chain check, so when webpki fails on one of them the
/// signature is checked again against the certificate's key (see
/// `fallback_key`): by the same rules (scheme advertised, key type matching the
/// scheme, no PKCS#1 and the scheme's curve in TLS 1.3), with the same ring
/// algorithms, and for RSA keys of 1024 to 2047 bits with `crate::small_rsa`. The
/// fallback never skips the check: it only widens which keys can make a valid
/// signature. Client certificates (server side) are checked the same way.
#[derive(Debug)]
pub struct HandshakeVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl HandshakeVerifier {
    pub fn new(algorithms: WebPkiSupportedAlgorithms) -> Arc<Self> {
        Arc::new(HandshakeVerifier { algorithms })
    }

    /// The ring algorithms rustls would use for `scheme`, or rustls' own error
    /// for a scheme we did not advertise. For RSA schemes each is wrapped to
    /// accept keys under 2048 bits as well.
    fn candidates(&self, scheme: SignatureScheme) -> Result<Vec<Candidate>, Error> {
        let algorithms = self
            .algorithms
            .mapping
            .iter()
            .find(|(s, _)| *s == scheme)
            .map(|(_, algs)| *algs)
            .ok_or(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)?;
        Ok(algorithms
            .iter()
            .map(|alg| match small_rsa_scheme(scheme) {
                Some(small) => Candidate::Rsa(AnySizeRsa {
                    strict: *alg,
                    small,
                }),
                None => Candidate::Plain(*alg),
            })
            .collect())
    }

    /// TLS 1.2 over the fallback key, as `rustls::crypto::verify_tls12_signature`
    /// does it over webpki's: any algorithm of the scheme whose key type matches.
    fn verify_tls12_fallback(
        &self,
        message: &[u8],
        spki: &SubjectPublicKeyInfoDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        // rustls first refuses schemes without a signature algorithm; none of
        // those is in the mapping, so `candidates` refuses them the same way.
        let candidates = self.candidates(dss.scheme)?;
        let key = webpki::RawPublicKeyEntity::try_from(spki).map_err(signature_error)?;
        let mut last = webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(
            webpki::UnsupportedSignatureAlgorithmForPublicKeyContext {
                signature_algorithm_id: Vec::new(),
                public_key_algorithm_id: Vec::new(),
            },
        );
        for candidate in &candidates {
            match key.verify_signature(candidate.algorithm(), message, dss.signature()) {
                Ok(()) => return Ok(HandshakeSignatureValid::assertion()),
                Err(err @ webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => {
                    last = err;
                }
                Err(err) => return Err(signature_error(err)),
            }
        }
        Err(signature_error(last))
    }

    /// TLS 1.3 over the fallback key, as `rustls::crypto::verify_tls13_signature`:
    /// a TLS 1.3 scheme (no PKCS#1) and its first algorithm only, so an ECDSA
    /// scheme must come with its own curve.
    fn verify_tls13_fallback(
        &self,
        message: &[u8],
        spki: &SubjectPublicKeyInfoDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        if !allowed_in_tls13(dss.scheme) {
            return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
        }
        let candidates = self.candidates(dss.scheme)?;
        let candidate = candidates
            .first()
            .ok_or(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme)?;
        let key = webpki::RawPublicKeyEntity::try_from(spki).map_err(signature_error)?;
        key.verify_signature(candidate.algorithm(), message, dss.signature())
            .map_err(signature_error)?;
        Ok(HandshakeSignatureValid::assertion())
    }
}

impl ServerCertVerifier for HandshakeVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        // Judged by `verify_chain` when the handshake completes (see module docs).
        if !ocsp_response.is_empty() {
            STAPLED_OCSP.with(|slot| slot.replace(Some(ocsp_response.to_vec())));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let err = match verify_tls12_signature(message, cert, dss, &self.algorithms) {
            Ok(valid) => return Ok(valid),
            Err(err) => err,
        };
        match fallback_key(cert) {
            Some(spki) => self.verify_tls12_fallback(message, &spki, dss),
            None => Err(err),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let err = match verify_tls13_signature(message, cert, dss, &self.algorithms) {
            Ok(valid) => return Ok(valid),
            Err(err) => err,
        };
        match fallback_key(cert) {
            Some(spki) => self.verify_tls13_fallback(message, &spki, dss),
            None => Err(err),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The smallest RSA modulus ring's TLS algorithms accept.
const RSA_STRICT_MIN_BITS: usize = 2048;
/// The smallest RSA modulus the fallback accepts (ring's legacy floor too).
/// Node 20 (OpenSSL at security level 1) completes a TLS 1.2 handshake with a
/// smaller key but never trusts it (EE_KEY_TOO_SMALL); `verify_chain` does not
/// judge the leaf's key size, so such keys are refused here instead.
const RSA_LEGACY_MIN_BITS: usize = 1024;

/// The key of a certificate that webpki will not check handshake signatures
/// with: one it cannot read as an end entity (X.509 v1, ...), or whose key is
/// RSA under 2048 bits. `None` otherwise, and then rustls' verdict stands.
///
/// The key is webpki's own reading of the certificate wherever webpki can read
/// it, as an end entity or else as a trust anchor (which covers v1): so the key
/// that signed the handshake is the very one `verify_chain` judges, and no
/// difference between two parsers can pair a trusted certificate with another
/// key. Our own reading (`crate::x509`) serves only certificates webpki reads
/// neither way, which `verify_chain` never trusts.
fn fallback_key(cert: &CertificateDer<'_>) -> Option<SubjectPublicKeyInfoDer<'static>> {
    if let Ok(end_entity) = webpki::EndEntityCert::try_from(cert) {
        let spki = end_entity.subject_public_key_info();
        return is_small_rsa(spki.as_ref()).then_some(spki);
    }
    if let Ok(anchor) = webpki::anchor_from_trusted_cert(cert) {
        return Some(webpki::spki_for_anchor(&anchor));
    }
    // Nothing may follow the certificate (OpenSSL: "cert length mismatch").
    let parsed = crate::x509::Certificate::parse_exact(cert.as_ref())?;
    Some(SubjectPublicKeyInfoDer::from(parsed.spki.to_vec()))
}

/// Whether a SubjectPublicKeyInfo holds an RSA key under 2048 bits.
fn is_small_rsa(spki: &[u8]) -> bool {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let Some((RSA_ENCRYPTION, key)) = spki_parts(spki) else {
        return false;
    };
    rsa_public_key(key).is_some_and(|key| key.bits < RSA_STRICT_MIN_BITS)
}

/// The schemes a TLS 1.3 peer may sign with (RFC 8446, 4.2.3): no PKCS#1
/// v1.5, no SHA-1, and ECDSA bound to its curve. rustls keeps the same rule
/// (as a list of what is refused); none of what it allows beyond these is in
/// ring's mapping.
fn allowed_in_tls13(scheme: SignatureScheme) -> bool {
    matches!(
        scheme,
        SignatureScheme::ECDSA_NISTP256_SHA256
            | SignatureScheme::ECDSA_NISTP384_SHA384
            | SignatureScheme::ECDSA_NISTP521_SHA512
            | SignatureScheme::RSA_PSS_SHA256
            | SignatureScheme::RSA_PSS_SHA384
            | SignatureScheme::RSA_PSS_SHA512
            | SignatureScheme::ED25519
            | SignatureScheme::ED448
    )
}

/// rustls' mapping of webpki's verdict on a handshake signature.
fn signature_error(err: webpki::Error) -> Error {
    use webpki::Error as E;
    match err {
        E::InvalidSignatureForPublicKey => CertificateError::BadSignature.into(),
        E::UnsupportedSignatureAlgorithmForPublicKeyContext(cx) => {
            CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
                signature_algorithm_id: cx.signature_algorithm_id,
                public_key_algorithm_id: cx.public_key_algorithm_id,
            }
            .into()
        }
        _ => CertificateError::BadEncoding.into(),
    }
}

/// An algorithm a handshake signature may be checked with.
enum Candidate {
    Plain(&'static dyn SignatureVerificationAlgorithm),
    Rsa(AnySizeRsa),
}

impl Candidate {
    fn algorithm(&self) -> &dyn SignatureVerificationAlgorithm {
        match self {
            Candidate::Plain(alg) => *alg,
            Candidate::Rsa(alg) => alg,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Padding {
    Pkcs1,
    Pss,
}

#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// How an RSA signature scheme pads and hashes, for keys ring refuses.
#[derive(Debug, Clone, Copy)]
struct SmallRsa {
    padding: Padding,
    hash: Hash,
}

fn small_rsa_scheme(scheme: SignatureScheme) -> Option<SmallRsa> {
    let (padding, hash) = match scheme {
        SignatureScheme::RSA_PKCS1_SHA256 => (Padding::Pkcs1, Hash::Sha256),
        SignatureScheme::RSA_PKCS1_SHA384 => (Padding::Pkcs1, Hash::Sha384),
        SignatureScheme::RSA_PKCS1_SHA512 => (Padding::Pkcs1, Hash::Sha512),
        SignatureScheme::RSA_PSS_SHA256 => (Padding::Pss, Hash::Sha256),
        SignatureScheme::RSA_PSS_SHA384 => (Padding::Pss, Hash::Sha384),
        SignatureScheme::RSA_PSS_SHA512 => (Padding::Pss, Hash::Sha512),
        _ => return None,
    };
    Some(SmallRsa { padding, hash })
}

/// An RSA algorithm of rustls' (ring's, 2048 to 8192 bits) that also takes
/// keys of 1024 to 2047 bits, checked by `crate::small_rsa` with the same padding
/// rules: PKCS#1 v1.5 with the DigestInfo, or PSS with MGF1 of the same hash
/// and a salt as long as the hash (RFC 8446, 4.2.3). The key type (its
/// AlgorithmIdentifier) is the wrapped algorithm's.
#[derive(Debug)]
struct AnySizeRsa {
    strict: &'static dyn SignatureVerificationAlgorithm,
    small: SmallRsa,
}

impl SignatureVerificationAlgorithm for AnySizeRsa {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = rsa_public_key(public_key).ok_or(InvalidSignature)?;
        if key.bits >= RSA_STRICT_MIN_BITS {
            return self.strict.verify_signature(public_key, message, signature);
        }
        if key.bits < RSA_LEGACY_MIN_BITS {
            return Err(InvalidSignature);
        }
        verify_small_rsa(&key, self.small, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.strict.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.strict.signature_alg_id()
    }

    fn fips(&self) -> bool {
        false
    }
}

/// An RSAPublicKey (PKCS#1, strict DER): modulus and exponent as unsigned
/// big-endian bytes without leading zeros, and the modulus' length in bits.
struct RsaKey<'a> {
    modulus: &'a [u8],
    exponent: &'a [u8],
    bits: usize,
}

fn rsa_public_key(der: &[u8]) -> Option<RsaKey<'_>> {
    let key = crate::der::only(der)?;
    let [n, e] = key.sequence()?[..] else {
        return None;
    };
    if ![key, n, e].iter().all(|t| t.minimal_length()) {
        return None;
    }
    let modulus = n.magnitude()?;
    let top = modulus.first().filter(|b| **b != 0)?;
    let bits = modulus.len().checked_mul(8)? - top.leading_zeros() as usize;
    Some(RsaKey {
        modulus,
        exponent: e.magnitude()?,
        bits,
    })
}

/// PKCS#1 v1.5 or PSS verification for a key ring refuses as too small.
fn verify_small_rsa(
    key: &RsaKey<'_>,
    scheme: SmallRsa,
    message: &[u8],
    signature: &[u8],
) -> Result<(), InvalidSignature> {
    use ring::digest;
    let hash = match scheme.hash {
        Hash::Sha256 => &digest::SHA256,
        Hash::Sha384 => &digest::SHA384,
        Hash::Sha512 => &digest::SHA512,
    };
    let padding = match scheme.padding {
        Padding::Pkcs1 => crate::small_rsa::Padding::Pkcs1,
        Padding::Pss => crate::small_rsa::Padding::Pss,
    };
    let key = crate::small_rsa::PublicKey {
        modulus: key.modulus,
        exponent: key.exponent,
    };
    crate::small_rsa::verify(&key, padding, hash, message, signature).ok_or(InvalidSignature)
}

/// Judges a server's chain (leaf first, as sent) against `roots`, returning
/// OpenSSL's code for the first problem, or `None` if it is trusted.
/// The host name is not checked here: Node does that in `checkServerIdentity`.
/// With `crls` (Node's `crl` option), as in Node every certificate in the chain
/// must be covered by a current CRL of its issuer.
pub fn verify_chain(
    chain: &[CertificateDer<'_>],
    roots: &Roots,
    ca_certs: &[CertificateDer<'_>],
    crls: &[webpki::CertRevocationList<'_>],
    now: UnixTime,
    algorithms: &WebPkiSupportedAlgorithms,
    usage: webpki::KeyUsage,
) -> Option<VerifyError> {
    let verdict = judge_chain(chain, roots, ca_certs, crls, now, algorithms, usage);
    // Without Mozilla's set a chain may fail only for want of it: say so.
    match verdict {
        Some(_) if roots.default_missing() => Some(VerifyError::new(
            "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
            "unable to get local issuer certificate (the default root certificates were not loaded: \
             see wasm-tls' loadDefaultRoots())",
        )),
        verdict => verdict,
    }
}

fn judge_chain(
    chain: &[CertificateDer<'_>],
    roots: &RootCertStore,
    ca_certs: &[CertificateDer<'_>],
    crls: &[webpki::CertRevocationList<'_>],
    now: UnixTime,
    algorithms: &WebPkiSupportedAlgorithms,
    usage: webpki::KeyUsage,
) -> Option<VerifyError> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Some(VerifyError::new(
            "UNABLE_TO_GET_ISSUER_CERT",
            "unable to get issuer certificate",
        ));
    };
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|b| {
            b.with_depth(webpki::RevocationCheckDepth::Chain)
                .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                .build()
        });
    let server = usage
        .oid_values()
        .eq(webpki::KeyUsage::server_auth().oid_values());
    let result = webpki::EndEntityCert::try_from(leaf).and_then(|ee| {
        ee.verify_for_usage(
            algorithms.all,
            &roots.roots,
            intermediates,
            now,
            usage,
            revocation,
            None,
        )
        .map(|path| {
            let used: Vec<CertificateDer<'_>> =
                path.intermediate_certificates().map(|c| c.der()).collect();
            let anchor = path.anchor();
            let root = ca_certs.iter().find(|c| {
                webpki::anchor_from_trusted_cert(c).is_ok_and(|a| {
                    a.subject.as_ref() == anchor.subject.as_ref()
                        && a.subject_public_key_info.as_ref()
                            == anchor.subject_public_key_info.as_ref()
                })
            });
            openssl::accepted_path_error(leaf, &used, root, now, server)
        })
    });
    let err = match result {
        Ok(verdict) => return verdict,
        Err(err) => err,
    };
    if let Some(verdict) = leaf_is_trusted_itself(leaf, roots, now) {
        return verdict;
    }
    if let Some(verdict) = v1_leaf_signed_by_ca(leaf, ca_certs, now) {
        return verdict;
    }
    // A chain that does not lead to a trusted root fails for that in Node,
    // over what is wrong with the leaf's extensions or signature; the leaf's
    // dates and its CAs' basicConstraints (OpenSSL reports those later) win.
    let path = issuer_path(chain);
    if !openssl::reaches_root(&path, roots) {
        let leaf_dates = crate::certinfo::validity(leaf)
            .ok()
            .and_then(|(from, to)| openssl::period_error(from, to, now));
        let ca_flags = matches!(
            err,
            webpki::Error::EndEntityUsedAsCa | webpki::Error::PathLenConstraintViolated
        );
        return Some(match leaf_dates {
            Some(dates) => dates,
            None if ca_flags => openssl_code(&err, chain, ca_certs),
            None => untrusted_code(&path),
        });
    }
    Some(openssl_code(&err, chain, ca_certs))
}

/// OpenSSL accepts an X.509 v1 leaf, which webpki refuses to parse as an end
/// entity. When a `ca` certificate issued it directly, judge it as OpenSSL
/// would: the issuer's signature over it, and both validity periods (a v1
/// certificate has no extensions to check). `None` when no `ca` certificate
/// issued such a leaf.
fn v1_leaf_signed_by_ca(
    leaf: &CertificateDer<'_>,
    ca_certs: &[CertificateDer<'_>],
    now: UnixTime,
) -> Option<Option<VerifyError>> {
    use crate::x509::Certificate;
    let cert = Certificate::parse(leaf.as_ref())?.0;
    if cert.version != 0 {
        return None;
    }
    let issuer = ca_certs.iter().find_map(|ca| {
        let ca = Certificate::parse(ca.as_ref())?.0;
        let signed = ca.subject == cert.issuer && signed_by(&cert, &ca);
        signed.then_some(ca)
    })?;
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let periods = [&cert, &issuer];
    Some(if periods.iter().any(|c| now < c.not_before.unix) {
        Some(VerifyError::new(
            "CERT_NOT_YET_VALID",
            "certificate is not yet valid",
        ))
    } else if periods.iter().any(|c| now > c.not_after.unix) {
        Some(VerifyError::new(
            "CERT_HAS_EXPIRED",
            "certificate has expired",
        ))
    } else {
        None
    })
}

/// A SubjectPublicKeyInfo's algorithm OID contents and key bytes.
fn spki_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let [algorithm, key] = crate::der::only(spki)?.sequence()?[..] else {
        return None;
    };
    let (oid, _) = crate::der::algorithm(algorithm)?;
    Some((oid, crate::x509::bit_string(key)?))
}

/// Whether `issuer`'s key verifies `cert`'s signature over its
/// TBSCertificate, with ring, for the algorithms this check has always taken
/// (x509-parser mapped them so): RSA PKCS#1 (SHA-1 from 1024 bits, SHA-2 from
/// 2048), RSA-PSS with SHA-2, ECDSA with SHA-256 or SHA-384 on P-256 and
/// P-384, Ed25519.
fn signed_by(cert: &crate::x509::Certificate<'_>, issuer: &crate::x509::Certificate<'_>) -> bool {
    use ring::signature as sig;
    const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    let curve = issuer
        .key_parameters
        .filter(|p| p.tag == crate::der::TAG_OID)
        .map(|p| p.content);
    let algorithm: &dyn sig::VerificationAlgorithm = match cert.signature_algorithm {
        // sha1WithRSAEncryption, and OIW's sha1WithRSASignature
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05] | [0x2b, 0x0e, 0x03, 0x02, 0x1d] => {
            &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b] => &sig::RSA_PKCS1_2048_8192_SHA256,
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c] => &sig::RSA_PKCS1_2048_8192_SHA384,
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d] => &sig::RSA_PKCS1_2048_8192_SHA512,
        // id-RSASSA-PSS: by the hash its parameters name.
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a] => {
            match pss_hash(cert.signature_parameters) {
                Some([.., 1]) => &sig::RSA_PSS_2048_8192_SHA256,
                Some([.., 2]) => &sig::RSA_PSS_2048_8192_SHA384,
                Some([.., 3]) => &sig::RSA_PSS_2048_8192_SHA512,
                _ => return false,
            }
        }
        // ecdsa-with-SHA256, ecdsa-with-SHA384
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, hash @ (0x02 | 0x03)] => match (curve, hash) {
            (Some(P256), 0x02) => &sig::ECDSA_P256_SHA256_ASN1,
            (Some(P256), _) => &sig::ECDSA_P256_SHA384_ASN1,
            (Some(P384), 0x02) => &sig::ECDSA_P384_SHA256_ASN1,
            (Some(P384), _) => &sig::ECDSA_P384_SHA384_ASN1,
            _ => return false,
        },
        [0x2b, 0x65, 0x70] => &sig::ED25519,
        _ => return false,
    };
    sig::UnparsedPublicKey::new(algorithm, issuer.public_key)
        .verify(cert.tbs, cert.signature)
        .is_ok()
}

/// The OID contents of the hash RSASSA-PSS parameters name, when they are
/// well-formed (hash, mask generation, salt length and trailer, each optional
/// and in order) and it is one of SHA-256, SHA-384, SHA-512
/// (2.16.840.1.101.3.4.2.1 to .3).
fn pss_hash(params: Option<crate::der::Tlv<'_>>) -> Option<&[u8]> {
    use crate::x509::{algorithm, small_unsigned};
    const SHA2: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
    let mut hash = None;
    let mut last_tag = 0;
    for field in params?.sequence()? {
        let inner = crate::der::only(field.content)?;
        if field.tag <= last_tag {
            return None;
        }
        last_tag = field.tag;
        match field.tag {
            0xa0 => hash = Some(algorithm(inner)?.0),
            0xa1 => {
                algorithm(inner)?;
            }
            0xa2 | 0xa3 => {
                u32::try_from(small_unsigned(inner)?).ok()?;
            }
            _ => return None,
        }
    }
    let hash = hash?;
    match hash.strip_prefix(SHA2)? {
        [1..=3] => Some(hash),
        _ => None,
    }
}

/// OpenSSL trusts a certificate that is itself in the trust store (the usual
/// way to trust a self-signed server: `ca: cert`), even one marked CA, which
/// webpki refuses as an end entity. Then only its validity period is judged.
/// Returns `None` when the leaf is not a trust anchor.
fn leaf_is_trusted_itself(
    leaf: &CertificateDer<'_>,
    roots: &RootCertStore,
    now: UnixTime,
) -> Option<Option<VerifyError>> {
    let anchor = webpki::anchor_from_trusted_cert(leaf).ok()?;
    roots.roots.iter().find(|root| {
        root.subject.as_ref() == anchor.subject.as_ref()
            && root.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
    })?;
    let (not_before, not_after) = crate::certinfo::validity(leaf).ok()?;
    Some(openssl::period_error(not_before, not_after, now))
}

/// The chain OpenSSL builds from the certificates sent: from the leaf, each
/// next certificate is one of the others that issued the previous, until none
/// does or a self-issued certificate is reached.
fn issuer_path<'a>(chain: &'a [CertificateDer<'a>]) -> Vec<&'a CertificateDer<'a>> {
    let Some(leaf) = chain.first() else {
        return Vec::new();
    };
    let mut path = vec![leaf];
    let mut unused: Vec<&CertificateDer<'_>> = chain.iter().skip(1).collect();
    while let Some(current) = path.last().copied() {
        if self_issued(current) {
            break;
        }
        let Some(pos) = unused
            .iter()
            .position(|c| crate::certinfo::issued_by(current.as_ref(), c.as_ref()))
        else {
            break;
        };
        path.push(unused.remove(pos));
    }
    path
}

fn self_issued(der: &CertificateDer<'_>) -> bool {
    crate::certinfo::describe(der)
        .map(|c| c.self_issued)
        .unwrap_or(false)
}

/// Maps webpki's verdict to the code OpenSSL's verifier reports for the same chain.
fn openssl_code(
    err: &webpki::Error,
    chain: &[CertificateDer<'_>],
    ca_certs: &[CertificateDer<'_>],
) -> VerifyError {
    use webpki::Error as E;
    match err {
        E::CertExpired { .. } => VerifyError::new("CERT_HAS_EXPIRED", "certificate has expired"),
        E::CertNotValidYet { .. } => {
            VerifyError::new("CERT_NOT_YET_VALID", "certificate is not yet valid")
        }
        E::CertRevoked => VerifyError::new("CERT_REVOKED", "certificate revoked"),
        #[allow(deprecated)]
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            VerifyError::new("INVALID_PURPOSE", "unsuitable certificate purpose")
        }
        E::InvalidSignatureForPublicKey => {
            VerifyError::new("CERT_SIGNATURE_FAILURE", "certificate signature failure")
        }
        E::PathLenConstraintViolated => {
            VerifyError::new("PATH_LENGTH_EXCEEDED", "path length constraint exceeded")
        }
        E::NameConstraintViolation => openssl::name_constraint_error(chain, ca_certs),
        E::EndEntityUsedAsCa => openssl::not_a_ca_error(chain),
        E::CrlExpired { .. } => VerifyError::new("CRL_HAS_EXPIRED", "CRL has expired"),
        E::UnknownRevocationStatus => {
            VerifyError::new("UNABLE_TO_GET_CRL", "unable to get certificate CRL")
        }
        // An unknown issuer, a CA certificate serving as the leaf (OpenSSL allows
        // that; what fails is the trust), or a chain webpki cannot build at all:
        // OpenSSL tells the cases apart by the chain it builds from what was sent
        // (issuer by issuer, in whatever order the certificates came).
        _ => {
            let path = issuer_path(chain);
            openssl::refused_certificate(&path).unwrap_or_else(|| untrusted_code(&path))
        }
    }
}

/// OpenSSL's code for a chain it cannot complete up to a trusted root, by the
/// issuer path built from what was sent.
fn untrusted_code(path: &[&CertificateDer<'_>]) -> VerifyError {
    let leaf_self_issued = path.first().is_some_and(|c| self_issued(c));
    let top_self_issued = path.last().is_some_and(|c| self_issued(c));
    if path.len() == 1 && leaf_self_issued {
        VerifyError::new("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
    } else if top_self_issued {
        VerifyError::new(
            "SELF_SIGNED_CERT_IN_CHAIN",
            "self-signed certificate in certificate chain",
        )
    } else if path.len() == 1 {
        VerifyError::new(
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            "unable to verify the first certificate",
        )
    } else {
        VerifyError::new(
            "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
            "unable to get local issuer certificate",
        )
    }
}
