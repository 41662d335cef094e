// wasm-tls client against wasm-tls server over 127.0.0.1: the scenarios the
// node:tls interop suites check, with both ends ours. Where Node's behaviour
// is the answer (event order, how a rejected handshake ends on each side), a
// node:tls client against a node:tls server running the same script is the
// oracle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import ntls from 'node:tls';
import tls from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, readAll, sha256, tlsServer as listen } from './helpers/peers.js';

const WASM = { name: 'wasm-tls', lib: tls };
const NODE = { name: 'node:tls', lib: ntls };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Client options for `port`, trusting the test CA, SNI localhost. */
const base = (port, extra = {}) => ({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, ...extra });

/** Resolves when `emitter` emits `event`, or after `ms` (then with 'timeout'). */
function onceOrTimeout(emitter, event, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve(event);
    });
  });
}

/** Records named events (and error codes, data as text) on an emitter into `log`. */
function record(emitter, log, names) {
  for (const name of names) {
    emitter.on(name, (arg) => {
      if (name === 'error') log.push(`error:${arg?.code}`);
      else if (name === 'data') log.push(`data:${arg}`);
      else log.push(name);
    });
  }
  return log;
}

const CLIENT_EVENTS = ['connect', 'secureConnect', 'data', 'end', 'finish', 'close', 'error'];
const SERVER_SOCKET_EVENTS = ['data', 'end', 'finish', 'close', 'error'];

/**
 * One connection between a `pair.lib` client and a `pair.lib` server; the
 * server says "ok" and ends on 'secureConnection'. Returns everything each side
 * saw: client events (with error codes), what the server's sockets saw
 * (authorized, authorizationError, peer CN, events), tlsClientError codes.
 */
async function pairOutcome(t, pair, serverOptions, clientOptions) {
  const serverSide = [];
  const srv = await listen(t, pair.lib, serverOptions, (s) => {
    const view = {
      authorized: s.authorized,
      authorizationError: s.authorizationError,
      cn: s.getPeerCertificate()?.subject?.CN ?? null,
      events: ['secureConnection'],
    };
    serverSide.push(view);
    record(s, view.events, SERVER_SOCKET_EVENTS);
    s.end('ok');
  });
  const c = pair.lib.connect(base(srv.port, clientOptions));
  const client = { events: record(c, [], CLIENT_EVENTS) };
  c.on('secureConnect', () => {
    client.authorized = c.authorized;
    client.authorizationError = c.authorizationError;
  });
  assert.equal(await onceOrTimeout(c, 'close', 3000), 'close', `${pair.name}: client never closed`);
  await sleep(100); // the server's side of the ending
  return { client, server: { sockets: serverSide, tlsClientErrors: srv.clientErrors.map((e) => e.code) } };
}

/**
 * Compares each side of our outcome with the node:tls pair's as a subtest,
 * so a known divergence on one side (`todo[side]`) leaves the other asserted.
 */
async function sameAs(t, ours, theirs, todo = {}) {
  for (const side of Object.keys(theirs)) {
    await t.test(`${side} side as a node:tls pair`, todo[side] ? { todo: todo[side] } : {}, () => {
      assert.deepEqual(ours[side], theirs[side]);
    });
  }
}

// --- suites -----------------------------------------------------------------

const SUITES = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', certs.ec],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', certs.ec],
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', certs.ec],
  ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256', certs.ec],
  ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384', certs.ec],
  ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305', certs.ec],
  ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', certs.rsa],
  ['TLSv1.2', 'ECDHE-RSA-AES256-GCM-SHA384', certs.rsa],
  ['TLSv1.2', 'ECDHE-RSA-CHACHA20-POLY1305', certs.rsa],
];

test('every suite, chosen by the server: same protocol and cipher on both ends', async (t) => {
  for (const [version, suite, material] of SUITES) {
    const { port, secured } = await listen(t, tls, { ...material, ciphers: suite, minVersion: version, maxVersion: version });
    const c = tls.connect(base(port));
    await once(c, 'secureConnect');
    c.write(`ping ${suite}`);
    const [echo] = await once(c, 'data');
    assert.equal(echo.toString(), `ping ${suite}`);
    const s = secured[0];
    assert.equal(c.authorized, true, suite);
    assert.equal(c.getProtocol(), version, suite);
    assert.equal(s.getProtocol(), version, suite);
    assert.equal(c.getCipher().name, suite);
    assert.deepEqual(c.getCipher(), s.getCipher(), suite);
    assert.equal(s.servername, 'localhost');
    c.end();
    await once(c, 'close');
  }
});

