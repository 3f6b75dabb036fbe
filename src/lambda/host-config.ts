import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ComponentHost } from '../component/component-host.js';
import { WasiLambdaError } from '../errors.js';
import { guestMemoryPages } from '../host/memory-limit.js';
import type { FunctionHost } from '../host/outcome.js';
import { parseWasiKind, type WasiKind } from '../host/wasi/index.js';
import { type InstanceMode, WasmHost, type WasmHostOptions } from '../host/wasm-host.js';
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
export function hostOptions(
  env: Readonly<Record<string, string | undefined>>,
  defaultWasi: WasiKind = 'wasmer',
): WasmHostOptions {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return {
    wasi: env.WASI_LAMBDA_WASI ? parseWasiKind(env.WASI_LAMBDA_WASI, 'WASI_LAMBDA_WASI') : defaultWasi,
    env: guestEnvironment(env),
    programName: env.AWS_LAMBDA_FUNCTION_NAME ?? 'handler',
    logFormat: parseLogFormat(env.AWS_LAMBDA_LOG_FORMAT, 'AWS_LAMBDA_LOG_FORMAT'),
    logSink: (line) => process.stdout.write(line),
    maxMemoryPages: Number.isFinite(memory) && memory > 0 ? guestMemoryPages(memory) : undefined,
    instanceMode: parseInstanceMode(env.WASI_LAMBDA_INSTANCE, 'WASI_LAMBDA_INSTANCE'),
    // Lambda's /tmp is the function's scratch space; the guest gets it only when asked.
    tmpDir: env.WASI_LAMBDA_TMP === '1' ? tmpdir() : undefined,
  };
}

export function parseInstanceMode(value: string | undefined, source: string): InstanceMode {
  if (value === undefined || value === '' || value === 'reuse') return 'reuse';
  if (value === 'fresh') return 'fresh';
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use reuse or fresh`);
}

/** How the handler runs: as a core module on wasi-lambda's host, or as a component via jco. */
export type Backend = 'core' | 'component';
export const BACKENDS: readonly Backend[] = ['core', 'component'];

export function parseBackend(value: string | undefined, source: string): Backend {
  if (value === undefined || value === '') return 'core';
  if ((BACKENDS as readonly string[]).includes(value)) return value as Backend;
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use core or component`);
}

/**
 * Loads the handler the environment describes: `WASI_LAMBDA_BACKEND=component` runs the
 * transpiled component in `WASI_LAMBDA_COMPONENT` (default: `component/` next to the entry),
 * anything else the core module (`modulePath`).
 */
export async function loadHost(
  env: Readonly<Record<string, string | undefined>>,
  entryUrl: string,
  defaultWasi: WasiKind = 'wasmer',
): Promise<FunctionHost> {
  const options = hostOptions(env, defaultWasi);
  if (parseBackend(env.WASI_LAMBDA_BACKEND, 'WASI_LAMBDA_BACKEND') === 'component') {
    const dir = env.WASI_LAMBDA_COMPONENT ?? fileURLToPath(new URL('./component/', entryUrl));
    return ComponentHost.fromDir(dir, options);
  }
  return WasmHost.fromFile(modulePath(env, entryUrl), options);
}
