import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Emulator } from '../emulator/emulator.js';
import type { FunctionConfig } from '../emulator/function-config.js';

/** Process resources at one moment of a soak. */
export interface SoakSample {
  invocations: number;
  heapUsedMb: number;
  rssMb: number;
  openFds: number;
  environments: number;
  runtimeRssMb: number;
}

export interface SoakResult {
  concurrency: number;
  invocations: number;
  outcomes: Record<string, number>;
  /** After warm-up (10 % of the run) and at the end. */
  start: SoakSample;
  end: SoakSample;
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

function pick(i: number): (typeof MIX)[number] {
  // Deterministic interleaving: the same sequence every run.
  let slot = (i * 7919) % 100;
  for (const entry of MIX) {
    if (slot < entry.weight) return entry;
    slot -= entry.weight;
  }
  return MIX[0] as (typeof MIX)[number];
}

/**
 * A full GC before each sample separates leaks from garbage not yet collected; without
 * `--expose-gc` the flag is set at run time and `gc` fetched from a fresh context.
 */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) {
    exposed();
    return;
  }
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function sample(emulator: Emulator, name: string, invocations: number): SoakSample {
  collectGarbage();
  const pids = emulator.pool(name)?.pids() ?? [];
  const runtimeRss = pids.reduce((sum, pid) => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return sum + (match ? Number(match[1]) / 1024 : 0);
    } catch {
      return sum;
    }
  }, 0);
  return {
    invocations,
    heapUsedMb: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10,
    rssMb: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10,
    openFds: readdirSync('/proc/self/fd').length,
    environments: emulator.pool(name)?.environmentCount ?? 0,
    runtimeRssMb: Math.round(runtimeRss * 10) / 10,
  };
}

/**
 * Sends `invocations` mixed good and bad events to one function through a real emulator at
 * the given concurrency and reports heap, RSS, open descriptors and runtime processes after
 * warm-up and at the end: they must plateau, not grow with the number of invocations.
 */
export async function soak(fn: FunctionConfig, invocations: number, concurrency: number): Promise<SoakResult> {
  const emulator = await Emulator.start({ functions: [{ ...fn, maxConcurrency: concurrency }], logSink: () => {} });
  const outcomes: Record<string, number> = {};
  const warmup = Math.floor(invocations / 10);
  let start: SoakSample | undefined;
  let next = 0;
  const began = performance.now();
  try {
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= invocations) return;
        if (i === warmup) start = sample(emulator, fn.name, i);
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
    const end = sample(emulator, fn.name, invocations);
    return {
      concurrency,
      invocations,
      outcomes,
      start: start ?? end,
      end,
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    await emulator.stop();
  }
}
