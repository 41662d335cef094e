// wasm-tls as a client of node:tls servers: versions, suites, data, ALPN, events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import ntls from 'node:tls';
import tls, { connect, TLSSocket } from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, readAll, recordEvents, secure, sha256 } from './helpers/peers.js';

const SUITES = {
  'TLSv1.3': ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'],
  'TLSv1.2': ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'],
};

test('the module is shaped like node:tls', () => {
  for (const name of ['connect', 'createSecureContext', 'checkServerIdentity', 'getCiphers', 'TLSSocket', 'SecureContext']) {
    assert.equal(typeof tls[name], 'function', name);
  }
  assert.equal(tls.connect, connect);
  assert.equal(tls.DEFAULT_MIN_VERSION, ntls.DEFAULT_MIN_VERSION);
  assert.equal(tls.DEFAULT_MAX_VERSION, ntls.DEFAULT_MAX_VERSION);
  assert.equal(tls.CLIENT_RENEG_LIMIT, ntls.CLIENT_RENEG_LIMIT);
  assert.equal(tls.CLIENT_RENEG_WINDOW, ntls.CLIENT_RENEG_WINDOW);
  // Every suite we offer is one OpenSSL knows under the same name.
  const nodeCiphers = new Set(ntls.getCiphers());
  assert.ok(tls.getCiphers().length >= 9);
  for (const c of tls.getCiphers()) assert.ok(nodeCiphers.has(c), c);
});

for (const [version, suites] of Object.entries(SUITES)) {
  for (const suite of suites) {
    test(`${version} ${suite}: cipher and protocol agree with the node:tls server`, async (t) => {
      const material = suite.includes('-RSA-') ? certs.rsa : certs.ec;
      const srv = await nodeServer({ ...material, ciphers: suite, minVersion: version, maxVersion: version });
      t.after(() => srv.close());
      const client = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
      await secure(client);
      const server = await srv.nextSocket();
      assert.equal(client.authorized, true);
      assert.equal(client.authorizationError, null);
      assert.equal(client.getProtocol(), version);
      assert.equal(client.getProtocol(), server.getProtocol());
      assert.deepEqual(client.getCipher(), server.getCipher());
      assert.equal(client.getCipher().name, suite);
      client.write('ping');
      const [echo] = await once(client, 'data');
      assert.equal(echo.toString(), 'ping');
      client.end();
      await once(client, 'close');
    });
  }
}

test('1 MiB each way, byte for byte (SHA-256)', async (t) => {
  const upload = bytes(1 << 20, 7);
  const download = bytes(1 << 20, 9);
  let received;
  const srv = await nodeServer(certs.ec, (s) => {
    const chunks = [];
    let n = 0;
    s.on('data', (c) => {
      chunks.push(c);
      n += c.length;
      if (n === upload.length) {
        received = Buffer.concat(chunks);
        s.end(download);
      }
    });
  });
  t.after(() => srv.close());
  const client = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
  await secure(client);
  const closed = once(client, 'close');
  client.write(upload);
  const got = await readAll(client);
  assert.equal(sha256(got), sha256(download));
  assert.equal(sha256(received), sha256(upload));
  await closed;
});

