// wasm-tls as a server, against clients we did not write: node:tls and
// `openssl s_client`. Where Node's behaviour is the answer, a node:tls server
// given the same options is the oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import ntls from 'node:tls';
import tls from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, sha256, tlsServer as listen } from './helpers/peers.js';

/** A node:tls client's view of a connection: how it ended and what it saw. */
async function clientOutcome(options) {
  const s = ntls.connect({ host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ...options });
  s.on('data', () => {});
  const seen = [];
  const result = await new Promise((resolve) => {
    s.on('secureConnect', () => {
      seen.push('secureConnect');
      resolve({ protocol: s.getProtocol(), cipher: s.getCipher(), alpn: s.alpnProtocol });
      s.write('x');
    });
    s.on('error', (e) => resolve({ error: e.code }));
    s.on('close', () => resolve({ closed: true }));
  });
  await new Promise((r) => setTimeout(r, 50));
  s.destroy();
  return { ...result, seen };
}

const SUITES = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', certs.ec],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', certs.ec],
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', certs.ec],
  ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256', certs.ec],
  ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305', certs.ec],
  ['TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', certs.rsa],
];

for (const [version, suite, material] of SUITES) {
  test(`server ${version} ${suite} with a node:tls client`, async (t) => {
    let serverSide;
    const { port } = await listen(t, tls, { ...material }, (s) => { serverSide = s; s.pipe(s); });
    const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ciphers: suite, minVersion: version, maxVersion: version });
    await once(c, 'secureConnect');
    c.write('ping');
    const [echo] = await once(c, 'data');
    assert.equal(echo.toString(), 'ping');
    assert.equal(serverSide.getProtocol(), version);
    assert.deepEqual(serverSide.getCipher(), c.getCipher());
    assert.equal(c.getCipher().name, suite);
    assert.equal(serverSide.servername, 'localhost');
    c.end();
    await once(c, 'close');
  });
}

