// The host half of src/records.rs: after the handshake, where the only fast
// AES-GCM is WebCrypto's (browsers, workers, workerd), the engine hands record
// protection over and emits jobs (keys to load, records to seal, one record to
// open at a time), which this runs with crypto.subtle. The engine makes every
// nonce, AAD, header and sequence number; here bytes only go in and out of
// encrypt() and decrypt(). Results are used strictly in job order.
//
// Where node:crypto is synchronous (Node, Deno, Bun) it already runs under
// rustls' own record layer (js/host-crypto.js), so nothing is handed over.
// WASM_TLS_HOST_RECORDS=webcrypto (Node, for tests) hands over there too.

const subtle = globalThis.crypto?.subtle;
const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto');

const KEY = 1;
const SEAL = 2;
const OPEN = 3;
const NONCE_LEN = 12;
/** TlsConnection.opened() flag: the opens still out were under a replaced key. */
const REKEYED = 4;

/** src/records.rs `Aead` bits: AES-128-GCM, AES-256-GCM. */
const AES_GCM = 0b11;

const forced = (() => {
  try {
    return !globalThis.Deno && globalThis.process?.env?.WASM_TLS_HOST_RECORDS === 'webcrypto';
  } catch {
    return false;
  }
})();

/** Which AEADs the engine should hand over after the handshake (0: none). */
export function hostRecordAeads() {
  if (typeof subtle?.encrypt !== 'function') return 0;
  if (globalThis[Symbol.for('wasm-tls.hostRecords')] === false) return 0;
  if (forced || globalThis[Symbol.for('wasm-tls.hostRecords')] === true) return AES_GCM;
  return typeof nodeCrypto?.createCipheriv === 'function' ? 0 : AES_GCM;
}

/** Reads the job stream of src/records.rs. */
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.at = 0;
  }
  u8() {
    return this.bytes[this.at++];
  }
  take(n) {
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u32() {
    const b = this.take(4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }
}

export class RecordJobs {
  /**
   * @param {any} engine the TlsConnection, once `hostRecords` is true
   * @param {{ writeRecord(bytes: Uint8Array): boolean, recordOpened(flags: number): void, recordFailed(err: Error): void }} socket
   */
  constructor(engine, socket) {
    this.engine = engine;
    this.socket = socket;
    /** @type {[Promise<CryptoKey> | null, Promise<CryptoKey> | null]} send, receive */
    this.keys = [null, null];
    /** Resolves once every record sealed so far has been written, in order. */
    this.sealed = Promise.resolve();
    /** Settles once every record handed out so far has been opened and delivered, in order. */
    this.delivered = Promise.resolve();
    /** Open jobs out, of the current epoch. */
    this.opens = 0;
    /** Bumped when the receiving key changes: results of older open jobs are void. */
    this.epoch = 0;
    this.cancelled = false;
    /** @type {(() => void)[]} run once no record is being opened */
    this.idle = [];
  }

  /** Starts the jobs the engine has emitted. */
  run() {
    if (this.cancelled) return;
    const jobs = this.engine.takeJobs();
    if (!jobs) return;
    const r = new Reader(jobs);
    while (r.at < jobs.length) {
      const kind = r.u8();
      if (kind === KEY) {
        const direction = r.u8();
        r.u8(); // the algorithm: the key's length tells AES-128 from AES-256
        const view = r.take(r.u8());
        const raw = view.slice();
        view.fill(0); // the job stream is ours: no copy of the key is left in it
        this.keys[direction] = subtle.importKey('raw', raw, 'AES-GCM', false, direction === 0 ? ['encrypt'] : ['decrypt']);
        this.keys[direction].finally(() => raw.fill(0)).catch(() => {});
      } else if (kind === SEAL) {
        const iv = r.take(NONCE_LEN);
        const additionalData = r.take(r.u8());
        const prefix = r.take(r.u8());
        const data = r.take(r.u32());
        this.seal(this.keys[0], iv, additionalData, prefix, data);
      } else if (kind === OPEN) {
        const iv = r.take(NONCE_LEN);
        const additionalData = r.take(r.u8());
        const data = r.take(r.u32());
        this.open(this.keys[1], iv, additionalData, data);
      } else {
        this.fail(new Error(`unknown record job ${kind}`));
        return;
      }
    }
  }

  seal(key, iv, additionalData, prefix, data) {
    const record = key.then((k) => subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, k, data));
    record.catch(() => {}); // reported in order, below
    this.sealed = this.sealed.then(async () => {
      const sealed = new Uint8Array(await record);
      if (this.cancelled) return;
      const bytes = new Uint8Array(prefix.length + sealed.length);
      bytes.set(prefix);
      bytes.set(sealed, prefix.length);
      this.socket.writeRecord(bytes);
    });
    this.sealed.catch((e) => this.fail(e));
  }

  get opening() {
    return this.opens > 0;
  }

  open(key, iv, additionalData, data) {
    const epoch = this.epoch;
    this.opens++;
    // Not authentic (OperationError): undefined, and the engine says so in its words.
    const result = key
      .then((k) => subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, k, data))
      .then((plaintext) => new Uint8Array(plaintext), () => undefined);
    this.delivered = this.delivered.then(async () => {
      const plaintext = await result;
      if (this.cancelled || epoch !== this.epoch) return;
      this.opens--;
      let flags;
      try {
        flags = this.engine.opened(plaintext);
      } catch (e) {
        this.run(); // the alert
        this.socket.recordFailed(e);
        return;
      }
      if (flags & REKEYED) {
        this.epoch++;
        this.opens = 0;
      }
      this.run();
      this.socket.recordOpened(flags);
      if (!this.opening) {
        const idle = this.idle;
        this.idle = [];
        for (const cb of idle) cb();
      }
    });
  }

  /** `cb` once every record sealed so far has been handed to the transport. */
  afterSeals(cb) {
    this.sealed.then(() => {
      if (!this.cancelled) cb();
    }, () => {});
  }

  /** `cb` now, or once the record being opened has been delivered. */
  afterOpens(cb) {
    if (this.opening) this.idle.push(cb);
    else cb();
  }

  fail(err) {
    if (this.cancelled) return;
    this.cancelled = true;
    this.socket.recordFailed(err);
  }

  cancel() {
    this.cancelled = true;
    this.idle = [];
    this.keys = [null, null];
  }
}
