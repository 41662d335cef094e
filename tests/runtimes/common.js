// Helpers for the scripts run inside Deno, Bun and workerd: only web APIs here,
// so the same file also serves the test process (node) and the worker bundle.

/** getPeerCertificate(true) as plain JSON: bytes as hex, the self-issued root's loop cut. */
export function plainCertificate(value, ancestors = []) {
  if (ArrayBuffer.isView(value)) {
    return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
  }
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.includes(value)) return '[Circular]';
  const inner = [...ancestors, value];
  if (Array.isArray(value)) return value.map((v) => plainCertificate(v, inner));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainCertificate(v, inner)]));
}

/** SHA-256 of bytes (a list of chunks), hex. */
export async function sha256(chunks) {
  const all = concat(chunks);
  const digest = await crypto.subtle.digest('SHA-256', all);
  return plainCertificate(new Uint8Array(digest));
}

/** @param {Uint8Array[]} chunks */
export function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** `n` random bytes (getRandomValues takes at most 64 KiB at a time). */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

/** What a TLSSocket tells its user once secure, as plain JSON. */
export function secureView(socket) {
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher(),
    authorized: socket.authorized,
    authorizationError: socket.authorizationError ?? null,
    alpnProtocol: socket.alpnProtocol,
    servername: socket.servername,
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    remoteFamily: socket.remoteFamily,
    localAddress: socket.localAddress,
    localPort: typeof socket.localPort,
  };
}

/** Resolves with the first of the events, [name, args]. */
export function first(emitter, names) {
  return new Promise((resolve) => {
    const fns = names.map((name) => [name, (...args) => {
      for (const [n, f] of fns) emitter.off(n, f);
      resolve([name, args]);
    }]);
    for (const [n, f] of fns) emitter.on(n, f);
  });
}

/** Error as plain JSON. */
export const plainError = (e) => ({
  name: e?.name, code: e?.code, message: e?.message, syscall: e?.syscall, address: e?.address, port: e?.port,
});

/** The test's configuration, JSON in the WASM_TLS_RT environment variable (Deno or Bun). */
export function config() {
  const text = globalThis.Deno ? globalThis.Deno.env.get('WASM_TLS_RT') : globalThis.process.env.WASM_TLS_RT;
  return JSON.parse(text ?? '{}');
}

/** One JSON line on stdout for the test process. */
export const report = (value) => console.log(JSON.stringify(value));

/**
 * Connects with `tls` (wasm-tls, or node:tls as the oracle), sends `cfg.send`
 * ({ text } or { size } random bytes), reads `cfg.expect` bytes, ends, and
 * reports what a user sees as plain JSON. With allowHalfOpen, it waits for
 * the server's end first and then sends and ends.
 * @param {{ host?: string, port: number, options: object, send: { text?: string, size?: number }, expect: number }} cfg
 * @param {object} [extra] options that only this caller has (a transport)
 */
