// The CLI behind `npm start`: its report is checked against what node:tls and
// openssl say about the same connection; the browser demo's servers are
// checked from Node here (tests/js/browser.test.js drives the pages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';
import ntls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { WebSocket, createWebSocketStream } from 'ws';
import { certs } from './helpers/certs.js';
import { opensslServer } from './helpers/peers.js';

const cli = fileURLToPath(new URL('../../bin/wasm-tls.js', import.meta.url));

async function run(...args) {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const [code] = await once(proc, 'exit');
  return { code, out };
}

test('demo --once: local CA, echo server, report, echo', async () => {
  const { code, out } = await run('demo', '--once');
  assert.equal(code, 0, out);
  assert.match(out, /Protocol: TLSv1\.3/);
  assert.match(out, /Verification: OK/);
  assert.match(out, /ALPN protocol: http\/1\.1/);
  assert.match(out, /sha256 Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.match(out, /< hello from wasm-tls/);
});

test('connect HOST:PORT against openssl s_server, with and without the CA', async (t) => {
  const srv = await opensslServer(['-key', certs.path('ec.key'), '-cert', certs.path('ec.crt'), '-www']);
  t.after(() => srv.close());
  const trusted = await run('connect', `127.0.0.1:${srv.port}`, '--ca', certs.path('ca.crt'), '--servername', 'localhost');
  assert.equal(trusted.code, 0, trusted.out);
  assert.match(trusted.out, /Verification: OK/);
  assert.match(trusted.out, /s:CN = localhost/);
  const untrusted = await run('connect', `127.0.0.1:${srv.port}`);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.out, /^error: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate$/m);
  const insecure = await run('connect', `127.0.0.1:${srv.port}`, '--insecure');
  assert.equal(insecure.code, 0, insecure.out);
  assert.match(insecure.out, /Verify return code: 21 \(unable to verify the first certificate\)/);
  const usage = await run('connect');
  assert.equal(usage.code, 2);
});

/** Starts `wasm-tls ...args` and resolves once it prints the URL to open. */
async function startLongRunning(...args) {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = once(proc, 'exit');
  await new Promise((resolve, reject) => {
    const look = () => { if (/Ctrl-C stops/.test(out)) resolve(); };
    proc.stdout.on('data', look);
    exited.then(([code]) => reject(new Error(`exited ${code} before serving:\n${out}`)));
  });
  return { proc, exited, output: () => out };
}

/** GET over node:https (the demo's CA trusted); resolves { status, body }. */
function httpsGet(options) {
  return new Promise((resolve, reject) => {
    https.get(options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

/** A node:tls connection through the relay: a WebSocket to ?host=&port=, TLS over its stream. */
async function throughRelay(relay, port, ca) {
  const ws = new WebSocket(`${relay}?host=127.0.0.1&port=${port}`);
  const stream = createWebSocketStream(ws);
  stream.on('error', () => {});
  const socket = ntls.connect({ socket: stream, servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] });
  await once(socket, 'secureConnect');
  // write, not end: a WebSocket has no half-close, ending would close it before the answer.
  socket.write('GET /through-relay HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  let text = '';
  for await (const chunk of socket) text += chunk;
  return text;
}

test('npm start (no arguments): the browser demo servers, until SIGINT', async (t) => {
  // --skip-build: the page files are served whether or not the bundle exists.
  const demo = await startLongRunning('--port', '0', '--skip-build').catch(async (e) => {
    if (!/www\/dist has no bundle/.test(e.message)) throw e;
    t.diagnostic('no www/dist bundle: building it');
    return startLongRunning('--port', '0');
  });
  t.after(() => demo.proc.kill());
  const url = /Open (http:\/\/127\.0\.0\.1:\d+\/) in a browser/.exec(demo.output())?.[1];
  assert.ok(url, demo.output());
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(await page.text(), /<script defer src="dist\/demo\.js">/);
  assert.equal((await fetch(new URL('worker.html', url))).status, 200);
  assert.equal((await fetch(new URL('../package.json', url))).status, 404); // nothing outside www/
  const config = await (await fetch(new URL('config.json', url))).json();
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.servername, 'localhost');
  assert.match(config.relay, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(config.ca, /^-----BEGIN CERTIFICATE-----/);
  assert.match(demo.output(), new RegExp(`relay +${config.relay} \\(allows 127\\.0\\.0\\.1:${config.port} only\\)`));
  // The HTTPS server presents a chain under the CA the page is given.
  const direct = await httpsGet({ host: '127.0.0.1', port: config.port, path: '/', servername: 'localhost', ca: config.ca });
  assert.equal(direct.status, 200);
  assert.match(JSON.parse(direct.body).message, /^Hello from node:https!/);
  // The relay bridges to it, and to nothing else.
  const relayed = await throughRelay(config.relay, config.port, config.ca);
  assert.match(relayed, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(relayed, /"url": "\/through-relay"/);
  const refused = new WebSocket(`${config.relay}?host=127.0.0.1&port=${new URL(url).port}`);
  const [closeCode, reason] = await once(refused, 'close');
  assert.equal(closeCode, 1008);
  assert.match(String(reason), /not allowed/);
  demo.proc.kill('SIGINT');
  const [code] = await demo.exited;
  assert.equal(code, 0, demo.output());
  assert.match(demo.output(), /Stopping\.\n$/);
});

test('usage errors: demo and connect options kept apart', async () => {
  for (const args of [['demo', '--ca', 'x'], ['connect', 'h:1', '--once'], ['demo', '--once', '--port', '1'],
    ['demo', '--port', 'x'], ['demo', 'h:1'], ['serve']]) {
    const { code, out } = await run(...args);
    assert.equal(code, 2, `${args.join(' ')}: ${out}`);
    assert.match(out, /^error: /);
  }
});
