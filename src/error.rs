//! Errors that cross into JavaScript as Node-style errors: a `code` Node users
//! already match on (OpenSSL's reason as `ERR_SSL_*`, or Node's own `ERR_*`),
//! and a message in OpenSSL's words.

use rustls::{AlertDescription, CertificateError, Error, InvalidMessage, PeerIncompatible};

/// A failure on one connection or in one set of options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    /// Node's `err.code`, e.g. `ERR_SSL_WRONG_VERSION_NUMBER`.
    pub code: String,
    /// Human-readable text; for OpenSSL-style errors this is OpenSSL's reason string.
    pub message: String,
    /// OpenSSL's `reason` (lower-case words), when the error mirrors an OpenSSL one.
    pub reason: Option<String>,
    /// OpenSSL's `library` ("SSL routines", ...), with `reason`.
    pub library: Option<String>,
}

impl TlsError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        TlsError {
            code: code.into(),
            message: message.into(),
            reason: None,
            library: None,
        }
    }

    /// An error shaped like the ones Node builds from OpenSSL's error queue:
    /// code `ERR_SSL_<REASON>` and the reason as the message.
    pub fn ssl(reason: &str) -> Self {
        let code = format!(
            "ERR_SSL_{}",
            reason
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                })
                .collect::<String>()
        );
        TlsError {
            code,
            message: reason.to_string(),
            reason: Some(reason.to_string()),
            library: Some("SSL routines".to_string()),
        }
    }

    /// An OpenSSL error as Node reports it for key material: `code` ERR_OSSL_*,
    /// message `error:<packed>:<library>::<reason>`, and `library`/`reason`.
    pub fn openssl(code: &str, packed: &str, library: &str, reason: &str) -> Self {
        TlsError {
            code: code.to_string(),
            message: format!("error:{packed}:{library}::{reason}"),
            reason: Some(reason.to_string()),
            library: Some(library.to_string()),
        }
    }

    /// Invalid option value (Node throws these synchronously).
    pub fn invalid_arg(message: impl Into<String>) -> Self {
        TlsError::new("ERR_INVALID_ARG_VALUE", message)
    }
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for TlsError {}

/// OpenSSL's reason text for a TLS alert we received (`ssl3_read_bytes` reports
/// "sslv3 alert …" for alerts that exist since SSLv3, "tlsv1 alert …" and
/// "tlsv13 alert …" for later ones).
fn alert_reason(alert: &AlertDescription) -> String {
    use AlertDescription as A;
    let (prefix, name) = match alert {
        A::CloseNotify => ("sslv3 alert", "close notify"),
        A::UnexpectedMessage => ("sslv3 alert", "unexpected message"),
        A::BadRecordMac => ("sslv3 alert", "bad record mac"),
        A::DecompressionFailure => ("sslv3 alert", "decompression failure"),
        A::HandshakeFailure => ("sslv3 alert", "handshake failure"),
        A::NoCertificate => ("sslv3 alert", "no certificate"),
        A::BadCertificate => ("sslv3 alert", "bad certificate"),
        A::UnsupportedCertificate => ("sslv3 alert", "unsupported certificate"),
        A::CertificateRevoked => ("sslv3 alert", "certificate revoked"),
        A::CertificateExpired => ("sslv3 alert", "certificate expired"),
        A::CertificateUnknown => ("sslv3 alert", "certificate unknown"),
        A::IllegalParameter => ("sslv3 alert", "illegal parameter"),
        A::DecryptionFailed => ("tlsv1 alert", "decryption failed"),
        A::RecordOverflow => ("tlsv1 alert", "record overflow"),
        A::UnknownCA => ("tlsv1 alert", "unknown ca"),
        A::AccessDenied => ("tlsv1 alert", "access denied"),
        A::DecodeError => ("tlsv1 alert", "decode error"),
        A::DecryptError => ("tlsv1 alert", "decrypt error"),
        A::ExportRestriction => ("tlsv1 alert", "export restriction"),
        A::ProtocolVersion => ("tlsv1 alert", "protocol version"),
        A::InsufficientSecurity => ("tlsv1 alert", "insufficient security"),
        A::InternalError => ("tlsv1 alert", "internal error"),
        A::InappropriateFallback => ("tlsv1 alert", "inappropriate fallback"),
        A::UserCanceled => ("tlsv1 alert", "user cancelled"),
        A::NoRenegotiation => ("tlsv1 alert", "no renegotiation"),
        A::UnsupportedExtension => ("tlsv1 alert", "unsupported extension"),
        A::CertificateUnobtainable => ("tlsv1 alert", "certificate unobtainable"),
        A::UnrecognisedName => ("tlsv1 alert", "unrecognized name"),
        A::BadCertificateStatusResponse => ("tlsv1 alert", "bad certificate status response"),
        A::BadCertificateHashValue => ("tlsv1 alert", "bad certificate hash value"),
        A::UnknownPSKIdentity => ("tlsv1 alert", "unknown psk identity"),
        A::NoApplicationProtocol => ("tlsv1 alert", "no application protocol"),
        A::MissingExtension => ("tlsv13 alert", "missing extension"),
        A::CertificateRequired => ("tlsv13 alert", "certificate required"),
        other => return format!("tlsv1 alert unknown {}", u8::from(*other)),
    };
    format!("{prefix} {name}")
}