// --- data -------------------------------------------------------------------

test('1 MiB each way, byte for byte (SHA-256)', async (t) => {
  const upload = bytes(1 << 20, 7);
  const download = bytes(1 << 20, 9);
  let received;
  const { port } = await listen(t, tls, certs.ec, (s) => {
    const chunks = [];
    let n = 0;
    s.on('data', (d) => {
      chunks.push(d);
      n += d.length;
      if (n === upload.length) {
        received = Buffer.concat(chunks);
        s.end(download);
      }
    });
  });
  const c = tls.connect(base(port));
  await once(c, 'secureConnect');
  const closed = once(c, 'close');
  c.write(upload);
  const got = await readAll(c);
  assert.equal(got.length, download.length);
  assert.equal(sha256(got), sha256(download));
  assert.equal(sha256(received), sha256(upload));
  await closed;
});

test('50 concurrent clients each echo 64 KiB intact', async (t) => {
  const { port } = await listen(t, tls, certs.ec);
  const one = async (i) => {
    const payload = bytes(64 * 1024, i + 1);
    const c = tls.connect(base(port));
    await once(c, 'secureConnect');
    const chunks = [];
    let n = 0;
    const done = new Promise((resolve, reject) => {
      c.on('error', reject);
      c.on('data', (d) => {
        chunks.push(d);
        n += d.length;
        if (n >= payload.length) resolve();
      });
    });
    c.write(payload);
    await done;
    c.end();
    await once(c, 'close');
    return n === payload.length && sha256(Buffer.concat(chunks)) === sha256(payload);
  };
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => one(i)));
  assert.equal(results.filter(Boolean).length, 50);
});

test('backpressure: a server that pauses reading makes write() return false, then drain', async (t) => {
  let total = 0;
  const { port } = await listen(t, tls, certs.ec, (s) => {
    s.pause();
    setTimeout(() => s.resume(), 200);
    s.on('data', (d) => { total += d.length; });
  });
  const c = tls.connect(base(port));
  await once(c, 'secureConnect');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let writes = 0;
  while (c.write(chunk)) writes++;
  assert.ok(writes < 1000, 'write() never pushed back');
  assert.equal(c.writableNeedDrain, true);
  await once(c, 'drain');
  c.end();
  await once(c, 'finish');
  for (let i = 0; i < 50 && total < (writes + 1) * chunk.length; i++) await sleep(20);
  assert.equal(total, (writes + 1) * chunk.length);
});

test('backpressure the other way: a client that pauses makes the server\'s write() return false, then drain', async (t) => {
  let serverWrites = 0;
  let drained;
  const chunk = Buffer.alloc(64 * 1024, 2);
  const { port } = await listen(t, tls, certs.ec, (s) => {
    while (s.write(chunk)) serverWrites++;
    drained = once(s, 'drain').then(() => s.end());
  });
  const c = tls.connect(base(port));
  c.pause();
  await once(c, 'secureConnect');
  await sleep(200);
  assert.ok(serverWrites < 1000, 'write() never pushed back');
  let total = 0;
  c.on('data', (d) => { total += d.length; });
  c.resume();
  await drained;
  await once(c, 'end');
  assert.equal(total, (serverWrites + 1) * chunk.length);
});

// --- ALPN -------------------------------------------------------------------

test('ALPN: server preference, none from the client, no overlap is an alert on both ends', async (t) => {
  for (const pair of [WASM, NODE]) {
    const { port, secured } = await listen(t, pair.lib, { ...certs.ec, ALPNProtocols: ['h2', 'http/1.1'] });
    const a = pair.lib.connect(base(port, { ALPNProtocols: ['http/1.1', 'h2'] })).resume();
    await once(a, 'secureConnect');
    assert.equal(a.alpnProtocol, 'h2', pair.name);
    a.end('x');
    await once(a, 'close');
    assert.equal(secured[0].alpnProtocol, 'h2', pair.name);
    const b = pair.lib.connect(base(port)).resume();
    await once(b, 'secureConnect');
    assert.equal(b.alpnProtocol, false, pair.name);
    b.end('x');
    await once(b, 'close');
    assert.equal(secured[1].alpnProtocol, false, pair.name);
  }
  const outcomes = [];
  for (const pair of [WASM, NODE]) {
    outcomes.push(await pairOutcome(t, pair, { ...certs.ec, ALPNProtocols: ['h2', 'http/1.1'] }, { ALPNProtocols: ['imap'] }));
  }
  assert.deepEqual(outcomes[0], outcomes[1]);
  assert.deepEqual(outcomes[0].client.events, ['connect', 'error:ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL', 'close']);
  assert.deepEqual(outcomes[0].server.sockets, []);
  assert.equal(outcomes[0].server.tlsClientErrors.length, 1);
});

