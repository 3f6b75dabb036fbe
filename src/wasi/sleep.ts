/**
 * Thrown out of a blocking import (`poll_oneoff`) when the invocation's deadline arrives
 * while the guest sleeps: the guest cannot sleep past its timeout, and the host maps this
 * to its timeout error.
 */
export class DeadlineExceeded extends Error {
  constructor(readonly deadline: number) {
    super(`the invocation deadline (${new Date(deadline).toISOString()}) passed while the guest slept`);
    this.name = 'DeadlineExceeded';
  }
}

// Nobody ever notifies this cell: Atomics.wait on it simply blocks the thread for the
// timeout without spinning. Private, so no other code can wake a guest early.
const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for `ms` milliseconds, or until `deadline` (ms since the epoch) if that
 * comes first, in which case it throws {@link DeadlineExceeded} at the deadline.
 *
 * @example
 * sleepMs(50, () => invocationDeadline);
 */
export function sleepMs(ms: number, deadline: (() => number | undefined) | undefined): void {
  const limit = deadline?.();
  const wake = Date.now() + ms;
  if (limit !== undefined && limit <= wake) {
    const left = limit - Date.now();
    if (left > 0) Atomics.wait(cell, 0, 0, left);
    throw new DeadlineExceeded(limit);
  }
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
}
