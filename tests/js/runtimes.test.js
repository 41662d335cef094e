// wasm-tls inside the real runtimes: Deno and Bun (their own TCP, client and
// server) and Cloudflare's workerd (connect() from cloudflare:sockets). This
// process starts the peers (node:tls, openssl s_server / s_client), runs the
// scripts in tests/runtimes/ inside each runtime, and compares what they report
// with what node:tls reports for the same peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import ntls from 'node:tls';
import { certs } from './helpers/certs.js';
import { nodeServer, opensslServer, sha256 } from './helpers/peers.js';
import { probeClientFeatures, probeServerFeatures, runClient } from '../runtimes/common.js';
import { probeServerErrors } from '../runtimes/server-errors.js';
import { probeStartTls } from '../runtimes/starttls.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(repo, 'node_modules', '.bin', name);
const TIMEOUT = 120_000;

// An app of its own that depends on wasm-tls: node_modules/wasm-tls links to
// this repository, so the runtimes resolve the package through its "exports".
const app = mkdtempSync(join(tmpdir(), 'wasm-tls-runtimes-'));
process.on('exit', () => rmSync(app, { recursive: true, force: true }));
mkdirSync(join(app, 'node_modules'));
symlinkSync(repo, join(app, 'node_modules', 'wasm-tls'), 'dir');
writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module', dependencies: { 'wasm-tls': '*' } }));
cpSync(join(repo, 'tests', 'runtimes'), app, { recursive: true });

// The narrowest permissions Deno needs: loopback TCP, the package's own files (the .wasm), our config.
const RUNTIMES = {
  // The baseline: the same scripts in Node (not in the loop below).
  node: (script) => [process.execPath, [script]],
  deno: (script, env = ['WASM_TLS_RT']) => [bin('deno'), ['run', '--no-prompt', '--allow-net=127.0.0.1', `--allow-read=${repo}`,
    `--allow-env=${env.join(',')}`, script]],
  bun: (script) => [bin('bun'), [script]],
};

/**
 * Runs `script` from the app inside `runtime` with `cfg` in WASM_TLS_RT.
 * `next()` resolves with its next JSON line; `exit` with its exit code.
 */
