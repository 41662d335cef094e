//! The parts of an X.509 certificate the engine reads itself (inspection for
//! `getPeerCertificate`, OpenSSL's issuer checks and error codes, the key of a
//! certificate webpki will not read), on our DER reader.
//!
//! The structure is read as strictly as OpenSSL's `d2i_X509` reads it: exact
//! tags (except that, as in OpenSSL, a SEQUENCE OF or SET OF may lack the
//! constructed bit), well-formed OIDs, nothing left over inside a SEQUENCE.
//! The values keep the rules the engine has always applied: a serial number
//! of any sign, a version that fits 32 bits, times as RFC 5280 writes them
//! plus what older encoders produced (UTCTime without seconds or with an
//! offset, GeneralizedTime with up to three fractional digits), and extension
//! contents read only when asked for, a malformed one counting as absent.

use crate::der::{
    self, elements, only, tlv, Tlv, TAG_CONTEXT_0, TAG_INTEGER, TAG_OID, TAG_SEQUENCE, TAG_SET,
};

const TAG_BOOLEAN: u8 = 0x01;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;

pub const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
pub const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
pub const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
pub const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
pub const OID_NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
pub const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
pub const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
pub const OID_AUTHORITY_INFO_ACCESS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];

/// A parsed certificate; slices point into the DER it was read from.
pub struct Certificate<'a> {
    /// The whole TBSCertificate encoding: the bytes the issuer signed.
    pub tbs: &'a [u8],
    /// 0 for v1 (absent), 2 for v3.
    pub version: u32,
    /// The serial number's INTEGER contents as encoded (it may be negative).
    pub serial: &'a [u8],
    /// The OID contents of the TBSCertificate's signature algorithm.
    pub tbs_signature: &'a [u8],
    /// Whole Name encodings.
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    pub not_before: Time<'a>,
    pub not_after: Time<'a>,
    /// The whole SubjectPublicKeyInfo encoding.
    pub spki: &'a [u8],
    pub key_algorithm: &'a [u8],
    pub key_parameters: Option<Tlv<'a>>,
    /// The subjectPublicKey BIT STRING's bytes (after the unused-bits count).
    pub public_key: &'a [u8],
    pub extensions: Vec<Extension<'a>>,
    /// The outer signatureAlgorithm: OID contents and parameters.
    pub signature_algorithm: &'a [u8],
    pub signature_parameters: Option<Tlv<'a>>,
    pub signature: &'a [u8],
}

/// An extension that is repeated, or (where it is read) malformed.
#[derive(Debug, PartialEq, Eq)]
pub struct BadExtension;

pub struct Extension<'a> {
    pub oid: &'a [u8],
    pub critical: bool,
    /// The extnValue OCTET STRING's contents.
    pub value: &'a [u8],
}

/// A validity time: Unix seconds, and the DER value (for its fractional seconds).
#[derive(Clone, Copy)]
pub struct Time<'a> {
    pub unix: i64,
    pub value: Tlv<'a>,
}

/// An OBJECT IDENTIFIER's contents as OpenSSL's `c2i_ASN1_OBJECT` takes
/// them: not empty, no subidentifier padded with 0x80, none cut short.
fn oid(t: Tlv<'_>) -> Option<&[u8]> {
    let content = t.tagged(TAG_OID)?.content;
    let last = *content.last()?;
    let padded = content
        .iter()
        .enumerate()
        .any(|(i, b)| *b == 0x80 && (i == 0 || content.get(i - 1).is_some_and(|p| p & 0x80 == 0)));
    (last & 0x80 == 0 && !padded).then_some(content)
}

/// An AlgorithmIdentifier: its OID's contents (well-formed) and its
/// parameters, if any.
pub fn algorithm(t: Tlv<'_>) -> Option<(&[u8], Option<Tlv<'_>>)> {
    let (oid_content, parameters) = der::algorithm(t)?;
    oid(Tlv {
        tag: TAG_OID,
        content: oid_content,
        whole: oid_content,
    })?;
    Some((oid_content, parameters))
}

/// The next element of a constructed value's contents.
fn next<'a>(input: &mut &'a [u8]) -> Option<Tlv<'a>> {
    let (element, rest) = tlv(input)?;
    *input = rest;
    Some(element)
}

