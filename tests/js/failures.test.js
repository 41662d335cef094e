// Peers that misbehave: each ends in a clear error on that socket alone,
// while another connection in the same process carries on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import ntls from 'node:tls';
import { connect } from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { nodeServer, rawServer } from './helpers/peers.js';

/** Resolves with the first error a client emits (and the events seen up to then). */
function firstError(socket) {
  return new Promise((resolve) => {
    const seen = [];
    for (const e of ['secureConnect', 'end', 'close']) socket.on(e, () => seen.push(e));
    socket.once('error', (err) => resolve({ err, seen: [...seen] }));
  });
}

/** A healthy connection open across the misbehaving one, checked after it. */
async function healthyNeighbour(t) {
  const srv = await nodeServer(certs.ec);
  t.after(() => srv.close());
  const s = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
  await once(s, 'secureConnect');
  return async () => {
    s.write('still alive');
    const [echo] = await once(s, 'data');
    assert.equal(echo.toString(), 'still alive');
    s.end();
    await once(s, 'close');
  };
}

test('a server that answers with junk: ERR_SSL_WRONG_VERSION_NUMBER, as node:tls', async (t) => {
  const check = await healthyNeighbour(t);
  const srv = await rawServer((s) => s.once('data', () => s.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
  t.after(() => srv.close());
  const opts = { host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca };
  const ours = await firstError(connect(opts));
  const theirs = await firstError(ntls.connect(opts));
  assert.equal(ours.err.code, 'ERR_SSL_WRONG_VERSION_NUMBER');
  assert.equal(ours.err.code, theirs.err.code);
  assert.equal(ours.err.reason, theirs.err.reason);
  assert.equal(ours.err.library, theirs.err.library);
  assert.deepEqual(ours.seen, []);
  await check();
});

test('a server that hangs up mid-handshake: ECONNRESET with Node\'s message', async (t) => {
  const check = await healthyNeighbour(t);
  const srv = await rawServer((s) => s.once('data', () => s.end()));
  t.after(() => srv.close());
  const opts = { host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca };
  const ours = await firstError(connect(opts));
  const theirs = await firstError(ntls.connect(opts));
  for (const key of ['code', 'message', 'host', 'port']) assert.equal(ours.err[key], theirs.err[key], key);
  assert.equal(ours.err.code, 'ECONNRESET');
  await check();
});

test('a server that resets the connection: ECONNRESET', async (t) => {
  const srv = await rawServer((s) => s.once('data', () => s.resetAndDestroy()));
  t.after(() => srv.close());
  const ours = await firstError(connect({ host: '127.0.0.1', port: srv.port, ca: certs.ca }));
  assert.equal(ours.err.code, 'ECONNRESET');
});

test('a server that never answers: the timeout fires, destroy(err) ends it', async (t) => {
  const check = await healthyNeighbour(t);
  const srv = await rawServer(() => {});
  t.after(() => srv.close());
  const s = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, timeout: 300 });
  const started = Date.now();
  const failed = firstError(s);
  s.on('timeout', () => s.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
  const { err } = await failed;
  assert.equal(err.code, 'ETIMEDOUT');
  assert.ok(Date.now() - started >= 290);
  assert.equal(s.secureConnecting, true);
  await check();
});

test('nothing listening: ECONNREFUSED from the transport', async () => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  const { err } = await firstError(connect({ host: '127.0.0.1', port }));
  assert.equal(err.code, 'ECONNREFUSED');
});

test('invalid arguments throw synchronously with Node codes', () => {
  assert.throws(() => connect({ port: -1 }), { code: 'ERR_SOCKET_BAD_PORT' });
  assert.throws(() => connect({ port: 443, ALPNProtocols: 'h2' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => connect({ port: 443, ca: 'not a certificate' }), { code: 'ERR_OSSL_PEM_NO_START_LINE' });
  assert.throws(() => connect({ port: 443, ciphers: 'RC4-MD5' }), { code: 'ERR_SSL_NO_CIPHER_MATCH' });
  assert.throws(() => connect({ port: 443, checkServerIdentity: 42 }), { code: 'ERR_INVALID_ARG_TYPE' });
});
