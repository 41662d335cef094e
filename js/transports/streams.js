// A transport over a pair of WHATWG streams: `{ readable, writable }`, or a
// promise of one (Deno.connect()), or a socket whose `.opened` settles later
// (Cloudflare's connect()). It moves bytes and reports events; no TLS here.
import { asBytes, familyOf, noHandlers, runtimeError, splitHostPort } from './common.js';

/** Bytes queued before the pair exists, above which write() asks the caller to wait. */
const PENDING_HIGH_WATER = 64 * 1024;

/**
 * @typedef {{ remoteAddress?: string, remotePort?: number, localAddress?: string, localPort?: number }} StreamsInfo
 * @typedef {{ readable: ReadableStream, writable: WritableStream, opened?: Promise<any>,
 *   closeWrite?: () => unknown, close?: () => unknown, remoteAddr?: any, localAddr?: any }} StreamPair
 */

/**
 * @param {StreamPair | Promise<StreamPair>} pair
 * @param {StreamsInfo} [info] addresses to report (read from Deno's remoteAddr/localAddr when absent)
 * @returns {import('../index.js').Transport}
 */
export function streamsTransport(pair, info = {}) {
  const isThenable = typeof (/** @type {any} */ (pair))?.then === 'function';
  const opened = isThenable ? undefined : /** @type {any} */ (pair)?.opened;
  if (!isThenable && !(pair?.readable && pair?.writable)) {
    throw Object.assign(new TypeError('streamsTransport needs { readable, writable } or a promise of one'),
      { code: 'ERR_INVALID_ARG_TYPE' });
  }
  let handlers = noHandlers;
  let started = false;
  let connecting = isThenable || typeof opened?.then === 'function';
  /** @type {StreamPair | null} */
  let conn = null;
  /** @type {ReadableStreamDefaultReader | null} */
  let reader = null;
  /** @type {WritableStreamDefaultWriter | null} */
  let writer = null;
  let addresses = { ...info };
  /** @type {Uint8Array[]} written before the pair was open */
  let queued = [];
  let queuedBytes = 0;
  let lastWrite = Promise.resolve();
  let paused = false;
  let reading = false;
  let endRequested = false;
  let readDone = false;
  let writeDone = false;
  let needDrain = false;
  let destroyed = false;
  let failed = false;
  let closed = false;

  const closeOnce = () => {
    if (closed) return;
    closed = true;
    handlers.onClose();
  };
  const maybeClose = () => {
    if (readDone && writeDone) closeOnce();
  };
  const fail = (e) => {
    if (destroyed || failed) return;
    failed = true;
    handlers.onError(runtimeError(e, {
      syscall: connecting ? 'connect' : undefined, address: addresses.remoteAddress, port: addresses.remotePort,
    }));
    teardown();
    closeOnce();
  };
  const teardown = () => {
    destroyed = true;
    connecting = false;
    queued = [];
    reader?.cancel().catch(() => {});
    writer?.abort().catch(() => {});
    if (conn && typeof conn.close === 'function') {
      // Deno.Conn and workerd's Socket own a resource beyond the two streams.
      try {
        Promise.resolve(conn.close()).catch(() => {});
      } catch {
        // already closed
      }
    }
  };

  /** Reads while not paused; one read in flight at most. */
  const pump = async () => {
    if (reading || !reader) return;
    reading = true;
    try {
      while (!paused && !destroyed && !readDone) {
        const { value, done } = await reader.read();
        if (destroyed) return;
        if (done) {
          readDone = true;
          handlers.onEnd();
          maybeClose();
          return;
        }
        const bytes = asBytes(value);
        if (bytes?.byteLength) handlers.onData(bytes);
      }
    } catch (e) {
      fail(e);
    } finally {
      reading = false;
    }
  };

  const checkDrain = () => {
    if (!needDrain || !writer) return;
    writer.ready.then(() => {
      if (!needDrain || destroyed) return;
      if (writer && writer.desiredSize !== null && writer.desiredSize <= 0) {
        checkDrain(); // another write filled it again
        return;
      }
      needDrain = false;
      handlers.onDrain();
    }, () => {}); // a failed stream is reported by the write itself
  };

  const send = (bytes) => {
    const w = /** @type {WritableStreamDefaultWriter} */ (writer);
    lastWrite = w.write(bytes);
    lastWrite.catch(fail);
    return w.desiredSize === null || w.desiredSize > 0;
  };

  const finishWrites = () => {
    const w = /** @type {WritableStreamDefaultWriter} */ (writer);
    const c = /** @type {StreamPair} */ (conn);
    let done;
    if (typeof c.closeWrite === 'function') {
      // Deno.Conn: shut down our direction only, after what was written.
      done = lastWrite.then(() => {
        w.releaseLock();
        writer = null;
        return c.closeWrite?.();
      });
    } else {
      done = w.close();
    }
    Promise.resolve(done).then(() => {
      if (destroyed) return;
      writeDone = true;
      maybeClose();
    }, fail);
  };

  const open = (p, socketInfo) => {
    if (destroyed) {
      try {
        Promise.resolve(p?.close?.()).catch(() => {});
      } catch {
        // nothing to release
      }
      return;
    }
    conn = p;
    if (!p?.readable || !p?.writable) {
      fail(new TypeError('the connection has no readable/writable streams'));
      return;
    }
    readAddresses(p, socketInfo);
    reader = p.readable.getReader();
    writer = p.writable.getWriter();
    const wasConnecting = connecting;
    connecting = false;
    const pending = queued;
    queued = [];
    queuedBytes = 0;
    for (const bytes of pending) send(bytes);
    if (endRequested) finishWrites();
    if (!started) return;
    if (wasConnecting) handlers.onConnect();
    pump();
    checkDrain();
  };

  /** Deno's Conn has remoteAddr/localAddr objects; workerd reports "host:port" strings when opened. */
  const readAddresses = (p, socketInfo) => {
    const remote = socketInfo ? splitHostPort(socketInfo.remoteAddress) : addrOf(p?.remoteAddr);
    const local = socketInfo ? splitHostPort(socketInfo.localAddress) : addrOf(p?.localAddr);
    addresses = {
      remoteAddress: remote.address, remotePort: remote.port,
      localAddress: local.address, localPort: local.port,
      ...Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)),
    };
  };

  if (isThenable) {
    Promise.resolve(pair).then(open, (e) => fail(e));
  } else if (connecting) {
    opened.then((socketInfo) => open(pair, socketInfo ?? {}), (e) => fail(e));
  } else {
    open(pair);
  }

  return {
    start(h) {
      handlers = { ...noHandlers, ...h };
      started = true;
      if (!conn || destroyed) return;
      pump();
      checkDrain();
    },
    write(bytes) {
      if (destroyed || endRequested) return false;
      if (!writer) {
        queued.push(bytes);
        queuedBytes += bytes.byteLength;
        if (queuedBytes < PENDING_HIGH_WATER) return true;
        needDrain = true;
        return false;
      }
      if (send(bytes)) return true;
      needDrain = true;
      checkDrain();
      return false;
    },
    end() {
      if (destroyed || endRequested) return;
      endRequested = true;
      if (writer) finishWrites();
    },
    destroy() {
      if (destroyed) return;
      teardown();
      queueMicrotask(closeOnce);
    },
    pause() {
      paused = true;
    },
    resume() {
      if (!paused) return;
      paused = false;
      if (started) pump();
    },
    get connecting() { return connecting; },
    get writable() { return !destroyed && !endRequested; },
    get remoteAddress() { return addresses.remoteAddress; },
    get remotePort() { return addresses.remotePort; },
    get remoteFamily() { return familyOf(addresses.remoteAddress); },
    get localAddress() { return addresses.localAddress; },
    get localPort() { return addresses.localPort; },
  };
}

/** Deno's NetAddr `{ hostname, port }`. */
function addrOf(a) {
  return a && typeof a === 'object' ? { address: a.hostname, port: a.port } : {};
}
