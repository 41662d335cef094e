// The host's native AEADs for the engine's record layer (src/host.rs imports
// this file; wasm-bindgen copies it into pkg/snippets). Where the runtime has a
// synchronous node:crypto (Node >= 20.16, Deno, Bun) records are sealed and
// opened by OpenSSL (or the runtime's own native code) instead of ring compiled
// to wasm, which has no AES hardware path. Elsewhere (browsers, workerd) every
// function reports "not available" and the engine keeps ring.
//
// No static 'node:' import: browsers load this same file.
// Switches (read when a secure context is made): globalThis[Symbol.for('wasm-tls.hostCrypto')] = false,
// or WASM_TLS_HOST_CRYPTO=0 in the environment, force the wasm fallback.

const crypto = globalThis.process?.getBuiltinModule?.('node:crypto');

// Index = the algorithm number Rust passes (src/host.rs `Alg`).
const NAMES = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];
const OPTIONS = { authTagLength: 16 };

/** What src/host.rs may ask for: bits 0-2 the AEADs of NAMES, bit 3 signing, bit 4 verifying. */
const SIGN = 8;
const VERIFY = 16;

/** Bit i set: NAMES[i] works here (Bun has no chacha20-poly1305, for one). */
const supported = (() => {
  if (typeof crypto?.createCipheriv !== 'function') return 0;
  let mask = typeof crypto.sign === 'function' && typeof crypto.createPrivateKey === 'function' ? SIGN : 0;
  if (typeof crypto.verify === 'function' && typeof crypto.createPublicKey === 'function') mask |= VERIFY;
  NAMES.forEach((name, i) => {
    try {
      const key = new Uint8Array(name === 'aes-128-gcm' ? 16 : 32);
      const c = crypto.createCipheriv(name, key, new Uint8Array(12), OPTIONS);
      c.update(new Uint8Array(1));
      c.final();
      if (c.getAuthTag().length === 16) mask |= 1 << i;
    } catch {
      // not offered by this runtime: ring in wasm does it
    }
  });
  return mask;
})();

const envOff = (() => {
  // Deno may prompt for env access: its users have the global switch.
  if (!crypto || globalThis.Deno) return false;
  try {
    return globalThis.process?.env?.WASM_TLS_HOST_CRYPTO === '0';
  } catch {
    return false;
  }
})();

/**
 * Bit 5: AES-GCM records go to WebCrypto once the handshake is done
 * (js/record-jobs.js), so AES need not give way to ChaCha20 where it would
 * otherwise run in wasm.
 */
const RECORDS_AES = 32;
const recordsAes = typeof globalThis.crypto?.subtle?.encrypt === 'function' ? RECORDS_AES : 0;

/** What to run natively, as a bit mask (0: nothing, all in wasm). */
export function hostCrypto() {
  const records = globalThis[Symbol.for('wasm-tls.hostRecords')] === false ? 0 : recordsAes;
  if (envOff || globalThis[Symbol.for('wasm-tls.hostCrypto')] === false) return records;
  return supported | records;
}

/** Slots for keys handed out by index to Rust, which frees them when rustls drops the key. */
class Slots {
  items = [];
  freed = [];
  put(value) {
    const id = this.freed.length ? this.freed.pop() : this.items.length;
    this.items[id] = value;
    return id;
  }
  drop(id) {
    this.items[id] = undefined;
    this.freed.push(id);
  }
}

// Traffic keys: copied out of wasm memory once per key.
const keys = new Slots();

export function hostKey(key) {
  return keys.put(key.slice());
}

export function hostKeyDrop(id) {
  keys.items[id]?.fill(0);
  keys.drop(id);
}

// Seal and open work on views of wasm memory: the ciphertext or plaintext
// node:crypto returns is copied straight back into the record buffer.
// Neither throws into wasm: failure is `false`.

/** Encrypts `data` in place and writes the 16-byte tag to `tag`. */
export function hostSeal(alg, id, nonce, aad, data, tag) {
  try {
    const c = crypto.createCipheriv(NAMES[alg], keys.items[id], nonce, OPTIONS);
    c.setAAD(aad);
    const out = c.update(data);
    c.final();
    data.set(out);
    tag.set(c.getAuthTag());
    return true;
  } catch {
    return false;
  }
}

/** Decrypts `data` in place if `tag` authenticates it; false (data untouched) if not. */
export function hostOpen(alg, id, nonce, aad, data, tag) {
  try {
    const d = crypto.createDecipheriv(NAMES[alg], keys.items[id], nonce, OPTIONS);
    d.setAAD(aad);
    d.setAuthTag(tag);
    const out = d.update(data);
    d.final();
    data.set(out);
    return true;
  } catch {
    return false;
  }
}

