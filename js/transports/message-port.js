// A transport over a MessagePort (browser, worker, Node's worker_threads) or
// anything with postMessage and message events (a Worker, parentPort).
//
// Framing (docs/transports.md has the full description), one object per postMessage:
//   { type: 'data', data: ArrayBuffer | ArrayBuffer[] }  bytes in order, the buffers transferred (zero copy)
//   { type: 'credit', bytes: n }         the receiver consumed n more bytes: the sender may send n more
//   { type: 'end' }                      the sender will send no more data (half-close)
//   { type: 'close' }                    the sender is gone; no more messages either way
// Each side may send WINDOW bytes before any credit arrives and never more than
// its credit (chunks are split to fit): a receiver holds at most WINDOW unread bytes.
import { asBytes, noHandlers } from './common.js';

/** The initial credit of each direction, part of the protocol. */
export const WINDOW = 1024 * 1024;

/** Something to post to and hear from: MessagePort, Worker, parentPort, BroadcastChannel-like. */
export const isMessagePort = (x) => typeof x?.postMessage === 'function' &&
  (typeof x?.addEventListener === 'function' || typeof x?.on === 'function');

/** A copy even for a Buffer, whose slice() is a view. */
const copy = (bytes, start, end) => Uint8Array.prototype.slice.call(bytes, start, end);

function portError(code, message) {
  const err = new Error(message);
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return err;
}

/**
 * @param {MessagePort | { postMessage(value: any, transfer?: any[]): void, on?: Function, addEventListener?: Function }} port
 * @param {{ transfer?: boolean }} [options] transfer (default true): write() hands over the
 *   ArrayBuffer of a chunk that spans all of it, detaching the caller's view (TLSSocket
 *   writes fresh buffers); false copies every chunk
 * @returns {import('../index.js').Transport}
 */
