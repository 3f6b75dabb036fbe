import type { LambdaErrorBody } from './outcome.js';

/**
 * Lambda's timeout error, worded as the platform words it (`Sandbox.Timedout`,
 * `Task timed out after 3.00 seconds`). The timeout is the time the invocation was given: the
 * deadline less the moment it started, rounded to whole seconds as function timeouts are.
 *
 * ```ts
 * timeoutError('c6af…', 3000); // { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: c6af… Error: Task timed out after 3.00 seconds' }
 * ```
 */
export function timeoutError(requestId: string, givenMs: number): LambdaErrorBody {
  const seconds = Math.max(1, Math.round(givenMs / 1000));
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds`,
  };
}
