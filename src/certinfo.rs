//! A certificate as Node's `getPeerCertificate()` describes it. The engine
//! produces the values in Node's formats (those of Node 20 on OpenSSL 3.0); the
//! JS side builds the object (null-prototype names, Buffers, key order,
//! `issuerCertificate` links).
//!
//! Extensions and names are read from their DER here rather than through
//! typed values, because Node prints what is in the certificate byte for byte
//! (non-ASCII bytes in an IA5String, BMPString code units, the order of
//! extended key usages) where a typed parser would normalise or refuse.

use ring::digest;

use crate::der::{elements, only, Tlv, TAG_OID, TAG_SEQUENCE, TAG_SET};
use crate::error::TlsError;
use crate::x509::{
    self, Certificate, OID_AUTHORITY_INFO_ACCESS, OID_AUTHORITY_KEY_ID, OID_BASIC_CONSTRAINTS,
    OID_EXT_KEY_USAGE, OID_KEY_USAGE, OID_SUBJECT_ALT_NAME, OID_SUBJECT_KEY_ID,
};

#[derive(Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// `[shortName, value]` in certificate order; JS folds repeats into arrays.
    /// Absent when a value has no text form (Node then leaves `subject` out).
    pub subject: Option<Vec<(String, String)>>,
    pub issuer: Option<Vec<(String, String)>>,
    /// Absent without the extension; `Some(None)` (null) when it does not decode.
    pub subjectaltname: Option<Option<String>>,
    /// Node's text for the authorityInfoAccess extension: one
    /// `"<method> - <kind>:<value>"` line per access description; the JS side
    /// splits it into `infoAccess` as Node does. Absent or null as above.
    pub info_access: Option<Option<String>>,
    pub ca: bool,
    pub modulus: Option<String>,
    pub bits: Option<u32>,
    pub exponent: Option<String>,
    pub pubkey: Option<Vec<u8>>,
    pub asn1_curve: Option<String>,
    pub nist_curve: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    pub fingerprint: String,
    pub fingerprint256: String,
    pub fingerprint512: String,
    pub ext_key_usage: Option<Vec<String>>,
    pub serial_number: String,
    /// Whether issuer and subject are the same name (used to pick OpenSSL's
    /// "self-signed" verification codes).
    pub self_issued: bool,
    /// OpenSSL's `X509_check_issued(cert, cert)`: names, key identifiers,
    /// signature algorithm and keyCertSign all say the certificate issued
    /// itself. Node links such a top of the detailed chain to itself.
    pub self_signed: bool,
}

fn bad_certificate() -> TlsError {
    TlsError::new(
        "ERR_TLS_INVALID_CERTIFICATE",
        "bad certificate: not a well-formed X.509 certificate",
    )
}

/// Describes one DER certificate.
pub fn describe(der: &[u8]) -> Result<CertInfo, TlsError> {
    let (cert, _) = Certificate::parse(der).ok_or_else(bad_certificate)?;
    let links = Links::of(&cert);

    let mut info = CertInfo {
        subject: parse_name(cert.subject).and_then(|n| name_entries(&n)),
        issuer: parse_name(cert.issuer).and_then(|n| name_entries(&n)),
        subjectaltname: None,
        info_access: None,
        ca: false,
        modulus: None,
        bits: None,
        exponent: None,
        pubkey: None,
        asn1_curve: None,
        nist_curve: None,
        valid_from: time_with_fraction(cert.not_before.unix, time_fraction(cert.not_before.value)),
        valid_to: time_with_fraction(cert.not_after.unix, time_fraction(cert.not_after.value)),
        fingerprint: fingerprint(&digest::SHA1_FOR_LEGACY_USE_ONLY, der),
        fingerprint256: fingerprint(&digest::SHA256, der),
        fingerprint512: fingerprint(&digest::SHA512, der),
        ext_key_usage: None,
        serial_number: serial_hex(cert.serial),
        self_issued: links.subject.is_some() && links.subject == links.issuer,
        self_signed: check_issued(&links, &links),
    };

    // OpenSSL reads the first of a repeated extension (and refuses a repeated
    // extendedKeyUsage, which Node then leaves out).
    let first = |oid| cert.extensions_with(oid).next();
    if let Some(ext) = first(OID_SUBJECT_ALT_NAME) {
        info.subjectaltname = Some(subject_alt_name(ext.value));
    }
    if let Some(ext) = first(OID_AUTHORITY_INFO_ACCESS) {
        info.info_access = Some(info_access(ext.value));
    }
    if let Ok(Some(ext)) = cert.unique_extension(OID_EXT_KEY_USAGE) {
        info.ext_key_usage = ext_key_usage(ext.value);
    }

    // OpenSSL's X509_check_ca() == 1: CA:TRUE, and keyCertSign if keyUsage is
    // present. Of repeated basicConstraints the last readable one counts.
    let is_ca = cert
        .extensions_with(OID_BASIC_CONSTRAINTS)
        .filter_map(|e| x509::basic_constraints(e.value))
        .last()
        .unwrap_or(false);
    info.ca = is_ca && links.cert_sign;

    let key = cert.public_key;
    match cert.key_algorithm {
        OID_RSA_ENCRYPTION => {
            if let Some((n, e)) = rsa_key(key) {
                info.modulus = Some(bn_print(n));
                info.bits = Some(bit_length(n));
                info.exponent = Some(format!("0x{:x}", bn_word(e)));
                info.pubkey = Some(rsa_spki(n, e));
            }
        }
        OID_EC_PUBLIC_KEY => {
            let curve = cert
                .key_parameters
                .filter(|p| p.tag == TAG_OID)
                .and_then(|p| CURVES.iter().find(|c| c.0 == p.content));
            if let Some((_, name, nist, bits)) = curve {
                info.bits = Some(*bits);
                info.pubkey = Some(key.to_vec());
                info.asn1_curve = Some((*name).to_string());
                info.nist_curve = nist.map(str::to_string);
            }
        }
        _ => {}
    }
    Ok(info)
}

/// Whether `issuer_der` could have issued `der`, as OpenSSL decides when it
/// looks up an issuer in a trust store (names, key identifiers, signature
/// algorithm; keyUsage is not consulted).
pub fn issued_by(der: &[u8], issuer_der: &[u8]) -> bool {
    match (Certificate::parse(der), Certificate::parse(issuer_der)) {
        (Some((cert, _)), Some((issuer, _))) => {
            likely_issued(&Links::of(&cert), &Links::of(&issuer))
        }
        _ => false,
    }
}

