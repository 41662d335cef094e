// Reading and writing the bits of the wasm binary format the build scripts
// rewrite (scripts/order-functions.mjs, scripts/minify-imports.mjs).

/** A cursor over a module's bytes; `what` names the module in errors. */
export class WasmReader {
  constructor(bytes, what) {
    this.bytes = bytes;
    this.what = what;
    this.at = 0;
    if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) throw new Error(`${what}: not a wasm module`);
    this.at = 8;
  }

  /** An unsigned LEB128 of up to 32 bits. */
  u32() {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.bytes[this.at++];
      if (byte === undefined || shift > 28) throw new Error(`${this.what}: bad LEB128 at ${this.at}`);
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  }

  /** A name: its length, then UTF-8. */
  text() {
    const length = this.u32();
    this.at += length;
    return this.bytes.subarray(this.at - length, this.at).toString();
  }

  /**
   * One entry of the import section: its module, name, kind (0 function, 1 table,
   * 2 memory, 3 global, 4 tag) and description (the bytes after the name).
   */
  import() {
    const module = this.text();
    const name = this.text();
    const start = this.at;
    const kind = this.bytes[this.at++];
    const limits = () => {
      const flags = this.u32();
      this.u32();
      if (flags & 1) this.u32();
    };
    if (kind === 0) {
      this.u32(); // type index
    } else if (kind === 1) {
      this.at++; // reference type
      limits();
    } else if (kind === 2) {
      limits();
    } else if (kind === 3) {
      this.at += 2; // value type, mutability
    } else if (kind === 4) {
      this.at++; // attribute
      this.u32();
    } else {
      throw new Error(`${this.what}: unknown import kind ${kind}`);
    }
    return { module, name, kind, description: this.bytes.subarray(start, this.at) };
  }

  /** The next section: `id`, and the bounds of its contents; the cursor is at its start. */
  section() {
    const id = this.bytes[this.at++];
    const size = this.u32();
    const start = this.at;
    if (start + size > this.bytes.length) throw new Error(`${this.what}: section ${id} runs past the end`);
    return { id, start, end: start + size };
  }
}

/** An unsigned LEB128, as bytes. */
export function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

/** A name, as bytes. */
export const name = (text) => [...leb(Buffer.byteLength(text)), ...Buffer.from(text)];

/** A section with `id` and the contents `body` (bytes), as a Buffer. */
export const section = (id, body) => Buffer.concat([Buffer.from([id, ...leb(body.length)]), Buffer.from(body)]);
