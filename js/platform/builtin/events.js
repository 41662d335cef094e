// Node's own events, where the runtime has it (Node, Deno, Bun); package.json "imports" maps #events here.
export * from 'node:events';
export { default } from 'node:events';
