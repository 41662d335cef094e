// TLSSocket: the one place where the engine (wasm) and a transport meet.
// Node semantics live here: stream behaviour, event order, verification
// verdicts, errors with Node's codes, timers.
import { Buffer } from '#buffer';
import { Duplex } from '#stream';
import { TlsAcceptor, TlsConnection, describeCertificate, detailedChain } from '../pkg/wasm_tls.js';
import { rootCertificateDers } from './root-certificates.js';
import { toTransport } from './transports/index.js';
import { joinBytes } from './transports/common.js';
import { engineError, invalidArgType, nodeError } from './errors.js';
import { certificateObject, peerCertificate } from './certificate.js';
import { SecureContext, alpnList, createSecureContext } from './context.js';
import { checkServerIdentity } from './identity.js';
import { duplexToWeb } from './web-streams.js';
import { trackSocket, untrackSocket } from './trap.js';
import { RecordJobs, hostRecordAead } from './record-jobs.js';
import { rootsReady } from './root-anchors.js';

/** Received bytes the engine may hold while the host opens records, before the transport is paused. */
const RECORDS_BACKLOG = 1024 * 1024;
/** Bytes per engine.write() while the engine may still hand its records over. */
const WRITE_SLICE = 64 * 1024;

const HANDSHAKE_DONE = 1;
const PEER_CLOSED = 2;
/** Runs `fn` after the current callback and its promise jobs, as a new I/O callback would. */
const later = globalThis.setImmediate ?? ((fn) => setTimeout(fn, 0));
const TRANSPORT_END = Symbol('transport end');

/** The Mozilla roots by subject, parsed once, on first need. */
let rootsBySubject;

/**
 * The bundled roots that may have issued one of `sent`: what Node's store
 * lookup would consider, without walking all of them for every handshake.
 * @param {Uint8Array[]} sent
 */
function bundledIssuersOf(sent) {
  if (!rootsBySubject) {
    rootsBySubject = new Map();
    for (const der of rootCertificateDers()) {
      const key = JSON.stringify(describeCertificate(der).subject);
      rootsBySubject.set(key, [...(rootsBySubject.get(key) ?? []), der]);
    }
  }
  return sent.flatMap((der) => rootsBySubject.get(JSON.stringify(describeCertificate(der).issuer)) ?? []);
}

/** Node's `session` option (Buffer) as bytes for the engine. */
function sessionBytes(session) {
  if (session == null) return undefined;
  if (!ArrayBuffer.isView(session)) throw invalidArgType('options.session', 'an instance of Buffer, TypedArray, or DataView', session);
  return new Uint8Array(session.buffer, session.byteOffset, session.byteLength);
}

/** A node:crypto X509Certificate where the runtime has one (Node, Deno, Bun), else undefined. */
function toX509(der) {
  const X509Certificate = globalThis.process?.getBuiltinModule?.('node:crypto')?.X509Certificate;
  return X509Certificate ? new X509Certificate(asBuffer(der)) : undefined;
}

/** Turns a Uint8Array from wasm into a Buffer without copying. */
const asBuffer = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

export class TLSSocket extends Duplex {
  /**
   * @param {import('node:stream').Duplex | null | undefined} socket
   * @param {object} [options]
   */
  constructor(socket, options = {}) {
    super({
      allowHalfOpen: Boolean(options.allowHalfOpen),
      highWaterMark: options.highWaterMark,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
      emitClose: false, // 'close' carries hadError, as net.Socket's does (see _destroy)
      autoDestroy: true,
    });
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = null;
    this.servername = null;
    this.secureConnecting = true;
    this._options = options;
    /** @type {TlsConnection | null} */
    this._engine = null;
    this._transport = null;
    this._secure = false;
    this._hadError = false;
    this._pushedEnd = false;
    this._transportClosed = false;
    this._bytesRead = 0; // transport bytes (records), as net.Socket counts them under Node's TLSSocket
    this._bytesWritten = 0;
    this._engineFailed = false; // a TLS error after the handshake (see _fail)
    this._pendingWrites = null; // [chunks, callback] held until the peer is verified
    this._pendingFinal = null;
    this._drainCallbacks = [];
    this._timeoutMs = 0;
    this._timer = null;
    this._isServer = Boolean(options.isServer);
    this._server = options.server ?? null;
    this._acceptor = null; // server side, until a context answers the ClientHello
    this._heldChunks = null; // bytes that arrived while a context was being chosen
    this._deferred = null; // transport events waiting while code awaiting 'secureConnect' runs
    if (socket) this._attach(toTransport(socket), false);
  }

