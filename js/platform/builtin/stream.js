// Node's own stream, where the runtime has it (Node, Deno, Bun); package.json "imports" maps #stream here.
export * from 'node:stream';
export { default } from 'node:stream';
