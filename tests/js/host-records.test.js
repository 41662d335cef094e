// Records handed to the host after the handshake (src/records.rs, js/record-jobs.js),
// against node:tls peers in both roles, with each AEAD the host may use:
// node:crypto (Node's default) and WebCrypto (browsers' and workerd's, which
// Node has too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import ntls from 'node:tls';
import tls from '../../js/entry/node.js';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, tlsServer } from './helpers/peers.js';
import { relay } from './helpers/hostile.js';

const SWITCH = Symbol.for('wasm-tls.hostRecords');

const sha = (b) => createHash('sha256').update(b).digest('hex');
const SUITES = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
];
const suiteOptions = ([version, suite]) => version === 'TLSv1.3'
  ? { minVersion: version, maxVersion: version, ciphersuites: suite }
  : { minVersion: version, maxVersion: version, ciphers: suite };

/** Writes `n` bytes to an echoing peer and reads them back. */
async function exchange(socket, n) {
  const sent = randomBytes(n);
  const chunks = [];
  let got = 0;
  const back = new Promise((resolve) => {
    const onData = (c) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(sent);
  await back;
  assert.deepEqual(Buffer.concat(chunks), sent);
}

/**
 * Writes `payload`, ends, and resolves with everything read until 'end', and
 * whether `watched` (a wasm-tls socket) had handed its records to the host by then.
 */
async function echo(socket, payload, watched = socket) {
  const chunks = [];
  let handedOver = false;
  socket.on('data', (c) => {
    chunks.push(c);
    handedOver ||= watched._engine?.hostRecords === true;
  });
  const ended = once(socket, 'end');
  socket.end(payload);
  await ended;
  return { received: Buffer.concat(chunks), handedOver };
}

// WebCrypto has no ChaCha20-Poly1305: those records stay with rustls there.
const CHACHA = [
  ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256'],
  ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
];
for (const [aead, choice, suites] of [['node:crypto', undefined, [...SUITES, ...CHACHA]], ['WebCrypto', 'webcrypto', SUITES]]) for (const suite of suites) {
  const use = (t) => {
    globalThis[SWITCH] = choice;
    t.after(() => { delete globalThis[SWITCH]; });
  };
  test(`wasm-tls client, host records (${aead}), ${suite[1]}: 4 MiB echoed by node:tls, exporter agrees`, async (t) => {
    use(t);
    const server = await nodeServer({ ...certs.ec, ...suiteOptions(suite) });
    t.after(() => server.close());
    const socket = tls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...suiteOptions(suite) });
    const closed = once(socket, 'close');
    await once(socket, 'secureConnect');
    const peer = await server.nextSocket();
    // Handed over once data flows (4 records either way, tickets included),
    // and by a TLS 1.3 client once it has the server's tickets.
    await exchange(socket, 100_000);
    assert.equal(socket._engine.hostRecords, true);
    // Answered from what rustls left, and the exporter from the kept secrets.
    const ours = socket.exportKeyingMaterial(48, 'EXPERIMENTAL-wasm-tls', Buffer.from('context'));
    assert.deepEqual(ours, peer.exportKeyingMaterial(48, 'EXPERIMENTAL-wasm-tls', Buffer.from('context')));
    assert.deepEqual(socket.exportKeyingMaterial(16, 'EXPERIMENTAL-none'), peer.exportKeyingMaterial(16, 'EXPERIMENTAL-none'));
    assert.equal(socket.getCipher().standardName, peer.getCipher().standardName);
    assert.equal(socket.getProtocol(), suite[0]);
    assert.equal(socket.getPeerCertificate().subject.CN, 'localhost');
    const payload = randomBytes(4 << 20);
    const { received } = await echo(socket, payload);
    assert.equal(received.length, payload.length);
    assert.equal(sha(received), sha(payload));
    await closed;
  });

  test(`wasm-tls server, host records (${aead}), ${suite[1]}: node:tls client's 4 MiB echoed, close_notify both ways`, async (t) => {
    use(t);
    const server = await tlsServer(t, tls, { ...certs.ec, ...suiteOptions(suite) });
    const client = ntls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...suiteOptions(suite) });
    const closed = once(client, 'close');
    await once(client, 'secureConnect');
    await exchange(client, 100);
    const [secured] = server.secured;
    assert.equal(secured._engine.hostRecords, false);
    await exchange(client, 100_000);
    assert.equal(secured._engine.hostRecords, true);
    assert.equal(secured.getProtocol(), suite[0]);
    assert.equal(secured.getCipher().standardName, client.getCipher().standardName);
    assert.deepEqual(
      secured.exportKeyingMaterial(32, 'EXPERIMENTAL-wasm-tls'),
      client.exportKeyingMaterial(32, 'EXPERIMENTAL-wasm-tls'),
    );
    const payload = randomBytes(4 << 20);
    const { received } = await echo(client, payload);
    assert.equal(received.length, payload.length);
    assert.equal(sha(received), sha(payload));
    await closed;
  });
}

