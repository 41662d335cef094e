// A trap in the wasm instance loses the connections in it, and only those:
// every live socket gets ERR_WASM_TLS_ENGINE_TRAP, a fresh instance takes
// over, and contexts and servers made before the trap go on working. Runs on
// the test-only build with the trap hook (scripts/build-trap-hook.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import ntls from 'node:tls';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, sha256 } from './helpers/peers.js';

const root = new URL('../../target/trap-hook-package/', import.meta.url);
const built = existsSync(new URL('pkg/wasm_tls.js', root));

/** Connects, sends `payload`, resolves with the socket once the echo is back. */
async function echo(tls, options, payload) {
  const socket = tls.connect(options);
  await once(socket, 'secureConnect');
  const chunks = [];
  let got = 0;
  socket.on('data', (c) => { chunks.push(c); got += c.length; });
  socket.write(payload);
  while (got < payload.length) await once(socket, 'data');
  assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
  return socket;
}

test('a trap errors every live socket, and the next connections work', { skip: !built && 'run scripts/build-trap-hook.sh' }, async (t) => {
  const { default: tls } = await import(new URL('js/entry/node.js', root));
  const engine = await import(new URL('pkg/wasm_tls.js', root));
  assert.equal(typeof engine.trapForTests, 'function', 'the test build exports the hook');

  const peer = await nodeServer({ key: certs.ec.key, cert: certs.ec.cert });
  t.after(() => peer.close());
  const serverSockets = [];
  const server = tls.createServer({ key: certs.rsa.key, cert: certs.rsa.cert }, (s) => {
    serverSockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());

  // Made before the trap, used after it.
  const context = tls.createSecureContext({ ca: certs.ca });
  const toPeer = { host: '127.0.0.1', port: peer.port, servername: 'localhost', secureContext: context };
  const toServer = { host: '127.0.0.1', port: server.address().port, servername: 'localhost', ca: certs.ca };

  const a = await echo(tls, toPeer, bytes(1000, 1));
  const b = await echo(tls, toServer, bytes(1000, 2));
  const errors = [a, b].map((s) => new Promise((resolve) => s.once('error', resolve)));
  // events.once would reject on the 'error' that comes first.
  const closes = [a, b].map((s) => new Promise((resolve) => s.once('close', (hadError) => resolve([hadError]))));
  assert.equal(engine.engineGeneration(), 0);

  assert.throws(() => engine.trapForTests(), WebAssembly.RuntimeError);

  for (const err of await Promise.all(errors)) {
    assert.equal(err.code, 'ERR_WASM_TLS_ENGINE_TRAP');
    assert.match(err.message, /trapped and was restarted/);
  }
  const closed = await Promise.all(closes);
  assert.deepEqual(closed.map(([hadError]) => hadError), [true, true]);
  assert.equal(serverSockets.length, 1);
  assert.ok(serverSockets[0].destroyed, 'the server side of b lived in the same instance');
  assert.equal(engine.engineGeneration(), 1);

  // The same context, the same server, a fresh instance underneath.
  const c = await echo(tls, toPeer, bytes(1 << 20, 3));
  assert.equal(c.authorized, true);
  assert.equal(c.getProtocol(), 'TLSv1.3');
  const closed2 = [once(c, 'close')];
  c.end();
  const d = await echo(tls, toServer, bytes(1 << 20, 4));
  assert.equal(d.authorized, true);
  closed2.push(once(d, 'close'));
  d.end();
  // And node:tls can still talk to the wasm-tls server.
  const n = ntls.connect(toServer);
  await once(n, 'secureConnect');
  assert.equal(n.authorized, true);
  closed2.push(once(n, 'close'));
  n.end();
  await Promise.all(closed2);
});

test('the shipped build has no trap hook', async () => {
  const engine = await import('../../pkg/wasm_tls.js');
  assert.equal(engine.trapForTests, undefined);
  assert.equal(typeof engine.onEngineTrap, 'function');
});