test('RSA and EC certificates side by side: the one served follows the client', async (t) => {
  const { port } = await listen(t, tls, { key: [certs.rsa.key, certs.ec.key], cert: [certs.rsa.cert, certs.ec.cert] });
  for (const [suite, keyType] of [['ECDHE-RSA-AES128-GCM-SHA256', 'rsa'], ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ec']]) {
    const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ciphers: suite, maxVersion: 'TLSv1.2' });
    await once(c, 'secureConnect');
    const cert = c.getPeerCertificate();
    assert.equal(keyType === 'rsa' ? cert.bits === 2048 && Boolean(cert.modulus) : cert.asn1Curve === 'prime256v1', true, suite);
    c.destroy();
  }
});

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version} client certificates: accepted, missing, untrusted, as a node:tls server does`, async (t) => {
    const options = { ...certs.ec, ca: certs.ca, requestCert: true, rejectUnauthorized: true, minVersion: version, maxVersion: version };
    const cases = {
      accepted: { key: certs.client.key, cert: certs.client.cert },
      missing: {},
      untrusted: { key: certs.self.key, cert: certs.self.cert },
    };
    for (const [name, clientOptions] of Object.entries(cases)) {
      const results = [];
      for (const lib of [tls, ntls]) {
        const secured = [];
        const { port, clientErrors } = await listen(t, lib, options, (s) => {
          secured.push({ authorized: s.authorized, error: s.authorizationError, cn: s.getPeerCertificate().subject?.CN });
          s.pipe(s);
        });
        const client = await clientOutcome({ port, ...clientOptions });
        await new Promise((r) => setTimeout(r, 50));
        results.push({ client, secured, serverErrors: clientErrors.map((e) => e.code) });
      }
      assert.deepEqual(results[0], results[1], `${version} ${name}`);
    }
    // Not vacuous: the accepted case really was authorized.
    const { port } = await listen(t, tls, options, (s) => s.end(String(s.authorized)));
    const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ...cases.accepted });
    const [data] = await once(c, 'data');
    assert.equal(data.toString(), 'true');
  });
}

test('requestCert without rejectUnauthorized: authorizationError set, connection kept', async (t) => {
  for (const lib of [tls, ntls]) {
    let state;
    const { port } = await listen(t, lib, { ...certs.ec, ca: certs.ca, requestCert: true, rejectUnauthorized: false }, (s) => {
      state = [s.authorized, s.authorizationError];
      s.end('ok');
    });
    const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
    const [data] = await once(c, 'data');
    assert.equal(data.toString(), 'ok');
    assert.deepEqual(state, [false, 'UNABLE_TO_GET_ISSUER_CERT'], lib === tls ? 'wasm-tls' : 'node:tls');
  }
});

test('SNI: async SNICallback, addContext wildcards (most recent wins), default fallback', async (t) => {
  const otherContext = tls.createSecureContext(certs.other);
  const { server, port } = await listen(t, tls, { ...certs.ec });
  server.addContext('*.other.example', certs.other);
  server.addContext('b.other.example', tls.createSecureContext(certs.self));
  const cnFor = async (servername) => {
    const c = ntls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
    await once(c, 'secureConnect');
    const cn = c.getPeerCertificate().subject.CN;
    c.destroy();
    return cn;
  };
  assert.equal(await cnFor('a.other.example'), 'other.example');
  assert.equal(await cnFor('b.other.example'), 'localhost'); // the self-signed one, added last
  assert.equal(await cnFor('x.y.other.example'), 'localhost'); // * is one label: default
  assert.equal(await cnFor('localhost'), 'localhost');

  const seen = [];
  const async = await listen(t, tls, {
    ...certs.ec,
    SNICallback(name, cb) {
      seen.push(name);
      setTimeout(() => cb(null, name === 'other.example' ? otherContext : undefined), 20);
    },
  });
  const c = ntls.connect({ host: '127.0.0.1', port: async.port, servername: 'other.example', ca: certs.ca });
  await once(c, 'secureConnect');
  assert.equal(c.authorized, true);
  assert.equal(c.getPeerCertificate().subject.CN, 'other.example');
  c.destroy();
  assert.deepEqual(seen, ['other.example']);

  const bad = await listen(t, tls, { ...certs.ec, SNICallback: (name, cb) => cb(null, { not: 'a context' }) });
  const c2 = ntls.connect({ host: '127.0.0.1', port: bad.port, servername: 'x.example', ca: certs.ca });
  const c2Error = new Promise((resolve) => c2.on('error', resolve));
  await new Promise((resolve) => c2.on('close', resolve));
  assert.equal((await c2Error).code, 'ECONNRESET');
  assert.equal(bad.clientErrors[0]?.code, 'ERR_TLS_INVALID_CONTEXT');
});

test('ALPN: server preference, no overlap is an alert, ALPNCallback', async (t) => {
  for (const lib of [tls, ntls]) {
    const { port } = await listen(t, lib, { ...certs.ec, ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal((await clientOutcome({ port, ALPNProtocols: ['http/1.1', 'h2'] })).alpn, 'h2');
    assert.equal((await clientOutcome({ port, ALPNProtocols: ['imap'] })).error, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
    assert.equal((await clientOutcome({ port })).alpn, false);
  }
  const calls = [];
  const { port } = await listen(t, tls, {
    ...certs.ec,
    ALPNCallback({ servername, protocols }) {
      calls.push([servername, protocols]);
      return protocols.includes('b') ? 'b' : undefined;
    },
  });
  assert.equal((await clientOutcome({ port, ALPNProtocols: ['a', 'b'] })).alpn, 'b');
  assert.equal((await clientOutcome({ port, ALPNProtocols: ['a'] })).error, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
  assert.deepEqual(calls, [['localhost', ['a', 'b']], ['localhost', ['a']]]);
  assert.throws(() => tls.createServer({ ALPNCallback: () => 'x', ALPNProtocols: ['x'] }), { code: 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS' });
});

test('a silent client hits handshakeTimeout: tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT', async (t) => {
  const { port, clientErrors } = await listen(t, tls, { ...certs.ec, handshakeTimeout: 200 });
  const raw = net.connect(port, '127.0.0.1');
  raw.on('error', () => {});
  await once(raw, 'close');
  assert.equal(clientErrors.length, 1);
  assert.equal(clientErrors[0].code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
  assert.equal(clientErrors[0].message, 'TLS handshake timeout');
});

test('1 KiB of junk: tlsClientError, and the next good client is served', async (t) => {
  const { port, clientErrors } = await listen(t, tls, { ...certs.ec });
  const raw = net.connect(port, '127.0.0.1');
  raw.on('error', () => {});
  raw.resume();
  raw.write(bytes(1024, 3));
  await once(raw, 'close');
  assert.equal(clientErrors.length, 1);
  assert.match(clientErrors[0].code, /^ERR_SSL_/);
  const ok = await clientOutcome({ port });
  assert.equal(ok.protocol, 'TLSv1.3');
});

test('100 concurrent node:tls clients each echo 64 KiB intact', async (t) => {
  const { port } = await listen(t, tls, { ...certs.ec });
  const one = async (i) => {
    const payload = bytes(64 * 1024, i + 1);
    const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
    await once(c, 'secureConnect');
    const chunks = [];
    let n = 0;
    const done = new Promise((resolve) => c.on('data', (d) => {
      chunks.push(d);
      n += d.length;
      if (n >= payload.length) resolve();
    }));
    c.write(payload);
    await done;
    c.destroy();
    return sha256(Buffer.concat(chunks)) === sha256(payload);
  };
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => one(i)));
  assert.equal(results.filter(Boolean).length, 100);
});

test('maxConnections refuses the surplus; close() waits for open connections', async (t) => {
  const { server, port } = await listen(t, tls, { ...certs.ec });
  server.maxConnections = 1;
  const first = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
  await once(first, 'secureConnect');
  const second = await clientOutcome({ port });
  assert.ok(second.error === 'ECONNRESET' || second.closed, JSON.stringify(second));
  const count = await new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
  assert.equal(count, 1);
  let closed = false;
  server.close(() => { closed = true; });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(closed, false);
  first.end();
  await once(server, 'close');
  assert.equal(closed, true);
});

test('server.emit("connection", duplex) serves a connection from any transport', async (t) => {
  const { server } = await listen(t, tls, { ...certs.ec });
  // A socket pair over loopback stands in for an arbitrary Duplex.
  const relay = net.createServer((s) => server.emit('connection', s));
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => relay.close());
  const c = ntls.connect({ host: '127.0.0.1', port: relay.address().port, servername: 'localhost', ca: certs.ca });
  await once(c, 'secureConnect');
  c.end('via emit');
  const [echo] = await once(c, 'data');
  assert.equal(echo.toString(), 'via emit');
});

test('openssl s_client: SNI, ALPN, TLS 1.2, data', async (t) => {
  let seen;
  const { port } = await listen(t, tls, { ...certs.ec, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
    seen = { servername: s.servername, alpn: s.alpnProtocol, protocol: s.getProtocol() };
    s.on('data', (d) => s.end(`got ${d}`));
  });
  const proc = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
    '-alpn', 'http/1.1', '-tls1_2', '-CAfile', certs.path('ca.crt'), '-verify_return_error', '-ign_eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  proc.stdin.write('hello\n');
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0, out);
  assert.deepEqual(seen, { servername: 'localhost', alpn: 'http/1.1', protocol: 'TLSv1.2' });
  assert.match(out, /ALPN protocol: http\/1\.1/);
  assert.match(out, /Verify return code: 0 \(ok\)/);
  assert.match(out, /got hello/);
});

test('createSecurePair (legacy): client and server over piped ciphertext, with node:tls peers', async (t) => {
  // Client pair to a node:tls server.
  const { port } = await listen(t, ntls, { ...certs.ec });
  const pair = tls.createSecurePair(tls.createSecureContext({ ca: certs.ca }), false, false, true, { servername: 'localhost' });
  const raw = net.connect(port, '127.0.0.1');
  raw.pipe(pair.encrypted).pipe(raw);
  await once(pair, 'secure');
  assert.equal(pair.cleartext.authorized, true);
  pair.cleartext.write('through a pair');
  const [echo] = await once(pair.cleartext, 'data');
  assert.equal(echo.toString(), 'through a pair');
  raw.destroy();

  // Server pair, a node:tls client.
  const relay = net.createServer((s) => {
    s.on('error', () => {}); // the client leaves abruptly
    const serverPair = tls.createSecurePair(tls.createSecureContext(certs.ec), true, false, false);
    s.pipe(serverPair.encrypted).pipe(s);
    serverPair.cleartext.pipe(serverPair.cleartext);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => relay.close());
  const c = ntls.connect({ host: '127.0.0.1', port: relay.address().port, servername: 'localhost', ca: certs.ca });
  await once(c, 'secureConnect');
  c.write('server pair');
  const [back] = await once(c, 'data');
  assert.equal(back.toString(), 'server pair');
  c.destroy();
});

test('OCSP stapling: OCSPRequest gets our certificate and issuer; node:tls and s_client see the response', async (t) => {
  const response = Buffer.from('30030a0101', 'hex'); // OCSPResponse { responseStatus: malformedRequest }, valid DER
  const calls = [];
  const { server, port } = await listen(t, tls, { ...certs.chained });
  server.on('OCSPRequest', (certificate, issuer, callback) => {
    calls.push([new X509Certificate(certificate).subject, new X509Certificate(issuer).subject]);
    callback(null, response);
  });
  const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, requestOCSP: true });
  const [stapled] = await once(c, 'OCSPResponse');
  assert.deepEqual(stapled, response);
  c.destroy();
  // A client that does not ask gets no OCSPRequest on the server.
  const quiet = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
  await once(quiet, 'secureConnect');
  quiet.destroy();
  assert.deepEqual(calls, [['CN=localhost', 'O=wasm-tls tests\nCN=Test Intermediate CA']]);

  const proc = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-status',
    '-CAfile', certs.path('ca.crt')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stdin.end();
  await once(proc, 'exit');
  assert.match(out, /OCSP Response Status: malformedrequest \(0x1\)/);
});

test('requestOCSP: the wasm-tls client sees what a node:tls server staples, in Node order', async (t) => {
  const response = Buffer.from('30030a0101', 'hex');
  for (const lib of [ntls, tls]) {
    const { server, port } = await listen(t, lib, { ...certs.ec });
    server.on('OCSPRequest', (certificate, issuer, callback) => callback(null, response));
    const seen = {};
    for (const client of [tls, ntls]) {
      const c = client.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, requestOCSP: true });
      const order = [];
      c.on('OCSPResponse', (r) => order.push(r === null ? 'null' : r.toString('hex')));
      c.on('secureConnect', () => order.push('secureConnect'));
      c.resume();
      await once(c, 'secureConnect');
      c.destroy();
      seen[client === tls ? 'wasm' : 'node'] = order;
    }
    assert.deepEqual(seen.wasm, ['30030a0101', 'secureConnect']);
    assert.deepEqual(seen.wasm, seen.node);
  }
  const { port } = await listen(t, ntls, { ...certs.ec });
  const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, requestOCSP: true });
  const [none] = await once(c, 'OCSPResponse');
  assert.equal(none, null);
  c.destroy();
});

test('a revoked client certificate (crl on the server) is refused as a node:tls server does', async (t) => {
  const run = (...args) => execFileSync('openssl', args, { cwd: certs.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  writeFileSync(join(certs.dir, 'cindex.txt'), '');
  writeFileSync(join(certs.dir, 'ccrlnumber'), '01\n');
  writeFileSync(join(certs.dir, 'cca.cnf'), ['[ca]', 'default_ca = test', '[test]', 'database = cindex.txt',
    'crlnumber = ccrlnumber', 'default_md = sha256', 'default_crl_days = 7', 'certificate = ca.crt',
    'private_key = ca.key', ''].join('\n'));
  run('ca', '-config', 'cca.cnf', '-revoke', 'rsaclient.crt');
  const crl = run('ca', '-config', 'cca.cnf', '-gencrl');
  const outcomes = [];
  for (const lib of [tls, ntls]) {
    const secured = [];
    const { port, clientErrors } = await listen(t, lib, { ...certs.ec, ca: certs.ca, crl, requestCert: true, rejectUnauthorized: false },
      (s) => { secured.push([s.authorized, s.authorizationError]); s.end(); });
    for (const client of [certs.rsaclient, certs.client]) {
      await clientOutcome({ port, key: client.key, cert: client.cert });
    }
    await new Promise((r) => setTimeout(r, 50));
    outcomes.push({ secured, errors: clientErrors.map((e) => e.code) });
  }
  assert.deepEqual(outcomes[0].secured, [[false, 'CERT_REVOKED'], [true, null]]);
  assert.deepEqual(outcomes[0], outcomes[1]);
});

test('honorCipherOrder: whose preference wins, as with a node:tls server', async (t) => {
  const serverOrder = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305';
  const clientOrder = 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256';
  const picks = [];
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    for (const honorCipherOrder of [false, true]) {
      const pick = {};
      for (const lib of [tls, ntls]) {
        const { port } = await listen(t, lib, { ...certs.ec, ciphers: serverOrder, honorCipherOrder, maxVersion: version });
        pick[lib === tls ? 'wasm' : 'node'] = (await clientOutcome({ port, ciphers: clientOrder, maxVersion: version })).cipher.name;
      }
      assert.equal(pick.wasm, pick.node, `${version} honorCipherOrder=${honorCipherOrder}`);
      picks.push(pick.wasm);
    }
  }
  assert.deepEqual(picks, ['ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-GCM-SHA256',
    'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256']);
});

test('plaintext HTTP to a TLS server: the error OpenSSL names, and no alert, as node:tls', async (t) => {
  for (const request of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'POST /', 'HEAD /', 'PUT /x', 'CONNECT example.com:443 HTTP/1.1\r\n\r\n']) {
    const seen = [];
    for (const lib of [tls, ntls]) {
      const { server, port } = await listen(t, lib, { key: certs.ec.key, cert: certs.ec.cert });
      const failed = once(server, 'tlsClientError');
      const raw = net.connect(port, '127.0.0.1');
      const answer = [];
      raw.on('data', (d) => answer.push(d));
      raw.on('error', () => {});
      // Byte by byte for the first request: the verdict must not depend on how the bytes arrive.
      if (request.startsWith('GET')) for (const byte of Buffer.from(request)) raw.write(Buffer.from([byte]));
      else raw.write(request);
      const [err] = await failed;
      await once(raw, 'close');
      seen.push({ code: err.code, reason: err.reason ?? err.message, answer: Buffer.concat(answer).toString('hex') });
    }
    assert.deepEqual(seen[0], seen[1], request);
  }
});

test('session tickets and the first reply leave in one corked write (no Nagle wait for the reply)', async (t) => {
  const { server, port } = await listen(t, tls, { key: certs.ec.key, cert: certs.ec.cert });
  const writes = [];
  server.on('connection', (raw) => {
    const write = raw.write.bind(raw);
    raw.write = (chunk, ...rest) => {
      writes.push({ bytes: chunk.length, corked: raw.writableCorked > 0 });
      return write(chunk, ...rest);
    };
  });
  const client = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
  await once(client, 'secureConnect');
  client.write('ping');
  const [echo] = await once(client, 'data');
  assert.equal(String(echo), 'ping');
  client.destroy();
  // Server flight, then tickets, then the echo: the last two while corked, so they leave together.
  assert.ok(writes.length >= 3, JSON.stringify(writes));
  assert.deepEqual(writes.slice(-2).map((w) => w.corked), [true, true], JSON.stringify(writes));
});

test('EC and RSA certificates: a TLS 1.2 client offering only one kind of suite gets the certificate for it, as from node:tls', async (t) => {
  const options = { key: [certs.ec.key, certs.rsa.key], cert: [certs.ec.cert, certs.rsa.cert] };
  for (const ciphers of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256']) {
    const seen = [];
    for (const lib of [tls, ntls]) {
      const { port } = await listen(t, lib, options, (s) => s.end());
      const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ciphers, maxVersion: 'TLSv1.2' });
      await once(c, 'secureConnect');
      seen.push([c.getCipher().name, c.getPeerCertificate().asn1Curve ?? 'rsa']);
      c.destroy();
    }
    assert.deepEqual(seen[0], seen[1], ciphers);
  }
});

test('exportKeyingMaterial with an absurd length is an error on that call, not a dead engine', async (t) => {
  const { port } = await listen(t, tls, { key: certs.ec.key, cert: certs.ec.cert }, () => {});
  const c = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
  await once(c, 'secureConnect');
  assert.throws(() => c.exportKeyingMaterial(2 ** 31, 'label'), { code: 'ERR_OUT_OF_MEMORY' });
  assert.equal(c.exportKeyingMaterial(32, 'label').length, 32);
  c.destroy();
});
