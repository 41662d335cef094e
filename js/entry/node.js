// Node, Deno and Bun: the .wasm is read from disk next to this package.
import { readFile } from 'node:fs/promises';
import init from '../../pkg/wasm_tls.js';

await init({ module_or_path: await readFile(new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url)) });

export * from '../tls.js';
export { default } from '../tls.js';
