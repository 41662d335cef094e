// wasm-tls-relay: bridges each WebSocket to one TCP connection, bytes exact, so
// that TLS can end in the browser. The destination is fixed by configuration or
// chosen by the client with `?host=HOST&port=PORT` and checked against an
// allowlist; private addresses are refused unless allowed. See docs/relay.md.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { WebSocketServer } from 'ws';

const DEFAULTS = {
  maxConnections: 1024,
  maxPerClient: 32,
  idleTimeout: 300, // seconds, 0 = never
  connectTimeout: 10, // seconds
  closeGrace: 5, // seconds the TCP side may take to finish after the WebSocket closed
  maxFrame: 1024 * 1024, // bytes per WebSocket message
  highWaterMark: 256 * 1024, // bytes queued on one side before the other is paused
};

// ---------------------------------------------------------------------------
// Addresses. Everything is held as 16 bytes, IPv4 as ::ffff:a.b.c.d, so that a
// v4-mapped IPv6 address is judged exactly as the IPv4 address it carries.

/** 16 bytes for an IPv4 or IPv6 literal, or null (zone ids are refused). */
export function ipBytes(text) {
  if (net.isIPv4(text)) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...text.split('.').map(Number)]);
  if (!net.isIPv6(text) || text.includes('%')) return null;
  const groups = (part) => (part === '' ? [] : part.split(':').flatMap((g) => {
    if (!g.includes('.')) return [parseInt(g, 16)];
    const [a, b, c, d] = g.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  }));
  const halves = text.split('::');
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return Uint8Array.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

/** `a.b.c.d/n` or `v6/n` (a bare address is /32 or /128) -> { bytes, bits }, or null. */
function parseCidr(text) {
  const [addr, len, extra] = text.split('/');
  const bytes = ipBytes(addr);
  if (!bytes || extra !== undefined) return null;
  const v4 = net.isIPv4(addr);
  const max = v4 ? 32 : 128;
  if (len !== undefined && !/^\d{1,3}$/.test(len)) return null;
  const bits = len === undefined ? max : Number(len);
  if (bits > max) return null;
  return { bytes, bits: v4 ? bits + 96 : bits };
}

function inRange(bytes, { bytes: base, bits }) {
  for (let i = 0; i < 16; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[i] & mask) !== (base[i] & mask)) return false;
  }
  return true;
}

const cidrs = (list) => list.map(([cidr, kind]) => [parseCidr(cidr), kind]);

// Not reachable on the public internet, or not meant to be: refused unless allowed.
const SPECIAL = cidrs([
  ['0.0.0.0/8', 'unspecified'], ['10.0.0.0/8', 'private'], ['100.64.0.0/10', 'CGNAT'],
  ['127.0.0.0/8', 'loopback'], ['169.254.0.0/16', 'link-local'], ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], ['192.0.2.0/24', 'documentation'], ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'], ['198.51.100.0/24', 'documentation'], ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'], ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'], ['::1/128', 'loopback'], ['100::/64', 'discard'], ['2001::/23', 'reserved'],
  ['2001:db8::/32', 'documentation'], ['64:ff9b:1::/48', 'private'], ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'], ['fec0::/10', 'site-local'], ['ff00::/8', 'multicast'],
]);

// IPv6 ranges that carry an IPv4 address (at byte `at`): judged by that address.
const EMBEDDING = cidrs([['::/96', 'IPv4-compatible'], ['::ffff:0:0:0/96', 'IPv4-translated'],
  ['64:ff9b::/96', 'NAT64'], ['2002::/16', '6to4']]).map(([range, kind], i) => [range, kind, i === 3 ? 2 : 12]);

/**
 * Why an address must not be reached by default ('loopback', 'private', ...),
 * or null for a public address.
 */
export function addressKind(address) {
  const bytes = typeof address === 'string' ? ipBytes(address) : address;
  if (!bytes) return 'invalid';
  for (const [range, kind] of SPECIAL) if (inRange(bytes, range)) return kind;
  for (const [range, kind, at] of EMBEDDING) {
    if (!inRange(bytes, range)) continue;
    const inner = classifyV4(bytes.subarray(at, at + 4));
    return inner && `${inner} (${kind})`;
  }
  return null;
}

const classifyV4 = (four) => addressKind(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...four]));

