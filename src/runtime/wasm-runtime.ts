/**
 * The wasm host as its own Lambda Runtime API client: event bytes from `/next` go straight
 * into linear memory and the guest's response bytes go straight to `/response`, with no
 * JSON parsing or serialising in JavaScript. The emulator runs wasm functions with it, and
 * on AWS it can replace the managed runtime's loop (see the README).
 * @module
 */
import { WasiLambdaError } from '../errors.js';
import { functionIdentity, invokeContext } from '../host/context.js';
import type { FunctionHost } from '../host/function-host.js';
import { GuestInitError } from '../host/init-error.js';
import { type HostConfig, loadHost } from '../host/load-host.js';
import { hostConfig } from '../lambda/host-config.js';
import { RuntimeApiClient } from './runtime-api-client.js';

const env = process.env;
const TIMEOUT_GRACE_MS = 2000;

/**
 * This process is the execution environment, so the platform stops a guest that outlives its
 * deadline by ending the process (Lambda and the emulator both do, as for a native
 * `bootstrap`), and the next request starts a new one. A worker thread would only add its
 * start (~40 ms) and its heap (~10 MB) to every cold start; the guest runs on this thread
 * unless the function is granted outbound HTTP or AWS calls, which need the main thread free
 * while the guest waits, or `WASI_LAMBDA_ISOLATION` says otherwise.
 */
function rawConfig(): HostConfig {
  const config = hostConfig(env, import.meta.url);
  const callsOut = config.allowHosts.grants.length > 0 || (config.aws?.grant.services.size ?? 0) > 0;
  if ((env.WASI_LAMBDA_ISOLATION ?? '') !== '' || callsOut) return config;
  return { ...config, isolation: 'inline' };
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
  api.preconnect();
  // Read once: the function's identity does not change within an execution environment.
  const identity = functionIdentity(env);
  let host: FunctionHost;
  try {
    host = await loadHost(rawConfig());
  } catch (err) {
    // The guest's own init error keeps its errorType, as lambda_runtime reports it.
    const error =
      err instanceof GuestInitError
        ? err.body
        : err instanceof WasiLambdaError
          ? { errorType: `Runtime.${err.code}`, errorMessage: err.message }
          : { errorType: 'Runtime.Unknown', errorMessage: String(err) };
    await api.initError(error);
    process.exit(1);
  }
  for (;;) {
    const next = await api.next();
    const ctx = invokeContext(identity, {
      requestId: next.requestId,
      invokedFunctionArn: next.invokedFunctionArn,
      deadlineMs: next.deadlineMs,
      xrayTraceId: next.traceId,
      clientContext: next.clientContext,
      identity: next.cognitoIdentity,
      tenantId: next.tenantId,
    });
    const outcome = await host.invoke(next.event, ctx);
    // The platform enforces the timeout itself and resets the environment; a runtime that
    // answered first would turn Lambda's timeout into a function error. It answers only if
    // the platform has not acted after a grace period (a Runtime API that enforces nothing).
    if (outcome.status === 'error' && outcome.error.errorType === 'Sandbox.Timedout') {
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_GRACE_MS));
    }
    if (outcome.status === 'ok') await api.respond(next.requestId, outcome.response);
    else await api.fail(next.requestId, outcome.error);
    // `fresh` mode (or an instance replaced after a failure): instantiate the next instance now,
    // with the response out and before asking for the next event (after which Lambda may
    // freeze the environment), not at the start of the next invocation. A failure here is not
    // lost: the next invocation instantiates again and reports it.
    try {
      host.prepare?.();
    } catch {}
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`wasi-lambda runtime: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