/// The certificates Node's `getPeerCertificate(true)` walks, in
/// `issuerCertificate` order, from the chain the peer `sent` (leaf first) and
/// the trusted `store` (the context's `ca`).
///
/// Node links each sent certificate to its issuer among those not yet used
/// (`X509_check_issued`), stopping early when the issuer it took was the last
/// one left; from where that stops it follows issuers found in the store until
/// a self-signed certificate, and stops when the store returns the certificate
/// it was asked about. The JS side links consecutive entries and the last one
/// to itself when it is self-signed.
pub fn detailed_chain<'a>(sent: &[&'a [u8]], store: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let parse = |der: &'a [u8]| Certificate::parse(der).map(|(c, _)| Links::of(&c));
    let Some((&leaf, rest)) = sent.split_first() else {
        return Vec::new();
    };
    let Some(leaf_links) = parse(leaf) else {
        return vec![leaf];
    };
    let mut path = vec![leaf];
    let mut current = leaf_links;
    let mut remaining: Vec<(&[u8], Links)> = rest
        .iter()
        .filter_map(|der| parse(der).map(|l| (*der, l)))
        .collect();
    while let Some(i) = remaining
        .iter()
        .position(|(_, ca)| check_issued(&current, ca))
    {
        let (der, links) = remaining.remove(i);
        path.push(der);
        current = links;
        if i == remaining.len() {
            break;
        }
    }
    let trusted: Vec<Option<Links>> = store.iter().map(|der| parse(der)).collect();
    let mut current_in_store: Option<usize> = None;
    // A store whose certificates issue each other in a cycle would loop for ever.
    for _ in 0..=store.len() {
        if check_issued(&current, &current) {
            break;
        }
        let found = trusted
            .iter()
            .position(|ca| ca.as_ref().is_some_and(|ca| likely_issued(&current, ca)));
        let (Some(j), Some(der)) = (found, found.and_then(|j| store.get(j))) else {
            break;
        };
        path.push(der);
        if current_in_store == Some(j) {
            break;
        }
        let Some(Some(links)) = trusted.get(j) else {
            break;
        };
        current = links.clone();
        current_in_store = Some(j);
    }
    path
}

/// `(notBefore, notAfter)` as Unix seconds.
pub fn validity(der: &[u8]) -> Result<(i64, i64), TlsError> {
    let (cert, _) = Certificate::parse(der).ok_or_else(bad_certificate)?;
    Ok((cert.not_before.unix, cert.not_after.unix))
}

// ---------------------------------------------------------------------------
// DER

const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

const TAG_UTF8_STRING: u8 = 0x0c;
const TAG_IA5_STRING: u8 = 0x16;

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER from its magnitude.
fn der_unsigned(magnitude: &[u8]) -> Vec<u8> {
    let magnitude = strip_leading_zeros(magnitude);
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    der(0x02, &content)
}

/// An OBJECT IDENTIFIER's contents in dotted form, as `OBJ_obj2txt(.., 1)`.
pub(crate) fn oid_text(content: &[u8]) -> Option<String> {
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let mut out = String::new();
    let mut arc = Decimal::default();
    let mut first = true;
    for &b in content {
        arc.push_base128(b & 0x7f);
        if b & 0x80 != 0 {
            continue;
        }
        if first {
            // The first subidentifier packs two arcs: 40 * x + y, x <= 2.
            let x = if arc.less_than(40) {
                0
            } else if arc.less_than(80) {
                1
            } else {
                2
            };
            arc.subtract(40 * x);
            out.push_str(&format!("{x}."));
            first = false;
        } else {
            out.push('.');
        }
        out.push_str(&arc.to_string());
        arc = Decimal::default();
    }
    Some(out)
}

/// An arbitrarily large arc, in base-10^9 limbs, least significant first.
#[derive(Default)]
struct Decimal(Vec<u32>);

impl Decimal {
    const BASE: u64 = 1_000_000_000;

