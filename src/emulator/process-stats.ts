import { readdirSync, readFileSync } from 'node:fs';

/** What `/proc/<pid>/status` says about a process's memory, in kB. */
export interface ProcessMemory {
  /** Resident set size now (`VmRSS`). */
  rssKb: number;
  /** Peak resident set size since the process started (`VmHWM`): what Lambda reports as Max Memory Used. */
  peakKb: number;
}

/**
 * The memory of a live process, or undefined once it is gone (or on a system without
 * `/proc`). One read costs ~20 µs.
 *
 * ```ts
 * const memory = processMemory(child.pid);
 * if (memory && memory.peakKb > 128 * 1024) child.kill('SIGKILL');
 * ```
 */
export function processMemory(pid: number | undefined): ProcessMemory | undefined {
  if (pid === undefined) return undefined;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const rss = /\nVmRSS:\s+(\d+) kB/.exec(status);
  const peak = /\nVmHWM:\s+(\d+) kB/.exec(status);
  // A zombie has no memory lines: it is gone for this purpose.
  if (!rss || !peak) return undefined;
  return { rssKb: Number(rss[1]), peakKb: Number(peak[1]) };
}

/** How many file descriptors a process has open (`/proc/<pid>/fd`), or undefined once it is gone. */
export function openFileDescriptors(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** The command line of a process, for reports that name what they measured. */
export function commandLine(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}
