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
import { exportedFunctionTypes } from './compile.js';
import type { RequestFacts } from './context.js';
import type { GuestMemory } from './guest-memory.js';
import { MAX_RESPONSE_BYTES, responseTooLarge } from './lambda-limits.js';

/** The WIT package of the worlds, whose version a module's imports name (`…/http@0.2.0`). */
export const WIT_PACKAGE = 'wasi-lambda:handler';
/** Bumped with every change to the worlds' ABI: a module built for another is refused. */
export const WIT_VERSION = '0.2.0';

/**
 * The custom section in which a module names the world version its glue follows (the SDK
 * writes it; a hand-written module declares it with `(@custom "wasi-lambda:abi" "0.2.0")`).
 * The argument tuple's layout shows in no import or export name, so without it a module built
 * for an older world that imports nothing from it would be accepted and misread its arguments.
 */
export const ABI_SECTION = 'wasi-lambda:abi';
/** The world version from which the SDK writes `ABI_SECTION`: modules of earlier ones have none. */
const ABI_SECTION_SINCE = '0.2.0';

/** The core exports of a module built for the world. */
export interface HandlerExports {
  memory: WebAssembly.Memory;
  handle(args: number): number;
  cabi_post_handle(ret: number): void;
  cabi_realloc(oldPtr: number, oldLen: number, align: number, newLen: number): number;
  _initialize?: () => void;
  /** `lambda-service` worlds (`#[wasi_lambda::main]`): runs the function's init once. */
  init?: () => number;
  cabi_post_init?: (ret: number) => void;
}

/** The world's core exports: their kind, and for functions their type in the spec's notation. */
const REQUIRED = new Map<string, { kind: WebAssembly.ImportExportKind; type?: string }>([
  ['memory', { kind: 'memory' }],
  ['handle', { kind: 'function', type: '[i32] -> [i32]' }],
  ['cabi_post_handle', { kind: 'function', type: '[i32] -> []' }],
  ['cabi_realloc', { kind: 'function', type: '[i32 i32 i32 i32] -> [i32]' }],
]);

const REBUILD = 'build it from a crate with `crate-type = ["cdylib"]` whose handler carries `#[wasi_lambda::handler]`';

/**
 * Refuses, before instantiation, a module that cannot serve the world: a missing export, one
 * of the wrong kind or (for a module `compileGuest` compiled) the wrong type, a WASI command,
 * an import of anything but a function (the host provides WASI preview 1 functions only), or
 * a module built for another version of the world (`checkAbiVersion`).
 *
 * ```ts
 * const module = await compileGuest(bytes, guestMemoryPages(128));
 * checkContract(module); // throws CONTRACT_MISSING or MODULE_REFUSED
 * ```
 */
export function checkContract(module: WebAssembly.Module): void {
  const imported = WebAssembly.Module.imports(module).find((i) => i.kind !== 'function');
  if (imported) {
    const flag =
      imported.kind === 'memory'
        ? ' (link without `--import-memory`)'
        : imported.kind === 'table'
          ? ' (link without `--import-table`)'
          : '';
    throw new WasiLambdaError(
      'MODULE_REFUSED',
      `the module imports the ${imported.kind} \`${imported.module}.${imported.name}\`, which the host does not provide: ` +
        `a handler defines and exports its own memory and tables${flag}`,
    );
  }
  const stale = WebAssembly.Module.imports(module).find(
    (i) => i.module.startsWith(`${WIT_PACKAGE}/`) && !i.module.endsWith(`@${WIT_VERSION}`),
  );
  if (stale) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module imports \`${stale.module}\`, but this host implements ${WIT_PACKAGE}@${WIT_VERSION}: ` +
        'rebuild it with the same wasi-lambda version as the host (`wasi-lambda build`)',
    );
  }
  const exported = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  const missing = [...REQUIRED.keys()].filter((name) => !exported.has(name));
  if (missing.length > 0) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module does not export ${missing.map((m) => `\`${m}\``).join(', ')}: ${REBUILD}`,
    );
  }
  const types = exportedFunctionTypes(module);
  for (const [name, want] of REQUIRED) {
    const kind = exported.get(name);
    if (kind !== want.kind) {
      throw new WasiLambdaError(
        'CONTRACT_MISSING',
        `the module exports \`${name}\` as a ${kind}, not a ${want.kind}: ${REBUILD}`,
      );
    }
    const type = types?.get(name);
    if (want.type !== undefined && type !== undefined && type !== want.type) {
      throw new WasiLambdaError(
        'CONTRACT_MISSING',
        `the module's \`${name}\` has type ${type}, not ${want.type}: ${REBUILD} (and the same wasi-lambda version as the host)`,
      );
    }
  }
  if (exported.has('_start')) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      'the module is a WASI command (it exports `_start`); a handler must be a reactor: build a `cdylib`, not a binary',
    );
  }
  checkAbiVersion(module);
}

