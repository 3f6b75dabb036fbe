import { WasiLambdaError } from '../errors.js';

/**
 * Bounds-checked access to a guest's linear memory.
 *
 * Guest pointers arrive as i32: values with the high bit set are negative in JS and must be
 * read as u32, and `ptr + len` may overflow 2³². Every read or write checks the whole range
 * against the memory's *current* size before touching it, and views are taken fresh each
 * time because `memory.grow` detaches the old `ArrayBuffer`.
 */
export class GuestMemory {
  readonly #memory: WebAssembly.Memory;
  #buffer: ArrayBuffer | undefined;
  #view: DataView | undefined;

  constructor(memory: WebAssembly.Memory) {
    this.#memory = memory;
  }

  /** One DataView per buffer: a new one only after `memory.grow` replaced the buffer. */
  #data(): DataView {
    const buffer = this.#memory.buffer;
    if (buffer !== this.#buffer || this.#view === undefined) {
      this.#buffer = buffer;
      this.#view = new DataView(buffer);
    }
    return this.#view;
  }

  get byteLength(): number {
    return this.#memory.buffer.byteLength;
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

  /** A copy of guest bytes, safe to keep after the guest runs again. */
  copyOut(ptr: number, len: number, what: string): Uint8Array {
    const start = this.check(ptr, len, what);
    return new Uint8Array(this.#memory.buffer.slice(start, start + (len >>> 0)));
  }

  /** A view of guest bytes, valid only until the guest next runs or memory grows. */
  view(ptr: number, len: number, what: string): Uint8Array {
    const start = this.check(ptr, len, what);
    return new Uint8Array(this.#memory.buffer, start, len >>> 0);
  }

  write(ptr: number, bytes: Uint8Array, what: string): void {
    const start = this.check(ptr, bytes.byteLength, what);
    new Uint8Array(this.#memory.buffer).set(bytes, start);
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

  setU64(ptr: number, value: bigint, what: string): void {
    this.#data().setBigUint64(this.check(ptr, 8, what), value, true);
  }
}
