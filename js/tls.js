// Node's `tls` module surface.
import { Buffer } from '#buffer';
import { TLSSocket } from './socket.js';
import { Server, createServer } from './server.js';
import { SecurePair, createSecurePair } from './secure-pair.js';
import { SecureContext, createSecureContext, refuseUnsupported, versionDefaults } from './context.js';
import { checkServerIdentity } from './identity.js';
import { invalidArgType, nodeError } from './errors.js';
import { relayTransport, toTransport } from './transports/index.js';
import { platform } from './platform/index.js';
import { supportedCiphers } from '../pkg/wasm_tls.js';
import { installRootCertificates } from './root-certificates.js';
import { loadDefaultRoots } from './root-anchors.js';

export { TLSSocket, SecureContext, createSecureContext, checkServerIdentity, Server, createServer, SecurePair, createSecurePair };
export { loadDefaultRoots };
export {
  streamsTransport, websocketTransport, messagePortTransport, relayTransport, duplexTransport,
} from './transports/index.js';

export const CLIENT_RENEG_LIMIT = 3;
export const CLIENT_RENEG_WINDOW = 600;
export const DEFAULT_ECDH_CURVE = 'auto';
/** Node's default list; rustls offers only the ECDHE+AEAD suites in it. */
export const DEFAULT_CIPHERS =
  'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:' +
  'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:' +
  'ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:' +
  'DHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA256:' +
  'DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!SRP:!CAMELLIA';
export let DEFAULT_MIN_VERSION = versionDefaults.minVersion;
export let DEFAULT_MAX_VERSION = versionDefaults.maxVersion;

/**
 * Node's (legacy) helper: ALPN protocol names as their wire form, in `out.ALPNProtocols`.
 * @param {string[] | ArrayBufferView} protocols
 * @param {{ ALPNProtocols?: Buffer }} out
 */
export function convertALPNProtocols(protocols, out) {
  if (Array.isArray(protocols)) {
    const parts = protocols.map((p) => {
      const name = Buffer.from(String(p));
      if (name.length > 255) {
        throw nodeError(RangeError, 'ERR_OUT_OF_RANGE',
          `The byte length of the protocol at index ${protocols.indexOf(p)} exceeds the maximum length. It must be <= 255. Received ${name.length}`);
      }
      return Buffer.concat([Buffer.from([name.length]), name]);
    });
    out.ALPNProtocols = Buffer.concat(parts);
  } else if (ArrayBuffer.isView(protocols)) {
    out.ALPNProtocols = Buffer.from(new Uint8Array(protocols.buffer, protocols.byteOffset, protocols.byteLength));
  }
}

/** Lower-case names of the suites this build can negotiate, as Node's getCiphers(). */
export function getCiphers() {
  return supportedCiphers().map((n) => n.toLowerCase());
}

function rejectUnauthorizedDefault() {
  try {
    // In a terminal Deno would stop to ask for env access: read it only when --allow-env grants it.
    const asked = globalThis.Deno?.permissions?.querySync?.({ name: 'env', variable: 'NODE_TLS_REJECT_UNAUTHORIZED' });
    if (asked && asked.state !== 'granted') return true;
    return globalThis.process?.env?.NODE_TLS_REJECT_UNAUTHORIZED !== '0';
  } catch {
    return true; // runtimes that guard env access
  }
}

/** connect(options[, cb]) | connect(port[, host][, options][, cb]) | connect(path[, options][, cb]) */
function normalizeConnectArgs(args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  let options = {};
  if (args[0] !== null && typeof args[0] === 'object') {
    options = { ...args[0] };
  } else {
    const [first, second, third] = args;
    if (typeof first === 'string' && !/^\d+$/.test(first)) {
      options = { path: first, ...(typeof second === 'object' ? second : {}) };
    } else {
      const tail = typeof second === 'object' && second !== null ? second : third;
      options = { ...(tail ?? {}), port: first };
      if (typeof second === 'string') options.host = second;
    }
  }
  return [options, cb];
}

/** The runtime's own TCP, or in browsers a WebSocket relay (`relay` option or setDefaultRelay). */
function runtimeTcp(options) {
  const relayMissing = platform.tcpViaRelay && options.relay == null && platform.defaultRelay == null;
  if (typeof platform.connectTcp !== 'function' || relayMissing) {
    throw nodeError(Error, 'ERR_WASM_TLS_NO_TCP',
      `tls.connect({ host, port }) needs TCP, which ${platform.name} does not offer: ` +
      "pass { relay: 'wss://...' } (a wasm-tls-relay), call tls.setDefaultRelay(url), or pass { transport }");
  }
  // An explicit relay is used in every runtime (a browser's only way out; elsewhere a choice).
  if (options.relay != null) return relayTransport(options.relay, options.host, options.port, { WebSocket: options.WebSocket });
  return platform.connectTcp(options);
}

/**
 * Sets the WebSocket relay used by `connect({ host, port })` where the runtime has no TCP (browsers).
 * @param {string | URL | undefined} url
 */
export function setDefaultRelay(url) {
  platform.defaultRelay = url === undefined ? undefined : String(url);
}

/**
 * Opens a TLS client connection, synchronously returning the socket as Node does.
 * @returns {TLSSocket}
 */
export function connect(...args) {
  const [given, cb] = normalizeConnectArgs(args);
  const options = {
    rejectUnauthorized: rejectUnauthorizedDefault(),
    checkServerIdentity,
    ...given,
  };
  options.checkServerIdentity ||= checkServerIdentity;
  refuseUnsupported(options);
  if (typeof options.checkServerIdentity !== 'function') {
    throw invalidArgType('options.checkServerIdentity', 'of type function', options.checkServerIdentity);
  }
  if (options.servername !== undefined && typeof options.servername !== 'string') {
    throw invalidArgType('options.servername', 'of type string', options.servername);
  }
  let transport;
  if (options.transport != null) {
    transport = toTransport(options.transport);
  } else if (options.socket) {
    transport = toTransport(options.socket);
  } else {
    const port = Number(options.port);
    if (options.path === undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535 && `${options.port}` !== '')) {
      throw nodeError(RangeError, 'ERR_SOCKET_BAD_PORT',
        `Port should be >= 0 and < 65536. Received ${typeof options.port} (${options.port}).`);
    }
    options.host ??= 'localhost';
  }
  options.secureContext ??= createSecureContext(options);
  const socket = new TLSSocket(null, options);
  if (cb) socket.once('secureConnect', cb);
  if (options.timeout) socket.setTimeout(options.timeout);
  socket._attach(transport ?? runtimeTcp(options), !options.socket);
  return socket;
}

const tls = {
  CLIENT_RENEG_LIMIT,
  CLIENT_RENEG_WINDOW,
  DEFAULT_ECDH_CURVE,
  DEFAULT_CIPHERS,
  get DEFAULT_MIN_VERSION() { return versionDefaults.minVersion; },
  set DEFAULT_MIN_VERSION(v) { versionDefaults.minVersion = v; DEFAULT_MIN_VERSION = v; },
  get DEFAULT_MAX_VERSION() { return versionDefaults.maxVersion; },
  set DEFAULT_MAX_VERSION(v) { versionDefaults.maxVersion = v; DEFAULT_MAX_VERSION = v; },
  TLSSocket,
  SecureContext,
  Server,
  createServer,
  SecurePair,
  createSecurePair,
  connect,
  createSecureContext,
  checkServerIdentity,
  getCiphers,
  convertALPNProtocols,
  setDefaultRelay,
  loadDefaultRoots,
};
installRootCertificates(tls);

export default tls;
