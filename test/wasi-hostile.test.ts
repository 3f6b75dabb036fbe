import inspector from 'node:inspector';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { wasiP2Imports } from '../src/component/wasi-p2.js';
import { GuestExit } from '../src/host/outcome.js';
import { DeadlineExceeded, Errno, MemoryFilesystem, Preview1, type WasiOptions } from '../src/wasi/index.js';

/**
 * Hostile WASI calls, one attack per test, run in-process on wasi-lambda's own layer: each
 * asserts the errno the guest gets and that the host is fine afterwards. Every attack here
 * broke node:wasi or @wasmer/wasi (issue #10).
 */

const SIGNATURES: Record<string, string> = {
  proc_raise: '(param i32) (result i32)',
  proc_exit: '(param i32)',
  fd_close: '(param i32) (result i32)',
  fd_write: '(param i32 i32 i32 i32) (result i32)',
  fd_read: '(param i32 i32 i32 i32) (result i32)',
  sock_accept: '(param i32 i32 i32) (result i32)',
  sock_recv: '(param i32 i32 i32 i32 i32 i32) (result i32)',
  sock_send: '(param i32 i32 i32 i32 i32) (result i32)',
  sock_shutdown: '(param i32 i32) (result i32)',
  path_filestat_set_times: '(param i32 i32 i32 i32 i64 i64 i32) (result i32)',
  poll_oneoff: '(param i32 i32 i32 i32) (result i32)',
  random_get: '(param i32 i32) (result i32)',
  path_open: '(param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)',
  path_symlink: '(param i32 i32 i32 i32 i32) (result i32)',
  environ_get: '(param i32 i32) (result i32)',
  environ_sizes_get: '(param i32 i32) (result i32)',
  fd_fdstat_get: '(param i32 i32) (result i32)',
  path_create_directory: '(param i32 i32 i32) (result i32)',
};

const IMPORTS = Object.entries(SIGNATURES)
  .map(([name, sig]) => `(import "wasi_snapshot_preview1" "${name}" (func $${name} ${sig}))`)
  .join('\n');

interface Guest {
  /** Calls the guest's `go`, which returns the errno of the attack. */
  go(): number;
  memory: WebAssembly.Memory;
  /** What the guest wrote to stdout/stderr. */
  output: string[];
}

/** A command module whose exported `go` runs `body` with every WASI import above declared. */
async function guest(body: string, options: Partial<WasiOptions> = {}, pages = 1, data = ''): Promise<Guest> {
  const wat = `(module ${IMPORTS} (memory (export "memory") ${pages}) ${data}
    (func (export "go") (result i32) ${body}))`;
  const module = await WebAssembly.compile((await parse(wat)) as Uint8Array<ArrayBuffer>);
  const output: string[] = [];
  const wasi = new Preview1({
    args: ['hostile'],
    env: {},
    output: (stream, bytes) => output.push(`${stream}:${Buffer.from(bytes).toString()}`),
    ...options,
  });
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.imports });
  const memory = instance.exports.memory as WebAssembly.Memory;
  wasi.bind(memory);
  return { go: instance.exports.go as () => number, memory, output };
}

/** `fd_write(1, iovs=16, 1, nwritten=8)` of "hi\n" placed at 64. */
const WRITE_HI = `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 3))
  (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8))`;
const HI = '(data (i32.const 64) "hi\\n")';

