// The byte-pipe adapters under a wasm-tls client, each against peers we did not
// write: node:tls servers (directly, through a `ws` WebSocketServer bridge, through
// WHATWG streams from Duplex.toWeb) and wasm-tls servers across MessagePorts
// (node:worker_threads, in this thread and in a real Worker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import ntls from 'node:tls';
import { MessageChannel, Worker } from 'node:worker_threads';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import tls, {
  messagePortTransport, relayTransport, streamsTransport, websocketTransport,
} from 'wasm-tls';
import { MESSAGE_PORT_WINDOW, toTransport } from 'wasm-tls/transports';
import { createHash } from 'node:crypto';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, rawServer, sha256 } from './helpers/peers.js';

const MB = 1024 * 1024;
const clientOptions = { servername: 'localhost', ca: certs.ca };

/** Resolves with the first `n` bytes `stream` delivers. */
function collect(stream, n) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let got = 0;
    const onData = (d) => {
      chunks.push(d);
      got += d.length;
      if (got < n) return;
      stream.off('data', onData);
      stream.off('error', reject);
      resolve(Buffer.concat(chunks));
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/** Everything `stream` delivers until 'end' (leaving it open, unlike for await, which destroys it). */
function readAll(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (d) => chunks.push(d));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** `n` bytes each way at the same time; both sides must receive exactly what the other sent. */
async function exchange(client, server, n) {
  const up = bytes(n, 7);
  const down = bytes(n, 11);
  const atServer = collect(server, n);
  const atClient = collect(client, n);
  client.write(up);
  server.write(down);
  const [s, c] = await Promise.all([atServer, atClient]);
  assert.equal(sha256(s), sha256(up), 'bytes the server received');
  assert.equal(sha256(c), sha256(down), 'bytes the client received');
}

/** A node:tls peer's view and ours must agree. */
function assertSecure(client, serverSide, protocol = 'TLSv1.3') {
  assert.equal(client.authorized, true, `authorizationError: ${client.authorizationError}`);
  assert.equal(client.getProtocol(), protocol);
  assert.equal(serverSide.getProtocol(), protocol);
  assert.equal(client.getCipher().name, serverSide.getCipher().name);
  assert.equal(client.getCipher().version, protocol);
}

/** Lets pending promise jobs (WHATWG stream reads and writes) run. */
const settle = () => new Promise((r) => setImmediate(r));

/** A port nothing listens on. */
async function closedPort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  await once(s, 'close');
  return port;
}

/** A `ws` WebSocketServer that bridges each WebSocket to TCP `port` (or hands it to `onWs`). */
async function wsBridge(t, port, onWs) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (ws) => {
    if (onWs) {
      onWs(ws);
      return;
    }
    const stream = createWebSocketStream(ws);
    const tcp = net.connect(port, '127.0.0.1');
    stream.pipe(tcp).pipe(stream);
    stream.on('error', () => tcp.destroy());
    tcp.on('error', () => stream.destroy());
  });
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  return `ws://127.0.0.1:${wss.address().port}`;
}

/**
 * A WHATWG `{ readable, writable }` pair whose other end is a node:tls server
 * socket, in memory (no kernel buffers, so backpressure is all ours to see).
 * Each side's queue holds at most 64 KiB.
 */
function webPairToNodeTls(serverOptions) {
  const HWM = 64 * 1024;
  let toClient;
  let heldWrite = null;
  let readWaiter = null;
  const raw = new Duplex({
    read() {
      const wake = readWaiter;
      readWaiter = null;
      wake?.();
    },
    write(chunk, encoding, cb) {
      toClient.enqueue(new Uint8Array(chunk));
      if (toClient.desiredSize > 0) cb();
      else heldWrite = cb;
    },
    final(cb) {
      toClient.close();
      cb();
    },
  });
  const size = (c) => c.byteLength;
  const readable = new ReadableStream({
    start(c) { toClient = c; },
    pull() {
      const cb = heldWrite;
      heldWrite = null;
      cb?.();
    },
  }, { highWaterMark: HWM, size });
  const writable = new WritableStream({
    write(chunk) {
      if (!raw.push(Buffer.from(chunk))) return new Promise((resolve) => { readWaiter = resolve; });
      return undefined;
    },
    close() { raw.push(null); },
  }, { highWaterMark: HWM, size });
  const server = new ntls.TLSSocket(raw, { isServer: true, ...certs.ec, ...serverOptions });
  return { pair: { readable, writable }, server };
}

