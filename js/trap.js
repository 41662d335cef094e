// If the wasm instance ever traps, the glue (see scripts/patch-glue.mjs) has
// already put a fresh instance in its place. Here every socket that lived in
// the dead one gets a clear error, and nothing of the dead instance is
// touched again: its objects are dropped, never freed into the new one.
import { engineGeneration, onEngineTrap } from '../pkg/wasm_tls.js';
import { nodeError } from './errors.js';

/** Sockets holding engine objects of the current instance. */
const liveSockets = new Set();

/** @param {{ _loseEngine(err: Error): void }} socket */
export const trackSocket = (socket) => liveSockets.add(socket);
export const untrackSocket = (socket) => liveSockets.delete(socket);
export { engineGeneration };

onEngineTrap((cause) => {
  const sockets = [...liveSockets];
  liveSockets.clear();
  for (const socket of sockets) {
    socket._loseEngine(nodeError(Error, 'ERR_WASM_TLS_ENGINE_TRAP',
      `the TLS engine (WebAssembly) trapped and was restarted; this connection was lost (${cause.message})`));
  }
});
