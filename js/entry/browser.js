// Browsers and bundlers: the .wasm is fetched as an asset next to this package
// (webpack 5 and others resolve `new URL(..., import.meta.url)`); TCP goes
// through a WebSocket relay (js/platform/browser.js).
import init from '../../pkg/wasm_tls.js';
import { setPlatform } from '../platform/index.js';
import '../platform/polyfill-next-tick.js';
import { browserPlatform } from '../platform/browser.js';

await init({ module_or_path: new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url) });
setPlatform(browserPlatform);

export * from '../tls.js';
export { default } from '../tls.js';
