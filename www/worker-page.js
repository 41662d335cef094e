// worker.html: a wasm-tls client in the page and a wasm-tls server in a Web
// Worker (tls-worker.js), joined by a MessageChannel. The page sends a
// deterministic payload, reads the echo and compares SHA-256 digests.
// Results go to `window.workerResult` and `document.body.dataset.state`.
import tls from 'wasm-tls';
import { messagePortTransport } from 'wasm-tls/transports';
import { concat } from './bytes.js';

const $ = (id) => document.getElementById(id);

/** xorshift32 bytes, the same as tests/js/helpers/peers.js bytes(n, seed). */
function payload(n, seed) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));
const errorData = (e) => ({ code: e?.code ?? e?.name ?? 'Error', message: String(e?.message ?? e) });

function facts(id, rows) {
  $(id).replaceChildren(...rows.flatMap(([term, value, className]) => {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = term;
    dd.textContent = value;
    if (className) dd.className = className;
    return [dt, dd];
  }));
}

function setStatus(text, state) {
  $('status').textContent = text;
  document.body.dataset.state = state;
}

async function loadSettings() {
  const res = await fetch('config.json', { cache: 'no-store' });
  if (!res.ok) throw Object.assign(new Error(`config.json: HTTP ${res.status}`), { code: 'ERR_DEMO_CONFIG' });
  const config = await res.json();
  if (!config.worker) throw Object.assign(new Error('config.json has no worker key/cert'), { code: 'ERR_DEMO_CONFIG' });
  const query = new URLSearchParams(location.search);
  return {
    ...config.worker, // key, cert (chain), ca, servername
    size: Number(query.get('size') ?? 1 << 20),
    seed: Number(query.get('seed') ?? 1),
    ciphers: query.get('ciphers') ?? undefined, // e.g. TLS_AES_128_GCM_SHA256 (bench/browser.js)
    // 'upload': the worker counts what it receives instead of echoing it;
    // 'download': the worker sends `size` bytes (bench/browser.js)
    mode: query.get('mode') ?? 'echo',
  };
}

/** The worker, once its wasm-tls has loaded; its messages go to `onMessage`. */
function startWorker(onMessage) {
  const worker = new Worker(/* webpackChunkName: "tls-worker" */ new URL('./tls-worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.addEventListener('error', (e) => reject(Object.assign(new Error(`worker: ${e.message}`), { code: 'ERR_DEMO_WORKER' })));
    worker.addEventListener('message', ({ data }) => (data.type === 'ready' ? resolve(worker) : onMessage(data)));
  });
}

/** Resolves once the socket is secure; rejects with its error. */
const secure = (socket) => new Promise((resolve, reject) => {
  socket.once('secureConnect', resolve).once('error', reject);
});

/** Resolves with everything read until 'end'. */
const readAll = (socket) => new Promise((resolve, reject) => {
  const chunks = [];
  socket.on('data', (c) => chunks.push(c));
  socket.once('error', reject).once('end', () => resolve(concat(chunks)));
});

let worker;
let serverEvents;

