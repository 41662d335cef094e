// Cloudflare Workers (workerd): wasm arrives as a compiled WebAssembly.Module
// import; TCP is connect() from cloudflare:sockets (js/platform/workerd.js).
import { initSync } from '../../pkg/wasm_tls.js';
import wasmModule from '../../pkg/wasm_tls_bg.wasm';
import { setPlatform } from '../platform/index.js';
import '../platform/polyfill-next-tick.js';
import { workerdPlatform } from '../platform/workerd.js';

initSync({ module: wasmModule });
setPlatform(workerdPlatform);

export * from '../tls.js';
export { default } from '../tls.js';
