//! Password-based key derivation for encrypted keys (src/pkcs.rs): PBKDF2
//! (RFC 8018) through ring where ring has the PRF, and scrypt (RFC 7914) on
//! ring's PBKDF2-HMAC-SHA256. ring has no SHA-224, which OpenSSL offers as
//! PBKDF2's PRF (`-v2prf hmacWithSHA224`): that one is HMAC over our own
//! SHA-224, here.

use std::num::NonZeroU32;

use ring::pbkdf2;

/// PBKDF2's pseudo-random function: HMAC with one of these hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// PBKDF2 of `password` and `salt` into `out`. No iterations counts as one,
/// as the RustCrypto crate we used before took it.
pub fn pbkdf2(prf: Prf, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    let algorithm = match prf {
        Prf::Sha224 => return pbkdf2_sha224(password, salt, iterations.get(), out),
        Prf::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
        Prf::Sha384 => pbkdf2::PBKDF2_HMAC_SHA384,
        Prf::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
    };
    pbkdf2::derive(algorithm, iterations, salt, password, out);
}

/// SHA-224 (FIPS 180-4, 6.3): SHA-256's compression from its own initial
/// value, the output cut to 28 bytes.
fn sha224(parts: &[&[u8]]) -> [u8; 28] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut state: [u32; 8] = [
        0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7,
        0xbefa4fa4,
    ];
    // The message, a 1 bit, zeros, and its length in bits: whole 64-byte blocks.
    let mut data = parts.concat();
    let bits = (data.len() as u64).wrapping_mul(8);
    data.push(0x80);
    while data.len() % 64 != 56 {
        data.push(0);
    }
    data.extend_from_slice(&bits.to_be_bytes());
    for block in data.chunks_exact(64) {
        let mut w: Vec<u32> = block
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes(b.try_into().unwrap_or_default()))
            .collect();
        while w.len() < 64 {
            let back = |k: usize| w.get(w.len() - k).copied().unwrap_or(0);
            let (w2, w15) = (back(2), back(15));
            let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
            let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
            w.push(
                back(16)
                    .wrapping_add(s0)
                    .wrapping_add(back(7))
                    .wrapping_add(s1),
            );
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for (k, w) in K.iter().zip(&w) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choice = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(choice)
                .wrapping_add(*k)
                .wrapping_add(*w);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(majority);
            (h, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 28];
    for (o, b) in out
        .iter_mut()
        .zip(state.iter().flat_map(|s| s.to_be_bytes()))
    {
        *o = b;
    }
    out
}

/// PBKDF2-HMAC-SHA224 (RFC 8018, 5.2; HMAC as RFC 2104 with 64-byte blocks).
fn pbkdf2_sha224(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    let mut key = [0u8; 64];
    if password.len() > key.len() {
        key.iter_mut()
            .zip(sha224(&[password]))
            .for_each(|(k, h)| *k = h);
    } else {
        key.iter_mut().zip(password).for_each(|(k, p)| *k = *p);
    }
    let inner_pad = key.map(|k| k ^ 0x36);
    let outer_pad = key.map(|k| k ^ 0x5c);
    let hmac = |parts: &[&[u8]]| {
        let mut inner = vec![&inner_pad[..]];
        inner.extend_from_slice(parts);
        sha224(&[&outer_pad, &sha224(&inner)])
    };
    for (i, block) in (1u32..).zip(out.chunks_mut(28)) {
        let mut u = hmac(&[salt, &i.to_be_bytes()]);
        let mut t = u;
        for _ in 1..iterations {
            u = hmac(&[&u]);
            t.iter_mut().zip(u).for_each(|(t, u)| *t ^= u);
        }
        block.iter_mut().zip(t).for_each(|(b, t)| *b = t);
    }
}

/// The most memory scrypt may take, as OpenSSL's `SCRYPT_MAX_MEM` (which it
/// applies to encrypted keys): a key asking for more is refused there too,
/// and here it would exhaust the wasm instance's memory.
pub const SCRYPT_MAX_MEM: usize = 32 * 1024 * 1024;

/// The bytes scrypt takes for N = 2^`log_n`, r, p, counted as OpenSSL counts
/// them: 128 r p for B, 128 r (N + 2) for V and its scratch. `None` if it
/// does not fit a `usize`.
pub fn scrypt_memory(log_n: u32, block_size: u32, parallelization: u32) -> Option<usize> {
    let n = 1usize.checked_shl(log_n)?;
    let block_bytes = usize::try_from(block_size).ok()?.checked_mul(128)?;
    block_bytes
        .checked_mul(n.checked_add(2)?)?
        .checked_add(block_bytes.checked_mul(usize::try_from(parallelization).ok()?)?)
}

