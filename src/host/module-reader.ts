import { WasiLambdaError } from '../errors.js';

/**
 * A forward-only cursor over untrusted module bytes. Every read checks the end first and
 * throws `MODULE_INVALID` instead of returning `undefined`, and every read moves forward, so a
 * parser built on it is linear in the input whatever counts the module claims.
 *
 * ```ts
 * const reader = new ModuleReader(bytes, 8, bytes.length);
 * const count = reader.u32('import count');
 * ```
 */
export class ModuleReader {
  #pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.#pos = start;
  }

  get pos(): number {
    return this.#pos;
  }

  get done(): boolean {
    return this.#pos >= this.end;
  }

  byte(what: string): number {
    const byte = this.#pos < this.end ? this.bytes[this.#pos] : undefined;
    if (byte === undefined) throw invalid(`the module ends inside ${what}`);
    this.#pos += 1;
    return byte;
  }

  /** An unsigned LEB128 of at most 32 bits, as the binary format bounds counts and limits. */
  u32(what: string): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte(what);
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (value > 0xffff_ffff) throw invalid(`${what} does not fit in 32 bits`);
        return value;
      }
    }
    throw invalid(`${what} is a LEB128 longer than 5 bytes`);
  }

  /** Skips a signed LEB128 of at most 33 bits (a heap type index). */
  skipS33(what: string): void {
    for (let i = 0; i < 5; i++) {
      if ((this.byte(what) & 0x80) === 0) return;
    }
    throw invalid(`${what} is a LEB128 longer than 5 bytes`);
  }

  skip(length: number, what: string): void {
    if (length > this.end - this.#pos) throw invalid(`${what} runs past the end of its section`);
    this.#pos += length;
  }

  /** A length-prefixed name, decoded leniently: it is only compared and shown. */
  name(what: string): string {
    const length = this.u32(what);
    const start = this.#pos;
    this.skip(length, what);
    return decoder.decode(this.bytes.subarray(start, start + length));
  }

  skipName(what: string): void {
    this.skip(this.u32(what), what);
  }
}

/** One decoder for every name: constructing a `TextDecoder` costs more than decoding a name. */
const decoder = new TextDecoder();

export function invalid(message: string): WasiLambdaError {
  return new WasiLambdaError('MODULE_INVALID', `not a valid WebAssembly module: ${message}`);
}

/** Unsigned LEB128 encoding, for the limits the host rewrites. */
export function writeU32(value: number, out: number[]): void {
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
}
