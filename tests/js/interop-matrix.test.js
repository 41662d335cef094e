// The interop matrix against OpenSSL 3's CLI, both ways: a wasm-tls client
// against `openssl s_server`, and `openssl s_client` against a wasm-tls server.
// Cells: every suite tls.getCiphers() lists, every key-exchange group, server
// certificates of every key type (with PKCS#1 and PSS RSA signatures), client
// certificates of every key type, resumption by session id, TLS 1.2 ticket and
// TLS 1.3 ticket. Each cell checks the protocol, the suite's OpenSSL name, the
// group (getEphemeralKeyInfo and s_client's "Server Temp Key"), the verdict on
// the peer, and an exchanged payload byte for byte, from both ends' accounts.
// What rustls cannot do is a cell too, and asserts its error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import ntls from 'node:tls';
import tls from 'wasm-tls';
import { KEY_TYPES, matrix } from './helpers/matrix-certs.js';
import { bytes, opensslServer, tlsServer } from './helpers/peers.js';

const P = matrix.path;
const VERSION_FLAG = { 'TLSv1.2': '-tls1_2', 'TLSv1.3': '-tls1_3' };

/** Each group as Node's getEphemeralKeyInfo() and s_client's "Server Temp Key" describe it. */
const GROUPS = {
  X25519: { info: { type: 'ECDH', name: 'X25519', size: 253 }, temp: 'X25519, 253 bits' },
  'P-256': { info: { type: 'ECDH', name: 'prime256v1', size: 256 }, temp: 'ECDH, prime256v1, 256 bits' },
  'P-384': { info: { type: 'ECDH', name: 'secp384r1', size: 384 }, temp: 'ECDH, secp384r1, 384 bits' },
};

/** How s_client names the server's signature (key type, its default scheme here). */
const SIGNATURE = {
  p256: ['ECDSA', 'SHA256'],
  p384: ['ECDSA', 'SHA384'],
  ed25519: ['ed25519', null],
  rsa: ['RSA-PSS', 'SHA512'], // rustls prefers PSS with SHA-512 when the client allows it
};

/** A printable line (s_server -rev reverses lines), different for each cell. */
let seed = 1;
function payloadLine() {
  const raw = bytes(3000, seed++);
  return Buffer.from(raw.map((b) => 0x21 + (b % 94)));
}

/** Suite names as OpenSSL and Node spell them, from tls.getCiphers()'s lower case. */
const opensslName = (lower) => lower.toUpperCase();
const suiteVersion = (name) => (name.startsWith('TLS_') ? 'TLSv1.3' : 'TLSv1.2');
const suiteFlag = (name) => (suiteVersion(name) === 'TLSv1.3' ? '-ciphersuites' : '-cipher');

/**
 * One cell: { version, suite?, group?, serverKey, clientKey?, sigalgs?, expect: { suite, group, sig? } }.
 * `sigalgs` (OpenSSL syntax) pins the server's signature scheme.
 */
function cellName(c) {
  return [c.version, c.suite ?? '', c.group ? `group ${c.group}` : '', `server ${c.serverKey}`,
    c.clientKey ? `client ${c.clientKey}` : '', c.sigalgs ? `sigalgs ${c.sigalgs}` : ''].filter(Boolean).join(', ');
}

