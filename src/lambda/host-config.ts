import { fileURLToPath } from 'node:url';
import { guestMemoryPages } from '../host/memory-limit.js';
import { parseWasiKind } from '../host/wasi/index.js';
import type { WasmHostOptions } from '../host/wasm-host.js';
import { parseLogFormat } from '../logging/log-format.js';
import { guestEnvironment } from './guest-env.js';

/** The `.wasm` to load: `WASI_LAMBDA_MODULE`, else `handler.wasm` next to the entry file. */
export function modulePath(env: Readonly<Record<string, string | undefined>>, entryUrl: string): string {
  return env.WASI_LAMBDA_MODULE ?? fileURLToPath(new URL('./handler.wasm', entryUrl));
}

/**
 * Host options from a Lambda environment: the WASI backend, the guest's granted variables,
 * the log format Lambda configured, and the guest's share of the function's memory size.
 *
 * ```ts
 * const host = await WasmHost.fromFile(modulePath(process.env, import.meta.url), hostOptions(process.env));
 * ```
 */
export function hostOptions(env: Readonly<Record<string, string | undefined>>): WasmHostOptions {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return {
    wasi: parseWasiKind(env.WASI_LAMBDA_WASI, 'WASI_LAMBDA_WASI'),
    env: guestEnvironment(env),
    programName: env.AWS_LAMBDA_FUNCTION_NAME ?? 'handler',
    logFormat: parseLogFormat(env.AWS_LAMBDA_LOG_FORMAT, 'AWS_LAMBDA_LOG_FORMAT'),
    logSink: (line) => process.stdout.write(line),
    maxMemoryPages: Number.isFinite(memory) && memory > 0 ? guestMemoryPages(memory) : undefined,
  };
}
