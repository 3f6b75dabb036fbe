import { ClockId, clockNow } from './clock.js';
import { Errno, WasiError } from './errno.js';
import { FileType, type Inode } from './memfs.js';
import { type GuestMemory, u32 } from './memory.js';

const FILESTAT_BYTES = 64;
const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;

/** Writes a `filestat` for `node`, or for a stdio stream when `node` is undefined. */
export function writeFilestat(mem: GuestMemory, ptr: number, node: Inode | undefined): void {
  mem.check(ptr, FILESTAT_BYTES);
  mem.bytes.fill(0, ptr, ptr + FILESTAT_BYTES);
  if (node === undefined) {
    // A stream with nothing else to say (see filetypeOf in fd-table.ts).
    mem.setU8(ptr + 16, FileType.UNKNOWN);
    mem.setU64(ptr + 24, 1n);
    return;
  }
  mem.setU64(ptr, node.fs.device);
  mem.setU64(ptr + 8, node.ino);
  mem.setU8(ptr + 16, node.type);
  mem.setU64(ptr + 24, node.nlink);
  mem.setU64(ptr + 32, node.size);
  mem.setU64(ptr + 40, node.atim);
  mem.setU64(ptr + 48, node.mtim);
  mem.setU64(ptr + 56, node.ctim);
}

/**
 * `fstflags`, checked before anything else in the call: unknown bits, or a time both given
 * and "now", are `EINVAL` (node:wasi deadlocked on these).
 */
export function fstflags(value: unknown): number {
  const f = u32(value);
  if ((f & ~0xf) !== 0) throw new WasiError(Errno.INVAL);
  if ((f & FSTFLAGS.ATIM) !== 0 && (f & FSTFLAGS.ATIM_NOW) !== 0) throw new WasiError(Errno.INVAL);
  if ((f & FSTFLAGS.MTIM) !== 0 && (f & FSTFLAGS.MTIM_NOW) !== 0) throw new WasiError(Errno.INVAL);
  return f;
}

/** Applies `fd_filestat_set_times`/`path_filestat_set_times` to `node`. */
export function setTimes(node: Inode, atim: bigint, mtim: bigint, flags: number): void {
  const now = clockNow(ClockId.REALTIME);
  if ((flags & FSTFLAGS.ATIM) !== 0) node.atim = atim;
  else if ((flags & FSTFLAGS.ATIM_NOW) !== 0) node.atim = now;
  if ((flags & FSTFLAGS.MTIM) !== 0) node.mtim = mtim;
  else if ((flags & FSTFLAGS.MTIM_NOW) !== 0) node.mtim = now;
  node.ctim = now;
}
