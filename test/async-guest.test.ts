import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComponentHost } from '../src/component/component-host.js';
import { GuestInitError } from '../src/host/init-error.js';
import type { InvokeOutcome } from '../src/host/outcome.js';
import { WasmHost } from '../src/host/wasm-host.js';
import { fn, startEmulator } from './support/emulator.js';
import { componentDir, decode, encode, handlerPath, testContext } from './support/handlers.js';
import { run } from './support/spawn.js';

/** `async-guest`: lambda_runtime's shape (`#[wasi_lambda::main]`, `async fn`, `service_fn`). */
const load = (init?: string) =>
  WasmHost.fromFile(handlerPath('async-guest'), {
    env: init === undefined ? {} : { ASYNC_GUEST_INIT: init },
    logSink: () => {},
  });

function json(outcome: InvokeOutcome): Record<string, unknown> {
  if (outcome.status !== 'ok') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return JSON.parse(decode(outcome.response)) as Record<string, unknown>;
}

describe('an async handler with a user-owned main (lambda_runtime shape)', () => {
  it('runs main once per environment: every invocation is served by the state it built', async () => {
    const host = await load();
    const first = json(host.invoke(encode('{"action":"context"}'), testContext()));
    const second = json(host.invoke(encode('{"action":"context"}'), testContext()));
    expect([first.served, second.served]).toEqual([1, 2]);
    expect(second.sinceInitMs).toBeGreaterThanOrEqual(first.sinceInitMs as number);
    expect(first.envConfig).toEqual({
      function_name: 'test-fn',
      memory: 256,
      version: '$LATEST',
      log_group: '/aws/lambda/test-fn',
      log_stream: '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef',
    });
  });

  it('overlaps two awaits joined with futures::join!, on host readiness rather than a busy loop', async () => {
    const host = await load();
    const cpu = process.cpuUsage();
    const overlap = json(host.invoke(encode('{"action":"overlap","ms":200}'), testContext()));
    const { user } = process.cpuUsage(cpu);
    const sequence = json(host.invoke(encode('{"action":"sequence","ms":200}'), testContext()));
    expect(overlap.elapsedMs).toBeGreaterThanOrEqual(200);
    expect(overlap.elapsedMs).toBeLessThan(300);
    expect(sequence.elapsedMs).toBeGreaterThanOrEqual(400);
    // Parked in the host, not spinning: far less CPU than the 200 ms waited.
    expect(user / 1000).toBeLessThan(100);
  });

  it('answers a future that can never complete with a typed error, not a hang', async () => {
    const host = await load();
    const outcome = host.invoke(encode('{"action":"stall"}'), testContext());
    expect(outcome).toMatchObject({ status: 'error', error: { errorType: 'Runtime.Stalled' } });
    expect(json(host.invoke(encode('{"action":"context"}'), testContext())).served).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['fail', /^&alloc::boxed::Box<dyn core::error::Error/, 'init failed on purpose'],
    ['return', /^Runtime\.InitError$/, 'main returned without serving'],
    ['stall', /^Runtime\.Stalled$/, 'main is waiting for something that can never happen'],
  ])('an init that ends with %s is a typed init error carrying the guest errorType', async (init, type, message) => {
    const error = await load(init).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GuestInitError);
    const body = (error as GuestInitError).body;
    expect(body.errorType).toMatch(type);
    expect(body.errorMessage).toContain(message);
    expect((error as GuestInitError).code).toBe('GUEST_INIT_FAILED');
  });
});

describe('the same module as a component (lambda-service world)', () => {
  it('runs main once at init and overlaps awaits', async () => {
    const host = await ComponentHost.fromDir(componentDir('async-guest'), { logSink: () => {} });
    const overlap = json(host.invoke(encode('{"action":"overlap","ms":150}'), testContext()));
    expect(overlap.elapsedMs).toBeLessThan(250);
    expect(json(host.invoke(encode('{"action":"context"}'), testContext())).served).toBe(2);
  });

  it('reports an init error at init, with the guest errorType', async () => {
    const error = await ComponentHost.fromDir(componentDir('async-guest'), {
      env: { ASYNC_GUEST_INIT: 'return' },
      logSink: () => {},
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GuestInitError);
    expect((error as GuestInitError).body.errorType).toBe('Runtime.InitError');
  });
});

describe('init errors reach Lambda as init errors', () => {
  it('the raw runtime client posts the guest init error to /runtime/init/error', async () => {
    const running = await startEmulator([
      fn({
        name: 'async-broken',
        kind: 'wasm',
        code: handlerPath('async-guest'),
        environment: { ASYNC_GUEST_INIT: 'return', WASI_LAMBDA_ENV: 'ASYNC_GUEST_INIT' },
      }),
    ]);
    try {
      const reply = await running.invoke('async-broken', '{"action":"context"}');
      expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
      expect(JSON.parse(reply.body)).toMatchObject({
        errorType: 'Runtime.InitError',
        errorMessage: expect.stringContaining('main returned without serving'),
      });
    } finally {
      await running.emulator.stop();
    }
  });

  it('the managed entry throws it with the guest errorType as the name', async () => {
    const script = `
      const { handler } = await import(${JSON.stringify(resolve('dist/lambda/handler.mjs'))});
      try { await handler({ action: 'context' }, { awsRequestId: 'r', functionName: 'f', functionVersion: '$LATEST',
        invokedFunctionArn: 'a', memoryLimitInMB: 128, logGroupName: 'g', logStreamName: 's',
        getRemainingTimeInMillis: () => 3000 }); process.stderr.write('no error'); }
      catch (e) { process.stderr.write(JSON.stringify({ name: e.name, message: e.message })); }`;
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        WASI_LAMBDA_MODULE: handlerPath('async-guest'),
        WASI_LAMBDA_ENV: 'ASYNC_GUEST_INIT',
        ASYNC_GUEST_INIT: 'return',
      },
    });
    expect(JSON.parse(stderr)).toEqual({
      name: 'Runtime.InitError',
      message: expect.stringContaining('main returned without serving'),
    });
  });
});
