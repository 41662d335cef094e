// wasm-tls where Node code plugs in a TLS socket: an https.request whose
// connection comes from wasm-tls (createConnection, and an Agent), a pg/SMTP-style
// STARTTLS upgrade of a socket that spoke plaintext first, and toWeb() for
// web-style code. Peers: node's https server and node:tls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import ntls from 'node:tls';
import { MessageChannel } from 'node:worker_threads';
import tls, { messagePortTransport } from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, sha256 } from './helpers/peers.js';

const MB = 1024 * 1024;

async function httpsServer(t) {
  const server = https.createServer({ ...certs.ec }, (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.setHeader('x-method', req.method);
      res.setHeader('x-tls-protocol', req.socket.getProtocol());
      res.setHeader('content-type', 'application/octet-stream');
      res.end(req.method === 'POST' ? Buffer.concat([Buffer.from(`${sha256(body)}\n`), body]) : 'hello from node https\n');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return server.address().port;
}

/** Sends the request and resolves with { res, body }. */
function send(req, body) {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('https.request with createConnection from wasm-tls against a node https server', async (t) => {
  const port = await httpsServer(t);
  const sockets = [];
  const createConnection = (opts) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca });
    sockets.push(socket);
    return socket;
  };
  // No agent: Node then takes the connection from createConnection.
  const { res, body } = await send(https.request({ host: '127.0.0.1', port, path: '/', createConnection }));
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-method'], 'GET');
  assert.equal(res.headers['x-tls-protocol'], 'TLSv1.3');
  assert.equal(res.headers['content-type'], 'application/octet-stream');
  assert.equal(String(body), 'hello from node https\n');
  assert.equal(sockets.length, 1);
  assert.ok(sockets[0] instanceof tls.TLSSocket);
  assert.equal(sockets[0].authorized, true);

  const upload = bytes(2 * MB, 21);
  const post = await send(https.request({
    host: '127.0.0.1', port, path: '/upload', method: 'POST', createConnection,
  }), upload);
  assert.equal(post.res.statusCode, 200);
  assert.equal(post.res.headers['x-method'], 'POST');
  assert.equal(String(post.body.subarray(0, 65)), `${sha256(upload)}\n`);
  assert.equal(sha256(post.body.subarray(65)), sha256(upload));
});

test('an https.Agent whose createConnection is wasm-tls: the agent\'s TLS options are honoured, keep-alive reuses the socket', async (t) => {
  const port = await httpsServer(t);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const made = [];
  agent.createConnection = (options) => {
    const socket = tls.connect(options);
    made.push(socket);
    return socket;
  };
  t.after(() => agent.destroy());
  for (let i = 0; i < 3; i++) {
    const { res, body } = await send(https.request({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.ca, agent }));
    assert.equal(res.statusCode, 200);
    assert.equal(String(body), 'hello from node https\n');
  }
  assert.equal(made.length, 1, 'one socket, kept alive for three requests');
  assert.equal(made[0].getPeerCertificate().subject.CN, 'localhost');

  // The agent passes ca and friends through: a wrong CA fails the request as it does with node:tls.
  const codes = [];
  for (const lib of [ntls, tls]) {
    const wrongCa = new https.Agent();
    wrongCa.createConnection = (options) => lib.connect(options);
    const request = https.request({ host: '127.0.0.1', port, servername: 'localhost', ca: certs.other.cert, agent: wrongCa });
    codes.push(await send(request).then(() => 'no error', (e) => e.code));
  }
  assert.equal(codes[1], codes[0]);
  assert.equal(codes[1], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
});

/** Reads one \n-terminated line of plaintext from `socket`, then lets go of it. */
function readLine(socket) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      assert.equal(end, text.length - 1, 'nothing after the line before the upgrade');
      resolve(text.slice(0, end));
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.resume(); // paused by the previous line's read
  });
}

