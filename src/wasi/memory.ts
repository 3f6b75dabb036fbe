import { Errno, WasiError } from './errno.js';
import { MAX_PATH_BYTES } from './limits.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The guest's linear memory as the imports see it. Every pointer and length arrives as a
 * signed i32 (or whatever the guest declared); here it is read as unsigned and checked
 * against the memory's size *now* — growth replaces the buffer, so the views are rebuilt
 * whenever the buffer changed. An address out of bounds is `EFAULT`, always (uvwasi says
 * `EOVERFLOW` for some; one answer for every call is easier to rely on).
 */
export class GuestMemory {
  #memory: WebAssembly.Memory | undefined;
  #buffer: ArrayBufferLike | undefined;
  #bytes = new Uint8Array(0);
  #view = new DataView(new ArrayBuffer(0));

  bind(memory: WebAssembly.Memory): void {
    this.#memory = memory;
    this.#buffer = undefined;
  }

  /** The whole memory as bytes, current after any growth. */
  get bytes(): Uint8Array {
    this.#refresh();
    return this.#bytes;
  }

  get view(): DataView {
    this.#refresh();
    return this.#view;
  }

  #refresh(): void {
    // A call before bind() (a module's start function runs during instantiation) has no
    // memory to read yet: the guest gets EFAULT rather than the host an exception.
    if (this.#memory === undefined) throw new WasiError(Errno.FAULT);
    const buffer = this.#memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#bytes = new Uint8Array(buffer);
      this.#view = new DataView(buffer);
    }
  }

  /**
   * Checks `[ptr, ptr + len)` lies inside memory; both are unsigned 32-bit already. The
   * cached views are trusted for the fast path: growth either detaches the old buffer (its
   * views shrink to length 0) or, for shared memory, leaves them valid but shorter, so an
   * access past a stale view's end refreshes and checks again — it never reads a stale byte.
   */
  check(ptr: number, len: number): void {
    // Plain JS numbers: the sum of two u32s is exact, so it cannot wrap past the check.
    if (ptr + len <= this.#bytes.byteLength) return;
    this.#refresh();
    if (ptr + len > this.#bytes.byteLength) throw new WasiError(Errno.FAULT);
  }

  /** A view of `[ptr, ptr + len)`, valid until memory grows. */
  slice(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    return this.#bytes.subarray(ptr, ptr + len);
  }

  u32(ptr: number): number {
    this.check(ptr, 4);
    return this.#view.getUint32(ptr, true);
  }

  u64(ptr: number): bigint {
    this.check(ptr, 8);
    return this.#view.getBigUint64(ptr, true);
  }

  setU8(ptr: number, value: number): void {
    this.check(ptr, 1);
    this.#view.setUint8(ptr, value);
  }

  setU16(ptr: number, value: number): void {
    this.check(ptr, 2);
    this.#view.setUint16(ptr, value, true);
  }

  setU32(ptr: number, value: number): void {
    this.check(ptr, 4);
    this.#view.setUint32(ptr, value, true);
  }

  setU64(ptr: number, value: bigint | number): void {
    this.check(ptr, 8);
    this.#view.setBigUint64(ptr, typeof value === 'bigint' ? value : BigInt(value), true);
  }

  /**
   * A UTF-8 path argument. Longer than {@link MAX_PATH_BYTES} is `ENAMETOOLONG` before a
   * byte is decoded (a guest passing a 1 GiB "path" gets no 1 GiB string); invalid UTF-8 is
   * `EILSEQ`.
   */
  string(ptr: number, len: number): string {
    if (len > MAX_PATH_BYTES) throw new WasiError(Errno.NAMETOOLONG);
    let bytes = this.slice(ptr, len);
    // TextDecoder refuses views of shared memory; a path is small enough to copy.
    if (bytes.buffer instanceof SharedArrayBuffer) bytes = bytes.slice();
    try {
      return decoder.decode(bytes);
    } catch {
      throw new WasiError(Errno.ILSEQ);
    }
  }
}

/**
 * An i32 argument as unsigned. The guest declares the import's type, not us: a module that
 * declares i64 where preview1 says i32 passes a BigInt, which is truncated the same way.
 */
export function u32(value: unknown): number {
  if (typeof value === 'number') return value >>> 0;
  if (typeof value === 'bigint') return Number(BigInt.asUintN(32, value));
  throw new WasiError(Errno.INVAL);
}

/** An i64 argument as unsigned (a guest declaring i32 passes a number). */
export function u64(value: unknown): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (typeof value === 'number') return BigInt(value >>> 0);
  throw new WasiError(Errno.INVAL);
}

/** An i64 argument as signed (`fd_seek`'s delta). */
export function s64(value: unknown): bigint {
  if (typeof value === 'bigint') return BigInt.asIntN(64, value);
  if (typeof value === 'number') return BigInt(value | 0);
  throw new WasiError(Errno.INVAL);
}
