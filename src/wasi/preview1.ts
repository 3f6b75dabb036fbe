import { GuestExit } from '../host/outcome.js';
import { ClockId, clockNow, clockResolution } from './clock.js';
import { Errno, WasiError } from './errno.js';
import {
  type Descriptor,
  type DirectoryDescriptor,
  FdFlags,
  FdTable,
  type FileDescriptor,
  pollable,
} from './fd-table.js';
import { MAX_IO_BYTES, MAX_IOVS, MAX_LINKS, MAX_RANDOM_BYTES, MAX_SUBSCRIPTIONS } from './limits.js';
import { Directory, type File, FileType, type Inode, Symlink } from './memfs.js';
import { GuestMemory, s64, u32, u64 } from './memory.js';
import { resolvePath } from './path.js';
import { fillRandom } from './random.js';
import { DIRECTORY_RIGHTS, FILE_RIGHTS, Rights, rightsFrom, STDIN_RIGHTS, STDOUT_RIGHTS } from './rights.js';
import { DeadlineExceeded, sleepMs } from './sleep.js';

/** What a guest is given. Nothing else is reachable from its imports. */
export interface WasiOptions {
  /** `argv`, the program name first. */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Bytes the guest writes to fd 1/2, delivered synchronously; the view is valid only during the call. */
  output(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  /** What fd 0 reads; default empty (EOF). */
  stdin?: Uint8Array | undefined;
  /** In-memory directories preopened at these guest paths (fd 3, 4, … in this order). */
  preopens?: Readonly<Record<string, Directory>> | undefined;
  /** Absolute deadline (ms since the epoch) of the current invocation, read at each blocking call. */
  deadline?: (() => number | undefined) | undefined;
}

const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FSTFLAGS = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;
const LOOKUP_SYMLINK_FOLLOW = 1;
const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;
const EVENTTYPE = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
const SUBCLOCKFLAGS_ABSTIME = 1;
const SUBSCRIPTION_BYTES = 48;
const EVENT_BYTES = 32;
const FILESTAT_BYTES = 64;
const DIRENT_BYTES = 24;
const ALL_FDFLAGS = FdFlags.APPEND | FdFlags.DSYNC | FdFlags.NONBLOCK | FdFlags.RSYNC | FdFlags.SYNC;
const MAX_FILE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

const encoder = new TextEncoder();

/** `NAME\0` strings laid out the way `args_get`/`environ_get` copy them. */
class StringList {
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly offsets: Uint32Array;

  constructor(items: readonly string[]) {
    const encoded = items.map((s) => encoder.encode(`${s}\0`));
    this.count = encoded.length;
    this.offsets = new Uint32Array(encoded.length);
    this.bytes = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
    let at = 0;
    encoded.forEach((e, i) => {
      this.offsets[i] = at;
      this.bytes.set(e, at);
      at += e.length;
    });
  }
}

type Import = (
  a: unknown,
  b: unknown,
  c: unknown,
  d: unknown,
  e: unknown,
  f: unknown,
  g: unknown,
  h: unknown,
  i: unknown,
) => number;

/**
 * Makes an import total: a `WasiError` becomes its errno, anything unexpected an errno too
 * (the guest's call fails, the host carries on). Only the two ways out that must unwind the
 * guest pass through: {@link GuestExit} and {@link DeadlineExceeded}. Fixed arity, so no
 * argument array is allocated per call; missing arguments arrive as `undefined` and fail
 * validation with `EINVAL`.
 */
function total(fn: Import): Import {
  return (a, b, c, d, e, f, g, h, i) => {
    try {
      return fn(a, b, c, d, e, f, g, h, i);
    } catch (err) {
      if (err instanceof WasiError) return err.errno;
      if (err instanceof GuestExit || err instanceof DeadlineExceeded) throw err;
      // RangeError: an allocation the engine refused (or the host stack ran out).
      return err instanceof RangeError ? Errno.NOMEM : Errno.IO;
    }
  };
}

/**
 * wasi-lambda's own `wasi_snapshot_preview1`: a sandbox by construction. Nothing it does
 * reaches a host file descriptor or a host syscall beyond the clock, the CSPRNG and a
 * private `Atomics.wait`; files live in {@link MemoryFilesystem}s given as preopens.
 *
 * @example
 * const wasi = new Preview1({ args: ['app'], env: {}, output: (s, b) => log(s, b) });
 * const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.imports });
 * wasi.bind(instance.exports.memory as WebAssembly.Memory);
 */
export class Preview1 {
  readonly imports: WebAssembly.ModuleImports;
  readonly #mem = new GuestMemory();
  readonly #fds = new FdTable();
  readonly #args: StringList;
  readonly #env: StringList;
  readonly #output: WasiOptions['output'];
  readonly #deadline: WasiOptions['deadline'];
  /** The iovecs of the current call, validated before any byte moves: (ptr, len) pairs. */
  readonly #iovs = new Float64Array(MAX_IOVS * 2);

