import { WasiLambdaError } from '../errors.js';
import type { LambdaErrorBody } from './outcome.js';

/**
 * The guest's init failed: its `_initialize` trapped, or its `init` (a `#[wasi_lambda::main]`
 * that returned `Err` before serving) reported an error. `body` is the Lambda error body to
 * report as the init error, with the guest's own `errorType`.
 *
 * ```ts
 * try { await loadHost(config); } catch (err) {
 *   if (err instanceof GuestInitError) await api.initError(err.body);
 * }
 * ```
 */
export class GuestInitError extends WasiLambdaError {
  readonly body: LambdaErrorBody;

  constructor(body: LambdaErrorBody, options?: { cause?: unknown }) {
    super('GUEST_INIT_FAILED', `the function's init failed: ${body.errorType}: ${body.errorMessage}`, options);
    this.body = body;
  }
}
