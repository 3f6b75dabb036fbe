import { Errno, WasiError } from './errno.js';

/** `clockid`: realtime, monotonic, process and thread CPU time. */
export const ClockId = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

// performance.timeOrigin + performance.now() is wall time at microsecond resolution without
// a syscall; Date.now() would be milliseconds.
const NS_PER_MS = 1_000_000;

/** The clock's current value in nanoseconds; an unknown clock is `EINVAL`. */
export function clockNow(id: number): bigint {
  switch (id) {
    case ClockId.REALTIME:
      return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
    case ClockId.MONOTONIC:
      return process.hrtime.bigint();
    case ClockId.PROCESS_CPUTIME:
    case ClockId.THREAD_CPUTIME: {
      // The guest runs on the host's thread: the process's CPU time is the closest honest
      // answer for both, and reveals nothing the wall clock does not.
      const { user, system } = process.cpuUsage();
      return BigInt(user + system) * 1000n;
    }
    default:
      throw new WasiError(Errno.INVAL);
  }
}

/** The resolution `clock_res_get` reports, in nanoseconds. */
export function clockResolution(id: number): bigint {
  switch (id) {
    case ClockId.MONOTONIC:
      return 1n;
    case ClockId.REALTIME:
    case ClockId.PROCESS_CPUTIME:
    case ClockId.THREAD_CPUTIME:
      return 1000n;
    default:
      throw new WasiError(Errno.INVAL);
  }
}

/** Milliseconds since the epoch, for comparing with an invocation deadline. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export { NS_PER_MS };
