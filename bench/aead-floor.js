// What node:crypto costs per TLS record, the floor under wasm-tls' bulk rows in
// Node (js/record-jobs.js seals and opens every record this way):
//
//   node bench/aead-floor.js [--records N (default 40000)]
//
// node:crypto has no AEAD that keeps its context from one record to the next:
// each record's nonce needs a new cipher object (createCipheriv/createDecipheriv,
// which fetches the cipher from OpenSSL's provider), and `update` allocates its
// output (twice: it shrinks a one-byte-larger buffer with a copy). Prints
// microseconds per 16 KiB record, medians of 5 runs, for each AEAD, sealing and
// opening, with the key as a KeyObject (as wasm-tls passes it) and as a Buffer.
// Then, for comparison, a node:tls client and a wasm-tls client receiving and
// sending 256 MiB from and to a node:tls server in another process (TLS 1.3,
// AES-128-GCM, 16 KiB writes): MB/s and the whole CPU time (user + system,
// this process) per record, medians of 3; and the JS heap each record
// allocates, garbage included (the inspector's sampling heap profiler, 32 MiB).

import crypto from 'node:crypto';
import inspector from 'node:inspector';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import nodeTls from 'node:tls';

const argv = process.argv.slice(2);
const at = argv.indexOf('--records');
const RECORDS = at >= 0 ? Number(argv[at + 1]) : 40000;
const RECORD = 16 * 1024;
const TAG = 16;
const aad = Buffer.from([23, 3, 3, 0x40, 0x11]);
const plaintext = crypto.randomBytes(RECORD + 1); // data and the inner content type
if (argv[0] === '--server') await serve();

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Microseconds per call of `fn`, median of 5 runs after a warm-up. */
function perCall(fn) {
  for (let i = 0; i < 2000; i++) fn(i);
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RECORDS; i++) fn(i);
    runs.push(Number(process.hrtime.bigint() - t0) / 1000 / RECORDS);
  }
  return median(runs);
}

const nonce = (i) => {
  const iv = Buffer.alloc(12, 7);
  iv.writeUInt32BE(i, 8);
  return iv;
};

console.log('| AEAD | key | seal µs/record | open µs/record |');
console.log('|---|---|---:|---:|');
for (const [name, keyLength] of [['aes-128-gcm', 16], ['aes-256-gcm', 32], ['chacha20-poly1305', 32]]) {
  const raw = crypto.randomBytes(keyLength);
  const ivs = Array.from({ length: 64 }, (_, i) => nonce(i));
  const sealed = ivs.map((iv) => {
    const c = crypto.createCipheriv(name, raw, iv, { authTagLength: TAG });
    c.setAAD(aad);
    return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  });
  for (const [label, key] of [['KeyObject', crypto.createSecretKey(raw)], ['Buffer', raw]]) {
    const seal = perCall((i) => {
      const c = crypto.createCipheriv(name, key, ivs[i & 63], { authTagLength: TAG });
      c.setAAD(aad);
      const out = c.update(plaintext);
      c.final();
      return [out, c.getAuthTag()];
    });
    const open = perCall((i) => {
      const record = sealed[i & 63];
      const d = crypto.createDecipheriv(name, key, ivs[i & 63], { authTagLength: TAG });
      d.setAAD(aad);
      d.setAuthTag(record.subarray(record.length - TAG));
      const out = d.update(record.subarray(0, record.length - TAG));
      d.final();
      return out;
    });
    console.log(`| ${name} | ${label} | ${seal.toFixed(2)} | ${open.toFixed(2)} |`);
  }
}

/** The node:tls server: on "recv N\n", sends N bytes in 16 KiB writes; on "send N\n", reads N and says "ok". */
async function serve() {
  const { certs } = await import('../tests/js/helpers/certs.js');
  const block = crypto.randomBytes(RECORD);
  const server = nodeTls.createServer({ ...certs.ec, ciphers: 'TLS_AES_128_GCM_SHA256' }, (socket) => {
    socket.once('data', (line) => {
      const [, command, count] = /^(recv|send) (\d+)\n/.exec(line.toString());
      let left = Number(count);
      if (command === 'send') {
        left -= line.length - line.indexOf(10) - 1;
        socket.on('data', (chunk) => {
          left -= chunk.length;
          if (left <= 0) socket.write('ok\n');
        });
        return;
      }
      const pump = () => {
        while (left > 0) {
          left -= RECORD;
          if (!socket.write(block)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  await new Promise(() => {});
}

const BYTES = 256 * 1024 * 1024;
const server = fork(fileURLToPath(import.meta.url), ['--server']);
process.on('exit', () => server.kill()); // also when a measurement throws
const [port] = await once(server, 'message');
const { default: wasmTls } = await import('../js/entry/node.js');
const session = new inspector.Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => {
  session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
});

/** Sends or receives `bytes` over a new connection; resolves once all went through. */
async function transfer(tls, mode, bytes, measure) {
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  await once(socket, 'secureConnect');
  const block = crypto.randomBytes(RECORD);
  const stop = await measure();
  if (mode === 'receive') {
    socket.write(`recv ${bytes}\n`);
    let got = 0;
    await new Promise((resolve) => socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= bytes) resolve();
    }));
  } else {
    socket.write(`send ${bytes}\n`);
    const ok = new Promise((resolve) => socket.on('data', resolve));
    for (let left = bytes; left > 0; left -= RECORD) if (!socket.write(block)) await once(socket, 'drain');
    await ok;
  }
  const result = await stop();
  socket.destroy();
  return result;
}

const time = () => {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    return [BYTES / 1e6 / ((performance.now() - t0) / 1000), (cpu.user + cpu.system) / (BYTES / RECORD)];
  };
};

const sampleHeap = (records) => async () => {
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return async () => {
    const { profile } = await post('HeapProfiler.stopSampling');
    let total = 0;
    const walk = (node) => {
      total += node.selfSize;
      node.children.forEach(walk);
    };
    walk(profile.head);
    return total / records;
  };
};

console.log('');
console.log('| client | direction | MB/s | CPU µs/record (user + system) | JS heap allocated, bytes/record |');
console.log('|---|---|---:|---:|---:|');
for (const mode of ['receive', 'send']) {
  for (const [label, tls] of [['node:tls', nodeTls], ['wasm-tls', wasmTls]]) {
    const rows = [];
    for (let round = 0; round < 4; round++) {
      const row = await transfer(tls, mode, BYTES, time);
      if (round > 0) rows.push(row);
    }
    const heapBytes = 32 * 1024 * 1024;
    const perRecord = await transfer(tls, mode, heapBytes, sampleHeap(heapBytes / RECORD));
    console.log(`| ${label} | ${mode} | ${median(rows.map((r) => r[0])).toFixed(0)} | ${median(rows.map((r) => r[1])).toFixed(1)} | ${perRecord.toFixed(0)} |`);
  }
}
server.kill();
