// Run inside Deno or Bun: wasm-tls servers listening on the runtime's own TCP
// (tls.createServer().listen(0)). Prints {"listening":[ports]} once all listen,
// serves cfg.connections connections, closes the servers and prints what each
// connection saw, then the process must exit by itself (nothing left open).
import tls from 'wasm-tls';
import { concat, config, plainCertificate, plainError, report, secureView, sha256 } from './common.js';

// { servers: [{ options, reply: 'echo' | 'line' }], connections }
const cfg = config();
const seen = [];
const errors = [];
let finished = 0;
const servers = cfg.servers.map(({ options, reply }, index) => {
  const server = tls.createServer(options, (socket) => {
    const view = { server: index, ...secureView(socket), peer: plainCertificate(socket.getPeerCertificate()) };
    const chunks = [];
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (reply === 'echo') socket.write(chunk);
      else if (chunk.includes(10)) socket.end(`got ${new TextDecoder().decode(concat(chunks))}`);
    });
    socket.on('end', () => socket.end());
    socket.on('error', (e) => errors.push({ server: index, on: 'socket', ...plainError(e), stack: e.stack }));
    socket.on('close', async () => {
      view.received = { length: chunks.reduce((n, c) => n + c.length, 0), sha256: await sha256(chunks) };
      seen.push(view);
      if (++finished === cfg.connections) closeAll();
    });
  });
  server.on('tlsClientError', (e) => errors.push({ server: index, on: 'tlsClientError', ...plainError(e) }));
  return server;
});

async function closeAll() {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  report({ seen, errors, listening: servers.map((s) => s.listening) });
}

await Promise.all(servers.map((s) => new Promise((resolve, reject) => {
  s.once('error', reject);
  s.listen(0, '127.0.0.1', resolve);
})));
report({ listening: servers.map((s) => s.address()) });
