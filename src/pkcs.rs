//! Encrypted PKCS#8 keys (PBES2, RFC 8018) and PKCS#12 files (RFC 7292),
//! read with our DER reader; the primitives are RustCrypto's AES-CBC, ring's
//! (SHA-256, HMAC, PBKDF2) and ours on ring's (scrypt, src/kdf.rs).
//!
//! What is read is what OpenSSL 3 writes: PBES2 with PBKDF2 (HMAC-SHA-224 to
//! SHA-512) or scrypt, and AES-CBC; PKCS#12 with a SHA-256 MAC. PBES1 and
//! a SHA-1 PRF are recognised and refused (decryption fails); DES and other
//! ciphers are not recognised, as with the `pkcs5` crate we used before.

use crate::der::{
    algorithm, only, Tlv, TAG_CONTEXT_0, TAG_INTEGER, TAG_NULL, TAG_OID, TAG_SEQUENCE, TAG_SET,
};

const PKCS5: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const OID_SCRYPT: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];
/// hmacWithSHA1 (the PBKDF2 default) .. hmacWithSHA512: 1.2.840.113549.2.{7..11}.
const HMAC: [u8; 7] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02];
/// aes{128,192,256}-CBC: 2.16.840.1.101.3.4.1.{2,22,42}.
const AES: [u8; 8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01];

/// Why an encrypted key or bag could not be had.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not an EncryptedPrivateKeyInfo / an algorithm we do not recognise.
    Unreadable,
    /// Recognised, but the password is wrong or the algorithm unsupported.
    Decrypt,
    /// scrypt parameters that need more memory than OpenSSL allows.
    MemoryLimit,
}

/// PBKDF2's PRF: HMAC-SHA-1 (recognised, refused) or one `kdf` has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha1,
    Hmac(crate::kdf::Prf),
}

enum Kdf<'a> {
    Pbkdf2 {
        salt: &'a [u8],
        iterations: u32,
        key_length: Option<u64>,
        prf: Prf,
    },
    Scrypt {
        salt: &'a [u8],
        cost: u64,
        block_size: u16,
        parallelization: u16,
        key_length: Option<u64>,
    },
}

struct Aes<'a> {
    key_size: usize,
    iv: &'a [u8],
}

/// A recognised encryption algorithm (an AlgorithmIdentifier's contents).
enum Scheme<'a> {
    Pbes1,
    Pbes2(Kdf<'a>, Aes<'a>),
}

