// A transport over a WebSocket: binary frames carry the byte stream. Works with
// the browser's WebSocket (and Deno's, Bun's, workerd's) and npm `ws` objects.
// WebSocket has no half-close: end() closes the whole connection (code 1000)
// once the bytes already sent have left.
import { asBytes, noHandlers, runtimeError } from './common.js';

const CONNECTING = 0;
const OPEN = 1;
/** Bytes buffered by the WebSocket above which write() asks the caller to wait. */
const DEFAULT_HIGH_WATER = 256 * 1024;
/** Largest message sent; TLS records are at most 16 KiB + 256, so 64 KiB splits nothing small. */
const DEFAULT_MAX_FRAME = 64 * 1024;
/** Browsers signal nothing when bufferedAmount falls, so it is polled while a writer waits. */
const POLL_MS = 4;

/** A WebSocket object: browser, Deno, Bun, workerd or npm `ws`. */
export const isWebSocket = (x) => typeof x?.send === 'function' && typeof x?.readyState === 'number' && 'binaryType' in x;

/** A ws:/wss: URL given as a string or URL. */
export function isWebSocketUrl(x) {
  if (!(typeof x === 'string' || x instanceof URL)) return false;
  return /^wss?:/i.test(String(x));
}

function wsError(code, message, props) {
  const err = new Error(message);
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return Object.assign(err, props);
}

/**
 * @param {string | URL | WebSocket} target a ws:/wss: URL to open, or a WebSocket (open or opening)
 * @param {{ WebSocket?: typeof WebSocket, protocols?: string | string[], highWaterMark?: number, maxFrame?: number }} [options]
 *   highWaterMark: bufferedAmount above which write() returns false (256 KiB);
 *   maxFrame: largest binary message sent (64 KiB), longer writes are split
 * @returns {import('../index.js').Transport}
 */
