// tls.createSecureContext and the option normalisation it shares with connect.
import { Buffer } from 'node:buffer';
import { SecureContext as NativeContext } from '../pkg/wasm_tls.js';
import { engineError, invalidArgType, nodeError } from './errors.js';

export const DEFAULT_MIN_VERSION_INITIAL = 'TLSv1.2';
export const DEFAULT_MAX_VERSION_INITIAL = 'TLSv1.3';

/** Node's ALPN forms (array of strings/Buffers, or one wire-format Buffer) to a list of names. */
export function alpnList(protocols) {
  if (protocols == null) return [];
  const list = [];
  if (ArrayBuffer.isView(protocols)) {
    const bytes = new Uint8Array(protocols.buffer, protocols.byteOffset, protocols.byteLength);
    for (let i = 0; i < bytes.length;) {
      const len = bytes[i];
      list.push(Buffer.from(bytes.subarray(i + 1, i + 1 + len)).toString('latin1'));
      i += 1 + len;
    }
    return list;
  }
  if (!Array.isArray(protocols)) {
    throw invalidArgType('options.ALPNProtocols', 'an instance of Array, Buffer, TypedArray, or DataView', protocols);
  }
  protocols.forEach((p, i) => {
    const name = typeof p === 'string' ? p : ArrayBuffer.isView(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1') : null;
    if (name === null) throw invalidArgType(`options.ALPNProtocols[${i}]`, 'of type string or an instance of Buffer', p);
    const length = Buffer.byteLength(name);
    if (length === 0 || length > 255) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE',
        `The byte length of the protocol at index ${i} exceeds the maximum length. It must be <= 255. Received ${length}`);
    }
    list.push(name);
  });
  return list;
}

/** string | Buffer | Array of them, PEM, to an array of PEM strings. */
function pemList(name, value) {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    if (typeof item === 'string') return item;
    if (ArrayBuffer.isView(item)) return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('latin1');
    throw invalidArgType(Array.isArray(value) ? `${name}[${i}]` : name, 'of type string or an instance of Buffer, TypedArray, or DataView', item);
  });
}

const VERSION_NAMES = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3', 'SSLv3'];

function checkVersion(name, value) {
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (!VERSION_NAMES.includes(value)) {
    throw nodeError(TypeError, 'ERR_TLS_INVALID_PROTOCOL_VERSION', `'${value}' is not a valid TLS protocol version`);
  }
}

export class SecureContext {
  constructor(options, defaults) {
    options = options ?? {};
    const minVersion = options.minVersion ?? defaults.minVersion;
    const maxVersion = options.maxVersion ?? defaults.maxVersion;
    checkVersion('options.minVersion', minVersion);
    checkVersion('options.maxVersion', maxVersion);
    if (options.ciphers !== undefined && typeof options.ciphers !== 'string') {
      throw invalidArgType('options.ciphers', 'of type string', options.ciphers);
    }
    const native = {
      ca: options.ca == null ? undefined : pemList('options.ca', options.ca),
      ciphers: options.ciphers,
      minVersion,
      maxVersion,
    };
    try {
      /** The engine's half, as Node's `context` property holds OpenSSL's. */
      this.context = new NativeContext(native);
    } catch (e) {
      throw engineError(e);
    }
  }
}

/** Module-level defaults that tls.DEFAULT_MIN_VERSION / DEFAULT_MAX_VERSION change. */
export const versionDefaults = {
  minVersion: DEFAULT_MIN_VERSION_INITIAL,
  maxVersion: DEFAULT_MAX_VERSION_INITIAL,
};

export function createSecureContext(options) {
  return new SecureContext(options, versionDefaults);
}
