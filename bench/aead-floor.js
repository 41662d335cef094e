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
// The third client is the floor itself: node:tls makes the handshake (through
// a JS stream, so the TCP socket stays in JS hands), then it seals and opens
// the records with node:crypto as wasm-tls does, and writes them to, and reads
// them from, the net.Socket directly, with no TLS library: the fastest a TLS
// client built on node:crypto and net.Socket can go. Its data goes through a
// Node stream as the others' (16 KiB writes to a Writable, waiting for 'drain';
// 'data' events from a Readable), since a TLS socket is one.

import crypto from 'node:crypto';
import inspector from 'node:inspector';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import nodeTls from 'node:tls';
import net from 'node:net';
import { Duplex, Readable, Writable } from 'node:stream';

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

/** HKDF-Expand-Label(secret, label, "", length) with SHA-256 (RFC 8446 §7.1), for length <= 32. */
function expandLabel(secret, label, length) {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([0, length, full.length]), full, Buffer.from([0, 1])]);
  return crypto.createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** One direction's TLS 1.3 AES-128-GCM records, from its traffic secret: what js/record-jobs.js does per record. */
function recordProtection(secret, seq) {
  const key = crypto.createSecretKey(expandLabel(secret, 'key', 16));
  const iv = expandLabel(secret, 'iv', 12);
  const nonce = () => {
    const n = Buffer.from(iv);
    n.writeUInt32BE((n.readUInt32BE(8) ^ seq) >>> 0, 8);
    n.writeUInt32BE((n.readUInt32BE(4) ^ Math.floor(seq / 2 ** 32)) >>> 0, 4);
    seq++;
    return n;
  };
  const scratch = Buffer.allocUnsafe(RECORD + 1);
  return {
    /** The parts of the record holding `data` (up to 16 KiB). */
    seal(data) {
      const head = Buffer.from([23, 3, 3, (data.length + 17) >> 8, (data.length + 17) & 255]);
      const cipher = crypto.createCipheriv('aes-128-gcm', key, nonce(), { authTagLength: TAG });
      cipher.setAAD(head);
      scratch.set(data);
      scratch[data.length] = 23; // application_data
      const ciphertext = cipher.update(scratch.subarray(0, data.length + 1));
      cipher.final();
      return [head, ciphertext, cipher.getAuthTag()];
    },
    /** The data of the record `record` (header included), or throws. */
    open(record) {
      const decipher = crypto.createDecipheriv('aes-128-gcm', key, nonce(), { authTagLength: TAG });
      decipher.setAAD(record.subarray(0, 5));
      decipher.setAuthTag(record.subarray(record.length - TAG));
      const plaintext = decipher.update(record.subarray(5, record.length - TAG));
      decipher.final();
      return plaintext.subarray(0, plaintext.length - 1);
    },
  };
}

/** The floor client (see the top): sends or receives `bytes`, as transfer() does. */
async function floorTransfer(mode, bytes, measure) {
  // As js/transports/tcp.js: reads into one buffer, lent to onRead for the call; 64 KiB writes buffered.
  let onRead = null;
  const readBuffer = Buffer.allocUnsafeSlow(256 * 1024);
  const tcp = net.connect({
    port,
    host: '127.0.0.1',
    writableHighWaterMark: 64 * 1024,
    onread: { buffer: readBuffer, callback: (n) => onRead(readBuffer.subarray(0, n)) },
  });
  await once(tcp, 'connect');
  const secrets = {};
  const toTls = new Duplex({ read() {}, write: (chunk, encoding, cb) => tcp.write(chunk, cb) });
  onRead = (chunk) => toTls.push(Buffer.from(chunk));
  const socket = nodeTls.connect({ socket: toTls, rejectUnauthorized: false });
  socket.on('keylog', (line) => {
    const [label, , secret] = line.toString().trim().split(' ');
    secrets[label] = Buffer.from(secret, 'hex');
  });
  let tickets = 0;
  socket.on('session', () => tickets++);
  await once(socket, 'secureConnect');
  while (tickets < 2) await once(socket, 'session'); // OpenSSL's two, under the first receive sequence numbers
  await new Promise((resolve) => setTimeout(resolve, 20)); // the client's Finished leaves through toTls
  const send = recordProtection(secrets.CLIENT_TRAFFIC_SECRET_0, 0);
  const receive = recordProtection(secrets.SERVER_TRAFFIC_SECRET_0, tickets);
  /** Writes a record's parts in one go (as wasm-tls does); false: wait for 'drain'. */
  const writeRecord = (parts) => {
    tcp.cork();
    let more = true;
    for (const part of parts) more = tcp.write(part);
    tcp.uncork();
    return more;
  };
  /** Resolves once `n` bytes of data came, or (n 0) the first record. */
  const received = (n) => new Promise((resolve) => {
    const readable = new Readable({ read() {} });
    let held = null;
    let got = 0;
    readable.on('data', (data) => {
      got += data.length;
      if (got >= n) resolve();
    });
    onRead = (chunk) => {
      let at = 0;
      if (held) {
        chunk = Buffer.concat([held, chunk]);
        held = null;
      }
      while (chunk.length - at >= 5) {
        const end = at + 5 + chunk.readUInt16BE(at + 3);
        if (end > chunk.length) break;
        readable.push(receive.open(chunk.subarray(at, end)));
        at = end;
      }
      if (at < chunk.length) held = Buffer.from(chunk.subarray(at)); // the read buffer is used again
    };
  });
  const block = crypto.randomBytes(RECORD);
  const stop = await measure();
  if (mode === 'receive') {
    writeRecord(send.seal(Buffer.from(`recv ${bytes}\n`)));
    await received(bytes);
  } else {
    writeRecord(send.seal(Buffer.from(`send ${bytes}\n`)));
    const ok = received(0);
    const writable = new Writable({
      write(data, encoding, cb) {
        if (writeRecord(send.seal(data))) cb();
        else tcp.once('drain', cb);
      },
    });
    for (let left = bytes; left > 0; left -= RECORD) if (!writable.write(block)) await once(writable, 'drain');
    await ok;
  }
  const result = await stop();
  tcp.destroy();
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
const ratios = [];
for (const mode of ['receive', 'send']) {
  const speed = {};
  for (const [label, tls] of [['node:tls', nodeTls], ['wasm-tls', wasmTls], ['floor: node:crypto + net.Socket', null]]) {
    const run = (bytes, measure) => (tls ? transfer(tls, mode, bytes, measure) : floorTransfer(mode, bytes, measure));
    const rows = [];
    for (let round = 0; round < 4; round++) {
      const row = await run(BYTES, time);
      if (round > 0) rows.push(row);
    }
    const heapBytes = 32 * 1024 * 1024;
    const perRecord = await run(heapBytes, sampleHeap(heapBytes / RECORD));
    speed[label] = median(rows.map((r) => r[0]));
    console.log(`| ${label} | ${mode} | ${speed[label].toFixed(0)} | ${median(rows.map((r) => r[1])).toFixed(1)} | ${perRecord.toFixed(0)} |`);
  }
  const floor = speed['floor: node:crypto + net.Socket'];
  ratios.push(`${mode}: wasm-tls / node:tls ${(speed['wasm-tls'] / speed['node:tls']).toFixed(2)}, floor / node:tls ${(floor / speed['node:tls']).toFixed(2)}, wasm-tls / floor ${(speed['wasm-tls'] / floor).toFixed(2)}`);
}
console.log('');
for (const line of ratios) console.log(line);
server.kill();
