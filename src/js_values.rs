//! Plain JS objects to and from the engine's option and result structs.
//!
//! Written field by field with `Reflect` rather than through serde-wasm-bindgen:
//! serde's derive code, its error texts and the float formatting those pull in
//! cost the `.wasm` 16 KB gzip more than this, and these few flat shapes need
//! none of it.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::certinfo::CertInfo;
use crate::context::{ContextOptions, KeyInput, PfxInput};
use crate::engine::{CipherInfo, ConnectOptions, EphemeralKeyInfo};
use crate::error::TlsError;
use crate::server::{AcceptOptions, ClientHelloInfo};
use crate::verify::VerifyError;

type Read<T> = Result<T, TlsError>;

fn wrong(name: &str, expected: &str) -> TlsError {
    TlsError::invalid_arg(format!("invalid options: {name} must be {expected}"))
}

/// The fields of an options object built by the JS layer; `undefined` and
/// `null` both mean absent.
struct Fields(JsValue);

impl Fields {
    fn of(value: JsValue, name: &str) -> Read<Fields> {
        if value.is_object() {
            Ok(Fields(value))
        } else {
            Err(wrong(name, "an object"))
        }
    }

    fn get(&self, name: &str) -> Read<Option<JsValue>> {
        let value =
            Reflect::get(&self.0, &JsValue::from_str(name)).map_err(|_| wrong(name, "readable"))?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    fn string(&self, name: &str) -> Read<Option<String>> {
        self.get(name)?.map(|v| string(v, name)).transpose()
    }

    /// Absent is false.
    fn flag(&self, name: &str) -> Read<bool> {
        self.get(name)?.map_or(Ok(false), |v| {
            v.as_bool().ok_or_else(|| wrong(name, "a boolean"))
        })
    }

    fn uint(&self, name: &str) -> Read<Option<u32>> {
        self.get(name)?
            .map(|v| match v.as_f64() {
                Some(n) if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) => {
                    Ok(n as u32)
                }
                _ => Err(wrong(name, "an integer from 0 to 2^32 - 1")),
            })
            .transpose()
    }

    fn bytes(&self, name: &str) -> Read<Option<Vec<u8>>> {
        self.get(name)?.map(|v| bytes(v, name)).transpose()
    }

    fn list<T>(&self, name: &str, item: impl Fn(JsValue, &str) -> Read<T>) -> Read<Option<Vec<T>>> {
        let Some(value) = self.get(name)? else {
            return Ok(None);
        };
        // Array.isArray, not instanceof: arrays from another realm count too.
        if !Array::is_array(&value) {
            return Err(wrong(name, "an array"));
        }
        value
            .unchecked_into::<Array>()
            .iter()
            .map(|v| item(v, name))
            .collect::<Read<_>>()
            .map(Some)
    }
}

fn string(value: JsValue, name: &str) -> Read<String> {
    value.as_string().ok_or_else(|| wrong(name, "a string"))
}

fn bytes(value: JsValue, name: &str) -> Read<Vec<u8>> {
    value
        .dyn_into::<Uint8Array>()
        .map(|b| b.to_vec())
        .map_err(|_| wrong(name, "a Uint8Array"))
}

fn key_input(value: JsValue, name: &str) -> Read<KeyInput> {
    let f = Fields::of(value, name)?;
    Ok(KeyInput {
        pem: f.string("pem")?.ok_or_else(|| wrong("pem", "a string"))?,
        passphrase: f.string("passphrase")?,
    })
}

fn pfx_input(value: JsValue, name: &str) -> Read<PfxInput> {
    let f = Fields::of(value, name)?;
    Ok(PfxInput {
        buf: f
            .bytes("buf")?
            .ok_or_else(|| wrong("buf", "a Uint8Array"))?,
        passphrase: f.string("passphrase")?,
    })
}

pub fn context_options(value: JsValue) -> Read<ContextOptions> {
    let f = Fields::of(value, "options")?;
    Ok(ContextOptions {
        ca: f.list("ca", string)?,
        cert: f.list("cert", string)?,
        key: f.list("key", key_input)?,
        pfx: f.list("pfx", pfx_input)?,
        passphrase: f.string("passphrase")?,
        crl: f.list("crl", string)?,
        ciphers: f.string("ciphers")?,
        ecdh_curve: f.string("ecdhCurve")?,
        min_version: f.string("minVersion")?,
        max_version: f.string("maxVersion")?,
        ticket_keys: f.bytes("ticketKeys")?,
        session_timeout: f.uint("sessionTimeout")?,
    })
}

