// The demo's local pieces: a throwaway CA and server certificate made with the
// `openssl` CLI, a node:tls echo server (the terminal demo), and for the browser
// demo a node:https server, the webpack bundle of www/, a static server for it
// and the relay, all on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import nodeTls from 'node:tls';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

/** Runs `openssl ...args` in `dir`; a failure carries openssl's own stderr. */
function openssl(dir, args) {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const detail = e.code === 'ENOENT' ? 'the openssl command was not found' : String(e.stderr || e.message).trim();
    throw Object.assign(new Error(`openssl ${args[0]} failed: ${detail}`), { code: 'ERR_OPENSSL_CLI' });
  }
}

/**
 * Makes a CA and a leaf for localhost/127.0.0.1 (P-256 keys, valid 7 days) in a
 * fresh temporary directory, removed when the process exits.
 * @returns {{ caPem: string, keyPem: string, certPem: string }}
 */
export function makeLocalPki() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-tls-cli-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, ['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'ca_ext', ...newKey,
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7', '-subj', '/O=wasm-tls demo/CN=wasm-tls demo CA']);
  openssl(dir, ['req', '-new', '-config', 'openssl.cnf', ...newKey,
    '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/O=wasm-tls demo/CN=localhost']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '7',
    '-extfile', 'openssl.cnf', '-extensions', 'leaf_ext', '-out', 'server.pem']);
  const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8');
  return { caPem: read('ca.pem'), keyPem: read('server.key'), certPem: read('server.pem') };
}

/**
 * A node:tls server on 127.0.0.1 (a free port) that echoes what it receives and
 * sends its chain (leaf + CA).
 * @param {{ caPem: string, keyPem: string, certPem: string }} pki
 * @returns {Promise<import('node:tls').Server>}
 */
