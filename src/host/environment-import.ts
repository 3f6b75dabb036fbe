import { WasiLambdaError } from '../errors.js';
import { Lowering, WIT_PACKAGE, WIT_VERSION } from './abi.js';
import type { FunctionIdentity } from './context.js';
import type { ImportBinding } from './http-import.js';

/**
 * The core module name the SDK imports the WIT interface `wasi-lambda:handler/environment`
 * under.
 */
export const ENVIRONMENT_IMPORT_MODULE = `${WIT_PACKAGE}/environment@${WIT_VERSION}`;

/** `function-identity`: five fields, 4-aligned (`wasm-handlers/crates/wasi-lambda/src/wasm.rs`). */
const IDENTITY_SIZE = 36;
const IDENTITY_ALIGN = 4;

/**
 * The core-ABI function of `wasi-lambda:handler/environment`: `identity: func() ->
 * function-identity`, flattened to `identity(ret)`, where the host writes the record at `ret`
 * and its strings into allocations made with the guest's `cabi_realloc`. The guest asks once
 * per instance and keeps the answer, which is why the per-invocation `context` omits it.
 *
 * A guest whose `cabi_realloc` calls `identity` again only recurses into its own stack: each
 * call lowers a whole record of its own, so no half-lowered state can be observed.
 *
 * ```ts
 * const imports = { [ENVIRONMENT_IMPORT_MODULE]: environmentImports(() => binding, () => identity) };
 * ```
 */
export function environmentImports(
  binding: () => ImportBinding,
  identity: () => FunctionIdentity,
): Record<string, (ret: number) => void> {
  return {
    identity: (ret: number) => {
      const { memory, realloc } = binding();
      const at = ret >>> 0;
      if (at % IDENTITY_ALIGN !== 0) {
        throw new WasiLambdaError(
          'GUEST_ABI_VIOLATION',
          `the guest's identity return area at ${at} is not ${IDENTITY_ALIGN}-byte aligned`,
        );
      }
      memory.check(at, IDENTITY_SIZE, 'identity return area');
      const id = identity();
      const low = new Lowering(realloc, memory);
      low.string(at, id.functionName, 'function-name');
      low.string(at + 8, id.functionVersion, 'function-version');
      memory.setU32(at + 16, id.memoryLimitMb, 'memory-limit-mb');
      low.string(at + 20, id.logGroupName, 'log-group-name');
      low.string(at + 28, id.logStreamName, 'log-stream-name');
    },
  };
}
