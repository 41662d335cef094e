// Benchmark, measured in one run:
//   client side: wasm-tls client vs node:tls client vs native rustls client,
//     all against the same node:tls (OpenSSL) server;
//   server side: node:tls clients against a wasm-tls server vs against a
//     node:tls server.
//
//   node bench/run.js [--rounds N (default 5)] [--quick (1 short round, for checking)]
//
// Reports, as medians over N rounds (after one warm-up round, candidates
// alternating within each round), in one Markdown table with ratios:
//   - bulk throughput (MB/s, 1 MB = 10^6 bytes), client receiving and client
//     sending (= server sending and server receiving), 16 KiB writes, TLS 1.3
//     with TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
//     TLS_CHACHA20_POLY1305_SHA256 (forced by the server's `ciphers`); and the
//     client sending in 1 KiB writes (in-process clients), which fill records
//     only if what a stream gathers meanwhile is sealed together;
//   - sequential full handshakes per second (connect, secureConnect + the
//     server's greeting byte, destroy)
//     with an ECDSA P-256 and an RSA-2048 server certificate;
//   - sequential resumed handshakes per second, server side (node:tls clients
//     offering the newest TLS 1.3 ticket they got), ECDSA certificate;
//   - client rows also for wasm-tls with every primitive in wasm (ring), as in
//     browsers and workerd: "wasm-tls, wasm crypto" (js/host-crypto.js off);
//   - the size of pkg/wasm_tls_bg.wasm raw, gzip -9 and brotli q11.
//
// Layout: each server runs in a child process (this file with `--server node`
// or `--server wasm`), so every client, in-process JS or the native rustls
// example (examples/bench_client.rs, a third process), runs beside the server
// rather than sharing its event loop. Both server processes run the same code
// (serverMain) with node:tls or wasm-tls as the `tls` module; the server-side
// rows use the same in-process node:tls client against either. Loopback
// 127.0.0.1 only.
//
// Wire protocol of the bench server, after the TLS handshake:
//   server: "+" on 'secureConnection' (so clients know the server finished the
//           handshake too; a handshake counts when the client has it)
//   client: "recv N\n"          server: sends exactly N bytes (16 KiB writes)
//   client: "send N\n" + N bytes server: counts them, replies "ok\n" at N
//   (nothing)                    handshake-only connection
// Clients time from just before the request line to the last byte (recv) or
// the "ok\n" (send). Byte counts are asserted on both sides; overruns, early
// closes, stalls (timeout), wrong protocol/suite or resumed sessions abort the
// run with an error instead of printing numbers. The server also reports the
// protocol and suite of every connection it secured, checked against the one
// the client saw.