const CELLS = [];
// Suites: each one tls.getCiphers() lists, the certificate type its name asks for.
const SUITES = tls.getCiphers().map(opensslName);
for (const suite of SUITES) {
  const version = suiteVersion(suite);
  CELLS.push({ version, suite, serverKey: /-RSA-/.test(suite) ? 'rsa' : 'p256', expect: { suite, group: 'X25519' } });
}
// Groups, in both versions (TLS 1.3 with P-256/P-384 goes through a HelloRetryRequest
// from s_server). In TLS 1.2 the client's groups also bound the curve of an ECDSA
// certificate (OpenSSL: "wrong curve"), so those cells use the RSA one.
for (const group of Object.keys(GROUPS)) {
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    const tls13 = version === 'TLSv1.3';
    const suite = tls13 ? 'TLS_AES_256_GCM_SHA384' : 'ECDHE-RSA-AES256-GCM-SHA384';
    CELLS.push({ version, group, serverKey: tls13 ? 'p256' : 'rsa', expect: { suite, group } });
  }
}
// Server certificates of each key type, RSA with each signature scheme family.
for (const version of ['TLSv1.2', 'TLSv1.3']) {
  const tls13 = version === 'TLSv1.3';
  for (const serverKey of ['p384', 'ed25519', 'rsa']) {
    const suite = tls13 ? 'TLS_AES_256_GCM_SHA384' : serverKey === 'rsa' ? 'ECDHE-RSA-AES256-GCM-SHA384' : 'ECDHE-ECDSA-AES256-GCM-SHA384';
    CELLS.push({ version, serverKey, expect: { suite, group: 'X25519', sig: SIGNATURE[serverKey] } });
  }
  const suite = tls13 ? 'TLS_AES_256_GCM_SHA384' : 'ECDHE-RSA-AES256-GCM-SHA384';
  CELLS.push({ version, serverKey: 'rsa', sigalgs: 'RSA-PSS+SHA256', expect: { suite, group: 'X25519', sig: ['RSA-PSS', 'SHA256'] } });
  if (!tls13) {
    // PKCS#1 v1.5 exists in TLS 1.2 only.
    CELLS.push({ version, serverKey: 'rsa', sigalgs: 'RSA+SHA256', expect: { suite, group: 'X25519', sig: ['RSA', 'SHA256'] } });
    CELLS.push({ version, serverKey: 'rsa', sigalgs: 'RSA+SHA384', expect: { suite, group: 'X25519', sig: ['RSA', 'SHA384'] } });
  }
}
// Client certificates of each key type rustls can sign with.
for (const version of ['TLSv1.2', 'TLSv1.3']) {
  const suite = version === 'TLSv1.3' ? 'TLS_AES_256_GCM_SHA384' : 'ECDHE-ECDSA-AES256-GCM-SHA384';
  for (const clientKey of KEY_TYPES.filter((k) => k !== 'rsaPss')) {
    CELLS.push({ version, serverKey: 'p256', clientKey, expect: { suite, group: 'X25519' } });
  }
}

// --- wasm-tls client against openssl s_server ---------------------------------

/** Collects `n` bytes of 'data'. */
function collect(socket, n) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let got = 0;
    socket.on('data', (c) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) resolve(Buffer.concat(chunks));
    });
    socket.once('error', reject);
  });
}

async function waitFor(srv, re) {
  for (let i = 0; i < 500 && !re.test(srv.output()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(srv.output(), re);
}

function serverArgs(c) {
  const args = ['-cert', P(`server-${c.serverKey}.crt`), '-key', P(`server-${c.serverKey}.key`), VERSION_FLAG[c.version]];
  if (c.suite) args.push(suiteFlag(c.suite), c.suite);
  if (c.group) args.push('-groups', c.group);
  if (c.sigalgs) args.push('-sigalgs', c.sigalgs);
  if (c.clientKey) args.push('-Verify', '1', '-CAfile', P('root.crt'), '-verify_return_error');
  return args;
}

for (const c of CELLS) {
  test(`wasm-tls client -> s_server: ${cellName(c)}`, async (t) => {
    const srv = await opensslServer([...serverArgs(c), '-rev']);
    t.after(() => srv.close());
    const options = {
      host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: matrix.root,
      ...(c.clientKey ? matrix.client[c.clientKey] : {}),
    };
    const client = tls.connect(options);
    await once(client, 'secureConnect');
    assert.equal(client.getProtocol(), c.version);
    const cipher = client.getCipher();
    assert.equal(cipher.name, c.expect.suite);
    assert.equal(cipher.version, c.version);
    assert.deepEqual(client.getEphemeralKeyInfo(), GROUPS[c.expect.group].info);
    assert.equal(client.authorized, true);
    assert.equal(client.authorizationError, null);
    assert.equal(client.getPeerCertificate().subject.CN, 'localhost');

    const line = payloadLine();
    const back = collect(client, line.length + 1);
    client.write(Buffer.concat([line, Buffer.from('\n')]));
    assert.ok((await back).equals(Buffer.concat([Buffer.from(line).reverse(), Buffer.from('\n')])));
    const closed = once(client, 'close');
    client.end();
    await closed;

    // s_server's account of the same connection.
    await waitFor(srv, /CONNECTION CLOSED/);
    const out = srv.output();
    assert.equal(/Protocol version: (\S+)/.exec(out)?.[1], c.version);
    assert.equal(/Ciphersuite: (\S+)/.exec(out)?.[1], c.expect.suite);
    if (c.clientKey) {
      assert.match(out, new RegExp(`Peer certificate: CN = client ${c.clientKey}\\n`));
      assert.match(out, /Verification: OK/);
    } else {
      assert.match(out, /No peer certificate/);
    }
    assert.doesNotMatch(out, /error/i);

    // node:tls against the same s_server, held to the same suite (its own default
    // order differs), describes suite and group the same way.
    const oracle = ntls.connect({ ...options, ciphers: cipher.name });
    await once(oracle, 'secureConnect');
    assert.deepEqual([oracle.getProtocol(), oracle.getCipher(), oracle.getEphemeralKeyInfo(), oracle.authorized],
      [c.version, cipher, GROUPS[c.expect.group].info, true]);
    oracle.destroy();
  });
}

// --- openssl s_client against a wasm-tls server -------------------------------

/** Runs s_client with `input` on stdin; resolves to { code, out } once it exits. */
async function sClient(port, args, input) {
  const proc = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
    '-CAfile', P('root.crt'), '-verify_return_error', '-ign_eof', '-nocommands', ...args]);
  const chunks = [];
  proc.stdout.on('data', (d) => chunks.push(d));
  proc.stderr.on('data', (d) => chunks.push(d));
  proc.stdin.on('error', () => {}); // it may exit before reading everything
  proc.stdin.end(input);
  const [code] = await once(proc, 'exit');
  return { code, out: Buffer.concat(chunks) };
}

