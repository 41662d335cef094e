// Peers the project did not write: node:tls servers and openssl s_server,
// started on 127.0.0.1 by the tests and stopped after.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import ntls from 'node:tls';
import { once } from 'node:events';

/**
 * A node:tls server. `onSecure(socket)` handles each connection (default: echo).
 * Resolves to { port, server, sockets, close() }.
 */
export async function nodeServer(options, onSecure = (s) => s.pipe(s)) {
  const sockets = [];
  const waiting = [];
  const connections = new Set();
  const server = ntls.createServer(options, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSecure(s);
    waiting.shift()?.(s);
  });
  server.on('connection', (c) => {
    connections.add(c);
    c.on('close', () => connections.delete(c));
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let taken = 0;
  return {
    port: server.address().port,
    server,
    sockets,
    /** The server side of the next connection, once its handshake is done. */
    nextSocket() {
      const i = taken++;
      if (sockets[i]) return Promise.resolve(sockets[i]);
      return new Promise((resolve) => waiting.push(resolve));
    },
    async close() {
      for (const c of connections) c.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * A TLS server from `lib` (wasm-tls or node:tls) on 127.0.0.1, closed after
 * test `t`. Records its tlsClientError errors, keylog lines and the server
 * side of every secure connection.
 */
export async function tlsServer(t, lib, options, onSecure = (s) => s.pipe(s)) {
  const secured = [];
  const server = lib.createServer(options, (s) => {
    secured.push(s);
    s.on('error', () => {});
    onSecure(s);
  });
  const clientErrors = [];
  server.on('tlsClientError', (err) => clientErrors.push(err));
  const keylog = [];
  server.on('keylog', (line, socket) => keylog.push([line.toString('latin1'), socket]));
  const sockets = new Set();
  server.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const c of sockets) c.destroy();
    server.close();
  });
  return { server, port: server.address().port, clientErrors, keylog, secured };
}

/** A plain TCP server whose connections `onSocket` drives (junk, silence, hang-ups). */
export async function rawServer(onSocket) {
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * `openssl s_server` on 127.0.0.1 with the given extra arguments.
 * Resolves to { port, proc, output(), close() } once it accepts.
 */
export async function opensslServer(args) {
  const proc = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s_server did not start: ${out}`)), 10_000);
    const look = () => {
      const m = /ACCEPT .*:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); proc.stdout.off('data', look); resolve(Number(m[1])); }
    };
    proc.stdout.on('data', look);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`s_server exited ${code}: ${out}`)); });
  });
  return {
    port,
    proc,
    output: () => out,
    async close() {
      if (proc.exitCode === null) {
        proc.kill();
        await once(proc, 'exit');
      }
    },
  };
}

export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Deterministic pseudo-random bytes. */
export function bytes(n, seed = 1) {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Resolves with the socket's secureConnect, rejects with its first error. */
export function secure(socket) {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Collects everything a readable emits until 'end'. */
export async function readAll(socket) {
  const chunks = [];
  socket.on('data', (c) => chunks.push(c));
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

/** Records the order of the named events on an emitter. */
export function recordEvents(emitter, names) {
  const seen = [];
  for (const name of names) emitter.on(name, () => seen.push(name));
  return seen;
}