// ---------------------------------------------------------------------------
// Allowlist patterns: `host:port`. host is a name whose labels may be `*`
// (one label each; `*` alone is any host), an IPv4 address or range
// (10.0.0.0/8), or a bracketed IPv6 address or range ([fd00::/8]). port is
// a number, a range (8000-8099) or `*`.

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A host name in canonical form (lower case, no final dot), or null. */
function hostName(text) {
  const name = text.toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return null;
  return name.split('.').every((l) => LABEL.test(l)) ? name : null;
}

function parsePorts(text) {
  if (text === '*') return [1, 65535];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo >= 1 && lo <= hi && hi <= 65535 ? [lo, hi] : null;
}

/** Parses one allowlist pattern; throws a TypeError naming it when malformed. */
export function parsePattern(text) {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]+)$/.exec(String(text));
  const ports = m && parsePorts(m[3]);
  let entry = null;
  if (ports && m[1] !== undefined) {
    const range = net.isIPv6(m[1].split('/')[0]) ? parseCidr(m[1]) : null;
    if (range) entry = { range };
  } else if (ports && /^[\d./]+$/.test(m[2])) {
    const range = parseCidr(m[2]);
    if (range && net.isIPv4(m[2].split('/')[0])) entry = { range };
  } else if (ports) {
    const labels = m[2].toLowerCase().split('.');
    if (labels.every((l) => l === '*' || LABEL.test(l))) entry = { labels };
  }
  if (!entry) {
    throw new TypeError(`bad allow pattern ${JSON.stringify(text)}: want host:port, host a name (labels may be *), ` +
      'an IPv4 address or range, or [IPv6] address or range; port N, N-M or *');
  }
  return { text: String(text), ports, ...entry };
}

const portMatches = (entry, port) => port >= entry.ports[0] && port <= entry.ports[1];

/** Does `entry` admit the host as the client wrote it (a name or an IP literal)? */
function hostMatches(entry, host, bytes) {
  if (entry.range) return bytes !== null && inRange(bytes, entry.range);
  if (entry.labels.length === 1 && entry.labels[0] === '*') return true;
  if (bytes) return false;
  const labels = host.split('.');
  return labels.length === entry.labels.length && labels.every((l, i) => entry.labels[i] === '*' || entry.labels[i] === l);
}

// ---------------------------------------------------------------------------

class Refusal extends Error {}

/** `host:port` (IPv6 in brackets) -> { host, port }, or null. */
export function parseHostPort(text) {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(String(text));
  const port = m && Number(m[3]);
  if (!m || port < 0 || port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}

const hostPort = (host, port) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

const V4_MAPPED = parseCidr('::ffff:0:0/96');

/**
 * Who a client is for per-client counting: its IPv4 address (v4-mapped IPv6
 * included), or its IPv6 /64, since one IPv6 host commonly holds a whole /64.
 */
export function clientKey(address = '') {
  const bytes = ipBytes(address);
  if (!bytes) return address;
  if (inRange(bytes, V4_MAPPED)) return bytes.subarray(12).join('.');
  const hex = (i) => ((bytes[i] << 8) | bytes[i + 1]).toString(16);
  return `${hex(0)}:${hex(2)}:${hex(4)}:${hex(6)}::/64`;
}


/** Close reasons are limited to 123 bytes of UTF-8. */
const reasonText = (text) => Buffer.from(text).subarray(0, 123).toString().replace(/\uFFFD$/, '');

function number(options, name, { min = 0, integer = false } = {}) {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== 'number' || !(value >= min) || (integer && !Number.isInteger(value)) || value === Infinity) {
    throw new RangeError(`options.${name} must be a ${integer ? 'whole ' : ''}number >= ${min}, got ${value}`);
  }
  return value;
}

