// Cloudflare workerd: TCP is connect() from cloudflare:sockets, plain (the TLS
// is ours, in wasm); its Socket is a { readable, writable } pair with .opened.
// No listening sockets exist there: server.listen() reports so, and servers take
// connections from any transport with server.emit('connection', transport).
import { connect } from 'cloudflare:sockets';
import { streamsTransport } from '../transports/streams.js';

/** @param {{ host?: string, port: number }} options */
function connectTcp({ host = 'localhost', port }) {
  // allowHalfOpen: the TLSSocket decides when our side ends (after close_notify).
  const socket = connect({ hostname: host, port }, { secureTransport: 'off', allowHalfOpen: true });
  return streamsTransport(socket, { remotePort: port });
}

export const workerdPlatform = { name: 'workerd', connectTcp };
