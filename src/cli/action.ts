import { WasiLambdaError } from '../errors.js';

/**
 * Wraps a command so that a `WasiLambdaError` prints as one readable line with its code and
 * exits 2, and anything else (a bug) prints its stack and exits 70 (EX_SOFTWARE).
 */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<number | undefined>) {
  return async (...args: Args): Promise<void> => {
    try {
      const code = await run(...args);
      process.exitCode = code ?? 0;
    } catch (err) {
      if (err instanceof WasiLambdaError) {
        process.stderr.write(`wasi-lambda: error [${err.code}]: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`wasi-lambda: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    }
  };
}