test('ALPN: the server picks from our list; no overlap leaves it false', async (t) => {
  const srv = await nodeServer({ ...certs.ec, ALPNProtocols: ['h2', 'http/1.1'] });
  t.after(() => srv.close());
  const base = { host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca };
  const a = await secure(connect({ ...base, ALPNProtocols: ['http/1.1', 'h2'] }));
  assert.equal(a.alpnProtocol, 'h2'); // node:tls servers prefer their own order
  assert.equal((await srv.nextSocket()).alpnProtocol, 'h2');
  a.destroy();
  const b = await secure(connect({ ...base, ALPNProtocols: [Buffer.from('http/1.1')] }));
  assert.equal(b.alpnProtocol, 'http/1.1');
  b.destroy();
  const c = await secure(connect({ ...base }));
  assert.equal(c.alpnProtocol, false);
  c.destroy();
  // A server with no protocol in common refuses, as OpenSSL does.
  const d = connect({ ...base, ALPNProtocols: ['imap'] });
  const err = await once(d, 'error').then(([e]) => e);
  assert.equal(err.code, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
});

test('events come in Node order: connect, secureConnect, data, end, close', async (t) => {
  const srv = await nodeServer(certs.ec, (s) => s.end('bye'));
  t.after(() => srv.close());
  const ours = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
  const theirs = ntls.connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
  const names = ['connect', 'secureConnect', 'data', 'end', 'finish', 'close', 'error'];
  const a = recordEvents(ours, names);
  const b = recordEvents(theirs, names);
  await Promise.all([once(ours, 'close'), once(theirs, 'close')]);
  assert.deepEqual(a, b);
  assert.deepEqual(a, ['connect', 'secureConnect', 'data', 'end', 'finish', 'close']);
});

test('write() returns false past highWaterMark and drain follows', async (t) => {
  let total = 0;
  let serverEnded;
  const ended = new Promise((resolve) => { serverEnded = resolve; });
  const srv = await nodeServer(certs.ec, (s) => {
    s.pause(); // let the pipe fill up
    setTimeout(() => s.resume(), 200);
    s.on('data', (c) => { total += c.length; });
    s.on('end', serverEnded);
  });
  t.after(() => srv.close());
  const client = await secure(connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca }));
  const chunk = Buffer.alloc(64 * 1024, 1);
  let writes = 0;
  while (client.write(chunk)) writes++;
  assert.ok(writes < 1000, 'write() never pushed back');
  assert.equal(client.writableNeedDrain, true);
  await once(client, 'drain');
  client.end();
  await once(client, 'finish');
  await ended; // the client may finish before the server has even resumed
  assert.equal(total, (writes + 1) * chunk.length);
});

test('writes before secureConnect are sent after it, in order', async (t) => {
  const srv = await nodeServer(certs.ec);
  t.after(() => srv.close());
  const client = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
  client.write('one,');
  client.write('two,');
  client.end('three');
  assert.equal(client.secureConnecting, true);
  const got = await readAll(client);
  assert.equal(got.toString(), 'one,two,three');
});

test('connect(port, host, options, cb) and the `socket` option over a net.Socket', async (t) => {
  const srv = await nodeServer({ ...certs.ec, ALPNProtocols: ['x'] });
  t.after(() => srv.close());
  const a = await new Promise((resolve, reject) => {
    const s = connect(srv.port, '127.0.0.1', { servername: 'localhost', ca: certs.ca }, () => resolve(s));
    s.on('error', reject);
  });
  assert.equal(a.remoteAddress, '127.0.0.1');
  assert.equal(a.remotePort, srv.port);
  a.destroy();

  const raw = net.connect(srv.port, '127.0.0.1');
  await once(raw, 'connect');
  const b = await secure(connect({ socket: raw, servername: 'localhost', ca: certs.ca, ALPNProtocols: ['x'] }));
  assert.equal(b.alpnProtocol, 'x');
  assert.ok(b instanceof TLSSocket);
  b.write('over a socket');
  const [echo] = await once(b, 'data');
  assert.equal(echo.toString(), 'over a socket');
  b.end();
  await once(b, 'close');
});

test('minVersion/maxVersion are honoured against the server', async (t) => {
  const srv = await nodeServer({ ...certs.ec, minVersion: 'TLSv1.3' });
  t.after(() => srv.close());
  const err = await once(connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, maxVersion: 'TLSv1.2' }), 'error')
    .then(([e]) => e);
  assert.equal(err.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  const ok = await secure(connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, minVersion: 'TLSv1.3' }));
  assert.equal(ok.getProtocol(), 'TLSv1.3');
  ok.destroy();
  assert.throws(() => connect({ port: srv.port, minVersion: 'TLSv9' }), { code: 'ERR_TLS_INVALID_PROTOCOL_VERSION', message: '"TLSv9" is not a valid minimum TLS protocol version' });
  assert.throws(() => connect({ port: srv.port, maxVersion: 'TLSv1.1' }), { code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
});

test('SNI is sent only with servername, as Node does', async (t) => {
  const seen = [];
  const srv = await nodeServer({
    ...certs.ec,
    SNICallback: (name, cb) => { seen.push(name); cb(null, null); },
  });
  t.after(() => srv.close());
  for (const extra of [{ servername: 'localhost' }, {}]) {
    const s = await secure(connect({ host: 'localhost', port: srv.port, ca: certs.ca, ...extra }));
    assert.equal(s.servername, extra.servername ?? false);
    s.destroy();
  }
  assert.deepEqual(seen, ['localhost']);
});