/// scrypt (RFC 7914) with N = 2^`log_n`, r = `block_size`, p =
/// `parallelization`, refusing what the RustCrypto crate we used before
/// refused: r or p zero, N of `usize::BITS` bits or more, N >= 2^(16 r),
/// r p >= 2^30, sizes that overflow `usize`, an empty output; and, as
/// OpenSSL, parameters that need more than `SCRYPT_MAX_MEM` (128 r p bytes
/// for B, 128 r (N + 2) for V and its scratch).
pub fn scrypt(
    password: &[u8],
    salt: &[u8],
    log_n: u32,
    block_size: u32,
    parallelization: u32,
    out: &mut [u8],
) -> Option<()> {
    let r = usize::try_from(block_size).ok()?;
    let p = usize::try_from(parallelization).ok()?;
    if r == 0 || p == 0 || log_n >= usize::BITS || log_n as usize >= r.checked_mul(16)? {
        return None;
    }
    if r.checked_mul(p)? >= 0x4000_0000 || out.is_empty() {
        return None;
    }
    if scrypt_memory(log_n, block_size, parallelization)? > SCRYPT_MAX_MEM {
        return None;
    }
    let n = 1usize << log_n;
    let block_bytes = r.checked_mul(128)?;
    let mut b = vec![0u8; block_bytes.checked_mul(p)?];
    let one = NonZeroU32::MIN;
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, one, salt, password, &mut b);
    for chunk in b.chunks_exact_mut(block_bytes) {
        ro_mix(chunk, n, r)?;
    }
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, one, &b, password, out);
    Some(())
}

/// scryptROMix (RFC 7914, 5) on one 128 r-byte block, in place.
fn ro_mix(block: &mut [u8], n: usize, r: usize) -> Option<()> {
    let words = 32 * r;
    let mut x: Vec<u32> = block
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap_or_default()))
        .collect();
    let mut t = vec![0u32; words];
    let mut v = vec![0u32; n * words];
    for slot in v.chunks_exact_mut(words) {
        slot.copy_from_slice(&x);
        block_mix(&x, &mut t, r);
        std::mem::swap(&mut x, &mut t);
    }
    for _ in 0..n {
        // Integerify: the last 64-byte block's first eight bytes, mod N.
        let last = x.get((2 * r - 1) * 16..)?;
        let j = (u64::from(*last.first()?) | u64::from(*last.get(1)?) << 32) as usize & (n - 1);
        let vj = v.get(j * words..(j + 1) * words)?;
        x.iter_mut().zip(vj).for_each(|(x, v)| *x ^= v);
        block_mix(&x, &mut t, r);
        std::mem::swap(&mut x, &mut t);
    }
    for (out, word) in block.chunks_exact_mut(4).zip(x) {
        out.copy_from_slice(&word.to_le_bytes());
    }
    Some(())
}

/// scryptBlockMix (RFC 7914, 4): Salsa20/8 through the 2 r 64-byte blocks,
/// the even-numbered results first, then the odd ones.
fn block_mix(input: &[u32], output: &mut [u32], r: usize) {
    let mut x = [0u32; 16];
    if let Some(last) = input.chunks_exact(16).last() {
        x.copy_from_slice(last);
    }
    for (i, block) in input.chunks_exact(16).enumerate() {
        x.iter_mut().zip(block).for_each(|(x, b)| *x ^= b);
        salsa20_8(&mut x);
        let at = if i % 2 == 0 { i / 2 } else { r + i / 2 };
        if let Some(out) = output.chunks_exact_mut(16).nth(at) {
            out.copy_from_slice(&x);
        }
    }
}