    fn push_base128(&mut self, digit: u8) {
        let mut carry = u64::from(digit);
        for limb in self.0.iter_mut() {
            let v = u64::from(*limb) * 128 + carry;
            *limb = (v % Self::BASE) as u32;
            carry = v / Self::BASE;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn less_than(&self, n: u32) -> bool {
        self.0.iter().skip(1).all(|l| *l == 0) && self.0.first().is_none_or(|l| *l < n)
    }

    fn subtract(&mut self, n: u32) {
        let mut borrow = u64::from(n);
        for limb in self.0.iter_mut() {
            let v = u64::from(*limb);
            if v >= borrow {
                *limb = (v - borrow) as u32;
                return;
            }
            *limb = (v + Self::BASE - borrow) as u32;
            borrow = 1;
        }
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut limbs = self.0.iter().rev().skip_while(|l| **l == 0);
        match limbs.next() {
            None => write!(f, "0"),
            Some(top) => {
                write!(f, "{top}")?;
                limbs.try_for_each(|l| write!(f, "{l:09}"))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Names

/// One attribute of a Name: its type's OID contents, its value, and which
/// RelativeDistinguishedName (SET) it belongs to.
struct Attribute<'a> {
    oid: &'a [u8],
    value: Tlv<'a>,
    rdn: usize,
}

/// The attributes of a DER Name (the whole SEQUENCE), in certificate order.
fn parse_name(name: &[u8]) -> Option<Vec<Attribute<'_>>> {
    let name = only(name).filter(|n| n.tag == TAG_SEQUENCE)?;
    let mut out = Vec::new();
    for (rdn, set) in elements(name.content)?.into_iter().enumerate() {
        if set.tag != TAG_SET {
            return None;
        }
        for atv in elements(set.content)? {
            match (atv.tag, elements(atv.content)?.as_slice()) {
                (TAG_SEQUENCE, [oid, value]) if oid.tag == TAG_OID => out.push(Attribute {
                    oid: oid.content,
                    value: *value,
                    rdn,
                }),
                _ => return None,
            }
        }
    }
    Some(out)
}

/// `[shortName, value]` pairs as Node's subject/issuer objects hold them; None
/// when a value has no UTF-8 form (`ASN1_STRING_to_UTF8` fails).
fn name_entries(name: &[Attribute<'_>]) -> Option<Vec<(String, String)>> {
    name.iter()
        .map(|a| Some((attribute_name(a.oid)?, string_to_utf8(a.value)?)))
        .collect()
}

/// OpenSSL's short name for an attribute type, or the dotted OID.
fn attribute_name(oid: &[u8]) -> Option<String> {
    let dotted = oid_text(oid)?;
    Some(short_name(&dotted).map_or(dotted, str::to_string))
}

/// How many bytes make one character of a string type, as OpenSSL reads it:
/// 1 (Latin-1), 2 (BMPString, UCS-2), 4 (UniversalString, UCS-4) or 0
/// (UTF8String); None for a type that is not a character string.
fn char_width(tag: u8) -> Option<u8> {
    match tag {
        TAG_UTF8_STRING => Some(0),
        // Numeric, Printable, T61, IA5, UTCTime, GeneralizedTime, Graphic, Visible, General.
        0x12 | 0x13 | 0x14 | 0x16 | 0x17 | 0x18 | 0x19 | 0x1a | 0x1b => Some(1),
        0x1c => Some(4),
        0x1e => Some(2),
        _ => None,
    }
}

/// The code points of a string value, as OpenSSL decodes its type; None when
/// the bytes do not fit the type.
fn code_points(value: Tlv<'_>) -> Option<Vec<u32>> {
    let data = value.content;
    match char_width(value.tag)? {
        0 => Some(
            std::str::from_utf8(data)
                .ok()?
                .chars()
                .map(u32::from)
                .collect(),
        ),
        1 => Some(data.iter().map(|b| u32::from(*b)).collect()),
        2 if data.len().is_multiple_of(2) => Some(
            data.chunks_exact(2)
                .map(|c| c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
                .collect(),
        ),
        4 if data.len().is_multiple_of(4) => Some(
            data.chunks_exact(4)
                .map(|c| c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
                .collect(),
        ),
        _ => None,
    }
}

/// `ASN1_STRING_to_UTF8`: the value as text; None for a non-string type, bytes
/// that do not decode, or a code point UTF-8 cannot carry (surrogates included).
fn string_to_utf8(value: Tlv<'_>) -> Option<String> {
    code_points(value)?
        .into_iter()
        .map(char::from_u32)
        .collect()
}

/// Whether OpenSSL decodes an attribute value (the types `ASN1_PRINTABLE`
/// admits, with string contents that convert to UTF-8); a Name holding any
/// other value fails to decode as a whole.
fn openssl_reads(value: Tlv<'_>) -> bool {
    match value.tag {
        // BIT STRING: at most 7 unused bits, none without content.
        0x03 => match value.content {
            [unused] => *unused == 0,
            [unused, ..] => *unused <= 7,
            [] => false,
        },
        0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1c | 0x1e => string_to_utf8(value).is_some(),
        // Types OpenSSL keeps as unknown, and SEQUENCE.
        0x07 | 0x08 | 0x09 | 0x0b | 0x0d | 0x0e | 0x0f | 0x1d | TAG_SEQUENCE => true,
        _ => false,
    }
}

/// Canonical form of a Name, as `X509_NAME_cmp` compares them: string values
/// as UTF-8 with ASCII lower-cased and runs of white space collapsed and
/// trimmed, each RDN's attributes in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CanonicalName(Vec<Vec<CanonicalAttribute>>);

/// `(type OID, value tag, value)`, the value canonical when it is a string.
type CanonicalAttribute = (Vec<u8>, u8, Vec<u8>);

fn canonical_name(der: &[u8]) -> Option<CanonicalName> {
    let mut rdns: Vec<Vec<CanonicalAttribute>> = Vec::new();
    for a in parse_name(der)? {
        let canonical = match a.value.tag {
            // UTF8, Printable, T61, IA5, Visible, Universal, BMP strings.
            0x0c | 0x13 | 0x14 | 0x16 | 0x1a | 0x1c | 0x1e => {
                (TAG_UTF8_STRING, canonical_text(&string_to_utf8(a.value)?))
            }
            tag => (tag, a.value.content.to_vec()),
        };
        let entry = (a.oid.to_vec(), canonical.0, canonical.1);
        match rdns.get_mut(a.rdn) {
            Some(rdn) => rdn.push(entry),
            None => rdns.push(vec![entry]),
        }
    }
    for rdn in &mut rdns {
        rdn.sort();
    }
    Some(CanonicalName(rdns))
}

fn canonical_text(s: &str) -> Vec<u8> {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    let mut in_space = false;
    for b in bytes.get(start..end).unwrap_or_default() {
        if space(b) {
            if !in_space {
                out.push(b' ');
            }
            in_space = true;
        } else {
            out.push(b.to_ascii_lowercase());
            in_space = false;
        }
    }
    out
}

/// `X509_NAME_print_ex` with RFC 2253 layout as Node prints a DirName: last
/// RDN first, `,` between RDNs and `+` inside one, short names, RFC 2253
/// escapes but raw UTF-8 and raw control characters (PrintAltName escapes
/// those afterwards), and `#hex` DER for unknown types and attributes.
fn rfc2253(name: &[Attribute<'_>]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut previous: Option<usize> = None;
    for a in name.iter().rev() {
        match previous {
            Some(rdn) if rdn == a.rdn => out.push(b'+'),
            Some(_) => out.push(b','),
            None => {}
        }
        previous = Some(a.rdn);
        let dotted = oid_text(a.oid)?;
        let known = short_name(&dotted);
        out.extend_from_slice(known.unwrap_or(&dotted).as_bytes());
        out.push(b'=');
        match (known, char_width(a.value.tag)) {
            (Some(_), Some(width)) => escape_2253(&mut out, a.value, width)?,
            _ => {
                out.push(b'#');
                out.extend(hex_upper(a.value.whole).bytes());
            }
        }
    }
    Some(out)
}

fn escape_2253(out: &mut Vec<u8>, value: Tlv<'_>, width: u8) -> Option<()> {
    // A UTF8String goes through byte by byte; other types are converted to UTF-8.
    let units: Vec<u32> = if width == 0 {
        value.content.iter().map(|b| u32::from(*b)).collect()
    } else {
        code_points(value)?
    };
    let last = units.len().saturating_sub(1);
    for (i, &c) in units.iter().enumerate() {
        if width == 0 || c < 0x80 {
            let b = c as u8;
            let escaped = matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
                || (b == b' ' && (i == 0 || i == last))
                || (b == b'#' && i == 0 && i != last);
            if escaped {
                out.push(b'\\');
            }
            out.push(b);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(char::from_u32(c)?.encode_utf8(&mut buf).as_bytes());
        }
    }
    Some(())
}

// ---------------------------------------------------------------------------
// General names (subjectAltName, authorityInfoAccess)

/// Node's `subjectaltname`: the names joined by `", "`; None when the
/// extension does not decode.
fn subject_alt_name(value: &[u8]) -> Option<String> {
    let names = only(value).filter(|s| s.tag == TAG_SEQUENCE)?;
    let mut out = Vec::new();
    for (i, name) in elements(names.content)?.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        print_general_name(&mut out, name)?;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Node's text for authorityInfoAccess: `"<method> - <general name>"` lines.
fn info_access(value: &[u8]) -> Option<String> {
    let descriptions = only(value).filter(|s| s.tag == TAG_SEQUENCE)?;
    let mut out = Vec::new();
    for (i, description) in elements(descriptions.content)?.into_iter().enumerate() {
        let [method, location] = elements(description.content)?[..] else {
            return None;
        };
        if description.tag != TAG_SEQUENCE || method.tag != TAG_OID {
            return None;
        }
        if i > 0 {
            out.push(b'\n');
        }
        let dotted = oid_text(method.content)?;
        out.extend_from_slice(access_method_name(&dotted).unwrap_or(&dotted).as_bytes());
        out.extend_from_slice(b" - ");
        print_general_name(&mut out, location)?;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// OpenSSL's long names for the access methods (`i2t_ASN1_OBJECT`).
fn access_method_name(oid: &str) -> Option<&'static str> {
    name_in(ACCESS_METHOD_NAMES, oid)
}

const ACCESS_METHOD_NAMES: &str = "\
1.3.6.1.5.5.7.48.1 OCSP
1.3.6.1.5.5.7.48.2 CA Issuers
1.3.6.1.5.5.7.48.3 AD Time Stamping
1.3.6.1.5.5.7.48.4 ad dvcs
1.3.6.1.5.5.7.48.5 CA Repository
1.3.6.1.5.5.7.48.1.1 Basic OCSP Response
1.3.6.1.5.5.7.48.1.2 OCSP Nonce
1.3.6.1.5.5.7.48.1.3 OCSP CRL ID
1.3.6.1.5.5.7.48.1.4 Acceptable OCSP Responses
1.3.6.1.5.5.7.48.1.5 OCSP No Check
1.3.6.1.5.5.7.48.1.6 OCSP Archive Cutoff
1.3.6.1.5.5.7.48.1.7 OCSP Service Locator
1.3.6.1.5.5.7.48.1.8 Extended OCSP Status
1.3.6.1.5.5.7.48.1.9 valid
1.3.6.1.5.5.7.48.1.10 path
1.3.6.1.5.5.7.48.1.11 Trust Root
";

/// One GeneralName as Node 20 prints it; None for an encoding OpenSSL refuses.
fn print_general_name(out: &mut Vec<u8>, name: Tlv<'_>) -> Option<()> {
    match name.tag {
        // rfc822Name, dNSName, uniformResourceIdentifier: IA5String, [1] [2] [6] IMPLICIT.
        0x81 | 0x82 | 0x86 => {
            let label: &[u8] = match name.tag {
                0x81 => b"email:",
                0x82 => b"DNS:",
                _ => b"URI:",
            };
            out.extend_from_slice(label);
            print_alt_name(out, name.content, false, None);
        }
        // iPAddress: [7] IMPLICIT OCTET STRING.
        0x87 => {
            out.extend_from_slice(b"IP Address:");
            let text = match name.content {
                [a, b, c, d] => format!("{a}.{b}.{c}.{d}"),
                bytes if bytes.len() == 16 => {
                    let groups: Vec<String> = bytes
                        .chunks_exact(2)
                        .map(|p| {
                            format!(
                                "{:X}",
                                p.iter().fold(0u16, |acc, b| (acc << 8) | u16::from(*b))
                            )
                        })
                        .collect();
                    groups.join(":")
                }
                bytes => format!("<invalid length={}>", bytes.len()),
            };
            out.extend_from_slice(text.as_bytes());
        }
        // directoryName: [4] EXPLICIT Name.
        0xa4 => {
            out.extend_from_slice(b"DirName:");
            let attributes = parse_name(name.content)?;
            if !attributes.iter().all(|a| openssl_reads(a.value)) {
                return None;
            }
            let printed = rfc2253(&attributes)?;
            print_alt_name(out, &printed, true, None);
        }
        // registeredID: [8] IMPLICIT OBJECT IDENTIFIER, always dotted.
        0x88 => {
            out.extend_from_slice(b"Registered ID:");
            out.extend_from_slice(oid_text(name.content)?.as_bytes());
        }
        // otherName: [0] IMPLICIT SEQUENCE { type-id OID, value [0] EXPLICIT ANY }.
        0xa0 => {
            let [type_id, value] = elements(name.content)?[..] else {
                return None;
            };
            if type_id.tag != TAG_OID || value.tag != 0xa0 {
                return None;
            }
            let value = only(value.content)?;
            let known = match oid_text(type_id.content)?.as_str() {
                "1.3.6.1.5.5.7.8.9" => Some(("SmtpUTF8Mailbox", true)),
                "1.3.6.1.5.5.7.8.5" => Some(("XmppAddr", true)),
                "1.3.6.1.5.5.7.8.7" => Some(("SRVName", false)),
                "1.3.6.1.4.1.311.20.2.3" => Some(("UPN", true)),
                "1.3.6.1.5.5.7.8.8" => Some(("NAIRealm", true)),
                _ => None,
            };
            out.extend_from_slice(b"othername:");
            match known {
                Some((prefix, true)) if value.tag == TAG_UTF8_STRING => {
                    print_alt_name(out, value.content, true, Some(prefix))
                }
                Some((prefix, false)) if value.tag == TAG_IA5_STRING => {
                    print_alt_name(out, value.content, false, Some(prefix))
                }
                _ => out.extend_from_slice(b"<unsupported>"),
            }
        }
        // x400Address [3] and ediPartyName [5].
        0xa3 => out.extend_from_slice(b"X400Name:<unsupported>"),
        0xa5 => out.extend_from_slice(b"EdiPartyName:<unsupported>"),
        _ => return None,
    }
    Some(())
}

/// Node's PrintAltName: a value that could be mistaken for list syntax
/// (quotes, backslash, comma, apostrophe, control characters, and for
/// ASCII-only types anything outside printable ASCII) is written as a JSON
/// string, with such bytes as `\u00XX`; anything else is written as is.
fn print_alt_name(out: &mut Vec<u8>, value: &[u8], utf8: bool, prefix: Option<&str>) {
    let safe = value.iter().all(|&b| {
        !matches!(b, b'"' | b'\\' | b',' | b'\'')
            && if utf8 {
                b >= 0x20 && b != 0x7f
            } else {
                (0x20..=0x7e).contains(&b)
            }
    });
    if safe {
        if let Some(p) = prefix {
            out.extend_from_slice(p.as_bytes());
            out.push(b':');
        }
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
            out.push(b);
        } else if ((0x20..=0x7e).contains(&b) && b != b',') || (utf8 && b >= 0x80) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("\\u00{b:02x}").as_bytes());
        }
    }
    out.push(b'"');
}

/// extendedKeyUsage as dotted OIDs, in certificate order.
fn ext_key_usage(value: &[u8]) -> Option<Vec<String>> {
    let purposes = only(value).filter(|s| s.tag == TAG_SEQUENCE)?;
    elements(purposes.content)?
        .into_iter()
        .map(|p| {
            if p.tag == TAG_OID {
                oid_text(p.content)
            } else {
                None
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Keys

/// `(n, e)` magnitudes from an RSAPublicKey.
fn rsa_key(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let seq = only(key).filter(|s| s.tag == TAG_SEQUENCE)?;
    match elements(seq.content)?[..] {
        [n, e] if n.tag == 0x02 && e.tag == 0x02 => Some((
            strip_leading_zeros(n.content),
            strip_leading_zeros(e.content),
        )),
        _ => None,
    }
}

/// `i2d_RSA_PUBKEY`: the key re-encoded as a SubjectPublicKeyInfo.
fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut algorithm = der(TAG_OID, OID_RSA_ENCRYPTION);
    algorithm.extend(der(0x05, &[]));
    let mut key = der_unsigned(n);
    key.extend(der_unsigned(e));
    let mut bits = vec![0u8];
    bits.extend(der(TAG_SEQUENCE, &key));
    let mut spki = der(TAG_SEQUENCE, &algorithm);
    spki.extend(der(0x03, &bits));
    der(TAG_SEQUENCE, &spki)
}

/// `BN_print`: upper-case hex without leading zero digits ("0" for zero).
fn bn_print(magnitude: &[u8]) -> String {
    let hex = hex_upper(magnitude);
    match hex.trim_start_matches('0') {
        "" => "0".to_string(),
        digits => digits.to_string(),
    }
}

/// `BN_get_word`: the value, or all ones when it does not fit 64 bits.
fn bn_word(magnitude: &[u8]) -> u64 {
    if magnitude.len() > 8 {
        return u64::MAX;
    }
    magnitude
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// Named curves OpenSSL knows: parameters OID contents, short name, NIST name,
/// order bits.
type Curve = (&'static [u8], &'static str, Option<&'static str>, u32);
#[rustfmt::skip]
const CURVES: &[Curve] = &[
    (&[0x2b, 0x81, 0x04, 0x00, 0x06], "secp112r1", None, 112),
    (&[0x2b, 0x81, 0x04, 0x00, 0x07], "secp112r2", None, 110),
    (&[0x2b, 0x81, 0x04, 0x00, 0x1c], "secp128r1", None, 128),
    (&[0x2b, 0x81, 0x04, 0x00, 0x1d], "secp128r2", None, 126),
    (&[0x2b, 0x81, 0x04, 0x00, 0x09], "secp160k1", None, 161),
    (&[0x2b, 0x81, 0x04, 0x00, 0x08], "secp160r1", None, 161),
    (&[0x2b, 0x81, 0x04, 0x00, 0x1e], "secp160r2", None, 161),
    (&[0x2b, 0x81, 0x04, 0x00, 0x1f], "secp192k1", None, 192),
    (&[0x2b, 0x81, 0x04, 0x00, 0x20], "secp224k1", None, 225),
    (&[0x2b, 0x81, 0x04, 0x00, 0x21], "secp224r1", Some("P-224"), 224),
    (&[0x2b, 0x81, 0x04, 0x00, 0x0a], "secp256k1", None, 256),
    (&[0x2b, 0x81, 0x04, 0x00, 0x22], "secp384r1", Some("P-384"), 384),
    (&[0x2b, 0x81, 0x04, 0x00, 0x23], "secp521r1", Some("P-521"), 521),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01], "prime192v1", Some("P-192"), 192),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x02], "prime192v2", None, 192),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x03], "prime192v3", None, 192),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x04], "prime239v1", None, 239),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x05], "prime239v2", None, 239),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x06], "prime239v3", None, 239),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], "prime256v1", Some("P-256"), 256),
    (&[0x2b, 0x81, 0x04, 0x00, 0x04], "sect113r1", None, 113),
    (&[0x2b, 0x81, 0x04, 0x00, 0x05], "sect113r2", None, 113),
    (&[0x2b, 0x81, 0x04, 0x00, 0x16], "sect131r1", None, 131),
    (&[0x2b, 0x81, 0x04, 0x00, 0x17], "sect131r2", None, 131),
    (&[0x2b, 0x81, 0x04, 0x00, 0x01], "sect163k1", Some("K-163"), 163),
    (&[0x2b, 0x81, 0x04, 0x00, 0x02], "sect163r1", None, 162),
    (&[0x2b, 0x81, 0x04, 0x00, 0x0f], "sect163r2", Some("B-163"), 163),
    (&[0x2b, 0x81, 0x04, 0x00, 0x18], "sect193r1", None, 193),
    (&[0x2b, 0x81, 0x04, 0x00, 0x19], "sect193r2", None, 193),
    (&[0x2b, 0x81, 0x04, 0x00, 0x1a], "sect233k1", Some("K-233"), 232),
    (&[0x2b, 0x81, 0x04, 0x00, 0x1b], "sect233r1", Some("B-233"), 233),
    (&[0x2b, 0x81, 0x04, 0x00, 0x03], "sect239k1", None, 238),
    (&[0x2b, 0x81, 0x04, 0x00, 0x10], "sect283k1", Some("K-283"), 281),
    (&[0x2b, 0x81, 0x04, 0x00, 0x11], "sect283r1", Some("B-283"), 282),
    (&[0x2b, 0x81, 0x04, 0x00, 0x24], "sect409k1", Some("K-409"), 407),
    (&[0x2b, 0x81, 0x04, 0x00, 0x25], "sect409r1", Some("B-409"), 409),
    (&[0x2b, 0x81, 0x04, 0x00, 0x26], "sect571k1", Some("K-571"), 570),
    (&[0x2b, 0x81, 0x04, 0x00, 0x27], "sect571r1", Some("B-571"), 570),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x01], "c2pnb163v1", None, 163),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x02], "c2pnb163v2", None, 162),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x03], "c2pnb163v3", None, 162),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x04], "c2pnb176v1", None, 161),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x05], "c2tnb191v1", None, 191),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x06], "c2tnb191v2", None, 190),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x07], "c2tnb191v3", None, 189),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x0a], "c2pnb208w1", None, 193),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x0b], "c2tnb239v1", None, 238),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x0c], "c2tnb239v2", None, 237),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x0d], "c2tnb239v3", None, 236),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x10], "c2pnb272w1", None, 257),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x11], "c2pnb304w1", None, 289),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x12], "c2tnb359v1", None, 353),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x13], "c2pnb368w1", None, 353),
    (&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x00, 0x14], "c2tnb431r1", None, 418),
    (&[0x67, 0x2b, 0x01, 0x04, 0x01], "wap-wsg-idm-ecid-wtls1", None, 112),
    (&[0x67, 0x2b, 0x01, 0x04, 0x03], "wap-wsg-idm-ecid-wtls3", None, 163),
    (&[0x67, 0x2b, 0x01, 0x04, 0x04], "wap-wsg-idm-ecid-wtls4", None, 113),
    (&[0x67, 0x2b, 0x01, 0x04, 0x05], "wap-wsg-idm-ecid-wtls5", None, 163),
    (&[0x67, 0x2b, 0x01, 0x04, 0x06], "wap-wsg-idm-ecid-wtls6", None, 112),
    (&[0x67, 0x2b, 0x01, 0x04, 0x07], "wap-wsg-idm-ecid-wtls7", None, 161),
    (&[0x67, 0x2b, 0x01, 0x04, 0x08], "wap-wsg-idm-ecid-wtls8", None, 113),
    (&[0x67, 0x2b, 0x01, 0x04, 0x09], "wap-wsg-idm-ecid-wtls9", None, 161),
    (&[0x67, 0x2b, 0x01, 0x04, 0x0a], "wap-wsg-idm-ecid-wtls10", None, 232),
    (&[0x67, 0x2b, 0x01, 0x04, 0x0b], "wap-wsg-idm-ecid-wtls11", None, 233),
    (&[0x67, 0x2b, 0x01, 0x04, 0x0c], "wap-wsg-idm-ecid-wtls12", None, 224),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x01], "brainpoolP160r1", None, 160),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x02], "brainpoolP160t1", None, 160),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x03], "brainpoolP192r1", None, 192),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x04], "brainpoolP192t1", None, 192),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x05], "brainpoolP224r1", None, 224),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x06], "brainpoolP224t1", None, 224),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07], "brainpoolP256r1", None, 256),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x08], "brainpoolP256t1", None, 256),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x09], "brainpoolP320r1", None, 320),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0a], "brainpoolP320t1", None, 320),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b], "brainpoolP384r1", None, 384),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0c], "brainpoolP384t1", None, 384),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d], "brainpoolP512r1", None, 512),
    (&[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0e], "brainpoolP512t1", None, 512),
];

