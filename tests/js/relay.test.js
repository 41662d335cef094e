// wasm-tls-relay: bytes exact both ways, TLS clients we did not write through it
// (node:tls over ws), websockify as the reference relay, and hostile clients:
// destinations off the allowlist, private addresses, limits, idle, oversized and
// text frames, bad Origin, junk instead of an upgrade, hang-ups mid-transfer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import ntls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, createWebSocketStream } from 'ws';
import { addressKind, clientKey, createRelay, parsePattern } from '../../relay/relay.js';
import { certs } from './helpers/certs.js';
import { bytes, nodeServer, sha256 } from './helpers/peers.js';

const CLI = new URL('../../bin/wasm-tls-relay.js', import.meta.url).pathname;

/** A relay on 127.0.0.1 closed after test `t`; `logs` collects its log lines. */
async function startRelay(t, options) {
  const logs = [];
  const relay = createRelay({ log: (line) => logs.push(line), ...options });
  await relay.listen();
  t.after(() => relay.close());
  return Object.assign(relay, { logs });
}

/** A plain TCP echo server; `onSocket` may replace the echo. Counts what it accepted. */
async function tcpServer(t, onSocket = (s) => s.pipe(s)) {
  const state = { accepted: 0, sockets: new Set(), peers: [] };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    state.accepted++;
    state.peers.push(s.remoteAddress);
    state.sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => state.sockets.delete(s));
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of state.sockets) s.destroy();
    server.close();
  });
  return Object.assign(state, { port: server.address().port });
}

const dest = (relay, host, port) => `${relay.url}?host=${encodeURIComponent(host)}&port=${port}`;

/** How a WebSocket ended: { opened, code, reason, error }. */
function outcome(ws) {
  return new Promise((resolve) => {
    let opened = false;
    let error;
    ws.on('open', () => { opened = true; });
    ws.on('error', (e) => { error = e; });
    ws.on('close', (code, reason) => resolve({ opened, code, reason: reason.toString(), error }));
  });
}

/** Opens a WebSocket; rejects if it closes first. */
async function openWs(url, options) {
  const ws = new WebSocket(url, options?.protocols, options);
  const ended = outcome(ws);
  await Promise.race([once(ws, 'open'), ended.then((o) => { throw new Error(`closed ${o.code} ${o.reason} ${o.error ?? ''}`); })]);
  return Object.assign(ws, { ended });
}

/**
 * Resolves with the first `n` or more bytes `source` gives ('message' for a
 * WebSocket, 'data' for a stream); rejects if it closes first.
 */
function receive(source, n, event = source instanceof WebSocket ? 'message' : 'data') {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let got = 0;
    source.on(event, (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= n) resolve(Buffer.concat(chunks));
    });
    source.on('error', reject);
    source.on('close', () => reject(new Error(`closed after ${got} bytes`)));
  });
}

/** Sends `payload` in `size`-byte messages, resolves with as many bytes received back. */
function echoOver(ws, payload, size = 64 * 1024) {
  const done = receive(ws, payload.length);
  for (let i = 0; i < payload.length; i += size) ws.send(payload.subarray(i, i + size));
  return done;
}

async function until(check, what, ms = 20_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await sleep(20);
  }
}

/** Polls `value()` until it stops changing (a queue that filled up), returns it. */
async function settled(value) {
  let last = -1;
  let same = 0;
  for (let i = 0; i < 400 && same < 5; i++) {
    await sleep(50);
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
  return last;
}

/** node:tls as the client, over a `ws` WebSocket stream through a relay. */
function nodeTlsOverWs(url, options = {}) {
  const ws = new WebSocket(url, options.protocols);
  const socket = ntls.connect({ socket: createWebSocketStream(ws), servername: 'localhost', ca: certs.ca, ...options.tls });
  return { ws, socket };
}

async function tlsEcho(socket, payload) {
  await once(socket, 'secureConnect');
  const done = receive(socket, payload.length);
  socket.write(payload);
  return done;
}

/** The TCP port process `pid` listens on, read from /proc (s_server and websockify are told port 0). */
function listeningPort(pid) {
  let inodes;
  try {
    inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      } catch {
        return undefined;
      }
    }).filter(Boolean));
  } catch {
    return null;
  }
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9])) return parseInt(f[1].split(':')[1], 16);
  }
  return null;
}

