import { ClockId, clockNow } from './clock.js';
import { Errno, WasiError } from './errno.js';

/** `filetype` values this filesystem has. */
export const FileType = { UNKNOWN: 0, DIRECTORY: 3, REGULAR_FILE: 4, SYMBOLIC_LINK: 7 } as const;

/** How much one filesystem may hold. */
export interface FilesystemLimits {
  /** Bytes of file contents held in memory at most (Lambda's ephemeral storage: 512 MB). */
  maxBytes: number;
  /** Files, directories and symbolic links at most, the root included. */
  maxFiles: number;
}

export const DEFAULT_LIMITS: FilesystemLimits = { maxBytes: 512 * 2 ** 20, maxFiles: 65_536 };

let nextDevice = 1n;

/**
 * A filesystem that lives in the JS heap and nowhere else: no host path, no host fd. Its
 * quota counts the bytes actually allocated for file contents (not just their sizes), so
 * the host memory a guest can make it hold is the quota; going over is `ENOSPC`, creating
 * an inode past `maxFiles` is `EDQUOT`-like `ENOSPC` too (POSIX's out-of-inodes answer).
 *
 * @example
 * const fs = new MemoryFilesystem({ maxBytes: 512 * 2 ** 20 });
 * new Preview1({ args: [], env: {}, output, preopens: { '/tmp': fs.root } });
 */
export class MemoryFilesystem {
  readonly limits: FilesystemLimits;
  readonly device = nextDevice++;
  readonly root: Directory;
  #bytes = 0;
  #inodes = 0;
  #nextIno = 1n;

  constructor(limits: Partial<FilesystemLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.root = new Directory(this, undefined);
  }

  /** Bytes of file contents held now. */
  get usedBytes(): number {
    return this.#bytes;
  }

  /** Inodes held now (the root included). */
  get usedFiles(): number {
    return this.#inodes;
  }

