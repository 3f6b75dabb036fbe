import type http from 'node:http';
import type https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkEgress, type EgressTarget, parseRequestUrl, type Resolver, systemResolver } from './egress-check.js';
import type { EgressPolicy } from './egress-policy.js';
import { failure, type OutboundFailure, type OutboundResult } from './outbound-result.js';
import { checkMethod, requestHeaders, responseHeaders } from './request-headers.js';
import { MAX_METHOD_BYTES, MAX_REQUEST_BODY_BYTES, MAX_URL_BYTES } from './request-limits.js';
import { cachedResolver } from './resolution-cache.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
/** Connections to one origin at once; more calls wait for a free one (within their deadline). */
export const DEFAULT_MAX_SOCKETS_PER_ORIGIN = 16;
/**
 * An idle kept-alive connection is closed after this long: below the 5 s idle timeout of
 * Node.js servers (and most others), so the server rarely closes one as it is reused.
 */
const IDLE_SOCKET_MS = 4_000;
/**
 * Idle kept-alive connections across all origins. Node bounds idle sockets per origin only,
 * and a guest granted `*.example.com` can name any number of origins: past this many, the
 * oldest origins' idle connections are closed, so the host's descriptors stay bounded.
 */
export const MAX_IDLE_SOCKETS = 32;
/** setTimeout's largest delay; longer budgets (a deadline far away) are clamped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Methods that may be sent again when a kept-alive connection turns out to be dead. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export interface OutboundRequest {
  method: string;
  /** An absolute `http:` or `https:` URL. */
  url: string;
  /** In order; repeats allowed. See `requestHeaders` for what is computed, refused or dropped. */
  headers?: readonly (readonly [string, string])[] | undefined;
  /** At most `MAX_REQUEST_BODY_BYTES`. */
  body?: Uint8Array | undefined;
  /** The guest's own bound on this call in ms; the invocation's deadline applies regardless. */
  timeoutMs?: number | undefined;
}

export interface SendOptions {
  /** The invocation's deadline, in ms since the epoch (Lambda's `deadline_ms`). */
  deadlineMs: number;
  /**
   * Cancels the call: its connection is destroyed at once and it resolves to a `Cancelled`
   * failure (the guest abandoned it, or its invocation ended).
   */
  signal?: AbortSignal | undefined;
  /**
   * Shared by several calls: each response body's bytes are claimed from it as they arrive,
   * and a call whose body would overdraw it fails with `ResponseTooLarge`. A failed call gives
   * its bytes back; a response keeps them, for the caller to release when done with the body.
   */
  budget?: ByteBudget | undefined;
}

/** Bytes several calls draw on together (`SendOptions.budget`). */
export interface ByteBudget {
  /** The budget's size in bytes, for messages. */
  readonly limit: number;
  /** Takes `bytes`; false, with nothing taken, if that would exceed the limit. */
  claim(bytes: number): boolean;
  /** Gives back bytes `claim` took. */
  release(bytes: number): void;
}

export interface OutboundClientOptions {
  /** Where requests may go (`parseEgressPolicy`). */
  policy: EgressPolicy;
  /** Told every refusal's message, for the function's log. */
  onDenied?: ((message: string) => void) | undefined;
  /** The largest response body accepted, in bytes (default 6 MB). */
  maxResponseBytes?: number | undefined;
  /**
   * Certificates trusted instead of Node's default store, as Node's own `ca` option does (for
   * tests and private CAs). Unset, Node's default store applies: its bundled Mozilla roots,
   * plus the PEM file `NODE_EXTRA_CA_CERTS` named when the process started (read once, at
   * startup; the test suite checks it), plus the system store when the function sets
   * `NODE_USE_SYSTEM_CA=1` (Node 22.19+, 24.6+) or `NODE_OPTIONS=--use-openssl-ca` (instead
   * of the bundled roots). On Lambda's Node.js 20+ runtimes the Amazon roots are in
   * `/var/runtime/ca-cert.pem`, loaded only when `NODE_EXTRA_CA_CERTS` names it.
   */
  ca?: string | readonly string[] | undefined;
  /**
   * Name resolution; default `dns.lookup` with every address. Answers are reused for 10 s
   * (`cachedResolver`). Tests substitute their own.
   */
  resolve?: Resolver | undefined;
  maxSocketsPerOrigin?: number | undefined;
}

type Phase = 'connect' | 'tls' | 'request' | 'body';

