/**
 * The entry for AWS Lambda's managed Node.js runtime (handler `handler.handler`).
 *
 * Init (module load) compiles and instantiates the module; each invocation passes the
 * event and context through linear memory. Configuration comes from the environment:
 * - `WASI_LAMBDA_MODULE`: the `.wasm` path (default: `handler.wasm` next to this file);
 * - `WASI_LAMBDA_WASI`: `wasmer` (default) or `node`;
 * - `WASI_LAMBDA_ENV`: comma-separated variables the guest may see;
 * - `AWS_LAMBDA_LOG_FORMAT`: `Text` or `JSON`, set by Lambda from the function's log config.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { fromNodeContext, type NodeLambdaContext } from '../host/context.js';
import { parseWasiKind } from '../host/wasi/index.js';
import { type LambdaErrorBody, WasmHost } from '../host/wasm-host.js';
import { parseLogFormat } from '../logging/log-format.js';
import { guestEnvironment } from './guest-env.js';

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
const host = await WasmHost.fromFile(
  env.WASI_LAMBDA_MODULE ?? fileURLToPath(new URL('./handler.wasm', import.meta.url)),
  {
    wasi: parseWasiKind(env.WASI_LAMBDA_WASI, 'WASI_LAMBDA_WASI'),
    env: guestEnvironment(env),
    programName: env.AWS_LAMBDA_FUNCTION_NAME ?? 'handler',
    logFormat: parseLogFormat(env.AWS_LAMBDA_LOG_FORMAT, 'AWS_LAMBDA_LOG_FORMAT'),
    logSink: (line) => process.stdout.write(line),
  },
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `handler(event, context)`: returns the guest's JSON response or throws its error. */
export const handler = async (event: unknown, context: NodeLambdaContext): Promise<unknown> => {
  const bytes = encoder.encode(JSON.stringify(event) ?? 'null');
  const outcome = host.invoke(bytes, fromNodeContext(context, env));
  if (outcome.status === 'ok') return JSON.parse(decoder.decode(outcome.response));
  throw new GuestFunctionError(outcome.error);
};
