import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionHost } from '../src/host/function-host.js';
import { MAX_IN_FLIGHT, MAX_OUTSTANDING, WorkerOutbound } from '../src/host/guest-outbound.js';
import { HttpBridge } from '../src/host/http-bridge.js';
import { loadHost } from '../src/host/load-host.js';
import type { InvokeOutcome } from '../src/host/outcome.js';
import { parseEgressPolicy } from '../src/outbound/egress-policy.js';
import { decode, encode, testContext } from './support/handlers.js';
import { ABI_MARKER } from './support/wat.js';

/** The worker bundle the global setup built; the TypeScript sources cannot run as a worker. */
const WORKER = resolve('dist/guest-worker.mjs');
const HTTP = 'wasi-lambda:handler/http@0.2.0';

interface Server {
  port: number;
  /** Request paths received, in order. */
  seen: string[];
  /** The body size of each request received, in order. */
  bodies: number[];
  /** Requests whose connection closed before they were answered. */
  abandoned: string[];
  close(): Promise<void>;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** `/hang…` is never answered; `/slow…` after 300 ms; anything else at once with its path. */
async function serve(): Promise<Server> {
  const seen: string[] = [];
  const bodies: number[] = [];
  const abandoned: string[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    seen.push(path);
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => {
      bodies.push(size);
      if (path.startsWith('/hang')) return;
      if (path.startsWith('/slow')) setTimeout(() => res.end(`late ${path}`), 300).unref();
      else res.end(`answer ${path}`);
    });
    res.on('close', () => {
      if (!res.writableFinished) abandoned.push(path);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const running: Server = {
    port: (server.address() as AddressInfo).port,
    seen,
    bodies,
    abandoned,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  cleanup.push(() => running.close());
  return running;
}

/** WAT string literal for `text` (ASCII, or bytes given as `\hh` escapes already). */
const lit = (text: string) => `"${text.replace(/"/g, '\\"')}"`;

/**
 * A hand-written guest that speaks `wasi-lambda:handler/http` through the raw core ABI. Strings
 * it needs sit in data segments (`strings`, at 1024 + 256·i); `handle`'s body is the test's. The
 * first byte of the event is at hand as `(call $event)`. Helpers:
 * - `(call $get (url index))`: sends GET, returns the handle or -1 (the error is at 516);
 * - `(call $reply_take (handle))`: takes the handle and replies with its body or error code;
 * - `(call $reply_send_error)`: replies with the last send's error code;
 * - `(call $reply (ptr) (len))`.
 * `cabi_realloc` is a bump allocator that adds `$skew` to every pointer it hands out with an
 * alignment above 1 (a misaligning guest when the test sets it), after running `reallocPrologue`.
 */
async function guest(
  strings: string[],
  handleBody: string,
  skew = 0,
  pages = 20,
  heap = (pages - 16) * 65536,
  reallocPrologue = '',
): Promise<string> {
  const data = strings.map((s, i) => `(data (i32.const ${1024 + 256 * i}) ${lit(s)})`).join('\n');
  const wat = `(module ${ABI_MARKER}
    (import "${HTTP}" "send" (func $send (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
    (import "${HTTP}" "wait" (func $wait (param i32 i32 i32 i32 i32)))
    (import "${HTTP}" "take" (func $take (param i32 i32)))
    (import "${HTTP}" "forget" (func $forget (param i32)))
    (memory (export "memory") ${pages})
    (global $bump (mut i32) (i32.const ${heap}))
    (global $args (mut i32) (i32.const 0))
    (global $reenter (mut i32) (i32.const 0))
    ${data}
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      ${reallocPrologue}
      (local.set $p (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
      (if (i32.gt_u (local.get 2) (i32.const 1)) (then (local.set $p (i32.add (local.get $p) (i32.const ${skew})))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func $event (result i32) (i32.load8_u (i32.load (global.get $args))))
    (func $len (param $s i32) (result i32)
      (local $n i32)
      (block $done (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
      (local.get $n))
    (func $get (param $u i32) (result i32)
      (local $url i32)
      (local.set $url (i32.add (i32.const 1024) (i32.mul (local.get $u) (i32.const 256))))
      (call $send (i32.const 1000) (i32.const 3) (local.get $url) (call $len (local.get $url))
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 512))
      (if (result i32) (i32.load8_u (i32.const 512)) (then (i32.const -1)) (else (i32.load (i32.const 516)))))
    (func $request (param $m i32) (param $ml i32) (param $u i32) (param $ul i32) (param $hp i32) (param $hl i32)
        (param $bp i32) (param $bl i32) (result i32)
      (call $send (local.get $m) (local.get $ml) (local.get $u) (local.get $ul) (local.get $hp) (local.get $hl)
        (i32.ne (local.get $bl) (i32.const -1)) (local.get $bp) (local.get $bl) (i32.const 0) (i32.const 0) (i32.const 512))
      (if (result i32) (i32.load8_u (i32.const 512))
        (then (call $reply_send_error))
        (else (call $reply_take (i32.load (i32.const 516))))))
    (func $reply (param $ptr i32) (param $len i32) (result i32)
      (i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 68) (local.get $ptr))
      (i32.store (i32.const 72) (local.get $len))
      (i32.const 64))
    (func $reply_send_error (result i32) (call $reply (i32.load (i32.const 516)) (i32.load (i32.const 520))))
    (func $reply_take (param $h i32) (result i32)
      (call $take (local.get $h) (i32.const 600))
      (if (result i32) (i32.load8_u (i32.const 600))
        (then (call $reply (i32.load (i32.const 604)) (i32.load (i32.const 608))))
        (else (call $reply (i32.load (i32.const 616)) (i32.load (i32.const 620))))))
    (data (i32.const 1000) "GET")
    (func (export "cabi_post_handle") (param i32))
    (func (export "handle") (param $args i32) (result i32)
      (local $h i32) (local $i i32)
      (global.set $args (local.get $args))
      ${handleBody})
  )`;
  const bytes = (await parse(wat)) as Uint8Array;
  const path = join(mkdtempSync(join(tmpdir(), 'http-hostile-')), 'guest.wasm');
  writeFileSync(path, bytes);
  return path;
}

/** A worker-isolated host of `module` granted `grants`, its log in a file. */
async function worker(module: string, grants: string[]) {
  const logPath = join(mkdtempSync(join(tmpdir(), 'http-hostile-log-')), 'log');
  const fd = openSync(logPath, 'w');
  const host = await loadHost({
    guest: { kind: 'core', path: module },
    options: {},
    isolation: 'worker',
    logFd: fd,
    workerUrl: WORKER,
    allowHosts: parseEgressPolicy(grants, 'test'),
  });
  cleanup.push(async () => {
    await host.close?.();
    closeSync(fd);
  });
  return { host, log: () => readFileSync(logPath, 'utf8') };
}

const invoke = (host: FunctionHost, event: string, deadlineInMs = 3000) =>
  host.invoke(encode(event), testContext({ deadlineMs: Date.now() + deadlineInMs }));

function text(outcome: InvokeOutcome): string {
  if (outcome.status !== 'ok') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return decode(outcome.response);
}

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((done) => setTimeout(done, 10));
};

describe('a guest that misuses the http import fails its own invocation only', () => {
  it('traps (Runtime.AbiViolation) when cabi_realloc misaligns the lists `wait` and `take` return; aligned, the same guest is answered', async () => {
    const server = await serve();
    // Event "1": wait on the handle (lowers the ready list through the skewed realloc); "2": take.
    const body = `(local.set $h (call $get (i32.const 0)))
      (if (i32.eq (call $event) (i32.const 0x31)) (then
        (i32.store (i32.const 800) (local.get $h))
        (call $wait (i32.const 800) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 808))))
      (call $reply_take (local.get $h))`;
    const aligned = await guest([`http://127.0.0.1:${server.port}/a`], body);
    const skewed = await guest([`http://127.0.0.1:${server.port}/a`], body, 1);
    const grant = [`127.0.0.1:${server.port}`];
    expect(text(await invoke((await worker(aligned, grant)).host, '1'))).toBe('answer /a');
    const { host } = await worker(skewed, grant);
    for (const event of ['1', '2']) {
      expect(await invoke(host, event)).toMatchObject({
        status: 'error',
        kind: 'runtime',
        error: { errorType: 'Runtime.AbiViolation', errorMessage: expect.stringMatching(/aligned/) },
      });
    }
  });

  it.each([
    [
      'a misaligned return area for send',
      '(call $send (i32.const 1000) (i32.const 3) (i32.const 1024) (i32.const 10) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 514)) (i32.const 64)',
    ],
    [
      'a misaligned header list for send',
      '(call $send (i32.const 1000) (i32.const 3) (i32.const 1024) (i32.const 10) (i32.const 2050) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 512)) (i32.const 64)',
    ],
    [
      'a misaligned handle list for wait',
      '(call $wait (i32.const 801) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 808)) (i32.const 64)',
    ],
    [
      'a misaligned return area for wait',
      '(call $wait (i32.const 800) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 806)) (i32.const 64)',
    ],
    ['a misaligned return area for take', '(call $take (i32.const 1) (i32.const 602)) (i32.const 64)'],
  ])('traps on %s before anything is sent', async (_what, body) => {
    const server = await serve();
    const { host } = await worker(await guest(['http://127.0.0.1:1/x'], body), [`127.0.0.1:${server.port}`]);
    expect(await invoke(host, '1')).toMatchObject({
      status: 'error',
      kind: 'runtime',
      error: { errorType: 'Runtime.AbiViolation', errorMessage: expect.stringMatching(/aligned/) },
    });
    expect(server.seen).toEqual([]);
  });
});

/**
 * Every abandoned request that reached the server had its connection closed: nothing is left
 * running on the host. (Only 16 reach it at once, the per-origin pool's size; the rest were
 * cancelled while queued.)
 */
async function everyHangClosed(server: Server, path = '/hang') {
  const hung = () => server.seen.filter((seen) => seen === path);
  await until(() => server.abandoned.length === hung().length);
  expect(hung().length).toBeGreaterThan(0);
  expect(server.abandoned).toEqual(hung());
}

describe('a cabi_realloc that misbehaves while the host lowers into it', () => {
  it('grows memory on every call: the host writes through the new buffer, and the answer is whole', async () => {
    const server = await serve();
    const module = await guest(
      [`http://127.0.0.1:${server.port}/grown`],
      '(call $reply_take (call $get (i32.const 0)))',
      0,
      20,
      undefined,
      '(drop (memory.grow (i32.const 1)))',
    );
    const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
    for (let i = 0; i < 3; i++) expect(text(await invoke(host, '1'))).toBe('answer /grown');
  });

  it.each([
    ['take', '(call $take (i32.const 1) (i32.const 600))'],
    ['send', '(drop (call $get (i32.const 0)))'],
    ['forget', '(call $forget (i32.const 1))'],
  ])(
    'calls http %s from inside it: Runtime.AbiViolation, as the canonical ABI forbids re-entry',
    async (name, call) => {
      const server = await serve();
      // Re-enters only while taking (the global is set around the outer take).
      const module = await guest(
        [`http://127.0.0.1:${server.port}/re`],
        `(local.set $h (call $get (i32.const 0)))
        (global.set $reenter (i32.const 1))
        (call $reply_take (local.get $h))`,
        0,
        20,
        undefined,
        `(if (global.get $reenter) (then (global.set $reenter (i32.const 0)) ${call}))`,
      );
      const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
      expect(await invoke(host, '1')).toMatchObject({
        status: 'error',
        kind: 'runtime',
        error: {
          errorType: 'Runtime.AbiViolation',
          errorMessage: `the guest called http ${name} from inside cabi_realloc`,
        },
      });
    },
  );
});

describe('requests in flight end with their invocation', () => {
  /** Event "1": sends MAX_IN_FLIGHT requests to /hang and returns without taking them. Else: GET /next. */
  async function abandoning(port: number, after: string) {
    return guest(
      [`http://127.0.0.1:${port}/hang`, `http://127.0.0.1:${port}/next`],
      `(if (i32.eq (call $event) (i32.const 0x31)) (then
          (loop $more
            (if (i32.lt_s (call $get (i32.const 0)) (i32.const 0)) (then (return (call $reply_send_error))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $more (i32.lt_u (local.get $i) (i32.const ${MAX_IN_FLIGHT}))))
          ${after}))
        (local.set $h (call $get (i32.const 1)))
        (if (i32.lt_s (local.get $h) (i32.const 0)) (then (return (call $reply_send_error))))
        (call $reply_take (local.get $h))`,
    );
  }

  it.each([
    ['returns', '(return (call $reply (i32.const 1000) (i32.const 3)))'],
    ['traps', 'unreachable'],
  ])(
    `a guest that sends ${MAX_IN_FLIGHT} requests and %s: they are cancelled, the next invocation has every slot`,
    async (_how, after) => {
      const server = await serve();
      const { host } = await worker(await abandoning(server.port, after), [`127.0.0.1:${server.port}`]);
      for (let round = 0; round < 3; round++) {
        await invoke(host, '1');
        expect(text(await invoke(host, '2'))).toBe('answer /next');
      }
      await everyHangClosed(server);
    },
  );

  it('a guest that times out with requests in flight: cancelled, and the next invocation has every slot', async () => {
    const server = await serve();
    const module = await abandoning(server.port, '(loop $spin (br $spin))');
    const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
    expect(await invoke(host, '1', 500)).toMatchObject({ error: { errorType: 'Sandbox.Timedout' } });
    expect(text(await invoke(host, '2'))).toBe('answer /next');
    await everyHangClosed(server);
  });

  it("a late response to an abandoned request never reaches the next invocation's handles", async () => {
    const server = await serve();
    // "1": send /slow and return; "2": send /next, take it.
    const module = await guest(
      [`http://127.0.0.1:${server.port}/slow`, `http://127.0.0.1:${server.port}/next`],
      `(if (i32.eq (call $event) (i32.const 0x31)) (then
          (drop (call $get (i32.const 0)))
          (return (call $reply (i32.const 1000) (i32.const 3)))))
        (call $reply_take (call $get (i32.const 1)))`,
    );
    const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
    for (let round = 0; round < 5; round++) {
      expect(text(await invoke(host, '1'))).toBe('GET');
      expect(text(await invoke(host, '2'))).toBe('answer /next');
    }
    // Never produced: each was cancelled as its invocation ended.
    await everyHangClosed(server, '/slow');
  });
});

describe('a request too large or malformed is refused with a typed error before anything is sent', () => {
  const MiB = 1024 * 1024;
  /** A region of `size` bytes of `a` at 1 MiB in a 144-page guest (realloc above 8 MiB). */
  const fill = (size: number) => `(memory.fill (i32.const ${MiB}) (i32.const 0x61) (i32.const ${size}))`;
  const URL_ARGS = '(i32.const 1024) (call $len (i32.const 1024))';

  it('sends a 6 MiB body; refuses 6 MiB + 1 byte with InvalidRequest', async () => {
    const server = await serve();
    const body = `(call $request (i32.const 1000) (i32.const 3) ${URL_ARGS} (i32.const 0) (i32.const 0) (i32.const ${MiB})
      (if (result i32) (i32.eq (call $event) (i32.const 0x31)) (then (i32.const ${6 * MiB})) (else (i32.const ${6 * MiB + 1}))))`;
    const module = await guest([`http://127.0.0.1:${server.port}/body`], body, 0, 144);
    const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
    expect(text(await invoke(host, '1'))).toBe('answer /body');
    expect(text(await invoke(host, '2'))).toBe('InvalidRequest');
    expect(server.bodies).toEqual([6 * MiB]);
  });

  it.each([
    ['1025 headers', 1025, 1],
    ['1,000 headers of 1 MiB each (1 GB named, 1 MiB of memory)', 1000, MiB],
  ])('refuses %s', async (_what, count, size) => {
    const server = await serve();
    // A list at 128 KiB of `count` entries, each "x-a" naming the same `size` bytes.
    const body = `${fill(size)}
      (loop $entry
        (local.set $h (i32.add (i32.const 131072) (i32.mul (local.get $i) (i32.const 16))))
        (i32.store (local.get $h) (i32.const 1280))
        (i32.store offset=4 (local.get $h) (i32.const 3))
        (i32.store offset=8 (local.get $h) (i32.const ${MiB}))
        (i32.store offset=12 (local.get $h) (i32.const ${size}))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $entry (i32.lt_u (local.get $i) (i32.const ${count}))))
      (call $request (i32.const 1000) (i32.const 3) ${URL_ARGS} (i32.const 131072) (i32.const ${count}) (i32.const 0) (i32.const -1))`;
    const module = await guest([`http://127.0.0.1:${server.port}/h`, 'x-a'], body, 0, 144);
    const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
    const started = Date.now();
    expect(text(await invoke(host, '1'))).toBe('InvalidRequest');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.seen).toEqual([]);
  });

  it('refuses a URL of 64 KiB + 1 byte and one of 4 MiB, and a 65-byte method', async () => {
    const server = await serve();
    const prefix = `http://127.0.0.1:${server.port}/`;
    // The URL is the prefix followed by `a`s at 1 MiB; event "3" sends a 65-byte method instead.
    const body = `(memory.copy (i32.const ${MiB - prefix.length}) (i32.const 1024) (i32.const ${prefix.length}))
      ${fill(4 * MiB)}
      (if (i32.eq (call $event) (i32.const 0x33)) (then
        (return (call $request (i32.const ${MiB}) (i32.const 65) ${URL_ARGS} (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1)))))
      (call $request (i32.const 1000) (i32.const 3) (i32.const ${MiB - prefix.length})
        (if (result i32) (i32.eq (call $event) (i32.const 0x31)) (then (i32.const ${64 * 1024 + 1})) (else (i32.const ${4 * MiB})))
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1))`;
    const { host } = await worker(await guest([prefix], body, 0, 144), [`127.0.0.1:${server.port}`]);
    for (const event of ['1', '2', '3']) expect(text(await invoke(host, event))).toBe('InvalidRequest');
    expect(server.seen).toEqual([]);
  });

  it.each([
    [
      'method',
      '(call $request (i32.const 1536) (i32.const 3) (i32.const 1024) (call $len (i32.const 1024)) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1))',
    ],
    [
      'URL',
      '(call $request (i32.const 1000) (i32.const 3) (i32.const 1792) (call $len (i32.const 1792)) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1))',
    ],
    [
      'header name',
      '(i32.store (i32.const 2048) (i32.const 1536)) (i32.store (i32.const 2052) (i32.const 3)) (i32.store (i32.const 2056) (i32.const 1280)) (i32.store (i32.const 2060) (i32.const 3)) (call $request (i32.const 1000) (i32.const 3) (i32.const 1024) (call $len (i32.const 1024)) (i32.const 2048) (i32.const 1) (i32.const 0) (i32.const -1))',
    ],
    [
      'header value',
      '(i32.store (i32.const 2048) (i32.const 1280)) (i32.store (i32.const 2052) (i32.const 3)) (i32.store (i32.const 2056) (i32.const 1536)) (i32.store (i32.const 2060) (i32.const 3)) (call $request (i32.const 1000) (i32.const 3) (i32.const 1024) (call $len (i32.const 1024)) (i32.const 2048) (i32.const 1) (i32.const 0) (i32.const -1))',
    ],
  ])(
    'traps (Runtime.AbiViolation) on a %s that is not UTF-8, as the canonical ABI does; nothing is sent',
    async (what, body) => {
      const server = await serve();
      const url = `http://127.0.0.1:${server.port}/u`;
      const module = await guest([url, 'x-a', 'G\\ffT', `${url}\\ff`], body);
      const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
      expect(await invoke(host, '1')).toMatchObject({
        status: 'error',
        kind: 'runtime',
        error: { errorType: 'Runtime.AbiViolation', errorMessage: expect.stringContaining(`${what} is not UTF-8`) },
      });
      expect(server.seen).toEqual([]);
    },
  );
});

describe('the bodies the host holds for one guest are bounded (MAX_BYTES_IN_FLIGHT)', () => {
  const MiB = 1024 * 1024;

  /**
   * Sends `count` requests to string 0 (GET, or POST with a `body`-byte body at 1 MiB), then
   * takes every one sent (with `holdAll`, only once every one is ready: the host holds them all). Replies with four u32s: sent, refused by send with TooManyRequests,
   * taken with a response, taken with ResponseTooLarge.
   */
  const flood = (count: number, body: number, holdAll = false) => `
    (loop $send
      (call $send (i32.const 1000) (i32.const ${body > 0 ? 4 : 3}) (i32.const 1024) (call $len (i32.const 1024))
        (i32.const 0) (i32.const 0) (i32.const ${body > 0 ? 1 : 0}) (i32.const ${MiB}) (i32.const ${body})
        (i32.const 0) (i32.const 0) (i32.const 512))
      (if (i32.load8_u (i32.const 512))
        (then
          (if (i32.eq (i32.load8_u (i32.load (i32.const 516))) (i32.const 0x54))
            (then (i32.store (i32.const 3004) (i32.add (i32.load (i32.const 3004)) (i32.const 1))))))
        (else
          (i32.store (i32.add (i32.const 4096) (i32.shl (i32.load (i32.const 3000)) (i32.const 2))) (i32.load (i32.const 516)))
          (i32.store (i32.const 3000) (i32.add (i32.load (i32.const 3000)) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $send (i32.lt_u (local.get $i) (i32.const ${count}))))
    ${
      holdAll
        ? `(local.set $i (i32.const 0))
    (block $held (loop $wait_each
      (br_if $held (i32.ge_u (local.get $i) (i32.load (i32.const 3000))))
      (i32.store (i32.const 800) (i32.load (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 2)))))
      (call $wait (i32.const 800) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 808))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $wait_each)))`
        : ''
    }
    (local.set $i (i32.const 0))
    (block $done (loop $take
      (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 3000))))
      (call $take (i32.load (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 600))
      (if (i32.load8_u (i32.const 600))
        (then
          (if (i32.eq (i32.load8_u (i32.load (i32.const 604))) (i32.const 0x52))
            (then (i32.store (i32.const 3012) (i32.add (i32.load (i32.const 3012)) (i32.const 1))))))
        (else (i32.store (i32.const 3008) (i32.add (i32.load (i32.const 3008)) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $take)))
    (call $reply (i32.const 3000) (i32.const 16))`;

  /** The four counts, after zeroing them for the next invocation of the same instance. */
  const counts = (outcome: InvokeOutcome) => {
    if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
    const view = new DataView(outcome.response.buffer, outcome.response.byteOffset, 16);
    return [0, 4, 8, 12].map((at) => view.getUint32(at, true));
  };
  const reset = '(memory.fill (i32.const 3000) (i32.const 0) (i32.const 16))';

  it('refuses a request body past the budget with TooManyRequests, before it is sent; the next invocation has it all', async () => {
    const server = await serve();
    const module = await guest(
      ['', 'x', 'POST'].map((s, i) => (i === 0 ? `http://127.0.0.1:${server.port}/slow-post` : s)),
      `${reset} (memory.copy (i32.const 1000) (i32.const 1536) (i32.const 4)) ${flood(40, 960 * 1024)}`,
      0,
      48,
    );
    const { host } = await worker(module, [`127.0.0.1:${server.port}`]);
    for (let round = 0; round < 2; round++) {
      // The server answers after 300 ms, so every body is held at once: 34 of 960 KiB fit in
      // 32 MiB, and are sent and answered; 6 are refused.
      expect(counts(await invoke(host, '1', 10_000))).toEqual([34, 6, 34, 0]);
    }
    expect(server.bodies).toEqual(Array.from({ length: 68 }, () => 960 * 1024));
  });

  it('fails responses past the budget with ResponseTooLarge; taken, their bytes are free for the next invocation', async () => {
    // Every response waits until all 16 requests are in, then 16 × 3 MiB arrive together; the
    // guest takes none before all are ready.
    const big = new Uint8Array(3 * MiB).fill(0x61);
    let waiting: http.ServerResponse[] = [];
    const bigServer = http.createServer((_req, res) => {
      waiting.push(res);
      if (waiting.length < 16) return;
      for (const each of waiting) each.end(big);
      waiting = [];
    });
    await new Promise<void>((done) => bigServer.listen(0, '127.0.0.1', done));
    cleanup.push(
      () =>
        new Promise<void>((done) => {
          bigServer.closeAllConnections();
          bigServer.close(() => done());
        }),
    );
    const port = (bigServer.address() as AddressInfo).port;
    const reclaim = '(global.set $bump (i32.const 65536))';
    const module = await guest(
      [`http://127.0.0.1:${port}/big`],
      `${reset} ${reclaim} ${flood(16, 0, true)}`,
      0,
      1024,
      65536,
    );
    const { host } = await worker(module, [`127.0.0.1:${port}`]);
    for (let round = 0; round < 3; round++) {
      const [sent = 0, refused = 0, answered = 0, tooLarge = 0] = counts(await invoke(host, '1', 10_000));
      expect({ sent, refused, total: answered + tooLarge }).toEqual({ sent: 16, refused: 0, total: 16 });
      // 48 MiB cannot be held at once: at most 10 of 3 MiB fit in 32 MiB, and in every round
      // again (nothing of an earlier round is still counted).
      expect(tooLarge).toBeGreaterThanOrEqual(6);
      expect(answered).toBeGreaterThan(0);
    }
  });
});

describe('a guest that sends and forgets in a loop', () => {
  it(`is refused past ${MAX_OUTSTANDING} requests the host has not finished cancelling; once it has, it may send again`, async () => {
    const server = await serve();
    const bridge = new HttpBridge({ policy: parseEgressPolicy([`127.0.0.1:${server.port}`], 'test') });
    const link = bridge.link();
    cleanup.push(() => link.close());
    const outbound = new WorkerOutbound(link.end, () => {});
    const flood = (count: number) => {
      const codes: string[] = [];
      for (let i = 0; i < count; i++) {
        const sent = outbound.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/hang` }, Date.now() + 5000);
        if (typeof sent === 'number') outbound.forget(sent);
        else codes.push(sent.code);
      }
      return codes;
    };
    // The main thread (this one) handles nothing until the loop yields: every request stays outstanding.
    expect(flood(MAX_OUTSTANDING + 50)).toEqual(Array.from({ length: 50 }, () => 'TooManyRequests'));
    await until(() => flood(1).length === 0);
    expect(flood(1)).toEqual([]);
  });
});
