// Orders a wasm module's functions for gzip: deflate finds repeats only in the
// 32 KiB before each byte, so similar functions are placed together.
//
//   node scripts/order-functions.mjs [--candidates N] <in.wasm> <out.wasm>
//
// This only chooses the order: it writes a "name" section that names each
// function by its rank, and `wasm-opt --reorder-functions-by-name`
// (scripts/build.sh) then moves the functions and renumbers every reference.
//
// The order is greedy. It starts from the largest function. Each next one is
// chosen among the N (default 16) unplaced functions that look most like the
// last one placed (MinHash of their 3-byte shingles): the one that deflates
// best after the last 32 KiB placed, against how it deflates alone. The result
// is deterministic for a given input, N and zlib; how small it compresses
// swings by about 1 KB with N, so scripts/build.sh tries a few.

import { readFileSync, writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { WasmReader, leb, name, section } from './wasm-binary.mjs';

/** MinHash signature length and shingle size. */
const HASHES = 128;
const SHINGLE = 3;
/** deflate's window. */
const WINDOW = 32 * 1024;
const DEFLATE = { level: 9 };

const args = process.argv.slice(2);
/** Unplaced functions tried with deflate at each step. */
let candidates = 16;
if (args[0] === '--candidates') {
  candidates = Number(args[1]);
  args.splice(0, 2);
}
const [input, output] = args;
if (!input || !output || args.length !== 2 || !Number.isInteger(candidates) || candidates < 1) {
  console.error('usage: node scripts/order-functions.mjs [--candidates N] <in.wasm> <out.wasm>');
  process.exit(2);
}
const wasm = readFileSync(input);
const { sections, importedFunctions, bodies } = parse(wasm);
const order = chooseOrder(bodies);
writeFileSync(output, withRankNames(wasm, sections, importedFunctions, order));

/** The sections' bounds, the number of imported functions, and each defined function's body. */
function parse(bytes) {
  const r = new WasmReader(bytes, input);
  const sections = [];
  let importedFunctions = 0;
  const bodies = [];
  while (r.at < bytes.length) {
    const s = r.section();
    if (s.id === 0) s.custom = r.text();
    if (s.id === 2) {
      for (let n = r.u32(); n > 0; n--) if (r.import().kind === 0) importedFunctions++;
    }
    if (s.id === 10) {
      for (let n = r.u32(); n > 0; n--) {
        const length = r.u32();
        bodies.push(bytes.subarray(r.at, r.at + length));
        r.at += length;
      }
    }
    sections.push(s);
    r.at = s.end;
  }
  return { sections, importedFunctions, bodies };
}

/** MinHash signature of a body's shingles. */
function signature(body) {
  const signature = new Uint32Array(HASHES).fill(0xffffffff);
  for (let i = 0; i + SHINGLE <= body.length; i++) {
    let shingle = 0x811c9dc5;
    for (let k = 0; k < SHINGLE; k++) shingle = Math.imul(shingle ^ body[i + k], 0x01000193) >>> 0;
    for (let h = 0; h < HASHES; h++) {
      let v = Math.imul(shingle ^ Math.imul(h + 1, 0x9e3779b1), 0x5bd1e995) >>> 0;
      v = (v ^ (v >>> 15)) >>> 0;
      if (v < signature[h]) signature[h] = v;
    }
  }
  return signature;
}

/** Defined functions (by position in the code section), in the order to place them. */
function chooseOrder(bodies) {
  const n = bodies.length;
  const signatures = bodies.map(signature);
  const alone = bodies.map((body) => deflateRawSync(body, DEFLATE).length);
  const placed = new Uint8Array(n);
  const order = [];
  let window = Buffer.alloc(0);
  let last = 0;
  for (let i = 1; i < n; i++) if (bodies[i].length > bodies[last].length) last = i;
  while (order.length < n) {
    placed[last] = 1;
    order.push(last);
    window = Buffer.concat([window, bodies[last]]);
    if (window.length > WINDOW) window = window.subarray(window.length - WINDOW);
    // The unplaced functions most like the last one.
    const like = [];
    const mine = signatures[last];
    for (let j = 0; j < n; j++) {
      if (placed[j]) continue;
      let same = 0;
      for (let h = 0; h < HASHES; h++) if (signatures[j][h] === mine[h]) same++;
      like.push([same, j]);
    }
    if (!like.length) break;
    like.sort((a, b) => b[0] - a[0] || bodies[b[1]].length - bodies[a[1]].length || a[1] - b[1]);
    let best = -1;
    let bestGain = -Infinity;
    for (const [, j] of like.slice(0, candidates)) {
      const gain = alone[j] - deflateRawSync(bodies[j], { ...DEFLATE, dictionary: window }).length;
      if (gain > bestGain) {
        bestGain = gain;
        best = j;
      }
    }
    last = best;
  }
  return order;
}

/** The module without its name section, and with one naming each function by rank. */
function withRankNames(bytes, sections, importedFunctions, order) {
  const digits = String(order.length).length;
  const names = [...leb(order.length)];
  const rank = new Array(order.length);
  order.forEach((f, i) => {
    rank[f] = i;
  });
  for (let f = 0; f < order.length; f++) names.push(...leb(importedFunctions + f), ...name(`f${String(rank[f]).padStart(digits, '0')}`));
  const parts = [bytes.subarray(0, 8)];
  for (const { id, start, end, custom } of sections) {
    if (custom !== 'name') parts.push(section(id, bytes.subarray(start, end)));
  }
  parts.push(section(0, [...name('name'), 1 /* function names */, ...leb(names.length), ...names]));
  return Buffer.concat(parts);
}
