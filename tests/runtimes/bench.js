// Not a test: rough figures for the report, run inside Node, Deno or Bun with
// `node tests/runtimes/bench-driver.mjs` (sequential handshakes per second and
// download MB/s from a node:tls server in the driver process).
import tls from 'wasm-tls';
import { config, first, report } from './common.js';

const cfg = config(); // { port, ca, handshakes, megabytes }
const options = { host: '127.0.0.1', port: cfg.port, ca: cfg.ca, servername: 'localhost' };

let start = performance.now();
for (let i = 0; i < cfg.handshakes; i++) {
  const s = tls.connect(options);
  await first(s, ['secureConnect']);
  s.destroy();
}
const handshakesPerSecond = cfg.handshakes / ((performance.now() - start) / 1000);

const s = tls.connect({ ...options, servername: 'download', checkServerIdentity: () => undefined });
await first(s, ['secureConnect']);
start = performance.now();
let got = 0;
s.on('data', (d) => { got += d.length; });
await first(s, ['end']);
const downloadMBps = got / 1e6 / ((performance.now() - start) / 1000);
report({ handshakesPerSecond: Math.round(handshakesPerSecond), downloadMBps: Math.round(downloadMBps), got });