/**
 * @param {object} options
 * @param {string} [options.target] fixed destination `host:port`; the query is then ignored
 * @param {string[]} [options.allow] allowlist patterns for client-chosen destinations
 * @param {boolean} [options.allowPrivate] let resolved private/loopback/... addresses through
 * @param {number} [options.maxConnections] live bridges in all
 * @param {number} [options.maxPerClient] live bridges per client IP
 * @param {number} [options.idleTimeout] seconds without a byte either way before both sides close (0: never)
 * @param {number} [options.connectTimeout] seconds the TCP connect may take
 * @param {number} [options.closeGrace] seconds the TCP side gets to close after the WebSocket did
 * @param {number} [options.maxFrame] largest WebSocket message accepted, in bytes
 * @param {number} [options.highWaterMark] bytes queued toward one side before the other is paused
 * @param {string[]} [options.origins] allowed Origin values for browsers (absent: any)
 * @param {{ cert: string|Buffer, key: string|Buffer }} [options.tls] serve wss:
 * @param {(host: string, opts: object) => Promise<{address: string, family: number}[]>} [options.lookup]
 *   name resolution (default dns.promises.lookup with all: true)
 * @param {false|((line: string) => void)} [options.log] one line per refusal or failure (default stderr)
 * @param {boolean} [options.verbose] also log each bridge opened and closed
 */
