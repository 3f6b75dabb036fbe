import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { WasiLambdaError } from '../src/errors.js';
import type { FunctionIdentity } from '../src/host/context.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { decode, encode, handlerPath, testContext } from './support/handlers.js';
import { ABI_MARKER, BUMP_ALLOCATOR } from './support/wat.js';

const ENVIRONMENT = 'wasi-lambda:handler/environment@0.2.0';

const QUOTES: FunctionIdentity = {
  functionName: 'quotes',
  functionVersion: '7',
  memoryLimitMb: 512,
  logGroupName: '/aws/lambda/quotes',
  logStreamName: '2026/12/06/[7]feedface',
};

/**
 * A hand-written guest that asks for its identity into a return area at `$ret` (which the test
 * may misplace) and answers with the string field at offset `$field` of the record: the
 * event's first byte picks it (`0` name, `1` version, `2` log group, `3` log stream).
 */
async function identityGuest(ret = 256): Promise<Uint8Array<ArrayBuffer>> {
  const wat = `(module ${ABI_MARKER}
    (import "${ENVIRONMENT}" "identity" (func $identity (param i32)))
    (memory (export "memory") 2)
    ${BUMP_ALLOCATOR}
    (func (export "handle") (param $args i32) (result i32)
      (local $field i32)
      (call $identity (i32.const ${ret}))
      ;; the event's digit d selects offset [0, 8, 20, 28][d], looked up in a table at 128
      (local.set $field (i32.add (i32.const 256)
        (i32.load8_u (i32.add (i32.const 128) (i32.sub (i32.load8_u (i32.load (local.get $args))) (i32.const 48))))))
      (i32.store8 (i32.const 64) (i32.const 0))
      (i32.store (i32.const 68) (i32.load (local.get $field)))
      (i32.store (i32.const 72) (i32.load offset=4 (local.get $field)))
      (i32.const 64))
    (data (i32.const 128) "\\00\\08\\14\\1c"))`;
  return (await parse(wat)) as Uint8Array<ArrayBuffer>;
}