impl<'a> Certificate<'a> {
    /// Reads the certificate at the start of `der`; returns it and what follows.
    pub fn parse(der: &'a [u8]) -> Option<(Self, &'a [u8])> {
        let (cert, rest) = tlv(der)?;
        let mut body = cert.tagged(TAG_SEQUENCE)?.content;
        let tbs = next(&mut body)?.tagged(TAG_SEQUENCE)?;
        let (signature_algorithm, signature_parameters) = algorithm(next(&mut body)?)?;
        let signature = bit_string(next(&mut body)?)?;
        if !body.is_empty() {
            return None;
        }

        let mut fields = tbs.content;
        let mut field = next(&mut fields)?;
        let mut version = 0;
        if field.tag == TAG_CONTEXT_0 {
            version = u32::try_from(small_unsigned(only(field.content)?)?).ok()?;
            field = next(&mut fields)?;
        }
        let serial = field.tagged(TAG_INTEGER)?.content;
        let (tbs_signature, _) = algorithm(next(&mut fields)?)?;
        let issuer = name(next(&mut fields)?)?;
        let [not_before, not_after] = next(&mut fields)?.sequence()?[..] else {
            return None;
        };
        let (not_before, not_after) = (time(not_before)?, time(not_after)?);
        let subject = name(next(&mut fields)?)?;
        let spki = next(&mut fields)?;
        let [key_algorithm, public_key] = spki.sequence()?[..] else {
            return None;
        };
        let (key_algorithm, key_parameters) = algorithm(key_algorithm)?;
        let public_key = bit_string(public_key)?;

        // issuerUniqueID [1], subjectUniqueID [2] (IMPLICIT BIT STRING), extensions [3].
        let mut extensions = Vec::new();
        let mut last_tag = 0;
        while let Some(field) = next(&mut fields) {
            if field.tag <= last_tag {
                return None;
            }
            last_tag = field.tag;
            match field.tag {
                0x81 | 0x82 => {
                    bit_string(Tlv {
                        tag: TAG_BIT_STRING,
                        ..field
                    })?;
                }
                0xa3 => extensions = parse_extensions(only(field.content)?)?,
                _ => return None,
            }
        }
        if !fields.is_empty() {
            return None;
        }

        let cert = Certificate {
            tbs: tbs.whole,
            version,
            serial,
            tbs_signature,
            issuer,
            subject,
            not_before,
            not_after,
            spki: spki.whole,
            key_algorithm,
            key_parameters,
            public_key,
            extensions,
            signature_algorithm,
            signature_parameters,
            signature,
        };
        Some((cert, rest))
    }

    /// Reads a certificate that is all of `der`.
    pub fn parse_exact(der: &'a [u8]) -> Option<Self> {
        match Self::parse(der)? {
            (cert, []) => Some(cert),
            _ => None,
        }
    }

    /// Every extension with this OID, in certificate order.
    pub fn extensions_with(&self, oid: &'a [u8]) -> impl Iterator<Item = &Extension<'a>> + '_ {
        self.extensions.iter().filter(move |e| e.oid == oid)
    }

    /// The one extension with this OID; `Err` when it is repeated.
    pub fn unique_extension(&self, oid: &[u8]) -> Result<Option<&Extension<'a>>, BadExtension> {
        let mut found = self.extensions.iter().filter(|e| e.oid == oid);
        match (found.next(), found.next()) {
            (first, None) => Ok(first),
            _ => Err(BadExtension),
        }
    }

    /// The keyUsage bits (bit 0 digitalSignature ... bit 8 decipherOnly):
    /// `Err` when the extension is repeated or malformed.
    pub fn key_usage(&self) -> Result<Option<u16>, BadExtension> {
        match self.unique_extension(OID_KEY_USAGE)? {
            None => Ok(None),
            Some(ext) => key_usage(ext.value).map(Some).ok_or(BadExtension),
        }
    }

    /// basicConstraints' cA: `Err` when the extension is repeated, `None`
    /// when it is absent or malformed.
    pub fn basic_constraints(&self) -> Result<Option<bool>, BadExtension> {
        Ok(self
            .unique_extension(OID_BASIC_CONSTRAINTS)?
            .and_then(|ext| basic_constraints(ext.value)))
    }
}

pub const KEY_USAGE_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub const KEY_USAGE_KEY_ENCIPHERMENT: u16 = 1 << 2;
pub const KEY_USAGE_KEY_AGREEMENT: u16 = 1 << 4;
pub const KEY_USAGE_KEY_CERT_SIGN: u16 = 1 << 5;