fn scheme(t: Tlv<'_>) -> Option<Scheme<'_>> {
    let (oid, params) = algorithm(t)?;
    if oid == OID_PBES2 {
        let [kdf, cipher] = params?.sequence()?[..] else {
            return None;
        };
        return Some(Scheme::Pbes2(kdf_of(kdf)?, cipher_of(cipher)?));
    }
    // PBES1 (pbeWith{MD2,MD5,SHA1}And{DES,RC2}-CBC): PBEParameter.
    let pbes1 = oid
        .strip_prefix(&PKCS5[..])
        .is_some_and(|n| matches!(n, [1 | 3 | 4 | 6 | 10 | 11]));
    match params?.sequence()?[..] {
        [salt, count] if pbes1 && salt.octets()?.len() == 8 => {
            u16::try_from(count.unsigned()?).ok()?;
            Some(Scheme::Pbes1)
        }
        _ => None,
    }
}

fn optional_u64(t: Option<&Tlv<'_>>) -> Option<Option<u64>> {
    match t {
        None => Some(None),
        Some(t) => Some(Some(t.unsigned()?)),
    }
}

fn kdf_of(t: Tlv<'_>) -> Option<Kdf<'_>> {
    let (oid, params) = algorithm(t)?;
    let fields = params?.sequence()?;
    let (salt, rest) = fields.split_first()?;
    let salt = salt.octets()?;
    if oid == OID_PBKDF2 {
        let (iterations, rest) = rest.split_first()?;
        let iterations = u32::try_from(iterations.unsigned()?).ok()?;
        let (key_length, rest) = match rest.split_first() {
            Some((t, after)) if t.tag == TAG_INTEGER => (Some(t.unsigned()?), after),
            _ => (None, rest),
        };
        let prf = match rest {
            [] => Prf::Sha1,
            [prf] => prf_of(*prf)?,
            _ => return None,
        };
        return Some(Kdf::Pbkdf2 {
            salt,
            iterations,
            key_length,
            prf,
        });
    }
    if oid != OID_SCRYPT {
        return None;
    }
    let [cost, block_size, parallelization, ref key_length @ ..] = rest[..] else {
        return None;
    };
    if key_length.len() > 1 {
        return None;
    }
    Some(Kdf::Scrypt {
        salt,
        cost: cost.unsigned()?,
        block_size: u16::try_from(block_size.unsigned()?).ok()?,
        parallelization: u16::try_from(parallelization.unsigned()?).ok()?,
        key_length: optional_u64(key_length.first())?,
    })
}

fn prf_of(t: Tlv<'_>) -> Option<Prf> {
    let (oid, params) = algorithm(t)?;
    if params.is_some_and(|p| p.tag != TAG_NULL || !p.content.is_empty()) {
        return None;
    }
    Some(match oid.strip_prefix(&HMAC[..])? {
        [7] => Prf::Sha1,
        [8] => Prf::Hmac(crate::kdf::Prf::Sha224),
        [9] => Prf::Hmac(crate::kdf::Prf::Sha256),
        [10] => Prf::Hmac(crate::kdf::Prf::Sha384),
        [11] => Prf::Hmac(crate::kdf::Prf::Sha512),
        _ => return None,
    })
}

fn cipher_of(t: Tlv<'_>) -> Option<Aes<'_>> {
    let (oid, params) = algorithm(t)?;
    let iv = params?.octets()?;
    let key_size = match oid.strip_prefix(&AES[..])? {
        [2] => 16,
        [22] => 24,
        [42] => 32,
        _ => return None,
    };
    (iv.len() == 16).then_some(Aes { key_size, iv })
}

fn derive(kdf: &Kdf<'_>, password: &[u8], key: &mut [u8]) -> Result<(), Failure> {
    let (Kdf::Pbkdf2 { key_length, .. } | Kdf::Scrypt { key_length, .. }) = kdf;
    if key_length.is_some_and(|n| n != key.len() as u64) {
        return Err(Failure::Decrypt);
    }
    match *kdf {
        Kdf::Pbkdf2 {
            salt,
            iterations,
            prf,
            ..
        } => match prf {
            Prf::Sha1 => return Err(Failure::Decrypt), // refused, as OpenSSL 3 never writes it
            Prf::Hmac(prf) => crate::kdf::pbkdf2(prf, password, salt, iterations, key),
        },
        Kdf::Scrypt {
            salt,
            cost,
            block_size,
            parallelization,
            ..
        } => {
            if !cost.is_power_of_two() {
                return Err(Failure::Decrypt);
            }
            let (log_n, r, p) = (
                cost.trailing_zeros(),
                u32::from(block_size),
                u32::from(parallelization),
            );
            if crate::kdf::scrypt_memory(log_n, r, p)
                .is_none_or(|bytes| bytes > crate::kdf::SCRYPT_MAX_MEM)
            {
                return Err(Failure::MemoryLimit);
            }
            crate::kdf::scrypt(password, salt, log_n, r, p, key).ok_or(Failure::Decrypt)?;
        }
    }
    Ok(())
}

fn aes_cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    use cbc::cipher::{
        block_padding::Pkcs7, BlockCipher, BlockDecrypt, BlockDecryptMut, KeyInit, KeyIvInit,
    };
    fn run<C: BlockCipher + BlockDecrypt + KeyInit>(
        key: &[u8],
        iv: &[u8],
        data: &[u8],
    ) -> Option<Vec<u8>> {
        let mut buf = data.to_vec();
        let len = cbc::Decryptor::<C>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }
    match key.len() {
        16 => run::<aes::Aes128>(key, iv, data),
        24 => run::<aes::Aes192>(key, iv, data),
        32 => run::<aes::Aes256>(key, iv, data),
        _ => None,
    }
}

/// Decrypts `data` under an encryption AlgorithmIdentifier.
fn decrypt(algorithm: Tlv<'_>, password: &[u8], data: &[u8]) -> Result<Vec<u8>, Failure> {
    match scheme(algorithm).ok_or(Failure::Unreadable)? {
        Scheme::Pbes2(kdf, Aes { key_size, iv }) => {
            let mut key = [0u8; 32];
            let key = key.get_mut(..key_size).ok_or(Failure::Decrypt)?;
            derive(&kdf, password, key)?;
            aes_cbc_decrypt(key, iv, data).ok_or(Failure::Decrypt)
        }
        Scheme::Pbes1 => Err(Failure::Decrypt),
    }
}

/// An EncryptedPrivateKeyInfo's algorithm and ciphertext, if `der` is one.
fn encrypted_key_info(der: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let [alg, data] = only(der)?.sequence()?[..] else {
        return None;
    };
    scheme(alg)?;
    Some((alg, data.octets()?))
}

/// Whether `der` is an EncryptedPrivateKeyInfo with an algorithm we recognise.
pub fn is_encrypted_key(der: &[u8]) -> bool {
    encrypted_key_info(der).is_some()
}

/// The PrivateKeyInfo inside an EncryptedPrivateKeyInfo.
pub fn decrypt_key(der: &[u8], password: &str) -> Result<Vec<u8>, Failure> {
    let (alg, data) = encrypted_key_info(der).ok_or(Failure::Unreadable)?;
    let plain = decrypt(alg, password.as_bytes(), data)?;
    // A wrong password shows as padding that does not check, or as this.
    match only(&plain) {
        Some(t) if t.tag == TAG_SEQUENCE => Ok(plain),
        _ => Err(Failure::Decrypt),
    }
}

/// The algorithm OID (contents) of a PrivateKeyInfo.
pub fn private_key_algorithm(der: &[u8]) -> Option<&[u8]> {
    match only(der)?.sequence()?[..] {
        [version, alg, key, ..] if version.unsigned().is_some() && key.octets().is_some() => {
            Some(algorithm(alg)?.0)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// PKCS#12

const PKCS7: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// 1.2.840.113549.1.12.10.1.{1,2,3}: keyBag, pkcs8ShroudedKeyBag, certBag.
const BAGS: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01];
/// 1.2.840.113549.1.9.22.1: an X.509 certificate in a certBag.
const OID_X509_CERT: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01];

/// Why a PKCS#12 file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum PfxError {
    /// Malformed.
    Decode,
    /// No MAC, or it does not verify (a wrong password), or a bag does not decrypt.
    Mac,
    /// Something OpenSSL 3 does not write by default.
    Unsupported(&'static str),
}

/// What a PKCS#12 file holds: PKCS#8 keys and DER certificates, in order.
#[derive(Debug, Default)]
pub struct PfxContents {
    pub keys: Vec<Vec<u8>>,
    pub certs: Vec<Vec<u8>>,
}

fn data_oid(oid: &[u8]) -> Option<u8> {
    match oid.strip_prefix(&PKCS7[..])? {
        [n] => Some(*n),
        _ => None,
    }
}

/// A ContentInfo: its type (the last arc of 1.2.840.113549.1.7.n) and its
/// `[0] EXPLICIT` content.
fn content_info(t: Tlv<'_>) -> Result<(Option<u8>, Tlv<'_>), PfxError> {
    match t.sequence().ok_or(PfxError::Decode)?[..] {
        [oid, content] if oid.tag == TAG_OID && content.tag == TAG_CONTEXT_0 => Ok((
            data_oid(oid.content),
            only(content.content).ok_or(PfxError::Decode)?,
        )),
        _ => Err(PfxError::Decode),
    }
}

/// The PKCS#12 key-derivation (RFC 7292, B.2) of a SHA-256 MAC key.
fn mac_key(password: &str, salt: &[u8], iterations: u64) -> Option<[u8; 32]> {
    use ring::digest::{Context, SHA256};
    const BLOCK: usize = 64;
    // The password as a NUL-terminated BMPString.
    let mut bmp = Vec::new();
    for c in password.chars() {
        bmp.extend(u16::try_from(u32::from(c)).ok()?.to_be_bytes());
    }
    bmp.extend([0, 0]);
    let repeat = |s: &[u8]| -> Vec<u8> {
        s.iter()
            .copied()
            .cycle()
            .take(s.len().div_ceil(BLOCK) * BLOCK)
            .collect()
    };
    let mut context = Context::new(&SHA256);
    context.update(&[3u8; BLOCK]); // the MAC key's diversifier
    context.update(&repeat(salt));
    context.update(&repeat(&bmp));
    let mut hash = context.finish();
    for _ in 1..iterations {
        hash = ring::digest::digest(&SHA256, hash.as_ref());
    }
    hash.as_ref().try_into().ok()
}

/// Reads a PKCS#12 file: checks its MAC (first, so that a wrong password is
/// a MAC failure, as in OpenSSL), then collects its keys and certificates.
pub fn read_pfx(der: &[u8], password: &str) -> Result<PfxContents, PfxError> {
    let [version, auth_safe, ref mac_data @ ..] = only(der)
        .and_then(|t| t.sequence())
        .ok_or(PfxError::Decode)?[..]
    else {
        return Err(PfxError::Decode);
    };
    if version.unsigned() != Some(3) || mac_data.len() > 1 {
        return Err(PfxError::Decode);
    }
    let mac_data = match mac_data.first() {
        Some(m) => Some(mac_fields(*m).ok_or(PfxError::Decode)?),
        None => None,
    };
    let (kind, content) = content_info(auth_safe)?;
    if kind != Some(1) {
        return Err(PfxError::Unsupported("public-key integrity mode"));
    }
    let auth_safe = content.octets().ok_or(PfxError::Decode)?;

    let mac = mac_data.ok_or(PfxError::Mac)?;
    if mac.digest_oid != OID_SHA256 {
        return Err(PfxError::Unsupported("MAC digest other than SHA-256"));
    }
    let key = mac_key(password, mac.salt, mac.iterations).ok_or(PfxError::Mac)?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    ring::hmac::verify(&key, auth_safe, mac.digest).map_err(|_| PfxError::Mac)?;

    let mut out = PfxContents::default();
    let infos = only(auth_safe)
        .and_then(|t| t.sequence())
        .ok_or(PfxError::Decode)?;
    for info in infos {
        let (kind, content) = content_info(info)?;
        let contents = match kind {
            Some(1) => content.octets().ok_or(PfxError::Decode)?.to_vec(),
            Some(6) => decrypt_data(content, password)?,
            _ => continue,
        };
        let bags = only(&contents)
            .and_then(|t| t.sequence())
            .ok_or(PfxError::Decode)?;
        for bag in bags {
            read_bag(bag, password, &mut out)?;
        }
    }
    Ok(out)
}

/// A PFX's MacData.
struct MacData<'a> {
    /// The digest algorithm's OID (contents).
    digest_oid: &'a [u8],
    digest: &'a [u8],
    salt: &'a [u8],
    iterations: u64,
}

fn mac_fields(t: Tlv<'_>) -> Option<MacData<'_>> {
    let fields = t.sequence()?;
    let (mac, salt, iterations) = match fields[..] {
        [mac, salt] => (mac, salt, 1),
        [mac, salt, iterations] => (mac, salt, iterations.unsigned()?),
        _ => return None,
    };
    // The der crate read it as an i32.
    if iterations > i32::MAX as u64 {
        return None;
    }
    let [alg, digest] = mac.sequence()?[..] else {
        return None;
    };
    Some(MacData {
        digest_oid: algorithm(alg)?.0,
        digest: digest.octets()?,
        salt: salt.octets()?,
        iterations,
    })
}

/// EncryptedData's contents, decrypted.
fn decrypt_data(t: Tlv<'_>, password: &str) -> Result<Vec<u8>, PfxError> {
    let fields = t.sequence().ok_or(PfxError::Decode)?;
    let [version, info, ..] = fields[..] else {
        return Err(PfxError::Decode);
    };
    let info = info.sequence().ok_or(PfxError::Decode)?;
    let (alg, ciphertext) = match info[..] {
        [oid, alg, ref rest @ ..] if oid.tag == TAG_OID && version.unsigned().is_some() => {
            (alg, rest)
        }
        _ => return Err(PfxError::Decode),
    };
    if alg.tag != TAG_SEQUENCE {
        return Err(PfxError::Decode);
    }
    // encryptedContent [0] IMPLICIT OCTET STRING (primitive).
    let ciphertext = match ciphertext {
        [c] if c.tag == 0x80 => c.content,
        _ => return Err(PfxError::Decode),
    };
    decrypt(alg, password.as_bytes(), ciphertext).map_err(|e| match e {
        Failure::Unreadable => PfxError::Unsupported("legacy PKCS#12 encryption"),
        // A bag OpenSSL would refuse for its scrypt memory: as any that does not decrypt.
        Failure::Decrypt | Failure::MemoryLimit => PfxError::Mac,
    })
}

fn read_bag(bag: Tlv<'_>, password: &str, out: &mut PfxContents) -> Result<(), PfxError> {
    let fields = bag.sequence().ok_or(PfxError::Decode)?;
    let (id, value) = match fields[..] {
        [id, value] if id.tag == TAG_OID && value.tag == TAG_CONTEXT_0 => {
            (id.content, value.content)
        }
        [id, value, attributes]
            if id.tag == TAG_OID && value.tag == TAG_CONTEXT_0 && attributes.tag == TAG_SET =>
        {
            (id.content, value.content)
        }
        _ => return Err(PfxError::Decode),
    };
    match id.strip_prefix(&BAGS[..]) {
        Some([1]) => out.keys.push(value.to_vec()),
        Some([2]) => {
            if !is_encrypted_key(value) {
                return Err(PfxError::Decode);
            }
            let key = decrypt_key(value, password)
                .map_err(|_| PfxError::Unsupported("legacy PKCS#12 key encryption"))?;
            out.keys.push(key);
        }
        Some([3]) => {
            let cert = only(value)
                .and_then(|t| t.sequence())
                .ok_or(PfxError::Decode)?;
            match cert[..] {
                [id, value] if id.tag == TAG_OID && value.tag == TAG_CONTEXT_0 => {
                    let der = only(value.content)
                        .and_then(|t| t.octets())
                        .ok_or(PfxError::Decode)?;
                    if id.content == OID_X509_CERT {
                        out.certs.push(der.to_vec());
                    }
                }
                _ => return Err(PfxError::Decode),
            }
        }
        _ => {}
    }
    Ok(())
}
