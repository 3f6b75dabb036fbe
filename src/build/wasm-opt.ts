import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WasiLambdaError } from '../errors.js';
import { stream } from './run.js';

const require = createRequire(import.meta.url);

/**
 * Runs Binaryen's `wasm-opt -O3` (npm `binaryen`) on a module in place. Measured on the
 * workloads module: the 1 MB JSON transform runs 11 % faster and modules shrink 7–23 %,
 * while compile time (lazy) and the sieve do not change.
 */
export async function optimizeModule(path: string): Promise<void> {
  const wasmOpt = join(dirname(require.resolve('binaryen/package.json')), 'bin', 'wasm-opt');
  const status = await stream(process.execPath, [wasmOpt, '-O3', path, '-o', path], {
    cwd: process.cwd(),
    env: process.env,
  });
  if (status !== 0) throw new WasiLambdaError('BUILD_FAILED', `wasm-opt -O3 failed on ${path} (exit ${status})`);
}
