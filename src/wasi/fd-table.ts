import { Errno, WasiError } from './errno.js';
import { MAX_FDS } from './limits.js';
import { type Directory, type File, FileType } from './memfs.js';
import { Rights } from './rights.js';

/** `fdflags`. */
export const FdFlags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;

interface DescriptorBase {
  rightsBase: number;
  rightsInheriting: number;
  fdflags: number;
}

/** fd 0: reads from a fixed byte array, then EOF. */
export interface StdinDescriptor extends DescriptorBase {
  kind: 'stdin';
  data: Uint8Array;
  position: number;
}

/** fd 1 and 2: bytes go to the host's `output` callback. */
export interface OutputDescriptor extends DescriptorBase {
  kind: 'output';
  stream: 'stdout' | 'stderr';
}

export interface FileDescriptor extends DescriptorBase {
  kind: 'file';
  file: File;
  position: number;
}

export interface DirectoryDescriptor extends DescriptorBase {
  kind: 'directory';
  dir: Directory;
  /** The guest path it was preopened at, for `fd_prestat_*`; undefined if opened later. */
  preopen: string | undefined;
}

export type Descriptor = StdinDescriptor | OutputDescriptor | FileDescriptor | DirectoryDescriptor;

/**
 * The guest's descriptor table. Every entry is an object of this guest's own, stdio
 * included: closing or renumbering fd 0–2 changes this table and nothing on the host.
 */
export class FdTable {
  readonly #fds = new Map<number, Descriptor>();

  /** The descriptor `fd`, or `EBADF`. */
  get(fd: number): Descriptor {
    const d = this.#fds.get(fd);
    if (d === undefined) throw new WasiError(Errno.BADF);
    return d;
  }

  /** `get`, also requiring every bit of `rights` (`ENOTCAPABLE` otherwise). */
  require(fd: number, rights: number): Descriptor {
    const d = this.get(fd);
    if ((d.rightsBase & rights) !== rights) throw new WasiError(Errno.NOTCAPABLE);
    return d;
  }

  /** A directory descriptor with `rights`; another kind is `ENOTDIR`. */
  directory(fd: number, rights: number): DirectoryDescriptor {
    const d = this.get(fd);
    if (d.kind !== 'directory') throw new WasiError(Errno.NOTDIR);
    if ((d.rightsBase & rights) !== rights) throw new WasiError(Errno.NOTCAPABLE);
    return d;
  }

  /** Adds `d` at the lowest free number (as POSIX `open`); past {@link MAX_FDS} is `EMFILE`. */
  add(d: Descriptor): number {
    if (this.#fds.size >= MAX_FDS) throw new WasiError(Errno.MFILE);
    let fd = 0;
    while (this.#fds.has(fd)) fd++;
    this.#fds.set(fd, d);
    if (d.kind === 'file') d.file.openCount++;
    return fd;
  }

  close(fd: number): void {
    const d = this.get(fd);
    this.#fds.delete(fd);
    release(d);
  }

  /** Moves `from` onto `to`, closing what `to` was; both must be open. */
  renumber(from: number, to: number): void {
    const d = this.get(from);
    const old = this.get(to);
    if (from === to) return;
    this.#fds.delete(from);
    this.#fds.set(to, d);
    release(old);
  }

  /** Closes everything (the instance is gone): unlinked files are freed. */
  clear(): void {
    for (const d of this.#fds.values()) release(d);
    this.#fds.clear();
  }
}

function release(d: Descriptor): void {
  if (d.kind === 'file') {
    d.file.openCount--;
    d.file.releaseIfUnused();
  }
}

/** Whether a descriptor may be polled (`POLL_FD_READWRITE`). */
export function pollable(d: Descriptor): boolean {
  return (d.rightsBase & Rights.POLL_FD_READWRITE) !== 0;
}

/** The `filetype` `fd_fdstat_get` reports for a descriptor. */
export function filetypeOf(d: Descriptor): number {
  switch (d.kind) {
    case 'file':
      return FileType.REGULAR_FILE;
    case 'directory':
      return FileType.DIRECTORY;
    default:
      // Not CHARACTER_DEVICE: to wasi-libc (and Rust's IsTerminal) a character device
      // without seek rights is a terminal, and a guest that thinks it writes to one colours
      // its output — escape codes in the log. Lambda's stdout is a pipe; preview1 has no
      // type for that.
      return FileType.UNKNOWN;
  }
}
