// Bun: TCP is Bun's own (Bun.connect, Bun.listen), through js/transports/bun.js.
import { bunConnect, bunListen } from '../transports/bun.js';
import { runtimeError } from '../transports/common.js';

/** @type {import('./index.js').Platform['listenTcp']} */
async function listenTcp({ host, port }, onTransport) {
  let listener;
  try {
    // Node listens on '::' (both families) when no host is given.
    listener = bunListen({ host: host ?? '::', port }, onTransport);
  } catch (e) {
    throw runtimeError(e, { syscall: 'listen', address: host ?? '::', port });
  }
  return {
    address() {
      const out = {};
      listener.getsockname(out);
      return { address: out.address, family: out.family, port: out.port };
    },
    // Stops accepting; live connections go on, as net.Server#close.
    close: () => listener.stop(false),
    ref: () => listener.ref(),
    unref: () => listener.unref(),
  };
}

export const bunPlatform = { name: 'Bun', connectTcp: bunConnect, listenTcp };
