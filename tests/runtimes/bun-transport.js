// Run inside Bun: the Bun socket transport itself (js/transports/bun.js), client
// and server side, against a peer that does not read until told. write() must
// return false once Bun takes only part of a chunk, the rest must follow on
// 'drain', end() must half-close after it, and every byte must arrive in order.
import { config, randomBytes, report, sha256 } from './common.js';

const cfg = config(); // { repo, port, size }
const { bunConnect, bunListen } = await import(`${cfg.repo}/js/transports/bun.js`);

async function exercise(label, transport) {
  const payload = randomBytes(cfg.size);
  const events = [];
  const received = [];
  let drained;
  let closed;
  const closedP = new Promise((resolve) => { closed = resolve; });
  transport.start({
    onConnect: () => events.push('connect'),
    onData: (chunk) => received.push(chunk),
    onEnd: () => events.push('end'),
    onError: (e) => events.push(`error ${e.code}`),
    onClose: () => { events.push('close'); closed(); },
    onDrain: () => drained?.(),
  });
  const CHUNK = 64 * 1024;
  let at = 0;
  let blockedAt = -1;
  while (at < payload.length) {
    const ok = transport.write(payload.subarray(at, at + CHUNK));
    at += CHUNK;
    if (ok) continue;
    if (blockedAt < 0) {
      blockedAt = at;
      report({ label, blocked: true }); // the peer starts reading now
    }
    await new Promise((resolve) => { drained = resolve; });
    events.push('drain');
  }
  transport.end();
  await closedP;
  const drains = events.filter((e) => e === 'drain').length;
  report({
    label,
    blockedAt,
    drains,
    events: events.filter((e) => e !== 'drain'),
    sent: await sha256([payload]),
    reply: new TextDecoder().decode(received.length ? await new Blob(received).arrayBuffer() : new Uint8Array()),
  });
}

await exercise('client', bunConnect({ host: '127.0.0.1', port: cfg.port }));

let accepted;
const incoming = new Promise((resolve) => { accepted = resolve; });
const listener = bunListen({ host: '127.0.0.1', port: 0 }, accepted);
report({ label: 'server', port: listener.port });
await exercise('server', await incoming);
listener.stop(true);