import { fork, spawnSync, execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';
import zlib from 'node:zlib';
import nodeTls from 'node:tls';

const CHUNK = 16 * 1024;
/** The write size of the small-writes row. */
const SMALL_WRITE = 1024;
const MiB = 1024 * 1024;
const MAX_BULK = 2048 * MiB;
const SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const HANDSHAKE_SUITE = 'TLS_AES_128_GCM_SHA256';
const CERTS = { ecdsa: 'ECDSA P-256', rsa: 'RSA-2048' };
const GREETING = 0x2b; // '+', the server's first byte on every connection
const WASM_ONLY = 'wasm-tls, wasm crypto';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** One 16 KiB block, reused for every write (its content never changes). */
const block = randomFillSync(Buffer.alloc(CHUNK));

/** Resolves on 'drain', or on 'close' (then the caller sees `destroyed`). */
function waitDrain(sock) {
  return new Promise((res) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      res();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

// ---------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------

/** `impl`: 'node' (node:tls) or 'wasm' (wasm-tls) as the server's tls module. */
async function serverMain(dir, impl) {
  if (impl !== 'node' && impl !== 'wasm') throw new Error(`--server node|wasm, not ${impl}`);
  const tls = impl === 'wasm' ? (await import('../js/entry/node.js')).default : nodeTls;
  const ca = readFileSync(join(dir, 'ca.pem'));
  const fresh = () => ({ handshakes: 0, resumed: 0, bytesIn: 0, bytesOut: 0, negotiated: {}, clientErrors: {}, socketErrors: {}, failures: [] });
  const stats = fresh();
  const bump = (map, key) => { map[key] = (map[key] ?? 0) + 1; };

  async function stream(sock, n) {
    let left = n;
    while (left > 0 && !sock.destroyed) {
      const k = Math.min(left, CHUNK);
      left -= k;
      stats.bytesOut += k;
      if (!sock.write(k === CHUNK ? block : block.subarray(0, k))) await waitDrain(sock);
    }
  }

  function onSecure(sock) {
    stats.handshakes++;
    if (sock.isSessionReused()) stats.resumed++;
    bump(stats.negotiated, `${sock.getProtocol()} ${sock.getCipher()?.name}`);
    sock.on('error', (e) => bump(stats.socketErrors, e.code ?? e.message));
    sock.write(Buffer.of(GREETING));
    let head = Buffer.alloc(0);
    let want = -1;
    let got = 0;
    const fail = (msg) => {
      stats.failures.push(msg);
      sock.destroy();
    };
    const count = (n) => {
      got += n;
      stats.bytesIn += n;
      if (got === want) sock.write('ok\n');
      else if (got > want) fail(`send: got ${got} bytes, expected ${want}`);
    };
    sock.on('data', (d) => {
      if (want >= 0) {
        count(d.length);
        return;
      }
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 64) fail('request line too long');
        return;
      }
      const [mode, n, extra] = head.subarray(0, nl).toString('latin1').split(' ');
      const bytes = Number(n);
      const rest = head.subarray(nl + 1);
      if (extra !== undefined || !Number.isSafeInteger(bytes) || bytes <= 0) return fail(`bad request ${head.subarray(0, nl)}`);
      if (mode === 'recv') {
        if (rest.length) return fail('data after a recv request');
        want = 0;
        stream(sock, bytes);
      } else if (mode === 'send') {
        want = bytes;
        if (rest.length) count(rest.length);
      } else {
        fail(`bad mode ${mode}`);
      }
    });
  }

  const key = {
    ecdsa: { key: readFileSync(join(dir, 'ecdsa.key')), cert: readFileSync(join(dir, 'ecdsa.pem')) },
    rsa: { key: readFileSync(join(dir, 'rsa.key')), cert: readFileSync(join(dir, 'rsa.pem')) },
  };
  const ports = {};
  for (const cert of Object.keys(CERTS)) {
    for (const suite of SUITES) {
      const server = tls.createServer({ ...key[cert], ca, ciphers: suite, minVersion: 'TLSv1.3' }, onSecure);
      server.on('connection', (s) => s.setNoDelay(true));
      server.on('tlsClientError', (e) => bump(stats.clientErrors, e.code ?? e.message));
      await new Promise((res, rej) => server.listen(0, '127.0.0.1', res).once('error', rej));
      ports[`${cert}/${suite}`] = server.address().port;
    }
  }
  process.on('message', (m) => {
    if (m.type === 'stats') {
      process.send({ type: 'stats', stats: structuredClone(stats) });
      Object.assign(stats, fresh());
    } else if (m.type === 'exit') {
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', ports });
}

// ---------------------------------------------------------------------------
// Main process
// ---------------------------------------------------------------------------

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout?.toString() ?? '';
}

/** A local CA (EC P-256) and two leaves it signs, ECDSA P-256 and RSA-2048. */
function makeCerts(dir) {
  const o = (...args) => run('openssl', args, { cwd: dir });
  o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=wasm-tls bench CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(join(dir, 'leaf.ext'), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '',
  ].join('\n'));
  const leaves = { ecdsa: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], rsa: ['-newkey', 'rsa:2048'] };
  for (const [name, newkey] of Object.entries(leaves)) {
    o('req', '-new', ...newkey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
    o('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(Date.now() + name.length),
      '-days', '2', '-extfile', 'leaf.ext', '-out', `${name}.pem`);
  }
}

/** Builds examples/bench_client.rs natively; returns the binary's path. */
function buildNative() {
  // The crate's release profile is tuned for wasm size (opt-level "z"); a
  // native rustls user builds with opt-level 3, so that is what we compare to.
  const opt = process.env.BENCH_NATIVE_OPT_LEVEL ?? '3';
  console.error(`bench: cargo build --release --example bench_client (opt-level ${opt}) ...`);
  const r = spawnSync('cargo', ['build', '--release', '--example', 'bench_client'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CARGO_PROFILE_RELEASE_OPT_LEVEL: opt },
  });
  if (r.status !== 0) throw new Error('cargo build of the native bench client failed');
  const targetDir = process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, 'target');
  const bin = join(targetDir, 'release', 'examples', 'bench_client');
  if (!existsSync(bin)) throw new Error(`${bin} missing after cargo build`);
  return { bin, opt };
}