interface Attempt {
  result: OutboundResult;
  /** A reset on a reused kept-alive connection before any response: safe to send again. */
  staleConnection: boolean;
}

/**
 * `node:http` and `node:https`, loaded when a client is made rather than imported: on Node.js 22
 * `node:http` costs a process ~20 ms at startup (it loads undici), and the runtimes bundle this
 * file whether or not their function is granted outbound HTTP.
 */
function nodeHttp(): { http: typeof http; https: typeof https } {
  return { http: process.getBuiltinModule('node:http'), https: process.getBuiltinModule('node:https') };
}

/** Closes idle connections, oldest origins first, until at most `keep` remain. */
function closeIdle(agent: http.Agent, keep: number): void {
  const pools = Object.values(agent.freeSockets);
  let idle = 0;
  for (const sockets of pools) idle += sockets?.length ?? 0;
  for (const sockets of pools) {
    for (const socket of [...(sockets ?? [])]) {
      if (idle <= keep) return;
      socket.destroy();
      idle -= 1;
    }
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * One call's bound: a single timer, and one thing at a time to stop when it fires (the egress
 * check's wait, then the request in flight). Cheaper per call than an `AbortController` with
 * its event listeners, `Promise.race` and Node's abort-signal plumbing in `http.request`.
 */
class Expiry {
  expired = false;
  #timer: NodeJS.Timeout;
  #onExpire: (() => void) | undefined;

  constructor(ms: number) {
    this.#timer = setTimeout(() => this.expire(), ms);
  }

  expire(): void {
    if (this.expired) return;
    this.expired = true;
    clearTimeout(this.#timer);
    const stop = this.#onExpire;
    this.#onExpire = undefined;
    stop?.();
  }

  /** Runs `stop` when the bound expires (at once if it has); replaces the previous one. */
  onExpire(stop: () => void): void {
    if (this.expired) stop();
    else this.#onExpire = stop;
  }

  /** `work`'s outcome, or undefined if the bound expires first. */
  race<T>(work: Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      this.onExpire(() => resolve(undefined));
      work.then(resolve, reject);
    });
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#onExpire = undefined;
  }
}

function cancelled(): OutboundFailure {
  return failure('Cancelled', 'the request was cancelled before its response was complete');
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/.test(code)
  );
}

/** Maps a Node.js error to the stable code, by what the call had reached when it failed. */
function classify(err: unknown, phase: Phase, where: string, address: string): OutboundFailure {
  const code = errorCode(err);
  const detail = code === '' ? (err as Error).message : `${code}: ${(err as Error).message}`;
  if (code.startsWith('HPE_')) {
    return failure('ProtocolError', `${where} sent a response that is not valid HTTP/1.1 (${detail})`);
  }
  if (phase === 'connect') return failure('ConnectError', `cannot connect to ${where} at ${address} (${detail})`);
  if (phase === 'tls' || isTlsCode(code)) return failure('TlsError', `TLS with ${where} failed (${detail})`);
  if (RESET_CODES.has(code)) {
    return failure('ConnectionReset', `${where} closed the connection before the response was complete (${detail})`);
  }
  return failure('ProtocolError', `the exchange with ${where} failed (${detail})`);
}

/**
 * The host's outbound HTTP engine: every request is checked against the egress policy
 * (`checkEgress`) before a byte leaves, then sent over a kept-alive connection to the checked
 * address. Redirects are returned, never followed; bodies stay bytes (no decompression); the
 * whole call is bounded by `min(request.timeoutMs, deadline)`. `send` never rejects. Make
 * one per host and keep it across invocations: its connections and DNS answers live in it.
 *
 * ```ts
 * const outbound = new OutboundClient({ policy: parseAllowHosts(process.env), onDenied: log });
 * const result = await outbound.send({ method: 'GET', url: 'https://api.example.com/v1' }, { deadlineMs });
 * if (!result.ok) console.log(result.code, result.message);
 * ```
 */
export class OutboundClient {
  readonly #policy: EgressPolicy;
  readonly #onDenied: ((message: string) => void) | undefined;
  readonly #maxResponseBytes: number;
  readonly #resolve: Resolver;
  // One agent per scheme pools connections per origin (host, port, TLS options) inside it,
  // so calls to one origin share connections and the TLS session cache across invocations.
  readonly #http: http.Agent;
  readonly #https: https.Agent;