  /**
   * Starts the client handshake over `transport`.
   * @param {import('./index.js').Transport} transport
   * @param {boolean} ownTransport whether this socket created it (then it emits 'connect')
   */
  _attach(transport, ownTransport) {
    const options = this._options;
    try {
      const secureContext = options.secureContext ?? createSecureContext(options);
      this._secureContext = secureContext;
      if (this._isServer) {
        this._acceptor = new TlsAcceptor();
        this._startHandshakeTimer(options.handshakeTimeout ?? 120_000);
      } else {
        this._engine = TlsConnection.client(secureContext.context, {
          servername: options.servername || undefined,
          alpnProtocols: alpnList(options.ALPNProtocols),
          session: sessionBytes(options.session),
        });
        this._recordAead = hostRecordAead();
        this._engine.setHostRecords(this._recordAead?.aeads ?? 0);
      }
    } catch (e) {
      transport.destroy();
      throw engineError(e);
    }
    this._transport = transport;
    trackSocket(this);
    // A context trusting the default roots, where they load asynchronously
    // (browsers, workerd): the peer's bytes wait until they are in the engine.
    if (!this._isServer || options.requestCert) this._waitForRoots(rootsReady(this._secureContext));
    transport.start({
      onConnect: () => {
        if (ownTransport) this.emit('connect');
      },
      onData: (chunk, lent) => this._onTransportData(chunk, lent),
      onEnd: () => this._onTransportEnd(),
      onError: (err) => this.destroy(err),
      onClose: () => {
        this._transportClosed = true;
        this._onTransportEnd();
        this._drained(); // nothing more will drain
      },
      onDrain: () => this._drained(),
    });
    this._flush();
  }

  /** `lent`: the chunk is valid only during this call (see TransportHandlers.onData). */
  _onTransportData(chunk, lent = false) {
    if (this.destroyed) return;
    // Only the host's records read a lent chunk in place; the rest is kept here, or copied into the engine.
    if (lent && (this._deferred || this._heldChunks || this._acceptor)) chunk = chunk.slice();
    if (this._deferred) {
      this._deferred.push(chunk);
      return;
    }
    this._bytesRead += chunk.length;
    if (this._isServer && !this._secure) this._corkUntilLater();
    this._touch();
    if (this._heldChunks) {
      this._heldChunks.push(chunk);
      return;
    }
    if (this._acceptor) {
      this._onClientHelloData(chunk);
      return;
    }
    if (!this._engine || this._engineFailed) return;
    if (this._records) {
      // Records are the host's now (js/record-jobs.js).
      this._records.receive(chunk, lent);
      if (this._records?.received.length >= RECORDS_BACKLOG) this._transport?.pause();
      return;
    }
    let flags;
    try {
      flags = this._engine.receive(chunk);
    } catch (e) {
      this._flush(); // the alert rustls queued, so the peer learns why
      // Data from the records before the bad one is the peer's: deliver it first, as Node does.
      const plaintext = this._engine?.takePlaintext();
      if (plaintext) this.push(asBuffer(plaintext));
      this._fail(engineError(e));
      return;
    }
    // The peer is judged before our last flight leaves (as in Node, whose
    // verdict runs before OpenSSL's output is written): a rejected TLS 1.2
    // client never sees the server's Finished, a rejected TLS 1.3 server never
    // sees the client's.
    const judgeFirst = Boolean(flags & HANDSHAKE_DONE);
    if (!judgeFirst) this._flush();
    if (this.destroyed) return; // records handed over may already have failed
    // Each step below may run user code (listeners) that destroys the socket.
    // rustls derives (and logs) secrets only during the handshake.
    if (!this._secure) {
      this._emitKeyLog();
      if (this.destroyed) return;
    }
    if (judgeFirst) {
      this._onHandshakeDone();
      if (this.destroyed) return;
      this._flush();
    }
    if (this._secure) {
      if (!this._isServer) this._emitSessions();
      else if (this._externalSessions) this._emitServerSessions();
    }
    if (this.destroyed) return;
    if (judgeFirst && !this._isServer) {
      // Node emits 'secureConnect' and the data (or close) that came with the
      // server's last flight from separate callbacks, so code awaiting
      // 'secureConnect' runs before them. What the transport brings meanwhile waits too.
      this._deferred = [];
      later(() => this._deliverDeferred(flags));
      return;
    }
    this._deliver(flags);
  }

