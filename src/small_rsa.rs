//! RSA signature verification for keys ring refuses as too small (1024 to
//! 2047 bits), which OpenSSL and so Node still accept in handshakes: PKCS#1
//! v1.5 and PSS (MGF1 with the same hash, a salt as long as the hash) over
//! SHA-256/384/512. Only the public operation s^e mod n is needed, on public
//! values, so the arithmetic is plain (no constant-time requirement):
//! Montgomery multiplication on 32-bit limbs.

use ring::digest;

/// A public key: n and e as big-endian bytes without leading zeros.
pub struct PublicKey<'a> {
    pub modulus: &'a [u8],
    pub exponent: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
pub enum Padding {
    Pkcs1,
    Pss,
}

/// Verifies `signature` over `message`: `None` when it does not verify.
pub fn verify(
    key: &PublicKey<'_>,
    padding: Padding,
    hash: &'static digest::Algorithm,
    message: &[u8],
    signature: &[u8],
) -> Option<()> {
    let n = Uint::from_be(key.modulus);
    let e = u64_from_be(key.exponent)?;
    // As the `rsa` crate checked the key before: n odd, e odd, 2 < e < n,
    // e < 2^33.
    if !n.is_odd() || e & 1 == 0 || !(3..1 << 33).contains(&e) || !Uint::from_u64(e).less_than(&n) {
        return None;
    }
    let k = key.modulus.len();
    if signature.len() != k {
        return None;
    }
    let s = Uint::from_be(signature);
    if !s.less_than(&n) {
        return None;
    }
    let em = n.pow_mod(&s, e)?.to_be(k);
    let m_hash = digest::digest(hash, message);
    match padding {
        Padding::Pkcs1 => pkcs1_matches(&em, m_hash.as_ref()),
        Padding::Pss => pss_matches(&em, n.bits(), hash, m_hash.as_ref()),
    }
    .then_some(())
}

