import { inject } from 'vitest';
import type { InvokeContext } from '../../src/host/context.js';

/** The path of a handler built by the global setup. */
export function handlerPath(name: string): string {
  const path = inject('handlers')[name];
  if (path === undefined) throw new Error(`handler ${name} was not built`);
  return path;
}

/** The native `bootstrap` of a handler built by the global setup. */
export function bootstrapPath(name: string): string {
  const path = inject('bootstraps')[name];
  if (path === undefined) throw new Error(`bootstrap ${name} was not built`);
  return path;
}

/** The transpiled component directory of a handler built by the global setup. */
export function componentDir(name: string): string {
  const path = inject('components')[name];
  if (path === undefined) throw new Error(`component ${name} was not built`);
  return path;
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A context with every field set, deadline 3 s from now. */
export function testContext(overrides: Partial<InvokeContext> = {}): InvokeContext {
  return {
    requestId: '8f5a6c1e-3b2d-4e7f-9a01-2c3d4e5f6a7b',
    functionName: 'test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test-fn:live',
    memoryLimitMb: 256,
    deadlineMs: Date.now() + 3000,
    logGroupName: '/aws/lambda/test-fn',
    logStreamName: '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef',
    ...overrides,
  };
}