/** A wasm-tls server that answers the first line it gets with that line, then ends. */
async function echoLineServer(t, options) {
  const seen = [];
  const server = await tlsServer(t, tls, options, (s) => {
    const view = {
      protocol: s.getProtocol(), cipher: s.getCipher(), authorized: s.authorized,
      authorizationError: s.authorizationError ?? null, peer: s.getPeerCertificate().subject?.CN ?? null,
      keyInfo: s.getEphemeralKeyInfo(), reused: s.isSessionReused(), received: Buffer.alloc(0),
    };
    seen.push(view);
    s.on('data', (d) => {
      view.received = Buffer.concat([view.received, d]);
      if (view.received.includes(0x0a)) s.end(view.received);
    });
  });
  return { ...server, seen };
}

function clientArgs(c) {
  const args = [VERSION_FLAG[c.version]];
  if (c.suite) args.push(suiteFlag(c.suite), c.suite);
  if (c.group) args.push('-groups', c.group);
  if (c.sigalgs) args.push('-sigalgs', c.sigalgs);
  if (c.clientKey) args.push('-cert', P(`client-${c.clientKey}.crt`), '-key', P(`client-${c.clientKey}.key`));
  return args;
}

for (const c of CELLS) {
  test(`s_client -> wasm-tls server: ${cellName(c)}`, async (t) => {
    const server = await echoLineServer(t, {
      ...matrix.server[c.serverKey],
      ...(c.clientKey ? { requestCert: true, rejectUnauthorized: true, ca: matrix.root } : {}),
    });
    const line = Buffer.concat([payloadLine(), Buffer.from('\n')]);
    const { code, out } = await sClient(server.port, clientArgs(c), line);
    const text = out.toString('latin1');
    assert.equal(code, 0, text);
    assert.match(text, new RegExp(`New, ${c.version.replace('.', '\\.')}, Cipher is ${c.expect.suite}\\n`));
    assert.equal(/Server Temp Key: (.*)/.exec(text)?.[1], GROUPS[c.expect.group].temp);
    if (c.expect.sig) {
      assert.equal(/Peer signature type: (\S+)/.exec(text)?.[1], c.expect.sig[0]);
      assert.equal(/Peer signing digest: (\S+)/.exec(text)?.[1], c.expect.sig[1] ?? undefined);
    }
    assert.match(text, /Verify return code: 0 \(ok\)/);
    assert.ok(out.includes(line), 'the payload came back');

    // The server's account.
    assert.equal(server.seen.length, 1);
    const [view] = server.seen;
    assert.equal(view.protocol, c.version);
    assert.equal(view.cipher.name, c.expect.suite);
    assert.equal(view.keyInfo, null); // as node:tls: server sockets do not say
    assert.equal(view.authorized, Boolean(c.clientKey));
    assert.equal(view.peer, c.clientKey ? `client ${c.clientKey}` : null);
    assert.ok(view.received.equals(line));
    assert.deepEqual(server.clientErrors, []);
  });
}

// --- Resumption ------------------------------------------------------------------
// [label, version, s_server/s_client flags, client key]
const RESUME = [
  ['TLS 1.2 session id', 'TLSv1.2', ['-no_ticket'], null],
  ['TLS 1.2 ticket', 'TLSv1.2', [], null],
  ['TLS 1.3 ticket', 'TLSv1.3', [], null],
  ['TLS 1.2 session id, client certificate', 'TLSv1.2', ['-no_ticket'], 'p256'],
  ['TLS 1.3 ticket, client certificate', 'TLSv1.3', [], 'ed25519'],
];

