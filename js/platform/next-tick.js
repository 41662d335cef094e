// process.nextTick where the runtime has it (Node, Deno, Bun), else a microtask:
// both run before any I/O callback, which is all TLSSocket relies on.
const proc = globalThis.process;

/** @type {(fn: (...args: any[]) => void, ...args: any[]) => void} */
export const nextTick = typeof proc?.nextTick === 'function'
  ? (fn, ...args) => proc.nextTick(fn, ...args)
  : (fn, ...args) => queueMicrotask(() => fn(...args));
