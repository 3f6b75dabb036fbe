// The long soak: 30,000 mixed invocations through the emulator at concurrency 1 and 8.
// Run with `npm run soak` (builds first). It measures the function's runtime processes
// (RSS from /proc/<pid>/status, descriptors from /proc/<pid>/fd), not the emulator, and
// prints one JSON summary per concurrency; it fails unless both plateau.
import { buildHandlers, FUNCTION_DEFAULTS, soak } from '../dist/index.js';

const invocations = Number(process.env.SOAK_INVOCATIONS ?? 30_000);
const { handlers } = await buildHandlers({});
const fn = { ...FUNCTION_DEFAULTS, name: 'faults', kind: 'wasm', code: handlers.faults, timeoutSeconds: 10 };
let failed = false;
for (const concurrency of [1, 8]) {
  const result = await soak(fn, invocations, concurrency);
  const { samples, ...summary } = result;
  const trace = samples.map((s) => `${s.invocations}:${s.rssMb}MB/${s.openFds}fd`).join(' ');
  process.stdout.write(`${JSON.stringify({ ...summary, samples: trace }, null, 2)}\n`);
  if (!result.plateau.ok || result.environments > concurrency) {
    process.stderr.write(
      `soak at concurrency ${concurrency}: ${result.measured}: ${[...result.plateau.problems, `${result.environments} environments`].join('; ')}\n`,
    );
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
