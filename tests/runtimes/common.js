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
export const plainError = (e) => ({ name: e?.name, code: e?.code, message: e?.message, syscall: e?.syscall });

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
  const seen = { ...secureView(socket), peer: plainCertificate(socket.getPeerCertificate(true)) };
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