test('ALPNCallback: its choice on both ends; undefined is the no-overlap alert', async (t) => {
  const calls = [];
  const { port, secured, clientErrors } = await listen(t, tls, {
    ...certs.ec,
    ALPNCallback({ servername, protocols }) {
      calls.push([servername, protocols]);
      return protocols.includes('b') ? 'b' : undefined;
    },
  });
  const c = tls.connect(base(port, { ALPNProtocols: ['a', 'b'] })).resume();
  await once(c, 'secureConnect');
  assert.equal(c.alpnProtocol, 'b');
  c.end('x');
  await once(c, 'close');
  assert.equal(secured[0].alpnProtocol, 'b');
  const d = tls.connect(base(port, { ALPNProtocols: ['a'] }));
  const [err] = await once(d, 'error');
  assert.equal(err.code, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
  await sleep(50);
  assert.equal(clientErrors.length, 1);
  assert.deepEqual(calls, [['localhost', ['a', 'b']], ['localhost', ['a']]]);
});

// --- SNI --------------------------------------------------------------------

test('SNI: servername on the server socket, addContext wildcard, async SNICallback', async (t) => {
  const { server, port, secured } = await listen(t, tls, { ...certs.ec });
  server.addContext('*.other.example', certs.other);
  const peer = async (p, servername) => {
    const c = tls.connect({ host: '127.0.0.1', port: p, servername, ca: certs.ca }).resume();
    await once(c, 'secureConnect');
    const seen = { authorized: c.authorized, cn: c.getPeerCertificate().subject.CN, servername: c.servername };
    c.end('x');
    await once(c, 'close');
    return seen;
  };
  assert.deepEqual(await peer(port, 'a.other.example'), { authorized: true, cn: 'other.example', servername: 'a.other.example' });
  assert.equal(secured[0].servername, 'a.other.example');
  assert.deepEqual(await peer(port, 'localhost'), { authorized: true, cn: 'localhost', servername: 'localhost' });
  assert.equal(secured[1].servername, 'localhost');

  const seen = [];
  const otherContext = tls.createSecureContext(certs.other);
  const async = await listen(t, tls, {
    ...certs.ec,
    SNICallback(name, cb) {
      seen.push(name);
      setTimeout(() => cb(null, name === 'other.example' ? otherContext : undefined), 20);
    },
  });
  assert.deepEqual(await peer(async.port, 'other.example'), { authorized: true, cn: 'other.example', servername: 'other.example' });
  assert.deepEqual(await peer(async.port, 'localhost'), { authorized: true, cn: 'localhost', servername: 'localhost' });
  assert.deepEqual(seen, ['other.example', 'localhost']);
  assert.deepEqual(async.secured.map((s) => s.servername), ['other.example', 'localhost']);
});

// --- client certificates -----------------------------------------------------

const CLIENT_CERT_CASES = {
  accepted: { key: certs.client.key, cert: certs.client.cert },
  missing: {},
  untrusted: { key: certs.self.key, cert: certs.self.cert },
};

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, clientOptions] of Object.entries(CLIENT_CERT_CASES)) {
    test(`${version} client certificate ${name} (requestCert + rejectUnauthorized): outcome as a node:tls pair`, async (t) => {
      const serverOptions = { ...certs.ec, ca: certs.ca, requestCert: true, rejectUnauthorized: true, minVersion: version, maxVersion: version };
      const ours = await pairOutcome(t, WASM, serverOptions, clientOptions);
      const theirs = await pairOutcome(t, NODE, serverOptions, clientOptions);
      if (name === 'accepted') {
        assert.deepEqual(ours.server.sockets, [{
          authorized: true, authorizationError: null, cn: 'wasm-tls client',
          events: ['secureConnection', 'finish', 'end', 'close'],
        }]);
        assert.equal(ours.client.authorized, true);
        assert.deepEqual(ours.client.events, ['connect', 'secureConnect', 'data:ok', 'end', 'finish', 'close']);
      } else {
        assert.deepEqual(ours.server.sockets, [], 'a rejected client is never a secureConnection');
        assert.equal(ours.server.tlsClientErrors.length, 1);
        assert.equal(ours.client.events.filter((e) => e.startsWith('error:')).length, version === 'TLSv1.3' && name === 'untrusted' ? 0 : 1);
      }
      await sameAs(t, ours, theirs);
    });
  }
}