export async function runClient(tls, cfg, extra = {}) {
  const events = [];
  const socket = tls.connect({ host: cfg.host ?? '127.0.0.1', port: cfg.port, ...cfg.options, ...extra });
  for (const name of ['connect', 'secureConnect', 'end', 'finish', 'close']) socket.on(name, () => events.push(name));
  const [outcome, args] = await first(socket, ['secureConnect', 'error']);
  if (outcome === 'error') {
    if (!events.includes('close')) await new Promise((resolve) => socket.once('close', resolve));
    return { error: plainError(args[0]), events };
  }
  const seen = {
    ...secureView(socket),
    peer: plainCertificate(socket.getPeerCertificate(true)),
    x509: typeof socket.getPeerX509Certificate(),
  };
  const payload = cfg.send.text !== undefined ? new TextEncoder().encode(cfg.send.text) : randomBytes(cfg.send.size);
  const received = [];
  let got = 0;
  const enough = new Promise((resolve) => {
    socket.on('data', (chunk) => {
      received.push(chunk);
      got += chunk.length;
      if (got >= cfg.expect) resolve();
    });
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  if (cfg.options.allowHalfOpen) {
    // The server speaks and ends first; our side stays open for the reply.
    await new Promise((resolve) => socket.once('end', resolve));
    socket.end(payload);
  } else {
    socket.write(payload);
    await enough;
    socket.end();
  }
  await closed;
  seen.sent = { length: payload.length, sha256: await sha256([payload]) };
  seen.received = { length: got, sha256: await sha256(received) };
  if (cfg.send.text !== undefined) seen.received.text = new TextDecoder().decode(concat(received));
  seen.events = events;
  return seen;
}

const closeOf = (socket) => new Promise((resolve) => socket.once('close', resolve));

/** How a handshake ends: null at secureConnect, else the error as plain JSON (after 'close'). */
async function handshakeOutcome(socket) {
  const closed = closeOf(socket);
  const [name, args] = await first(socket, ['secureConnect', 'error']);
  if (name === 'secureConnect') return null;
  await closed;
  const { code, reason, host } = args[0];
  return { code, reason, host };
}

/**
 * Client features beyond one exchange, against an echo server on `port`:
 * keylog, sessions and resumption, X509Certificate, keying material, timeouts,
 * verification failures. Run with wasm-tls in a runtime and in Node alike.
 */
export async function probeClientFeatures(tls, { port, ca }) {
  const options = { host: '127.0.0.1', port, ca, servername: 'localhost' };
  const out = {};
  const s1 = tls.connect(options);
  const labels = new Set();
  s1.on('keylog', (line) => labels.add(new TextDecoder().decode(line).split(' ')[0]));
  let session;
  s1.on('session', (s) => { session = s; });
  out.first = await handshakeOutcome(s1);
  const x509 = s1.getPeerX509Certificate();
  out.x509 = x509 && { subject: x509.subject, issuer: x509.issuer, ca: x509.ca, fingerprint256: x509.fingerprint256 };
  out.keyingMaterial = s1.exportKeyingMaterial(32, 'EXPERIMENTAL-wasm-tls').length;
  out.ephemeral = s1.getEphemeralKeyInfo();
  out.firstReused = s1.isSessionReused();
  // A TLS 1.3 ticket comes after the handshake: one echo makes sure it was read.
  s1.write('ping');
  await first(s1, ['data']);
  const closed1 = closeOf(s1);
  s1.end();
  await closed1;
  out.keylog = [...labels].sort();
  out.session = typeof session === 'object' && session.length > 0;

  const s2 = tls.connect({ ...options, session });
  out.second = await handshakeOutcome(s2);
  out.resumed = s2.isSessionReused();
  out.timeout = await new Promise((resolve) => {
    s2.setTimeout(50, () => resolve('timeout'));
  });
  const closed2 = closeOf(s2);
  s2.destroy();
  await closed2;

  out.noCa = await handshakeOutcome(tls.connect({ host: '127.0.0.1', port, servername: 'localhost' }));
  out.wrongName = await handshakeOutcome(tls.connect({ ...options, servername: 'wrong.example' }));
  return out;
}

/**
 * Server features: address(), EADDRINUSE, maxConnections, getConnections,
 * 'connection', close() after the last connection, close() when not running.
 * Its clients are `tls` clients too.
 */
export async function probeServerFeatures(tls, { key, cert, ca }) {
  const out = {};
  const server = tls.createServer({ key, cert }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  out.connection = [];
  server.on('connection', (c) => out.connection.push({
    remoteAddress: c.remoteAddress, setNoDelay: typeof c.setNoDelay, destroy: typeof c.destroy,
  }));
  const listening = (srv, ...args) => new Promise((resolve) => {
    srv.once('error', (e) => resolve({ code: e.code, syscall: e.syscall }));
    srv.listen(...args, () => resolve(null));
  });
  out.listen = await listening(server, 0, '127.0.0.1');
  const address = server.address();
  out.address = { ...address, port: typeof address.port };
  out.inUse = await listening(tls.createServer({ key, cert }), address.port, '127.0.0.1');
  try {
    server.listen(0, '127.0.0.1');
    out.listenTwice = 'listened';
  } catch (e) {
    out.listenTwice = e.code;
  }
  server.maxConnections = 1;
  const options = { host: '127.0.0.1', port: address.port, ca, servername: 'localhost' };
  const c1 = tls.connect(options);
  out.c1 = await handshakeOutcome(c1);
  out.connections = await new Promise((resolve) => server.getConnections((err, n) => resolve(err ?? n)));
  out.overLimit = await handshakeOutcome(tls.connect(options));
  const closedServer = new Promise((resolve) => server.close(() => resolve(server.listening)));
  out.listeningAfterClose = server.listening;
  let serverClosed = false;
  closedServer.then(() => { serverClosed = true; });
  // The server's 'close' waits for its last connection.
  c1.write('still here');
  out.echoWhileClosing = new TextDecoder().decode((await first(c1, ['data']))[1][0]);
  out.closedBeforeLastEnded = serverClosed;
  const closed1 = closeOf(c1);
  c1.end();
  await closed1;
  await closedServer;
  let closeEvents = 0;
  server.on('close', () => closeEvents++);
  out.closeAgain = await new Promise((resolve) => server.close((e) => resolve(e?.code)));
  out.closeEventsWhenNotRunning = closeEvents;
  return out;
}
