import { statfsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { awsConfig } from '../aws/aws-config.js';
import { WasiLambdaError } from '../errors.js';
import { functionIdentity } from '../host/context.js';
import type { HostConfig, Isolation } from '../host/load-host.js';
import { guestMemoryPages } from '../host/memory-limit.js';
import type { InstanceMode, TmpGrant, WasmHostOptions } from '../host/wasm-host.js';
import { parseLogFormat } from '../logging/log-format.js';
import { type EgressPolicy, parseEgressPolicy } from '../outbound/egress-policy.js';
import { guestEnvironment } from './guest-env.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The `.wasm` to load: `WASI_LAMBDA_MODULE`, else `handler.wasm` next to the entry file. */
export function modulePath(env: Env, entryUrl: string): string {
  return env.WASI_LAMBDA_MODULE ?? fileURLToPath(new URL('./handler.wasm', entryUrl));
}

/** Lambda's largest ephemeral storage, 10,240 MB. */
const MAX_TMP_MB = 10_240;
/** Lambda's default ephemeral storage, 512 MB: the quota when `/tmp` cannot be measured. */
const DEFAULT_TMP_MB = 512;

/**
 * `WASI_LAMBDA_TMP`: unset or `0`, no `/tmp`; `1`, a `/tmp` as large as the function's
 * ephemeral storage (the size of Lambda's own `/tmp`, which is exactly that); a number of MB,
 * that quota. The guest's `/tmp` lives in memory, never on the host's disk: its bytes count
 * against the function's memory size.
 */
export function parseTmpGrant(value: string | undefined, source: string): TmpGrant | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  if (value === '1') return { maxBytes: ephemeralStorageBytes() };
  const mb = Number(value);
  if (!Number.isInteger(mb) || mb < 1 || mb > MAX_TMP_MB) {
    throw new WasiLambdaError(
      'INVALID_CONFIG',
      `${source} is "${value}"; use 1 (the function's ephemeral storage size) or a size in MB from 2 to ${MAX_TMP_MB}`,
    );
  }
  return { maxBytes: mb * 2 ** 20 };
}

function ephemeralStorageBytes(): number {
  try {
    const stats = statfsSync('/tmp');
    return Math.min(MAX_TMP_MB * 2 ** 20, stats.blocks * stats.bsize);
  } catch {
    return DEFAULT_TMP_MB * 2 ** 20;
  }
}

export function parseInstanceMode(value: string | undefined, source: string): InstanceMode {
  if (value === undefined || value === '' || value === 'reuse') return 'reuse';
  if (value === 'fresh') return 'fresh';
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use reuse or fresh`);
}

export function parseIsolation(value: string | undefined, source: string): Isolation {
  if (value === undefined || value === '' || value === 'worker') return 'worker';
  if (value === 'inline') return 'inline';
  throw new WasiLambdaError('INVALID_CONFIG', `${source} is "${value}"; use worker or inline`);
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
 * Host options from a Lambda environment: the function's identity, the guest's granted variables, the log format
 * Lambda configured, the guest's share of the function's memory size, the instance mode and
 * the `/tmp` grant.
 *
 * ```ts
 * const options = hostOptions(process.env);
 * ```
 */
export function hostOptions(env: Env): Omit<WasmHostOptions, 'logSink'> {
  if (env.WASI_LAMBDA_WASI !== undefined && env.WASI_LAMBDA_WASI !== '') {
    throw new WasiLambdaError(
      'INVALID_CONFIG',
      "WASI_LAMBDA_WASI is set, but there is one WASI implementation now (wasi-lambda's own, see the README); remove the variable",
    );
  }
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return {
    // Lambda always sets the name; where it is missing (a test's bare environment), the host
    // keeps the first invocation's context instead.
    identity: env.AWS_LAMBDA_FUNCTION_NAME ? functionIdentity(env) : undefined,
    env: guestEnvironment(env),
    programName: env.AWS_LAMBDA_FUNCTION_NAME ?? 'handler',
    logFormat: parseLogFormat(env.AWS_LAMBDA_LOG_FORMAT, 'AWS_LAMBDA_LOG_FORMAT'),
    maxMemoryPages: Number.isFinite(memory) && memory > 0 ? guestMemoryPages(memory) : undefined,
    instanceMode: parseInstanceMode(env.WASI_LAMBDA_INSTANCE, 'WASI_LAMBDA_INSTANCE'),
    tmp: parseTmpGrant(env.WASI_LAMBDA_TMP, 'WASI_LAMBDA_TMP'),
  };
}

/**
 * `WASI_LAMBDA_ALLOW_HOSTS`: where the guest's outbound HTTP may go, comma-separated `host`
 * (ports 80 and 443), `host:port`, `*.suffix` or an IP address. Unset: nowhere.
 *
 * ```ts
 * parseAllowHosts({ WASI_LAMBDA_ALLOW_HOSTS: 'api.example.com, *.amazonaws.com:443' });
 * ```
 */
export function parseAllowHosts(env: Env): EgressPolicy {
  const entries = (env.WASI_LAMBDA_ALLOW_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return parseEgressPolicy(entries, 'WASI_LAMBDA_ALLOW_HOSTS');
}

/**
 * The host configuration a Lambda environment describes: `WASI_LAMBDA_BACKEND=component` runs
 * the transpiled component in `WASI_LAMBDA_COMPONENT` (default: `component/` next to the
 * entry), anything else the core module (`modulePath`); `WASI_LAMBDA_ISOLATION` picks
 * `worker` (default) or `inline`. Log lines go to stdout (fd 1), which CloudWatch reads.
 * `allowHosts` is the egress grant (`parseAllowHosts`), for the bridge that performs the
 * guest's outbound HTTP on the main thread.
 *
 * ```ts
 * const host = await loadHost(hostConfig(process.env, import.meta.url));
 * ```
 */
export function hostConfig(env: Env, entryUrl: string): HostConfig & { allowHosts: EgressPolicy } {
  const options = hostOptions(env);
  const isolation = parseIsolation(env.WASI_LAMBDA_ISOLATION, 'WASI_LAMBDA_ISOLATION');
  const guest =
    parseBackend(env.WASI_LAMBDA_BACKEND, 'WASI_LAMBDA_BACKEND') === 'component'
      ? {
          kind: 'component' as const,
          dir: env.WASI_LAMBDA_COMPONENT ?? fileURLToPath(new URL('./component/', entryUrl)),
        }
      : { kind: 'core' as const, path: modulePath(env, entryUrl) };
  return { guest, options, isolation, logFd: 1, allowHosts: parseAllowHosts(env), aws: awsConfig(env) };
}