/// EMSA-PKCS1-v1_5 (RFC 8017, 9.2): 00 01 FF.. 00 DigestInfo.
fn pkcs1_matches(em: &[u8], m_hash: &[u8]) -> bool {
    // The DigestInfo header before the hash, for SHA-256, SHA-384, SHA-512
    // (2.16.840.1.101.3.4.2.1 to .3).
    let (alg_id_last, len) = match m_hash.len() {
        32 => (1, 0x31),
        48 => (2, 0x41),
        _ => (3, 0x51),
    };
    let prefix = [
        0x30,
        len,
        0x30,
        0x0d,
        0x06,
        0x09,
        0x60,
        0x86,
        0x48,
        0x01,
        0x65,
        0x03,
        0x04,
        0x02,
        alg_id_last,
        0x05,
        0x00,
        0x04,
        m_hash.len() as u8,
    ];
    let t_len = prefix.len() + m_hash.len();
    let Some(pad_len) = em.len().checked_sub(t_len + 3).filter(|n| *n >= 8) else {
        return false;
    };
    let mut expected = vec![0x00, 0x01];
    expected.resize(2 + pad_len, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(&prefix);
    expected.extend_from_slice(m_hash);
    expected == em
}

/// EMSA-PSS-VERIFY (RFC 8017, 9.1.2) with sLen = hLen and MGF1 of the hash;
/// `em` is the whole k-byte I2OSP of s^e, `mod_bits` the modulus' length.
fn pss_matches(
    em: &[u8],
    mod_bits: usize,
    hash: &'static digest::Algorithm,
    m_hash: &[u8],
) -> bool {
    let h_len = m_hash.len();
    let em_bits = mod_bits - 1;
    let em_len = em_bits.div_ceil(8);
    // I2OSP(m, emLen): when emBits is a multiple of 8 the top byte must be 0.
    let em = match em.len().checked_sub(em_len) {
        Some(0) => em,
        Some(1) => match em.split_first() {
            Some((0, rest)) => rest,
            _ => return false,
        },
        _ => return false,
    };
    if em_len < 2 * h_len + 2 || em.last() != Some(&0xbc) {
        return false;
    }
    let Some((masked_db, rest)) = em.split_at_checked(em_len - h_len - 1) else {
        return false;
    };
    let h = rest.get(..h_len).unwrap_or_default();
    let top_mask = 0xffu8 >> (8 * em_len - em_bits);
    if masked_db.first().is_none_or(|b| b & !top_mask != 0) {
        return false;
    }
    // DB = maskedDB xor MGF1(H), with the bits above emBits cleared.
    let mut db = masked_db.to_vec();
    for (counter, chunk) in (0u32..).zip(db.chunks_mut(h_len)) {
        let mut mask = digest::Context::new(hash);
        mask.update(h);
        mask.update(&counter.to_be_bytes());
        chunk
            .iter_mut()
            .zip(mask.finish().as_ref())
            .for_each(|(d, m)| *d ^= m);
    }
    if let Some(first) = db.first_mut() {
        *first &= top_mask;
    }
    // DB = 00.. 01 salt, the salt hLen bytes.
    let Some((padding, salt)) = db.split_at_checked(db.len() - h_len) else {
        return false;
    };
    let Some((1, zeros)) = padding.split_last() else {
        return false;
    };
    if zeros.iter().any(|b| *b != 0) {
        return false;
    }
    let mut expected = digest::Context::new(hash);
    expected.update(&[0; 8]);
    expected.update(m_hash);
    expected.update(salt);
    expected.finish().as_ref() == h
}

fn u64_from_be(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.strip_prefix(&[0]).unwrap_or(bytes);
    (bytes.len() <= 8).then(|| bytes.iter().fold(0, |n, b| (n << 8) | u64::from(*b)))
}

/// An unsigned integer: 32-bit limbs, least significant first.
#[derive(Clone)]
struct Uint(Vec<u32>);

impl Uint {
    fn from_be(bytes: &[u8]) -> Self {
        Uint(
            bytes
                .rchunks(4)
                .map(|c| c.iter().fold(0, |n, b| (n << 8) | u32::from(*b)))
                .collect(),
        )
    }

    fn from_u64(v: u64) -> Self {
        Uint(vec![v as u32, (v >> 32) as u32])
    }

    /// The low `len` bytes, big-endian.
    fn to_be(&self, len: usize) -> Vec<u8> {
        let mut out: Vec<u8> = self.0.iter().flat_map(|l| l.to_le_bytes()).collect();
        out.resize(len, 0);
        out.reverse();
        out
    }

    fn is_odd(&self) -> bool {
        self.0.first().is_some_and(|l| l & 1 == 1)
    }

    fn bits(&self) -> usize {
        let top = self.0.iter().rposition(|l| *l != 0);
        top.map_or(0, |i| {
            i * 32 + 32 - self.0.get(i).map_or(0, |l| l.leading_zeros() as usize)
        })
    }

    /// Whether self < other, whatever their numbers of limbs.
    fn less_than(&self, other: &Uint) -> bool {
        let len = self.0.len().max(other.0.len());
        for i in (0..len).rev() {
            let (a, b) = (
                self.0.get(i).copied().unwrap_or(0),
                other.0.get(i).copied().unwrap_or(0),
            );
            if a != b {
                return a < b;
            }
        }
        false
    }

    /// self - other in place, where self >= other (same number of limbs).
    fn subtract(&mut self, other: &Uint) {
        let mut borrow = 0u64;
        for (a, b) in self
            .0
            .iter_mut()
            .zip(other.0.iter().chain(std::iter::repeat(&0)))
        {
            let d = u64::from(*a)
                .wrapping_sub(u64::from(*b))
                .wrapping_sub(borrow);
            *a = d as u32;
            borrow = (d >> 63) & 1;
        }
    }

    /// base^e mod self (self odd, base < self), by Montgomery multiplication.
    fn pow_mod(&self, base: &Uint, e: u64) -> Option<Uint> {
        let n = self;
        let limbs = n.0.len();
        // -n^-1 mod 2^32 by Newton's iteration (each step doubles the correct bits).
        let n0 = *n.0.first()?;
        let mut inv: u32 = 1;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
        }
        let n_prime = inv.wrapping_neg();
        let padded = |a: &Uint| {
            let mut a = a.clone();
            a.0.resize(limbs, 0);
            a
        };
        // a b / 2^(32 limbs) mod n, for a, b < n.
        let mont_mul = |a: &Uint, b: &Uint| -> Uint {
            let mut t = Uint(vec![0; limbs + 2]);
            for &ai in &padded(a).0 {
                mul_add(&mut t.0, ai, &b.0);
                let m = t.0.first().copied().unwrap_or(0).wrapping_mul(n_prime);
                mul_add(&mut t.0, m, &n.0);
                // The low limb is now zero: divide by 2^32.
                t.0.remove(0);
                t.0.push(0);
            }
            // t < 2n here.
            if !t.less_than(n) {
                t.subtract(n);
            }
            t.0.truncate(limbs);
            t
        };
        // R^2 mod n (R = 2^(32 limbs)), by doubling 1 as often as R^2 has bits.
        let mut r_squared = Uint(vec![0; limbs + 1]);
        if let Some(low) = r_squared.0.first_mut() {
            *low = 1;
        }
        for _ in 0..64 * limbs {
            let mut carry = 0;
            for limb in r_squared.0.iter_mut() {
                let shifted = (*limb << 1) | carry;
                carry = *limb >> 31;
                *limb = shifted;
            }
            if !r_squared.less_than(n) {
                r_squared.subtract(n);
            }
        }
        r_squared.0.truncate(limbs);

        let base = mont_mul(&padded(base), &r_squared);
        let mut acc = base.clone();
        for bit in (0..63 - e.leading_zeros()).rev() {
            acc = mont_mul(&acc, &acc);
            if (e >> bit) & 1 == 1 {
                acc = mont_mul(&acc, &base);
            }
        }
        Some(mont_mul(&acc, &Uint(vec![1])))
    }
}

