// Node: the .wasm is read from disk next to this package; TCP is node:net.
import { readFile } from 'node:fs/promises';
import init from '../../pkg/wasm_tls.js';
import { setPlatform } from '../platform/index.js';
import { tcpTransport } from '../transports/tcp.js';

await init({ module_or_path: await readFile(new URL('../../pkg/wasm_tls_bg.wasm', import.meta.url)) });
setPlatform({ name: 'Node', connectTcp: tcpTransport });

export * from '../tls.js';
export { default } from '../tls.js';