function launch(t, runtime, script, cfg, { watchdogMs = TIMEOUT - 10_000, env = {}, grantEnv = true } = {}) {
  const [command, args] = RUNTIMES[runtime](script, ['WASM_TLS_RT', ...(grantEnv ? Object.keys(env) : [])]);
  assert.ok(existsSync(command), `${command} is missing: run npm install`);
  const proc = spawn(command, args, {
    cwd: app,
    env: { ...process.env, WASM_TLS_RT: JSON.stringify(cfg), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines = [];
  const waiting = [];
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdout.on('data', (d) => {
    stdout += d;
    let nl;
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const value = JSON.parse(line);
      if (waiting.length) waiting.shift().resolve(value);
      else lines.push(value);
    }
  });
  const watchdog = setTimeout(() => proc.kill('SIGKILL'), watchdogMs);
  const exit = once(proc, 'exit').then(([code, signal]) => {
    clearTimeout(watchdog);
    for (const w of waiting.splice(0)) w.reject(new Error(`${runtime} ${script} exited (${code ?? signal}) early:\n${stderr}`));
    return code ?? signal;
  });
  t.after(() => proc.exitCode === null && proc.kill('SIGKILL'));
  return {
    next: () => (lines.length ? Promise.resolve(lines.shift())
      : new Promise((resolve, reject) => (proc.exitCode === null ? waiting.push({ resolve, reject })
        : reject(new Error(`${runtime} ${script} has exited:\n${stderr}`))))),
    exit,
    stderr: () => stderr,
  };
}

/** Runs a script to its end: its one JSON line, after checking it exited with 0. */
async function runScript(t, runtime, script, cfg, options) {
  const run = launch(t, runtime, script, cfg, options);
  const value = await run.next();
  assert.equal(await run.exit, 0, run.stderr());
  return value;
}

/** A node:tls echo server that records the SHA-256 of what each connection sent. */
async function echoServer(t, options) {
  const hashes = [];
  const srv = await nodeServer(options, (s) => {
    const chunks = [];
    s.on('data', (c) => { chunks.push(c); s.write(c); });
    s.on('end', () => { hashes.push(sha256(Buffer.concat(chunks))); s.end(); });
  });
  t.after(() => srv.close());
  return { ...srv, hashes };
}

/** Fields that differ between any two connections (ports, random payloads). */
function comparable(seen) {
  const { sent, received, entry, ...rest } = seen;
  return rest;
}

/** A plaintext server that greets, answers STARTTLS, then speaks node:tls (echo) on the same socket. */
async function startTlsServer(t) {
  const sockets = new Set();
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('error', () => {});
    raw.write('220 ready\n');
    raw.once('data', () => {
      raw.write('220 go ahead\n', () => {
        const secure = new ntls.TLSSocket(raw, { isServer: true, secureContext: ntls.createSecureContext(certs.ec) });
        secure.on('error', () => {});
        secure.pipe(secure);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  return { port: server.address().port };
}

/** openssl s_client against 127.0.0.1:port with `args`, writing `input`; resolves with its output once it exits. */
async function sClient(port, args, input) {
  const proc = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
    '-CAfile', certs.path('ca.crt'), '-verify_return_error', '-ign_eof', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  proc.stdin.end(input);
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0, out);
  return out;
}

/** The session facts s_client prints. */
function sClientSaw(out) {
  return {
    protocol: /^\s*Protocol\s*:\s*(\S+)/m.exec(out)?.[1],
    cipher: /^\s*Cipher\s*:\s*(\S+)/m.exec(out)?.[1],
    verify: /Verify return code: (\d+ \([^)]*\))/.exec(out)?.[1],
  };
}

for (const runtime of ['deno', 'bun']) {
  test(`${runtime}: client over ${runtime}'s own TCP against a node:tls server matches node:tls`, { timeout: TIMEOUT }, async (t) => {
    const srv = await echoServer(t, { ...certs.chained, ALPNProtocols: ['http/1.1'] });
    const size = 2 << 20; // large enough that the runtime's socket takes it in parts
    const cfg = {
      port: srv.port,
      options: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] },
      send: { size },
      expect: size,
    };
    const seen = await runScript(t, runtime, 'client.js', cfg);
    assert.equal(seen.error, undefined, JSON.stringify(seen.error));
    assert.equal(seen.entry, new URL(`../../js/entry/${runtime}.js`, import.meta.url).href,
      'the package resolves to its own entry through "exports"');
    const oracle = await runClient(ntls, { ...cfg, send: { size: 1 }, expect: 1 });
    // Protocol, cipher, verdict, ALPN, addresses, the detailed peer chain, event order: all as node:tls.
    assert.deepEqual(comparable(seen), comparable(JSON.parse(JSON.stringify(oracle))));
    assert.equal(seen.protocol, 'TLSv1.3');
    assert.equal(seen.authorized, true);
    assert.equal(seen.alpnProtocol, 'http/1.1');
    assert.deepEqual(seen.peer.issuerCertificate.subject, { O: 'wasm-tls tests', CN: 'Test Intermediate CA' });
    // Every byte went through and came back.
    assert.deepEqual(seen.received, seen.sent);
    assert.equal(seen.sent.length, size);
    assert.equal(srv.hashes[0], seen.sent.sha256);
  });

  test(`${runtime}: client against openssl s_server (TLS 1.2, RSA, ALPN) matches node:tls`, { timeout: TIMEOUT }, async (t) => {
    const srv = await opensslServer(['-cert', certs.path('rsa.crt'), '-key', certs.path('rsa.key'), '-tls1_2',
      '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256', '-alpn', 'h2', '-rev']);
    t.after(() => srv.close());
    const cfg = {
      port: srv.port,
      options: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] },
      send: { text: 'hello from the runtime\n' },
      expect: 23,
    };
    const seen = await runScript(t, runtime, 'client.js', cfg);
    assert.equal(seen.error, undefined, JSON.stringify(seen.error));
    assert.equal(seen.received.text, 'emitnur eht morf olleh\n');
    assert.equal(seen.protocol, 'TLSv1.2');
    assert.deepEqual(seen.cipher, { name: 'ECDHE-RSA-AES128-GCM-SHA256', standardName: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', version: 'TLSv1.2' });
    assert.equal(seen.alpnProtocol, 'h2');
    assert.match(srv.output(), /Protocol version: TLSv1\.2/);
    assert.match(srv.output(), /Ciphersuite: ECDHE-RSA-AES128-GCM-SHA256/);
    // s_server serves one connection at a time: node:tls goes second.
    const oracle = await runClient(ntls, cfg);
    assert.deepEqual(comparable(seen), comparable(JSON.parse(JSON.stringify(oracle))));
  });

  test(`${runtime}: half-open: the server ends first, the client still sends (allowHalfOpen)`, { timeout: TIMEOUT }, async (t) => {
    const got = [];
    const srv = await nodeServer({ ...certs.ec, allowHalfOpen: true }, (s) => {
      const chunks = [];
      s.on('data', (c) => chunks.push(c));
      s.on('end', () => got.push(Buffer.concat(chunks).toString()));
      s.end('bye first\n');
    });
    t.after(() => srv.close());
    const cfg = {
      port: srv.port,
      options: { ca: certs.ca, servername: 'localhost', allowHalfOpen: true },
      send: { text: 'sent after your end\n' },
      expect: 10,
    };
    const seen = await runScript(t, runtime, 'client.js', cfg);
    assert.equal(seen.error, undefined, JSON.stringify(seen.error));
    const oracle = await runClient(ntls, cfg);
    assert.deepEqual(comparable(seen), comparable(JSON.parse(JSON.stringify(oracle))));
    assert.equal(seen.received.text, 'bye first\n');
    assert.deepEqual(got, ['sent after your end\n', 'sent after your end\n']);
  });

  test(`${runtime}: a refused connection fails as node:tls does`, { timeout: TIMEOUT }, async (t) => {
    const srv = await echoServer(t, certs.ec);
    const port = srv.port;
    await srv.close(); // nothing listens there now
    const cfg = { port, options: { ca: certs.ca, servername: 'localhost' }, send: { size: 1 }, expect: 1 };
    const seen = await runScript(t, runtime, 'client.js', cfg);
    const oracle = await runClient(ntls, cfg);
    assert.equal(oracle.error.code, 'ECONNREFUSED');
    // Code, syscall, address, port and Node's message ("connect ECONNREFUSED 127.0.0.1:port").
    assert.deepEqual(seen.error, oracle.error);
    assert.deepEqual(seen.events, oracle.events);
  });

  test(`${runtime}: the package loads unchanged through its "exports" and gives what Node gets`, { timeout: TIMEOUT }, async (t) => {
    const seen = await runScript(t, runtime, 'exports.js', {});
    const inNode = await runScript(t, 'node', 'exports.js', {});
    assert.equal(seen.entry, `js/entry/${runtime}.js`);
    assert.equal(inNode.entry, 'js/entry/node.js');
    assert.deepEqual({ ...seen, entry: null }, { ...inNode, entry: null });
    assert.ok(seen.rootCertificates.count > 100 && seen.sameRoots, JSON.stringify(seen.rootCertificates));
  });

  test(`${runtime}: sessions, keylog, X509Certificate, timeouts, verification errors, server limits and close as node:tls`, { timeout: TIMEOUT }, async (t) => {
    const srv = await echoServer(t, certs.ec);
    const startTls = await startTlsServer(t);
    const cfg = { port: srv.port, startTlsPort: startTls.port, ca: certs.ca, ...certs.ec };
    const { serverErrors, startTls: upgraded, ...seen } = await runScript(t, runtime, 'features.js', cfg);
    // STARTTLS: tls.connect({ socket }) over the runtime's own node:net socket (paused after
    // the plaintext exchange), as node:tls does, and as wasm-tls does in Node.
    const nodeUpgraded = await probeStartTls(ntls, net, cfg);
    assert.deepEqual(upgraded, nodeUpgraded);
    assert.deepEqual(await probeStartTls((await import('wasm-tls')).default, net, cfg), nodeUpgraded);
    assert.equal(upgraded.echoed, 'inside tls\n');
    const oracle = { client: await probeClientFeatures(ntls, cfg), server: await probeServerFeatures(ntls, cfg) };
    assert.deepEqual(seen, JSON.parse(JSON.stringify(oracle)));
    // Non-TLS peers: the runtime's transports report them as wasm-tls does in Node
    // (node:tls says ERR_SSL_HTTP_REQUEST and sends no alert to a plain HTTP request; wasm-tls differs).
    const { default: wasmTls } = await import('wasm-tls');
    assert.deepEqual(serverErrors, JSON.parse(JSON.stringify(await probeServerErrors(wasmTls, net, cfg))));
    assert.equal(serverErrors.errors[1].code, 'ECONNRESET');
    assert.equal(seen.client.resumed, true);
    assert.equal(seen.server.inUse.code, 'EADDRINUSE');
  });

  test(`${runtime}: NODE_TLS_REJECT_UNAUTHORIZED=0 as in Node${runtime === 'deno' ? ' (read only with --allow-env for it)' : ''}`, { timeout: TIMEOUT }, async (t) => {
    const srv = await echoServer(t, certs.ec);
    const cfg = { port: srv.port, options: { servername: 'localhost' }, send: { text: 'x' }, expect: 1 };
    const env = { NODE_TLS_REJECT_UNAUTHORIZED: '0' };
    const allowed = await runScript(t, runtime, 'client.js', cfg, { env });
    assert.equal(allowed.error, undefined, JSON.stringify(allowed.error));
    assert.deepEqual([allowed.authorized, allowed.authorizationError], [false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
    if (runtime === 'deno') {
      // Not granted: the default (verify) holds, with no permission prompt and no error of Deno's.
      const seen = await runScript(t, runtime, 'client.js', cfg, { env, grantEnv: false });
      assert.equal(seen.error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    }
  });

  test(`${runtime}: an unref()'d server and client let the process exit`, { timeout: TIMEOUT }, async (t) => {
    const srv = await echoServer(t, certs.ec);
    // The node:tls server keeps the connection open; only unref() lets the runtime exit (killed after 20 s).
    const seen = await runScript(t, runtime, 'unref.js', { port: srv.port, ca: certs.ca, ...certs.ec }, { watchdogMs: 20_000 });
    assert.deepEqual(seen, { event: 'secureConnect', listening: true });
  });

  test(`${runtime}: 40 node:tls clients at once on a server in ${runtime}, each echoed intact`, { timeout: TIMEOUT }, async (t) => {
    const n = 40;
    const run = launch(t, runtime, 'server.js', { servers: [{ reply: 'echo', options: certs.ec }], connections: n });
    const [{ port }] = (await run.next()).listening;
    const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const payload = randomBytes(64 * 1024 + i);
      const c = ntls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
      await once(c, 'secureConnect');
      const chunks = [];
      c.on('data', (d) => chunks.push(d));
      c.end(payload);
      await once(c, 'close');
      return sha256(Buffer.concat(chunks)) === sha256(payload);
    }));
    assert.deepEqual(results, Array(n).fill(true));
    const { seen, errors } = await run.next();
    assert.deepEqual(errors, []);
    assert.equal(seen.length, n);
    assert.deepEqual(seen.map((s) => s.received.length).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => 64 * 1024 + i));
    assert.equal(await run.exit, 0, run.stderr());
  });

  test(`${runtime}: tls.createServer().listen(0) on ${runtime}'s own TCP, with node:tls and openssl s_client`, { timeout: TIMEOUT }, async (t) => {
    const run = launch(t, runtime, 'server.js', {
      servers: [
        { reply: 'echo', options: { ...certs.ec, ca: certs.ca, requestCert: true, ALPNProtocols: ['h2', 'http/1.1'] } },
        { reply: 'line', options: { key: [certs.ec.key, certs.rsa.key], cert: [certs.ec.cert, certs.rsa.cert] } },
      ],
      connections: 3,
    });
    const { listening } = await run.next();
    for (const a of listening) assert.deepEqual({ ...a, port: 0 }, { address: '127.0.0.1', family: 'IPv4', port: 0 });
    const [echoPort, linePort] = listening.map((a) => a.port);

    // node:tls with a client certificate: 1 MiB echoed.
    const payload = randomBytes(1 << 20);
    const c = ntls.connect({ host: '127.0.0.1', port: echoPort, servername: 'localhost', ca: certs.ca,
      ...certs.client, ALPNProtocols: ['h2'] });
    await once(c, 'secureConnect');
    const client = { protocol: c.getProtocol(), cipher: c.getCipher(), authorized: c.authorized, alpnProtocol: c.alpnProtocol };
    const clientPort = c.localPort;
    const chunks = [];
    c.on('data', (d) => chunks.push(d));
    c.end(payload);
    await once(c, 'close');
    assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
    assert.deepEqual(client, { protocol: 'TLSv1.3', cipher: client.cipher, authorized: true, alpnProtocol: 'h2' });

    // openssl s_client, TLS 1.3 and TLS 1.2 (RSA), against the line server.
    const out13 = await sClient(linePort, ['-tls1_3'], 'hello 1.3\n');
    const out12 = await sClient(linePort, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'], 'hello 1.2\n');
    assert.match(out13, /got hello 1\.3/);
    assert.match(out12, /got hello 1\.2/);

    const { seen, errors, listening: still } = await run.next();
    assert.deepEqual(errors, []);
    assert.deepEqual(still, [false, false]);
    assert.equal(await run.exit, 0, `the runtime exits once its servers are closed\n${run.stderr()}`);
    const byServer = (i) => seen.filter((s) => s.server === i);
    const [echoSide] = byServer(0);
    assert.deepEqual({
      protocol: echoSide.protocol, cipher: echoSide.cipher, authorized: echoSide.authorized,
      alpnProtocol: echoSide.alpnProtocol,
    }, client);
    assert.equal(echoSide.servername, 'localhost');
    assert.equal(echoSide.peer.subject.CN, 'wasm-tls client');
    assert.equal(echoSide.remoteAddress, '127.0.0.1');
    assert.equal(echoSide.remotePort, clientPort);
    assert.deepEqual(echoSide.received, { length: payload.length, sha256: sha256(payload) });

    for (const out of [out13, out12]) {
      const saw = sClientSaw(out);
      assert.equal(saw.verify, '0 (ok)');
      const side = byServer(1).find((s) => s.protocol === saw.protocol);
      assert.ok(side, `the server saw a ${saw.protocol} connection: ${JSON.stringify(seen)}`);
      assert.equal(side.cipher.name, saw.cipher);
      assert.equal(side.servername, 'localhost');
      assert.equal(side.authorized, false); // no client certificate was asked for
    }
    assert.deepEqual(byServer(1).map((s) => s.protocol).sort(), ['TLSv1.2', 'TLSv1.3']);
  });
}

/**
 * Bundles tests/runtimes/worker.js as a Worker (esbuild, conditions workerd/worker/browser;
 * the .wasm stays a module of its own) and serves it with `workerd serve` on a
 * 127.0.0.1 socket this process opened. Resolves to `post(cfg)` -> the worker's JSON.
 */
async function startWorkerd(t, compatibilityFlags = []) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(app, 'worker.js')],
    outfile: join(app, 'worker.bundle.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:sockets'],
    logLevel: 'error',
    plugins: [{
      name: 'wasm-module',
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, () => ({ path: 'wasm_tls_bg.wasm', external: true }));
      },
    }],
  });
  cpSync(join(repo, 'pkg', 'wasm_tls_bg.wasm'), join(app, 'wasm_tls_bg.wasm'));
  // workerd takes the listening socket from us (fd 3): no port to guess.
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address();
  let config = 'workerd.capnp';
  if (compatibilityFlags.length) {
    config = `workerd-${compatibilityFlags.join('-')}.capnp`;
    const text = readFileSync(join(app, 'workerd.capnp'), 'utf8');
    writeFileSync(join(app, config), text.replace(/^(\s*)compatibilityDate = .*$/m,
      (line, indent) => `${line}\n${indent}compatibilityFlags = ${JSON.stringify(compatibilityFlags)},`));
  }
  const proc = spawn(bin('workerd'), ['serve', config, '--socket-fd', 'http=3'], {
    cwd: app, stdio: ['ignore', 'pipe', 'pipe', listener._handle.fd],
  });
  listener.close(); // workerd holds its own copy
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  t.after(() => proc.kill('SIGKILL'));
  // If workerd cannot start, say why instead of waiting on the queued request.
  const died = once(proc, 'exit').then(([code]) => { throw new Error(`workerd exited (${code}):\n${output}`); });
  died.catch(() => {});
  return async (cfg) => {
    const request = fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(cfg) }).catch(async (e) => {
      // The socket closes with workerd: give its exit (and output) a moment to be the reported cause.
      await Promise.race([died, new Promise((resolve) => setTimeout(resolve, 2000))]);
      throw e;
    });
    const res = await Promise.race([died, request]);
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${output}`);
    return JSON.parse(text);
  };
}

test('workerd: client over connect() (cloudflare:sockets, no nodejs_compat) against node:tls matches node:tls', { timeout: TIMEOUT }, async (t) => {
  const post = await startWorkerd(t);
  const srv = await echoServer(t, { ...certs.chained, ALPNProtocols: ['http/1.1'] });
  const size = 1 << 20;
  const cfg = {
    port: srv.port,
    options: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] },
    send: { size },
    expect: size,
  };
  const seen = await post(cfg);
  assert.equal(seen.error, undefined, JSON.stringify(seen.error));
  // No Node APIs in this worker: the package ran on its bundled polyfills.
  assert.equal(seen.hasProcess, 'undefined');
  const oracle = JSON.parse(JSON.stringify(await runClient(ntls, { ...cfg, send: { size: 1 }, expect: 1 })));
  // workerd's connect() does not tell the local address: left out on both sides.
  // Nor is there node:crypto's X509Certificate.
  const { localAddress, localPort, listen, hasProcess, rootCertificates, x509, ...rest } = comparable(seen);
  const { localAddress: a, localPort: p, x509: x, ...expected } = comparable(oracle);
  assert.deepEqual([localAddress, localPort, x509, x], [undefined, 'undefined', 'undefined', 'object']);
  assert.deepEqual(rest, expected);
  assert.equal(seen.protocol, 'TLSv1.3');
  assert.equal(seen.authorized, true);
  assert.equal(seen.peer.subject.CN, 'localhost');
  assert.deepEqual(seen.received, seen.sent);
  assert.equal(seen.sent.length, size);
  assert.equal(srv.hashes[0], seen.sent.sha256);
  // No listening sockets in workerd: a clear error, not a hang.
  assert.equal(seen.listen.code, 'ERR_WASM_TLS_NO_LISTEN');
  // tls.rootCertificates needs 'wasm-tls/root-certificates' imported first there.
  const inNode = (await import('wasm-tls')).default.rootCertificates.length;
  assert.deepEqual(seen.rootCertificates, ['ERR_WASM_TLS_ROOT_CERTIFICATES_UNAVAILABLE', inNode]);

  // A request and its response, as text.
  const response = 'HTTP/1.1 200 OK\r\nContent-Length: 19\r\nConnection: close\r\n\r\nhello from node:tls';
  const requests = [];
  const http = await nodeServer({ ...certs.ec, ALPNProtocols: ['http/1.1'] }, (s) => {
    s.once('data', (d) => { requests.push(String(d)); s.end(response); });
  });
  t.after(() => http.close());
  const asked = await post({
    port: http.port,
    options: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] },
    send: { text: 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' },
    expect: response.length,
  });
  assert.equal(asked.error, undefined, JSON.stringify(asked.error));
  assert.deepEqual(requests, ['GET / HTTP/1.1\r\nHost: localhost\r\n\r\n']);
  assert.equal(asked.received.text, response);
  assert.deepEqual([asked.protocol, asked.alpnProtocol, asked.authorized, asked.peer.subject.CN], ['TLSv1.3', 'http/1.1', true, 'localhost']);

  // A wasm-tls server inside the worker, over in-memory streams (server.emit('connection', pair)).
  const inWorker = await post({
    server: { ...certs.ec, ALPNProtocols: ['h2'] },
    options: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2'] },
    send: { size: 200_000 },
    expect: 200_000,
  });
  assert.equal(inWorker.client.error, undefined, JSON.stringify(inWorker.client.error));
  assert.deepEqual([inWorker.client.protocol, inWorker.client.authorized, inWorker.client.alpnProtocol], ['TLSv1.3', true, 'h2']);
  assert.deepEqual(inWorker.server, { protocol: 'TLSv1.3', servername: 'localhost', alpnProtocol: 'h2' });
  assert.deepEqual(inWorker.client.received, inWorker.client.sent);
  assert.deepEqual(inWorker.client.events, ['secureConnect', 'finish', 'end', 'close']); // no 'connect': the pair was open

  // The worker's own connect() socket, handed over as { transport }.
  const own = await post({ ...cfg, ownSocket: true, send: { size: 100_000 }, expect: 100_000 });
  assert.equal(own.error, undefined, JSON.stringify(own.error));
  assert.deepEqual([own.protocol, own.authorized, own.alpnProtocol], ['TLSv1.3', true, 'http/1.1']);
  assert.deepEqual(own.received, own.sent);
  assert.deepEqual(own.peer, seen.peer);

  // Without the CA, the verdict is node:tls's.
  const noCa = { ...cfg, options: { servername: 'localhost' }, send: { size: 1 }, expect: 1 };
  const rejected = await post(noCa);
  const oracleRejected = await runClient(ntls, noCa);
  assert.deepEqual({ code: rejected.error?.code, events: rejected.events },
    { code: oracleRejected.error.code, events: oracleRejected.events });

  // Nothing listening: an error and 'close', as node:tls; workerd says the same for refused and
  // not-allowed addresses, so there is no errno code to give (node:tls: ECONNREFUSED).
  await srv.close();
  const refused = await post({ ...cfg, send: { size: 1 }, expect: 1 });
  const oracleRefused = await runClient(ntls, { ...cfg, send: { size: 1 }, expect: 1 });
  assert.equal(oracleRefused.error.code, 'ECONNREFUSED');
  assert.deepEqual({ syscall: refused.error?.syscall, events: refused.events },
    { syscall: oracleRefused.error.syscall, events: oracleRefused.events }, JSON.stringify(refused));
  assert.match(refused.error.message, /cannot connect to the specified address/);
});

test("bun: the socket transport keeps what Bun's write() did not take and sends it on 'drain' (client and server side)", { timeout: TIMEOUT }, async (t) => {
  const size = 32 << 20; // more than loopback buffers hold while the peer does not read
  // A peer that reads nothing until resumed, then answers with the length and SHA-256 of all it got.
  const peers = [];
  const arrived = [];
  const slowPeer = (socket) => {
    socket.pause();
    const hash = createHash('sha256');
    let n = 0;
    socket.on('data', (d) => { hash.update(d); n += d.length; });
    socket.on('end', () => socket.end(`${n} ${hash.digest('hex')}`));
    peers.push(socket);
    arrived.shift()?.(socket);
  };
  const nextPeer = (i) => (peers[i] ? Promise.resolve(peers[i]) : new Promise((resolve) => arrived.push(resolve)));
  const server = net.createServer({ allowHalfOpen: true }, slowPeer);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { for (const p of peers) p.destroy(); server.close(); });

  const run = launch(t, 'bun', 'bun-transport.js', { repo, port: server.address().port, size });
  assert.deepEqual(await run.next(), { label: 'client', blocked: true });
  (await nextPeer(0)).resume();
  const client = await run.next();
  assert.equal(client.label, 'client');
  assert.ok(client.blockedAt > 0 && client.blockedAt < size && client.drains >= 1, JSON.stringify(client));
  assert.deepEqual(client.events, ['connect', 'end', 'close']);
  assert.equal(client.reply, `${size} ${client.sent}`);

  const { port } = await run.next();
  slowPeer(net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }));
  assert.deepEqual(await run.next(), { label: 'server', blocked: true });
  peers[1].resume();
  const accepted = await run.next();
  assert.ok(accepted.blockedAt > 0 && accepted.blockedAt < size && accepted.drains >= 1, JSON.stringify(accepted));
  assert.deepEqual(accepted.events, ['end', 'close']);
  assert.equal(accepted.reply, `${size} ${accepted.sent}`);
  assert.equal(await run.exit, 0, run.stderr());
});

test('deno in a terminal: tls.connect stops at no permission prompt (NODE_TLS_REJECT_UNAUTHORIZED set, env not granted)', { timeout: TIMEOUT }, async (t) => {
  const srv = await echoServer(t, certs.ec);
  const cfg = { port: srv.port, options: { ca: certs.ca, servername: 'localhost' }, send: { text: 'x' }, expect: 1 };
  // `script` gives Deno a terminal, where it would ask (and wait) rather than refuse.
  const [command, args] = RUNTIMES.deno('client.js');
  const line = [command, ...args.filter((a) => a !== '--no-prompt')].map((a) => `'${a}'`).join(' ');
  const proc = spawn('script', ['-qec', line, '/dev/null'], {
    cwd: app,
    env: { ...process.env, WASM_TLS_RT: JSON.stringify(cfg), NODE_TLS_REJECT_UNAUTHORIZED: '0', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const watchdog = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  t.after(() => { clearTimeout(watchdog); proc.kill('SIGKILL'); });
  const [code] = await once(proc, 'exit');
  assert.doesNotMatch(out, /Deno requests/);
  assert.equal(code, 0, out);
  const seen = JSON.parse(out.split(/\r?\n/).find((l) => l.startsWith('{')));
  assert.equal(seen.authorized, true);
});

test('workerd with nodejs_compat: the same client, and getPeerX509Certificate() through node:crypto', { timeout: TIMEOUT }, async (t) => {
  const post = await startWorkerd(t, ['nodejs_compat']);
  const srv = await echoServer(t, { ...certs.chained, ALPNProtocols: ['http/1.1'] });
  const cfg = {
    port: srv.port,
    options: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] },
    send: { size: 100_000 },
    expect: 100_000,
  };
  const seen = await post(cfg);
  assert.equal(seen.error, undefined, JSON.stringify(seen.error));
  assert.equal(seen.hasProcess, 'object');
  const oracle = JSON.parse(JSON.stringify(await runClient(ntls, { ...cfg, send: { size: 1 }, expect: 1 })));
  const { localAddress, localPort, listen, hasProcess, rootCertificates, ...rest } = comparable(seen);
  const { localAddress: a, localPort: p, ...expected } = comparable(oracle);
  assert.deepEqual(rest, expected); // x509 included: 'object' as in Node
  assert.deepEqual(seen.received, seen.sent);
  assert.equal(listen.code, 'ERR_WASM_TLS_NO_LISTEN');
});

test("listen() without a host in Deno and Bun: '::', else '0.0.0.0' where IPv6 is off, as net.Server", async () => {
  const { listenDefault } = await import('../../js/platform/ip.js');
  const fails = (code) => Object.assign(new Error(code), { code });
  const tried = [];
  const noIpv6 = (address) => {
    tried.push(address);
    if (address === '::') throw fails('EADDRNOTAVAIL');
    return address;
  };
  assert.equal(listenDefault(undefined, noIpv6), '0.0.0.0');
  assert.deepEqual(tried, ['::', '0.0.0.0']);
  assert.equal(listenDefault(undefined, (a) => a), '::');
  assert.equal(listenDefault('127.0.0.1', (a) => a), '127.0.0.1');
  // A port in use is the answer, not a reason to try IPv4.
  assert.throws(() => listenDefault(undefined, () => { throw fails('EADDRINUSE'); }), { code: 'EADDRINUSE' });
  // Both failing: the IPv6 error is reported.
  assert.throws(() => listenDefault(undefined, (a) => { throw fails(a === '::' ? 'EAFNOSUPPORT' : 'EINVAL'); }), { code: 'EAFNOSUPPORT' });
});
