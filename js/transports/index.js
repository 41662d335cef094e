// Turns whatever the user handed us as a byte pipe into a Transport.
// Adapters know nothing of TLS; see index.d.ts (Transport) and docs/transports.md.
import { duplexTransport } from './duplex.js';
import { streamsTransport } from './streams.js';
import { isWebSocket, isWebSocketUrl, websocketTransport } from './websocket.js';
import { isMessagePort, messagePortTransport, WINDOW as MESSAGE_PORT_WINDOW } from './message-port.js';
import { relayTransport, relayUrlFor } from './relay.js';

/** A ready-made adapter: has the Transport methods. */
export const isTransport = (x) => typeof x?.start === 'function' && typeof x?.write === 'function' &&
  typeof x?.end === 'function' && typeof x?.destroy === 'function';

/** A Node-style Duplex (net.Socket, stream.Duplex, ...). */
const isDuplex = (x) => typeof x?.pipe === 'function' && typeof x?.on === 'function' && typeof x?.write === 'function';

/**
 * `{ readable, writable }` WHATWG streams (Duplex.toWeb(), a Deno.Conn, a workerd Socket
 * with `.opened`), or a promise of one (Deno.connect()).
 */
const isStreamPair = (x) => (typeof x?.readable?.getReader === 'function' && typeof x?.writable?.getWriter === 'function') ||
  typeof x?.then === 'function';

/**
 * @param {unknown} value a Transport, a Node Duplex, a WebSocket or ws:/wss: URL,
 *   a `{ readable, writable }` pair of WHATWG streams (or a promise of one), or a MessagePort
 * @returns {import('../index.js').Transport}
 */
export function toTransport(value) {
  const v = /** @type {any} */ (value);
  if (isTransport(v)) return v;
  if (isDuplex(v)) return duplexTransport(v);
  if (isWebSocket(v) || isWebSocketUrl(v)) return websocketTransport(v);
  if (isStreamPair(v)) return streamsTransport(v);
  if (isMessagePort(v)) return messagePortTransport(v);
  const err = new TypeError('options.transport must be a Transport, a Duplex, a WebSocket or ws:/wss: URL, ' +
    'a { readable, writable } stream pair or a MessagePort');
  Object.assign(err, { code: 'ERR_INVALID_ARG_TYPE' });
  throw err;
}

export {
  duplexTransport, streamsTransport, websocketTransport, messagePortTransport, relayTransport, relayUrlFor,
  MESSAGE_PORT_WINDOW,
};