/// A BIT STRING's bytes after the unused-bits count, in DER: primitive, and
/// the unused bits of the last byte zero.
pub fn bit_string(t: Tlv<'_>) -> Option<&[u8]> {
    let (&unused, bits) = t.tagged(TAG_BIT_STRING)?.content.split_first()?;
    let last_zeros = bits.last().map_or(0, |b| b.trailing_zeros());
    (last_zeros >= u32::from(unused)).then_some(bits)
}

/// A non-negative INTEGER in minimal DER that fits 64 bits.
pub fn small_unsigned(t: Tlv<'_>) -> Option<u64> {
    let magnitude = t.magnitude()?;
    (magnitude.len() <= 8).then(|| magnitude.iter().fold(0, |n, b| (n << 8) | u64::from(*b)))
}

/// A Name's whole encoding, if it is a SEQUENCE OF SET OF AttributeTypeAndValue.
/// As OpenSSL, the SEQUENCE and SET tags may lack the constructed bit.
fn name(t: Tlv<'_>) -> Option<&[u8]> {
    if t.tag | 0x20 != TAG_SEQUENCE {
        return None;
    }
    for rdn in elements(t.content)? {
        if rdn.tag | 0x20 != TAG_SET {
            return None;
        }
        for attribute in elements(rdn.content)? {
            let [attribute_type, _] = attribute.sequence()?[..] else {
                return None;
            };
            oid(attribute_type)?;
        }
    }
    Some(t.whole)
}

/// Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }.
/// As OpenSSL, the SEQUENCE OF tag may lack the constructed bit.
fn parse_extensions(t: Tlv<'_>) -> Option<Vec<Extension<'_>>> {
    if t.tag | 0x20 != TAG_SEQUENCE {
        return None;
    }
    let mut out = Vec::new();
    for ext in elements(t.content)? {
        let (oid, critical, value) = match ext.sequence()?[..] {
            [oid, value] => (oid, false, value),
            // Any non-zero octet is TRUE (as OpenSSL and BER read it).
            [oid, critical, value] => match critical.tagged(TAG_BOOLEAN)?.content {
                [b] => (oid, *b != 0, value),
                _ => return None,
            },
            _ => return None,
        };
        out.push(Extension {
            oid: self::oid(oid)?,
            critical,
            value: value.octets()?,
        });
    }
    Some(out)
}

/// Two ASCII digits as a number.
fn two_digits(s: &[u8]) -> Option<(u32, &[u8])> {
    match s {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', rest @ ..] => {
            Some((u32::from(a - b'0') * 10 + u32::from(b - b'0'), rest))
        }
        _ => None,
    }
}