/** A process started in its own group (websockify forks), killed with its children after `t`. */
async function spawnListener(t, cmd, args) {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const kill = () => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  };
  t.after(kill);
  process.once('exit', kill);
  let port = null;
  await until(() => (port = listeningPort(proc.pid)) !== null || proc.exitCode !== null, `${cmd} listening`);
  if (port === null) throw new Error(`${cmd} exited ${proc.exitCode}: ${err}`);
  return { proc, port };
}

const websockify = (t, port) => spawnListener(t, 'websockify', ['127.0.0.1:0', `127.0.0.1:${port}`]);

// ---------------------------------------------------------------------------

test('address kinds: private, loopback, link-local, unique-local, CGNAT, multicast, unspecified, v4 inside v6', () => {
  const cases = {
    '127.0.0.1': 'loopback', '127.255.0.9': 'loopback', '10.1.2.3': 'private', '172.31.255.255': 'private',
    '192.168.0.1': 'private', '169.254.169.254': 'link-local', '100.64.0.1': 'CGNAT', '100.127.255.255': 'CGNAT',
    '224.0.0.1': 'multicast', '239.1.2.3': 'multicast', '0.0.0.0': 'unspecified', '255.255.255.255': 'reserved',
    '::': 'unspecified', '::1': 'loopback', 'fe80::1': 'link-local', 'fd12:3456::1': 'unique-local',
    'fc00::1': 'unique-local', 'ff02::1': 'multicast', '::ffff:127.0.0.1': 'loopback', '::ffff:7f00:1': 'loopback',
    '::ffff:10.0.0.1': 'private', '0:0:0:0:0:ffff:a9fe:a9fe': 'link-local', '::127.0.0.1': 'loopback (IPv4-compatible)',
    '64:ff9b::a00:1': 'private (NAT64)', '2002:7f00:1::1': 'loopback (6to4)', '2001:db8::1': 'documentation',
    '8.8.8.8': null, '1.1.1.1': null, '100.128.0.1': null, '172.32.0.1': null, '2606:4700:4700::1111': null,
    '::ffff:8.8.8.8': null, '64:ff9b::808:808': null, '2002:808:808::1': null, 'fe80::1%eth0': 'invalid',
  };
  for (const [address, kind] of Object.entries(cases)) assert.equal(addressKind(address), kind, address);
});

test('per-client counting: IPv4 (v4-mapped too) per address, IPv6 per /64', () => {
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::ffff'), '2001:db8:1:2::/64');
  assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'));
});

test('allow patterns: names with * labels, addresses, ranges, ports; malformed ones throw', () => {
  assert.deepEqual(parsePattern('*.example.com:443').labels, ['*', 'example', 'com']);
  assert.deepEqual(parsePattern('db.internal:5432-5439').ports, [5432, 5439]);
  assert.deepEqual(parsePattern('*:*').ports, [1, 65535]);
  assert.equal(parsePattern('10.0.0.0/8:22').range.bits, 104);
  assert.equal(parsePattern('[fd00::/8]:*').range.bits, 8);
  assert.equal(parsePattern('[::1]:80').range.bits, 128);
  for (const bad of ['example.com', 'example.com:0', 'example.com:70000', 'a:9-8', '::1:80', '10.0.0.0/33:1',
    '[10.0.0.1]:80', 'exa mple.com:1', '127.1:80', 'a..b:1', '[::1]:x']) {
    assert.throws(() => parsePattern(bad), TypeError, bad);
  }
});

