// tls.checkServerIdentity: Node's rules for matching a host name against a
// certificate (RFC 6125 as Node applies it), with Node's reason strings.
import { isIP, isIPv6 } from './platform/ip.js';
import { nodeError } from './errors.js';

const dropTrailingDot = (host) => (host.endsWith('.') ? host.slice(0, -1) : host);
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const labels = (host) => asciiLower(dropTrailingDot(host)).split('.');

/** The canonical text of an IP address (IPv6 compressed, lower case). */
function canonicalIP(ip) {
  if (isIPv6(ip)) {
    try { return new URL(`http://[${ip}]/`).hostname.slice(1, -1); } catch { return ip; }
  }
  return ip;
}

/** Splits Node's subjectaltname string, honouring JSON-quoted values. */
function splitAltNames(altNames) {
  if (!altNames.includes('"')) return altNames.split(', ');
  const names = [];
  let rest = altNames;
  while (rest.length) {
    const m = /^([^:,"]*:)("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/.exec(rest);
    if (!m) break;
    const value = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
    names.push(m[1] + value);
    rest = rest.slice(m[0].length);
  }
  return names;
}

/** Does `host` (split in labels) match `pattern`, with a wildcard only in the first label? */
function matches(hostLabels, pattern) {
  if (!pattern) return false;
  const patternLabels = labels(pattern);
  if (patternLabels.length !== hostLabels.length) return false;
  if (patternLabels.includes('')) return false;
  if (patternLabels.some((l) => /[^\u0021-\u007F]/u.test(l))) return false;
  for (let i = hostLabels.length - 1; i > 0; i--) {
    if (hostLabels[i] !== patternLabels[i]) return false;
  }
  const host = hostLabels[0];
  const first = patternLabels[0];
  const pieces = first.split('*');
  if (pieces.length === 1 || first.includes('xn--')) return host === first;
  // One wildcard, and not directly under a public suffix-like two-label name.
  if (pieces.length > 2 || patternLabels.length <= 2) return false;
  const [prefix, suffix] = pieces;
  return prefix.length + suffix.length <= host.length && host.startsWith(prefix) && host.endsWith(suffix);
}

/**
 * @param {string} hostname
 * @param {{ subject?: Record<string, string | string[]>, subjectaltname?: string }} cert
 * @returns {Error | undefined}
 */
export function checkServerIdentity(hostname, cert) {
  const subject = cert.subject;
  const altNames = cert.subjectaltname;
  const dnsNames = [];
  const ips = [];
  hostname = `${hostname}`;
  if (altNames) {
    for (const name of splitAltNames(altNames)) {
      if (name.startsWith('DNS:')) dnsNames.push(name.slice(4));
      else if (name.startsWith('IP Address:')) ips.push(canonicalIP(name.slice(11)));
    }
  }
  let valid = false;
  let reason = 'Unknown reason';
  hostname = dropTrailingDot(hostname);
  if (isIP(hostname)) {
    valid = ips.includes(canonicalIP(hostname));
    if (!valid) reason = `IP: ${hostname} is not in the cert's list: ${ips.join(', ')}`;
  } else if (dnsNames.length > 0 || subject?.CN) {
    const hostLabels = labels(hostname);
    if (dnsNames.length > 0) {
      valid = dnsNames.some((p) => matches(hostLabels, p));
      if (!valid) reason = `Host: ${hostname}. is not in the cert's altnames: ${altNames}`;
    } else {
      // Only without DNS alt names does the CN count.
      const cn = subject.CN;
      valid = Array.isArray(cn) ? cn.some((p) => matches(hostLabels, p)) : matches(hostLabels, cn);
      if (!valid) reason = `Host: ${hostname}. is not cert's CN: ${cn}`;
    }
  } else {
    reason = 'Cert does not contain a DNS name';
  }
  if (valid) return undefined;
  return nodeError(Error, 'ERR_TLS_CERT_ALTNAME_INVALID',
    `Hostname/IP does not match certificate's altnames: ${reason}`,
    { reason, host: hostname, cert });
}
