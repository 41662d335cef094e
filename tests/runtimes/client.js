// Run inside Deno or Bun: a wasm-tls client over the runtime's own TCP, against
// a peer the test process started; prints what the user sees as one JSON line.
import tls from 'wasm-tls';
import { config, report, runClient } from './common.js';

report({ entry: String(import.meta.resolve('wasm-tls')), ...await runClient(tls, config()) });
