// Tools for feeding TLS sockets bytes no honest peer would send: raw records,
// relays that inject bytes after a real peer hangs up, floods, and the
// outcome (events, error code) of each connection, for wasm-tls and node:tls alike.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import ntls from 'node:tls';
import { Duplex } from 'node:stream';
import 'wasm-tls'; // loads the wasm first: init() below then only returns the instance
import init from '../../../pkg/wasm_tls.js';
import { certs } from './certs.js';

/** The size of the wasm instance's linear memory. */
const wasm = await init();
export const wasmMemory = () => wasm.memory.buffer.byteLength;

export const TLS12 = 0x0303;

/** Resolves at 'close', whatever errors came first (events.once would reject on 'error'). */
export const closed = (socket) => new Promise((resolve) => socket.once('close', resolve));

/** One TLS record: type, legacy version, body (the length is written for you). */
export function record(type, version, body) {
  const head = Buffer.of(type, version >> 8, version & 0xff, body.length >> 8, body.length & 0xff);
  return Buffer.concat([head, body]);
}

/** The transport-level close a peer gives: close_notify, as a plaintext alert record. */
export const CLOSE_NOTIFY = record(21, TLS12, Buffer.of(1, 0));

/**
 * How a socket ended: resolves at 'close' (or after `ms`, marked `hang`) with
 * the events seen in order and the first error.
 */
export function outcome(socket, ms = 10_000) {
  return new Promise((resolve) => {
    const events = [];
    let error;
    const timer = setTimeout(() => resolve({ events, error, hang: true }), ms);
    for (const e of ['secureConnect', 'end', 'timeout']) socket.on(e, () => events.push(e));
    socket.on('error', (err) => {
      events.push('error');
      error ??= err;
    });
    socket.on('data', () => {});
    socket.on('close', () => {
      events.push('close');
      clearTimeout(timer);
      resolve({ events, error });
    });
  });
}

/**
 * Writes `total` bytes (random, or `block` over and over) as fast as `socket` takes them (waiting for
 * 'drain'); resolves with how many it took before it closed or the total was out.
 */
export function flood(socket, total, block = randomBytes(1 << 20)) {
  return new Promise((resolve) => {
    let sent = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      // What the kernel took: bytes written less what is still queued in the stream.
      resolve(Math.max(0, socket.bytesWritten - socket.writableLength));
    };
    const pump = () => {
      while (sent < total) {
        if (socket.destroyed || !socket.writable) return finish();
        sent += block.length;
        if (!socket.write(block)) return;
      }
      finish();
    };
    socket.on('error', () => {});
    socket.on('drain', pump);
    socket.on('close', finish);
    pump();
  });
}

/**
 * A raw TCP server that runs, for each connection, the handler its client
 * registered under its local port (looked up at the first bytes, which the
 * client sends only once registered): `handler(socket, firstChunk)`.
 */
