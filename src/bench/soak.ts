import { readdirSync } from 'node:fs';
import { Emulator } from '../emulator/emulator.js';
import type { FunctionConfig } from '../emulator/function-config.js';
import { commandLine, openFileDescriptors, processMemory } from '../emulator/process-stats.js';

/** One runtime process at one moment of a soak. */
export interface ProcessSample {
  pid: number;
  rssMb: number;
  openFds: number;
}

/** The runtime processes under test at one moment: the function's execution environments. */
export interface SoakSample {
  invocations: number;
  processes: ProcessSample[];
  /** Sums over `processes`. */
  rssMb: number;
  openFds: number;
}

/** Whether the runtime processes' RSS and descriptors levelled off, and the figures compared. */
export interface Plateau {
  ok: boolean;
  /** Median total RSS over the first and the last third of the samples after warm-up. */
  rssEarlyMb: number;
  rssLateMb: number;
  /** Most descriptors held in the first and the last third. */
  fdsEarly: number;
  fdsLate: number;
  /** Why it is not a plateau; empty when it is. */
  problems: string[];
}

export interface SoakResult {
  concurrency: number;
  invocations: number;
  outcomes: Record<string, number>;
  /** What was measured, e.g. `runtime processes: node …/wasm-runtime.cjs (pids 4242)`. */
  measured: string;
  /** Every runtime process seen during the run, with its command line. */
  processes: { pid: number; command: string }[];
  /** Sampled after warm-up (a tenth of the run, at least 250 invocations per environment), evenly over the rest. */
  samples: SoakSample[];
  plateau: Plateau;
  /** The emulator's own process (context only: it is not the process under test). */
  emulator: { heapUsedMb: number; rssMb: number; openFds: number };
  environments: number;
  durationMs: number;
}

/** A mix of good and bad events, as a busy function sees them. */
const MIX: { kind: string; body: string; weight: number }[] = [
  { kind: 'ok', body: '{"action":"echo","payload":{"items":[1,2,3],"note":"soak"}}', weight: 80 },
  { kind: 'handled-error', body: '{"action":"fail","error_type":"Soak","message":"expected"}', weight: 10 },
  { kind: 'unmarshal-error', body: '{"action":"no-such-action"}', weight: 5 },
  { kind: 'invalid-json', body: '{"action": ', weight: 4 },
  { kind: 'panic', body: '{"action":"panic","message":"soak panic"}', weight: 1 },
];

/** Samples taken over the measured part of a run. */
const SAMPLES = 60;
/** RSS may settle this much higher late in the run than early (allocator and JIT noise). */
const RSS_GROWTH = 0.1;
const RSS_SLACK_MB = 8;
/** Descriptors a process may hold beyond its early maximum (a socket being replaced). */
const FD_SLACK_PER_PROCESS = 2;

function pick(i: number): (typeof MIX)[number] {
  // Deterministic interleaving: the same sequence every run.
  let slot = (i * 7919) % 100;
  for (const entry of MIX) {
    if (slot < entry.weight) return entry;
    slot -= entry.weight;
  }
  return MIX[0] as (typeof MIX)[number];
}

const round = (mb: number) => Math.round(mb * 10) / 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Reads `/proc` for each live runtime process of the function. */
function sample(pids: number[], invocations: number): SoakSample {
  const processes: ProcessSample[] = [];
  for (const pid of pids) {
    const memory = processMemory(pid);
    const fds = openFileDescriptors(pid);
    if (memory && fds !== undefined) processes.push({ pid, rssMb: round(memory.rssKb / 1024), openFds: fds });
  }
  return {
    invocations,
    processes,
    rssMb: round(processes.reduce((sum, p) => sum + p.rssMb, 0)),
    openFds: processes.reduce((sum, p) => sum + p.openFds, 0),
  };
}

/**
 * The plateau criterion: over the samples after warm-up, the median total RSS of the last
 * third is within 10 % + 8 MB of the first third's, and the most descriptors held in the last
 * third exceed the first third's by at most 2 per process. A leak of a few hundred bytes per
 * invocation over 30,000 invocations, or one descriptor per hundred, fails it.
 */
