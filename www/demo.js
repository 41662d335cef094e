// The browser demo: wasm-tls connects through a WebSocket relay to a TLS
// server, shows the handshake and the peer's chain, then sends an HTTP/1.1 GET
// over the TLSSocket and shows the answer. Results also go to
// `window.demoResult` (and `document.body.dataset.state`) for the tests.
import tls from 'wasm-tls';
import { onelineName, peerChain } from '../bin/lib/report.js';
import { concat } from './bytes.js';

const RESPONSE_TIMEOUT_MS = 15_000;
const $ = (id) => document.getElementById(id);
const form = /** @type {HTMLFormElement} */ ($('target'));

/** Page settings: config.json (written by the server) under the query string. */
async function loadSettings() {
  let config = {};
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (res.ok) config = await res.json();
  } catch {
    // a static copy of www/ without a config: the form starts empty
  }
  const query = new URLSearchParams(location.search);
  const settings = { path: '/', ...config };
  for (const key of ['host', 'port', 'servername', 'path', 'relay', 'ca']) {
    if (query.has(key)) settings[key] = query.get(key);
  }
  settings.autoConnect = query.has('connect') ? query.get('connect') !== '0' : config.autoConnect !== false;
  return settings;
}

function fillForm(settings) {
  for (const key of ['host', 'port', 'servername', 'path', 'relay', 'ca']) {
    form.elements.namedItem(key).value = settings[key] ?? '';
  }
}

function readForm() {
  const value = (key) => form.elements.namedItem(key).value.trim();
  return {
    host: value('host'),
    port: Number(value('port')),
    servername: value('servername'),
    path: value('path') || '/',
    relay: value('relay'),
    ca: value('ca'),
  };
}

/** Creates an element with text and class; children appended. */
function el(tag, { text, className } = {}, ...children) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  node.append(...children);
  return node;
}

function setStatus(text, state) {
  $('status').textContent = text;
  document.body.dataset.state = state;
}

/** An error as plain data (code first, as Node errors carry it). */
const errorData = (e) => ({ code: e?.code ?? e?.name ?? 'Error', message: String(e?.message ?? e) });

const indexOfCrlfCrlf = (bytes) => {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
};

