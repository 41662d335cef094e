// tls.createSecureContext and the option normalisation it shares with connect.
import { Buffer } from '#buffer';
import { SecureContext as NativeContext } from '../pkg/wasm_tls.js';
import { engineGeneration } from './trap.js';
import { provideDefaultRoots } from './root-anchors.js';
import { engineError, invalidArgType, nodeError, validateInt32 } from './errors.js';

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

function checkVersion(name, value, bound) {
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  if (!VERSION_NAMES.includes(value)) {
    throw nodeError(TypeError, 'ERR_TLS_INVALID_PROTOCOL_VERSION',
      `${JSON.stringify(value)} is not a valid ${bound} TLS protocol version`);
  }
}

/** secureProtocol method names to the single version they pin (null: any). */
const METHODS = {
  TLS_method: null, SSLv23_method: null,
  TLSv1_method: 'TLSv1', TLSv1_1_method: 'TLSv1.1', TLSv1_2_method: 'TLSv1.2', TLSv1_3_method: 'TLSv1.3',
};

function methodVersion(secureProtocol) {
  if (typeof secureProtocol !== 'string') throw invalidArgType('options.secureProtocol', 'of type string', secureProtocol);
  const base = secureProtocol.replace(/_(client|server)_method$/, '_method');
  if (/^SSLv[23]_method$/.test(base) && base !== 'SSLv23_method') {
    throw nodeError(Error, 'ERR_TLS_INVALID_PROTOCOL_METHOD', `${base.slice(0, 5)} methods disabled`);
  }
  if (!(base in METHODS)) {
    throw nodeError(TypeError, 'ERR_TLS_INVALID_PROTOCOL_METHOD', `Unknown method: ${secureProtocol}`);
  }
  return METHODS[base];
}

/** Node's `key` forms (PEM, or `{ pem, passphrase }`, or an array of either) to `[{ pem, passphrase }]`. */
function keyList(key) {
  const items = Array.isArray(key) ? key : [key];
  return items.map((item, i) => {
    if (item !== null && typeof item === 'object' && !ArrayBuffer.isView(item)) {
      const [pem] = pemList(`options.key[${i}].pem`, item.pem);
      if (item.passphrase !== undefined && typeof item.passphrase !== 'string') {
        throw invalidArgType(`options.key[${i}].passphrase`, 'of type string', item.passphrase);
      }
      return { pem, passphrase: item.passphrase };
    }
    const [pem] = pemList(Array.isArray(key) ? `options.key[${i}]` : 'options.key', item);
    return { pem, passphrase: undefined };
  });
}

function ticketKeyBytes(keys) {
  if (!ArrayBuffer.isView(keys)) {
    throw invalidArgType('options.ticketKeys', 'an instance of Buffer, TypedArray, or DataView', keys);
  }
  if (keys.byteLength !== 48) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'Session ticket keys must be a 48-byte buffer');
  }
  return new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength);
}

/** Node's `pfx` forms (Buffer, `{ buf, passphrase }`, or an array of either) to `[{ buf, passphrase }]`. */
function pfxList(pfx) {
  const items = Array.isArray(pfx) ? pfx : [pfx];
  return items.map((item, i) => {
    const plain = ArrayBuffer.isView(item) || typeof item === 'string';
    const buf = plain ? item : item?.buf;
    const name = Array.isArray(pfx) ? `options.pfx[${i}]` : 'options.pfx';
    if (typeof buf === 'string') return { buf: Buffer.from(buf, 'latin1'), passphrase: undefined };
    if (!ArrayBuffer.isView(buf)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', item);
    const passphrase = plain ? undefined : item.passphrase;
    if (passphrase !== undefined && typeof passphrase !== 'string') {
      throw invalidArgType(`${name}.passphrase`, 'of type string', passphrase);
    }
    return { buf: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), passphrase };
  });
}

