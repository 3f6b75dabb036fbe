import { toError, WasiLambdaError } from '../errors.js';
import type { InvokeContext } from './context.js';
import type { GuestLog } from './guest-log.js';
import { WASM_PAGE_BYTES } from './memory-limit.js';

/** A Lambda error body, as the Runtime API and the Invoke API carry it. */
export interface LambdaErrorBody {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}

/**
 * How an invocation ended. `handler` errors are the guest's own `Err`; `runtime` errors
 * (trap, exit, ABI violation) replaced the instance, so the next call starts clean.
 */
export type InvokeOutcome =
  | { status: 'ok'; response: Uint8Array }
  | { status: 'error'; kind: 'handler' | 'runtime'; error: LambdaErrorBody };

/**
 * A loaded handler, whichever way it runs (core module or component): one invocation at a
 * time, never throwing for guest misbehaviour.
 */
export interface FunctionHost {
  invoke(event: Uint8Array, ctx: InvokeContext): InvokeOutcome;
  /** Instances created so far: 1 plus one per instance replaced after a failure. */
  readonly instanceCount: number;
}

/** Thrown from the guest's exit import (`proc_exit`, `wasi:cli/exit`) to unwind it. */
export class GuestExit extends Error {
  constructor(readonly exitCode: number) {
    super(`guest exited with status ${exitCode}`);
  }
}

/** What the host knew when the guest failed. */
export interface FailureFacts {
  requestId: string;
  /**
   * The panic text comes from here, from what the guest wrote to stderr before it trapped,
   * never from calling back into the trapped instance, whose stack or heap may be broken.
   */
  log: GuestLog;
  maxMemoryPages?: number | undefined;
}

/**
 * V8 says `unreachable`; jco rethrows the same trap as ``wasm trap: wasm `unreachable`
 * instruction executed``. Both backends report the engine's reason alone.
 */
function trapReason(message: string): string {
  return message.replace(/^(wasm trap: )+/, '').replace(/^wasm `([\w.]+)` instruction executed$/, '$1');
}

/** Maps anything a guest call threw to the Lambda error the caller gets. */
export function runtimeError(err: unknown, facts: FailureFacts): LambdaErrorBody {
  if (err instanceof GuestExit) {
    return {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${facts.requestId} Error: Runtime exited with error: exit status ${err.exitCode}`,
    };
  }
  if (err instanceof WasiLambdaError && err.code === 'GUEST_ABI_VIOLATION') {
    return { errorType: 'Runtime.AbiViolation', errorMessage: err.message };
  }
  if (facts.log.panic !== undefined) return { errorType: 'Runtime.Panic', errorMessage: facts.log.panic };
  if (facts.log.allocationFailure !== undefined) {
    const cap = facts.maxMemoryPages;
    const limit = cap === undefined ? '' : ` of the ${(cap * WASM_PAGE_BYTES) / 2 ** 20} MB it may use`;
    return {
      errorType: 'Runtime.OutOfMemory',
      errorMessage: `the guest ran out of linear memory${limit}: ${facts.log.allocationFailure}; raise memorySize or use less`,
    };
  }
  const error = toError(err);
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { errorType: 'Runtime.StackOverflow', errorMessage: `wasm trap: ${error.message}` };
  }
  if (error instanceof WebAssembly.RuntimeError) {
    return { errorType: 'Runtime.Trap', errorMessage: `wasm trap: ${trapReason(error.message)}` };
  }
  if (error instanceof WasiLambdaError) return { errorType: 'Runtime.HostError', errorMessage: error.message };
  return { errorType: 'Runtime.Trap', errorMessage: `${error.name}: ${error.message}` };
}
