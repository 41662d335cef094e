// Client options beyond the basics, each checked against what node:tls does
// with the same input (the server side of the same connection, or Node's own
// client as the oracle).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import ntls from 'node:tls';
import { connect, createSecureContext } from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { nodeServer } from './helpers/peers.js';
import { SecureContext as NativeContext, TlsAcceptor, TlsConnection } from '../../pkg/wasm_tls.js';

const openssl = (...args) => execFileSync('openssl', args, { cwd: certs.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const base = (port) => ({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });

/** Outcome of creating a context: the error's code and message, or 'ok'. */
function contextOutcome(create, options) {
  try {
    create(options);
    return 'ok';
  } catch (e) {
    return `${e.code}: ${e.message}`;
  }
}

test('client certificates: the server sees and trusts ours (EC, RSA, encrypted PKCS#8)', async (t) => {
  const srv = await nodeServer({ ...certs.ec, ca: certs.ca, requestCert: true, rejectUnauthorized: true });
  t.after(() => srv.close());
  const encrypted = openssl('pkcs8', '-topk8', '-in', 'rsaclient.key', '-passout', 'pass:s3cret', '-v2', 'aes-256-cbc');
  const variants = [
    { key: certs.client.key, cert: certs.client.cert },
    { key: certs.rsaclient.key, cert: certs.rsaclient.cert },
    { key: encrypted, passphrase: 's3cret', cert: certs.rsaclient.cert },
    { key: [{ pem: encrypted, passphrase: 's3cret' }], cert: [certs.rsaclient.cert] },
    // Keys pair with certificates by type, not by position, as in OpenSSL.
    { key: [certs.rsaclient.key, certs.client.key], cert: [certs.client.cert, certs.rsaclient.cert] },
  ];
  for (const v of variants) {
    const s = connect({ ...base(srv.port), ...v });
    await once(s, 'secureConnect');
    const server = await srv.nextSocket();
    assert.equal(server.authorized, true);
    const theirView = server.getPeerCertificate();
    assert.match(theirView.subject.CN, /^wasm-tls (rsa )?client$/);
    assert.equal(theirView.fingerprint256, s.getCertificate().fingerprint256);
    s.destroy();
  }
});

test('key errors match Node: wrong or missing passphrase, mismatch, junk', () => {
  const encrypted = openssl('pkcs8', '-topk8', '-in', 'ec.key', '-passout', 'pass:right');
  const cases = [
    { key: encrypted, passphrase: 'wrong', cert: certs.ec.cert },
    { key: encrypted, cert: certs.ec.cert },
    { key: encrypted, passphrase: 'right', cert: certs.ec.cert },
    { key: certs.rsa.key, cert: certs.ec.cert },
    { key: 'junk', cert: certs.ec.cert },
    { key: certs.ec.key, cert: 'junk' },
    { ecdhCurve: 'bogus' },
    { ecdhCurve: 'P-256:X25519' },
    { secureProtocol: 'bogus' },
    { secureProtocol: 'TLSv1_2_method', minVersion: 'TLSv1.2' },
    { secureProtocol: 'TLSv1_2_method' },
    { minVersion: 'TLSv1.4' },
  ];
  for (const options of cases) {
    assert.equal(contextOutcome(createSecureContext, options), contextOutcome(ntls.createSecureContext, options),
      JSON.stringify(options).slice(0, 120));
  }
});

test('sessionTimeout is validated as Node validates it (type, integer, 0 to 2^31 - 1)', () => {
  for (const sessionTimeout of [1.5, '300', -1, 2 ** 31, NaN, 0, 2 ** 31 - 1, null, undefined]) {
    assert.equal(contextOutcome(createSecureContext, { sessionTimeout }), contextOutcome(ntls.createSecureContext, { sessionTimeout }),
      String(sessionTimeout));
  }
});

test('the engine refuses malformed option objects with ERR_INVALID_ARG_VALUE, never a trap', () => {
  const refused = (make, field) => assert.throws(make, (e) => e.code === 'ERR_INVALID_ARG_VALUE' && e.message.includes(field), field);
  refused(() => new NativeContext(null), 'options');
  refused(() => new NativeContext({ ca: 'one PEM, not a list' }), 'ca');
  refused(() => new NativeContext({ ca: [42] }), 'ca');
  refused(() => new NativeContext({ key: [{ passphrase: 'x' }] }), 'pem');
  refused(() => new NativeContext({ pfx: [{ buf: 'not bytes' }] }), 'buf');
  refused(() => new NativeContext({ ticketKeys: [1, 2, 3] }), 'ticketKeys');
  refused(() => new NativeContext({ sessionTimeout: 1.5 }), 'sessionTimeout');
  refused(() => new NativeContext({ minVersion: 1.2 }), 'minVersion');
  const context = new NativeContext({});
  refused(() => TlsConnection.client(context, { alpnProtocols: 'h2' }), 'alpnProtocols');
  refused(() => TlsConnection.client(context, { session: 'ticket' }), 'session');
  refused(() => TlsConnection.client(context, undefined), 'options');
  // An array made in another realm is still an array (Array.isArray, not instanceof).
  TlsConnection.client(context, { alpnProtocols: vm.runInNewContext('["h2"]') }).free();
  const hello = tlsClientHello();
  for (const [options, field] of [
    [{ requestCert: 'yes' }, 'requestCert'],
    [{ resumedSession: [new Uint8Array(1)] }, 'resumedSession'],
    [{ ocspResponse: {} }, 'ocspResponse'],
  ]) {
    const acceptor = new TlsAcceptor();
    assert.notEqual(acceptor.receive(hello), null);
    refused(() => acceptor.accept(context, options), field);
    acceptor.free();
  }
  // What they read right: a client's ClientHello reaches an acceptor with the fields the JS layer uses.
  const acceptor = new TlsAcceptor();
  const info = acceptor.receive(hello);
  assert.deepEqual({ ...info, sessionId: info.sessionId?.length }, {
    servername: 'example.com', alpnProtocols: ['h2', 'http/1.1'], ocspRequested: true, sessionId: 32, // rustls always asks for OCSP
  });
  assert.ok(info.sessionId === null || info.sessionId instanceof Uint8Array);
  acceptor.free();
  context.free();

  function tlsClientHello() {
    const client = TlsConnection.client(new NativeContext({}), { servername: 'example.com', alpnProtocols: ['h2', 'http/1.1'] });
    const out = client.takeOutput();
    client.free();
    return out;
  }
});

test('scrypt-encrypted keys: taken within OpenSSL\'s 32 MiB, refused past it as Node refuses them', () => {
  const within = openssl('pkcs8', '-topk8', '-in', 'ec.key', '-passout', 'pass:pw', '-scrypt', '-scrypt_N', '16384', '-scrypt_r', '8', '-scrypt_p', '1');
  // OpenSSL will not write one past its limit: r = 8 turned into r = 127 (266 MB) in the DER.
  const der = Buffer.from(within.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  const at = der.indexOf(Buffer.from([2, 2, 0x40, 0, 2, 1, 8, 2, 1, 1]));
  assert.ok(at > 0, 'scrypt parameters N = 16384, r = 8, p = 1 in the DER');
  der[at + 6] = 127;
  const past = `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
  const cases = [
    { key: within, passphrase: 'pw', cert: certs.ec.cert },
    { key: within, passphrase: 'wrong', cert: certs.ec.cert },
    { key: past, passphrase: 'pw', cert: certs.ec.cert },
  ];
  const outcomes = cases.map((options) => contextOutcome(createSecureContext, options));
  assert.deepEqual(outcomes, cases.map((options) => contextOutcome(ntls.createSecureContext, options)));
  assert.match(outcomes[2], /ERR_OSSL_EVP_MEMORY_LIMIT_EXCEEDED/);
});

test('a legacy encrypted PEM key is refused with a clear way out', () => {
  const legacy = openssl('ec', '-in', 'ec.key', '-aes256', '-passout', 'pass:x');
  assert.throws(() => createSecureContext({ key: legacy, passphrase: 'x', cert: certs.ec.cert }),
    (e) => e.code === 'ERR_OSSL_UNSUPPORTED' && /openssl pkcs8 -topk8/.test(e.message));
});

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: keylog lines and exported keying material equal the server's`, async (t) => {
    const serverLines = [];
    const srv = await nodeServer({ ...certs.ec, maxVersion: version, minVersion: version });
    srv.server.on('keylog', (line) => serverLines.push(line.toString('latin1')));
    t.after(() => srv.close());
    const s = connect(base(srv.port));
    const ours = [];
    s.on('keylog', (line) => {
      assert.ok(Buffer.isBuffer(line));
      ours.push(line.toString('latin1'));
    });
    await once(s, 'secureConnect');
    const server = await srv.nextSocket();
    s.write('x'); // lets the server finish and log its last lines
    await once(s, 'data');
    assert.deepEqual([...ours].sort(), [...serverLines].sort());
    assert.equal(ours.length, version === 'TLSv1.3' ? 5 : 1);
    for (const line of ours) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+\n$/);
    const label = 'EXPORTER-wasm-tls-test';
    const ctx = Buffer.from('context');
    assert.deepEqual(s.exportKeyingMaterial(32, label, ctx), server.exportKeyingMaterial(32, label, ctx));
    assert.deepEqual(s.exportKeyingMaterial(16, label), server.exportKeyingMaterial(16, label));
    s.destroy();
  });
}

test('ecdhCurve picks the group; getEphemeralKeyInfo reports it as Node does', async (t) => {
  const srv = await nodeServer(certs.ec);
  t.after(() => srv.close());
  for (const ecdhCurve of ['X25519', 'P-256', 'P-384']) {
    const options = { ...base(srv.port), ecdhCurve };
    const ours = connect(options);
    const theirs = ntls.connect(options);
    await Promise.all([once(ours, 'secureConnect'), once(theirs, 'secureConnect')]);
    assert.deepEqual(ours.getEphemeralKeyInfo(), theirs.getEphemeralKeyInfo());
    ours.destroy();
    theirs.destroy();
  }
});

test('secureProtocol pins the version', async (t) => {
  const srv = await nodeServer(certs.ec);
  t.after(() => srv.close());
  const s = connect({ ...base(srv.port), secureProtocol: 'TLSv1_2_method' });
  await once(s, 'secureConnect');
  assert.equal(s.getProtocol(), 'TLSv1.2');
  s.destroy();
});

test('setMaxSendFragment, renegotiate, getFinished behave as documented', async (t) => {
  const srv = await nodeServer(certs.ec);
  t.after(() => srv.close());
  const s = connect(base(srv.port));
  await once(s, 'secureConnect');
  const theirs = ntls.connect(base(srv.port));
  await once(theirs, 'secureConnect');
  for (const size of [511, 512, 4096, 16384, 16385]) {
    assert.equal(s.setMaxSendFragment(size), theirs.setMaxSendFragment(size), `size ${size}`);
  }
  theirs.destroy();
  s.setMaxSendFragment(512);
  const payload = Buffer.alloc(5000, 7);
  s.write(payload);
  let got = 0;
  for await (const chunk of s) {
    got += chunk.length;
    if (got >= payload.length) break;
  }
  assert.equal(got, payload.length);
  const renegotiated = await new Promise((resolve) => {
    assert.equal(s.renegotiate({}, (err) => resolve(err)), false);
  });
  assert.equal(renegotiated.code, 'ERR_TLS_RENEGOTIATION_DISABLED');
});

test('crl: a revoked server certificate is CERT_REVOKED, as in Node', async (t) => {
  // A tiny CA database for `openssl ca` to sign a CRL that revokes rsa.crt.
  writeFileSync(join(certs.dir, 'index.txt'), '');
  writeFileSync(join(certs.dir, 'crlnumber'), '01\n');
  writeFileSync(join(certs.dir, 'ca.cnf'), [
    '[ca]', 'default_ca = test', '[test]', 'database = index.txt', 'crlnumber = crlnumber',
    'default_md = sha256', 'default_crl_days = 7', 'certificate = ca.crt', 'private_key = ca.key', '',
  ].join('\n'));
  openssl('ca', '-config', 'ca.cnf', '-revoke', 'rsa.crt');
  const crl = openssl('ca', '-config', 'ca.cnf', '-gencrl');
  const revokedSrv = await nodeServer(certs.rsa);
  const goodSrv = await nodeServer(certs.ec);
  t.after(() => Promise.all([revokedSrv.close(), goodSrv.close()]));
  const outcome = async (lib, port) => {
    const s = lib.connect({ ...base(port), crl });
    const r = await new Promise((resolve) => {
      s.once('secureConnect', () => resolve('ok'));
      s.once('error', (e) => resolve(`${e.code}: ${e.message}`));
    });
    s.destroy();
    return r;
  };
  assert.equal(await outcome({ connect }, revokedSrv.port), 'CERT_REVOKED: certificate revoked');
  assert.equal(await outcome({ connect }, revokedSrv.port), await outcome(ntls, revokedSrv.port));
  assert.equal(await outcome({ connect }, goodSrv.port), await outcome(ntls, goodSrv.port));
});

test('getPeerX509Certificate / getX509Certificate match node:tls; setServername rules', async (t) => {
  const srv = await nodeServer({ ...certs.ec, ca: certs.ca, requestCert: true });
  t.after(() => srv.close());
  const options = { ...base(srv.port), key: certs.client.key, cert: certs.client.cert };
  const ours = connect(options);
  const theirs = ntls.connect(options);
  await Promise.all([once(ours, 'secureConnect'), once(theirs, 'secureConnect')]);
  assert.equal(ours.getPeerX509Certificate().fingerprint256, theirs.getPeerX509Certificate().fingerprint256);
  assert.equal(ours.getX509Certificate().subject, theirs.getX509Certificate().subject);
  assert.throws(() => ours.setServername('late.example'), { code: 'ERR_TLS_INVALID_STATE' });
  assert.throws(() => ours.setServername(1), { code: 'ERR_INVALID_ARG_TYPE' });
  ours.destroy();
  theirs.destroy();
});

test('pfx: PKCS#12 from openssl for a server and a client; wrong password as Node reports it', async (t) => {
  openssl('pkcs12', '-export', '-inkey', 'chained.key', '-in', 'chained.crt', '-certfile', 'inter.crt', '-passout', 'pass:pw', '-out', 'server.pfx');
  openssl('pkcs12', '-export', '-inkey', 'client.key', '-in', 'client.crt', '-passout', 'pass:', '-out', 'client.pfx');
  const serverPfx = readFileSync(join(certs.dir, 'server.pfx'));
  const clientPfx = readFileSync(join(certs.dir, 'client.pfx'));
  const { default: tls } = await import('wasm-tls');
  // Our server from a pfx (leaf + intermediate), a node:tls client with a pfx of its own.
  let seen;
  const server = tls.createServer({ pfx: serverPfx, passphrase: 'pw', ca: certs.ca, requestCert: true }, (s) => {
    seen = [s.authorized, s.getPeerCertificate().subject.CN];
    s.on('error', () => {}); // the clients leave without reading
    s.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = server.address().port;
  const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, pfx: clientPfx, passphrase: '' });
  await once(c, 'secureConnect');
  assert.equal(c.authorized, true);
  assert.equal(c.getPeerCertificate(true).issuerCertificate.subject.CN, 'Test Intermediate CA');
  c.destroy();
  // Our client with a pfx ({ buf, passphrase } form) against the same server.
  const ours = connect({ ...base(port), pfx: [{ buf: clientPfx, passphrase: '' }] });
  await once(ours, 'secureConnect');
  ours.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen, [true, 'wasm-tls client']);
  for (const options of [{ pfx: serverPfx, passphrase: 'wrong' }, { pfx: serverPfx }, { pfx: Buffer.from('junk') }]) {
    const theirs = contextOutcome(ntls.createSecureContext, options).replace(/^undefined: /, '');
    const mine = contextOutcome(createSecureContext, options).replace(/^[A-Z_0-9]+: /, '');
    assert.equal(mine, theirs);
  }
});

test('DER key material; NPN, PSK and DHE-only cipher lists refused with the reason', async (t) => {
  const der = (args) => execFileSync('openssl', args, { cwd: certs.dir });
  const certDer = der(['x509', '-in', 'client.crt', '-outform', 'DER']);
  const keyDer = der(['pkcs8', '-topk8', '-nocrypt', '-in', 'client.key', '-outform', 'DER']);
  const caDer = der(['x509', '-in', 'ca.crt', '-outform', 'DER']);
  const srv = await nodeServer({ ...certs.ec, ca: certs.ca, requestCert: true, rejectUnauthorized: true });
  t.after(() => srv.close());
  const s = connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: caDer, key: keyDer, cert: certDer });
  await once(s, 'secureConnect');
  assert.equal(s.authorized, true);
  assert.equal((await srv.nextSocket()).authorized, true);
  s.destroy();
  assert.throws(() => connect({ port: 1, NPNProtocols: ['http/1.1'] }), (e) => e.code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' && /ALPN/.test(e.message));
  assert.throws(() => connect({ port: 1, pskCallback: () => null }), (e) => e.code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' && /pre-shared/.test(e.message));
  assert.throws(() => connect({ port: 1, ciphers: 'DHE-RSA-AES128-GCM-SHA256:AES128-SHA' }),
    (e) => e.code === 'ERR_SSL_NO_CIPHER_MATCH' && /no DHE, CBC/.test(e.message));
  assert.throws(() => createSecureContext({ ca: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]) }), { code: 'ERR_OSSL_PEM_NO_START_LINE' });
});
