import { Errno, WasiError } from './errno.js';
import { MAX_IO_BYTES, MAX_IOVS } from './limits.js';
import type { GuestMemory } from './memory.js';

/**
 * The iovecs of one `fd_read`/`fd_write`/`fd_pread`/`fd_pwrite`, all read and checked before
 * any byte moves: at most {@link MAX_IOVS} (more is `EINVAL`), the array and every buffer
 * inside memory (`EFAULT`), lengths as u32 summed without wrapping. The (pointer, length)
 * pairs land in one preallocated array, so a call makes no object per iovec beyond the
 * views it hands out, and moves at most {@link MAX_IO_BYTES} (a short read or write, which
 * guests retry).
 *
 * @example
 * const n = iovecs.load(mem, ptr, count).gather(mem, (bytes) => sink(bytes));
 */
export class Iovecs {
  readonly #pairs = new Float64Array(MAX_IOVS * 2);
  #count = 0;

  load(mem: GuestMemory, ptr: number, count: number): this {
    if (count > MAX_IOVS) throw new WasiError(Errno.INVAL);
    mem.check(ptr, count * 8);
    const view = mem.view;
    for (let i = 0; i < count; i++) {
      const buf = view.getUint32(ptr + i * 8, true);
      const len = view.getUint32(ptr + i * 8 + 4, true);
      mem.check(buf, len);
      this.#pairs[i * 2] = buf;
      this.#pairs[i * 2 + 1] = len;
    }
    this.#count = count;
    return this;
  }

  /** The bytes a write of these iovecs moves: their sum, at most {@link MAX_IO_BYTES}. */
  total(): number {
    let sum = 0;
    for (let i = 0; i < this.#count && sum < MAX_IO_BYTES; i++) sum += this.#pairs[i * 2 + 1] as number;
    return Math.min(sum, MAX_IO_BYTES);
  }

  /** Hands each iovec's bytes (views of guest memory, valid during the call) to `sink`; returns how many. */
  gather(mem: GuestMemory, sink: (bytes: Uint8Array) => void): number {
    const bytes = mem.bytes;
    let n = 0;
    for (let i = 0; i < this.#count && n < MAX_IO_BYTES; i++) {
      const buf = this.#pairs[i * 2] as number;
      const len = Math.min(this.#pairs[i * 2 + 1] as number, MAX_IO_BYTES - n);
      if (len === 0) continue;
      sink(bytes.subarray(buf, buf + len));
      n += len;
    }
    return n;
  }

  /**
   * Fills the iovecs in order from `source`, which puts bytes at the start of the view it is
   * given and says how many; a short fill ends the read. Returns how many bytes in all.
   */
  scatter(mem: GuestMemory, source: (into: Uint8Array) => number): number {
    const bytes = mem.bytes;
    let n = 0;
    for (let i = 0; i < this.#count && n < MAX_IO_BYTES; i++) {
      const buf = this.#pairs[i * 2] as number;
      const len = Math.min(this.#pairs[i * 2 + 1] as number, MAX_IO_BYTES - n);
      const got = source(bytes.subarray(buf, buf + len));
      n += got;
      if (got < len) break;
    }
    return n;
  }
}
