// Bun's own sockets (Bun.connect, Bun.listen) as Transports. Bun calls one set
// of handlers for every socket; each socket's `data` is its adapter. Bun's
// write() takes what the kernel accepts now and returns that count: the rest
// waits here and goes out on 'drain'.
import { familyOf, noHandlers, runtimeError } from './common.js';

class BunSocketAdapter {
  /** @param {boolean} connecting */
  constructor(connecting) {
    this.handlers = noHandlers;
    this.started = false;
    this.connecting = connecting;
    /** @type {any} Bun's Socket, once open */
    this.socket = null;
    /** @type {Uint8Array[]} bytes Bun has not taken yet */
    this.queue = [];
    this.needDrain = false;
    this.endRequested = false;
    this.shutDown = false;
    this.destroyed = false;
    this.closed = false;
    this.ended = false; // the peer's FIN was reported
    this.errored = false;
    this.paused = false;
    /** @type {Array<() => void>} what happened before start() */
    this.early = [];
    this.target = {};
  }

  /** Runs `fn` with the handlers now, or once start() has given them. */
  report(fn) {
    if (this.destroyed) return;
    if (this.started) fn(this.handlers);
    else this.early.push(() => fn(this.handlers));
  }

  opened(socket) {
    this.socket = socket;
    if (this.destroyed) {
      socket.end();
      return;
    }
    if (this.paused) socket.pause();
    const wasConnecting = this.connecting;
    this.connecting = false;
    if (wasConnecting) this.report((h) => h.onConnect());
    this.flush();
  }

  /** Hands queued bytes to Bun until it takes less than offered. */
  flush() {
    const socket = this.socket;
    if (!socket || this.destroyed) return;
    while (this.queue.length) {
      const head = this.queue[0];
      const n = socket.write(head);
      if (n < 0) return; // closed: 'close' follows
      if (n < head.byteLength) {
        this.queue[0] = head.subarray(n);
        return;
      }
      this.queue.shift();
    }
    if (this.endRequested && !this.shutDown) {
      this.shutDown = true;
      socket.shutdown();
    }
    if (this.needDrain) {
      this.needDrain = false;
      this.report((h) => h.onDrain());
    }
  }

  fail(err) {
    this.errored = true;
    const { host, port } = this.target;
    let error = runtimeError(err, { syscall: this.connecting ? 'connect' : undefined, address: host, port });
    if (this.connecting && error.syscall === 'connect' && /^E[A-Z]+$/.test(error.code ?? '')) {
      // Node's words ("connect ECONNREFUSED 127.0.0.1:443") for Bun's "Failed to connect".
      error = Object.assign(new Error(`connect ${error.code} ${host}:${port}`, { cause: err }),
        { errno: error.errno, code: error.code, syscall: 'connect', address: host, port });
    }
    this.report((h) => h.onError(error));
  }

  /** @param {unknown} [error] Bun's reason for an abnormal close */
  onClose(error) {
    if (this.closed) return;
    // Once our side is shut down, Bun reports the peer's FIN as 'close' alone.
    if (!this.ended && !this.errored && error == null) this.onEnd();
    this.closed = true;
    this.report((h) => h.onClose());
  }

  onEnd() {
    if (this.ended) return;
    this.ended = true;
    this.report((h) => h.onEnd());
  }

  /** @returns {import('../index.js').Transport} */
  transport() {
    const self = this;
    const socket = () => self.socket;
    return {
      start(handlers) {
        self.handlers = { ...noHandlers, ...handlers };
        self.started = true;
        const early = self.early;
        self.early = [];
        for (const fn of early) fn();
      },
      write(bytes) {
        if (self.destroyed || self.endRequested || self.closed) return false;
        self.queue.push(bytes);
        self.flush();
        if (self.queue.length === 0) return true;
        self.needDrain = true;
        return false;
      },
      end() {
        if (self.destroyed || self.endRequested) return;
        self.endRequested = true;
        self.flush();
      },
      destroy() {
        if (self.destroyed) return;
        // No more events reach the handlers except the one 'close', later.
        self.destroyed = true;
        self.queue = [];
        const { onClose } = self.handlers;
        if (!self.closed) {
          self.closed = true;
          queueMicrotask(onClose);
        }
        // A plain close (FIN), as net.Socket#destroy: what the kernel holds still goes.
        socket()?.end();
      },
      pause() {
        self.paused = true;
        socket()?.pause();
      },
      resume() {
        self.paused = false;
        socket()?.resume();
      },
      get connecting() { return self.connecting; },
      get writable() { return !self.destroyed && !self.endRequested && !self.closed; },
      get remoteAddress() { return socket()?.remoteAddress; },
      get remotePort() { return socket()?.remotePort; },
      get remoteFamily() { return socket()?.remoteFamily ?? familyOf(socket()?.remoteAddress); },
      get localAddress() { return socket()?.localAddress; },
      get localPort() { return socket()?.localPort; },
      setNoDelay: (noDelay) => socket()?.setNoDelay?.(noDelay),
      setKeepAlive: (enable, delay) => socket()?.setKeepAlive?.(enable, delay),
      ref: () => socket()?.ref(),
      unref: () => socket()?.unref(),
    };
  }
}

/** The handlers Bun calls for all our sockets; `socket.data` routes to the adapter. */
const socketHandlers = {
  open(socket) {
    // A listener's socket starts without an adapter; the listener's own open hook makes it.
    socket.data?.opened(socket);
  },
  data(socket, chunk) {
    socket.data?.report((h) => h.onData(chunk));
  },
  drain(socket) {
    socket.data?.flush();
  },
  end(socket) {
    socket.data?.onEnd();
  },
  error(socket, err) {
    socket.data?.fail(err);
  },
  connectError(socket, err) {
    socket.data?.fail(err);
    socket.data?.onClose();
  },
  close(socket, error) {
    socket.data?.onClose(error);
  },
};

/**
 * Connects with Bun.connect; the Transport is usable (and writable) at once.
 * @param {{ host?: string, port: number }} options
 * @returns {import('../index.js').Transport}
 */
export function bunConnect(options) {
  const adapter = new BunSocketAdapter(true);
  adapter.target = { host: options.host || 'localhost', port: options.port }; // '' too, as net.connect
  try {
    Bun.connect({
      hostname: adapter.target.host,
      port: options.port,
      // Half-closes stay half: the TLSSocket decides when our side ends.
      allowHalfOpen: true,
      data: adapter,
      socket: socketHandlers,
    }).catch(() => {}); // reported through connectError
  } catch (e) {
    // Refused before any socket existed: the same error and close, once started.
    adapter.fail(e);
    adapter.onClose(e);
  }
  return adapter.transport();
}

/**
 * Listens with Bun.listen; each accepted socket reaches `onTransport` as a Transport.
 * @param {{ host?: string, port: number }} options
 * @param {(t: import('../index.js').Transport) => void} onTransport
 */
export function bunListen(options, onTransport) {
  return Bun.listen({
    hostname: options.host ?? '0.0.0.0',
    port: options.port,
    allowHalfOpen: true,
    socket: {
      ...socketHandlers,
      open(socket) {
        const adapter = new BunSocketAdapter(false);
        socket.data = adapter;
        adapter.opened(socket);
        onTransport(adapter.transport());
      },
    },
  });
}
