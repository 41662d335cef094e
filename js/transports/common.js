// Small pieces the adapters share: Node-style error codes for runtime errors,
// address parsing, and the "handlers called at most once" bookkeeping.
import { isIP } from '../platform/ip.js';

// Runtime error names (Deno.errors.*, Rust io::ErrorKind) and message fragments
// (workerd, browsers) mapped to the errno codes Node users test for.
const CODE_BY_NAME = {
  ConnectionRefused: 'ECONNREFUSED',
  ConnectionReset: 'ECONNRESET',
  ConnectionAborted: 'ECONNABORTED',
  TimedOut: 'ETIMEDOUT',
  BrokenPipe: 'EPIPE',
  AddrNotAvailable: 'EADDRNOTAVAIL',
  NotConnected: 'ENOTCONN',
};
const CODE_BY_MESSAGE = [
  [/refused/i, 'ECONNREFUSED'],
  [/reset/i, 'ECONNRESET'],
  [/timed? ?out/i, 'ETIMEDOUT'],
  [/lookup|not known|ENOTFOUND|name resolution/i, 'ENOTFOUND'],
  [/broken pipe/i, 'EPIPE'],
  [/aborted/i, 'ECONNABORTED'],
  [/network connection lost|closed/i, 'ECONNRESET'],
];

/**
 * The runtime's error, as an Error with a Node-style `code` when one can be recognised.
 * @param {unknown} e
 * @param {Record<string, unknown>} [props] added when absent (syscall, address, port)
 * @returns {Error & { code?: string }}
 */
export function runtimeError(e, props = {}) {
  const err = e instanceof Error ? e : new Error(String(e?.message ?? e));
  try {
    if (typeof err.code !== 'string' || !/^E[A-Z]+$/.test(err.code)) {
      const code = CODE_BY_NAME[err.name] ?? CODE_BY_MESSAGE.find(([re]) => re.test(err.message))?.[1];
      if (code) Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
    }
    for (const [k, v] of Object.entries(props)) if (v !== undefined && err[k] === undefined) err[k] = v;
  } catch {
    // a frozen error: hand it on as it is
  }
  return err;
}

/** 'IPv4' | 'IPv6' | undefined, as net.Socket's remoteFamily. */
export function familyOf(address) {
  const v = typeof address === 'string' ? isIP(address) : 0;
  return v ? `IPv${v}` : undefined;
}

/**
 * "1.2.3.4:443" or "[::1]:443" (workerd's SocketInfo) into address and port.
 * @param {string | undefined} s
 */
export function splitHostPort(s) {
  if (typeof s !== 'string') return {};
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s);
  return m ? { address: m[1], port: Number(m[2]) } : { address: s };
}

/** Bytes as a Uint8Array view (ArrayBuffer, any view), without copying. */
export function asBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer || Object.prototype.toString.call(value) === '[object ArrayBuffer]') {
    return new Uint8Array(value);
  }
  return undefined;
}

/** `parts` joined into one new Uint8Array. */
export function joinBytes(parts) {
  const joined = new Uint8Array(parts.reduce((n, bytes) => n + bytes.byteLength, 0));
  let at = 0;
  for (const bytes of parts) {
    joined.set(bytes, at);
    at += bytes.byteLength;
  }
  return joined;
}

/** A no-op set of handlers, so an adapter may report before start() without checks. */
export const noHandlers = {
  onConnect() {}, onData() {}, onEnd() {}, onError() {}, onClose() {}, onDrain() {},
};
