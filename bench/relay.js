// Throughput through wasm-tls-relay, and through websockify when installed, for comparison:
// 64 MiB each way on loopback (TCP server <-> relay <-> ws client, 64 KiB messages), best of 3.
// node bench/relay.js
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';

const SIZE = 64 * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 1);

// 'down': the server sends SIZE bytes; 'up': it counts SIZE bytes, then answers one byte.
let mode;
const server = net.createServer((s) => {
  s.on('error', () => {});
  let n = 0;
  if (mode === 'up') {
    s.on('data', (d) => {
      n += d.length;
      if (n >= SIZE) s.end('k');
    });
    return;
  }
  const pump = () => {
    while (n < SIZE) {
      n += chunk.length;
      if (!s.write(chunk)) return;
    }
    s.end();
  };
  s.on('drain', pump);
  pump();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = server.address().port;

let short = 0;

/** MiB/s for one transfer in `mode` through the WebSocket at `url`. */
async function once64(url) {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  const t0 = process.hrtime.bigint();
  let n = 0;
  const done = new Promise((resolve) => {
    ws.on('message', (d) => {
      n += d.length;
      if (mode === 'up' || n >= SIZE) resolve();
    });
    // A relay that closes before every byte came is counted, not waited for.
    ws.on('close', () => {
      if (mode === 'down' && n < SIZE) short++;
      resolve();
    });
  });
  if (mode === 'up') {
    for (let i = 0; i < SIZE; i += chunk.length) {
      ws.send(chunk);
      while (ws.bufferedAmount > 4 << 20) await new Promise((r) => setImmediate(r));
    }
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (ws.readyState !== ws.CLOSED) {
    ws.close(1000);
    await once(ws, 'close');
  }
  return 64 / seconds;
}

async function measure(name, url) {
  for (mode of ['down', 'up']) {
    let best = 0;
    short = 0;
    for (let i = 0; i < 3; i++) best = Math.max(best, await once64(url));
    const lost = short ? `  (${short} of 3 transfers closed before the last byte)` : '';
    console.log(`${name.padEnd(16)} ${mode === 'down' ? 'TCP->WebSocket' : 'WebSocket->TCP'}  ${best.toFixed(0)} MiB/s${lost}`);
  }
}

// The relay runs in a process of its own, as websockify does.
const relay = spawn(process.execPath, [new URL('../bin/wasm-tls-relay.js', import.meta.url).pathname,
  '--listen', '127.0.0.1:0', '--allow', `127.0.0.1:${port}`, '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(relay.stdout, 'data');
await measure('wasm-tls-relay', `${String(line).split('\n')[0]}?host=127.0.0.1&port=${port}`);
relay.kill();

// websockify wants a port of its own: take a free one and wait until it listens there.
const probe = net.createServer().listen(0, '127.0.0.1');
await once(probe, 'listening');
const wsfPort = probe.address().port;
probe.close();
const wsf = spawn('websockify', [`127.0.0.1:${wsfPort}`, `127.0.0.1:${port}`], { stdio: 'ignore', detached: true });
wsf.on('error', () => console.log('websockify not installed: no comparison'));
let up = false;
for (let i = 0; i < 400 && !up && wsf.exitCode === null; i++) {
  await sleep(50);
  up = await new Promise((resolve) => {
    const c = net.connect(wsfPort, '127.0.0.1', () => { c.destroy(); resolve(true); }).on('error', () => resolve(false));
  });
}
if (!up) console.log('websockify did not start', wsf.exitCode);
if (up) await measure('websockify', `ws://127.0.0.1:${wsfPort}/`);
if (wsf.pid) process.kill(-wsf.pid, 'SIGKILL');
server.close();