  _waitForRoots(ready) {
    if (!ready) return;
    this._deferred = [];
    ready.then(() => {
      if (this.destroyed) return;
      const queued = this._deferred;
      this._deferred = null;
      for (const item of queued) {
        if (this.destroyed) return;
        if (item === TRANSPORT_END) this._onTransportEnd();
        else this._onTransportData(item);
      }
    }, (err) => this.destroy(err));
  }

  _deliverDeferred(flags) {
    const queued = this._deferred;
    this._deferred = null;
    if (this.destroyed) return;
    this._deliver(flags);
    for (const item of queued) {
      if (this.destroyed) return;
      if (item === TRANSPORT_END) this._onTransportEnd();
      else if (item.opened !== undefined) this.recordOpened(item.opened, item.data);
      else this._onTransportData(item);
    }
  }

  _deliver(flags) {
    const plaintext = this._engine.takePlaintext();
    if (plaintext && !this.push(asBuffer(plaintext))) this._transport?.pause();
    if (flags & PEER_CLOSED) this._onPeerEnd();
    else if (this._engine?.hostRecords) {
      this._runRecords();
      this._records?.start(); // rustls' data went first
    }
  }

  // --- Records protected by the host (js/record-jobs.js) ----------------------

  /** Runs the engine's jobs for the host, once it has handed its records over. */
  _runRecords() {
    if (!this._records) {
      // rustls' last records leave before any the host seals (synchronously, with node:crypto).
      this._writeOutput();
      const records = new RecordJobs(this._engine, this, this._recordAead);
      this._records = records;
      // What rustls left received is opened after its data was delivered (by
      // _deliver), and never inside a write() (node:crypto opens synchronously).
      later(() => records.start());
    }
    this._records?.run();
  }

  /** Records the host sealed, in order, as parts (headers, ciphertexts, tags). */
  writeRecords(parts) {
    const transport = this._transport;
    if (this.destroyed || !transport || this._transportClosed || transport.writable === false) return;
    this._touch();
    let written = true;
    if (typeof transport.writev === 'function') {
      for (const part of parts) this._bytesWritten += part.length;
      written = transport.writev(parts);
    } else if (typeof transport.cork === 'function') {
      // One writev for them all, without copying them together first.
      transport.cork();
      for (const part of parts) {
        this._bytesWritten += part.length;
        written = transport.write(part);
      }
      transport.uncork();
    } else {
      const bytes = joinBytes(parts);
      this._bytesWritten += bytes.length;
      written = transport.write(bytes);
    }
    if (!written) this._awaitingDrain = true;
  }

  /** The host opened a record: its data is `data`, or in the engine. */
  recordOpened(flags, data) {
    if (this.destroyed) return;
    if (this._deferred) {
      this._deferred.push({ opened: flags, data });
      return;
    }
    const plaintext = data ?? this._engine.takePlaintext();
    const more = plaintext?.length ? this.push(asBuffer(plaintext)) : true;
    if (this.destroyed) return; // by a 'data' listener
    if (flags & PEER_CLOSED) {
      this._onPeerEnd();
    } else if (!more) {
      this._transport?.pause();
    } else if (this._records && this._records.received.length < RECORDS_BACKLOG) {
      this._transport?.resume();
    }
  }

  recordFailed(err) {
    if (this.destroyed) return;
    const plaintext = this._engine?.takePlaintext();
    if (plaintext) this.push(asBuffer(plaintext));
    this._fail(engineError(err));
  }

  /** `cb` once the transport has taken what was written (now, or at its 'drain'). */
  _whenDrained(cb) {
    if (this._awaitingDrain) this._drainCallbacks.push(cb);
    else cb();
  }

  _drained() {
    this._awaitingDrain = false;
    const callbacks = this._drainCallbacks;
    if (!callbacks.length) return;
    this._drainCallbacks = [];
    for (const cb of callbacks) cb();
  }

  /**
   * A server's session tickets and the application's first reply leave as one
   * write: sent apart, Nagle would hold the reply until the client's delayed
   * ACK (~40 ms a connection). Uncorked after the I/O phase (the reply may come
   * from a 'data' listener a tick later), or before the transport ends.
   */
  _corkUntilLater() {
    const transport = this._transport;
    if (this._corked || typeof transport?.cork !== 'function') return;
    this._corked = transport;
    transport.cork();
    later(() => this._uncork());
  }

  _uncork() {
    const transport = this._corked;
    this._corked = null;
    transport?.uncork();
  }