/**
 * `sender` writes `total` bytes honouring write() === false / 'drain'; `receiver`
 * reads only while the sender is blocked, so the sender is always the faster one.
 * Returns the most bytes ever written but not yet read.
 */
async function inFlightPeak(sender, receiver, total) {
  const chunk = bytes(64 * 1024, 5);
  const expected = sha256(Buffer.concat(Array(total / chunk.length).fill(chunk)));
  const hash = createHash('sha256');
  let sent = 0;
  let received = 0;
  let peak = 0;
  let blocked = false;
  const done = new Promise((resolve, reject) => {
    receiver.on('data', (d) => {
      hash.update(d);
      received += d.length;
      if (received >= total) resolve(undefined);
      else if (!blocked) receiver.pause();
    });
    receiver.once('error', reject);
    sender.once('error', reject);
  });
  receiver.pause();
  while (sent < total) {
    const ok = sender.write(chunk);
    sent += chunk.length;
    peak = Math.max(peak, sent - received);
    if (!ok) {
      blocked = true;
      receiver.resume();
      await once(sender, 'drain');
      blocked = false;
    }
  }
  blocked = true;
  receiver.resume();
  await done;
  assert.equal(received, total);
  assert.equal(hash.digest('hex'), expected, 'every byte arrived, in order');
  return peak;
}

async function tlsPeer(t, options = {}, onSecure = () => {}) {
  const peer = await nodeServer({ ...certs.ec, ...options }, onSecure);
  t.after(() => peer.close());
  return peer;
}

// --- WHATWG streams -------------------------------------------------------

test('streams: Duplex.toWeb(net socket) against node:tls, 4 MB each way, TLS 1.3 and 1.2', async (t) => {
  for (const version of ['TLSv1.3', 'TLSv1.2']) {
    const peer = await tlsPeer(t, { maxVersion: version });
    const tcp = net.connect(peer.port, '127.0.0.1');
    await once(tcp, 'connect');
    const client = tls.connect({ ...clientOptions, transport: streamsTransport(Duplex.toWeb(tcp)) });
    await once(client, 'secureConnect');
    const serverSide = await peer.nextSocket();
    assertSecure(client, serverSide, version);
    await exchange(client, serverSide, 4 * MB);
    client.destroy();
  }
});

test('streams: a promise of a pair (as Deno.connect) is connecting until it resolves; addresses come from remoteAddr/localAddr', async (t) => {
  const peer = await tlsPeer(t, {}, (s) => s.pipe(s));
  const pending = new Promise((resolve, reject) => {
    const tcp = net.connect(peer.port, '127.0.0.1');
    tcp.once('error', reject);
    tcp.once('connect', () => resolve({
      ...Duplex.toWeb(tcp),
      remoteAddr: { hostname: tcp.remoteAddress, port: tcp.remotePort, transport: 'tcp' },
      localAddr: { hostname: tcp.localAddress, port: tcp.localPort, transport: 'tcp' },
    }));
  });
  const client = tls.connect({ ...clientOptions, transport: pending });
  assert.equal(client.connecting, true);
  const events = [];
  client.on('connect', () => events.push('connect'));
  client.on('secureConnect', () => events.push('secureConnect'));
  await once(client, 'secureConnect');
  assert.deepEqual(events, ['connect', 'secureConnect']);
  assert.equal(client.connecting, false);
  assert.equal(client.remoteAddress, '127.0.0.1');
  assert.equal(client.remotePort, peer.port);
  assert.equal(client.remoteFamily, 'IPv4');
  assert.equal(typeof client.localPort, 'number');
  client.write('ping');
  assert.equal(String((await collect(client, 4))), 'ping');
  client.destroy();
});

test('streams: an object with .opened (as workerd connect()) waits for it and reads its addresses', async (t) => {
  const peer = await tlsPeer(t, {}, (s) => s.pipe(s));
  const tcp = net.connect(peer.port, '127.0.0.1');
  const socket = {
    ...Duplex.toWeb(tcp),
    opened: once(tcp, 'connect').then(() => ({ remoteAddress: `127.0.0.1:${peer.port}`, localAddress: `127.0.0.1:${tcp.localPort}` })),
    closed: once(tcp, 'close').catch(() => {}),
  };
  const client = tls.connect({ ...clientOptions, transport: socket });
  assert.equal(client.connecting, true);
  await once(client, 'secureConnect');
  assert.equal(client.remoteAddress, '127.0.0.1');
  assert.equal(client.remotePort, peer.port);
  assert.equal(client.localPort, tcp.localPort);
  client.destroy();
});