async function run(settings) {
  const result = { state: 'running', server: null, client: null, echo: null, serverEchoed: null, workerErrors: [] };
  window.workerResult = result;
  setStatus('Starting the worker…', 'running');
  let serverClosed;
  const serverDone = new Promise((resolve) => { serverClosed = resolve; });
  serverEvents = (data) => {
    if (data.type === 'secure') {
      result.server = data.server;
      facts('server', [
        ['Protocol', data.server.protocol],
        ['Cipher', data.server.cipher.standardName],
        ['ALPN', data.server.alpnProtocol || 'none'],
        ['SNI received', data.server.servername || 'none'],
      ]);
    } else if (data.type === 'closed') {
      result.serverEchoed = data.echoed;
      serverClosed();
    } else if (data.type === 'error') {
      result.workerErrors.push(data.error);
    }
  };
  try {
    if (!worker) {
      worker = await startWorker((data) => serverEvents(data));
      worker.postMessage({ type: 'serve', key: settings.key, cert: settings.cert, mode: settings.mode, size: settings.size });
    }
    const channel = new MessageChannel();
    worker.postMessage({ type: 'accept', port: channel.port2 }, [channel.port2]);
    setStatus('Handshaking over the MessageChannel…', 'running');
    const started = performance.now();
    const socket = tls.connect({
      transport: messagePortTransport(channel.port1),
      ca: settings.ca,
      servername: settings.servername,
      ALPNProtocols: ['echo/1'],
      ciphers: settings.ciphers,
    });
    await secure(socket);
    const handshakeMs = performance.now() - started;
    const peer = socket.getPeerCertificate();
    result.client = {
      protocol: socket.getProtocol(),
      cipher: socket.getCipher(),
      alpnProtocol: socket.alpnProtocol,
      authorized: socket.authorized,
      authorizationError: socket.authorizationError,
      peerSubject: peer.subject,
      handshakeMs,
    };
    facts('client', [
      ['Protocol', result.client.protocol],
      ['Cipher', result.client.cipher.standardName],
      ['ALPN', result.client.alpnProtocol || 'none'],
      ['Verified', socket.authorized ? `yes (${peer.subject.CN}, issued by ${peer.issuer.CN})` : `no: ${socket.authorizationError}`,
        socket.authorized ? 'good' : 'bad'],
      ['Handshake', `${handshakeMs.toFixed(1)} ms`],
    ]);
    if (settings.mode === 'download') {
      const started = performance.now();
      let counted = 0;
      socket.on('data', (c) => { counted += c.byteLength; });
      await new Promise((resolve, reject) => socket.once('end', resolve).once('error', reject));
      socket.end();
      result.download = { receivedBytes: counted, ms: performance.now() - started };
      result.state = 'done';
      setStatus(`Downloaded ${counted} bytes in ${result.download.ms.toFixed(0)} ms`, 'done');
      return;
    }
    setStatus(`Echoing ${settings.size} bytes…`, 'running');
    const sent = payload(settings.size, settings.seed);
    const sentSha256 = await sha256(sent);
    const echoStarted = performance.now();
    const reading = readAll(socket);
    socket.end(sent);
    const received = await reading;
    const echoMs = performance.now() - echoStarted;
    if (settings.mode === 'upload') {
      result.upload = { sentBytes: sent.byteLength, countedByServer: Number(new TextDecoder().decode(received)), ms: echoMs };
      result.state = 'done';
      setStatus(`Uploaded ${sent.byteLength} bytes in ${echoMs.toFixed(0)} ms`, 'done');
      return;
    }
    await serverDone; // the worker's count of what it echoed
    result.echo = {
      sentBytes: sent.byteLength,
      receivedBytes: received.byteLength,
      sentSha256,
      receivedSha256: await sha256(received),
      ms: echoMs,
    };
    const same = result.echo.sentSha256 === result.echo.receivedSha256;
    facts('echo', [
      ['Sent', `${result.echo.sentBytes} bytes, SHA-256 ${result.echo.sentSha256}`],
      ['Received', `${result.echo.receivedBytes} bytes, SHA-256 ${result.echo.receivedSha256}`, same ? 'good' : 'bad'],
      ['Worker echoed', `${result.serverEchoed} bytes, then closed`],
      ['Round trip', `${echoMs.toFixed(0)} ms (${((2 * sent.byteLength) / 1e3 / echoMs).toFixed(1)} MB/s through TLS both ways)`],
    ]);
    result.state = 'done';
    setStatus(same ? 'The echo matches' : 'The echo differs', same ? 'done' : 'error');
  } catch (e) {
    result.error = errorData(e);
    result.state = 'error';
    setStatus(`${result.error.code}: ${result.error.message}`, 'error');
  }
}

const settings = await loadSettings().catch((e) => {
  setStatus(`${errorData(e).code}: ${errorData(e).message}`, 'error');
  window.workerResult = { state: 'error', error: errorData(e) };
});
if (settings) {
  const runOnce = async () => {
    $('run').disabled = true;
    await run(settings);
    $('run').disabled = false;
  };
  $('run').addEventListener('click', runOnce);
  runOnce();
}
