import { readFileSync } from 'node:fs';
import { FUNCTION_KINDS, type FunctionConfig, type FunctionKind } from '../emulator/function-config.js';
import { toError, WasiLambdaError } from '../errors.js';
import { parseLogFormat } from '../logging/log-format.js';
import { localFunction } from './local-functions.js';

/** One function in `wasi-lambda.json`; everything but `kind` and `handler` is optional. */
interface FunctionEntry {
  kind: FunctionKind;
  /** The handler crate (wasm, native) or the Node.js baseline's file name (node). */
  handler: string;
  backend?: 'core' | 'component';
  memoryMb?: number;
  timeoutSeconds?: number;
  environment?: Record<string, string>;
  logFormat?: string;
  maxConcurrency?: number;
}

function fail(path: string, where: string, message: string): never {
  throw new WasiLambdaError('INVALID_CONFIG', `${path}: ${where}: ${message}`);
}

function positive(path: string, where: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    fail(path, where, 'must be a positive integer');
  return value;
}

function entry(path: string, name: string, raw: unknown): FunctionEntry {
  const where = `functions.${name}`;
  if (raw === null || typeof raw !== 'object') fail(path, where, 'must be an object');
  const value = raw as Record<string, unknown>;
  if (!(FUNCTION_KINDS as readonly unknown[]).includes(value.kind))
    fail(path, `${where}.kind`, `must be one of ${FUNCTION_KINDS.join(', ')}`);
  if (typeof value.handler !== 'string' || value.handler === '')
    fail(path, `${where}.handler`, 'must name a handler crate or baseline');
  if (value.backend !== undefined && value.backend !== 'core' && value.backend !== 'component') {
    fail(path, `${where}.backend`, 'must be core or component');
  }
  const environment = value.environment ?? {};
  if (
    typeof environment !== 'object' ||
    environment === null ||
    Object.values(environment).some((v) => typeof v !== 'string')
  ) {
    fail(path, `${where}.environment`, 'must map names to strings');
  }
  return {
    kind: value.kind as FunctionKind,
    handler: value.handler,
    backend: value.backend as FunctionEntry['backend'],
    memoryMb: positive(path, `${where}.memoryMb`, value.memoryMb),
    timeoutSeconds: positive(path, `${where}.timeoutSeconds`, value.timeoutSeconds),
    maxConcurrency: positive(path, `${where}.maxConcurrency`, value.maxConcurrency),
    environment: environment as Record<string, string>,
    logFormat: typeof value.logFormat === 'string' ? value.logFormat : undefined,
  };
}

/**
 * Reads the functions `wasi-lambda serve` emulates from a JSON file, building what they need:
 *
 * ```json
 * { "functions": { "hello": { "kind": "wasm", "handler": "hello", "memoryMb": 256 } } }
 * ```
 */
export async function functionsFromConfig(
  path: string,
  options: { workspace?: string | undefined; install?: boolean | undefined },
): Promise<FunctionConfig[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new WasiLambdaError('INVALID_CONFIG', `cannot read ${path}: ${toError(err).message}`);
  }
  const functions = (parsed as { functions?: unknown } | null)?.functions;
  if (functions === null || typeof functions !== 'object')
    fail(path, 'functions', 'must be an object of name → function');
  const configs: FunctionConfig[] = [];
  for (const [name, raw] of Object.entries(functions as Record<string, unknown>)) {
    const e = entry(path, name, raw);
    const fn = await localFunction(e.handler, e.kind, {
      ...options,
      backend: e.backend,
      overrides: {
        ...(e.memoryMb === undefined ? {} : { memoryMb: e.memoryMb }),
        ...(e.timeoutSeconds === undefined ? {} : { timeoutSeconds: e.timeoutSeconds }),
        environment: e.environment ?? {},
        logFormat: parseLogFormat(e.logFormat, `${path}: functions.${name}.logFormat`),
      },
    });
    configs.push({ ...fn, name, maxConcurrency: e.maxConcurrency ?? 4 });
  }
  return configs;
}
