import { resolve } from 'node:path';
import { packageLambdaFunctions } from '../build/lambda-packages.js';
import { localFunction } from '../build/local-functions.js';
import { FUNCTION_DEFAULTS, type FunctionConfig } from '../emulator/function-config.js';
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
  const settings = { memoryMb: 1024, timeoutSeconds: 60 };
  const local = { ...options, overrides: settings };
  const functions: FunctionConfig[] = [];
  for (const variant of variants) {
    let fn: FunctionConfig;
    if (variant === 'wasm-managed') {
      // The managed entry exactly as deployed: the packaged bundle and .wasm, called as
      // handler(event, context) by a Node.js runtime that parses and serialises JSON.
      await packageLambdaFunctions({ ...options, native: false });
      fn = {
        ...FUNCTION_DEFAULTS,
        ...settings,
        name: variant,
        kind: 'node',
        code: resolve('.'),
        handler: `build/lambda/${BENCH_HANDLER}/handler.handler`,
      };
    } else if (variant === 'wasm-fresh') {
      fn = await localFunction(BENCH_HANDLER, 'wasm', {
        ...local,
        overrides: { ...settings, environment: { WASI_LAMBDA_INSTANCE: 'fresh' } },
      });
    } else if (variant === 'wasm-component') {
      fn = await localFunction(BENCH_HANDLER, 'wasm', { ...local, backend: 'component' });
    } else {
      fn = await localFunction(BENCH_HANDLER, variant === 'wasm-raw' ? 'wasm' : variant, local);
    }
    functions.push({ ...fn, name: variant, maxConcurrency: 1 });
  }
  return functions;
}