for (const [label, version, flags, clientKey] of RESUME) {
  test(`resumption, wasm-tls client -> s_server -www: ${label}`, async (t) => {
    const auth = clientKey ? ['-Verify', '1', '-CAfile', P('root.crt'), '-verify_return_error'] : [];
    const srv = await opensslServer(['-cert', P('server-p256.crt'), '-key', P('server-p256.key'), VERSION_FLAG[version], '-www', ...flags, ...auth]);
    t.after(() => srv.close());
    // s_server -www answers a GET with its own account of the session: "New," or "Reused,".
    const visit = async (session) => {
      const client = tls.connect({
        host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: matrix.root, session,
        ...(clientKey ? matrix.client[clientKey] : {}),
      });
      let latest;
      client.on('session', (s) => { latest = s; });
      const chunks = [];
      client.on('data', (d) => chunks.push(d));
      await once(client, 'secureConnect');
      assert.equal(client.authorized, true);
      const protocol = client.getProtocol();
      const reused = client.isSessionReused();
      client.write('GET / HTTP/1.0\r\n\r\n');
      await once(client, 'end');
      const page = Buffer.concat(chunks).toString();
      const result = { reused, protocol, page, session: latest };
      client.destroy();
      return result;
    };
    const first = await visit();
    assert.equal(first.reused, false);
    assert.equal(first.protocol, version);
    assert.match(first.page, new RegExp(`\\nNew, ${version.replace('.', '\\.')}, Cipher is `));
    assert.ok(first.session, 'a session from s_server');
    const second = await visit(first.session);
    assert.equal(second.reused, true);
    assert.match(second.page, new RegExp(`\\nReused, ${version.replace('.', '\\.')}, Cipher is `));
    // With -no_ticket the session was found in s_server's cache; with tickets it keeps none.
    const cached = Number(/(\d+) items in the session cache/.exec(second.page)?.[1]);
    assert.equal(cached > 0, flags.includes('-no_ticket'), `${cached} cached sessions`);
    if (clientKey) assert.match(second.page, new RegExp(`Client certificate|CN ?= ?client ${clientKey}`));
  });

  test(`resumption, s_client -sess_out/-sess_in -> wasm-tls server: ${label}`, async (t) => {
    const server = await echoLineServer(t, {
      ...matrix.server.p256,
      ...(clientKey ? { requestCert: true, rejectUnauthorized: true, ca: matrix.root } : {}),
    });
    const sess = P(`sess-${label.replace(/\W+/g, '-')}.pem`);
    const args = [VERSION_FLAG[version], ...flags,
      ...(clientKey ? ['-cert', P(`client-${clientKey}.crt`), '-key', P(`client-${clientKey}.key`)] : [])];
    const line = Buffer.from('resume me\n');
    const first = await sClient(server.port, [...args, '-sess_out', sess], line);
    assert.equal(first.code, 0, first.out.toString());
    assert.match(first.out.toString(), new RegExp(`^New, ${version.replace('.', '\\.')}, `, 'm'));
    const second = await sClient(server.port, [...args, '-sess_in', sess], line);
    assert.equal(second.code, 0, second.out.toString());
    assert.match(second.out.toString(), new RegExp(`^Reused, ${version.replace('.', '\\.')}, `, 'm'));
    assert.ok(second.out.includes(line));
    assert.deepEqual(server.seen.map((v) => [v.reused, v.protocol, v.authorized, v.received.toString()]),
      [[false, version, Boolean(clientKey), 'resume me\n'], [true, version, Boolean(clientKey), 'resume me\n']]);
    // Without tickets the session is found by its id; with them s_client kept one.
    const ticketed = /TLS session ticket:/.test(first.out.toString());
    assert.equal(ticketed, !flags.includes('-no_ticket'));
  });
}

// --- What rustls (with ring) cannot do: each a clear error -------------------------

test('X25519MLKEM768 and other groups rustls lacks: ecdhCurve refused as by node:tls', () => {
  // rustls' ring provider offers X25519, P-256 and P-384 only (ML-KEM needs aws-lc-rs);
  // Node 20's OpenSSL 3.0 has no ML-KEM either.
  for (const ecdhCurve of ['X25519MLKEM768', 'X448', 'P-521']) {
    assert.throws(() => tls.createSecureContext({ ecdhCurve }), { code: 'ERR_CRYPTO_OPERATION_FAILED', message: 'Failed to set ECDH curve' }, ecdhCurve);
  }
  assert.throws(() => ntls.createSecureContext({ ecdhCurve: 'X25519MLKEM768' }), { code: 'ERR_CRYPTO_OPERATION_FAILED' });
});

