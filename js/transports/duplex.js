// A transport over any Node-style Duplex: net.Socket, a stream pair, a
// WebSocket stream... It moves bytes and reports events; it knows nothing of TLS.

/**
 * @param {import('node:stream').Duplex} stream
 * @returns {import('../index.js').Transport}
 */
const ignore = () => {};

export function duplexTransport(stream) {
  /** @type {Array<[string, (...args: any[]) => void]>} */
  let listeners = [];
  const detach = () => {
    for (const [event, fn] of listeners) stream.removeListener(event, fn);
    if (listeners.length) stream.on('error', ignore); // a write's late EPIPE has no one left to tell
    listeners = [];
  };
  return {
    start(handlers) {
      listeners = [
        ['data', handlers.onData],
        ['end', handlers.onEnd],
        ['error', handlers.onError],
        ['close', () => { detach(); handlers.onClose(); }],
        ['drain', handlers.onDrain],
      ];
      if (stream.connecting) listeners.push(['connect', handlers.onConnect]);
      for (const [event, fn] of listeners) stream.on(event, fn);
      // A stream paused before it was handed over (STARTTLS after reading a
      // greeting) stays paused despite 'data' listeners; Node's TLS reads it anyway.
      stream.resume();
    },
    write: (bytes) => stream.write(bytes),
    end: () => stream.end(),
    destroy() {
      detach();
      stream.destroy();
    },
    pause: () => stream.pause(),
    resume: () => stream.resume(),
    get connecting() { return Boolean(stream.connecting); },
    get writable() { return stream.writable; },
    get remoteAddress() { return stream.remoteAddress; },
    get remotePort() { return stream.remotePort; },
    get remoteFamily() { return stream.remoteFamily; },
    get localAddress() { return stream.localAddress; },
    get localPort() { return stream.localPort; },
    get localFamily() { return stream.localFamily; },
    resetAndDestroy: () => (typeof stream.resetAndDestroy === 'function' ? stream.resetAndDestroy() : stream.destroy()),
    cork: () => stream.cork?.(),
    uncork: () => stream.uncork?.(),
    setNoDelay: (v) => stream.setNoDelay?.(v),
    setKeepAlive: (e, d) => stream.setKeepAlive?.(e, d),
    ref: () => stream.ref?.(),
    unref: () => stream.unref?.(),
  };
}
