// readable-stream, the #stream of browsers and workerd, schedules its callbacks
// through the npm `process` polyfill, whose nextTick is a setTimeout(0).
// Browsers clamp nested timeouts to 4 ms, so a socket that delivers a record
// per settled promise (js/record-jobs.js) waited 4 ms a record: 3 MB/s.
// Node runs nextTick callbacks before any I/O; a microtask is the nearest a
// browser has, so the polyfill's nextTick becomes one (for everything in the
// bundle that shares the polyfill: it is Node's order, not a new one).
import process from 'process/';

if (process && process.title === 'browser' && typeof queueMicrotask === 'function') {
  process.nextTick = (fn, ...args) => queueMicrotask(() => fn(...args));
}
