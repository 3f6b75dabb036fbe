import { readFile } from 'node:fs/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { ComponentHost } from '../src/component/component-host.js';
import type { FunctionHost } from '../src/host/function-host.js';
import type { InvokeOutcome } from '../src/host/outcome.js';
import { WasmHost, type WasmHostOptions } from '../src/host/wasm-host.js';
import type { LogFormat } from '../src/logging/log-format.js';
import { componentDir, decode, encode, handlerPath, testContext } from './support/handlers.js';

/** The ways a handler runs; the same suite must pass on each. */
const BACKENDS = ['core', 'component (jco)'] as const;
type Backend = (typeof BACKENDS)[number];

/** The inline hosts answer synchronously; these tests use them directly. */
type SyncHost = Omit<FunctionHost, 'invoke'> & {
  invoke(event: Uint8Array, ctx: ReturnType<typeof testContext>): InvokeOutcome;
};

function load(name: string, backend: Backend, options: WasmHostOptions): Promise<SyncHost> {
  if (backend === 'component (jco)') return ComponentHost.fromDir(componentDir(name), options);
  return WasmHost.fromFile(handlerPath(name), options);
}

const TEXT_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]+)\t(INFO|ERROR)\t(.*)\n$/;

async function host(
  name: string,
  backend: Backend,
  options: { logFormat?: LogFormat; env?: Record<string, string> } = {},
) {
  const lines: string[] = [];
  const instance = await load(name, backend, { logSink: (line) => lines.push(line), ...options });
  return { host: instance, lines };
}

function json(outcome: InvokeOutcome): unknown {
  if (outcome.status !== 'ok') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return JSON.parse(decode(outcome.response));
}