test('bytes exact both ways; the binary subprotocol when offered, none otherwise', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`] });
  const payload = bytes(3 * 1024 * 1024 + 7, 3);
  for (const protocols of [undefined, ['binary'], ['base64', 'binary']]) {
    const ws = await openWs(dest(relay, '127.0.0.1', up.port), { protocols });
    assert.equal(ws.protocol, protocols ? 'binary' : '');
    const back = await echoOver(ws, payload, 50_000);
    assert.equal(back.length, payload.length);
    assert.equal(sha256(back), sha256(payload));
    ws.close();
    assert.equal((await ws.ended).code, 1005);
  }
  await until(() => relay.connections === 0, 'no live connections');
  assert.equal(up.accepted, 3);
  assert.deepEqual(relay.logs, []);
});

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  test(`${version}: node:tls over a ws stream, through our relay and through websockify, to node:tls`, async (t) => {
    const server = await nodeServer({ ...certs.ec, maxVersion: version });
    t.after(() => server.close());
    const relay = await startRelay(t, { allow: [`127.0.0.1:${server.port}`] });
    const wsf = await websockify(t, server.port);
    const payload = bytes(256 * 1024, 11);
    for (const url of [dest(relay, '127.0.0.1', server.port), `ws://127.0.0.1:${wsf.port}/`]) {
      for (const protocols of [undefined, ['binary']]) {
        const { ws, socket } = nodeTlsOverWs(url, { protocols });
        const back = await tlsEcho(socket, payload);
        assert.equal(socket.getProtocol(), version, url);
        assert.equal(socket.authorized, true);
        assert.equal(sha256(back), sha256(payload), url);
        // With a code: websockify echoes a code-less close as 1005, which may not be sent.
        ws.close(1000);
        const [code] = await once(ws, 'close');
        assert.equal(code, 1000);
        socket.destroy();
      }
    }
    await until(() => relay.connections === 0, 'no live connections');
  });
}

// wasm-tls through the relays needs the WebSocket transport (js/transports/websocket.js).
const websocketJs = new URL('../../js/transports/websocket.js', import.meta.url);
const haveTransport = existsSync(websocketJs);

test('wasm-tls over a WebSocket through our relay and websockify, to node:tls and openssl s_server: 8 MB each way',
  { skip: !haveTransport && 'js/transports/websocket.js is not there yet' }, async (t) => {
    const { default: tls } = await import('../../js/entry/node.js');
    const { websocketTransport } = await import(websocketJs.href);
    const size = 8 * 1024 * 1024;
    const up = bytes(size, 21);
    const down = bytes(size, 22);

    /** Writes `data` in 64 KiB pieces, waiting for 'drain' as a pipe would. */
    const writeAll = async (stream, data) => {
      for (let i = 0; i < data.length; i += 65536) {
        if (!stream.write(data.subarray(i, i + 65536))) await once(stream, 'drain');
      }
    };
    // node:tls: sends `down` to each client and hashes what it receives.
    const received = [];
    const nodeTls = await nodeServer({ ...certs.ec }, (s) => {
      received.push(receive(s, size));
      writeAll(s, down);
    });
    t.after(() => nodeTls.close());
    const relay = await startRelay(t, { allow: [`127.0.0.1:*`] });
    const viaWebsockify = await websockify(t, nodeTls.port);

    const run = async (url, serverSide) => {
      const socket = tls.connect({ transport: websocketTransport(new WebSocket(url)), servername: 'localhost', ca: certs.ca });
      await once(socket, 'secureConnect');
      assert.equal(socket.authorized, true);
      const got = receive(socket, size);
      const serverGot = serverSide();
      await writeAll(socket, up);
      assert.equal(sha256(await got), sha256(down), `${url}: server to client`);
      assert.equal(sha256(await serverGot), sha256(up), `${url}: client to server`);
      socket.destroy();
    };
    const nodeSide = (i) => () => until(() => received[i], 'the server side').then(() => received[i]);
    await run(dest(relay, '127.0.0.1', nodeTls.port), nodeSide(0));
    await run(`ws://127.0.0.1:${viaWebsockify.port}/`, nodeSide(1));

    // openssl s_server -quiet: what it receives goes to stdout, its stdin goes to the client.
    const ossl = await spawnListener(t, 'openssl', ['s_server', '-quiet', '-naccept', '2', '-accept', '127.0.0.1:0',
      '-cert', certs.path('ec.crt'), '-key', certs.path('ec.key')]);
    const osslWebsockify = await websockify(t, ossl.port);
    let out = [];
    let outBytes = 0;
    ossl.proc.stdout.on('data', (d) => { out.push(d); outBytes += d.length; });
    const osslSide = async () => {
      out = [];
      outBytes = 0;
      ossl.proc.stdin.write(down);
      await until(() => outBytes >= size, 's_server received everything');
      return Buffer.concat(out);
    };
    await run(dest(relay, '127.0.0.1', ossl.port), osslSide);
    await run(`ws://127.0.0.1:${osslWebsockify.port}/`, osslSide);
    await until(() => relay.connections === 0, 'no live connections');
  });