// ---------------------------------------------------------------------------
// Issuers

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyType {
    Rsa,
    RsaPss,
    Ec,
    Dsa,
    Ed25519,
    Ed448,
}

/// What OpenSSL looks at to decide whether one certificate issued another.
#[derive(Clone, Debug)]
struct Links {
    subject: Option<CanonicalName>,
    issuer: Option<CanonicalName>,
    serial: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    authority_serial: Option<Vec<u8>>,
    /// The first directoryName of the authorityKeyIdentifier's issuer.
    authority_issuer: Option<Option<CanonicalName>>,
    /// keyUsage absent, or with keyCertSign.
    cert_sign: bool,
    key: Option<KeyType>,
    /// The key type the TBS signature algorithm needs.
    signed_with: Option<KeyType>,
}

impl Links {
    fn of(cert: &Certificate<'_>) -> Self {
        let mut links = Links {
            subject: canonical_name(cert.subject),
            issuer: canonical_name(cert.issuer),
            serial: strip_leading_zeros(cert.serial).to_vec(),
            subject_key_id: None,
            authority_key_id: None,
            authority_serial: None,
            authority_issuer: None,
            cert_sign: true,
            key: key_type(cert.key_algorithm),
            signed_with: oid_text(cert.tbs_signature).and_then(|o| signature_key_type(&o)),
        };
        // Of a repeated extension the last readable one counts; an unreadable
        // one is as if absent.
        for ext in &cert.extensions {
            match ext.oid {
                OID_SUBJECT_KEY_ID => {
                    if let Some(id) = x509::subject_key_id(ext.value) {
                        links.subject_key_id = Some(id.to_vec());
                    }
                }
                OID_AUTHORITY_KEY_ID => {
                    if let Some(akid) = x509::authority_key_id(ext.value) {
                        links.authority_key_id = akid.key_id.map(<[u8]>::to_vec);
                        links.authority_serial =
                            akid.serial.map(|s| strip_leading_zeros(s).to_vec());
                        links.authority_issuer = akid.issuer.map(|names| {
                            names
                                .iter()
                                .find_map(|n| x509::directory_name(n).and_then(canonical_name))
                        });
                    }
                }
                OID_KEY_USAGE => {
                    if let Some(bits) = x509::key_usage(ext.value) {
                        links.cert_sign = bits & x509::KEY_USAGE_KEY_CERT_SIGN != 0;
                    }
                }
                _ => {}
            }
        }
        links
    }
}