/** Decodes a chunked body; undefined while incomplete. */
function dechunk(bytes) {
  const parts = [];
  let at = 0;
  const latin1 = new TextDecoder('latin1');
  for (;;) {
    let eol = at;
    while (eol + 1 < bytes.length && !(bytes[eol] === 13 && bytes[eol + 1] === 10)) eol++;
    if (eol + 1 >= bytes.length) return undefined;
    const size = parseInt(latin1.decode(bytes.subarray(at, eol)), 16);
    if (!Number.isInteger(size)) throw Object.assign(new Error('bad chunk size in the response'), { code: 'ERR_DEMO_HTTP' });
    at = eol + 2;
    if (size === 0) return concat(parts);
    if (at + size + 2 > bytes.length) return undefined;
    parts.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * The HTTP/1.x response in `bytes`, or undefined while more is needed
 * (`ended`: the server has closed, so what is there is all there is).
 */
function parseResponse(bytes, ended) {
  const split = indexOfCrlfCrlf(bytes);
  if (split < 0) {
    if (ended) throw Object.assign(new Error('the server closed before a complete HTTP header'), { code: 'ERR_DEMO_HTTP' });
    return undefined;
  }
  const [statusLine, ...lines] = new TextDecoder('latin1').decode(bytes.subarray(0, split)).split('\r\n');
  const m = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(statusLine);
  if (!m) throw Object.assign(new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`), { code: 'ERR_DEMO_HTTP' });
  const headers = lines.map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
  });
  const header = (name) => headers.find(([k]) => k.toLowerCase() === name)?.[1];
  const rest = bytes.subarray(split + 4);
  let body;
  if (/chunked/i.test(header('transfer-encoding') ?? '')) {
    body = dechunk(rest);
  } else if (header('content-length') !== undefined) {
    const length = Number(header('content-length'));
    body = rest.length >= length ? rest.subarray(0, length) : undefined;
  } else {
    body = ended ? rest : undefined; // delimited by the close
  }
  if (body === undefined) {
    if (ended) throw Object.assign(new Error('the server closed in the middle of the body'), { code: 'ERR_DEMO_HTTP' });
    return undefined;
  }
  return {
    httpVersion: m[1],
    statusCode: Number(m[2]),
    statusMessage: m[3],
    headers,
    body: new TextDecoder().decode(body),
  };
}

/** Writes a GET and resolves with the parsed response (read until complete or closed). */
function httpGet(socket, { host, port, servername, path }) {
  const authority = `${servername || host}${port === 443 ? '' : `:${port}`}`;
  const request = `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: wasm-tls-demo\r\n` +
    'Accept: */*\r\nConnection: close\r\n\r\n';
  return new Promise((resolve, reject) => {
    const chunks = [];
    const check = (ended) => {
      let response;
      try {
        response = parseResponse(concat(chunks), ended);
      } catch (e) {
        return finish(e);
      }
      if (response) finish(null, response);
    };
    const onData = (chunk) => {
      chunks.push(chunk);
      check(false);
    };
    const onEnd = () => check(true);
    const onTimeout = () => finish(Object.assign(new Error(`no complete response within ${RESPONSE_TIMEOUT_MS / 1000} s`),
      { code: 'ETIMEDOUT' }));
    const finish = (err, response) => {
      socket.off('data', onData).off('end', onEnd).off('error', finish).off('timeout', onTimeout);
      socket.setTimeout(0);
      err ? reject(err) : resolve(response);
    };
    socket.on('data', onData).once('end', onEnd).once('error', finish).once('timeout', onTimeout);
    socket.setTimeout(RESPONSE_TIMEOUT_MS);
    socket.write(request);
  });
}

/** Resolves on 'secureConnect', rejects with the connection's error. */
function handshake(socket) {
  return new Promise((resolve, reject) => {
    const onError = (e) => {
      socket.off('secureConnect', onSecure);
      reject(e);
    };
    const onSecure = () => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('secureConnect', onSecure).once('error', onError);
  });
}

/** The chain as plain data, leaf first. */
function chainData(socket) {
  return peerChain(socket.getPeerCertificate(true)).map((cert) => ({
    subject: onelineName(cert.subject),
    subjectCN: cert.subject?.CN,
    issuer: onelineName(cert.issuer),
    selfSigned: cert.issuerCertificate === cert,
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    subjectaltname: cert.subjectaltname,
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
    key: cert.asn1Curve ? `EC ${cert.nistCurve ?? cert.asn1Curve} (${cert.bits} bits)` :
      cert.bits ? `RSA ${cert.bits} bits` : cert.pubkey ? 'other' : 'unknown',
    ca: cert.ca,
  }));
}

function renderFacts(facts) {
  const dl = $('handshake');
  dl.replaceChildren();
  for (const [term, value, className] of facts) {
    dl.append(el('dt', { text: term }), el('dd', { text: value, className }));
  }
}

function renderHandshake(h) {
  renderFacts([
    ['Protocol', h.protocol],
    ['Cipher', h.cipher.name === h.cipher.standardName ? h.cipher.name : `${h.cipher.standardName} (OpenSSL: ${h.cipher.name})`],
    ['ALPN', h.alpnProtocol || 'none negotiated'],
    ['Key exchange', h.ephemeralKey ? `${h.ephemeralKey.name ?? h.ephemeralKey.type} (${h.ephemeralKey.size} bits)` : 'not reported'],
    ['Verified', h.authorized ? 'yes: the chain leads to a trusted CA and names the host' : `no: ${h.authorizationError}`,
      h.authorized ? 'good' : 'bad'],
    ['Server name', h.servername || 'none sent'],
    ['Time taken', `${h.timeMs.toFixed(1)} ms from tls.connect() to secureConnect`],
    ['Through', h.relay ? `relay ${h.relay}` : 'no relay'],
  ]);
}

function daysLeft(validTo) {
  const days = Math.floor((Date.parse(validTo) - Date.now()) / 86_400_000);
  return Number.isNaN(days) ? '' : days < 0 ? ` (expired ${-days} days ago)` : ` (${days} days left)`;
}

function renderChain(chain) {
  const list = $('chain');
  list.replaceChildren();
  chain.forEach((cert, depth) => {
    const role = depth === 0 ? 'leaf' : cert.selfSigned ? 'root' : 'intermediate';
    const facts = el('dl', { className: 'facts' });
    const rows = [
      ['Subject', cert.subject],
      ['Issuer', cert.issuer],
      ['Valid', `${cert.validFrom} → ${cert.validTo}${daysLeft(cert.validTo)}`],
      ['Names (SAN)', cert.subjectaltname ?? 'none'],
      ['Key', cert.key],
      ['Serial', cert.serialNumber],
      ['SHA-256', cert.fingerprint256, 'fingerprint'],
    ];
    for (const [term, value, className] of rows) facts.append(el('dt', { text: term }), el('dd', { text: value, className }));
    list.append(el('li', {},
      el('h3', {}, el('span', { text: `${depth}`, className: 'depth' }), ` ${cert.subjectCN ?? cert.subject} `,
        el('span', { text: role, className: `role ${role}` })),
      facts));
  });
}

function renderHttp(http) {
  $('http-status').textContent = `HTTP/${http.httpVersion} ${http.statusCode} ${http.statusMessage}`;
  $('http-status').className = `status-line ${http.statusCode < 400 ? 'good' : 'bad'}`;
  const table = $('http-headers');
  table.replaceChildren(...http.headers.map(([k, v]) => el('tr', {}, el('th', { text: k }), el('td', { text: v }))));
  let body = http.body;
  try {
    body = JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    // not JSON: shown as it came
  }
  $('http-body').textContent = body;
}

function clearResults() {
  renderFacts([['Connecting…', '']]);
  $('chain').replaceChildren();
  $('http-status').textContent = '';
  $('http-headers').replaceChildren();
  $('http-body').textContent = '';
  $('log').replaceChildren();
}

/** Connects, reports, GETs; every step lands in window.demoResult. */
async function run(target) {
  const started = performance.now();
  const result = { state: 'running', target, events: [] };
  window.demoResult = result;
  clearResults();
  setStatus(`Connecting to ${target.host}:${target.port}…`, 'running');
  const log = (event, detail = '') => {
    const ms = performance.now() - started;
    result.events.push(event);
    $('log').append(el('li', {}, el('span', { text: `${ms.toFixed(1)} ms`, className: 'time' }),
      el('span', { text: event, className: 'event' }), detail ? ` ${detail}` : ''));
  };
  let socket;
  try {
    // Mozilla's roots are loaded apart from the wasm: a browser connection that trusts them awaits them.
    if (!target.ca) await tls.loadDefaultRoots();
    const connectAt = performance.now();
    socket = tls.connect({
      host: target.host,
      port: target.port,
      servername: target.servername || undefined,
      relay: target.relay || undefined,
      ca: target.ca || undefined,
      ALPNProtocols: ['http/1.1'],
    });
    log('tls.connect()', target.relay ? `through ${target.relay}` : 'without a relay');
    socket.on('connect', () => log('connect', target.relay ? 'the WebSocket to the relay is open' : ''));
    socket.on('end', () => log('end', 'the server closed its side'));
    socket.on('close', (hadError) => log('close', hadError ? '(after an error)' : ''));
    socket.on('error', (e) => log('error', `${e.code ?? ''} ${e.message}`));
    await handshake(socket);
    const handshakeMs = performance.now() - connectAt;
    log('secureConnect', `${socket.getProtocol()} ${socket.getCipher().standardName}`);
    result.handshake = {
      protocol: socket.getProtocol(),
      cipher: socket.getCipher(),
      alpnProtocol: socket.alpnProtocol,
      ephemeralKey: socket.getEphemeralKeyInfo?.() ?? null,
      authorized: socket.authorized,
      authorizationError: socket.authorizationError,
      servername: target.servername,
      relay: target.relay,
      timeMs: handshakeMs,
    };
    result.chain = chainData(socket);
    renderHandshake(result.handshake);
    renderChain(result.chain);
    setStatus(`Secure; sending GET ${target.path}…`, 'running');
    result.http = await httpGet(socket, target);
    log('response', `${result.http.statusCode} ${result.http.statusMessage}`);
    renderHttp(result.http);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.end();
    await closed; // the whole story, close included, before the page says it is done
    result.state = 'done';
    setStatus(`Done in ${(performance.now() - started).toFixed(0)} ms`, 'done');
  } catch (e) {
    socket?.destroy();
    result.error = errorData(e);
    result.state = 'error';
    if (!result.handshake) renderFacts([['Failed', `${result.error.code}: ${result.error.message}`, 'bad']]);
    setStatus(`${result.error.code}: ${result.error.message}`, 'error');
  }
  return result;
}

/** One run at a time: the button waits for the last one to finish. */
async function runOnce(target) {
  $('connect').disabled = true;
  try {
    await run(target);
  } finally {
    $('connect').disabled = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  runOnce(readForm());
});

const settings = await loadSettings();
fillForm(settings);
setStatus('Ready', 'ready');
if (settings.autoConnect && settings.host && settings.port) runOnce(readForm());