describe('the function identity is passed once, through environment.identity', () => {
  it('an SDK guest sees the configured identity in its context, whatever each call carries', async () => {
    const host = await WasmHost.fromFile(handlerPath('faults'), { identity: QUOTES, logSink: () => {} });
    for (const requestId of ['r-1', 'r-2']) {
      // The per-call context names another function: the identity is the environment's.
      const ctx = testContext({ requestId });
      const outcome = host.invoke(encode('{"action":"context"}'), ctx);
      if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
      expect(JSON.parse(decode(outcome.response))).toMatchObject({ ...QUOTES, requestId, deadlineMs: ctx.deadlineMs });
    }
  });

  it('without a configured identity, the first invocation’s context is kept for the instance', async () => {
    const host = await WasmHost.fromFile(handlerPath('faults'), { logSink: () => {} });
    const first = testContext();
    host.invoke(encode('{"action":"context"}'), first);
    const outcome = host.invoke(encode('{"action":"context"}'), testContext({ functionName: 'other' }));
    if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
    expect(JSON.parse(decode(outcome.response)).functionName).toBe(first.functionName);
  });

  it('in fresh mode every new instance asks again and gets the identity the host kept', async () => {
    const host = await WasmHost.fromFile(handlerPath('faults'), { instanceMode: 'fresh', logSink: () => {} });
    const names: unknown[] = [];
    for (const functionName of ['first', 'second', 'third']) {
      const outcome = host.invoke(encode('{"action":"context"}'), testContext({ functionName }));
      if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
      names.push(JSON.parse(decode(outcome.response)).functionName);
    }
    expect(names).toEqual(['first', 'first', 'first']);
    expect(host.instanceCount).toBeGreaterThanOrEqual(3);
  });

  it('is answered during _initialize, before any invocation, from the configured identity', async () => {
    const wat = `(module ${ABI_MARKER}
      (import "${ENVIRONMENT}" "identity" (func $identity (param i32)))
      (memory (export "memory") 2)
      ${BUMP_ALLOCATOR}
      (func (export "_initialize") (call $identity (i32.const 512)))
      (func (export "handle") (param i32) (result i32)
        (i32.store8 (i32.const 64) (i32.const 0))
        (i32.store (i32.const 68) (i32.load (i32.const 512)))
        (i32.store (i32.const 72) (i32.load (i32.const 516)))
        (i32.const 64)))`;
    const host = await WasmHost.create((await parse(wat)) as Uint8Array<ArrayBuffer>, {
      identity: QUOTES,
      logSink: () => {},
    });
    expect(host.invoke(encode('{}'), testContext())).toEqual({ status: 'ok', response: encode(QUOTES.functionName) });
  });

  it('called from the start function, before the instance exists, refuses the module', async () => {
    const wat = `(module ${ABI_MARKER}
      (import "${ENVIRONMENT}" "identity" (func $identity (param i32)))
      (memory (export "memory") 2)
      ${BUMP_ALLOCATOR}
      (func $start (call $identity (i32.const 512)))
      (start $start)
      (func (export "handle") (param i32) (result i32) (i32.const 0)))`;
    const err = await WasmHost.create((await parse(wat)) as Uint8Array<ArrayBuffer>, { identity: QUOTES }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).code).toBe('MODULE_INVALID');
    expect((err as WasiLambdaError).message).toContain('called during start');
  });

  it('called from inside cabi_realloc, recursing without end, fails that invocation only', async () => {
    const wat = `(module ${ABI_MARKER}
      (import "${ENVIRONMENT}" "identity" (func $identity (param i32)))
      (memory (export "memory") 2)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
        (call $identity (i32.const 512))
        (i32.const 4096))
      (func (export "cabi_post_handle") (param i32))
      (func (export "handle") (param i32) (result i32)
        (call $identity (i32.const 256))
        (i32.const 64)))`;
    const host = await WasmHost.create((await parse(wat)) as Uint8Array<ArrayBuffer>, {
      identity: QUOTES,
      logSink: () => {},
    });
    const outcome = host.invoke(encode('{}'), testContext());
    expect(outcome).toMatchObject({ status: 'error', kind: 'runtime' });
    // The host is whole: a well-behaved guest still runs after it.
    const next = await WasmHost.create(await identityGuest(), { identity: QUOTES, logSink: () => {} });
    expect(next.invoke(encode('0'), testContext())).toEqual({ status: 'ok', response: encode(QUOTES.functionName) });
  });

  it.each([
    ['0', QUOTES.functionName],
    ['1', QUOTES.functionVersion],
    ['2', QUOTES.logGroupName],
    ['3', QUOTES.logStreamName],
  ])('lays out the record as the canonical ABI does (field %s)', async (digit, expected) => {
    const host = await WasmHost.create(await identityGuest(), { identity: QUOTES, logSink: () => {} });
    expect(host.invoke(encode(digit), testContext())).toEqual({ status: 'ok', response: encode(expected) });
  });

  it.each([
    ['misaligned', 257, 'not 4-byte aligned'],
    ['outside memory', -8, 'identity return area'],
    ['straddling the end of memory', 2 * 65536 - 20, 'identity return area'],
  ])('a return area %s is an ABI violation of that invocation only', async (_what, ret, message) => {
    const host = await WasmHost.create(await identityGuest(ret), { identity: QUOTES, logSink: () => {} });
    for (let i = 0; i < 2; i++) {
      expect(host.invoke(encode('0'), testContext())).toEqual({
        status: 'error',
        kind: 'runtime',
        error: { errorType: 'Runtime.AbiViolation', errorMessage: expect.stringContaining(message) },
      });
    }
    expect(host.instanceCount).toBe(2);
  });
});

describe('a module built for another version of the world', () => {
  it('is refused before it runs, saying to rebuild', async () => {
    const wat = `(module ${ABI_MARKER}
      (import "wasi-lambda:handler/http@0.1.0" "forget" (func (param i32)))
      (memory (export "memory") 1)
      (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 8))
      (func (export "cabi_post_handle") (param i32))
      (func (export "handle") (param i32) (result i32) (i32.const 0)))`;
    const err = await WasmHost.create((await parse(wat)) as Uint8Array<ArrayBuffer>).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WasiLambdaError);
    expect((err as WasiLambdaError).code).toBe('CONTRACT_MISSING');
    expect((err as WasiLambdaError).message).toContain('wasi-lambda:handler/http@0.1.0');
    expect((err as WasiLambdaError).message).toContain('rebuild it with the same wasi-lambda version');
  });
});