export class SecureContext {
  constructor(options, defaults) {
    options = options ?? {};
    let minVersion = options.minVersion;
    let maxVersion = options.maxVersion;
    if (options.secureProtocol !== undefined) {
      for (const value of [minVersion, maxVersion]) {
        if (value !== undefined) {
          throw nodeError(TypeError, 'ERR_TLS_PROTOCOL_VERSION_CONFLICT',
            `TLS protocol version ${JSON.stringify(value)} conflicts with secureProtocol ${JSON.stringify(options.secureProtocol)}`);
        }
      }
      const pinned = methodVersion(options.secureProtocol);
      if (pinned) minVersion = maxVersion = pinned;
    }
    for (const name of ['clientCertEngine', 'privateKeyEngine', 'privateKeyIdentifier']) {
      if (options[name] != null) {
        throw nodeError(Error, 'ERR_CRYPTO_CUSTOM_ENGINE_NOT_SUPPORTED',
          `Custom engines not supported: OpenSSL engines (${name}) do not exist in rustls; pass the key itself`);
      }
    }
    if (options.sigalgs !== undefined) {
      throw nodeError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
        'sigalgs is not supported: rustls chooses among its own signature schemes (ECDSA, Ed25519, RSA-PSS, RSA PKCS#1)');
    }
    minVersion ??= defaults.minVersion;
    maxVersion ??= defaults.maxVersion;
    // secureOptions: the version bits narrow the range; the other SSL_OP_* bits
    // govern OpenSSL behaviours rustls does not have (or always has).
    if (options.secureOptions !== undefined) {
      if (typeof options.secureOptions !== 'number') throw invalidArgType('options.secureOptions', 'of type number', options.secureOptions);
      if (options.secureOptions & SSL_OP_NO_TLSv1_3 && maxVersion === 'TLSv1.3') maxVersion = 'TLSv1.2';
      if (options.secureOptions & SSL_OP_NO_TLSv1_2 && minVersion !== 'TLSv1.3') minVersion = 'TLSv1.3';
      if (minVersion === 'TLSv1.3' && maxVersion !== 'TLSv1.3') {
        throw nodeError(Error, 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'no protocols available (secureOptions rule out TLS 1.2 and 1.3)');
      }
    }
    checkVersion('options.minVersion', minVersion, 'minimum');
    checkVersion('options.maxVersion', maxVersion, 'maximum');
    for (const name of ['ciphers', 'ecdhCurve', 'passphrase']) {
      if (options[name] !== undefined && typeof options[name] !== 'string') {
        throw invalidArgType(`options.${name}`, 'of type string', options[name]);
      }
    }
    if (options.sessionTimeout != null) validateInt32(options.sessionTimeout, 'options.sessionTimeout', 0);
    const native = {
      ca: options.ca == null ? undefined : pemList('options.ca', options.ca),
      cert: options.cert == null ? undefined : pemList('options.cert', options.cert),
      key: options.key == null ? undefined : keyList(options.key),
      pfx: options.pfx == null ? undefined : pfxList(options.pfx),
      passphrase: options.passphrase,
      crl: options.crl == null ? undefined : pemList('options.crl', options.crl),
      ciphers: options.ciphers,
      ecdhCurve: options.ecdhCurve,
      minVersion,
      maxVersion,
      ticketKeys: options.ticketKeys == null ? undefined : ticketKeyBytes(options.ticketKeys),
      sessionTimeout: options.sessionTimeout,
    };
    /** Trusting the Mozilla set: a detailed peer chain ends at one of its roots, as in Node. */
    this.usesDefaultRoots = options.ca == null;
    // Loaded apart from the wasm, on first need (js/root-anchors.js).
    if (this.usesDefaultRoots) provideDefaultRoots();
    this._native = native;
    this._generation = engineGeneration();
    try {
      this._context = new NativeContext(native);
    } catch (e) {
      throw engineError(e);
    }
  }

  /** The engine's half, as Node's `context` property holds OpenSSL's; rebuilt if the engine restarted after a trap. */
  get context() {
    if (this.usesDefaultRoots) provideDefaultRoots();
    if (this._generation !== engineGeneration()) {
      this._context = new NativeContext(this._native);
      this._generation = engineGeneration();
    }
    return this._context;
  }
}

/**
 * Options for what rustls cannot do, refused with the reason rather than ignored.
 * @param {object} options
 */
export function refuseUnsupported(options) {
  if (options?.NPNProtocols !== undefined) {
    throw nodeError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
      'NPN is not supported (neither by rustls nor by Node since v12): use ALPNProtocols');
  }
  if (options?.pskCallback !== undefined || options?.pskIdentityHint !== undefined) {
    throw nodeError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM',
      'external pre-shared keys (pskCallback) are not supported by rustls: use certificates');
  }
  // `dhparam` is accepted and unused: rustls offers ECDHE, never DHE.
}

/** OpenSSL's SSL_OP_NO_TLSv1_2 and SSL_OP_NO_TLSv1_3: the secureOptions bits that mean something to rustls. */
const SSL_OP_NO_TLSv1_2 = 0x08000000;
const SSL_OP_NO_TLSv1_3 = 0x20000000;

/** Module-level defaults that tls.DEFAULT_MIN_VERSION / DEFAULT_MAX_VERSION change. */
export const versionDefaults = {
  minVersion: DEFAULT_MIN_VERSION_INITIAL,
  maxVersion: DEFAULT_MAX_VERSION_INITIAL,
};

export function createSecureContext(options) {
  return new SecureContext(options, versionDefaults);
}