describe('hostile WASI calls on our own preview1 layer', () => {
  it.each([
    ['SIGKILL', 9],
    ['SIGUSR1', 10],
    ['SIGSTOP', 18],
  ])('proc_raise(%s) is ENOTSUP and delivers nothing: the process lives, no inspector opens', async (_, sig) => {
    const g = await guest(`(call $proc_raise (i32.const ${sig}))`);
    expect(g.go()).toBe(Errno.NOTSUP);
    expect(inspector.url()).toBeUndefined();
    expect(process.kill(process.pid, 0)).toBe(true);
  });

  it("fd_close(0..2) closes only this guest's stdio; the next instance still writes stdout", async () => {
    const first = await guest(
      `
      (drop (call $fd_close (i32.const 0))) (drop (call $fd_close (i32.const 1))) (drop (call $fd_close (i32.const 2)))
      ${WRITE_HI}`,
      {},
      1,
      HI,
    );
    expect(first.go()).toBe(Errno.BADF);
    expect(first.output).toEqual([]);
    const second = await guest(WRITE_HI, {}, 1, HI);
    expect(second.go()).toBe(Errno.SUCCESS);
    expect(second.output).toEqual(['stdout:hi\n']);
  });

  it('sock_* on stdio is ENOTSOCK, on a closed fd EBADF, touching nothing real', async () => {
    for (const fd of [0, 1, 2]) {
      expect((await guest(`(call $sock_accept (i32.const ${fd}) (i32.const 0) (i32.const 8))`)).go()).toBe(
        Errno.NOTSOCK,
      );
      expect(
        (
          await guest(
            `(call $sock_recv (i32.const ${fd}) (i32.const 16) (i32.const 1) (i32.const 0) (i32.const 8) (i32.const 12))`,
          )
        ).go(),
      ).toBe(Errno.NOTSOCK);
      expect(
        (
          await guest(`(call $sock_send (i32.const ${fd}) (i32.const 16) (i32.const 1) (i32.const 0) (i32.const 8))`)
        ).go(),
      ).toBe(Errno.NOTSOCK);
      expect((await guest(`(call $sock_shutdown (i32.const ${fd}) (i32.const 3))`)).go()).toBe(Errno.NOTSOCK);
    }
    expect((await guest('(call $sock_shutdown (i32.const 77) (i32.const 3))')).go()).toBe(Errno.BADF);
  });

  it('path_filestat_set_times with invalid flags is EINVAL, and the next call works', async () => {
    const fs = new MemoryFilesystem();
    const call = (flags: number) =>
      `(call $path_filestat_set_times (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 1) (i64.const 5) (i64.const 7) (i32.const ${flags}))`;
    const bad = await guest(call(1 | 2), { preopens: { '/tmp': fs.root } }, 1, '(data (i32.const 100) ".")');
    expect(bad.go()).toBe(Errno.INVAL);
    expect((await guest(call(0xff), { preopens: { '/tmp': fs.root } }, 1, '(data (i32.const 100) ".")')).go()).toBe(
      Errno.INVAL,
    );
    const good = await guest(call(4), { preopens: { '/tmp': fs.root } }, 1, '(data (i32.const 100) ".")');
    expect(good.go()).toBe(Errno.SUCCESS);
    expect(fs.root.mtim).toBe(7n);
  });

  /** One relative monotonic clock subscription of `ns` at 0; the event goes to 64. */
  const sleep = (ns: bigint) => `
    (i32.store8 (i32.const 8) (i32.const 0)) (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const ${ns}))
    (call $poll_oneoff (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 200))`;

  it('poll_oneoff sleeps 50 ms for real', async () => {
    const g = await guest(sleep(50_000_000n));
    const start = performance.now();
    expect(g.go()).toBe(Errno.SUCCESS);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(elapsed).toBeLessThan(500);
    expect(new DataView(g.memory.buffer).getUint32(200, true)).toBe(1);
  });

  it('poll_oneoff blocks the thread instead of spinning', async () => {
    const g = await guest(sleep(300_000_000n));
    const cpu = process.cpuUsage();
    expect(g.go()).toBe(Errno.SUCCESS);
    const used = process.cpuUsage(cpu);
    // A spinning sleep burns ~300 ms of CPU; blocking burns next to none (the bound leaves
    // room for the rest of the process: GC, the test runner's threads).
    expect((used.user + used.system) / 1000).toBeLessThan(100);
  });

  it('a sleep past the deadline throws DeadlineExceeded at the deadline', async () => {
    let deadline = 0;
    const g = await guest(sleep(10_000_000_000n), { deadline: () => deadline });
    deadline = Date.now() + 100;
    const start = performance.now();
    expect(() => g.go()).toThrow(DeadlineExceeded);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1000);
  });

  it('random_get of 2 GiB is EINVAL at once, without allocating it', async () => {
    const g = await guest('(call $random_get (i32.const 0) (i32.const 0x80000000))');
    const rss = process.memoryUsage().rss;
    const start = performance.now();
    expect(g.go()).toBe(Errno.INVAL);
    expect(performance.now() - start).toBeLessThan(50);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
    const fill = await guest('(call $random_get (i32.const 0) (i32.const 1024))');
    expect(fill.go()).toBe(Errno.SUCCESS);
    expect(new Uint8Array(fill.memory.buffer, 0, 1024).some((b) => b !== 0)).toBe(true);
    // Within the cap but outside memory: EFAULT, nothing written anywhere.
    expect((await guest('(call $random_get (i32.const 0xfff0) (i32.const 0x20))')).go()).toBe(Errno.FAULT);
  });

  it('fd_write with 10 million iovecs is EINVAL at once', async () => {
    const g = await guest('(call $fd_write (i32.const 1) (i32.const 0) (i32.const 10000000) (i32.const 8))');
    const start = performance.now();
    expect(g.go()).toBe(Errno.INVAL);
    expect(performance.now() - start).toBeLessThan(50);
    expect(g.output).toEqual([]);
  });

  it('iovs_len whose count * 8 wraps 32 bits is refused, not read as 8 bytes', async () => {
    const g = await guest(
      `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 3))
      (call $fd_write (i32.const 1) (i32.const 16) (i32.const 0x20000001) (i32.const 8))`,
      {},
      1,
      HI,
    );
    expect(g.go()).toBe(Errno.INVAL);
    expect(g.output).toEqual([]);
  });

  it('pointers with the high bit set, or iovecs that wrap, are EFAULT and nothing is written', async () => {
    expect(
      (await guest('(call $fd_write (i32.const 1) (i32.const 0x80000000) (i32.const 1) (i32.const 8))')).go(),
    ).toBe(Errno.FAULT);
    expect(
      (await guest('(call $fd_write (i32.const 1) (i32.const 16) (i32.const 0) (i32.const 0xfffffffe))')).go(),
    ).toBe(Errno.FAULT);
    // The first iovec is fine, the second wraps around 2^32: nothing may be written.
    const g = await guest(
      `(i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 3))
      (i32.store (i32.const 24) (i32.const 0xfffffff0)) (i32.store (i32.const 28) (i32.const 0x20))
      (call $fd_write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 8))`,
      {},
      1,
      HI,
    );
    expect(g.go()).toBe(Errno.FAULT);
    expect(g.output).toEqual([]);
  });

  it('a /tmp over its quota is ENOSPC, in bytes and in files, and the host holds no more', async () => {
    const fs = new MemoryFilesystem({ maxBytes: 64 * 1024, maxFiles: 4 });
    const preopens = { '/tmp': fs.root };
    // open "f" (O_CREAT) at fd 4, then write 128 KiB from address 0.
    const open = (name: number) =>
      `(call $path_open (i32.const 3) (i32.const 0) (i32.const ${name}) (i32.const 1) (i32.const 1) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 300))`;
    const big = await guest(
      `(drop ${open(400)})
      (i32.store (i32.const 16) (i32.const 0)) (i32.store (i32.const 20) (i32.const 131072))
      (call $fd_write (i32.load (i32.const 300)) (i32.const 16) (i32.const 1) (i32.const 8))`,
      { preopens },
      4,
      '(data (i32.const 400) "f")',
    );
    expect(big.go()).toBe(Errno.NOSPC);
    expect(fs.usedBytes).toBeLessThanOrEqual(64 * 1024);
    const many = await guest(
      `(drop ${open(401)}) (drop ${open(402)}) (drop ${open(403)}) ${open(404)}`,
      { preopens },
      1,
      '(data (i32.const 401) "abcd")',
    );
    expect(many.go()).toBe(Errno.NOSPC);
    expect(fs.usedFiles).toBe(4);
  });

  it('names and symlink targets count against the quota: empty entries cannot fill host memory', async () => {
    const fs = new MemoryFilesystem({ maxBytes: 64 * 1024 });
    // Symlinks "A", "B", … each to a 4,000-byte target, until one fails.
    const g = await guest(
      `(local $i i32) (local $r i32)
      (memory.fill (i32.const 200) (i32.const 97) (i32.const 4000))
      (loop $l
        (i32.store8 (i32.const 100) (i32.add (i32.const 65) (local.get $i)))
        (local.set $r (call $path_symlink (i32.const 200) (i32.const 4000) (i32.const 3) (i32.const 100) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.and (i32.eqz (local.get $r)) (i32.lt_u (local.get $i) (i32.const 50)))))
      (local.get $r)`,
      { preopens: { '/tmp': fs.root } },
    );
    expect(g.go()).toBe(Errno.NOSPC);
    expect(fs.usedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(fs.root.entries.size).toBeLessThan(17);
  });

  it('quota accounting returns to empty once a guest removes what it made: nothing to ratchet', () => {
    const fs = new MemoryFilesystem({ maxBytes: 2 ** 20, maxFiles: 100 });
    const wasi = new Preview1({ args: [], env: {}, output: () => {}, preopens: { '/tmp': fs.root } });
    const memory = new WebAssembly.Memory({ initial: 1 });
    wasi.bind(memory);
    const bytes = new Uint8Array(memory.buffer);
    let at = 1024;
    /** Puts `text` in memory and returns [ptr, len]. */
    const str = (text: string): [number, number] => {
      const encoded = Buffer.from(text);
      bytes.set(encoded, at);
      at += encoded.length;
      return [at - encoded.length, encoded.length];
    };
    const call = (name: string, ...args: unknown[]) => (wasi.imports[name] as (...a: unknown[]) => number)(...args);
    const open = (path: string) => {
      expect(call('path_open', 3, 0, ...str(path), 1, -1n, -1n, 0, 0)).toBe(Errno.SUCCESS);
      return new DataView(memory.buffer).getUint32(0, true);
    };
    const empty = { bytes: fs.usedBytes, files: fs.usedFiles };
    expect(call('path_create_directory', 3, ...str('dir'))).toBe(Errno.SUCCESS);
    const fd = open('dir/file');
    new DataView(memory.buffer).setUint32(16, 64, true);
    new DataView(memory.buffer).setUint32(20, 1000, true);
    expect(call('fd_write', fd, 16, 1, 8)).toBe(Errno.SUCCESS);
    expect(call('path_link', 3, 0, ...str('dir/file'), 3, ...str('hard'))).toBe(Errno.SUCCESS);
    expect(call('path_symlink', ...str('dir/file'), 3, ...str('soft'))).toBe(Errno.SUCCESS);
    expect(call('path_rename', 3, ...str('hard'), 3, ...str('a-much-longer-name-than-before'))).toBe(Errno.SUCCESS);
    expect(call('path_rename', 3, ...str('soft'), 3, ...str('dir/soft'))).toBe(Errno.SUCCESS);
    expect(fs.usedBytes).toBeGreaterThan(empty.bytes + 1000);
    // Unlinked while open: the bytes stay until the descriptor closes.
    expect(call('path_unlink_file', 3, ...str('dir/file'))).toBe(Errno.SUCCESS);
    expect(call('path_unlink_file', 3, ...str('a-much-longer-name-than-before'))).toBe(Errno.SUCCESS);
    expect(fs.usedBytes).toBeGreaterThan(empty.bytes + 1000);
    expect(call('fd_close', fd)).toBe(Errno.SUCCESS);
    expect(call('path_unlink_file', 3, ...str('dir/soft'))).toBe(Errno.SUCCESS);
    expect(call('path_remove_directory', 3, ...str('dir'))).toBe(Errno.SUCCESS);
    expect({ bytes: fs.usedBytes, files: fs.usedFiles }).toEqual(empty);
  });

  it('neither .. nor a symlink (absolute or relative) leads out of a preopen', async () => {
    const fs = new MemoryFilesystem();
    fs.root.makeDirectory('sub');
    const preopens = { '/tmp': fs.root };
    const data =
      '(data (i32.const 100) "../etc/passwd") (data (i32.const 120) "/etc/passwd") (data (i32.const 140) "link") (data (i32.const 150) "../../x")';
    const open = (ptr: number, len: number) =>
      `(call $path_open (i32.const 3) (i32.const 1) (i32.const ${ptr}) (i32.const ${len}) (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 300))`;
    expect((await guest(open(100, 13), { preopens }, 1, data)).go()).toBe(Errno.NOTCAPABLE);
    expect((await guest(open(120, 11), { preopens }, 1, data)).go()).toBe(Errno.NOTCAPABLE);
    expect(
      (
        await guest(
          '(call $path_symlink (i32.const 120) (i32.const 11) (i32.const 3) (i32.const 140) (i32.const 4))',
          { preopens },
          1,
          data,
        )
      ).go(),
    ).toBe(Errno.NOTCAPABLE);
    expect(
      (
        await guest(
          '(call $path_symlink (i32.const 150) (i32.const 7) (i32.const 3) (i32.const 140) (i32.const 4))',
          { preopens },
          1,
          data,
        )
      ).go(),
    ).toBe(Errno.SUCCESS);
    expect((await guest(open(140, 4), { preopens }, 1, data)).go()).toBe(Errno.NOTCAPABLE);
  });

  it('environ_get shows only the given environment, never the host process’s', async () => {
    process.env.WASI_HOSTILE_SECRET = 'host only';
    try {
      const g = await guest(
        `(drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
        (call $environ_get (i32.const 16) (i32.const 64))`,
        { env: { A: '1' } },
      );
      expect(g.go()).toBe(Errno.SUCCESS);
      const view = new DataView(g.memory.buffer);
      expect(view.getUint32(0, true)).toBe(1);
      expect(view.getUint32(4, true)).toBe(4);
      expect(Buffer.from(g.memory.buffer, 64, 8).toString('latin1')).toBe('A=1\0\0\0\0\0');
    } finally {
      delete process.env.WASI_HOSTILE_SECRET;
    }
  });

  it('a 1 GiB path argument is ENAMETOOLONG before a byte of it is decoded', async () => {
    const fs = new MemoryFilesystem();
    const g = await guest('(call $path_create_directory (i32.const 3) (i32.const 0) (i32.const 0x40000000))', {
      preopens: { '/tmp': fs.root },
    });
    const start = performance.now();
    expect(g.go()).toBe(Errno.NAMETOOLONG);
    expect(performance.now() - start).toBeLessThan(50);
  });

  it('memory grown mid-run is seen: the cached views are refreshed, never read stale', async () => {
    const g = await guest(
      `${WRITE_HI} (drop)
      (drop (memory.grow (i32.const 1)))
      (i32.store (i32.const 65600) (i32.const 0x000a6968))
      (i32.store (i32.const 16) (i32.const 65600)) (i32.store (i32.const 20) (i32.const 3))
      (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 65700))`,
      {},
      1,
      HI,
    );
    expect(g.go()).toBe(Errno.SUCCESS);
    expect(g.output).toEqual(['stdout:hi\n', 'stdout:hi\n']);
    expect(new DataView(g.memory.buffer).getUint32(65700, true)).toBe(3);
  });

  it('stdio is not a terminal, so a guest does not colour its log', async () => {
    const g = await guest('(call $fd_fdstat_get (i32.const 1) (i32.const 32))');
    expect(g.go()).toBe(Errno.SUCCESS);
    expect(new Uint8Array(g.memory.buffer)[32]).toBe(0); // FILETYPE_UNKNOWN, not CHARACTER_DEVICE
  });

  it('every preview1 import is total: garbage arguments get an errno, never a host exception', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    // A fresh guest per round: with its fds closed and renumbered by the round before, the
    // calls would stop at EBADF.
    const fresh = () => {
      const fs = new MemoryFilesystem({ maxBytes: 2 ** 20, maxFiles: 64 });
      fs.root.makeDirectory('d').makeFile('f').write(0, new Uint8Array(10));
      fs.root.makeDirectory('e');
      fs.root.makeSymlink('s', 'd/f');
      const wasi = new Preview1({
        args: ['a'],
        env: { K: 'V' },
        output: () => {},
        preopens: { '/tmp': fs.root },
        deadline: () => Date.now(),
      });
      wasi.bind(memory);
      // fd 4: the file d/f (its path is at 8, see below), so file calls have a file.
      writePaths();
      const open = wasi.imports.path_open as (...args: unknown[]) => number;
      expect(open(3, 0, 8, 3, 0, -1n, -1n, 0, 65_532)).toBe(Errno.SUCCESS);
      return wasi;
    };
    // mulberry32: a seeded PRNG whose low bits are as random as its high ones.
    let seed = 42;
    const next = () => {
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    const bytes = new Uint8Array(memory.buffer);
    const edges = [0xffffffff, -1, 65_535, 65_536, 0x80000000, 0];
    // Mostly plausible values (small fds and flags, in-memory pointers and lengths) so the
    // calls get past their first check, with edge cases, 64-bit values and missing ones.
    const value = (): unknown => {
      const r = next() % 20;
      if (r === 0) return BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next()));
      if (r === 1) return next() | 0;
      if (r === 2) return undefined;
      if (r === 3) return edges[next() % edges.length];
      if (r < 10) return next() % 6;
      if (r < 14) return next() % 64;
      return next() % 65_536;
    };
    const paths = ['d', 'd/f', '.', '..', 'd/../d/f', 'x', 'd/'];
    const writePaths = () =>
      paths.forEach((p, i) => {
        bytes.set(Buffer.from(p), i * 8);
      });
    writePaths();
    const names = Object.keys(fresh().imports);
    expect(names).toHaveLength(46);
    const outcomes = new Set<string>();
    for (let round = 0; round < 600; round++) {
      // Random memory, or zeros (empty iovecs, clock subscriptions due now), with a few
      // real paths at small addresses.
      if (round % 4 === 0) bytes.fill(0);
      else for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      writePaths();
      const wasi = fresh();
      for (const name of names) {
        const fn = wasi.imports[name] as (...args: unknown[]) => unknown;
        const args = Array.from({ length: 9 }, value);
        try {
          const result = fn(...args);
          expect(typeof result, name).toBe('number');
          expect(result as number, name).toBeLessThanOrEqual(76);
          outcomes.add(`${name}:${result}`);
        } catch (err) {
          if (name === 'proc_exit') expect(err).toBeInstanceOf(GuestExit);
          else expect(err, name).toBeInstanceOf(DeadlineExceeded);
        }
      }
    }
    // The calls got past their argument checks: all but the ones that cannot succeed
    // (sockets, signals, exit) and the path calls (below) succeeded at least once.
    const never = ['proc_exit', 'proc_raise', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown'];
    const pathCalls = names.filter((n) => n.startsWith('path_'));
    const missing = names.filter((n) => !outcomes.has(`${n}:0`) && !never.includes(n) && !pathCalls.includes(n));
    expect(missing).toEqual([]);

    // Path calls with real paths (random components, up to 400 bytes) on fd 3, the
    // descriptor of a directory holding d/f, and random other arguments.
    const parts = ['d', 'f', 'd/f', '..', '.', '', 'e', 's', 'x', 'y/', 'l'.repeat(300)];
    const randomPath = () => Array.from({ length: 1 + (next() % 3) }, () => parts[next() % parts.length]).join('/');
    for (let round = 0; round < 3000; round++) {
      const wasi = fresh();
      const name = pathCalls[next() % pathCalls.length] as string;
      const path = randomPath();
      const encoded = Buffer.from(path);
      const second = Buffer.from(randomPath());
      bytes.set(encoded, 1024);
      bytes.set(second, 2048);
      const fn = wasi.imports[name] as (...args: unknown[]) => unknown;
      const args = Array.from({ length: 9 }, () => next() % 4);
      // fd 3 and the path (at 1024 and 2048) where each call takes them.
      const layout: Record<string, number[]> = {
        path_create_directory: [3, 1024, encoded.length],
        path_filestat_get: [3, args[1] as number, 1024, encoded.length, 4096],
        path_filestat_set_times: [
          3,
          args[1] as number,
          1024,
          encoded.length,
          0n as never,
          0n as never,
          args[6] as number,
        ],
        path_link: [3, args[1] as number, 1024, encoded.length, 3, 2048, second.length],
        path_open: [3, args[1] as number, 1024, encoded.length, next() % 16, -1n as never, -1n as never, 0, 4096],
        path_readlink: [3, 1024, encoded.length, 4096, next() % 64, 8192],
        path_remove_directory: [3, 1024, encoded.length],
        path_rename: [3, 1024, encoded.length, 3, 2048, second.length],
        path_symlink: [1024, encoded.length, 3, 2048, second.length],
        path_unlink_file: [3, 1024, encoded.length],
      };
      const result = fn(...(layout[name] ?? args));
      expect(typeof result, `${name}(${path}, ${second})`).toBe('number');
      outcomes.add(`${name}:${result}`);
    }
    expect(pathCalls.filter((n) => !outcomes.has(`${n}:0`))).toEqual([]);
  });

  it('proc_exit unwinds with GuestExit and the status', async () => {
    const g = await guest('(call $proc_exit (i32.const 42)) (i32.const 0)');
    expect(() => g.go()).toThrow(GuestExit);
    try {
      g.go();
    } catch (err) {
      expect((err as GuestExit).exitCode).toBe(42);
    }
  });
});