test('STARTTLS: plaintext on a net.Socket, then tls.connect({ socket }) on it against node:tls upgrading its side', async (t) => {
  const serverLog = [];
  const server = net.createServer(async (raw) => {
    raw.write('220 plain hello\n');
    serverLog.push(await readLine(raw));
    raw.write('220 go ahead\n');
    const secure = new ntls.TLSSocket(raw, { isServer: true, ...certs.ec });
    secure.on('secure', () => serverLog.push(`secure ${secure.getProtocol()}`));
    secure.on('data', (d) => secure.write(String(d).toUpperCase()));
    secure.on('end', () => secure.end());
    secure.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());

  const socket = net.connect(server.address().port, '127.0.0.1');
  assert.equal(await readLine(socket), '220 plain hello');
  socket.write('STARTTLS\n');
  assert.equal(await readLine(socket), '220 go ahead');
  const client = tls.connect({ socket, servername: 'localhost', ca: certs.ca });
  const events = [];
  client.on('connect', () => events.push('connect'));
  await once(client, 'secureConnect');
  assert.deepEqual(events, [], "no 'connect': the socket was already connected (as node:tls)");
  assert.equal(client.authorized, true);
  assert.equal(client.remotePort, server.address().port);
  client.write('encrypted now');
  const [reply] = await once(client, 'data');
  assert.equal(String(reply), 'ENCRYPTED NOW');
  assert.deepEqual(serverLog, ['STARTTLS', 'secure TLSv1.3']);
  client.end();
  await once(client, 'close');
});

test('pg-style SSLRequest: 8 bytes, an "S", then TLS on the same socket', async (t) => {
  const peer = net.createServer((raw) => {
    raw.once('data', (request) => {
      // Int32 length 8, Int32 80877103: PostgreSQL's SSLRequest.
      assert.deepEqual([request.readInt32BE(0), request.readInt32BE(4)], [8, 80877103]);
      raw.write('S');
      const secure = new ntls.TLSSocket(raw, { isServer: true, ...certs.rsa });
      secure.on('data', (d) => secure.end(`got ${d}`));
      secure.on('error', () => {});
    });
  });
  peer.listen(0, '127.0.0.1');
  await once(peer, 'listening');
  t.after(() => peer.close());
  const socket = net.connect(peer.address().port, '127.0.0.1');
  await once(socket, 'connect');
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(80877103, 4);
  socket.write(request);
  const [answer] = await once(socket, 'data');
  assert.equal(String(answer), 'S');
  socket.pause();
  const client = tls.connect({ socket, servername: 'localhost', ca: certs.ca });
  await once(client, 'secureConnect');
  assert.equal(client.getPeerCertificate().subject.CN, 'localhost');
  client.write('startup');
  const [reply] = await once(client, 'data');
  assert.equal(String(reply), 'got startup');
  client.destroy();
});

test('toWeb(): WHATWG readable and writable over a TLSSocket, 4 MB each way against node:tls', async (t) => {
  const upload = bytes(4 * MB, 31);
  const download = bytes(4 * MB, 37);
  const peer = await nodeServer({ ...certs.ec }, (s) => {
    let n = 0;
    const hash = [];
    s.on('data', (d) => {
      hash.push(d);
      n += d.length;
      if (n === upload.length) s.end(Buffer.concat([Buffer.from(sha256(Buffer.concat(hash))), download]));
    });
  });
  t.after(() => peer.close());
  const client = tls.connect({ host: '127.0.0.1', port: peer.port, servername: 'localhost', ca: certs.ca });
  const { readable, writable } = client.toWeb();
  assert.equal(client.toWeb().readable, readable, 'one pair per socket');
  assert.ok(readable instanceof ReadableStream);
  assert.ok(writable instanceof WritableStream);
  const writer = writable.getWriter();
  for (let at = 0; at < upload.length; at += 100_000) await writer.write(upload.subarray(at, at + 100_000));
  const chunks = [];
  for await (const chunk of readable) {
    assert.ok(chunk instanceof Uint8Array);
    chunks.push(chunk);
  }
  const all = Buffer.concat(chunks);
  assert.equal(String(all.subarray(0, 64)), sha256(upload));
  assert.equal(sha256(all.subarray(64)), sha256(download));
  await writer.close();
});

test('toWeb(): a web reader that does not read pauses the socket (bounded), and a slow peer slows the writer', async () => {
  const { port1, port2 } = new MessageChannel();
  const server = tls.createServer({ ...certs.ec });
  const secured = once(server, 'secureConnection');
  server.emit('connection', messagePortTransport(port2));
  const client = tls.connect({ servername: 'localhost', ca: certs.ca, transport: port1 });
  const [[serverSide]] = await Promise.all([secured, once(client, 'secureConnect')]);
  const { readable, writable } = client.toWeb();

  // Server → web reader: the server only waits when the web side stops reading.
  const chunk = bytes(64 * 1024, 41);
  const total = 16 * MB;
  let sent = 0;
  let received = 0;
  let peak = 0;
  let senderBlocked = false;
  let wake = () => {};
  const reader = readable.getReader();
  const reading = (async () => {
    while (received < total) {
      if (!senderBlocked) await new Promise((resolve) => { wake = resolve; });
      const { value, done } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
  })();
  while (sent < total) {
    const ok = serverSide.write(chunk);
    sent += chunk.length;
    peak = Math.max(peak, sent - received);
    if (!ok) {
      senderBlocked = true;
      wake();
      await once(serverSide, 'drain');
      senderBlocked = false;
    }
  }
  senderBlocked = true;
  wake();
  await reading;
  assert.equal(received, total);
  assert.ok(peak <= 2 * MB, `${peak} bytes in flight at most`);

  // Web writer → server that does not read: writes stop completing.
  serverSide.pause();
  const writer = writable.getWriter();
  let written = 0;
  let stalled = false;
  while (written < 64 * MB) {
    const write = writer.write(chunk);
    // A write that is still pending after the socket had every chance to take it.
    const settledNow = await Promise.race([write.then(() => true), new Promise((r) => setImmediate(() => r(false)))]);
    if (!settledNow) {
      stalled = true;
      break;
    }
    written += chunk.length;
  }
  assert.equal(stalled, true, `the writer was held back after ${written} bytes`);
  assert.ok(written <= 4 * MB, `${written} bytes accepted while the peer did not read`);
  client.destroy();
});

test('types: tests/types/example.ts (connect, createServer, every transport, toWeb) compiles with tsc --strict', async () => {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const project = fileURLToPath(new URL('../types/tsconfig.json', import.meta.url));
  const { code, output } = await new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', project, '--noEmit'], (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, output: stdout + stderr });
    });
  });
  assert.equal(output, '');
  assert.equal(code, 0);
});
