import type { InvokeContext } from './context.js';
import type { InvokeOutcome } from './outcome.js';

/**
 * A loaded handler, whichever way it runs (core module or component, on the calling thread or
 * in a worker): one invocation at a time, never throwing for guest misbehaviour.
 *
 * ```ts
 * const host: FunctionHost = await loadHost(config);
 * const outcome = await host.invoke(eventBytes, ctx);
 * ```
 */
export interface FunctionHost {
  /** Inline hosts answer synchronously; a worker-isolated host answers with a promise. */
  invoke(event: Uint8Array, ctx: InvokeContext): InvokeOutcome | Promise<InvokeOutcome>;
  /** Instances created so far: 1 plus one per instance replaced (failure, `fresh`, timeout). */
  readonly instanceCount: number;
  /**
   * Between invocations: makes sure an initialised instance waits for the next one (in `fresh`
   * mode, or after a failure replaced the instance), so the next invocation does not pay for
   * instantiating it. Hosts that prepare by themselves leave it out.
   */
  prepare?(): void;
  /** Releases threads and instances; the host cannot be used afterwards. */
  close?(): Promise<void>;
}
