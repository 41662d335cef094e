// What a browser offers beneath TLS: no TCP, so `connect({ host, port })` goes
// through a WebSocket relay (the `relay` option or tls.setDefaultRelay()).
import { platform } from './index.js';
import { relayTransport } from '../transports/relay.js';

/** @type {Partial<import('./index.js').Platform>} */
export const browserPlatform = {
  name: 'this browser',
  tcpViaRelay: true, // tls.js throws ERR_WASM_TLS_NO_TCP when no relay is known
  connectTcp: (o) => relayTransport(/** @type {string} */ (o.relay ?? platform.defaultRelay), o.host, Number(o.port)),
};
