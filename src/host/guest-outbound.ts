import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { WasiLambdaError } from '../errors.js';
import type { OutboundRequest } from '../outbound/client.js';
import type { OutboundErrorCode, OutboundResponse } from '../outbound/outbound-result.js';
import { DeadlineExceeded } from '../wasi/sleep.js';

/**
 * The codes of the WIT `http-error`: the engine's, plus the bridge's own `TooManyRequests`
 * (over `MAX_IN_FLIGHT`) and `Unsupported` (no bridge: inline isolation).
 */
export type GuestHttpErrorCode = OutboundErrorCode | 'TooManyRequests' | 'Unsupported';

export interface GuestHttpFailure {
  ok: false;
  code: GuestHttpErrorCode;
  message: string;
}

export type GuestHttpResult = OutboundResponse | GuestHttpFailure;

/** Requests one instance may have in flight at once; more are refused with `TooManyRequests`. */
export const MAX_IN_FLIGHT = 64;

/**
 * Body bytes the host holds for one guest at once: request bodies from `send` until their call
 * ends, plus response bodies from their first byte until taken (or dropped). A request that would pass it is refused with
 * `TooManyRequests`, a response with `ResponseTooLarge`. Without it, 64 requests of 6 MB each
 * way would have the host hold (and copy between threads) over 1.5 GB for a 128 MB function.
 */
export const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/**
 * Requests the main thread may still be handling for one guest: those in flight plus those
 * cancelled whose cancellation it has not finished. Abandoned requests free their slots at
 * once, so a guest that sends and forgets in a loop would otherwise queue requests on the main
 * thread faster than it cancels them.
 */
export const MAX_OUTSTANDING = 2 * MAX_IN_FLIGHT;

/**
 * The cells of `BridgeEnd.signal`: results posted (a counter to wait on), body bytes held,
 * requests outstanding on the main thread (`MAX_OUTSTANDING`).
 */
export const SIGNAL_CELL = 0;
export const HELD_CELL = 1;
export const OUTSTANDING_CELL = 2;
/** The size of `BridgeEnd.signal`. */
export const SIGNAL_BYTES = 12;

/** Claims `bytes` of the shared `HELD_CELL` budget; false, with nothing taken, past the limit. */
export function claimHeld(cells: Int32Array, bytes: number): boolean {
  if (bytes === 0) return true;
  if (Atomics.add(cells, HELD_CELL, bytes) + bytes > MAX_BYTES_IN_FLIGHT) {
    Atomics.sub(cells, HELD_CELL, bytes);
    return false;
  }
  return true;
}

export function releaseHeld(cells: Int32Array, bytes: number): void {
  if (bytes > 0) Atomics.sub(cells, HELD_CELL, bytes);
}

/**
 * The guest's view of outbound HTTP, as the `wasi-lambda:handler/http` import needs it:
 * synchronous calls on the guest's thread. `wait` and `take` block; past `deadlineMs` they
 * throw `DeadlineExceeded`, which the host reports as the invocation's timeout.
 */
export interface GuestOutbound {
  /** Starts a request; a handle, or why it was refused at once. */
  send(request: OutboundRequest, deadlineMs: number): number | GuestHttpFailure;
  /** The handles among `handles` that are ready, waiting at most `timeoutMs` for one. */
  wait(handles: readonly number[], timeoutMs: number | undefined, deadlineMs: number): number[];
  /** A handle's outcome, waiting for it if needed; the handle is then gone. */
  take(handle: number, deadlineMs: number): GuestHttpResult;
  /** Abandons a handle; its outcome is dropped when it arrives. Unknown handles are ignored. */
  forget(handle: number): void;
  /** The invocation (or init) ended: every handle is abandoned. */
  abandonAll(): void;
}

/** What the guest thread posts to the main thread: a request to perform, or handles to cancel. */
export type BridgeRequest = BridgeSend | { cancel: readonly number[] };

/** A request for the main thread to perform under `handle`. */
export interface BridgeSend {
  handle: number;
  request: OutboundRequest;
  deadlineMs: number;
}

/** What the main thread posts back, then signals. */
export interface BridgeResult {
  handle: number;
  result: GuestHttpResult;
}

/** The worker's end of the bridge: cloneable, handed over in the worker's first message. */
export interface BridgeEnd {
  port: MessagePort;
  /**
   * `Int32Array` cells (`SIGNAL_BYTES`): `SIGNAL_CELL`, which the main thread increments and
   * notifies after each result; `HELD_CELL`, the body bytes held for the guest
   * (`MAX_BYTES_IN_FLIGHT`), claimed and released by both threads; `OUTSTANDING_CELL`, the
   * requests the main thread has not finished (`MAX_OUTSTANDING`).
   */
  signal: SharedArrayBuffer;
}

function unknownHandle(handle: number): WasiLambdaError {
  return new WasiLambdaError(
    'GUEST_ABI_VIOLATION',
    `the guest named HTTP request handle ${handle}, which it does not hold`,
  );
}

/**
 * Outbound HTTP for a guest on a worker thread: requests go to the main thread, which performs
 * them (it alone holds the egress policy); the guest thread blocks in `Atomics.wait` until the
 * main thread signals a result, then reads it with `receiveMessageOnPort`, synchronously, as
 * synckit does. The main thread's event loop is never blocked.
 *
 * ```ts
 * const outbound = new WorkerOutbound(end, (message) => logWarning(message));
 * const handle = outbound.send({ method: 'GET', url }, deadlineMs);
 * ```
 */
