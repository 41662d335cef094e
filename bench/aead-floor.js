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
// Then, for comparison, the whole CPU time (user + system, this process) per
// record of a node:tls client and a wasm-tls client receiving 256 MiB from a
// node:tls server in another process (TLS 1.3, AES-128-GCM), medians of 3.

import crypto from 'node:crypto';
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

/** The node:tls server: on "recv N\n", sends N bytes in 16 KiB writes. */
async function serve() {
  const { certs } = await import('../tests/js/helpers/certs.js');
  const block = crypto.randomBytes(RECORD);
  const server = nodeTls.createServer({ ...certs.ec, ciphers: 'TLS_AES_128_GCM_SHA256' }, (socket) => {
    socket.once('data', (line) => {
      let left = Number(/^recv (\d+)/.exec(line.toString())[1]);
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
console.log('');
console.log('| client receiving 256 MiB | MB/s | CPU µs/record (user + system) |');
console.log('|---|---:|---:|');
for (const [label, tls] of [['node:tls', nodeTls], ['wasm-tls', wasmTls]]) {
  const rows = [];
  for (let round = 0; round < 4; round++) {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    let got = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    socket.write(`recv ${BYTES}\n`);
    await new Promise((resolve) => socket.on('data', (chunk) => {
      got += chunk.length;
      if (got >= BYTES) resolve();
    }));
    const cpu = process.cpuUsage(cpu0);
    if (round > 0) rows.push([BYTES / 1e6 / ((performance.now() - t0) / 1000), (cpu.user + cpu.system) / (BYTES / RECORD)]);
    socket.destroy();
  }
  console.log(`| ${label} | ${median(rows.map((r) => r[0])).toFixed(0)} | ${median(rows.map((r) => r[1])).toFixed(1)} |`);
}
server.kill();