/**
 * Refuses a module whose `wasi-lambda:abi` custom section is missing, repeated, or names
 * another version of the world than `WIT_VERSION`.
 */
function checkAbiVersion(module: WebAssembly.Module): void {
  const sections = WebAssembly.Module.customSections(module, ABI_SECTION);
  const [section] = sections;
  if (section === undefined) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module has no \`${ABI_SECTION}\` custom section, so nothing says which version of ${WIT_PACKAGE} it was built for ` +
        `(wasi-lambda's SDK writes it from world ${ABI_SECTION_SINCE} on): rebuild it with the same wasi-lambda version as the host ` +
        `(\`wasi-lambda build\`); a hand-written module declares it with (@custom "${ABI_SECTION}" "${WIT_VERSION}")`,
    );
  }
  if (sections.length > 1) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module has ${sections.length} \`${ABI_SECTION}\` custom sections; one names the version of ${WIT_PACKAGE} it was built for`,
    );
  }
  // Only the first bytes are read: the section is the module's to fill, up to its whole size.
  const named = new TextDecoder().decode(new Uint8Array(section, 0, Math.min(section.byteLength, 64)));
  if (section.byteLength > 64 || named !== WIT_VERSION) {
    throw new WasiLambdaError(
      'CONTRACT_MISSING',
      `the module was built for ${WIT_PACKAGE} ${printable(named, section.byteLength > 64)} (its \`${ABI_SECTION}\` section), ` +
        `but this host implements ${WIT_VERSION}: rebuild it with the same wasi-lambda version as the host (\`wasi-lambda build\`)`,
    );
  }
}

/** `text` quoted with every character outside printable ASCII escaped, so a log shows it as it is. */
function printable(text: string, cut: boolean): string {
  const escaped = [...text]
    .map((c) => (/^[\x20-\x7e]$/.test(c) && c !== '"' && c !== '\\' ? c : `\\u{${c.codePointAt(0)?.toString(16)}}`))
    .join('');
  return `"${escaped}"${cut ? '…' : ''}`;
}

/** Size and alignment of the argument tuple `(list<u8>, context)`. */
const ARGS_SIZE = 80;
const ARGS_ALIGN = 8;
/** Size of `result<list<u8>, handler-error>`. */
const RESULT_SIZE = 20;

/**
 * What the guest's `handle` returned: its response, or its `Err`, or the error Lambda reports
 * for a response over `MAX_RESPONSE_BYTES` (`Function.ResponseSizeTooLarge`), which is the
 * handler's fault too and leaves the instance as it was.
 */
export type HandleResult = { ok: true; body: Uint8Array } | { ok: false; errorType: string; errorMessage: string };

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Any UTF-16 code unit above 0x7f (surrogates included); a regular expression beats a loop of `charCodeAt`. */
const NON_ASCII = /[\u0080-\uffff]/;

function isAscii(value: string): boolean {
  return !NON_ASCII.test(value);
}

/**
 * Lowers values into guest memory through the guest's own `cabi_realloc`, every allocation
 * checked for alignment and bounds: the arguments of `handle`, and the results of imports.
 *
 * ```ts
 * new Lowering(exports.cabi_realloc, memory).string(ret, 'quotes', 'function-name');
 * ```
 */
export class Lowering {
  constructor(
    private readonly realloc: HandlerExports['cabi_realloc'],
    private readonly memory: GuestMemory,
  ) {}

