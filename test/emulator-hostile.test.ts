import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES } from '../src/emulator/limits.js';
import { platformErrorType } from '../src/emulator/runtime-api-server.js';
import { fn, type Running, startEmulator } from './support/emulator.js';
import { bootstrapPath, handlerPath } from './support/handlers.js';

/** A Node.js handler that misbehaves on demand: throws chosen error names, allocates memory. */
const HOSTILE_HANDLER = `
export const handler = async (event) => {
  if (event.throwName !== undefined) {
    const err = new Error(event.message ?? 'thrown');
    err.name = event.throwName;
    throw err;
  }
  if (event.hugeErrorBytes !== undefined) throw new Error('x'.repeat(event.hugeErrorBytes));
  const held = [];
  for (let i = 0; i < (event.allocateMb ?? 0); i++) held.push(Buffer.alloc(1024 * 1024, 1));
  globalThis.held = held;
  await new Promise((resolve) => setTimeout(resolve, event.holdMs ?? 0));
  return { held: held.length };
};
`;

/** A custom runtime that reports errors the way a hostile or broken one might. */
const RAW_RUNTIME = `#!${process.execPath}
const http = require('node:http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: '/2018-06-01/runtime' + path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
(async () => {
  for (;;) {
    const next = await call('GET', '/invocation/next', {});
    const id = next.headers['lambda-runtime-aws-request-id'];
    const event = JSON.parse(next.body.toString());
    if (event.errorBytes) {
      const body = Buffer.alloc(event.errorBytes, 0x20);
      body.write('{"errorType":"Big","errorMessage":"', 0);
      body.write('"}', event.errorBytes - 2);
      const res = await call('POST', '/invocation/' + id + '/error', { 'content-type': 'application/json' }, body);
      console.log('error answered ' + res.status);
      continue;
    }
    const headers = { 'lambda-runtime-function-error-type': Buffer.from(event.headerType, 'latin1').toString('latin1') };
    const body = JSON.stringify({ errorType: 'Raw', errorMessage: 'raw' });
    await call('POST', '/invocation/' + id + '/error', headers, body);
  }
})();
`;

function json(body: string): unknown {
  return JSON.parse(body);
}

