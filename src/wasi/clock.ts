import { Errno, WasiError } from './errno.js';

/** `clockid`: realtime, monotonic, process and thread CPU time. */
export const ClockId = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

/** The clock's current value in nanoseconds; an unknown clock is `EINVAL`. */
export function clockNow(id: number): bigint {
  switch (id) {
    case ClockId.REALTIME:
      // Date.now(), not performance.timeOrigin + performance.now(): the latter is the
      // monotonic clock offset once at start, which drifts from the wall clock over a
      // long-lived execution environment as NTP adjusts it. Milliseconds are honest here.
      return BigInt(Date.now()) * 1_000_000n;
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
      return 1_000_000n;
    case ClockId.PROCESS_CPUTIME:
    case ClockId.THREAD_CPUTIME:
      return 1000n;
    default:
      throw new WasiError(Errno.INVAL);
  }
}
