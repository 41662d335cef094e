// Turns whatever the user handed us as a byte pipe into a Transport.
// Adapters know nothing of TLS; see index.d.ts (Transport) for the contract.
import { duplexTransport } from './duplex.js';

/** A ready-made adapter: has the Transport methods. */
export const isTransport = (x) => typeof x?.start === 'function' && typeof x?.write === 'function' &&
  typeof x?.end === 'function' && typeof x?.destroy === 'function';

/** A Node-style Duplex (net.Socket, stream.Duplex, ...). */
const isDuplex = (x) => typeof x?.pipe === 'function' && typeof x?.on === 'function' && typeof x?.write === 'function';

/**
 * @param {unknown} value a Transport, a Node Duplex, a WebSocket or ws:/wss: URL,
 *   a `{ readable, writable }` pair of WHATWG streams, or a MessagePort
 * @returns {import('../index.js').Transport}
 */
export function toTransport(value) {
  if (isTransport(value)) return /** @type {any} */ (value);
  if (isDuplex(value)) return duplexTransport(/** @type {any} */ (value));
  const err = new TypeError('options.transport must be a Transport, a Duplex, a WebSocket or ws:/wss: URL, ' +
    'a { readable, writable } stream pair or a MessagePort');
  Object.assign(err, { code: 'ERR_INVALID_ARG_TYPE' });
  throw err;
}

export { duplexTransport };
