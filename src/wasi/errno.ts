/**
 * WASI preview1 error numbers (`wasi_snapshot_preview1` `errno`). Only the ones this layer
 * returns are named; the numbering is the specification's.
 */
export const Errno = {
  SUCCESS: 0,
  TOOBIG: 1,
  ACCES: 2,
  AGAIN: 6,
  BADF: 8,
  BUSY: 10,
  EXIST: 20,
  FAULT: 21,
  FBIG: 22,
  ILSEQ: 25,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  LOOP: 32,
  MFILE: 33,
  MLINK: 34,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOMEM: 48,
  NOSPC: 51,
  NOSYS: 52,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTSOCK: 57,
  NOTSUP: 58,
  NOTTY: 59,
  OVERFLOW: 61,
  PERM: 63,
  SPIPE: 70,
  XDEV: 75,
  NOTCAPABLE: 76,
} as const;

export type ErrnoCode = (typeof Errno)[keyof typeof Errno];

/**
 * Thrown inside an import to return `errno` to the guest: the import wrapper turns it into
 * the return value, so a deep helper can refuse without every caller threading codes back.
 *
 * @example
 * if (fd === undefined) throw new WasiError(Errno.BADF);
 */
export class WasiError extends Error {
  constructor(readonly errno: ErrnoCode) {
    super(`WASI errno ${errno}`);
  }
}