  constructor(options: WasiOptions) {
    this.#args = new StringList(options.args);
    this.#env = new StringList(Object.entries(options.env).map(([k, v]) => `${k}=${v}`));
    this.#output = options.output;
    this.#deadline = options.deadline;
    this.#fds.add({
      kind: 'stdin',
      data: options.stdin ?? new Uint8Array(0),
      position: 0,
      rightsBase: STDIN_RIGHTS,
      rightsInheriting: 0,
      fdflags: 0,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.#fds.add({ kind: 'output', stream, rightsBase: STDOUT_RIGHTS, rightsInheriting: 0, fdflags: 0 });
    }
    for (const [path, dir] of Object.entries(options.preopens ?? {})) {
      this.#fds.add({
        kind: 'directory',
        dir,
        preopen: path,
        rightsBase: DIRECTORY_RIGHTS,
        rightsInheriting: DIRECTORY_RIGHTS | FILE_RIGHTS,
        fdflags: 0,
      });
    }
    const imports: Record<string, Import> = {};
    for (const [name, fn] of Object.entries(this.#calls())) imports[name] = total(fn as Import);
    this.imports = imports;
  }

  /** Binds the guest's exported memory; call once the instance exists, before `_start`. */
  bind(memory: WebAssembly.Memory): void {
    this.#mem.bind(memory);
  }

  /** Closes every descriptor (unlinked files held open are freed). */
  dispose(): void {
    this.#fds.clear();
  }

  #calls() {
    const mem = this.#mem;
    const fds = this.#fds;
    const strings = (list: StringList, ptrsPtr: number, bufPtr: number): number => {
      mem.check(ptrsPtr, list.count * 4);
      mem.slice(bufPtr, list.bytes.length).set(list.bytes);
      for (let i = 0; i < list.count; i++) mem.setU32(ptrsPtr + i * 4, bufPtr + (list.offsets[i] as number));
      return Errno.SUCCESS;
    };
    const sizes = (list: StringList, countPtr: number, sizePtr: number): number => {
      mem.setU32(countPtr, list.count);
      mem.setU32(sizePtr, list.bytes.length);
      return Errno.SUCCESS;
    };
    return {
      args_get: (argv: unknown, buf: unknown) => strings(this.#args, u32(argv), u32(buf)),
      args_sizes_get: (count: unknown, size: unknown) => sizes(this.#args, u32(count), u32(size)),
      environ_get: (environ: unknown, buf: unknown) => strings(this.#env, u32(environ), u32(buf)),
      environ_sizes_get: (count: unknown, size: unknown) => sizes(this.#env, u32(count), u32(size)),

      clock_res_get: (id: unknown, out: unknown) => {
        mem.setU64(u32(out), clockResolution(u32(id)));
        return Errno.SUCCESS;
      },
      clock_time_get: (id: unknown, _precision: unknown, out: unknown) => {
        mem.setU64(u32(out), clockNow(u32(id)));
        return Errno.SUCCESS;
      },

      fd_advise: (fd: unknown, offset: unknown, len: unknown, advice: unknown) => {
        const d = fds.get(u32(fd));
        u64(offset);
        u64(len);
        if (d.kind === 'directory') throw new WasiError(Errno.BADF);
        if (d.kind !== 'file') throw new WasiError(Errno.SPIPE);
        if ((d.rightsBase & Rights.FD_ADVISE) === 0) throw new WasiError(Errno.NOTCAPABLE);
        if (u32(advice) > 5) throw new WasiError(Errno.INVAL);
        return Errno.SUCCESS;
      },
      fd_allocate: (fd: unknown, offset: unknown, len: unknown) => {
        const d = this.#file(u32(fd), Rights.FD_ALLOCATE);
        const end = u64(offset) + u64(len);
        if (end > MAX_FILE_OFFSET) throw new WasiError(Errno.FBIG);
        if (Number(end) > d.file.size) {
          d.file.resize(Number(end));
          d.file.modified();
        }
        return Errno.SUCCESS;
      },
      fd_close: (fd: unknown) => {
        fds.close(u32(fd));
        return Errno.SUCCESS;
      },
      fd_datasync: (fd: unknown) => this.#sync(u32(fd), Rights.FD_DATASYNC),
      fd_sync: (fd: unknown) => this.#sync(u32(fd), Rights.FD_SYNC),
      fd_fdstat_get: (fd: unknown, out: unknown) => {
        const d = fds.get(u32(fd));
        const ptr = u32(out);
        mem.check(ptr, 24);
        mem.bytes.fill(0, ptr, ptr + 24);
        mem.setU8(ptr, filetypeOf(d));
        mem.setU16(ptr + 2, d.fdflags);
        mem.setU64(ptr + 8, d.rightsBase);
        mem.setU64(ptr + 16, d.rightsInheriting);
        return Errno.SUCCESS;
      },
      fd_fdstat_set_flags: (fd: unknown, flags: unknown) => {
        const d = fds.require(u32(fd), Rights.FD_FDSTAT_SET_FLAGS);
        const f = u32(flags);
        if ((f & ~ALL_FDFLAGS) !== 0 || f > 0xffff) throw new WasiError(Errno.INVAL);
        d.fdflags = f;
        return Errno.SUCCESS;
      },
      fd_fdstat_set_rights: (fd: unknown, base: unknown, inheriting: unknown) => {
        const d = fds.get(u32(fd));
        const b = rightsFrom(u64(base));
        const i = rightsFrom(u64(inheriting));
        // Rights only ever shrink.
        if ((b & ~d.rightsBase) !== 0 || (i & ~d.rightsInheriting) !== 0) throw new WasiError(Errno.NOTCAPABLE);
        d.rightsBase = b;
        d.rightsInheriting = i;
        return Errno.SUCCESS;
      },
      fd_filestat_get: (fd: unknown, out: unknown) => {
        const d = fds.require(u32(fd), Rights.FD_FILESTAT_GET);
        this.#filestat(u32(out), d.kind === 'file' ? d.file : d.kind === 'directory' ? d.dir : undefined);
        return Errno.SUCCESS;
      },
      fd_filestat_set_size: (fd: unknown, size: unknown) => {
        const d = this.#file(u32(fd), Rights.FD_FILESTAT_SET_SIZE);
        const s = u64(size);
        if (s > MAX_FILE_OFFSET) throw new WasiError(Errno.FBIG);
        d.file.resize(Number(s));
        d.file.modified();
        return Errno.SUCCESS;
      },
      fd_filestat_set_times: (fd: unknown, atim: unknown, mtim: unknown, flags: unknown) => {
        const f = fstflags(flags);
        const a = u64(atim);
        const m = u64(mtim);
        const d = fds.require(u32(fd), Rights.FD_FILESTAT_SET_TIMES);
        const node = d.kind === 'file' ? d.file : d.kind === 'directory' ? d.dir : undefined;
        if (node !== undefined) setTimes(node, a, m, f);
        return Errno.SUCCESS;
      },
      fd_pread: (fd: unknown, iovs: unknown, len: unknown, offset: unknown, out: unknown) => {
        const d = this.#readable(u32(fd));
        if (d.kind !== 'file') throw new WasiError(Errno.SPIPE);
        const count = this.#loadIovs(u32(iovs), u32(len));
        const at = u64(offset);
        mem.check(u32(out), 4);
        const n = at > MAX_FILE_OFFSET ? 0 : this.#readFile(d.file, Number(at), count);
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_pwrite: (fd: unknown, iovs: unknown, len: unknown, offset: unknown, out: unknown) => {
        const d = this.#writable(u32(fd));
        if (d.kind !== 'file') throw new WasiError(Errno.SPIPE);
        const count = this.#loadIovs(u32(iovs), u32(len));
        const at = u64(offset);
        mem.check(u32(out), 4);
        if (at > MAX_FILE_OFFSET) throw new WasiError(Errno.FBIG);
        // POSIX: pwrite on an O_APPEND descriptor appends (Linux ignores the offset).
        const n = this.#writeFile(d.file, (d.fdflags & FdFlags.APPEND) !== 0 ? d.file.size : Number(at), count);
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_read: (fd: unknown, iovs: unknown, len: unknown, out: unknown) => {
        const d = this.#readable(u32(fd));
        const count = this.#loadIovs(u32(iovs), u32(len));
        mem.check(u32(out), 4);
        let n = 0;
        if (d.kind === 'file') {
          n = this.#readFile(d.file, d.position, count);
          d.position += n;
        } else if (d.kind === 'stdin') {
          n = this.#readBytes(d.data, d.position, count);
          d.position += n;
        }
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_write: (fd: unknown, iovs: unknown, len: unknown, out: unknown) => {
        const d = this.#writable(u32(fd));
        const count = this.#loadIovs(u32(iovs), u32(len));
        mem.check(u32(out), 4);
        let n = 0;
        if (d.kind === 'output') {
          n = this.#emit(d.stream, count);
        } else if (d.kind === 'file') {
          const at = (d.fdflags & FdFlags.APPEND) !== 0 ? d.file.size : d.position;
          n = this.#writeFile(d.file, at, count);
          d.position = at + n;
        }
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_prestat_get: (fd: unknown, out: unknown) => {
        const d = fds.get(u32(fd));
        if (d.kind !== 'directory' || d.preopen === undefined) throw new WasiError(Errno.BADF);
        const ptr = u32(out);
        mem.check(ptr, 8);
        mem.setU32(ptr, 0);
        mem.setU32(ptr + 4, Buffer.byteLength(d.preopen));
        return Errno.SUCCESS;
      },
      fd_prestat_dir_name: (fd: unknown, path: unknown, len: unknown) => {
        const d = fds.get(u32(fd));
        if (d.kind !== 'directory' || d.preopen === undefined) throw new WasiError(Errno.BADF);
        const name = encoder.encode(d.preopen);
        if (u32(len) < name.length) throw new WasiError(Errno.NAMETOOLONG);
        mem.slice(u32(path), name.length).set(name);
        return Errno.SUCCESS;
      },
      fd_readdir: (fd: unknown, buf: unknown, len: unknown, cookie: unknown, out: unknown) => {
        const d = fds.get(u32(fd));
        if (d.kind !== 'directory') throw new WasiError(Errno.NOTDIR);
        if ((d.rightsBase & Rights.FD_READDIR) === 0) throw new WasiError(Errno.NOTCAPABLE);
        const used = this.#readdir(d, u32(buf), u32(len), u64(cookie));
        mem.setU32(u32(out), used);
        return Errno.SUCCESS;
      },
      fd_renumber: (from: unknown, to: unknown) => {
        fds.renumber(u32(from), u32(to));
        return Errno.SUCCESS;
      },
      fd_seek: (fd: unknown, offset: unknown, whence: unknown, out: unknown) => {
        const delta = s64(offset);
        const w = u32(whence);
        const d = fds.get(u32(fd));
        if (d.kind === 'directory') throw new WasiError(Errno.BADF);
        // Asking where we are (CUR + 0) is a tell: FD_TELL suffices, as FD_SEEK does.
        const tell = w === WHENCE.CUR && delta === 0n && (d.rightsBase & Rights.FD_TELL) !== 0;
        if (!tell && (d.rightsBase & Rights.FD_SEEK) === 0) throw new WasiError(Errno.NOTCAPABLE);
        if (d.kind !== 'file') throw new WasiError(Errno.SPIPE);
        let base: bigint;
        if (w === WHENCE.SET) base = 0n;
        else if (w === WHENCE.CUR) base = BigInt(d.position);
        else if (w === WHENCE.END) base = BigInt(d.file.size);
        else throw new WasiError(Errno.INVAL);
        const next = base + delta;
        if (next < 0n) throw new WasiError(Errno.INVAL);
        if (next > MAX_FILE_OFFSET) throw new WasiError(Errno.OVERFLOW);
        mem.check(u32(out), 8);
        d.position = Number(next);
        mem.setU64(u32(out), next);
        return Errno.SUCCESS;
      },
      fd_tell: (fd: unknown, out: unknown) => {
        const d = fds.get(u32(fd));
        if (d.kind === 'directory') throw new WasiError(Errno.BADF);
        if ((d.rightsBase & Rights.FD_TELL) === 0) throw new WasiError(Errno.NOTCAPABLE);
        if (d.kind !== 'file') throw new WasiError(Errno.SPIPE);
        mem.setU64(u32(out), d.position);
        return Errno.SUCCESS;
      },

      path_create_directory: (fd: unknown, path: unknown, len: unknown) => {
        const dir = fds.directory(u32(fd), Rights.PATH_CREATE_DIRECTORY);
        const r = resolvePath(dir.dir, mem.string(u32(path), u32(len)), false);
        if (r.node !== undefined || r.name === undefined) throw new WasiError(Errno.EXIST);
        r.parent.makeDirectory(r.name);
        return Errno.SUCCESS;
      },
      path_filestat_get: (fd: unknown, flags: unknown, path: unknown, len: unknown, out: unknown) => {
        const dir = fds.directory(u32(fd), Rights.PATH_FILESTAT_GET);
        const node = this.#existing(dir, u32(flags), u32(path), u32(len));
        this.#filestat(u32(out), node);
        return Errno.SUCCESS;
      },
      path_filestat_set_times: (
        fd: unknown,
        flags: unknown,
        path: unknown,
        len: unknown,
        atim: unknown,
        mtim: unknown,
        fst: unknown,
      ) => {
        const f = fstflags(fst);
        const a = u64(atim);
        const m = u64(mtim);
        const dir = fds.directory(u32(fd), Rights.PATH_FILESTAT_SET_TIMES);
        setTimes(this.#existing(dir, u32(flags), u32(path), u32(len)), a, m, f);
        return Errno.SUCCESS;
      },
      path_link: (
        oldFd: unknown,
        oldFlags: unknown,
        oldPath: unknown,
        oldLen: unknown,
        newFd: unknown,
        newPath: unknown,
        newLen: unknown,
      ) => {
        const from = fds.directory(u32(oldFd), Rights.PATH_LINK_SOURCE);
        const to = fds.directory(u32(newFd), Rights.PATH_LINK_TARGET);
        const node = this.#existing(from, u32(oldFlags), u32(oldPath), u32(oldLen));
        const target = resolvePath(to.dir, mem.string(u32(newPath), u32(newLen)), false);
        if (target.node !== undefined || target.name === undefined) throw new WasiError(Errno.EXIST);
        if (node instanceof Directory) throw new WasiError(Errno.PERM);
        if (target.trailingSlash) throw new WasiError(Errno.NOENT);
        if (node.fs !== target.parent.fs) throw new WasiError(Errno.XDEV);
        if (node.nlink >= MAX_LINKS) throw new WasiError(Errno.MLINK);
        target.parent.link(target.name, node);
        node.ctim = clockNow(ClockId.REALTIME);
        return Errno.SUCCESS;
      },
      path_open: (
        fd: unknown,
        dirflags: unknown,
        path: unknown,
        len: unknown,
        oflags: unknown,
        base: unknown,
        inheriting: unknown,
        fdflags: unknown,
        out: unknown,
      ) => {
        const dir = fds.directory(u32(fd), Rights.PATH_OPEN);
        const o = u32(oflags);
        const flags = u32(fdflags);
        const rightsBase = rightsFrom(u64(base));
        const rightsInheriting = rightsFrom(u64(inheriting));
        const outPtr = u32(out);
        if ((o & ~0xf) !== 0 || (flags & ~ALL_FDFLAGS) !== 0) throw new WasiError(Errno.INVAL);
        mem.check(outPtr, 4);
        const p = mem.string(u32(path), u32(len));
        const r = resolvePath(dir.dir, p, (u32(dirflags) & LOOKUP_SYMLINK_FOLLOW) !== 0);
        let node = r.node;
        if (node === undefined) {
          if ((o & OFLAGS.CREAT) === 0) throw new WasiError(Errno.NOENT);
          if ((dir.rightsBase & Rights.PATH_CREATE_FILE) === 0) throw new WasiError(Errno.NOTCAPABLE);
          if (r.trailingSlash || (o & OFLAGS.DIRECTORY) !== 0) throw new WasiError(Errno.ISDIR);
          node = r.parent.makeFile(r.name as string);
        } else if ((o & OFLAGS.CREAT) !== 0 && (o & OFLAGS.EXCL) !== 0) {
          throw new WasiError(Errno.EXIST);
        } else if (node instanceof Symlink) {
          throw new WasiError(Errno.LOOP);
        }
        let d: Descriptor;
        if (node instanceof Directory) {
          if ((o & OFLAGS.TRUNC) !== 0 || (rightsBase & Rights.FD_WRITE) !== 0 || (o & OFLAGS.CREAT) !== 0) {
            throw new WasiError(Errno.ISDIR);
          }
          d = {
            kind: 'directory',
            dir: node,
            preopen: undefined,
            rightsBase: rightsBase & DIRECTORY_RIGHTS & dir.rightsInheriting,
            rightsInheriting: rightsInheriting & dir.rightsInheriting,
            fdflags: flags,
          };
        } else {
          if ((o & OFLAGS.DIRECTORY) !== 0 || r.trailingSlash) throw new WasiError(Errno.NOTDIR);
          if ((o & OFLAGS.TRUNC) !== 0) {
            if ((dir.rightsBase & Rights.PATH_FILESTAT_SET_SIZE) === 0) throw new WasiError(Errno.NOTCAPABLE);
            if (node.size !== 0) {
              node.resize(0);
              node.modified();
            }
          }
          d = {
            kind: 'file',
            file: node,
            position: 0,
            rightsBase: rightsBase & FILE_RIGHTS & dir.rightsInheriting,
            rightsInheriting: rightsInheriting & dir.rightsInheriting,
            fdflags: flags,
          };
        }
        mem.setU32(outPtr, fds.add(d));
        return Errno.SUCCESS;
      },
      path_readlink: (fd: unknown, path: unknown, len: unknown, buf: unknown, bufLen: unknown, out: unknown) => {
        const dir = fds.directory(u32(fd), Rights.PATH_READLINK);
        const r = resolvePath(dir.dir, mem.string(u32(path), u32(len)), false);
        if (r.node === undefined) throw new WasiError(Errno.NOENT);
        if (!(r.node instanceof Symlink))
          throw new WasiError(r.trailingSlash && !(r.node instanceof Directory) ? Errno.NOTDIR : Errno.INVAL);
        const target = encoder.encode(r.node.target);
        const n = Math.min(target.length, u32(bufLen));
        mem.check(u32(out), 4);
        mem.slice(u32(buf), n).set(target.subarray(0, n));
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      path_remove_directory: (fd: unknown, path: unknown, len: unknown) => {
        const dir = fds.directory(u32(fd), Rights.PATH_REMOVE_DIRECTORY);
        const r = resolvePath(dir.dir, mem.string(u32(path), u32(len)), false);
        if (r.name === undefined) throw new WasiError(r.node === dir.dir ? Errno.INVAL : Errno.NOTEMPTY);
        if (r.node === undefined) throw new WasiError(Errno.NOENT);
        if (!(r.node instanceof Directory)) throw new WasiError(Errno.NOTDIR);
        if (r.node.entries.size > 0) throw new WasiError(Errno.NOTEMPTY);
        r.parent.unlink(r.name);
        return Errno.SUCCESS;
      },
      path_rename: (
        fd: unknown,
        oldPath: unknown,
        oldLen: unknown,
        newFd: unknown,
        newPath: unknown,
        newLen: unknown,
      ) => {
        const from = fds.directory(u32(fd), Rights.PATH_RENAME_SOURCE);
        const to = fds.directory(u32(newFd), Rights.PATH_RENAME_TARGET);
        const src = resolvePath(from.dir, mem.string(u32(oldPath), u32(oldLen)), false);
        const dst = resolvePath(to.dir, mem.string(u32(newPath), u32(newLen)), false);
        const node = src.node;
        if (node === undefined) throw new WasiError(Errno.NOENT);
        if (src.name === undefined || dst.name === undefined) throw new WasiError(Errno.BUSY);
        if (node.fs !== dst.parent.fs) throw new WasiError(Errno.XDEV);
        if (node instanceof Directory) {
          if (dst.node !== undefined && !(dst.node instanceof Directory)) throw new WasiError(Errno.NOTDIR);
          if (dst.node instanceof Directory && dst.node !== node && dst.node.entries.size > 0) {
            throw new WasiError(Errno.NOTEMPTY);
          }
          if (node.contains(dst.parent)) throw new WasiError(Errno.INVAL);
        } else {
          if (dst.node instanceof Directory) throw new WasiError(Errno.ISDIR);
          if (src.trailingSlash || dst.trailingSlash) throw new WasiError(Errno.NOTDIR);
        }
        if (dst.node === node) return Errno.SUCCESS;
        if (dst.node !== undefined) dst.parent.unlink(dst.name);
        src.parent.entries.delete(src.name);
        src.parent.modified();
        dst.parent.entries.set(dst.name, node);
        if (node instanceof Directory) node.parent = dst.parent;
        dst.parent.modified();
        node.ctim = clockNow(ClockId.REALTIME);
        return Errno.SUCCESS;
      },
      path_symlink: (oldPath: unknown, oldLen: unknown, fd: unknown, newPath: unknown, newLen: unknown) => {
        const target = mem.string(u32(oldPath), u32(oldLen));
        const dir = fds.directory(u32(fd), Rights.PATH_SYMLINK);
        const r = resolvePath(dir.dir, mem.string(u32(newPath), u32(newLen)), false);
        if (r.node !== undefined || r.name === undefined) throw new WasiError(Errno.EXIST);
        if (r.trailingSlash) throw new WasiError(Errno.NOENT);
        if (target.length === 0) throw new WasiError(Errno.NOENT);
        if (target.includes('\0')) throw new WasiError(Errno.INVAL);
        // A link to an absolute path could never be followed inside the preopen: refuse it
        // up front, as wasmtime does.
        if (target.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE);
        r.parent.link(r.name, new Symlink(r.parent.fs, target));
        return Errno.SUCCESS;
      },
      path_unlink_file: (fd: unknown, path: unknown, len: unknown) => {
        const dir = fds.directory(u32(fd), Rights.PATH_UNLINK_FILE);
        const r = resolvePath(dir.dir, mem.string(u32(path), u32(len)), false);
        if (r.node instanceof Directory) throw new WasiError(Errno.ISDIR);
        if (r.node === undefined || r.name === undefined) throw new WasiError(Errno.NOENT);
        if (r.trailingSlash) throw new WasiError(Errno.NOTDIR);
        r.parent.unlink(r.name);
        return Errno.SUCCESS;
      },

      poll_oneoff: (inPtr: unknown, outPtr: unknown, n: unknown, nevents: unknown) =>
        this.#poll(u32(inPtr), u32(outPtr), u32(n), u32(nevents)),
      proc_exit: (code: unknown): number => {
        throw new GuestExit(u32(code));
      },
      // Signals are the host's: a guest raising one gets nothing delivered anywhere.
      proc_raise: (_sig: unknown) => Errno.NOTSUP,
      sched_yield: () => Errno.SUCCESS,
      random_get: (buf: unknown, len: unknown) => {
        const ptr = u32(buf);
        const n = u32(len);
        if (n > MAX_RANDOM_BYTES) throw new WasiError(Errno.INVAL);
        mem.check(ptr, n);
        fillRandom(mem.bytes, ptr, n);
        return Errno.SUCCESS;
      },

      // No sockets exist: a valid descriptor is never one.
      sock_accept: (fd: unknown) => this.#notSocket(fd),
      sock_recv: (fd: unknown) => this.#notSocket(fd),
      sock_send: (fd: unknown) => this.#notSocket(fd),
      sock_shutdown: (fd: unknown) => this.#notSocket(fd),
    };
  }

  #notSocket(fd: unknown): number {
    this.#fds.get(u32(fd));
    return Errno.NOTSOCK;
  }

  #sync(fd: number, right: number): number {
    const d = this.#fds.get(fd);
    if (d.kind !== 'file' && d.kind !== 'directory') throw new WasiError(Errno.INVAL);
    if ((d.rightsBase & right) === 0) throw new WasiError(Errno.NOTCAPABLE);
    return Errno.SUCCESS;
  }

  /** A regular-file descriptor with `right`; a directory is `EISDIR`... as POSIX, else `EBADF`/`EINVAL`. */
  #file(fd: number, right: number): FileDescriptor {
    const d = this.#fds.get(fd);
    if (d.kind === 'directory') throw new WasiError(Errno.BADF);
    if ((d.rightsBase & right) === 0) throw new WasiError(Errno.NOTCAPABLE);
    if (d.kind !== 'file') throw new WasiError(Errno.INVAL);
    return d;
  }

  #readable(fd: number): Descriptor {
    const d = this.#fds.get(fd);
    if (d.kind === 'directory') throw new WasiError(Errno.ISDIR);
    if ((d.rightsBase & Rights.FD_READ) === 0) throw new WasiError(Errno.NOTCAPABLE);
    return d;
  }

  #writable(fd: number): Descriptor {
    const d = this.#fds.get(fd);
    if (d.kind === 'directory') throw new WasiError(Errno.ISDIR);
    if ((d.rightsBase & Rights.FD_WRITE) === 0) throw new WasiError(Errno.NOTCAPABLE);
    return d;
  }

  /** What a path names, following a final link when `flags` asks; it must exist. */
  #existing(dir: DirectoryDescriptor, flags: number, path: number, len: number): Inode {
    const r = resolvePath(dir.dir, this.#mem.string(path, len), (flags & LOOKUP_SYMLINK_FOLLOW) !== 0);
    if (r.node === undefined) throw new WasiError(Errno.NOENT);
    if (r.trailingSlash && !(r.node instanceof Directory)) throw new WasiError(Errno.NOTDIR);
    return r.node;
  }

  /**
   * Reads and checks every iovec before any byte moves: at most {@link MAX_IOVS} (more is
   * `EINVAL`), each inside memory (`EFAULT`). The pairs land in a preallocated array, so a
   * call makes no object per iovec. Returns how many there are.
   */
  #loadIovs(ptr: number, count: number): number {
    if (count > MAX_IOVS) throw new WasiError(Errno.INVAL);
    const mem = this.#mem;
    mem.check(ptr, count * 8);
    const view = mem.view;
    const size = mem.bytes.byteLength;
    for (let i = 0; i < count; i++) {
      const buf = view.getUint32(ptr + i * 8, true);
      const len = view.getUint32(ptr + i * 8 + 4, true);
      if (buf + len > size) throw new WasiError(Errno.FAULT);
      this.#iovs[i * 2] = buf;
      this.#iovs[i * 2 + 1] = len;
    }
    return count;
  }

  /** Gives the guest's bytes to `output`, at most {@link MAX_IO_BYTES} per call. */
  #emit(stream: 'stdout' | 'stderr', count: number): number {
    const bytes = this.#mem.bytes;
    let n = 0;
    for (let i = 0; i < count && n < MAX_IO_BYTES; i++) {
      const buf = this.#iovs[i * 2] as number;
      const len = Math.min(this.#iovs[i * 2 + 1] as number, MAX_IO_BYTES - n);
      if (len === 0) continue;
      this.#output(stream, bytes.subarray(buf, buf + len));
      n += len;
    }
    return n;
  }

  #readFile(file: File, offset: number, count: number): number {
    const bytes = this.#mem.bytes;
    let n = 0;
    for (let i = 0; i < count && n < MAX_IO_BYTES; i++) {
      const buf = this.#iovs[i * 2] as number;
      const len = Math.min(this.#iovs[i * 2 + 1] as number, MAX_IO_BYTES - n);
      const got = file.read(offset + n, bytes.subarray(buf, buf + len));
      n += got;
      if (got < len) break;
    }
    file.atim = clockNow(ClockId.REALTIME);
    return n;
  }

  #readBytes(data: Uint8Array, offset: number, count: number): number {
    const bytes = this.#mem.bytes;
    let n = 0;
    for (let i = 0; i < count && offset + n < data.length && n < MAX_IO_BYTES; i++) {
      const buf = this.#iovs[i * 2] as number;
      const len = Math.min(this.#iovs[i * 2 + 1] as number, MAX_IO_BYTES - n, data.length - offset - n);
      bytes.set(data.subarray(offset + n, offset + n + len), buf);
      n += len;
    }
    return n;
  }

  /** Writes the iovecs at `offset`; the file grows once, so a quota failure writes nothing. */
  #writeFile(file: File, offset: number, count: number): number {
    let total = 0;
    for (let i = 0; i < count; i++) total += this.#iovs[i * 2 + 1] as number;
    total = Math.min(total, MAX_IO_BYTES);
    if (total === 0) return 0;
    if (offset + total > file.size) file.resize(offset + total);
    const bytes = this.#mem.bytes;
    let n = 0;
    for (let i = 0; i < count && n < total; i++) {
      const buf = this.#iovs[i * 2] as number;
      const len = Math.min(this.#iovs[i * 2 + 1] as number, total - n);
      file.write(offset + n, bytes.subarray(buf, buf + len));
      n += len;
    }
    file.modified();
    return n;
  }

  #filestat(ptr: number, node: Inode | undefined): void {
    const mem = this.#mem;
    mem.check(ptr, FILESTAT_BYTES);
    mem.bytes.fill(0, ptr, ptr + FILESTAT_BYTES);
    if (node === undefined) {
      // stdio: a stream with nothing else to say (see filetypeOf).
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
   * Directory entries from `cookie` on: `.`, `..`, then the names in creation order. The
   * cookie is the next entry's index. The buffer is filled completely (the last entry cut
   * short if it does not fit), which is how the guest knows to call again.
   */
  #readdir(d: DirectoryDescriptor, buf: number, len: number, cookie: bigint): number {
    const mem = this.#mem;
    mem.check(buf, len);
    const dir = d.dir;
    const names = ['.', '..'];
    const start = cookie > BigInt(dir.entries.size + 2) ? dir.entries.size + 2 : Number(cookie);
    const entry = new Uint8Array(DIRENT_BYTES);
    const view = new DataView(entry.buffer);
    let used = 0;
    let index = 0;
    const emit = (name: string, node: Inode): boolean => {
      if (index++ < start) return true;
      const encoded = encoder.encode(name);
      view.setBigUint64(0, BigInt(index), true);
      view.setBigUint64(8, node.ino, true);
      view.setUint32(16, encoded.length, true);
      view.setUint8(20, node.type);
      const bytes = mem.bytes;
      const header = Math.min(DIRENT_BYTES, len - used);
      bytes.set(entry.subarray(0, header), buf + used);
      used += header;
      const tail = Math.min(encoded.length, len - used);
      bytes.set(encoded.subarray(0, tail), buf + used);
      used += tail;
      return used < len;
    };
    if (!emit(names[0] as string, dir)) return used;
    if (!emit(names[1] as string, dir.parent ?? dir)) return used;
    for (const [name, node] of dir.entries) if (!emit(name, node)) return used;
    return used;
  }

  /**
   * `poll_oneoff`: descriptors are always ready (memory never blocks), so a call with any
   * fd subscription returns at once; otherwise it sleeps until the earliest clock, never
   * past the invocation's deadline.
   */
  #poll(inPtr: number, outPtr: number, n: number, neventsPtr: number): number {
    const mem = this.#mem;
    if (n === 0 || n > MAX_SUBSCRIPTIONS) throw new WasiError(Errno.INVAL);
    mem.check(inPtr, n * SUBSCRIPTION_BYTES);
    mem.check(outPtr, n * EVENT_BYTES);
    mem.check(neventsPtr, 4);
    // First pass: validate, find the earliest clock and whether any fd is ready.
    let earliest = Number.POSITIVE_INFINITY;
    let fdReady = false;
    const nowMono = clockNow(ClockId.MONOTONIC);
    const deadlines = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const sub = inPtr + i * SUBSCRIPTION_BYTES;
      const tag = mem.bytes[sub + 8] as number;
      if (tag === EVENTTYPE.CLOCK) {
        const id = mem.u32(sub + 16);
        const timeout = mem.u64(sub + 24);
        const abs = (mem.view.getUint16(sub + 40, true) & SUBCLOCKFLAGS_ABSTIME) !== 0;
        let waitNs: bigint;
        if (id === ClockId.MONOTONIC) waitNs = abs ? timeout - nowMono : timeout;
        else if (id === ClockId.REALTIME) waitNs = abs ? timeout - clockNow(ClockId.REALTIME) : timeout;
        else {
          deadlines[i] = Number.NaN; // reported as an EINVAL event
          fdReady = true;
          continue;
        }
        const ms = waitNs <= 0n ? 0 : Number(waitNs) / 1e6;
        deadlines[i] = ms;
        earliest = Math.min(earliest, ms);
      } else if (tag === EVENTTYPE.FD_READ || tag === EVENTTYPE.FD_WRITE) {
        fdReady = true;
      } else {
        throw new WasiError(Errno.INVAL);
      }
    }
    if (!fdReady && earliest > 0) sleepMs(earliest, this.#deadline);
    // After a sleep the earliest clock is due even if the wait's clock and ours disagree by
    // a microsecond: a poll that slept always reports at least one event.
    const elapsedMs = Math.max(Number(clockNow(ClockId.MONOTONIC) - nowMono) / 1e6, fdReady ? 0 : earliest);
    let events = 0;
    const out = (i: number, type: number, error: number, nbytes: number, flags: number): void => {
      const ev = outPtr + events * EVENT_BYTES;
      mem.bytes.fill(0, ev, ev + EVENT_BYTES);
      mem.setU64(ev, mem.u64(inPtr + i * SUBSCRIPTION_BYTES));
      mem.setU16(ev + 8, error);
      mem.setU8(ev + 10, type);
      mem.setU64(ev + 16, nbytes);
      mem.setU16(ev + 24, flags);
      events++;
    };
    for (let i = 0; i < n; i++) {
      const sub = inPtr + i * SUBSCRIPTION_BYTES;
      const tag = mem.bytes[sub + 8] as number;
      if (tag === EVENTTYPE.CLOCK) {
        const due = deadlines[i] as number;
        if (Number.isNaN(due)) out(i, tag, Errno.INVAL, 0, 0);
        else if (due <= elapsedMs) out(i, tag, Errno.SUCCESS, 0, 0);
        continue;
      }
      let d: Descriptor | undefined;
      try {
        d = this.#fds.get(mem.u32(sub + 16));
      } catch {
        out(i, tag, Errno.BADF, 0, 0);
        continue;
      }
      if (!pollable(d)) out(i, tag, Errno.NOTCAPABLE, 0, 0);
      else out(i, tag, Errno.SUCCESS, readable(d, tag), 0);
    }
    mem.setU32(neventsPtr, events);
    return Errno.SUCCESS;
  }
}

/** Bytes ready to read (for FD_READ on a file, what is left after the position). */
function readable(d: Descriptor, tag: number): number {
  if (tag !== EVENTTYPE.FD_READ) return 0;
  if (d.kind === 'file') return Math.max(0, d.file.size - d.position);
  if (d.kind === 'stdin') return d.data.length - d.position;
  return 0;
}

function filetypeOf(d: Descriptor): number {
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

/** `fstflags`, refusing unknown bits and a time both given and "now" (`EINVAL`). */
function fstflags(value: unknown): number {
  const f = u32(value);
  if ((f & ~0xf) !== 0) throw new WasiError(Errno.INVAL);
  if ((f & FSTFLAGS.ATIM) !== 0 && (f & FSTFLAGS.ATIM_NOW) !== 0) throw new WasiError(Errno.INVAL);
  if ((f & FSTFLAGS.MTIM) !== 0 && (f & FSTFLAGS.MTIM_NOW) !== 0) throw new WasiError(Errno.INVAL);
  return f;
}

function setTimes(node: Inode, atim: bigint, mtim: bigint, flags: number): void {
  const now = clockNow(ClockId.REALTIME);
  if ((flags & FSTFLAGS.ATIM) !== 0) node.atim = atim;
  else if ((flags & FSTFLAGS.ATIM_NOW) !== 0) node.atim = now;
  if ((flags & FSTFLAGS.MTIM) !== 0) node.mtim = mtim;
  else if ((flags & FSTFLAGS.MTIM_NOW) !== 0) node.mtim = now;
  node.ctim = now;
}
