// Cloudflare Workers (workerd): wasm arrives as a compiled WebAssembly.Module import.
import { initSync } from '../../pkg/wasm_tls.js';
import wasmModule from '../../pkg/wasm_tls_bg.wasm';

initSync({ module: wasmModule });

export * from '../tls.js';
export { default } from '../tls.js';
