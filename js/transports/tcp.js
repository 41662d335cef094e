// The runtime's own TCP. Node, Deno and Bun all provide node:net.
import net from 'node:net';
import { duplexTransport } from './duplex.js';

/**
 * @param {{ host?: string, port: number, localAddress?: string, localPort?: number, family?: number }} options
 */
export function tcpTransport(options) {
  const socket = net.connect({
    host: options.host,
    port: options.port,
    localAddress: options.localAddress,
    localPort: options.localPort,
    family: options.family,
    // The TLSSocket decides when our side ends (after close_notify).
    allowHalfOpen: true,
  });
  return duplexTransport(socket);
}
