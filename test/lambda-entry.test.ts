import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentDir, handlerPath } from './support/handlers.js';
import { run } from './support/spawn.js';

const BUNDLE = resolve('dist/lambda/handler.mjs');

/**
 * Loads the esbuild bundle in a fresh Node process the way the managed runtime does
 * (environment first, then `import`), calls `handler(event, context)` once and reports the
 * result or the thrown error on stderr; the guest's logs stay on stdout, as in Lambda.
 */
async function invokeBundle(env: Record<string, string>, event: unknown, remainingMs = 3000) {
  const script = `
    const context = {
      awsRequestId: 'a1b2c3d4-0000-4000-8000-000000000001', functionName: 'quotes', functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:quotes', memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/quotes', logStreamName: '2026/11/22/[$LATEST]abc',
      getRemainingTimeInMillis: () => ${remainingMs},
    };
    try {
      const { handler } = await import(${JSON.stringify(BUNDLE)});
      const result = await handler(${JSON.stringify(event)}, context);
      process.stderr.write(JSON.stringify({ result }));
    } catch (e) {
      process.stderr.write(JSON.stringify({ error: { name: e.name, message: e.message, code: e.code } }));
    }`;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { logs: stdout, outcome: JSON.parse(stderr) as { result?: unknown; error?: Record<string, string> } };
}

describe('the Lambda entry bundle (managed Node.js runtime)', () => {
  it('answers an event with the guest response and logs with the request id', async () => {
    const { logs, outcome } = await invokeBundle({ WASI_LAMBDA_MODULE: handlerPath('hello') }, { name: 'Ada' });
    expect(outcome).toEqual({ result: { message: 'Hello, Ada!' } });
    expect(logs).toMatch(/^\S+Z\ta1b2c3d4-0000-4000-8000-000000000001\tINFO\tgreeting Ada from quotes\n$/);
  });

  it('runs the same handler as a component with WASI_LAMBDA_BACKEND=component', async () => {
    const { logs, outcome } = await invokeBundle(
      { WASI_LAMBDA_BACKEND: 'component', WASI_LAMBDA_COMPONENT: componentDir('hello') },
      { name: 'Ada' },
    );
    expect(outcome).toEqual({ result: { message: 'Hello, Ada!' } });
    expect(logs).toMatch(/^\S+Z\ta1b2c3d4-0000-4000-8000-000000000001\tINFO\tgreeting Ada from quotes\n$/);
  });

  it('throws the guest error with errorType as the name, which the runtime reports', async () => {
    const { outcome } = await invokeBundle(
      { WASI_LAMBDA_MODULE: handlerPath('faults') },
      { action: 'fail', error_type: 'OutOfStock', message: 'sku A1' },
    );
    expect(outcome.error).toMatchObject({ name: 'OutOfStock', message: 'sku A1' });
  });

  it('writes JSON log records when Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON', async () => {
    const { logs } = await invokeBundle(
      { WASI_LAMBDA_MODULE: handlerPath('hello'), AWS_LAMBDA_LOG_FORMAT: 'JSON' },
      { name: 'Ada' },
    );
    expect(JSON.parse(logs)).toMatchObject({
      level: 'INFO',
      requestId: 'a1b2c3d4-0000-4000-8000-000000000001',
      message: 'greeting Ada from quotes',
    });
  });

  it('gives the guest only granted variables, never the function role credentials', async () => {
    const { outcome } = await invokeBundle(
      {
        WASI_LAMBDA_MODULE: handlerPath('faults'),
        WASI_LAMBDA_ENV: 'STAGE',
        STAGE: 'prod',
        NOT_GRANTED: 'x',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
      },
      { action: 'environment' },
    );
    const seen = outcome.result as { env: [string, string][] };
    expect(Object.fromEntries(seen.env)).toEqual({ AWS_REGION: 'eu-west-1', STAGE: 'prod' });
  });

  it('fails init with a clear message when the configuration grants credentials', async () => {
    const { outcome } = await invokeBundle(
      { WASI_LAMBDA_MODULE: handlerPath('hello'), WASI_LAMBDA_ENV: 'AWS_SECRET_ACCESS_KEY' },
      {},
    );
    expect(outcome.error).toMatchObject({ code: 'INVALID_CONFIG' });
    expect(outcome.error?.message).toMatch(/AWS credentials are never passed to a wasm guest/);
  });

  it('stops a guest that never returns at the deadline; every line it wrote first is logged', async () => {
    const started = Date.now();
    const { logs, outcome } = await invokeBundle(
      { WASI_LAMBDA_MODULE: handlerPath('faults') },
      { action: 'log-then-spin', lines: 500 },
      1000,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(outcome.error).toMatchObject({
      name: 'Sandbox.Timedout',
      message: 'RequestId: a1b2c3d4-0000-4000-8000-000000000001 Error: Task timed out after 1.00 seconds',
    });
    const lines = logs.trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines.at(-1)).toMatch(/\tINFO\tline 499$/);
  });

  it('refuses the removed WASI_LAMBDA_WASI setting with a message saying what to do', async () => {
    const { outcome } = await invokeBundle({ WASI_LAMBDA_MODULE: handlerPath('hello'), WASI_LAMBDA_WASI: 'node' }, {});
    expect(outcome.error).toMatchObject({ code: 'INVALID_CONFIG' });
    expect(outcome.error?.message).toMatch(/remove the variable/);
  });

  it('fails init naming the path when the module is missing', async () => {
    const { outcome } = await invokeBundle({ WASI_LAMBDA_MODULE: '/nonexistent/handler.wasm' }, {});
    expect(outcome.error).toMatchObject({ code: 'HANDLER_NOT_FOUND' });
    expect(outcome.error?.message).toContain('/nonexistent/handler.wasm');
  });
});
