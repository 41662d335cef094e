// Node's own buffer, where the runtime has it (Node, Deno, Bun); package.json "imports" maps #buffer here.
export * from 'node:buffer';
export { default } from 'node:buffer';