test('streams: half-close: the client ends, then still reads the server\'s answer; close once, without error', async (t) => {
  const peer = await tlsPeer(t, { allowHalfOpen: true }, async (s) => {
    const got = await readAll(s);
    s.end(`got ${got.length} bytes, sha256 ${sha256(got)}`);
  });
  const tcp = net.connect({ port: peer.port, host: '127.0.0.1', allowHalfOpen: true });
  const client = tls.connect({ ...clientOptions, allowHalfOpen: true, transport: Duplex.toWeb(tcp) });
  const closes = [];
  client.on('close', (hadError) => closes.push(hadError));
  const payload = bytes(3 * MB, 3);
  client.end(payload);
  const answer = String(await readAll(client));
  assert.equal(answer, `got ${payload.length} bytes, sha256 ${sha256(payload)}`);
  if (closes.length === 0) await once(client, 'close');
  await settle();
  assert.deepEqual(closes, [false]);
});

test('streams: a refused connection (rejected promise, errored stream) is ECONNREFUSED on that socket only', async (t) => {
  const port = await closedPort();
  const peer = await tlsPeer(t, {}, (s) => s.pipe(s));
  const good = tls.connect({ ...clientOptions, transport: Duplex.toWeb(net.connect(peer.port, '127.0.0.1')) });
  const goodSecure = once(good, 'secureConnect');

  const rejected = tls.connect({
    ...clientOptions,
    transport: new Promise((resolve, reject) => {
      const tcp = net.connect(port, '127.0.0.1');
      tcp.once('error', reject);
      tcp.once('connect', () => resolve(Duplex.toWeb(tcp)));
    }),
  });
  const [e1] = await once(rejected, 'error');
  assert.equal(e1.code, 'ECONNREFUSED');
  assert.equal(e1.syscall, 'connect');

  // A runtime error without a code (Deno's Deno.errors.ConnectionRefused) is recognised by name.
  const denoLike = Object.assign(new Error('Connection refused (os error 111)'), { name: 'ConnectionRefused' });
  const [e2] = await once(tls.connect({ ...clientOptions, transport: Promise.reject(denoLike) }), 'error');
  assert.equal(e2, denoLike);
  assert.equal(e2.code, 'ECONNREFUSED');

  const errored = tls.connect({ ...clientOptions, transport: Duplex.toWeb(net.connect(port, '127.0.0.1')) });
  const [e3] = await once(errored, 'error');
  assert.equal(e3.code, 'ECONNREFUSED');

  await goodSecure;
  good.write('still here');
  assert.equal(String(await collect(good, 10)), 'still here');
  good.destroy();
});

test('streams: the peer hanging up mid-handshake is Node\'s ECONNRESET on that socket', async (t) => {
  const hangUp = await rawServer((s) => s.once('data', () => s.end()));
  t.after(() => hangUp.close());
  const client = tls.connect({ ...clientOptions, transport: Duplex.toWeb(net.connect(hangUp.port, '127.0.0.1')) });
  const [err] = await once(client, 'error');
  assert.equal(err.code, 'ECONNRESET');
  assert.equal(err.message, 'Client network socket disconnected before secure TLS connection was established');
});

test('streams: in-memory WHATWG pair to node:tls: a faster sender stays bounded, both directions', async () => {
  for (const direction of ['client sends', 'server sends']) {
    const { pair, server } = webPairToNodeTls();
    const client = tls.connect({ ...clientOptions, transport: pair });
    await Promise.all([once(client, 'secureConnect'), once(server, 'secure')]);
    assertSecure(client, server);
    const [sender, receiver] = direction === 'client sends' ? [client, server] : [server, client];
    const peak = await inFlightPeak(sender, receiver, 16 * MB);
    // Without backpressure the whole 16 MB would be in flight at once.
    assert.ok(peak <= 2 * MB, `${direction}: ${peak} bytes in flight at most`);
    client.destroy();
    server.destroy();
  }
});

test('streams adapter: write() returns false while the reader lags, onDrain when it catches up', async () => {
  let pull;
  const sink = [];
  const writable = new WritableStream({
    write(chunk) {
      sink.push(chunk);
      return new Promise((resolve) => { pull = resolve; });
    },
  }, { highWaterMark: 3, size: () => 1 });
  const readable = new ReadableStream({ pull() {} });
  const transport = streamsTransport({ readable, writable });
  let drains = 0;
  transport.start({ onDrain: () => { drains++; } });
  assert.equal(transport.connecting, false);
  assert.equal(transport.write(Uint8Array.of(1)), true);
  assert.equal(transport.write(Uint8Array.of(2)), true);
  assert.equal(transport.write(Uint8Array.of(3)), false);
  await settle();
  assert.equal(drains, 0);
  pull();
  await settle();
  assert.equal(drains, 1);
  transport.destroy();
});

