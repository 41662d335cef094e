// Deno: the .wasm read with Deno.readFile; TCP is Deno's own (js/platform/deno.js).
import init from '../../pkg/wasm_tls.js';
import { setPlatform } from '../platform/index.js';
import { denoPlatform } from '../platform/deno.js';

await init({ module_or_path: await Deno.readFile(new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url)) });
setPlatform(denoPlatform);

export * from '../tls.js';
export { default } from '../tls.js';