/// The Salsa20/8 core (RFC 7914, 3).
fn salsa20_8(b: &mut [u32; 16]) {
    let mut x = *b;
    macro_rules! quarter {
        ($a:literal, $b:literal, $c:literal, $d:literal) => {
            x[$b] ^= x[$a].wrapping_add(x[$d]).rotate_left(7);
            x[$c] ^= x[$b].wrapping_add(x[$a]).rotate_left(9);
            x[$d] ^= x[$c].wrapping_add(x[$b]).rotate_left(13);
            x[$a] ^= x[$d].wrapping_add(x[$c]).rotate_left(18);
        };
    }
    for _ in 0..4 {
        // Columns, then rows.
        quarter!(0, 4, 8, 12);
        quarter!(5, 9, 13, 1);
        quarter!(10, 14, 2, 6);
        quarter!(15, 3, 7, 11);
        quarter!(0, 1, 2, 3);
        quarter!(5, 6, 7, 4);
        quarter!(10, 11, 8, 9);
        quarter!(15, 12, 13, 14);
    }
    b.iter_mut()
        .zip(x)
        .for_each(|(b, x)| *b = b.wrapping_add(x));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha224_matches_fips_180_examples() {
        let hex_of = |d: [u8; 28]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex_of(sha224(&[b"abc"])),
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
        );
        assert_eq!(
            hex_of(sha224(&[b""])),
            "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"
        );
        assert_eq!(
            hex_of(sha224(&[
                b"abcdbcdecdefdefgefghfghighijhijkijkl",
                b"jklmklmnlmnomnopnopq"
            ])),
            "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525"
        );
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn scrypt_matches_rfc_7914() {
        let cases: [(&str, &str, u32, u32, u32, &str); 3] = [
            ("", "", 4, 1, 1, "77 d6 57 62 38 65 7b 20 3b 19 ca 42 c1 8a 04 97 f1 6b 48 44 e3 07 4a e8 df df fa 3f ed e2 14 42 fc d0 06 9d ed 09 48 f8 32 6a 75 3a 0f c8 1f 17 e8 d3 e0 fb 2e 0d 36 28 cf 35 e2 0c 38 d1 89 06"),
            ("password", "NaCl", 10, 8, 16, "fd ba be 1c 9d 34 72 00 78 56 e7 19 0d 01 e9 fe 7c 6a d7 cb c8 23 78 30 e7 73 76 63 4b 37 31 62 2e af 30 d9 2e 22 a3 88 6f f1 09 27 9d 98 30 da c7 27 af b9 4a 83 ee 6d 83 60 cb df a2 cc 06 40"),
            ("pleaseletmein", "SodiumChloride", 14, 8, 1, "70 23 bd cb 3a fd 73 48 46 1c 06 cd 81 fd 38 eb fd a8 fb ba 90 4f 8e 3e a9 b5 43 f6 54 5d a1 f2 d5 43 29 55 61 3f 0f cf 62 d4 97 05 24 2a 9a f9 e6 1e 85 dc 0d 65 1e 40 df cf 01 7b 45 57 58 87"),
        ];
        for (password, salt, log_n, r, p, expected) in cases {
            let mut out = [0u8; 64];
            assert_eq!(
                scrypt(password.as_bytes(), salt.as_bytes(), log_n, r, p, &mut out),
                Some(())
            );
            assert_eq!(out.to_vec(), hex(expected), "{password}");
        }
        let mut out = [0u8; 16];
        assert_eq!(scrypt(b"p", b"s", 4, 0, 1, &mut out), None);
        assert_eq!(scrypt(b"p", b"s", 16, 1, 1, &mut out), None);
        assert_eq!(scrypt(b"p", b"s", 4, 1, 1, &mut []), None);
        // Over OpenSSL's 32 MiB (which will not even write such a key): refused,
        // where N = 2^14 above (16.8 MB) is taken. RFC 7914's fourth vector needs 1 GiB.
        assert_eq!(scrypt(b"p", b"s", 15, 8, 1, &mut out), None);
        assert_eq!(scrypt(b"p", b"s", 20, 8, 1, &mut out), None);
        assert_eq!(scrypt(b"p", b"s", 4, 1, 0x0100_0000, &mut out), None);
    }

    #[test]
    fn salsa20_8_matches_rfc_7914() {
        let input = hex("7e879a21 4f3ec986 7ca940e6 41718f26 baee555b 8c61c1b5 0df84611 6dcd3b1d ee24f319 df9b3d85 14121e4b 5ac5aa32 76021d29 09c74829 edebc68d b8b8c25e");
        let expected = hex("a41f859c 6608cc99 3b81cacb 020cef05 044b2181 a2fd337d fd7b1c63 96682f29 b4393168 e3c9e6bc fe6bc5b7 a06d96ba e424cc10 2c91745c 24ad673d c7618f81");
        let mut b = [0u32; 16];
        for (w, c) in b.iter_mut().zip(input.chunks_exact(4)) {
            *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        salsa20_8(&mut b);
        let out: Vec<u8> = b.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn pbkdf2_sha224_matches_a_known_answer() {
        // From `openssl kdf -keylen 32 -kdfopt digest:SHA224 -kdfopt
        // pass:password -kdfopt salt:salt -kdfopt iter:2 PBKDF2`.
        let mut out = [0u8; 32];
        pbkdf2(Prf::Sha224, b"password", b"salt", 2, &mut out);
        assert_eq!(
            out.to_vec(),
            hex("93200FFA96C5776D38FA10ABDF8F5BFC0054B9718513DF472D2331D2D1E66A3F")
        );
        // A password longer than the block, an output longer than the hash:
        // `-keylen 70 -kdfopt pass:ppp..p (80) -kdfopt salt:salt -kdfopt iter:3`.
        let mut out = [0u8; 70];
        pbkdf2(Prf::Sha224, &[b'p'; 80], b"salt", 3, &mut out);
        assert_eq!(
            out.to_vec(),
            hex("0CBFBBFE13C78610FA5BAE54FEAE45C9A317AE489B705444A61060BD27C4724214E8F0156952B1B991C1D6C6106BDCEE928D7A8E4CD36175E57D09197566F8D05465EBB945B1")
        );
    }
}
