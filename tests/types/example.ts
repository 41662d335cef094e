// Compiled (not run) by tests/js/node-integrations.test.js with tsc --strict:
// the public API as a TypeScript user writes it, in Node and in a browser.
import net from 'node:net';
import { Duplex } from 'node:stream';
import { MessageChannel } from 'node:worker_threads';
import tls, {
  TLSSocket, connect, createServer, messagePortTransport, relayTransport, setDefaultRelay, streamsTransport,
  websocketTransport,
} from 'wasm-tls';
import type { ConnectionOptions, Transport, TransportHandlers } from 'wasm-tls';
import { MESSAGE_PORT_WINDOW, toTransport } from 'wasm-tls/transports';

// Node's signatures.
const plain: TLSSocket = tls.connect(443, 'example.com', { servername: 'example.com' }, () => {});
plain.on('secureConnect', () => {
  const cipher = plain.getCipher();
  const name: string | undefined = cipher?.name;
  const protocol: string | null = plain.getProtocol();
  const cert = plain.getPeerCertificate(true);
  console.log(name, protocol, cert?.issuerCertificate?.subject, plain.authorized, plain.alpnProtocol);
});

// Transports of every kind.
const tcp = net.connect(443, 'example.com');
const overDuplex = connect({ socket: tcp, servername: 'example.com' });
const overWeb = connect({ transport: streamsTransport(Duplex.toWeb(tcp), { remotePort: 443 }) });
const overPromise = connect({ transport: Promise.resolve(Duplex.toWeb(tcp)), servername: 'example.com' });
const overWebSocket = connect({ transport: new WebSocket('wss://relay.example/'), servername: 'example.com' });
const overUrl = connect({ transport: websocketTransport('wss://relay.example/', { protocols: ['binary'], highWaterMark: 1 << 20 }) });
const { port1, port2 } = new MessageChannel();
const overPort = connect({ transport: messagePortTransport(port1, { transfer: false }) });
const viaRelay = connect({ host: 'db.example', port: 5432, relay: 'wss://relay.example/' });
const viaRelay2 = connect({ transport: relayTransport(new URL('wss://relay.example/'), 'db.example', 5432) });
setDefaultRelay('wss://relay.example/');
tls.setDefaultRelay(undefined);
const options: ConnectionOptions = { transport: port2, rejectUnauthorized: true, ALPNProtocols: ['h2'] };
const fromOptions = tls.connect(options);
const wrapped = new TLSSocket(toTransport(new URL('wss://relay.example/')));
const window: number = MESSAGE_PORT_WINDOW;
// @ts-expect-error a number is no byte pipe
connect({ transport: 42 });
// @ts-expect-error write() takes bytes
loopback().write('text');

// A transport written by hand (docs/transports.md).
function loopback(): Transport {
  let handlers: TransportHandlers | undefined;
  return {
    start(h) { handlers = h; },
    write(bytes: Uint8Array) { handlers?.onData(bytes); return true; },
    end() { handlers?.onEnd(); handlers?.onClose(); },
    destroy() { handlers?.onClose(); },
    pause() {},
    resume() {},
    get connecting() { return false; },
  };
}
const custom = connect({ transport: loopback() });

// Web-style code.
async function web(socket: TLSSocket): Promise<number> {
  const { readable, writable } = socket.toWeb();
  const writer = writable.getWriter();
  await writer.write(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
  await writer.close();
  let n = 0;
  for await (const chunk of readable) n += chunk.byteLength;
  return n;
}

// A server, fed from any transport.
const server = createServer({ key: '', cert: '' }, (socket) => {
  socket.pipe(socket);
});
server.emit('connection', messagePortTransport(port2));
server.listen(0, '127.0.0.1', () => console.log(server.address()));

export const sockets = [
  plain, overDuplex, overWeb, overPromise, overWebSocket, overUrl, overPort, viaRelay, viaRelay2, fromOptions, wrapped, custom,
];
export { web, window };
