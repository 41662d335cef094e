// wasm-tls in Chromium, bundled by webpack from www/ (the demo `npm start`
// serves): the demo page through the relay to node:https and to openssl
// s_server; a wasm-tls server in a Web Worker and a client in the page over a
// MessageChannel; the clear error without a relay. Screenshots go to test-results/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import ntls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { buildBundle, startDemo } from '../../bin/lib/demo.js';
import { certs } from './helpers/certs.js';
import { bytes, opensslServer, sha256 } from './helpers/peers.js';
import { launchChromium, pageResult } from './helpers/chromium.js';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const TEST_ROOT = 'O = wasm-tls tests, CN = Test Root CA';
const TEST_INTERMEDIATE = 'O = wasm-tls tests, CN = Test Intermediate CA';

/** openssl s_server -www (answers GET with a page describing the connection). */
const wwwServer = (...args) => opensslServer(['-www', '-naccept', '1000', ...args]);

let demo;
let s13; // TLS 1.3, EC leaf under an intermediate
let s12; // TLS 1.2 only, RSA leaf
let browser;

before(async () => {
  const assets = await buildBundle();
  for (const a of assets) console.log(`www/dist/${a.name}: ${a.size} bytes, gzip ${a.gzip}, brotli ${a.brotli}`);
  s13 = await wwwServer('-key', certs.path('chained.key'), '-cert', certs.path('chained.crt'),
    '-cert_chain', certs.path('inter.crt'));
  s12 = await wwwServer('-key', certs.path('rsa.key'), '-cert', certs.path('rsa.crt'), '-tls1_2');
  demo = await startDemo({ allow: [`127.0.0.1:${s13.port}`, `127.0.0.1:${s12.port}`] });
  mkdirSync(RESULTS, { recursive: true });
  browser = await launchChromium();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await demo?.close();
  await s13?.close();
  await s12?.close();
});

/** A Chromium page for test `t`, closed after it. */
async function newPage(t) {
  const page = await browser.newPage();
  t.after(() => page.close());
  return page;
}

/** The demo page's result for the given query string. */
async function demoPage(t, query = {}) {
  const page = await newPage(t);
  await page.goto(`${demo.url}?${new URLSearchParams(query)}`);
  const result = await pageResult(page, 'demoResult');
  return { page, result };
}

const fingerprint = (pem) => new X509Certificate(pem).fingerprint256;

/** What node:tls says about the same server (the oracle for verification verdicts). */
async function nodeVerdict(port, options) {
  const socket = ntls.connect({ host: '127.0.0.1', port, ...options });
  const [err] = await Promise.race([once(socket, 'secureConnect').then(() => [null]), once(socket, 'error')]);
  socket.destroy();
  return err;
}

test('demo page: through the relay to node:https, chain, HTTP GET', { timeout: 120_000 }, async (t) => {
  const { page, result } = await demoPage(t);
  assert.equal(result.state, 'done', JSON.stringify(result.error));
  const h = result.handshake;
  assert.equal(h.protocol, 'TLSv1.3');
  assert.equal(h.alpnProtocol, 'http/1.1');
  assert.equal(h.authorized, true);
  assert.equal(h.authorizationError, null);
  assert.equal(h.relay, demo.config.relay);
  assert.ok(h.timeMs > 0);
  assert.deepEqual(result.chain.map((c) => c.subject), ['O = wasm-tls demo, CN = localhost', 'O = wasm-tls demo, CN = wasm-tls demo CA']);
  assert.deepEqual(result.chain.map((c) => c.fingerprint256), [fingerprint(demo.pki.certPem), fingerprint(demo.pki.caPem)]);
  assert.equal(result.chain[0].subjectaltname, 'DNS:localhost, IP Address:127.0.0.1');
  assert.equal(result.chain[0].validTo, new X509Certificate(demo.pki.certPem).validTo);
  assert.equal(result.http.statusCode, 200);
  assert.equal(result.http.httpVersion, '1.1');
  const body = JSON.parse(result.http.body);
  assert.match(body.message, /^Hello from node:https!/);
  // The server's own view of the same connection.
  assert.deepEqual(body.seenByServer, {
    protocol: h.protocol, cipher: h.cipher.standardName, alpnProtocol: 'http/1.1', servername: 'localhost',
  });
  assert.equal(body.request.headers.host, `localhost:${demo.config.port}`);
  assert.deepEqual(result.events, ['tls.connect()', 'connect', 'secureConnect', 'response', 'end', 'close']);
  assert.deepEqual(page.problems, []);
  await page.screenshot({ path: `${RESULTS}browser-demo.png`, fullPage: true });
});

test('demo page: a chunked response is decoded', { timeout: 120_000 }, async (t) => {
  const { result } = await demoPage(t, { path: '/chunked' });
  assert.equal(result.state, 'done', JSON.stringify(result.error));
  const header = (name) => result.http.headers.find(([k]) => k.toLowerCase() === name)?.[1];
  assert.equal(header('transfer-encoding'), 'chunked');
  assert.equal(header('content-length'), undefined);
  const body = JSON.parse(result.http.body);
  assert.equal(body.request.url, '/chunked');
  assert.match(body.message, /^Hello from node:https!/);
});

