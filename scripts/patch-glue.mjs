// Makes wasm-bindgen's glue (pkg/wasm_tls.js) survive a trap of the instance.
//
// A trap (unreachable, out of memory, stack overflow) leaves the instance's
// memory in an unknown state, and with panic=abort every connection in it is
// lost. After this patch each exported function is guarded: on a trap the
// glue instantiates the same compiled module afresh, bumps a generation
// number, and tells listeners (js/trap.js), so live sockets get an error and
// the next connection works. Finalizers carry the generation they were
// registered in, so no pointer of the dead instance is ever freed in the new
// one. Every pattern must match as counted, or the build fails.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
let src = readFileSync(file, 'utf8');

function patch(pattern, replacement, expect) {
  const found = src.match(pattern)?.length ?? 0;
  if (!expect(found)) throw new Error(`patch-glue: ${pattern} matched ${found} times in ${file}; wasm-bindgen changed its glue`);
  src = src.replace(pattern, replacement);
  return found;
}

patch(/wasm = instance\.exports;/g, 'wasm = __wasmTlsGuard(instance.exports);', (n) => n === 1);
const registries = patch(
  /new FinalizationRegistry\(ptr => wasm\.(__wbg_\w+_free)\(ptr, 1\)\)/g,
  'new FinalizationRegistry(([ptr, generation]) => { if (generation === __wasmTlsGeneration) wasm.$1(ptr, 1); })',
  (n) => n >= 1,
);
const registerCalls = (src.match(/Finalization\.register\(/g) ?? []).length;
patch(
  /(\w+Finalization)\.register\((\w+), \2\.__wbg_ptr, \2\)/g,
  '$1.register($2, [$2.__wbg_ptr, __wasmTlsGeneration], $2)',
  (n) => n === registerCalls && n >= registries,
);

src += `
// --- wasm-tls: trap recovery (added by scripts/patch-glue.mjs) ---
let __wasmTlsGeneration = 0;
const __wasmTlsTrapListeners = [];

function __wasmTlsIsTrap(e) {
  return e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message));
}

function __wasmTlsGuard(exports) {
  const guarded = {};
  const onError = (e) => {
    if (__wasmTlsIsTrap(e) && wasm === guarded) __wasmTlsRecover(e);
    throw e;
  };
  for (const [name, value] of Object.entries(exports)) {
    // Named parameters, not ...args: no array made per call (several a record).
    // A wasm export ignores the extra undefined ones.
    guarded[name] = typeof value !== 'function' ? value : value.length <= 8 ? function (a, b, c, d, e, f, g, h) {
      try {
        return value(a, b, c, d, e, f, g, h);
      } catch (err) {
        return onError(err);
      }
    } : function (...args) {
      try {
        return value(...args);
      } catch (err) {
        return onError(err);
      }
    };
  }
  return guarded;
}

function __wasmTlsRecover(cause) {
  const module = wasmModule;
  wasm = undefined;
  __wasmTlsGeneration++;
  initSync({ module });
  for (const listener of __wasmTlsTrapListeners) {
    try { listener(cause); } catch (e) { queueMicrotask(() => { throw e; }); }
  }
}

/** Calls listener(cause) after the instance trapped and a fresh one took its place. */
export function onEngineTrap(listener) { __wasmTlsTrapListeners.push(listener); }

/** Counts instances replaced after traps: objects of an older generation are dead. */
export function engineGeneration() { return __wasmTlsGeneration; }
`;
writeFileSync(file, src);
