// Deno (until its own TCP lands): the .wasm from disk; TCP is the runtime's node:net.
import { readFile } from 'node:fs/promises';
import init from '../../pkg/wasm_tls.js';
import { setPlatform } from '../platform/index.js';
import { tcpTransport } from '../transports/tcp.js';

await init({ module_or_path: await readFile(new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url)) });
setPlatform({ name: 'Deno', connectTcp: tcpTransport });

export * from '../tls.js';
export { default } from '../tls.js';
