import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionHost } from '../src/host/function-host.js';
import { type HostConfig, loadHost } from '../src/host/load-host.js';
import type { InvokeOutcome } from '../src/host/outcome.js';
import { componentDir, decode, encode, handlerPath, testContext } from './support/handlers.js';

/** The worker bundle the global setup built; the TypeScript sources cannot run as a worker. */
const WORKER = resolve('dist/guest-worker.mjs');

const opened: { host: FunctionHost; fd: number }[] = [];

afterEach(async () => {
  for (const { host, fd } of opened.splice(0)) {
    await host.close?.();
    closeSync(fd);
  }
});

/** A worker-isolated host whose log goes to a file, read back with `log()`. */
async function isolated(guest: HostConfig['guest'], options: HostConfig['options'] = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'wasi-lambda-isolation-')), 'log');
  const fd = openSync(path, 'w');
  const host = await loadHost({ guest, options, isolation: 'worker', logFd: fd, workerUrl: WORKER });
  opened.push({ host, fd });
  return { host, log: () => readFileSync(path, 'utf8') };
}

const core = (name: string) => ({ kind: 'core' as const, path: handlerPath(name) });

function json(outcome: InvokeOutcome): unknown {
  if (outcome.status !== 'ok') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return JSON.parse(decode(outcome.response));
}

describe('the guest on a worker thread: the deadline holds in-process', () => {
  it('stops a guest that never returns at its deadline, and the next invocation runs on a new instance', async () => {
    const { host } = await isolated(core('faults'));
    expect(json(await host.invoke(encode('{"action":"counter"}'), testContext()))).toEqual({ count: 1 });
    const started = Date.now();
    const ctx = testContext({ deadlineMs: started + 1000 });
    const outcome = await host.invoke(encode('{"action":"spin"}'), ctx);
    const took = Date.now() - started;
    expect(outcome).toEqual({
      status: 'error',
      kind: 'runtime',
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${ctx.requestId} Error: Task timed out after 1.00 seconds`,
      },
    });
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(1500);
    // A new environment: the counter starts over, on a second instance.
    expect(json(await host.invoke(encode('{"action":"counter"}'), testContext()))).toEqual({ count: 1 });
    expect(host.instanceCount).toBe(2);
  });

  it('a sleep past the deadline ends at the deadline, without a busy thread', async () => {
    const { host } = await isolated(core('faults'));
    const started = Date.now();
    const cpu = process.cpuUsage();
    const outcome = await host.invoke(
      encode('{"action":"sleep","ms":5000}'),
      testContext({ deadlineMs: started + 800 }),
    );
    const { user } = process.cpuUsage(cpu);
    expect(outcome).toMatchObject({ status: 'error', error: { errorType: 'Sandbox.Timedout' } });
    expect(Date.now() - started).toBeLessThan(1300);
    // The process (both threads) used far less CPU than the 800 ms it waited.
    expect(user / 1000).toBeLessThan(300);
  });

  it('every line written before the timeout is in the log, in order, when invoke returns', async () => {
    const { host, log } = await isolated(core('faults'));
    const ctx = testContext({ deadlineMs: Date.now() + 1000 });
    await host.invoke(encode('{"action":"log-then-spin","lines":2000}'), ctx);
    const lines = log().trimEnd().split('\n');
    expect(lines).toHaveLength(2000);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^\\S+Z\\t${ctx.requestId}\\tINFO\\tline ${i}$`));
    });
  });

  it('answers like the inline host, for core and component alike', async () => {
    for (const guest of [core('hello'), { kind: 'component' as const, dir: componentDir('hello') }]) {
      const { host, log } = await isolated(guest);
      const ctx = testContext();
      expect(json(await host.invoke(encode('{"name":"Ada"}'), ctx))).toEqual({ message: 'Hello, Ada!' });
      expect(log()).toMatch(new RegExp(`^\\S+Z\\t${ctx.requestId}\\tINFO\\tgreeting Ada from test-fn\\n$`));
    }
  });

  it('runs fresh mode on new instances, prepared between invocations', async () => {
    const { host } = await isolated(core('faults'), { instanceMode: 'fresh', tmp: { maxBytes: 2 ** 20 } });
    for (let i = 0; i < 3; i++) {
      expect(json(await host.invoke(encode('{"action":"counter"}'), testContext()))).toEqual({ count: 1 });
    }
    expect(json(await host.invoke(encode('{"action":"tmp"}'), testContext()))).toEqual({ tmp: 'scratch' });
    expect(json(await host.invoke(encode('{"action":"tmp-read"}'), testContext()))).toEqual({ tmp: null });
  });

  it('refuses a second invocation while one runs, typed', async () => {
    const { host } = await isolated(core('faults'));
    const first = host.invoke(encode('{"action":"sleep","ms":100}'), testContext());
    await expect(Promise.resolve().then(() => host.invoke(encode('{}'), testContext()))).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(json(await first)).toEqual({ slept: 100 });
  });

  it('reports an init failure as a typed error, not a hang', async () => {
    await expect(
      loadHost({
        guest: { kind: 'core', path: '/nonexistent/handler.wasm' },
        options: {},
        isolation: 'worker',
        workerUrl: WORKER,
      }),
    ).rejects.toMatchObject({ code: 'HANDLER_NOT_FOUND' });
  });
});
