//! A certificate as Node's `getPeerCertificate()` describes it. The engine
//! produces the values in Node's formats; the JS side builds the object
//! (null-prototype names, Buffers, key order, `issuerCertificate` links).

use ring::digest;
use serde::Serialize;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

use crate::error::TlsError;

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    /// `[shortName, value]` in certificate order; JS folds repeats into arrays.
    pub subject: Vec<(String, String)>,
    pub issuer: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subjectaltname: Option<String>,
    /// `[method, uri]`, e.g. `["OCSP - URI", "http://ocsp.example"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info_access: Option<Vec<(String, String)>>,
    pub ca: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modulus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exponent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    pub pubkey: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn1_curve: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nist_curve: Option<String>,
    pub valid_from: String,
    pub valid_to: String,
    pub fingerprint: String,
    pub fingerprint256: String,
    pub fingerprint512: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_key_usage: Option<Vec<String>>,
    pub serial_number: String,
    /// Whether issuer and subject are the same name (used to pick OpenSSL's
    /// "self-signed" verification codes, and by `issuerCertificate` linking).
    pub self_issued: bool,
}

/// Describes one DER certificate.
pub fn describe(der: &[u8]) -> Result<CertInfo, TlsError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| {
        TlsError::new(
            "ERR_TLS_INVALID_CERTIFICATE",
            format!("bad certificate: {e}"),
        )
    })?;
    let tbs = &cert.tbs_certificate;

    let mut info = CertInfo {
        subject: name_entries(cert.subject()),
        issuer: name_entries(cert.issuer()),
        subjectaltname: None,
        info_access: None,
        ca: false,
        modulus: None,
        bits: None,
        exponent: None,
        pubkey: None,
        asn1_curve: None,
        nist_curve: None,
        valid_from: openssl_time(cert.validity().not_before.timestamp()),
        valid_to: openssl_time(cert.validity().not_after.timestamp()),
        fingerprint: fingerprint(&digest::SHA1_FOR_LEGACY_USE_ONLY, der),
        fingerprint256: fingerprint(&digest::SHA256, der),
        fingerprint512: fingerprint(&digest::SHA512, der),
        ext_key_usage: None,
        serial_number: hex_upper(strip_leading_zeros(tbs.raw_serial())),
        self_issued: tbs.subject.as_raw() == tbs.issuer.as_raw(),
    };

    let mut is_ca = false;
    let mut key_cert_sign = true;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                let names: Vec<String> = san.general_names.iter().map(general_name).collect();
                info.subjectaltname = Some(names.join(", "));
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                let entries = aia
                    .accessdescs
                    .iter()
                    .map(|d| {
                        let method = match d.access_method.to_id_string().as_str() {
                            "1.3.6.1.5.5.7.48.1" => "OCSP".to_string(),
                            "1.3.6.1.5.5.7.48.2" => "CA Issuers".to_string(),
                            other => other.to_string(),
                        };
                        let (kind, value) = general_name_parts(&d.access_location);
                        (format!("{method} - {kind}"), value)
                    })
                    .collect();
                info.info_access = Some(entries);
            }
            ParsedExtension::BasicConstraints(bc) => is_ca = bc.ca,
            ParsedExtension::KeyUsage(ku) => key_cert_sign = ku.key_cert_sign(),
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut oids = Vec::new();
                let known = [
                    (eku.server_auth, "1.3.6.1.5.5.7.3.1"),
                    (eku.client_auth, "1.3.6.1.5.5.7.3.2"),
                    (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                    (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                    (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                    (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
                    (eku.any, "2.5.29.37.0"),
                ];
                oids.extend(
                    known
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, o)| o.to_string()),
                );
                oids.extend(eku.other.iter().map(|o| o.to_id_string()));
                info.ext_key_usage = Some(oids);
            }
            _ => {}
        }
    }
    // OpenSSL's X509_check_ca() == 1: CA:TRUE, and keyCertSign if keyUsage is present.
    info.ca = is_ca && key_cert_sign;

    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let modulus = strip_leading_zeros(rsa.modulus);
            info.modulus = Some(hex_upper(modulus));
            info.bits = Some(bit_length(modulus));
            let exponent = strip_leading_zeros(rsa.exponent)
                .iter()
                .fold(0u64, |acc, b| acc.wrapping_shl(8) | u64::from(*b));
            info.exponent = Some(format!("0x{exponent:x}"));
            info.pubkey = Some(spki.raw.to_vec());
        }
        Ok(PublicKey::EC(point)) => {
            let curve = spki.algorithm.parameters.as_ref().map(|p| p.data);
            let (asn1, nist, bits) = match curve {
                Some([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]) => {
                    ("prime256v1", Some("P-256"), 256)
                }
                Some([0x2b, 0x81, 0x04, 0x00, 0x22]) => ("secp384r1", Some("P-384"), 384),
                Some([0x2b, 0x81, 0x04, 0x00, 0x23]) => ("secp521r1", Some("P-521"), 521),
                Some([0x2b, 0x81, 0x04, 0x00, 0x0a]) => ("secp256k1", None, 256),
                _ => ("", None, 0),
            };
            if bits > 0 {
                info.bits = Some(bits);
            }
            info.pubkey = Some(point.data().to_vec());
            if !asn1.is_empty() {
                info.asn1_curve = Some(asn1.to_string());
            }
            info.nist_curve = nist.map(str::to_string);
        }
        _ => {}
    }
    Ok(info)
}

