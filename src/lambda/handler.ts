/**
 * The entry for AWS Lambda's managed Node.js runtime (handler `handler.handler`).
 *
 * Loading the module starts compiling and instantiating the guest; each invocation passes
 * the event and context through linear memory. Configuration comes from the environment:
 * - `WASI_LAMBDA_MODULE`: the `.wasm` path (default: `handler.wasm` next to this file);
 * - `WASI_LAMBDA_BACKEND`: `core` (default) or `component` (with `WASI_LAMBDA_COMPONENT`);
 * - `WASI_LAMBDA_ENV`: comma-separated variables the guest may see;
 * - `WASI_LAMBDA_TMP`: `1` (or a size in MB) grants an in-memory `/tmp`;
 * - `WASI_LAMBDA_INSTANCE`: `reuse` (default) or `fresh`;
 * - `WASI_LAMBDA_ISOLATION`: `worker` (default: the guest runs on a worker thread that is
 *   stopped at the deadline) or `inline`;
 * - `AWS_LAMBDA_LOG_FORMAT`: `Text` or `JSON`, set by Lambda from the function's log config;
 * - `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`: caps the guest's linear memory (see `guestMemoryPages`).
 * @module
 */
import { fromNodeContext, type NodeLambdaContext } from '../host/context.js';
import type { FunctionHost } from '../host/function-host.js';
import { GuestInitError } from '../host/init-error.js';
import { loadHost } from '../host/load-host.js';
import type { LambdaErrorBody } from '../host/outcome.js';
import { hostConfig } from './host-config.js';

/** An error the runtime reports with the guest's `errorType` as its name. */
export class GuestFunctionError extends Error {
  constructor(body: LambdaErrorBody) {
    super(body.errorMessage);
    this.name = body.errorType;
    // The JS frames say nothing about the guest; keep the trace to the error itself.
    this.stack = `${body.errorType}: ${body.errorMessage}`;
  }
}

const env = process.env;
// Init starts when the module loads. It is awaited in the handler rather than with a
// top-level await, because `serverless invoke local` loads handlers with require(), which
// cannot load a module that uses top-level await.
const ready: Promise<FunctionHost> = (async () => loadHost(hostConfig(env, import.meta.url)))();
// A failed init is reported by the invocation that awaits it, not as an unhandled rejection.
ready.catch(() => {});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `handler(event, context)`: returns the guest's JSON response or throws its error. */
export const handler = async (event: unknown, context: NodeLambdaContext): Promise<unknown> => {
  const host = await ready.catch((err: unknown) => {
    // The guest's own init error is reported with its errorType, like any function error.
    throw err instanceof GuestInitError ? new GuestFunctionError(err.body) : err;
  });
  const bytes = encoder.encode(JSON.stringify(event) ?? 'null');
  const outcome = await host.invoke(bytes, fromNodeContext(context, env));
  if (outcome.status === 'ok') return JSON.parse(decoder.decode(outcome.response));
  throw new GuestFunctionError(outcome.error);
};
