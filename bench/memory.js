// Memory: is it flat across many connections, and what does an idle
// established connection cost, wasm-tls against node:tls (OpenSSL)?
//
//   node bench/memory.js [--sequential N (10000)] [--warmup W (N/10, at most 1000)]
//     [--idle M (1000)] [--only scenario,...] [--libs wasm,node] [--json]
//
// Each scenario runs in a fresh `node --expose-gc` process holding only the
// side being measured; the peer (node:tls) runs in another process, so its
// memory is not counted. TLS 1.3, ECDSA P-256 certificate, loopback only.
//   sequential-client: N clients one after another to a node:tls server
//     (connect, echo one byte, end, close);
//   sequential-server: N node:tls clients one after another to the server;
//   idle-client / idle-server: M connections established at once and left idle,
//     then closed; twice, to see the memory of the second round reuse the
//     first's.
// Every scenario runs with wasm-tls and, as the baseline, node:tls.
// Memory is read after global.gc(): JS heap used, external and array buffers,
// RSS, and the wasm instance's linear memory (which never shrinks: it must
// stop growing once warmed up).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

/** Loads the libraries and the certificates only where they are used. */
async function libs() {
  const { default: wasm } = await import('../js/entry/node.js');
  const { default: init } = await import('../pkg/wasm_tls.js');
  const { default: node } = await import('node:tls');
  const { certs } = await import('../tests/js/helpers/certs.js');
  return { wasm, node, instance: await init(), certs };
}

// --- the peer process (node:tls only): a server, or clients on request --------

async function peerMain() {
  const { default: tls } = await import('node:tls');
  const held = new Set();
  let clientOptions;
  const echoOnce = async (s) => {
    s.write('x');
    await once(s, 'data');
  };
  process.on('message', async (m) => {
    // The measured process made the certificates.
    clientOptions = { host: '127.0.0.1', servername: 'localhost', ca: m.certs.ca };
    if (m.cmd === 'server') {
      const server = tls.createServer(m.certs.ec, (s) => {
        s.setNoDelay(true);
        s.on('error', () => {});
        s.pipe(s);
      });
      server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
    } else if (m.cmd === 'sequential') {
      for (let i = 0; i < m.count; i++) {
        const s = tls.connect({ ...clientOptions, port: m.port }).setNoDelay(true);
        await once(s, 'secureConnect');
        await echoOnce(s);
        s.end();
        await once(s, 'close');
      }
      process.send({ done: true });
    } else if (m.cmd === 'open') {
      await openIdle(() => tls.connect({ ...clientOptions, port: m.port }), m.count, held);
      process.send({ done: true });
    } else if (m.cmd === 'closeAll') {
      await closeAll(held);
      process.send({ done: true });
    }
  });
  process.send({ ready: true });
}

/** Opens `count` connections, 50 at a time, each echoing one byte, and keeps them. */
async function openIdle(connect, count, held) {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, async () => {
      const s = connect();
      s.on('error', () => {});
      await once(s, 'secureConnect');
      s.write('x');
      await once(s, 'data');
      held.add(s);
    }));
  }
}

async function closeAll(held) {
  await Promise.all([...held].map((s) => {
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.end();
    return closed;
  }));
  held.clear();
}

// --- a measured process: one scenario, one library -----------------------------

function ask(peer, message) {
  peer.send({ ...message, certs: { ca: peerCerts.ca, ec: peerCerts.ec } });
  return new Promise((resolve) => peer.once('message', resolve));
}

async function measure(instance) {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return {
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    rss: m.rss,
    wasm: instance.memory.buffer.byteLength,
  };
}

const diff = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

let peerCerts;