fn key_type(oid: &[u8]) -> Option<KeyType> {
    Some(match oid_text(oid)?.as_str() {
        "1.2.840.113549.1.1.1" => KeyType::Rsa,
        "1.2.840.113549.1.1.10" => KeyType::RsaPss,
        "1.2.840.10045.2.1" => KeyType::Ec,
        "1.2.840.10040.4.1" => KeyType::Dsa,
        "1.3.101.112" => KeyType::Ed25519,
        "1.3.101.113" => KeyType::Ed448,
        _ => return None,
    })
}

fn signature_key_type(oid: &str) -> Option<KeyType> {
    let rsa = [
        "1.2.840.113549.1.1.2",
        "1.2.840.113549.1.1.3",
        "1.2.840.113549.1.1.4",
        "1.2.840.113549.1.1.5",
        "1.2.840.113549.1.1.11",
        "1.2.840.113549.1.1.12",
        "1.2.840.113549.1.1.13",
        "1.2.840.113549.1.1.14",
        "1.2.840.113549.1.1.15",
        "1.2.840.113549.1.1.16",
        "1.3.14.3.2.29",
        "2.16.840.1.101.3.4.3.13",
        "2.16.840.1.101.3.4.3.14",
        "2.16.840.1.101.3.4.3.15",
        "2.16.840.1.101.3.4.3.16",
    ];
    let ecdsa = [
        "1.2.840.10045.4.1",
        "1.2.840.10045.4.3.1",
        "1.2.840.10045.4.3.2",
        "1.2.840.10045.4.3.3",
        "1.2.840.10045.4.3.4",
        "2.16.840.1.101.3.4.3.9",
        "2.16.840.1.101.3.4.3.10",
        "2.16.840.1.101.3.4.3.11",
        "2.16.840.1.101.3.4.3.12",
    ];
    let dsa = [
        "1.2.840.10040.4.3",
        "2.16.840.1.101.3.4.3.1",
        "2.16.840.1.101.3.4.3.2",
        "2.16.840.1.101.3.4.3.3",
        "2.16.840.1.101.3.4.3.4",
        "2.16.840.1.101.3.4.3.5",
        "2.16.840.1.101.3.4.3.6",
        "2.16.840.1.101.3.4.3.7",
        "2.16.840.1.101.3.4.3.8",
    ];
    Some(match oid {
        "1.2.840.113549.1.1.10" => KeyType::RsaPss,
        "1.3.101.112" => KeyType::Ed25519,
        "1.3.101.113" => KeyType::Ed448,
        o if rsa.contains(&o) => KeyType::Rsa,
        o if ecdsa.contains(&o) => KeyType::Ec,
        o if dsa.contains(&o) => KeyType::Dsa,
        _ => return None,
    })
}