export function createRelay(options = {}) {
  const target = options.target === undefined ? null : parseHostPort(options.target);
  if (options.target !== undefined && (!target || target.port === 0)) {
    throw new TypeError(`options.target must be host:port, got ${JSON.stringify(options.target)}`);
  }
  if (target && options.allow?.length) throw new TypeError('options.target and options.allow exclude each other');
  const allow = (options.allow ?? []).map(parsePattern);
  const allowPrivate = options.allowPrivate === true;
  const maxConnections = number(options, 'maxConnections', { min: 1, integer: true });
  const maxPerClient = number(options, 'maxPerClient', { min: 1, integer: true });
  const idleTimeout = number(options, 'idleTimeout');
  const connectTimeout = number(options, 'connectTimeout');
  const closeGrace = number(options, 'closeGrace');
  const maxFrame = number(options, 'maxFrame', { min: 1, integer: true });
  const highWaterMark = number(options, 'highWaterMark', { min: 1, integer: true });
  const origins = options.origins?.length ? new Set(options.origins.map((o) => o.replace(/\/$/, ''))) : null;
  const lookup = options.lookup ?? ((host, opts) => dns.promises.lookup(host, opts));
  const log = options.log === false ? () => {} : (options.log ?? ((line) => process.stderr.write(`wasm-tls-relay: ${line}\n`)));
  const verbose = options.verbose === true;

  const server = options.tls ? https.createServer(options.tls) : http.createServer();
  // A client that never finishes its upgrade request must not hold a socket.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  const sessions = new Set();
  const perClient = new Map();
  const rawSockets = new Set();

  server.on('connection', (socket) => {
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
  });
  server.on('request', (req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' });
    res.end('wasm-tls-relay speaks WebSocket only\n');
  });
  server.on('clientError', (err, socket) => {
    if (err.code !== 'ECONNRESET') log(`bad request from ${socket.remoteAddress}: ${err.code ?? err.message}`);
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    else socket.destroy();
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrame,
    perMessageDeflate: false,
    clientTracking: false,
    closeTimeout: closeGrace * 1000,
    // websockify/noVNC clients offer 'binary'; others offer nothing.
    handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false),
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const origin = req.headers.origin;
    if (origins && origin !== undefined && !origins.has(origin)) {
      log(`refused ${socket.remoteAddress}:${socket.remotePort}: Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed (403)`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 22\r\n\r\n' +
        'Origin is not allowed\n', () => socket.destroy());
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  });

  /** Closes a WebSocket that is not (or no longer) bridged, with a deadline for the client's answer. */
  function refuse(ws, code, reason, line) {
    log(line);
    ws.close(code, reasonText(reason));
    ws.resume(); // a paused socket would never read the client's answering close frame
  }

  function accept(ws, req) {
    const client = clientKey(req.socket.remoteAddress);
    const peer = hostPort((req.socket.remoteAddress ?? '').replace(/^::ffff:(?=[\d.]+$)/i, ''), req.socket.remotePort);
    ws.on('error', () => {});
    if (sessions.size >= maxConnections) {
      refuse(ws, 1013, 'relay is full, try again later', `refused ${peer}: ${maxConnections} connections already (1013)`);
      return;
    }
    const mine = perClient.get(client) ?? 0;
    if (mine >= maxPerClient) {
      refuse(ws, 1013, 'too many connections from your address, try again later',
        `refused ${peer}: ${mine} connections from ${client} already (1013)`);
      return;
    }
    perClient.set(client, mine + 1);
    const session = bridge(ws, req, peer, () => {
      sessions.delete(session);
      const left = perClient.get(client) - 1;
      if (left) perClient.set(client, left);
      else perClient.delete(client);
    });
    sessions.add(session);
  }

  /** Every address of `host` (itself if it is an address). */
  async function resolve(host) {
    if (net.isIP(host)) return [host];
    const addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' });
    return addresses;
  }

  /** Where this client may go: resolves once, checks every address; throws Refusal. */
  async function destination(req) {
    if (target) {
      const addresses = await resolve(target.host);
      return { label: hostPort(target.host, target.port), addresses, port: target.port };
    }
    const query = new URL(req.url ?? '/', 'http://relay').searchParams;
    const rawHost = query.get('host') ?? '';
    const rawPort = query.get('port') ?? '';
    if (!rawHost || !rawPort) throw new Refusal('missing ?host=HOST&port=PORT');
    const literal = rawHost.replace(/^\[(.*)\]$/, '$1');
    const bytes = ipBytes(literal);
    const host = bytes ? literal : hostName(rawHost);
    const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : 0;
    if (!host) throw new Refusal(`bad host ${JSON.stringify(rawHost.slice(0, 64))}`);
    if (port < 1 || port > 65535) throw new Refusal(`bad port ${JSON.stringify(rawPort.slice(0, 16))}`);
    const label = hostPort(host, port);
    if (!allow.some((e) => portMatches(e, port) && hostMatches(e, host, bytes))) throw new Refusal(`${label} is not allowed`);
    // One resolution; the addresses checked here are the ones connected to,
    // so a second answer (DNS rebinding) is never asked for.
    const addresses = await resolve(host);
    for (const address of addresses) {
      const kind = addressKind(address);
      if (!kind || allowPrivate) continue;
      const named = allow.some((e) => e.range && portMatches(e, port) && inRange(ipBytes(address), e.range));
      const what = address === host ? host : `${host} resolves to ${address}, which`;
      if (!named) throw new Refusal(`${label}: ${what} is ${kind}`);
    }
    return { label, addresses, port };
  }

  /** One WebSocket, one TCP connection. `done` runs once when both are closed. */
  function bridge(ws, req, peer, done) {
    const session = { ws, tcp: null, peer, up: 0, down: 0 };
    let tcp = null;
    let label = '?';
    let wsClosed = false;
    let tcpClosed = false;
    let errored = false;
    let tcpPaused = false;
    let tcpReady = false;
    let finished = false;
    const early = []; // messages that arrived before the TCP connection existed
    const timers = new Set();
    const later = (seconds, fn) => {
      const t = setTimeout(() => { timers.delete(t); fn(); }, seconds * 1000);
      timers.add(t);
      return t;
    };
    const idle = idleTimeout > 0 ? later(idleTimeout, () => {
      log(`closed ${peer} -> ${label}: idle for ${idleTimeout} s`);
      closeWs(1000, 'idle timeout');
      tcp?.destroy();
    }) : null;
    const touch = () => idle?.refresh();

    const closeWs = (code, reason) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.close(code, reasonText(reason));
      ws.resume(); // a paused socket would never read the client's answering close frame
    };
    const finish = () => {
      if (finished || !wsClosed || (tcp && !tcpClosed)) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      if (verbose) log(`closed ${peer} -> ${label}: ${session.up} bytes up, ${session.down} bytes down`);
      done();
    };
    const fail = (code, reason, line) => {
      errored = true;
      log(line);
      closeWs(code, reason);
      tcp?.destroy();
    };

    ws.pause(); // until the TCP connection can take bytes
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        if (!errored) fail(1003, 'binary frames only', `closed ${peer} -> ${label}: text frame (1003)`);
        return;
      }
      // Once our close frame is out, only a connected server still gets what the client sent before its answer.
      if (errored || tcp?.destroyed || (!tcpReady && ws.readyState !== ws.OPEN)) return;
      touch();
      session.up += data.length;
      if (!tcpReady) early.push(data);
      else if (!tcp.write(data)) ws.pause();
    });
    ws.on('error', (err) => {
      errored = true;
      log(`closed ${peer} -> ${label}: ${err.message}`);
    });
    ws.on('close', () => {
      wsClosed = true;
      if (tcp && !tcpClosed) {
        // Nothing more can be forwarded; reading on lets the server finish its writes and close.
        if (tcpPaused) tcp.resume();
        tcpPaused = false;
        if (errored) tcp.destroy();
        else {
          // The client is done sending: pass the end on, then give the
          // server a moment to finish before the socket is torn down.
          tcp.end();
          later(closeGrace, () => tcp.destroy());
        }
      }
      finish();
    });

    const sent = () => {
      if (tcpPaused && ws.bufferedAmount < highWaterMark / 2) {
        tcpPaused = false;
        tcp.resume();
      }
    };

    const connect = (addresses, port, i) => {
      const socket = net.connect({ host: addresses[i], port, allowHalfOpen: true });
      tcp = socket;
      session.tcp = socket;
      const deadline = later(connectTimeout, () => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })));
      let connected = false;
      socket.on('connect', () => {
        connected = true;
        tcpReady = true;
        clearTimeout(deadline);
        timers.delete(deadline);
        if (verbose) log(`opened ${peer} -> ${label} (${hostPort(addresses[i], port)})`);
        let ok = true;
        for (const data of early.splice(0)) ok = socket.write(data);
        if (ok && !wsClosed) ws.resume();
      });
      socket.on('data', (chunk) => {
        touch();
        session.down += chunk.length;
        if (ws.readyState !== ws.OPEN) return;
        ws.send(chunk, { binary: true }, sent);
        if (ws.bufferedAmount >= highWaterMark) {
          tcpPaused = true;
          socket.pause();
        }
      });
      socket.on('drain', () => { if (!wsClosed) ws.resume(); });
      // The server is done: everything it sent is queued on the WebSocket
      // ahead of the close frame.
      socket.on('end', () => closeWs(1000, ''));
      socket.on('error', (err) => {
        if (!connected && !wsClosed && i + 1 < addresses.length && err.code !== 'ETIMEDOUT') {
          socket.removeAllListeners('close');
          socket.on('close', () => {});
          clearTimeout(deadline);
          timers.delete(deadline);
          connect(addresses, port, i + 1);
          return;
        }
        fail(1011, `${connected ? '' : 'connect '}${err.code ?? 'error'}`, `closed ${peer} -> ${label}: ${err.code ?? ''} ${err.message}`);
      });
      socket.on('close', () => {
        tcpClosed = true;
        closeWs(errored ? 1011 : 1000, errored ? 'upstream error' : '');
        finish();
      });
    };

    (async () => {
      let dest;
      try {
        dest = await destination(req);
      } catch (err) {
        if (err instanceof Refusal) {
          refuse(ws, 1008, err.message, `refused ${peer}: ${err.message} (1008)`);
        } else {
          fail(1011, `cannot resolve: ${err.code ?? err.message}`, `closed ${peer}: cannot resolve: ${err.code ?? ''} ${err.message}`);
        }
        return;
      }
      label = dest.label;
      if (wsClosed || ws.readyState !== ws.OPEN) return;
      connect(dest.addresses, dest.port, 0);
    })();
    return session;
  }

  return {
    /** Listens on `{ host, port }` (default 127.0.0.1, 0); resolves to the bound address. */
    async listen({ host = '127.0.0.1', port = 0 } = {}) {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => { server.off('error', reject); resolve(); });
      });
      return server.address();
    },
    address: () => server.address(),
    /** ws://host:port/ (wss: with tls) of the listening relay. */
    get url() {
      const { address, port } = /** @type {net.AddressInfo} */ (server.address());
      return `${options.tls ? 'wss' : 'ws'}://${hostPort(address, port)}/`;
    },
    /** Live bridges (WebSocket or TCP side still open). */
    get connections() {
      return sessions.size;
    },
    /** Stops listening and tears every bridge down (clients see 1001). */
    async close() {
      const closed = new Promise((resolve) => server.close(() => resolve()));
      for (const { ws, tcp } of sessions) {
        if (ws.readyState === ws.OPEN) ws.close(1001, 'relay shutting down');
        tcp?.destroy();
      }
      server.closeIdleConnections();
      // Clients get a moment to answer the close frame, then their sockets go.
      const force = setTimeout(() => { for (const socket of rawSockets) socket.destroy(); }, 1000);
      await closed;
      clearTimeout(force);
    },
  };
}