export function plateau(samples: SoakSample[]): Plateau {
  const third = Math.max(1, Math.floor(samples.length / 3));
  const early = samples.slice(0, third);
  const late = samples.slice(-third);
  const rssEarlyMb = round(median(early.map((s) => s.rssMb)));
  const rssLateMb = round(median(late.map((s) => s.rssMb)));
  const fdsEarly = Math.max(0, ...early.map((s) => s.openFds));
  const fdsLate = Math.max(0, ...late.map((s) => s.openFds));
  const processes = Math.max(1, ...samples.map((s) => s.processes.length));
  const problems: string[] = [];
  if (samples.length === 0 || samples.every((s) => s.processes.length === 0)) {
    problems.push('no runtime process was sampled');
  }
  if (rssLateMb > rssEarlyMb * (1 + RSS_GROWTH) + RSS_SLACK_MB) {
    problems.push(`runtime RSS grew from ${rssEarlyMb} MB to ${rssLateMb} MB`);
  }
  if (fdsLate > fdsEarly + FD_SLACK_PER_PROCESS * processes) {
    problems.push(`runtime descriptors grew from ${fdsEarly} to ${fdsLate}`);
  }
  return { ok: problems.length === 0, rssEarlyMb, rssLateMb, fdsEarly, fdsLate, problems };
}

/**
 * Sends `invocations` mixed good and bad events to one function through a real emulator at
 * the given concurrency, sampling the RSS and open descriptors of the function's runtime
 * processes (`/proc/<pid>/status`, `/proc/<pid>/fd`) evenly after warm-up: they must
 * plateau, not grow with the number of invocations.
 *
 * ```ts
 * const result = await soak(faults, 30_000, 8);
 * if (!result.plateau.ok) console.error(result.measured, result.plateau.problems);
 * ```
 */
export async function soak(fn: FunctionConfig, invocations: number, concurrency: number): Promise<SoakResult> {
  const emulator = await Emulator.start({ functions: [{ ...fn, maxConcurrency: concurrency }], logSink: () => {} });
  const pool = emulator.pool(fn.name);
  const outcomes: Record<string, number> = {};
  // Warm-up: a tenth of the run, but at least 250 invocations per environment (never more than
  // half the run): every process must be past JIT tier-up and its heap's first growth before
  // its memory is judged. (Measured on Node.js 22: at concurrency 8 the runtimes' RSS still
  // rises until ~3,000 invocations in all, then stays level to 12,000.)
  const warmup = Math.min(Math.floor(invocations / 2), Math.max(Math.floor(invocations / 10), 250 * concurrency));
  const every = Math.max(1, Math.floor((invocations - warmup) / SAMPLES));
  const samples: SoakSample[] = [];
  const seen = new Map<number, string>();
  const observe = (at: number) => {
    const pids = pool?.pids() ?? [];
    for (const pid of pids) if (!seen.has(pid)) seen.set(pid, commandLine(pid) ?? '?');
    samples.push(sample(pids, at));
  };
  let next = 0;
  const began = performance.now();
  try {
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= invocations) return;
        if (i >= warmup && (i - warmup) % every === 0) observe(i);
        const event = pick(i);
        const response = await fetch(`${emulator.endpoint}/2015-03-31/functions/${fn.name}/invocations`, {
          method: 'POST',
          body: event.body,
        });
        await response.arrayBuffer();
        const key = `${event.kind}:${response.status}${response.headers.get('x-amz-function-error') ? ':error' : ''}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    observe(invocations);
    const processes = [...seen].map(([pid, command]) => ({ pid, command }));
    const commands = [...new Set(processes.map((p) => p.command))].join('; ');
    return {
      concurrency,
      invocations,
      outcomes,
      measured: `runtime processes: ${commands} (pids ${processes.map((p) => p.pid).join(', ')})`,
      processes,
      samples,
      plateau: plateau(samples),
      emulator: {
        heapUsedMb: round(process.memoryUsage().heapUsed / 2 ** 20),
        rssMb: round(process.memoryUsage().rss / 2 ** 20),
        openFds: readdirSync('/proc/self/fd').length,
      },
      environments: pool?.environmentCount ?? 0,
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    await emulator.stop();
  }
}