// The browser's way in: relayTransport builds `${relayUrl}?host=...&port=...` (js/transports/relay.js).
const relayJs = new URL('../../js/transports/relay.js', import.meta.url);

test('wasm-tls over relayTransport (the browser client\'s URL format) through our relay; a refusal is its error',
  { skip: !existsSync(relayJs) && 'js/transports/relay.js is not there yet' }, async (t) => {
    const { default: tls } = await import('../../js/entry/node.js');
    const { relayTransport } = await import(relayJs.href);
    const server = await nodeServer({ ...certs.ec });
    t.after(() => server.close());
    const relay = await startRelay(t, { allow: [`127.0.0.1:${server.port}`] });
    const byName = await startRelay(t, { allow: [`localhost:${server.port}`] });
    const open = (r, host) => tls.connect({
      transport: relayTransport(r.url, host, server.port, { WebSocket }), servername: 'localhost', ca: certs.ca,
    });
    const payload = bytes(100_000, 17);
    const socket = open(relay, '127.0.0.1');
    assert.deepEqual(await tlsEcho(socket, payload), payload);
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    socket.destroy();

    // localhost is allowed by name but resolves to loopback, which no pattern names: refused.
    const refused = open(byName, 'localhost');
    const [err] = await once(refused, 'error');
    assert.equal(err.closeCode, 1008);
    assert.match(err.reason, /localhost resolves to 127\.0\.0\.1, which is loopback/);
    assert.equal(byName.logs.length, 1);
    await until(() => relay.connections === 0 && byName.connections === 0, 'no live connections');
  });

// Chromium's own WebSocket, from a page with a real Origin (tests/js/helpers/chromium.js drives it).
const chromiumJs = new URL('./helpers/chromium.js', import.meta.url);

test('Chromium: its WebSocket through the relay, bytes exact; a foreign page Origin and a refused destination fail',
  { skip: !existsSync(chromiumJs) && 'tests/js/helpers/chromium.js is not there yet' }, async (t) => {
    const { launchChromium } = await import(chromiumJs.href);
    const up = await tcpServer(t);
    const page = http.createServer((req, res) => res.end('<!doctype html><title>relay</title>'));
    page.listen(0, '127.0.0.1');
    await once(page, 'listening');
    t.after(() => page.close());
    const origin = `http://127.0.0.1:${page.address().port}`;
    const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], origins: [origin] });
    const foreign = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], origins: ['https://app.example'] });
    const browser = await launchChromium();
    t.after(() => browser.close());
    const tab = await browser.newPage();
    await tab.goto(`${origin}/`);
    const results = await tab.evaluate(async (urls) => {
      const echo = (url, protocols) => new Promise((resolve) => {
        const ws = new WebSocket(url, protocols);
        ws.binaryType = 'arraybuffer';
        const sent = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 255);
        const got = [];
        let n = 0;
        ws.onopen = () => { for (let i = 0; i < sent.length; i += 40_000) ws.send(sent.subarray(i, i + 40_000)); };
        ws.onmessage = (e) => {
          got.push(new Uint8Array(e.data));
          n += e.data.byteLength;
          if (n >= sent.length) ws.close(1000);
        };
        ws.onclose = (e) => {
          const all = new Uint8Array(n);
          let at = 0;
          for (const g of got) { all.set(g, at); at += g.length; }
          resolve({ code: e.code, reason: e.reason, protocol: ws.protocol, same: n === sent.length && all.every((b, i) => b === sent[i]) });
        };
      });
      return [await echo(urls[0]), await echo(urls[0], ['binary']), await echo(urls[1]), await echo(urls[2])];
    }, [dest(relay, '127.0.0.1', up.port), dest(foreign, '127.0.0.1', up.port), dest(relay, '127.0.0.1', up.port + 1)]);
    const [plain, binary, badOrigin, offList] = results;
    assert.deepEqual(plain, { code: 1000, reason: '', protocol: '', same: true });
    assert.deepEqual(binary, { code: 1000, reason: '', protocol: 'binary', same: true });
    assert.equal(badOrigin.code, 1006);
    assert.match(foreign.logs.join('\n'), new RegExp(`Origin "${origin}" is not allowed`));
    assert.equal(offList.code, 1008);
    assert.match(offList.reason, /is not allowed/);
    assert.equal(up.accepted, 2);
    await until(() => relay.connections === 0, 'no live connections');
  });