test('streams adapter: pause() stops reading from the stream until resume()', async () => {
  let pulls = 0;
  const readable = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(Uint8Array.of(pulls));
      if (pulls === 5) c.close();
    },
  }, { highWaterMark: 0 });
  const transport = streamsTransport({ readable, writable: new WritableStream() });
  const got = [];
  let ended = 0;
  let closes = 0;
  transport.start({
    onData: (b) => {
      got.push(b[0]);
      if (got.length === 2) transport.pause();
    },
    onEnd: () => { ended++; },
    onClose: () => { closes++; },
  });
  await settle();
  assert.deepEqual(got, [1, 2]);
  const pullsWhilePaused = pulls;
  await settle();
  assert.equal(pulls, pullsWhilePaused, 'no reads while paused');
  transport.resume();
  await settle();
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
  assert.equal(ended, 1);
  assert.equal(closes, 0, 'our side is still open');
  transport.end();
  await settle();
  assert.equal(closes, 1);
  transport.destroy();
  await settle();
  assert.equal(closes, 1, 'close exactly once');
});

test('streams adapter: end() on a Deno.Conn-like pair calls closeWrite() after the bytes written; destroy() closes it', async () => {
  const log = [];
  let release;
  const conn = {
    readable: new ReadableStream(),
    writable: new WritableStream({
      write(chunk) {
        log.push(`write ${chunk.length}`);
        return new Promise((resolve) => { release = resolve; });
      },
      close() { log.push('writable close'); },
    }),
    closeWrite() { log.push('closeWrite'); },
    close() { log.push('close'); },
  };
  const transport = streamsTransport(conn);
  transport.start({});
  transport.write(new Uint8Array(10));
  transport.end();
  assert.equal(transport.writable, false);
  await settle();
  assert.deepEqual(log, ['write 10'], 'closeWrite waits for the pending write');
  release();
  await settle();
  assert.deepEqual(log, ['write 10', 'closeWrite']);
  transport.destroy();
  await settle();
  assert.deepEqual(log, ['write 10', 'closeWrite', 'close']);
});

// --- WebSocket ------------------------------------------------------------

test('websocket: wasm-tls over a ws WebSocketServer bridged to node:tls, URL and object, 4 MB each way', async (t) => {
  const peer = await tlsPeer(t);
  const url = await wsBridge(t, peer.port);
  for (const make of [() => websocketTransport(url, { WebSocket }), () => new WebSocket(url)]) {
    const client = tls.connect({ ...clientOptions, transport: make() });
    assert.equal(client.connecting, true);
    await once(client, 'secureConnect');
    const serverSide = await peer.nextSocket();
    assertSecure(client, serverSide);
    await exchange(client, serverSide, 4 * MB);
    // WebSocket has no half-close: end() closes the connection after the bytes sent.
    const serverEnded = once(serverSide, 'end');
    const closes = [];
    client.on('close', (hadError) => closes.push(hadError));
    client.end('last words');
    const last = collect(serverSide, 10);
    assert.equal(String(await last), 'last words');
    await serverEnded;
    if (!closes.length) await once(client, 'close');
    await settle();
    assert.deepEqual(closes, [false]);
  }
});

test('websocket: a ws:// URL string as options.transport needs a WebSocket class in Node 20 (clear error)', { skip: typeof globalThis.WebSocket === 'function' }, () => {
  assert.throws(() => tls.connect({ ...clientOptions, transport: 'ws://127.0.0.1:9/' }), {
    code: 'ERR_WASM_TLS_NO_WEBSOCKET',
  });
});

test('websocket: a refused URL is ECONNREFUSED on that socket only', async (t) => {
  const port = await closedPort();
  const peer = await tlsPeer(t, {}, (s) => s.pipe(s));
  const good = tls.connect({ ...clientOptions, transport: new WebSocket(await wsBridge(t, peer.port)) });
  const goodSecure = once(good, 'secureConnect');
  const refused = tls.connect({ ...clientOptions, transport: websocketTransport(`ws://127.0.0.1:${port}/`, { WebSocket }) });
  const [err] = await once(refused, 'error');
  assert.equal(err.code, 'ECONNREFUSED');
  assert.equal(refused.destroyed, true);
  await goodSecure;
  good.write('fine');
  assert.equal(String(await collect(good, 4)), 'fine');
  good.destroy();
});