/// A UTCTime (YYMMDDhhmm[ss](Z|+hhmm|-hhmm), years 1950 to 2049) or a
/// GeneralizedTime (YYYYMMDDhhmm[ss][.fff]Z) as Unix seconds.
fn time(t: Tlv<'_>) -> Option<Time<'_>> {
    let s = t.content;
    let (year, s) = match t.tag {
        TAG_UTC_TIME => {
            let (yy, s) = two_digits(s)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s)
        }
        TAG_GENERALIZED_TIME if s.last() == Some(&b'Z') => {
            let (century, s) = two_digits(s)?;
            let (yy, s) = two_digits(s)?;
            (century * 100 + yy, s)
        }
        _ => return None,
    };
    let (month, s) = two_digits(s)?;
    let (day, s) = two_digits(s)?;
    let (hour, s) = two_digits(s)?;
    let (minute, mut s) = two_digits(s)?;
    // Seconds may be left out (before a lone "Z" only).
    let mut second = 0;
    if s.len() >= 2 {
        (second, s) = two_digits(s)?;
    }
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if t.tag == TAG_GENERALIZED_TIME {
        // Up to three fractional digits (a "." alone too), then the "Z".
        if let Some(fraction) = s.strip_prefix(b".") {
            let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 3 {
                return None;
            }
            s = fraction.get(digits..)?;
        }
    }
    let offset = match s {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if t.tag == TAG_UTC_TIME => {
            let (hours, rest) = two_digits(rest)?;
            let (minutes, rest) = two_digits(rest)?;
            if !rest.is_empty() || hours > 25 || minutes > 59 {
                return None;
            }
            let (hours, minutes) = (i64::from(hours), i64::from(minutes));
            // As the time crate takes "-00mm": the minutes keep their sign
            // only when there are hours to carry it.
            match (sign, hours) {
                (b'-', 0) => minutes * 60,
                (b'-', _) => -(hours * 3600 + minutes * 60),
                _ => hours * 3600 + minutes * 60,
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = i64::from(hour * 3600 + minute * 60 + second);
    Some(Time {
        unix: days * 86_400 + seconds - offset,
        value: t,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------
// Extension contents

// Extension contents. keyUsage and the key identifiers are read as the
// engine always read them (with x509-parser): an element known by its tag
// number whatever its class, bytes after what is read ignored, an
// authorityKeyIdentifier's fields each skipped when unreadable. That keeps
// the issuer checks' verdicts (`certinfo::issued_by`) as they were, which for
// malformed identifiers are also OpenSSL's. basicConstraints is read
// strictly: OpenSSL takes a malformed one as "not a CA".

/// The element at the start of `input` if its tag number is `number`.
fn numbered(input: &[u8], number: u8) -> Option<(Tlv<'_>, &[u8])> {
    let (t, rest) = tlv(input)?;
    (t.tag & 0x1f == number).then_some((t, rest))
}

/// keyUsage: a BIT STRING; the first two bytes give the bits.
pub fn key_usage(value: &[u8]) -> Option<u16> {
    let (bits, _) = numbered(value, 0x03)?;
    if bits.tag & 0x20 != 0 {
        return None;
    }
    let bits = bit_string(Tlv {
        tag: TAG_BIT_STRING,
        ..bits
    })?;
    let byte = |i: usize| u16::from(bits.get(i).copied().unwrap_or(0).reverse_bits());
    Some(byte(0) | (byte(1) << 8))
}

/// basicConstraints' cA (a pathLenConstraint alone means FALSE). Any non-zero
/// octet is TRUE, as OpenSSL reads a BOOLEAN.
pub fn basic_constraints(value: &[u8]) -> Option<bool> {
    let (constraints, _) = tlv(value)?;
    let boolean = |t: Tlv<'_>| match t.tagged(TAG_BOOLEAN)?.content {
        [b] => Some(*b != 0),
        _ => None,
    };
    let path_length = |t: Tlv<'_>| u32::try_from(small_unsigned(t)?).ok();
    match constraints.sequence()?[..] {
        [] => Some(false),
        [ca] => boolean(ca).or_else(|| path_length(ca).map(|_| false)),
        [ca, length] => {
            path_length(length)?;
            boolean(ca)
        }
        _ => None,
    }
}

/// subjectKeyIdentifier: an OCTET STRING.
pub fn subject_key_id(value: &[u8]) -> Option<&[u8]> {
    let (id, _) = numbered(value, 0x04)?;
    (id.tag & 0x20 == 0).then_some(id.content)
}

/// What an authorityKeyIdentifier names: the key identifier, the issuer's
/// names and its serial number (INTEGER contents), each when present.
pub struct AuthorityKeyId<'a> {
    pub key_id: Option<&'a [u8]>,
    pub issuer: Option<Vec<Tlv<'a>>>,
    pub serial: Option<&'a [u8]>,
}

/// authorityKeyIdentifier: SEQUENCE { [0] keyIdentifier, [1] GeneralNames,
/// [2] serialNumber }, each optional; of the names, those up to the first
/// that is not one.
pub fn authority_key_id(value: &[u8]) -> Option<AuthorityKeyId<'_>> {
    let (aki, _) = numbered(value, 0x10)?;
    let mut rest = aki.content;
    let mut field = |number: u8| {
        let (t, after) = numbered(rest, number)?;
        rest = after;
        Some(t)
    };
    let key_id = field(0).map(|t| t.content);
    let issuer = field(1).map(|t| {
        let mut names = Vec::new();
        let mut input = t.content;
        while let Some((name, after)) = tlv(input).filter(|(n, _)| n.tag & 0xc0 == 0x80) {
            names.push(name);
            input = after;
        }
        names
    });
    // A DER INTEGER: not empty, no redundant leading byte.
    let serial = numbered(rest, 2)
        .map(|(t, _)| t.content)
        .filter(|c| match c {
            [] => false,
            [0, next, ..] => next & 0x80 != 0,
            [0xff, next, ..] => next & 0x80 == 0,
            _ => true,
        });
    Some(AuthorityKeyId {
        key_id,
        issuer,
        serial,
    })
}

/// The GeneralNames in a SEQUENCE's (or an IMPLICIT tag's) contents: each a
/// context-specific element.
pub fn general_names(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let names = elements(content)?;
    names.iter().all(|n| n.tag & 0xc0 == 0x80).then_some(names)
}

/// A directoryName's Name (its whole encoding), if `name` is one.
pub fn directory_name<'a>(name: &Tlv<'a>) -> Option<&'a [u8]> {
    if name.tag & 0x1f != 4 {
        return None;
    }
    Some(only(name.content)?.whole)
}

/// The dNSNames of a subjectAltName, as text; `None` when it is malformed.
pub fn san_dns_names(value: &[u8]) -> Option<Vec<&str>> {
    let (names, _) = tlv(value)?;
    let names = general_names(names.tagged(TAG_SEQUENCE)?.content)?;
    Some(dns_names(&names))
}

fn dns_names<'a>(names: &[Tlv<'a>]) -> Vec<&'a str> {
    names
        .iter()
        .filter(|n| n.tag == 0x82)
        .filter_map(|n| std::str::from_utf8(n.content).ok())
        .collect()
}