  /** Throws `ENOSPC` (a `WasiError`) unless `delta` more bytes fit the quota. */
  checkRoom(delta: number): void {
    if (delta > 0 && this.#bytes + delta > this.limits.maxBytes) throw new WasiError(Errno.NOSPC);
  }

  /** @internal Charges or refunds `delta` bytes (checked first with {@link checkRoom}). */
  chargeBytes(delta: number): void {
    this.checkRoom(delta);
    this.#bytes += delta;
  }

  /** @internal A new inode number, charged against `maxFiles`. */
  allocateInode(): bigint {
    if (this.#inodes >= this.limits.maxFiles) throw new WasiError(Errno.NOSPC);
    this.#inodes++;
    return this.#nextIno++;
  }

  /** @internal An inode with no links and no open descriptor is gone. */
  releaseInode(): void {
    this.#inodes--;
  }
}

function now(): bigint {
  return clockNow(ClockId.REALTIME);
}

/** What every file, directory and link has. */
abstract class InodeBase {
  readonly ino: bigint;
  nlink = 0;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;

  constructor(readonly fs: MemoryFilesystem) {
    this.ino = fs.allocateInode();
    this.atim = this.mtim = this.ctim = now();
  }

  abstract readonly type: number;
  abstract get size(): number;

  /** Touches mtime and ctime after a change. */
  modified(): void {
    this.mtim = this.ctim = now();
  }
}

/** A regular file: its bytes, in a buffer that grows within the quota. */
export class File extends InodeBase {
  readonly type = FileType.REGULAR_FILE;
  #data = new Uint8Array(0);
  #size = 0;
  /** Open descriptors: an unlinked file stays readable through them. */
  openCount = 0;

  get size(): number {
    return this.#size;
  }

  /** Reads up to `into.length` bytes at `offset`; returns how many. */
  read(offset: number, into: Uint8Array): number {
    if (offset >= this.#size) return 0;
    const n = Math.min(into.length, this.#size - offset);
    into.set(this.#data.subarray(offset, offset + n));
    return n;
  }

  /** Writes `bytes` at `offset`, growing the file (zero-filled) if needed. */
  write(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    if (end > this.#size) this.resize(end);
    this.#data.set(bytes, offset);
  }

  /** Sets the size; new bytes read as zero. */
  resize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new WasiError(Errno.INVAL);
    if (size > this.#data.length) {
      // Doubling keeps appends amortised O(1), but never past the quota: near it, grow
      // exactly, so a full quota is reachable and the host holds no more than it allows.
      const room = this.fs.limits.maxBytes - this.fs.usedBytes + this.#data.length;
      const capacity = Math.max(size, Math.min(this.#data.length * 2, room));
      // Allocate before charging: if the engine refuses the allocation (RangeError, the
      // guest's ENOMEM), the quota must not count bytes that were never held.
      this.fs.checkRoom(capacity - this.#data.length);
      const data = new Uint8Array(capacity);
      this.fs.chargeBytes(capacity - this.#data.length);
      data.set(this.#data.subarray(0, this.#size));
      this.#data = data;
    } else if (size < this.#size) {
      this.#data.fill(0, size, this.#size);
      if (size < this.#data.length / 4) {
        const data = this.#data.slice(0, size);
        this.fs.chargeBytes(data.length - this.#data.length);
        this.#data = data;
      }
    }
    this.#size = size;
  }

  #released = false;

  /** Frees the contents once nothing refers to the file. */
  releaseIfUnused(): void {
    if (this.nlink === 0 && this.openCount === 0 && !this.#released) {
      this.#released = true;
      this.fs.chargeBytes(-this.#data.length);
      this.#data = new Uint8Array(0);
      this.#size = 0;
      this.fs.releaseInode();
    }
  }
}

/** A directory: names to inodes, and its parent (undefined for a root). */
export class Directory extends InodeBase {
  readonly type = FileType.DIRECTORY;
  readonly entries = new Map<string, Inode>();
  parent: Directory | undefined;

  constructor(fs: MemoryFilesystem, parent: Directory | undefined) {
    super(fs);
    this.parent = parent;
    this.nlink = 1;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A new empty subdirectory called `name` (which must not exist). */
  makeDirectory(name: string): Directory {
    this.fs.checkRoom(entryBytes(name));
    const dir = new Directory(this.fs, this);
    this.link(name, dir);
    return dir;
  }

  /** A new empty file called `name` (which must not exist). */
  makeFile(name: string): File {
    this.fs.checkRoom(entryBytes(name));
    const file = new File(this.fs);
    this.link(name, file);
    return file;
  }

  /** A new symbolic link called `name` (which must not exist) to `target`; the target counts against the quota. */
  makeSymlink(name: string, target: string): Symlink {
    const targetBytes = Buffer.byteLength(target);
    this.fs.checkRoom(entryBytes(name) + targetBytes);
    const link = new Symlink(this.fs, target);
    this.fs.chargeBytes(targetBytes);
    this.link(name, link);
    return link;
  }

  /**
   * Adds an entry `name` (which must not exist) for an existing inode. Names count against
   * the quota, so a guest cannot fill host memory with entries whose files are empty.
   */
  link(name: string, node: Inode): void {
    this.fs.chargeBytes(entryBytes(name));
    this.entries.set(name, node);
    node.nlink++;
    if (node instanceof Directory) node.parent = this;
    this.modified();
  }

  /** Removes the entry `name`, releasing the inode when nothing else holds it. */
  unlink(name: string): void {
    const node = this.entries.get(name);
    if (node === undefined) return;
    this.entries.delete(name);
    this.fs.chargeBytes(-entryBytes(name));
    node.nlink--;
    node.ctim = now();
    this.modified();
    if (node instanceof File) node.releaseIfUnused();
    else if (node instanceof Directory) {
      // A directory has exactly one link: it is gone (descriptors on it see ENOENT).
      node.parent = undefined;
      this.fs.releaseInode();
    } else if (node.nlink === 0) {
      this.fs.chargeBytes(-node.size);
      this.fs.releaseInode();
    }
  }

  /** Moves the entry `name` to `to` as `newName` (which must not exist): `rename` without the checks. */
  move(name: string, to: Directory, newName: string): void {
    const node = this.entries.get(name);
    if (node === undefined) return;
    // One filesystem (rename across preopens of different ones is EXDEV): charge the net
    // change first, so a full quota fails the move before anything changed.
    this.fs.chargeBytes(entryBytes(newName) - entryBytes(name));
    this.entries.delete(name);
    to.entries.set(newName, node);
    if (node instanceof Directory) node.parent = to;
    this.modified();
    to.modified();
    node.ctim = now();
  }

  /** Whether `other` is this directory or below it (a rename must not create a cycle). */
  contains(other: Directory): boolean {
    for (let d: Directory | undefined = other; d !== undefined; d = d.parent) if (d === this) return true;
    return false;
  }
}

/**
 * A symbolic link: a path, resolved only within the preopen it was reached from. Create one
 * with {@link Directory.makeSymlink}, which charges its target to the quota.
 */
export class Symlink extends InodeBase {
  readonly type = FileType.SYMBOLIC_LINK;

  constructor(
    fs: MemoryFilesystem,
    readonly target: string,
  ) {
    super(fs);
  }

  get size(): number {
    return Buffer.byteLength(this.target);
  }
}

export type Inode = File | Directory | Symlink;

/** What a directory entry costs the quota: its name, and a little for the entry itself. */
function entryBytes(name: string): number {
  return Buffer.byteLength(name) + ENTRY_OVERHEAD_BYTES;
}

/** A rough share of a Map entry and an inode object, so a million empty files are not free. */
const ENTRY_OVERHEAD_BYTES = 64;