test('websocket: the peer closing mid-handshake is ECONNRESET, clean or abnormal', async (t) => {
  const clean = await wsBridge(t, 0, (ws) => ws.once('message', () => ws.close(1000)));
  const client = tls.connect({ ...clientOptions, transport: new WebSocket(clean) });
  const [err] = await once(client, 'error');
  assert.equal(err.code, 'ECONNRESET');
  assert.equal(err.message, 'Client network socket disconnected before secure TLS connection was established');

  const abrupt = await wsBridge(t, 0, (ws) => ws.once('message', () => ws.terminate()));
  const client2 = tls.connect({ ...clientOptions, transport: new WebSocket(abrupt) });
  const [err2] = await once(client2, 'error');
  assert.equal(err2.code, 'ECONNRESET');
  assert.equal(err2.closeCode, 1006);

  const relayLike = await wsBridge(t, 0, (ws) => ws.close(1011, 'connect ECONNREFUSED'));
  const client3 = tls.connect({ ...clientOptions, transport: new WebSocket(relayLike) });
  const [err3] = await once(client3, 'error');
  assert.equal(err3.code, 'ECONNREFUSED');
  assert.equal(err3.syscall, 'connect');
  assert.equal(err3.reason, 'connect ECONNREFUSED');
});

test('websocket: a text frame from the peer is a protocol error', async (t) => {
  const url = await wsBridge(t, 0, (ws) => ws.once('message', () => ws.send('hello')));
  const client = tls.connect({ ...clientOptions, transport: new WebSocket(url) });
  const [err] = await once(client, 'error');
  assert.equal(err.code, 'ERR_WASM_TLS_WEBSOCKET_TEXT_FRAME');
});

test('websocket adapter: write() returns false above the high-water mark while the peer does not read; onDrain after', async (t) => {
  let onPeer;
  const peerReady = new Promise((resolve) => { onPeer = resolve; });
  const url = await wsBridge(t, 0, onPeer);
  const transport = websocketTransport(url, { WebSocket, highWaterMark: 1 * MB });
  let drained;
  const drain = new Promise((resolve) => { drained = resolve; });
  await new Promise((resolve) => transport.start({ onConnect: resolve, onDrain: () => drained() }));
  const peerWs = await peerReady;
  peerWs.pause();
  let received = 0;
  peerWs.on('message', (d) => { received += d.length; });
  const closed = once(peerWs, 'close');
  const chunk = bytes(64 * 1024, 9);
  let accepted = 0;
  while (accepted < 256 * MB) {
    accepted += chunk.length;
    if (!transport.write(chunk)) break;
  }
  // Kernel buffers take some, the WebSocket's own queue at most the mark (plus a frame).
  assert.ok(accepted < 64 * MB, `accepted ${accepted} bytes before asking to wait`);
  peerWs.resume();
  await drain;
  transport.end();
  await closed;
  assert.equal(received, accepted);
});

test('websocket adapter: messages and the close before start() are held; the end waits for a paused reader', async (t) => {
  const url = await wsBridge(t, 0, (ws) => {
    for (const b of [1, 2, 3]) ws.send(Uint8Array.of(b));
    ws.close(1000);
  });
  const ws = new WebSocket(url);
  const transport = websocketTransport(ws);
  await once(ws, 'close');
  await settle();
  const events = [];
  transport.start({
    onData: (b) => {
      events.push(b[0]);
      if (b[0] === 1) transport.pause();
    },
    onEnd: () => events.push('end'),
    onError: (e) => events.push(e.code),
    onClose: () => events.push('close'),
  });
  await settle();
  assert.deepEqual(events, [1]);
  transport.resume();
  await settle();
  assert.deepEqual(events, [1, 2, 3, 'end', 'close']);
});

// --- MessagePort ------------------------------------------------------------

/** A wasm-tls server taking one connection from `port`; resolves with its secure socket. */
function wasmServerOn(port, options = {}) {
  const server = tls.createServer({ ...certs.ec, ...options });
  const secured = once(server, 'secureConnection').then(([s]) => s);
  const failed = once(server, 'tlsClientError').then(([err]) => err);
  server.emit('connection', messagePortTransport(port));
  return { server, secured, failed };
}

/**
 * The other end of the MessagePort framing written from docs/transports.md alone
 * (no wasm-tls code): a Node Duplex that a node:tls server socket runs over.
 */
