import { toError, WasiLambdaError } from '../errors.js';
import { capModule } from './module-limits.js';

/** What the policy read from each compiled module, for `checkContract`. */
const exportTypes = new WeakMap<WebAssembly.Module, ReadonlyMap<string, string>>();

/**
 * Compiles guest bytes after applying the module policy (`capModule`): tables capped, shared
 * and 64-bit memories refused, the memory maximum lowered to `maxMemoryPages` when given.
 * Bytes that are not a module are a `MODULE_INVALID` error rather than V8's CompileError.
 *
 * ```ts
 * const module = await compileGuest(await readFile('hello.wasm'), guestMemoryPages(128));
 * ```
 */
export async function compileGuest(bytes: Uint8Array, maxMemoryPages?: number): Promise<WebAssembly.Module> {
  const capped = capModule(bytes, maxMemoryPages);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(capped.bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new WasiLambdaError('MODULE_INVALID', `not a valid WebAssembly module: ${toError(err).message}`, {
      cause: err,
    });
  }
  exportTypes.set(module, capped.exportTypes);
  return module;
}

/**
 * Each exported function's type (`[i32] -> [i32]`) of a module `compileGuest` compiled;
 * undefined for a module compiled elsewhere, whose types the JS API cannot tell.
 */
export function exportedFunctionTypes(module: WebAssembly.Module): ReadonlyMap<string, string> | undefined {
  return exportTypes.get(module);
}
