// Browsers and bundlers: the .wasm is fetched as an asset next to this package
// (webpack 5 and others resolve `new URL(..., import.meta.url)`); TCP goes
// through a WebSocket relay (`relay` option or tls.setDefaultRelay()).
import init from '../../pkg/wasm_tls.js';
import { platform, setPlatform } from '../platform/index.js';
import { relayTransport } from '../transports/relay.js';

await init({ module_or_path: new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url) });
setPlatform({
  name: 'this browser',
  tcpViaRelay: true,
  connectTcp: (o) => relayTransport(/** @type {string} */ (o.relay ?? platform.defaultRelay), o.host, Number(o.port)),
});

export * from '../tls.js';
export { default } from '../tls.js';