function documentedPortDuplex(port) {
  const WINDOW = 1024 * 1024;
  let credit = WINDOW;
  let unacknowledged = 0;
  let waiting = null; // [chunk, cb] until credit arrives
  const send = (chunk, cb) => {
    const n = Math.min(credit, chunk.length);
    const data = new Uint8Array(chunk.subarray(0, n)).buffer;
    port.postMessage({ type: 'data', data }, [data]);
    credit -= n;
    if (n < chunk.length) waiting = [chunk.subarray(n), cb];
    else cb();
  };
  const duplex = new Duplex({
    read() {
      if (unacknowledged > 0) {
        port.postMessage({ type: 'credit', bytes: unacknowledged });
        unacknowledged = 0;
      }
    },
    write(chunk, encoding, cb) {
      if (credit > 0) send(chunk, cb);
      else waiting = [chunk, cb];
    },
    final(cb) {
      port.postMessage({ type: 'end' });
      cb();
    },
    destroy(err, cb) {
      port.postMessage({ type: 'close' });
      port.close();
      cb(err);
    },
  });
  port.on('message', (m) => {
    if (m.type === 'data') {
      const buffers = Array.isArray(m.data) ? m.data : [m.data];
      let more = true;
      for (const data of buffers) {
        unacknowledged += data.byteLength;
        more = duplex.push(Buffer.from(data));
      }
      if (more) duplex._read();
    } else if (m.type === 'credit') {
      credit += m.bytes;
      const w = waiting;
      waiting = null;
      if (w) send(...w);
    } else if (m.type === 'end') {
      duplex.push(null);
    } else if (m.type === 'close') {
      duplex.destroy();
    }
  });
  return duplex;
}

test('message port: wasm-tls client against node:tls over the documented framing (hand-written peer), 4 MB each way', async () => {
  const { port1, port2 } = new MessageChannel();
  const server = new ntls.TLSSocket(documentedPortDuplex(port2), { isServer: true, ...certs.ec });
  const client = tls.connect({ ...clientOptions, transport: port1 });
  await Promise.all([once(client, 'secureConnect'), once(server, 'secure')]);
  assertSecure(client, server);
  await exchange(client, server, 4 * MB);
  const peak = await inFlightPeak(client, server, 8 * MB);
  assert.ok(peak <= 2 * MB, `${peak} bytes in flight at most`);
  client.destroy();
});

test('message port: wasm-tls client and server on the two ends of a MessageChannel, 4 MB each way, half-close', async () => {
  const { port1, port2 } = new MessageChannel();
  const { secured } = wasmServerOn(port2, { allowHalfOpen: true });
  const client = tls.connect({ ...clientOptions, allowHalfOpen: true, transport: messagePortTransport(port1) });
  const [serverSide] = await Promise.all([secured, once(client, 'secureConnect')]);
  assertSecure(client, serverSide);
  assert.equal(serverSide.authorized, false); // no client certificate asked for
  await exchange(client, serverSide, 4 * MB);

  // Half-close: the client's end reaches the server, which still answers.
  const closes = [];
  client.on('close', (hadError) => closes.push(hadError));
  const atServer = readAll(serverSide);
  const answer = readAll(client);
  client.end('question');
  assert.equal(String(await atServer), 'question');
  serverSide.end('answer');
  assert.equal(String(await answer), 'answer');
  if (!closes.length) await once(client, 'close');
  await settle();
  assert.deepEqual(closes, [false]);
});

test('message port: a faster sender stays bounded by the credit, both directions', async () => {
  const { port1, port2 } = new MessageChannel();
  const { secured } = wasmServerOn(port2);
  const client = tls.connect({ ...clientOptions, transport: port1 });
  const [serverSide] = await Promise.all([secured, once(client, 'secureConnect')]);
  for (const [sender, receiver] of [[client, serverSide], [serverSide, client]]) {
    const peak = await inFlightPeak(sender, receiver, 16 * MB);
    assert.ok(peak <= 2 * MB, `${peak} bytes in flight at most`);
  }
  client.destroy();
});

test('message port: wasm-tls client to a wasm-tls server in a worker_threads Worker, 4 MB echoed', async () => {
  const { port1, port2 } = new MessageChannel();
  const report = new MessageChannel();
  const worker = new Worker(new URL('./helpers/port-tls-server.js', import.meta.url), {
    workerData: { port: port2, report: report.port2, options: { ...certs.ec } },
    transferList: [port2, report.port2],
  });
  const messages = [];
  report.port1.on('message', (m) => messages.push(m));
  const client = tls.connect({ ...clientOptions, transport: port1 });
  await once(client, 'secureConnect');
  assert.equal(client.authorized, true);
  const payload = bytes(4 * MB, 13);
  const echoed = collect(client, payload.length);
  client.write(payload);
  assert.equal(sha256(await echoed), sha256(payload));
  client.end();
  await once(report.port1, 'close');
  assert.deepEqual(messages, [
    { protocol: client.getProtocol() ?? 'TLSv1.3', cipher: messages[0].cipher },
    { closed: true },
  ]);
  assert.equal(messages[0].protocol, 'TLSv1.3');
  assert.equal(typeof messages[0].cipher, 'string');
  await worker.terminate();
});

