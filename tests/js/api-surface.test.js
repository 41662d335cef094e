// The whole of node:tls's surface, name by name, and the small members that
// mirror net.Socket, each compared with Node's own answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import ntls from 'node:tls';
import tls from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, sha256 } from './helpers/peers.js';

/** Public members along the prototype chain (Node's internals start with '_'). */
function members(proto) {
  const names = new Set();
  for (let p = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) if (!n.startsWith('_')) names.add(n);
  }
  return names;
}
const missing = (theirs, ours) => [...theirs].filter((n) => !ours.has(n)).sort();

test('every export, TLSSocket and Server member of node:tls exists, but the documented few', () => {
  assert.deepEqual(missing(new Set(Object.keys(ntls)), new Set(Object.keys(tls))), []);
  // docs/compatibility.md: setKeyCert swaps OpenSSL key material mid-connection; connect is net.Socket's
  // own dialler, which a TLSSocket over an arbitrary transport does not have; setOptions is an internal.
  assert.deepEqual(missing(members(ntls.TLSSocket.prototype), members(tls.TLSSocket.prototype)), ['connect', 'setKeyCert']);
  assert.deepEqual(missing(members(ntls.Server.prototype), members(tls.Server.prototype)), ['setOptions']);
});

test('convertALPNProtocols gives Node\'s wire form and errors', () => {
  for (const input of [['h2', 'http/1.1'], [], ['x'.repeat(255)], Buffer.from([2, 104, 50])]) {
    const ours = {};
    const theirs = {};
    tls.convertALPNProtocols(input, ours);
    ntls.convertALPNProtocols(input, theirs);
    assert.deepEqual(ours, theirs);
  }
  const long = ['x'.repeat(256)];
  assert.throws(() => tls.convertALPNProtocols(long, {}), (e) => {
    assert.throws(() => ntls.convertALPNProtocols(long, {}), { code: e.code, message: e.message });
    return true;
  });
});

test('secureOptions: the TLS 1.2 / 1.3 bits narrow the versions as in Node', async (t) => {
  const peer = await nodeServer({ key: certs.ec.key, cert: certs.ec.cert }, (s) => s.end('x'));
  t.after(() => peer.close());
  const { SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3 } = (await import('node:crypto')).constants;
  for (const secureOptions of [0, SSL_OP_NO_TLSv1_3, SSL_OP_NO_TLSv1_2]) {
    const got = [];
    for (const lib of [tls, ntls]) {
      const c = lib.connect({ host: '127.0.0.1', port: peer.port, servername: 'localhost', ca: certs.ca, secureOptions });
      await once(c, 'secureConnect');
      got.push(c.getProtocol());
      c.resume();
      await once(c, 'end');
      c.destroy();
    }
    assert.equal(got[0], got[1], `secureOptions ${secureOptions}`);
  }
  assert.throws(() => tls.createSecureContext({ secureOptions: SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3 }),
    { code: 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' });
});

test('OpenSSL-only options fail with the reason, never silently', () => {
  assert.throws(() => tls.createSecureContext({ sigalgs: 'ECDSA+SHA256' }), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
  for (const name of ['clientCertEngine', 'privateKeyEngine', 'privateKeyIdentifier']) {
    assert.throws(() => tls.createSecureContext({ [name]: 'x' }), { code: 'ERR_CRYPTO_CUSTOM_ENGINE_NOT_SUPPORTED' });
  }
});

test('bytesRead / bytesWritten count the records on the wire; readyState follows the stream', async (t) => {
  let raw;
  const peer = await nodeServer({ key: certs.ec.key, cert: certs.ec.cert });
  peer.server.once('connection', (c) => { raw = c; });
  t.after(() => peer.close());
  const c = tls.connect({ host: '127.0.0.1', port: peer.port, servername: 'localhost', ca: certs.ca });
  assert.equal(c.readyState, 'opening');
  await once(c, 'secureConnect');
  assert.equal(c.readyState, 'open');
  const payload = bytes(100_000);
  const chunks = [];
  c.on('data', (d) => chunks.push(d));
  c.end(payload);
  await once(c, 'close');
  assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
  assert.equal(c.readyState, 'closed');
  if (!raw.destroyed) await once(raw, 'close');
  assert.equal(c.bytesRead, raw.bytesWritten);
  assert.equal(c.bytesWritten, raw.bytesRead);
  assert.ok(c.bytesRead > payload.length, 'records carry more than the plaintext');
});

test('no-op members answer as Node does when there is nothing to do', async (t) => {
  const peer = await nodeServer({ key: certs.ec.key, cert: certs.ec.cert });
  t.after(() => peer.close());
  for (const lib of [tls, ntls]) {
    const c = lib.connect({ host: '127.0.0.1', port: peer.port, servername: 'localhost', ca: certs.ca });
    await once(c, 'secureConnect');
    assert.equal(c.disableRenegotiation(), undefined);
    assert.ok(Array.isArray(c.getSharedSigalgs()));
    c.destroySoon();
    await once(c, 'close');
  }
});
