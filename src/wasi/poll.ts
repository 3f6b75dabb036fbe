import { ClockId, clockNow } from './clock.js';
import { Errno, WasiError } from './errno.js';
import { type Descriptor, type FdTable, pollable } from './fd-table.js';
import { MAX_SUBSCRIPTIONS } from './limits.js';
import type { GuestMemory } from './memory.js';
import { sleepMs } from './sleep.js';

const SUBSCRIPTION_BYTES = 48;
const EVENT_BYTES = 32;
const EVENTTYPE = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
const SUBCLOCKFLAGS_ABSTIME = 1;

/**
 * `poll_oneoff`. Descriptors are always ready (memory never blocks), so a call with any fd
 * subscription returns at once; otherwise it blocks the thread until the earliest clock
 * (`Atomics.wait`, never spinning), never past `deadline` — there it throws
 * `DeadlineExceeded`. `n` is at most {@link MAX_SUBSCRIPTIONS}; both arrays are checked
 * against memory (as numbers: `n * 48` cannot wrap) before anything is read. A clock other
 * than realtime or monotonic gets an `EINVAL` event, an unknown descriptor an `EBADF` one,
 * an unknown subscription type fails the call with `EINVAL`.
 */
export function pollOneoff(
  mem: GuestMemory,
  fds: FdTable,
  inPtr: number,
  outPtr: number,
  n: number,
  neventsPtr: number,
  deadline: (() => number | undefined) | undefined,
): void {
  if (n === 0 || n > MAX_SUBSCRIPTIONS) throw new WasiError(Errno.INVAL);
  mem.check(inPtr, n * SUBSCRIPTION_BYTES);
  mem.check(outPtr, n * EVENT_BYTES);
  mem.check(neventsPtr, 4);
  // First pass: validate, find the earliest clock and whether anything is ready now.
  let earliest = Number.POSITIVE_INFINITY;
  let readyNow = false;
  const start = clockNow(ClockId.MONOTONIC);
  /** Per subscription: ms until its clock is due, NaN for a bad clock (fd subscriptions: unused). */
  const due = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const sub = inPtr + i * SUBSCRIPTION_BYTES;
    const tag = mem.bytes[sub + 8] as number;
    if (tag === EVENTTYPE.FD_READ || tag === EVENTTYPE.FD_WRITE) {
      readyNow = true;
    } else if (tag === EVENTTYPE.CLOCK) {
      const id = mem.u32(sub + 16);
      const timeout = mem.u64(sub + 24);
      const absolute = (mem.view.getUint16(sub + 40, true) & SUBCLOCKFLAGS_ABSTIME) !== 0;
      if (id !== ClockId.MONOTONIC && id !== ClockId.REALTIME) {
        due[i] = Number.NaN;
        readyNow = true;
        continue;
      }
      const wait = absolute ? timeout - (id === ClockId.MONOTONIC ? start : clockNow(id)) : timeout;
      due[i] = wait <= 0n ? 0 : Number(wait) / 1e6;
      earliest = Math.min(earliest, due[i] as number);
    } else {
      throw new WasiError(Errno.INVAL);
    }
  }
  if (!readyNow && earliest > 0) sleepMs(earliest, deadline);
  // After a sleep the earliest clock is due even if the wait's clock and ours disagree by a
  // microsecond: a poll that slept always reports at least one event.
  const elapsed = Math.max(Number(clockNow(ClockId.MONOTONIC) - start) / 1e6, readyNow ? 0 : earliest);
  let events = 0;
  const report = (i: number, type: number, error: number, nbytes: number): void => {
    const ev = outPtr + events * EVENT_BYTES;
    mem.bytes.fill(0, ev, ev + EVENT_BYTES);
    mem.setU64(ev, mem.u64(inPtr + i * SUBSCRIPTION_BYTES));
    mem.setU16(ev + 8, error);
    mem.setU8(ev + 10, type);
    mem.setU64(ev + 16, nbytes);
    events++;
  };
  for (let i = 0; i < n; i++) {
    const sub = inPtr + i * SUBSCRIPTION_BYTES;
    const tag = mem.bytes[sub + 8] as number;
    if (tag === EVENTTYPE.CLOCK) {
      const ms = due[i] as number;
      if (Number.isNaN(ms)) report(i, tag, Errno.INVAL, 0);
      else if (ms <= elapsed) report(i, tag, Errno.SUCCESS, 0);
      continue;
    }
    let d: Descriptor;
    try {
      d = fds.get(mem.u32(sub + 16));
    } catch {
      report(i, tag, Errno.BADF, 0);
      continue;
    }
    if (!pollable(d)) report(i, tag, Errno.NOTCAPABLE, 0);
    else report(i, tag, Errno.SUCCESS, tag === EVENTTYPE.FD_READ ? readable(d) : 0);
  }
  mem.setU32(neventsPtr, events);
}

/** Bytes a read would return now: what is left after the position. */
function readable(d: Descriptor): number {
  if (d.kind === 'file') return Math.max(0, d.file.size - d.position);
  if (d.kind === 'stdin') return d.data.length - d.position;
  return 0;
}