/// OpenSSL's `ossl_x509_likely_issued(issuer, cert)`.
fn likely_issued(cert: &Links, issuer: &Links) -> bool {
    if cert.issuer.is_none() || cert.issuer != issuer.subject {
        return false;
    }
    if let (Some(want), Some(have)) = (&cert.authority_key_id, &issuer.subject_key_id) {
        if want != have {
            return false;
        }
    }
    if cert
        .authority_serial
        .as_ref()
        .is_some_and(|s| *s != issuer.serial)
    {
        return false;
    }
    if let Some(Some(name)) = &cert.authority_issuer {
        if issuer.issuer.as_ref() != Some(name) {
            return false;
        }
    }
    match (cert.signed_with, issuer.key) {
        (Some(KeyType::RsaPss), Some(KeyType::Rsa | KeyType::RsaPss)) => true,
        (Some(sig), Some(key)) => sig == key,
        _ => false,
    }
}

/// OpenSSL's `X509_check_issued(issuer, cert) == X509_V_OK`.
fn check_issued(cert: &Links, issuer: &Links) -> bool {
    likely_issued(cert, issuer) && issuer.cert_sign
}

// ---------------------------------------------------------------------------
// Small formats

/// The name of `oid` in a table of "OID name" lines. A table rather than a
/// `match`: 3 KB less wasm (the match compiled to a comparison per entry).
fn name_in(table: &'static str, oid: &str) -> Option<&'static str> {
    table
        .lines()
        .find_map(|line| line.split_once(' ').filter(|(key, _)| *key == oid))
        .map(|(_, name)| name)
}

/// OpenSSL's short name for an attribute type it knows.
fn short_name(oid: &str) -> Option<&'static str> {
    name_in(SHORT_NAMES, oid)
}