  _onTransportEnd() {
    if (this.destroyed) return;
    if (this._deferred) {
      this._deferred.push(TRANSPORT_END);
      return;
    }
    this._records?.start(); // may deliver, or fail the socket
    if (this.destroyed) return;
    if (this._records?.opening) {
      // The last records are still with the host: they come before the end.
      this._records.afterOpens(() => this._onTransportEnd());
      return;
    }
    if (!this._secure) {
      // Node's wording and code for a peer that hangs up mid-handshake.
      const o = this._options;
      if (this._isServer) {
        this._fail(nodeError(Error, 'ECONNRESET', 'socket hang up'));
        return;
      }
      const err = nodeError(Error, 'ECONNRESET',
        'Client network socket disconnected before secure TLS connection was established',
        { path: o.path, host: o.host, port: o.port, localAddress: o.localAddress });
      if (this.readableFlowing) {
        // Node reports it from its 'end' listener, so 'end' comes first. A socket
        // nobody reads would never see 'end' (and Node would wait forever): fail now.
        this.once('end', () => this._fail(err));
        this._onPeerEnd();
      } else {
        this._fail(err);
      }
      return;
    }
    this._onPeerEnd();
  }

  _onPeerEnd() {
    if (this.readableEnded || this._pushedEnd) return;
    this._pushedEnd = true;
    this.push(null);
  }

  _fail(err) {
    if (this._hadError || this.destroyed) return;
    this._hadError = true;
    if (this._isServer && !this._secure) {
      // Node: a server socket that fails before it is secure is reported on the
      // server ('tlsClientError') and closed without an 'error' of its own.
      this._server?.emit('tlsClientError', err, this);
      this.destroy();
      return;
    }
    if (this._secure && !this._transportClosed) {
      // Node: a TLS error on an established connection is emitted, not a
      // destroy; the peer hangs up after the alert and the socket ends then.
      this._engineFailed = true;
      this.emit('error', err);
      return;
    }
    this.destroy(err);
  }

  /** Server side: Node's handshakeTimeout, reported as ERR_TLS_HANDSHAKE_TIMEOUT. */
  _startHandshakeTimer(ms) {
    if (!(ms > 0)) return;
    this._handshakeTimer = setTimeout(() => {
      this._fail(nodeError(Error, 'ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout'));
    }, ms);
    this._handshakeTimer.unref?.();
  }

  /** Server side: bytes until the ClientHello is whole, then a context is chosen. */
  _onClientHelloData(chunk) {
    let hello;
    try {
      hello = this._acceptor.receive(chunk);
    } catch (e) {
      this._sendAcceptorAlert();
      this._fail(engineError(e));
      return;
    }
    if (!hello) return;
    this._heldChunks = [];
    this.servername = hello.servername ?? false;
    const answer = (err, context) => {
      if (this.destroyed) return;
      if (err) {
        this._fail(err);
        return;
      }
      this._answerClientHello(hello, context);
    };
    const sni = this._options.SNICallback;
    if (hello.servername && typeof sni === 'function') {
      let called = false;
      try {
        sni(hello.servername, (err, context) => {
          if (called) return;
          called = true;
          answer(err, context);
        });
      } catch (e) {
        answer(e);
      }
    } else {
      answer(null, null);
    }
  }

  _sendAcceptorAlert() {
    const alert = this._acceptor?.takeOutput();
    if (alert && this._transport?.writable !== false) {
      this._bytesWritten += alert.length;
      this._transport.write(alert);
    }
  }

  /**
   * With the context chosen: the server's 'resumeSession' (when the client
   * offers a session and the server keeps its own cache), 'OCSPRequest' (when
   * the client asked for stapling), then the answer.
   */
  _answerClientHello(hello, context) {
    context ??= this._options.secureContext;
    if (!(context instanceof SecureContext)) {
      this._fail(nodeError(TypeError, 'ERR_TLS_INVALID_CONTEXT', 'context must be a SecureContext'));
      return;
    }
    const server = this._server;
    hello.externalSessions = Boolean(server) &&
      (server.listenerCount('newSession') > 0 || server.listenerCount('resumeSession') > 0);
    if (!hello.sessionId || !server || server.listenerCount('resumeSession') === 0) {
      this._askOCSP(hello, context);
      return;
    }
    const id = Buffer.from(hello.sessionId);
    let called = false;
    server.emit('resumeSession', id, (err, data) => {
      if (called || this.destroyed) return;
      called = true;
      if (err) {
        this._fail(err);
        return;
      }
      if (data) hello.resumedSession = [new Uint8Array(id), new Uint8Array(data)];
      this._askOCSP(hello, context);
    });
  }

