import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { WasiLambdaError } from '../src/errors.js';
import { MAX_TABLE_ELEMENTS } from '../src/host/module-limits.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { encode, testContext } from './support/handlers.js';
import { ABI_MARKER, BUMP_ALLOCATOR } from './support/wat.js';

/**
 * A hand-written guest: exports the world's core functions with a bump allocator, and a
 * `handle` whose body the test supplies. The result area lives at offset 64.
 */
async function guest(handleBody: string, extra = '', pages = 2): Promise<Uint8Array<ArrayBuffer>> {
  const wat = `(module ${ABI_MARKER}
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") ${pages})
    ${BUMP_ALLOCATOR}
    (func (export "handle") (param $args i32) (result i32) ${handleBody})
    ${extra}
  )`;
  return (await parse(wat)) as Uint8Array<ArrayBuffer>;
}

async function hostFor(bytes: Uint8Array<ArrayBuffer>, maxMemoryPages?: number) {
  const lines: string[] = [];
  const host = await WasmHost.create(bytes, { logSink: (line) => lines.push(line), maxMemoryPages });
  return { host, lines };
}

describe('a guest that breaks the ABI gets a typed error, and the host survives', () => {
  it('a cabi_realloc that grows memory on every call still gets every context string intact', async () => {
    // Each allocation lands in a page that did not exist when the host began lowering: the
    // host's cached views of memory (including the Buffer its latin1 writes use) must follow.
    const grower = `(module ${ABI_MARKER}
      (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))
      (func (export "cabi_post_handle") (param i32))
      (func (export "handle") (param $args i32) (result i32)
        ;; ok(the request-id string) at offset 64
        (i32.store8 (i32.const 64) (i32.const 0))
        (i32.store (i32.const 68) (i32.load offset=8 (local.get $args)))
        (i32.store (i32.const 72) (i32.load offset=12 (local.get $args)))
        (i32.const 64)))`;
    const { host } = await hostFor((await parse(grower)) as Uint8Array<ArrayBuffer>);
    for (const requestId of ['a1b2c3d4-0000-4000-8000-000000000001', 'second-call']) {
      const outcome = host.invoke(encode('{}'), { ...testContext(), requestId });
      expect(outcome).toEqual({ status: 'ok', response: encode(requestId) });
    }
  });

  it('refuses a result pointer outside memory (high bit set)', async () => {
    const { host } = await hostFor(await guest('(i32.const -16)'));
    for (let i = 0; i < 3; i++) {
      const outcome = host.invoke(encode('{}'), testContext());
      expect(outcome).toEqual({
        status: 'error',
        kind: 'runtime',
        error: {
          errorType: 'Runtime.AbiViolation',
          errorMessage: expect.stringContaining(`[${2 ** 32 - 16}, ${2 ** 32 + 4})`),
        },
      });
    }
    expect(host.instanceCount).toBe(3);
  });

  it('refuses a response list that overflows past the end of memory', async () => {
    const body = `(i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 68) (i32.const 100))
      (i32.store (i32.const 72) (i32.const -1))
      (i32.const 64)`;
    const { host } = await hostFor(await guest(body));
    const outcome = host.invoke(encode('{}'), testContext());
    expect(outcome).toMatchObject({ kind: 'runtime', error: { errorType: 'Runtime.AbiViolation' } });
  });

  it('refuses an unknown result tag', async () => {
    const { host } = await hostFor(await guest('(i32.store8 (i32.const 64) (i32.const 7)) (i32.const 64)'));
    expect(host.invoke(encode('{}'), testContext())).toMatchObject({
      error: {
        errorType: 'Runtime.AbiViolation',
        errorMessage: 'handle returned result tag 7; expected 0 (ok) or 1 (err)',
      },
    });
  });

  it('refuses an error type that is not UTF-8', async () => {
    const body = `(i32.store8 (i32.const 64) (i32.const 1))
      (i32.store8 (i32.const 200) (i32.const 0xff))
      (i32.store (i32.const 68) (i32.const 200)) (i32.store (i32.const 72) (i32.const 1))
      (i32.store (i32.const 76) (i32.const 200)) (i32.store (i32.const 80) (i32.const 0))
      (i32.const 64)`;
    const { host } = await hostFor(await guest(body));
    expect(host.invoke(encode('{}'), testContext())).toMatchObject({
      error: { errorType: 'Runtime.AbiViolation', errorMessage: "the guest's error-type is not valid UTF-8" },
    });
  });

  it('answers fd_write with out-of-bounds iovecs with EFAULT and logs nothing', async () => {
    // iovec at 128 points far outside memory; the errno goes into the 4-byte response.
    const body = `(i32.store (i32.const 128) (i32.const 0x7ffffff0))
      (i32.store (i32.const 132) (i32.const 64))
      (i32.store (i32.const 300) (call $fd_write (i32.const 1) (i32.const 128) (i32.const 1) (i32.const 140)))
      (i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 68) (i32.const 300))
      (i32.store (i32.const 72) (i32.const 4))
      (i32.const 64)`;
    const { host, lines } = await hostFor(await guest(body));
    const outcome = host.invoke(encode('{}'), testContext());
    if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
    expect(new DataView(outcome.response.buffer).getUint32(0, true)).toBe(21);
    expect(lines).toEqual([]);
  });

  it('refuses a module without the world exports before running anything', async () => {
    const bytes = (await parse('(module (memory (export "memory") 1))')) as Uint8Array<ArrayBuffer>;
    const err = await WasmHost.create(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).code).toBe('CONTRACT_MISSING');
    expect((err as WasiLambdaError).message).toMatch(/does not export `handle`, `cabi_post_handle`, `cabi_realloc`/);
  });

  it('refuses bytes that are not WebAssembly', async () => {
    const err = await WasmHost.create(new TextEncoder().encode('#!/bin/sh')).catch((e: unknown) => e);
    expect((err as WasiLambdaError).code).toBe('MODULE_INVALID');
  });
});

