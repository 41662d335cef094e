// `tls.rootCertificates`: Mozilla's root certificates as PEM strings, the same
// set the engine trusts by default (webpki-roots), shaped like Node's entries.
//
// The data (120 certificates, 180 KB of PEM) is generated into pkg/ by
// examples/gen_root_certificates.rs and kept out of the wasm and out of the
// module graph, so it costs nothing until someone reads the property.
//
// Why it is loaded this way (measured on Node 20, median of 21 fresh processes):
// - a static import of pkg/root-certificates.js would cost every user ~1.6 ms
//   at import and ~360 KB of heap (the source text is kept as well as the
//   strings), and add ~110 KB gzip / ~100 KB brotli to every browser bundle;
// - reading pkg/root-certificates.json synchronously on first access costs
//   ~1.1 ms then, and nothing for those who never read it.
// So where the runtime has a synchronous file system (Node, Deno, Bun) the
// JSON is read on first access; `process.getBuiltinModule` reaches node:fs
// without a static `node:` import, which would break browsers and bundlers.
// Browsers and workerd have no synchronous way to load a file: there, the
// property works once js/root-certificates-static.js has been imported
// (statically, or with `await import()` before the first read), and otherwise
// throws an error saying so, rather than returning a wrong, empty list.

// webpackIgnore: bundles for browsers never read the file (they import wasm-tls/root-certificates).
const jsonUrl = () => new URL(/* webpackIgnore: true */ '../pkg/root-certificates.json', import.meta.url);

/** The frozen array, once loaded: every read returns this same object. */
let certificates;
/** Set by provideRootCertificates() (the static opt-in module). */
let provided;

/**
 * Hands over the generated list, for runtimes that cannot read
 * pkg/root-certificates.json synchronously (see root-certificates-static.js).
 * @param {readonly string[]} list
 */
export function provideRootCertificates(list) {
  provided = list;
}

function readJsonSync() {
  const proc = globalThis.process;
  const fs = typeof proc?.getBuiltinModule === 'function' ? proc.getBuiltinModule('node:fs') : undefined;
  if (fs?.readFileSync) return Object.freeze(JSON.parse(fs.readFileSync(jsonUrl(), 'utf8')));
  const deno = globalThis.Deno;
  if (typeof deno?.readTextFileSync === 'function') return Object.freeze(JSON.parse(deno.readTextFileSync(jsonUrl())));
  return undefined;
}

function load() {
  if (certificates) return certificates;
  let list;
  let cause;
  if (provided !== undefined) {
    list = provided;
  } else {
    try {
      list = readJsonSync();
    } catch (e) {
      cause = e;
    }
  }
  if (!Array.isArray(list)) {
    const message = 'tls.rootCertificates could not be loaded (' +
      (cause ? `reading pkg/root-certificates.json: ${cause.message}` : 'no synchronous file system here') +
      "); in browsers and workerd, import 'wasm-tls/root-certificates' (js/root-certificates-static.js) first";
    const err = new Error(message, cause ? { cause } : undefined);
    err.code = 'ERR_WASM_TLS_ROOT_CERTIFICATES_UNAVAILABLE';
    throw err;
  }
  certificates = Object.isFrozen(list) ? list : Object.freeze([...list]);
  return certificates;
}

let ders;

/**
 * The Mozilla roots as DER, for completing a detailed peer chain as Node does
 * with its bundled store; empty where they cannot be loaded.
 * @returns {Uint8Array[]}
 */
export function rootCertificateDers() {
  if (ders) return ders;
  try {
    ders = load().map((pem) => Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0)));
  } catch {
    ders = [];
  }
  return ders;
}

/**
 * Defines `rootCertificates` on `target` as Node does: an enumerable,
 * non-configurable getter without a setter, loading on first read.
 * @param {object} target
 */
export function installRootCertificates(target) {
  Object.defineProperty(target, 'rootCertificates', {
    __proto__: null,
    configurable: false,
    enumerable: true,
    get: load,
  });
  return target;
}