export function websocketTransport(target, options = {}) {
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER;
  const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
  /** @type {WebSocket} */
  let ws;
  let url;
  if (isWebSocket(target)) {
    ws = /** @type {WebSocket} */ (target);
    url = ws.url;
  } else if (isWebSocketUrl(target)) {
    url = String(target);
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== 'function') {
      throw wsError('ERR_WASM_TLS_NO_WEBSOCKET',
        'This runtime has no global WebSocket: pass { WebSocket } (for example the npm package ws) to websocketTransport');
    }
    ws = options.protocols === undefined ? new WebSocketClass(url) : new WebSocketClass(url, options.protocols);
  } else {
    throw Object.assign(new TypeError('websocketTransport needs a ws:/wss: URL or a WebSocket'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  ws.binaryType = 'arraybuffer';

  let handlers = noHandlers;
  let started = false;
  let connecting = ws.readyState === CONNECTING;
  /** @type {Uint8Array[]} written before the socket opened */
  let queued = [];
  /** @type {Uint8Array[]} received while paused */
  let held = [];
  let paused = false;
  let endRequested = false;
  let destroyed = false;
  let failed = false;
  let closed = false;
  let needDrain = false;
  /** @type {any} */
  let pollTimer = null;
  /** @type {Error | undefined} what the 'error' event said, reported with the close that follows */
  let lastError;
  let closeSeen = false;
  /** @type {(() => void) | null} the close, waiting for start() and for held messages to be handed on */
  let pendingClose = null;
  /** Data arriving as Blob (if binaryType was not honoured) is converted in order. */
  let inOrder = Promise.resolve();

  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = null;
  };
  const closeOnce = () => {
    if (closed) return;
    closed = true;
    stopPolling();
    handlers.onClose();
  };
  const fail = (err) => {
    if (failed || destroyed) return;
    failed = true;
    handlers.onError(err);
  };
  /** Above the mark: poll until the WebSocket's buffer empties enough, then onDrain (or, for end(), close). */
  const poll = () => {
    if (pollTimer) return;
    pollTimer = setInterval(() => {
      if (destroyed || ws.readyState !== OPEN) {
        stopPolling();
        return;
      }
      if (endRequested && ws.bufferedAmount === 0) {
        stopPolling();
        ws.close(1000);
        return;
      }
      if (needDrain && ws.bufferedAmount < highWaterMark) {
        needDrain = false;
        handlers.onDrain();
      }
      if (!needDrain && !endRequested) stopPolling();
    }, POLL_MS);
  };
  const send = (bytes) => {
    // Relays cap their messages (wasm-tls-relay at 1 MiB, websockify lower): one record-sized piece per frame.
    for (let at = 0; at < bytes.byteLength; at += maxFrame) ws.send(bytes.subarray(at, at + maxFrame));
    if (ws.bufferedAmount < highWaterMark) return true;
    needDrain = true;
    poll();
    return false;
  };
  const closeWhenSent = () => {
    if (ws.bufferedAmount === 0) ws.close(1000);
    else poll();
  };

  const deliver = (bytes) => {
    if (destroyed || closed) return;
    if (paused || !started) held.push(bytes);
    else handlers.onData(bytes);
  };

  ws.addEventListener('open', () => {
    if (destroyed) return;
    connecting = false;
    const pending = queued;
    queued = [];
    for (const bytes of pending) send(bytes);
    if (endRequested) closeWhenSent();
    if (started) handlers.onConnect();
  });
  ws.addEventListener('message', (event) => {
    if (destroyed) return;
    const data = /** @type {MessageEvent} */ (event).data;
    if (typeof data === 'string') {
      // The peer is not speaking our framing; close rather than guess.
      fail(wsError('ERR_WASM_TLS_WEBSOCKET_TEXT_FRAME', 'The WebSocket peer sent a text frame; only binary frames carry TLS'));
      try {
        ws.close(1003, 'binary frames only');
      } catch {
        // already closing
      }
      return;
    }
    const bytes = asBytes(data);
    if (bytes) {
      if (bytes.byteLength) inOrder = inOrder.then(() => deliver(bytes));
    } else if (typeof data?.arrayBuffer === 'function') {
      inOrder = inOrder.then(() => data.arrayBuffer()).then((ab) => deliver(new Uint8Array(ab)));
    }
  });
  ws.addEventListener('error', (event) => {
    // Browsers say nothing; npm ws and Deno carry the cause.
    const cause = /** @type {any} */ (event)?.error;
    lastError = cause instanceof Error ? cause : new Error(/** @type {any} */ (event)?.message || `WebSocket error on ${url}`);
  });
  ws.addEventListener('close', (event) => {
    const { code, reason, wasClean } = /** @type {CloseEvent} */ (event);
    closeSeen = true;
    // After the messages before it, once they were all handed on (not while paused).
    inOrder = inOrder.then(() => {
      pendingClose = () => onWebSocketClose(code, reason, wasClean);
      runPendingClose();
    });
  });
  const onWebSocketClose = (code, reason, wasClean) => {
    if (destroyed) {
      closeOnce();
      return;
    }
    if (connecting) {
      connecting = false;
      // A connection that never opened: browsers do not tell why.
      fail(runtimeError(lastError ?? wsError('ECONNREFUSED', `WebSocket connection to ${url} failed`),
        { syscall: 'connect', closeCode: code, reason }));
    } else if ((code === 1000 || code === 1005) && wasClean !== false) {
      handlers.onEnd();
    } else {
      // A relay names the TCP error in the reason ("connect ECONNREFUSED"); else it is a reset.
      const errno = /\b(E[A-Z]{3,})\b/.exec(reason ?? '')?.[1] ?? 'ECONNRESET';
      fail(wsError(errno, `WebSocket closed abnormally (${code}${reason ? `: ${reason}` : ''})`,
        { closeCode: code, reason, cause: lastError, syscall: /^connect\b/.test(reason ?? '') ? 'connect' : undefined }));
    }
    closeOnce();
  };
  const runPendingClose = () => {
    if (!pendingClose || !started || held.length) return;
    const run = pendingClose;
    pendingClose = null;
    run();
  };
  const flushHeld = () => {
    while (held.length && !paused && !destroyed) handlers.onData(/** @type {Uint8Array} */ (held.shift()));
    runPendingClose();
  };

  return {
    start(h) {
      handlers = { ...noHandlers, ...h };
      started = true;
      flushHeld();
      if (ws.readyState > OPEN && !closeSeen) {
        // Given an already closed WebSocket.
        fail(wsError('ERR_SOCKET_CLOSED', 'The WebSocket is closed'));
        closeOnce();
      }
    },
    write(bytes) {
      if (destroyed || endRequested) return false;
      if (connecting) {
        queued.push(bytes);
        return true; // bounded by what the caller writes before the handshake: one flight
      }
      if (ws.readyState !== OPEN) return false;
      return send(bytes);
    },
    end() {
      if (destroyed || endRequested) return;
      endRequested = true;
      if (!connecting && ws.readyState === OPEN) closeWhenSent();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      connecting = false;
      queued = [];
      held = [];
      stopPolling();
      try {
        if (ws.readyState <= OPEN) ws.close();
      } catch {
        // already closing
      }
      queueMicrotask(closeOnce);
    },
    pause() {
      paused = true;
      // npm ws can stop reading its socket; browsers cannot, so messages are held here.
      if (typeof ws.pause === 'function' && ws.readyState === OPEN) ws.pause();
    },
    resume() {
      if (!paused) return;
      paused = false;
      if (typeof ws.resume === 'function' && ws.readyState === OPEN) ws.resume();
      flushHeld();
    },
    get connecting() { return connecting; },
    get writable() { return !destroyed && !endRequested && ws.readyState <= OPEN; },
  };
}