  _askOCSP(hello, context) {
    const server = this._server;
    if (!hello.ocspRequested || !server || server.listenerCount('OCSPRequest') === 0) {
      this._accept(hello, context, undefined);
      return;
    }
    const certificate = context.context.certificate();
    const issuer = context.context.issuer();
    let called = false;
    server.emit('OCSPRequest', certificate ? asBuffer(certificate) : null, issuer ? asBuffer(issuer) : null, (err, response) => {
      if (called || this.destroyed) return;
      called = true;
      if (err) {
        this._fail(err);
        return;
      }
      this._accept(hello, context, response && response.length ? new Uint8Array(response) : undefined);
    });
  }

  /** Builds the server connection from the chosen context, ALPN, OCSP and client-auth options. */
  _accept(hello, context, ocspResponse) {
    const options = this._options;
    let alpnProtocols = alpnList(options.ALPNProtocols);
    let alpnReject = false;
    if (typeof options.ALPNCallback === 'function' && hello.alpnProtocols.length > 0) {
      const chosen = options.ALPNCallback({ servername: hello.servername ?? undefined, protocols: hello.alpnProtocols });
      if (chosen === undefined) {
        alpnReject = true;
      } else if (!hello.alpnProtocols.includes(chosen)) {
        this._fail(nodeError(TypeError, 'ERR_TLS_ALPN_CALLBACK_INVALID_RESULT',
          `ALPN callback returned a value (${chosen}) that did not match any of the client's offered protocols (${hello.alpnProtocols.join(', ')})`));
        return;
      } else {
        alpnProtocols = [chosen];
      }
    }
    this._secureContext = context;
    this._externalSessions = hello.externalSessions;
    try {
      this._engine = this._acceptor.accept(context.context, {
        alpnProtocols,
        alpnReject,
        ocspResponse,
        externalSessions: hello.externalSessions,
        honorCipherOrder: Boolean(options.honorCipherOrder),
        resumedSession: hello.resumedSession,
        requestCert: Boolean(options.requestCert),
        rejectUnauthorized: options.rejectUnauthorized !== false,
      });
      this._recordAead = hostRecordAead();
      this._engine.setHostRecords(this._recordAead?.aeads ?? 0);
    } catch (e) {
      this._sendAcceptorAlert();
      this._fail(engineError(e));
      return;
    } finally {
      this._acceptor.free();
      this._acceptor = null;
    }
    this._flush();
    const held = this._heldChunks;
    this._heldChunks = null;
    // No bytes first: records that came behind the ClientHello are judged now, not at the next read.
    for (const chunk of [new Uint8Array(0), ...held]) this._onTransportData(chunk);
  }

  /** 'session' events for the sessions (TLS 1.2) and tickets (TLS 1.3) the server sent. */
  _emitSessions() {
    for (const handle of this._engine.takeNewSessions()) {
      this._session = asBuffer(handle);
      this.emit('session', this._session);
    }
  }

  /** The server's 'newSession' events, for a user session cache. */
  _emitServerSessions() {
    const made = this._engine.takeNewServerSessions();
    for (let i = 0; i + 1 < made.length; i += 2) {
      // Node holds the connection until the callback runs; here the session is
      // already usable, so the callback only acknowledges.
      this._server?.emit('newSession', asBuffer(made[i]), asBuffer(made[i + 1]), () => {});
    }
  }

  /** 'keylog' events, one per NSS key log line, as Node emits them. */
  _emitKeyLog() {
    const lines = this._engine.takeKeyLog();
    // Node emits 'keylog' on the client socket, and on the server (with the socket) for server sockets.
    const [target, extra] = this._isServer ? [this._server, [this]] : [this, []];
    if (!target || target.listenerCount('keylog') === 0) return;
    for (const line of lines) target.emit('keylog', Buffer.from(line, 'latin1'), ...extra);
  }

  /** Node's onServerSocketSecure: client-certificate verdict, then 'secure'/'secureConnection'. */
  _onServerHandshakeDone() {
    const engine = this._engine;
    const options = this._options;
    clearTimeout(this._handshakeTimer);
    this.alpnProtocol = engine.alpnProtocol() ?? false;
    this.servername = engine.servername() ?? false;
    if (options.requestCert) {
      const verdict = engine.verifyError();
      if (verdict) {
        this.authorizationError = verdict.code;
        if (options.rejectUnauthorized !== false) {
          // Node destroys the socket before releasing it, which its server
          // reports as a client that hung up.
          this._fail(nodeError(Error, 'ECONNRESET', 'socket hang up'));
          return;
        }
      } else {
        this.authorized = true;
      }
    }
    this._secure = true;
    this.secureConnecting = false;
    this.emit('secure');
    this._server?.emit('secureConnection', this);
  }

