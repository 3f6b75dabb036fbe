/**
 * The host side of the canonical ABI for the `handle` export of
 * `wasi-lambda:handler/lambda-handler` (`wasm-handlers/wit/handler.wit`).
 *
 * `handle(event: list<u8>, ctx: context) -> result<list<u8>, handler-error>` flattens to more
 * than 16 parameters, so the arguments travel as one pointer to a tuple the host allocates
 * with `cabi_realloc`; the result comes back as a pointer to a 20-byte
 * `result<list<u8>, handler-error>` that the host reads and then releases with
 * `cabi_post_handle`. The offsets mirror `wasm-handlers/crates/wasi-lambda/src/wasm.rs`; the
 * component test (jco) checks both against the WIT world.
 */
import { WasiLambdaError } from '../errors.js';
import type { InvokeContext } from './context.js';
import type { GuestMemory } from './guest-memory.js';

/** The core exports of a module built for the world. */
export interface HandlerExports {
  memory: WebAssembly.Memory;
  handle(args: number): number;
  cabi_post_handle(ret: number): void;
  cabi_realloc(oldPtr: number, oldLen: number, align: number, newLen: number): number;
  /** Optional: after a trap, a pointer to `(ptr, len)` of the last panic's text, or 0. */
  wasi_lambda_panic_info?: () => number;
  _initialize?: () => void;
}

const REQUIRED = ['memory', 'handle', 'cabi_post_handle', 'cabi_realloc'] as const;

/** Refuses, before instantiation, a module that cannot serve the world. */
export function checkContract(module: WebAssembly.Module): void {
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED.filter((name) => !exported.has(name));
  if (missing.length > 0) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module does not export ${missing.map((m) => `\`${m}\``).join(', ')}: build it from a crate ` +
        'with `crate-type = ["cdylib"]` whose handler carries `#[wasi_lambda::handler]`',
    );
  }
  if (exported.has('_start')) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      'the module is a WASI command (it exports `_start`); a handler must be a reactor: build a `cdylib`, not a binary',
    );
  }
}

/** Size and alignment of the argument tuple `(list<u8>, context)`. */
const ARGS_SIZE = 120;
const ARGS_ALIGN = 8;
/** Size of `result<list<u8>, handler-error>`. */
const RESULT_SIZE = 20;

/** What the guest's `handle` returned. */
export type HandleResult = { ok: true; body: Uint8Array } | { ok: false; errorType: string; errorMessage: string };

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

class Lowering {
  constructor(
    private readonly exports: HandlerExports,
    private readonly memory: GuestMemory,
  ) {}

  alloc(align: number, size: number, what: string): number {
    const ptr = this.exports.cabi_realloc(0, 0, align, size) >>> 0;
    if (ptr % align !== 0) {
      throw new WasiLambdaError(
        'GUEST_ABI_VIOLATION',
        `cabi_realloc returned ${ptr} for ${what}, which is not ${align}-byte aligned`,
      );
    }
    this.memory.check(ptr, size, `allocation for ${what}`);
    return ptr;
  }

  /** Copies bytes into a fresh guest allocation and stores `(ptr, len)` at `at`. */
  bytes(at: number, bytes: Uint8Array, what: string): void {
    const ptr = this.alloc(1, bytes.byteLength, what);
    this.memory.write(ptr, bytes, what);
    this.memory.setU32(at, ptr, what);
    this.memory.setU32(at + 4, bytes.byteLength, what);
  }

  /** Strings are UTF-8; a lone surrogate becomes U+FFFD, as `TextEncoder` defines. */
  string(at: number, value: string, what: string): void {
    this.bytes(at, encoder.encode(value), what);
  }

  optionString(at: number, value: string | undefined, what: string): void {
    if (value === undefined) {
      this.memory.setU8(at, 0, what);
      return;
    }
    this.memory.setU8(at, 1, what);
    this.string(at + 4, value, what);
  }
}

function lowerArgs(exports: HandlerExports, memory: GuestMemory, event: Uint8Array, ctx: InvokeContext): number {
  const low = new Lowering(exports, memory);
  const args = low.alloc(ARGS_ALIGN, ARGS_SIZE, 'the argument tuple');
  low.bytes(args, event, 'the event');
  low.string(args + 8, ctx.requestId, 'request-id');
  low.string(args + 16, ctx.functionName, 'function-name');
  low.string(args + 24, ctx.functionVersion, 'function-version');
  low.string(args + 32, ctx.invokedFunctionArn, 'invoked-function-arn');
  memory.setU32(args + 40, ctx.memoryLimitMb, 'memory-limit-mb');
  memory.setU64(args + 48, BigInt(Math.max(0, Math.trunc(ctx.deadlineMs))), 'deadline-ms');
  low.string(args + 56, ctx.logGroupName, 'log-group-name');
  low.string(args + 64, ctx.logStreamName, 'log-stream-name');
  low.optionString(args + 72, ctx.xrayTraceId, 'xray-trace-id');
  low.optionString(args + 84, ctx.clientContext, 'client-context');
  low.optionString(args + 96, ctx.identity, 'identity');
  low.optionString(args + 108, ctx.tenantId, 'tenant-id');
  return args;
}

function liftString(memory: GuestMemory, at: number, what: string): string {
  const bytes = memory.view(memory.u32(at, what), memory.u32(at + 4, what), what);
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new WasiLambdaError('GUEST_ABI_VIOLATION', `the guest's ${what} is not valid UTF-8`);
  }
}

function liftResult(memory: GuestMemory, ret: number): HandleResult {
  if (ret % 4 !== 0) {
    throw new WasiLambdaError('GUEST_ABI_VIOLATION', `handle returned ${ret}, which is not 4-byte aligned`);
  }
  memory.check(ret, RESULT_SIZE, 'result');
  const tag = memory.u8(ret, 'result tag');
  if (tag === 0) {
    const body = memory.copyOut(memory.u32(ret + 4, 'response'), memory.u32(ret + 8, 'response'), 'response');
    return { ok: true, body };
  }
  if (tag === 1) {
    return {
      ok: false,
      errorType: liftString(memory, ret + 4, 'error-type'),
      errorMessage: liftString(memory, ret + 12, 'error-message'),
    };
  }
  throw new WasiLambdaError('GUEST_ABI_VIOLATION', `handle returned result tag ${tag}; expected 0 (ok) or 1 (err)`);
}

/**
 * Calls `handle` with the event and context and returns what it produced, copied out of
 * guest memory. Throws `GUEST_ABI_VIOLATION` when the guest breaks the ABI; a trap
 * propagates as the engine's `WebAssembly.RuntimeError` (or `RangeError` on stack overflow).
 */
export function callHandle(
  exports: HandlerExports,
  memory: GuestMemory,
  event: Uint8Array,
  ctx: InvokeContext,
): HandleResult {
  const args = lowerArgs(exports, memory, event, ctx);
  const ret = exports.handle(args) >>> 0;
  const result = liftResult(memory, ret);
  exports.cabi_post_handle(ret);
  return result;
}

/** The last panic's text, if the guest exports `wasi_lambda_panic_info` and panicked. */
export function readPanicInfo(exports: HandlerExports, memory: GuestMemory): string | undefined {
  if (!exports.wasi_lambda_panic_info) return undefined;
  try {
    const at = exports.wasi_lambda_panic_info() >>> 0;
    if (at === 0) return undefined;
    return liftString(memory, at, 'panic message');
  } catch {
    // The module is already broken; the trap itself is what gets reported.
    return undefined;
  }
}
