// What the runtime offers beneath TLS: its own TCP (to connect and to listen)
// and, in browsers, a default WebSocket relay. Each entry (js/entry/*.js)
// registers its runtime's pieces; TLS code asks here and never names a runtime.

/**
 * @typedef {object} Listener
 * @property {() => { address: string, family: string, port: number }} address
 * @property {() => void} close stops accepting; live connections go on
 * @property {() => void} [ref]
 * @property {() => void} [unref]
 */

/**
 * @typedef {object} Platform
 * @property {string} name
 * @property {(options: { host: string, port: number, [k: string]: unknown }) => import('../index.js').Transport} [connectTcp]
 * @property {(options: { host?: string, port: number, backlog?: number }, onTransport: (t: import('../index.js').Transport) => void) => Promise<Listener>} [listenTcp]
 * @property {string} [defaultRelay] a WebSocket relay URL for `connect({ host, port })` without TCP
 * @property {boolean} [tcpViaRelay] connectTcp needs `options.relay` or defaultRelay (browsers)
 */

/** @type {Platform} */
export const platform = { name: 'unknown' };

/** @param {Partial<Platform>} pieces */
export function setPlatform(pieces) {
  Object.assign(platform, pieces);
}
