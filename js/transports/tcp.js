// The runtime's own TCP, in Node (Deno and Bun have their own adapters).
import net from 'node:net';
import { duplexTransport } from './duplex.js';

// Reads go straight into a slab shared by every connection this adapter opens
// (net.connect's `onread`), each after the last, never reused: no buffer is
// allocated (and trimmed, with a copy) per read as net.Socket does, no stream
// machinery runs per read, and a record split between two reads of one
// connection usually lies in one piece (record-jobs.js joins adjacent views).
// A slab lives while any view of it is queued.
const SLAB_SIZE = 1 << 20;
const READ_MIN = 64 * 1024;
const READ_MAX = 256 * 1024;
let slab = new Uint8Array(0);
let used = 0;

function readBuffer() {
  if (slab.length - used < READ_MIN) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE); // every byte handed on is written by a read first
    used = 0;
  }
  return slab.subarray(used, used + READ_MAX);
}

/** Marks the `n` bytes read into `buffer` (from readBuffer()) as taken. */
function taken(buffer, n) {
  if (buffer.buffer === slab.buffer) used = Math.max(used, buffer.byteOffset - slab.byteOffset + n);
}

/**
 * @param {{ host?: string, port: number, localAddress?: string, localPort?: number, family?: number }} options
 */
export function tcpTransport(options) {
  /** @type {((chunk: Uint8Array) => void) | null} */
  let onData = null;
  /** Read before start() gave the handlers (not expected: start() follows at once). */
  const early = [];
  const socket = net.connect({
    host: options.host,
    port: options.port,
    localAddress: options.localAddress,
    localPort: options.localPort,
    family: options.family,
    // The TLSSocket decides when our side ends (after close_notify).
    allowHalfOpen: true,
    onread: {
      buffer: readBuffer,
      callback(n, buffer) {
        taken(buffer, n);
        const chunk = buffer.subarray(0, n);
        if (onData) onData(chunk);
        else early.push(chunk);
      },
    },
  });
  const transport = duplexTransport(socket);
  const start = transport.start;
  transport.start = (handlers) => {
    onData = handlers.onData;
    start(handlers);
    for (const chunk of early.splice(0)) onData(chunk);
  };
  return transport;
}