// Private keys for handshake signatures: a KeyObject made from the same DER
// rustls loaded. Rust keeps its ring key too, for anything this cannot sign.
const KEY_TYPES = ['pkcs1', 'sec1', 'pkcs8'];
const signKeys = new Slots();

/** Returns a key id, or -1 if the host cannot load this key. */
export function hostSignKey(der, type) {
  try {
    const key = crypto.createPrivateKey({ key: der.slice(), format: 'der', type: KEY_TYPES[type] });
    return signKeys.put(key);
  } catch {
    return -1;
  }
}

export function hostSignKeyDrop(id) {
  signKeys.drop(id);
}

// TLS SignatureScheme code -> [digest, options]; RSA-PSS salt = digest length (RFC 8446 §4.2.3).
const { RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING } = crypto?.constants ?? {};
const SCHEMES = new Map([
  [0x0401, ['sha256', { padding: RSA_PKCS1_PADDING }]],
  [0x0501, ['sha384', { padding: RSA_PKCS1_PADDING }]],
  [0x0601, ['sha512', { padding: RSA_PKCS1_PADDING }]],
  [0x0804, ['sha256', { padding: RSA_PKCS1_PSS_PADDING, saltLength: 32 }]],
  [0x0805, ['sha384', { padding: RSA_PKCS1_PSS_PADDING, saltLength: 48 }]],
  [0x0806, ['sha512', { padding: RSA_PKCS1_PSS_PADDING, saltLength: 64 }]],
  [0x0403, ['sha256', { dsaEncoding: 'der' }]],
  [0x0503, ['sha384', { dsaEncoding: 'der' }]],
  [0x0807, [null, {}]],
]);

/** The signature over `message` (a new Uint8Array), or undefined: then ring signs. */
export function hostSign(id, scheme, message) {
  const how = SCHEMES.get(scheme);
  const key = signKeys.items[id];
  if (!how || !key) return undefined;
  try {
    return crypto.sign(how[0], message, { key, ...how[1] });
  } catch {
    return undefined;
  }
}

// Signature checks (certificate chains, handshake signatures). The caller
// (src/host.rs) lets ring decide whenever this does not say "valid".
const HASHES = ['sha256', 'sha384', 'sha512', null];
// SubjectPublicKeyInfo DER before the raw public key webpki hands over.
const SPKI_PREFIX = [
  null,
  null,
  fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200'),
  fromHex('3076301006072a8648ce3d020106052b81040022036200'),
  fromHex('302a300506032b6570032100'),
];
const POINT_LEN = [0, 0, 65, 97, 32];

function fromHex(hex) {
  return Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
}

// Recently used public keys (a server's leaf, its CA): making a KeyObject costs
// about as much as the check itself.
const recentKeys = new Map();

function publicKey(kind, raw, minBits) {
  const id = `${kind}:${minBits}:${String.fromCharCode.apply(null, raw)}`;
  let key = recentKeys.get(id);
  if (key === undefined) {
    key = loadPublicKey(kind, raw, minBits);
    if (recentKeys.size >= 64) recentKeys.delete(recentKeys.keys().next().value);
    recentKeys.set(id, key);
  }
  return key;
}

function loadPublicKey(kind, raw, minBits) {
  if (kind < 2) {
    const key = crypto.createPublicKey({ key: raw, format: 'der', type: 'pkcs1' });
    const { modulusLength, publicExponent } = key.asymmetricKeyDetails ?? {};
    // ring's limits: modulus within the algorithm's range, exponent odd, 3 <= e < 2^33.
    if (!(modulusLength >= minBits && modulusLength <= 8192)) return null;
    if (typeof publicExponent !== 'bigint' || publicExponent % 2n === 0n || publicExponent < 3n || publicExponent >= 1n << 33n) return null;
    return key;
  }
  if (raw.length !== POINT_LEN[kind]) return null;
  const spki = new Uint8Array(SPKI_PREFIX[kind].length + raw.length);
  spki.set(SPKI_PREFIX[kind]);
  spki.set(raw, SPKI_PREFIX[kind].length);
  return crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** True only if `signature` is valid for `message` under the raw `key` (webpki's form). */
export function hostVerify(kind, hash, minBits, key, message, signature) {
  try {
    const pub = publicKey(kind, key, minBits);
    if (!pub) return false;
    const options = { key: pub };
    if (kind === 1) {
      options.padding = RSA_PKCS1_PSS_PADDING;
      options.saltLength = [32, 48, 64][hash];
    } else if (kind === 0) {
      options.padding = RSA_PKCS1_PADDING;
    }
    return crypto.verify(HASHES[hash], message, options, signature) === true;
  } catch {
    return false;
  }
}
