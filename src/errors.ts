/**
 * Every failure wasi-lambda reports carries a stable `code`, so callers branch on the code
 * and people read the message, which says what to do next.
 *
 * ```ts
 * try {
 *   await buildHandlers();
 * } catch (err) {
 *   if (err instanceof WasiLambdaError && err.code === 'TOOLCHAIN_MISSING') process.exit(2);
 *   throw err;
 * }
 * ```
 */
export type ErrorCode =
  /** No Rust toolchain that can target wasm32-wasip1 was found or could be installed. */
  | 'TOOLCHAIN_MISSING'
  /** `cargo build` failed; its diagnostics were printed above. */
  | 'BUILD_FAILED'
  /** A handler name or `.wasm` path did not resolve to a module. */
  | 'HANDLER_NOT_FOUND'
  /** The bytes are not a WebAssembly module. */
  | 'MODULE_INVALID'
  /**
   * The module is valid WebAssembly but declares what the host does not allow: a shared or
   * 64-bit memory, more than one memory, too many or too large tables, wasm GC types, or an
   * import the host does not provide. The message says what to change.
   */
  | 'MODULE_REFUSED'
  /** The module lacks an export of the `wasi-lambda:handler/lambda-handler` world, or has it with the wrong kind or type. */
  | 'CONTRACT_MISSING'
  /** The guest broke the canonical ABI: a pointer out of bounds, a bad tag, invalid UTF-8. */
  | 'GUEST_ABI_VIOLATION'
  /** The guest trapped (panic, `unreachable`, stack overflow, out of memory). */
  | 'GUEST_TRAP'
  /** The guest called `proc_exit`. */
  | 'GUEST_EXIT'
  /** A configuration value is missing or malformed. */
  | 'INVALID_CONFIG'
  /** An input (event file, argument) could not be read or is malformed. */
  | 'INVALID_INPUT'
  /** The guest failed during init (`_initialize` trapped, or its init returned an error). */
  | 'GUEST_INIT_FAILED';

export class WasiLambdaError extends Error {
  override readonly name = 'WasiLambdaError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Normalises anything thrown into an `Error`, so callers can read `.message` safely. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