const SHORT_NAMES: &str = "\
2.5.4.3 CN
2.5.4.4 SN
2.5.4.5 serialNumber
2.5.4.6 C
2.5.4.7 L
2.5.4.8 ST
2.5.4.9 street
2.5.4.10 O
2.5.4.11 OU
2.5.4.12 title
2.5.4.13 description
2.5.4.14 searchGuide
2.5.4.15 businessCategory
2.5.4.16 postalAddress
2.5.4.17 postalCode
2.5.4.18 postOfficeBox
2.5.4.19 physicalDeliveryOfficeName
2.5.4.20 telephoneNumber
2.5.4.21 telexNumber
2.5.4.22 teletexTerminalIdentifier
2.5.4.23 facsimileTelephoneNumber
2.5.4.24 x121Address
2.5.4.25 internationaliSDNNumber
2.5.4.26 registeredAddress
2.5.4.27 destinationIndicator
2.5.4.28 preferredDeliveryMethod
2.5.4.29 presentationAddress
2.5.4.30 supportedApplicationContext
2.5.4.31 member
2.5.4.32 owner
2.5.4.33 roleOccupant
2.5.4.34 seeAlso
2.5.4.35 userPassword
2.5.4.36 userCertificate
2.5.4.37 cACertificate
2.5.4.38 authorityRevocationList
2.5.4.39 certificateRevocationList
2.5.4.40 crossCertificatePair
2.5.4.41 name
2.5.4.42 GN
2.5.4.43 initials
2.5.4.44 generationQualifier
2.5.4.45 x500UniqueIdentifier
2.5.4.46 dnQualifier
2.5.4.47 enhancedSearchGuide
2.5.4.48 protocolInformation
2.5.4.49 distinguishedName
2.5.4.50 uniqueMember
2.5.4.51 houseIdentifier
2.5.4.52 supportedAlgorithms
2.5.4.53 deltaRevocationList
2.5.4.54 dmdName
2.5.4.65 pseudonym
2.5.4.72 role
2.5.4.97 organizationIdentifier
2.5.4.100 dnsName
0.9.2342.19200300.100.1.1 UID
0.9.2342.19200300.100.1.2 textEncodedORAddress
0.9.2342.19200300.100.1.3 mail
0.9.2342.19200300.100.1.4 info
0.9.2342.19200300.100.1.5 favouriteDrink
0.9.2342.19200300.100.1.6 roomNumber
0.9.2342.19200300.100.1.7 photo
0.9.2342.19200300.100.1.8 userClass
0.9.2342.19200300.100.1.9 host
0.9.2342.19200300.100.1.10 manager
0.9.2342.19200300.100.1.11 documentIdentifier
0.9.2342.19200300.100.1.12 documentTitle
0.9.2342.19200300.100.1.13 documentVersion
0.9.2342.19200300.100.1.14 documentAuthor
0.9.2342.19200300.100.1.15 documentLocation
0.9.2342.19200300.100.1.20 homeTelephoneNumber
0.9.2342.19200300.100.1.21 secretary
0.9.2342.19200300.100.1.22 otherMailbox
0.9.2342.19200300.100.1.23 lastModifiedTime
0.9.2342.19200300.100.1.24 lastModifiedBy
0.9.2342.19200300.100.1.25 DC
0.9.2342.19200300.100.1.26 aRecord
0.9.2342.19200300.100.1.27 pilotAttributeType27
0.9.2342.19200300.100.1.28 mXRecord
0.9.2342.19200300.100.1.29 nSRecord
0.9.2342.19200300.100.1.30 sOARecord
0.9.2342.19200300.100.1.31 cNAMERecord
0.9.2342.19200300.100.1.37 associatedDomain
0.9.2342.19200300.100.1.38 associatedName
0.9.2342.19200300.100.1.39 homePostalAddress
0.9.2342.19200300.100.1.40 personalTitle
0.9.2342.19200300.100.1.41 mobileTelephoneNumber
0.9.2342.19200300.100.1.42 pagerTelephoneNumber
0.9.2342.19200300.100.1.43 friendlyCountryName
0.9.2342.19200300.100.1.44 uid
0.9.2342.19200300.100.1.45 organizationalStatus
0.9.2342.19200300.100.1.46 janetMailbox
0.9.2342.19200300.100.1.47 mailPreferenceOption
0.9.2342.19200300.100.1.48 buildingName
0.9.2342.19200300.100.1.49 dSAQuality
0.9.2342.19200300.100.1.50 singleLevelQuality
0.9.2342.19200300.100.1.51 subtreeMinimumQuality
0.9.2342.19200300.100.1.52 subtreeMaximumQuality
0.9.2342.19200300.100.1.53 personalSignature
0.9.2342.19200300.100.1.54 dITRedirect
0.9.2342.19200300.100.1.55 audio
0.9.2342.19200300.100.1.56 documentPublisher
1.2.840.113549.1.9.1 emailAddress
1.2.840.113549.1.9.2 unstructuredName
1.2.840.113549.1.9.3 contentType
1.2.840.113549.1.9.4 messageDigest
1.2.840.113549.1.9.5 signingTime
1.2.840.113549.1.9.6 countersignature
1.2.840.113549.1.9.7 challengePassword
1.2.840.113549.1.9.8 unstructuredAddress
1.2.840.113549.1.9.9 extendedCertificateAttributes
1.2.840.113549.1.9.14 extReq
1.2.840.113549.1.9.15 SMIME-CAPS
1.2.840.113549.1.9.16 SMIME
1.2.840.113549.1.9.20 friendlyName
1.2.840.113549.1.9.21 localKeyID
1.3.6.1.4.1.311.60.2.1.1 jurisdictionL
1.3.6.1.4.1.311.60.2.1.2 jurisdictionST
1.3.6.1.4.1.311.60.2.1.3 jurisdictionC
1.3.6.1.5.5.7.9.1 id-pda-dateOfBirth
1.3.6.1.5.5.7.9.2 id-pda-placeOfBirth
1.3.6.1.5.5.7.9.3 id-pda-gender
1.3.6.1.5.5.7.9.4 id-pda-countryOfCitizenship
1.3.6.1.5.5.7.9.5 id-pda-countryOfResidence
";

