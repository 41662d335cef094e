// Memory: engine objects are freed when their socket closes, however it ends
// (not left to the garbage collector), and memory is flat across thousands of
// connections and after 1,000 idle ones close. The figures themselves (and the
// comparison with node:tls) are bench/memory.js's; here they are bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import ntls from 'node:tls';
import { fileURLToPath } from 'node:url';
import tls from 'wasm-tls';
import { TlsAcceptor, TlsConnection } from '../../pkg/wasm_tls.js';
import { certs } from './helpers/certs.js';
import { rawServer, tlsServer } from './helpers/peers.js';
import { clientOptions, closed } from './helpers/hostile.js';

const MiB = 1 << 20;

/** Records every engine object made and every .free() call, until restored. */
function spyOnEngine(t) {
  const made = new Set();
  const freed = new Set();
  let acceptorsFreed = 0;
  const saved = {
    client: TlsConnection.client,
    accept: TlsAcceptor.prototype.accept,
    freeConnection: TlsConnection.prototype.free,
    freeAcceptor: TlsAcceptor.prototype.free,
  };
  TlsConnection.client = function client(...args) {
    const c = saved.client.apply(this, args);
    made.add(c);
    return c;
  };
  TlsAcceptor.prototype.accept = function accept(...args) {
    const c = saved.accept.apply(this, args);
    made.add(c);
    return c;
  };
  TlsConnection.prototype.free = function free() {
    freed.add(this);
    return saved.freeConnection.call(this);
  };
  TlsAcceptor.prototype.free = function free() {
    acceptorsFreed++;
    return saved.freeAcceptor.call(this);
  };
  t.after(() => {
    TlsConnection.client = saved.client;
    TlsAcceptor.prototype.accept = saved.accept;
    TlsConnection.prototype.free = saved.freeConnection;
    TlsAcceptor.prototype.free = saved.freeAcceptor;
  });
  return { made, freed, acceptorsFreed: () => acceptorsFreed };
}

/** Runs `connect()` to a socket and ends it with `how`; resolves once it closed. */
async function endClient(socket, how) {
  socket.on('error', () => {});
  socket.on('data', () => {});
  if (how === 'destroy-now') socket.destroy();
  else if (how !== 'wait') {
    await Promise.race([once(socket, 'secureConnect'), closed(socket)]);
    if (how === 'end') socket.end('bye');
    else socket.destroy();
  }
  await closed(socket);
}

test('engine objects are freed (.free()) when a socket closes, however it ends, without waiting for GC', async (t) => {
  const spy = spyOnEngine(t);
  const echo = await tlsServer(t, ntls, certs.ec);
  const hangUp = await rawServer((s) => s.once('data', () => s.end()));
  t.after(() => hangUp.close());
  const client = (port, extra) => tls.connect({ host: '127.0.0.1', port, ...clientOptions(extra) });
  // Clients: a clean end, destroyed mid-handshake, destroyed after it, refused
  // verification, the peer hanging up mid-handshake.
  await endClient(client(echo.port), 'end');
  await endClient(client(echo.port), 'destroy-now');
  await endClient(client(echo.port), 'destroy');
  await endClient(client(echo.port, { ca: certs.self.cert }), 'wait');
  await endClient(client(hangUp.port), 'wait');
  const clients = spy.made.size;
  assert.equal(clients, 5);

  // Servers: a clean end, junk instead of a ClientHello, nothing then EOF, half
  // a ClientHello then a timeout, the client leaving after the handshake, an
  // SNICallback error.
  const wasm = await tlsServer(t, tls, {
    ...certs.ec,
    handshakeTimeout: 300,
    SNICallback: (name, cb) => cb(name === 'bad.example' ? new Error('no context') : null),
  });
  const raw = async (bytes, end) => {
    const c = net.connect(wasm.port, '127.0.0.1');
    c.on('error', () => {});
    c.on('data', () => {});
    await once(c, 'connect');
    c.write(bytes);
    if (end) c.end();
    await closed(c);
  };
  const viaNode = async (how, extra) => endClient(ntls.connect({ host: '127.0.0.1', port: wasm.port, ...clientOptions(extra) }), how);
  await viaNode('end');
  await raw('GET / HTTP/1.1\r\n\r\n', true);
  await raw('', true);
  await raw(Buffer.of(22, 3, 1, 0, 200, 1, 0), false);
  await viaNode('destroy');
  await viaNode('wait', { servername: 'bad.example' });
  const connections = () => new Promise((resolve) => wasm.server.getConnections((err, n) => resolve(n)));
  while (await connections() > 0) await new Promise((r) => setTimeout(r, 10));
  // Two server sockets got as far as a connection (the SNICallback error comes
  // before it); all six had an acceptor.
  assert.equal(spy.made.size, clients + 2);
  assert.equal(spy.acceptorsFreed(), 6);
  const leaked = [...spy.made].filter((c) => !spy.freed.has(c));
  assert.equal(leaked.length, 0, `${leaked.length} engine connections not freed`);
});

const bench = fileURLToPath(new URL('../../bench/memory.js', import.meta.url));

/** Runs bench/memory.js (each scenario in its own --expose-gc process) and returns its results. */
function runBench(args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [bench, '--json', '--libs', 'wasm', ...args], { maxBuffer: 16 * MiB, timeout: 600_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout.trim().split('\n').pop()));
      });
  });
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

test('3,000 sequential connections each way: wasm memory and JS heap flat after warm-up', async (t) => {
  const results = await runBench(['--only', 'sequential-client,sequential-server', '--sequential', '2000', '--warmup', '1000']);
  for (const r of results) {
    const g = r.growthAfterWarmup;
    t.diagnostic(`${r.scenario}: wasm ${r.warm.wasm} -> ${r.end.wasm}, heap growth ${kib(g.heapUsed)} over ${r.count}`);
    // wasm memory never shrinks. A client's does creep for a while: the context
    // each connect() makes is freed by the collector (FinalizationRegistry), so
    // its peak follows GC timing (it levels off at ~4 MiB; bench/memory.js).
    const bound = r.scenario === 'sequential-client' ? 2 * MiB : 256 * 1024;
    assert.ok(g.wasm <= bound, `${r.scenario}: wasm memory grew ${kib(g.wasm)} over ${r.count} connections`);
    assert.ok(g.heapUsed <= 2 * MiB, `${r.scenario}: JS heap grew ${kib(g.heapUsed)} over ${r.count} connections`);
  }
});

test('1,000 idle established connections each way: bounded per connection, memory back after close and reused', async (t) => {
  const results = await runBench(['--only', 'idle-client,idle-server', '--idle', '1000']);
  for (const r of results) {
    const p = r.perConnection;
    t.diagnostic(`${r.scenario}: per connection ${kib(p.total)} (heap ${kib(p.heapUsed)}, wasm ${kib(p.wasm)}, rss ${kib(p.rss)})`);
    assert.ok(p.heapUsed + p.wasm < 64 * 1024, `${r.scenario}: ${kib(p.heapUsed + p.wasm)} per idle connection`);
    assert.ok(r.afterClose.heapUsed < 2 * MiB, `${r.scenario}: JS heap after close +${kib(r.afterClose.heapUsed)}`);
    // The second thousand fits in the memory the first one left behind.
    assert.ok(r.secondRound.wasm <= 1 * MiB, `${r.scenario}: wasm grew ${kib(r.secondRound.wasm)} in the second round`);
    assert.ok(r.afterSecondClose.heapUsed < 2 * MiB, `${r.scenario}: JS heap after the second close +${kib(r.afterSecondClose.heapUsed)}`);
  }
});