test('demo page: openssl s_server -www, TLS 1.3, chain up to the CA given in the page', { timeout: 120_000 }, async (t) => {
  const { page, result } = await demoPage(t, {
    host: '127.0.0.1', port: s13.port, servername: 'localhost', ca: certs.ca, path: '/',
  });
  assert.equal(result.state, 'done', JSON.stringify(result.error));
  const h = result.handshake;
  assert.equal(h.protocol, 'TLSv1.3');
  assert.equal(h.authorized, true);
  assert.equal(h.alpnProtocol, false); // s_server offers no ALPN: Node reports false
  assert.deepEqual(result.chain.map((c) => c.subject), ['CN = localhost', TEST_INTERMEDIATE, TEST_ROOT]);
  assert.deepEqual(result.chain.map((c) => c.issuer), [TEST_INTERMEDIATE, TEST_ROOT, TEST_ROOT]);
  assert.equal(result.chain[2].fingerprint256, fingerprint(certs.ca));
  assert.equal(result.http.httpVersion, '1.0');
  assert.equal(result.http.statusCode, 200);
  // s_server's page names the protocol and cipher it negotiated.
  assert.match(result.http.body, new RegExp(`New, TLSv1\\.3, Cipher is ${h.cipher.standardName}\\b`));
  assert.deepEqual(page.problems, []);
  await page.screenshot({ path: `${RESULTS}browser-demo-openssl.png`, fullPage: true });
});

test('demo page: openssl s_server -www, TLS 1.2 with an RSA certificate', { timeout: 120_000 }, async (t) => {
  const { result } = await demoPage(t, { host: '127.0.0.1', port: s12.port, servername: 'localhost', ca: certs.ca });
  assert.equal(result.state, 'done', JSON.stringify(result.error));
  const h = result.handshake;
  assert.equal(h.protocol, 'TLSv1.2');
  assert.match(h.cipher.name, /^ECDHE-RSA-/);
  assert.equal(h.cipher.version, 'TLSv1.2');
  assert.equal(h.authorized, true);
  assert.match(result.http.body, new RegExp(`New, TLSv1\\.2, Cipher is ${h.cipher.name}\\b`));
});

test('demo page: a chain the page cannot verify fails with the code node:tls gives', { timeout: 120_000 }, async (t) => {
  const expected = await nodeVerdict(s13.port, { servername: 'localhost' });
  assert.ok(expected?.code, 'node:tls must refuse this chain');
  const { result } = await demoPage(t, { host: '127.0.0.1', port: s13.port, servername: 'localhost', ca: '' });
  assert.equal(result.state, 'error');
  assert.equal(result.error.code, expected.code);
  assert.equal(result.handshake, undefined);
});

test('demo page: the relay refuses a destination outside its allowlist', { timeout: 120_000 }, async (t) => {
  const { result } = await demoPage(t, { host: '127.0.0.1', port: demo.site.address().port });
  assert.equal(result.state, 'error');
  assert.match(result.error.message, /1008.*not allowed/);
  assert.equal(result.handshake, undefined);
});

test('demo page without a relay: tls.connect({ host, port }) says there is no TCP', { timeout: 120_000 }, async (t) => {
  const { page, result } = await demoPage(t, { relay: '' });
  assert.equal(result.state, 'error');
  assert.equal(result.error.code, 'ERR_WASM_TLS_NO_TCP');
  assert.match(result.error.message, /relay/);
  assert.deepEqual(result.events, []);
  assert.match(await page.textContent('#status'), /^ERR_WASM_TLS_NO_TCP: /);
});

test('worker page: wasm-tls server in a Web Worker, client in the page, over a MessageChannel', { timeout: 120_000 }, async (t) => {
  const size = 1 << 20;
  const seed = 7;
  const page = await newPage(t);
  await page.goto(`${demo.url}worker.html?size=${size}&seed=${seed}`);
  const result = await pageResult(page, 'workerResult');
  assert.equal(result.state, 'done', JSON.stringify(result.error ?? result.workerErrors));
  const { client, server, echo } = result;
  assert.equal(client.protocol, 'TLSv1.3');
  assert.equal(server.protocol, 'TLSv1.3');
  assert.equal(client.cipher.standardName, server.cipher.standardName);
  assert.equal(client.alpnProtocol, 'echo/1');
  assert.equal(server.alpnProtocol, 'echo/1');
  assert.equal(server.servername, 'localhost');
  assert.equal(client.authorized, true);
  assert.equal(client.peerSubject.CN, 'localhost');
  const expected = sha256(bytes(size, seed)); // the same bytes, made and hashed in Node
  assert.equal(echo.sentSha256, expected);
  assert.equal(echo.receivedSha256, expected);
  assert.equal(echo.receivedBytes, size);
  assert.equal(result.serverEchoed, size);
  assert.deepEqual(result.workerErrors, []);
  assert.deepEqual(page.problems, []);
  await page.screenshot({ path: `${RESULTS}browser-worker.png`, fullPage: true });
});