describe.each(BACKENDS)('a handler run by %s', (backend) => {
  describe('the hello example', () => {
    it('returns the greeting and logs one INFO line with the request id', async () => {
      const { host: h, lines } = await host('hello', backend);
      const ctx = testContext();
      const outcome = h.invoke(await readFile('test/fixtures/events/hello/ada.json'), ctx);
      expect(json(outcome)).toEqual({ message: 'Hello, Ada!' });
      expect(lines).toHaveLength(1);
      const [, timestamp, requestId, level, message] = TEXT_LINE.exec(lines[0] ?? '') ?? [];
      expect(requestId).toBe(ctx.requestId);
      expect(level).toBe('INFO');
      expect(message).toBe('greeting Ada from test-fn');
      expect(Math.abs(Date.parse(timestamp ?? '') - Date.now())).toBeLessThan(10_000);
    });

    it('writes JSON log records when the log format is JSON', async () => {
      const { host: h, lines } = await host('hello', backend, { logFormat: 'json' });
      const ctx = testContext();
      h.invoke(encode('{"name":"Grace"}'), ctx);
      expect(lines).toHaveLength(1);
      const record = JSON.parse(lines[0] ?? '');
      expect(record).toEqual({
        timestamp: expect.stringMatching(/Z$/),
        level: 'INFO',
        requestId: ctx.requestId,
        message: 'greeting Grace from test-fn',
      });
    });

    it('reuses one instance across warm invocations', async () => {
      const { host: h } = await host('hello', backend);
      for (let i = 0; i < 50; i++)
        expect(json(h.invoke(encode('{}'), testContext()))).toEqual({ message: 'Hello, world!' });
      expect(h.instanceCount).toBe(1);
    });
  });

  describe('failures become Lambda error bodies and the host survives', () => {
    let h: SyncHost;
    let lines: string[];
    beforeEach(async () => {
      ({ host: h, lines } = await host('faults', backend));
    });

    const counter = () => json(h.invoke(encode('{"action":"counter"}'), testContext()));

    it('an Err from the handler keeps its errorType and errorMessage', () => {
      const outcome = h.invoke(
        encode('{"action":"fail","error_type":"ValidationError","message":"sku is required"}'),
        testContext(),
      );
      expect(outcome).toEqual({
        status: 'error',
        kind: 'handler',
        error: { errorType: 'ValidationError', errorMessage: 'sku is required' },
      });
    });

    it('a ? on a standard error names the error type', () => {
      const outcome = h.invoke(encode('{"action":"parse-int","text":"12x"}'), testContext());
      expect(outcome).toMatchObject({
        kind: 'handler',
        error: { errorType: 'ParseIntError', errorMessage: 'invalid digit found in string' },
      });
    });

    it('malformed event JSON is an unmarshal error, and the instance is kept', () => {
      expect(counter()).toEqual({ count: 1 });
      const outcome = h.invoke(encode('{"action": "echo", "payload": '), testContext());
      expect(outcome).toMatchObject({
        status: 'error',
        kind: 'handler',
        error: { errorType: 'Runtime.UnmarshalError' },
      });
      if (outcome.status === 'error') expect(outcome.error.errorMessage).toMatch(/EOF while parsing/);
      expect(counter()).toEqual({ count: 2 });
      expect(h.instanceCount).toBe(1);
    });

    it('an event of the wrong shape names the expected type', () => {
      const outcome = h.invoke(encode('{"action":"no-such-action"}'), testContext());
      expect(outcome).toMatchObject({ kind: 'handler', error: { errorType: 'Runtime.UnmarshalError' } });
      if (outcome.status === 'error') expect(outcome.error.errorMessage).toMatch(/unknown variant `no-such-action`/);
    });

    it('a panic reports its message and location, keeps the logs, and the next call gets a fresh instance', () => {
      expect(counter()).toEqual({ count: 1 });
      const ctx = testContext();
      const outcome = h.invoke(encode('{"action":"panic","message":"boom 42","log":"about to fail"}'), ctx);
      expect(outcome).toEqual({
        status: 'error',
        kind: 'runtime',
        error: {
          errorType: 'Runtime.Panic',
          errorMessage: expect.stringMatching(/^panicked at test-guests\/faults\/src\/lib\.rs:\d+:\d+: boom 42$/),
        },
      });
      const messages = lines.map((line) => TEXT_LINE.exec(line)?.slice(2));
      expect(messages).toContainEqual([ctx.requestId, 'INFO', 'about to fail']);
      expect(messages).toContainEqual([ctx.requestId, 'ERROR', expect.stringMatching(/^panicked at .*: boom 42$/)]);
      // The trapped instance was replaced: its globals start over.
      expect(counter()).toEqual({ count: 1 });
      expect(h.instanceCount).toBe(2);
    });

    it('a trap without a panic is a Runtime.Trap', () => {
      const outcome = h.invoke(encode('{"action":"trap"}'), testContext());
      expect(outcome).toEqual({
        status: 'error',
        kind: 'runtime',
        error: { errorType: 'Runtime.Trap', errorMessage: 'wasm trap: unreachable' },
      });
      expect(counter()).toEqual({ count: 1 });
    });

    it('streams stdout as INFO and stderr as ERROR lines, flushing a partial last line', () => {
      const ctx = testContext();
      const outcome = h.invoke(
        encode(
          JSON.stringify({
            action: 'log',
            stdout: ['first', 'second: ünïcödé'],
            stderr: ['warning: disk\tfull'],
            partial: 'no newline',
          }),
        ),
        ctx,
      );
      expect(json(outcome)).toEqual({ logged: 3 });
      expect(lines.map((line) => TEXT_LINE.exec(line)?.slice(3))).toEqual([
        ['INFO', 'first'],
        ['INFO', 'second: ünïcödé'],
        ['ERROR', 'warning: disk\tfull'],
        ['INFO', 'no newline'],
      ]);
      expect(lines.every((line) => line.includes(`\t${ctx.requestId}\t`))).toBe(true);
    });

    it('passes every context field and a deadline the guest can measure', () => {
      const ctx = testContext({
        xrayTraceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
        clientContext: '{"custom":{"k":"v"}}',
        identity: '{"cognitoIdentityId":"id"}',
        tenantId: 'acme',
      });
      const seen = json(h.invoke(encode('{"action":"context"}'), ctx)) as Record<string, unknown>;
      expect(seen).toEqual({
        requestId: ctx.requestId,
        functionName: ctx.functionName,
        functionVersion: ctx.functionVersion,
        invokedFunctionArn: ctx.invokedFunctionArn,
        memoryLimitMb: ctx.memoryLimitMb,
        deadlineMs: ctx.deadlineMs,
        logGroupName: ctx.logGroupName,
        logStreamName: ctx.logStreamName,
        xrayTraceId: ctx.xrayTraceId,
        clientContext: ctx.clientContext,
        identity: ctx.identity,
        tenantId: ctx.tenantId,
        remainingMs: expect.any(Number),
      });
      expect(seen.remainingMs).toBeGreaterThan(2000);
      expect(seen.remainingMs).toBeLessThanOrEqual(3000);

      const bare = json(h.invoke(encode('{"action":"context"}'), testContext())) as Record<string, unknown>;
      expect(bare.xrayTraceId).toBeNull();
      expect(bare.tenantId).toBeNull();
    });
  });

  describe('least authority', () => {
    it('the guest sees only the granted environment and no host files', async () => {
      process.env.AWS_SECRET_ACCESS_KEY = 'host-secret-should-not-leak';
      try {
        const { host: h } = await host('faults', backend, { env: { STAGE: 'test' } });
        const seen = json(h.invoke(encode('{"action":"environment"}'), testContext())) as Record<string, unknown>;
        expect(seen.env).toEqual([['STAGE', 'test']]);
        expect(seen.args).toEqual(['handler']);
        expect(seen.etcPasswd).toBe(false);
      } finally {
        delete process.env.AWS_SECRET_ACCESS_KEY;
      }
    });
  });
});

