// Bun: TCP is Bun's own (Bun.connect, Bun.listen), through js/transports/bun.js.
import { bunConnect, bunListen } from '../transports/bun.js';
import { runtimeError } from '../transports/common.js';
import { listenDefault } from './ip.js';

/** @type {import('./index.js').Platform['listenTcp']} */
async function listenTcp({ host, port }, onTransport) {
  const listener = listenDefault(host, (address) => {
    try {
      return bunListen({ host: address, port }, onTransport);
    } catch (e) {
      throw runtimeError(e, { syscall: 'listen', address, port });
    }
  });
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
