// Shortens the names the shipped .wasm imports its JS functions by, in the
// module and in wasm-bindgen's glue together, as a JS minifier would:
// wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` and each module
// by its path, which the module carries as text (1.6 KB of its gzip size).
//
//   node scripts/minify-imports.mjs <pkg/wasm_tls.js> <pkg/wasm_tls_bg.wasm>
//
// Modules become "a", "b", ... in the order they first appear. The glue's own
// functions (module ./wasm_tls_bg.js) become "_0", "_1", ...; functions that
// come from our JS snippets keep their names, which are their export names.
// Every rename must find its one place in the glue, or this fails.

import { readFileSync, writeFileSync } from 'node:fs';
import { WasmReader, leb, name, section } from './wasm-binary.mjs';

const [gluePath, wasmPath] = process.argv.slice(2);
if (!gluePath || !wasmPath) {
  console.error('usage: node scripts/minify-imports.mjs <glue.js> <module.wasm>');
  process.exit(2);
}
const GLUE_MODULE = './wasm_tls_bg.js';
const fail = (message) => {
  throw new Error(`minify-imports: ${message}; wasm-bindgen changed its output`);
};

const wasm = readFileSync(wasmPath);
let glue = readFileSync(gluePath, 'utf8');

const r = new WasmReader(wasm, wasmPath);

/** Replaces the one occurrence of `from` in the glue. */
function renameInGlue(from, to) {
  const first = glue.indexOf(from);
  if (first < 0 || glue.indexOf(from, first + 1) >= 0) fail(`${JSON.stringify(from)} is not in the glue exactly once`);
  glue = glue.slice(0, first) + to + glue.slice(first + from.length);
}

const parts = [wasm.subarray(0, 8)];
let found = false;
while (r.at < wasm.length) {
  const { id, start, end } = r.section();
  r.at = end;
  if (id !== 2) {
    parts.push(section(id, wasm.subarray(start, end)));
    continue;
  }
  found = true;
  r.at = start;
  const modules = new Map();
  const entries = [];
  let glueFunctions = 0;
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const { module, name: importName, kind, description } = r.import();
    if (kind !== 0) fail(`import ${module} ${importName} is not a function`);
    if (!modules.has(module)) modules.set(module, String.fromCharCode(97 + modules.size));
    let short = importName;
    if (module === GLUE_MODULE) {
      short = `_${(glueFunctions++).toString(36)}`;
      // Each is a key of the glue's import object, a function.
      renameInGlue(`\n        ${importName}: function(`, `\n        ${short}: function(`);
    }
    entries.push([...name(modules.get(module)), ...name(short), ...description]);
  }
  if (r.at !== end) fail('the import section has bytes after its imports');
  r.at = end;
  if (!modules.has(GLUE_MODULE)) fail(`no imports from ${GLUE_MODULE}`);
  // The object of modules the glue instantiates with: its keys are the module names.
  for (const [module, short] of modules) {
    const key = new RegExp(`^( {8})${JSON.stringify(module).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(: import\\d+,)$`, 'gm');
    if (!key.test(glue)) fail(`the module ${module} is not a key in the glue`);
    glue = glue.replace(key, `$1"${short}"$2`);
  }
  parts.push(section(2, [...leb(count), ...entries.flat()]));
}
if (!found) fail('the module has no import section');

writeFileSync(wasmPath, Buffer.concat(parts));
writeFileSync(gluePath, glue);