  /** Node's onConnectSecure: verdict, identity check, then 'secureConnect'. */
  _onHandshakeDone() {
    if (this._isServer) {
      this._onServerHandshakeDone();
      return;
    }
    const engine = this._engine;
    const options = this._options;
    if (options.requestOCSP) {
      // As Node: during the handshake, before the verdict; null when nothing was stapled.
      const response = engine.ocspResponse();
      this.emit('OCSPResponse', response ? asBuffer(response) : null);
      if (this.destroyed) return;
    }
    this.alpnProtocol = engine.alpnProtocol() ?? false;
    this.servername = options.servername || false;
    let verifyError = null;
    const verdict = engine.verifyError();
    if (verdict) {
      verifyError = nodeError(Error, verdict.code, verdict.message);
    } else if (!engine.isSessionReused()) {
      // As Node: a resumed session was checked when it was made.
      const hostname = options.servername || options.host || 'localhost';
      const check = options.checkServerIdentity ?? checkServerIdentity;
      verifyError = check(hostname, this.getPeerCertificate(true)) ?? null;
    }
    if (verifyError) {
      this.authorized = false;
      this.authorizationError = verifyError.code || verifyError.message;
      if (options.rejectUnauthorized !== false) {
        this._fail(verifyError);
        return;
      }
    } else {
      this.authorized = true;
    }
    this._secure = true;
    this.secureConnecting = false;
    this.emit('secureConnect');
    if (this.destroyed) return;
    const pending = this._pendingWrites;
    this._pendingWrites = null;
    if (pending) this._writeChunks(...pending);
    const final = this._pendingFinal;
    this._pendingFinal = null;
    if (final) this._final(final);
  }

  /**
   * Sends whatever records the engine has; `cb` runs once the transport took
   * them (records the host seals: once all are sealed and written).
   */
  _flush(cb) {
    this._writeOutput();
    if (this._records || this._engine?.hostRecords) {
      this._runRecords();
      if (cb) this._whenRecordsWritten(cb);
      return;
    }
    if (cb) this._whenDrained(cb);
  }

  /** `cb` once the host has sealed all that was written and the transport has taken it. */
  _whenRecordsWritten(cb) {
    this._records.whenWritten(() => this._whenDrained(cb));
  }

  /** Writes the records rustls has made. */
  _writeOutput() {
    const out = this._engine?.takeOutput();
    // A transport that can no longer be written (the peer hung up and it ended
    // itself) has no use for more records, close_notify included.
    if (out && this._transport?.writable !== false) {
      this._touch();
      this._bytesWritten += out.length;
      if (!this._transport.write(out)) this._awaitingDrain = true;
    }
  }

  _read() {
    this._transport?.resume();
  }

  _write(chunk, encoding, cb) {
    this._writeChunks([chunk], cb);
  }

  _writev(chunks, cb) {
    this._writeChunks(chunks.map(({ chunk }) => chunk), cb);
  }

  _writeChunks(list, cb) {
    if (!this._secure) {
      this._pendingWrites = [list, cb];
      return;
    }
    // Never at once, even when the transport took all: the writes the stream
    // is given meanwhile then come to _writev together and fill records (as
    // node:tls, whose writes complete later).
    const done = () => queueMicrotask(cb);
    if (this._records) {
      // The host seals (its jobs run as they are emitted, so none waits); the bytes stay here.
      this._records.write(list);
      this._whenRecordsWritten(done);
      return;
    }
    try {
      this._writeToEngine(list);
    } catch (e) {
      cb(engineError(e));
      return;
    }
    this._flush(done);
  }

  /** Writes `list` through rustls, and what follows a handover on the way through the host. */
  _writeToEngine(list) {
    // rustls makes a record per write: what the stream gathered goes as one,
    // as node:tls makes one SSL_write of it. The host joins small ones itself.
    const pieces = list.length > 1 && !this._engine.hostRecords ? [joinBytes(list)] : list;
    /** What the host seals, once the records are its own. */
    const hostChunks = [];
    for (const chunk of pieces) {
      // In slices while the engine may hand its records over on the way, so
      // that what the host then seals never crosses into wasm.
      let at = 0;
      while (at < chunk.length) {
        if (this._engine.hostRecords) {
          hostChunks.push(at ? chunk.subarray(at) : chunk);
          break;
        }
        const slice = this._engine.willHandOver ? chunk.subarray(at, at + WRITE_SLICE) : chunk.subarray(at);
        at += this._engine.write(slice);
      }
    }
    if (hostChunks.length) {
      this._runRecords();
      this._records.write(hostChunks);
    }
  }