describe.each(BACKENDS)('the guest memory cap (%s)', (backend) => {
  it('lets the guest use its share and stops it at the cap with Runtime.OutOfMemory', async () => {
    const { guestMemoryPages } = await import('../src/host/memory-limit.js');
    const pages = guestMemoryPages(128);
    expect(pages).toBe(768); // 128 MB - 80 MB for Node.js = 48 MB of linear memory
    const lines: string[] = [];
    const h = await load('faults', backend, { maxMemoryPages: pages, logSink: (l) => lines.push(l) });
    expect(json(h.invoke(encode('{"action":"grow","mb":32}'), testContext()))).toEqual({ held: 32 });
    const outcome = h.invoke(encode('{"action":"grow","mb":100}'), testContext());
    expect(outcome).toMatchObject({
      status: 'error',
      kind: 'runtime',
      error: {
        errorType: 'Runtime.OutOfMemory',
        errorMessage:
          'the guest ran out of linear memory of the 48 MB it may use: memory allocation of 104857600 bytes failed; raise memorySize or use less',
      },
    });
    expect(lines.join('')).toMatch(/memory allocation of 104857600 bytes failed/);
    expect(json(h.invoke(encode('{"action":"grow","mb":32}'), testContext()))).toEqual({ held: 32 });
  });
});

describe('where the component backend differs, by the component model’s own rules', () => {
  it('an exit status is only success or failure: wasi:cli/exit carries no code', async () => {
    const core = await load('faults', 'core', { logSink: () => {} });
    const component = await load('faults', 'component (jco)', { logSink: () => {} });
    const event = encode('{"action":"exit","code":3}');
    const ctx = testContext();
    expect(core.invoke(event, ctx)).toMatchObject({ error: { errorMessage: expect.stringMatching(/exit status 3$/) } });
    expect(component.invoke(event, ctx)).toMatchObject({
      error: { errorType: 'Runtime.ExitError', errorMessage: expect.stringMatching(/exit status 1$/) },
    });
  });
});

describe.each(BACKENDS)('fresh instance mode (%s)', (backend) => {
  it('gives every invocation a new instance: globals start over, reuse keeps them', async () => {
    const fresh = await load('faults', backend, { instanceMode: 'fresh', logSink: () => {} });
    const reuse = await load('faults', backend, { logSink: () => {} });
    const counter = encode('{"action":"counter"}');
    for (let i = 1; i <= 3; i++) {
      expect(json(fresh.invoke(counter, testContext()))).toEqual({ count: 1 });
      expect(json(reuse.invoke(counter, testContext()))).toEqual({ count: i });
    }
    expect(reuse.instanceCount).toBe(1);
    expect(fresh.instanceCount).toBeGreaterThanOrEqual(3);
  });

  it('stays correct when an invocation grew its memory', async () => {
    const fresh = await load('faults', backend, { instanceMode: 'fresh', logSink: () => {} });
    expect(json(fresh.invoke(encode('{"action":"grow","mb":8}'), testContext()))).toEqual({ held: 8 });
    expect(json(fresh.invoke(encode('{"action":"counter"}'), testContext()))).toEqual({ count: 1 });
    for (let i = 0; i < 20; i++)
      expect(json(fresh.invoke(encode('{"action":"grow","mb":4}'), testContext()))).toEqual({ held: 4 });
  });
});

describe('a writable /tmp only when granted', () => {
  it('is absent by default on every backend', async () => {
    for (const backend of BACKENDS) {
      const h = await load('faults', backend, { logSink: () => {} });
      expect(json(h.invoke(encode('{"action":"tmp"}'), testContext()))).toMatchObject({ tmp: null });
    }
  });

  it('lives in memory: the guest writes and reads it, the host disk never sees it', async () => {
    const { existsSync } = await import('node:fs');
    const h = await load('faults', 'core', { tmp: { maxBytes: 2 ** 20 }, logSink: () => {} });
    expect(json(h.invoke(encode('{"action":"tmp"}'), testContext()))).toEqual({ tmp: 'scratch' });
    expect(existsSync('/tmp/wasi-lambda-probe.txt')).toBe(false);
    // A reused instance keeps its /tmp across invocations, as Lambda keeps /tmp.
    expect(json(h.invoke(encode('{"action":"tmp-read"}'), testContext()))).toEqual({ tmp: 'scratch' });
  });

  it('is new for every invocation in fresh mode', async () => {
    const h = await load('faults', 'core', { tmp: { maxBytes: 2 ** 20 }, instanceMode: 'fresh', logSink: () => {} });
    expect(json(h.invoke(encode('{"action":"tmp"}'), testContext()))).toEqual({ tmp: 'scratch' });
    expect(json(h.invoke(encode('{"action":"tmp-read"}'), testContext()))).toEqual({ tmp: null });
  });

  it('holds at most its quota: the write past it fails inside the guest, which carries on', async () => {
    // 4 MiB of contents plus room for the names, which count against the quota too.
    const h = await load('faults', 'core', { tmp: { maxBytes: 4 * 2 ** 20 + 4096 }, logSink: () => {} });
    const filled = json(h.invoke(encode('{"action":"tmp-fill","mb":64}'), testContext())) as Record<string, unknown>;
    expect(filled.written).toBe(4);
    expect(filled.error).toBe('no storage space'); // ENOSPC, as a full tmpfs answers
    expect(json(h.invoke(encode('{"action":"counter"}'), testContext()))).toEqual({ count: 1 });
  });

  it('is refused, typed, by the component backend, which has no filesystem', async () => {
    await expect(load('faults', 'component (jco)', { tmp: { maxBytes: 2 ** 20 } })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});