/// Whether `issuer_der`'s subject is the name `der` says issued it.
pub fn issued_by(der: &[u8], issuer_der: &[u8]) -> bool {
    match (
        X509Certificate::from_der(der),
        X509Certificate::from_der(issuer_der),
    ) {
        (Ok((_, cert)), Ok((_, issuer))) => {
            cert.tbs_certificate.issuer.as_raw() == issuer.tbs_certificate.subject.as_raw()
        }
        _ => false,
    }
}

/// `(notBefore, notAfter)` as Unix seconds.
pub fn validity(der: &[u8]) -> Result<(i64, i64), TlsError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| {
        TlsError::new(
            "ERR_TLS_INVALID_CERTIFICATE",
            format!("bad certificate: {e}"),
        )
    })?;
    let v = cert.validity();
    Ok((v.not_before.timestamp(), v.not_after.timestamp()))
}

/// OpenSSL's short name for an attribute type, or the dotted OID.
fn short_name(oid: &str) -> String {
    let name = match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.17" => "postalCode",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        other => other,
    };
    name.to_string()
}

fn name_entries(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .map(|attr| {
            let key = short_name(&attr.attr_type().to_id_string());
            let value = attr.attr_value();
            (key, asn1_string_to_utf8(value.header.tag().0, value.data))
        })
        .collect()
}

/// ASN1_STRING_to_UTF8: BMPString is UTF-16BE, UniversalString UTF-32BE,
/// T61String is read as Latin-1, the rest as UTF-8.
fn asn1_string_to_utf8(tag: u32, data: &[u8]) -> String {
    match tag {
        30 => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        28 => data
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        20 => data.iter().map(|b| char::from(*b)).collect(),
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

fn general_name(name: &GeneralName<'_>) -> String {
    let (kind, value) = general_name_parts(name);
    format!("{kind}:{value}")
}

/// A general name as Node prints it (`PrintGeneralName`), split into its label
/// and value; values Node considers unsafe are JSON-quoted.
fn general_name_parts(name: &GeneralName<'_>) -> (&'static str, String) {
    match name {
        GeneralName::DNSName(s) => ("DNS", quote_if_unsafe(s, false)),
        GeneralName::RFC822Name(s) => ("email", quote_if_unsafe(s, false)),
        GeneralName::URI(s) => ("URI", quote_if_unsafe(s, false)),
        GeneralName::IPAddress(bytes) => ("IP Address", ip_address(bytes)),
        GeneralName::DirectoryName(n) => {
            let parts: Vec<String> = name_entries(n)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            (
                "DirName",
                quote_if_unsafe(&format!("/{}", parts.join("/")), true),
            )
        }
        GeneralName::RegisteredID(oid) => ("Registered ID", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => {
            ("othername", format!("{}:<unsupported>", oid.to_id_string()))
        }
        GeneralName::X400Address(_) => ("X400Name", "<unsupported>".to_string()),
        GeneralName::EDIPartyName(_) => ("EdiPartyName", "<unsupported>".to_string()),
        GeneralName::Invalid(_, _) => ("othername", "<unsupported>".to_string()),
    }
}

fn ip_address(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(octets).to_string()
        }
        n => format!("<invalid length={n}>"),
    }
}

/// Node quotes an alt name that has `,`, quotes, backslashes or control
/// characters (and, for ASCII-only types, anything non-printable), so the
/// comma-joined list splits unambiguously.
fn quote_if_unsafe(s: &str, utf8: bool) -> String {
    let unsafe_char = |c: char| {
        matches!(c, '"' | '\\' | ',' | '\'')
            || (c as u32) < 0x20
            || c == '\x7f'
            || (!utf8 && (c as u32) > 0x7e)
    };
    if !s.chars().any(unsafe_char) {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\x7f' || (!utf8 && (c as u32) > 0x7e) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_length(bytes: &[u8]) -> u32 {
    match bytes.first() {
        None => 0,
        Some(top) => (bytes.len() as u32 - 1) * 8 + (8 - top.leading_zeros()),
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "00".to_string();
    }
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
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        MONTHS[(month - 1) as usize % 12],
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        year
    )
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

    #[test]
    fn time_format_matches_openssl() {
        assert_eq!(openssl_time(1_662_241_237), "Sep  3 21:40:37 2022 GMT");
        assert_eq!(openssl_time(0), "Jan  1 00:00:00 1970 GMT");
        assert_eq!(openssl_time(4_102_444_800), "Jan  1 00:00:00 2100 GMT");
    }

    #[test]
    fn alt_names_are_quoted_like_node() {
        assert_eq!(quote_if_unsafe("a.example", false), "a.example");
        assert_eq!(quote_if_unsafe("a,b", false), "\"a,b\"");
        assert_eq!(ip_address(&[127, 0, 0, 1]), "127.0.0.1");
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_address(&v6), "::1");
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
            info.subjectaltname.as_deref(),
            Some("DNS:localhost, IP Address:127.0.0.1")
        );
        assert_eq!(info.asn1_curve.as_deref(), Some("prime256v1"));
        assert_eq!(info.bits, Some(256));
        assert!(info.self_issued);
        assert_eq!(info.fingerprint256.len(), 32 * 3 - 1);
        assert!(describe(b"junk").is_err());
    }
}
