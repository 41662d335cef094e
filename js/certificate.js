// getPeerCertificate()'s object, built from what the engine reads out of the DER.
import { Buffer } from 'node:buffer';
import { describeCertificate } from '../pkg/wasm_tls.js';

/** `[[key, value], ...]` to Node's null-prototype name object; repeated keys become arrays. */
function nameObject(entries) {
  const out = Object.create(null);
  for (const [key, value] of entries) {
    if (!(key in out)) out[key] = value;
    else if (Array.isArray(out[key])) out[key].push(value);
    else out[key] = [out[key], value];
  }
  return out;
}

/**
 * One certificate in Node's shape and key order (without issuerCertificate).
 * @param {Uint8Array} der
 */
export function certificateObject(der) {
  const d = describeCertificate(der);
  const cert = {};
  cert.subject = nameObject(d.subject);
  cert.issuer = nameObject(d.issuer);
  if (d.subjectaltname !== undefined) cert.subjectaltname = d.subjectaltname;
  if (d.infoAccess !== undefined) {
    const info = Object.create(null);
    for (const [key, value] of d.infoAccess) (info[key] ??= []).push(value);
    cert.infoAccess = info;
  }
  cert.ca = d.ca;
  if (d.modulus !== undefined) {
    cert.modulus = d.modulus;
    cert.bits = d.bits;
    cert.exponent = d.exponent;
    cert.pubkey = Buffer.from(d.pubkey);
  } else if (d.pubkey !== undefined) {
    if (d.bits !== undefined) cert.bits = d.bits;
    cert.pubkey = Buffer.from(d.pubkey);
    if (d.asn1Curve !== undefined) cert.asn1Curve = d.asn1Curve;
    if (d.nistCurve !== undefined) cert.nistCurve = d.nistCurve;
  }
  cert.valid_from = d.validFrom;
  cert.valid_to = d.validTo;
  cert.fingerprint = d.fingerprint;
  cert.fingerprint256 = d.fingerprint256;
  cert.fingerprint512 = d.fingerprint512;
  if (d.extKeyUsage !== undefined) cert.ext_key_usage = d.extKeyUsage;
  cert.serialNumber = d.serialNumber;
  cert.raw = Buffer.from(der);
  Object.defineProperty(cert, kSelfIssued, { value: d.selfIssued });
  return cert;
}

const kSelfIssued = Symbol('selfIssued');

const sameName = (a, b) => JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));

/**
 * The peer's certificate; with `detailed`, `issuerCertificate` links each
 * certificate to its issuer among those sent, a self-issued top to itself.
 * @param {Uint8Array[]} chain DER, leaf first
 */
export function peerCertificate(chain, detailed) {
  if (chain.length === 0) return {};
  const certs = (detailed ? chain : chain.slice(0, 1)).map(certificateObject);
  if (detailed) {
    for (const cert of certs) {
      if (cert[kSelfIssued]) {
        cert.issuerCertificate = cert;
        continue;
      }
      const issuer = certs.find((c) => c !== cert && sameName(c.subject, cert.issuer));
      if (issuer) cert.issuerCertificate = issuer;
    }
  }
  return certs[0];
}
