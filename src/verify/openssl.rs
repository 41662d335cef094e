//! Where OpenSSL's verifier (as Node 20 reports it) and webpki part ways:
//! rules OpenSSL enforces that webpki does not (key usage, the validity of a
//! `ca` root), and the reasons OpenSSL gives for chains webpki refuses without
//! saying why. Node names only some of OpenSSL's verify errors; the others
//! reach users as code `UNSPECIFIED` with OpenSSL's own message.

use super::VerifyError;
use crate::x509::{self, Certificate};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::RootCertStore;

fn parse<'a>(der: &'a CertificateDer<'_>) -> Option<Certificate<'a>> {
    Certificate::parse(der.as_ref()).map(|(cert, _)| cert)
}

const fn unspecified(message: &'static str) -> VerifyError {
    VerifyError::new("UNSPECIFIED", message)
}

/// OpenSSL's verdict on a validity period at `now`.
pub(super) fn period_error(not_before: i64, not_after: i64, now: UnixTime) -> Option<VerifyError> {
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    if now < not_before {
        Some(VerifyError::new(
            "CERT_NOT_YET_VALID",
            "certificate is not yet valid",
        ))
    } else if now > not_after {
        Some(VerifyError::new(
            "CERT_HAS_EXPIRED",
            "certificate has expired",
        ))
    } else {
        None
    }
}

/// What OpenSSL still finds wrong in a path webpki accepted. With Node's
/// accept-all verify callback OpenSSL reports its last error, so the checks
/// run from the last OpenSSL makes (validity, root first) to the first.
pub(super) fn accepted_path_error(
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    anchor: Option<&CertificateDer<'_>>,
    now: UnixTime,
    server: bool,
) -> Option<VerifyError> {
    // webpki takes a root as a name and a key; OpenSSL checks its dates too.
    if let Some(root) = anchor.and_then(parse) {
        if let Some(err) = period_error(root.not_before.unix, root.not_after.unix, now) {
            return Some(err);
        }
    }
    // A CA's key usage, when present, must allow certificate signing.
    for cert in intermediates.iter().filter_map(parse) {
        if let Ok(Some(ku)) = cert.key_usage() {
            if ku & x509::KEY_USAGE_KEY_CERT_SIGN == 0 {
                return Some(unspecified(
                    "key usage does not include certificate signing",
                ));
            }
        }
    }
    // The leaf's key usage must suit TLS (OpenSSL's ssl_server/ssl_client purposes).
    let ku = parse(leaf).and_then(|cert| cert.key_usage().ok().flatten());
    if let Some(ku) = ku {
        let mut fits = x509::KEY_USAGE_DIGITAL_SIGNATURE | x509::KEY_USAGE_KEY_AGREEMENT;
        if server {
            fits |= x509::KEY_USAGE_KEY_ENCIPHERMENT;
        }
        let fits = ku & fits != 0;
        if !fits {
            return Some(VerifyError::new(
                "INVALID_PURPOSE",
                "unsuitable certificate purpose",
            ));
        }
    }
    None
}

/// The extensions OpenSSL understands when critical (`X509_supported_extension`).
const OPENSSL_CRITICAL_OK: [&str; 13] = [
    "2.16.840.1.113730.1.1", // Netscape cert type
    "2.5.29.15",             // key usage
    "2.5.29.17",             // subject alternative name
    "2.5.29.19",             // basic constraints
    "2.5.29.32",             // certificate policies
    "2.5.29.37",             // extended key usage
    "1.3.6.1.5.5.7.1.7",     // IP address blocks
    "1.3.6.1.5.5.7.1.8",     // AS identifiers
    "2.5.29.36",             // policy constraints
    "1.3.6.1.5.5.7.1.14",    // proxy certificate info
    "2.5.29.30",             // name constraints
    "2.5.29.33",             // policy mappings
    "2.5.29.54",             // inhibit any-policy
];

/// Certificate signatures OpenSSL refuses at Node's security level (1).
const WEAK_SIGNATURES: [&str; 5] = [
    "1.2.840.113549.1.1.4", // md5WithRSAEncryption
    "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
    "1.2.840.10045.4.1",    // ecdsa-with-SHA1
    "1.2.840.10040.4.3",    // dsa-with-sha1
    "1.3.14.3.2.29",        // sha1WithRSASignature (OIW)
];

fn oid_in(oid: &[u8], list: &[&str]) -> bool {
    crate::certinfo::oid_text(oid).is_some_and(|dotted| list.contains(&dotted.as_str()))
}