describe('a guest that fails is never called again, and what it claims costs the host nothing', () => {
  it('takes the panic text from the log, never from the trapped instance', async () => {
    // `wasi_lambda_panic_info` would say something else, and log that it was called.
    const writeLine = (iov: number, ptr: number, len: number) =>
      `(i32.store (i32.const ${iov}) (i32.const ${ptr})) (i32.store (i32.const ${iov + 4}) (i32.const ${len}))
      (drop (call $fd_write (i32.const 2) (i32.const ${iov}) (i32.const 1) (i32.const 1000)))`;
    const extra = `(data (i32.const 512) "panicked at src/lib.rs:3:9: from the log\\n")
      (data (i32.const 600) "called back\\n")
      (data (i32.const 700) "\\c4\\02\\00\\00\\11\\00\\00\\00from the instance")
      (func (export "wasi_lambda_panic_info") (result i32) ${writeLine(800, 600, 12)} (i32.const 700))`;
    const { host, lines } = await hostFor(await guest(`${writeLine(900, 512, 41)} unreachable`, extra));
    expect(host.invoke(encode('{}'), testContext())).toEqual({
      status: 'error',
      kind: 'runtime',
      error: { errorType: 'Runtime.Panic', errorMessage: 'panicked at src/lib.rs:3:9: from the log' },
    });
    expect(lines.join('')).not.toContain('called back');
  });

  it('a response over 6 MB is the handler’s Function.ResponseSizeTooLarge, and the instance stays', async () => {
    const body = `(i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 68) (i32.const 0))
      (i32.store (i32.const 72) (i32.const 6291557))
      (i32.const 64)`;
    const { host } = await hostFor(await guest(body, '', 100));
    const outcome = host.invoke(encode('{}'), testContext());
    expect(outcome).toEqual({
      status: 'error',
      kind: 'handler',
      error: {
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: 'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
      },
    });
    expect(host.instanceCount).toBe(1);
  });

  it('table.grow in a loop to 100M fails at the cap inside the guest; the next invocation is fine', async () => {
    const body = `(block $full (loop $more
        (br_if $full (i32.ge_u (table.size $t) (i32.const 100000000)))
        (br_if $full (i32.eq (table.grow $t (ref.null func) (i32.const 4096)) (i32.const -1)))
        (br $more)))
      (i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 128) (table.size $t))
      (i32.store (i32.const 68) (i32.const 128))
      (i32.store (i32.const 72) (i32.const 4))
      (i32.const 64)`;
    const { host } = await hostFor(await guest(body, '(table $t 0 funcref)'), 1024);
    for (let call = 0; call < 2; call++) {
      const outcome = host.invoke(encode('{}'), testContext());
      if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
      expect(new DataView(outcome.response.buffer).getUint32(0, true)).toBe(MAX_TABLE_ELEMENTS);
    }
    expect(host.instanceCount).toBe(1);
  });
});

describe('a guest whose initialisation traps', () => {
  it('is a typed init error carrying Lambda trap body, and its output before the trap is logged', async () => {
    const { GuestInitError } = await import('../src/host/init-error.js');
    const bytes = await guest(
      '(i32.const 64)',
      `(data (i32.const 256) "init line\\n")
       (func (export "_initialize")
         (i32.store (i32.const 512) (i32.const 256)) (i32.store (i32.const 516) (i32.const 10))
         (drop (call $fd_write (i32.const 1) (i32.const 512) (i32.const 1) (i32.const 520)))
         unreachable)`,
    );
    const lines: string[] = [];
    const error = await WasmHost.create(bytes, { logSink: (line) => lines.push(line) }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GuestInitError);
    expect(error).toMatchObject({
      code: 'GUEST_INIT_FAILED',
      body: { errorType: 'Runtime.Trap', errorMessage: 'wasm trap: unreachable' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\tundefined\tINFO\tinit line\n$/);
  });
});