pub fn connect_options(value: JsValue) -> Read<ConnectOptions> {
    let f = Fields::of(value, "options")?;
    Ok(ConnectOptions {
        servername: f.string("servername")?,
        alpn_protocols: f.list("alpnProtocols", string)?.unwrap_or_default(),
        session: f.bytes("session")?,
    })
}

pub fn accept_options(value: JsValue) -> Read<AcceptOptions> {
    let f = Fields::of(value, "options")?;
    let resumed_session = match f.list("resumedSession", bytes)? {
        None => None,
        Some(pair) => match <[Vec<u8>; 2]>::try_from(pair) {
            Ok([id, data]) => Some((id, data)),
            Err(_) => return Err(wrong("resumedSession", "[id, data]")),
        },
    };
    Ok(AcceptOptions {
        alpn_protocols: f.list("alpnProtocols", string)?.unwrap_or_default(),
        alpn_reject: f.flag("alpnReject")?,
        ocsp_response: f.bytes("ocspResponse")?,
        request_cert: f.flag("requestCert")?,
        honor_cipher_order: f.flag("honorCipherOrder")?,
        external_sessions: f.flag("externalSessions")?,
        resumed_session,
        reject_unauthorized: f.flag("rejectUnauthorized")?,
    })
}

/// A result object, filled in field order.
struct Record(Object);

impl Record {
    fn new() -> Record {
        Record(Object::new())
    }

    fn set(self, name: &str, value: impl Into<JsValue>) -> Record {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        self
    }

    /// Leaves the field out when absent.
    fn maybe(self, name: &str, value: Option<impl Into<JsValue>>) -> Record {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

fn strings(list: &[String]) -> JsValue {
    list.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn pairs(list: &[(String, String)]) -> JsValue {
    list.iter()
        .map(|(k, v)| Array::of2(&k.into(), &v.into()))
        .collect::<Array>()
        .into()
}

/// `Some(None)` is null: the field is there but does not decode.
fn nullable(value: &Option<Option<String>>) -> Option<JsValue> {
    value
        .as_ref()
        .map(|v| v.as_deref().map_or(JsValue::NULL, JsValue::from_str))
}

pub fn cert_info(info: &CertInfo) -> JsValue {
    Record::new()
        .maybe("subject", info.subject.as_deref().map(pairs))
        .maybe("issuer", info.issuer.as_deref().map(pairs))
        .maybe("subjectaltname", nullable(&info.subjectaltname))
        .maybe("infoAccess", nullable(&info.info_access))
        .set("ca", info.ca)
        .maybe("modulus", info.modulus.as_deref())
        .maybe("bits", info.bits)
        .maybe("exponent", info.exponent.as_deref())
        .maybe("pubkey", info.pubkey.as_deref().map(Uint8Array::from))
        .maybe("asn1Curve", info.asn1_curve.as_deref())
        .maybe("nistCurve", info.nist_curve.as_deref())
        .set("validFrom", info.valid_from.as_str())
        .set("validTo", info.valid_to.as_str())
        .set("fingerprint", info.fingerprint.as_str())
        .set("fingerprint256", info.fingerprint256.as_str())
        .set("fingerprint512", info.fingerprint512.as_str())
        .maybe("extKeyUsage", info.ext_key_usage.as_deref().map(strings))
        .set("serialNumber", info.serial_number.as_str())
        .set("selfIssued", info.self_issued)
        .set("selfSigned", info.self_signed)
        .done()
}

pub fn cipher_info(info: &CipherInfo) -> JsValue {
    Record::new()
        .set("name", info.name)
        .set("standardName", info.standard_name)
        .set("version", info.version)
        .done()
}

pub fn ephemeral_key_info(info: &EphemeralKeyInfo) -> JsValue {
    Record::new()
        .set("type", info.kind)
        .set("name", info.name)
        .set("size", info.size)
        .done()
}

pub fn client_hello_info(info: &ClientHelloInfo) -> JsValue {
    Record::new()
        .set(
            "servername",
            info.servername
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        )
        .set("alpnProtocols", strings(&info.alpn_protocols))
        .set("ocspRequested", info.ocsp_requested)
        .set(
            "sessionId",
            info.session_id
                .as_deref()
                .map_or(JsValue::NULL, |id| Uint8Array::from(id).into()),
        )
        .done()
}

pub fn verify_error(err: &VerifyError) -> JsValue {
    Record::new()
        .set("code", err.code)
        .set("message", err.message)
        .done()
}
