// tls.Server: a net.Server (in Node; elsewhere the same surface) whose connections become server-side TLSSockets.
// Connections can also arrive from any transport: `server.emit('connection', duplex)`.
import { Buffer } from '#buffer';
import ServerBase from '#server-base';
import { TLSSocket } from './socket.js';
import { SecureContext, createSecureContext, refuseUnsupported } from './context.js';
import { invalidArgType, nodeError } from './errors.js';

const kContexts = Symbol('contexts');

/** Node's addContext pattern: `*` stands for one label. */
function hostnamePattern(hostname) {
  const escaped = hostname.replace(/([.^$+?\-\\[\]{}])/g, '\\$1').replace(/\*/g, '[^.]*');
  return new RegExp(`^${escaped}$`, 'i');
}

export class Server extends ServerBase {
  /**
   * @param {object | ((socket: TLSSocket) => void)} [options]
   * @param {(socket: TLSSocket) => void} [secureConnectionListener]
   */
  constructor(options, secureConnectionListener) {
    if (typeof options === 'function') {
      secureConnectionListener = options;
      options = {};
    }
    options = options ?? {};
    if (typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    refuseUnsupported(options);
    // Raw sockets stay half-open; each TLSSocket ends its side as its own
    // allowHalfOpen says (after close_notify), as in Node.
    super({ allowHalfOpen: true, pauseOnConnect: options.pauseOnConnect });
    this._tlsAllowHalfOpen = Boolean(options.allowHalfOpen);
    if (options.ALPNCallback !== undefined) {
      if (typeof options.ALPNCallback !== 'function') {
        throw invalidArgType('options.ALPNCallback', 'of type function', options.ALPNCallback);
      }
      if (options.ALPNProtocols !== undefined) {
        throw nodeError(TypeError, 'ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS',
          'The ALPNCallback and ALPNProtocols TLS options are mutually exclusive');
      }
    }
    for (const name of ['SNICallback']) {
      if (options[name] !== undefined && typeof options[name] !== 'function') {
        throw invalidArgType(`options.${name}`, 'of type function', options[name]);
      }
    }
    const timeout = options.handshakeTimeout ?? 120_000;
    if (typeof timeout !== 'number') throw invalidArgType('options.handshakeTimeout', 'of type number', timeout);
    this[kContexts] = [];
    this.handshakeTimeout = timeout;
    this.requestCert = options.requestCert === true;
    this.honorCipherOrder = Boolean(options.honorCipherOrder);
    this.rejectUnauthorized = options.rejectUnauthorized !== false;
    this.ALPNProtocols = options.ALPNProtocols;
    this.ALPNCallback = options.ALPNCallback;
    this.SNICallback = options.SNICallback ?? this._defaultSNICallback.bind(this);
    this.setSecureContext(options);
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
    this.on('connection', (socket) => this._tlsConnection(socket));
  }

  /** Wraps one incoming byte stream (a net.Socket or any Duplex) in a server TLSSocket. */
  _tlsConnection(rawSocket) {
    new TLSSocket(rawSocket, {
      isServer: true,
      server: this,
      allowHalfOpen: this._tlsAllowHalfOpen,
      secureContext: this._sharedCreds,
      requestCert: this.requestCert,
      rejectUnauthorized: this.rejectUnauthorized,
      honorCipherOrder: this.honorCipherOrder,
      handshakeTimeout: this.handshakeTimeout,
      ALPNProtocols: this.ALPNProtocols,
      ALPNCallback: this.ALPNCallback,
      SNICallback: this.SNICallback,
    });
    // Failures before the handshake completes go to 'tlsClientError'; after it,
    // to the socket's own 'error', as in Node.
  }

  /** The contexts added with addContext, most recent first, then the default. */
  _defaultSNICallback(servername, callback) {
    for (let i = this[kContexts].length - 1; i >= 0; i--) {
      const [pattern, context] = this[kContexts][i];
      if (pattern.test(servername)) {
        callback(null, context);
        return;
      }
    }
    callback(null, undefined);
  }

  /**
   * @param {string} hostname may hold `*` wildcards
   * @param {SecureContext | object} context
   */
  addContext(hostname, context) {
    if (typeof hostname !== 'string') throw invalidArgType('hostname', 'of type string', hostname);
    const secureContext = context instanceof SecureContext ? context : createSecureContext(context);
    this[kContexts].push([hostnamePattern(hostname), secureContext]);
  }

  /** The 48 session ticket keys of the default context. */
  getTicketKeys() {
    return Buffer.from(this._sharedCreds.context.getTicketKeys());
  }

  /** Replaces the session ticket keys (48 bytes): servers that share them resume each other's sessions. */
  setTicketKeys(keys) {
    if (!ArrayBuffer.isView(keys)) throw invalidArgType('keys', 'an instance of Buffer, TypedArray, or DataView', keys);
    if (keys.byteLength !== 48) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'Session ticket keys must be a 48-byte buffer');
    }
    const bytes = new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength);
    this._sharedCreds.context.setTicketKeys(bytes);
    this._sharedCreds._native.ticketKeys = bytes.slice(); // kept if the engine restarts after a trap
  }

  /** Replaces the default context for connections accepted from now on. */
  setSecureContext(options) {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    this._sharedCreds = createSecureContext(options);
    this.key = options.key;
    this.cert = options.cert;
    this.ca = options.ca;
    this.ciphers = options.ciphers;
  }
}

/**
 * @param {object | ((socket: TLSSocket) => void)} [options]
 * @param {(socket: TLSSocket) => void} [secureConnectionListener]
 */
export function createServer(options, secureConnectionListener) {
  return new Server(options, secureConnectionListener);
}