  _final(cb) {
    if (!this._secure) {
      this._pendingFinal = cb;
      return;
    }
    if (this._transportClosed || this._engineFailed) {
      this._uncork();
      this._transport?.end();
      cb();
      return;
    }
    this._records?.plan(); // data written this turn goes before close_notify
    this._engine.close();
    this._flush(() => {
      this._uncork();
      this._transport?.end();
      cb();
    });
  }

  /**
   * The engine trapped (js/trap.js): its objects are dead and must not be
   * freed into the new instance. Reported as any other failure: a server
   * socket not yet secure on 'tlsClientError', others on 'error'.
   */
  _loseEngine(err) {
    this._records?.cancel();
    this._records = null;
    this._engine = null;
    this._acceptor = null;
    if (this._isServer && !this._secure) {
      this._fail(err);
      return;
    }
    this._hadError = true;
    this.destroy(err);
  }

  destroy(err, cb) {
    // Written this turn, not sealed yet (RecordJobs.write): it leaves before
    // the transport closes, as node:tls had written it at once.
    if (!this.destroyed && this._records?.planLater) this._records.plan();
    return super.destroy(err, cb);
  }

  _destroy(err, cb) {
    untrackSocket(this);
    clearTimeout(this._timer);
    clearTimeout(this._handshakeTimer);
    this._acceptor?.free();
    this._acceptor = null;
    this._heldChunks = null;
    this._timer = null;
    this._uncork(); // an alert may wait in the cork
    if (this._transport) this._transport.destroy();
    this._transport = null;
    this._records?.cancel();
    this._records = null;
    if (this._engine) this._engine.free();
    this._engine = null;
    this._pendingWrites = null;
    this._pendingFinal = null;
    this._drainCallbacks = [];
    cb(err);
    // After the stream's own 'error' (queued on the next tick), and a turn of
    // the loop later, as net.Socket's comes once its handle has closed: code
    // that awaits 'error' and then 'close' sees both.
    later(() => this.emit('close', Boolean(err)));
  }

  // --- Node's TLSSocket methods -------------------------------------------

  getProtocol() {
    return this._engine?.protocol() ?? null;
  }

  getCipher() {
    return this._engine?.cipher() ?? null;
  }

  getPeerCertificate(detailed = false) {
    if (!this._engine) return null;
    if (detailed && this._secureContext?.usesDefaultRoots) {
      const sent = this._engine.peerCertificates(false);
      return peerCertificate(detailedChain(sent, bundledIssuersOf(sent)), true);
    }
    return peerCertificate(this._engine.peerCertificates(Boolean(detailed)), detailed);
  }

  /** Our own certificate in Node's shape; `{}` without one, null once destroyed. */
  getCertificate() {
    if (!this._engine) return null;
    const der = this._engine.localCertificate();
    return der ? certificateObject(der) : {};
  }

  /** The peer's certificate as a node:crypto X509Certificate, where node:crypto exists. */
  getPeerX509Certificate() {
    const der = this._engine?.peerCertificates(false)[0];
    return der ? toX509(der) : undefined;
  }

  /** Our certificate as a node:crypto X509Certificate, where node:crypto exists. */
  getX509Certificate() {
    const der = this._engine?.localCertificate();
    return der ? toX509(der) : undefined;
  }

  /** Client side, before the handshake starts: the SNI to send. */
  setServername(name) {
    if (this._isServer) {
      throw nodeError(Error, 'ERR_TLS_SNI_FROM_SERVER', 'Cannot issue SNI from a TLS server-side socket');
    }
    if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
    if (this._engine) {
      // The ClientHello has gone: what was sent stays.
      throw nodeError(Error, 'ERR_TLS_INVALID_STATE', 'setServername() must be called before the handshake starts');
    }
    this._options = { ...this._options, servername: name };
  }

  getEphemeralKeyInfo() {
    return this._engine?.ephemeralKeyInfo() ?? null;
  }