describe('the component backend’s WASI 0.2 imports follow the same policy', () => {
  const p2 = (deadline?: () => number | undefined) => {
    const written: string[] = [];
    const imports = wasiP2Imports({
      env: { A: '1' },
      args: ['h'],
      write: (stream, bytes) => written.push(`${stream}:${Buffer.from(bytes).toString()}`),
      deadline,
    });
    const fn = <T>(iface: string, name: string) => (imports[iface] as Record<string, T>)[name] as T;
    return { imports, written, fn };
  };

  it('get-random-bytes is bounded per call, refused before allocating', () => {
    const { fn } = p2();
    const get = fn<(len: bigint) => Uint8Array>('wasi:random/random', 'getRandomBytes');
    expect(get(1024n).some((b) => b !== 0)).toBe(true);
    const rss = process.memoryUsage().rss;
    expect(() => get(2n ** 31n)).toThrow(/at most 16777216 per call/);
    expect(() => get(2n ** 63n)).toThrow(/at most/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
  });

  it('stdout goes to the log, and a write past check-write traps instead of allocating', () => {
    const { fn, written } = p2();
    const stdout = fn<() => { write(b: Uint8Array): void; writeZeroes(n: bigint): void }>(
      'wasi:cli/stdout',
      'getStdout',
    )();
    stdout.write(Buffer.from('hello\n'));
    expect(written).toEqual(['stdout:hello\n']);
    expect(() => stdout.writeZeroes(2n ** 40n)).toThrow(/check-write allowed/);
  });

  it('a sleep is honoured, and one past the deadline throws DeadlineExceeded at the deadline', () => {
    let deadline: number | undefined;
    const { fn } = p2(() => deadline);
    type Pollable = { block(): void };
    const subscribe = fn<(ns: bigint) => Pollable>('wasi:clocks/monotonic-clock', 'subscribeDuration');
    const poll = fn<(list: Pollable[]) => Uint32Array>('wasi:io/poll', 'poll');
    let start = performance.now();
    expect([...poll([subscribe(50_000_000n), subscribe(10_000_000_000n)])]).toEqual([0]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(49);
    deadline = Date.now() + 100;
    start = performance.now();
    expect(() => subscribe(10_000_000_000n).block()).toThrow(DeadlineExceeded);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1000);
  });

  it('offers no sockets and no directories', () => {
    const { imports, fn } = p2();
    expect(Object.keys(imports).filter((i) => i.startsWith('wasi:sockets'))).toEqual([]);
    expect(fn<() => unknown[]>('wasi:filesystem/preopens', 'getDirectories')()).toEqual([]);
  });
});
