import { WasiLambdaError } from '../errors.js';
import type { OutboundRequest } from '../outbound/client.js';
import { MAX_REQUEST_HEADER_BYTES } from '../outbound/request-headers.js';
import { MAX_METHOD_BYTES, MAX_REQUEST_BODY_BYTES, MAX_URL_BYTES } from '../outbound/request-limits.js';
import { WIT_PACKAGE, WIT_VERSION } from './abi.js';
import type { GuestMemory } from './guest-memory.js';
import type { GuestHttpResult, GuestOutbound } from './guest-outbound.js';

/** The core module name the SDK imports the WIT interface `wasi-lambda:handler/http` under. */
export const HTTP_IMPORT_MODULE = `${WIT_PACKAGE}/http@${WIT_VERSION}`;

/** Headers one request may carry; the engine bounds their bytes. */
const MAX_HEADERS = 1024;
/** Handles one `wait` may name (the SDK names at most the in-flight ones). */
const MAX_WAIT_HANDLES = 1024;

/** What the import needs of the instance, available once it exists. */
export interface ImportBinding {
  memory: GuestMemory;
  /** The module's `cabi_realloc(old_ptr, old_len, align, new_len) -> ptr`. */
  realloc: (oldPtr: number, oldLen: number, align: number, newLen: number) => number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Why a request is refused for its size alone (the engine's own bounds), or undefined. */
function tooLarge(method: number, url: number, headers: number, body: number): string | undefined {
  if (method > MAX_METHOD_BYTES) return `the method is ${method} bytes; at most ${MAX_METHOD_BYTES}`;
  if (url > MAX_URL_BYTES) return `the URL is ${url} bytes; at most ${MAX_URL_BYTES} are sent`;
  if (headers > MAX_REQUEST_HEADER_BYTES) return `the request headers exceed ${MAX_REQUEST_HEADER_BYTES} bytes`;
  if (body > MAX_REQUEST_BODY_BYTES) {
    return `the request body is ${body} bytes; at most ${MAX_REQUEST_BODY_BYTES} are sent`;
  }
  return undefined;
}

/**
 * The canonical ABI traps on a list, return area or `cabi_realloc` result that is not aligned
 * to its element type (`load_list_from_range`, `store_list_into_range`); so does the host.
 */
function aligned(ptr: number, align: number, what: string): number {
  const at = ptr >>> 0;
  if (at % align !== 0) {
    throw new WasiLambdaError('GUEST_ABI_VIOLATION', `the guest's ${what} at ${at} is not ${align}-byte aligned`);
  }
  return at;
}

function liftString(memory: GuestMemory, ptr: number, len: number, what: string): string {
  try {
    return utf8.decode(memory.view(ptr, len, what));
  } catch (err) {
    if (err instanceof WasiLambdaError) throw err;
    // The canonical ABI traps on a string that is not UTF-8.
    throw new WasiLambdaError('GUEST_ABI_VIOLATION', `the guest's ${what} is not UTF-8`);
  }
}

/**
 * The core-ABI functions of `wasi-lambda:handler/http` (see `wasm-handlers/wit/handler.wit`),
 * lifting and lowering through guest memory with every range checked. The layouts are the
 * canonical ABI's for the WIT types named in each comment; the SDK's
 * `crates/wasi-lambda/src/http/wasm.rs` mirrors them, and the component test checks both.
 *
 * ```ts
 * const imports = { [HTTP_IMPORT_MODULE]: httpImports(() => binding, outbound, () => deadline) };
 * ```
 */
export function httpImports(
  binding: () => ImportBinding,
  outbound: GuestOutbound,
  deadline: () => number,
): Record<string, (...args: number[]) => void> {
  /**
   * `cabi_realloc`, refusing to be re-entered: an import called from inside it (as the
   * canonical ABI forbids: the instance may not leave while the host lowers into it) would see
   * a half-lowered result, such as an outcome already taken and not yet written.
   */
  let inRealloc = false;
  const realloc = (align: number, size: number): number => {
    inRealloc = true;
    try {
      return binding().realloc(0, 0, align, size);
    } finally {
      inRealloc = false;
    }
  };
  const entered = (name: string): void => {
    if (inRealloc) {
      throw new WasiLambdaError('GUEST_ABI_VIOLATION', `the guest called http ${name} from inside cabi_realloc`);
    }
  };

  /** Lowers `bytes` as a `list<u8>`/`string` into a fresh guest allocation; `(ptr, len)`. */
  const lowerBytes = (bytes: Uint8Array): [number, number] => {
    if (bytes.byteLength === 0) return [1, 0];
    const ptr = realloc(1, bytes.byteLength);
    binding().memory.write(ptr, bytes, 'HTTP list allocation');
    return [ptr >>> 0, bytes.byteLength];
  };

  /** Writes an `http-error` record (`code`, `message` strings) at `ret + 4`, tag 1 at `ret`. */
  const lowerError = (ret: number, code: string, message: string): void => {
    const [cp, cl] = lowerBytes(encoder.encode(code));
    const [mp, ml] = lowerBytes(encoder.encode(message));
    const { memory } = binding();
    memory.setU8(ret, 1, 'http result');
    memory.setU32(ret + 4, cp, 'http result');
    memory.setU32(ret + 8, cl, 'http result');
    memory.setU32(ret + 12, mp, 'http result');
    memory.setU32(ret + 16, ml, 'http result');
  };

  return {
    // send: func(req: request) -> result<u32, http-error>
    // (method ptr len, url ptr len, headers ptr len, body tag ptr len, timeout tag value, ret)
    send: (
      mp: number,
      ml: number,
      up: number,
      ul: number,
      hp: number,
      hl: number,
      bTag: number,
      bp: number,
      bl: number,
      tTag: number,
      tMs: number,
      ret: number,
    ) => {
      entered('send');
      const { memory } = binding();
      memory.check(aligned(ret, 4, 'http send result'), 20, 'http send result');
      aligned(hp, 4, 'http request header list');
      const count = hl >>> 0;
      if (count > MAX_HEADERS) {
        lowerError(ret, 'InvalidRequest', `more than ${MAX_HEADERS} request headers`);
        return;
      }
      // Every range is checked (a trap, as the canonical ABI's lifting would) before any size
      // is judged; the sizes are judged before anything is decoded or copied, so a guest that
      // names a gigabyte of its memory costs the host nothing.
      memory.check(mp, ml, 'HTTP method');
      memory.check(up, ul, 'URL');
      if (bTag) memory.check(bp, bl, 'request body');
      // list<tuple<string, string>>: 16 bytes per element, (name ptr, len, value ptr, len).
      memory.check(hp, count * 16, 'http request headers');
      let headerBytes = 0;
      for (let i = 0; i < count; i++) {
        const at = (hp >>> 0) + i * 16;
        const [nl, vl] = [memory.u32(at + 4, 'header'), memory.u32(at + 12, 'header')];
        memory.check(memory.u32(at, 'header'), nl, 'header name');
        memory.check(memory.u32(at + 8, 'header'), vl, 'header value');
        headerBytes += nl + vl + 4;
      }
      const refused = tooLarge(ml >>> 0, ul >>> 0, headerBytes, bTag ? bl >>> 0 : 0);
      if (refused !== undefined) {
        lowerError(ret, 'InvalidRequest', refused);
        return;
      }
      const headers: [string, string][] = [];
      for (let i = 0; i < count; i++) {
        const at = (hp >>> 0) + i * 16;
        headers.push([
          liftString(memory, memory.u32(at, 'header'), memory.u32(at + 4, 'header'), 'header name'),
          liftString(memory, memory.u32(at + 8, 'header'), memory.u32(at + 12, 'header'), 'header value'),
        ]);
      }
      const request: OutboundRequest = {
        method: liftString(memory, mp, ml, 'HTTP method'),
        url: liftString(memory, up, ul, 'URL'),
        headers,
        body: bTag ? memory.copyOut(bp, bl, 'request body') : undefined,
        timeoutMs: tTag ? tMs >>> 0 : undefined,
      };
      const started = outbound.send(request, deadline());
      if (typeof started === 'number') {
        memory.setU8(ret, 0, 'http send result');
        memory.setU32(ret + 4, started, 'http send result');
      } else {
        lowerError(ret, started.code, started.message);
      }
    },

    // wait: func(handles: list<u32>, timeout-ms: option<u32>) -> list<u32>
    // (handles ptr len, timeout tag value, ret: (ptr, len))
    wait: (hp: number, hl: number, tTag: number, tMs: number, ret: number) => {
      entered('wait');
      const { memory } = binding();
      memory.check(aligned(ret, 4, 'http wait result'), 8, 'http wait result');
      aligned(hp, 4, 'http wait handle list');
      const count = hl >>> 0;
      if (count > MAX_WAIT_HANDLES) {
        throw new WasiLambdaError('GUEST_ABI_VIOLATION', `the guest waited on ${count} HTTP handles`);
      }
      memory.check(hp, count * 4, 'http wait handles');
      const handles: number[] = [];
      for (let i = 0; i < count; i++) handles.push(memory.u32((hp >>> 0) + i * 4, 'http wait handles'));
      const ready = outbound.wait(handles, tTag ? tMs >>> 0 : undefined, deadline());
      let ptr = 4;
      if (ready.length > 0) {
        ptr = aligned(realloc(4, ready.length * 4), 4, 'cabi_realloc result');
        for (const [i, handle] of ready.entries()) binding().memory.setU32(ptr + i * 4, handle, 'http wait list');
      }
      binding().memory.setU32(ret, ptr, 'http wait result');
      binding().memory.setU32(ret + 4, ready.length, 'http wait result');
    },

    // take: func(handle: u32) -> result<response, http-error>
    // ret: tag at 0; ok: status u16 at 4, headers (ptr, len) at 8, body (ptr, len) at 16.
    take: (handle: number, ret: number) => {
      entered('take');
      binding().memory.check(aligned(ret, 4, 'http take result'), 24, 'http take result');
      const result: GuestHttpResult = outbound.take(handle >>> 0, deadline());
      if (!result.ok) {
        lowerError(ret, result.code, result.message);
        return;
      }
      const strings = result.headers.map(
        ([name, value]) => [lowerBytes(encoder.encode(name)), lowerBytes(encoder.encode(value))] as const,
      );
      let list = 4;
      if (strings.length > 0) {
        list = aligned(realloc(4, strings.length * 16), 4, 'cabi_realloc result');
      }
      strings.forEach(([[np, nl], [vp, vl]], i) => {
        const at = list + i * 16;
        const { memory } = binding();
        memory.setU32(at, np, 'http header list');
        memory.setU32(at + 4, nl, 'http header list');
        memory.setU32(at + 8, vp, 'http header list');
        memory.setU32(at + 12, vl, 'http header list');
      });
      const [bodyPtr, bodyLen] = lowerBytes(result.body);
      const { memory } = binding();
      memory.setU8(ret, 0, 'http take result');
      memory.write(ret + 4, Uint8Array.of(result.status & 0xff, result.status >>> 8), 'http take result');
      memory.setU32(ret + 8, list, 'http take result');
      memory.setU32(ret + 12, strings.length, 'http take result');
      memory.setU32(ret + 16, bodyPtr, 'http take result');
      memory.setU32(ret + 20, bodyLen, 'http take result');
    },

    // forget: func(handle: u32)
    forget: (handle: number) => {
      entered('forget');
      outbound.forget(handle >>> 0);
    },
  };
}

/** The WIT `request` record as jco lifts it. */
interface LiftedRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
  timeoutMs: number | undefined;
}

type WitResult<T> = { tag: 'ok'; val: T } | { tag: 'err'; val: { code: string; message: string } };

/**
 * The same interface for the component backend, on the JS values jco lifts and lowers (its
 * generated glue does the canonical ABI from the WIT): the component test answering as the
 * core path does checks `httpImports`' offsets and the SDK's against the world.
 *
 * ```ts
 * const imports = { ...wasi, 'wasi-lambda:handler/http': httpComponentImports(outbound, () => deadline) };
 * ```
 */
export function httpComponentImports(outbound: GuestOutbound, deadline: () => number) {
  return {
    send: (req: LiftedRequest): WitResult<number> => {
      const started = outbound.send(
        { method: req.method, url: req.url, headers: req.headers, body: req.body, timeoutMs: req.timeoutMs },
        deadline(),
      );
      if (typeof started === 'number') return { tag: 'ok', val: started };
      return { tag: 'err', val: { code: started.code, message: started.message } };
    },
    wait: (handles: ArrayLike<number>, timeoutMs: number | undefined): number[] =>
      outbound.wait(Array.from(handles), timeoutMs, deadline()),
    take: (handle: number): WitResult<{ status: number; headers: [string, string][]; body: Uint8Array }> => {
      const result = outbound.take(handle, deadline());
      if (!result.ok) return { tag: 'err', val: { code: result.code, message: result.message } };
      return { tag: 'ok', val: { status: result.status, headers: result.headers, body: result.body } };
    },
    forget: (handle: number): void => outbound.forget(handle),
  };
}
