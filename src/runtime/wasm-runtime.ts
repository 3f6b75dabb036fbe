/**
 * The wasm host as its own Lambda Runtime API client: event bytes from `/next` go straight
 * into linear memory and the guest's response bytes go straight to `/response`, with no
 * JSON parsing or serialising in JavaScript. The emulator runs wasm functions with it, and
 * on AWS it can replace the managed runtime's loop (see the README).
 * @module
 */
import { WasiLambdaError } from '../errors.js';
import type { InvokeContext } from '../host/context.js';
import type { FunctionHost } from '../host/outcome.js';
import { loadHost } from '../lambda/host-config.js';
import { type NextInvocation, RuntimeApiClient } from './runtime-api-client.js';

const env = process.env;

function context(next: NextInvocation): InvokeContext {
  return {
    requestId: next.requestId,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: next.invokedFunctionArn,
    memoryLimitMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 128),
    deadlineMs: next.deadlineMs,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    xrayTraceId: next.traceId,
    clientContext: next.clientContext,
    identity: next.cognitoIdentity,
    tenantId: next.tenantId,
  };
}

async function main(): Promise<void> {
  const address = env.AWS_LAMBDA_RUNTIME_API;
  if (!address) {
    process.stderr.write(
      'wasi-lambda runtime: AWS_LAMBDA_RUNTIME_API is not set; run it inside Lambda or the emulator\n',
    );
    process.exit(1);
  }
  const api = new RuntimeApiClient(address);
  let host: FunctionHost;
  try {
    // node:wasi by default here: measured, it starts ~27 ms sooner than @wasmer/wasi (which
    // initialises its own ~450 KB module), most of the cold-start gap to plain Node.js.
    host = await loadHost(env, import.meta.url, 'node');
  } catch (err) {
    const error =
      err instanceof WasiLambdaError
        ? { errorType: `Runtime.${err.code}`, errorMessage: err.message }
        : { errorType: 'Runtime.Unknown', errorMessage: String(err) };
    await api.initError(error);
    process.exit(1);
  }
  for (;;) {
    const next = await api.next();
    const outcome = host.invoke(next.event, context(next));
    if (outcome.status === 'ok') await api.respond(next.requestId, outcome.response);
    else await api.fail(next.requestId, outcome.error);
  }
}

await main();