export async function scriptedServer(t) {
  const handlers = new Map();
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', (chunk) => {
      const handler = handlers.get(s.remotePort);
      handlers.delete(s.remotePort);
      handler?.(s, chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { port } = server.address();
  return {
    port,
    /** A TCP connection to this server whose server side runs `handler`. */
    async connection(handler) {
      const raw = net.connect(port, '127.0.0.1');
      raw.on('error', () => {});
      await once(raw, 'connect');
      handlers.set(raw.localPort, handler);
      return raw;
    },
  };
}

/**
 * A TLS server from `lib` whose failures are told apart by the client's port:
 * `verdict(bytes)` sends them from a raw client and resolves with the code of
 * that connection's tlsClientError (null if none) and whether the server
 * left it hanging (the client gave up after `ms`); `then(raw)` may send more.
 */
export async function watchedServer(t, lib, options) {
  const server = lib.createServer(options, (s) => s.on('error', () => {}));
  const portOf = new WeakMap();
  const errors = new Map();
  server.on('connection', (raw) => portOf.set(raw, raw.remotePort));
  // wasm-tls reports while its transport is up; node:tls after, but keeps the raw socket as _parent.
  server.on('tlsClientError', (err, s) => errors.set(s.remotePort ?? portOf.get(s._parent), err));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return {
    port: server.address().port,
    async verdict(bytes, { end = true, ms = 10_000, then } = {}) {
      const raw = net.connect(server.address().port, '127.0.0.1');
      raw.on('error', () => {});
      raw.on('data', () => {});
      await once(raw, 'connect');
      const port = raw.localPort;
      raw.write(bytes);
      if (end) raw.end();
      then?.(raw);
      let hung = false;
      const timer = setTimeout(() => { hung = true; raw.destroy(); }, ms);
      await closed(raw);
      clearTimeout(timer);
      // The server learns of the hang-up a moment after the client closes.
      for (let i = 0; i < 50 && !errors.has(port); i++) await new Promise((r) => setTimeout(r, 10));
      return { code: errors.get(port)?.code ?? null, hung };
    },
  };
}

/** Client options for the test CA and `localhost`. */
export const clientOptions = (extra) => ({ servername: 'localhost', ca: certs.ca, ...extra });

/**
 * A TCP relay to 127.0.0.1:`port`. When one side hangs up, `onEnd(side, other)`
 * may write to the other side instead of passing the hang-up on (side is
 * 'upstream' for the server, 'downstream' for the client). `recording` holds
 * what each side sent, in order.
 */
export async function relay(t, port, onEnd) {
  const recording = { upstream: [], downstream: [] };
  const pairs = new Set();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    pairs.add([down, up]);
    for (const [side, from, to] of [['downstream', down, up], ['upstream', up, down]]) {
      from.on('data', (chunk) => {
        recording[side].push(chunk);
        if (to.writable) to.write(chunk);
      });
      from.on('end', () => {
        if (onEnd?.(side, to) !== true) to.end();
      });
      from.on('error', () => to.destroy());
      from.on('close', () => setTimeout(() => to.destroy(), 50));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const pair of pairs) for (const s of pair) s.destroy();
    server.close();
  });
  return { port: server.address().port, recording };
}

/**
 * What a node:tls client and server say to each other in one handshake (plus
 * a short echo), captured by a relay: `server` is every byte the server sent,
 * `client` every byte the client sent, up to the client's 'secureConnect'.
 */
export async function captureHandshake(t, version) {
  const server = ntls.createServer({ ...certs.ec, minVersion: version, maxVersion: version }, (s) => s.end());
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const tap = await relay(t, server.address().port);
  const c = ntls.connect({ port: tap.port, host: '127.0.0.1', ...clientOptions({ maxVersion: version }) });
  c.on('data', () => {});
  await closed(c);
  return { server: Buffer.concat(tap.recording.upstream), client: Buffer.concat(tap.recording.downstream) };
}

/**
 * An in-memory Duplex bridged to a net.Socket that can hold what arrives and
 * hand it on as one single chunk: the transport then delivers one 'data'
 * event holding many records. `hold(tail)` starts gathering; the gathered
 * bytes and `tail` go on as one chunk (then the EOF) when the TCP side ends.
 */
export function gatheringDuplex(raw) {
  let gathered = null;
  let tail = Buffer.alloc(0);
  const duplex = new Duplex({
    read() { raw.resume(); },
    write(chunk, enc, cb) { raw.write(chunk, cb); },
    final(cb) { raw.end(); cb(); },
    destroy(err, cb) { raw.destroy(); cb(err); },
  });
  raw.on('data', (chunk) => {
    if (gathered) gathered.push(chunk);
    else if (!duplex.push(chunk)) raw.pause();
  });
  raw.on('end', () => {
    if (gathered) duplex.push(Buffer.concat([...gathered, tail]));
    duplex.push(null);
  });
  raw.on('error', (err) => duplex.destroy(err));
  return {
    duplex,
    hold(extra = tail) {
      gathered = [];
      tail = extra;
    },
    /** How many bytes are being held. */
    get held() { return gathered ? gathered.reduce((n, c) => n + c.length, 0) : 0; },
  };
}
