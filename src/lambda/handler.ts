/**
 * The entry for AWS Lambda's managed Node.js runtime (handler `handler.handler`).
 *
 * Loading the module starts compiling and instantiating the guest; each invocation passes
 * the event and context through linear memory. Configuration comes from the environment:
 * - `WASI_LAMBDA_MODULE`: the `.wasm` path (default: `handler.wasm` next to this file);
 * - `WASI_LAMBDA_WASI`: `wasmer` (default) or `node`;
 * - `WASI_LAMBDA_BACKEND`: `core` (default) or `component` (with `WASI_LAMBDA_COMPONENT`);
 * - `WASI_LAMBDA_ENV`: comma-separated variables the guest may see;
 * - `AWS_LAMBDA_LOG_FORMAT`: `Text` or `JSON`, set by Lambda from the function's log config;
 * - `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`: caps the guest's linear memory (see `guestMemoryPages`).
 * @module
 */
import { fromNodeContext, type NodeLambdaContext } from '../host/context.js';
import type { FunctionHost, LambdaErrorBody } from '../host/outcome.js';
import { loadHost } from './host-config.js';

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
const ready: Promise<FunctionHost> = loadHost(env, import.meta.url);
// A failed init is reported by the invocation that awaits it, not as an unhandled rejection.
ready.catch(() => {});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `handler(event, context)`: returns the guest's JSON response or throws its error. */
export const handler = async (event: unknown, context: NodeLambdaContext): Promise<unknown> => {
  const host = await ready;
  const bytes = encoder.encode(JSON.stringify(event) ?? 'null');
  const outcome = host.invoke(bytes, fromNodeContext(context, env));
  if (outcome.status === 'ok') return JSON.parse(decoder.decode(outcome.response));
  throw new GuestFunctionError(outcome.error);
};
