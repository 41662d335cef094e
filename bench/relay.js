// Throughput of wasm-tls-relay: 64 MiB each way through it on loopback (TCP server <-> relay <-> ws client).
// node bench/relay.js
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { createRelay } from '../relay/relay.js';
const SIZE = 64 * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 1);
let mode;
const server = net.createServer((s) => {
  if (mode === 'down') { let n = 0; const pump = () => { while (n < SIZE) { n += chunk.length; if (!s.write(chunk)) return; } s.end(); }; s.on('drain', pump); pump(); }
  else { let n = 0; s.on('data', (d) => { n += d.length; if (n >= SIZE) s.end('k'); }); }
});
server.listen(0, '127.0.0.1'); await once(server, 'listening');
const relay = createRelay({ allow: ['127.0.0.1:*'], log: false }); await relay.listen();
for (mode of ['down', 'up', 'down', 'up']) {
  const ws = new WebSocket(`${relay.url}?host=127.0.0.1&port=${server.address().port}`);
  await once(ws, 'open');
  const t0 = process.hrtime.bigint();
  let n = 0;
  const done = new Promise((r) => ws.on('message', (d) => { n += d.length; if (mode === 'down' ? n >= SIZE : true) r(); }));
  if (mode === 'up') { for (let i = 0; i < SIZE; i += chunk.length) { ws.send(chunk); while (ws.bufferedAmount > 4 << 20) await new Promise((r) => setImmediate(r)); } }
  await done;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${mode === 'down' ? 'TCP->WS' : 'WS->TCP'} 64 MiB: ${(64 / s).toFixed(0)} MiB/s`);
  ws.close();
}
await relay.close(); server.close();