function startServer(dir, impl) {
  const child = fork(fileURLToPath(import.meta.url), ['--server', impl, dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (m) => waiters.shift()?.(m));
  child.on('exit', (code) => {
    if (!child.exiting) {
      console.error(`bench: ${impl} server process exited (${code})`);
      process.exit(1);
    }
  });
  const next = () => new Promise((res) => waiters.push(res));
  return {
    ready: next().then((m) => m.ports),
    async stats() {
      const p = next();
      child.send({ type: 'stats' });
      return (await p).stats;
    },
    stop() {
      child.exiting = true;
      child.send({ type: 'exit' });
    },
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`stalled: ${what()} after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// --- in-process JS clients (wasm-tls and node:tls share this code) ---------

/**
 * Resolves once the handshake is done on both ends: 'secureConnect' here and
 * the server's one-byte greeting, which it sends on 'secureConnection'.
 * Returns the socket paused; callers attach their handlers, then resume().
 */
function jsConnect(client, port, session, onSession) {
  return new Promise((res, rej) => {
    const s = client.tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: client.ctx, session });
    if (onSession) s.on('session', onSession);
    s.setNoDelay(true);
    s.once('error', rej);
    s.once('close', () => rej(new Error(`${client.name}: connection closed before the server's greeting`)));
    s.once('data', (d) => {
      s.pause();
      s.off('error', rej);
      if (d.length !== 1 || d[0] !== GREETING) rej(new Error(`${client.name}: bad greeting ${d.toString('latin1')}`));
      else if (!s.getProtocol()) rej(new Error(`${client.name}: data before secureConnect`));
      else res(s);
    });
  });
}

function describe(s) {
  return `${s.getProtocol()} ${s.getCipher()?.name}`;
}

function checkNegotiated(who, got, suite) {
  const ok = got === `TLSv1.3 ${suite}` || got === `TLSv1_3 TLS13_${suite.slice(4)}`;
  if (!ok) throw new Error(`${who}: negotiated "${got}", expected TLS 1.3 ${suite}`);
}

const js = {
  async handshakes(client, port, secs) {
    const t0 = performance.now();
    let count = 0;
    let negotiated;
    while (performance.now() - t0 < secs * 1000) {
      const s = await jsConnect(client, port);
      if (count === 0) negotiated = describe(s);
      s.destroy();
      count++;
    }
    return { count, secs: (performance.now() - t0) / 1000, negotiated };
  },

  /** One full handshake for a ticket, then resumed ones, each with the newest ticket. */
  async resumed(client, port, secs) {
    let session;
    const keep = (x) => { session = x; };
    const first = await jsConnect(client, port, undefined, keep);
    // node:tls may emit 'session' just after the first data.
    if (!session) await withTimeout(new Promise((res) => first.once('session', res)), 5000, () => `${client.name}: no session`);
    first.destroy();
    const t0 = performance.now();
    let count = 0;
    let negotiated;
    while (performance.now() - t0 < secs * 1000) {
      const s = await jsConnect(client, port, session, keep);
      if (!s.isSessionReused()) throw new Error(`${client.name}: a full handshake where a resumed one was expected`);
      if (count === 0) negotiated = describe(s);
      s.destroy();
      count++;
    }
    return { count, secs: (performance.now() - t0) / 1000, negotiated };
  },

  async recv(client, port, bytes) {
    const s = await jsConnect(client, port);
    const negotiated = describe(s);
    let got = 0;
    const done = new Promise((res, rej) => {
      let t0;
      s.on('data', (d) => {
        got += d.length;
        if (got >= bytes) {
          const secs = (performance.now() - t0) / 1000;
          if (got !== bytes) rej(new Error(`recv: got ${got} bytes, expected ${bytes}`));
          else res({ bytes: got, secs, negotiated });
          s.destroy();
        }
      });
      s.on('error', rej);
      s.on('close', () => rej(new Error(`recv: connection closed after ${got} of ${bytes} bytes`)));
      s.resume();
      t0 = performance.now();
      s.write(`recv ${bytes}\n`);
    });
    try {
      return await withTimeout(done, 120_000, () => `recv at ${got} of ${bytes} bytes`);
    } finally {
      s.destroy();
    }
  },

  async send(client, port, bytes, chunk = CHUNK) {
    const s = await jsConnect(client, port);
    const negotiated = describe(s);
    let reply = '';
    let sent = 0;
    const done = new Promise((res, rej) => {
      s.on('data', (d) => {
        reply += d.toString('latin1');
        if (reply.endsWith('\n')) res();
      });
      s.on('error', rej);
      s.on('close', () => rej(new Error(`send: connection closed after ${sent} of ${bytes} bytes, reply "${reply}"`)));
      s.resume();
    });
    done.catch(() => {}); // awaited below; this only keeps an early rejection from being "unhandled"
    const work = (async () => {
      const t0 = performance.now();
      s.write(`send ${bytes}\n`);
      while (sent < bytes) {
        const k = Math.min(bytes - sent, chunk);
        sent += k;
        if (!s.write(k === CHUNK ? block : block.subarray(0, k))) await Promise.race([waitDrain(s), done]);
        if (s.destroyed) break;
      }
      await done;
      const secs = (performance.now() - t0) / 1000;
      if (reply !== 'ok\n') throw new Error(`send: server replied "${reply}"`);
      return { bytes: sent, secs, negotiated };
    })();
    try {
      return await withTimeout(work, 120_000, () => `send at ${sent} of ${bytes} bytes written, reply "${reply}"`);
    } finally {
      s.destroy();
    }
  },
};