test('fixed --target: the query is ignored', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { target: `127.0.0.1:${up.port}` });
  const ws = await openWs(`${relay.url}?host=10.9.9.9&port=1`);
  const payload = bytes(1000, 4);
  assert.deepEqual(await echoOver(ws, payload), payload);
  ws.close();
  await ws.ended;
  assert.equal(up.accepted, 1);
});

test('clean close: the server ends after sending, the client gets every byte then 1000', async (t) => {
  const payload = bytes(2 * 1024 * 1024, 6);
  const up = await tcpServer(t, (s) => s.end(payload));
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`] });
  const ws = new WebSocket(dest(relay, '127.0.0.1', up.port));
  const chunks = [];
  ws.on('message', (d) => chunks.push(d));
  const { code } = await outcome(ws);
  assert.equal(code, 1000);
  assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
  await until(() => relay.connections === 0, 'no live connections');
});

test('clean close: the client closes, the server sees end (half-close) and may still finish', async (t) => {
  let serverSaw;
  const ended = new Promise((resolve) => { serverSaw = resolve; });
  const up = await tcpServer(t, (s) => {
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => { serverSaw(Buffer.concat(chunks).toString()); s.end(); });
  });
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`] });
  const ws = await openWs(dest(relay, '127.0.0.1', up.port));
  ws.send(Buffer.from('last words'));
  ws.close(1000);
  assert.equal(await ended, 'last words');
  assert.equal((await ws.ended).code, 1000);
  await until(() => relay.connections === 0 && up.sockets.size === 0, 'both sides closed');
});

test('a refused TCP connect closes the WebSocket with 1011 naming the error', async (t) => {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = probe.address().port;
  probe.close();
  await once(probe, 'close');
  const relay = await startRelay(t, { allow: [`127.0.0.1:${port}`] });
  const { opened, code, reason } = await outcome(new WebSocket(dest(relay, '127.0.0.1', port)));
  assert.equal(opened, true);
  assert.equal(code, 1011);
  assert.match(reason, /ECONNREFUSED/);
  assert.equal(relay.logs.length, 1);
  await until(() => relay.connections === 0, 'no live connections');
});

