import { describe, expect, it } from 'vitest';
import { plateau, type SoakSample, soak } from '../src/bench/soak.js';
import { fn } from './support/emulator.js';
import { handlerPath } from './support/handlers.js';

// The CI-sized soak; `npm run soak` runs 30,000 invocations per concurrency.
describe.each([1, 8])('a short soak at concurrency %i', (concurrency) => {
  it('answers every mixed event as defined; the runtime processes’ RSS and descriptors plateau', async () => {
    // Enough invocations that every environment gets past its warm-up (see `soak`).
    const invocations = concurrency === 1 ? 1500 : 6000;
    const result = await soak(
      fn({ name: 'faults', kind: 'wasm', code: handlerPath('faults') }),
      invocations,
      concurrency,
    );
    const share = (percent: number) => (invocations * percent) / 100;
    expect(result.outcomes).toEqual({
      'ok:200': share(80),
      'handled-error:200:error': share(10),
      'unmarshal-error:200:error': share(5),
      'invalid-json:400': share(4),
      'panic:200:error': share(1),
    });
    // What was measured is the function's runtime, not the emulator running the test.
    expect(result.measured).toMatch(/^runtime processes: \S*node\S* \S*wasm-runtime\.cjs \(pids \d+/);
    expect(result.processes.every((p) => p.pid !== process.pid)).toBe(true);
    expect(result.samples.length).toBeGreaterThanOrEqual(30);
    expect(result.samples.every((s) => s.processes.length >= 1 && s.processes.length <= concurrency)).toBe(true);
    expect(result.plateau.problems).toEqual([]);
    expect(result.environments).toBeLessThanOrEqual(concurrency);
  }, 180_000);
});

describe('the plateau criterion', () => {
  const at = (i: number, rssMb: number, openFds: number): SoakSample => ({
    invocations: i,
    processes: [{ pid: 1, rssMb, openFds }],
    rssMb,
    openFds,
  });

  it('accepts noise around a level and refuses steady growth of memory or descriptors', () => {
    const flat = Array.from({ length: 60 }, (_, i) => at(i, 60 + (i % 3), 21 + (i % 2)));
    expect(plateau(flat)).toMatchObject({ ok: true, problems: [] });
    const leaking = Array.from({ length: 60 }, (_, i) => at(i, 60 + i, 21));
    expect(plateau(leaking).problems).toEqual(['runtime RSS grew from 70 MB to 110 MB']);
    const fds = Array.from({ length: 60 }, (_, i) => at(i, 60, 21 + Math.floor(i / 6)));
    expect(plateau(fds).problems).toEqual(['runtime descriptors grew from 24 to 30']);
    expect(plateau([]).ok).toBe(false);
  });
});