  constructor(options: OutboundClientOptions) {
    this.#policy = options.policy;
    this.#onDenied = options.onDenied;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#resolve = cachedResolver(options.resolve ?? systemResolver);
    const pool = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN,
      maxFreeSockets: 4,
      timeout: IDLE_SOCKET_MS,
      scheduling: 'lifo' as const,
    };
    const { http, https } = nodeHttp();
    this.#http = new http.Agent(pool);
    this.#https = new https.Agent({
      ...pool,
      // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the host's environment cannot turn it off.
      rejectUnauthorized: true,
      ...(options.ca === undefined ? {} : { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] }),
    });
  }

  /** Performs one request for the guest; resolves to a response or a typed failure. */
  async send(request: OutboundRequest, options: SendOptions): Promise<OutboundResult> {
    const shape = this.#checkShape(request);
    if (shape !== undefined) return shape;
    const own = request.timeoutMs ?? Number.POSITIVE_INFINITY;
    const remaining = options.deadlineMs - Date.now();
    const budget = Math.min(own, remaining);
    const bound = own < remaining ? `the request's timeout of ${own} ms` : "the invocation's deadline";
    if (!(budget > 0)) return failure('Timeout', `${bound} had passed before the request was sent`);

    const parsed = parseRequestUrl(request.url);
    if ('code' in parsed) return parsed;
    const prepared = requestHeaders(request.headers ?? [], parsed.url, request.body?.length);
    if (!prepared.ok) return prepared;
    const { headers } = prepared;

    const cancel = options.signal;
    if (cancel?.aborted) return cancelled();
    const clock = new Expiry(Math.min(budget, MAX_TIMER_MS));
    const onCancel = () => clock.expire();
    cancel?.addEventListener('abort', onCancel, { once: true });
    const timedOut = () =>
      cancel?.aborted
        ? cancelled()
        : failure('Timeout', `no complete response from ${parsed.url.host} within ${Math.round(budget)} ms (${bound})`);
    try {
      const target = await clock.race(checkEgress(parsed, this.#policy, this.#resolve));
      if (target === undefined) return timedOut();
      if ('code' in target) {
        if (target.code === 'EgressDenied') this.#logDenied(target.message);
        return target;
      }
      const method = request.method.toUpperCase();
      let attempt = await this.#attempt(target, method, headers, request.body, clock, options.budget);
      // A kept-alive connection the server (or a frozen Lambda sandbox) dropped while idle
      // fails on its first write; Node documents this retry for exactly that case.
      if (attempt.staleConnection && IDEMPOTENT.has(method)) {
        // One dead idle connection means the others are likely dead too (a thawed sandbox):
        // the retry must not draw another from the pool.
        closeIdle(target.secure ? this.#https : this.#http, 0);
        attempt = await this.#attempt(target, method, headers, request.body, clock, options.budget);
      }
      return clock.expired && !attempt.result.ok ? timedOut() : attempt.result;
    } finally {
      clock.stop();
      cancel?.removeEventListener('abort', onCancel);
    }
  }

  #logDenied(message: string): void {
    try {
      this.#onDenied?.(message);
    } catch {
      // The log is the caller's; its failure must not turn a refusal into a rejected promise.
    }
  }

  /** Closes every pooled connection; calls in flight fail. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  #checkShape(request: OutboundRequest): OutboundFailure | undefined {
    if (request.method.length > MAX_METHOD_BYTES) {
      return failure('InvalidRequest', `the method is ${request.method.length} bytes; at most ${MAX_METHOD_BYTES}`);
    }
    const method = checkMethod(request.method);
    if (method !== undefined) return method;
    if (request.url.length > MAX_URL_BYTES) {
      return failure('InvalidRequest', `the URL is ${request.url.length} bytes; at most ${MAX_URL_BYTES} are sent`);
    }
    if (request.body !== undefined && request.body.length > MAX_REQUEST_BODY_BYTES) {
      return failure(
        'InvalidRequest',
        `the request body is ${request.body.length} bytes; at most ${MAX_REQUEST_BODY_BYTES} are sent`,
      );
    }
    const timeout = request.timeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      return failure('InvalidRequest', `timeoutMs is ${timeout}; give a positive number of milliseconds`);
    }
    return undefined;
  }

  #attempt(
    target: EgressTarget,
    method: string,
    headers: Record<string, string | string[]>,
    body: Uint8Array | undefined,
    clock: Expiry,
    budget: ByteBudget | undefined,
  ): Promise<Attempt> {
    const { address, family, url } = target;
    const agent = target.secure ? this.#https : this.#http;
    closeIdle(agent, MAX_IDLE_SOCKETS);
    const where = url.host;
    const max = this.#maxResponseBytes;
    // The connection goes to the address checkEgress approved, whatever DNS says by now.
    const pinned: LookupFunction = (_hostname, opts, callback) => {
      if (opts.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
    return new Promise<Attempt>((resolve) => {
      let phase: Phase = 'connect';
      let reused = false;
      let settled = false;
      /** Bytes of this response's body claimed from `budget`: the response keeps them. */
      let claimed = 0;
      const settle = (result: OutboundResult, staleConnection = false) => {
        if (settled) return;
        settled = true;
        if (!result.ok && claimed > 0) budget?.release(claimed);
        resolve({ result, staleConnection });
      };
      const fail = (err: unknown) => {
        const result = classify(err, phase, where, address);
        settle(result, reused && phase === 'request' && result.code === 'ConnectionReset' && !clock.expired);
      };

      let req: http.ClientRequest;
      try {
        const { http, https } = nodeHttp();
        req = (target.secure ? https : http).request({
          agent,
          host: target.hostname,
          port: target.port,
          method,
          path: `${url.pathname}${url.search}`,
          headers,
          lookup: pinned,
        });
      } catch (err) {
        // Node's own checks, should a request pass ours and still not be sendable.
        settle(failure('InvalidRequest', `the request cannot be sent: ${(err as Error).message}`));
        return;
      }
      req.on('socket', (socket) => {
        reused = req.reusedSocket;
        if (!socket.connecting) {
          phase = 'request';
          return;
        }
        socket.once('connect', () => {
          if (phase === 'connect') phase = target.secure ? 'tls' : 'request';
        });
        if (target.secure) socket.once('secureConnect', () => (phase = 'request'));
      });
      req.on('error', fail);
      clock.onExpire(() => req.destroy(Object.assign(new Error('the call ran out of time'), { code: 'ABORT_ERR' })));
      req.on('upgrade', (_res, socket) => {
        socket.destroy();
        settle(failure('ProtocolError', `${where} switched protocols (101), which outbound HTTP does not support`));
      });
      req.on('response', (res) => {
        phase = 'body';
        const declared = Number(res.headers['content-length']);
        if (declared > max) {
          settle(
            failure('ResponseTooLarge', `${where} announced a ${declared}-byte body; at most ${max} are accepted`),
          );
          req.destroy();
          return;
        }
        // With a declared length the body is copied into its final buffer as it arrives, so the
        // socket's chunks are not held until the end (Node's parser enforces the length).
        const bytes = declared >= 0 ? new Uint8Array(declared) : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          if (size > max) {
            // Dropping the connection stops the transfer: nothing past the limit is buffered.
            settle(
              failure('ResponseTooLarge', `the response from ${where} exceeds ${max} bytes; the rest was not read`),
            );
            req.destroy();
            return;
          }
          if (budget !== undefined) {
            if (!budget.claim(chunk.length)) {
              settle(
                failure(
                  'ResponseTooLarge',
                  `the response from ${where} would take the bodies in flight past ${budget.limit} bytes; the rest was not read`,
                ),
              );
              req.destroy();
              return;
            }
            claimed += chunk.length;
          }
          if (bytes === undefined) chunks.push(chunk);
          else if (size <= bytes.length) bytes.set(chunk, size - chunk.length);
          else fail(Object.assign(new Error(`more than the ${declared} bytes declared`), { code: 'HPE_BODY_LENGTH' }));
        });
        res.on('end', () => {
          // A fresh buffer: the chunks are slices of larger socket buffers the guest must not see.
          // Shorter than declared only where no body is sent (HEAD, 204, 304): size is 0.
          let body = bytes === undefined ? undefined : size === bytes.length ? bytes : bytes.slice(0, size);
          if (body === undefined) {
            body = new Uint8Array(size);
            let offset = 0;
            for (const chunk of chunks) {
              body.set(chunk, offset);
              offset += chunk.length;
            }
          }
          settle({ ok: true, status: res.statusCode ?? 0, headers: responseHeaders(res.rawHeaders), body });
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(Object.assign(new Error('the response ended early'), { code: 'ECONNRESET' }));
        });
      });
      req.end(body);
    });
  }
}