/// The reason OpenSSL gives for a path that holds a certificate webpki cannot
/// take at all: an unknown critical extension, or a signature with a digest
/// too weak. `path` is the issuer path built from what was sent; a
/// self-issued certificate's own signature is not judged.
pub(super) fn refused_certificate(path: &[&CertificateDer<'_>]) -> Option<VerifyError> {
    let certs: Vec<Certificate<'_>> = path.iter().filter_map(|c| parse(c)).collect();
    if certs.iter().any(|c| {
        c.extensions
            .iter()
            .any(|e| e.critical && !oid_in(e.oid, &OPENSSL_CRITICAL_OK))
    }) {
        return Some(unspecified("unhandled critical extension"));
    }
    let weak = certs
        .iter()
        .any(|c| c.subject != c.issuer && oid_in(c.signature_algorithm, &WEAK_SIGNATURES));
    weak.then_some(unspecified("CA signature digest algorithm too weak"))
}

/// A name-constraint violation, told apart as OpenSSL does: a DNS name of the
/// leaf inside an excluded subtree of a CA (sent or trusted), else permitted.
pub(super) fn name_constraint_error(
    chain: &[CertificateDer<'_>],
    ca_certs: &[CertificateDer<'_>],
) -> VerifyError {
    let names: Vec<String> = chain
        .first()
        .and_then(parse)
        .and_then(|leaf| {
            let san = leaf.unique_extension(x509::OID_SUBJECT_ALT_NAME).ok()??;
            let names = x509::san_dns_names(san.value)?;
            Some(names.iter().map(|d| d.to_ascii_lowercase()).collect())
        })
        .unwrap_or_default();
    let excluded = chain
        .iter()
        .skip(1)
        .chain(ca_certs)
        .filter_map(parse)
        .any(|ca| {
            let Ok(Some(nc)) = ca.unique_extension(x509::OID_NAME_CONSTRAINTS) else {
                return false;
            };
            let excluded = x509::excluded_dns_subtrees(nc.value).unwrap_or_default();
            excluded.iter().any(|base| {
                let base = base.trim_start_matches('.').to_ascii_lowercase();
                names
                    .iter()
                    .any(|n| *n == base || n.ends_with(&format!(".{base}")))
            })
        });
    unspecified(if excluded {
        "excluded subtree violation"
    } else {
        "permitted subtree violation"
    })
}

/// A certificate that is no CA used as one: OpenSSL reports INVALID_CA, then
/// (unless it could pass for a CA: no basicConstraints but keyCertSign) its
/// purpose check fails too, and that last error is what Node shows.
pub(super) fn not_a_ca_error(chain: &[CertificateDer<'_>]) -> VerifyError {
    let purpose_fails = chain.iter().skip(1).filter_map(parse).any(|c| {
        match c.basic_constraints() {
            Ok(Some(ca)) => !ca,
            Ok(None) => {
                !matches!(c.key_usage(), Ok(Some(ku)) if ku & x509::KEY_USAGE_KEY_CERT_SIGN != 0)
            }
            Err(_) => false,
        }
    });
    if purpose_fails {
        VerifyError::new("INVALID_PURPOSE", "unsuitable certificate purpose")
    } else {
        VerifyError::new("INVALID_CA", "invalid CA certificate")
    }
}

/// Whether the issuer path built from what was sent ends at a trusted root,
/// or at a certificate a trusted root names as its subject: whether OpenSSL
/// finds a trust anchor for it at all (by name, as it looks issuers up).
pub(super) fn reaches_root(path: &[&CertificateDer<'_>], roots: &RootCertStore) -> bool {
    let Some(top) = path.last().and_then(|c| parse(c)) else {
        return false;
    };
    let self_issued = top.subject == top.issuer;
    let wanted = sequence_contents(top.issuer);
    let key = top.spki;
    roots.roots.iter().any(|root| {
        Some(root.subject.as_ref()) == wanted
            && (!self_issued
                || sequence_contents(key) == Some(root.subject_public_key_info.as_ref()))
    })
}

/// The contents of a DER SEQUENCE (webpki keeps names and keys without their header).
fn sequence_contents(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
        let len = bytes.iter().try_fold(0usize, |n, b| {
            n.checked_mul(256).map(|n| n + usize::from(*b))
        })?;
        (len, rest)
    };
    rest.get(..len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_contents_reads_short_and_long_lengths() {
        assert_eq!(
            sequence_contents(&[0x30, 0x02, 1, 2, 3]),
            Some(&[1u8, 2][..])
        );
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        assert_eq!(sequence_contents(&long).map(<[u8]>::len), Some(0x80));
        // Not a SEQUENCE, cut short, or an absurd length: nothing, never a panic.
        assert_eq!(sequence_contents(&[0x31, 0x00]), None);
        assert_eq!(sequence_contents(&[0x30, 0x05, 1]), None);
        assert_eq!(sequence_contents(&[0x30, 0x82, 0x01]), None);
        assert_eq!(
            sequence_contents(&[0x30, 0x89, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(sequence_contents(&[]), None);
    }

    #[test]
    fn periods_as_openssl_names_them() {
        let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_000));
        assert_eq!(period_error(0, 2_000, now), None);
        assert_eq!(
            period_error(1_001, 2_000, now).map(|e| e.code),
            Some("CERT_NOT_YET_VALID")
        );
        assert_eq!(
            period_error(0, 999, now).map(|e| e.code),
            Some("CERT_HAS_EXPIRED")
        );
    }
}