test('requestCert without rejectUnauthorized: verdicts kept, connections kept, as a node:tls pair', async (t) => {
  const verdicts = {};
  for (const pair of [WASM, NODE]) {
    const { port, secured } = await listen(t, pair.lib, { ...certs.ec, ca: certs.ca, requestCert: true, rejectUnauthorized: false }, (s) => s.end('ok'));
    verdicts[pair.name] = [];
    for (const clientOptions of Object.values(CLIENT_CERT_CASES)) {
      const c = pair.lib.connect(base(port, clientOptions));
      const got = await readAll(c);
      assert.equal(got.toString(), 'ok');
      const s = secured.at(-1);
      verdicts[pair.name].push([s.authorized, s.authorizationError, s.getPeerCertificate()?.subject?.CN ?? null]);
    }
  }
  assert.deepEqual(verdicts['wasm-tls'][0], [true, null, 'wasm-tls client']);
  assert.deepEqual(verdicts['wasm-tls'], verdicts['node:tls']);
});

// --- verification failures on the client ------------------------------------

const VERIFY_CASES = [
  ['self-signed server', certs.self, {}, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  ['wrong host', certs.ec, { servername: 'wrong.example' }, 'ERR_TLS_CERT_ALTNAME_INVALID'],
];

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, material, clientOptions, code] of VERIFY_CASES) {
    test(`${version} client verification failure, ${name}: ${code}, outcome as a node:tls pair`, async (t) => {
      const serverOptions = { ...material, minVersion: version, maxVersion: version };
      const ours = await pairOutcome(t, WASM, serverOptions, clientOptions);
      const theirs = await pairOutcome(t, NODE, serverOptions, clientOptions);
      assert.deepEqual(ours.client.events, ['connect', `error:${code}`, 'close']);
      await sameAs(t, ours, theirs);
    });
  }
}