export class WorkerOutbound implements GuestOutbound {
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #onDenied: (message: string) => void;
  /** Handles in flight, not yet answered. */
  readonly #pending = new Set<number>();
  /** Answered, not yet taken. */
  readonly #ready = new Map<number, GuestHttpResult>();
  #next = 1;

  constructor(end: BridgeEnd, onDenied: (message: string) => void) {
    this.#port = end.port;
    this.#signal = new Int32Array(end.signal);
    this.#onDenied = onDenied;
  }

  send(request: OutboundRequest, deadlineMs: number): number | GuestHttpFailure {
    this.#drain();
    // Abandoned requests hold no slot: the main thread cancelled them (in message order,
    // before this one), and their results are dropped as handles no longer held.
    if (this.#pending.size + this.#ready.size >= MAX_IN_FLIGHT) {
      return {
        ok: false,
        code: 'TooManyRequests',
        message: `more than ${MAX_IN_FLIGHT} HTTP requests in flight at once; await some before sending more`,
      };
    }
    if (Atomics.load(this.#signal, OUTSTANDING_CELL) >= MAX_OUTSTANDING) {
      return {
        ok: false,
        code: 'TooManyRequests',
        message: `the host is still cancelling requests this function abandoned (at most ${MAX_OUTSTANDING} outstanding); await some before sending more`,
      };
    }
    const bodyBytes = request.body?.byteLength ?? 0;
    if (!claimHeld(this.#signal, bodyBytes)) {
      return {
        ok: false,
        code: 'TooManyRequests',
        message: `the request and response bodies in flight would exceed ${MAX_BYTES_IN_FLIGHT} bytes; await some before sending more`,
      };
    }
    const handle = this.#next;
    this.#next = this.#next >= 0x7fff_ffff ? 1 : this.#next + 1;
    this.#pending.add(handle);
    Atomics.add(this.#signal, OUTSTANDING_CELL, 1);
    const message: BridgeRequest = { handle, request, deadlineMs };
    // The import copied the body out of guest memory into a buffer of its own: hand that over
    // rather than have it copied again (up to 6 MB).
    const body = request.body;
    const owned = body !== undefined && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    this.#port.postMessage(message, owned ? [body.buffer as ArrayBuffer] : []);
    return handle;
  }

  wait(handles: readonly number[], timeoutMs: number | undefined, deadlineMs: number): number[] {
    for (const handle of handles) {
      if (!this.#pending.has(handle) && !this.#ready.has(handle)) throw unknownHandle(handle);
    }
    const until = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    for (;;) {
      // Read the counter before draining: a result posted after the drain changes it, so the
      // wait below returns at once instead of sleeping through it.
      const seen = Atomics.load(this.#signal, SIGNAL_CELL);
      this.#drain();
      const ready = handles.filter((h) => this.#ready.has(h));
      const now = Date.now();
      if (ready.length > 0 || now >= until) return ready;
      if (now >= deadlineMs) throw new DeadlineExceeded(deadlineMs);
      Atomics.wait(this.#signal, SIGNAL_CELL, seen, Math.min(until, deadlineMs) - now);
    }
  }

  take(handle: number, deadlineMs: number): GuestHttpResult {
    if (!this.#ready.has(handle)) this.wait([handle], undefined, deadlineMs);
    const result = this.#ready.get(handle);
    if (result === undefined) throw unknownHandle(handle);
    this.#ready.delete(handle);
    // The body is copied into the guest's memory next; the host's copy is not kept.
    this.#releaseResult(result);
    return result;
  }

  forget(handle: number): void {
    // Lenient: a future dropped after its invocation ended names a handle already abandoned.
    // A request's body stays claimed until its call ends on the main thread, which releases it.
    if (this.#pending.delete(handle)) {
      this.#cancel([handle]);
      return;
    }
    const result = this.#ready.get(handle);
    if (result !== undefined) {
      this.#ready.delete(handle);
      this.#releaseResult(result);
    }
  }

  abandonAll(): void {
    this.#drain();
    if (this.#pending.size > 0) this.#cancel([...this.#pending]);
    for (const result of this.#ready.values()) this.#releaseResult(result);
    this.#pending.clear();
    this.#ready.clear();
  }

  #releaseResult(result: GuestHttpResult): void {
    if (result.ok) releaseHeld(this.#signal, result.body.byteLength);
  }

  /** The main thread destroys these requests' connections; their results are never posted. */
  #cancel(handles: readonly number[]): void {
    const message: BridgeRequest = { cancel: handles };
    this.#port.postMessage(message);
  }

  /** Moves every result the main thread has posted into `#ready` (or drops it). */
  #drain(): void {
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) return;
      const { handle, result } = received.message as BridgeResult;
      // Not pending: abandoned (forgotten, or its invocation ended) before this arrived.
      if (!this.#pending.delete(handle)) {
        this.#releaseResult(result);
        continue;
      }
      if (!result.ok && result.code === 'EgressDenied') this.#onDenied(result.message);
      this.#ready.set(handle, result);
    }
  }
}

/**
 * No bridge: the guest runs on the thread that would have to perform its I/O (inline
 * isolation), and a synchronous guest call cannot wait for it. Every request is refused.
 */
export const unsupportedOutbound: GuestOutbound = {
  send: () => ({
    ok: false,
    code: 'Unsupported',
    message:
      'outbound HTTP needs worker isolation (WASI_LAMBDA_ISOLATION=worker, the default): an inline guest blocks the thread that would perform the request',
  }),
  wait: (handles) => {
    const [first] = handles;
    if (first !== undefined) throw unknownHandle(first);
    return [];
  },
  take: (handle) => {
    throw unknownHandle(handle);
  },
  forget: () => {},
  abandonAll: () => {},
};