/// `BN_bn2hex` of the serial number: upper-case hex bytes, "0" for zero, a
/// minus sign for a negative number.
fn serial_hex(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    if !negative {
        let magnitude = strip_leading_zeros(raw);
        return if magnitude.is_empty() {
            "0".to_string()
        } else {
            hex_upper(magnitude)
        };
    }
    // Two's complement: the magnitude is the bitwise complement plus one.
    let mut magnitude: Vec<u8> = raw.iter().map(|b| !b).collect();
    for byte in magnitude.iter_mut().rev() {
        let (sum, overflow) = byte.overflowing_add(1);
        *byte = sum;
        if !overflow {
            break;
        }
    }
    format!("-{}", hex_upper(strip_leading_zeros(&magnitude)))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

fn bit_length(bytes: &[u8]) -> u32 {
    match bytes.first() {
        None => 0,
        Some(top) => (bytes.len() as u32 - 1) * 8 + (8 - top.leading_zeros()),
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn fingerprint(alg: &'static digest::Algorithm, der: &[u8]) -> String {
    let d = digest::digest(alg, der);
    let hex: Vec<String> = d.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// ASN1_TIME_print's format: `Sep  3 21:40:37 2022 GMT`.
pub fn openssl_time(unix: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let month_name = MONTHS
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("???");
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        month_name,
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        year
    )
}

/// `ASN1_TIME_print` of a GeneralizedTime with fractional seconds shows them
/// after the seconds: `Jan  1 00:00:00.5 2051 GMT`.
fn time_with_fraction(unix: i64, fraction: &str) -> String {
    let plain = openssl_time(unix);
    if fraction.is_empty() {
        return plain;
    }
    // "Mon dd hh:mm:ss" is 15 characters.
    match (plain.get(..15), plain.get(15..)) {
        (Some(head), Some(tail)) => format!("{head}{fraction}{tail}"),
        _ => plain,
    }
}

/// The fractional seconds of a GeneralizedTime (`.` and digits), or "".
fn time_fraction(t: Tlv<'_>) -> &str {
    let text = std::str::from_utf8(t.content).unwrap_or_default();
    match (t.tag, text.get(14..)) {
        (0x18, Some(rest)) if rest.starts_with('.') => {
            let digits = rest
                .get(1..)
                .unwrap_or_default()
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            rest.get(..=digits).unwrap_or_default()
        }
        _ => "",
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der::tlv;

    #[test]
    fn time_format_matches_openssl() {
        assert_eq!(openssl_time(1_662_241_237), "Sep  3 21:40:37 2022 GMT");
        assert_eq!(openssl_time(0), "Jan  1 00:00:00 1970 GMT");
        assert_eq!(openssl_time(4_102_444_800), "Jan  1 00:00:00 2100 GMT");
        assert_eq!(time_with_fraction(0, ".5"), "Jan  1 00:00:00.5 1970 GMT");
    }

    fn alt(name: &[u8]) -> String {
        let mut out = Vec::new();
        let parsed = tlv(name).map(|(t, _)| t);
        assert!(parsed
            .and_then(|t| print_general_name(&mut out, t))
            .is_some());
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn alt_names_are_quoted_like_node() {
        let mut out = Vec::new();
        print_alt_name(&mut out, b"a.example", false, None);
        assert_eq!(out, b"a.example");
        out.clear();
        print_alt_name(&mut out, b"a,b\"\\\x01\xc3", false, None);
        assert_eq!(out, b"\"a\\u002cb\\\"\\\\\\u0001\\u00c3\"");
        out.clear();
        print_alt_name(&mut out, "it's Zoë".as_bytes(), true, Some("UPN"));
        assert_eq!(String::from_utf8_lossy(&out), "\"UPN:it's Zoë\"");
        assert_eq!(alt(&[0x87, 4, 127, 0, 0, 1]), "IP Address:127.0.0.1");
        let mut v6 = vec![0x87, 16];
        v6.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(alt(&v6), "IP Address:2001:DB8:0:0:0:0:0:1");
        assert_eq!(alt(&[0x87, 3, 1, 2, 3]), "IP Address:<invalid length=3>");
        assert_eq!(alt(&[0x88, 3, 0x2a, 0x03, 0x04]), "Registered ID:1.2.3.4");
    }

    #[test]
    fn directory_names_print_like_rfc_2253() {
        // C=US, O="a,b", CN=" #x" + UID=y (one RDN), 1.2.3.4=z (unknown type)
        let atv = |oid: &[u8], tag: u8, value: &[u8]| {
            let mut inner = der(TAG_OID, oid);
            inner.extend(der(tag, value));
            der(TAG_SEQUENCE, &inner)
        };
        let mut name = der(TAG_SET, &atv(&[0x55, 4, 6], 0x13, b"US"));
        name.extend(der(TAG_SET, &atv(&[0x55, 4, 10], 0x0c, b"a,b")));
        let mut multi = atv(&[0x55, 4, 3], 0x0c, b" #x");
        multi.extend(atv(
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
            0x0c,
            b"y",
        ));
        name.extend(der(TAG_SET, &multi));
        name.extend(der(TAG_SET, &atv(&[0x2a, 0x03, 0x04], 0x0c, b"z")));
        let name = der(TAG_SEQUENCE, &name);
        let printed = parse_name(&name).and_then(|n| rfc2253(&n));
        assert_eq!(
            printed.as_deref(),
            Some(&b"1.2.3.4=#0C017A,UID=y+CN=\\ #x,O=a\\,b,C=US"[..])
        );
        let canonical = canonical_name(&name);
        assert!(canonical.is_some());
    }

    #[test]
    fn oids_print_dotted() {
        assert_eq!(oid_text(&[0x55, 0x04, 0x03]).as_deref(), Some("2.5.4.3"));
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]).as_deref(),
            Some("1.2.840.113549.1.1.1")
        );
        // 2.25.<a 128-bit UUID>
        let mut uuid = vec![0x69];
        uuid.extend([0x83; 18]);
        uuid.push(0x7f);
        assert!(oid_text(&uuid).is_some_and(|s| s.starts_with("2.25.") && s.len() > 40));
        assert_eq!(oid_text(&[0x80]), None);
    }

    #[test]
    fn serial_numbers_print_like_bn_bn2hex() {
        assert_eq!(serial_hex(&[0x00]), "0");
        assert_eq!(serial_hex(&[0x0f]), "0F");
        assert_eq!(serial_hex(&[0x00, 0xff, 0x01]), "FF01");
        assert_eq!(serial_hex(&[0xfb]), "-05");
        assert_eq!(serial_hex(&[0xff, 0x00]), "-0100");
        assert_eq!(bn_print(&[0x0a, 0xbc]), "ABC");
        assert_eq!(bn_word(&[1, 0, 1]), 0x10001);
        assert_eq!(bn_word(&[1; 9]), u64::MAX);
    }

    #[test]
    fn canonical_names_ignore_case_space_and_string_type() {
        let name = |tag: u8, value: &[u8]| {
            let mut atv = der(TAG_OID, &[0x55, 4, 3]);
            atv.extend(der(tag, value));
            der(TAG_SEQUENCE, &der(TAG_SET, &der(TAG_SEQUENCE, &atv)))
        };
        let a = canonical_name(&name(0x13, b"  Test   CA "));
        assert!(a.is_some());
        assert_eq!(a, canonical_name(&name(0x0c, b"test ca")));
        assert_eq!(
            a,
            canonical_name(&name(
                0x1e,
                &[0, b'T', 0, b'E', 0, b's', 0, b't', 0, b' ', 0, b'c', 0, b'a']
            ))
        );
        assert_ne!(a, canonical_name(&name(0x0c, b"test-ca")));
    }

    #[test]
    fn describes_generated_certificate() {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(|e| e.to_string());
        let ck = match ck {
            Ok(ck) => ck,
            Err(e) => unreachable!("rcgen: {e}"),
        };
        let info = describe(ck.cert.der()).map_err(|e| e.to_string());
        let info = match info {
            Ok(i) => i,
            Err(e) => unreachable!("{e}"),
        };
        assert_eq!(
            info.subjectaltname,
            Some(Some("DNS:localhost, IP Address:127.0.0.1".to_string()))
        );
        assert_eq!(info.asn1_curve.as_deref(), Some("prime256v1"));
        assert_eq!(info.bits, Some(256));
        assert!(info.self_issued);
        assert_eq!(info.fingerprint256.len(), 32 * 3 - 1);
        assert!(describe(b"junk").is_err());
        let der: &[u8] = ck.cert.der();
        assert_eq!(detailed_chain(&[der], &[]), vec![der]);
        assert!(issued_by(der, der));
    }
}
