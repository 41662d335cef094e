// Run in Node, Deno and Bun from an app that depends on wasm-tls: what the
// package's "exports" give each runtime, as one JSON line to compare.
import tls, * as named from 'wasm-tls';
import * as transports from 'wasm-tls/transports';
import roots from 'wasm-tls/root-certificates';
import pkg from 'wasm-tls/package.json' with { type: 'json' };
import { report, sha256 } from './common.js';

const keys = (o) => Object.keys(o).sort();
const text = new TextEncoder();
report({
  entry: String(import.meta.resolve('wasm-tls')).replace(/^.*\/js\//, 'js/'),
  defaultKeys: keys(tls),
  named: keys(named),
  transports: keys(transports),
  package: pkg.name,
  ciphers: tls.getCiphers(),
  rootCertificates: { count: tls.rootCertificates.length, sha256: await sha256([text.encode(tls.rootCertificates.join(''))]) },
  sameRoots: roots === tls.rootCertificates || roots.join('') === tls.rootCertificates.join(''),
  defaults: { min: tls.DEFAULT_MIN_VERSION, max: tls.DEFAULT_MAX_VERSION, curve: tls.DEFAULT_ECDH_CURVE },
});