/// The dNSName bases of a nameConstraints' excludedSubtrees; `None` when the
/// extension is malformed.
pub fn excluded_dns_subtrees(value: &[u8]) -> Option<Vec<&str>> {
    let (constraints, _) = tlv(value)?;
    let mut excluded = Vec::new();
    let mut last_tag = 0;
    for field in constraints.sequence()? {
        if field.tag <= last_tag {
            return None;
        }
        last_tag = field.tag;
        let field_subtrees = subtree_bases(field.content)?;
        match field.tag {
            0xa0 => {}
            0xa1 => excluded = dns_names(&field_subtrees),
            _ => return None,
        }
    }
    Some(excluded)
}

/// The base GeneralNames of GeneralSubtrees (at least one; a subtree's
/// minimum and maximum are not read).
fn subtree_bases(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut bases = Vec::new();
    for subtree in elements(content)? {
        let base = *subtree.sequence()?.first()?;
        bases.extend(general_names(base.whole)?);
    }
    (!bases.is_empty()).then_some(bases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tag: u8, text: &str) -> Option<i64> {
        let content = text.as_bytes();
        time(Tlv {
            tag,
            content,
            whole: content,
        })
        .map(|t| t.unix)
    }

    #[test]
    fn times_as_the_engine_always_read_them() {
        assert_eq!(at(TAG_UTC_TIME, "700101000000Z"), Some(0));
        assert_eq!(at(TAG_UTC_TIME, "491231235959Z"), Some(2_524_607_999));
        assert_eq!(at(TAG_UTC_TIME, "500101000000Z"), Some(-631_152_000));
        assert_eq!(at(TAG_UTC_TIME, "7001010000Z"), Some(0)); // no seconds
        assert_eq!(at(TAG_UTC_TIME, "700101010000+0100"), Some(0));
        assert_eq!(at(TAG_UTC_TIME, "691231230000-0100"), Some(0));
        assert_eq!(at(TAG_UTC_TIME, "7001010000+0100"), None);
        assert_eq!(at(TAG_UTC_TIME, "700101000000"), None);
        assert_eq!(at(TAG_GENERALIZED_TIME, "19700101000000Z"), Some(0));
        assert_eq!(at(TAG_GENERALIZED_TIME, "19700101000000.123Z"), Some(0));
        assert_eq!(at(TAG_GENERALIZED_TIME, "19700101000000.Z"), Some(0));
        assert_eq!(at(TAG_GENERALIZED_TIME, "19700101000000.1234Z"), None);
        assert_eq!(at(TAG_GENERALIZED_TIME, "19700101000000+0000"), None);
        assert_eq!(
            at(TAG_GENERALIZED_TIME, "20000229000000Z"),
            Some(951_782_400)
        );
        assert_eq!(at(TAG_GENERALIZED_TIME, "21000229000000Z"), None);
        assert_eq!(
            at(TAG_GENERALIZED_TIME, "00010101000000Z"),
            Some(-62_135_596_800)
        );
    }

    #[test]
    fn oids_as_openssl_takes_them() {
        let oid_of = |content: &'static [u8]| {
            oid(Tlv {
                tag: TAG_OID,
                content,
                whole: content,
            })
        };
        assert!(oid_of(&[0x55, 0x1d, 0x0f]).is_some());
        assert!(oid_of(&[0x55, 0x1d, 0x8f]).is_none()); // cut short
        assert!(oid_of(&[0x55, 0x80, 0x1d]).is_none()); // padded
        assert!(oid_of(&[]).is_none());
    }
}
