// Browsers and bundlers: the .wasm is fetched as an asset next to this package.
import init from '../../pkg/wasm_tls.js';

await init({ module_or_path: new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url) });

export * from '../tls.js';
export { default } from '../tls.js';
