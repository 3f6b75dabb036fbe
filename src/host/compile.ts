import { toError, WasiLambdaError } from '../errors.js';
import { capMemory } from './memory-limit.js';

/**
 * Compiles guest bytes, first lowering the memory maximum to `maxMemoryPages` when given;
 * bytes that are not a module are a `MODULE_INVALID` error rather than V8's CompileError.
 */
export async function compileGuest(bytes: Uint8Array, maxMemoryPages?: number): Promise<WebAssembly.Module> {
  const capped = maxMemoryPages === undefined ? bytes : capMemory(bytes, maxMemoryPages);
  try {
    return await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new WasiLambdaError('MODULE_INVALID', `not a valid WebAssembly module: ${toError(err).message}`, {
      cause: err,
    });
  }
}
