// Record protection on both paths: the host's node:crypto AEADs (js/host-crypto.js, the
// default in Node) and ring in wasm (what browsers and workerd get), forced by the
// switch the engine reads when a secure context is made. Each against node:tls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import ntls from 'node:tls';
import tls, { connect } from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, opensslServer, secure, sha256, tlsServer } from './helpers/peers.js';

const SWITCH = Symbol.for('wasm-tls.hostCrypto');
const SUITES = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384'],
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
];
const MODES = { host: true, wasm: false };

/** Runs `fn` with contexts made under the given mode; the switch is put back after. */
async function inMode(host, fn) {
  globalThis[SWITCH] = host;
  try {
    return await fn();
  } finally {
    delete globalThis[SWITCH];
  }
}

/** Writes `data` through `sock` and reads the same number of bytes back. */
async function echo(sock, data) {
  const chunks = [];
  let got = 0;
  const done = new Promise((resolve, reject) => {
    sock.on('data', (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= data.length) resolve();
    });
    sock.once('error', reject);
  });
  // Writes of several sizes: full records, a partial one, one byte.
  sock.write(data.subarray(0, 1));
  sock.write(data.subarray(1, 70_001));
  sock.write(data.subarray(70_001));
  await done;
  return Buffer.concat(chunks);
}

for (const [version, suite] of SUITES) {
  for (const [mode, host] of Object.entries(MODES)) {
    const opts = { ciphers: suite, minVersion: version, maxVersion: version };

    test(`${mode} crypto, ${version} ${suite}: wasm-tls client against a node:tls server`, async (t) => {
      const srv = await nodeServer({ ...certs.ec, ...opts });
      t.after(() => srv.close());
      const client = await inMode(host, () => connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, ...opts }));
      t.after(() => client.destroy());
      await secure(client);
      assert.equal(client._engine.hostCrypto, host);
      assert.equal(client.getCipher().name, suite);
      const data = bytes(200_000, 7);
      assert.equal(sha256(await echo(client, data)), sha256(data));
    });

    test(`${mode} crypto, ${version} ${suite}: node:tls client against a wasm-tls server`, async (t) => {
      const srv = await inMode(host, () => tlsServer(t, tls, { ...certs.ec, ...opts }));
      const client = ntls.connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
      t.after(() => client.destroy());
      await once(client, 'secureConnect');
      assert.equal(client.getCipher().name, suite);
      const data = bytes(200_000, 9);
      assert.equal(sha256(await echo(client, data)), sha256(data));
      assert.equal(srv.secured[0]._engine.hostCrypto, host);
    });
  }
}

test('host crypto is the default in Node', async (t) => {
  const srv = await nodeServer({ ...certs.ec });
  t.after(() => srv.close());
  const client = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca });
  t.after(() => client.destroy());
  await secure(client);
  assert.equal(client._engine.hostCrypto, true);
});

/**
 * A relay between a client and `port` that flips one bit of the first chunk the
 * server sends after `arm()` (an application data record: its tag no longer fits).
 */
async function tamperingRelay(t, port) {
  let armed = false;
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(port, '127.0.0.1');
    inbound.on('error', () => {});
    outbound.on('error', () => {});
    inbound.pipe(outbound);
    outbound.on('data', (d) => {
      if (armed) {
        armed = false;
        d = Buffer.from(d);
        d[d.length - 1] ^= 1;
      }
      inbound.write(d);
    });
    outbound.on('end', () => inbound.end());
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => relay.close());
  return { port: relay.address().port, arm: () => { armed = true; } };
}

/** Connects through a tampering relay, then reads one echoed record; returns the error. */
async function tamperedError(t, lib, srvPort, suite, version) {
  const relay = await tamperingRelay(t, srvPort);
  const client = lib.connect({ host: '127.0.0.1', port: relay.port, servername: 'localhost', ca: certs.ca, ciphers: suite, maxVersion: version, minVersion: version });
  t.after(() => client.destroy());
  await once(client, 'secureConnect');
  // Give the server's post-handshake messages (tickets) time to pass untouched.
  await new Promise((r) => setTimeout(r, 100));
  relay.arm();
  client.write('x');
  const [err] = await once(client, 'error');
  return err;
}