async function scenarioMain(scenario, libName, sequential, idle, warmup) {
  const { instance, certs, ...all } = await libs();
  peerCerts = certs;
  const tls = all[libName];
  const peer = fork(self, ['--peer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await once(peer, 'message');
  const clientOptions = { host: '127.0.0.1', servername: 'localhost', ca: certs.ca };
  let port;
  let server;
  const serverSockets = new Set();
  if (scenario.endsWith('client')) {
    ({ port } = await ask(peer, { cmd: 'server' }));
  } else {
    server = tls.createServer(certs.ec, (s) => {
      s.on('error', () => {});
      serverSockets.add(s);
      s.on('close', () => serverSockets.delete(s));
      s.pipe(s);
    });
    // Latency is not measured here: no Nagle stalls (a wasm-tls server writes
    // session tickets and the first reply separately; see tests/js/hostile.test.js).
    server.on('connection', (raw) => raw.setNoDelay(true));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = server.address().port;
  }
  const result = { scenario, lib: libName };
  const oneClient = async () => {
    const s = tls.connect({ ...clientOptions, port }).setNoDelay(true);
    await once(s, 'secureConnect');
    s.write('x');
    await once(s, 'data');
    s.end();
    await once(s, 'close');
  };
  const runSequential = async (count) => {
    if (scenario === 'sequential-client') for (let i = 0; i < count; i++) await oneClient();
    else await ask(peer, { cmd: 'sequential', port, count });
  };
  if (scenario.startsWith('sequential')) {
    result.start = await measure(instance);
    await runSequential(warmup);
    result.warm = await measure(instance);
    await runSequential(sequential);
    result.end = await measure(instance);
    result.count = sequential;
    result.warmup = warmup;
    result.growthAfterWarmup = diff(result.warm, result.end);
  } else {
    const held = new Set();
    const open = async (count = idle) => {
      if (scenario === 'idle-client') await openIdle(() => tls.connect({ ...clientOptions, port }), count, held);
      else {
        await ask(peer, { cmd: 'open', port, count });
        while (serverSockets.size < count) await new Promise((r) => setTimeout(r, 10));
      }
    };
    const close = async () => {
      if (scenario === 'idle-client') await closeAll(held);
      else {
        await ask(peer, { cmd: 'closeAll' });
        while (serverSockets.size > 0) await new Promise((r) => setTimeout(r, 10));
      }
    };
    // A few connections first, so one-time costs (the wasm instance warming
    // up, lazily built tables) are not charged to the idle connections.
    await open(50);
    await close();
    result.count = idle;
    result.start = await measure(instance);
    await open();
    result.open = await measure(instance);
    await close();
    result.closed = await measure(instance);
    await open();
    result.open2 = await measure(instance);
    await close();
    result.closed2 = await measure(instance);
    const d = diff(result.start, result.open);
    result.perConnection = {
      heapUsed: Math.round(d.heapUsed / idle),
      external: Math.round(d.external / idle),
      rss: Math.round(d.rss / idle),
      wasm: Math.round(d.wasm / idle),
      // What the library holds per connection: JS heap + off-heap (wasm memory
      // is an ArrayBuffer, so `external` counts it) for wasm-tls; OpenSSL's
      // allocations are outside V8, so only RSS shows them for node:tls.
      total: Math.round(Math.max(d.rss, d.heapUsed + d.external) / idle),
    };
    result.afterClose = diff(result.start, result.closed);
    result.secondRound = diff(result.open, result.open2);
    result.afterSecondClose = diff(result.closed, result.closed2);
  }
  peer.kill();
  server?.close();
  return result;
}

// --- the orchestrator ------------------------------------------------------------

async function runScenario(scenario, lib, sequential, idle, warmup) {
  const child = fork(self, ['--scenario', scenario, '--lib', lib, '--sequential', String(sequential), '--idle', String(idle),
    '--warmup', String(warmup)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [result] = await once(child, 'message');
  await once(child, 'exit');
  return result;
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n) => `${(n / 1048576).toFixed(2)} MiB`;

async function main() {
  const sequential = Number(arg('sequential', 10_000));
  const idle = Number(arg('idle', 1000));
  const warmup = Number(arg('warmup', Math.min(1000, Math.ceil(sequential / 10))));
  const only = arg('only');
  const libNames = arg('libs', 'wasm,node').split(',');
  const plan = [
    ['sequential-client', 'wasm'], ['sequential-client', 'node'], ['sequential-server', 'wasm'], ['sequential-server', 'node'],
    ['idle-client', 'wasm'], ['idle-client', 'node'], ['idle-server', 'wasm'], ['idle-server', 'node'],
  ].filter(([s, lib]) => (!only || only.split(',').includes(s)) && libNames.includes(lib));
  const results = [];
  for (const [scenario, lib] of plan) results.push(await runScenario(scenario, lib, sequential, idle, warmup));
  if (args.includes('--json')) {
    console.log(JSON.stringify(results));
    return;
  }
  for (const r of results.filter((x) => x.scenario.startsWith('sequential'))) {
    console.log(`${r.scenario} (${r.lib === 'wasm' ? 'wasm-tls' : 'node:tls'}), ${r.count} connections after ${r.warmup} warm-up:`);
    for (const k of r.lib === 'wasm' ? ['wasm', 'heapUsed', 'external', 'rss'] : ['heapUsed', 'external', 'rss']) {
      console.log(`  ${k.padEnd(9)} start ${mib(r.start[k])}, warm ${mib(r.warm[k])}, end ${mib(r.end[k])} (growth after warm-up ${kib(r.growthAfterWarmup[k])})`);
    }
  }
  console.log(`\nIdle established connections (${idle} at once), per connection:`);
  console.log('| side | library | total | JS heap | external | wasm memory | RSS | after close (heap / wasm) | 2nd round growth (wasm) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results.filter((x) => x.scenario.startsWith('idle'))) {
    const p = r.perConnection;
    console.log(`| ${r.scenario.slice(5)} | ${r.lib === 'wasm' ? 'wasm-tls' : 'node:tls'} | ${kib(p.total)} | ${kib(p.heapUsed)} | ${kib(p.external)} | ${kib(p.wasm)} | ${kib(p.rss)} | ${kib(r.afterClose.heapUsed)} / ${kib(r.afterClose.wasm)} | ${kib(r.secondRound.wasm)} |`);
  }
  for (const side of ['client', 'server']) {
    const [w, n] = ['wasm', 'node'].map((lib) => results.find((r) => r.scenario === `idle-${side}` && r.lib === lib));
    if (w && n) console.log(`${side}: wasm-tls / node:tls per idle connection = ${(w.perConnection.total / n.perConnection.total).toFixed(2)}x`);
  }
}

if (args.includes('--peer')) {
  await peerMain();
} else if (args.includes('--scenario')) {
  const result = await scenarioMain(arg('scenario'), arg('lib'), Number(arg('sequential')), Number(arg('idle')),
    Number(arg('warmup')));
  process.send(result, () => process.exit(0));
} else {
  await main();
}
