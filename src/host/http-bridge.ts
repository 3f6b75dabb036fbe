import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { AwsConfig } from '../aws/aws-config.js';
import { AwsAwareOutbound } from '../aws/aws-egress.js';
import { type ByteBudget, OutboundClient, type OutboundClientOptions } from '../outbound/client.js';
import type { EgressPolicy } from '../outbound/egress-policy.js';
import {
  type BridgeEnd,
  type BridgeRequest,
  type BridgeResult,
  type BridgeSend,
  claimHeld,
  MAX_BYTES_IN_FLIGHT,
  OUTSTANDING_CELL,
  releaseHeld,
  SIGNAL_BYTES,
  SIGNAL_CELL,
} from './guest-outbound.js';

export interface HttpBridgeOptions {
  /** Where the guest may connect (`parseAllowHosts`). */
  policy: EgressPolicy;
  /** Trusted CAs instead of Node's default store (`OutboundClientOptions.ca`). */
  ca?: OutboundClientOptions['ca'];
  /**
   * AWS services the guest may call (`WASI_LAMBDA_AWS`, `awsConfig`): its SigV4-signed requests
   * to those services are checked and re-signed here with the function's credentials, which the
   * guest never holds. Without it, or with an empty grant, no request is signed.
   */
  aws?: AwsConfig | undefined;
}

/** One worker's connection to the bridge. */
export interface BridgeLink {
  /** Hand this to the worker (transfer `end.port`). */
  end: BridgeEnd;
  /** The worker is gone: results still in flight are dropped. */
  close(): void;
}

/**
 * The main thread's side of the guest's outbound HTTP: it owns the `OutboundClient` (the
 * policy, the connections, the CA store never reach the guest's thread), performs what a
 * worker's `WorkerOutbound` posts, and posts each result back before waking the worker. One
 * bridge per host, kept across workers, so kept-alive connections survive a replaced worker.
 *
 * ```ts
 * const bridge = new HttpBridge({ policy: parseAllowHosts(process.env) });
 * const link = bridge.link();
 * worker.postMessage({ ...data, http: link.end }, [link.end.port]);
 * ```
 */
export class HttpBridge {
  readonly #options: HttpBridgeOptions;
  // Made on the first request: its HTTP agents load `node:http`, which a cold start should
  // not pay for a guest that never calls out.
  #client: OutboundClient | AwsAwareOutbound | undefined;

  constructor(options: HttpBridgeOptions) {
    this.#options = options;
  }

  #outbound(): OutboundClient | AwsAwareOutbound {
    if (this.#client !== undefined) return this.#client;
    const { aws, policy, ca } = this.#options;
    this.#client =
      aws !== undefined && aws.grant.services.size > 0
        ? new AwsAwareOutbound(aws, { policy, ca })
        : new OutboundClient({ policy, ca });
    return this.#client;
  }

  link(): BridgeLink {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(SIGNAL_BYTES);
    const cell = new Int32Array(signal);
    // Response bodies draw on the guest's MAX_BYTES_IN_FLIGHT as they arrive; the worker
    // releases them as the guest takes or drops them.
    const budget: ByteBudget = {
      limit: MAX_BYTES_IN_FLIGHT,
      claim: (bytes) => claimHeld(cell, bytes),
      release: (bytes) => releaseHeld(cell, bytes),
    };
    // What this worker has in flight, to cancel: a guest that abandons a request, or whose
    // invocation ends (returns, traps, times out), must not leave it running on the host.
    const inFlight = new Map<number, AbortController>();
    port1.on('message', (message: BridgeRequest) => {
      if ('cancel' in message) {
        for (const handle of message.cancel) inFlight.get(handle)?.abort();
        return;
      }
      const abort = new AbortController();
      inFlight.set(message.handle, abort);
      void this.#perform(port1, cell, message, abort.signal, budget).finally(() => {
        if (inFlight.get(message.handle) === abort) inFlight.delete(message.handle);
        Atomics.sub(cell, OUTSTANDING_CELL, 1);
      });
    });
    // The worker's pending requests must not keep the process alive by themselves.
    port1.unref();
    return {
      end: { port: port2, signal },
      close: () => {
        for (const abort of inFlight.values()) abort.abort();
        inFlight.clear();
        port1.close();
      },
    };
  }

  async #perform(
    port: MessagePort,
    cell: Int32Array,
    message: BridgeSend,
    cancelled: AbortSignal,
    budget: ByteBudget,
  ): Promise<void> {
    const request = { deadlineMs: message.deadlineMs, signal: cancelled, budget };
    const result = await this.#outbound().send(message.request, request);
    // The worker claimed the request's body when it sent it; the call is over with it now.
    budget.release(message.request.body?.byteLength ?? 0);
    if (cancelled.aborted) {
      if (result.ok) budget.release(result.body.byteLength);
      return;
    }
    const answer: BridgeResult = { handle: message.handle, result };
    // Hand a body that owns its buffer over rather than copying it (up to 6 MB).
    const body = result.ok ? result.body : undefined;
    const owned = body !== undefined && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    port.postMessage(answer, owned ? [body.buffer as ArrayBuffer] : []);
    Atomics.add(cell, SIGNAL_CELL, 1);
    Atomics.notify(cell, SIGNAL_CELL);
  }
}