/// t += x y, the carry running through the rest of t.
fn mul_add(t: &mut [u32], x: u32, y: &[u32]) {
    let mut carry = 0u64;
    let mut limbs = t.iter_mut();
    // y first: zip takes from its first iterator before finding the second done.
    for (yj, tj) in y.iter().zip(&mut limbs) {
        let v = u64::from(*tj) + u64::from(x) * u64::from(*yj) + carry;
        *tj = v as u32;
        carry = v >> 32;
    }
    for tj in limbs {
        if carry == 0 {
            break;
        }
        let v = u64::from(*tj) + carry;
        *tj = v as u32;
        carry = v >> 32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modular_exponentiation() {
        // The textbook key n = 61 * 53, e = 17: 65^17 mod 3233 = 2790.
        let n = Uint::from_be(&[0x0c, 0xa1]);
        let c = n.pow_mod(&Uint::from_be(&[65]), 17);
        assert_eq!(c.map(|c| c.to_be(2)), Some(vec![0x0a, 0xe6]));
        // Three limbs: (2^39 - 7)^3 mod (2^89 - 1), against u128 arithmetic.
        let m: u128 = (1 << 89) - 1;
        let b: u128 = (1 << 39) - 7;
        let expected = (b * b % m) * b % m;
        let n = Uint::from_be(&m.to_be_bytes());
        let r = n.pow_mod(&Uint::from_be(&b.to_be_bytes()), 3);
        assert_eq!(
            r.map(|r| r.to_be(16)),
            Some(expected.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn refuses_what_the_key_checks_refused() {
        let modulus = [0xc5; 128];
        let key = |exponent| PublicKey {
            modulus: &modulus,
            exponent,
        };
        let sig = [1u8; 128];
        for bad in [&[2u8][..], &[1], &[2, 0, 0, 0, 1]] {
            assert!(verify(&key(bad), Padding::Pkcs1, &digest::SHA256, b"m", &sig).is_none());
        }
        // Shorter than the modulus, or not below it.
        assert!(verify(&key(&[3]), Padding::Pss, &digest::SHA256, b"m", &sig[1..]).is_none());
        assert!(verify(&key(&[3]), Padding::Pss, &digest::SHA256, b"m", &modulus).is_none());
    }
}
