import { describe, expect, it } from 'vitest';
import { soak } from '../src/bench/soak.js';
import { fn } from './support/emulator.js';
import { handlerPath } from './support/handlers.js';

// The CI-sized soak; `npm run soak` runs 30,000 invocations per concurrency.
describe.each([1, 8])('a short soak at concurrency %i', (concurrency) => {
  it('answers every mixed event as defined and does not leak descriptors, processes or heap', async () => {
    const result = await soak(fn({ name: 'faults', kind: 'wasm', code: handlerPath('faults') }), 1500, concurrency);
    expect(result.outcomes).toEqual({
      'ok:200': 1200,
      'handled-error:200:error': 150,
      'unmarshal-error:200:error': 75,
      'invalid-json:400': 60,
      'panic:200:error': 15,
    });
    expect(result.end.environments).toBeLessThanOrEqual(concurrency);
    expect(result.end.openFds).toBeLessThanOrEqual(result.start.openFds + 8);
    expect(result.end.heapUsedMb).toBeLessThan(result.start.heapUsedMb * 1.5 + 10);
  }, 180_000);
});
