// net.Server's surface for runtimes without node:net's server (browsers,
// workers) or where the runtime's own listener is used (Deno.listen,
// Bun.listen): listen() goes through the platform; connections from any
// transport arrive with server.emit('connection', transport).
import { EventEmitter } from '#events';
import { nodeError } from '../errors.js';
import { nextTick } from './next-tick.js';
import { platform } from './index.js';

/** listen(port[, host][, backlog][, cb]) | listen(options[, cb]) */
function listenArgs(args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  if (args[0] !== null && typeof args[0] === 'object') return [{ ...args[0] }, cb];
  const [port, host, backlog] = args;
  return [{ port: port ?? 0, host: typeof host === 'string' ? host : undefined, backlog: typeof host === 'number' ? host : backlog }, cb];
}

export default class ServerBase extends EventEmitter {
  constructor() {
    super();
    this.listening = false;
    /** @type {number | undefined} */
    this.maxConnections = undefined;
    this._connections = 0;
    /** @type {import('./index.js').Listener | null} */
    this._listener = null;
    this._unref = false;
    this._closing = false;
    this._binding = false; // a listen() under way
  }

  /** Counts a connection until its transport closes; refuses it over maxConnections. */
  _admit(transport) {
    if (this.maxConnections !== undefined && this._connections >= this.maxConnections) {
      transport.destroy();
      return;
    }
    this._connections++;
    const start = transport.start.bind(transport);
    transport.start = (handlers) => start({
      ...handlers,
      onClose: () => {
        this._connections--;
        handlers.onClose();
        this._emitCloseIfDone();
      },
    });
    this.emit('connection', transport);
  }

  listen(...args) {
    if (this._listener || this._binding) {
      throw nodeError(Error, 'ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    }
    const [options, cb] = listenArgs(args);
    if (cb) this.once('listening', cb);
    if (typeof platform.listenTcp !== 'function') {
      throw nodeError(Error, 'ERR_WASM_TLS_NO_LISTEN',
        `server.listen() needs TCP, which ${platform.name} does not offer; ` +
        "hand connections from any transport to server.emit('connection', transport)");
    }
    const port = Number(options.port ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
        `options.port should be >= 0 and < 65536. Received type ${typeof options.port} (${options.port}).`);
    }
    this._binding = true;
    platform.listenTcp({ host: options.host, port, backlog: options.backlog }, (t) => this._admit(t)).then(
      (listener) => {
        this._binding = false;
        this._listener = listener;
        this.listening = true;
        if (this._unref) listener.unref?.();
        this.emit('listening');
      },
      (err) => {
        this._binding = false;
        this.emit('error', err);
      },
    );
    return this;
  }

  address() {
    return this._listener ? this._listener.address() : null;
  }

  close(cb) {
    if (!this._listener) {
      // As net.Server: the callback gets the error with the 'close' that still comes.
      if (cb) this.once('close', () => cb(nodeError(Error, 'ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      if (!this._closing) nextTick(() => this.emit('close'));
      return this;
    }
    if (cb) this.once('close', cb);
    this._listener.close();
    this._listener = null;
    this.listening = false;
    this._closing = true;
    this._emitCloseIfDone();
    return this;
  }

  _emitCloseIfDone() {
    // As net.Server: 'close' once closed and the last connection has ended.
    if (this._closing && this._connections === 0) {
      this._closing = false;
      nextTick(() => this.emit('close'));
    }
  }

  getConnections(cb) {
    nextTick(cb, null, this._connections);
    return this;
  }

  ref() {
    this._unref = false;
    this._listener?.ref?.();
    return this;
  }

  unref() {
    this._unref = true;
    this._listener?.unref?.();
    return this;
  }
}