  alloc(align: number, size: number, what: string): number {
    const ptr = this.realloc(0, 0, align, size) >>> 0;
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
    if (!isAscii(value)) {
      this.bytes(at, encoder.encode(value), what);
      return;
    }
    // The context's strings are ASCII in practice: copied straight into the guest, they skip
    // the array `encode` allocates, which was a third of a warm invocation's host time.
    const ptr = this.alloc(1, value.length, what);
    this.memory.writeAscii(ptr, value, what);
    this.memory.setU32(at, ptr, what);
    this.memory.setU32(at + 4, value.length, what);
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

function lowerArgs(exports: HandlerExports, memory: GuestMemory, event: Uint8Array, ctx: RequestFacts): number {
  const low = new Lowering(exports.cabi_realloc, memory);
  const args = low.alloc(ARGS_ALIGN, ARGS_SIZE, 'the argument tuple');
  low.bytes(args, event, 'the event');
  low.string(args + 8, ctx.requestId, 'request-id');
  low.string(args + 16, ctx.invokedFunctionArn, 'invoked-function-arn');
  // A u64 as two u32 halves: exact for any deadline below 2^53, with no BigInt per call.
  const deadline = Math.max(0, Math.trunc(ctx.deadlineMs));
  memory.setU32(args + 24, deadline % 0x1_0000_0000, 'deadline-ms');
  memory.setU32(args + 28, Math.floor(deadline / 0x1_0000_0000), 'deadline-ms');
  low.optionString(args + 32, ctx.xrayTraceId, 'xray-trace-id');
  low.optionString(args + 44, ctx.clientContext, 'client-context');
  low.optionString(args + 56, ctx.identity, 'identity');
  low.optionString(args + 68, ctx.tenantId, 'tenant-id');
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
    const ptr = memory.u32(ret + 4, 'response');
    const length = memory.u32(ret + 8, 'response');
    memory.check(ptr, length, 'response');
    // Checked before anything is copied: the guest decides the length, the host pays for the copy.
    if (length > MAX_RESPONSE_BYTES) return { ok: false, ...responseTooLarge(length) };
    return { ok: true, body: memory.copyOut(ptr, length, 'response') };
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
 * Calls `handle` with the event and the invocation's context (the request's facts; the
 * function's identity the guest asks for once, through `environment-import.ts`) and returns
 * what it produced, copied out of guest memory. Throws `GUEST_ABI_VIOLATION` when the guest breaks the ABI; a trap
 * propagates as the engine's `WebAssembly.RuntimeError` (or `RangeError` on stack overflow).
 */
export function callHandle(
  exports: HandlerExports,
  memory: GuestMemory,
  event: Uint8Array,
  ctx: RequestFacts,
): HandleResult {
  const args = lowerArgs(exports, memory, event, ctx);
  const ret = exports.handle(args) >>> 0;
  const result = liftResult(memory, ret);
  exports.cabi_post_handle(ret);
  return result;
}

/** What the guest's `init` returned: `ok`, or the init error Lambda reports. */
export type InitResult = { ok: true } | { ok: false; errorType: string; errorMessage: string };

/**
 * Calls the `init` export of a `lambda-service` module (`init: func() -> result<_,
 * handler-error>`), whose result has `handle`'s 20-byte layout with an empty `ok`, and releases
 * it with `cabi_post_init`. A module without `init` has nothing to run.
 */
export function callInit(exports: HandlerExports, memory: GuestMemory): InitResult {
  if (typeof exports.init !== 'function') return { ok: true };
  const ret = exports.init() >>> 0;
  if (ret % 4 !== 0) {
    throw new WasiLambdaError('GUEST_ABI_VIOLATION', `init returned ${ret}, which is not 4-byte aligned`);
  }
  memory.check(ret, RESULT_SIZE, 'init result');
  const tag = memory.u8(ret, 'init result tag');
  let result: InitResult;
  if (tag === 0) result = { ok: true };
  else if (tag === 1) {
    result = {
      ok: false,
      errorType: liftString(memory, ret + 4, 'error-type'),
      errorMessage: liftString(memory, ret + 12, 'error-message'),
    };
  } else {
    throw new WasiLambdaError('GUEST_ABI_VIOLATION', `init returned result tag ${tag}; expected 0 (ok) or 1 (err)`);
  }
  exports.cabi_post_init?.(ret);
  return result;
}