// --- the native rustls client (a separate process) -------------------------

function nativeRun(bin, port, caPath, suite, mode, arg) {
  return new Promise((res, rej) => {
    execFile(bin, [String(port), caPath, suite, mode, String(arg)], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`native bench_client ${mode} ${arg}: ${err.message}\n${stderr}`));
      try {
        res(JSON.parse(stdout.trim()));
      } catch {
        rej(new Error(`native bench_client: unparsable output ${JSON.stringify(stdout)}`));
      }
    });
  });
}

// --- measurements -----------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function wasmSizes() {
  const buf = readFileSync(join(root, 'pkg', 'wasm_tls_bg.wasm'));
  // `gzip -9` as the row says (GNU gzip, the size target's measure), and zlib at
  // level 9 (what Node and most servers compress with), which comes out ~1% larger.
  const gnu = spawnSync('gzip', ['-9', '-c'], { input: buf, maxBuffer: 2 * buf.length });
  const gzip = gnu.status === 0 ? gnu.stdout.length : null;
  const zlibGzip = zlib.gzipSync(buf, { level: 9 }).length;
  const brotli = zlib.brotliCompressSync(buf, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  }).length;
  return { raw: buf.length, gzip, zlibGzip, brotli };
}

function cargoLockVersion(name) {
  const lock = readFileSync(join(root, 'Cargo.lock'), 'utf8');
  return lock.match(new RegExp(`name = "${name}"\\nversion = "([^"]+)"`))?.[1] ?? '?';
}

