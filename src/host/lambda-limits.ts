import type { LambdaErrorBody } from './outcome.js';

/**
 * Lambda's documented payload limits, owned by the runtime because the runtime enforces them
 * (the emulator re-exports them to enforce the same numbers).
 */

/** Lambda's init phase may take at most 10 seconds. */
export const INIT_TIMEOUT_MS = 10_000;

/** Synchronous invocation request payload: 6 MB. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** Synchronous response payload: 6 MB; Lambda (and RIE) allow 100 bytes of framing on top. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/**
 * The error Lambda reports for a response over the limit, in its words.
 *
 * ```ts
 * responseTooLarge(6_291_557).errorType; // 'Function.ResponseSizeTooLarge'
 * ```
 */
export function responseTooLarge(bytes: number): LambdaErrorBody {
  return {
    errorType: 'Function.ResponseSizeTooLarge',
    errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
  };
}
