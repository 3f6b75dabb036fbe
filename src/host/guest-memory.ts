import { WasiLambdaError } from '../errors.js';

/**
 * Bounds-checked access to a guest's linear memory.
 *
 * Guest pointers arrive as i32: values with the high bit set are negative in JS and must be
 * read as u32, and `ptr + len` may overflow 2³². Every read or write checks the whole range
 * against the memory's *current* size before touching it.
 *
 * The views are cached: `memory.grow` detaches the old `ArrayBuffer` (the module's memory is
 * never shared: `module-limits` refuses that), and a detached buffer's length is 0, so a
 * cached buffer of non-zero length is still the current one. Asking the engine for
 * `memory.buffer` on every access cost about a tenth of a warm invocation's host time.
 */
export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  #buffer: ArrayBuffer;
  #view: DataView;
  #bytes: Uint8Array;
  /** The same bytes as a Node.js `Buffer`, for its native latin1 writes. */
  #text: Buffer;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
    this.#buffer = memory.buffer;
    this.#view = new DataView(this.#buffer);
    this.#bytes = new Uint8Array(this.#buffer);
    this.#text = Buffer.from(this.#buffer);
  }

  /** The current buffer; new views only after `memory.grow` replaced it. */
  #current(): ArrayBuffer {
    if (this.#buffer.byteLength === 0) {
      const buffer = this.#memory.buffer;
      if (buffer !== this.#buffer) {
        this.#buffer = buffer;
        this.#view = new DataView(buffer);
        this.#bytes = new Uint8Array(buffer);
        this.#text = Buffer.from(buffer);
      }
    }
    return this.#buffer;
  }

  #data(): DataView {
    this.#current();
    return this.#view;
  }

  get byteLength(): number {
    return this.#current().byteLength;
  }

  /** Throws `GUEST_ABI_VIOLATION` unless `[ptr, ptr + len)` lies inside the memory. */
  check(ptr: number, len: number, what: string): number {
    const start = ptr >>> 0;
    const length = len >>> 0;
    // Both operands are below 2³², so the sum is exact in a double: no wrap-around.
    if (start + length > this.byteLength) {
      throw new WasiLambdaError(
        'GUEST_ABI_VIOLATION',
        `guest ${what} [${start}, ${start + length}) lies outside its ${this.byteLength}-byte memory`,
      );
    }
    return start;
  }

  /**
   * A copy of guest bytes in a buffer of its own (offset 0, safe to transfer to another
   * thread), kept after the guest runs again. `Uint8Array.prototype.slice` copies in native
   * code; `ArrayBuffer.prototype.slice` on the memory's buffer was the largest share of a
   * warm invocation's host time.
   */
  copyOut(ptr: number, len: number, what: string): Uint8Array {
    const start = this.check(ptr, len, what);
    return this.#bytes.slice(start, start + (len >>> 0));
  }

  /** A view of guest bytes, valid only until the guest next runs or memory grows. */
  view(ptr: number, len: number, what: string): Uint8Array {
    const start = this.check(ptr, len, what);
    return new Uint8Array(this.#current(), start, len >>> 0);
  }

  write(ptr: number, bytes: Uint8Array, what: string): void {
    const start = this.check(ptr, bytes.byteLength, what);
    this.#bytes.set(bytes, start);
  }

  /**
   * Writes a string of code units below 0x80 (which the caller has checked) as its UTF-8
   * bytes, one per code unit, without the intermediate array `TextEncoder.encode` makes:
   * for ASCII, latin1 is UTF-8, and Node.js writes latin1 in native code.
   */
  writeAscii(ptr: number, value: string, what: string): void {
    const start = this.check(ptr, value.length, what);
    this.#text.write(value, start, value.length, 'latin1');
  }

  u8(ptr: number, what: string): number {
    return this.#data().getUint8(this.check(ptr, 1, what));
  }

  u32(ptr: number, what: string): number {
    return this.#data().getUint32(this.check(ptr, 4, what), true);
  }

  setU8(ptr: number, value: number, what: string): void {
    this.#data().setUint8(this.check(ptr, 1, what), value);
  }

  setU32(ptr: number, value: number, what: string): void {
    this.#data().setUint32(this.check(ptr, 4, what), value >>> 0, true);
  }
}