test('destinations off the allowlist, private names and addresses are refused with 1008 before any TCP', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port + 1}`, `localhost:${up.port}`, `*.example.test:*`, '[::1]:1'] });
  const everything = await startRelay(t, { allow: ['*:*'] });
  const cases = [
    [relay, '127.0.0.1', up.port, /not allowed/],
    [relay, '127.0.0.2', up.port, /not allowed/],
    [relay, 'example.test', up.port, /not allowed/],
    [relay, 'localhost', up.port, /localhost resolves to .*, which is loopback/],
    [relay, '::1', up.port, /not allowed/],
    [everything, '::1', up.port, /::1 is loopback/],
    [everything, '[::1]', up.port, /::1 is loopback/],
    [everything, '::ffff:127.0.0.1', up.port, /is loopback/],
    [everything, '::ffff:7f00:1', up.port, /is loopback/],
    [everything, '127.0.0.1', up.port, /127\.0\.0\.1 is loopback/],
    [everything, '0.0.0.0', up.port, /unspecified/],
    [everything, 'localhost', up.port, /loopback/],
    [everything, '127.1', up.port, /127\.0\.0\.1, which is loopback/],
    [everything, 'bad host!', up.port, /bad host/],
    [everything, '127.0.0.1', '0x50', /bad port/],
    [everything, '127.0.0.1', 0, /bad port/],
  ];
  for (const [r, host, port, reason] of cases) {
    const before = r.logs.length;
    const o = await outcome(new WebSocket(dest(r, host, port)));
    assert.equal(o.code, 1008, `${host}:${port}`);
    assert.match(o.reason, reason, `${host}:${port}`);
    assert.equal(r.logs.length, before + 1, `one log line for ${host}:${port}`);
    assert.match(r.logs.at(-1), /^refused 127\.0\.0\.1:\d+: .*\(1008\)$/);
  }
  const missing = await outcome(new WebSocket(relay.url));
  assert.equal(missing.code, 1008);
  assert.match(missing.reason, /missing \?host=HOST&port=PORT/);
  assert.equal(up.accepted, 0);
});

test('allowPrivate or an allow entry naming the address lets private destinations through', async (t) => {
  const up = await tcpServer(t);
  const payload = bytes(100, 8);
  for (const [options, host] of [
    [{ allow: [`localhost:${up.port}`], allowPrivate: true }, 'localhost'],
    [{ allow: [`127.0.0.0/8:${up.port}`] }, '127.0.0.1'],
    [{ allow: [`*:${up.port}`, `127.0.0.1:${up.port}`] }, '::ffff:127.0.0.1'],
  ]) {
    const relay = await startRelay(t, options);
    const ws = await openWs(dest(relay, host, up.port));
    assert.deepEqual(await echoOver(ws, payload), payload, host);
    ws.close();
    await ws.ended;
  }
});

test('one resolution: every address is checked and the checked one is connected to (no DNS rebinding)', async (t) => {
  const up = await tcpServer(t);
  const asked = [];
  // First answer loopback, any later answer something else: a second lookup would show.
  const lookup = async (host) => {
    asked.push(host);
    if (host === 'mixed.test') return [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }];
    return asked.length === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }];
  };
  const relay = await startRelay(t, { allow: [`*.test:${up.port}`, `127.0.0.1:${up.port}`], lookup });
  const ws = await openWs(dest(relay, 'rebind.test', up.port));
  assert.deepEqual(await echoOver(ws, Buffer.from('hi')), Buffer.from('hi'));
  ws.close();
  await ws.ended;
  assert.deepEqual(asked, ['rebind.test']);
  assert.deepEqual(up.peers, ['127.0.0.1']);

  const strict = await startRelay(t, { allow: [`*.test:${up.port}`], lookup });
  const o = await outcome(new WebSocket(dest(strict, 'mixed.test', up.port)));
  assert.equal(o.code, 1008);
  assert.match(o.reason, /mixed\.test resolves to 127\.0\.0\.1, which is loopback/);
  assert.deepEqual(asked, ['rebind.test', 'mixed.test']);
  assert.equal(up.accepted, 1);
});

test('a checked address that refuses the connect: the next checked address is tried', async (t) => {
  const up = await tcpServer(t);
  // 127.0.0.2 is loopback too, but nothing listens there on this port.
  const lookup = async () => [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }];
  const relay = await startRelay(t, { allow: [`two.test:${up.port}`], allowPrivate: true, lookup });
  const ws = await openWs(dest(relay, 'two.test', up.port));
  assert.deepEqual(await echoOver(ws, Buffer.from('second')), Buffer.from('second'));
  ws.close();
  await ws.ended;
  assert.deepEqual(up.peers, ['127.0.0.1']);
});

test('a name that does not resolve closes with 1011, for a client-chosen and a fixed destination', async (t) => {
  const nowhere = async (host) => {
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  };
  const chosen = await startRelay(t, { allow: ['*.invalid:*'], lookup: nowhere });
  const fixed = await startRelay(t, { target: 'db.invalid:5432', lookup: async () => [] });
  for (const url of [dest(chosen, 'db.invalid', 5432), fixed.url]) {
    const o = await outcome(new WebSocket(url));
    assert.equal(o.code, 1011, url);
    assert.equal(o.reason, 'cannot resolve: ENOTFOUND', url);
  }
  await until(() => chosen.connections === 0 && fixed.connections === 0, 'no live connections');
});

test('limits: per client IP and overall, the N+1th gets 1013 while the others go on', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], maxPerClient: 2, maxConnections: 3 });
  const url = dest(relay, '127.0.0.1', up.port);
  const a = await openWs(url);
  const b = await openWs(url);
  const third = await outcome(new WebSocket(url));
  assert.equal(third.code, 1013);
  assert.match(third.reason, /too many connections from your address/);
  // Another client address is not held back by the first one's count...
  const c = await openWs(url, { localAddress: '127.0.0.2' });
  // ...but the relay as a whole is full now.
  const fourth = await outcome(new WebSocket(url, { localAddress: '127.0.0.3' }));
  assert.equal(fourth.code, 1013);
  assert.match(fourth.reason, /relay is full/);
  assert.equal(relay.connections, 3);
  for (const ws of [a, b, c]) {
    const payload = bytes(5000, 9);
    assert.deepEqual(await echoOver(ws, payload), payload);
  }
  assert.equal(relay.logs.filter((l) => /\(1013\)$/.test(l)).length, 2);
  a.close();
  await a.ended;
  await until(() => relay.connections === 2, 'a slot freed');
  const again = await openWs(url);
  assert.deepEqual(await echoOver(again, Buffer.from('x')), Buffer.from('x'));
  for (const ws of [b, c, again]) ws.close();
  await until(() => relay.connections === 0, 'no live connections');
});

test('idle timeout closes both sides', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], idleTimeout: 0.4 });
  const ws = await openWs(dest(relay, '127.0.0.1', up.port));
  assert.deepEqual(await echoOver(ws, Buffer.from('ping')), Buffer.from('ping'));
  const { code, reason } = await ws.ended;
  assert.equal(code, 1000);
  assert.equal(reason, 'idle timeout');
  await until(() => relay.connections === 0 && up.sockets.size === 0, 'both sides closed');
  assert.match(relay.logs.join('\n'), /idle/);
});

test('an oversized frame (1009) or a text frame (1003) closes only that connection', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], maxFrame: 4096 });
  const url = dest(relay, '127.0.0.1', up.port);
  const other = await openWs(url);
  const big = await openWs(url);
  big.send(Buffer.alloc(4097));
  assert.equal((await big.ended).code, 1009);
  const text = await openWs(url);
  text.send('hello');
  const t3 = await text.ended;
  assert.equal(t3.code, 1003);
  assert.equal(t3.reason, 'binary frames only');
  const payload = bytes(4096 * 10, 2);
  assert.deepEqual(await echoOver(other, payload, 4096), payload);
  other.close();
  await until(() => relay.connections === 0 && up.sockets.size === 0, 'no live connections');
});

test('Origin allowlist: a foreign Origin gets 403 at the upgrade; listed or absent Origin passes', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], origins: ['https://app.example'] });
  const url = dest(relay, '127.0.0.1', up.port);
  const bad = await outcome(new WebSocket(url, { origin: 'https://evil.example' }));
  assert.equal(bad.opened, false);
  assert.match(bad.error.message, /Unexpected server response: 403/);
  assert.match(relay.logs.at(-1), /Origin "https:\/\/evil\.example" is not allowed/);
  for (const origin of ['https://app.example', undefined]) {
    const ws = await openWs(url, { origin });
    assert.deepEqual(await echoOver(ws, Buffer.from('ok')), Buffer.from('ok'));
    ws.close();
  }
  assert.equal(up.accepted, 2);
});

test('junk instead of an upgrade gets 400, plain HTTP gets 426; nothing stays open', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`] });
  const { port } = relay.address();
  for (const [junk, status] of [[Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 junk\r\n\r\n', 'latin1'), 400],
    [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 426]]) {
    const sock = net.connect(port, '127.0.0.1');
    sock.end(junk);
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    await once(sock, 'close');
    assert.match(Buffer.concat(chunks).toString(), new RegExp(`^HTTP/1\\.1 ${status} `));
  }
  const ws = await openWs(dest(relay, '127.0.0.1', up.port));
  assert.deepEqual(await echoOver(ws, Buffer.from('still here')), Buffer.from('still here'));
  ws.close();
  await until(() => relay.connections === 0, 'no live connections');
  assert.equal(up.accepted, 1);
});

