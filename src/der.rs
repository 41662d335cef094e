//! A small DER reader: enough for certificates, keys and PKCS#12 as Node's
//! options carry them (single-byte tags, definite lengths up to 4 bytes).

/// One DER element: its (single-byte) tag, its contents, and its whole encoding.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub whole: &'a [u8],
}

/// Reads the element at the start of `input`; returns it and what follows.
pub fn tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers do not occur in certificates
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None; // indefinite, or larger than any certificate
        }
        let (bytes, after) = rest.split_at_checked(n)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let header = input.len() - rest.len();
    let (content, after) = rest.split_at_checked(len)?;
    let whole = input.get(..header + len)?;
    Some((
        Tlv {
            tag,
            content,
            whole,
        },
        after,
    ))
}

/// The elements that make up a constructed value's contents.
pub fn elements(mut content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (element, rest) = tlv(content)?;
        out.push(element);
        content = rest;
    }
    Some(out)
}

/// The single element a value is made of (nothing may follow it).
pub fn only(input: &[u8]) -> Option<Tlv<'_>> {
    match tlv(input)? {
        (element, []) => Some(element),
        _ => None,
    }
}

pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_NULL: u8 = 0x05;
pub const TAG_OID: u8 = 0x06;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_SET: u8 = 0x31;
/// `[0]`, constructed (EXPLICIT, or IMPLICIT over a constructed type).
pub const TAG_CONTEXT_0: u8 = 0xa0;

impl<'a> Tlv<'a> {
    /// This element if it has `tag`.
    pub fn tagged(self, tag: u8) -> Option<Self> {
        (self.tag == tag).then_some(self)
    }

    /// The elements inside this one, if it is a SEQUENCE.
    pub fn sequence(self) -> Option<Vec<Tlv<'a>>> {
        elements(self.tagged(TAG_SEQUENCE)?.content)
    }

    /// The contents of an OCTET STRING.
    pub fn octets(self) -> Option<&'a [u8]> {
        Some(self.tagged(TAG_OCTET_STRING)?.content)
    }

    /// Whether the length is encoded in as few bytes as DER requires.
    pub fn minimal_length(&self) -> bool {
        let len = self.content.len();
        let length_bytes = match len {
            0..=0x7f => 0,
            0x80..=0xff => 1,
            0x100..=0xffff => 2,
            0x1_0000..=0xff_ffff => 3,
            _ => 4,
        };
        self.whole.len() == 2 + length_bytes + len
    }

    /// A non-negative INTEGER in strict DER (minimal, not negative): its
    /// big-endian magnitude without the sign byte ("0" stays one zero byte).
    pub fn magnitude(self) -> Option<&'a [u8]> {
        let content = self.tagged(TAG_INTEGER)?.content;
        match content {
            [] => None,
            [first, ..] if first & 0x80 != 0 => None,
            [0, next, ..] if next & 0x80 == 0 => None,
            [0, rest @ ..] if !rest.is_empty() => Some(rest),
            _ => Some(content),
        }
    }

    /// The value of a non-negative INTEGER that fits in 64 bits.
    pub fn unsigned(self) -> Option<u64> {
        let content = self.tagged(TAG_INTEGER)?.content;
        if content.first()? & 0x80 != 0 {
            return None;
        }
        let magnitude = content.strip_prefix(&[0]).unwrap_or(content);
        if magnitude.len() > 8 {
            return None;
        }
        Some(
            magnitude
                .iter()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    }
}

/// An AlgorithmIdentifier: its OID's contents and its parameters, if any.
pub fn algorithm(t: Tlv<'_>) -> Option<(&[u8], Option<Tlv<'_>>)> {
    match t.sequence()?[..] {
        [oid] => Some((oid.tagged(TAG_OID)?.content, None)),
        [oid, params] => Some((oid.tagged(TAG_OID)?.content, Some(params))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_strict_der() {
        let int = |bytes: &'static [u8]| only(bytes).unwrap();
        assert_eq!(int(&[2, 1, 0]).magnitude(), Some(&[0u8][..]));
        assert_eq!(int(&[2, 2, 0, 0x80]).magnitude(), Some(&[0x80u8][..]));
        assert_eq!(int(&[2, 2, 0, 0x7f]).magnitude(), None); // not minimal
        assert_eq!(int(&[2, 1, 0x80]).magnitude(), None); // negative
        assert_eq!(int(&[2, 0]).magnitude(), None);
        assert_eq!(int(&[2, 3, 1, 0, 1]).unsigned(), Some(65537));
        assert!(int(&[2, 1, 5]).minimal_length());
        assert!(!int(&[2, 0x81, 1, 5]).minimal_length());
    }
}
