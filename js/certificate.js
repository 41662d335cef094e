// getPeerCertificate()'s object, built from what the engine reads out of the DER
// (src/certinfo.rs gives the values in Node's formats; this gives the shape).
import { Buffer } from '#buffer';
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
 * The authorityInfoAccess text ("OCSP - URI:http://..." lines) to Node's
 * null-prototype object: the key is what precedes a line's first colon, the
 * value what follows it (JSON when it starts with a quote), repeats collect
 * in arrays.
 */
function infoAccessObject(text) {
  const out = Object.create(null);
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    let value = line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x22) value = JSON.parse(value);
    if (key in out) out[key].push(value);
    else out[key] = [value];
  }
  return out;
}

/** The certificate object and whether the certificate issued itself (X509_check_issued). */
function describe(der) {
  const d = describeCertificate(der);
  // Node's keys, in Node's order; absent values are left out, null ones kept.
  const cert = {};
  if (d.subject !== undefined) cert.subject = nameObject(d.subject);
  if (d.issuer !== undefined) cert.issuer = nameObject(d.issuer);
  if (d.subjectaltname !== undefined) cert.subjectaltname = d.subjectaltname;
  if (d.infoAccess !== undefined) cert.infoAccess = d.infoAccess === null ? null : infoAccessObject(d.infoAccess);
  cert.ca = d.ca;
  if (d.modulus !== undefined) {
    cert.modulus = d.modulus;
    cert.bits = d.bits;
    cert.exponent = d.exponent;
    cert.pubkey = Buffer.from(d.pubkey);
  } else if (d.pubkey !== undefined) {
    cert.bits = d.bits;
    cert.pubkey = Buffer.from(d.pubkey);
    cert.asn1Curve = d.asn1Curve;
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
  return { cert, selfSigned: d.selfSigned };
}

/**
 * One certificate in Node's shape and key order (without issuerCertificate).
 * @param {Uint8Array} der
 */
export function certificateObject(der) {
  return describe(der).cert;
}

/**
 * The peer's certificate. With `detailed`, `chain` is the engine's walk of
 * issuers as Node takes it (src/certinfo.rs `detailed_chain`): each entry's
 * `issuerCertificate` is the next one, and the last links to itself when it
 * issued itself.
 * @param {Uint8Array[]} chain DER, leaf first
 */
export function peerCertificate(chain, detailed) {
  if (chain.length === 0) return {};
  if (!detailed) return certificateObject(chain[0]);
  const described = chain.map(describe);
  described.forEach(({ cert }, i) => {
    if (i + 1 < described.length) cert.issuerCertificate = described[i + 1].cert;
  });
  const top = described[described.length - 1];
  if (top.selfSigned) top.cert.issuerCertificate = top.cert;
  return described[0].cert;
}
