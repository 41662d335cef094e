// Records cut into 1-byte TCP writes in both directions, through a relay,
// between wasm-tls and node:tls (client and server sides): the handshake and
// every byte of data must come through intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import ntls from 'node:tls';
import tls from 'wasm-tls';
import { certs } from './helpers/certs.js';
import { bytes, sha256, tlsServer } from './helpers/peers.js';

/** A TCP relay to `port` that re-sends everything one byte per write. */
async function byteRelay(t, port) {
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(port, '127.0.0.1');
    const trickle = (from, to) => from.on('data', (chunk) => {
      for (const b of chunk) to.write(Buffer.of(b));
    });
    trickle(inbound, outbound);
    trickle(outbound, inbound);
    for (const [a, b] of [[inbound, outbound], [outbound, inbound]]) {
      a.on('end', () => b.end());
      a.on('error', () => b.destroy());
    }
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  t.after(() => relay.close());
  return relay.address().port;
}

for (const version of ['TLSv1.2', 'TLSv1.3']) {
  for (const [name, clientLib, serverLib] of [['wasm-tls client', tls, ntls], ['wasm-tls server', ntls, tls]]) {
    test(`${version}, ${name}: 1-byte fragments both ways, 32 KiB echoed intact`, async (t) => {
      const { port } = await tlsServer(t, serverLib, { ...certs.ec, maxVersion: version, ALPNProtocols: ['x'] });
      const relayPort = await byteRelay(t, port);
      const client = clientLib.connect({
        host: '127.0.0.1', port: relayPort, servername: 'localhost', ca: certs.ca, maxVersion: version, ALPNProtocols: ['x'],
      });
      await once(client, 'secureConnect');
      assert.equal(client.getProtocol(), version);
      assert.equal(client.alpnProtocol, 'x');
      const payload = bytes(32 * 1024, 5);
      const chunks = [];
      let n = 0;
      const done = new Promise((resolve) => client.on('data', (d) => {
        chunks.push(d);
        n += d.length;
        if (n >= payload.length) resolve();
      }));
      client.write(payload);
      await done;
      assert.equal(sha256(Buffer.concat(chunks)), sha256(payload));
      client.destroy();
    });
  }
}
