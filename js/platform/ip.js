// net.isIP without node:net, so the same code runs in browsers and workers.

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** @param {string} s */
export const isIPv4 = (s) => IPV4.test(s);

/** @param {string} s an IPv6 address, optionally with a %zone (as net.isIPv6 accepts) */
export function isIPv6(s) {
  if (typeof s !== 'string' || !s.includes(':') || /[^0-9a-fA-F:.%]/.test(s.split('%')[0])) return false;
  const [address, zone] = s.split('%');
  if (zone !== undefined && !/^[\w.-]+$/.test(zone)) return false;
  try {
    // The WHATWG URL parser implements RFC 4291's text forms exactly.
    new URL(`http://[${address}]/`);
    return true;
  } catch {
    return false;
  }
}

/** @param {string} s @returns {0 | 4 | 6} */
export const isIP = (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0);

/**
 * Node's listening address when none is given: '::' (both families) where IPv6
 * works, else '0.0.0.0' (containers often have IPv6 off). A port in use or a
 * refused permission is the caller's error, not a reason to try IPv4.
 * @template T
 * @param {string | undefined} host
 * @param {(address: string) => T} listenOn
 * @returns {T}
 */
export function listenDefault(host, listenOn) {
  if (host !== undefined) return listenOn(host);
  try {
    return listenOn('::');
  } catch (e) {
    if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES') throw e;
    try {
      return listenOn('0.0.0.0');
    } catch {
      throw e;
    }
  }
}