test('message port: the peer going away mid-handshake is ECONNRESET on that socket only', async () => {
  for (const goAway of [(port) => port.postMessage({ type: 'close' }), (port) => port.close()]) {
    const { port1, port2 } = new MessageChannel();
    port2.once('message', () => goAway(port2));
    const other = new MessageChannel();
    const { secured } = wasmServerOn(other.port2);
    const good = tls.connect({ ...clientOptions, transport: other.port1 });
    const goodSecure = once(good, 'secureConnect');
    const client = tls.connect({ ...clientOptions, transport: port1 });
    const [err] = await once(client, 'error');
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(err.message, 'Client network socket disconnected before secure TLS connection was established');
    const [serverSide] = await Promise.all([secured, goodSecure]);
    // After the handshake, the peer going away is an end, as a TCP close.
    const ended = once(serverSide, 'end');
    const closed = once(serverSide, 'close');
    serverSide.resume();
    good.destroy();
    await ended;
    await closed;
  }
});

test('message port adapter: credit bounds what a sender posts while the receiver is paused', async () => {
  const { port1, port2 } = new MessageChannel();
  let posted = 0;
  const post = port1.postMessage.bind(port1);
  port1.postMessage = (m, transfer) => {
    if (m.type === 'data') posted += m.data.byteLength;
    post(m, transfer);
  };
  // transfer: false, as this test writes the same chunk again and again.
  const sender = messagePortTransport(port1, { transfer: false });
  const receiver = messagePortTransport(port2);
  let drained = 0;
  let onDrained;
  const senderClosed = new Promise((resolve) => sender.start({ onDrain: () => { drained++; onDrained(); }, onClose: resolve }));
  const hash = createHash('sha256');
  let received = 0;
  let ended = false;
  const receiverClosed = new Promise((resolve) => receiver.start({
    onData: (b) => { hash.update(b); received += b.length; },
    onEnd: () => { ended = true; receiver.end(); },
    onClose: resolve,
  }));
  receiver.pause();
  const chunk = bytes(100_000, 17);
  const all = [];
  const results = [];
  for (let i = 0; i < 40; i++) {
    results.push(sender.write(chunk)); // a sender that ignores false
    all.push(chunk);
  }
  assert.equal(posted, MESSAGE_PORT_WINDOW, 'posted exactly the initial window');
  assert.equal(results.indexOf(false), Math.ceil(MESSAGE_PORT_WINDOW / chunk.length) - 1);
  await settle();
  assert.equal(posted, MESSAGE_PORT_WINDOW, 'no credit while paused');
  const drain = new Promise((resolve) => { onDrained = resolve; });
  receiver.resume();
  await drain;
  sender.end();
  await Promise.all([senderClosed, receiverClosed]);
  assert.equal(received, chunk.length * 40);
  assert.equal(hash.digest('hex'), sha256(Buffer.concat(all)));
  assert.equal(ended, true);
  assert.ok(drained >= 1);
});

test('toTransport recognises each kind of pipe', async () => {
  const { port1, port2 } = new MessageChannel();
  const kinds = [
    [streamsTransport({ readable: new ReadableStream(), writable: new WritableStream() }), 'a Transport'],
    [{ readable: new ReadableStream(), writable: new WritableStream() }, 'a stream pair'],
    [port1, 'a MessagePort'],
  ];
  for (const [value, what] of kinds) {
    const transport = toTransport(value);
    assert.equal(typeof transport.start, 'function', what);
    transport.destroy();
  }
  port2.close();
  assert.throws(() => toTransport(42), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => toTransport({}), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => relayTransport('http://relay.example/', 'example.com', 443), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => relayTransport('ws://relay.example/', 'example.com', 70000), { code: 'ERR_SOCKET_BAD_PORT' });
});

// --- Relay ------------------------------------------------------------------

