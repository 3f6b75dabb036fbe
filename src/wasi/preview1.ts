import { GuestExit } from '../host/outcome.js';
import { ClockId, clockNow, clockResolution } from './clock.js';
import { Errno, WasiError } from './errno.js';
import {
  type Descriptor,
  type DirectoryDescriptor,
  FdFlags,
  FdTable,
  type FileDescriptor,
  filetypeOf,
} from './fd-table.js';
import { fstflags, setTimes, writeFilestat } from './filestat.js';
import { Iovecs } from './iovecs.js';
import { MAX_LINKS, MAX_RANDOM_BYTES } from './limits.js';
import { Directory, type File, type Inode, Symlink } from './memfs.js';
import { GuestMemory, s64, u32, u64 } from './memory.js';
import { resolvePath } from './path.js';
import { pollOneoff } from './poll.js';
import { fillRandom } from './random.js';
import { readdir } from './readdir.js';
import { DIRECTORY_RIGHTS, FILE_RIGHTS, Rights, rightsFrom, STDIN_RIGHTS, STDOUT_RIGHTS } from './rights.js';
import { DeadlineExceeded } from './sleep.js';

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
const LOOKUP_SYMLINK_FOLLOW = 1;
const WHENCE = { SET: 0, CUR: 1, END: 2 } as const;
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
  /** The iovecs of the current call, validated before any byte moves. */
  readonly #iovs = new Iovecs();

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
        // Checked for type only: advice changes nothing for a file held in memory.
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
        writeFilestat(mem, u32(out), d.kind === 'file' ? d.file : d.kind === 'directory' ? d.dir : undefined);
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
        this.#iovs.load(mem, u32(iovs), u32(len));
        const at = u64(offset);
        mem.check(u32(out), 4);
        const n = at > MAX_FILE_OFFSET ? 0 : this.#readFile(d.file, Number(at));
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_pwrite: (fd: unknown, iovs: unknown, len: unknown, offset: unknown, out: unknown) => {
        const d = this.#writable(u32(fd));
        if (d.kind !== 'file') throw new WasiError(Errno.SPIPE);
        this.#iovs.load(mem, u32(iovs), u32(len));
        const at = u64(offset);
        mem.check(u32(out), 4);
        if (at > MAX_FILE_OFFSET) throw new WasiError(Errno.FBIG);
        // POSIX: pwrite on an O_APPEND descriptor appends (Linux ignores the offset).
        const n = this.#writeFile(d.file, (d.fdflags & FdFlags.APPEND) !== 0 ? d.file.size : Number(at));
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_read: (fd: unknown, iovs: unknown, len: unknown, out: unknown) => {
        const d = this.#readable(u32(fd));
        this.#iovs.load(mem, u32(iovs), u32(len));
        mem.check(u32(out), 4);
        let n = 0;
        if (d.kind === 'file') {
          n = this.#readFile(d.file, d.position);
          d.position += n;
        } else if (d.kind === 'stdin') {
          const { data } = d;
          n = this.#iovs.scatter(mem, (into) => {
            const got = Math.min(into.length, data.length - d.position);
            into.set(data.subarray(d.position, d.position + got));
            d.position += got;
            return got;
          });
        }
        mem.setU32(u32(out), n);
        return Errno.SUCCESS;
      },
      fd_write: (fd: unknown, iovs: unknown, len: unknown, out: unknown) => {
        const d = this.#writable(u32(fd));
        this.#iovs.load(mem, u32(iovs), u32(len));
        mem.check(u32(out), 4);
        let n = 0;
        if (d.kind === 'output') {
          const { stream } = d;
          n = this.#iovs.gather(mem, (bytes) => this.#output(stream, bytes));
        } else if (d.kind === 'file') {
          const at = (d.fdflags & FdFlags.APPEND) !== 0 ? d.file.size : d.position;
          n = this.#writeFile(d.file, at);
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
        const used = readdir(mem, d.dir, u32(buf), u32(len), u64(cookie));
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
        writeFilestat(mem, u32(out), node);
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
        src.parent.move(src.name, dst.parent, dst.name);
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
        // up front (wasi-testsuite's symlink_create expects an error).
        if (target.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE);
        r.parent.makeSymlink(r.name, target);
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

      poll_oneoff: (inPtr: unknown, outPtr: unknown, n: unknown, nevents: unknown) => {
        pollOneoff(mem, fds, u32(inPtr), u32(outPtr), u32(n), u32(nevents), this.#deadline);
        return Errno.SUCCESS;
      },
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

  /** A regular-file descriptor with `right`: a directory is `EBADF`, a missing right `ENOTCAPABLE`, stdio `EINVAL`. */
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

  /** Reads from `file` at `offset` into the loaded iovecs. */
  #readFile(file: File, offset: number): number {
    let at = offset;
    const n = this.#iovs.scatter(this.#mem, (into) => {
      const got = file.read(at, into);
      at += got;
      return got;
    });
    file.atim = clockNow(ClockId.REALTIME);
    return n;
  }

  /** Writes the loaded iovecs to `file` at `offset`; it grows once, so a quota failure writes nothing. */
  #writeFile(file: File, offset: number): number {
    const total = this.#iovs.total();
    if (total === 0) return 0;
    if (offset + total > file.size) file.resize(offset + total);
    let at = offset;
    const n = this.#iovs.gather(this.#mem, (bytes) => {
      file.write(at, bytes);
      at += bytes.length;
    });
    file.modified();
    return n;
  }
}
