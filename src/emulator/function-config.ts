import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WasiLambdaError } from '../errors.js';
import type { LogFormat } from '../logging/log-format.js';

/** How a function's code runs: our wasm host, a native `bootstrap`, or plain Node.js. */
export type FunctionKind = 'wasm' | 'native' | 'node';
export const FUNCTION_KINDS: readonly FunctionKind[] = ['wasm', 'native', 'node'];

/** One function the emulator serves, as Lambda would configure it. */
export interface FunctionConfig {
  name: string;
  kind: FunctionKind;
  /** wasm: the `.wasm` (or, for the component backend, the transpiled component's directory); native: the `bootstrap`; node: the handler directory. */
  code: string;
  /** wasm only: run the core module (default) or the component. */
  backend?: 'core' | 'component' | undefined;
  /** node: `file.export` inside `code` (default `index.handler`). */
  handler?: string | undefined;
  memoryMb: number;
  timeoutSeconds: number;
  /** The function's own environment variables. */
  environment: Record<string, string>;
  logFormat: LogFormat;
  /** Execution environments at most; further invocations queue. */
  maxConcurrency: number;
}

export const FUNCTION_DEFAULTS = {
  memoryMb: 128,
  timeoutSeconds: 3,
  environment: {},
  logFormat: 'text' as LogFormat,
  maxConcurrency: 4,
};

/** The installed package's root: where `dist/runtime/*.mjs` live. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new WasiLambdaError('INVALID_CONFIG', 'cannot find the wasi-lambda package root');
    dir = parent;
  }
  return dir;
}

/** A Runtime API client bundle in `dist/runtime/`, e.g. `wasm-runtime.cjs`. */
function runtimeScript(file: string): string {
  const path = join(packageRoot(), 'dist', 'runtime', file);
  if (!existsSync(path)) {
    throw new WasiLambdaError('INVALID_CONFIG', `${path} is missing; run \`npm run build:js\` first`);
  }
  return path;
}

/** The process that runs a function, and the environment Lambda would give it. */
export function runtimeCommand(fn: FunctionConfig): { command: string; args: string[]; env: Record<string, string> } {
  const code = resolve(fn.code);
  switch (fn.kind) {
    case 'wasm':
      return {
        command: process.execPath,
        args: [runtimeScript('wasm-runtime.cjs')],
        env:
          fn.backend === 'component'
            ? { WASI_LAMBDA_BACKEND: 'component', WASI_LAMBDA_COMPONENT: code }
            : { WASI_LAMBDA_MODULE: code },
      };
    case 'native':
      return { command: code, args: [], env: { LAMBDA_TASK_ROOT: dirname(code), _HANDLER: fn.handler ?? 'bootstrap' } };
    case 'node':
      return {
        command: process.execPath,
        args: [runtimeScript('node-runtime.mjs')],
        env: { LAMBDA_TASK_ROOT: code, _HANDLER: fn.handler ?? 'index.handler' },
      };
  }
}
