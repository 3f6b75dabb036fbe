import { resolve } from 'node:path';
import { buildHandlers } from '../build/build-handlers.js';
import { buildNative } from '../build/build-native.js';
import { packageLambdaFunctions } from '../build/lambda-packages.js';
import { buildComponents } from '../component/build-components.js';
import { FUNCTION_DEFAULTS, type FunctionConfig } from '../emulator/function-config.js';
import { NODE_BASELINES } from '../emulator/local-functions.js';
import { WasiLambdaError } from '../errors.js';
import type { VariantName } from './report.js';

/** The benchmark's handler crate, and its Node.js twin. */
export const BENCH_HANDLER = 'workloads';

/**
 * Builds the workloads handler every way it can run and describes each variant as an
 * emulator function: the same code paths a deployed function takes.
 */
export async function localVariants(
  variants: readonly VariantName[],
  options: { workspace?: string | undefined; install?: boolean | undefined },
): Promise<FunctionConfig[]> {
  const build = { workspace: options.workspace, install: options.install };
  const base = { ...FUNCTION_DEFAULTS, memoryMb: 1024, timeoutSeconds: 60, maxConcurrency: 1 };
  const functions: FunctionConfig[] = [];
  for (const variant of variants) {
    const name = variant;
    let fn: FunctionConfig | undefined;
    if (variant === 'wasm-raw' || variant === 'wasm-fresh') {
      const code = (await buildHandlers(build)).handlers[BENCH_HANDLER];
      const environment: Record<string, string> = variant === 'wasm-fresh' ? { WASI_LAMBDA_INSTANCE: 'fresh' } : {};
      if (code) fn = { ...base, name, kind: 'wasm', code, environment };
    } else if (variant === 'wasm-component') {
      const code = (await buildComponents(build)).components[BENCH_HANDLER]?.dir;
      if (code) fn = { ...base, name, kind: 'wasm', backend: 'component', code };
    } else if (variant === 'wasm-managed') {
      // The managed entry exactly as deployed: the packaged bundle and .wasm, called as
      // handler(event, context) by a Node.js runtime that parses and serialises JSON.
      await packageLambdaFunctions({ ...build, native: false });
      fn = {
        ...base,
        name,
        kind: 'node',
        code: resolve('.'),
        handler: `build/lambda/${BENCH_HANDLER}/handler.handler`,
      };
    } else if (variant === 'native') {
      const code = (await buildNative(build)).bootstraps[BENCH_HANDLER]?.bootstrap;
      if (code) fn = { ...base, name, kind: 'native', code };
    } else {
      fn = { ...base, name, kind: 'node', code: NODE_BASELINES, handler: `${BENCH_HANDLER}.handler` };
    }
    if (!fn) throw new WasiLambdaError('BUILD_FAILED', `the ${variant} build of ${BENCH_HANDLER} is missing`);
    functions.push(fn);
  }
  return functions;
}