/** An Invoke request through node:http, which (unlike fetch) sends latin1 header values as they are. */
function rawInvoke(
  endpoint: string,
  path: string,
  headers: Record<string, string>,
  body = '{}',
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['x-amzn-errortype'] as string | undefined,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const SMUGGLING_TYPES = [
  ['CRLF', 'Boom\r\nContent-Length: 0\r\n\r\nGET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n'],
  ['U+010D U+010A (CR LF once written as latin1)', 'Boom\u010d\u010aContent-Length: 0\u010d\u010a\u010d\u010a'],
  ['10 KB of text', 'T'.repeat(10 * 1024)],
] as const;

describe('the emulator and the runtimes under hostile input', () => {
  let running: Running;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasi-lambda-hostile-'));
    await writeFile(join(dir, 'hostile.mjs'), HOSTILE_HANDLER);
    const raw = join(dir, 'raw-runtime');
    await writeFile(raw, RAW_RUNTIME);
    await chmod(raw, 0o755);
    running = await startEmulator([
      fn({ name: 'faults', kind: 'wasm', code: handlerPath('faults'), maxConcurrency: 1 }),
      fn({ name: 'hostile-node', kind: 'node', code: dir, handler: 'hostile.handler', maxConcurrency: 1 }),
      fn({ name: 'big-node', kind: 'node', code: dir, handler: 'hostile.handler', memoryMb: 512, timeoutSeconds: 10 }),
      fn({ name: 'hog-node', kind: 'node', code: dir, handler: 'hostile.handler', timeoutSeconds: 20 }),
      fn({ name: 'grow-native', kind: 'native', code: bootstrapPath('faults'), timeoutSeconds: 20 }),
      fn({ name: 'raw', kind: 'native', code: raw, maxConcurrency: 1 }),
    ]);
  });

  afterAll(async () => {
    await running.emulator.stop();
  });

  function report(requestId: string | null): string {
    return running.logs.find((line) => line.startsWith(`REPORT RequestId: ${requestId}\t`)) ?? '';
  }

  describe.each(SMUGGLING_TYPES)('an errorType with %s', (_, errorType) => {
    it('from a wasm guest reaches the caller intact; the runtime keeps serving, the queued invocation is fine', async () => {
      const pid = running.emulator.pool('faults')?.pids()[0];
      const event = JSON.stringify({ action: 'fail', error_type: errorType, message: 'sold out' });
      // maxConcurrency 1: the second invocation waits behind the first in the same environment.
      const [failed, queued] = await Promise.all([
        running.invoke('faults', event),
        running.invoke('faults', '{"action":"echo","payload":"next"}'),
      ]);
      expect(failed.status).toBe(200);
      expect(failed.headers.get('x-amz-function-error')).toBe('Unhandled');
      expect(json(failed.body)).toEqual({ errorType, errorMessage: 'sold out' });
      expect(queued.headers.get('x-amz-function-error')).toBeNull();
      expect(queued.body).toBe('"next"');
      if (pid !== undefined) expect(running.emulator.pool('faults')?.pids()).toEqual([pid]);
    });

    it('from a Node.js handler reaches the caller intact, and the next invocation is fine', async () => {
      const thrown = await running.invoke('hostile-node', JSON.stringify({ throwName: errorType, message: 'bad' }));
      expect(thrown.headers.get('x-amz-function-error')).toBe('Unhandled');
      expect(json(thrown.body)).toMatchObject({ errorType, errorMessage: 'bad' });
      const next = await running.invoke('hostile-node', '{}');
      expect(json(next.body)).toEqual({ held: 0 });
      expect(running.emulator.pool('hostile-node')?.environmentCount).toBe(1);
    });
  });

  it('a runtime’s own error-type header is kept only as a Runtime.* or Function.* name, as RIE keeps it', () => {
    expect(platformErrorType('Runtime.OutOfMemory')).toBe('Runtime.OutOfMemory');
    expect(platformErrorType('Function.ResponseSizeTooLarge')).toBe('Function.ResponseSizeTooLarge');
    expect(platformErrorType('Function.Bad\u00ff')).toBe('Function.Unknown');
    for (const [, type] of SMUGGLING_TYPES) expect(platformErrorType(type)).toBe('Runtime.Unknown');
    expect(platformErrorType('Runtime.Fine\r\nX: y')).toBe('Runtime.Unknown');
    expect(platformErrorType(undefined)).toBeUndefined();
  });

  it('a runtime’s own error-type header never reaches the caller or the log raw', async () => {
    const before = running.logs.length;
    const reply = await rawInvoke(
      running.emulator.endpoint,
      '/2015-03-31/functions/raw/invocations',
      {},
      '{"headerType":"Runtime.Fine\u00ff\u00e9"}',
    );
    expect(reply.status).toBe(200);
    expect(json(reply.body)).toEqual({ errorType: 'Raw', errorMessage: 'raw' });
    expect(running.logs.slice(before).join('')).not.toMatch(/[\u0080-\u00ff]/);
  });

  describe('X-Amz-Client-Context', () => {
    const context = {
      client: { installation_id: 'i-1' },
      custom: { note: 'line one\nline two', n: 42 },
    };

    it('JSON spread over lines reaches the guest as the same JSON on one header line', async () => {
      const text = `{\n  "client": {"installation_id": "i-1"},\n\t"custom": {"note": "line one\\nline two", "n": 12345678901234567890, "é": "ü"}\r\n}`;
      const reply = await running.invoke('faults', '{"action":"context"}', {
        'X-Amz-Client-Context': Buffer.from(text).toString('base64'),
      });
      expect(reply.status).toBe(200);
      const seen = (json(reply.body) as { clientContext: string }).clientContext;
      expect(seen).not.toMatch(/[\r\n\t]/);
      expect(json(seen)).toEqual(json(text));
      // Digits as sent: not re-serialised through a double.
      expect(seen).toContain('12345678901234567890');
    });

    it.each([
      ['invalid base64', '!!!not base64!!!'],
      ['base64 of text with a newline', Buffer.from('hello\r\nX-Injected: 1').toString('base64')],
      ['base64 of invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64')],
      ['base64 of a JSON array', Buffer.from('[1,2]').toString('base64')],
      ['base64 without its padding', Buffer.from('{"a":1}').toString('base64').replace(/=+$/, '')],
    ])('%s is a 400 InvalidRequestContentException; the emulator keeps serving', async (_, value) => {
      const reply = await rawInvoke(running.emulator.endpoint, '/2015-03-31/functions/faults/invocations', {
        'X-Amz-Client-Context': value,
      });
      expect(reply.status).toBe(400);
      expect(reply.type).toBe('InvalidRequestContentException');
      expect(json(reply.body)).toEqual({
        Type: 'User',
        message: 'Client context must be a valid Base64-encoded JSON object.',
      });
      expect((await running.invoke('faults', '{"action":"echo","payload":1}')).body).toBe('1');
    });

    it('over 3,583 bytes of base64 is a 400', async () => {
      const big = Buffer.from(JSON.stringify({ custom: { pad: 'p'.repeat(2700) } })).toString('base64');
      expect(big.length).toBeGreaterThan(3583);
      const reply = await running.invoke('faults', '{"action":"echo","payload":1}', { 'X-Amz-Client-Context': big });
      expect(reply.status).toBe(400);
      expect(reply.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
      const fits = Buffer.from(JSON.stringify(context)).toString('base64');
      expect(
        (await running.invoke('faults', '{"action":"echo","payload":1}', { 'X-Amz-Client-Context': fits })).body,
      ).toBe('1');
    });
  });

  it.each([
    [
      'an unknown X-Amz-Invocation-Type',
      '/faults/invocations',
      { 'X-Amz-Invocation-Type': 'Later' },
      400,
      'ValidationException',
      /at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: \[Event, RequestResponse, DryRun\]$/,
    ],
    [
      'an unknown X-Amz-Log-Type',
      '/faults/invocations',
      { 'X-Amz-Log-Type': 'Head' },
      400,
      'ValidationException',
      /Value 'Head' at 'logType'/,
    ],
    [
      'a qualifier with a slash',
      '/faults/invocations?Qualifier=a%2Fb',
      {},
      400,
      'ValidationException',
      /at 'qualifier'/,
    ],
    [
      'a qualifier that does not exist',
      '/faults:live/invocations',
      {},
      404,
      'ResourceNotFoundException',
      /function:faults:live$/,
    ],
    [
      'two different qualifiers',
      '/faults:live/invocations?Qualifier=prod',
      {},
      400,
      'InvalidParameterValueException',
      /does not match/,
    ],
    [
      'a malformed percent escape in the name',
      '/fa%zzults/invocations',
      {},
      400,
      'ValidationException',
      /at 'functionName'/,
    ],
    [
      'a trace id with latin1 characters',
      '/faults/invocations',
      { 'X-Amzn-Trace-Id': 'Root=1-\u00e9\u00ff' },
      400,
      'InvalidRequestContentException',
      /X-Amzn-Trace-Id/,
    ],
    [
      'a tenant id with latin1 characters',
      '/faults/invocations',
      { 'X-Amz-Tenant-Id': 'tenant\u00ff' },
      400,
      'ValidationException',
      /at 'tenantId'/,
    ],
  ])('%s is refused the way Lambda refuses it', async (_, path, headers, status, type, message) => {
    const reply = await rawInvoke(running.emulator.endpoint, `/2015-03-31/functions${path}`, headers);
    expect(reply.status).toBe(status);
    expect(reply.type).toBe(type);
    expect((json(reply.body) as { message: string }).message).toMatch(message);
  });

  it('accepts $LATEST as a qualifier, in the name or the query', async () => {
    for (const path of ['/faults:$LATEST/invocations', '/faults/invocations?Qualifier=$LATEST']) {
      const reply = await rawInvoke(
        running.emulator.endpoint,
        `/2015-03-31/functions${path}`,
        {},
        '{"action":"echo","payload":2}',
      );
      expect(reply).toMatchObject({ status: 200, body: '2' });
    }
  });

  it('a handler error over 6 MB is Function.ResponseSizeTooLarge, as an over-size response is', async () => {
    const bytes = MAX_RESPONSE_BYTES + 1;
    const reply = await running.invoke('raw', JSON.stringify({ errorBytes: bytes }));
    expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(json(reply.body)).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
    });
    // The runtime was told 413 and serves on.
    const next = await running.invoke('raw', JSON.stringify({ headerType: 'Runtime.Fine' }));
    expect(json(next.body)).toEqual({ errorType: 'Raw', errorMessage: 'raw' });
    expect(running.logs.join('')).toContain('error answered 413');

    const thrown = await running.invoke('big-node', JSON.stringify({ hugeErrorBytes: 7 * 1024 * 1024 }));
    expect(json(thrown.body)).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
    expect(json((await running.invoke('big-node', '{}')).body)).toEqual({ held: 0 });
  });

  it('Max Memory Used is the runtime process’s real peak, not clamped', async () => {
    const reply = await running.invoke('big-node', '{"allocateMb":200}');
    expect(json(reply.body)).toEqual({ held: 200 });
    const used = Number(/\tMax Memory Used: (\d+) MB\t/.exec(report(reply.headers.get('x-amzn-requestid')))?.[1]);
    expect(used).toBeGreaterThanOrEqual(200);
    expect(used).toBeLessThanOrEqual(512);
  });

  it.each([
    ['a Node.js handler holding 300 MB', 'hog-node', '{"allocateMb":300,"holdMs":15000}'],
    ['a native bootstrap growing a 300 MB Vec', 'grow-native', '{"action":"grow","mb":300}'],
  ])('%s in 128 MB is killed as Lambda kills it, and the next invocation re-initialises', async (_, name, event) => {
    const started = performance.now();
    const reply = await running.invoke(name, event);
    const requestId = reply.headers.get('x-amzn-requestid');
    expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(json(reply.body)).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
    });
    // Killed while it held the memory, long before the 15 s hold or the 20 s timeout.
    expect(performance.now() - started).toBeLessThan(5000);
    const line = report(requestId);
    expect(line).toMatch(/\tMemory Size: 128 MB\t/);
    expect(Number(/\tMax Memory Used: (\d+) MB\t/.exec(line)?.[1])).toBeGreaterThan(128);
    expect(line).toMatch(/\tStatus: error\tError Type: Runtime\.OutOfMemory\n$/);
    expect(running.logs.join('')).toContain(
      `RequestId: ${requestId} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n`,
    );

    const next = await running.invoke(name, name === 'hog-node' ? '{}' : '{"action":"echo","payload":"back"}');
    expect(next.headers.get('x-amz-function-error')).toBeNull();
    expect(report(next.headers.get('x-amzn-requestid'))).toMatch(/\tInit Duration: [\d.]+ ms\t/);
  });
});