for (const [aead, choice] of [['node:crypto', undefined], ['WebCrypto', 'webcrypto']]) {
  test(`host records (${aead}): data is never delivered inside write(), and echoes in order across the handover`, async (t) => {
    globalThis[SWITCH] = choice;
    t.after(() => { delete globalThis[SWITCH]; });
    const server = await nodeServer(certs.ec);
    t.after(() => server.close());
    const socket = tls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    await once(socket, 'secureConnect');
    // Small writes, each echoed while later ones are written: the handover
    // happens between them, in either direction, with records still arriving.
    let writing = false;
    let insideWrite = 0;
    const chunks = [];
    socket.on('data', (c) => {
      if (writing) insideWrite++;
      chunks.push(c);
    });
    const sent = [];
    for (let i = 0; i < 400; i++) {
      const chunk = randomBytes(1 + ((i * 7919) % 20_000));
      sent.push(chunk);
      writing = true;
      socket.write(chunk);
      writing = false;
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    const total = sent.reduce((n, c) => n + c.length, 0);
    while (chunks.reduce((n, c) => n + c.length, 0) < total) await once(socket, 'data');
    assert.equal(socket._engine.hostRecords, true);
    assert.equal(insideWrite, 0);
    assert.equal(sha(Buffer.concat(chunks)), sha(Buffer.concat(sent)));
    socket.destroy();
  });
}

test('host records off by the global switch: rustls keeps the records', async (t) => {
  globalThis[SWITCH] = false;
  t.after(() => { delete globalThis[SWITCH]; });
  const server = await tlsServer(t, tls, certs.ec);
  const client = ntls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
  await once(client, 'secureConnect');
  const { received, handedOver } = await echo(client, Buffer.from('hello'), server.secured[0]);
  assert.equal(received.toString(), 'hello');
  assert.equal(handedOver, false);
});

/** How many application_data records (type 23) are in a TLS byte stream from its start. */
function applicationRecords(stream) {
  let count = 0;
  for (let at = 0; at + 5 <= stream.length; at += 5 + stream.readUInt16BE(at + 3)) {
    if (stream[at] === 23) count++;
  }
  return count;
}

// node:tls makes one SSL_write of what a stream gathered while a write was
// under way, so many small writes in a row fill records; wasm-tls does the
// same with rustls (before the handover, or kept) and with the host's AEAD.
for (const [name, lib, choice] of [
  ['node:tls', ntls, undefined],
  ['wasm-tls, host records (node:crypto)', tls, undefined],
  ['wasm-tls, host records (WebCrypto)', tls, 'webcrypto'],
  ['wasm-tls, rustls keeps the records', tls, false],
]) {
  test(`${name}: 2,000 writes of 50 bytes in one go reach node:tls intact, in full records`, async (t) => {
    globalThis[SWITCH] = choice;
    t.after(() => { delete globalThis[SWITCH]; });
    const server = await nodeServer({ ...certs.ec }, () => {});
    t.after(() => server.close());
    const tap = await relay(t, server.port);
    const socket = lib.connect({ port: tap.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    t.after(() => socket.destroy());
    await once(socket, 'secureConnect');
    const peer = await server.nextSocket();
    peer.pipe(peer);
    await exchange(socket, 100_000);
    if (lib === tls) assert.equal(socket._engine.hostRecords, choice !== false);
    peer.unpipe(peer);
    const before = applicationRecords(Buffer.concat(tap.recording.downstream));
    const writes = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(50, i));
    const expected = Buffer.concat(writes);
    const chunks = [];
    let got = 0;
    const all = new Promise((resolve) => peer.on('data', (c) => {
      chunks.push(c);
      got += c.length;
      if (got >= expected.length) resolve();
    }));
    peer.resume(); // unpipe() paused it
    let callbacks = 0;
    for (const w of writes) socket.write(w, () => callbacks++);
    await all;
    assert.deepEqual(Buffer.concat(chunks), expected);
    const records = applicationRecords(Buffer.concat(tap.recording.downstream)) - before;
    // The first write goes at once, the rest fill ceil(99,950 / 16,384) = 7 records.
    assert.ok(records <= 9, `${records} records`);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(callbacks, writes.length, 'every write callback ran');
  });
}

// A stream hands its writes over one, then the rest once that one's callback
// has run. node:tls seals that first one alone; with node:crypto, wasm-tls
// holds less than a record until the end of the turn, so the rest join it.
test('wasm-tls, host records (node:crypto): 1 KiB writes paced by drain make full records; data written with end() goes before close_notify', async (t) => {
  const server = await nodeServer({ ...certs.ec }, () => {});
  t.after(() => server.close());
  const tap = await relay(t, server.port);
  const socket = tls.connect({ port: tap.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
  await once(socket, 'secureConnect');
  const peer = await server.nextSocket();
  peer.pipe(peer);
  await exchange(socket, 100_000);
  assert.equal(socket._engine.hostRecords, true);
  peer.unpipe(peer);
  const before = applicationRecords(Buffer.concat(tap.recording.downstream));
  const SIZE = 2 << 20;
  const sent = bytes(SIZE, 7);
  const chunks = [];
  const ended = new Promise((resolve) => peer.on('end', resolve));
  peer.on('data', (c) => chunks.push(c));
  peer.resume();
  let callbacks = 0;
  await new Promise((resolve) => {
    let at = 0;
    const pump = () => {
      while (at < SIZE) {
        const more = socket.write(sent.subarray(at, at + 1024), () => callbacks++);
        at += 1024;
        if (!more) return void socket.once('drain', pump);
      }
      resolve();
    };
    pump();
  });
  const tail = Buffer.from('the last words, written with end()');
  socket.end(tail);
  await ended;
  assert.equal(sha(Buffer.concat(chunks)), sha(Buffer.concat([sent, tail])));
  assert.equal(callbacks, SIZE / 1024, 'every write callback ran');
  // 2 MiB is 128 full records; the tail makes one, close_notify is an alert.
  const records = applicationRecords(Buffer.concat(tap.recording.downstream)) - before;
  assert.ok(records <= 130, `${records} records`);
});

// node:tls seals and writes at once, so what is written right before destroy()
// reaches the peer; wasm-tls, which may hold a short write to the end of the
// turn, seals it when destroyed.
for (const [name, lib] of [['node:tls', ntls], ['wasm-tls, host records (node:crypto)', tls]]) {
  test(`${name}: a write right before destroy() reaches the node:tls peer`, async (t) => {
    const chunks = [];
    const server = await nodeServer({ ...certs.ec }, (s) => {
      s.on('data', (d) => chunks.push(d));
      s.pipe(s);
    });
    t.after(() => server.close());
    const socket = lib.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
    socket.on('error', () => {});
    await once(socket, 'secureConnect');
    const peer = await server.nextSocket();
    // Echoed back in full (the server's tickets read too): records are the host's.
    await exchange(socket, 20_000);
    if (lib === tls) assert.equal(socket._engine.hostRecords, true);
    const closed = new Promise((resolve) => peer.on('close', resolve)); // after 'error', if the close is a reset
    socket.write('the last words');
    socket.destroy();
    await closed;
    const received = Buffer.concat(chunks);
    assert.equal(received.length, 20_000 + 14);
    assert.equal(received.subarray(-14).toString(), 'the last words');
  });
}

// WebCrypto opens records on other threads, in any order, while the transport's
// end may already have come with more records queued behind the ones being opened
// (at most 32 at once). When the first of those is opened last, all are delivered
// together and for a moment none is being opened: that is not the end of the
// records. Here every 32nd open is the slow one, so that moment always comes.
test('wasm-tls server, host records (WebCrypto) opened out of order: all data comes before the end', async (t) => {
  globalThis[SWITCH] = 'webcrypto';
  const subtle = globalThis.crypto.subtle;
  const decrypt = subtle.decrypt;
  let opens = 0;
  subtle.decrypt = function (...args) {
    const delay = opens++ % 32 === 0 ? 30 : 1;
    return new Promise((resolve) => setTimeout(resolve, delay)).then(() => decrypt.apply(this, args));
  };
  t.after(() => {
    delete globalThis[SWITCH];
    delete subtle.decrypt;
  });
  const errors = [];
  const received = [];
  let ended = false;
  let handedOver = false;
  const server = await tlsServer(t, tls, certs.ec, (s) => {
    s.on('error', (e) => errors.push(e));
    s.on('data', (c) => {
      if (ended) errors.push(new Error('data after end'));
      handedOver ||= s._engine?.hostRecords === true;
      received.push(c);
    });
    s.on('end', () => {
      ended = true;
      s.end();
    });
  });
  const client = ntls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
  await once(client, 'secureConnect');
  const payload = randomBytes(2 << 20);
  client.end(payload);
  await once(client, 'close');
  assert.deepEqual(errors.map((e) => e.code), []);
  assert.equal(ended, true);
  assert.equal(Buffer.concat(received).length, payload.length);
  assert.equal(sha(Buffer.concat(received)), sha(payload));
  assert.equal(handedOver, true);
});

// A client's TCP reads land in one buffer shared by every connection, copied
// out at once (js/transports/tcp.js). Four clients at once receive 3 MiB
// each, one paused on the way with records queued while the others read on;
// WebCrypto keeps the chunks longest (opens run elsewhere).
for (const [aead, choice] of [['node:crypto', undefined], ['WebCrypto', 'webcrypto']]) {
  test(`wasm-tls clients over TCP (${aead}): four at once, 3 MiB each from node:tls, one paused mid-way: every byte in order`, async (t) => {
    globalThis[SWITCH] = choice;
    t.after(() => { delete globalThis[SWITCH]; });
    const SIZE = 3 << 20;
    // Each client sends a seed byte; the server answers with bytes of that seed and ends.
    const server = await nodeServer(certs.ec, (s) => s.once('data', (d) => s.end(bytes(SIZE, d[0]))));
    t.after(() => server.close());
    const results = await Promise.all([1, 2, 3, 4].map(async (seed) => {
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
      await once(socket, 'secureConnect');
      socket.write(Buffer.of(seed));
      const chunks = [];
      let got = 0;
      let handedOver = false;
      socket.on('data', (c) => {
        chunks.push(c);
        handedOver ||= socket._engine?.hostRecords === true;
        if (seed === 1 && got < SIZE / 2 && (got += c.length) >= SIZE / 2) {
          socket.pause();
          setTimeout(() => socket.resume(), 200);
        }
      });
      await once(socket, 'end');
      assert.equal(handedOver, true);
      return [seed, Buffer.concat(chunks)];
    }));
    for (const [seed, received] of results) {
      assert.equal(received.length, SIZE);
      assert.equal(sha(received), sha(bytes(SIZE, seed)), `client ${seed}`);
    }
  });
}

// Ciphertext waits while WebCrypto opens at most 32 records at once; past
// 1 MiB of it the transport is paused (js/socket.js RECORDS_BACKLOG), rather
// than holding all a fast peer sends.
test('wasm-tls server, host records (WebCrypto) opening slowly: the ciphertext queued stays near 1 MiB, and all data arrives', async (t) => {
  globalThis[SWITCH] = 'webcrypto';
  const subtle = globalThis.crypto.subtle;
  const decrypt = subtle.decrypt;
  subtle.decrypt = function (...args) {
    return new Promise((resolve) => setTimeout(resolve, 2)).then(() => decrypt.apply(this, args));
  };
  t.after(() => {
    delete globalThis[SWITCH];
    delete subtle.decrypt;
  });
  let most = 0;
  const received = [];
  const server = await tlsServer(t, tls, certs.ec, (s) => {
    s.on('data', (c) => {
      received.push(c);
      most = Math.max(most, s._records?.received.length ?? 0);
    });
    s.on('end', () => s.end());
  });
  const client = ntls.connect({ port: server.port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost' });
  await once(client, 'secureConnect');
  const payload = randomBytes(12 << 20);
  client.end(payload);
  await once(client, 'close');
  assert.equal(sha(Buffer.concat(received)), sha(payload));
  assert.ok(most > 512 * 1024, `backlog reached ${most} bytes: the test did not build one`);
  // Past 1 MiB by what was read before the pause took hold (a few 64 KiB reads).
  assert.ok(most < (1 << 20) + 512 * 1024, `backlog reached ${most} bytes`);
});

// A 'data' listener that throws, with the exception caught by the process's
// 'uncaughtException' listener (a child process: the test runner fails a test
// on any uncaught exception). The throw leaves mid-read: what the socket kept
// of the TCP client's lent read buffer must have been copied all the same.
const THROWING_LISTENER = `
import ntls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
const [lib, key, cert] = JSON.parse(process.argv[1]);
const tls = lib === 'node:tls' ? ntls : (await import(${JSON.stringify(new URL('../../js/entry/node.js', import.meta.url).href)})).default;
const payload = randomBytes(4 << 20);
const server = ntls.createServer({ key, cert }, (s) => {
  s.write('hello');
  s.once('data', () => s.end(payload));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
let thrown = 0;
process.on('uncaughtException', () => thrown++);
const client = tls.connect({ port: server.address().port, host: '127.0.0.1', rejectUnauthorized: false });
const chunks = [];
let got = 0;
client.on('data', (data) => {
  chunks.push(data);
  got += data.length;
  if (got === 5) client.write('go');
  else if (thrown === 0 && got > 300_000) throw new Error('thrown by a data listener');
});
client.on('error', (err) => console.log(JSON.stringify({ error: err.code })));
client.on('end', () => {
  const data = Buffer.concat(chunks).subarray(5);
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  console.log(JSON.stringify({ thrown, length: data.length, intact: sha(data) === sha(payload) }));
  client.end();
  server.close();
});
`;

test('a throwing data listener (caught by uncaughtException) loses no bytes, in node:tls and in wasm-tls (TCP client, host records)', async () => {
  const { execFile } = await import('node:child_process');
  const run = (lib) => new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', THROWING_LISTENER, JSON.stringify([lib, certs.ec.key, certs.ec.cert])],
      { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(Object.assign({}, ...stdout.trim().split('\n').map((line) => JSON.parse(line))))));
  });
  const theirs = await run('node:tls');
  assert.deepEqual(theirs, { thrown: 1, length: 4 << 20, intact: true });
  assert.deepEqual(await run('wasm-tls'), theirs);
});