test('relay: connect({ host, port, relay }) through wasm-tls-relay to node:tls; a refused destination is ECONNREFUSED', async (t) => {
  const { createRelay } = await import('../../relay/relay.js');
  const relay = createRelay({ allow: ['127.0.0.1:*'], allowPrivate: true, log: false });
  await relay.listen();
  t.after(() => relay.close());
  const peer = await tlsPeer(t);
  const client = tls.connect({ ...clientOptions, host: '127.0.0.1', port: peer.port, relay: relay.url, WebSocket });
  await once(client, 'secureConnect');
  assert.equal(client.remoteAddress, '127.0.0.1');
  assert.equal(client.remotePort, peer.port);
  const serverSide = await peer.nextSocket();
  assertSecure(client, serverSide);
  await exchange(client, serverSide, 1 * MB);
  client.destroy();

  const refused = tls.connect({
    ...clientOptions, host: '127.0.0.1', port: await closedPort(), relay: `${relay.url}?via=test`, WebSocket,
  });
  const [err] = await once(refused, 'error');
  assert.equal(err.code, 'ECONNREFUSED');
});

test('browser platform (simulated in Node): connect({ host, port }) needs a relay, then goes through setDefaultRelay\'s', async (t) => {
  const { platform, setPlatform } = await import('../../js/platform/index.js');
  const { browserPlatform } = await import('../../js/platform/browser.js');
  const saved = { ...platform };
  const savedWebSocket = globalThis.WebSocket;
  t.after(() => {
    for (const k of Object.keys(platform)) delete platform[k];
    Object.assign(platform, saved);
    globalThis.WebSocket = savedWebSocket;
  });
  setPlatform(browserPlatform);
  globalThis.WebSocket = WebSocket; // a browser has one
  assert.throws(() => tls.connect({ ...clientOptions, host: '127.0.0.1', port: 443 }), { code: 'ERR_WASM_TLS_NO_TCP' });

  const { createRelay } = await import('../../relay/relay.js');
  const relay = createRelay({ allow: ['127.0.0.1:*'], allowPrivate: true, log: false });
  await relay.listen();
  t.after(() => relay.close());
  const peer = await tlsPeer(t, {}, (s) => s.pipe(s));
  tls.setDefaultRelay(relay.url);
  const client = tls.connect({ ...clientOptions, host: '127.0.0.1', port: peer.port });
  await once(client, 'secureConnect');
  assert.equal(client.authorized, true);
  const text = 'via the default relay';
  client.write(text);
  assert.equal(String(await collect(client, text.length)), text);
  client.destroy();
  tls.setDefaultRelay(undefined);
  assert.throws(() => tls.connect({ ...clientOptions, host: '127.0.0.1', port: peer.port }), { code: 'ERR_WASM_TLS_NO_TCP' });
});

test('message port adapter: writev sends its parts in one message, transferred; past the credit, what fits, the rest when credit comes', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const messages = [];
  const post = port1.postMessage.bind(port1);
  port1.postMessage = (m, transfer) => {
    if (m.type === 'data') messages.push({ buffers: Array.isArray(m.data) ? m.data.length : 1, transferred: transfer?.length ?? 0 });
    post(m, transfer);
  };
  const sender = messagePortTransport(port1);
  const receiver = messagePortTransport(port2);
  t.after(() => {
    sender.destroy();
    receiver.destroy();
  });
  let drained = false;
  sender.start({ onDrain: () => { drained = true; } });
  const chunks = [];
  let count = 0;
  let onAll;
  const allReceived = new Promise((resolve) => { onAll = resolve; });
  // A view of part of a buffer (copied), whole buffers (transferred), an empty part (skipped).
  const head = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]).subarray(2, 7);
  const body = bytes(50_000, 3);
  const tail = bytes(16, 4);
  const big = bytes(MESSAGE_PORT_WINDOW, 5);
  const expected = Buffer.concat([head, body, tail, big]);
  receiver.start({
    onData: (b) => {
      chunks.push(Buffer.from(b));
      count += b.length;
      if (count >= expected.length) onAll();
    },
  });
  assert.equal(sender.writev([head, new Uint8Array(body), new Uint8Array(0), new Uint8Array(tail)]), true);
  assert.deepEqual(messages, [{ buffers: 3, transferred: 3 }]);
  // Past the credit: the first part whole, the head of the second up to the
  // credit in the same message; the rest once the receiver grants more.
  assert.equal(sender.writev([new Uint8Array(big.subarray(0, 1000)), new Uint8Array(big.subarray(1000))]), false);
  assert.deepEqual(messages, [{ buffers: 3, transferred: 3 }, { buffers: 2, transferred: 2 }]);
  await allReceived;
  assert.deepEqual(Buffer.concat(chunks), expected);
  assert.equal(messages.length, 3, 'the rest in one message');
  assert.ok(drained, "'drain' once the outbox emptied");
});
