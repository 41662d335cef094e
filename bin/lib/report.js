// What `openssl s_client` would tell a person about a connection, from a
// TLSSocket's Node-style getters (getProtocol, getCipher, getPeerCertificate...).

/**
 * OpenSSL's verify result numbers and texts (X509_verify_cert_error_string,
 * OpenSSL 3.0), keyed by the code Node puts on its errors.
 * @type {Record<string, [number, string]>}
 */
const VERIFY_CODES = {
  UNABLE_TO_GET_ISSUER_CERT: [2, 'unable to get issuer certificate'],
  UNABLE_TO_GET_CRL: [3, 'unable to get certificate CRL'],
  CERT_SIGNATURE_FAILURE: [7, 'certificate signature failure'],
  CERT_NOT_YET_VALID: [9, 'certificate is not yet valid'],
  CERT_HAS_EXPIRED: [10, 'certificate has expired'],
  DEPTH_ZERO_SELF_SIGNED_CERT: [18, 'self-signed certificate'],
  SELF_SIGNED_CERT_IN_CHAIN: [19, 'self-signed certificate in certificate chain'],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: [20, 'unable to get local issuer certificate'],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: [21, 'unable to verify the first certificate'],
  CERT_CHAIN_TOO_LONG: [22, 'certificate chain too long'],
  CERT_REVOKED: [23, 'certificate revoked'],
  PATH_LENGTH_EXCEEDED: [25, 'path length constraint exceeded'],
  INVALID_PURPOSE: [26, 'unsuitable certificate purpose'],
  CERT_UNTRUSTED: [27, 'certificate not trusted'],
  CERT_REJECTED: [28, 'certificate rejected'],
  PERMITTED_VIOLATION: [47, 'permitted subtree violation'],
  INVALID_CA: [79, 'invalid CA certificate'],
  // Node's own check; s_client reports it (with -verify_hostname) as 62.
  ERR_TLS_CERT_ALTNAME_INVALID: [62, 'hostname mismatch'],
};

/**
 * One attribute value as OpenSSL's `-nameopt oneline` prints it: `"` and `\`
 * escaped, quotes around values with RFC 2253 specials or edge spaces/`#`.
 * (OpenSSL also escapes bytes >= 0x80 as \XX; UTF-8 is kept readable here.)
 * @param {string} value
 */
function onelineValue(value) {
  const quote = /[,+<>;]/.test(value) || /^[ #]| $/.test(value);
  const text = value
    .replace(/["\\]/g, '\\$&')
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return quote ? `"${text}"` : text;
}

/**
 * Node's subject/issuer object (`{ O: 'x', CN: 'y' }`, repeated keys as arrays)
 * rendered like OpenSSL's oneline: `O = x, CN = y`.
 * @param {Record<string, string | string[]> | undefined} name
 */
export function onelineName(name) {
  if (!name) return '(none)';
  const parts = [];
  for (const [key, value] of Object.entries(name)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${key} = ${onelineValue(v)}`);
  }
  return parts.join(', ') || '(empty)';
}

/**
 * The chain the peer sent, leaf first, following issuerCertificate from
 * getPeerCertificate(true) until it ends or links back (the self-signed top).
 * @param {object} leaf
 */
export function peerChain(leaf) {
  const chain = [];
  for (let cert = leaf; cert && cert.raw && !chain.includes(cert); cert = cert.issuerCertificate) {
    chain.push(cert);
  }
  return chain;
}

/**
 * The verification verdict as s_client prints it.
 * @param {string | null} code the socket's authorizationError (null when authorized)
 * @param {string} [message] the error's message when known
 */
export function verificationLines(code, message) {
  if (!code) return ['Verification: OK', 'Verify return code: 0 (ok)'];
  const [number, text] = VERIFY_CODES[code] ?? [];
  const lines = [`Verification error: ${code}: ${message ?? text ?? 'certificate verification failed'}`];
  if (number !== undefined) lines.push(`Verify return code: ${number} (${text})`);
  return lines;
}

/**
 * The whole report for an established connection.
 * @param {import('node:tls').TLSSocket} socket
 * @param {{ target: string, servername?: string, verifyMessage?: string }} info
 * @returns {string}
 */
export function connectionReport(socket, { target, servername, verifyMessage }) {
  const out = [];
  out.push(`CONNECTED to ${target} (servername: ${servername || 'none sent'})`);
  out.push('---');
  const chain = peerChain(socket.getPeerCertificate(true));
  out.push(`Certificate chain (${chain.length} sent by the peer)`);
  chain.forEach((cert, depth) => {
    out.push(`${String(depth).padStart(2)} s:${onelineName(cert.subject)}`);
    out.push(`   i:${onelineName(cert.issuer)}`);
    out.push(`   v:NotBefore: ${cert.valid_from}; NotAfter: ${cert.valid_to}`);
    out.push(`   sha256 Fingerprint=${cert.fingerprint256}`);
  });
  out.push('---');
  const cipher = socket.getCipher() ?? {};
  out.push(`Protocol: ${socket.getProtocol() ?? 'unknown'}`);
  out.push(`Cipher: ${cipher.name} (IANA: ${cipher.standardName})`);
  out.push(socket.alpnProtocol ? `ALPN protocol: ${socket.alpnProtocol}` : 'No ALPN negotiated');
  out.push(...verificationLines(socket.authorizationError, verifyMessage));
  out.push('---');
  return out.join('\n');
}