const TAMPERED = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'],
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ERR_SSL_CIPHER_OPERATION_FAILED'],
  ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'],
];
for (const [version, suite, code] of TAMPERED) {
  for (const [mode, host] of Object.entries(MODES)) {
    test(`${mode} crypto, ${version} ${suite}: a record whose tag fails is an error as in node:tls`, async (t) => {
      const srv = await nodeServer({ ...certs.ec });
      t.after(() => srv.close());
      const expected = await tamperedError(t, ntls, srv.port, suite, version);
      const err = await inMode(host, () => tamperedError(t, tls, srv.port, suite, version));
      assert.equal(err.code, expected.code);
      assert.equal(err.code, code);
    });
  }
}

// Handshake signatures and chain checks on both paths: an RSA server key
// (PSS in TLS 1.3, PKCS#1 in TLS 1.2 where the client asks for it), and the
// verdicts OpenSSL's codes name.
for (const [mode, host] of Object.entries(MODES)) {
  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    test(`${mode} crypto, ${version}: RSA-2048 wasm-tls server signs, node:tls client checks`, async (t) => {
      const srv = await inMode(host, () => tlsServer(t, tls, { ...certs.rsa, minVersion: version, maxVersion: version }));
      const client = ntls.connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, sigalgs: version === 'TLSv1.2' ? 'RSA+SHA384' : undefined });
      t.after(() => client.destroy());
      await once(client, 'secureConnect');
      assert.equal(client.authorized, true);
      assert.equal(client.getProtocol(), version);
      assert.equal(sha256(await echo(client, bytes(1000))), sha256(bytes(1000)));
    });

    test(`${mode} crypto, ${version}: wasm-tls client checks an RSA-2048 node:tls server`, async (t) => {
      const srv = await nodeServer({ ...certs.rsa, minVersion: version, maxVersion: version });
      t.after(() => srv.close());
      const client = await inMode(host, () => connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca }));
      t.after(() => client.destroy());
      await secure(client);
      assert.equal(client.authorized, true);
      assert.equal(client.getProtocol(), version);
    });
  }

  test(`${mode} crypto: chain verdicts match node:tls`, async (t) => {
    const cases = [
      [{ ...certs.self }, certs.ca],
      [{ ...certs.ec }, certs.other.cert],
      [{ ...certs.chained }, certs.ca],
    ];
    for (const [i, [material, ca]] of cases.entries()) {
      const srv = await nodeServer(material);
      t.after(() => srv.close());
      const opts = { host: '127.0.0.1', port: srv.port, servername: 'localhost', ca, rejectUnauthorized: false };
      const expected = ntls.connect(opts);
      await once(expected, 'secureConnect');
      expected.destroy();
      const client = await inMode(host, () => connect(opts));
      await secure(client);
      client.destroy();
      assert.equal(expected.authorized, i === 2); // the oracle sees two bad chains, one good
      assert.equal(client.authorized, expected.authorized);
      assert.equal(client.authorizationError?.code ?? client.authorizationError, expected.authorizationError?.code ?? expected.authorizationError);
    }
  });
}

// Where AES-GCM would run in wasm after the handshake too (no native AES and no
// WebCrypto to hand records to), a client offers ChaCha20-Poly1305 first; with
// either, the order stays rustls' (AES-GCM first). openssl s_server follows the
// client's order (node:tls servers their own).
const ORDERS = [
  ['host crypto', true, undefined, false],
  ['wasm crypto, records to WebCrypto', false, undefined, false],
  ['wasm crypto, records in wasm', false, false, true],
];
for (const [mode, host, records, chachaFirst] of ORDERS) {
  for (const [version, chacha] of [['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256'], ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305']]) {
    test(`${mode}, ${version}: the suite openssl s_server picks from our default offer`, async (t) => {
      const flag = version === 'TLSv1.3' ? '-tls1_3' : '-tls1_2';
      const srv = await opensslServer(['-cert', certs.path('ec.crt'), '-key', certs.path('ec.key'), flag]);
      t.after(() => srv.close());
      globalThis[Symbol.for('wasm-tls.hostRecords')] = records;
      t.after(() => { delete globalThis[Symbol.for('wasm-tls.hostRecords')]; });
      const client = await inMode(host, () => connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca }));
      t.after(() => client.destroy());
      await secure(client);
      assert.equal(client.getCipher().name === chacha, chachaFirst, client.getCipher().name);
      client.destroy();
      // An explicit list keeps its order either way.
      const pinned = await inMode(host, () => connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: certs.ca, ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256' }));
      t.after(() => pinned.destroy());
      await secure(pinned);
      assert.match(pinned.getCipher().name, /AES128-GCM|AES_128_GCM/);
    });
  }
}