export function startEchoServer(pki) {
  const server = nodeTls.createServer({
    key: pki.keyPem,
    cert: pki.certPem + pki.caPem,
    ALPNProtocols: ['h2', 'http/1.1'],
  }, (socket) => {
    socket.on('error', () => {}); // the client's verdict is what the demo reports
    socket.pipe(socket);
  });
  return listen(server);
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WWW = path.join(ROOT, 'www');

/** An Error with a Node-style `code`. */
const codedError = (code, message) => Object.assign(new Error(message), { code });

/** Listens on 127.0.0.1:`port` (0: a free one); resolves with the server. */
function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Bundles www/ with webpack.config.js (the webpack API, as `npx webpack` would).
 * @returns {Promise<Array<{ name: string, size: number, gzip: number, brotli: number }>>} the emitted files (bytes)
 */
export async function buildBundle({ mode = 'production' } = {}) {
  const { default: webpack } = await import('webpack');
  const { default: makeConfig } = await import(new URL('../../webpack.config.js', import.meta.url).href);
  const compiler = webpack(makeConfig({}, { mode }));
  const stats = await new Promise((resolve, reject) => {
    compiler.run((err, result) => compiler.close(() => (err ? reject(err) : resolve(result))));
  });
  if (stats.hasErrors()) throw codedError('ERR_DEMO_BUILD', `webpack failed:\n${stats.toString('errors-only')}`);
  const dist = stats.compilation.outputOptions.path;
  return stats.toJson({ assets: true }).assets.map(({ name, size }) => {
    const data = fs.readFileSync(path.join(dist, name));
    return {
      name,
      size,
      gzip: zlib.gzipSync(data, { level: 9 }).byteLength,
      brotli: zlib.brotliCompressSync(data).byteLength,
    };
  });
}

/**
 * A node:https server that answers every request with JSON describing what it
 * saw: its own view of the TLS connection and the request.
 * @param {{ caPem: string, keyPem: string, certPem: string }} pki
 * @returns {Promise<import('node:https').Server>}
 */
export function startHttpsServer(pki) {
  const server = https.createServer({
    key: pki.keyPem,
    cert: pki.certPem + pki.caPem,
    ALPNProtocols: ['http/1.1'],
  }, (req, res) => {
    const tlsSocket = /** @type {import('node:tls').TLSSocket} */ (req.socket);
    const body = JSON.stringify({
      message: 'Hello from node:https! This answer crossed the relay encrypted; wasm-tls decrypted it in your page.',
      seenByServer: {
        protocol: tlsSocket.getProtocol(),
        cipher: tlsSocket.getCipher().standardName,
        alpnProtocol: tlsSocket.alpnProtocol,
        servername: tlsSocket.servername,
      },
      request: { method: req.method, url: req.url, httpVersion: req.httpVersion, headers: req.headers },
    }, null, 2);
    const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
    if (req.url === '/chunked') {
      // Three chunks and no length: Transfer-Encoding: chunked, for the page's decoder.
      res.writeHead(200, headers);
      const third = Math.ceil(body.length / 3);
      for (let at = 0; at < body.length; at += third) res.write(body.slice(at, at + third));
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.on('tlsClientError', () => {}); // the page reports its own side
  return listen(server);
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm', // instantiateStreaming insists on it
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * A static file server for `root` (www/) on 127.0.0.1, plus `/config.json`
 * answered from `config()` (the page's defaults: target, relay, CA).
 * @param {{ root?: string, port?: number, config?: () => object }} options
 * @returns {Promise<import('node:http').Server>}
 */
export function startStaticServer({ root = WWW, port = 0, config = () => ({}) } = {}) {
  const send = (res, status, type, body, head) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };
  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) return send(res, 405, 'text/plain', 'method not allowed\n');
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      return send(res, 400, 'text/plain', 'bad path\n');
    }
    if (pathname === '/config.json') return send(res, 200, CONTENT_TYPES['.json'], JSON.stringify(config()), head);
    let file = path.join(root, path.normalize(pathname));
    if (file !== root && !file.startsWith(root + path.sep)) return send(res, 404, 'text/plain', 'not found\n');
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) return send(res, 404, 'text/plain', 'not found\n', head);
      send(res, 200, CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', data, head);
    });
  });
  return listen(server, port);
}

/**
 * The browser demo's servers, all on 127.0.0.1: a node:https server (a fresh
 * local CA), the relay allowing only it (and `allow`), and the static server
 * for www/ whose config.json points the page at them. The bundle must exist
 * (buildBundle()).
 * @param {{ port?: number, allow?: string[], log?: false | ((line: string) => void) }} [options]
 *   port: the static server's (0: any free one); allow: more relay destinations (host:port)
 */
export async function startDemo({ port = 0, allow = [], log = false } = {}) {
  const { createRelay } = await import('../../relay/relay.js');
  const pki = makeLocalPki();
  const closers = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn();
  };
  try {
    const httpsServer = await startHttpsServer(pki);
    closers.push(() => closeServer(httpsServer));
    const httpsPort = httpsServer.address().port;
    // An explicit 127.0.0.1:PORT entry is what lets the relay reach a loopback address.
    const relay = createRelay({ allow: [`127.0.0.1:${httpsPort}`, ...allow], log });
    await relay.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => relay.close());
    const config = {
      host: '127.0.0.1',
      port: httpsPort,
      servername: 'localhost',
      path: '/',
      relay: relay.url,
      ca: pki.caPem,
      autoConnect: true,
      // worker.html's server in a Web Worker: a throwaway demo key, made for this run only.
      worker: { key: pki.keyPem, cert: pki.certPem + pki.caPem, ca: pki.caPem, servername: 'localhost' },
    };
    const site = await startStaticServer({ port, config: () => config });
    closers.push(() => closeServer(site));
    return { url: `http://127.0.0.1:${site.address().port}/`, config, pki, relay, httpsServer, site, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Closes a node:http(s) server and its connections. */
function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
