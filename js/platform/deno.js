// Deno: TCP is Deno's own (Deno.connect, Deno.listen); each Deno.Conn is a
// { readable, writable } pair, carried by the streams transport.
import { streamsTransport } from '../transports/streams.js';
import { familyOf, runtimeError } from '../transports/common.js';
import { nodeError } from '../errors.js';
import { listenDefault } from './ip.js';

/**
 * A Deno.Conn as the streams transport's pair, read with conn.read(): the
 * end of conn.readable closes the whole resource, so after the peer's FIN
 * nothing could be written (no close_notify, no half-open echo).
 */
function halfOpenPair(conn) {
  const readable = new ReadableStream({
    async pull(controller) {
      const buffer = new Uint8Array(64 * 1024);
      const n = await conn.read(buffer);
      if (n === null) controller.close();
      else controller.enqueue(buffer.subarray(0, n));
    },
  }, { highWaterMark: 0 }); // read only when asked: backpressure reaches the kernel
  return {
    readable,
    writable: conn.writable,
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
    remoteAddr: conn.remoteAddr,
    localAddr: conn.localAddr,
  };
}

/**
 * The streams transport plus what a Deno.Conn offers beyond its streams:
 * setNoDelay, setKeepAlive, ref/unref (remembered until a connecting Conn arrives).
 * @param {Deno.Conn | Promise<Deno.Conn>} connOrPromise
 */
function denoTransport(connOrPromise) {
  const settings = [];
  let conn = null;
  const call = (name, args) => {
    try {
      conn[name](...args);
    } catch {
      // closed already: a no-op, as on a destroyed net.Socket
    }
  };
  const apply = (name, ...args) => {
    if (conn) call(name, args);
    else settings.push([name, args]);
  };
  const ready = (c) => {
    conn = c;
    for (const [name, args] of settings) call(name, args);
    return halfOpenPair(c);
  };
  const transport = streamsTransport(typeof connOrPromise.then === 'function' ? connOrPromise.then(ready) : ready(connOrPromise));
  return Object.assign(transport, {
    setNoDelay: (noDelay = true) => apply('setNoDelay', noDelay),
    setKeepAlive: (enable = false) => apply('setKeepAlive', enable),
    ref: () => apply('ref'),
    unref: () => apply('unref'),
  });
}

/**
 * Deno's connect failure in Node's words: `connect ECONNREFUSED 127.0.0.1:443`,
 * `getaddrinfo ENOTFOUND name` (Deno also refuses malformed names this way).
 */
function connectError(e, host, port) {
  const err = runtimeError(e);
  if (err.code === 'ENOTFOUND' || (!err.code && /^invalid host\b/.test(err.message))) {
    return nodeError(Error, 'ENOTFOUND', `getaddrinfo ENOTFOUND ${host}`, { syscall: 'getaddrinfo', hostname: host, cause: e });
  }
  if (!err.code) return runtimeError(e, { syscall: 'connect', address: host, port });
  return nodeError(Error, err.code, `connect ${err.code} ${host}:${port}`, { syscall: 'connect', address: host, port, cause: e });
}

/** @param {{ host?: string, port: number }} options */
function connectTcp({ host, port }) {
  const hostname = host || 'localhost'; // '' too, as net.connect
  return denoTransport(Deno.connect({ hostname, port, transport: 'tcp' }).catch((e) => {
    throw connectError(e, hostname, port);
  }));
}

/** @type {import('./index.js').Platform['listenTcp']} */
async function listenTcp({ host, port }, onTransport) {
  const listener = listenDefault(host, (hostname) => {
    try {
      return Deno.listen({ hostname, port, transport: 'tcp' });
    } catch (e) {
      throw runtimeError(e, { syscall: 'listen', address: hostname, port });
    }
  });
  const { hostname: address, port: bound } = listener.addr;
  let closed = false;
  (async () => {
    while (!closed) {
      let conn;
      try {
        conn = await listener.accept();
      } catch {
        // Closed, or a passing failure (EMFILE, a connection reset before
        // accept): net.Server keeps listening through the latter too.
        if (!closed) await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      onTransport(denoTransport(conn));
    }
  })();
  return {
    address: () => ({ address, family: familyOf(address), port: bound }),
    // Stops accepting; live connections go on, as net.Server#close.
    close: () => {
      closed = true;
      listener.close();
    },
    ref: () => listener.ref(),
    unref: () => listener.unref(),
  };
}

export const denoPlatform = { name: 'Deno', connectTcp, listenTcp };
