import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fn, type Running, startEmulator } from './support/emulator.js';

/**
 * A custom runtime (`provided.al2023`-style `bootstrap`) that reports what the Runtime API
 * gave it: the /next headers, the raw event, its environment, and how the API answered a
 * response for a request id that is not in flight.
 */
const PROBE = `#!${process.execPath}
(async () => {
  const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime';
  for (;;) {
    const next = await fetch(base + '/invocation/next');
    const headers = Object.fromEntries(next.headers);
    const event = await next.text();
    const wrong = await fetch(base + '/invocation/not-the-request-id/response', { method: 'POST', body: '{}' });
    const body = JSON.stringify({ headers, event, env: process.env, wrong: { status: wrong.status, body: await wrong.json() } });
    const done = await fetch(base + '/invocation/' + headers['lambda-runtime-aws-request-id'] + '/response', { method: 'POST', body });
    if (done.status !== 202) process.exit(9);
  }
})();
`;

/** A runtime whose init fails: it reports to /runtime/init/error and exits, as AWS's clients do. */
const BROKEN = `#!${process.execPath}
(async () => {
  await fetch('http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime/init/error', {
    method: 'POST',
    headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError' },
    body: JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'Cannot find module handler' }),
  });
  process.exit(1);
})();
`;

describe('the emulated Runtime API', () => {
  let running: Running;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasi-lambda-probe-'));
    const probe = join(dir, 'probe');
    const broken = join(dir, 'broken');
    await writeFile(probe, PROBE);
    await writeFile(broken, BROKEN);
    await chmod(probe, 0o755);
    await chmod(broken, 0o755);
    process.env.WASI_LAMBDA_TEST_CANARY = 'must-not-reach-the-function';
    running = await startEmulator([
      fn({
        name: 'probe',
        kind: 'native',
        code: probe,
        memoryMb: 512,
        timeoutSeconds: 7,
        environment: { STAGE: 'test' },
      }),
      fn({ name: 'broken', kind: 'native', code: broken }),
    ]);
  });

  afterAll(async () => {
    delete process.env.WASI_LAMBDA_TEST_CANARY;
    await running.emulator.stop();
  });

  it('delivers the event bytes untouched with every documented /next header', async () => {
    const event = '{ "spacing" :  "kept",\n "unicode": "ü\\u00fc" }';
    const clientContext = { client: { installation_id: 'i-1' }, custom: { k: 'v' }, env: {} };
    const before = Date.now();
    const reply = await running.invoke('probe', event, {
      'X-Amz-Client-Context': Buffer.from(JSON.stringify(clientContext)).toString('base64'),
      'X-Amzn-Trace-Id': 'Root=1-65f0a1b2-0123456789abcdef01234567;Sampled=1',
      'X-Amz-Tenant-Id': 'tenant-42',
    });
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body) as { headers: Record<string, string>; event: string };
    expect(seen.event).toBe(event);
    const headers = seen.headers;
    expect(headers['lambda-runtime-aws-request-id']).toBe(reply.headers.get('x-amzn-requestid'));
    expect(headers['lambda-runtime-aws-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    expect(deadline).toBeGreaterThanOrEqual(before + 7000);
    expect(deadline).toBeLessThan(Date.now() + 7000 + 1000);
    expect(headers['lambda-runtime-invoked-function-arn']).toBe('arn:aws:lambda:us-east-1:000000000000:function:probe');
    expect(headers['lambda-runtime-trace-id']).toBe('Root=1-65f0a1b2-0123456789abcdef01234567;Sampled=1');
    expect(JSON.parse(headers['lambda-runtime-client-context'] ?? '')).toEqual(clientContext);
    expect(headers['lambda-runtime-aws-tenant-id']).toBe('tenant-42');
    expect(headers).not.toHaveProperty('lambda-runtime-cognito-identity');
    expect(headers['content-type']).toBe('application/json');
  });

  it('gives the runtime Lambda environment variables and nothing from the host', async () => {
    const reply = await running.invoke('probe', '{}');
    const env = (JSON.parse(reply.body) as { env: Record<string, string> }).env;
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'probe',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/probe',
      AWS_LAMBDA_RUNTIME_API: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      STAGE: 'test',
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env).not.toHaveProperty('WASI_LAMBDA_TEST_CANARY');
    expect(env).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
  });

  it('refuses a response for a request id that is not in flight', async () => {
    const reply = await running.invoke('probe', '{}');
    const wrong = (JSON.parse(reply.body) as { wrong: { status: number; body: unknown } }).wrong;
    expect(wrong).toEqual({
      status: 400,
      body: { errorMessage: 'Invalid request ID: not-the-request-id', errorType: 'InvalidRequestID' },
    });
  });

  it('reports an init error to the caller with the runtime error type', async () => {
    const reply = await running.invoke('broken', '{}');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(JSON.parse(reply.body)).toEqual({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: 'Cannot find module handler',
    });
  });

  it('answers unknown routes and functions the way AWS does', async () => {
    const missing = await running.invoke('nope', '{}');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(JSON.parse(missing.body)).toEqual({
      Type: 'User',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    });
    const notJson = await running.invoke('probe', '{"unterminated": ');
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(JSON.parse(notJson.body).message).toMatch(/^Could not parse request body into json: /);
  });
});