test('rejectUnauthorized: false keeps the connection and the verdict', async (t) => {
  const { port } = await listen(t, tls, certs.self);
  const c = tls.connect(base(port, { rejectUnauthorized: false })).resume();
  await once(c, 'secureConnect');
  assert.equal(c.authorized, false);
  assert.equal(c.authorizationError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  c.end('x');
  await once(c, 'close');
});

// --- keylog and exported keying material -------------------------------------

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: keylog lines and exportKeyingMaterial equal on both ends`, async (t) => {
    const { port, keylog, secured } = await listen(t, tls, { ...certs.ec, minVersion: version, maxVersion: version });
    const c = tls.connect(base(port));
    const ours = [];
    c.on('keylog', (line) => {
      assert.ok(Buffer.isBuffer(line));
      ours.push(line.toString('latin1'));
    });
    await once(c, 'secureConnect');
    c.write('x'); // the server has finished by the time the echo comes back
    await once(c, 'data');
    const s = secured[0];
    assert.ok(keylog.every(([, socket]) => socket === s), 'keylog carries the server socket');
    assert.deepEqual([...ours].sort(), keylog.map(([line]) => line).sort());
    assert.equal(ours.length, version === 'TLSv1.3' ? 5 : 1);
    for (const line of ours) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+\n$/);
    const label = 'EXPORTER-wasm-tls-test';
    const ctx = Buffer.from('context');
    assert.deepEqual(c.exportKeyingMaterial(32, label, ctx), s.exportKeyingMaterial(32, label, ctx));
    assert.deepEqual(c.exportKeyingMaterial(16, label), s.exportKeyingMaterial(16, label));
    assert.notDeepEqual(c.exportKeyingMaterial(16, label), c.exportKeyingMaterial(16, label, ctx));
    c.end();
    await once(c, 'close');
  });
}

// --- event order and half-close, against a node:tls pair ----------------------

/**
 * Scripts both pairs run identically: `server(s)` on 'secureConnection',
 * `client(c)` on 'secureConnect'; both ends' events are recorded.
 */
const SCRIPTS = {
  'server ends first': {
    server: (s) => s.end('bye'),
    client: () => {},
  },
  'client ends first': {
    server: (s) => s.on('data', () => {}),
    client: (c) => c.end('bye'),
  },
  'echo, then the client ends': {
    server: (s) => s.pipe(s),
    client: (c) => {
      c.write('ping');
      c.once('data', () => c.end());
    },
  },
  'destroy() from the client after data': {
    server: (s) => s.write('hello'),
    client: (c) => c.once('data', () => c.destroy()),
  },
  'destroy() from the server after data': {
    server: (s) => s.once('data', () => s.destroy()),
    client: (c) => c.write('hello'),
  },
  'half-close from the client: the server (allowHalfOpen) answers 20 ms after end': {
    serverOptions: { allowHalfOpen: true },
    server: (s) => {
      let got = '';
      s.on('data', (d) => { got += d; });
      s.on('end', () => setTimeout(() => s.end(`re:${got}`), 20));
    },
    client: (c) => c.end('request'),
  },
  'half-close from the server: the client (allowHalfOpen) answers 20 ms after end': {
    clientOptions: { allowHalfOpen: true },
    server: (s) => {
      s.on('data', () => {});
      s.end('request');
    },
    client: (c) => {
      let got = '';
      c.on('data', (d) => { got += d; });
      c.on('end', () => setTimeout(() => c.end(`re:${got}`), 20));
    },
  },
};

async function runScript(t, pair, script, version) {
  const serverEvents = [];
  const serverOptions = { ...certs.ec, minVersion: version, maxVersion: version, ...script.serverOptions };
  const { port } = await listen(t, pair.lib, serverOptions, (s) => {
    serverEvents.push('secureConnection');
    record(s, serverEvents, SERVER_SOCKET_EVENTS);
    script.server(s);
  });
  const c = pair.lib.connect(base(port, script.clientOptions));
  const clientEvents = record(c, [], CLIENT_EVENTS);
  c.once('secureConnect', () => script.client(c));
  assert.equal(await onceOrTimeout(c, 'close', 3000), 'close', `${pair.name}: client never closed`);
  for (let i = 0; i < 50 && !serverEvents.includes('close'); i++) await sleep(10);
  await sleep(20);
  return { client: clientEvents, server: serverEvents };
}

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, script] of Object.entries(SCRIPTS)) {
    test(`${version} event order, ${name}: both ends as a node:tls pair`, async (t) => {
      const ours = await runScript(t, WASM, script, version);
      const theirs = await runScript(t, NODE, script, version);
      assert.ok(ours.client.includes('secureConnect') && ours.server.includes('secureConnection'));
      await sameAs(t, ours, theirs, script.todo);
    });
  }
}

const halfPayload = bytes(100_000, 5);

test('half-close: after the client\'s end(), a server with allowHalfOpen still answers', async (t) => {
  const { port } = await listen(t, tls, { ...certs.ec, allowHalfOpen: true }, (s) => {
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => setTimeout(() => s.end(Buffer.concat(chunks).reverse()), 20));
  });
  const c = tls.connect(base(port));
  await once(c, 'secureConnect');
  c.end(halfPayload);
  const got = await readAll(c);
  assert.equal(sha256(got), sha256(Buffer.from(halfPayload).reverse()));
});

test('half-close: after the server\'s end(), a client with allowHalfOpen still answers', async (t) => {
  let answer;
  const { port } = await listen(t, tls, certs.ec, (s) => {
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    answer = once(s, 'end').then(() => Buffer.concat(chunks));
    s.end(halfPayload);
  });
  const c = tls.connect(base(port, { allowHalfOpen: true }));
  const fromServer = await readAll(c);
  assert.equal(sha256(fromServer), sha256(halfPayload));
  assert.equal(c.writable, true);
  await sleep(20);
  c.end(fromServer.subarray(0, 1000));
  const back = await Promise.race([answer, sleep(2000).then(() => 'timeout')]);
  assert.notEqual(back, 'timeout', 'the server never saw the client\'s end');
  assert.equal(sha256(back), sha256(halfPayload.subarray(0, 1000)));
});

test('half-close without allowHalfOpen: end() from either side still delivers everything written before it', async (t) => {
  const { port } = await listen(t, tls, certs.ec, (s) => {
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => s.end(Buffer.concat(chunks).reverse()));
  });
  const c = tls.connect(base(port));
  await once(c, 'secureConnect');
  c.end(halfPayload);
  const got = await readAll(c);
  assert.equal(sha256(got), sha256(Buffer.from(halfPayload).reverse()));

  const b = await listen(t, tls, certs.ec, (s) => s.end(halfPayload));
  const d = tls.connect(base(b.port));
  const closed = once(d, 'close');
  assert.equal(sha256(await readAll(d)), sha256(halfPayload));
  await closed;
});