test('a group we lack: s_server -groups X448 and s_client -groups X448 end in handshake failures', async (t) => {
  const srv = await opensslServer(['-cert', P('server-p256.crt'), '-key', P('server-p256.key'), '-groups', 'X448', '-rev']);
  t.after(() => srv.close());
  const client = tls.connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: matrix.root });
  const [err] = await once(client, 'error');
  assert.equal(err.code, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  await waitFor(srv, /no suitable key share/);

  const server = await echoLineServer(t, matrix.server.p256);
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    const { code, out } = await sClient(server.port, [VERSION_FLAG[version], '-groups', 'X448'], 'x\n');
    assert.notEqual(code, 0);
    assert.match(out.toString(), /alert handshake failure/);
  }
  // rustls reports no common group alike in both versions; OpenSSL says "no shared
  // cipher" in TLS 1.2 (its ECDHE suites drop out) and "no suitable key share" in 1.3.
  // (A node:tls server completes both: OpenSSL has X448.)
  assert.deepEqual(server.clientErrors.map((e) => e.code), ['ERR_SSL_NO_SUITABLE_KEY_SHARE', 'ERR_SSL_NO_SUITABLE_KEY_SHARE']);
  assert.equal(server.seen.length, 0);
});

test('an RSA-PSS key (id-RSASSA-PSS): refused as our key, and a server using one fails the handshake', async (t) => {
  // ring signs and verifies RSA-PSS with rsaEncryption keys only; the
  // rsa_pss_pss_* schemes an RSASSA-PSS key needs are not offered.
  for (const material of [matrix.server.rsaPss, matrix.client.rsaPss]) {
    assert.throws(() => tls.createSecureContext(material), { code: 'ERR_OSSL_UNSUPPORTED', message: /RSASSA-PSS key.*openssl genpkey -algorithm RSA/ });
    assert.throws(() => tls.createServer(material), { code: 'ERR_OSSL_UNSUPPORTED' });
    assert.throws(() => tls.connect({ host: '127.0.0.1', port: 9, ...material }), { code: 'ERR_OSSL_UNSUPPORTED' });
    assert.doesNotThrow(() => ntls.createSecureContext(material));
  }
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    const srv = await opensslServer(['-cert', P('server-rsaPss.crt'), '-key', P('server-rsaPss.key'), VERSION_FLAG[version], '-rev']);
    t.after(() => srv.close());
    const client = tls.connect({ host: '127.0.0.1', port: srv.port, servername: 'localhost', ca: matrix.root });
    const [err] = await once(client, 'error');
    assert.equal(err.code, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', version);
    await waitFor(srv, /no suitable signature algorithm|no shared cipher/);
  }
  // s_client with an RSA-PSS client certificate finds no scheme our server takes:
  // it sends none, and a server requiring one refuses as node:tls does.
  const server = await echoLineServer(t, { ...matrix.server.p256, requestCert: true, rejectUnauthorized: true, ca: matrix.root });
  const { code } = await sClient(server.port, ['-tls1_3', '-cert', P('client-rsaPss.crt'), '-key', P('client-rsaPss.key')], 'x\n');
  assert.notEqual(code, 0);
  assert.deepEqual(server.clientErrors.map((e) => e.code), ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE']);
});

test('the suites under test are the ones rustls offers here', () => {
  assert.deepEqual([...SUITES].sort(), [
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305',
    'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  ]);
});

test('data and close that come with the server\'s last flight follow code awaiting secureConnect, as in node:tls', async (t) => {
  // A TLS 1.2 server that writes and ends at once sends data and close_notify
  // right behind its Finished: one read for the client.
  const server = await tlsServer(t, ntls, matrix.server.p256, (s) => s.end('right away'));
  for (const version of ['TLSv1.2', 'TLSv1.3']) {
    const orders = {};
    for (const [name, lib] of [['node', ntls], ['wasm', tls]]) {
      const socket = lib.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: matrix.root, maxVersion: version });
      const order = [];
      socket.on('data', (d) => order.push(`data ${d}`));
      for (const event of ['secureConnect', 'end', 'close']) socket.on(event, () => order.push(event));
      await once(socket, 'secureConnect');
      order.push('awaited secureConnect');
      await once(socket, 'end'); // hangs if 'end' came before this line ran
      await once(socket, 'close');
      orders[name] = order;
    }
    assert.deepEqual(orders.wasm, orders.node, version);
    assert.deepEqual(orders.wasm, ['secureConnect', 'awaited secureConnect', 'data right away', 'end', 'close'], version);
  }
});
