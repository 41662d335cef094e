// Bun: the .wasm read with Bun.file; TCP is Bun's own sockets (js/platform/bun.js).
import init from '../../pkg/wasm_tls.js';
import { setPlatform } from '../platform/index.js';
import { bunPlatform } from '../platform/bun.js';

const wasm = await Bun.file(new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url)).arrayBuffer();
await init({ module_or_path: wasm });
setPlatform(bunPlatform);

export * from '../tls.js';
export { default } from '../tls.js';