  /**
   * RFC 5705 keying material.
   * @param {number} length
   * @param {string} label
   * @param {Buffer | Uint8Array} [context]
   */
  exportKeyingMaterial(length, label, context) {
    if (!Number.isInteger(length) || length < 0) throw invalidArgType('length', 'of type number', length);
    if (typeof label !== 'string') throw invalidArgType('label', 'of type string', label);
    if (context !== undefined && !ArrayBuffer.isView(context)) {
      throw invalidArgType('context', 'an instance of Buffer, TypedArray, or DataView', context);
    }
    if (!this._engine || !this._secure) {
      throw nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
    }
    try {
      return asBuffer(this._engine.exportKeyingMaterial(length, Buffer.from(label, 'latin1'), context));
    } catch (e) {
      throw engineError(e);
    }
  }

  /** Limits the plaintext per record (512..16384), as Node. */
  setMaxSendFragment(size) {
    if (!Number.isInteger(size)) throw invalidArgType('size', 'of type number', size);
    return this._engine?.setMaxSendFragment(size) ?? false;
  }

  /** rustls does not renegotiate (TLS 1.3 has no renegotiation at all). */
  renegotiate(options, callback) {
    const err = nodeError(Error, 'ERR_TLS_RENEGOTIATION_DISABLED',
      'TLS session renegotiation disabled for this socket');
    if (typeof callback === 'function') queueMicrotask(() => callback(err));
    return false;
  }

  /** Renegotiation is always off here (rustls never renegotiates): nothing to disable. */
  disableRenegotiation() {}

  /** OpenSSL's protocol trace has no rustls counterpart; the 'keylog' event is the way to inspect traffic. */
  enableTrace() {}

  /** rustls does not expose the peer's signature algorithm list; Node returns [] when there is none to share. */
  getSharedSigalgs() { return []; }

  /** rustls does not expose the Finished messages; Node returns undefined when it has none. */
  getFinished() { return undefined; }
  getPeerFinished() { return undefined; }

  isSessionReused() { return this._engine?.isSessionReused() ?? false; }

  /**
   * The latest session as an opaque Buffer for `connect({ session })`. It is a
   * handle to state in this wasm instance (rustls does not serialise sessions):
   * it resumes within this process only, and a TLS 1.3 ticket resumes once.
   */
  getSession() { return this._session; }

  /** rustls does not expose the raw ticket. */
  getTLSTicket() { return undefined; }

  /** The socket as WHATWG streams of Uint8Array, with backpressure (one pair per socket). */
  toWeb() {
    this._web ??= duplexToWeb(this);
    return this._web;
  }

  setTimeout(ms, callback) {
    this._timeoutMs = ms;
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this._touch();
    return this;
  }

  /** Restarts the idle timer (Node's socket timeout is inactivity in either direction). */
  _touch() {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    if (this._timeoutMs > 0 && !this.destroyed) {
      this._timer = setTimeout(() => this.emit('timeout'), this._timeoutMs);
      this._timer.unref?.();
    }
  }

  setNoDelay(noDelay = true) { this._transport?.setNoDelay?.(noDelay); return this; }
  setKeepAlive(enable = false, delay = 0) { this._transport?.setKeepAlive?.(enable, delay); return this; }
  ref() { this._transport?.ref?.(); return this; }
  unref() { this._transport?.unref?.(); return this; }
  address() {
    const t = this._transport;
    return t?.localAddress ? { address: t.localAddress, family: t.remoteFamily, port: t.localPort } : {};
  }
  get remoteAddress() { return this._transport?.remoteAddress; }
  get remotePort() { return this._transport?.remotePort; }
  get remoteFamily() { return this._transport?.remoteFamily; }
  get localAddress() { return this._transport?.localAddress; }
  get localPort() { return this._transport?.localPort; }
  get connecting() { return Boolean(this._transport?.connecting); }
  get localFamily() { return this._transport?.localFamily; }
  get bytesRead() { return this._bytesRead; }
  get bytesWritten() { return this._bytesWritten; }
  /** net.Socket's deprecated alias. */
  get bufferSize() { return this.writableLength; }
  get readyState() {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** Ends our side, then destroys once written, as net.Socket. */
  destroySoon() {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes the transport at once (a TCP reset where the transport can send one) and destroys the socket. */
  resetAndDestroy() {
    this._transport?.resetAndDestroy?.();
    this.destroy();
    return this;
  }

  /**
   * A session to resume: effective only before the handshake starts (a socket
   * made with `new TLSSocket()` starts at once; pass `session` to connect()).
   */
  setSession(session) {
    if (!this._engine && !this._transport) this._options = { ...this._options, session };
  }

  get pending() { return !this._transport || Boolean(this._transport.connecting); }
}
