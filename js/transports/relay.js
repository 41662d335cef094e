// A TCP connection through a WebSocket relay (wasm-tls-relay, or any relay that
// takes the destination as ?host=&port=): the browser's way to reach host:port.
import { isIP } from '../platform/ip.js';
import { familyOf } from './common.js';
import { websocketTransport } from './websocket.js';

/**
 * The relay URL for one destination: `${relayUrl}?host=...&port=...` ('&' when the URL has a query already).
 * @param {string | URL} relayUrl
 * @param {string} host
 * @param {number} port
 */
export function relayUrlFor(relayUrl, host, port) {
  const base = String(relayUrl);
  return `${base}${base.includes('?') ? '&' : '?'}host=${encodeURIComponent(host)}&port=${port}`;
}

/**
 * @param {string | URL} relayUrl ws:/wss: URL of the relay
 * @param {string} host the TCP destination, as the relay resolves it
 * @param {number | string} port
 * @param {{ WebSocket?: typeof WebSocket, protocols?: string | string[], highWaterMark?: number, maxFrame?: number }} [options]
 * @returns {import('../index.js').Transport}
 */
export function relayTransport(relayUrl, host, port, options = {}) {
  if (!/^wss?:/i.test(String(relayUrl))) {
    throw Object.assign(new TypeError(`The relay must be a ws: or wss: URL. Received ${String(relayUrl)}`),
      { code: 'ERR_INVALID_ARG_VALUE' });
  }
  if (typeof host !== 'string' || host === '') {
    throw Object.assign(new TypeError('relayTransport needs a host'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const portNumber = Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535 || `${port}` === '') {
    throw Object.assign(new RangeError(`Port should be >= 0 and < 65536. Received ${typeof port} (${port}).`),
      { code: 'ERR_SOCKET_BAD_PORT' });
  }
  const inner = websocketTransport(relayUrlFor(relayUrl, host, portNumber), options);
  // The relay's own address is not the peer's; report the destination when it is an address.
  const remoteAddress = isIP(host) ? host : undefined;
  return Object.defineProperties(inner, {
    remoteAddress: { get: () => remoteAddress, enumerable: true },
    remotePort: { get: () => portNumber, enumerable: true },
    remoteFamily: { get: () => familyOf(remoteAddress), enumerable: true },
  });
}