export function messagePortTransport(port, options = {}) {
  const transfer = options.transfer !== false;
  if (!isMessagePort(port)) {
    throw Object.assign(new TypeError('messagePortTransport needs a MessagePort (postMessage and message events)'),
      { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const p = /** @type {any} */ (port);
  let handlers = noHandlers;
  let started = false;
  let credit = WINDOW;
  /** @type {Uint8Array[]} waiting for credit */
  let outbox = [];
  /** @type {Uint8Array[]} received before start() or while paused */
  let inbox = [];
  let unacknowledged = 0;
  let paused = false;
  let endRequested = false;
  let endSent = false;
  let endReceived = false;
  let endDelivered = false;
  let peerClosed = false;
  let needDrain = false;
  let destroyed = false;
  let closed = false;

  const post = (message, transfer) => {
    try {
      p.postMessage(message, transfer);
    } catch {
      // Untransferable buffer (Node's Buffer pool): send a copy.
      p.postMessage({ ...message, data: message.data.slice(0) });
    }
  };
  /** The ArrayBuffer to send for `bytes`: its own when it spans all of it (transferred), else a copy. */
  const ownBuffer = (bytes) => {
    const whole = transfer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
      !(typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer);
    return whole ? bytes.buffer : copy(bytes, 0, bytes.byteLength).buffer;
  };
  /**
   * Sends what the credit allows of the outbox in one message (every message
   * costs far more than a few more buffers in it): whole parts, then the head
   * of the next one if the credit ends inside it (copied: the rest stays ours).
   */
  const sendOutbox = () => {
    if (!outbox.length || credit <= 0 || destroyed) return;
    const data = [];
    let n = 0;
    while (outbox.length && n < credit) {
      const bytes = /** @type {Uint8Array} */ (outbox[0]);
      const room = credit - n;
      if (bytes.byteLength <= room) {
        outbox.shift();
        n += bytes.byteLength;
        data.push(ownBuffer(bytes)); // may detach bytes.buffer
      } else {
        outbox[0] = bytes.subarray(room);
        n += room;
        data.push(copy(bytes, 0, room).buffer);
      }
    }
    post({ type: 'data', data: data.length === 1 ? data[0] : data }, data);
    credit -= n;
  };
  /** The outbox, then the end or 'drain' once it is empty. */
  const flushOutbox = () => {
    sendOutbox();
    if (outbox.length) return;
    if (endRequested && !endSent) {
      endSent = true;
      p.postMessage({ type: 'end' });
      maybeFinish();
    }
    if (needDrain && credit > 0 && !endRequested) {
      needDrain = false;
      handlers.onDrain();
    }
  };

  const detach = () => {
    if (p.removeEventListener) {
      p.removeEventListener('message', onMessageEvent);
      p.removeEventListener('messageerror', onMessageError);
    }
    if (p.off) {
      p.off('message', onMessage);
      p.off('close', onPortClose);
      p.off('messageerror', onMessageError);
    }
  };
  const closeOnce = () => {
    if (closed) return;
    closed = true;
    detach();
    try {
      p.close?.();
    } catch {
      // already closed
    }
    handlers.onClose();
  };
  /** Both directions ended: nothing more will cross this port. */
  const maybeFinish = () => {
    if (endSent && endDelivered) closeOnce();
  };

  /** Hands held bytes to onData while not paused, granting credit for what was consumed. */
  const deliver = () => {
    if (!started || destroyed) return;
    while (inbox.length && !paused && !destroyed) {
      const bytes = /** @type {Uint8Array} */ (inbox.shift());
      unacknowledged += bytes.byteLength;
      handlers.onData(bytes);
    }
    // Credit in large batches: every message costs (docs/transports.md).
    if (unacknowledged >= WINDOW / 2) {
      if (!closed && !endDelivered) p.postMessage({ type: 'credit', bytes: unacknowledged });
      unacknowledged = 0;
    }
    if (endReceived && !endDelivered && inbox.length === 0 && !destroyed) {
      endDelivered = true;
      handlers.onEnd();
      if (peerClosed) closeOnce();
      else maybeFinish();
    }
  };

  /**
   * The peer destroyed its end (or the port closed): as a TCP peer's close, the
   * bytes it sent are still read, then the end; nothing more can be written.
   */
  const peerGone = () => {
    if (destroyed || closed || peerClosed) return;
    peerClosed = true;
    endReceived = true;
    outbox = [];
    if (endDelivered) closeOnce();
    else deliver();
  };

  const onMessage = (message) => {
    if (destroyed || closed) return;
    switch (message?.type) {
      case 'data': {
        const parts = Array.isArray(message.data) ? message.data.map(asBytes) : [asBytes(message.data)];
        if (parts.some((bytes) => !bytes) || endReceived) break;
        for (const bytes of parts) if (bytes.byteLength) inbox.push(bytes);
        deliver();
        return;
      }
      case 'credit':
        if (!(Number.isSafeInteger(message.bytes) && message.bytes > 0)) break;
        credit += message.bytes;
        flushOutbox();
        return;
      case 'end':
        endReceived = true;
        deliver();
        return;
      case 'close':
        peerGone();
        return;
      default:
    }
    handlers.onError(portError('ERR_WASM_TLS_PORT_PROTOCOL', 'The MessagePort peer sent a message outside the transport framing'));
    destroyNow();
  };
  const onMessageEvent = (event) => onMessage(event.data);
  const onMessageError = () => {
    if (destroyed || closed) return;
    handlers.onError(portError('ERR_WASM_TLS_PORT_PROTOCOL', 'A message from the MessagePort peer could not be deserialized'));
    destroyNow();
  };
  const onPortClose = () => peerGone();

  const destroyNow = () => {
    if (destroyed) return;
    destroyed = true;
    outbox = [];
    inbox = [];
    if (!closed) {
      try {
        p.postMessage({ type: 'close' });
      } catch {
        // the port is already closed
      }
    }
    queueMicrotask(closeOnce);
  };

  // Listen at once: a port queues messages until started, but a Worker does not.
  if (typeof p.addEventListener === 'function') {
    p.addEventListener('message', onMessageEvent);
    p.addEventListener('messageerror', onMessageError);
    if (typeof p.on === 'function') p.on('close', onPortClose); // Node: the other side closed
  } else {
    p.on('message', onMessage);
    p.on('messageerror', onMessageError);
    p.on('close', onPortClose);
  }
  p.start?.();

  return {
    start(h) {
      handlers = { ...noHandlers, ...h };
      started = true;
      deliver();
    },
    write(bytes) {
      return this.writev([bytes]);
    },
    writev(parts) {
      if (destroyed || endRequested || peerClosed) return false;
      for (const bytes of parts) if (bytes.byteLength) outbox.push(bytes);
      sendOutbox();
      if (credit > 0 && outbox.length === 0) return true;
      needDrain = true;
      return false;
    },
    end() {
      if (destroyed || endRequested) return;
      endRequested = true;
      flushOutbox();
    },
    destroy: destroyNow,
    pause() {
      paused = true;
    },
    resume() {
      if (!paused) return;
      paused = false;
      deliver();
    },
    get connecting() { return false; },
    get writable() { return !destroyed && !endRequested && !peerClosed; },
    ref: () => p.ref?.(),
    unref: () => p.unref?.(),
  };
}