async function main() {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const roundsArg = argv.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Number(argv[roundsArg + 1]) : quick ? 1 : 5;
  if (!(rounds >= 1)) throw new Error('--rounds must be >= 1');
  const bulkTarget = quick ? 0.3 : 0.75; // seconds per bulk measurement
  const hsSecs = quick ? 0.5 : 1.5; // seconds per handshake measurement

  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'wasm-tls-bench-'));
  const servers = {};
  try {
    makeCerts(dir);
    const caPath = join(dir, 'ca.pem');
    const ca = readFileSync(caPath);
    const native = buildNative();

    const wasmTls = (await import('../js/entry/node.js')).default;
    servers.node = startServer(dir, 'node');
    servers.wasm = startServer(dir, 'wasm');
    const ports = { node: await servers.node.ready, wasm: await servers.wasm.ready };

    // Contexts are built once per client kind, as the native client builds
    // its ClientConfig once: handshakes measure handshakes, not CA parsing.
    // The same, with every primitive in wasm (the switch is read when a context is made).
    globalThis[Symbol.for('wasm-tls.hostCrypto')] = false;
    const wasmOnlyCtx = wasmTls.createSecureContext({ ca, minVersion: 'TLSv1.3' });
    delete globalThis[Symbol.for('wasm-tls.hostCrypto')];
    const clients = {
      wasm: { name: 'wasm-tls', tls: wasmTls, ctx: wasmTls.createSecureContext({ ca, minVersion: 'TLSv1.3' }) },
      wasmOnly: { name: 'wasm-tls (wasm crypto)', tls: wasmTls, ctx: wasmOnlyCtx },
      node: { name: 'node:tls', tls: nodeTls, ctx: nodeTls.createSecureContext({ ca, minVersion: 'TLSv1.3' }) },
      native: { name: 'native rustls' },
    };
    // A candidate is one client against one server process; its `name` is the
    // table column, `who` names it in logs and errors.
    const clientSide = [
      { name: 'wasm-tls', who: 'wasm-tls client', client: clients.wasm, server: 'node' },
      { name: 'node:tls', who: 'node:tls client', client: clients.node, server: 'node' },
      { name: 'native rustls', who: 'native rustls client', client: clients.native, server: 'node' },
      { name: WASM_ONLY, who: 'wasm-tls client, wasm crypto', client: clients.wasmOnly, server: 'node' },
    ];
    const serverSide = [
      { name: 'wasm-tls', who: 'wasm-tls server', client: clients.node, server: 'wasm' },
      { name: 'node:tls', who: 'node:tls server', client: clients.node, server: 'node' },
    ];
    const measure = (client, kind, port, suite, arg, chunk) => client.tls
      ? js[kind](client, port, arg, chunk)
      : nativeRun(native.bin, port, caPath, suite, kind, arg);

    /** The server's own view of what it secured: exactly `n` connections, all `suite`. */
    const checkServerNegotiated = (who, st, suite, n) => {
      const want = { [`TLSv1.3 ${suite}`]: n };
      if (JSON.stringify(st.negotiated) !== JSON.stringify(want)) {
        throw new Error(`${who}: server negotiated ${JSON.stringify(st.negotiated)}, expected ${JSON.stringify(want)}`);
      }
    };

    /** One bulk transfer, checked on both ends; returns MB/s. */
    const bulk = async (cand, t, port, bytes) => {
      const server = servers[cand.server];
      await server.stats(); // reset the server's counters
      const r = await measure(cand.client, t.kind, port, t.suite, bytes, t.chunk);
      checkNegotiated(cand.who, r.negotiated, t.suite);
      if (r.bytes !== bytes) throw new Error(`${cand.who}: ${t.kind} moved ${r.bytes} bytes, expected ${bytes}`);
      const st = await server.stats();
      noteServerErrors(cand, st);
      checkServerNegotiated(cand.who, st, t.suite, 1);
      const moved = t.kind === 'recv' ? st.bytesOut : st.bytesIn;
      if (moved !== bytes) {
        throw new Error(`${cand.who}: server ${t.kind === 'recv' ? 'sent' : 'received'} ${moved} bytes, expected ${bytes}`);
      }
      return { mbps: bytes / r.secs / 1e6, secs: r.secs };
    };
    // Errors the servers saw, per candidate (a reset after the client's
    // destroy() is expected; anything else is worth a look).
    const serverErrors = {};
    const noteServerErrors = (cand, st) => {
      if (st.failures.length) throw new Error(`server, with ${cand.who}: ${st.failures.join('; ')}`);
      const key = `${cand.client.name} client → ${cand.server === 'wasm' ? 'wasm-tls' : 'node:tls'} server`;
      for (const [k, v] of Object.entries({ ...st.clientErrors, ...st.socketErrors })) {
        serverErrors[key] ??= {};
        serverErrors[key][k] = (serverErrors[key][k] ?? 0) + v;
      }
    };

    // Tests: each yields one number per candidate (higher is better).
    const tests = [];
    for (const [side, candidates] of [['client', clientSide], ['server', serverSide]]) {
      const prefix = side === 'server' ? 'Server: ' : '';
      for (const dirn of ['recv', 'send']) {
        for (const suite of SUITES) {
          const what = side === 'client'
            ? (dirn === 'recv' ? 'client receives' : 'client sends')
            : (dirn === 'recv' ? 'server sends' : 'server receives');
          tests.push({ side, candidates, kind: dirn, suite, cert: 'ecdsa', label: `${prefix}Bulk ${what}, ${suite} (MB/s)`, bytes: {} });
        }
      }
      if (side === 'client') {
        // Many small writes (as an HTTP response written piece by piece): what
        // a stream gathers meanwhile should fill records. In-process clients only.
        tests.push({ side, candidates: candidates.filter((c) => c.client.tls), kind: 'send', chunk: SMALL_WRITE, suite: SUITES[0], cert: 'ecdsa', label: `Bulk client sends in 1 KiB writes, ${SUITES[0]} (MB/s)`, bytes: {} });
      }
      for (const cert of Object.keys(CERTS)) {
        tests.push({ side, candidates, kind: 'handshakes', suite: HANDSHAKE_SUITE, cert, label: `${prefix}Full handshakes/s, ${CERTS[cert]} cert` });
      }
      // Resumption is measured server side only: rustls clients (wasm-tls, native) use a
      // TLS 1.3 ticket once (RFC 8446 C.4) and an OpenSSL server issues none on
      // resumption, so against node:tls they alternate full and resumed handshakes.
      if (side === 'server') tests.push({ side, candidates, kind: 'resumed', suite: HANDSHAKE_SUITE, cert: 'ecdsa', label: `${prefix}Resumed handshakes/s (TLS 1.3 ticket), ECDSA P-256 cert` });
    }
    const samples = new Map(tests.map((t) => [t, Object.fromEntries(t.candidates.map((c) => [c.name, []]))]));

    for (let round = 0; round <= rounds; round++) {
      const warm = round === 0;
      console.error(`bench: ${warm ? 'warm-up round' : `round ${round}/${rounds}`}`);
      for (const t of tests) {
        // Rotate the order each round so no candidate always goes first.
        const order = t.candidates.map((_, i) => t.candidates[(i + round) % t.candidates.length]);
        for (const c of order) {
          const port = ports[c.server][`${t.cert}/${t.suite}`];
          let value;
          let note = '';
          if (t.kind === 'handshakes' || t.kind === 'resumed') {
            const server = servers[c.server];
            await server.stats(); // reset the server's counters
            const r = await measure(c.client, t.kind, port, t.suite, warm ? 0.5 : hsSecs);
            checkNegotiated(c.who, r.negotiated, t.suite);
            const st = await server.stats();
            noteServerErrors(c, st);
            // A resumed run starts with one full handshake, for the ticket.
            const full = t.kind === 'resumed' ? 1 : r.count;
            if (st.resumed !== st.handshakes - full) {
              throw new Error(`${c.who}: ${st.resumed} resumed of ${st.handshakes} sessions, expected ${full} full`);
            }
            if (st.handshakes !== r.count + (t.kind === 'resumed' ? 1 : 0)) {
              throw new Error(`${c.who}: client counted ${r.count} handshakes, server ${st.handshakes}`);
            }
            checkServerNegotiated(c.who, st, t.suite, st.handshakes);
            value = r.count / r.secs;
            note = ` (${r.count} in ${r.secs.toFixed(2)} s)`;
          } else if (warm) {
            // Warm up, growing the size until a transfer takes >= 0.2 s, then
            // size each later measurement to take about `bulkTarget` seconds.
            let bytes = 4 * MiB;
            for (;;) {
              const r = await bulk(c, t, port, bytes);
              value = r.mbps;
              if (r.secs >= 0.2 || bytes >= MAX_BULK) break;
              bytes = Math.min(MAX_BULK, bytes * Math.ceil(0.25 / r.secs));
            }
            const mib = Math.round((value * 1e6 * bulkTarget) / MiB);
            t.bytes[c.name] = Math.min(Math.max(mib, 4), MAX_BULK / MiB) * MiB;
            note = ` (next: ${t.bytes[c.name] / MiB} MiB)`;
          } else {
            const r = await bulk(c, t, port, t.bytes[c.name]);
            value = r.mbps;
            note = ` (${t.bytes[c.name] / MiB} MiB in ${r.secs.toFixed(2)} s)`;
          }
          console.error(`  ${t.label.padEnd(66)} ${c.who.padEnd(21)} ${value.toFixed(1).padStart(9)}${note}`);
          if (!warm) samples.get(t)[c.name].push(value);
        }
      }
    }
    const sizes = wasmSizes();
    for (const k of Object.keys(servers)) {
      servers[k].stop();
      delete servers[k];
    }

    // --- report ---
    const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    // Ratios are medians of per-round ratios: candidates run back to back within a
    // round, so pairing them cancels much of a shared machine's drift.
    const ratio = (xs, ys) => {
      const q = median(xs.map((x, i) => x / ys[i]));
      return `${q.toFixed(q >= 1 ? 2 : 3)}×`;
    };
    const lines = [];
    lines.push(`wasm-tls benchmark: medians of ${rounds} round(s) after a warm-up (ratios: medians of per-round ratios); client rows: all clients against one node:tls server process;`);
    lines.push('"Server:" rows: node:tls clients against a wasm-tls server process (wasm-tls column) or a node:tls server process (node:tls column)');
    lines.push(`Node ${process.version}, OpenSSL ${process.versions.openssl}, rustls ${cargoLockVersion('rustls')} (ring ${cargoLockVersion('ring')}, native opt-level ${native.opt}), ${cpus()[0]?.model ?? '?'} × ${cpus().length}`);
    lines.push('');
    lines.push(`| Measurement | wasm-tls | node:tls | native rustls | ${WASM_ONLY} | wasm-tls / node:tls | native rustls / node:tls | wasm crypto / node:tls |`);
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const t of tests) {
      const s = samples.get(t);
      const [w, n, r, o] = ['wasm-tls', 'node:tls', 'native rustls', WASM_ONLY].map((k) => (s[k] ? median(s[k]) : undefined));
      const other = (v, k) => (v === undefined ? ['—', ''] : [fmt(v), ratio(s[k], s['node:tls'])]);
      const [native, only] = [other(r, 'native rustls'), other(o, WASM_ONLY)];
      lines.push(`| ${t.label} | ${fmt(w)} | ${fmt(n)} | ${native[0]} | ${only[0]} | ${ratio(s['wasm-tls'], s['node:tls'])} | ${native[1]} | ${only[1]} |`);
    }
    const kb = (b) => (b / 1000).toFixed(1);
    lines.push(`| pkg/wasm_tls_bg.wasm raw (KB) | ${kb(sizes.raw)} | — | — | — | | | |`);
    lines.push(`| pkg/wasm_tls_bg.wasm gzip -9 (KB) | ${sizes.gzip === null ? 'no gzip here' : kb(sizes.gzip)} | — | — | — | | | |`);
    lines.push(`| pkg/wasm_tls_bg.wasm zlib level 9 (KB) | ${kb(sizes.zlibGzip)} | — | — | — | | | |`);
    lines.push(`| pkg/wasm_tls_bg.wasm brotli q11 (KB) | ${kb(sizes.brotli)} | — | — | — | | | |`);
    lines.push('');
    lines.push('MB/s = 10^6 bytes/s; KB = 1000 bytes. Bulk: TLS 1.3, ECDSA P-256 cert, 16 KiB writes unless labelled, suite forced by the server;');
    lines.push(`bytes per measurement sized from the warm-up to take ~${bulkTarget} s. Handshakes: TLS 1.3 ${HANDSHAKE_SUITE}, sequential,`);
    lines.push(`${hsSecs} s per measurement, full or resumed as labelled (checked on the server). Server rows: "server sends" = the client receives.`);
    lines.push(`"${WASM_ONLY}": wasm-tls with AEADs, signatures and verification all in wasm (ring), as in browsers and workerd.`);
    lines.push('');
    lines.push('Samples (spread = max/min − 1):');
    for (const t of tests) {
      const s = samples.get(t);
      const parts = t.candidates.map((c) => {
        const xs = s[c.name];
        const spread = ((Math.max(...xs) / Math.min(...xs) - 1) * 100).toFixed(1);
        return `${c.name} [${xs.map(fmt).join(', ')}] ±${spread}%${t.bytes ? ` @${t.bytes[c.name] / MiB} MiB` : ''}`;
      });
      lines.push(`- ${t.label}: ${parts.join('; ')}`);
    }
    const errs = Object.entries(serverErrors)
      .map(([name, m]) => `${name}: ${Object.entries(m).map(([k, v]) => `${k} ×${v}`).join(', ')}`);
    lines.push(`Server-side connection errors: ${errs.length ? errs.join('; ') : 'none'}.`);
    lines.push('');
    lines.push(`Total time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    console.log(lines.join('\n'));
  } finally {
    for (const server of Object.values(servers)) server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') {
  await serverMain(process.argv[4], process.argv[3]);
} else {
  try {
    await main();
    process.exit(0);
  } catch (e) {
    console.error(`bench: FAILED: ${e.stack ?? e}`);
    process.exit(1);
  }
}
