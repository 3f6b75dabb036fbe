import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../src/emulator/limits.js';
import { fn, type Running, startEmulator } from './support/emulator.js';
import { bootstrapPath, componentDir, handlerPath } from './support/handlers.js';

const FIXTURES = 'test/fixtures/events';

function sdk(endpoint: string): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    maxAttempts: 1,
  });
}

describe('the emulator serving wasm, native and Node.js functions', () => {
  let running: Running;

  beforeAll(async () => {
    running = await startEmulator([
      fn({ name: 'hello', kind: 'wasm', code: handlerPath('hello') }),
      fn({ name: 'hello-native', kind: 'native', code: bootstrapPath('hello') }),
      fn({ name: 'hello-node', kind: 'node', code: 'baselines/node', handler: 'hello.handler' }),
      fn({ name: 'http-api', kind: 'wasm', code: handlerPath('http-api') }),
      fn({ name: 'http-api-native', kind: 'native', code: bootstrapPath('http-api') }),
      // 256 MB: a 6 MB event through a worker-isolated wasm host peaks above 128 MB on Node.js 24
      // (copies in the socket, the worker hop, guest memory and the response); at 128 MB the
      // emulator, as Lambda, kills the runtime for exceeding its memory.
      fn({ name: 'faults', kind: 'wasm', code: handlerPath('faults'), timeoutSeconds: 1, memoryMb: 256 }),
      fn({ name: 'hello-component', kind: 'wasm', backend: 'component', code: componentDir('hello') }),
      fn({ name: 'http-api-component', kind: 'wasm', backend: 'component', code: componentDir('http-api') }),
      fn({ name: 'faults-component', kind: 'wasm', backend: 'component', code: componentDir('faults') }),
      fn({ name: 'faults-native', kind: 'native', code: bootstrapPath('faults'), timeoutSeconds: 1 }),
      fn({ name: 'sleepy', kind: 'native', code: bootstrapPath('faults'), maxConcurrency: 2 }),
    ]);
  });

  afterAll(async () => {
    await running.emulator.stop();
  });

  describe('@aws-sdk/client-lambda pointed at the emulator works unchanged', () => {
    it('invokes, and returns the payload, version and the tail of the log', async () => {
      const client = sdk(running.emulator.endpoint);
      const out = await client.send(
        new InvokeCommand({ FunctionName: 'hello', Payload: Buffer.from('{"name":"Ada"}'), LogType: 'Tail' }),
      );
      expect(out.StatusCode).toBe(200);
      expect(out.ExecutedVersion).toBe('$LATEST');
      expect(out.FunctionError).toBeUndefined();
      expect(Buffer.from(out.Payload ?? []).toString()).toBe('{"message":"Hello, Ada!"}');
      const log = Buffer.from(out.LogResult ?? '', 'base64').toString();
      expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST\n/);
      expect(log).toMatch(/\tINFO\tgreeting Ada from hello\n/);
      expect(log).toMatch(/END RequestId: \S+\nREPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms/);
    });

    it('reports a function error in FunctionError with the error body as payload', async () => {
      const out = await sdk(running.emulator.endpoint).send(
        new InvokeCommand({
          FunctionName: 'faults',
          Payload: readFileSync(join(FIXTURES, 'faults', 'handled-error.json')),
        }),
      );
      expect(out.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(out.Payload ?? []).toString())).toEqual({
        errorType: 'OutOfStock',
        errorMessage: 'sku A1 is sold out',
      });
    });

    it('surfaces AWS error types as SDK exceptions', async () => {
      const client = sdk(running.emulator.endpoint);
      await expect(client.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
      const tooBig = Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20);
      await expect(client.send(new InvokeCommand({ FunctionName: 'hello', Payload: tooBig }))).rejects.toMatchObject({
        name: 'RequestTooLargeException',
        message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      });
    });
  });

  describe('wasm (core and component) and native builds of the same handler answer identically', () => {
    // orders needs DynamoDB, S3 and a webhook: test/aws-orders.test.ts compares its three builds against moto.
    const cases = readdirSync(FIXTURES)
      .filter((handler) => handler !== 'orders')
      .flatMap((handler) => readdirSync(join(FIXTURES, handler)).map((file) => [handler, file] as const));

    it.each(cases)('%s / %s', async (handler, file) => {
      const event = readFileSync(join(FIXTURES, handler, file));
      const [wasm, native, component] = await Promise.all([
        running.invoke(handler, event),
        running.invoke(`${handler}-native`, event),
        running.invoke(`${handler}-component`, event),
      ]);
      expect(wasm.status).toBe(200);
      for (const other of [native, component]) {
        expect(other.status).toBe(200);
        expect(other.headers.get('x-amz-function-error')).toBe(wasm.headers.get('x-amz-function-error'));
        expect(other.body).toBe(wasm.body);
      }
    });

    it('the Node.js baseline answers hello like both', async () => {
      for (const file of readdirSync(join(FIXTURES, 'hello'))) {
        const event = readFileSync(join(FIXTURES, 'hello', file));
        const [wasm, node] = await Promise.all([running.invoke('hello', event), running.invoke('hello-node', event)]);
        expect(node.body).toBe(wasm.body);
      }
    });

    it('and log the same lines with their own request ids', async () => {
      const before = running.logs.length;
      await running.invoke('hello', '{"name":"Log"}');
      await running.invoke('hello-native', '{"name":"Log"}');
      const lines = running.logs.slice(before).filter((line) => line.includes('\tINFO\t'));
      expect(lines.map((line) => line.split('\t').slice(2).join('\t'))).toEqual([
        'INFO\tgreeting Log from hello\n',
        'INFO\tgreeting Log from hello-native\n',
      ]);
    });
  });

  describe.each(['faults', 'faults-native'])('faults in %s', (name) => {
    it('a guest that never returns times out after the function timeout and the next call re-initialises', async () => {
      const reply = await running.invoke(name, '{"action":"spin"}');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
      const requestId = reply.headers.get('x-amzn-requestid');
      expect(JSON.parse(reply.body)).toEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(reply.ms).toBeGreaterThanOrEqual(1000);
      expect(reply.ms).toBeLessThan(2500);
      expect(running.logs.join('')).toMatch(
        new RegExp(`REPORT RequestId: ${requestId}\\tDuration: 1000.00 ms.*\\tStatus: timeout\\n`),
      );

      const next = await running.invoke(name, '{"action":"echo","payload":"alive"}');
      expect(next.body).toBe('"alive"');
      const report = running.logs.find((line) =>
        line.startsWith(`REPORT RequestId: ${next.headers.get('x-amzn-requestid')}`),
      );
      expect(report).toMatch(/\tInit Duration: [\d.]+ ms\t/);
    });

    it('a guest sleeping past the deadline times out the same way', async () => {
      const reply = await running.invoke(name, '{"action":"sleep","ms":5000}');
      expect(JSON.parse(reply.body)).toMatchObject({
        errorType: 'Sandbox.Timedout',
        errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/),
      });
      expect(reply.ms).toBeLessThan(2500);
    });

    it('a guest exit is a Runtime.ExitError with the exit status', async () => {
      const reply = await running.invoke(name, '{"action":"exit","code":3}');
      const requestId = reply.headers.get('x-amzn-requestid');
      expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
      expect(JSON.parse(reply.body)).toEqual({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status 3`,
      });
      expect((await running.invoke(name, '{"action":"echo","payload":1}')).body).toBe('1');
    });

    it('a response over 6 MB is Function.ResponseSizeTooLarge; exactly the limit passes', async () => {
      const over = await running.invoke(name, JSON.stringify({ action: 'big', bytes: MAX_RESPONSE_BYTES + 1 }));
      expect(JSON.parse(over.body)).toEqual({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size (${MAX_RESPONSE_BYTES + 1} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
      });
      const exact = await running.invoke(name, JSON.stringify({ action: 'big', bytes: MAX_RESPONSE_BYTES }));
      expect(exact.headers.get('x-amz-function-error')).toBeNull();
      expect(exact.body.length).toBe(MAX_RESPONSE_BYTES);
    });

    it('accepts a request of exactly 6 MB', async () => {
      const prefix = '{"action":"echo","payload":"';
      const event = `${prefix}${'x'.repeat(MAX_REQUEST_BYTES - prefix.length - 2)}"}`;
      expect(Buffer.byteLength(event)).toBe(MAX_REQUEST_BYTES);
      const reply = await running.invoke(name, event);
      expect(reply.status).toBe(200);
      expect(reply.body.length).toBe(MAX_REQUEST_BYTES - prefix.length);
    });
  });

  it('a native runtime killed by a signal mid-invocation is Runtime.ExitError "signal: killed"', async () => {
    const pending = running.invoke('faults-native', '{"action":"sleep","ms":800}');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pids = execFileSync('pgrep', ['-f', bootstrapPath('faults')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    const reply = await pending;
    expect(JSON.parse(reply.body)).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/Error: Runtime exited with error: signal: killed$/),
    });
  });

  it('serves concurrent invocations with at most maxConcurrency environments, queueing the rest', async () => {
    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => running.invoke('sleepy', '{"action":"sleep","ms":300}')),
    );
    const elapsed = performance.now() - started;
    expect(replies.map((r) => r.body)).toEqual(Array(6).fill('{"slept":300}'));
    expect(running.emulator.pool('sleepy')?.environmentCount).toBe(2);
    // Six 300 ms invocations on two environments take three rounds.
    expect(elapsed).toBeGreaterThanOrEqual(900);
    const initReports = running.logs.filter((l) => l.includes('Init Duration') && l.includes('REPORT'));
    expect(initReports.length).toBeGreaterThan(0);
  });
});