test('a client that vanishes mid-transfer: the TCP side is closed, nothing leaks', async (t) => {
  // The server streams without end, and also takes whatever comes.
  const up = await tcpServer(t, (s) => {
    const chunk = Buffer.alloc(64 * 1024, 7);
    const pump = () => { while (!s.destroyed && s.write(chunk)); };
    s.on('drain', pump);
    s.resume();
    pump();
  });
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], closeGrace: 0.5 });
  for (let i = 0; i < 3; i++) {
    const ws = await openWs(dest(relay, '127.0.0.1', up.port));
    let got = 0;
    await new Promise((resolve) => ws.on('message', (d) => { got += d.length; if (got > 1024 * 1024) resolve(); }));
    ws.send(Buffer.alloc(256 * 1024));
    ws.terminate();
  }
  await until(() => relay.connections === 0 && up.sockets.size === 0, 'relay and server sides closed');
  assert.equal(up.accepted, 3);
});

test('backpressure: a slow reader on either side holds the other back instead of filling memory', async (t) => {
  const size = 48 * 1024 * 1024;
  const payload = bytes(size, 13);
  let upstream;
  const up = await tcpServer(t, (s) => { upstream = s; });
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`] });

  // TCP to WebSocket: the client does not read; the server's data stays with the server.
  const ws = await openWs(dest(relay, '127.0.0.1', up.port));
  await until(() => upstream, 'upstream accepted');
  ws.pause();
  const chunks = [];
  ws.on('message', (d) => chunks.push(d));
  // In pieces: the length still queued drops as each piece goes out.
  for (let i = 0; i < size; i += 65536) upstream.write(payload.subarray(i, i + 65536));
  const held = await settled(() => upstream.writableLength);
  assert.ok(held > 16 * 1024 * 1024, `server still holds ${held} bytes`);
  ws.resume();
  await until(() => chunks.reduce((n, c) => n + c.length, 0) >= size, 'all bytes to the client');
  assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));

  // WebSocket to TCP: the server does not read; the client's data stays with the client.
  upstream.pause();
  for (let i = 0; i < size; i += 65536) ws.send(payload.subarray(i, i + 65536));
  const queued = await settled(() => ws.bufferedAmount);
  assert.ok(queued > 16 * 1024 * 1024, `client still holds ${queued} bytes`);
  const got = [];
  upstream.on('data', (d) => got.push(d));
  upstream.resume();
  await until(() => got.reduce((n, c) => n + c.length, 0) >= size, 'all bytes to the server');
  assert.equal(sha256(Buffer.concat(got)), sha256(payload));
  ws.close();
  await until(() => relay.connections === 0, 'no live connections');
});

test('wss: the relay serves TLS itself', async (t) => {
  const up = await tcpServer(t);
  const relay = await startRelay(t, { allow: [`127.0.0.1:${up.port}`], tls: certs.ec });
  assert.match(relay.url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  const ws = await openWs(dest(relay, '127.0.0.1', up.port), { ca: certs.ca });
  assert.deepEqual(await echoOver(ws, Buffer.from('secure')), Buffer.from('secure'));
  ws.close();
  await ws.ended;
});

test('CLI: --help, bad arguments, and a relay whose first stdout line is its URL', async (t) => {
  const run = (args) => new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => resolve({ code, out, err }));
  });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: wasm-tls-relay /);
  for (const args of [[], ['--allow', 'nope'], ['--target', 'x'], ['--listen', 'a:b', '--target', 'h:1'],
    ['--target', 'h:1', '--max-connections', 'many'], ['--target', 'h:1', '--bogus']]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^wasm-tls-relay: /, args.join(' '));
  }

  const server = await nodeServer({ ...certs.ec });
  t.after(() => server.close());
  const proc = spawn(process.execPath, [CLI, '--listen', '127.0.0.1:0', '--target', `127.0.0.1:${server.port}`, '--idle-timeout', '30']);
  t.after(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  await until(() => out.includes('\n'), 'the URL line');
  const url = out.split('\n')[0];
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  const { socket } = nodeTlsOverWs(url);
  const payload = bytes(70_000, 5);
  assert.deepEqual(await tlsEcho(socket, payload), payload);
  assert.equal(socket.getProtocol(), 'TLSv1.3');
  socket.destroy();
  proc.kill('SIGTERM');
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0);
});
