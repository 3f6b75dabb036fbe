import { readFileSync } from 'node:fs';
import { Emulator } from '../emulator/emulator.js';
import type { FunctionConfig } from '../emulator/function-config.js';
import { localVariants } from './local-variants.js';
import { Progress } from './progress.js';
import { type BenchReport, benchReport, type Cell, reportField, type Stability, type VariantName } from './report.js';
import { summarize } from './stats.js';
import { type WorkloadName, workloadEvent } from './workloads.js';

export interface LocalBenchOptions {
  variants: readonly VariantName[];
  workloads: readonly WorkloadName[];
  /** A short run (fewer samples) for smoke tests and CI. */
  quick: boolean;
  workspace?: string | undefined;
  install?: boolean | undefined;
}

/** Samples per cell: warm invocations, interleaved across variants in rounds. */
const SAMPLES: Record<WorkloadName, number> = { 'echo-1kb': 1000, 'transform-1mb': 60, sieve: 30, 'cold-start': 10 };
const ROUNDS = 5;

async function invoke(endpoint: string, name: string, event: Buffer): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const response = await fetch(`${endpoint}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    body: new Uint8Array(event),
  });
  const body = await response.text();
  return { ms: performance.now() - started, body };
}

/** Values of one REPORT field (e.g. `Max Memory Used`) in the lines of one function. */
function reportValues(lines: readonly string[], field: string): number[] {
  return lines.flatMap((line) => {
    const value = line.startsWith('REPORT') ? reportField(line, field) : undefined;
    return value === undefined ? [] : [value];
  });
}

function vmRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/**
 * Runs every workload on every variant through the local emulator, side by side in one run:
 * warm cells interleave variants in rounds so drift on a shared machine hits all of them.
 */
export async function runLocalBench(options: LocalBenchOptions): Promise<BenchReport> {
  const scale = options.quick ? 0.1 : 1;
  const count = (w: WorkloadName) => Math.max(w === 'cold-start' ? 3 : ROUNDS, Math.round(SAMPLES[w] * scale));
  const functions = await localVariants(options.variants, options);
  const warm = options.workloads.filter((w) => w !== 'cold-start');
  const stabilityLate = options.quick ? 3000 : 30_000;
  const total =
    warm.reduce((sum, w) => sum + count(w) * functions.length, 0) +
    (options.workloads.includes('cold-start') ? count('cold-start') * functions.length : 0) +
    (options.variants.includes('wasm-raw') ? stabilityLate / 100 : 0);
  const progress = new Progress(total);
  const cells: Cell[] = [];

  const logs: string[] = [];
  let stability: Stability | undefined;
  const emulator = await Emulator.start({ functions, logSink: (line) => logs.push(line) });
  try {
    for (const workload of warm) {
      const event = workloadEvent(workload);
      const samples = new Map<string, number[]>(functions.map((fn) => [fn.name, []]));
      const bodies = new Map<string, string>();
      const memory = new Map<string, number>();
      // Warm every environment first: compile caches, JIT tiers, first-call costs.
      for (const fn of functions) {
        for (let i = 0; i < Math.max(3, count(workload) / 10); i++) {
          bodies.set(fn.name, (await invoke(emulator.endpoint, fn.name, event)).body);
        }
      }
      const perRound = Math.ceil(count(workload) / ROUNDS);
      for (let round = 0; round < ROUNDS; round++) {
        for (const fn of functions) {
          logs.length = 0;
          for (let i = 0; i < perRound; i++)
            samples.get(fn.name)?.push((await invoke(emulator.endpoint, fn.name, event)).ms);
          const peak = Math.max(0, ...reportValues(logs, 'Max Memory Used'));
          memory.set(fn.name, Math.max(memory.get(fn.name) ?? 0, peak));
          progress.step(`${workload} · ${fn.name}`, perRound);
        }
      }
      const reference = bodies.get(functions[0]?.name ?? '');
      for (const fn of functions) {
        const latency = summarize(samples.get(fn.name) ?? []);
        cells.push({
          variant: fn.name as VariantName,
          workload,
          latency,
          throughputPerSec: 1000 / latency.mean,
          maxMemoryMb: memory.get(fn.name) ?? 0,
          mismatch: bodies.get(fn.name) !== reference ? true : undefined,
        });
      }
    }
    if (options.variants.includes('wasm-raw')) {
      stability = await measureStability(emulator, workloadEvent('echo-1kb'), stabilityLate, progress);
    }
  } finally {
    await emulator.stop();
  }

  if (options.workloads.includes('cold-start')) {
    cells.push(...(await coldStarts(functions, count('cold-start'), progress)));
  }
  progress.finish();
  return benchReport('local', options.quick, cells, stability);
}

async function measureStability(
  emulator: Emulator,
  event: Buffer,
  late: number,
  progress: Progress,
): Promise<Stability> {
  const early = Math.round(late / 30);
  const pool = emulator.pool('wasm-raw');
  let earlyMb = Number.NaN;
  for (let i = 1; i <= late; i++) {
    await invoke(emulator.endpoint, 'wasm-raw', event);
    if (i === early) earlyMb = vmRssMb(pool?.pids()[0]);
    if (i % 100 === 0) progress.step('RSS stability · wasm-raw');
  }
  const rssLateMb = vmRssMb(pool?.pids()[0]);
  return {
    variant: 'wasm-raw',
    invocationsEarly: early,
    rssEarlyMb: Math.round(earlyMb * 10) / 10,
    invocationsLate: late,
    rssLateMb: Math.round(rssLateMb * 10) / 10,
    growthPercent: ((rssLateMb - earlyMb) / earlyMb) * 100,
  };
}

/** Process start to first response: a fresh emulator (and runtime process) per sample. */
async function coldStarts(functions: FunctionConfig[], samples: number, progress: Progress): Promise<Cell[]> {
  const event = workloadEvent('cold-start');
  const results = new Map<string, { ms: number[]; init: number[]; memory: number; body?: string }>(
    functions.map((fn) => [fn.name, { ms: [], init: [], memory: 0 }]),
  );
  for (let i = 0; i < samples; i++) {
    for (const fn of functions) {
      const logs: string[] = [];
      const emulator = await Emulator.start({ functions: [fn], logSink: (line) => logs.push(line) });
      try {
        const { ms, body } = await invoke(emulator.endpoint, fn.name, event);
        const entry = results.get(fn.name);
        if (entry) {
          entry.ms.push(ms);
          entry.init.push(...reportValues(logs, 'Init Duration'));
          entry.memory = Math.max(entry.memory, ...reportValues(logs, 'Max Memory Used'));
          entry.body ??= body;
        }
      } finally {
        await emulator.stop();
      }
      progress.step(`cold start · ${fn.name}`);
    }
  }
  const reference = results.get(functions[0]?.name ?? '')?.body;
  return functions.map((fn) => {
    const entry = results.get(fn.name) ?? { ms: [], init: [], memory: 0 };
    const latency = summarize(entry.ms);
    return {
      variant: fn.name as VariantName,
      workload: 'cold-start' as const,
      latency,
      throughputPerSec: 1000 / latency.mean,
      maxMemoryMb: entry.memory,
      initDurationMs: summarize(entry.init).p50,
      mismatch: entry.body !== reference ? true : undefined,
    };
  });
}