impl From<Error> for TlsError {
    fn from(err: Error) -> Self {
        match &err {
            Error::AlertReceived(alert) => TlsError::ssl(&alert_reason(alert)),
            Error::InvalidMessage(m) => match m {
                // Bytes that are not a TLS record at all: OpenSSL says "wrong version number".
                InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion => {
                    TlsError::ssl("wrong version number")
                }
                InvalidMessage::MessageTooLarge => TlsError::ssl("packet length too long"),
                InvalidMessage::MessageTooShort => TlsError::ssl("record layer failure"),
                _ => TlsError::ssl("decode error"),
            },
            Error::DecryptError => TlsError::ssl("decryption failed or bad record mac"),
            Error::EncryptError => TlsError::ssl("internal error"),
            Error::PeerIncompatible(p) => match p {
                PeerIncompatible::NoCipherSuitesInCommon => TlsError::ssl("no shared cipher"),
                PeerIncompatible::NoKxGroupsInCommon => TlsError::ssl("no suitable key share"),
                PeerIncompatible::Tls12NotOffered
                | PeerIncompatible::Tls12NotOfferedOrEnabled
                | PeerIncompatible::Tls13RequiredForQuic
                | PeerIncompatible::SupportedVersionsExtensionRequired
                | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig => {
                    TlsError::ssl("unsupported protocol")
                }
                PeerIncompatible::NoSignatureSchemesInCommon => {
                    TlsError::ssl("no suitable signature algorithm")
                }
                _ => TlsError::ssl("handshake failure"),
            },
            Error::NoApplicationProtocol => TlsError::ssl("no application protocol"),
            Error::PeerMisbehaved(_) | Error::InappropriateMessage { .. } => {
                TlsError::ssl("unexpected message")
            }
            Error::InappropriateHandshakeMessage { .. } => TlsError::ssl("unexpected message"),
            Error::InvalidCertificate(c) => match c {
                CertificateError::BadSignature => TlsError::ssl("bad signature"),
                _ => TlsError::ssl("certificate verify failed"),
            },
            Error::NoCertificatesPresented => TlsError::ssl("peer did not return a certificate"),
            Error::UnsupportedNameType => TlsError::invalid_arg(err.to_string()),
            _ => {
                let mut e = TlsError::ssl("internal error");
                e.message = format!("internal error: {err}");
                e
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_codes_match_openssl() {
        let e: TlsError = Error::AlertReceived(AlertDescription::HandshakeFailure).into();
        assert_eq!(e.code, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
        assert_eq!(e.message, "sslv3 alert handshake failure");
        let e: TlsError = Error::AlertReceived(AlertDescription::NoApplicationProtocol).into();
        assert_eq!(e.code, "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
        let e: TlsError = Error::InvalidMessage(InvalidMessage::InvalidContentType).into();
        assert_eq!(e.code, "ERR_SSL_WRONG_VERSION_NUMBER");
    }
}
